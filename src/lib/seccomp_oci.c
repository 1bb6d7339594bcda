/* seccomp_oci.c - an OCI config's own linux.seccomp (runtime spec,
 * config-linux.md "Seccomp") compiled with libseccomp into a BPF program,
 * at create time, for sandbox_workload_exec to load instead of cell's
 * profile (same place, right before exec). cell's own profiles are compiled
 * at build time (sandbox/seccomp_gen.c); this is the only run-time use of
 * libseccomp, and only the OCI front end pulls it in.
 *
 *   defaultAction     SCMP_ACT_KILL, _KILL_THREAD, _KILL_PROCESS, _TRAP,
 *                     _ERRNO, _TRACE, _ALLOW, _LOG (required); _NOTIFY and
 *                     listenerPath are refused (no seccomp agent)
 *   defaultErrnoRet   the errno of a default ERRNO or TRACE (else EPERM)
 *   architectures     SCMP_ARCH_X86_64, X86, X32, ARM, AARCH64, MIPS*,
 *                     PPC*, S390*, PARISC*, RISCV64 (the native one is
 *                     always in the filter)
 *   flags             SECCOMP_FILTER_FLAG_LOG, _SPEC_ALLOW passed to
 *                     seccomp(2); _TSYNC accepted (the workload is one
 *                     thread)
 *   syscalls[]        names, action, errnoRet, args[] {index 0-5, value,
 *                     valueTwo, op SCMP_CMP_NE/LT/LE/EQ/GE/GT/MASKED_EQ}.
 *                     A name libseccomp does not know on this architecture
 *                     is skipped with a warning (as runc does); a rule whose
 *                     action is the default is skipped. Several comparisons
 *                     of one argument make one rule each (as runc does).
 *
 * What is not one of these is an error naming the field. */
#include "seccomp_oci.h"
#include "util.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define PATH_BUF 256
#define BASE "linux.seccomp"

struct ctx {
    struct cell_err *err;
    oci_warn_fn warn;
    void *warn_ctx;
};

__attribute__((format(printf, 3, 4))) static int fail(struct ctx *c, const char *path, const char *fmt, ...)
{
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return cell_err_set(c->err, 0, "config.json: %s: %s", path, what);
}

__attribute__((format(printf, 3, 4))) static int warn(struct ctx *c, const char *path, const char *fmt, ...)
{
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return c->warn(c->warn_ctx, path, what);
}

/* Unknown members are warnings (oci_json.c). */
static int check_keys(struct ctx *c, json_t *obj, const char *path, const char *const *known)
{
    return oci_check_keys(obj, path, known, c->warn, c->warn_ctx);
}

/* An integer from 0 to 2^64-1 (an integral real too: jansson decodes one
 * above INT64_MAX as a real when asked to). */
static int as_u64(struct ctx *c, json_t *v, const char *path, uint64_t max, uint64_t *out)
{
    if (json_is_integer(v) && json_integer_value(v) >= 0 && (uint64_t)json_integer_value(v) <= max) {
        *out = (uint64_t)json_integer_value(v);
        return 0;
    }
    if (json_is_real(v) && json_real_value(v) >= 0) {
        double r = json_real_value(v);
        uint64_t n = r >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)r;
        if ((n == UINT64_MAX || (double)n == r) && n <= max) {
            *out = n;
            return 0;
        }
    }
    return fail(c, path, "expected an integer from 0 to %llu", (unsigned long long)max);
}

static const char *as_string(struct ctx *c, json_t *v, const char *path)
{
    if (!json_is_string(v)) {
        fail(c, path, "expected a string");
        return NULL;
    }
    return json_string_value(v);
}

/* An action name (and errno, for ERRNO and TRACE) into a libseccomp action.
 * `errno_v` is the errnoRet member, or NULL. */
