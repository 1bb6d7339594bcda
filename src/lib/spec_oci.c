/* spec_oci.c - the OCI front end: a bundle's config.json (runtime spec 1.0,
 * 1.1, 1.2; Linux) into a struct cell_spec and a struct cell_oci (include/
 * cell/oci.h). It only reads and checks: the sandbox applies the spec.
 *
 * The rule: what cell honours is mapped; what it does not honour but which
 * leaves the container no weaker (cell is stricter, or the field is a
 * resource weight rather than isolation) is a warning that names the field;
 * what cell cannot honour and whose absence would weaken the container is an
 * error that names the field. Unknown fields are warnings ("(ignored)").
 * JSON null counts as absent, as in Go's encoding/json.
 *
 *   ociVersion            required, 1.0.x, 1.1.x or 1.2.x (any -suffix)
 *   root.path, .readonly  spec->rootfs (bundle-relative made absolute; a
 *                         directory), spec->oci.readonly_root
 *   process               required. args (non-empty) -> argv; env -> env,
 *                         exactly; cwd (absolute) -> cwd; user.uid/gid/
 *                         additionalGids (<= 32)/umask; terminal -> tty;
 *                         consoleSize -> cell_oci; oomScoreAdj -> spec->oci
 *                         (set on init by run.c); rlimits of the kinds
 *                         cell has (others: error); capabilities: see
 *                         parse_capabilities() (CAP_MKNOD kept: the device
 *                         cgroup decides which nodes);
 *                         noNewPrivileges not true: warning (cell always
 *                         sets it); apparmorProfile, selinuxLabel: error
 *                         where the host has that LSM, warning where it has
 *                         not; ioPriority, scheduler, execCPUAffinity:
 *                         error; user.username, commandLine: warning
 *   hostname, domainname  spec->hostname, spec->oci.domainname
 *   mounts[]              in order, through cell_spec_add_mount: bind (type
 *                         "bind", or a "bind"/"rbind" option), proc, sysfs,
 *                         tmpfs, devpts, mqueue, cgroup/cgroup2; others an
 *                         error. Options: flags and propagation into
 *                         m.flags, the rest comma-joined into m.data (bind
 *                         mounts take flags only). Writable unless "ro".
 *   linux.namespaces      pid, mount, ipc, uts, cgroup are always new (one
 *                         missing: warning); network absent -> net host,
 *                         present -> none; user -> ns.userns; time: error; a
 *                         path: joined (pid and cgroup not with a new user
 *                         namespace; user as root only, without mappings)
 *   linux.uid/gidMappings both or neither (cell's own: 0 100000 65536 as
 *                         root); as root any ranges the kernel takes that
 *                         map containerID 0; rootless only 0 EUID 1
 *   linux.resources       memory.limit, pids.limit, cpu.quota/period ->
 *                         limits; blockIO throttles -> spec->oci.io_throttle
 *                         (weights: warning); devices -> spec->oci.device_rules (see
 *                         finish_devices: as root the cgroup enforces
 *                         them; rootless beyond "deny all" a warning, and
 *                         a bind of a host device they deny an error);
 *                         the rest: warning "not applied"
 *   linux.devices         nodes under /dev -> spec->oci.devices (made by
 *                         mounts_oci.c; allowed in the device list)
 *   linux.maskedPaths, readonlyPaths -> spec->oci; cgroupsPath -> cell_oci
 *                         and spec->oci.cgroups_path (plain names; the
 *                         systemd form: warning)
 *   linux.rootfsPropagation private/slave fine, unbindable warning, shared
 *                         error
 *   linux.seccomp         compiled with libseccomp (seccomp_oci.c) into
 *                         spec->custom_seccomp, loaded instead of cell's
 *                         profile; with the run.cell.profile annotation,
 *                         cell's profile instead (a warning)
 *   linux.sysctl          only the container's own namespaces' sysctls
 *   linux.netDevices, timeOffsets, intelRdt, mountLabel,
 *   personality (other than plain LINUX)   error when not empty
 *   hooks                 the six lists into cell_oci
 *   annotations           an object of strings, kept; run.cell.profile
 *                         (high | medium | low) chooses cell's seccomp
 *                         profile, high without it (and without a
 *                         linux.seccomp)
 *   solaris, windows, zos, freebsd: warning; vm: error */
#include "cell/oci.h"
#include "oci_json.h"
#include "sandbox/devices.h"
#include "seccomp_oci.h"
#include "util.h"

#include <ctype.h>
#include <inttypes.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/capability.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define CONFIG "config.json"
#define MAX_CONFIG_BYTES (4u << 20)
#define PATH_BUF 256

/* cell's own user namespace mapping as root (sandbox/run.c) */
#define USERNS_HOST_ID 100000
#define USERNS_SIZE 65536

struct oci_ctx {
    struct cell_spec *spec;
    struct cell_oci *oci;
    struct cell_err *err;
    /* facts later steps need */
    bool userns;          /* linux.namespaces asks for a user namespace */
    json_t *device_rules; /* linux.resources.devices (checked), or NULL */
    bool device_rules_deny_all_only;
};

/* NULL-terminated, for check_keys() */
static const char *const hook_labels[CELL_OCI_HOOK_COUNT + 1] = {
    "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop", NULL,
};

const char *cell_oci_hook_label(enum cell_oci_hook_kind kind)
{
    return (unsigned)kind < CELL_OCI_HOOK_COUNT ? hook_labels[kind] : "?";
}

/* ---- errors, warnings, paths --------------------------------------------- */

/* "config.json: PATH: what" */
__attribute__((format(printf, 4, 5))) static int fail(struct oci_ctx *c, int errnum, const char *path, const char *fmt,
                                                      ...)
{
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return cell_err_set(c->err, errnum, CONFIG ": %s: %s", path, what);
}

/* Append "PATH: what" to oci->warnings. */
__attribute__((format(printf, 3, 4))) static int warn(struct oci_ctx *c, const char *path, const char *fmt, ...)
{
    char what[1200], *line = NULL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    char **grown = realloc(c->oci->warnings, (c->oci->nwarnings + 1) * sizeof *grown);
    if (grown == NULL || asprintf(&line, "%s: %s", path, what) < 0) {
        if (grown)
            c->oci->warnings = grown;
        return cell_err_set(c->err, ENOMEM, CONFIG ": %s", path);
    }
    c->oci->warnings = grown;
    c->oci->warnings[c->oci->nwarnings++] = line;
    return 0;
}

/* PARENT.KEY (KEY at the top) */
static const char *sub(char *buf, const char *parent, const char *key)
{
    snprintf(buf, PATH_BUF, "%s%s%s", parent, *parent ? "." : "", key);
    return buf;
}

/* PARENT[I] */
static const char *idx(char *buf, const char *parent, size_t i)
{
    snprintf(buf, PATH_BUF, "%s[%zu]", parent, i);
    return buf;
}

/* warn() as an oci_warn_fn: for oci_check_keys and seccomp_oci_compile */
static int warn_cb(void *ctx, const char *path, const char *what)
{
    return warn(ctx, path, "%s", what);
}

/* Unknown members are warnings (oci_json.c). */
static int check_keys(struct oci_ctx *c, json_t *obj, const char *path, const char *const *known)
{
    return oci_check_keys(obj, path, known, warn_cb, c);
}

static int want_object(struct oci_ctx *c, json_t *v, const char *path)
{
    return json_is_object(v) ? 0 : fail(c, 0, path, "expected an object");
}

static int want_array(struct oci_ctx *c, json_t *v, const char *path)
{
    return json_is_array(v) ? 0 : fail(c, 0, path, "expected an array");
}

static int as_string(struct oci_ctx *c, json_t *v, const char *path, const char **out)
{
    *out = "";
    if (!json_is_string(v))
        return fail(c, 0, path, "expected a string");
    *out = json_string_value(v);
    return 0;
}

static int as_bool(struct oci_ctx *c, json_t *v, const char *path, bool *out)
{
    if (!json_is_boolean(v))
        return fail(c, 0, path, "expected true or false");
    *out = json_is_true(v);
    return 0;
}

/* An integer from 0 to `max`. A config with an integer above INT64_MAX
 * (2^64-1 for "unlimited") is decoded with integers as reals: an integral
 * real counts, and one of 2^64 or more is UINT64_MAX. */
static int as_u64(struct oci_ctx *c, json_t *v, const char *path, uint64_t max, uint64_t *out)
{
    uint64_t n = 0;
    bool ok = false;
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        n = (uint64_t)json_integer_value(v);
        ok = true;
    } else if (json_is_real(v) && json_real_value(v) >= 0) {
        double r = json_real_value(v);
        if (r >= 18446744073709551615.0) { /* 2^64 as a double */
            n = UINT64_MAX;
            ok = true;
        } else {
            n = (uint64_t)r;
            ok = (double)n == r;
        }
    }
    if (!ok || n > max)
        return fail(c, 0, path, "expected an integer from 0 to %llu", (unsigned long long)max);
    *out = n;
    return 0;
}

/* A signed 64-bit integer (an integral real too, as above). */
static int as_i64(struct oci_ctx *c, json_t *v, const char *path, int64_t *out)
{
    if (json_is_integer(v)) {
        *out = (int64_t)json_integer_value(v);
        return 0;
    }
    if (json_is_real(v)) {
        double r = json_real_value(v);
        if (r >= -9223372036854775808.0 && r < 9223372036854775808.0 && (double)(int64_t)r == r) {
            *out = (int64_t)r;
            return 0;
        }
    }
    return fail(c, 0, path, "expected an integer");
}

static void free_strv(char **v)
{
    for (char **p = v; p && *p; p++)
        free(*p);
    free(v);
}

/* An array of strings into a NULL-terminated copy. */
static int as_strv(struct oci_ctx *c, json_t *v, const char *path, char ***out)
{
    if (!json_is_array(v))
        return fail(c, 0, path, "expected an array of strings");
    size_t n = json_array_size(v);
    char **copy = calloc(n + 1, sizeof *copy);
    if (copy == NULL)
        return cell_err_set(c->err, ENOMEM, CONFIG ": %s", path);
    for (size_t i = 0; i < n; i++) {
        json_t *s = json_array_get(v, i);
        char p[PATH_BUF];
        if (!json_is_string(s)) {
            free_strv(copy);
            return fail(c, 0, idx(p, path, i), "expected a string");
        }
        if ((copy[i] = strdup(json_string_value(s))) == NULL) {
            free_strv(copy);
            return cell_err_set(c->err, ENOMEM, CONFIG ": %s", path);
        }
    }
    *out = copy;
    return 0;
}

/* `path`, made absolute against `base` when relative, with empty and "."
 * components dropped and ".." taking one off (never above "/"), as Go's
 * filepath.Join does; nothing is resolved on disk. */
static char *clean_path(const char *base, const char *path)
{
    size_t n = strlen(path) + (base ? strlen(base) : 0) + 3;
    cleanup_free char *joined = malloc(n);
    char *out = malloc(n);
    if (joined == NULL || out == NULL) {
        free(out);
        return NULL;
    }
    snprintf(joined, n, "%s/%s", path[0] == '/' || base == NULL ? "" : base, path);
    size_t len = 0;
    for (const char *p = joined; *p;) {
        while (*p == '/')
            p++;
        const char *end = strchrnul(p, '/');
        size_t seg = (size_t)(end - p);
        if (seg == 0 || (seg == 1 && p[0] == '.')) {
            /* nothing */
        } else if (seg == 2 && p[0] == '.' && p[1] == '.') {
            while (len > 0 && out[len - 1] != '/')
                len--;
            if (len > 0)
                len--; /* the '/' before it */
        } else {
            out[len++] = '/';
            memcpy(out + len, p, seg);
            len += seg;
        }
        p = end;
    }
    if (len == 0)
        out[len++] = '/';
    out[len] = '\0';
    return out;
}

