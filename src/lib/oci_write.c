/* oci_write.c - the other direction of the OCI front end: a struct
 * cell_spec into an OCI bundle (config.json, runtime spec 1.2.0) that a
 * standard runtime (runc, crun, runsc) runs with the isolation cell gives
 * the same spec itself (include/cell/oci.h says what maps to what).
 *
 * What cell builds that config.json has no field for is described with
 * what it has: the host's system directories of a cell without --rootfs
 * become read-only binds into a rootfs directory of the bundle (made by
 * cell_oci_write_bundle, holding only mount points and the host's
 * symlinks, such as /bin -> usr/bin), the minimal /etc binds of the host's
 * entries, cell's /proc masks maskedPaths and readonlyPaths, its seccomp
 * profile linux.seccomp, written from the same rules the sandbox's filter is
 * compiled from (sandbox/seccomp_rules.h). What a bundle cannot say at all
 * (--timeout, --layer, --preserve-fd, supervision) is an error naming the
 * option. */
#include "cell/oci.h"
#include "sandbox/sandbox.h"
#include "sandbox/seccomp_rules.h"
#include "util.h"

#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/stat.h>

#define CONFIG "config.json"
#define ROOTFS "rootfs"

/* cell's own user namespace mapping as root (sandbox/run.c) */
#define USERNS_HOST_ID 100000
#define USERNS_SIZE 65536

/* config.json cannot hold 2^64-1 as a jansson integer (a long long): an
 * unlimited rlimit is a real until cell_oci_config_text writes it out. */
#define UNLIMITED_REAL 18446744073709551615.0
#define UNLIMITED_TEXT "18446744073709551615"

/* libseccomp's name of the architecture cell's filter is built for: the
 * only one it allows (a call of another ABI is killed). */
#if defined(__x86_64__) && !defined(__ILP32__)
#define NATIVE_ARCH "SCMP_ARCH_X86_64"
#elif defined(__aarch64__)
#define NATIVE_ARCH "SCMP_ARCH_AARCH64"
#elif defined(__i386__)
#define NATIVE_ARCH "SCMP_ARCH_X86"
#elif defined(__arm__)
#define NATIVE_ARCH "SCMP_ARCH_ARM"
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define NATIVE_ARCH "SCMP_ARCH_PPC64LE"
#elif defined(__s390x__)
#define NATIVE_ARCH "SCMP_ARCH_S390X"
#elif defined(__riscv) && __riscv_xlen == 64
#define NATIVE_ARCH "SCMP_ARCH_RISCV64"
#endif

/* ---- building JSON ------------------------------------------------------- */

/* Set obj.key to value (a new reference, taken even on failure); false
 * when value is NULL (out of memory) or the set failed. */
static bool put(json_t *obj, const char *key, json_t *value)
{
    return value != NULL && json_object_set_new(obj, key, value) == 0;
}

static bool push(json_t *array, json_t *value)
{
    return value != NULL && json_array_append_new(array, value) == 0;
}

/* A NULL-terminated list of strings as an array. */
static json_t *strv(char *const *v)
{
    json_t *a = json_array();
    for (char *const *p = v; a && p && *p; p++)
        if (!push(a, json_string(*p))) {
            json_decref(a);
            return NULL;
        }
    return a;
}

/* An array of the given strings (options of a mount). */
static json_t *strings(const char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        if (!push(a, json_string(v[i]))) {
            json_decref(a);
            return NULL;
        }
    return a;
}

/* ---- what a bundle cannot say -------------------------------------------- */

static int check_expressible(const struct cell_spec *spec, struct cell_err *err)
{
    const char *why = NULL;
    if (spec->oci.enabled)
        why = "the spec comes from an OCI bundle: use its own config.json";
    else if (spec->timeout_sec)
        why = "--timeout: config.json has no time limit (cell run --backend oci applies it itself)";
    else if (spec->layer)
        why = "--layer: a bundle's root is one directory, not an overlay (use --rootfs)";
    else if (spec->npreserved_fds)
        why = "--preserve-fd: config.json cannot pass file descriptors (a runtime's --preserve-fds does)";
    else if (spec->supervise.detach)
        why = "-d: supervision is celld's; a bundle's container runs as its runtime starts it";
    return why ? cell_err_set(err, 0, "bundle: %s", why) : 0;
}

