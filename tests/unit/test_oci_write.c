/* test_oci_write.c - unit tests for the OCI writer (src/lib/oci_write.c):
 * specs made from `cell run` options are written as bundles and read back
 * through the OCI front end (cell_oci_load_bundle), which must give the same
 * spec fields (default, --rootfs, binds and tmpfs, limits and rlimits,
 * --net host, capabilities for root and for another uid, --userns, each
 * profile, identity and environment); the bundle's rootfs holds the mount
 * points and the host's symlinks; linux.seccomp has the profile's default
 * action and exactly the profile's rules, with the calls each profile
 * allows or refuses; what a bundle cannot express, and a DIR that has a
 * bundle already, are refused. Bundles go to a temporary directory. */
#include "cell/oci.h"
#include "sandbox/seccomp_rules.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

static char top[PATH_MAX - 128];   /* the temporary directory */
static char file[PATH_MAX];        /* a file in it, for file binds */
static char user_rootfs[PATH_MAX]; /* a directory for --rootfs */
static unsigned bundles;           /* bundles written so far (their names) */

static int group_setup(void **state)
{
    (void)state;
    snprintf(top, sizeof top, "/tmp/cell-test-oci-write-XXXXXX");
    if (mkdtemp(top) == NULL)
        return -1;
    snprintf(file, sizeof file, "%s/file", top);
    snprintf(user_rootfs, sizeof user_rootfs, "%s/image", top);
    int fd = open(file, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0 || mkdir(user_rootfs, 0755) < 0)
        return -1;
    close(fd);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    struct cell_err err;
    return cell_oci_remove_tree(top, &err);
}

/* The spec of `cell run ARGS...` (options, "--", command), validated. */
static void spec_of(struct cell_spec *spec, const char *const *args)
{
    char *argv[64] = {"run"};
    int argc = 1;
    for (; args[argc - 1]; argc++)
        argv[argc] = (char *)args[argc - 1];
    struct cell_err err = {0};
    cell_spec_init(spec);
    int first = cell_spec_from_args(argc, argv, spec, &err);
    if (first <= 0)
        fail_msg("options: %s", err.msg);
    if (cell_spec_set_argv(spec, argv + first, &err) < 0 || cell_spec_validate(spec, &err) < 0)
        fail_msg("spec: %s", err.msg);
}

/* Write the bundle of `spec` into a new directory (its path into dir). */
static void write_bundle(const struct cell_spec *spec, char *dir, size_t len)
{
    struct cell_err err = {0};
    json_t *config = NULL;
    snprintf(dir, len, "%s/bundle%u", top, ++bundles);
    if (cell_oci_write_config(spec, &config, &err) < 0 || cell_oci_write_bundle(spec, config, dir, &err) < 0)
        fail_msg("write: %s", err.msg);
    json_decref(config);
}

static void assert_strv_equal(char *const *a, char *const *b)
{
    size_t i = 0;
    for (; a && a[i] && b && b[i]; i++)
        assert_string_equal(a[i], b[i]);
    assert_true((a == NULL || a[i] == NULL) && (b == NULL || b[i] == NULL));
}

static const struct cell_mount *find_mount(const struct cell_spec *spec, const char *destination)
{
    for (size_t i = 0; i < spec->nmounts; i++)
        if (strcmp(spec->mounts[i].destination, destination) == 0)
            return &spec->mounts[i];
    return NULL;
}

static bool has_path(char *const *list, const char *path)
{
    for (char *const *p = list; p && *p; p++)
        if (strcmp(*p, path) == 0)
            return true;
    return false;
}