/* A path inside the container: absolute, then cleaned. */
static int container_path(struct oci_ctx *c, json_t *v, const char *path, char **out)
{
    const char *s;
    if (as_string(c, v, path, &s) < 0)
        return -1;
    if (s[0] != '/')
        return fail(c, 0, path, "\"%s\" is not an absolute path", s);
    if ((*out = clean_path(NULL, s)) == NULL)
        return cell_err_set(c->err, ENOMEM, CONFIG ": %s", path);
    return 0;
}

/* A host path, relative ones taken from the bundle. */
static int host_path(struct oci_ctx *c, json_t *v, const char *path, char **out)
{
    const char *s;
    if (as_string(c, v, path, &s) < 0)
        return -1;
    if (s[0] == '\0')
        return fail(c, 0, path, "expected a path, not \"\"");
    if ((*out = clean_path(c->oci->bundle, s)) == NULL)
        return cell_err_set(c->err, ENOMEM, CONFIG ": %s", path);
    return 0;
}

static bool host_has(const char *path)
{
    return access(path, F_OK) == 0;
}

/* ---- ociVersion, root ----------------------------------------------------- */

/* 1.0.x, 1.1.x, 1.2.x, with any "-rc.1" / "-dev" / "+build" suffix. */
static bool supported_version(const char *v)
{
    if (strncmp(v, "1.", 2) != 0 || v[2] < '0' || v[2] > '2' || v[3] != '.')
        return false;
    const char *p = v + 4;
    if (*p < '0' || *p > '9')
        return false;
    while (*p >= '0' && *p <= '9')
        p++;
    return *p == '\0' || *p == '-' || *p == '+';
}

static int parse_version(struct oci_ctx *c, json_t *top)
{
    json_t *v = oci_member(top, "ociVersion");
    const char *s;
    if (v == NULL)
        return fail(c, 0, "ociVersion", "required (e.g. \"1.0.2\")");
    if (as_string(c, v, "ociVersion", &s) < 0)
        return -1;
    if (!supported_version(s))
        return fail(c, 0, "ociVersion", "\"%s\" is not supported: cell reads 1.0.x, 1.1.x and 1.2.x", s);
    if ((c->oci->oci_version = strdup(s)) == NULL)
        return cell_err_set(c->err, ENOMEM, CONFIG ": ociVersion");
    return 0;
}

static int parse_root(struct oci_ctx *c, json_t *top)
{
    static const char *const known[] = {"path", "readonly", NULL};
    json_t *root = oci_member(top, "root"), *v;
    if (root == NULL)
        return fail(c, 0, "root", "required (root.path names the rootfs directory)");
    if (want_object(c, root, "root") < 0 || check_keys(c, root, "root", known) < 0)
        return -1;
    if ((v = oci_member(root, "path")) == NULL)
        return fail(c, 0, "root.path", "required (the rootfs directory, e.g. \"rootfs\")");
    if (host_path(c, v, "root.path", &c->spec->rootfs) < 0)
        return -1;
    struct stat st;
    if (stat(c->spec->rootfs, &st) < 0)
        return fail(c, errno, "root.path", "%s", c->spec->rootfs);
    if (!S_ISDIR(st.st_mode))
        return fail(c, 0, "root.path", "%s is not a directory", c->spec->rootfs);
    if ((v = oci_member(root, "readonly")) && as_bool(c, v, "root.readonly", &c->spec->oci.readonly_root) < 0)
        return -1;
    return 0;
}

/* ---- process ---------------------------------------------------------------- */

static const struct {
    const char *name;
    int cell; /* enum cell_rlimit_name, or -1: a Linux rlimit cell does not set */
} rlimit_names[] = {
    {"RLIMIT_NOFILE", CELL_RLIMIT_NOFILE},
    {"RLIMIT_NPROC", CELL_RLIMIT_NPROC},
    {"RLIMIT_AS", CELL_RLIMIT_AS},
    {"RLIMIT_CORE", CELL_RLIMIT_CORE},
    {"RLIMIT_CPU", CELL_RLIMIT_CPU},
    {"RLIMIT_FSIZE", CELL_RLIMIT_FSIZE},
    {"RLIMIT_STACK", CELL_RLIMIT_STACK},
    {"RLIMIT_MEMLOCK", CELL_RLIMIT_MEMLOCK},
    {"RLIMIT_DATA", -1},
    {"RLIMIT_LOCKS", -1},
    {"RLIMIT_MSGQUEUE", -1},
    {"RLIMIT_NICE", -1},
    {"RLIMIT_RTPRIO", -1},
    {"RLIMIT_RTTIME", -1},
    {"RLIMIT_SIGPENDING", -1},
    {"RLIMIT_RSS", -1},
};

static int parse_rlimits(struct oci_ctx *c, json_t *list)
{
    static const char *const known[] = {"type", "soft", "hard", NULL};
    if (want_array(c, list, "process.rlimits") < 0)
        return -1;
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e)
    {
        char p[PATH_BUF], q[PATH_BUF];
        const char *type;
        idx(p, "process.rlimits", i);
        if (want_object(c, e, p) < 0 || check_keys(c, e, p, known) < 0)
            return -1;
        json_t *t = oci_member(e, "type"), *soft = oci_member(e, "soft"), *hard = oci_member(e, "hard");
        if (t == NULL)
            return fail(c, 0, sub(q, p, "type"), "required (e.g. \"RLIMIT_NOFILE\")");
        if (as_string(c, t, sub(q, p, "type"), &type) < 0)
            return -1;
        int which = -2;
        for (size_t k = 0; k < ARRAY_SIZE(rlimit_names) && which == -2; k++)
            if (strcmp(rlimit_names[k].name, type) == 0)
                which = rlimit_names[k].cell;
        if (which == -2)
            return fail(c, 0, q, "\"%s\" is not an rlimit (see setrlimit(2), e.g. RLIMIT_NOFILE)", type);
        if (which == -1)
            return fail(c, 0, q,
                        "%s is not supported by cell (it sets RLIMIT_NOFILE, NPROC, AS, CORE, CPU, FSIZE, STACK and "
                        "MEMLOCK)",
                        type);
        struct cell_rlimit *rl = &c->spec->rlimits[which];
        if (rl->set)
            return fail(c, 0, q, "%s is given twice", type);
        if (soft == NULL)
            return fail(c, 0, sub(q, p, "soft"), "required");
        if (hard == NULL)
            return fail(c, 0, sub(q, p, "hard"), "required");
        if (as_u64(c, soft, sub(q, p, "soft"), UINT64_MAX, &rl->soft) < 0 ||
            as_u64(c, hard, sub(q, p, "hard"), UINT64_MAX, &rl->hard) < 0)
            return -1;
        if (rl->soft > rl->hard)
            return fail(c, 0, p, "soft limit %llu is above hard limit %llu", (unsigned long long)rl->soft,
                        (unsigned long long)rl->hard);
        rl->set = true;
    }
    return 0;
}

enum { CAPS_BOUNDING, CAPS_EFFECTIVE, CAPS_INHERITABLE, CAPS_PERMITTED, CAPS_AMBIENT, CAPS_COUNT };
static const char *const cap_sets[CAPS_COUNT] = {"bounding", "effective", "inheritable", "permitted", "ambient"};

/* "CAP_A, CAP_B" of a bit set, or "none". */
static void cap_list(uint64_t set, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int cap = 0; cap < 64; cap++) {
        if (!(set & (1ULL << cap)))
            continue;
        char *name = cap_to_name((cap_value_t)cap);
        if (name == NULL)
            continue;
        for (char *p = name; *p; p++)
            *p = (char)toupper((unsigned char)*p);
        if (used < len)
            used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? ", " : "", name);
        cap_free(name);
    }
    if (used == 0)
        snprintf(buf, len, "none");
}

/* capabilities: cell keeps one set, the same in bounding, effective,
 * permitted and inheritable (and ambient when the uid is not 0); with
 * no_new_privs, which cell always sets, a process can never hold more than
 * its permitted set. So cell keeps what the OCI process would hold after its
 * execve: bounding & permitted for uid 0, and also & ambient for any other
 * uid (without file capabilities it keeps only its ambient ones). A set that
 * differs from what is kept gets one warning. An unknown name is an error. */
static int parse_capabilities(struct oci_ctx *c, json_t *caps)
{
    uint64_t sets[CAPS_COUNT] = {0};
    bool given[CAPS_COUNT] = {false};
    if (want_object(c, caps, "process.capabilities") < 0)
        return -1;
    static const char *const known[] = {"bounding", "effective", "inheritable", "permitted", "ambient", NULL};
    if (check_keys(c, caps, "process.capabilities", known) < 0)
        return -1;
    for (int s = 0; s < CAPS_COUNT; s++) {
        char p[PATH_BUF], q[PATH_BUF];
        json_t *list = oci_member(caps, cap_sets[s]), *e;
        size_t i;
        sub(p, "process.capabilities", cap_sets[s]);
        if (list == NULL)
            continue;
        if (!json_is_array(list))
            return fail(c, 0, p, "expected an array of capability names (e.g. \"CAP_KILL\")");
        given[s] = true;
        json_array_foreach(list, i, e)
        {
            const char *name;
            int cap;
            struct cell_err ignored;
            if (as_string(c, e, idx(q, p, i), &name) < 0)
                return -1;
            if (cell_parse_capability(name, &cap, &ignored) < 0)
                return fail(c, 0, q, "\"%s\" is not a capability cell knows (see capabilities(7))", name);
            sets[s] |= 1ULL << cap;
        }
    }
    bool root = c->spec->uid == 0;
    uint64_t keep = sets[CAPS_BOUNDING] & sets[CAPS_PERMITTED] & (root ? ~0ULL : sets[CAPS_AMBIENT]);
    c->spec->cap_add = keep;
    char differ[96] = "";
    for (int s = 0; s < CAPS_COUNT; s++) {
        if (s == CAPS_INHERITABLE && (sets[s] & ~keep) == 0)
            continue; /* cell's inheritable set is the kept one: nothing more than asked */
        if (s == CAPS_AMBIENT && root)
            continue; /* uid 0 does not need ambient capabilities */
        if (given[s] ? sets[s] != keep : keep != 0)
            snprintf(differ + strlen(differ), sizeof differ - strlen(differ), "%s%s", differ[0] ? ", " : "",
                     cap_sets[s]);
    }
    if (differ[0]) {
        char names[900];
        cap_list(keep, names, sizeof names);
        return warn(c, "process.capabilities",
                    "%s differ from what cell keeps: exactly %s in every set (what the process would hold after "
                    "exec with no_new_privs: bounding and permitted%s)",
                    differ, names, root ? "" : " and ambient, as the uid is not 0");
    }
    return 0;
}

/* apparmorProfile / selinuxLabel: honoured nowhere; an error where the host
 * would enforce it (the container would be weaker than asked). */