/* ---- process ----------------------------------------------------------------- */

/* "CAP_NET_RAW", ... of the kept set. */
static json_t *cap_names(uint64_t set, struct cell_err *err)
{
    json_t *a = json_array();
    if (a == NULL) {
        cell_err_set(err, ENOMEM, "bundle: process.capabilities");
        return NULL;
    }
    for (int cap = 0; cap < 64; cap++) {
        if (!(set & (1ULL << cap)))
            continue;
        char *name = cap_to_name((cap_value_t)cap);
        if (name == NULL || !isalpha((unsigned char)name[0])) {
            cap_free(name);
            json_decref(a);
            cell_err_set(err, 0, "bundle: capability %d has no name this libcap knows", cap);
            return NULL;
        }
        for (char *p = name; *p; p++)
            *p = (char)toupper((unsigned char)*p);
        bool ok = push(a, json_string(name));
        cap_free(name);
        if (!ok) {
            json_decref(a);
            cell_err_set(err, ENOMEM, "bundle: process.capabilities");
            return NULL;
        }
    }
    return a;
}

/* cell keeps one set: bounding, effective, permitted and inheritable hold
 * it, and ambient too when the uid is not 0 (privilege.c). */
static json_t *capabilities(const struct cell_spec *spec, struct cell_err *err)
{
    static const char *const sets[] = {"bounding", "effective", "inheritable", "permitted", "ambient"};
    json_t *caps = json_object();
    if (caps == NULL) {
        cell_err_set(err, ENOMEM, "bundle: process.capabilities");
        return NULL;
    }
    for (size_t s = 0; s < ARRAY_SIZE(sets); s++) {
        bool ambient = strcmp(sets[s], "ambient") == 0;
        json_t *names = cap_names(ambient && spec->uid == 0 ? 0 : spec->cap_add, err);
        if (names == NULL || !put(caps, sets[s], names)) {
            json_decref(caps);
            if (names)
                cell_err_set(err, ENOMEM, "bundle: process.capabilities");
            return NULL;
        }
    }
    return caps;
}

static json_t *limit_value(uint64_t v)
{
    return v == UINT64_MAX ? json_real(UNLIMITED_REAL) : json_integer((json_int_t)v);
}

