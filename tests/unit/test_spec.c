/* test_spec.c - unit tests for struct cell_spec (src/lib/spec.c): defaults,
 * cell_spec_validate() on a minimal spec and on each invalid field, the
 * env/argv/mount helpers, and cell_spec_free() (run under ASan to catch
 * leaks). A temporary directory holds a rootfs, a file and a bind source. */
#include "cell/cell.h"

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#define assert_msg_contains(err, needle)                                                                               \
    do {                                                                                                               \
        if (strstr((err).msg, (needle)) == NULL)                                                                       \
            fail_msg("error message \"%s\" does not contain \"%s\"", (err).msg, (needle));                             \
    } while (0)

/* Paths made by group_setup. */
static char tmpdir[PATH_MAX - 64];
static char dir_path[PATH_MAX];  /* an existing directory */
static char file_path[PATH_MAX]; /* an existing regular file */
static char missing_path[PATH_MAX];

static int group_setup(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    int n = snprintf(tmpdir, sizeof tmpdir, "%s/cell-test-spec-XXXXXX", base);
    if (n < 0 || (size_t)n >= sizeof tmpdir || mkdtemp(tmpdir) == NULL)
        return -1;
    snprintf(dir_path, sizeof dir_path, "%s/rootfs", tmpdir);
    snprintf(file_path, sizeof file_path, "%s/file", tmpdir);
    snprintf(missing_path, sizeof missing_path, "%s/missing", tmpdir);
    if (mkdir(dir_path, 0755) < 0)
        return -1;
    FILE *f = fopen(file_path, "w");
    if (f == NULL)
        return -1;
    fputs("x\n", f);
    fclose(f);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    unlink(file_path);
    rmdir(dir_path);
    rmdir(tmpdir);
    return 0;
}

/* A spec with just a command; freed by teardown. */
static int spec_setup(void **state)
{
    struct cell_spec *spec = malloc(sizeof *spec);
    if (spec == NULL)
        return -1;
    cell_spec_init(spec);
    char *const argv[] = {"true", NULL};
    struct cell_err err;
    if (cell_spec_set_argv(spec, argv, &err) < 0) {
        free(spec);
        return -1;
    }
    *state = spec;
    return 0;
}

static int spec_teardown(void **state)
{
    struct cell_spec *spec = *state;
    cell_spec_free(spec);
    free(spec);
    return 0;
}

static struct cell_err fresh_err(void)
{
    struct cell_err err = {.errnum = 12345};
    strcpy(err.msg, "<unset>");
    return err;
}

static void expect_valid(struct cell_spec *spec)
{
    struct cell_err err = fresh_err();
    if (cell_spec_validate(spec, &err) != 0)
        fail_msg("cell_spec_validate failed: %s", err.msg);
}

/* Validation fails with a message containing both needles. */
static void expect_invalid(struct cell_spec *spec, const char *needle1, const char *needle2)
{
    struct cell_err err = fresh_err();
    assert_int_equal(cell_spec_validate(spec, &err), -1);
    assert_msg_contains(err, needle1);
    if (needle2)
        assert_msg_contains(err, needle2);
}

static void set_str(char **field, const char *value)
{
    free(*field);
    *field = value ? strdup(value) : NULL;
    if (value)
        assert_non_null(*field);
}

static void add_mount(struct cell_spec *spec, enum cell_mount_kind kind, const char *src, const char *dst)
{
    struct cell_err err = fresh_err();
    struct cell_mount m = {.kind = kind, .source = (char *)src, .destination = (char *)dst};
    if (cell_spec_add_mount(spec, &m, &err) != 0)
        fail_msg("cell_spec_add_mount failed: %s", err.msg);
}

static size_t env_count(const struct cell_spec *spec)
{
    size_t n = 0;
    while (spec->env && spec->env[n])
        n++;
    return n;
}

/* ---- defaults ------------------------------------------------------------- */

