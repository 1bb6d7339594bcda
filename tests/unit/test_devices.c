/* test_devices.c - unit tests for a cell's device access list
 * (src/lib/sandbox/devices.c): the decision (devices_allowed) on a table of
 * cases, the rule checks, the exact devices.allow/devices.deny lines on a
 * fake directory, and, as root, the real thing: a child process joins a
 * temporary cgroup with the rules applied (an eBPF program on cgroup v2, the
 * devices controller on v1) and opens or mknods device nodes, each result
 * checked against devices_allowed. The real tests skip, saying why, without
 * root or without the hierarchy; they leave no cgroup or file behind. */
#include "cell/cell.h"
#include "sandbox/devices.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>

#include <cmocka.h>

#define assert_msg_contains(err, needle)                                                                               \
    do {                                                                                                               \
        if (strstr((err).msg, (needle)) == NULL)                                                                       \
            fail_msg("error message \"%s\" does not contain \"%s\"", (err).msg, (needle));                             \
    } while (0)

#define R DEVICE_READ
#define W DEVICE_WRITE
#define M DEVICE_MKNOD
#define RWM (R | W | M)
#define ANY -1
#define ALLOW(type, major, minor, access)                                                                              \
    {                                                                                                                  \
        true, type, major, minor, access                                                                               \
    }
#define DENY(type, major, minor, access)                                                                               \
    {                                                                                                                  \
        false, type, major, minor, access                                                                              \
    }