static int parse_action(struct ctx *c, json_t *v, const char *path, json_t *errno_v, const char *errno_path,
                        uint32_t *out)
{
    const char *s = as_string(c, v, path);
    if (s == NULL)
        return -1;
    uint64_t e = EPERM;
    if (errno_v && as_u64(c, errno_v, errno_path, 4095, &e) < 0)
        return -1;
    if (strcmp(s, "SCMP_ACT_KILL") == 0 || strcmp(s, "SCMP_ACT_KILL_THREAD") == 0)
        *out = SCMP_ACT_KILL_THREAD;
    else if (strcmp(s, "SCMP_ACT_KILL_PROCESS") == 0)
        *out = SCMP_ACT_KILL_PROCESS;
    else if (strcmp(s, "SCMP_ACT_TRAP") == 0)
        *out = SCMP_ACT_TRAP;
    else if (strcmp(s, "SCMP_ACT_ERRNO") == 0)
        *out = SCMP_ACT_ERRNO((uint16_t)e);
    else if (strcmp(s, "SCMP_ACT_TRACE") == 0)
        *out = SCMP_ACT_TRACE((uint16_t)e);
    else if (strcmp(s, "SCMP_ACT_ALLOW") == 0)
        *out = SCMP_ACT_ALLOW;
    else if (strcmp(s, "SCMP_ACT_LOG") == 0)
        *out = SCMP_ACT_LOG;
    else if (strcmp(s, "SCMP_ACT_NOTIFY") == 0)
        return fail(c, path, "SCMP_ACT_NOTIFY is not supported by cell (no seccomp agent)");
    else
        return fail(c, path,
                    "\"%s\" is not an action (SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD, "
                    "SCMP_ACT_TRAP, SCMP_ACT_ERRNO, SCMP_ACT_TRACE, SCMP_ACT_ALLOW, SCMP_ACT_LOG)",
                    s);
    return 0;
}