static int parse_lsm(struct oci_ctx *c, json_t *process, const char *key, const char *lsm, const char *host_dir,
                     const char *none)
{
    char p[PATH_BUF];
    const char *s;
    json_t *v = oci_member(process, key);
    sub(p, "process", key);
    if (v == NULL)
        return 0;
    if (as_string(c, v, p, &s) < 0)
        return -1;
    if (s[0] == '\0' || (none && strcmp(s, none) == 0))
        return 0;
    if (host_has(host_dir))
        return fail(c, 0, p, "\"%s\" is not supported by cell: it cannot apply %s, which this host has (remove it)", s,
                    lsm);
    return warn(c, p, "\"%s\" not applied: this host has no %s", s, lsm);
}

static int parse_user(struct oci_ctx *c, json_t *user)
{
    static const char *const known[] = {"uid", "gid", "umask", "additionalGids", "username", NULL};
    json_t *v;
    uint64_t n;
    if (want_object(c, user, "process.user") < 0 || check_keys(c, user, "process.user", known) < 0)
        return -1;
    if ((v = oci_member(user, "uid"))) {
        if (as_u64(c, v, "process.user.uid", UINT32_MAX - 1, &n) < 0)
            return -1;
        c->spec->uid = (uid_t)n;
    }
    if ((v = oci_member(user, "gid"))) {
        if (as_u64(c, v, "process.user.gid", UINT32_MAX - 1, &n) < 0)
            return -1;
        c->spec->gid = (gid_t)n;
    }
    if ((v = oci_member(user, "umask"))) {
        if (as_u64(c, v, "process.user.umask", 0777, &n) < 0)
            return -1;
        c->spec->oci.umask = (mode_t)n;
        c->spec->oci.umask_set = true;
    }
    if ((v = oci_member(user, "additionalGids"))) {
        size_t i;
        json_t *e;
        if (want_array(c, v, "process.user.additionalGids") < 0)
            return -1;
        if (json_array_size(v) > CELL_MAX_GROUPS)
            return fail(c, 0, "process.user.additionalGids", "%zu groups: cell sets at most %d", json_array_size(v),
                        CELL_MAX_GROUPS);
        json_array_foreach(v, i, e)
        {
            char p[PATH_BUF];
            if (as_u64(c, e, idx(p, "process.user.additionalGids", i), UINT32_MAX - 1, &n) < 0)
                return -1;
            c->spec->groups[c->spec->ngroups++] = (gid_t)n;
        }
    }
    if ((v = oci_member(user, "username"))) {
        const char *s;
        if (as_string(c, v, "process.user.username", &s) < 0)
            return -1;
        if (s[0] && warn(c, "process.user.username", "a Windows field (ignored); uid and gid are used") < 0)
            return -1;
    }
    return 0;
}

static int parse_process(struct oci_ctx *c, json_t *top)
{
    static const char *const known[] = {
        "terminal",
        "consoleSize",
        "cwd",
        "env",
        "args",
        "commandLine",
        "rlimits",
        "apparmorProfile",
        "capabilities",
        "noNewPrivileges",
        "oomScoreAdj",
        "scheduler",
        "selinuxLabel",
        "ioPriority",
        "execCPUAffinity",
        "user",
        NULL,
    };
    json_t *process = oci_member(top, "process"), *v;
    const char *s;
    if (process == NULL)
        return fail(c, 0, "process", "required (cell needs process.args, the command to run)");
    if (want_object(c, process, "process") < 0 || check_keys(c, process, "process", known) < 0)
        return -1;

    v = oci_member(process, "args");
    if (v == NULL || !json_is_array(v) || json_array_size(v) == 0)
        return fail(c, 0, "process.args", "expected a non-empty array of strings");
    if (as_strv(c, v, "process.args", &c->spec->argv) < 0)
        return -1;
    if (c->spec->argv[0][0] == '\0')
        return fail(c, 0, "process.args[0]", "the command is empty");

    if ((v = oci_member(process, "env"))) {
        size_t i;
        json_t *e;
        if (!json_is_array(v))
            return fail(c, 0, "process.env", "expected an array of \"KEY=VALUE\" strings");
        json_array_foreach(v, i, e)
        {
            char p[PATH_BUF];
            struct cell_err ignored;
            if (as_string(c, e, idx(p, "process.env", i), &s) < 0)
                return -1;
            const char *eq = strchr(s, '=');
            if (eq == NULL || eq == s)
                return fail(c, 0, p, "\"%s\" is not KEY=VALUE", s);
            if (cell_spec_add_env(c->spec, s, &ignored) < 0)
                return cell_err_set(c->err, ENOMEM, CONFIG ": %s", p);
        }
    }

    if ((v = oci_member(process, "cwd")) == NULL)
        return fail(c, 0, "process.cwd", "required (an absolute path, e.g. \"/\")");
    if (container_path(c, v, "process.cwd", &c->spec->cwd) < 0)
        return -1;

    /* the user first: the capabilities depend on the uid */
    if ((v = oci_member(process, "user")) && parse_user(c, v) < 0)
        return -1;

    if ((v = oci_member(process, "terminal"))) {
        if (as_bool(c, v, "process.terminal", &c->oci->terminal) < 0)
            return -1;
        c->spec->tty = c->oci->terminal;
    }
    if ((v = oci_member(process, "consoleSize"))) {
        static const char *const size_keys[] = {"height", "width", NULL};
        json_t *h = oci_member(v, "height"), *w = oci_member(v, "width");
        uint64_t n;
        if (want_object(c, v, "process.consoleSize") < 0 || check_keys(c, v, "process.consoleSize", size_keys) < 0)
            return -1;
        if (h == NULL)
            return fail(c, 0, "process.consoleSize.height", "required");
        if (w == NULL)
            return fail(c, 0, "process.consoleSize.width", "required");
        if (as_u64(c, h, "process.consoleSize.height", UINT16_MAX, &n) < 0)
            return -1;
        c->oci->console_height = (unsigned)n;
        if (as_u64(c, w, "process.consoleSize.width", UINT16_MAX, &n) < 0)
            return -1;
        c->oci->console_width = (unsigned)n;
    }
    if ((v = oci_member(process, "rlimits")) && parse_rlimits(c, v) < 0)
        return -1;
    if ((v = oci_member(process, "capabilities")) && parse_capabilities(c, v) < 0)
        return -1;

    bool nnp = false;
    if ((v = oci_member(process, "noNewPrivileges")) && as_bool(c, v, "process.noNewPrivileges", &nnp) < 0)
        return -1;
    if (!nnp && warn(c, "process.noNewPrivileges",
                     "false or absent; cell sets no_new_privs anyway (setuid programs and file capabilities "
                     "give no privileges in the container)") < 0)
        return -1;

    if (parse_lsm(c, process, "apparmorProfile", "AppArmor", "/sys/kernel/security/apparmor", "unconfined") < 0 ||
        parse_lsm(c, process, "selinuxLabel", "SELinux", "/sys/fs/selinux", NULL) < 0)
        return -1;

    if ((v = oci_member(process, "oomScoreAdj"))) {
        int64_t n;
        if (as_i64(c, v, "process.oomScoreAdj", &n) < 0)
            return -1;
        if (n < -1000 || n > 1000)
            return fail(c, 0, "process.oomScoreAdj", "%lld is out of range (-1000 to 1000)", (long long)n);
        c->oci->oom_score_adj = c->spec->oci.oom_score_adj = (int)n;
        c->oci->oom_score_adj_set = c->spec->oci.oom_score_adj_set = true;
    }
    static const char *const refused[] = {"ioPriority", "scheduler", "execCPUAffinity"};
    for (size_t i = 0; i < ARRAY_SIZE(refused); i++) {
        char p[PATH_BUF];
        if (oci_member(process, refused[i]))
            return fail(c, 0, sub(p, "process", refused[i]), "not supported by cell (remove it)");
    }
    if ((v = oci_member(process, "commandLine")) &&
        warn(c, "process.commandLine", "a Windows field (ignored); process.args is used") < 0)
        return -1;
    return 0;
}

/* ---- hostname, domainname ------------------------------------------------- */

static int parse_names(struct oci_ctx *c, json_t *top)
{
    json_t *v;
    const char *s;
    if ((v = oci_member(top, "hostname"))) {
        if (as_string(c, v, "hostname", &s) < 0)
            return -1;
        if (s[0] && (c->spec->hostname = strdup(s)) == NULL)
            return cell_err_set(c->err, ENOMEM, CONFIG ": hostname");
    }
    if ((v = oci_member(top, "domainname"))) {
        if (as_string(c, v, "domainname", &s) < 0)
            return -1;
        if (s[0] && (c->spec->oci.domainname = strdup(s)) == NULL)
            return cell_err_set(c->err, ENOMEM, CONFIG ": domainname");
    }
    return 0;
}

/* ---- mounts --------------------------------------------------------------- */

static const struct {
    const char *type;
    enum cell_mount_kind kind;
} mount_types[] = {
    {"proc", CELL_MOUNT_PROC},      {"sysfs", CELL_MOUNT_SYSFS},   {"tmpfs", CELL_MOUNT_TMPFS},
    {"devpts", CELL_MOUNT_DEVPTS},  {"mqueue", CELL_MOUNT_MQUEUE}, {"cgroup", CELL_MOUNT_CGROUP},
    {"cgroup2", CELL_MOUNT_CGROUP},
};

#define PROPAGATION (MS_PRIVATE | MS_SHARED | MS_SLAVE | MS_UNBINDABLE)

/* Options that are mount flags. A propagation option replaces an earlier
 * one; its recursive form only matters on an rbind, which has MS_REC. */
static const struct {
    const char *name;
    bool clear;
    unsigned long flag;
} mount_flags[] = {
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"nosuid", false, MS_NOSUID},
    {"suid", true, MS_NOSUID},
    {"nodev", false, MS_NODEV},
    {"dev", true, MS_NODEV},
    {"noexec", false, MS_NOEXEC},
    {"exec", true, MS_NOEXEC},
    {"sync", false, MS_SYNCHRONOUS},
    {"async", true, MS_SYNCHRONOUS},
    {"dirsync", false, MS_DIRSYNC},
    {"noatime", false, MS_NOATIME},
    {"atime", true, MS_NOATIME},
    {"nodiratime", false, MS_NODIRATIME},
    {"diratime", true, MS_NODIRATIME},
    {"relatime", false, MS_RELATIME},
    {"norelatime", true, MS_RELATIME},
    {"strictatime", false, MS_STRICTATIME},
    {"nostrictatime", true, MS_STRICTATIME},
    {"private", false, MS_PRIVATE},
    {"rprivate", false, MS_PRIVATE},
    {"shared", false, MS_SHARED},
    {"rshared", false, MS_SHARED},
    {"slave", false, MS_SLAVE},
    {"rslave", false, MS_SLAVE},
    {"unbindable", false, MS_UNBINDABLE},
    {"runbindable", false, MS_UNBINDABLE},
};

static int mount_flag(const char *name)
{
    for (size_t k = 0; k < ARRAY_SIZE(mount_flags); k++)
        if (strcmp(mount_flags[k].name, name) == 0)
            return (int)k;
    return -1;
}

/* Options that change nothing the kernel sees. */
static const char *const ignored_options[] = {"defaults", "nofail", "silent", "loud", "auto", "noauto", "_netdev"};
/* Runtime extensions cell does not do; not isolation: a warning. */
static const char *const unhonoured_options[] = {"tmpcopyup", "notmpcopyup", "copy-symlink", "nocopyup", "z", "Z", "U"};
/* Runtime extensions whose absence would change ownership or mounts: an error. */
static const char *const refused_options[] = {"idmap", "ridmap", "remount", "move"};