static void init_sets_defaults(void **state)
{
    (void)state;
    struct cell_spec spec;
    memset(&spec, 0xa5, sizeof spec);
    cell_spec_init(&spec);
    assert_null(spec.name);
    assert_null(spec.argv);
    assert_null(spec.env);
    assert_null(spec.cwd); /* "/" is filled in by validate */
    assert_null(spec.hostname);
    assert_null(spec.rootfs);
    assert_null(spec.mounts);
    assert_int_equal(spec.nmounts, 0);
    assert_int_equal(spec.uid, 0);
    assert_int_equal(spec.gid, 0);
    assert_int_equal(spec.ngroups, 0);
    assert_false(spec.ns.userns);
    assert_int_equal(spec.net_mode, CELL_NET_NONE);
    assert_int_equal(spec.profile, CELL_PROFILE_HIGH);
    assert_int_equal(spec.limits.memory_bytes, 0);
    assert_int_equal(spec.limits.pids, 0);
    assert_int_equal(spec.limits.cpu_millis, 0);
    for (int r = 0; r < CELL_RLIMIT_COUNT; r++)
        assert_false(spec.rlimits[r].set);
    assert_int_equal(spec.cap_add, 0);
    assert_int_equal(spec.timeout_sec, 0);
    assert_false(spec.tty);
    assert_int_equal(spec.npreserved_fds, 0);
}

/* ---- validate: success ---------------------------------------------------- */

static void validate_minimal_fills_defaults(void **state)
{
    struct cell_spec *spec = *state;
    expect_valid(spec);
    assert_string_equal(spec->name, "cell");
    assert_string_equal(spec->hostname, "cell");
    assert_string_equal(spec->cwd, "/");
    assert_null(spec->rootfs);
    assert_null(spec->env); /* no environment unless asked for */
}

static void validate_is_idempotent(void **state)
{
    struct cell_spec *spec = *state;
    expect_valid(spec);
    expect_valid(spec);
    assert_string_equal(spec->name, "cell");
    assert_string_equal(spec->hostname, "cell");
}

static void validate_hostname_defaults_to_name(void **state)
{
    struct cell_spec *spec = *state;
    set_str(&spec->name, "web-1.example");
    expect_valid(spec);
    assert_string_equal(spec->hostname, "web-1.example");
}

static void validate_keeps_given_hostname_and_cwd(void **state)
{
    struct cell_spec *spec = *state;
    set_str(&spec->name, "web");
    set_str(&spec->hostname, "box");
    set_str(&spec->cwd, "/tmp");
    expect_valid(spec);
    assert_string_equal(spec->hostname, "box");
    assert_string_equal(spec->cwd, "/tmp");
}

/* Every valid name must give a valid default hostname. */
static void validate_name_with_underscore_gets_valid_hostname(void **state)
{
    struct cell_spec *spec = *state;
    set_str(&spec->name, "my_cell");
    expect_valid(spec);
    assert_non_null(spec->hostname);
}

static void validate_name_boundaries(void **state)
{
    struct cell_spec *spec = *state;
    char name[64];
    memset(name, 'a', 63);
    name[63] = '\0';
    set_str(&spec->name, name);
    expect_valid(spec);
    set_str(&spec->hostname, NULL);
    set_str(&spec->name, "0");
    expect_valid(spec);
}

static void validate_full_spec(void **state)
{
    struct cell_spec *spec = *state;
    set_str(&spec->name, "full");
    set_str(&spec->rootfs, dir_path);
    add_mount(spec, CELL_MOUNT_BIND, file_path, "/etc/file");
    add_mount(spec, CELL_MOUNT_BIND, dir_path, "/srv/data..old");
    add_mount(spec, CELL_MOUNT_TMPFS, NULL, "/tmp");
    add_mount(spec, CELL_MOUNT_TMPFS, NULL, "/procfs"); /* only /proc itself is reserved */
    add_mount(spec, CELL_MOUNT_TMPFS, NULL, "/device");
    spec->limits.cpu_millis = 1024 * 1000;
    spec->rlimits[CELL_RLIMIT_NOFILE] = (struct cell_rlimit){.set = true, .soft = 10, .hard = 10};
    spec->rlimits[CELL_RLIMIT_CORE] = (struct cell_rlimit){.set = true, .soft = 0, .hard = UINT64_MAX};
    spec->timeout_sec = 365u * 24 * 3600;
    spec->preserved_fds[0] = 3;
    spec->preserved_fds[1] = 100;
    spec->npreserved_fds = 2;
    expect_valid(spec);
}

/* ---- validate: name --------------------------------------------------------- */

static void validate_error_name_empty(void **state)
{
    struct cell_spec *spec = *state;
    set_str(&spec->name, "");
    expect_invalid(spec, "name \"\"", "is not valid");
}