/* Per-test state: a temp dir, and the cgroup leaf a real test made. */
struct fixture {
    char tmp[256];
    char leaf[PATH_MAX]; /* "" when none */
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    if (fx == NULL)
        return -1;
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    int n = snprintf(fx->tmp, sizeof fx->tmp, "%s/cell-test-devices-XXXXXX", base);
    if (n < 0 || (size_t)n >= sizeof fx->tmp || mkdtemp(fx->tmp) == NULL) {
        free(fx);
        return -1;
    }
    *state = fx;
    return 0;
}

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)ftw;
    if (flag == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

/* rmdir a cgroup; the kernel may need a moment after its last process is reaped. */
static int remove_cgroup(const char *dir)
{
    for (int i = 0; i < 100; i++) {
        if (rmdir(dir) == 0 || errno == ENOENT)
            return 0;
        if (errno != EBUSY)
            return -1;
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
    return -1;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    int rc = 0;
    if (fx->leaf[0] != '\0' && remove_cgroup(fx->leaf) < 0) {
        print_message("could not remove cgroup %s: %s\n", fx->leaf, strerror(errno));
        rc = -1;
    }
    nftw(fx->tmp, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    free(fx);
    return rc;
}

static void path_in(char *out, size_t len, const char *dir, const char *name)
{
    int n = snprintf(out, len, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= len)
        fail_msg("path too long");
}

static void read_text(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        fail_msg("open %s: %s", path, strerror(errno));
    ssize_t n = read(fd, buf, len - 1);
    close(fd);
    if (n < 0)
        fail_msg("read %s: %s", path, strerror(errno));
    buf[n] = '\0';
}

static void assert_file_text(const char *dir, const char *name, const char *expected)
{
    char path[PATH_MAX], text[4096];
    path_in(path, sizeof path, dir, name);
    read_text(path, text, sizeof text);
    if (strcmp(text, expected) != 0)
        fail_msg("%s holds\n%s\nnot\n%s", name, text, expected);
}

/* ---- devices_allowed ----------------------------------------------------------- */

static const struct cell_device_rule deny_all_then_null_rw[] = {DENY('a', ANY, ANY, RWM), ALLOW('c', 1, 3, R | W)};
static const struct cell_device_rule allow_then_narrower_deny[] = {ALLOW('c', 1, ANY, RWM), DENY('c', 1, 5, W)};
static const struct cell_device_rule deny_then_allow[] = {DENY('c', 1, 5, RWM), ALLOW('c', 1, 5, R)};
static const struct cell_device_rule any_type_read[] = {ALLOW('a', ANY, ANY, R)};
static const struct cell_device_rule any_major_minor_3[] = {ALLOW('c', ANY, 3, R)};
static const struct cell_device_rule block_8_any_minor[] = {ALLOW('b', 8, ANY, R | W)};
static const struct cell_device_rule split_read_write[] = {ALLOW('c', 1, 3, R), ALLOW('c', 1, 3, W)};

struct allowed_case {
    const char *what;
    const struct cell_device_rule *rules;
    size_t n;
    char type;
    unsigned major, minor, access;
    bool allowed;
};

#define RULES(r) r, sizeof(r) / sizeof((r)[0])

static const struct allowed_case allowed_cases[] = {
    {"null rw: read /dev/null", RULES(deny_all_then_null_rw), 'c', 1, 3, R, true},
    {"null rw: write /dev/null", RULES(deny_all_then_null_rw), 'c', 1, 3, W, true},
    {"null rw: open /dev/null O_RDWR", RULES(deny_all_then_null_rw), 'c', 1, 3, R | W, true},
    {"null rw: mknod /dev/null", RULES(deny_all_then_null_rw), 'c', 1, 3, M, false},
    {"null rw: read + mknod /dev/null", RULES(deny_all_then_null_rw), 'c', 1, 3, R | M, false},
    {"null rw: read /dev/zero (1:5)", RULES(deny_all_then_null_rw), 'c', 1, 5, R, false},
    {"null rw: read block 1:3", RULES(deny_all_then_null_rw), 'b', 1, 3, R, false},
    {"later deny: write 1:5", RULES(allow_then_narrower_deny), 'c', 1, 5, W, false},
    {"later deny: read 1:5", RULES(allow_then_narrower_deny), 'c', 1, 5, R, true},
    {"later deny: O_RDWR 1:5", RULES(allow_then_narrower_deny), 'c', 1, 5, R | W, false},
    {"later deny: write 1:3", RULES(allow_then_narrower_deny), 'c', 1, 3, W, true},
    {"later allow: read 1:5", RULES(deny_then_allow), 'c', 1, 5, R, true},
    {"later allow: write 1:5", RULES(deny_then_allow), 'c', 1, 5, W, false},
    {"type a: char", RULES(any_type_read), 'c', 1, 3, R, true},
    {"type a: block", RULES(any_type_read), 'b', 8, 0, R, true},
    {"type a: block write", RULES(any_type_read), 'b', 8, 0, W, false},
    {"any major: 1:3", RULES(any_major_minor_3), 'c', 1, 3, R, true},
    {"any major: 5:3", RULES(any_major_minor_3), 'c', 5, 3, R, true},
    {"any major: 1:4", RULES(any_major_minor_3), 'c', 1, 4, R, false},
    {"any minor: b 8:0 write", RULES(block_8_any_minor), 'b', 8, 0, W, true},
    {"any minor: b 8:17 read", RULES(block_8_any_minor), 'b', 8, 17, R, true},
    {"any minor: c 8:0", RULES(block_8_any_minor), 'c', 8, 0, R, false},
    {"any minor: b 9:0", RULES(block_8_any_minor), 'b', 9, 0, R, false},
    {"split r and w: read", RULES(split_read_write), 'c', 1, 3, R, true},
    {"split r and w: write", RULES(split_read_write), 'c', 1, 3, W, true},
    {"split r and w: O_RDWR needs one rule with both", RULES(split_read_write), 'c', 1, 3, R | W, false},
    {"empty list: read", NULL, 0, 'c', 1, 3, R, false},
    {"empty list: mknod", NULL, 0, 'b', 8, 0, M, false},
};

static void allowed_follows_the_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof allowed_cases / sizeof allowed_cases[0]; i++) {
        const struct allowed_case *c = &allowed_cases[i];
        bool got = devices_allowed(c->rules, c->n, c->type, c->major, c->minor, c->access);
        if (got != c->allowed)
            fail_msg("%s: %s, expected %s", c->what, got ? "allowed" : "denied", c->allowed ? "allowed" : "denied");
    }
}

/* ---- devices_validate ---------------------------------------------------------- */

static void validate_accepts_the_limits(void **state)
{
    (void)state;
    static struct cell_device_rule rules[DEVICES_MAX_RULES];
    for (size_t i = 0; i < DEVICES_MAX_RULES; i++)
        rules[i] = (struct cell_device_rule)ALLOW('c', INT32_MAX, (int64_t)i, RWM);
    rules[0] = (struct cell_device_rule)DENY('a', ANY, ANY, M);
    struct cell_err err = {0};
    assert_int_equal(devices_validate(rules, DEVICES_MAX_RULES, &err), 0);
    assert_int_equal(devices_validate(NULL, 0, &err), 0);
}

static void validate_refuses_too_many_rules(void **state)
{
    struct fixture *fx = *state;
    static struct cell_device_rule rules[DEVICES_MAX_RULES + 1];
    for (size_t i = 0; i < DEVICES_MAX_RULES + 1; i++)
        rules[i] = (struct cell_device_rule)ALLOW('c', 1, (int64_t)i, R);
    struct cell_err err = {0};
    assert_int_equal(devices_validate(rules, DEVICES_MAX_RULES + 1, &err), -1);
    assert_msg_contains(err, "257 device rules");
    assert_msg_contains(err, "at most 256");

    memset(&err, 0, sizeof err);
    assert_int_equal(devices_bpf_attach(-1, rules, DEVICES_MAX_RULES + 1, &err), -1);
    assert_msg_contains(err, "at most 256");

    memset(&err, 0, sizeof err);
    assert_int_equal(devices_v1_write_fake(fx->tmp, rules, DEVICES_MAX_RULES + 1, &err), -1);
    assert_msg_contains(err, "at most 256");
    char path[PATH_MAX];
    path_in(path, sizeof path, fx->tmp, "devices.deny");
    assert_int_equal(access(path, F_OK), -1); /* nothing written */
}

static void validate_names_the_bad_rule(void **state)
{
    (void)state;
    static const struct {
        struct cell_device_rule rule;
        const char *message;
    } cases[] = {
        {ALLOW('x', 1, 3, R), "type 'x'"},
        {ALLOW('c', -2, 3, R), "-2:3 is out of range"},
        {ALLOW('c', 1, (int64_t)INT32_MAX + 1, R), "1:2147483648 is out of range"},
        {ALLOW('c', 1, 3, 0), "access 0"},
        {ALLOW('c', 1, 3, 8), "access 0x8"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct cell_device_rule rules[] = {ALLOW('c', 1, 3, R), cases[i].rule};
        struct cell_err err = {0};
        assert_int_equal(devices_validate(rules, 2, &err), -1);
        assert_msg_contains(err, "device rule 1: ");
        assert_msg_contains(err, cases[i].message);
    }
}

/* ---- cgroup v1 lines, on a fake directory ---------------------------------------- */

static void v1_writes_deny_all_then_each_rule(void **state)
{
    struct fixture *fx = *state;
    const struct cell_device_rule rules[] = {ALLOW('c', 1, 3, R | W), ALLOW('b', ANY, ANY, M),
                                             ALLOW('c', 136, ANY, RWM), DENY('c', 1, 3, W)};
    struct cell_err err = {0};
    assert_int_equal(devices_v1_write_fake(fx->tmp, rules, 4, &err), 0);
    assert_file_text(fx->tmp, "devices.deny", "a *:* rwm\nc 1:3 w\n");
    assert_file_text(fx->tmp, "devices.allow", "c 1:3 rw\nb *:* m\nc 136:* rwm\n");
}

static void v1_writes_type_a(void **state)
{
    struct fixture *fx = *state;
    /* "a" only for every device with every access; else a 'c' and a 'b' line */
    const struct cell_device_rule rules[] = {ALLOW('a', 1, ANY, R), ALLOW('a', ANY, ANY, RWM), DENY('c', 10, 200, RWM),
                                             DENY('a', ANY, 7, M)};
    struct cell_err err = {0};
    assert_int_equal(devices_v1_write_fake(fx->tmp, rules, 4, &err), 0);
    assert_file_text(fx->tmp, "devices.allow", "c 1:* r\nb 1:* r\na\n");
    assert_file_text(fx->tmp, "devices.deny", "a *:* rwm\nc 10:200 rwm\nc *:7 m\nb *:7 m\n");
}

static void v1_wider_deny_takes_back_each_narrower_allow(void **state)
{
    struct fixture *fx = *state;
    const struct cell_device_rule rules[] = {ALLOW('c', 1, 3, R | W), ALLOW('c', 1, 5, R), ALLOW('b', 8, 0, R | W),
                                             DENY('c', ANY, ANY, W)};
    struct cell_err err = {0};
    assert_int_equal(devices_v1_write_fake(fx->tmp, rules, 4, &err), 0);
    assert_file_text(fx->tmp, "devices.allow", "c 1:3 rw\nc 1:5 r\nb 8:0 rw\n");
    /* the kernel removes "c 1:3 w" only for a line with exactly 1:3 */
    assert_file_text(fx->tmp, "devices.deny", "a *:* rwm\nc 1:3 w\nc *:* w\n");
}

static void v1_refuses_a_narrower_deny_before_writing(void **state)
{
    struct fixture *fx = *state;
    const struct cell_device_rule rules[] = {ALLOW('c', 1, 5, R), ALLOW('c', ANY, ANY, R | W), DENY('c', 1, 3, W)};
    struct cell_err err = {0};
    assert_int_equal(devices_v1_write_fake(fx->tmp, rules, 3, &err), -1);
    assert_msg_contains(err, "rule 2 (\"c 1:3 w\")");
    assert_msg_contains(err, "\"c *:* rw\"");
    char path[PATH_MAX];
    path_in(path, sizeof path, fx->tmp, "devices.deny");
    assert_int_equal(access(path, F_OK), -1); /* nothing written */
}

static void v1_error_names_the_file_and_the_rule(void **state)
{
    struct fixture *fx = *state;
    const struct cell_device_rule rules[] = {ALLOW('c', 1, 3, R | W)};
    struct cell_err err = {0};
    /* not fake: the files must exist, as in a cgroupfs */
    assert_int_equal(devices_v1_write(fx->tmp, rules, 1, &err), -1);
    assert_int_equal(err.errnum, ENOENT);
    assert_msg_contains(err, "/devices.deny to write \"a *:* rwm\" (the initial deny-all)");

    char path[PATH_MAX];
    path_in(path, sizeof path, fx->tmp, "devices.allow");
    assert_int_equal(mkdir(path, 0755), 0); /* a file that cannot be opened for writing */
    memset(&err, 0, sizeof err);
    assert_int_equal(devices_v1_write_fake(fx->tmp, rules, 1, &err), -1);
    assert_int_equal(err.errnum, EISDIR);
    assert_msg_contains(err, "/devices.allow to write \"c 1:3 rw\" (rule 0)");
}

/* ---- the real thing: a child in a cgroup with the rules --------------------------- */

/* What the child tries: open `path` with `flags`, or mknod a character
 * device `major:minor` named `path` in the temp dir. */
struct probe {
    bool mknod;
    const char *path;
    int flags;
    unsigned major, minor;
};

static unsigned probe_access(const struct probe *p)
{
    if (p->mknod)
        return M;
    int mode = p->flags & O_ACCMODE;
    return mode == O_RDONLY ? R : mode == O_WRONLY ? W : R | W;
}

/* The caller's cgroup path in the hierarchy of `controller` (NULL: v2). */
static bool self_cgroup(const char *controller, char *out, size_t len)
{
    char text[4096];
    read_text("/proc/self/cgroup", text, sizeof text);
    for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        char *c1 = strchr(line, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (c2 == NULL)
            continue;
        *c2 = '\0';
        bool match = false;
        if (controller == NULL) {
            match = strcmp(line, "0:") == 0;
        } else {
            for (char *save, *name = strtok_r(c1 + 1, ",", &save); name; name = strtok_r(NULL, ",", &save))
                match = match || strcmp(name, controller) == 0;
        }
        if (match) {
            int n = snprintf(out, len, "%s", c2 + 1);
            return n >= 0 && (size_t)n < len;
        }
    }
    return false;
}

static bool is_fs(const char *path, long magic)
{
    struct statfs sfs;
    return statfs(path, &sfs) == 0 && (long)sfs.f_type == magic;
}

/* Make a new leaf under the caller's own cgroup in the hierarchy mounted at
 * `mount` (`controller` as for self_cgroup); NULL, or why not. */
static const char *make_leaf(struct fixture *fx, const char *mount, const char *controller)
{
    static unsigned counter;
    char self[PATH_MAX];
    if (!self_cgroup(controller, self, sizeof self))
        return "the caller's cgroup is not in /proc/self/cgroup";
    int n = snprintf(fx->leaf, sizeof fx->leaf, "%s%s/test-devices.%d.%u", mount, strcmp(self, "/") == 0 ? "" : self,
                     (int)getpid(), counter++);
    if (n < 0 || (size_t)n >= sizeof fx->leaf)
        fail_msg("cgroup path too long");
    if (mkdir(fx->leaf, 0755) < 0) {
        int saved = errno;
        fx->leaf[0] = '\0';
        errno = saved;
        return "mkdir of a child cgroup failed";
    }
    return NULL;
}

/* The cgroup v2 mount point on this host, or NULL. */
static const char *v2_mount(void)
{
    if (is_fs("/sys/fs/cgroup/unified", CGROUP2_SUPER_MAGIC))
        return "/sys/fs/cgroup/unified";
    if (is_fs("/sys/fs/cgroup", CGROUP2_SUPER_MAGIC))
        return "/sys/fs/cgroup";
    return NULL;
}

static void skip_because(const char *why)
{
    print_message("skipped: %s\n", why);
    skip();
}

/* In the child: join the leaf, then try each probe; its exit status says
 * whether every probe ended as expected[]. */
static void run_child(const struct fixture *fx, const struct probe *probes, const int *expected, size_t n)
{
    char procs[PATH_MAX + 16];
    snprintf(procs, sizeof procs, "%s/cgroup.procs", fx->leaf);
    int fd = open(procs, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || dprintf(fd, "%d\n", (int)getpid()) < 0) {
        fprintf(stderr, "child: joining %s: %s\n", fx->leaf, strerror(errno));
        _exit(2);
    }
    close(fd);
    int failures = 0;
    for (size_t i = 0; i < n; i++) {
        const struct probe *p = &probes[i];
        int rc, got = 0;
        char node[PATH_MAX];
        if (p->mknod) {
            snprintf(node, sizeof node, "%s/%s", fx->tmp, p->path);
            rc = mknod(node, S_IFCHR | 0600, makedev(p->major, p->minor));
        } else {
            rc = open(p->path, p->flags | O_CLOEXEC);
            if (rc >= 0)
                close(rc);
        }
        if (rc < 0)
            got = errno;
        if (got != expected[i]) {
            fprintf(stderr, "child: %s %s (%u:%u, flags %#x): %s, expected %s\n", p->mknod ? "mknod" : "open", p->path,
                    p->major, p->minor, (unsigned)p->flags, got ? strerror(got) : "success",
                    expected[i] ? strerror(expected[i]) : "success");
            failures++;
        }
    }
    _exit(failures ? 1 : 0);
}

/* Fork a child into the leaf to try the probes: each must succeed where
 * devices_allowed allows it and fail with EPERM where it does not. */
static void probes_follow_devices_allowed(const struct fixture *fx, const struct cell_device_rule *rules, size_t n,
                                          struct probe *probes, size_t count)
{
    int expected[16];
    assert_true(count <= sizeof expected / sizeof expected[0]);
    for (size_t i = 0; i < count; i++) {
        if (!probes[i].mknod) {
            struct stat st;
            if (stat(probes[i].path, &st) < 0 || !S_ISCHR(st.st_mode))
                fail_msg("%s is not a character device here", probes[i].path);
            probes[i].major = major(st.st_rdev);
            probes[i].minor = minor(st.st_rdev);
        }
        bool allowed = devices_allowed(rules, n, 'c', probes[i].major, probes[i].minor, probe_access(&probes[i]));
        expected[i] = allowed ? 0 : EPERM;
    }
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        run_child(fx, probes, expected, count);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("the child in %s found a probe that did not end as devices_allowed says (status %#x; see above)",
                 fx->leaf, (unsigned)status);
}

/* Make a v2 leaf and attach `rules`; skips when this host cannot. */
static void v2_leaf_with_rules(struct fixture *fx, const struct cell_device_rule *rules, size_t n)
{
    if (geteuid() != 0)
        skip_because("needs root (bpf(2) and a cgroup of its own)");
    const char *mount = v2_mount();
    if (mount == NULL)
        skip_because("no cgroup2 mount at /sys/fs/cgroup/unified or /sys/fs/cgroup");
    const char *why = make_leaf(fx, mount, NULL);
    if (why != NULL)
        fail_msg("%s (%s): %s", why, mount, strerror(errno));
    int fd = open(fx->leaf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(fd >= 0);
    struct cell_err err = {0};
    int rc = devices_bpf_attach(fd, rules, n, &err);
    close(fd);
    if (rc < 0)
        fail_msg("devices_bpf_attach: %s", err.msg);
}

static void bpf_allows_only_null_read_write(void **state)
{
    struct fixture *fx = *state;
    const struct cell_device_rule rules[] = {ALLOW('c', 1, 3, R | W)};
    v2_leaf_with_rules(fx, rules, 1);
    struct probe probes[] = {
        {.path = "/dev/null", .flags = O_RDWR},
        {.path = "/dev/null", .flags = O_RDONLY},
        {.path = "/dev/zero", .flags = O_RDONLY},
        {.path = "/dev/full", .flags = O_WRONLY},
        {.mknod = true, .path = "null", .major = 1, .minor = 3},
    };
    assert_int_equal(devices_allowed(rules, 1, 'c', 1, 5, R), false); /* /dev/zero must fail, below */
    probes_follow_devices_allowed(fx, rules, 1, probes, sizeof probes / sizeof probes[0]);
}

static void bpf_mknod_only_where_allowed(void **state)
{
    struct fixture *fx = *state;
    const struct cell_device_rule rules[] = {ALLOW('c', 1, 3, M)};
    v2_leaf_with_rules(fx, rules, 1);
    struct probe probes[] = {
        {.mknod = true, .path = "null", .major = 1, .minor = 3},
        {.mknod = true, .path = "zero", .major = 1, .minor = 5},
        {.path = "/dev/null", .flags = O_RDONLY},
    };
    probes_follow_devices_allowed(fx, rules, 1, probes, sizeof probes / sizeof probes[0]);
    char path[PATH_MAX];
    path_in(path, sizeof path, fx->tmp, "null");
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3));
    path_in(path, sizeof path, fx->tmp, "zero");
    assert_int_equal(stat(path, &st), -1);
}

static void bpf_last_match_wins(void **state)
{
    struct fixture *fx = *state;
    const struct cell_device_rule rules[] = {ALLOW('a', ANY, ANY, R | W), DENY('c', 1, 5, R), ALLOW('c', 1, 7, W)};
    v2_leaf_with_rules(fx, rules, 3);
    struct probe probes[] = {
        {.path = "/dev/null", .flags = O_RDWR},
        {.path = "/dev/zero", .flags = O_RDONLY},
        {.path = "/dev/zero", .flags = O_WRONLY},
        {.path = "/dev/zero", .flags = O_RDWR},
        {.path = "/dev/full", .flags = O_WRONLY},
        {.path = "/dev/full", .flags = O_RDONLY},
        {.mknod = true, .path = "null", .major = 1, .minor = 3},
    };
    probes_follow_devices_allowed(fx, rules, 3, probes, sizeof probes / sizeof probes[0]);
}

static void bpf_empty_list_denies_everything(void **state)
{
    struct fixture *fx = *state;
    v2_leaf_with_rules(fx, NULL, 0);
    struct probe probes[] = {
        {.path = "/dev/null", .flags = O_RDONLY},
        {.path = "/dev/zero", .flags = O_WRONLY},
        {.mknod = true, .path = "null", .major = 1, .minor = 3},
    };
    probes_follow_devices_allowed(fx, NULL, 0, probes, sizeof probes / sizeof probes[0]);
}

static void bpf_accepts_the_most_rules(void **state)
{
    struct fixture *fx = *state;
    static struct cell_device_rule rules[DEVICES_MAX_RULES];
    for (size_t i = 0; i < DEVICES_MAX_RULES; i++)
        rules[i] = (struct cell_device_rule)DENY('c', 1, 5, R);
    rules[DEVICES_MAX_RULES - 2] = (struct cell_device_rule)ALLOW('c', 1, 5, W);
    rules[DEVICES_MAX_RULES - 1] = (struct cell_device_rule)ALLOW('c', 1, 3, R);
    v2_leaf_with_rules(fx, rules, DEVICES_MAX_RULES);
    struct probe probes[] = {
        {.path = "/dev/null", .flags = O_RDONLY},
        {.path = "/dev/null", .flags = O_WRONLY},
        {.path = "/dev/zero", .flags = O_RDONLY},
        {.path = "/dev/zero", .flags = O_WRONLY},
    };
    probes_follow_devices_allowed(fx, rules, DEVICES_MAX_RULES, probes, sizeof probes / sizeof probes[0]);
}

/* Make a leaf of the v1 devices hierarchy and write `rules`; skips when
 * this host has none. */
static void v1_leaf_with_rules(struct fixture *fx, const struct cell_device_rule *rules, size_t n)
{
    if (geteuid() != 0)
        skip_because("needs root (a cgroup of its own)");
    const char *mount = "/sys/fs/cgroup/devices";
    if (!is_fs(mount, CGROUP_SUPER_MAGIC) || access("/sys/fs/cgroup/devices/devices.allow", F_OK) < 0)
        skip_because("no cgroup v1 devices hierarchy at /sys/fs/cgroup/devices");
    const char *why = make_leaf(fx, mount, "devices");
    if (why != NULL)
        fail_msg("%s (%s): %s", why, mount, strerror(errno));
    struct cell_err err = {0};
    if (devices_v1_write(fx->leaf, rules, n, &err) < 0)
        fail_msg("devices_v1_write: %s", err.msg);
}

static void v1_real_allows_only_null_read_write(void **state)
{
    struct fixture *fx = *state;
    const struct cell_device_rule rules[] = {ALLOW('c', 1, 3, R | W)};
    v1_leaf_with_rules(fx, rules, 1);
    struct probe probes[] = {
        {.path = "/dev/null", .flags = O_RDWR},
        {.path = "/dev/zero", .flags = O_RDONLY},
        {.mknod = true, .path = "null", .major = 1, .minor = 3},
    };
    probes_follow_devices_allowed(fx, rules, 1, probes, sizeof probes / sizeof probes[0]);
}

static void v1_real_deny_takes_back_access(void **state)
{
    struct fixture *fx = *state;
    const struct cell_device_rule rules[] = {ALLOW('c', 1, 3, R | W), ALLOW('c', 1, 5, R | W), DENY('c', 1, 5, W),
                                             DENY('c', ANY, ANY, M), DENY('c', ANY, ANY, W)};
    v1_leaf_with_rules(fx, rules, 5);
    struct probe probes[] = {
        {.path = "/dev/null", .flags = O_RDONLY}, {.path = "/dev/null", .flags = O_WRONLY},
        {.path = "/dev/zero", .flags = O_RDONLY}, {.path = "/dev/zero", .flags = O_WRONLY},
        {.path = "/dev/full", .flags = O_RDONLY},
    };
    probes_follow_devices_allowed(fx, rules, 5, probes, sizeof probes / sizeof probes[0]);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(allowed_follows_the_table),
        T(validate_accepts_the_limits),
        T(validate_refuses_too_many_rules),
        T(validate_names_the_bad_rule),
        T(v1_writes_deny_all_then_each_rule),
        T(v1_writes_type_a),
        T(v1_wider_deny_takes_back_each_narrower_allow),
        T(v1_refuses_a_narrower_deny_before_writing),
        T(v1_error_names_the_file_and_the_rule),
        T(bpf_allows_only_null_read_write),
        T(bpf_mknod_only_where_allowed),
        T(bpf_last_match_wins),
        T(bpf_empty_list_denies_everything),
        T(bpf_accepts_the_most_rules),
        T(v1_real_allows_only_null_read_write),
        T(v1_real_deny_takes_back_access),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