static bool in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

/* Append ",opt" (or "opt") to *data. */
static int add_data(char **data, const char *opt)
{
    size_t old = *data ? strlen(*data) : 0, n = strlen(opt);
    char *grown = realloc(*data, old + n + 2);
    if (grown == NULL)
        return -1;
    if (old)
        grown[old++] = ',';
    memcpy(grown + old, opt, n + 1);
    *data = grown;
    return 0;
}

/* One mount's options into m (bind: only flags; others: the rest in data). */
static int parse_mount_options(struct oci_ctx *c, json_t *opts, const char *path, bool bind, struct cell_mount *m)
{
    size_t i;
    json_t *e;
    if (!json_is_array(opts))
        return fail(c, 0, path, "expected an array of strings");
    json_array_foreach(opts, i, e)
    {
        char p[PATH_BUF];
        const char *o;
        if (as_string(c, e, idx(p, path, i), &o) < 0)
            return -1;
        int k = mount_flag(o);
        /* on a bind, "rro", "rnosuid", ... are "ro", "nosuid": cell applies a
         * bind's flags to the whole tree */
        if (k < 0 && bind && o[0] == 'r' && (k = mount_flag(o + 1)) >= 0 && (mount_flags[k].flag & PROPAGATION))
            k = -1;
        if (k >= 0) {
            if (mount_flags[k].flag & PROPAGATION)
                m->flags &= ~(unsigned long)PROPAGATION;
            if (mount_flags[k].clear)
                m->flags &= ~mount_flags[k].flag;
            else
                m->flags |= mount_flags[k].flag;
            continue;
        }
        if (strcmp(o, "bind") == 0)
            continue;
        if (strcmp(o, "rbind") == 0) {
            m->flags |= MS_REC;
            continue;
        }
        if (in_list(o, ignored_options, ARRAY_SIZE(ignored_options)))
            continue;
        if (in_list(o, refused_options, ARRAY_SIZE(refused_options)))
            return fail(c, 0, p, "\"%s\" is not supported by cell", o);
        if (in_list(o, unhonoured_options, ARRAY_SIZE(unhonoured_options))) {
            if (warn(c, p, "\"%s\" not honoured (ignored)", o) < 0)
                return -1;
            continue;
        }
        if (bind)
            return fail(c, 0, p,
                        "\"%s\" is not an option of a bind mount (ro, rw, nosuid, nodev, noexec, the atime "
                        "options, bind, rbind, and the propagation ones)",
                        o);
        if (o[0] == '\0' || strchr(o, ','))
            return fail(c, 0, p, "\"%s\" is not a mount option", o);
        if (add_data(&m->data, o) < 0)
            return cell_err_set(c->err, ENOMEM, CONFIG ": %s", p);
    }
    return 0;
}

static int parse_mount(struct oci_ctx *c, json_t *e, const char *path)
{
    static const char *const known[] = {"destination", "type", "source", "options", "uidMappings", "gidMappings", NULL};
    char p[PATH_BUF];
    struct cell_mount m = {.writable = true};
    cleanup_free char *destination = NULL;
    cleanup_free char *source = NULL;
    cleanup_free char *data = NULL;
    const char *type = NULL;
    json_t *v, *opts;
    if (want_object(c, e, path) < 0 || check_keys(c, e, path, known) < 0)
        return -1;
    if ((v = oci_member(e, "destination")) == NULL)
        return fail(c, 0, sub(p, path, "destination"), "required (an absolute path in the container)");
    if (container_path(c, v, sub(p, path, "destination"), &destination) < 0)
        return -1;
    if ((v = oci_member(e, "type")) && as_string(c, v, sub(p, path, "type"), &type) < 0)
        return -1;
    if (oci_member(e, "uidMappings") || oci_member(e, "gidMappings"))
        return fail(c, 0, sub(p, path, oci_member(e, "uidMappings") ? "uidMappings" : "gidMappings"),
                    "id-mapped mounts are not supported by cell yet");
    opts = oci_member(e, "options");
    bool bind = type && strcmp(type, "bind") == 0;
    for (size_t i = 0; json_is_array(opts) && i < json_array_size(opts); i++) {
        const char *o = json_string_value(json_array_get(opts, i));
        if (o && (strcmp(o, "bind") == 0 || strcmp(o, "rbind") == 0))
            bind = true;
    }
    if (bind) {
        m.kind = CELL_MOUNT_BIND;
        sub(p, path, "source");
        if ((v = oci_member(e, "source")) == NULL)
            return fail(c, 0, p, "required for a bind mount (a path on the host)");
        if (host_path(c, v, p, &source) < 0)
            return -1;
        struct stat st;
        if (stat(source, &st) < 0)
            return fail(c, errno, p, "%s", source);
    } else {
        if (type == NULL)
            return fail(c, 0, sub(p, path, "type"), "required (e.g. \"tmpfs\", or \"bind\")");
        bool known_type = false;
        for (size_t k = 0; k < ARRAY_SIZE(mount_types) && !known_type; k++)
            if (strcmp(mount_types[k].type, type) == 0) {
                m.kind = mount_types[k].kind;
                known_type = true;
            }
        if (!known_type)
            return fail(c, 0, sub(p, path, "type"),
                        "\"%s\" is not supported by cell (bind, proc, sysfs, tmpfs, devpts, mqueue, cgroup, cgroup2)",
                        type);
        if ((v = oci_member(e, "source")) && !json_is_string(v))
            return fail(c, 0, sub(p, path, "source"), "expected a string");
    }
    if (opts && parse_mount_options(c, opts, sub(p, path, "options"), bind, &m) < 0) {
        free(m.data);
        return -1;
    }
    data = m.data;
    m.writable = !(m.flags & MS_RDONLY);
    m.destination = destination;
    m.source = source;
    return cell_spec_add_mount(c->spec, &m, c->err) < 0 ? cell_err_prefix(c->err, CONFIG ": %s: ", path) : 0;
}

static int parse_mounts(struct oci_ctx *c, json_t *top)
{
    json_t *list = oci_member(top, "mounts"), *e;
    size_t i;
    if (list == NULL)
        return 0;
    if (want_array(c, list, "mounts") < 0)
        return -1;
    json_array_foreach(list, i, e)
    {
        char p[PATH_BUF];
        if (parse_mount(c, e, idx(p, "mounts", i)) < 0)
            return -1;
    }
    return 0;
}

/* ---- linux ------------------------------------------------------------------ */

/* Fields cell refuses unless empty ("", {}, []). */
static bool empty_value(json_t *v)
{
    return v == NULL || (json_is_string(v) && json_string_length(v) == 0) ||
           (json_is_object(v) && json_object_size(v) == 0) || (json_is_array(v) && json_array_size(v) == 0);
}

enum { NS_PID, NS_MOUNT, NS_IPC, NS_UTS, NS_CGROUP, NS_NETWORK, NS_USER, NS_TIME, NS_COUNT };
static const char *const ns_names[NS_COUNT] = {"pid", "mount", "ipc", "uts", "cgroup", "network", "user", "time"};

static int parse_namespaces(struct oci_ctx *c, json_t *linux_)
{
    static const char *const known[] = {"type", "path", NULL};
    bool asked[NS_COUNT] = {false};
    json_t *list = oci_member(linux_, "namespaces"), *e;
    size_t i;
    if (list && want_array(c, list, "linux.namespaces") < 0)
        return -1;
    json_array_foreach(list, i, e)
    {
        char p[PATH_BUF], q[PATH_BUF];
        const char *type;
        json_t *t;
        idx(p, "linux.namespaces", i);
        if (want_object(c, e, p) < 0 || check_keys(c, e, p, known) < 0)
            return -1;
        if ((t = oci_member(e, "type")) == NULL)
            return fail(c, 0, sub(q, p, "type"), "required (pid, network, mount, ipc, uts, user, cgroup, time)");
        if (as_string(c, t, sub(q, p, "type"), &type) < 0)
            return -1;
        int ns = -1;
        for (int k = 0; k < NS_COUNT; k++)
            if (strcmp(ns_names[k], type) == 0)
                ns = k;
        if (ns < 0)
            return fail(c, 0, q, "\"%s\" is not a namespace type (pid, network, mount, ipc, uts, user, cgroup, time)",
                        type);
        if (asked[ns])
            return fail(c, 0, q, "the %s namespace is given twice", type);
        if (ns == NS_TIME)
            return fail(c, 0, p, "a time namespace is not supported by cell");
        asked[ns] = true;
        json_t *path = oci_member(e, "path");
        if (path && !empty_value(path)) {
            const char *s;
            char **join = ns == NS_NETWORK  ? &c->spec->ns.join_net
                          : ns == NS_IPC    ? &c->spec->ns.join_ipc
                          : ns == NS_UTS    ? &c->spec->ns.join_uts
                          : ns == NS_CGROUP ? &c->spec->ns.join_cgroup
                          : ns == NS_PID    ? &c->spec->ns.join_pid
                          : ns == NS_MOUNT  ? &c->spec->ns.join_mount
                          : ns == NS_USER   ? &c->spec->ns.join_user
                                            : NULL;
            if (as_string(c, path, sub(q, p, "path"), &s) < 0)
                return -1;
            if (ns == NS_USER && geteuid() != 0)
                return fail(c, 0, q, "joining a user namespace (%s) needs root", s);
            if (s[0] != '/')
                return fail(c, 0, q, "\"%s\" is not an absolute path", s);
            if ((*join = strdup(s)) == NULL)
                return cell_err_set(c->err, ENOMEM, "%s", q);
        }
    }
    for (int k = 0; k <= NS_CGROUP; k++)
        if (!asked[k] && warn(c, "linux.namespaces",
                              "no %s namespace asked for; cell gives the container a new one anyway", ns_names[k]) < 0)
            return -1;
    c->spec->net_mode = asked[NS_NETWORK] ? CELL_NET_NONE : CELL_NET_HOST;
    c->spec->ns.userns = c->userns = asked[NS_USER];
    if (c->userns && !c->spec->ns.join_user && (c->spec->ns.join_pid || c->spec->ns.join_cgroup))
        return fail(c, 0, "linux.namespaces",
                    "a %s namespace given by path cannot be joined from a new user namespace (it belongs to "
                    "another; join it without {\"type\": \"user\"})",
                    c->spec->ns.join_pid ? "pid" : "cgroup");
    return 0;
}

/* uidMappings / gidMappings into the text /proc/PID/uid_map takes (*map).
 * As root: any ranges the kernel takes (at most 340, none overlapping on
 * either side) that map the container's root; rootless: only the caller's
 * own id, the one mapping an unprivileged process may write. */