static void validate_error_name_too_long(void **state)
{
    struct cell_spec *spec = *state;
    char name[65];
    memset(name, 'a', 64);
    name[64] = '\0';
    set_str(&spec->name, name);
    expect_invalid(spec, name, "is not valid");
}

static void validate_error_name_leading_dash(void **state)
{
    struct cell_spec *spec = *state;
    set_str(&spec->name, "-web");
    expect_invalid(spec, "name \"-web\"", "is not valid");
}

static void validate_error_name_leading_punctuation(void **state)
{
    struct cell_spec *spec = *state;
    set_str(&spec->name, ".web");
    expect_invalid(spec, "name \".web\"", "is not valid");
    set_str(&spec->name, "_web");
    expect_invalid(spec, "name \"_web\"", "is not valid");
}

static void validate_error_name_bad_chars(void **state)
{
    struct cell_spec *spec = *state;
    static const char *const bad[] = {"a b", "a/b", "a:b", "a\nb", "caf\xc3\xa9", "a*"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        set_str(&spec->name, bad[i]);
        expect_invalid(spec, bad[i], "is not valid");
    }
}

/* ---- validate: command ------------------------------------------------------- */

static void validate_error_no_argv(void **state)
{
    (void)state;
    struct cell_spec spec;
    cell_spec_init(&spec);
    expect_invalid(&spec, "no command given", NULL);
    cell_spec_free(&spec);
}

static void validate_error_empty_argv(void **state)
{
    struct cell_spec *spec = *state;
    char *const argv[] = {NULL};
    struct cell_err err = fresh_err();
    assert_int_equal(cell_spec_set_argv(spec, argv, &err), 0);
    assert_non_null(spec->argv);
    expect_invalid(spec, "no command given", NULL);
}

static void validate_error_empty_argv0(void **state)
{
    struct cell_spec *spec = *state;
    char *const argv[] = {"", "x", NULL};
    struct cell_err err = fresh_err();
    assert_int_equal(cell_spec_set_argv(spec, argv, &err), 0);
    expect_invalid(spec, "no command given", NULL);
}

/* ---- validate: hostname, cwd, rootfs ------------------------------------------ */

static void validate_error_bad_hostname(void **state)
{
    struct cell_spec *spec = *state;
    static const char *const bad[] = {"", "-box", ".box", "my_box", "b x", "box/1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        set_str(&spec->hostname, bad[i]);
        char quoted[64];
        snprintf(quoted, sizeof quoted, "hostname \"%s\"", bad[i]);
        expect_invalid(spec, quoted, "is not valid");
    }
}

static void validate_error_hostname_too_long(void **state)
{
    struct cell_spec *spec = *state;
    char host[66];
    memset(host, 'h', 65);
    host[65] = '\0';
    set_str(&spec->hostname, host);
    expect_invalid(spec, host, "is not valid");
    host[64] = '\0';
    set_str(&spec->hostname, host);
    expect_valid(spec);
}

static void validate_error_relative_cwd(void **state)
{
    struct cell_spec *spec = *state;
    set_str(&spec->cwd, "tmp");
    expect_invalid(spec, "working directory \"tmp\"", "not an absolute path");
    set_str(&spec->cwd, "");
    expect_invalid(spec, "working directory \"\"", "not an absolute path");
}

static void validate_error_relative_rootfs(void **state)
{
    struct cell_spec *spec = *state;
    set_str(&spec->rootfs, "rootfs");
    expect_invalid(spec, "rootfs \"rootfs\"", "not an absolute path");
}

static void validate_error_missing_rootfs(void **state)
{
    struct cell_spec *spec = *state;
    set_str(&spec->rootfs, missing_path);
    struct cell_err err = fresh_err();
    assert_int_equal(cell_spec_validate(spec, &err), -1);
    assert_msg_contains(err, missing_path);
    assert_msg_contains(err, "No such file or directory");
}

static void validate_error_rootfs_is_file(void **state)
{
    struct cell_spec *spec = *state;
    set_str(&spec->rootfs, file_path);
    struct cell_err err = fresh_err();
    assert_int_equal(cell_spec_validate(spec, &err), -1);
    assert_msg_contains(err, file_path);
    assert_msg_contains(err, "Not a directory");
}

static void validate_existing_rootfs(void **state)
{
    struct cell_spec *spec = *state;
    set_str(&spec->rootfs, dir_path);
    expect_valid(spec);
}