static int parse_arch(struct ctx *c, json_t *v, const char *path, uint32_t *out)
{
    static const struct {
        const char *name;
        uint32_t arch;
    } arches[] = {
        {"SCMP_ARCH_X86", SCMP_ARCH_X86},
        {"SCMP_ARCH_X86_64", SCMP_ARCH_X86_64},
        {"SCMP_ARCH_X32", SCMP_ARCH_X32},
        {"SCMP_ARCH_ARM", SCMP_ARCH_ARM},
        {"SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64},
        {"SCMP_ARCH_MIPS", SCMP_ARCH_MIPS},
        {"SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64},
        {"SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32},
        {"SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL},
        {"SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64},
        {"SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32},
        {"SCMP_ARCH_PPC", SCMP_ARCH_PPC},
        {"SCMP_ARCH_PPC64", SCMP_ARCH_PPC64},
        {"SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE},
        {"SCMP_ARCH_S390", SCMP_ARCH_S390},
        {"SCMP_ARCH_S390X", SCMP_ARCH_S390X},
        {"SCMP_ARCH_PARISC", SCMP_ARCH_PARISC},
        {"SCMP_ARCH_PARISC64", SCMP_ARCH_PARISC64},
        {"SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64},
    };
    const char *s = as_string(c, v, path);
    if (s == NULL)
        return -1;
    for (size_t i = 0; i < ARRAY_SIZE(arches); i++)
        if (strcmp(s, arches[i].name) == 0) {
            *out = arches[i].arch;
            return 0;
        }
    return fail(c, path, "\"%s\" is not an architecture cell knows (SCMP_ARCH_X86_64, SCMP_ARCH_AARCH64, ...)", s);
}

static int parse_arg(struct ctx *c, json_t *v, const char *path, struct scmp_arg_cmp *out)
{
    static const char *const known[] = {"index", "value", "valueTwo", "op", NULL};
    static const struct {
        const char *name;
        enum scmp_compare op;
    } ops[] = {
        {"SCMP_CMP_NE", SCMP_CMP_NE},
        {"SCMP_CMP_LT", SCMP_CMP_LT},
        {"SCMP_CMP_LE", SCMP_CMP_LE},
        {"SCMP_CMP_EQ", SCMP_CMP_EQ},
        {"SCMP_CMP_GE", SCMP_CMP_GE},
        {"SCMP_CMP_GT", SCMP_CMP_GT},
        {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
    };
    char p[PATH_BUF];
    if (!json_is_object(v))
        return fail(c, path, "expected an object");
    if (check_keys(c, v, path, known) < 0)
        return -1;
    uint64_t index = 0, value = 0, two = 0;
    json_t *m;
    snprintf(p, sizeof p, "%s.index", path);
    if ((m = oci_member(v, "index")) == NULL)
        return fail(c, p, "required");
    if (as_u64(c, m, p, 5, &index) < 0)
        return -1;
    snprintf(p, sizeof p, "%s.value", path);
    if ((m = oci_member(v, "value")) && as_u64(c, m, p, UINT64_MAX, &value) < 0)
        return -1;
    snprintf(p, sizeof p, "%s.valueTwo", path);
    if ((m = oci_member(v, "valueTwo")) && as_u64(c, m, p, UINT64_MAX, &two) < 0)
        return -1;
    snprintf(p, sizeof p, "%s.op", path);
    if ((m = oci_member(v, "op")) == NULL)
        return fail(c, p, "required");
    const char *s = as_string(c, m, p);
    if (s == NULL)
        return -1;
    for (size_t i = 0; i < ARRAY_SIZE(ops); i++)
        if (strcmp(s, ops[i].name) == 0) {
            *out = (struct scmp_arg_cmp){.arg = (unsigned)index, .op = ops[i].op, .datum_a = value, .datum_b = two};
            return 0;
        }
    return fail(c, p,
                "\"%s\" is not a comparison (SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_EQ, SCMP_CMP_GE, "
                "SCMP_CMP_GT, SCMP_CMP_MASKED_EQ)",
                s);
}

static int parse_syscall(struct ctx *c, scmp_filter_ctx f, uint32_t def, json_t *v, const char *path)
{
    static const char *const known[] = {"names", "action", "errnoRet", "args", "comment", NULL};
    char p[PATH_BUF], p2[PATH_BUF];
    if (!json_is_object(v))
        return fail(c, path, "expected an object");
    if (check_keys(c, v, path, known) < 0)
        return -1;
    json_t *names = oci_member(v, "names"), *action = oci_member(v, "action"), *args = oci_member(v, "args");
    uint32_t act = 0;
    snprintf(p, sizeof p, "%s.action", path);
    snprintf(p2, sizeof p2, "%s.errnoRet", path);
    if (action == NULL)
        return fail(c, p, "required");
    if (parse_action(c, action, p, oci_member(v, "errnoRet"), p2, &act) < 0)
        return -1;

    struct scmp_arg_cmp cmp[6];
    size_t ncmp = 0;
    bool repeated = false;
    snprintf(p, sizeof p, "%s.args", path);
    if (args) {
        if (!json_is_array(args))
            return fail(c, p, "expected an array");
        if (json_array_size(args) > 6)
            return fail(c, p, "more than 6 comparisons");
        size_t i;
        json_t *a;
        json_array_foreach(args, i, a)
        {
            snprintf(p2, sizeof p2, "%s.args[%zu]", path, i);
            if (parse_arg(c, a, p2, &cmp[ncmp]) < 0)
                return -1;
            for (size_t j = 0; j < ncmp; j++)
                repeated |= cmp[j].arg == cmp[ncmp].arg;
            ncmp++;
        }
    }

    snprintf(p, sizeof p, "%s.names", path);
    if (names == NULL)
        return fail(c, p, "required");
    if (!json_is_array(names) || json_array_size(names) == 0)
        return fail(c, p, "expected a non-empty array of names");
    size_t i;
    json_t *n;
    json_array_foreach(names, i, n)
    {
        snprintf(p2, sizeof p2, "%s.names[%zu]", path, i);
        const char *name = as_string(c, n, p2);
        if (name == NULL)
            return -1;
        int nr = seccomp_syscall_resolve_name(name);
        if (nr == __NR_SCMP_ERROR) {
            if (warn(c, p2, "\"%s\" is not a system call on this architecture (skipped)", name) < 0)
                return -1;
            continue;
        }
        if (act == def)
            continue; /* the default already; libseccomp refuses such a rule */
        int rc = 0;
        if (!repeated || ncmp == 0)
            rc = seccomp_rule_add_array(f, act, nr, (unsigned)ncmp, ncmp ? cmp : NULL);
        else
            for (size_t j = 0; j < ncmp && rc == 0; j++)
                rc = seccomp_rule_add_array(f, act, nr, 1, &cmp[j]);
        if (rc < 0)
            return cell_err_set(c->err, -rc, "config.json: %s: a rule for \"%s\" refused by libseccomp", p2, name);
    }
    return 0;
}

/* The filter as BPF, through a memfd (libseccomp 2.5 exports to a file). */
static int export(struct ctx *c, scmp_filter_ctx f, struct cell_seccomp_program *prog)
{
    int fd = memfd_create("cell-seccomp", MFD_CLOEXEC);
    if (fd < 0)
        return cell_err_set(c->err, errno, "config.json: " BASE ": memfd");
    int rc = seccomp_export_bpf(f, fd);
    struct stat st;
    if (rc < 0) {
        close(fd);
        return cell_err_set(c->err, -rc, "config.json: " BASE ": export the filter");
    }
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return cell_err_set(c->err, e, "config.json: " BASE ": export the filter");
    }
    size_t n = (size_t)st.st_size / sizeof(struct sock_filter);
    if (n == 0 || n > BPF_MAXINSNS) {
        close(fd);
        return fail(c, BASE, "the filter has %zu instructions; the kernel takes 1 to %d", n, BPF_MAXINSNS);
    }
    prog->filter = malloc(n * sizeof(struct sock_filter));
    if (prog->filter == NULL ||
        pread(fd, prog->filter, n * sizeof(struct sock_filter), 0) != (ssize_t)(n * sizeof(struct sock_filter))) {
        int e = prog->filter ? errno : ENOMEM;
        close(fd);
        return cell_err_set(c->err, e, "config.json: " BASE ": read the exported filter");
    }
    close(fd);
    prog->len = (unsigned short)n;
    return 0;
}

static int compile(struct ctx *c, json_t *v, scmp_filter_ctx *fp, struct cell_seccomp_program *prog)
{
    static const char *const known[] = {"defaultAction", "defaultErrnoRet",  "architectures", "flags",
                                        "listenerPath",  "listenerMetadata", "syscalls",      NULL};
    if (!json_is_object(v))
        return fail(c, BASE, "expected an object");
    if (check_keys(c, v, BASE, known) < 0)
        return -1;
    json_t *m;
    const char *s;
    if ((m = oci_member(v, "listenerPath")) && !(json_is_string(m) && json_string_value(m)[0] == '\0'))
        return fail(c, BASE ".listenerPath", "a seccomp agent is not supported by cell (remove it)");
    if ((m = oci_member(v, "listenerMetadata")) && !(json_is_string(m) && json_string_value(m)[0] == '\0'))
        return fail(c, BASE ".listenerMetadata", "a seccomp agent is not supported by cell (remove it)");
    uint32_t def = 0;
    if ((m = oci_member(v, "defaultAction")) == NULL)
        return fail(c, BASE ".defaultAction", "required");
    if (parse_action(c, m, BASE ".defaultAction", oci_member(v, "defaultErrnoRet"), BASE ".defaultErrnoRet", &def) < 0)
        return -1;
    scmp_filter_ctx f = *fp = seccomp_init(def);
    if (f == NULL)
        return fail(c, BASE ".defaultAction", "refused by libseccomp");
    /* cell sets no_new_privs itself; the program is only exported */
    if (seccomp_attr_set(f, SCMP_FLTATR_CTL_NNP, 0) < 0)
        return fail(c, BASE, "libseccomp attribute");

    size_t i;
    json_t *e;
    char p[PATH_BUF];
    if ((m = oci_member(v, "architectures"))) {
        if (!json_is_array(m))
            return fail(c, BASE ".architectures", "expected an array");
        json_array_foreach(m, i, e)
        {
            uint32_t arch = 0;
            snprintf(p, sizeof p, BASE ".architectures[%zu]", i);
            if (parse_arch(c, e, p, &arch) < 0)
                return -1;
            int rc = seccomp_arch_add(f, arch);
            if (rc < 0 && rc != -EEXIST)
                return cell_err_set(c->err, -rc, "config.json: %s: refused by libseccomp", p);
        }
    }
    if ((m = oci_member(v, "flags"))) {
        if (!json_is_array(m))
            return fail(c, BASE ".flags", "expected an array");
        json_array_foreach(m, i, e)
        {
            snprintf(p, sizeof p, BASE ".flags[%zu]", i);
            if ((s = as_string(c, e, p)) == NULL)
                return -1;
            if (strcmp(s, "SECCOMP_FILTER_FLAG_LOG") == 0)
                prog->flags |= SECCOMP_FILTER_FLAG_LOG;
            else if (strcmp(s, "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0)
                prog->flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
            else if (strcmp(s, "SECCOMP_FILTER_FLAG_TSYNC") != 0) /* one thread: nothing to sync */
                return fail(c, p,
                            "\"%s\" is not a flag cell supports (SECCOMP_FILTER_FLAG_LOG, "
                            "SECCOMP_FILTER_FLAG_SPEC_ALLOW, SECCOMP_FILTER_FLAG_TSYNC)",
                            s);
        }
    }
    if ((m = oci_member(v, "syscalls"))) {
        if (!json_is_array(m))
            return fail(c, BASE ".syscalls", "expected an array");
        json_array_foreach(m, i, e)
        {
            snprintf(p, sizeof p, BASE ".syscalls[%zu]", i);
            if (parse_syscall(c, f, def, e, p) < 0)
                return -1;
        }
    }
    return export(c, f, prog);
}

int seccomp_oci_compile(json_t *v, struct cell_seccomp_program **out, oci_warn_fn warn_fn, void *warn_ctx,
                        struct cell_err *err)
{
    struct ctx c = {.err = err, .warn = warn_fn, .warn_ctx = warn_ctx};
    struct cell_seccomp_program *prog = calloc(1, sizeof *prog);
    *out = NULL;
    if (prog == NULL)
        return cell_err_set(err, ENOMEM, "config.json: " BASE);
    scmp_filter_ctx f = NULL;
    int rc = compile(&c, v, &f, prog);
    if (f)
        seccomp_release(f);
    if (rc < 0) {
        free(prog->filter);
        free(prog);
        return -1;
    }
    *out = prog;
    return 0;
}