#define ID_MAP_MAX_RANGES 340
static int parse_mapping(struct oci_ctx *c, json_t *linux_, const char *key, unsigned own_id, char **map)
{
    static const char *const known[] = {"containerID", "hostID", "size", NULL};
    char p[PATH_BUF], q[PATH_BUF];
    json_t *list = oci_member(linux_, key), *e;
    bool rootless = geteuid() != 0;
    uint64_t ranges[ID_MAP_MAX_RANGES][3];
    size_t i, n = 0;
    bool maps_root = false;
    sub(p, "linux", key);
    if (list == NULL)
        return 0;
    if (want_array(c, list, p) < 0)
        return -1;
    if (json_array_size(list) == 0)
        return 0;
    if (!c->userns)
        return fail(c, 0, p, "given without a user namespace (add {\"type\": \"user\"} to linux.namespaces)");
    if (json_array_size(list) > ID_MAP_MAX_RANGES)
        return fail(c, 0, p, "%zu ranges: the kernel takes at most %d", json_array_size(list), ID_MAP_MAX_RANGES);
    json_array_foreach(list, i, e)
    {
        static const char *const fields[] = {"containerID", "hostID", "size"};
        uint64_t *f = ranges[n++];
        idx(q, p, i);
        if (want_object(c, e, q) < 0 || check_keys(c, e, q, known) < 0)
            return -1;
        for (int k = 0; k < 3; k++) {
            char r[PATH_BUF];
            json_t *v = oci_member(e, fields[k]);
            if (v == NULL)
                return fail(c, 0, sub(r, q, fields[k]), "required");
            if (as_u64(c, v, sub(r, q, fields[k]), UINT32_MAX, &f[k]) < 0)
                return -1;
        }
        if (f[2] == 0) {
            char r[PATH_BUF];
            return fail(c, 0, sub(r, q, "size"), "0: a range maps at least one id");
        }
        for (int k = 0; k < 2; k++)
            if (f[k] + f[2] > (uint64_t)UINT32_MAX)
                return fail(c, 0, q, "%s %" PRIu64 " + size %" PRIu64 " is past the last id (4294967294)", fields[k],
                            f[k], f[2]);
        for (size_t j = 0; j + 1 < n; j++)
            for (int k = 0; k < 2; k++)
                if (f[k] < ranges[j][k] + ranges[j][2] && ranges[j][k] < f[k] + f[2])
                    return fail(c, 0, q, "its %s range overlaps that of %s[%zu]", fields[k], p, j);
        maps_root = maps_root || f[0] == 0;
    }
    if (rootless && !(n == 1 && ranges[0][0] == 0 && ranges[0][1] == own_id && ranges[0][2] == 1))
        return fail(c, 0, p,
                    "rootless, only the caller's own id can be mapped: [{\"containerID\": 0, \"hostID\": %u, "
                    "\"size\": 1}] (other ranges need root)",
                    own_id);
    if (!maps_root)
        return fail(c, 0, p, "no range maps the container's root (containerID 0), which cell's init runs as");
    size_t cap = n * 36 + 1, len = 0;
    if ((*map = malloc(cap)) == NULL)
        return cell_err_set(c->err, ENOMEM, "%s", p);
    for (size_t k = 0; k < n; k++)
        len += (size_t)snprintf(*map + len, cap - len, "%" PRIu64 " %" PRIu64 " %" PRIu64 "\n", ranges[k][0],
                                ranges[k][1], ranges[k][2]);
    return 0;
}

/* Whether container id `id` is in a map parse_mapping wrote. */
/* The host id that container id `id` is in a map parse_mapping wrote
 * (*host); false when no range holds it. */
static bool map_lookup(const char *map, unsigned id, unsigned *host)
{
    unsigned long inside, outside, size;
    int used;
    while (map && sscanf(map, "%lu %lu %lu\n%n", &inside, &outside, &size, &used) == 3) {
        if (id >= inside && id - inside < size) {
            *host = (unsigned)(outside + (id - inside));
            return true;
        }
        map += used;
    }
    return false;
}

static bool id_mapped(const char *map, unsigned id)
{
    unsigned host;
    return map_lookup(map, id, &host);
}

/* The host id that container id 0 is in map `map`, or `fallback`. */
static unsigned host_id_of_root(const char *map, unsigned fallback)
{
    unsigned host;
    return map_lookup(map, 0, &host) ? host : fallback;
}

void cell_oci_root_ids(const struct cell_spec *spec, uid_t *uid, gid_t *gid)
{
    if (geteuid() != 0) {
        *uid = geteuid();
        *gid = getegid();
    } else if (!spec->ns.userns) {
        *uid = 0;
        *gid = 0;
    } else {
        *uid = host_id_of_root(spec->oci.uid_map, USERNS_HOST_ID);
        *gid = host_id_of_root(spec->oci.gid_map, USERNS_HOST_ID);
    }
}

/* A device number of a rule or node: -1 (any; rules only) or 0..INT32_MAX. */
static int device_number(struct oci_ctx *c, json_t *v, const char *path, bool any_ok, int64_t *n)
{
    if (as_i64(c, v, path, n) < 0)
        return -1;
    if ((*n < 0 && !(any_ok && *n == -1)) || *n > INT32_MAX)
        return fail(c, 0, path, "%" PRId64 " is not a device number (0 to %d%s)", *n, INT32_MAX,
                    any_ok ? ", or -1 for any" : "");
    return 0;
}

/* linux.resources.devices into spec->oci.device_rules (finish_devices adds
 * cell's own). Missing numbers are -1 (any), a missing or empty access is
 * "rwm". */
static int parse_device_cgroup(struct oci_ctx *c, json_t *list)
{
    static const char *const known[] = {"allow", "type", "major", "minor", "access", NULL};
    const char *path = "linux.resources.devices";
    size_t i;
    json_t *e;
    bool deny_all_only = true;
    if (want_array(c, list, path) < 0)
        return -1;
    if (json_array_size(list) > 200)
        return fail(c, 0, path, "%zu rules: cell takes at most 200 (merge rules, e.g. with -1 numbers)",
                    json_array_size(list));
    struct cell_device_rule *rules = calloc(json_array_size(list) + 1, sizeof *rules);
    if (rules == NULL)
        return cell_err_set(c->err, ENOMEM, "%s", path);
    c->spec->oci.device_rules = rules;
    json_array_foreach(list, i, e)
    {
        char p[PATH_BUF], q[PATH_BUF];
        json_t *v;
        bool allow = false;
        const char *type = "a", *access = "rwm";
        struct cell_device_rule *r = &rules[i];
        idx(p, path, i);
        if (want_object(c, e, p) < 0 || check_keys(c, e, p, known) < 0)
            return -1;
        if ((v = oci_member(e, "allow")) == NULL)
            return fail(c, 0, sub(q, p, "allow"), "required");
        if (as_bool(c, v, sub(q, p, "allow"), &allow) < 0)
            return -1;
        if ((v = oci_member(e, "type")) && as_string(c, v, sub(q, p, "type"), &type) < 0)
            return -1;
        if (strcmp(type, "a") != 0 && strcmp(type, "c") != 0 && strcmp(type, "b") != 0)
            return fail(c, 0, q, "\"%s\" is not a device type (a, c or b)", type);
        r->allow = allow;
        r->type = type[0];
        r->major = r->minor = -1;
        for (int k = 0; k < 2; k++) {
            const char *key = k ? "minor" : "major";
            if ((v = oci_member(e, key)) && device_number(c, v, sub(q, p, key), true, k ? &r->minor : &r->major) < 0)
                return -1;
        }
        deny_all_only = deny_all_only && r->major < 0 && r->minor < 0;
        if ((v = oci_member(e, "access")) && as_string(c, v, sub(q, p, "access"), &access) < 0)
            return -1;
        if (access[strspn(access, "rwm")] != '\0')
            return fail(c, 0, q, "\"%s\" is not an access (letters r, w and m)", access);
        if (access[0] == '\0')
            access = "rwm";
        r->access = (strchr(access, 'r') ? CELL_DEVICE_READ : 0) | (strchr(access, 'w') ? CELL_DEVICE_WRITE : 0) |
                    (strchr(access, 'm') ? CELL_DEVICE_MKNOD : 0);
        deny_all_only = deny_all_only && !allow && r->type == 'a' && r->access == 7;
        c->spec->oci.ndevice_rules++;
    }
    c->device_rules = list;
    c->device_rules_deny_all_only = deny_all_only;
    return 0;
}

/* linux.devices: nodes made in the container's /dev (c, u, b or p). */
static int parse_device_nodes(struct oci_ctx *c, json_t *list)
{
    static const char *const known[] = {"path", "type", "major", "minor", "fileMode", "uid", "gid", NULL};
    const char *path = "linux.devices";
    size_t i;
    json_t *e;
    if (want_array(c, list, path) < 0)
        return -1;
    if (json_array_size(list) > 64)
        return fail(c, 0, path, "%zu devices: cell makes at most 64", json_array_size(list));
    struct cell_device_node *nodes = calloc(json_array_size(list) + 1, sizeof *nodes);
    if (nodes == NULL)
        return cell_err_set(c->err, ENOMEM, "%s", path);
    c->spec->oci.devices = nodes;
    json_array_foreach(list, i, e)
    {
        char p[PATH_BUF], q[PATH_BUF];
        json_t *v;
        const char *s;
        struct cell_device_node *d = &nodes[i];
        idx(p, path, i);
        if (want_object(c, e, p) < 0 || check_keys(c, e, p, known) < 0)
            return -1;
        if ((v = oci_member(e, "path")) == NULL)
            return fail(c, 0, sub(q, p, "path"), "required");
        if (as_string(c, v, sub(q, p, "path"), &s) < 0)
            return -1;
        if ((d->path = clean_path(NULL, s)) == NULL)
            return cell_err_set(c->err, ENOMEM, "%s", q);
        c->spec->oci.ndevices++;
        if (s[0] != '/' || strncmp(d->path, "/dev/", 5) != 0 || d->path[5] == '\0')
            return fail(c, 0, q,
                        "\"%s\" is not a path under /dev (cell's root is read-only and nodev; devices "
                        "live in its /dev)",
                        s);
        for (size_t k = 0; k < i; k++)
            if (strcmp(nodes[k].path, d->path) == 0)
                return fail(c, 0, q, "%s is given twice", d->path);
        if ((v = oci_member(e, "type")) == NULL)
            return fail(c, 0, sub(q, p, "type"), "required (c, u, b or p)");
        if (as_string(c, v, sub(q, p, "type"), &s) < 0)
            return -1;
        if (strcmp(s, "c") != 0 && strcmp(s, "u") != 0 && strcmp(s, "b") != 0 && strcmp(s, "p") != 0)
            return fail(c, 0, q, "\"%s\" is not a device type (c, u, b or p)", s);
        d->type = s[0] == 'u' ? 'c' : s[0];
        for (int k = 0; k < 2 && d->type != 'p'; k++) {
            const char *key = k ? "minor" : "major";
            int64_t n;
            if ((v = oci_member(e, key)) == NULL)
                return fail(c, 0, sub(q, p, key), "required for a device of type %s", s);
            if (device_number(c, v, sub(q, p, key), false, &n) < 0)
                return -1;
            *(k ? &d->minor : &d->major) = (unsigned)n;
        }
        d->mode = 0666;
        if ((v = oci_member(e, "fileMode"))) {
            uint64_t mode;
            /* podman sends the file type bits too (020666): runc drops them */
            if (as_u64(c, v, sub(q, p, "fileMode"), 0177777, &mode) < 0)
                return -1;
            d->mode = (mode_t)mode & 07777;
        }
        uint64_t id;
        if ((v = oci_member(e, "uid"))) {
            if (as_u64(c, v, sub(q, p, "uid"), UINT32_MAX - 1, &id) < 0)
                return -1;
            d->uid = (uid_t)id;
        }
        if ((v = oci_member(e, "gid"))) {
            if (as_u64(c, v, sub(q, p, "gid"), UINT32_MAX - 1, &id) < 0)
                return -1;
            d->gid = (gid_t)id;
        }
    }
    return 0;
}