/* ---- validate: mounts ---------------------------------------------------------- */

static void expect_bad_target(struct cell_spec *spec, const char *target, const char *needle)
{
    add_mount(spec, CELL_MOUNT_TMPFS, NULL, target);
    expect_invalid(spec, target, needle);
    /* drop it again for the next case */
    spec->nmounts--;
    free(spec->mounts[spec->nmounts].destination);
    free(spec->mounts[spec->nmounts].source);
}

static void validate_error_relative_mount_target(void **state)
{
    struct cell_spec *spec = *state;
    expect_bad_target(spec, "data", "is not an absolute path inside the cell");
    expect_bad_target(spec, "", "is not an absolute path inside the cell");
}

static void validate_error_mount_target_dotdot(void **state)
{
    struct cell_spec *spec = *state;
    expect_bad_target(spec, "/..", "is not an absolute path inside the cell");
    expect_bad_target(spec, "/a/../b", "is not an absolute path inside the cell");
    expect_bad_target(spec, "/a/..", "is not an absolute path inside the cell");
    expect_bad_target(spec, "/../etc", "is not an absolute path inside the cell");
}

static void validate_error_mount_target_root(void **state)
{
    struct cell_spec *spec = *state;
    expect_bad_target(spec, "/", "is not an absolute path inside the cell");
}

/* "//", "/." and "/./" all name the root directory too. */
static void validate_error_mount_target_root_spelled_differently(void **state)
{
    struct cell_spec *spec = *state;
    expect_bad_target(spec, "//", "mount target");
    expect_bad_target(spec, "/.", "mount target");
    expect_bad_target(spec, "/./", "mount target");
}

static void validate_error_mount_into_proc(void **state)
{
    struct cell_spec *spec = *state;
    expect_bad_target(spec, "/proc", "builds /proc and /dev itself");
    expect_bad_target(spec, "/proc/sys", "builds /proc and /dev itself");
    expect_bad_target(spec, "/proc/", "builds /proc and /dev itself");
}

static void validate_error_mount_into_dev(void **state)
{
    struct cell_spec *spec = *state;
    expect_bad_target(spec, "/dev", "builds /proc and /dev itself");
    expect_bad_target(spec, "/dev/shm", "builds /proc and /dev itself");
}

/* Other spellings of /proc and /dev must not get around the rule. */
static void validate_error_mount_into_proc_spelled_differently(void **state)
{
    struct cell_spec *spec = *state;
    expect_bad_target(spec, "//proc", "mount target");
    expect_bad_target(spec, "/./dev", "mount target");
    expect_bad_target(spec, "//dev/shm", "mount target");
}

static void validate_error_relative_bind_source(void **state)
{
    struct cell_spec *spec = *state;
    add_mount(spec, CELL_MOUNT_BIND, "srv/data", "/data");
    expect_invalid(spec, "bind source \"srv/data\"", "not an absolute path");
}

static void validate_error_bind_without_source(void **state)
{
    struct cell_spec *spec = *state;
    add_mount(spec, CELL_MOUNT_BIND, NULL, "/data");
    expect_invalid(spec, "bind source \"\"", "not an absolute path");
}

static void validate_error_missing_bind_source(void **state)
{
    struct cell_spec *spec = *state;
    add_mount(spec, CELL_MOUNT_BIND, missing_path, "/data");
    struct cell_err err = fresh_err();
    assert_int_equal(cell_spec_validate(spec, &err), -1);
    assert_msg_contains(err, missing_path);
    assert_msg_contains(err, "No such file or directory");
}

static void validate_tmpfs_needs_no_source(void **state)
{
    struct cell_spec *spec = *state;
    add_mount(spec, CELL_MOUNT_TMPFS, NULL, "/scratch");
    expect_valid(spec);
}

/* ---- validate: limits, fds, timeout -------------------------------------------- */

static void validate_error_rlimit_soft_above_hard(void **state)
{
    struct cell_spec *spec = *state;
    spec->rlimits[CELL_RLIMIT_NPROC] = (struct cell_rlimit){.set = true, .soft = 20, .hard = 10};
    expect_invalid(spec, "rlimit nproc", "soft limit above hard limit");
}

static void validate_rlimit_unset_is_ignored(void **state)
{
    struct cell_spec *spec = *state;
    spec->rlimits[CELL_RLIMIT_NPROC] = (struct cell_rlimit){.set = false, .soft = 20, .hard = 10};
    expect_valid(spec);
}

