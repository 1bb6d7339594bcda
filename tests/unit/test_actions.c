/* test_actions.c - cellman's apply actions (src/cellman/actions.c) as apply
 * runs them: prepared on the host, then performed in a child inside a view
 * (here a chroot of a temporary directory with busybox as /bin/sh), its
 * outcome sent back through a pipe. Covers each action and its second run
 * (changed or not), template tokens and every template error, patch offsets
 * and already-applied patches, untar refusing entries that would land
 * outside its destination (and writing nothing then), exec and script
 * failures and timeouts, owners by name from the view's /etc/passwd.
 * Needs root (chroot, chown); skipped otherwise. */
#include "actions.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

/* outer/: the temporary directory; outer/view: the cell's root; outer/spec:
 * the desired-state directory on the "host" */
static char outer[PATH_MAX], view[PATH_MAX], spec[PATH_MAX];
static int output_fd = -1;

#define NEED_ROOT()                                                                                                    \
    do {                                                                                                               \
        if (geteuid() != 0)                                                                                            \
            skip();                                                                                                    \
    } while (0)

static void path_in(char *out, const char *dir, const char *rel)
{
    snprintf(out, PATH_MAX, "%s/%s", dir, rel);
}

static void put(const char *dir, const char *rel, const char *content, mode_t mode)
{
    char p[PATH_MAX];
    path_in(p, dir, rel);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

/* The content of dir/rel, or NULL when it is not there (freed by the caller). */
static char *slurp(const char *dir, const char *rel)
{
    char p[PATH_MAX];
    path_in(p, dir, rel);
    FILE *f = fopen(p, "re");
    if (f == NULL)
        return NULL;
    char *buf = calloc(1, 1 << 16);
    assert_non_null(buf);
    size_t n = fread(buf, 1, (1 << 16) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void assert_content(const char *rel, const char *want)
{
    char *got = slurp(view, rel);
    if (got == NULL)
        fail_msg("%s is missing", rel);
    if (strcmp(got, want) != 0)
        fail_msg("%s holds \"%s\", not \"%s\"", rel, got, want);
    free(got);
}

static bool exists(const char *dir, const char *rel)
{
    char p[PATH_MAX];
    struct stat st;
    path_in(p, dir, rel);
    return lstat(p, &st) == 0;
}

static struct stat stat_of(const char *rel)
{
    char p[PATH_MAX];
    struct stat st;
    path_in(p, view, rel);
    assert_int_equal(lstat(p, &st), 0);
    return st;
}

/* How many entries directory view/rel has (. and .. not counted). */
static int entries(const char *rel)
{
    char p[PATH_MAX];
    path_in(p, view, rel);
    DIR *d = opendir(p);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static void mkdir_in(const char *dir, const char *rel, mode_t mode)
{
    char p[PATH_MAX];
    path_in(p, dir, rel);
    assert_int_equal(mkdir(p, mode), 0);
}

static void copy_busybox(void)
{
    char dst[PATH_MAX];
    path_in(dst, view, "bin/busybox");
    int in = open("/bin/busybox", O_RDONLY | O_CLOEXEC);
    int out = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0755);
    assert_true(in >= 0 && out >= 0);
    char buf[65536];
    for (ssize_t n; (n = read(in, buf, sizeof buf)) > 0;)
        assert_int_equal(write(out, buf, (size_t)n), n);
    close(in);
    close(out);
    static const char *const applets[] = {"sh", "cat", "sleep", "echo"};
    for (size_t i = 0; i < sizeof applets / sizeof applets[0]; i++) {
        path_in(dst, view, "bin");
        strcat(dst, "/");
        strcat(dst, applets[i]);
        assert_int_equal(symlink("busybox", dst), 0);
    }
}

static int setup(void **state)
{
    (void)state;
    if (geteuid() != 0)
        return 0;
    snprintf(outer, sizeof outer, "/tmp/test_actions.XXXXXX");
    assert_non_null(mkdtemp(outer));
    path_in(view, outer, "view");
    path_in(spec, outer, "spec");
    mkdir_in(outer, "view", 0755);
    mkdir_in(outer, "spec", 0755);
    mkdir_in(view, "bin", 0755);
    mkdir_in(view, "etc", 0755);
    mkdir_in(view, "tmp", 0755);
    char p[PATH_MAX];
    path_in(p, view, "tmp");
    assert_int_equal(chmod(p, 01777), 0);
    copy_busybox();
    put(view, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1234:1234::/home/app:/bin/sh\n", 0644);
    put(view, "etc/group", "root:x:0:\nstaff:x:2345:\n", 0644);
    output_fd = -1;
    return 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    (void)state;
    if (geteuid() == 0 && outer[0])
        nftw(outer, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    outer[0] = '\0';
    if (output_fd >= 0)
        close(output_fd);
    output_fd = -1;
    return 0;
}

struct outcome {
    int rc;
    bool changed;
    char msg[sizeof(struct cell_err)];
};

/* Prepare `action` on the host, then run it in a child chrooted into the
 * view, as apply does. */
static struct outcome run(json_t *action)
{
    struct outcome o = {0};
    struct action_ctx ctx = {.cell_name = "web",
                             .spec_dir = spec,
                             .cell_root = "/var/lib/cell/cells/web",
                             .run_uid = 1000,
                             .run_gid = 1001,
                             .output_fd = output_fd};
    json_t *list = json_pack("[O]", action);
    struct action_prep prep;
    struct cell_err err = {0};
    if (actions_prepare(list, &ctx, &prep, &err) < 0) {
        json_decref(list);
        o.rc = -1;
        snprintf(o.msg, sizeof o.msg, "%s", err.msg);
        return o;
    }
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        if (chroot(view) < 0 || chdir("/") < 0)
            _exit(1);
        o.rc = action_run(action, 0, &prep, &ctx, &o.changed, &err);
        snprintf(o.msg, sizeof o.msg, "%s", o.rc < 0 ? err.msg : "");
        _exit(write(p[1], &o, sizeof o) == sizeof o ? 0 : 1);
    }
    close(p[1]);
    assert_int_equal(read(p[0], &o, sizeof o), (ssize_t)sizeof o);
    close(p[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    actions_release(&prep);
    json_decref(list);
    return o;
}

/* Run `action` (a new reference, released here): it succeeds, changing
 * something or not. */
static void ok(json_t *action, bool changed)
{
    assert_non_null(action);
    struct outcome o = run(action);
    json_decref(action);
    if (o.rc != 0)
        fail_msg("failed: %s", o.msg);
    assert_int_equal(o.changed, changed);
}

/* Run `action` (released here): it fails with a message that starts with
 * `start` and contains `needle`. */
static struct outcome fails(json_t *action, const char *start, const char *needle)
{
    assert_non_null(action);
    struct outcome o = run(action);
    json_decref(action);
    if (o.rc == 0)
        fail_msg("succeeded, expected an error containing \"%s\"", needle);
    if (strncmp(o.msg, start, strlen(start)) != 0 || strstr(o.msg, needle) == NULL)
        fail_msg("error \"%s\"\nshould start with \"%s\" and contain \"%s\"", o.msg, start, needle);
    return o;
}

/* ---- exec ----------------------------------------------------------------------- */

static void test_exec_runs_clean_in_the_view(void **state)
{
    (void)state;
    NEED_ROOT();
    ok(json_pack("{s:s, s:s}", "action", "exec", "cmd",
                 "echo \"$PATH $HOME $(pwd)\" > /out; env | sort > /env; cat > /stdin"),
       true);
    assert_content("out", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin /root /\n");
    assert_content("stdin", "");
    char *env = slurp(view, "env");
    assert_non_null(env);
    assert_null(strstr(env, "USER=")); /* nothing of the caller's environment */
    free(env);
}

static void test_exec_failure_has_the_output_tail(void **state)
{
    (void)state;
    NEED_ROOT();
    const char *cmd = "i=1; while [ $i -le 30 ]; do echo line$i; i=$((i+1)); done; exit 3";
    struct outcome o = fails(json_pack("{s:s, s:s}", "action", "exec", "cmd", cmd),
                             "[1] exec \"i=1; while [ $i -le 30 ]; do echo line$i...\": ", "exited with status 3: ");
    assert_non_null(strstr(o.msg, "line21\nline22"));
    assert_non_null(strstr(o.msg, "line30"));
    assert_null(strstr(o.msg, "line20\n")); /* only the last ten lines */
    /* the tail is printable UTF-8, whatever the command wrote */
    o = fails(json_pack("{s:s, s:s}", "action", "exec", "cmd",
                        "printf 'caf\\351 \\033[1mbold\\n\\303\\251t\\303\\251\\n'; exit 1"),
              "[1] exec ", "exited with status 1: caf? ?[1mbold\n\xc3\xa9t\xc3\xa9");
}

static void test_exec_output_goes_to_output_fd(void **state)
{
    (void)state;
    NEED_ROOT();
    char log[PATH_MAX];
    path_in(log, outer, "out.log");
    output_fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(output_fd >= 0);
    fails(json_pack("{s:s, s:s}", "action", "exec", "cmd", "echo to-the-log; exit 1"), "[1] exec \"echo to-the-log",
          "exited with status 1");
    char *got = slurp(outer, "out.log");
    assert_string_equal(got, "to-the-log\n");
    free(got);
}

/* ---- dir, line, symlink --------------------------------------------------------- */

static void test_dir_creates_and_sets_mode_and_owner(void **state)
{
    (void)state;
    NEED_ROOT();
    ok(json_pack("{s:s, s:s, s:{s:s}}", "action", "dir", "path", "/srv/a/b", "opts", "mode", "0750"), true);
    assert_true(S_ISDIR(stat_of("srv/a/b").st_mode));
    assert_int_equal(stat_of("srv/a/b").st_mode & 07777, 0750);
    ok(json_pack("{s:s, s:s, s:{s:s}}", "action", "dir", "path", "/srv/a/b", "opts", "mode", "0750"), false);
    /* an integer mode: its digits are octal */
    ok(json_pack("{s:s, s:s, s:{s:i}}", "action", "dir", "path", "/srv/a/b", "opts", "mode", 700), true);
    assert_int_equal(stat_of("srv/a/b").st_mode & 07777, 0700);
    ok(json_pack("{s:s, s:s, s:{s:s, s:s}}", "action", "dir", "path", "/srv/a", "opts", "owner", "app", "group",
                 "staff"),
       true);
    assert_int_equal(stat_of("srv/a").st_uid, 1234);
    assert_int_equal(stat_of("srv/a").st_gid, 2345);
    assert_int_equal(stat_of("srv/a").st_mode & 07777, 0755);
    ok(json_pack("{s:s, s:s, s:{s:i, s:s}}", "action", "dir", "path", "/srv/a", "opts", "owner", 1234, "group", "2345"),
       false);
    put(view, "srv/file", "x", 0644);
    fails(json_pack("{s:s, s:s}", "action", "dir", "path", "/srv/file"),
          "[1] dir /srv/file: ", "/srv/file exists and is not a directory");
    fails(json_pack("{s:s, s:s, s:{s:s}}", "action", "dir", "path", "/srv", "opts", "mode", "0799"),
          "[1] dir /srv: ", "mode: expected an octal mode");
    fails(json_pack("{s:s, s:s, s:{s:s}}", "action", "dir", "path", "/srv", "opts", "mdoe", "0755"),
          "[1] dir /srv: ", "unknown option \"mdoe\"");
}

static void test_line_appends_once(void **state)
{
    (void)state;
    NEED_ROOT();
    put(view, "etc/hosts", "127.0.0.1 localhost", 0640); /* no newline at its end */
    ok(json_pack("{s:s, s:s, s:s}", "action", "line", "path", "/etc/hosts", "text", "10.0.0.2 db"), true);
    assert_content("etc/hosts", "127.0.0.1 localhost\n10.0.0.2 db\n");
    assert_int_equal(stat_of("etc/hosts").st_mode & 07777, 0640);
    ok(json_pack("{s:s, s:s, s:s}", "action", "line", "path", "/etc/hosts", "text", "10.0.0.2 db"), false);
    ok(json_pack("{s:s, s:s, s:s}", "action", "line", "path", "/etc/hosts", "text", "127.0.0.1 localhost"), false);
    /* a missing file is created */
    ok(json_pack("{s:s, s:s, s:s}", "action", "line", "path", "/etc/new.conf", "text", "x=1"), true);
    assert_content("etc/new.conf", "x=1\n");
    assert_int_equal(stat_of("etc/new.conf").st_mode & 07777, 0644);
}

static void test_symlink_made_replaced_and_refused(void **state)
{
    (void)state;
    NEED_ROOT();
    ok(json_pack("{s:s, s:s, s:s}", "action", "symlink", "target", "/srv/v1", "link", "/etc/current"), true);
    char buf[PATH_MAX], p[PATH_MAX];
    path_in(p, view, "etc/current");
    ssize_t n = readlink(p, buf, sizeof buf - 1);
    assert_true(n > 0);
    buf[n] = '\0';
    assert_string_equal(buf, "/srv/v1");
    ok(json_pack("{s:s, s:s, s:s}", "action", "symlink", "target", "/srv/v1", "link", "/etc/current"), false);
    ok(json_pack("{s:s, s:s, s:s}", "action", "symlink", "target", "v2", "link", "/etc/current"), true);
    n = readlink(p, buf, sizeof buf - 1);
    assert_true(n > 0);
    buf[n] = '\0';
    assert_string_equal(buf, "v2");
    assert_int_equal(entries("etc"), 3); /* passwd, group, current: no temporary left */
    fails(json_pack("{s:s, s:s, s:s}", "action", "symlink", "target", "x", "link", "/etc/passwd"),
          "[1] symlink /etc/passwd -> x: ", "/etc/passwd exists and is not a symlink");
    fails(json_pack("{s:s, s:s, s:s}", "action", "symlink", "target", "x", "link", "/nowhere/link"),
          "[1] symlink /nowhere/link -> x: ", "directory /nowhere does not exist");
}

/* ---- copy, file ------------------------------------------------------------------ */

static void test_copy_writes_and_keeps_the_source_mode(void **state)
{
    (void)state;
    NEED_ROOT();
    put(spec, "nginx.conf", "worker_processes 1;\n", 0640);
    ok(json_pack("{s:s, s:s, s:s, s:{}}", "action", "copy", "src", "nginx.conf", "dst", "/etc/nginx.conf", "opts"),
       true);
    assert_content("etc/nginx.conf", "worker_processes 1;\n");
    assert_int_equal(stat_of("etc/nginx.conf").st_mode & 07777, 0640);
    ok(json_pack("{s:s, s:s, s:s, s:{}}", "action", "copy", "src", "nginx.conf", "dst", "/etc/nginx.conf", "opts"),
       false);
    ok(json_pack("{s:s, s:s, s:s, s:{s:s}}", "action", "copy", "src", "nginx.conf", "dst", "/etc/nginx.conf", "opts",
                 "mode", "0600"),
       true);
    assert_int_equal(stat_of("etc/nginx.conf").st_mode & 07777, 0600);
    put(spec, "nginx.conf", "worker_processes 4;\n", 0640);
    char abs[PATH_MAX];
    path_in(abs, spec, "nginx.conf");
    ok(json_pack("{s:s, s:s, s:s, s:{s:s}}", "action", "copy", "src", abs, "dst", "/etc/nginx.conf", "opts", "mode",
                 "0600"),
       true);
    assert_content("etc/nginx.conf", "worker_processes 4;\n");
    fails(json_pack("{s:s, s:s, s:s}", "action", "copy", "src", "missing.conf", "dst", "/etc/x"),
          "[1] copy missing.conf -> /etc/x: open ", "/spec/missing.conf: No such file or directory");
}

static void test_file_content_mode_and_owner(void **state)
{
    (void)state;
    NEED_ROOT();
    mkdir_in(view, "srv", 0755);
    ok(json_pack("{s:s, s:s, s:s, s:{}}", "action", "file", "path", "/srv/index.html", "content", "<h1>hi</h1>\n",
                 "opts"),
       true);
    assert_content("srv/index.html", "<h1>hi</h1>\n");
    assert_int_equal(stat_of("srv/index.html").st_mode & 07777, 0644);
    ok(json_pack("{s:s, s:s, s:s, s:{}}", "action", "file", "path", "/srv/index.html", "content", "<h1>hi</h1>\n",
                 "opts"),
       false);
    ok(json_pack("{s:s, s:s, s:s, s:{s:s}}", "action", "file", "path", "/srv/index.html", "content", "<h1>hi</h1>\n",
                 "opts", "owner", "app"),
       true);
    assert_int_equal(stat_of("srv/index.html").st_uid, 1234);
    /* new content keeps the owner it has */
    ok(json_pack("{s:s, s:s, s:s}", "action", "file", "path", "/srv/index.html", "content", "<h1>bye</h1>\n"), true);
    assert_content("srv/index.html", "<h1>bye</h1>\n");
    assert_int_equal(stat_of("srv/index.html").st_uid, 1234);
    assert_int_equal(entries("srv"), 1); /* no temporary file left behind */
    fails(json_pack("{s:s, s:s, s:s, s:{s:s}}", "action", "file", "path", "/srv/x", "content", "", "opts", "owner",
                    "nosuchuser"),
          "[1] file /srv/x: ", "owner \"nosuchuser\": no such user in the cell's /etc/passwd");
    fails(json_pack("{s:s, s:s, s:s, s:{s:s}}", "action", "file", "path", "/srv/x", "content", "", "opts", "group",
                    "nosuchgroup"),
          "[1] file /srv/x: ", "group \"nosuchgroup\": no such group in the cell's /etc/group");
    fails(json_pack("{s:s, s:s, s:s}", "action", "file", "path", "/missing/x", "content", ""),
          "[1] file /missing/x: ", "directory /missing does not exist");
    fails(json_pack("{s:s, s:s, s:s}", "action", "file", "path", "relative/x", "content", ""),
          "[1] file relative/x: ", "must be an absolute path inside the cell");
}

/* ---- template -------------------------------------------------------------------- */

static json_t *template_action(const char *text, json_t *tokens)
{
    put(spec, "web.conf.in", text, 0644);
    return json_pack("{s:s, s:s, s:s, s:{s:o}}", "action", "template", "src", "web.conf.in", "dst", "/etc/web.conf",
                     "opts", "tokens", tokens ? tokens : json_object());
}

static void test_template_fills_in_tokens(void **state)
{
    (void)state;
    NEED_ROOT();
    setenv("CELL_TEST_PORT", "8080", 1);
    const char *text = "name {{cell_name}} uid {{ run_uid }}:{{run_gid}}\nroot {{cell_root}} dir {{manifest_dir}}\n"
                       "arch {{arch}} listen {{host}}:{{port}} workers {{workers}} }} {x}\n";
    json_t *tokens =
        json_pack("{s:s, s:{s:s}, s:i}", "host", "example.org", "port", "from_env", "CELL_TEST_PORT", "workers", 4);
    ok(template_action(text, json_incref(tokens)), true);
    char want[2 * PATH_MAX];
    struct utsname u;
    assert_int_equal(uname(&u), 0);
    snprintf(want, sizeof want,
             "name web uid 1000:1001\nroot /var/lib/cell/cells/web dir %s\narch %s listen example.org:8080 workers 4 "
             "}} {x}\n",
             spec, u.machine);
    assert_content("etc/web.conf", want);
    assert_int_equal(stat_of("etc/web.conf").st_mode & 07777, 0644);
    ok(template_action(text, tokens), false);
    unsetenv("CELL_TEST_PORT");
}

static void test_template_errors_name_the_line(void **state)
{
    (void)state;
    NEED_ROOT();
    const char *prefix = "[1] template web.conf.in -> /etc/web.conf: ";
    fails(template_action("a\nb\nlisten {{port}}\n", NULL), prefix, "line 3: unknown token {{port}}");
    fails(template_action("a {{ cell_name\n}}\n", NULL), prefix, "line 1: {{ without a closing }}");
    fails(template_action("a {{cell_name}} {{", NULL), prefix, "line 1: {{ without a closing }}");
    fails(template_action("\n{{ 1x }}", NULL), prefix, "line 2: {{ 1x }} is not a token name");
    fails(template_action("{{a-b}}", NULL), prefix, "line 1: {{a-b}} is not a token name");
    unsetenv("CELL_TEST_UNSET");
    fails(template_action("{{port}}", json_pack("{s:{s:s}}", "port", "from_env", "CELL_TEST_UNSET")), prefix,
          "token port: environment variable CELL_TEST_UNSET is not set");
    fails(template_action("x", json_pack("{s:s}", "bad-name", "v")), prefix, "token \"bad-name\"");
    assert_false(exists(view, "etc/web.conf"));
}

/* ---- patch ------------------------------------------------------------------------ */

static const char patch_diff[] = "--- a/app.conf\n"
                                 "+++ b/app.conf\n"
                                 "@@ -3,3 +3,4 @@\n"
                                 " c\n"
                                 "-d\n"
                                 "+D\n"
                                 "+d2\n"
                                 " e\n";

static json_t *patch_action(const char *diff)
{
    return json_pack("{s:s, s:s, s:s, s:{s:i}}", "action", "patch", "path", "/etc/app.conf", "content", diff, "opts",
                     "strip", 1);
}

static void test_patch_applies_with_an_offset_once(void **state)
{
    (void)state;
    NEED_ROOT();
    /* three lines more at the top than the diff expects */
    put(view, "etc/app.conf", "x\ny\nz\na\nb\nc\nd\ne\nf\n", 0640);
    ok(patch_action(patch_diff), true);
    assert_content("etc/app.conf", "x\ny\nz\na\nb\nc\nD\nd2\ne\nf\n");
    assert_int_equal(stat_of("etc/app.conf").st_mode & 07777, 0640);
    ok(patch_action(patch_diff), false); /* applied already */
    assert_content("etc/app.conf", "x\ny\nz\na\nb\nc\nD\nd2\ne\nf\n");
}

static void test_patch_that_does_not_apply(void **state)
{
    (void)state;
    NEED_ROOT();
    put(view, "etc/app.conf", "a\nb\nc\nX\ne\n", 0644);
    fails(patch_action(patch_diff), "[1] patch /etc/app.conf: ", "hunk 1 does not apply (line 3)");
    assert_content("etc/app.conf", "a\nb\nc\nX\ne\n");
    fails(json_pack("{s:s, s:s, s:s}", "action", "patch", "path", "/etc/none", "content", patch_diff),
          "[1] patch /etc/none: ", "read /etc/none: No such file or directory");
}

static void test_patch_without_newline_at_end(void **state)
{
    (void)state;
    NEED_ROOT();
    put(view, "etc/app.conf", "a\nb", 0644);
    const char *diff = "@@ -1,2 +1,2 @@\n"
                       " a\n"
                       "-b\n"
                       "\\ No newline at end of file\n"
                       "+c\n";
    ok(patch_action(diff), true);
    assert_content("etc/app.conf", "a\nc\n");
    ok(patch_action(diff), false);
}

static void test_patch_several_hunks_and_insert_only(void **state)
{
    (void)state;
    NEED_ROOT();
    put(view, "etc/app.conf", "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n", 0600);
    const char *two = "--- a/app.conf\n+++ b/app.conf\n"
                      "@@ -1,3 +1,3 @@\n 1\n-2\n+two\n 3\n"
                      "@@ -9,3 +9,4 @@\n 9\n 10\n+ten-and-a-half\n 11\n";
    ok(patch_action(two), true);
    assert_content("etc/app.conf", "1\ntwo\n3\n4\n5\n6\n7\n8\n9\n10\nten-and-a-half\n11\n12\n");
    assert_int_equal(stat_of("etc/app.conf").st_mode & 07777, 0600);
    ok(patch_action(two), false);
    /* a hunk without old lines fits anywhere: applied once only all the same */
    put(view, "etc/app.conf", "", 0644);
    const char *insert = "@@ -0,0 +1,2 @@\n+first\n+second\n";
    ok(patch_action(insert), true);
    assert_content("etc/app.conf", "first\nsecond\n");
    ok(patch_action(insert), false);
    fails(patch_action("@@ -1,2 +1,2 @@\n first\n"), "[1] patch /etc/app.conf: ", "hunk 1 is cut short");
    fails(patch_action("no diff here\n"), "[1] patch /etc/app.conf: ", "the diff has no hunks");
}

/* ---- the template and diff parsers, called directly (no view, no root) ---------- */

/* actions_apply_diff() of `diff` to `text`: 0 and the patched text in
 * *out, 0 and *out NULL (applied already), or -1 and err. */
static int diff_to(const char *text, const char *diff, char **out, struct cell_err *err)
{
    size_t len = 0;
    int rc = actions_apply_diff(text, strlen(text), diff, out, &len, err);
    if (rc == 0 && *out)
        assert_int_equal(len, strlen(*out));
    return rc;
}

static void test_render_template_direct(void **state)
{
    (void)state;
    json_t *tokens = json_pack("{s:s, s:s}", "host", "example.org", "curly", "{{host}}");
    struct cell_err err = {0};
    char *out = NULL;
    assert_int_equal(actions_render_template("{x} {{ host }}:{{curly}} }}\n", tokens, &out, &err), 0);
    assert_string_equal(out, "{x} example.org:{{host}} }}\n"); /* a value is not rendered again */
    free(out);
    out = (char *)"not touched";
    assert_int_equal(actions_render_template("a\n{{host}} {{port}}", tokens, &out, &err), -1);
    assert_null(out);
    assert_string_equal(err.msg, "line 2: unknown token {{port}} (give it in tokens = { port = ... })");
    json_decref(tokens);
}

/* Bug (found by fuzz_actions): the check for a newline inside {{...}}
 * searched to the end of the line for every token, so a long line with many
 * tokens took quadratic time: a 16 MiB one-line template (the largest a
 * template may be) took about 95 s. */
static void test_template_long_line_is_linear(void **state)
{
    (void)state;
    const char piece[] = "{{a}}...............";
    size_t count = (16u << 20) / (sizeof piece - 1), len = count * (sizeof piece - 1);
    char *text = malloc(len + 1);
    assert_non_null(text);
    for (size_t i = 0; i < count; i++)
        memcpy(text + i * (sizeof piece - 1), piece, sizeof piece - 1);
    text[len] = '\0';
    json_t *tokens = json_pack("{s:s}", "a", "v");
    struct cell_err err = {0};
    char *out = NULL;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(actions_render_template(text, tokens, &out, &err), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_int_equal(strlen(out), count * (sizeof piece - 1 - 4));
    assert_true(t1.tv_sec - t0.tv_sec < 10);
    free(out);
    json_decref(tokens);
    free(text);
}

/* Bug (found by fuzz_actions): a hunk's line number far past the end of the
 * file made the search for its nearest place walk out to that line one step
 * at a time (minutes for 10^11, forever for 2^63), and line numbers near
 * 2^63 overflowed (undefined behaviour). Any number now finds the nearest
 * place from the end of the file. */
static void test_patch_far_line_numbers(void **state)
{
    (void)state;
    struct cell_err err = {0};
    char *out = NULL;
    const char *far = "@@ -100000000000,1 +100000000000,1 @@\n-b\n+B\n";
    assert_int_equal(diff_to("a\nb\nc\n", far, &out, &err), 0);
    assert_string_equal(out, "a\nB\nc\n");
    char *again = (char *)"not touched";
    assert_int_equal(diff_to(out, far, &again, &err), 0);
    assert_null(again); /* applied already */
    free(out);
    /* the first hunk found one line down (offset +1), the second said to be at line 2^63 */
    const char *huge = "@@ -1 +1 @@\n-b\n+B\n@@ -9223372036854775808 +9223372036854775808 @@\n-x\n+y\n";
    assert_int_equal(diff_to("a\nb\nc\nx\n", huge, &out, &err), 0);
    assert_string_equal(out, "a\nB\nc\ny\n");
    free(out);
    const char *max = "@@ -18446744073709551615 +18446744073709551615 @@\n-a\n+A\n";
    assert_int_equal(diff_to("a\nb\n", max, &out, &err), 0);
    assert_string_equal(out, "A\nb\n");
    free(out);
    assert_int_equal(diff_to("b\n", "@@ -9223372036854775807 +1 @@\n-x\n+y\n", &out, &err), -1);
    assert_string_equal(err.msg, "hunk 1 does not apply (line 9223372036854775807)");
}

/* Bug (found by fuzz_actions, under UBSan): an empty file has no lines, and
 * writing the patched text added an offset to its NULL line array. */
static void test_patch_into_an_empty_file(void **state)
{
    (void)state;
    struct cell_err err = {0};
    char *out = NULL;
    assert_int_equal(diff_to("", "@@ -0,0 +1,2 @@\n+first\n+second\n", &out, &err), 0);
    assert_string_equal(out, "first\nsecond\n");
    free(out);
    /* lines to delete that are not there: deleted already */
    out = (char *)"not touched";
    assert_int_equal(diff_to("", "@@ -1 +0,0 @@\n-gone\n", &out, &err), 0);
    assert_null(out);
}

/* ---- untar ------------------------------------------------------------------------- */

struct entry {
    char type; /* f file, d directory, l symlink, h hardlink */
    const char *name;
    const char *data; /* f: its content; l, h: its target */
};

static void make_archive(const char *name, const struct entry *e, size_t n, bool gzip)
{
    char p[PATH_MAX];
    path_in(p, spec, name);
    struct archive *a = archive_write_new();
    assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
    if (gzip)
        assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
    assert_int_equal(archive_write_open_filename(a, p), ARCHIVE_OK);
    for (size_t i = 0; i < n; i++) {
        struct archive_entry *ae = archive_entry_new();
        archive_entry_set_pathname(ae, e[i].name);
        archive_entry_set_perm(ae, e[i].type == 'd' ? 0755 : 0644);
        archive_entry_set_filetype(ae, e[i].type == 'd' ? AE_IFDIR : e[i].type == 'l' ? AE_IFLNK : AE_IFREG);
        if (e[i].type == 'l')
            archive_entry_set_symlink(ae, e[i].data);
        if (e[i].type == 'h')
            archive_entry_set_hardlink(ae, e[i].data);
        archive_entry_set_size(ae, e[i].type == 'f' ? (la_int64_t)strlen(e[i].data) : 0);
        assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
        if (e[i].type == 'f')
            assert_int_equal(archive_write_data(a, e[i].data, strlen(e[i].data)), (la_ssize_t)strlen(e[i].data));
        archive_entry_free(ae);
    }
    assert_int_equal(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
}

static json_t *untar_action(const char *archive, const char *dst, int strip)
{
    return json_pack("{s:s, s:s, s:s, s:{s:i}}", "action", "untar", "src", archive, "dst", dst, "opts", "strip", strip);
}

static void test_untar_strips_and_extracts(void **state)
{
    (void)state;
    NEED_ROOT();
    const struct entry e[] = {{'d', "pkg-1.0/", NULL},
                              {'f', "pkg-1.0/a.txt", "alpha\n"},
                              {'d', "pkg-1.0/sub/", NULL},
                              {'f', "pkg-1.0/sub/b.txt", "beta\n"},
                              {'l', "pkg-1.0/sub/up", "../a.txt"},
                              {'h', "pkg-1.0/same", "pkg-1.0/a.txt"}};
    make_archive("pkg.tar.gz", e, sizeof e / sizeof e[0], true);
    ok(untar_action("pkg.tar.gz", "/opt/app", 1), true);
    assert_content("opt/app/a.txt", "alpha\n");
    assert_content("opt/app/sub/b.txt", "beta\n");
    assert_content("opt/app/sub/up", "alpha\n"); /* through the symlink */
    assert_true(S_ISLNK(stat_of("opt/app/sub/up").st_mode));
    assert_int_equal(stat_of("opt/app/same").st_ino, stat_of("opt/app/a.txt").st_ino);
    assert_false(exists(view, "opt/app/pkg-1.0"));
    ok(untar_action("pkg.tar.gz", "/opt/app", 1), true); /* (always reported as a change) */
    ok(untar_action("pkg.tar.gz", "/opt/full", 0), true);
    assert_content("opt/full/pkg-1.0/sub/b.txt", "beta\n");
}

/* An archive whose `bad` entry comes after a harmless one: refused with the
 * entry named, and nothing at all written. */
static void refused(const struct entry *bad, size_t n, const char *needle)
{
    struct entry e[4] = {{'f', "ok.txt", "fine\n"}};
    memcpy(e + 1, bad, n * sizeof *bad);
    make_archive("bad.tar", e, n + 1, false);
    fails(untar_action("bad.tar", "/dst/in", 0), "[1] untar bad.tar -> /dst/in: ", needle);
    assert_false(exists(view, "dst"));
    assert_false(exists(view, "evil"));
    assert_false(exists(view, "outside"));
    assert_false(exists(outer, "evil"));
    assert_false(exists(outer, "outside"));
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", outer);
    *strrchr(parent, '/') = '\0';
    assert_false(exists(parent, "evil"));
    assert_false(exists(parent, "outside"));
}

static void test_untar_refuses_entries_outside(void **state)
{
    (void)state;
    NEED_ROOT();
    refused((struct entry[]){{'f', "../evil", "x"}}, 1, "entry \"../evil\" refused: it goes up (\"..\")");
    refused((struct entry[]){{'f', "a/../../evil", "x"}}, 1, "entry \"a/../../evil\" refused");
    refused((struct entry[]){{'f', "/evil", "x"}}, 1, "entry \"/evil\" refused: it is an absolute path");
    refused((struct entry[]){{'l', "link", "../../outside"}, {'f', "link/x", "x"}}, 2,
            "entry \"link\" refused: it is a symlink out of the tree (to \"../../outside\")");
    refused((struct entry[]){{'l', "abs", "/etc"}}, 1,
            "entry \"abs\" refused: it is a symlink to an absolute path (\"/etc\")");
    refused((struct entry[]){{'h', "hl", "/etc/passwd"}}, 1,
            "entry \"hl\" refused: it is a hard link to \"/etc/passwd\"");
    refused((struct entry[]){{'h', "hl", "../outside"}}, 1,
            "entry \"hl\" refused: it is a hard link to \"../outside\"");
    /* a symlink inside, then an entry through it (archive_check.c refuses it, before libarchive would) */
    refused((struct entry[]){{'l', "link", "."}, {'f', "link/evil", "x"}}, 2,
            "entry \"link/evil\" refused: it goes through the symlink \"link\"");
}

/* ---- script ------------------------------------------------------------------------ */

static void test_script_args_env_and_cwd(void **state)
{
    (void)state;
    NEED_ROOT();
    put(spec, "setup.sh", "echo \"$1 $2 $FOO $PATH $(pwd)\" > /script.out\n", 0644);
    ok(json_pack("{s:s, s:s, s:{s:[s,i], s:{s:s, s:s}, s:s}}", "action", "script", "path", "setup.sh", "opts", "args",
                 "a", 2, "env", "FOO", "bar", "PATH", "/bin", "cwd", "/tmp"),
       true);
    assert_content("script.out", "a 2 bar /bin /tmp\n");
    assert_int_equal(entries("tmp"), 0); /* its temporary copy is gone */
}

static void test_script_timeout_and_exit(void **state)
{
    (void)state;
    NEED_ROOT();
    put(spec, "slow.sh", "sleep 30\n", 0644);
    fails(json_pack("{s:s, s:s, s:{s:i}}", "action", "script", "path", "slow.sh", "opts", "timeout", 1),
          "[1] script slow.sh: ", "timed out after 1 s");
    assert_int_equal(entries("tmp"), 0);
    put(spec, "fail.sh", "echo failing\nexit 4\n", 0644);
    fails(json_pack("{s:s, s:s, s:{}}", "action", "script", "path", "fail.sh", "opts"),
          "[1] script fail.sh: ", "exited with status 4: failing");
    ok(json_pack("{s:s, s:s, s:{s:b}}", "action", "script", "path", "fail.sh", "opts", "ignore_exit", 1), true);
    fails(json_pack("{s:s, s:s}", "action", "script", "path", "none.sh"), "[1] script none.sh: open ",
          "none.sh: No such file or directory");
}

/* ---- the rest ---------------------------------------------------------------------- */

static void test_unknown_action(void **state)
{
    (void)state;
    NEED_ROOT();
    fails(json_pack("{s:s}", "action", "frobnicate"), "[1] unknown action \"frobnicate\"", "expected exec, dir");
    fails(json_pack("{s:s}", "cmd", "true"), "[1] unknown action", "expected exec");
}

static void test_describe(void **state)
{
    (void)state;
    char out[128];
    json_t *a = json_pack("{s:s, s:s}", "action", "exec", "cmd", "apt-get update");
    action_describe(a, out, sizeof out);
    assert_string_equal(out, "exec \"apt-get update\"");
    json_decref(a);
    a = json_pack("{s:s, s:s}", "action", "exec", "cmd",
                  "apt-get install -y nginx curl ca-certificates\nrm -rf /var/lib/apt/lists");
    action_describe(a, out, sizeof out);
    assert_string_equal(out, "exec \"apt-get install -y nginx curl ca-certifi...\"");
    json_decref(a);
    a = json_pack("{s:s, s:s, s:s}", "action", "copy", "src", "nginx.conf", "dst", "/etc/nginx.conf");
    action_describe(a, out, sizeof out);
    assert_string_equal(out, "copy nginx.conf -> /etc/nginx.conf");
    json_decref(a);
    a = json_pack("{s:s, s:s}", "action", "file", "path", "/srv/index.html");
    action_describe(a, out, sizeof out);
    assert_string_equal(out, "file /srv/index.html");
    json_decref(a);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_exec_runs_clean_in_the_view),
        T(test_exec_failure_has_the_output_tail),
        T(test_exec_output_goes_to_output_fd),
        T(test_dir_creates_and_sets_mode_and_owner),
        T(test_line_appends_once),
        T(test_symlink_made_replaced_and_refused),
        T(test_copy_writes_and_keeps_the_source_mode),
        T(test_file_content_mode_and_owner),
        T(test_template_fills_in_tokens),
        T(test_template_errors_name_the_line),
        T(test_patch_applies_with_an_offset_once),
        T(test_patch_that_does_not_apply),
        T(test_patch_without_newline_at_end),
        T(test_patch_several_hunks_and_insert_only),
        cmocka_unit_test(test_render_template_direct),
        cmocka_unit_test(test_template_long_line_is_linear),
        cmocka_unit_test(test_patch_far_line_numbers),
        cmocka_unit_test(test_patch_into_an_empty_file),
        T(test_untar_strips_and_extracts),
        T(test_untar_refuses_entries_outside),
        T(test_script_args_env_and_cwd),
        T(test_script_timeout_and_exit),
        T(test_unknown_action),
        T(test_describe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