static json_t *rlimits(const struct cell_spec *spec)
{
    json_t *a = json_array();
    for (int r = 0; a && r < CELL_RLIMIT_COUNT; r++) {
        const struct cell_rlimit *rl = &spec->rlimits[r];
        if (!rl->set)
            continue;
        char type[32];
        int n = snprintf(type, sizeof type, "RLIMIT_%s", cell_rlimit_label((enum cell_rlimit_name)r));
        for (int i = 7; i < n; i++)
            type[i] = (char)toupper((unsigned char)type[i]);
        if (!push(a, json_pack("{s:s, s:o, s:o}", "type", type, "soft", limit_value(rl->soft), "hard",
                               limit_value(rl->hard)))) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static json_t *user(const struct cell_spec *spec)
{
    json_t *groups = json_array();
    for (size_t i = 0; groups && i < spec->ngroups; i++)
        if (!push(groups, json_integer(spec->groups[i]))) {
            json_decref(groups);
            return NULL;
        }
    json_t *u = json_pack("{s:I, s:I, s:o*}", "uid", (json_int_t)spec->uid, "gid", (json_int_t)spec->gid,
                          "additionalGids", groups);
    if (u && json_object_size(u) != 3) {
        json_decref(u);
        return NULL;
    }
    return u;
}

static json_t *process(const struct cell_spec *spec, struct cell_err *err)
{
    json_t *caps = capabilities(spec, err);
    if (caps == NULL)
        return NULL;
    json_t *p = json_pack("{s:b, s:o*, s:o*, s:o*, s:s, s:o, s:o*, s:b}", "terminal", spec->tty, "user", user(spec),
                          "args", strv(spec->argv), "env", strv(spec->env), "cwd", spec->cwd ? spec->cwd : "/",
                          "capabilities", caps, "rlimits", rlimits(spec), "noNewPrivileges", 1);
    if (p == NULL || json_object_size(p) != 8) {
        json_decref(p);
        cell_err_set(err, ENOMEM, "bundle: process");
        return NULL;
    }
    return p;
}

/* ---- mounts ------------------------------------------------------------------- */

static bool add_mount(json_t *mounts, const char *destination, const char *type, const char *source,
                      const char *const *options, size_t n)
{
    return push(mounts, json_pack("{s:s, s:s, s:s, s:o*}", "destination", destination, "type", type, "source", source,
                                  "options", strings(options, n)));
}

/* A bind as cell makes one: recursive, nosuid and nodev on the whole tree
 * (a directory's: the "r" options, which crun 1.8 refuses on a file, which
 * has no submounts anyway), read-only unless writable. */
static bool add_bind(json_t *mounts, const char *source, const char *destination, bool writable)
{
    static const char *const ro[] = {"rbind", "ro", "nosuid", "nodev", "rro", "rnosuid", "rnodev"};
    static const char *const rw[] = {"rbind", "rw", "nosuid", "nodev", "rnosuid", "rnodev"};
    struct stat st;
    bool dir = stat(source, &st) == 0 && S_ISDIR(st.st_mode);
    return writable ? add_mount(mounts, destination, "bind", source, rw, dir ? ARRAY_SIZE(rw) : 4)
                    : add_mount(mounts, destination, "bind", source, ro, dir ? ARRAY_SIZE(ro) : 4);
}

/* Without --rootfs: the host's system directories (a symlink among them is
 * one in the bundle's rootfs, made by cell_oci_write_bundle) and the
 * minimal /etc, read-only. An entry the host lacks is left out, as cell
 * skips it. */
static bool add_system_root(json_t *mounts)
{
    for (size_t i = 0; i < mounts_system_dirs.n; i++) {
        const char *dir = mounts_system_dirs.items[i];
        struct stat st;
        if (lstat(dir, &st) < 0 || S_ISLNK(st.st_mode))
            continue;
        if (!add_bind(mounts, dir, dir, false))
            return false;
    }
    for (size_t i = 0; i < mounts_etc_entries.n; i++) {
        char path[PATH_MAX];
        struct stat st;
        snprintf(path, sizeof path, "/etc/%s", mounts_etc_entries.items[i]);
        if (stat(path, &st) < 0) /* a link (resolv.conf) counts as its target */
            continue;
        if (!add_bind(mounts, path, path, false))
            return false;
    }
    return true;
}

static json_t *mounts(const struct cell_spec *spec, struct cell_err *err)
{
    static const char *const proc[] = {"nosuid", "noexec", "nodev"};
    /* /dev read-only as in cell (runc remounts it so once its devices are made) */
    static const char *const dev[] = {"nosuid", "noexec", "mode=755", "size=64k", "ro"};
    static const char *const pts[] = {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"};
    static const char *const shm[] = {"nosuid", "nodev", "mode=1777"};
    static const char *const mqueue[] = {"nosuid", "noexec", "nodev"};
    static const char *const tmp[] = {"nosuid", "nodev", "mode=1777"};
    json_t *m = json_array();
    bool ok = m != NULL && (spec->rootfs || add_system_root(m)) &&
              add_mount(m, "/proc", "proc", "proc", proc, ARRAY_SIZE(proc)) &&
              add_mount(m, "/dev", "tmpfs", "tmpfs", dev, ARRAY_SIZE(dev)) &&
              add_mount(m, "/dev/pts", "devpts", "devpts", pts, ARRAY_SIZE(pts)) &&
              add_mount(m, "/dev/shm", "tmpfs", "shm", shm, ARRAY_SIZE(shm)) &&
              add_mount(m, "/dev/mqueue", "mqueue", "mqueue", mqueue, ARRAY_SIZE(mqueue)) &&
              add_mount(m, "/tmp", "tmpfs", "tmpfs", tmp, ARRAY_SIZE(tmp));
    for (size_t i = 0; ok && i < spec->nmounts; i++) {
        const struct cell_mount *cm = &spec->mounts[i];
        if (cm->kind == CELL_MOUNT_TMPFS)
            ok = add_mount(m, cm->destination, "tmpfs", "tmpfs", tmp, ARRAY_SIZE(tmp));
        else if (cm->kind == CELL_MOUNT_BIND)
            ok = add_bind(m, cm->source, cm->destination, cm->writable);
        else {
            json_decref(m);
            cell_err_set(err, 0, "bundle: mount on %s: only binds and tmpfs mounts come from cell's options",
                         cm->destination);
            return NULL;
        }
    }
    if (!ok) {
        json_decref(m);
        cell_err_set(err, ENOMEM, "bundle: mounts");
        return NULL;
    }
    return m;
}

/* ---- linux ---------------------------------------------------------------------- */

static json_t *namespaces(const struct cell_spec *spec, bool userns)
{
    static const char *const always[] = {"pid", "mount", "ipc", "uts", "cgroup"};
    json_t *a = json_array();
    bool ok = a != NULL;
    for (size_t i = 0; ok && i < ARRAY_SIZE(always); i++)
        ok = push(a, json_pack("{s:s}", "type", always[i]));
    if (ok && spec->net_mode == CELL_NET_NONE && spec->ns.join_net) /* a job's, with its link out */
        ok = push(a, json_pack("{s:s, s:s}", "type", "network", "path", spec->ns.join_net));
    else if (ok && spec->net_mode == CELL_NET_NONE)
        ok = push(a, json_pack("{s:s}", "type", "network"));
    if (ok && userns)
        ok = push(a, json_pack("{s:s}", "type", "user"));
    if (!ok) {
        json_decref(a);
        return NULL;
    }
    return a;
}

/* cell's own mapping: the caller alone as 0 (rootless), or 100000-165535 */
static json_t *mapping(unsigned own_id)
{
    bool rootless = geteuid() != 0;
    return json_pack("[{s:I, s:I, s:I}]", "containerID", (json_int_t)0, "hostID",
                     (json_int_t)(rootless ? own_id : USERNS_HOST_ID), "size",
                     (json_int_t)(rootless ? 1 : USERNS_SIZE));
}

/* Whether a memory limit can also forbid swap as cell does: always on
 * cgroup v2 (runc skips memory.swap.max where swap is off), on v1 only
 * where memory.memsw.* exists. */
static bool host_limits_swap(void)
{
    return access("/sys/fs/cgroup/memory", F_OK) < 0 ||
           access("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", F_OK) == 0;
}

static json_t *resources(const struct cell_spec *spec)
{
    /* no device but those of cell's /dev (the runtime adds its defaults) */
    json_t *r = json_pack("{s:[{s:b, s:s}]}", "devices", "allow", 0, "access", "rwm");
    bool ok = r != NULL;
    const struct cell_limits *l = &spec->limits;
    if (ok && l->memory_bytes) {
        json_t *mem = json_pack("{s:I}", "limit", (json_int_t)l->memory_bytes);
        if (mem && host_limits_swap()) /* memory+swap: no swap beyond the limit */
            ok = put(mem, "swap", json_integer((json_int_t)l->memory_bytes));
        ok = ok && put(r, "memory", mem);
    }
    if (ok && l->pids)
        ok = put(r, "pids", json_pack("{s:I}", "limit", (json_int_t)l->pids));
    if (ok && l->cpu_millis) /* cgroup.c: millis*100 per 100 ms */
        ok = put(r, "cpu",
                 json_pack("{s:I, s:I}", "quota", (json_int_t)(l->cpu_millis * 100), "period", (json_int_t)100000));
    if (!ok) {
        json_decref(r);
        return NULL;
    }
    return r;
}

static json_t *paths(const struct mounts_list *list)
{
    return strings(list->items, list->n);
}

/* ---- linux.seccomp ------------------------------------------------------------ */

struct seccomp_out {
    json_t *syscalls;
    json_t *last; /* the last entry, when it has no args: the next rule of
                   * the same action joins its names */
    int last_errnum;
};

static json_t *rule_args(const struct seccomp_rule *rule)
{
    json_t *a = json_array();
    for (unsigned i = 0; a && i < rule->nargs; i++) {
        const struct seccomp_rule_arg *c = &rule->args[i];
        json_t *cmp = c->masked
                          ? json_pack("{s:I, s:I, s:I, s:s}", "index", (json_int_t)c->index, "value",
                                      (json_int_t)c->mask, "valueTwo", (json_int_t)c->value, "op", "SCMP_CMP_MASKED_EQ")
                          : json_pack("{s:I, s:I, s:s}", "index", (json_int_t)c->index, "value", (json_int_t)c->value,
                                      "op", "SCMP_CMP_EQ");
        if (!push(a, cmp)) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static int add_syscall_rule(const struct seccomp_rule *rule, void *arg, struct cell_err *err)
{
    struct seccomp_out *out = arg;
    if (rule->nargs == 0 && out->last && out->last_errnum == rule->errnum) {
        if (!push(json_object_get(out->last, "names"), json_string(rule->name)))
            return cell_err_set(err, ENOMEM, "bundle: linux.seccomp");
        return 0;
    }
    json_t *entry =
        json_pack("{s:[s], s:s}", "names", rule->name, "action", rule->errnum ? "SCMP_ACT_ERRNO" : "SCMP_ACT_ALLOW");
    bool ok = entry != NULL;
    if (ok && rule->errnum)
        ok = put(entry, "errnoRet", json_integer(rule->errnum));
    if (ok && rule->nargs)
        ok = put(entry, "args", rule_args(rule));
    if (!ok || json_array_append(out->syscalls, entry) < 0) {
        json_decref(entry);
        return cell_err_set(err, ENOMEM, "bundle: linux.seccomp");
    }
    json_decref(entry); /* the array holds it */
    out->last = rule->nargs == 0 ? entry : NULL;
    out->last_errnum = rule->errnum;
    return 0;
}

/* The profile's rules, as the sandbox compiles them. A runtime resolves
 * the names with its own libseccomp and skips calls it does not know. */
static json_t *seccomp(enum cell_profile profile, struct cell_err *err)
{
    int default_errno = seccomp_profile_default_errno(profile);
    struct seccomp_out out = {.syscalls = json_array()};
    json_t *s = json_pack("{s:s}", "defaultAction", default_errno ? "SCMP_ACT_ERRNO" : "SCMP_ACT_ALLOW");
    bool ok = s != NULL && out.syscalls != NULL;
    if (ok && default_errno)
        ok = put(s, "defaultErrnoRet", json_integer(default_errno));
#ifdef NATIVE_ARCH
    if (ok)
        ok = put(s, "architectures", json_pack("[s]", NATIVE_ARCH));
#endif
    if (!ok) {
        json_decref(s);
        json_decref(out.syscalls);
        cell_err_set(err, ENOMEM, "bundle: linux.seccomp");
        return NULL;
    }
    if (seccomp_profile_walk(profile, add_syscall_rule, &out, err) < 0) {
        json_decref(s);
        json_decref(out.syscalls);
        return NULL;
    }
    if (!put(s, "syscalls", out.syscalls)) {
        json_decref(s);
        cell_err_set(err, ENOMEM, "bundle: linux.seccomp");
        return NULL;
    }
    return s;
}

static json_t *linux_section(const struct cell_spec *spec, struct cell_err *err)
{
    bool userns = spec->ns.userns || geteuid() != 0;
    json_t *sc = seccomp(spec->profile, err);
    if (sc == NULL)
        return NULL;
    json_t *l = json_pack("{s:o*, s:o*, s:o*, s:o*, s:o}", "namespaces", namespaces(spec, userns), "resources",
                          resources(spec), "maskedPaths", paths(&mounts_proc_masked), "readonlyPaths",
                          paths(&mounts_proc_readonly), "seccomp", sc);
    bool ok = l != NULL && json_object_size(l) == 5;
    if (ok && userns)
        ok = put(l, "uidMappings", mapping((unsigned)geteuid())) && put(l, "gidMappings", mapping((unsigned)getegid()));
    if (!ok) {
        json_decref(l);
        cell_err_set(err, ENOMEM, "bundle: linux");
        return NULL;
    }
    return l;
}

/* ---- the config ------------------------------------------------------------------- */

int cell_oci_write_config(const struct cell_spec *spec, json_t **out, struct cell_err *err)
{
    *out = NULL;
    if (check_expressible(spec, err) < 0)
        return -1;
    json_t *proc = process(spec, err);
    if (proc == NULL)
        return -1;
    json_t *mnts = mounts(spec, err);
    if (mnts == NULL) {
        json_decref(proc);
        return -1;
    }
    json_t *lin = linux_section(spec, err);
    if (lin == NULL) {
        json_decref(proc);
        json_decref(mnts);
        return -1;
    }
    json_t *c = json_pack("{s:s, s:o, s:{s:s, s:b}, s:s, s:o, s:o, s:{s:s}}", "ociVersion", CELL_OCI_WRITE_VERSION,
                          "process", proc, "root", "path", spec->rootfs ? spec->rootfs : ROOTFS, "readonly", 1,
                          "hostname", spec->hostname ? spec->hostname : "cell", "mounts", mnts, "linux", lin,
                          "annotations", CELL_OCI_PROFILE_ANNOTATION, cell_profile_label(spec->profile));
    if (c == NULL)
        return cell_err_set(err, ENOMEM, "bundle: config.json");
    *out = c;
    return 0;
}

/* A config's text may hold secrets (its environment): wiped, then freed. */
static void wipe_text(char **text)
{
    if (*text) {
        explicit_bzero(*text, strlen(*text));
        free(*text);
    }
}

/* Copy the dumped config into out (NULL: only count), a real of 2^64 or
 * more (an unlimited rlimit) outside strings written as the integer
 * 2^64-1; the length. */
static size_t config_text_copy(const char *dumped, char *out)
{
    size_t n = 0;
    bool in_string = false;
    for (const char *p = dumped; *p;) {
        size_t take = 1;
        const char *from = p;
        if (in_string) {
            if (*p == '\\' && p[1])
                take = 2;
            else if (*p == '"')
                in_string = false;
        } else if (*p == '"') {
            in_string = true;
        } else if ((*p >= '0' && *p <= '9') || *p == '-') {
            take = strspn(p, "-+0123456789.eE");
            bool real = strcspn(p, ".eE") < take;
            if (real && strtod(p, NULL) >= UNLIMITED_REAL) {
                if (out)
                    memcpy(out + n, UNLIMITED_TEXT, strlen(UNLIMITED_TEXT));
                n += strlen(UNLIMITED_TEXT);
                p += take;
                continue;
            }
        }
        if (out)
            memcpy(out + n, from, take);
        n += take;
        p += take;
    }
    if (out)
        out[n] = '\0';
    return n;
}

char *cell_oci_config_text(json_t *config, struct cell_err *err)
{
    /* no stream that grows by realloc: the environment may hold secrets,
     * and every copy made is wiped (the caller wipes the result) */
    char *dumped = json_dumps(config, JSON_INDENT(2));
    char *text = dumped ? malloc(config_text_copy(dumped, NULL) + 1) : NULL;
    if (text)
        config_text_copy(dumped, text);
    if (dumped) {
        explicit_bzero(dumped, strlen(dumped));
        free(dumped);
    }
    if (text == NULL)
        cell_err_set(err, ENOMEM, "bundle: write config.json");
    return text;
}

/* ---- the bundle directory ----------------------------------------------------------- */

/* Make the mount point `path` (absolute, inside the rootfs at rootfd): its
 * directories, and the last component a directory or an empty file. A
 * symlink on the way (say /bin -> usr/bin) is left to the runtime, which
 * resolves it inside the rootfs. */
static int make_mount_point(int rootfd, const char *path, bool file, struct cell_err *err)
{
    char walk[PATH_MAX];
    if (snprintf(walk, sizeof walk, "%s", path + strspn(path, "/")) >= (int)sizeof walk)
        return cell_err_set(err, ENAMETOOLONG, "bundle: mount point %s", path);
    if (walk[0] == '\0')
        return 0;
    cleanup_close int dir = dup(rootfd);
    if (dir < 0)
        return cell_err_set(err, errno, "bundle: mount point %s", path);
    for (char *name = walk;;) {
        char *slash = strchr(name, '/');
        bool last = slash == NULL;
        if (!last)
            *slash = '\0';
        if (last && file) {
            int fd = openat(dir, name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
            if (fd < 0 && errno != EISDIR && errno != ELOOP)
                return cell_err_set(err, errno, "bundle: create mount point %s", path);
            if (fd >= 0)
                close(fd);
            return 0;
        }
        if (mkdirat(dir, name, 0755) < 0 && errno != EEXIST)
            return cell_err_set(err, errno, "bundle: create mount point %s", path);
        int next = openat(dir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0)
            return errno == ELOOP || errno == ENOTDIR ? 0 : cell_err_set(err, errno, "bundle: mount point %s", path);
        close(dir);
        dir = next;
        if (last)
            return 0;
        name = slash + 1;
    }
}

/* The rootfs of a spec without --rootfs: the host's symlinked system
 * directories as symlinks, and a mount point for every mount of the config
 * (a bind's of the kind of its source), so the runtime writes nothing there. */
static int make_rootfs(int rootfd, json_t *config, struct cell_err *err)
{
    for (size_t i = 0; i < mounts_system_dirs.n; i++) {
        const char *dir = mounts_system_dirs.items[i];
        char target[PATH_MAX];
        ssize_t n = readlink(dir, target, sizeof target - 1);
        if (n < 0)
            continue; /* not a symlink, or missing */
        target[n] = '\0';
        if (symlinkat(target, rootfd, dir + 1) < 0)
            return cell_err_set(err, errno, "bundle: create link %s/%s", ROOTFS, dir + 1);
    }
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(config, "mounts"), i, m)
    {
        const char *dst = json_string_value(json_object_get(m, "destination"));
        const char *type = json_string_value(json_object_get(m, "type"));
        const char *src = json_string_value(json_object_get(m, "source"));
        struct stat st;
        bool file = type && src && strcmp(type, "bind") == 0 && stat(src, &st) == 0 && !S_ISDIR(st.st_mode);
        if (dst && make_mount_point(rootfd, dst, file, err) < 0)
            return -1;
    }
    return 0;
}

/* Remove everything under the directory `fd` (its device `dev`): never
 * through a symlink, never into another mount. */
static int remove_contents(int fd, dev_t dev, const char *path, struct cell_err *err)
{
    int copy = dup(fd);
    DIR *d = copy < 0 ? NULL : fdopendir(copy);
    if (d == NULL) {
        if (copy >= 0)
            close(copy);
        return cell_err_set(err, errno, "remove %s", path);
    }
    int rc = 0;
    for (struct dirent *e; rc == 0 && (errno = 0, e = readdir(d)) != NULL;) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        struct stat st;
        if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            rc = cell_err_set(err, errno, "remove %s/%s", path, e->d_name);
            break;
        }
        if (S_ISDIR(st.st_mode)) {
            char sub[PATH_MAX];
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            if (st.st_dev != dev) {
                rc = cell_err_set(err, EBUSY, "remove %s: something is mounted there", sub);
                break;
            }
            cleanup_close int child = openat(fd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (child < 0 || remove_contents(child, dev, sub, err) < 0) {
                rc = child < 0 ? cell_err_set(err, errno, "remove %s", sub) : -1;
                break;
            }
        }
        if (unlinkat(fd, e->d_name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0 && errno != ENOENT)
            rc = cell_err_set(err, errno, "remove %s/%s", path, e->d_name);
    }
    if (rc == 0 && errno != 0)
        rc = cell_err_set(err, errno, "read directory %s", path);
    closedir(d);
    return rc;
}

int cell_oci_remove_tree(const char *dir, struct cell_err *err)
{
    cleanup_close int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0)
        return errno == ENOENT ? 0 : cell_err_set(err, errno, "remove %s", dir);
    if (fstat(fd, &st) < 0)
        return cell_err_set(err, errno, "remove %s", dir);
    if (remove_contents(fd, st.st_dev, dir, err) < 0)
        return -1;
    if (rmdir(dir) < 0 && errno != ENOENT)
        return cell_err_set(err, errno, "remove %s", dir);
    return 0;
}

/* The bundle's files in the open directory dirfd; *made_rootfs says
 * whether a rootfs was made (for the caller to remove on failure). */
static int write_bundle_files(const struct cell_spec *spec, json_t *config, int dirfd, const char *dir,
                              bool *made_rootfs, struct cell_err *err)
{
    if (faccessat(dirfd, CONFIG, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
        return cell_err_set(err, 0, "bundle %s: " CONFIG " is there already (never overwritten)", dir);
    if (errno != ENOENT)
        return cell_err_set(err, errno, "bundle %s: " CONFIG, dir);
    __attribute__((cleanup(wipe_text))) char *text = cell_oci_config_text(config, err);
    if (text == NULL)
        return cell_err_prefix(err, "%s: ", dir);
    if (spec->rootfs == NULL) {
        if (mkdirat(dirfd, ROOTFS, 0755) < 0)
            return errno == EEXIST ? cell_err_set(err, 0,
                                                  "bundle %s: " ROOTFS " is there already (cell makes the rootfs of a "
                                                  "cell without --rootfs itself)",
                                                  dir)
                                   : cell_err_set(err, errno, "bundle %s: create " ROOTFS, dir);
        *made_rootfs = true;
        cleanup_close int rootfd = openat(dirfd, ROOTFS, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (rootfd < 0)
            return cell_err_set(err, errno, "bundle %s: open " ROOTFS, dir);
        if (make_rootfs(rootfd, config, err) < 0)
            return cell_err_prefix(err, "%s: ", dir);
    }
    cleanup_close int fd = openat(dirfd, CONFIG, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return cell_err_set(err, errno, "bundle %s: create " CONFIG, dir);
    if (write_all(fd, text, strlen(text)) < 0 || write_all(fd, "\n", 1) < 0) {
        cell_err_set(err, errno, "bundle %s: write " CONFIG, dir);
        unlinkat(dirfd, CONFIG, 0);
        return -1;
    }
    return 0;
}

int cell_oci_write_bundle(const struct cell_spec *spec, json_t *config, const char *dir, struct cell_err *err)
{
    bool made_dir = false, made_rootfs = false;
    if (mkdir(dir, 0755) == 0)
        made_dir = true;
    else if (errno != EEXIST)
        return cell_err_set(err, errno, "bundle %s: create the directory", dir);
    int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = dirfd < 0 ? cell_err_set(err, errno, "bundle %s: open the directory", dir)
                       : write_bundle_files(spec, config, dirfd, dir, &made_rootfs, err);
    if (dirfd >= 0)
        close(dirfd);
    if (rc < 0) {
        struct cell_err ignored;
        char rootfs[PATH_MAX];
        snprintf(rootfs, sizeof rootfs, "%s/" ROOTFS, dir);
        if (made_rootfs)
            cell_oci_remove_tree(rootfs, &ignored);
        if (made_dir)
            rmdir(dir);
    }
    return rc;
}