/* Write `cell run ARGS...`'s bundle, load it back, and compare. */
static void round_trip(const char *const *args)
{
    struct cell_spec spec, back;
    struct cell_oci oci;
    struct cell_err err = {0};
    char dir[PATH_MAX];
    spec_of(&spec, args);
    write_bundle(&spec, dir, sizeof dir);
    if (cell_oci_load_bundle(dir, &back, &oci, &err) < 0)
        fail_msg("load %s back: %s", dir, err.msg);

    assert_strv_equal(back.argv, spec.argv);
    assert_strv_equal(back.env, spec.env);
    assert_string_equal(back.cwd, spec.cwd);
    assert_int_equal(back.uid, spec.uid);
    assert_int_equal(back.gid, spec.gid);
    assert_int_equal(back.ngroups, spec.ngroups);
    for (size_t i = 0; i < spec.ngroups; i++)
        assert_int_equal(back.groups[i], spec.groups[i]);
    assert_string_equal(back.hostname, spec.hostname);
    assert_int_equal(back.net_mode, spec.net_mode);
    assert_int_equal(back.ns.userns, spec.ns.userns || geteuid() != 0);
    assert_int_equal(back.limits.memory_bytes, spec.limits.memory_bytes);
    assert_int_equal(back.limits.pids, spec.limits.pids);
    assert_int_equal(back.limits.cpu_millis, spec.limits.cpu_millis);
    for (int r = 0; r < CELL_RLIMIT_COUNT; r++) {
        assert_int_equal(back.rlimits[r].set, spec.rlimits[r].set);
        assert_true(back.rlimits[r].soft == spec.rlimits[r].soft && back.rlimits[r].hard == spec.rlimits[r].hard);
    }
    assert_int_equal(back.profile, spec.profile);
    assert_true(back.cap_add == spec.cap_add);
    assert_int_equal(back.tty, spec.tty);

    /* the root: the given one, or the bundle's own */
    char rootfs[PATH_MAX + 8];
    snprintf(rootfs, sizeof rootfs, "%s/rootfs", dir);
    assert_string_equal(back.rootfs, spec.rootfs ? spec.rootfs : rootfs);
    assert_true(back.oci.readonly_root);
    /* cell's filesystem: /proc, a read-only /dev, a private /tmp, the masks */
    const struct cell_mount *m = find_mount(&back, "/proc");
    assert_true(m && m->kind == CELL_MOUNT_PROC);
    assert_true((m = find_mount(&back, "/dev")) && m->kind == CELL_MOUNT_TMPFS && !m->writable);
    assert_true((m = find_mount(&back, "/dev/pts")) && m->kind == CELL_MOUNT_DEVPTS);
    assert_true((m = find_mount(&back, "/tmp")) && m->kind == CELL_MOUNT_TMPFS && m->writable);
    assert_true(has_path(back.oci.masked_paths, "/proc/kcore"));
    assert_true(has_path(back.oci.readonly_paths, "/proc/sys"));
    /* the system directories without --rootfs, read-only */
    struct stat st;
    if (!spec.rootfs && lstat("/usr", &st) == 0 && S_ISDIR(st.st_mode))
        assert_true((m = find_mount(&back, "/usr")) && m->kind == CELL_MOUNT_BIND && !m->writable &&
                    strcmp(m->source, "/usr") == 0);
    if (!spec.rootfs && stat("/etc/passwd", &st) == 0)
        assert_true((m = find_mount(&back, "/etc/passwd")) && !m->writable);
    assert_null(spec.rootfs ? find_mount(&back, "/usr") : NULL);
    /* the spec's own mounts, as they were */
    for (size_t i = 0; i < spec.nmounts; i++) {
        const struct cell_mount *want = &spec.mounts[i];
        m = find_mount(&back, want->destination);
        if (m == NULL)
            fail_msg("mount %s missing", want->destination);
        assert_int_equal(m->kind, want->kind);
        assert_int_equal(m->writable, want->writable);
        if (want->kind == CELL_MOUNT_BIND)
            assert_string_equal(m->source, want->source);
    }
    /* nothing but what cell chooses to say: the profile replaces
     * linux.seccomp, and swap is cell's own rule */
    for (size_t i = 0; i < oci.nwarnings; i++)
        if (strncmp(oci.warnings[i], "linux.seccomp:", 14) != 0 &&
            strncmp(oci.warnings[i], "linux.resources.memory.swap:", 28) != 0)
            fail_msg("unexpected warning: %s", oci.warnings[i]);
    assert_string_equal(json_string_value(json_object_get(oci.annotations, CELL_OCI_PROFILE_ANNOTATION)),
                        cell_profile_label(spec.profile));
    cell_oci_free(&oci);
    cell_spec_free(&back);
    cell_spec_free(&spec);
}

static void test_default(void **state)
{
    (void)state;
    round_trip((const char *const[]){"--", "/bin/true", NULL});
}

static void test_rootfs(void **state)
{
    (void)state;
    round_trip((const char *const[]){"--rootfs", user_rootfs, "--", "/bin/sh", "-c", "exit 3", NULL});
}