/* The devices every OCI container's /dev has (mounts_oci.c makes them). */
static const struct {
    unsigned major;
    int minor; /* -1: any */
} default_devices[] = {{1, 3}, {1, 5}, {1, 7}, {1, 8}, {1, 9}, {5, 0}, {5, 2}, {136, -1}};

/* Whether the config's rules (and cell's own /dev nodes, which always may)
 * let the container read or write device TYPE MAJOR:MINOR, as the cgroup
 * would decide (devices.h). */
static bool device_allowed(const struct cell_oci_fs *o, char type, unsigned major, unsigned minor)
{
    for (size_t k = 0; type == 'c' && k < ARRAY_SIZE(default_devices); k++)
        if (default_devices[k].major == major &&
            (default_devices[k].minor < 0 || (unsigned)default_devices[k].minor == minor))
            return true;
    return devices_allowed(o->device_rules, o->ndevice_rules, type, major, minor, CELL_DEVICE_READ) ||
           devices_allowed(o->device_rules, o->ndevice_rules, type, major, minor, CELL_DEVICE_WRITE);
}

/* Rootless there is no device cgroup: a bind of a host device the rules do
 * not allow would be open to the container, so it is refused. */
static int check_device_binds(struct oci_ctx *c)
{
    for (size_t i = 0; c->device_rules && i < c->spec->nmounts; i++) {
        const struct cell_mount *m = &c->spec->mounts[i];
        struct stat st;
        char p[PATH_BUF], q[PATH_BUF];
        if (m->kind != CELL_MOUNT_BIND || stat(m->source, &st) < 0 || !(S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)))
            continue;
        if (!device_allowed(&c->spec->oci, S_ISCHR(st.st_mode) ? 'c' : 'b', major(st.st_rdev), minor(st.st_rdev)))
            return fail(c, 0, sub(q, idx(p, "mounts", i), "source"),
                        "%s is a device linux.resources.devices does not allow, and a rootless cell has no device "
                        "cgroup (remove the mount, or allow the device)",
                        m->source);
    }
    return 0;
}

/* As root the cell's cgroup enforces the device list: deny all, the
 * config's rules, then read, write and mknod of cell's own /dev nodes and
 * of linux.devices (as runc adds them). Rootless there is no cgroup: rules
 * beyond "deny all" are a warning, and device binds they deny an error. */
static int finish_devices(struct oci_ctx *c)
{
    struct cell_oci_fs *o = &c->spec->oci;
    if (geteuid() != 0) {
        if (c->device_rules && !c->device_rules_deny_all_only &&
            warn(c, "linux.resources.devices",
                 "not applied: rootless, cell has no device cgroup; its /dev holds only null, zero, full, random, "
                 "urandom, tty, ptmx and pts (and the devices the mounts and linux.devices give)") < 0)
            return -1;
        return check_device_binds(c);
    }
    size_t n = o->ndevice_rules + ARRAY_SIZE(default_devices) + o->ndevices;
    struct cell_device_rule *rules = realloc(o->device_rules, n * sizeof *rules);
    if (rules == NULL)
        return cell_err_set(c->err, ENOMEM, "linux.resources.devices");
    o->device_rules = rules;
    for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++)
        rules[o->ndevice_rules++] =
            (struct cell_device_rule){.allow = true,
                                      .type = 'c',
                                      .major = default_devices[i].major,
                                      .minor = default_devices[i].minor,
                                      .access = CELL_DEVICE_READ | CELL_DEVICE_WRITE | CELL_DEVICE_MKNOD};
    for (size_t i = 0; i < o->ndevices; i++)
        if (o->devices[i].type != 'p')
            rules[o->ndevice_rules++] =
                (struct cell_device_rule){.allow = true,
                                          .type = o->devices[i].type,
                                          .major = o->devices[i].major,
                                          .minor = o->devices[i].minor,
                                          .access = CELL_DEVICE_READ | CELL_DEVICE_WRITE | CELL_DEVICE_MKNOD};
    o->device_cgroup = true;
    return 0;
}

/* linux.resources.blockIO: the throttles into spec->oci.io_throttle (rate
 * 0: none, as the kernel reads it); weights are a warning (this host's
 * kernel, like most, has no blkio weight without BFQ). */
static int parse_block_io(struct oci_ctx *c, json_t *io)
{
    static const char *const known[] = {"weight",
                                        "leafWeight",
                                        "weightDevice",
                                        "throttleReadBpsDevice",
                                        "throttleWriteBpsDevice",
                                        "throttleReadIOPSDevice",
                                        "throttleWriteIOPSDevice",
                                        NULL};
    static const char *const device_keys[] = {"major", "minor", "rate", NULL};
    const char *path = "linux.resources.blockIO";
    if (want_object(c, io, path) < 0 || check_keys(c, io, path, known) < 0)
        return -1;
    for (int k = 0; k < 3; k++) {
        char p[PATH_BUF];
        if (oci_member(io, known[k]) && warn(c, sub(p, path, known[k]), "not applied (a weight)") < 0)
            return -1;
    }
    size_t total = 0;
    for (int kind = 0; kind < CELL_IO_KINDS; kind++) {
        json_t *list = oci_member(io, known[3 + kind]);
        total += json_is_array(list) ? json_array_size(list) : 0;
    }
    if (total > 64)
        return fail(c, 0, path, "%zu device throttles: cell takes at most 64", total);
    if (total && (c->spec->oci.io_throttle = calloc(total, sizeof *c->spec->oci.io_throttle)) == NULL)
        return cell_err_set(c->err, ENOMEM, "%s", path);
    for (int kind = 0; kind < CELL_IO_KINDS; kind++) {
        char p[PATH_BUF], q[PATH_BUF], r[PATH_BUF];
        json_t *list = oci_member(io, known[3 + kind]), *e;
        size_t i;
        if (list == NULL)
            continue;
        if (want_array(c, list, sub(p, path, known[3 + kind])) < 0)
            return -1;
        json_array_foreach(list, i, e)
        {
            int64_t number[2];
            uint64_t rate;
            idx(q, p, i);
            if (want_object(c, e, q) < 0 || check_keys(c, e, q, device_keys) < 0)
                return -1;
            for (int k = 0; k < 3; k++)
                if (oci_member(e, device_keys[k]) == NULL)
                    return fail(c, 0, sub(r, q, device_keys[k]), "required");
            if (device_number(c, oci_member(e, "major"), sub(r, q, "major"), false, &number[0]) < 0 ||
                device_number(c, oci_member(e, "minor"), sub(r, q, "minor"), false, &number[1]) < 0 ||
                as_u64(c, oci_member(e, "rate"), sub(r, q, "rate"), UINT64_MAX, &rate) < 0)
                return -1;
            for (size_t k = 0; k < c->spec->oci.nio_throttle; k++) {
                const struct cell_io_throttle *t = &c->spec->oci.io_throttle[k];
                if ((int)t->kind == kind && t->major == (unsigned)number[0] && t->minor == (unsigned)number[1])
                    return fail(c, 0, q, "device %u:%u is given twice", t->major, t->minor);
            }
            if (rate == 0)
                continue;
            c->spec->oci.io_throttle[c->spec->oci.nio_throttle++] =
                (struct cell_io_throttle){.kind = (enum cell_io_kind)kind,
                                          .major = (unsigned)number[0],
                                          .minor = (unsigned)number[1],
                                          .rate = rate};
        }
    }
    return 0;
}

/* linux.cgroupsPath: where the container's cgroups go, in every hierarchy
 * cell uses: absolute from the hierarchy's root, relative from the caller's
 * own cgroup. Plain names only ("..", "." and empty parts are refused); the
 * systemd form "slice:prefix:name" (--systemd-cgroup) is a warning, and
 * cell names them itself then. */
static int parse_cgroups_path(struct oci_ctx *c, const char *s)
{
    const char *path = "linux.cgroupsPath";
    if (s[0] != '/' && strchr(s, ':'))
        return warn(c, path, "\"%s\" is systemd's form, which cell does not use: its cgroups are cell.ID.PID", s);
    if (strlen(s) > 255)
        return fail(c, 0, path, "longer than 255 bytes");
    for (const char *p = s[0] == '/' ? s + 1 : s; *p;) {
        size_t n = strcspn(p, "/");
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return fail(c, 0, path, "\"%s\": each part must be a name (no empty, \".\" or \"..\" parts)", s);
        p += n + (p[n] == '/');
        if (p[-1] == '/' && *p == '\0')
            return fail(c, 0, path, "\"%s\": each part must be a name (no empty, \".\" or \"..\" parts)", s);
    }
    if (strcmp(s, "/") == 0)
        return fail(c, 0, path, "\"/\" is the hierarchy's root, which holds no container");
    if ((c->spec->oci.cgroups_path = strdup(s)) == NULL)
        return cell_err_set(c->err, ENOMEM, "%s", path);
    return 0;
}

static int parse_resources(struct oci_ctx *c, json_t *res)
{
    static const char *const known[] = {"devices", "memory", "cpu",     "blockIO",     "hugepageLimits",   "network",
                                        "pids",    "rdma",   "unified", "oomScoreAdj", "disableOOMKiller", NULL};
    const char *path = "linux.resources";
    json_t *v, *w;
    if (want_object(c, res, path) < 0 || check_keys(c, res, path, known) < 0)
        return -1;
    if ((v = oci_member(res, "devices")) && parse_device_cgroup(c, v) < 0)
        return -1;
    if ((v = oci_member(res, "memory"))) {
        static const char *const mem_keys[] = {
            "limit",        "reservation",       "swap", "kernel", "kernelTCP", "swappiness", "disableOOMKiller",
            "useHierarchy", "checkBeforeUpdate", NULL};
        if (want_object(c, v, "linux.resources.memory") < 0 || check_keys(c, v, "linux.resources.memory", mem_keys) < 0)
            return -1;
        if ((w = oci_member(v, "limit"))) {
            int64_t n;
            if (as_i64(c, w, "linux.resources.memory.limit", &n) < 0)
                return -1;
            if (n < -1)
                return fail(c, 0, "linux.resources.memory.limit", "%lld: expected bytes above 0, or -1 for none",
                            (long long)n);
            c->spec->limits.memory_bytes = n > 0 ? (uint64_t)n : 0;
        }
        for (const char *const *k = mem_keys + 1; *k; k++) {
            char p[PATH_BUF];
            if (oci_member(v, *k) && warn(c, sub(p, "linux.resources.memory", *k), "not applied") < 0)
                return -1;
        }
    }
    if ((v = oci_member(res, "cpu"))) {
        static const char *const cpu_keys[] = {"quota",          "period", "shares", "burst", "realtimeRuntime",
                                               "realtimePeriod", "cpus",   "mems",   "idle",  NULL};
        int64_t quota = 0;
        uint64_t period = 100000;
        if (want_object(c, v, "linux.resources.cpu") < 0 || check_keys(c, v, "linux.resources.cpu", cpu_keys) < 0)
            return -1;
        if ((w = oci_member(v, "quota")) && as_i64(c, w, "linux.resources.cpu.quota", &quota) < 0)
            return -1;
        if ((w = oci_member(v, "period"))) {
            if (as_u64(c, w, "linux.resources.cpu.period", 1000000, &period) < 0)
                return -1;
            if (period == 0)
                period = 100000; /* unset, as runc reads it */
            if (period < 1000)
                return fail(c, 0, "linux.resources.cpu.period", "%llu: expected 1000 to 1000000 (microseconds)",
                            (unsigned long long)period);
        }
        if (quota > 0) {
            /* quota/period CPUs, in thousandths, rounded, at least 1 */
            uint64_t q = (uint64_t)quota;
            uint64_t millis = (q / period) * 1000 + ((q % period) * 1000 + period / 2) / period;
            if (q / period > 1024 || millis > 1024 * 1000)
                return fail(c, 0, "linux.resources.cpu.quota", "%lld/%llu is more than 1024 CPUs", (long long)quota,
                            (unsigned long long)period);
            c->spec->limits.cpu_millis = millis ? millis : 1;
        } else if (quota < -1) {
            return fail(c, 0, "linux.resources.cpu.quota", "%lld: expected microseconds above 0, or -1 for none",
                        (long long)quota);
        }
        for (const char *const *k = cpu_keys + 2; *k; k++) {
            char p[PATH_BUF];
            if (oci_member(v, *k) && warn(c, sub(p, "linux.resources.cpu", *k), "not applied") < 0)
                return -1;
        }
    }
    if ((v = oci_member(res, "pids"))) {
        static const char *const pids_keys[] = {"limit", NULL};
        int64_t n = 0;
        if (want_object(c, v, "linux.resources.pids") < 0 || check_keys(c, v, "linux.resources.pids", pids_keys) < 0)
            return -1;
        if ((w = oci_member(v, "limit")) == NULL)
            return fail(c, 0, "linux.resources.pids.limit", "required");
        if (as_i64(c, w, "linux.resources.pids.limit", &n) < 0)
            return -1;
        c->spec->limits.pids = n > 0 ? (uint64_t)n : 0; /* 0 or negative: no limit, as runc reads it */
    }
    if ((v = oci_member(res, "blockIO")) && parse_block_io(c, v) < 0)
        return -1;
    static const char *const unapplied[] = {"hugepageLimits", "network",     "rdma",
                                            "unified",        "oomScoreAdj", "disableOOMKiller"};
    for (size_t k = 0; k < ARRAY_SIZE(unapplied); k++) {
        char p[PATH_BUF];
        if (oci_member(res, unapplied[k]) && warn(c, sub(p, path, unapplied[k]), "not applied") < 0)
            return -1;
    }
    return 0;
}