static void validate_error_cpus_too_large(void **state)
{
    struct cell_spec *spec = *state;
    spec->limits.cpu_millis = 1024 * 1000 + 1;
    expect_invalid(spec, "cpus", "at most 1024");
}

static void validate_error_preserve_fd_below_3(void **state)
{
    struct cell_spec *spec = *state;
    static const int bad[] = {0, 1, 2, -1};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        spec->preserved_fds[0] = 3;
        spec->preserved_fds[1] = bad[i];
        spec->npreserved_fds = 2;
        char needle[32];
        snprintf(needle, sizeof needle, "preserve-fd %d", bad[i]);
        expect_invalid(spec, needle, "always passed");
    }
}

static void validate_error_too_many_preserved_fds(void **state)
{
    struct cell_spec *spec = *state;
    for (int i = 0; i < CELL_MAX_PRESERVED_FDS; i++)
        spec->preserved_fds[i] = 3 + i;
    spec->npreserved_fds = CELL_MAX_PRESERVED_FDS + 1;
    expect_invalid(spec, "preserve", NULL);
}

static void validate_error_too_many_groups(void **state)
{
    struct cell_spec *spec = *state;
    spec->ngroups = CELL_MAX_GROUPS + 1;
    expect_invalid(spec, "group", NULL);
}

/* (uid_t)-1 / (gid_t)-1 mean "leave unchanged" to setresuid/setresgid. */
static void validate_error_uid_minus_one(void **state)
{
    struct cell_spec *spec = *state;
    spec->uid = (uid_t)-1;
    expect_invalid(spec, "4294967295", NULL);
    spec->uid = 0;
    spec->gid = (gid_t)-1;
    expect_invalid(spec, "4294967295", NULL);
}

static void validate_error_timeout_too_large(void **state)
{
    struct cell_spec *spec = *state;
    spec->timeout_sec = 365u * 24 * 3600 + 1;
    expect_invalid(spec, "timeout 31536001", "at most one year");
}

/* ---- env ---------------------------------------------------------------------- */

static void add_env_appends(void **state)
{
    struct cell_spec *spec = *state;
    struct cell_err err = fresh_err();
    assert_int_equal(cell_spec_add_env(spec, "A=1", &err), 0);
    assert_int_equal(cell_spec_add_env(spec, "B=", &err), 0);
    assert_int_equal(cell_spec_add_env(spec, "C=x=y", &err), 0);
    assert_int_equal(env_count(spec), 3);
    assert_string_equal(spec->env[0], "A=1");
    assert_string_equal(spec->env[1], "B=");
    assert_string_equal(spec->env[2], "C=x=y");
    assert_null(spec->env[3]);
}

static void add_env_copies_string(void **state)
{
    struct cell_spec *spec = *state;
    struct cell_err err = fresh_err();
    char kv[] = "A=1";
    assert_int_equal(cell_spec_add_env(spec, kv, &err), 0);
    kv[2] = '2';
    assert_string_equal(spec->env[0], "A=1");
}

static void add_env_replaces_existing_key(void **state)
{
    struct cell_spec *spec = *state;
    struct cell_err err = fresh_err();
    assert_int_equal(cell_spec_add_env(spec, "PATH=/bin", &err), 0);
    assert_int_equal(cell_spec_add_env(spec, "PATHX=1", &err), 0);
    assert_int_equal(cell_spec_add_env(spec, "PAT=2", &err), 0);
    assert_int_equal(cell_spec_add_env(spec, "PATH=/usr/bin", &err), 0);
    assert_int_equal(env_count(spec), 3);
    assert_string_equal(spec->env[0], "PATH=/usr/bin");
    assert_string_equal(spec->env[1], "PATHX=1");
    assert_string_equal(spec->env[2], "PAT=2");
}

static void add_env_error_no_equals(void **state)
{
    struct cell_spec *spec = *state;
    struct cell_err err = fresh_err();
    assert_int_equal(cell_spec_add_env(spec, "NOVALUE", &err), -1);
    assert_msg_contains(err, "\"NOVALUE\"");
    assert_msg_contains(err, "KEY=VALUE");
    assert_int_equal(env_count(spec), 0);
}