static void test_binds(void **state)
{
    (void)state;
    char ro[PATH_MAX + 16], rw[PATH_MAX + 16], f[PATH_MAX + 16];
    snprintf(ro, sizeof ro, "%s:/data", top);
    snprintf(rw, sizeof rw, "%s:/srv/rw:rw", top);
    snprintf(f, sizeof f, "%s:/etc/app.conf", file);
    round_trip(
        (const char *const[]){"--bind", ro, "--bind", rw, "--bind", f, "--tmpfs", "/scratch", "--", "/bin/true", NULL});
}

static void test_limits(void **state)
{
    (void)state;
    round_trip((const char *const[]){"--memory", "64M", "--pids", "10", "--cpus", "0.5", "--rlimit", "nofile=100:200",
                                     "--rlimit", "core=unlimited", "--rlimit", "fsize=1024:unlimited", "--",
                                     "/bin/true", NULL});
    round_trip((const char *const[]){"--cpus", "2.125", "--", "/bin/true", NULL});
}

static void test_net_host(void **state)
{
    (void)state;
    round_trip((const char *const[]){"--net", "host", "--", "/bin/true", NULL});
}

static void test_caps(void **state)
{
    (void)state;
    round_trip((const char *const[]){"--cap-add", "CAP_NET_RAW", "--cap-add", "kill", "--", "/bin/true", NULL});
    /* another uid: the kept set is ambient too */
    round_trip((const char *const[]){"--user", "1000:1000", "--group", "5", "--group", "100", "--cap-add",
                                     "CAP_NET_BIND_SERVICE", "--", "/bin/true", NULL});
}

static void test_profiles(void **state)
{
    (void)state;
    round_trip((const char *const[]){"--profile", "medium", "--", "/bin/true", NULL});
    round_trip((const char *const[]){"--profile", "low", "--", "/bin/true", NULL});
}

static void test_identity_env_userns(void **state)
{
    (void)state;
    round_trip((const char *const[]){"--name", "web_1", "--hostname", "web", "--cwd", "/tmp", "--env-clear", "--env",
                                     "A=1", "--env", "B=x y", "--tty", "--", "/bin/sh", NULL});
    round_trip((const char *const[]){"--userns", "--user", "7:8", "--", "/bin/true", NULL});
}

/* ---- the bundle's files ---------------------------------------------------------- */

static void test_rootfs_dir(void **state)
{
    (void)state;
    struct cell_spec spec;
    char dir[PATH_MAX], path[PATH_MAX + 64], bind[PATH_MAX + 16], link_host[PATH_MAX], link_bundle[PATH_MAX];
    struct stat st;
    snprintf(bind, sizeof bind, "%s:/opt/app/conf", file);
    spec_of(&spec, (const char *const[]){"--bind", bind, "--tmpfs", "/scratch", "--", "/bin/true", NULL});
    write_bundle(&spec, dir, sizeof dir);
    /* mount points: directories, and a file for a file's bind */
    snprintf(path, sizeof path, "%s/rootfs/opt/app/conf", dir);
    assert_true(lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0);
    snprintf(path, sizeof path, "%s/rootfs/scratch", dir);
    assert_true(lstat(path, &st) == 0 && S_ISDIR(st.st_mode));
    snprintf(path, sizeof path, "%s/rootfs/dev/pts", dir);
    assert_true(lstat(path, &st) == 0 && S_ISDIR(st.st_mode));
    /* the host's system directories: a symlink stays one */
    static const char *const system[] = {"/usr", "/bin", "/sbin", "/lib", "/lib64"};
    for (size_t i = 0; i < sizeof system / sizeof system[0]; i++) {
        struct stat host;
        snprintf(path, sizeof path, "%s/rootfs%s", dir, system[i]);
        if (lstat(system[i], &host) < 0) {
            assert_int_equal(lstat(path, &st), -1);
            continue;
        }
        assert_int_equal(lstat(path, &st), 0);
        assert_int_equal(S_ISLNK(st.st_mode), S_ISLNK(host.st_mode));
        if (S_ISLNK(host.st_mode)) {
            ssize_t a = readlink(system[i], link_host, sizeof link_host - 1);
            ssize_t b = readlink(path, link_bundle, sizeof link_bundle - 1);
            assert_true(a > 0 && a == b && memcmp(link_host, link_bundle, (size_t)a) == 0);
        } else {
            assert_true(S_ISDIR(st.st_mode));
        }
    }
    /* nothing of the host's /etc is copied: mount points only */
    snprintf(path, sizeof path, "%s/rootfs/etc/passwd", dir);
    if (stat("/etc/passwd", &st) == 0)
        assert_true(lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0);
    snprintf(path, sizeof path, "%s/rootfs/etc/shadow", dir);
    assert_int_equal(lstat(path, &st), -1);
    /* removed again, whole */
    struct cell_err err = {0};
    assert_int_equal(cell_oci_remove_tree(dir, &err), 0);
    assert_int_equal(lstat(dir, &st), -1);
    assert_int_equal(cell_oci_remove_tree(dir, &err), 0); /* gone already: fine */
    cell_spec_free(&spec);
}