/* An array of absolute paths into a NULL-terminated list. */
static int parse_paths(struct oci_ctx *c, json_t *linux_, const char *key, char ***out)
{
    char p[PATH_BUF], q[PATH_BUF];
    json_t *list = oci_member(linux_, key), *e;
    size_t i;
    sub(p, "linux", key);
    if (list == NULL)
        return 0;
    if (!json_is_array(list))
        return fail(c, 0, p, "expected an array of absolute paths");
    char **v = calloc(json_array_size(list) + 1, sizeof *v);
    if (v == NULL)
        return cell_err_set(c->err, ENOMEM, CONFIG ": %s", p);
    *out = v; /* the spec owns it from here, filled or not */
    json_array_foreach(list, i, e)
    {
        if (container_path(c, e, idx(q, p, i), &v[i]) < 0)
            return -1;
    }
    return 0;
}

/* Whether sysctl `key` belongs to a namespace the container has of its own
 * (runc's rule): IPC ones always (cell always makes an IPC namespace), net.*
 * only with a network namespace of its own. */
static bool sysctl_namespaced(const char *key, bool own_net)
{
    static const char *const ipc[] = {"kernel.msgmax",
                                      "kernel.msgmnb",
                                      "kernel.msgmni",
                                      "kernel.sem",
                                      "kernel.shmall",
                                      "kernel.shmmax",
                                      "kernel.shmmni",
                                      "kernel.shm_rmid_forced",
                                      "kernel.domainname",
                                      "kernel.hostname",
                                      NULL};
    for (size_t i = 0; ipc[i]; i++)
        if (strcmp(key, ipc[i]) == 0)
            return true;
    if (strncmp(key, "fs.mqueue.", 10) == 0)
        return true;
    return own_net && strncmp(key, "net.", 4) == 0;
}

static int parse_sysctls(struct oci_ctx *c, json_t *v)
{
    if (want_object(c, v, "linux.sysctl") < 0)
        return -1;
    size_t n = json_object_size(v), i = 0;
    char **list = calloc(n + 1, sizeof *list);
    if (list == NULL)
        return cell_err_set(c->err, ENOMEM, CONFIG ": linux.sysctl");
    c->spec->oci.sysctls = list;
    const char *key;
    json_t *value;
    json_object_foreach(v, key, value)
    {
        char p[PATH_BUF];
        sub(p, "linux.sysctl", key);
        if (!json_is_string(value))
            return fail(c, 0, p, "expected a string value");
        if (key[0] == '\0' || strstr(key, "..") || strchr(key, '/') || key[0] == '.')
            return fail(c, 0, p, "not a sysctl name");
        if (!sysctl_namespaced(key, c->spec->net_mode == CELL_NET_NONE))
            return fail(c, 0, p,
                        "not a sysctl of the container's own namespaces (IPC ones, fs.mqueue.*, and net.* with a "
                        "network namespace): it would change the host");
        if (asprintf(&list[i], "%s=%s", key, json_string_value(value)) < 0) {
            list[i] = NULL;
            return cell_err_set(c->err, ENOMEM, "%s", p);
        }
        i++;
    }
    return 0;
}