static void add_env_error_empty_key(void **state)
{
    struct cell_spec *spec = *state;
    struct cell_err err = fresh_err();
    assert_int_equal(cell_spec_add_env(spec, "=value", &err), -1);
    assert_msg_contains(err, "\"=value\"");
    assert_msg_contains(err, "KEY=VALUE");
    assert_int_equal(cell_spec_add_env(spec, "", &err), -1);
    assert_msg_contains(err, "\"\"");
    assert_int_equal(env_count(spec), 0);
}

static void add_default_env_sets_path_and_home(void **state)
{
    struct cell_spec *spec = *state;
    struct cell_err err = fresh_err();
    assert_int_equal(cell_spec_add_default_env(spec, &err), 0);
    assert_int_equal(env_count(spec), 2);
    assert_string_equal(spec->env[0], "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    assert_string_equal(spec->env[1], "HOME=/tmp");
}

static void add_default_env_twice_does_not_duplicate(void **state)
{
    struct cell_spec *spec = *state;
    struct cell_err err = fresh_err();
    assert_int_equal(cell_spec_add_default_env(spec, &err), 0);
    assert_int_equal(cell_spec_add_default_env(spec, &err), 0);
    assert_int_equal(env_count(spec), 2);
}

static void add_default_env_then_override(void **state)
{
    struct cell_spec *spec = *state;
    struct cell_err err = fresh_err();
    assert_int_equal(cell_spec_add_env(spec, "LANG=C", &err), 0);
    assert_int_equal(cell_spec_add_default_env(spec, &err), 0);
    assert_int_equal(cell_spec_add_env(spec, "HOME=/root", &err), 0);
    assert_int_equal(env_count(spec), 3);
    assert_string_equal(spec->env[0], "LANG=C");
    assert_string_equal(spec->env[2], "HOME=/root");
}

/* ---- argv, mounts, free -------------------------------------------------------- */

static void set_argv_copies_and_replaces(void **state)
{
    struct cell_spec *spec = *state;
    struct cell_err err = fresh_err();
    char a0[] = "sh", a1[] = "-c", a2[] = "echo hi";
    char *const argv[] = {a0, a1, a2, NULL};
    assert_int_equal(cell_spec_set_argv(spec, argv, &err), 0);
    a0[0] = 'X';
    assert_string_equal(spec->argv[0], "sh");
    assert_string_equal(spec->argv[1], "-c");
    assert_string_equal(spec->argv[2], "echo hi");
    assert_null(spec->argv[3]);
    char *const argv2[] = {"ls", NULL};
    assert_int_equal(cell_spec_set_argv(spec, argv2, &err), 0);
    assert_string_equal(spec->argv[0], "ls");
    assert_null(spec->argv[1]);
}

static void add_mount_copies_strings(void **state)
{
    struct cell_spec *spec = *state;
    struct cell_err err = fresh_err();
    char src[] = "/srv", dst[] = "/data";
    struct cell_mount m = {.kind = CELL_MOUNT_BIND, .source = src, .destination = dst, .writable = true};
    assert_int_equal(cell_spec_add_mount(spec, &m, &err), 0);
    src[1] = dst[1] = 'X';
    assert_int_equal(spec->nmounts, 1);
    assert_int_equal(spec->mounts[0].kind, CELL_MOUNT_BIND);
    assert_string_equal(spec->mounts[0].source, "/srv");
    assert_string_equal(spec->mounts[0].destination, "/data");
    assert_true(spec->mounts[0].writable);
    assert_true(spec->mounts[0].source != src);
    add_mount(spec, CELL_MOUNT_TMPFS, NULL, "/tmp");
    assert_int_equal(spec->nmounts, 2);
    assert_null(spec->mounts[1].source);
    assert_string_equal(spec->mounts[1].destination, "/tmp");
}

static void free_releases_everything_and_resets(void **state)
{
    (void)state;
    struct cell_spec spec;
    struct cell_err err = fresh_err();
    cell_spec_init(&spec);
    char *const argv[] = {"sh", "-c", "true", NULL};
    assert_int_equal(cell_spec_set_argv(&spec, argv, &err), 0);
    assert_int_equal(cell_spec_add_default_env(&spec, &err), 0);
    assert_int_equal(cell_spec_add_env(&spec, "A=1", &err), 0);
    set_str(&spec.name, "web");
    set_str(&spec.hostname, "box");
    set_str(&spec.cwd, "/tmp");
    set_str(&spec.rootfs, dir_path);
    add_mount(&spec, CELL_MOUNT_BIND, dir_path, "/data");
    add_mount(&spec, CELL_MOUNT_TMPFS, NULL, "/tmp");
    spec.profile = CELL_PROFILE_LOW;
    spec.net_mode = CELL_NET_HOST;
    spec.limits.pids = 10;
    spec.npreserved_fds = 1;
    spec.preserved_fds[0] = 5;
    expect_valid(&spec);

    cell_spec_free(&spec);
    assert_null(spec.name);
    assert_null(spec.argv);
    assert_null(spec.env);
    assert_null(spec.cwd);
    assert_null(spec.hostname);
    assert_null(spec.rootfs);
    assert_null(spec.mounts);
    assert_int_equal(spec.nmounts, 0);
    assert_int_equal(spec.profile, CELL_PROFILE_HIGH);
    assert_int_equal(spec.net_mode, CELL_NET_NONE);
    assert_int_equal(spec.limits.pids, 0);
    assert_int_equal(spec.npreserved_fds, 0);
    /* freeing a reset spec again is harmless */
    cell_spec_free(&spec);
}

static void free_of_initialised_spec(void **state)
{
    (void)state;
    struct cell_spec spec;
    cell_spec_init(&spec);
    cell_spec_free(&spec);
    assert_null(spec.argv);
}

/* A failed validation leaves the spec freeable (derived fields may be set). */
static void free_after_failed_validation(void **state)
{
    (void)state;
    struct cell_spec spec;
    struct cell_err err = fresh_err();
    cell_spec_init(&spec);
    char *const argv[] = {"true", NULL};
    assert_int_equal(cell_spec_set_argv(&spec, argv, &err), 0);
    set_str(&spec.cwd, "relative");
    assert_int_equal(cell_spec_validate(&spec, &err), -1);
    cell_spec_free(&spec);
}

#define T(f) cmocka_unit_test_setup_teardown(f, spec_setup, spec_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(init_sets_defaults),
        T(validate_minimal_fills_defaults),
        T(validate_is_idempotent),
        T(validate_hostname_defaults_to_name),
        T(validate_keeps_given_hostname_and_cwd),
        T(validate_name_with_underscore_gets_valid_hostname),
        T(validate_name_boundaries),
        T(validate_full_spec),
        T(validate_error_name_empty),
        T(validate_error_name_too_long),
        T(validate_error_name_leading_dash),
        T(validate_error_name_leading_punctuation),
        T(validate_error_name_bad_chars),
        cmocka_unit_test(validate_error_no_argv),
        T(validate_error_empty_argv),
        T(validate_error_empty_argv0),
        T(validate_error_bad_hostname),
        T(validate_error_hostname_too_long),
        T(validate_error_relative_cwd),
        T(validate_error_relative_rootfs),
        T(validate_error_missing_rootfs),
        T(validate_error_rootfs_is_file),
        T(validate_existing_rootfs),
        T(validate_error_relative_mount_target),
        T(validate_error_mount_target_dotdot),
        T(validate_error_mount_target_root),
        T(validate_error_mount_target_root_spelled_differently),
        T(validate_error_mount_into_proc),
        T(validate_error_mount_into_dev),
        T(validate_error_mount_into_proc_spelled_differently),
        T(validate_error_relative_bind_source),
        T(validate_error_bind_without_source),
        T(validate_error_missing_bind_source),
        T(validate_tmpfs_needs_no_source),
        T(validate_error_rlimit_soft_above_hard),
        T(validate_rlimit_unset_is_ignored),
        T(validate_error_cpus_too_large),
        T(validate_error_preserve_fd_below_3),
        T(validate_error_too_many_preserved_fds),
        T(validate_error_too_many_groups),
        T(validate_error_uid_minus_one),
        T(validate_error_timeout_too_large),
        T(add_env_appends),
        T(add_env_copies_string),
        T(add_env_replaces_existing_key),
        T(add_env_error_no_equals),
        T(add_env_error_empty_key),
        T(add_default_env_sets_path_and_home),
        T(add_default_env_twice_does_not_duplicate),
        T(add_default_env_then_override),
        T(set_argv_copies_and_replaces),
        T(add_mount_copies_strings),
        cmocka_unit_test(free_releases_everything_and_resets),
        cmocka_unit_test(free_of_initialised_spec),
        cmocka_unit_test(free_after_failed_validation),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