/* The text holds an unlimited rlimit as the integer 2^64-1, and leaves
 * strings that look like its real alone. */
static void test_unlimited_text(void **state)
{
    (void)state;
    struct cell_spec spec;
    struct cell_err err = {0};
    json_t *config = NULL;
    spec_of(&spec, (const char *const[]){"--rlimit", "core=0:unlimited", "--env", "X=1.8446744073709552e19", "--",
                                         "/bin/echo", "1.8446744073709552e+19", NULL});
    assert_int_equal(cell_oci_write_config(&spec, &config, &err), 0);
    char *text = cell_oci_config_text(config, &err);
    assert_non_null(text);
    assert_non_null(strstr(text, "\"hard\": 18446744073709551615"));
    assert_non_null(strstr(text, "\"soft\": 0"));
    assert_non_null(strstr(text, "\"X=1.8446744073709552e19\""));
    assert_non_null(strstr(text, "\"1.8446744073709552e+19\""));
    json_error_t jerr;
    json_t *again = json_loads(text, JSON_DECODE_INT_AS_REAL, &jerr);
    assert_non_null(again);
    json_decref(again);
    free(text);
    json_decref(config);
    cell_spec_free(&spec);
}

/* ---- linux.seccomp ----------------------------------------------------------------- */

static json_t *seccomp_of(enum cell_profile profile)
{
    struct cell_spec spec;
    struct cell_err err = {0};
    json_t *config = NULL;
    spec_of(&spec, (const char *const[]){"--profile", cell_profile_label(profile), "--", "/bin/true", NULL});
    if (cell_oci_write_config(&spec, &config, &err) < 0)
        fail_msg("write: %s", err.msg);
    cell_spec_free(&spec);
    json_t *s = json_incref(json_object_get(json_object_get(config, "linux"), "seccomp"));
    json_decref(config);
    assert_non_null(s);
    return s;
}

/* The entries naming `call`: how many, and how many of them have args. The
 * action and errnoRet of the last one into *action, *errno_ret. */
static size_t entries_for(json_t *s, const char *call, size_t *with_args, const char **action, int *errno_ret)
{
    size_t n = 0, i, j;
    json_t *e, *name;
    *with_args = 0;
    json_array_foreach(json_object_get(s, "syscalls"), i, e)
    {
        json_array_foreach(json_object_get(e, "names"), j, name)
        {
            if (strcmp(json_string_value(name), call) != 0)
                continue;
            n++;
            *with_args += json_array_size(json_object_get(e, "args")) > 0;
            *action = json_string_value(json_object_get(e, "action"));
            *errno_ret = (int)json_integer_value(json_object_get(e, "errnoRet"));
        }
    }
    return n;
}

static void assert_rule(json_t *s, const char *call, const char *action, int errno_ret)
{
    size_t args;
    const char *a = NULL;
    int e = -1;
    if (entries_for(s, call, &args, &a, &e) != 1 || args != 0)
        fail_msg("%s: expected one unconditional rule", call);
    assert_string_equal(a, action);
    assert_int_equal(e, errno_ret);
}

static void assert_no_rule(json_t *s, const char *call)
{
    size_t args;
    const char *a;
    int e;
    if (entries_for(s, call, &args, &a, &e) != 0)
        fail_msg("%s: expected no rule", call);
}

/* Every rule of the profile, as the walker gives them, has its entry. */
struct count {
    size_t rules;
};
static int count_rule(const struct seccomp_rule *rule, void *arg, struct cell_err *err)
{
    (void)rule;
    (void)err;
    ((struct count *)arg)->rules++;
    return 0;
}

static void assert_all_rules(json_t *s, enum cell_profile profile)
{
    struct count c = {0};
    struct cell_err err = {0};
    size_t names = 0, i;
    json_t *e;
    assert_int_equal(seccomp_profile_walk(profile, count_rule, &c, &err), 0);
    json_array_foreach(json_object_get(s, "syscalls"), i, e)
    {
        size_t n = json_array_size(json_object_get(e, "names"));
        assert_true(n >= 1);
        assert_true(json_array_size(json_object_get(e, "args")) == 0 || n == 1);
        names += n;
    }
    assert_int_equal(names, c.rules);
}

