/* test_cgroup.c - unit tests for the cgroup backends (src/lib/sandbox/cgroup.c)
 * in `fake` mode: each test builds a fake cgroupfs directory tree under a
 * temporary directory for a pure v2 host, a hybrid host (v1 memory/pids/cpu
 * plus v2 at unified/) or a v1-only host, then checks layout discovery, the
 * leaves and limit files cgroup_create writes, controller delegation in the v2
 * parent, OOM detection, attach/kill, and that cgroup_destroy removes every
 * directory it made and nothing else. */
#include "cell/cell.h"
#include "sandbox/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#define assert_msg_contains(err, needle)                                                                               \
    do {                                                                                                               \
        if (strstr((err).msg, (needle)) == NULL)                                                                       \
            fail_msg("error message \"%s\" does not contain \"%s\"", (err).msg, (needle));                             \
    } while (0)

#define OWNER 4321
#define SELF_PATH "/user.slice/user-1000.slice/session-1.scope"

/* Per-test state: a temp dir with the fake cgroupfs at fs/, and a spec. */
struct fixture {
    char tmp[256];
    char fs[300];
    struct cell_spec spec;
    struct cgroup_layout layout;
    struct cell_cgroup cg;
    bool created;
};

/* ---- file helpers -------------------------------------------------------------- */

static void mkdirs(const char *path)
{
    char buf[PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0755) < 0 && errno != EEXIST)
                fail_msg("mkdir %s: %s", buf, strerror(errno));
            *p = '/';
        }
    }
    if (mkdir(buf, 0755) < 0 && errno != EEXIST)
        fail_msg("mkdir %s: %s", buf, strerror(errno));
}

static void pathf(char *out, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void pathf(char *out, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= len)
        fail_msg("path too long");
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        fail_msg("open %s: %s", path, strerror(errno));
    fputs(text, f);
    fclose(f);
}

/* The file's contents with one trailing newline removed. */
static const char *read_text(const char *path)
{
    static char buf[4096];
    FILE *f = fopen(path, "r");
    if (f == NULL)
        fail_msg("open %s: %s", path, strerror(errno));
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    if (n && buf[n - 1] == '\n')
        buf[n - 1] = '\0';
    return buf;
}

static bool exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Assert dir/file holds exactly `want`. */
static void assert_file(const char *dir, const char *file, const char *want)
{
    char path[PATH_MAX];
    pathf(path, sizeof path, "%s/%s", dir, file);
    if (!exists(path))
        fail_msg("%s was not written (expected \"%s\")", path, want);
    const char *got = read_text(path);
    if (strcmp(got, want) != 0)
        fail_msg("%s holds \"%s\", expected \"%s\"", path, got, want);
}

static void assert_no_file(const char *dir, const char *file)
{
    char path[PATH_MAX];
    pathf(path, sizeof path, "%s/%s", dir, file);
    if (exists(path))
        fail_msg("%s exists but should not", path);
}

/* Whether the space-separated list in dir/file contains `word`. */
static bool list_has(const char *dir, const char *file, const char *word)
{
    char path[PATH_MAX];
    pathf(path, sizeof path, "%s/%s", dir, file);
    if (!exists(path))
        return false;
    char text[4096];
    snprintf(text, sizeof text, "%s", read_text(path));
    for (char *save = NULL, *w = strtok_r(text, " \n", &save); w; w = strtok_r(NULL, " \n", &save))
        if (strcmp(w, word) == 0 || (w[0] == '+' && strcmp(w + 1, word) == 0))
            return true;
    return false;
}

static size_t list_count(const char *dir, const char *file, const char *word)
{
    char path[PATH_MAX];
    pathf(path, sizeof path, "%s/%s", dir, file);
    char text[4096];
    snprintf(text, sizeof text, "%s", read_text(path));
    size_t n = 0;
    for (char *save = NULL, *w = strtok_r(text, " \n", &save); w; w = strtok_r(NULL, " \n", &save))
        if (strcmp(w, word) == 0 || (w[0] == '+' && strcmp(w + 1, word) == 0))
            n++;
    return n;
}