static int parse_linux(struct oci_ctx *c, json_t *top, json_t *annotations)
{
    static const char *const known[] = {
        "namespaces",  "uidMappings",   "gidMappings", "timeOffsets", "devices", "netDevices",
        "cgroupsPath", "resources",     "intelRdt",    "sysctl",      "seccomp", "rootfsPropagation",
        "maskedPaths", "readonlyPaths", "mountLabel",  "personality", NULL,
    };
    json_t *linux_ = oci_member(top, "linux"), *v;
    const char *s;
    if (linux_ == NULL) {
        /* no namespaces at all: the host's, by the spec; cell's own anyway */
        json_t *empty = json_object();
        if (empty == NULL)
            return cell_err_set(c->err, ENOMEM, CONFIG ": linux");
        int rc = parse_namespaces(c, empty);
        json_decref(empty);
        return rc;
    }
    if (want_object(c, linux_, "linux") < 0 || check_keys(c, linux_, "linux", known) < 0)
        return -1;
    if (parse_namespaces(c, linux_) < 0 ||
        parse_mapping(c, linux_, "uidMappings", (unsigned)geteuid(), &c->spec->oci.uid_map) < 0 ||
        parse_mapping(c, linux_, "gidMappings", (unsigned)getegid(), &c->spec->oci.gid_map) < 0)
        return -1;
    if (c->spec->ns.join_user && (c->spec->oci.uid_map || c->spec->oci.gid_map))
        return fail(c, 0, c->spec->oci.uid_map ? "linux.uidMappings" : "linux.gidMappings",
                    "given with a user namespace to join (%s), which has its own (remove them)", c->spec->ns.join_user);
    if ((c->spec->oci.uid_map == NULL) != (c->spec->oci.gid_map == NULL))
        return fail(c, 0, c->spec->oci.uid_map ? "linux.gidMappings" : "linux.uidMappings",
                    "required with %s (give both, or neither for cell's own mapping)",
                    c->spec->oci.uid_map ? "linux.uidMappings" : "linux.gidMappings");
    if (c->spec->oci.uid_map && !id_mapped(c->spec->oci.uid_map, c->spec->uid))
        return fail(c, 0, "process.user.uid", "%u is not in linux.uidMappings (the ids the container has)",
                    (unsigned)c->spec->uid);
    if (c->spec->oci.gid_map && !id_mapped(c->spec->oci.gid_map, c->spec->gid))
        return fail(c, 0, "process.user.gid", "%u is not in linux.gidMappings (the ids the container has)",
                    (unsigned)c->spec->gid);
    for (size_t k = 0; c->spec->oci.gid_map && k < c->spec->ngroups; k++)
        if (!id_mapped(c->spec->oci.gid_map, c->spec->groups[k]))
            return fail(c, 0, "process.user.additionalGids",
                        "%u is not in linux.gidMappings (the ids the container has)", (unsigned)c->spec->groups[k]);

    static const struct {
        const char *key, *why;
    } refused[] = {
        {"netDevices", "cell does not move network devices into a container yet"},
        {"timeOffsets", "a time namespace is not supported by cell"},
        {"intelRdt", "not supported by cell"},
        {"mountLabel", "SELinux mount labels are not supported by cell"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(refused); i++) {
        char p[PATH_BUF];
        if (!empty_value(oci_member(linux_, refused[i].key)))
            return fail(c, 0, sub(p, "linux", refused[i].key), "%s (remove it)", refused[i].why);
    }
    if ((v = oci_member(linux_, "devices")) && parse_device_nodes(c, v) < 0)
        return -1;
    if ((v = oci_member(linux_, "sysctl")) && parse_sysctls(c, v) < 0)
        return -1;
    if ((v = oci_member(linux_, "personality")) && !empty_value(v)) {
        /* the default personality is a no-op; anything else is not done */
        json_t *domain = json_is_object(v) ? oci_member(v, "domain") : NULL;
        if (!json_is_object(v) || json_object_size(v) != 1 || !json_is_string(domain) ||
            strcmp(json_string_value(domain), "LINUX") != 0)
            return fail(c, 0, "linux.personality", "not supported by cell (only {\"domain\": \"LINUX\"})");
    }

    if ((v = oci_member(linux_, "resources")) && parse_resources(c, v) < 0)
        return -1;
    if ((v = oci_member(linux_, "cgroupsPath"))) {
        if (as_string(c, v, "linux.cgroupsPath", &s) < 0)
            return -1;
        if (s[0] && (c->oci->cgroups_path = strdup(s)) == NULL)
            return cell_err_set(c->err, ENOMEM, CONFIG ": linux.cgroupsPath");
        if (s[0] && parse_cgroups_path(c, s) < 0)
            return -1;
    }
    if ((v = oci_member(linux_, "rootfsPropagation"))) {
        if (as_string(c, v, "linux.rootfsPropagation", &s) < 0)
            return -1;
        if (strcmp(s, "shared") == 0 || strcmp(s, "rshared") == 0)
            return fail(c, 0, "linux.rootfsPropagation",
                        "\"%s\" is not supported by cell (its mounts are private; use private or slave)", s);
        if (strcmp(s, "unbindable") == 0 || strcmp(s, "runbindable") == 0) {
            if (warn(c, "linux.rootfsPropagation", "\"%s\" not applied; the rootfs is private", s) < 0)
                return -1;
        } else if (s[0] && strcmp(s, "private") != 0 && strcmp(s, "rprivate") != 0 && strcmp(s, "slave") != 0 &&
                   strcmp(s, "rslave") != 0) {
            return fail(c, 0, "linux.rootfsPropagation",
                        "\"%s\" is not a propagation (private, rprivate, slave, rslave, unbindable, runbindable)", s);
        }
    }
    if (parse_paths(c, linux_, "maskedPaths", &c->spec->oci.masked_paths) < 0 ||
        parse_paths(c, linux_, "readonlyPaths", &c->spec->oci.readonly_paths) < 0)
        return -1;

    if ((v = oci_member(linux_, "seccomp"))) {
        if (want_object(c, v, "linux.seccomp") < 0)
            return -1;
        if (oci_member(annotations, CELL_OCI_PROFILE_ANNOTATION) != NULL) {
            if (warn(c, "linux.seccomp",
                     "not applied; cell applies its own profile \"%s\" (annotation " CELL_OCI_PROFILE_ANNOTATION ")",
                     cell_profile_label(c->spec->profile)) < 0)
                return -1;
        } else if (seccomp_oci_compile(v, &c->spec->custom_seccomp, warn_cb, c, c->err) < 0) {
            return -1;
        }
    }
    return 0;
}

/* ---- hooks, annotations, the rest ---------------------------------------- */

static void free_hook(struct cell_oci_hook *h)
{
    free(h->path);
    free_strv(h->args);
    free_strv(h->env);
}

static int parse_hooks(struct oci_ctx *c, json_t *top)
{
    static const char *const known[] = {"path", "args", "env", "timeout", NULL};
    json_t *hooks = oci_member(top, "hooks");
    if (hooks == NULL)
        return 0;
    if (want_object(c, hooks, "hooks") < 0 || check_keys(c, hooks, "hooks", hook_labels) < 0)
        return -1;
    for (int k = 0; k < CELL_OCI_HOOK_COUNT; k++) {
        char p[PATH_BUF];
        json_t *list = oci_member(hooks, hook_labels[k]), *e;
        size_t i;
        sub(p, "hooks", hook_labels[k]);
        if (list == NULL)
            continue;
        if (want_array(c, list, p) < 0)
            return -1;
        if (json_array_size(list) == 0)
            continue;
        if ((c->oci->hooks[k] = calloc(json_array_size(list), sizeof *c->oci->hooks[k])) == NULL)
            return cell_err_set(c->err, ENOMEM, CONFIG ": %s", p);
        json_array_foreach(list, i, e)
        {
            char q[PATH_BUF], r[PATH_BUF];
            struct cell_oci_hook *h = &c->oci->hooks[k][i];
            const char *s;
            json_t *v;
            c->oci->nhooks[k] = i + 1; /* owned from here, for the free on failure */
            idx(q, p, i);
            if (want_object(c, e, q) < 0 || check_keys(c, e, q, known) < 0)
                return -1;
            if ((v = oci_member(e, "path")) == NULL)
                return fail(c, 0, sub(r, q, "path"), "required (an absolute path on the host)");
            if (as_string(c, v, sub(r, q, "path"), &s) < 0)
                return -1;
            if (s[0] != '/')
                return fail(c, 0, r, "\"%s\" is not an absolute path", s);
            if ((h->path = strdup(s)) == NULL)
                return cell_err_set(c->err, ENOMEM, CONFIG ": %s", r);
            if ((v = oci_member(e, "args")) && as_strv(c, v, sub(r, q, "args"), &h->args) < 0)
                return -1;
            if ((v = oci_member(e, "env")) && as_strv(c, v, sub(r, q, "env"), &h->env) < 0)
                return -1;
            if ((v = oci_member(e, "timeout"))) {
                uint64_t n;
                if (as_u64(c, v, sub(r, q, "timeout"), INT_MAX, &n) < 0)
                    return -1;
                if (n == 0)
                    return fail(c, 0, r, "expected seconds above 0");
                h->timeout = (int)n;
            }
        }
    }
    return 0;
}

/* The annotations (kept), and cell's profile from them. */
static int parse_annotations(struct oci_ctx *c, json_t *top, json_t **out)
{
    json_t *a = oci_member(top, "annotations"), *v;
    const char *key;
    *out = NULL;
    if (a == NULL)
        return 0;
    if (want_object(c, a, "annotations") < 0)
        return -1;
    json_object_foreach(a, key, v)
    {
        if (!json_is_string(v))
            return cell_err_set(c->err, 0, CONFIG ": annotations.%s: expected a string", key);
    }
    if ((v = oci_member(a, CELL_OCI_PROFILE_ANNOTATION))) {
        struct cell_err perr;
        if (cell_parse_profile(json_string_value(v), &c->spec->profile, &perr) < 0)
            return fail(c, 0, "annotations." CELL_OCI_PROFILE_ANNOTATION,
                        "\"%s\" is not a profile: use high, medium or low", json_string_value(v));
    }
    c->oci->annotations = json_incref(a);
    *out = a;
    return 0;
}

static int parse_platforms(struct oci_ctx *c, json_t *top)
{
    static const char *const other_os[] = {"solaris", "windows", "zos", "freebsd"};
    for (size_t i = 0; i < ARRAY_SIZE(other_os); i++)
        if (oci_member(top, other_os[i]) && warn(c, other_os[i], "not for Linux (ignored)") < 0)
            return -1;
    if (oci_member(top, "vm"))
        return fail(c, 0, "vm", "cell runs containers, not virtual machines (remove it, or use a VM runtime)");
    return 0;
}

/* ---- entry points ------------------------------------------------------------ */

static char *absolute_bundle(const char *bundle, struct cell_err *err)
{
    char cwd[PATH_MAX];
    if (bundle == NULL || bundle[0] == '\0') {
        cell_err_set(err, 0, "bundle: no directory given");
        return NULL;
    }
    if (bundle[0] != '/' && getcwd(cwd, sizeof cwd) == NULL) {
        cell_err_set(err, errno, "bundle %s: current directory", bundle);
        return NULL;
    }
    char *abs = clean_path(bundle[0] == '/' ? NULL : cwd, bundle);
    if (abs == NULL)
        cell_err_set(err, ENOMEM, "bundle %s", bundle);
    return abs;
}

void cell_oci_free(struct cell_oci *oci)
{
    free(oci->oci_version);
    free(oci->bundle);
    free(oci->cgroups_path);
    json_decref(oci->annotations);
    for (int k = 0; k < CELL_OCI_HOOK_COUNT; k++) {
        for (size_t i = 0; i < oci->nhooks[k]; i++)
            free_hook(&oci->hooks[k][i]);
        free(oci->hooks[k]);
    }
    for (size_t i = 0; i < oci->nwarnings; i++)
        free(oci->warnings[i]);
    free(oci->warnings);
    memset(oci, 0, sizeof *oci);
}

static int load(struct oci_ctx *c, const char *text, size_t len)
{
    static const char *const known[] = {
        "ociVersion", "root",    "process", "hostname", "domainname", "mounts",  "hooks", "annotations",
        "linux",      "solaris", "windows", "vm",       "zos",        "freebsd", NULL,
    };
    json_error_t jerr;
    json_t *top = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (top == NULL && json_error_code(&jerr) == json_error_numeric_overflow)
        top = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, &jerr);
    if (top == NULL)
        return cell_err_set(c->err, 0, CONFIG ": line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
    json_t *annotations;
    int rc = -1;
    if (!json_is_object(top))
        cell_err_set(c->err, 0, CONFIG ": expected a JSON object");
    else if (parse_version(c, top) == 0 && check_keys(c, top, "", known) == 0 &&
             parse_annotations(c, top, &annotations) == 0 && parse_root(c, top) == 0 && parse_process(c, top) == 0 &&
             parse_names(c, top) == 0 && parse_mounts(c, top) == 0 && parse_linux(c, top, annotations) == 0 &&
             parse_hooks(c, top) == 0 && parse_platforms(c, top) == 0 && finish_devices(c) == 0)
        rc = 0;
    json_decref(top);
    return rc;
}

int cell_oci_load(const char *bundle, const char *config_text, size_t len, struct cell_spec *spec, struct cell_oci *oci,
                  struct cell_err *err)
{
    struct oci_ctx c = {.spec = spec, .oci = oci, .err = err};
    cell_spec_init(spec);
    memset(oci, 0, sizeof *oci);
    spec->oci.enabled = true;
    if ((oci->bundle = absolute_bundle(bundle, err)) == NULL || load(&c, config_text, len) < 0) {
        cell_spec_free(spec);
        cell_oci_free(oci);
        return -1;
    }
    return 0;
}

int cell_oci_load_resources(const char *text, size_t len, struct cell_limits *limits, struct cell_oci *oci,
                            struct cell_err *err)
{
    struct cell_spec spec;
    cell_spec_init(&spec);
    struct oci_ctx c = {.spec = &spec, .oci = oci, .err = err};
    json_error_t jerr;
    json_t *res = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (res == NULL)
        return cell_err_set(err, 0, "resources: line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
    int rc = parse_resources(&c, res);
    json_decref(res);
    *limits = spec.limits;
    cell_spec_free(&spec);
    return rc < 0 ? cell_err_prefix(err, "resources instead of ") : 0;
}

int cell_oci_load_process(const char *text, size_t len, struct cell_spec *spec, struct cell_oci *oci,
                          struct cell_err *err)
{
    struct oci_ctx c = {.spec = spec, .oci = oci, .err = err};
    json_error_t jerr;
    json_t *process = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (process == NULL)
        return cell_err_set(err, 0, "process.json: line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
    json_t *top = json_pack("{s:o}", "process", process);
    if (top == NULL)
        return cell_err_set(err, ENOMEM, "process.json");
    /* what the process replaces */
    char **old_argv = spec->argv, **old_env = spec->env;
    char *old_cwd = spec->cwd;
    spec->argv = spec->env = NULL;
    spec->cwd = NULL;
    spec->ngroups = 0;
    spec->tty = false;
    struct cell_rlimit old_rlimits[CELL_RLIMIT_COUNT];
    memcpy(old_rlimits, spec->rlimits, sizeof old_rlimits);
    memset(spec->rlimits, 0, sizeof spec->rlimits);
    int rc = parse_process(&c, top);
    json_decref(top);
    if (rc < 0) {
        free_strv(spec->argv);
        free_strv(spec->env);
        free(spec->cwd);
        spec->argv = old_argv, spec->env = old_env, spec->cwd = old_cwd;
        memcpy(spec->rlimits, old_rlimits, sizeof old_rlimits);
        return cell_err_prefix(err, "process.json instead of ");
    }
    free_strv(old_argv);
    free_strv(old_env);
    free(old_cwd);
    return 0;
}

int cell_oci_load_bundle(const char *bundle, struct cell_spec *spec, struct cell_oci *oci, struct cell_err *err)
{
    cleanup_free char *path = NULL;
    cleanup_free char *text = NULL;
    cell_spec_init(spec);
    memset(oci, 0, sizeof *oci);
    if (asprintf(&path, "%s/" CONFIG, bundle ? bundle : "") < 0)
        return cell_err_set(err, ENOMEM, "bundle %s", bundle);
    cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0)
        return cell_err_set(err, errno, "read %s", path);
    if (!S_ISREG(st.st_mode))
        return cell_err_set(err, 0, "read %s: not a regular file", path);
    if (st.st_size > (off_t)MAX_CONFIG_BYTES)
        return cell_err_set(err, 0, "read %s: larger than 4 MiB", path);
    if ((text = malloc((size_t)st.st_size + 1)) == NULL)
        return cell_err_set(err, ENOMEM, "read %s", path);
    size_t len = 0;
    for (;;) { /* to the end, even if it grew: never past the limit */
        ssize_t n = read(fd, text + len, (size_t)st.st_size + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return cell_err_set(err, errno, "read %s", path);
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > (size_t)st.st_size)
            return cell_err_set(err, 0, "read %s: it changed while being read", path);
    }
    return cell_oci_load(bundle, text, len, spec, oci, err);
}