/* An entry for `call` whose only comparison is arg[index] OP value (for
 * MASKED_EQ: value = mask, value_two = what the masked argument equals). */
static bool has_arg_rule(json_t *s, const char *call, const char *action, const char *op, uint64_t value,
                         uint64_t value_two)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(s, "syscalls"), i, e)
    {
        json_t *args = json_object_get(e, "args"), *a = json_array_get(args, 0);
        if (strcmp(json_string_value(json_array_get(json_object_get(e, "names"), 0)), call) != 0 ||
            json_array_size(args) != 1 || strcmp(json_string_value(json_object_get(e, "action")), action) != 0)
            continue;
        if (strcmp(json_string_value(json_object_get(a, "op")), op) == 0 &&
            (uint64_t)json_integer_value(json_object_get(a, "value")) == value &&
            (uint64_t)json_integer_value(json_object_get(a, "valueTwo")) == value_two)
            return true;
    }
    return false;
}

static void test_seccomp_high(void **state)
{
    (void)state;
    json_t *s = seccomp_of(CELL_PROFILE_HIGH);
    assert_string_equal(json_string_value(json_object_get(s, "defaultAction")), "SCMP_ACT_ERRNO");
    assert_int_equal(json_integer_value(json_object_get(s, "defaultErrnoRet")), EPERM);
#ifdef __x86_64__
    assert_string_equal(json_string_value(json_array_get(json_object_get(s, "architectures"), 0)), "SCMP_ARCH_X86_64");
    assert_int_equal(json_array_size(json_object_get(s, "architectures")), 1);
#endif
    assert_all_rules(s, CELL_PROFILE_HIGH);
    static const char *const allowed[] = {"read", "write", "getpid", "execve", "futex", "mmap", "wait4"};
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
        assert_rule(s, allowed[i], "SCMP_ACT_ALLOW", 0);
    /* refused by the default action: no rule at all */
    static const char *const refused[] = {"keyctl",         "add_key",     "shmget", "semget",  "msgget",
                                          "mount",          "ptrace",      "bpf",    "unshare", "setns",
                                          "io_uring_setup", "init_module", "reboot"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        assert_no_rule(s, refused[i]);
    assert_rule(s, "clone3", "SCMP_ACT_ERRNO", ENOSYS);
    /* clone without namespace flags, sockets of the usual families */
    assert_true(has_arg_rule(
        s, "clone", "SCMP_ACT_ALLOW", "SCMP_CMP_MASKED_EQ",
        CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP, 0));
    assert_true(has_arg_rule(s, "socket", "SCMP_ACT_ALLOW", "SCMP_CMP_EQ", AF_UNIX, 0));
    assert_true(has_arg_rule(s, "socket", "SCMP_ACT_ALLOW", "SCMP_CMP_EQ", AF_NETLINK, 0));
    assert_false(has_arg_rule(s, "socket", "SCMP_ACT_ALLOW", "SCMP_CMP_EQ", AF_PACKET, 0));
    size_t args;
    const char *a;
    int e;
    assert_int_equal(entries_for(s, "socket", &args, &a, &e), 8); /* unix, netlink, 2 families x 3 types */
    assert_int_equal(args, 8);                                    /* each with conditions */
    assert_int_equal(entries_for(s, "personality", &args, &a, &e), 5);
    json_decref(s);
}

static void test_seccomp_medium(void **state)
{
    (void)state;
    json_t *s = seccomp_of(CELL_PROFILE_MEDIUM);
    assert_string_equal(json_string_value(json_object_get(s, "defaultAction")), "SCMP_ACT_ALLOW");
    assert_null(json_object_get(s, "defaultErrnoRet"));
    assert_all_rules(s, CELL_PROFILE_MEDIUM);
    static const char *const refused[] = {"keyctl", "add_key", "mount", "ptrace", "bpf", "setns", "io_uring_setup"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        assert_rule(s, refused[i], "SCMP_ACT_ERRNO", EPERM);
    /* SysV IPC allowed; a user namespace not */
    static const char *const allowed[] = {"shmget", "semget", "msgget", "read"};
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
        assert_no_rule(s, allowed[i]);
    assert_true(has_arg_rule(s, "unshare", "SCMP_ACT_ERRNO", "SCMP_CMP_MASKED_EQ", CLONE_NEWUSER, CLONE_NEWUSER));
    assert_true(has_arg_rule(s, "clone", "SCMP_ACT_ERRNO", "SCMP_CMP_MASKED_EQ", CLONE_NEWUSER, CLONE_NEWUSER));
    assert_true(has_arg_rule(s, "socket", "SCMP_ACT_ERRNO", "SCMP_CMP_EQ", AF_PACKET, 0));
    assert_rule(s, "clone3", "SCMP_ACT_ERRNO", ENOSYS);
    json_decref(s);
}

static void test_seccomp_low(void **state)
{
    (void)state;
    json_t *s = seccomp_of(CELL_PROFILE_LOW);
    assert_string_equal(json_string_value(json_object_get(s, "defaultAction")), "SCMP_ACT_ALLOW");
    assert_all_rules(s, CELL_PROFILE_LOW);
    static const char *const refused[] = {"reboot", "kexec_load", "init_module", "finit_module", "swapon"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        assert_rule(s, refused[i], "SCMP_ACT_ERRNO", EPERM);
    static const char *const allowed[] = {"keyctl", "ptrace", "unshare", "mount", "clone", "clone3", "socket"};
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
        assert_no_rule(s, allowed[i]);
    json_decref(s);
}

/* ---- refusals ----------------------------------------------------------------------- */

static void assert_refused(const char *const *args, const char *expected)
{
    struct cell_spec spec;
    struct cell_err err = {0};
    json_t *config = NULL;
    spec_of(&spec, args);
    assert_int_equal(cell_oci_write_config(&spec, &config, &err), -1);
    assert_null(config);
    if (strstr(err.msg, expected) == NULL)
        fail_msg("expected \"%s\" in: %s", expected, err.msg);
    cell_spec_free(&spec);
}

static void test_refused(void **state)
{
    (void)state;
    char layer[PATH_MAX + 8];
    snprintf(layer, sizeof layer, "%s", user_rootfs); /* any directory */
    assert_refused((const char *const[]){"--timeout", "5", "--", "/bin/true", NULL},
                   "bundle: --timeout: config.json has no time limit");
    assert_refused((const char *const[]){"--layer", layer, "--", "/bin/true", NULL}, "bundle: --layer:");
    assert_refused((const char *const[]){"--preserve-fd", "3", "--", "/bin/true", NULL}, "bundle: --preserve-fd:");
    assert_refused((const char *const[]){"-d", "--", "/bin/true", NULL}, "bundle: -d: supervision is celld's");
}

static void test_existing_bundle(void **state)
{
    (void)state;
    struct cell_spec spec;
    struct cell_err err = {0};
    json_t *config = NULL;
    char dir[PATH_MAX], path[PATH_MAX + 32];
    struct stat st;
    spec_of(&spec, (const char *const[]){"--", "/bin/true", NULL});
    write_bundle(&spec, dir, sizeof dir);
    assert_int_equal(cell_oci_write_config(&spec, &config, &err), 0);
    /* a config.json is never overwritten */
    assert_int_equal(cell_oci_write_bundle(&spec, config, dir, &err), -1);
    assert_non_null(strstr(err.msg, "config.json is there already (never overwritten)"));
    /* a rootfs that is there already is not cell's to fill; nothing is left */
    snprintf(path, sizeof path, "%s/config.json", dir);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(cell_oci_write_bundle(&spec, config, dir, &err), -1);
    assert_non_null(strstr(err.msg, "rootfs is there already"));
    assert_int_equal(lstat(path, &st), -1);
    /* a missing parent: an error naming the directory, nothing made */
    snprintf(path, sizeof path, "%s/no/such", top);
    assert_int_equal(cell_oci_write_bundle(&spec, config, path, &err), -1);
    assert_non_null(strstr(err.msg, path));
    assert_int_equal(errno == ENOENT || err.errnum == ENOENT, 1);
    json_decref(config);
    cell_spec_free(&spec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default),         cmocka_unit_test(test_rootfs),
        cmocka_unit_test(test_binds),           cmocka_unit_test(test_limits),
        cmocka_unit_test(test_net_host),        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_profiles),        cmocka_unit_test(test_identity_env_userns),
        cmocka_unit_test(test_rootfs_dir),      cmocka_unit_test(test_unlimited_text),
        cmocka_unit_test(test_seccomp_high),    cmocka_unit_test(test_seccomp_medium),
        cmocka_unit_test(test_seccomp_low),     cmocka_unit_test(test_refused),
        cmocka_unit_test(test_existing_bundle),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