/* Number of entries (files and directories, not . and ..) under dir, recursively. */
static int count_cb_n;
static int count_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)path, (void)st, (void)flag;
    if (ftw->level > 0)
        count_cb_n++;
    return 0;
}
static int tree_size(const char *dir)
{
    count_cb_n = 0;
    nftw(dir, count_cb, 16, FTW_PHYS);
    return count_cb_n;
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

/* ---- fixtures ------------------------------------------------------------------ */

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    if (fx == NULL)
        return -1;
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    int n = snprintf(fx->tmp, sizeof fx->tmp, "%s/cell-test-cgroup-XXXXXX", base);
    if (n < 0 || (size_t)n >= sizeof fx->tmp || mkdtemp(fx->tmp) == NULL) {
        free(fx);
        return -1;
    }
    snprintf(fx->fs, sizeof fx->fs, "%s/fs", fx->tmp);
    mkdir(fx->fs, 0755);
    cell_spec_init(&fx->spec);
    fx->spec.name = strdup("web");
    fx->cg.v2_fd = -1;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    if (fx->created) {
        struct cell_err err;
        cgroup_destroy(&fx->cg, &err);
    }
    nftw(fx->tmp, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    cell_spec_free(&fx->spec);
    free(fx);
    return 0;
}

/* (a) pure v2: fs is the cgroup2 root; the caller is in SELF_PATH. */
static void make_unified(struct fixture *fx)
{
    char p[PATH_MAX];
    pathf(p, sizeof p, "%s%s", fx->fs, SELF_PATH);
    mkdirs(p);
    struct cell_err err = {0};
    if (cgroup_layout_from(fx->fs, CGROUP_MODE_UNIFIED, "0::" SELF_PATH "\n", true, &fx->layout, &err) != 0)
        fail_msg("cgroup_layout_from: %s", err.msg);
}

static const char hybrid_self[] = "12:pids:" SELF_PATH "\n"
                                  "11:cpu,cpuacct:/user.slice\n"
                                  "9:memory:/user.slice/user-1000.slice\n"
                                  "5:devices:/user.slice\n"
                                  "1:name=systemd:" SELF_PATH "\n"
                                  "0::" SELF_PATH "\n";

/* (b) hybrid: v1 memory, pids, cpu at fs/<controller>, v2 at fs/unified. */
static void make_hybrid(struct fixture *fx, bool with_cpu)
{
    char p[PATH_MAX];
    pathf(p, sizeof p, "%s/unified%s", fx->fs, SELF_PATH);
    mkdirs(p);
    pathf(p, sizeof p, "%s/pids%s", fx->fs, SELF_PATH);
    mkdirs(p);
    pathf(p, sizeof p, "%s/memory/user.slice/user-1000.slice", fx->fs);
    mkdirs(p);
    if (with_cpu) {
        pathf(p, sizeof p, "%s/cpu/user.slice", fx->fs);
        mkdirs(p);
    }
    struct cell_err err = {0};
    if (cgroup_layout_from(fx->fs, CGROUP_MODE_HYBRID, hybrid_self, true, &fx->layout, &err) != 0)
        fail_msg("cgroup_layout_from: %s", err.msg);
}

static const char v1_self[] = "7:pids:/\n"
                              "5:memory:/\n"
                              "3:cpu,cpuacct:/\n"
                              "1:name=systemd:/init.scope\n";

/* (c) v1 only: each controller's root is the caller's cgroup (as in a container). */
static void make_v1(struct fixture *fx, bool with_pids)
{
    char p[PATH_MAX];
    pathf(p, sizeof p, "%s/memory", fx->fs);
    mkdirs(p);
    pathf(p, sizeof p, "%s/cpu", fx->fs);
    mkdirs(p);
    if (with_pids) {
        pathf(p, sizeof p, "%s/pids", fx->fs);
        mkdirs(p);
    }
    struct cell_err err = {0};
    if (cgroup_layout_from(fx->fs, CGROUP_MODE_V1, v1_self, true, &fx->layout, &err) != 0)
        fail_msg("cgroup_layout_from: %s", err.msg);
}

static void set_limits(struct fixture *fx, uint64_t memory, uint64_t pids, uint64_t cpu_millis)
{
    fx->spec.limits.memory_bytes = memory;
    fx->spec.limits.pids = pids;
    fx->spec.limits.cpu_millis = cpu_millis;
}

static void create_ok(struct fixture *fx)
{
    struct cell_err err = {0};
    if (cgroup_create(&fx->layout, &fx->spec, OWNER, &fx->cg, &err) != 0)
        fail_msg("cgroup_create: %s", err.msg);
    fx->created = true;
}

static void destroy_ok(struct fixture *fx)
{
    struct cell_err err = {0};
    if (cgroup_destroy(&fx->cg, &err) != 0)
        fail_msg("cgroup_destroy: %s", err.msg);
    fx->created = false;
}

static void expected_path(struct fixture *fx, char *out, size_t len, const char *hier, const char *rel)
{
    pathf(out, len, "%s%s%s%s/cell.web.%d", fx->fs, hier[0] ? "/" : "", hier, rel, OWNER);
}

/* ---- layout -------------------------------------------------------------------- */

static void layout_unified(void **state)
{
    struct fixture *fx = *state;
    make_unified(fx);
    char want[PATH_MAX];
    pathf(want, sizeof want, "%s%s", fx->fs, SELF_PATH);
    assert_true(fx->layout.fake);
    assert_true(fx->layout.v2_unified);
    assert_string_equal(fx->layout.v2_dir, want);
    for (int c = 0; c < CGROUP_V1_COUNT; c++)
        assert_string_equal(fx->layout.v1_dir[c], "");
    assert_true(cgroup_layout_usable(&fx->layout));
}

static void layout_unified_root_cgroup(void **state)
{
    struct fixture *fx = *state;
    struct cell_err err = {0};
    assert_int_equal(cgroup_layout_from(fx->fs, CGROUP_MODE_UNIFIED, "0::/\n", true, &fx->layout, &err), 0);
    assert_string_equal(fx->layout.v2_dir, fx->fs);
}

static void layout_hybrid(void **state)
{
    struct fixture *fx = *state;
    make_hybrid(fx, true);
    char want[PATH_MAX];
    assert_false(fx->layout.v2_unified);
    pathf(want, sizeof want, "%s/unified%s", fx->fs, SELF_PATH);
    assert_string_equal(fx->layout.v2_dir, want);
    pathf(want, sizeof want, "%s/memory/user.slice/user-1000.slice", fx->fs);
    assert_string_equal(fx->layout.v1_dir[CGROUP_V1_MEMORY], want);
    pathf(want, sizeof want, "%s/pids%s", fx->fs, SELF_PATH);
    assert_string_equal(fx->layout.v1_dir[CGROUP_V1_PIDS], want);
    pathf(want, sizeof want, "%s/cpu/user.slice", fx->fs);
    assert_string_equal(fx->layout.v1_dir[CGROUP_V1_CPU], want);
}

static void layout_v1(void **state)
{
    struct fixture *fx = *state;
    make_v1(fx, true);
    char want[PATH_MAX];
    assert_false(fx->layout.v2_unified);
    assert_string_equal(fx->layout.v2_dir, "");
    pathf(want, sizeof want, "%s/memory", fx->fs);
    assert_string_equal(fx->layout.v1_dir[CGROUP_V1_MEMORY], want);
    pathf(want, sizeof want, "%s/pids", fx->fs);
    assert_string_equal(fx->layout.v1_dir[CGROUP_V1_PIDS], want);
    pathf(want, sizeof want, "%s/cpu", fx->fs);
    assert_string_equal(fx->layout.v1_dir[CGROUP_V1_CPU], want);
    assert_true(cgroup_layout_usable(&fx->layout));
}

static void layout_missing_directories_left_empty(void **state)
{
    struct fixture *fx = *state;
    make_hybrid(fx, false); /* no fs/cpu */
    assert_string_equal(fx->layout.v1_dir[CGROUP_V1_CPU], "");
    assert_true(fx->layout.v1_dir[CGROUP_V1_MEMORY][0] != '\0');

    struct cell_err err = {0};
    assert_int_equal(cgroup_layout_from(fx->fs, CGROUP_MODE_UNIFIED, "0::/nonexistent\n", true, &fx->layout, &err), 0);
    assert_string_equal(fx->layout.v2_dir, "");
}

static void layout_cpu_not_matched_by_cpuset_or_cpuacct(void **state)
{
    struct fixture *fx = *state;
    char p[PATH_MAX];
    pathf(p, sizeof p, "%s/cpu/a", fx->fs);
    mkdirs(p);
    struct cell_err err = {0};
    assert_int_equal(cgroup_layout_from(fx->fs, CGROUP_MODE_V1, "3:cpuset:/a\n4:cpuacct:/a\n", true, &fx->layout, &err),
                     0);
    assert_string_equal(fx->layout.v1_dir[CGROUP_V1_CPU], "");
}

static void layout_v1_mode_ignores_v2_line(void **state)
{
    struct fixture *fx = *state;
    struct cell_err err = {0};
    assert_int_equal(cgroup_layout_from(fx->fs, CGROUP_MODE_V1, "0::/\n", true, &fx->layout, &err), 0);
    assert_string_equal(fx->layout.v2_dir, "");
}

static void layout_empty_is_not_usable(void **state)
{
    struct fixture *fx = *state;
    struct cell_err err = {0};
    assert_int_equal(cgroup_layout_from(fx->fs, CGROUP_MODE_V1, "", true, &fx->layout, &err), 0);
    assert_false(cgroup_layout_usable(&fx->layout));
}

/* ---- (a) pure v2 ------------------------------------------------------------------ */

static void v2_create_makes_leaf(void **state)
{
    struct fixture *fx = *state;
    make_unified(fx);
    create_ok(fx);
    char want[PATH_MAX];
    expected_path(fx, want, sizeof want, "", SELF_PATH);
    assert_string_equal(fx->cg.name, "cell.web.4321");
    assert_string_equal(fx->cg.v2_path, want);
    assert_true(is_dir(want));
    assert_true(fx->cg.v2_fd >= 0);
    assert_true(fx->cg.fake);
    for (int c = 0; c < CGROUP_V1_COUNT; c++)
        assert_string_equal(fx->cg.v1_path[c], "");
}

static void v2_create_writes_memory_max(void **state)
{
    struct fixture *fx = *state;
    make_unified(fx);
    set_limits(fx, 64 << 20, 0, 0);
    create_ok(fx);
    assert_file(fx->cg.v2_path, "memory.max", "67108864");
    assert_int_equal(fx->cg.memory_limit, 64 << 20);
    assert_no_file(fx->cg.v2_path, "pids.max");
    assert_no_file(fx->cg.v2_path, "cpu.max");
}

static void v2_create_writes_pids_max(void **state)
{
    struct fixture *fx = *state;
    make_unified(fx);
    set_limits(fx, 0, 100, 0);
    create_ok(fx);
    assert_file(fx->cg.v2_path, "pids.max", "100");
    assert_no_file(fx->cg.v2_path, "memory.max");
}

static void v2_create_writes_cpu_max(void **state)
{
    struct fixture *fx = *state;
    make_unified(fx);
    set_limits(fx, 0, 0, 500);
    create_ok(fx);
    assert_file(fx->cg.v2_path, "cpu.max", "50000 100000");
}

static void v2_create_writes_cpu_max_several_cpus(void **state)
{
    struct fixture *fx = *state;
    make_unified(fx);
    set_limits(fx, 0, 0, 2500);
    create_ok(fx);
    assert_file(fx->cg.v2_path, "cpu.max", "250000 100000");
}

static void v2_create_enables_controllers_in_parent(void **state)
{
    struct fixture *fx = *state;
    make_unified(fx);
    set_limits(fx, 1 << 30, 64, 1000);
    create_ok(fx);
    assert_true(list_has(fx->layout.v2_dir, "cgroup.subtree_control", "memory"));
    assert_true(list_has(fx->layout.v2_dir, "cgroup.subtree_control", "pids"));
    assert_true(list_has(fx->layout.v2_dir, "cgroup.subtree_control", "cpu"));
    assert_file(fx->cg.v2_path, "memory.max", "1073741824");
    assert_file(fx->cg.v2_path, "pids.max", "64");
    assert_file(fx->cg.v2_path, "cpu.max", "100000 100000");
}

static void v2_create_keeps_enabled_controllers(void **state)
{
    struct fixture *fx = *state;
    make_unified(fx);
    char p[PATH_MAX];
    pathf(p, sizeof p, "%s/cgroup.subtree_control", fx->layout.v2_dir);
    write_text(p, "cpuset cpu io\n");
    set_limits(fx, 1 << 30, 64, 1000);
    create_ok(fx);
    assert_int_equal(list_count(fx->layout.v2_dir, "cgroup.subtree_control", "cpu"), 1);
    assert_true(list_has(fx->layout.v2_dir, "cgroup.subtree_control", "cpuset"));
    assert_true(list_has(fx->layout.v2_dir, "cgroup.subtree_control", "io"));
    assert_true(list_has(fx->layout.v2_dir, "cgroup.subtree_control", "memory"));
    assert_true(list_has(fx->layout.v2_dir, "cgroup.subtree_control", "pids"));
}

static void v2_create_without_limits_writes_nothing(void **state)
{
    struct fixture *fx = *state;
    make_unified(fx);
    create_ok(fx);
    assert_int_equal(tree_size(fx->cg.v2_path), 0);
    assert_no_file(fx->layout.v2_dir, "cgroup.subtree_control");
}

static void v2_destroy_removes_leaf_only(void **state)
{
    struct fixture *fx = *state;
    make_unified(fx);
    set_limits(fx, 1 << 30, 64, 1000);
    create_ok(fx);
    char leaf[PATH_MAX];
    snprintf(leaf, sizeof leaf, "%s", fx->cg.v2_path);
    destroy_ok(fx);
    assert_false(exists(leaf));
    assert_true(is_dir(fx->layout.v2_dir));
    assert_string_equal(fx->cg.v2_path, "");
    assert_int_equal(fx->cg.v2_fd, -1);
    /* a second destroy is harmless */
    destroy_ok(fx);
}

static void v2_create_existing_leaf_fails_and_keeps_it(void **state)
{
    struct fixture *fx = *state;
    make_unified(fx);
    char leaf[PATH_MAX];
    expected_path(fx, leaf, sizeof leaf, "", SELF_PATH);
    mkdirs(leaf);
    struct cell_err err = {0};
    assert_int_equal(cgroup_create(&fx->layout, &fx->spec, OWNER, &fx->cg, &err), -1);
    assert_msg_contains(err, "cell.web.4321");
    assert_msg_contains(err, "File exists");
    assert_true(is_dir(leaf)); /* not ours: left alone */
}

/* The caller's cgroup cannot delegate controllers (on a real host: it holds
 * processes): the leaf goes under <root>/cell, with controllers enabled there. */
static void v2_create_falls_back_to_root_cell_parent(void **state)
{
    struct fixture *fx = *state;
    make_unified(fx);
    char p[PATH_MAX];
    pathf(p, sizeof p, "%s/cgroup.subtree_control", fx->layout.v2_dir);
    mkdirs(p); /* cannot be written */
    set_limits(fx, 1 << 30, 0, 0);
    struct cell_err err = {0};
    assert_int_equal(cgroup_create(&fx->layout, &fx->spec, OWNER, &fx->cg, &err), 0);
    char leaf[PATH_MAX];
    pathf(leaf, sizeof leaf, "%s/cell/cell.web.4321", fx->fs);
    assert_string_equal(fx->cg.v2_path, leaf);
    assert_true(is_dir(leaf));
    assert_int_equal(cgroup_destroy(&fx->cg, &err), 0);
    assert_false(exists(leaf));
    /* the shared parent went with its last cell */
    pathf(p, sizeof p, "%s/cell", fx->fs);
    assert_false(exists(p));
}

static void v2_shared_parent_stays_while_another_cell_uses_it(void **state)
{
    struct fixture *fx = *state;
    make_unified(fx);
    char p[PATH_MAX];
    pathf(p, sizeof p, "%s/cgroup.subtree_control", fx->layout.v2_dir);
    mkdirs(p); /* cannot be written: the leaf goes under <root>/cell */
    set_limits(fx, 1 << 30, 0, 0);
    struct cell_err err = {0};
    assert_int_equal(cgroup_create(&fx->layout, &fx->spec, OWNER, &fx->cg, &err), 0);
    char other[PATH_MAX];
    pathf(other, sizeof other, "%s/cell/cell.other.99", fx->fs);
    mkdirs(other);
    assert_int_equal(cgroup_destroy(&fx->cg, &err), 0);
    assert_true(is_dir(other));
    rmdir(other);
}

static void v2_create_failure_leaves_nothing(void **state)
{
    struct fixture *fx = *state;
    make_unified(fx);
    /* neither the caller's nor the root's subtree_control can be written */
    char p[PATH_MAX];
    pathf(p, sizeof p, "%s/cgroup.subtree_control", fx->layout.v2_dir);
    mkdirs(p);
    pathf(p, sizeof p, "%s/cgroup.subtree_control", fx->fs);
    mkdirs(p);
    pathf(p, sizeof p, "%s/cell", fx->fs);
    mkdirs(p);
    set_limits(fx, 1 << 30, 0, 0);
    int before = tree_size(fx->fs);
    struct cell_err err = {0};
    assert_int_equal(cgroup_create(&fx->layout, &fx->spec, OWNER, &fx->cg, &err), -1);
    assert_msg_contains(err, "subtree_control");
    assert_msg_contains(err, "--memory");
    assert_int_equal(tree_size(fx->fs), before);
    char leaf[PATH_MAX];
    expected_path(fx, leaf, sizeof leaf, "", SELF_PATH);
    assert_false(exists(leaf));
}

/* A unified host whose v2 cgroup cannot be found cannot apply limits. */
static void v2_missing_cgroup_with_limits_fails_naming_flag(void **state)
{
    struct fixture *fx = *state;
    struct cell_err err = {0};
    assert_int_equal(cgroup_layout_from(fx->fs, CGROUP_MODE_UNIFIED, "0::/gone\n", true, &fx->layout, &err), 0);
    set_limits(fx, 1 << 30, 0, 0);
    int rc = cgroup_create(&fx->layout, &fx->spec, OWNER, &fx->cg, &err);
    fx->created = rc == 0;
    assert_int_equal(rc, -1);
    assert_msg_contains(err, "--memory");
}

static void v2_oom_killed_reads_memory_events(void **state)
{
    struct fixture *fx = *state;
    make_unified(fx);
    set_limits(fx, 1 << 20, 0, 0);
    create_ok(fx);
    char p[PATH_MAX];
    pathf(p, sizeof p, "%s/memory.events", fx->cg.v2_path);
    assert_false(cgroup_oom_killed(&fx->cg)); /* no file yet */
    write_text(p, "low 0\nhigh 0\nmax 12\noom 1\noom_kill 0\n");
    assert_false(cgroup_oom_killed(&fx->cg));
    write_text(p, "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\n");
    assert_true(cgroup_oom_killed(&fx->cg));
    assert_int_equal(cgroup_oom_kills(&fx->cg), 1);
    write_text(p, "oom_kill 7\nlow 0\n");
    assert_true(cgroup_oom_killed(&fx->cg));
    assert_int_equal(cgroup_oom_kills(&fx->cg), 7);
    write_text(p, "oom_group_kill 1\noom_kill 0\n");
    assert_false(cgroup_oom_killed(&fx->cg));
    assert_int_equal(cgroup_oom_kills(&fx->cg), 0);
}

static void v2_kill_all_writes_cgroup_kill(void **state)
{
    struct fixture *fx = *state;
    make_unified(fx);
    create_ok(fx);
    cgroup_kill_all(&fx->cg);
    assert_file(fx->cg.v2_path, "cgroup.kill", "1");
}

static void v2_attach_touches_no_v2_file(void **state)
{
    struct fixture *fx = *state;
    make_unified(fx);
    create_ok(fx);
    struct cell_err err = {0};
    assert_int_equal(cgroup_attach(&fx->cg, 1234, &err), 0);
    assert_no_file(fx->cg.v2_path, "cgroup.procs");
}

/* ---- (b) hybrid ------------------------------------------------------------------- */

static void hybrid_create_makes_v2_and_v1_leaves(void **state)
{
    struct fixture *fx = *state;
    make_hybrid(fx, true);
    set_limits(fx, 64 << 20, 50, 500);
    create_ok(fx);
    char want[PATH_MAX];
    expected_path(fx, want, sizeof want, "unified", SELF_PATH);
    assert_string_equal(fx->cg.v2_path, want);
    assert_true(is_dir(want));
    assert_true(fx->cg.v2_fd >= 0);
    expected_path(fx, want, sizeof want, "memory", "/user.slice/user-1000.slice");
    assert_string_equal(fx->cg.v1_path[CGROUP_V1_MEMORY], want);
    assert_true(is_dir(want));
    expected_path(fx, want, sizeof want, "pids", SELF_PATH);
    assert_string_equal(fx->cg.v1_path[CGROUP_V1_PIDS], want);
    assert_true(is_dir(want));
    expected_path(fx, want, sizeof want, "cpu", "/user.slice");
    assert_string_equal(fx->cg.v1_path[CGROUP_V1_CPU], want);
    assert_true(is_dir(want));
}

static void hybrid_create_writes_v1_limits(void **state)
{
    struct fixture *fx = *state;
    make_hybrid(fx, true);
    set_limits(fx, 64 << 20, 50, 500);
    create_ok(fx);
    assert_file(fx->cg.v1_path[CGROUP_V1_MEMORY], "memory.limit_in_bytes", "67108864");
    assert_file(fx->cg.v1_path[CGROUP_V1_PIDS], "pids.max", "50");
    assert_file(fx->cg.v1_path[CGROUP_V1_CPU], "cpu.cfs_quota_us", "50000");
    assert_file(fx->cg.v1_path[CGROUP_V1_CPU], "cpu.cfs_period_us", "100000");
}

static void hybrid_v2_leaf_holds_no_limits(void **state)
{
    struct fixture *fx = *state;
    make_hybrid(fx, true);
    set_limits(fx, 64 << 20, 50, 500);
    create_ok(fx);
    assert_no_file(fx->cg.v2_path, "memory.max");
    assert_no_file(fx->cg.v2_path, "pids.max");
    assert_no_file(fx->cg.v2_path, "cpu.max");
    assert_no_file(fx->layout.v2_dir, "cgroup.subtree_control");
}

static void hybrid_only_wanted_v1_leaves(void **state)
{
    struct fixture *fx = *state;
    make_hybrid(fx, true);
    set_limits(fx, 64 << 20, 0, 0);
    create_ok(fx);
    assert_true(fx->cg.v1_path[CGROUP_V1_MEMORY][0] != '\0');
    assert_string_equal(fx->cg.v1_path[CGROUP_V1_PIDS], "");
    assert_string_equal(fx->cg.v1_path[CGROUP_V1_CPU], "");
    assert_int_equal(tree_size(fx->layout.v1_dir[CGROUP_V1_PIDS]), 0);
    assert_int_equal(tree_size(fx->layout.v1_dir[CGROUP_V1_CPU]), 0);
}

static void hybrid_destroy_removes_every_leaf(void **state)
{
    struct fixture *fx = *state;
    make_hybrid(fx, true);
    int before = tree_size(fx->fs);
    set_limits(fx, 64 << 20, 50, 500);
    create_ok(fx);
    assert_true(tree_size(fx->fs) > before);
    char paths[1 + CGROUP_V1_COUNT][PATH_MAX];
    snprintf(paths[0], PATH_MAX, "%s", fx->cg.v2_path);
    for (int c = 0; c < CGROUP_V1_COUNT; c++)
        snprintf(paths[1 + c], PATH_MAX, "%s", fx->cg.v1_path[c]);
    destroy_ok(fx);
    for (int i = 0; i < 1 + CGROUP_V1_COUNT; i++)
        assert_false(exists(paths[i]));
    assert_int_equal(tree_size(fx->fs), before);
    for (int c = 0; c < CGROUP_V1_COUNT; c++)
        assert_string_equal(fx->cg.v1_path[c], "");
}

static void hybrid_missing_controller_fails_naming_flag(void **state)
{
    struct fixture *fx = *state;
    make_hybrid(fx, false); /* no cpu hierarchy */
    set_limits(fx, 64 << 20, 50, 500);
    int before = tree_size(fx->fs);
    struct cell_err err = {0};
    assert_int_equal(cgroup_create(&fx->layout, &fx->spec, OWNER, &fx->cg, &err), -1);
    assert_msg_contains(err, "--cpus");
    assert_msg_contains(err, "cpu");
    /* the v2, memory and pids leaves made before the failure are gone */
    assert_int_equal(tree_size(fx->fs), before);
}

static void hybrid_oom_killed_reads_v1_oom_control(void **state)
{
    struct fixture *fx = *state;
    make_hybrid(fx, true);
    set_limits(fx, 64 << 20, 0, 0);
    create_ok(fx);
    char p[PATH_MAX];
    pathf(p, sizeof p, "%s/memory.oom_control", fx->cg.v1_path[CGROUP_V1_MEMORY]);
    write_text(p, "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n");
    assert_false(cgroup_oom_killed(&fx->cg));
    write_text(p, "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
    assert_true(cgroup_oom_killed(&fx->cg));
    assert_int_equal(cgroup_oom_kills(&fx->cg), 2);
}

static void hybrid_attach_writes_pid_to_v1_leaves(void **state)
{
    struct fixture *fx = *state;
    make_hybrid(fx, true);
    set_limits(fx, 64 << 20, 50, 0);
    create_ok(fx);
    struct cell_err err = {0};
    assert_int_equal(cgroup_attach(&fx->cg, 1234, &err), 0);
    assert_file(fx->cg.v1_path[CGROUP_V1_MEMORY], "cgroup.procs", "1234");
    assert_file(fx->cg.v1_path[CGROUP_V1_PIDS], "cgroup.procs", "1234");
    assert_no_file(fx->cg.v2_path, "cgroup.procs"); /* v2 is joined at clone time */
    destroy_ok(fx);
}

/* ---- (c) v1 only -------------------------------------------------------------------- */

static void v1_create_writes_limits(void **state)
{
    struct fixture *fx = *state;
    make_v1(fx, true);
    set_limits(fx, 512 << 20, 20, 1500);
    create_ok(fx);
    char want[PATH_MAX];
    expected_path(fx, want, sizeof want, "memory", "");
    assert_string_equal(fx->cg.v1_path[CGROUP_V1_MEMORY], want);
    assert_true(is_dir(want));
    assert_file(want, "memory.limit_in_bytes", "536870912");
    expected_path(fx, want, sizeof want, "pids", "");
    assert_file(want, "pids.max", "20");
    expected_path(fx, want, sizeof want, "cpu", "");
    assert_file(want, "cpu.cfs_quota_us", "150000");
    assert_file(want, "cpu.cfs_period_us", "100000");
}

static void v1_has_no_v2_leaf(void **state)
{
    struct fixture *fx = *state;
    make_v1(fx, true);
    set_limits(fx, 512 << 20, 0, 0);
    create_ok(fx);
    assert_string_equal(fx->cg.v2_path, "");
    assert_int_equal(fx->cg.v2_fd, -1);
}

static void v1_destroy_removes_every_leaf(void **state)
{
    struct fixture *fx = *state;
    make_v1(fx, true);
    int before = tree_size(fx->fs);
    set_limits(fx, 512 << 20, 20, 1500);
    create_ok(fx);
    assert_true(tree_size(fx->fs) >= before + 3 + 3 /* three leaves, three limit files */);
    destroy_ok(fx);
    assert_int_equal(tree_size(fx->fs), before);
}

static void v1_missing_pids_fails_naming_flag(void **state)
{
    struct fixture *fx = *state;
    make_v1(fx, false);
    set_limits(fx, 512 << 20, 20, 0);
    int before = tree_size(fx->fs);
    struct cell_err err = {0};
    assert_int_equal(cgroup_create(&fx->layout, &fx->spec, OWNER, &fx->cg, &err), -1);
    assert_msg_contains(err, "--pids");
    assert_int_equal(tree_size(fx->fs), before);
}

static void v1_oom_killed_reads_oom_control(void **state)
{
    struct fixture *fx = *state;
    make_v1(fx, true);
    set_limits(fx, 512 << 20, 0, 0);
    create_ok(fx);
    char p[PATH_MAX];
    assert_false(cgroup_oom_killed(&fx->cg));
    pathf(p, sizeof p, "%s/memory.oom_control", fx->cg.v1_path[CGROUP_V1_MEMORY]);
    write_text(p, "oom_kill_disable 0\nunder_oom 1\noom_kill 0\n");
    assert_false(cgroup_oom_killed(&fx->cg));
    write_text(p, "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n");
    assert_true(cgroup_oom_killed(&fx->cg));
    assert_int_equal(cgroup_oom_kills(&fx->cg), 3);
}

static void v1_kill_all_kills_listed_processes(void **state)
{
    struct fixture *fx = *state;
    make_v1(fx, true);
    set_limits(fx, 0, 20, 0);
    create_ok(fx);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        for (;;)
            pause();
    }
    struct cell_err err = {0};
    assert_int_equal(cgroup_attach(&fx->cg, child, &err), 0);
    cgroup_kill_all(&fx->cg);
    int status = 0;
    pid_t got = 0;
    for (int i = 0; i < 500 && got == 0; i++) { /* up to 5 s */
        got = waitpid(child, &status, WNOHANG);
        if (got == 0)
            usleep(10000);
    }
    if (got != child || !WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        fail_msg("the process listed in the v1 leaf was not SIGKILLed");
    }
}

static void hybrid_early_makes_v2_plans_v1(void **state)
{
    struct fixture *fx = *state;
    make_hybrid(fx, true);
    set_limits(fx, 64 << 20, 50, 0);
    struct cell_err err = {0};
    assert_int_equal(cgroup_create_early(&fx->layout, &fx->spec, OWNER, 0, &fx->cg, &err), 0);
    fx->created = true;
    /* what clone3 needs exists; the v1 leaves are known but not made yet */
    assert_true(is_dir(fx->cg.v2_path));
    assert_true(fx->cg.v1_path[CGROUP_V1_MEMORY][0] != '\0');
    assert_false(is_dir(fx->cg.v1_path[CGROUP_V1_MEMORY]));
    assert_false(is_dir(fx->cg.v1_path[CGROUP_V1_PIDS]));
    assert_string_equal(fx->cg.v1_path[CGROUP_V1_CPU], "");
    /* _late makes them with their limits */
    assert_int_equal(cgroup_create_late(&fx->spec, &fx->cg, &err), 0);
    assert_file(fx->cg.v1_path[CGROUP_V1_MEMORY], "memory.limit_in_bytes", "67108864");
    assert_file(fx->cg.v1_path[CGROUP_V1_PIDS], "pids.max", "50");
}

static void hybrid_destroy_after_early_only_removes_what_exists(void **state)
{
    struct fixture *fx = *state;
    make_hybrid(fx, true);
    int before = tree_size(fx->fs);
    set_limits(fx, 64 << 20, 50, 500);
    struct cell_err err = {0};
    assert_int_equal(cgroup_create_early(&fx->layout, &fx->spec, OWNER, 0, &fx->cg, &err), 0);
    /* a keeper's copy of cg, taken after _early, cleans up even so */
    assert_int_equal(cgroup_destroy(&fx->cg, &err), 0);
    assert_int_equal(tree_size(fx->fs), before);
}

static void hybrid_early_missing_controller_fails_before_anything(void **state)
{
    struct fixture *fx = *state;
    make_hybrid(fx, false); /* no cpu hierarchy */
    int before = tree_size(fx->fs);
    set_limits(fx, 64 << 20, 0, 500);
    struct cell_err err = {0};
    assert_int_equal(cgroup_create_early(&fx->layout, &fx->spec, OWNER, 0, &fx->cg, &err), -1);
    assert_non_null(strstr(err.msg, "--cpus"));
    assert_int_equal(tree_size(fx->fs), before);
}

static void hybrid_join_self_writes_zero_to_v1_tasks(void **state)
{
    struct fixture *fx = *state;
    make_hybrid(fx, true);
    set_limits(fx, 64 << 20, 50, 0);
    create_ok(fx);
    struct cell_err err = {0};
    assert_int_equal(cgroup_join_self(&fx->cg, "", &err), 0);
    assert_file(fx->cg.v1_path[CGROUP_V1_MEMORY], "tasks", "0");
    assert_file(fx->cg.v1_path[CGROUP_V1_PIDS], "tasks", "0");
    assert_no_file(fx->cg.v2_path, "tasks");
    /* under a prefix that does not hold the tree, it fails naming the path */
    assert_int_equal(cgroup_join_self(&fx->cg, "/nonexistent-prefix", &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent-prefix"));
}

static void generation_names_a_second_instance(void **state)
{
    struct fixture *fx = *state;
    make_hybrid(fx, true);
    set_limits(fx, 64 << 20, 0, 0);
    struct cell_err err = {0};
    assert_int_equal(cgroup_create_early(&fx->layout, &fx->spec, OWNER, 3, &fx->cg, &err), 0);
    fx->created = true;
    assert_string_equal(fx->cg.name, "cell.web.g3.4321");
    assert_non_null(strstr(fx->cg.v2_path, "/cell.web.g3.4321"));
    assert_non_null(strstr(fx->cg.v1_path[CGROUP_V1_MEMORY], "/cell.web.g3.4321"));
}

/* A cgroup path longer than CGROUP_PATH_MAX is refused, naming it, and no
 * cut path is kept (teardown would remove what a cut path names). */
static void path_too_long_is_refused_and_nothing_kept(void **state)
{
    struct fixture *fx = *state;
    char deep[CGROUP_PATH_MAX + 64] = "";
    while (strlen(deep) < CGROUP_PATH_MAX - 40)
        strcat(deep, "/a-rather-long-slice-name.slice");
    char p[PATH_MAX], self[PATH_MAX + 16];
    pathf(p, sizeof p, "%s%s", fx->fs, deep);
    mkdirs(p);
    snprintf(self, sizeof self, "0::%s\n", deep);
    struct cell_err err = {0};
    assert_int_equal(cgroup_layout_from(fx->fs, CGROUP_MODE_UNIFIED, self, true, &fx->layout, &err), 0);
    int rc = cgroup_create(&fx->layout, &fx->spec, OWNER, &fx->cg, &err);
    fx->created = rc == 0;
    assert_int_equal(rc, -1);
    assert_int_equal(err.errnum, ENAMETOOLONG);
    assert_msg_contains(err, "cgroup cell.web.4321: its path would be longer than 511 bytes, under ");
    assert_string_equal(fx->cg.v2_path, "");
}

/* ---- the device list ---------------------------------------------------------- */

static const struct cell_device_rule null_only[] = {{.allow = true, .type = 'c', .major = 1, .minor = 3, .access = 3}};

static void want_devices(struct fixture *fx)
{
    fx->spec.oci.device_cgroup = true;
    fx->spec.oci.device_rules = malloc(sizeof null_only);
    memcpy(fx->spec.oci.device_rules, null_only, sizeof null_only);
    fx->spec.oci.ndevice_rules = 1;
}

/* a v1-only host: the list goes into a devices leaf, deny all first */
static void v1_devices_leaf_holds_the_list(void **state)
{
    struct fixture *fx = *state;
    char p[PATH_MAX];
    pathf(p, sizeof p, "%s/devices", fx->fs);
    mkdirs(p);
    make_v1(fx, true);
    struct cell_err err = {0};
    assert_int_equal(cgroup_layout_from(fx->fs, CGROUP_MODE_V1, "7:pids:/\n4:devices:/\n", true, &fx->layout, &err), 0);
    want_devices(fx);
    create_ok(fx);
    assert_false(fx->cg.devices_bpf);
    char want[PATH_MAX];
    expected_path(fx, want, sizeof want, "devices", "");
    assert_string_equal(fx->cg.v1_path[CGROUP_V1_DEVICES], want);
    assert_file(want, "devices.deny", "a *:* rwm"); /* read_text drops the last newline */
    assert_file(want, "devices.allow", "c 1:3 rw");
    /* the cell's init joins it like the other v1 leaves */
    assert_int_equal(cgroup_join_self(&fx->cg, "", &err), 0);
    assert_file(want, "tasks", "0");
    destroy_ok(fx);
    assert_false(is_dir(want));
}

/* a v1 host without the devices controller cannot enforce the list */
static void v1_without_devices_controller_fails_naming_the_field(void **state)
{
    struct fixture *fx = *state;
    make_v1(fx, true);
    want_devices(fx);
    struct cell_err err = {0};
    int rc = cgroup_create(&fx->layout, &fx->spec, OWNER, &fx->cg, &err);
    fx->created = rc == 0;
    assert_int_equal(rc, -1);
    assert_string_equal(err.msg, "linux.resources.devices: this host has no devices cgroup controller mounted");
}

/* with a v2 leaf (hybrid here) the list is an eBPF program on it, never a
 * v1 leaf (a test tree has no kernel to load it: test_devices loads it) */
static void hybrid_devices_go_to_the_v2_leaf(void **state)
{
    struct fixture *fx = *state;
    char p[PATH_MAX];
    pathf(p, sizeof p, "%s/devices/user.slice", fx->fs);
    mkdirs(p);
    make_hybrid(fx, true);
    assert_true(fx->layout.v1_dir[CGROUP_V1_DEVICES][0] != '\0');
    want_devices(fx);
    create_ok(fx);
    assert_true(fx->cg.devices_bpf);
    assert_string_equal(fx->cg.v1_path[CGROUP_V1_DEVICES], "");
    assert_int_equal(tree_size(p), 0);
}

/* ---- block device throttles ---------------------------------------------------- */

static void want_throttles(struct fixture *fx)
{
    static const struct cell_io_throttle t[] = {{CELL_IO_READ_BPS, 254, 0, 1048576}, {CELL_IO_WRITE_IOPS, 254, 0, 50}};
    fx->spec.oci.io_throttle = malloc(sizeof t);
    memcpy(fx->spec.oci.io_throttle, t, sizeof t);
    fx->spec.oci.nio_throttle = 2;
}

/* hybrid: a v1 blkio leaf, a file per kind */
static void hybrid_throttles_go_to_the_blkio_leaf(void **state)
{
    struct fixture *fx = *state;
    char p[PATH_MAX];
    pathf(p, sizeof p, "%s/blkio/user.slice", fx->fs);
    mkdirs(p);
    make_hybrid(fx, true);
    struct cell_err err = {0};
    const char self[] = "7:blkio:/user.slice\n0::" SELF_PATH "\n";
    assert_int_equal(cgroup_layout_from(fx->fs, CGROUP_MODE_HYBRID, self, true, &fx->layout, &err), 0);
    want_throttles(fx);
    create_ok(fx);
    char want[PATH_MAX];
    expected_path(fx, want, sizeof want, "blkio", "/user.slice");
    assert_string_equal(fx->cg.v1_path[CGROUP_V1_BLKIO], want);
    assert_file(want, "blkio.throttle.read_bps_device", "254:0 1048576");
    assert_file(want, "blkio.throttle.write_iops_device", "254:0 50");
    assert_no_file(want, "blkio.throttle.write_bps_device");
    assert_no_file(fx->cg.v2_path, "io.max");
}

/* pure v2: io.max, a line per device, with "io" delegated */
static void v2_throttles_go_to_io_max(void **state)
{
    struct fixture *fx = *state;
    make_unified(fx);
    want_throttles(fx);
    create_ok(fx);
    assert_file(fx->cg.v2_path, "io.max", "254:0 rbps=1048576 wiops=50");
    assert_true(list_has(fx->layout.v2_dir, "cgroup.subtree_control", "io"));
}

/* a v1 host without blkio: the field is named */
static void v1_without_blkio_fails_naming_the_field(void **state)
{
    struct fixture *fx = *state;
    make_v1(fx, true);
    want_throttles(fx);
    struct cell_err err = {0};
    int rc = cgroup_create(&fx->layout, &fx->spec, OWNER, &fx->cg, &err);
    fx->created = rc == 0;
    assert_int_equal(rc, -1);
    assert_string_equal(err.msg, "linux.resources.blockIO: this host has no blkio cgroup controller mounted");
}

/* ---- linux.cgroupsPath ----------------------------------------------------------- */

/* absolute: from each hierarchy's root, parents made; the name is the last part */
static void hybrid_cgroups_path_absolute(void **state)
{
    struct fixture *fx = *state;
    make_hybrid(fx, true);
    set_limits(fx, 64 << 20, 0, 0);
    fx->spec.oci.cgroups_path = strdup("/pods/pod1/ctr");
    create_ok(fx);
    char want[PATH_MAX];
    pathf(want, sizeof want, "%s/unified/pods/pod1/ctr", fx->fs);
    assert_string_equal(fx->cg.v2_path, want);
    assert_true(is_dir(want));
    pathf(want, sizeof want, "%s/memory/pods/pod1/ctr", fx->fs);
    assert_string_equal(fx->cg.v1_path[CGROUP_V1_MEMORY], want);
    assert_true(is_dir(want));
    assert_file(want, "memory.limit_in_bytes", "67108864");
    assert_string_equal(fx->cg.name, "ctr");
    /* removal takes the leaves; the parents stay, as runc leaves them */
    destroy_ok(fx);
    assert_false(is_dir(want));
    pathf(want, sizeof want, "%s/memory/pods/pod1", fx->fs);
    assert_true(is_dir(want));
}

/* relative: from the caller's own cgroup in each hierarchy */
static void hybrid_cgroups_path_relative(void **state)
{
    struct fixture *fx = *state;
    make_hybrid(fx, true);
    set_limits(fx, 0, 50, 0);
    fx->spec.oci.cgroups_path = strdup("sub/ctr");
    create_ok(fx);
    char want[PATH_MAX];
    pathf(want, sizeof want, "%s/unified%s/sub/ctr", fx->fs, SELF_PATH);
    assert_string_equal(fx->cg.v2_path, want);
    pathf(want, sizeof want, "%s/pids%s/sub/ctr", fx->fs, SELF_PATH);
    assert_string_equal(fx->cg.v1_path[CGROUP_V1_PIDS], want);
    assert_file(want, "pids.max", "50");
    /* one part only: right under the caller's */
    destroy_ok(fx);
    free(fx->spec.oci.cgroups_path);
    fx->spec.oci.cgroups_path = strdup("ctr2");
    create_ok(fx);
    pathf(want, sizeof want, "%s/unified%s/ctr2", fx->fs, SELF_PATH);
    assert_string_equal(fx->cg.v2_path, want);
}

/* a unified host's limits: the controllers enabled all the way down */
static void v2_cgroups_path_enables_controllers_along(void **state)
{
    struct fixture *fx = *state;
    make_unified(fx);
    set_limits(fx, 64 << 20, 0, 0);
    fx->spec.oci.cgroups_path = strdup("/pods/pod1/ctr");
    create_ok(fx);
    char dir[PATH_MAX];
    assert_true(list_has(fx->fs, "cgroup.subtree_control", "memory"));
    pathf(dir, sizeof dir, "%s/pods", fx->fs);
    assert_true(list_has(dir, "cgroup.subtree_control", "memory"));
    pathf(dir, sizeof dir, "%s/pods/pod1", fx->fs);
    assert_true(list_has(dir, "cgroup.subtree_control", "memory"));
    assert_file(fx->cg.v2_path, "memory.max", "67108864");
    /* the same path again: in use */
    struct cell_cgroup second;
    struct cell_err err = {0};
    assert_int_equal(cgroup_create(&fx->layout, &fx->spec, OWNER, &second, &err), -1);
    assert_msg_contains(err, "ctr");
    assert_int_equal(err.errnum, EEXIST);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(layout_unified),
        T(v1_devices_leaf_holds_the_list),
        T(v1_without_devices_controller_fails_naming_the_field),
        T(hybrid_devices_go_to_the_v2_leaf),
        T(hybrid_throttles_go_to_the_blkio_leaf),
        T(v2_throttles_go_to_io_max),
        T(v1_without_blkio_fails_naming_the_field),
        T(hybrid_cgroups_path_absolute),
        T(hybrid_cgroups_path_relative),
        T(v2_cgroups_path_enables_controllers_along),
        T(path_too_long_is_refused_and_nothing_kept),
        T(layout_unified_root_cgroup),
        T(layout_hybrid),
        T(layout_v1),
        T(layout_missing_directories_left_empty),
        T(layout_cpu_not_matched_by_cpuset_or_cpuacct),
        T(layout_v1_mode_ignores_v2_line),
        T(layout_empty_is_not_usable),
        T(v2_create_makes_leaf),
        T(v2_create_writes_memory_max),
        T(v2_create_writes_pids_max),
        T(v2_create_writes_cpu_max),
        T(v2_create_writes_cpu_max_several_cpus),
        T(v2_create_enables_controllers_in_parent),
        T(v2_create_keeps_enabled_controllers),
        T(v2_create_without_limits_writes_nothing),
        T(v2_destroy_removes_leaf_only),
        T(v2_create_existing_leaf_fails_and_keeps_it),
        T(v2_create_failure_leaves_nothing),
        T(v2_create_falls_back_to_root_cell_parent),
        T(v2_shared_parent_stays_while_another_cell_uses_it),
        T(v2_missing_cgroup_with_limits_fails_naming_flag),
        T(v2_oom_killed_reads_memory_events),
        T(v2_kill_all_writes_cgroup_kill),
        T(v2_attach_touches_no_v2_file),
        T(hybrid_create_makes_v2_and_v1_leaves),
        T(hybrid_create_writes_v1_limits),
        T(hybrid_v2_leaf_holds_no_limits),
        T(hybrid_only_wanted_v1_leaves),
        T(hybrid_destroy_removes_every_leaf),
        T(hybrid_early_makes_v2_plans_v1),
        T(generation_names_a_second_instance),
        T(hybrid_join_self_writes_zero_to_v1_tasks),
        T(hybrid_destroy_after_early_only_removes_what_exists),
        T(hybrid_early_missing_controller_fails_before_anything),
        T(hybrid_missing_controller_fails_naming_flag),
        T(hybrid_oom_killed_reads_v1_oom_control),
        T(hybrid_attach_writes_pid_to_v1_leaves),
        T(v1_create_writes_limits),
        T(v1_has_no_v2_leaf),
        T(v1_destroy_removes_every_leaf),
        T(v1_missing_pids_fails_naming_flag),
        T(v1_oom_killed_reads_oom_control),
        T(v1_kill_all_kills_listed_processes),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
