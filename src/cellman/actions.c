/* actions.c - the apply actions of cell-spec(5), one row each in a table
 * (kinds[] below). actions_prepare() opens and reads what they take from the
 * host before apply enters the cell's view; action_run() performs one inside
 * it. Files are replaced atomically (a new file beside them, then rename);
 * exec and script run /bin/sh in a clean environment; untar checks every
 * entry of an archive before it writes any. */
#include "actions.h"
#include "archive_check.h"
#include "util.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TEXT_MAX (16u << 20) /* a template or script read from the host; a file line or patch edits */
#define TAIL_BYTES 2048      /* of exec and script output, kept for an error message */
#define TAIL_LINES 10
#define CHUNK 65536
#define DESCRIBE_MAX 160 /* of the "[N] DESCRIPTION: " in front of every error */

/* The whole environment of exec and script (script adds opts.env). */
static char *const clean_env[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root",
                                  NULL};

/* One action being prepared or performed. */
struct act {
    json_t *action;
    json_t *opts; /* an object, or NULL when it has none */
    size_t index;
    int source_fd;    /* prepared: an open host source, or -1 */
    const char *text; /* prepared: a rendered template or a script, or NULL */
    const struct action_ctx *ctx;
    char prefix[DESCRIBE_MAX + 32]; /* "[N] DESCRIPTION: ", put in front of its errors */
    size_t prefix_len;
};

struct action_kind {
    const char *name;
    const char *subject, *object; /* the fields a description shows: "SUBJECT" or "SUBJECT -> OBJECT" */
    bool quoted;                  /* shown "quoted" and shortened (a command) */
    const char *options;          /* the option names it takes, space-separated */
    int (*prepare)(struct act *a, int spec_dirfd, struct action_prep *prep, struct cell_err *err);
    int (*run)(struct act *a, bool *changed, struct cell_err *err);
};

/* ---- fields and options ------------------------------------------------------- */

/* The string field `key` of the action; NULL with err when it is not one. */
static const char *field(const struct act *a, const char *key, struct cell_err *err)
{
    const char *s = json_string_value(json_object_get(a->action, key));
    if (s == NULL)
        cell_err_set(err, 0, "\"%s\" must be a string", key);
    return s;
}

/* A path inside the cell: a string starting with '/'. */
static const char *view_path(const struct act *a, const char *key, struct cell_err *err)
{
    const char *s = field(a, key, err);
    if (s && (s[0] != '/' || strlen(s) >= PATH_MAX - 32)) {
        cell_err_set(err, 0, "%s \"%s\" must be an absolute path inside the cell", key, s);
        return NULL;
    }
    return s;
}

/* A string, number or boolean as text (in buf); NULL for anything else. */
static const char *json_text(json_t *v, char *buf, size_t len)
{
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v))
        snprintf(buf, len, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(buf, len, "%.14g", json_real_value(v)); /* as Lua shows it */
    else if (json_is_boolean(v))
        snprintf(buf, len, "%s", json_is_true(v) ? "true" : "false");
    else
        return NULL;
    return buf;
}

static bool all_digits(const char *s, const char *digits)
{
    return *s != '\0' && strspn(s, digits) == strlen(s);
}

/* opts.mode: an octal string ("0755"), or an integer whose digits are read
 * as octal (Lua has no octal literals: mode = 755 means 0755). */
static int parse_mode(json_t *v, mode_t *mode, struct cell_err *err)
{
    char buf[32];
    const char *s = json_is_string(v) || json_is_integer(v) ? json_text(v, buf, sizeof buf) : NULL;
    unsigned long m = s && all_digits(s, "01234567") && strlen(s) <= 6 ? strtoul(s, NULL, 8) : ULONG_MAX;
    if (m > 07777)
        return cell_err_set(err, 0, "mode: expected an octal mode such as \"0755\"");
    *mode = (mode_t)m;
    return 0;
}

/* The id of user (or group) `name` in the cell's /etc/passwd (/etc/group):
 * read directly, never through the host's NSS. 1 found, 0 not, -1 errno. */
static int id_by_name(bool group, const char *name, unsigned *id)
{
    FILE *f = fopen(group ? "/etc/group" : "/etc/passwd", "re");
    if (f == NULL)
        return -1;
    int found = 0;
    if (group) {
        struct group *g;
        while (!found && (g = fgetgrent(f)) != NULL)
            if (strcmp(g->gr_name, name) == 0) {
                *id = g->gr_gid;
                found = 1;
            }
    } else {
        struct passwd *p;
        while (!found && (p = fgetpwent(f)) != NULL)
            if (strcmp(p->pw_name, name) == 0) {
                *id = p->pw_uid;
                found = 1;
            }
    }
    fclose(f);
    return found;
}

/* opts.owner or opts.group: a number, or a name in the cell's files. */
static int parse_id(json_t *v, bool group, unsigned *id, struct cell_err *err)
{
    const char *what = group ? "group" : "owner";
    if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) < UINT32_MAX) {
        *id = (unsigned)json_integer_value(v);
        return 0;
    }
    const char *s = json_string_value(v);
    if (s == NULL || *s == '\0')
        return cell_err_set(err, 0, "%s: expected a %s name or number", what, group ? "group" : "user");
    if (all_digits(s, "0123456789") && strlen(s) < 10) {
        *id = (unsigned)strtoul(s, NULL, 10);
        return 0;
    }
    const char *file = group ? "/etc/group" : "/etc/passwd";
    int found = id_by_name(group, s, id);
    if (found < 0)
        return cell_err_set(err, errno, "%s \"%s\": read the cell's %s", what, s, file);
    if (found == 0)
        return cell_err_set(err, 0, "%s \"%s\": no such %s in the cell's %s", what, s, group ? "group" : "user", file);
    return 0;
}

/* The mode and owner a file or directory is to have. */
struct attrs {
    mode_t mode;
    uid_t uid; /* (uid_t)-1: left as it is */
    gid_t gid;
};

/* opts.mode (else `mode`), opts.owner and opts.group. */
static int read_attrs(const struct act *a, mode_t mode, struct attrs *out, struct cell_err *err)
{
    *out = (struct attrs){.mode = mode, .uid = (uid_t)-1, .gid = (gid_t)-1};
    json_t *v;
    unsigned id;
    if ((v = json_object_get(a->opts, "mode")) && parse_mode(v, &out->mode, err) < 0)
        return -1;
    if ((v = json_object_get(a->opts, "owner"))) {
        if (parse_id(v, false, &id, err) < 0)
            return -1;
        out->uid = id;
    }
    if ((v = json_object_get(a->opts, "group"))) {
        if (parse_id(v, true, &id, err) < 0)
            return -1;
        out->gid = id;
    }
    return 0;
}

/* ---- files -------------------------------------------------------------------- */

/* Give the file or directory open as fd the owner and mode `want` asks
 * for; *changed set when either was different. */
static int set_attrs(int fd, const char *path, const struct attrs *want, bool *changed, struct cell_err *err)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return cell_err_set(err, errno, "stat %s", path);
    uid_t uid = want->uid != (uid_t)-1 && want->uid != st.st_uid ? want->uid : (uid_t)-1;
    gid_t gid = want->gid != (gid_t)-1 && want->gid != st.st_gid ? want->gid : (gid_t)-1;
    if (uid != (uid_t)-1 || gid != (gid_t)-1) {
        if (fchown(fd, uid, gid) < 0)
            return cell_err_set(err, errno, "change the owner of %s", path);
        *changed = true;
        st.st_mode = (mode_t)-1; /* chown may have cleared setuid bits: set the mode again */
    }
    if ((st.st_mode & 07777) != want->mode) {
        if (fchmod(fd, want->mode) < 0)
            return cell_err_set(err, errno, "change the mode of %s", path);
        *changed = true;
    }
    return 0;
}

/* The directory part of `path` ("/" for "/x"). */
static void parent_of(const char *path, char *out, size_t len)
{
    const char *slash = strrchr(path, '/');
    int n = slash == NULL ? 0 : slash == path ? 1 : (int)(slash - path);
    snprintf(out, len, "%.*s", n, n ? path : ".");
}

/* The error for creating something at `path`: a missing directory is
 * named, with what to do about it. */
static int create_error(const char *path, int errnum, struct cell_err *err)
{
    char dir[PATH_MAX];
    parent_of(path, dir, sizeof dir);
    struct stat st;
    if (errnum == ENOENT && stat(dir, &st) < 0)
        return cell_err_set(err, 0, "directory %s does not exist (create it with a dir action first)", dir);
    return cell_err_set(err, errnum, "create %s", path);
}

/* Create a temporary beside `path` (in its directory, so rename() can put
 * it in place in one step), named DIR/.BASE.RANDOM in tmp: a symlink to
 * `target`, or with target NULL an empty file (its fd, mode 0600). Never
 * reuses a name that exists. -1 with errno. */
static int create_beside(const char *path, const char *target, char *tmp, size_t len)
{
    const char *slash = strrchr(path, '/');
    int dirlen = slash ? (int)(slash - path + 1) : 0;
    for (int tries = 0; tries < 100; tries++) {
        uint64_t r;
        if (getrandom(&r, sizeof r, GRND_NONBLOCK) != sizeof r)
            r = ((uint64_t)getpid() << 32) ^ (uint64_t)clock() ^ (uint64_t)tries * 0x9e3779b97f4a7c15ull;
        if (snprintf(tmp, len, "%.*s.%.200s.%016llx", dirlen, path, path + dirlen, (unsigned long long)r) >= (int)len) {
            errno = ENAMETOOLONG;
            return -1;
        }
        int rc = target ? symlink(target, tmp) : open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (rc >= 0 || errno != EEXIST)
            return rc;
    }
    errno = EEXIST;
    return -1;
}

/* The whole of the open file fd (at most TEXT_MAX bytes), NUL-terminated. */
static int read_whole(int fd, const char *name, char **out, size_t *len, struct cell_err *err)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    if (buf == NULL)
        return cell_err_set(err, ENOMEM, "read %s", name);
    for (;;) {
        if (n + 1 == cap) {
            char *grown = cap >= TEXT_MAX ? NULL : realloc(buf, cap * 2);
            if (grown == NULL) {
                free(buf);
                return cap >= TEXT_MAX ? cell_err_set(err, 0, "%s is larger than %u MiB", name, TEXT_MAX >> 20)
                                       : cell_err_set(err, ENOMEM, "read %s", name);
            }
            buf = grown;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            free(buf);
            return cell_err_set(err, errno, "read %s", name);
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    *out = buf;
    if (len)
        *len = n;
    return 0;
}

/* A file inside the cell, read whole. */
static int read_view_file(const char *path, char **out, size_t *len, struct cell_err *err)
{
    cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return cell_err_set(err, errno, "read %s", path);
    return read_whole(fd, path, out, len, err);
}

/* What a file is to hold: bytes in memory, or (fd >= 0) those of a host file. */
struct content {
    const char *data;
    size_t len;
    int fd; /* read with pread(), so the same fd serves every run */
};

static ssize_t content_read(const struct content *c, size_t off, char *buf, size_t n)
{
    if (off >= c->len)
        return 0;
    if (n > c->len - off)
        n = c->len - off;
    if (c->fd < 0) {
        memcpy(buf, c->data + off, n);
        return (ssize_t)n;
    }
    ssize_t r;
    do
        r = pread(c->fd, buf, n, (off_t)off);
    while (r < 0 && errno == EINTR);
    if (r == 0) /* the source shrank while it was copied */
        errno = EIO;
    return r > 0 ? r : -1;
}

/* Whether the regular file `path` (of size `size`) holds exactly `c`. */
static int same_content(const char *path, off_t size, const struct content *c, struct cell_err *err)
{
    if ((size_t)size != c->len)
        return 0;
    cleanup_close int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return cell_err_set(err, errno, "read %s", path);
    cleanup_free char *mine = malloc(CHUNK), *theirs = malloc(CHUNK);
    if (mine == NULL || theirs == NULL)
        return cell_err_set(err, ENOMEM, "compare %s", path);
    for (size_t off = 0; off < c->len;) {
        ssize_t n = content_read(c, off, mine, CHUNK);
        if (n < 0)
            return cell_err_set(err, errno, "read the source of %s", path);
        ssize_t got = pread(fd, theirs, (size_t)n, (off_t)off);
        if (got < 0)
            return cell_err_set(err, errno, "read %s", path);
        if (got != n || memcmp(mine, theirs, (size_t)n) != 0)
            return 0;
        off += (size_t)n;
    }
    return 1;
}

static int content_write(const struct content *c, int fd, const char *path, struct cell_err *err)
{
    cleanup_free char *buf = c->fd >= 0 ? malloc(CHUNK) : NULL;
    if (c->fd >= 0 && buf == NULL)
        return cell_err_set(err, ENOMEM, "write %s", path);
    if (c->fd < 0)
        return write_all(fd, c->data, c->len) < 0 ? cell_err_set(err, errno, "write %s", path) : 0;
    for (size_t off = 0; off < c->len;) {
        ssize_t n = content_read(c, off, buf, CHUNK);
        if (n < 0)
            return cell_err_set(err, errno, "read the source of %s", path);
        if (write_all(fd, buf, (size_t)n) < 0)
            return cell_err_set(err, errno, "write %s", path);
        off += (size_t)n;
    }
    return 0;
}

/* Make `path` a regular file holding `c`, with the attributes `want` (an
 * owner left unset keeps the present file's). A different content is
 * written to a new file beside it, synced and renamed over it: a reader
 * sees the old file or the new one, never part of one. A symlink at `path`
 * is replaced, not followed. */
static int install_file(const char *path, const struct content *c, const struct attrs *want, bool *changed,
                        struct cell_err *err)
{
    struct attrs attrs = *want;
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
            return cell_err_set(err, 0, "%s exists and is not a regular file (remove it first)", path);
        if (S_ISREG(st.st_mode)) {
            if (attrs.uid == (uid_t)-1)
                attrs.uid = st.st_uid;
            if (attrs.gid == (gid_t)-1)
                attrs.gid = st.st_gid;
            int same = same_content(path, st.st_size, c, err);
            if (same < 0)
                return -1;
            if (same) {
                cleanup_close int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
                if (fd < 0)
                    return cell_err_set(err, errno, "open %s", path);
                return set_attrs(fd, path, &attrs, changed, err);
            }
        }
    } else if (errno != ENOENT) {
        return cell_err_set(err, errno, "stat %s", path);
    }
    char tmp[PATH_MAX + 64];
    int fd = create_beside(path, NULL, tmp, sizeof tmp);
    if (fd < 0)
        return create_error(path, errno, err);
    bool ignored = false;
    int rc = content_write(c, fd, tmp, err);
    if (rc == 0)
        rc = set_attrs(fd, tmp, &attrs, &ignored, err);
    if (rc == 0 && fsync(fd) < 0)
        rc = cell_err_set(err, errno, "sync %s", tmp);
    close(fd);
    if (rc == 0 && rename(tmp, path) < 0)
        rc = cell_err_set(err, errno, "replace %s", path);
    if (rc < 0) {
        unlink(tmp);
        return -1;
    }
    char dir[PATH_MAX];
    parent_of(path, dir, sizeof dir);
    cleanup_close int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd >= 0)
        fsync(dirfd); /* the rename itself, durable */
    *changed = true;
    return 0;
}

/* `path` with its symlinks resolved when it exists (line and patch edit
 * the file a link leads to, inside the cell); else `path` itself. */
static const char *resolved(const char *path, char *buf)
{
    return realpath(path, buf) ? buf : path;
}

/* ---- running /bin/sh (exec, script) --------------------------------------------- */

struct child {
    char *const *argv; /* argv[0] is run as /bin/sh */
    char *const *envp;
    const char *cwd;
    double timeout; /* seconds; 0: none */
};

/* How a child ended, and the last lines of its output (when not sent to
 * ctx->output_fd). */
struct child_end {
    int status;
    bool timed_out;
    char tail[TAIL_BYTES + 1];
};

__attribute__((noreturn)) static void child_exec(const struct child *c, int out)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int s = 1; s < NSIG; s++)
        signal(s, SIG_DFL);
    setpgid(0, 0); /* its own process group: a timeout kills everything it started */
    if (dup2(out, 1) < 0 || dup2(out, 2) < 0)
        _exit(127);
    int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int empty[2];
    if (in < 0 && pipe(empty) == 0) { /* no /dev/null in the cell: an empty pipe reads the same */
        close(empty[1]);
        in = empty[0];
    }
    if (in < 0 || dup2(in, 0) < 0)
        _exit(127);
    close_range_except(NULL, 0, 0);
    if (chdir(c->cwd) < 0) {
        dprintf(2, "cd %s: %s\n", c->cwd, strerror(errno));
        _exit(127);
    }
    execve("/bin/sh", c->argv, c->envp);
    dprintf(2, "/bin/sh: %s\n", strerror(errno));
    _exit(127);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read what `fd` has into keep[] (its last TAIL_BYTES are what matter). */
static ssize_t keep_output(int fd, char *keep, size_t size, size_t *kept)
{
    if (size - *kept < 512) {
        memmove(keep, keep + *kept - TAIL_BYTES, TAIL_BYTES);
        *kept = TAIL_BYTES;
    }
    ssize_t n;
    do
        n = read(fd, keep + *kept, size - *kept);
    while (n < 0 && errno == EINTR);
    if (n > 0)
        *kept += (size_t)n;
    return n;
}

/* The length of the UTF-8 character at s (n bytes left), or 0 when it is
 * not one (nor an overlong form, a surrogate, or above U+10FFFF). */
static size_t utf8_char(const unsigned char *s, size_t n)
{
    size_t len = s[0] < 0x80                    ? 1
                 : s[0] >= 0xC2 && s[0] <= 0xDF ? 2
                 : s[0] >= 0xE0 && s[0] <= 0xEF ? 3
                 : s[0] >= 0xF0 && s[0] <= 0xF4 ? 4
                                                : 0;
    if (len == 0 || len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] >= 0xA0) || (s[0] == 0xF0 && s[1] < 0x90) ||
        (s[0] == 0xF4 && s[1] >= 0x90))
        return 0;
    return len;
}

/* The last TAIL_LINES lines of buf[0..n) into out, as printable UTF-8 (an
 * error message ends up in JSON and on terminals): any other byte, or a
 * control character but tab, is shown as '?'. */
static void last_lines(const char *buf, size_t n, char *out, size_t len)
{
    while (n > 0 && buf[n - 1] == '\n')
        n--;
    size_t start = n;
    for (int lines = 0; start > 0; start--)
        if (buf[start - 1] == '\n' && ++lines == TAIL_LINES)
            break;
    size_t k = 0;
    for (size_t i = start; i < n;) {
        const unsigned char *c = (const unsigned char *)buf + i;
        size_t m = *c >= 0x80 ? utf8_char(c, n - i) : (*c >= 0x20 && *c != 0x7F) || *c == '\n' || *c == '\t';
        if (k + (m ? m : 1) >= len)
            break;
        if (m)
            memcpy(out + k, c, m);
        else
            out[k] = '?';
        k += m ? m : 1;
        i += m ? m : 1;
    }
    out[k] = '\0';
}

/* Run c->argv with /bin/sh and wait for it (killing its process group
 * after c->timeout). Its output goes to output_fd, or (-1) into end->tail. */
static int run_child(const struct child *c, int output_fd, struct child_end *end, struct cell_err *err)
{
    *end = (struct child_end){0};
    int out[2] = {-1, -1};
    if (output_fd < 0 && pipe2(out, O_CLOEXEC) < 0)
        return cell_err_set(err, errno, "create a pipe");
    pid_t pid = fork();
    if (pid == 0)
        child_exec(c, output_fd >= 0 ? output_fd : out[1]);
    int saved = errno;
    if (out[1] >= 0)
        close(out[1]);
    cleanup_close int pipe_fd = out[0];
    if (pid < 0)
        return cell_err_set(err, saved, "start /bin/sh");
    setpgid(pid, pid); /* (also done by the child: whichever runs first) */
    cleanup_close int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd < 0) {
        saved = errno;
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return cell_err_set(err, saved, "watch /bin/sh (pidfd_open)");
    }
    long long deadline = c->timeout > 0 ? now_ms() + (long long)(c->timeout * 1000) : -1;
    char keep[2 * TAIL_BYTES];
    size_t kept = 0;
    for (;;) {
        struct pollfd p[2] = {{.fd = pidfd, .events = POLLIN}, {.fd = pipe_fd, .events = POLLIN}};
        int wait = -1;
        if (deadline >= 0 && !end->timed_out)
            wait = deadline > now_ms() ? (int)(deadline - now_ms()) : 0;
        int n = poll(p, pipe_fd >= 0 ? 2 : 1, wait);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) { /* its time is up (or poll failed, not expected): end it and all it started */
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            if (n < 0)
                break;
            end->timed_out = true;
            continue;
        }
        if (pipe_fd >= 0 && p[1].revents && keep_output(pipe_fd, keep, sizeof keep, &kept) <= 0) {
            close(pipe_fd);
            pipe_fd = -1;
        }
        if (p[0].revents)
            break;
    }
    if (pipe_fd >= 0) { /* what it wrote before it ended (not what it left running writes later) */
        fcntl(pipe_fd, F_SETFL, O_NONBLOCK);
        while (keep_output(pipe_fd, keep, sizeof keep, &kept) > 0)
            ;
    }
    while (waitpid(pid, &end->status, 0) < 0)
        if (errno != EINTR)
            return cell_err_set(err, errno, "wait for /bin/sh");
    size_t from = kept > TAIL_BYTES ? kept - TAIL_BYTES : 0;
    last_lines(keep + from, kept - from, end->tail, sizeof end->tail);
    return 0;
}

/* An error "HEAD: OUTPUT TAIL", the tail cut at its start to fit err->msg
 * behind the prefix action_run adds. */
static int fail_with_tail(const struct act *a, const char *head, const char *tail, struct cell_err *err)
{
    size_t used = a->prefix_len + strlen(head) + 2 + 4; /* ": " and "...\n" */
    size_t room = used < sizeof err->msg - 1 ? sizeof err->msg - 1 - used : 0;
    size_t n = strlen(tail);
    if (n == 0 || room < 16)
        return cell_err_set(err, 0, "%s", head);
    if (n <= room)
        return cell_err_set(err, 0, "%s: %s", head, tail);
    const char *start = tail + n - room;
    while (((unsigned char)*start & 0xC0) == 0x80) /* not inside a UTF-8 character */
        start++;
    const char *nl = strchr(start, '\n');
    return cell_err_set(err, 0, "%s: ...\n%s", head, nl ? nl + 1 : start);
}

/* Run and judge a child: an error unless it exited 0 (or, with
 * ignore_exit, exited at all). */
static int run_shell(const struct act *a, const struct child *c, bool ignore_exit, struct cell_err *err)
{
    struct child_end end;
    if (run_child(c, a->ctx->output_fd, &end, err) < 0)
        return -1;
    char head[96];
    if (end.timed_out)
        snprintf(head, sizeof head, "timed out after %g s", c->timeout);
    else if (WIFEXITED(end.status) && (WEXITSTATUS(end.status) == 0 || ignore_exit))
        return 0;
    else if (WIFEXITED(end.status))
        snprintf(head, sizeof head, "exited with status %d", WEXITSTATUS(end.status));
    else
        snprintf(head, sizeof head, "killed by signal %d (%s)", WTERMSIG(end.status), strsignal(WTERMSIG(end.status)));
    return fail_with_tail(a, head, end.tail, err);
}

/* ---- exec, dir, line, symlink ---------------------------------------------------- */

static int run_exec(struct act *a, bool *changed, struct cell_err *err)
{
    const char *cmd = field(a, "cmd", err);
    if (cmd == NULL)
        return -1;
    char *argv[] = {"/bin/sh", "-c", (char *)cmd, NULL};
    struct child c = {.argv = argv, .envp = clean_env, .cwd = "/"};
    if (run_shell(a, &c, false, err) < 0)
        return -1;
    *changed = true;
    return 0;
}

static int run_dir(struct act *a, bool *changed, struct cell_err *err)
{
    const char *path = view_path(a, "path", err);
    struct attrs attrs;
    if (path == NULL || read_attrs(a, 0755, &attrs, err) < 0)
        return -1;
    struct stat st;
    if (stat(path, &st) < 0) {
        if (errno != ENOENT)
            return cell_err_set(err, errno, "stat %s", path);
        if (make_dirs(path, 0755, err) < 0)
            return -1;
        *changed = true;
    } else if (!S_ISDIR(st.st_mode)) {
        return cell_err_set(err, 0, "%s exists and is not a directory (remove it first)", path);
    }
    cleanup_close int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return cell_err_set(err, errno, "open directory %s", path);
    return set_attrs(fd, path, &attrs, changed, err);
}

static int run_line(struct act *a, bool *changed, struct cell_err *err)
{
    const char *path = view_path(a, "path", err), *text = path ? field(a, "text", err) : NULL;
    if (text == NULL)
        return -1;
    if (strchr(text, '\n'))
        return cell_err_set(err, 0, "the line must not contain a newline (use one line action for each)");
    char buf[PATH_MAX];
    const char *target = resolved(path, buf);
    struct attrs attrs = {.mode = 0644, .uid = (uid_t)-1, .gid = (gid_t)-1};
    cleanup_free char *old = NULL;
    size_t len = 0;
    struct stat st;
    if (stat(target, &st) == 0) {
        if (read_view_file(target, &old, &len, err) < 0)
            return -1;
        attrs.mode = st.st_mode & 07777; /* the owner is kept by install_file */
    } else if (errno != ENOENT) {
        return cell_err_set(err, errno, "stat %s", target);
    }
    size_t tlen = strlen(text);
    for (const char *p = old; p && p < old + len;) {
        const char *nl = memchr(p, '\n', (size_t)(old + len - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(old + len - p);
        if (n == tlen && memcmp(p, text, n) == 0)
            return 0; /* there already */
        p += n + 1;
    }
    bool needs_newline = len > 0 && old[len - 1] != '\n';
    cleanup_free char *data = NULL;
    int n = asprintf(&data, "%.*s%s%s\n", (int)len, old ? old : "", needs_newline ? "\n" : "", text);
    if (n < 0) {
        data = NULL;
        return cell_err_set(err, ENOMEM, "append to %s", target);
    }
    struct content c = {.data = data, .len = (size_t)n, .fd = -1};
    return install_file(target, &c, &attrs, changed, err);
}

static int run_symlink(struct act *a, bool *changed, struct cell_err *err)
{
    const char *link = view_path(a, "link", err), *target = link ? field(a, "target", err) : NULL;
    if (target == NULL)
        return -1;
    if (*target == '\0')
        return cell_err_set(err, 0, "the target must not be empty");
    struct stat st;
    if (lstat(link, &st) < 0) {
        if (errno != ENOENT)
            return cell_err_set(err, errno, "stat %s", link);
        if (symlink(target, link) < 0)
            return create_error(link, errno, err);
        *changed = true;
        return 0;
    }
    if (!S_ISLNK(st.st_mode))
        return cell_err_set(err, 0, "%s exists and is not a symlink (remove it first)", link);
    char now[PATH_MAX];
    ssize_t n = readlink(link, now, sizeof now);
    if (n < 0)
        return cell_err_set(err, errno, "read symlink %s", link);
    if ((size_t)n == strlen(target) && memcmp(now, target, (size_t)n) == 0)
        return 0;
    char tmp[PATH_MAX + 64];
    if (create_beside(link, target, tmp, sizeof tmp) < 0)
        return create_error(link, errno, err);
    if (rename(tmp, link) < 0) {
        int saved = errno;
        unlink(tmp);
        return cell_err_set(err, saved, "replace symlink %s", link);
    }
    *changed = true;
    return 0;
}

/* ---- copy, file, template ----------------------------------------------------- */

/* On the host: open the source named by `key` (relative to the
 * desired-state directory), a regular file. */
static int open_source(struct act *a, int spec_dirfd, const char *key, struct cell_err *err)
{
    const char *src = field(a, key, err);
    if (src == NULL)
        return -1;
    const char *dir = a->ctx->spec_dir ? a->ctx->spec_dir : ".";
    char shown[PATH_MAX];
    snprintf(shown, sizeof shown, "%s%s%s", src[0] == '/' ? "" : dir, src[0] == '/' ? "" : "/", src);
    int fd = openat(spec_dirfd, src, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return cell_err_set(err, errno, "open %s", shown);
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return cell_err_set(err, 0, "%s is not a regular file", shown);
    }
    return fd;
}

static int prepare_source(struct act *a, int spec_dirfd, struct action_prep *prep, struct cell_err *err)
{
    int fd = open_source(a, spec_dirfd, "src", err);
    if (fd < 0)
        return -1;
    prep->source_fds[a->index] = fd;
    return 0;
}

static int run_copy(struct act *a, bool *changed, struct cell_err *err)
{
    const char *dst = view_path(a, "dst", err);
    if (dst == NULL)
        return -1;
    struct stat st;
    if (fstat(a->source_fd, &st) < 0)
        return cell_err_set(err, errno, "stat the source");
    struct attrs attrs;
    if (read_attrs(a, st.st_mode & 07777, &attrs, err) < 0)
        return -1;
    struct content c = {.len = (size_t)st.st_size, .fd = a->source_fd};
    return install_file(dst, &c, &attrs, changed, err);
}

static int run_file(struct act *a, bool *changed, struct cell_err *err)
{
    const char *path = view_path(a, "path", err), *content = path ? field(a, "content", err) : NULL;
    struct attrs attrs;
    if (content == NULL || read_attrs(a, 0644, &attrs, err) < 0)
        return -1;
    struct content c = {.data = content, .len = json_string_length(json_object_get(a->action, "content")), .fd = -1};
    return install_file(path, &c, &attrs, changed, err);
}

/* [A-Za-z_][A-Za-z0-9_]* */
static bool token_name_valid(const char *s, size_t n)
{
    if (n == 0 || (s[0] >= '0' && s[0] <= '9'))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(s[i] == '_' || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9')))
            return false;
    return true;
}

/* The tokens a template can use: the built-in ones, then opts.tokens (a
 * name given there replaces a built-in one). An object of strings. */
static json_t *template_tokens(const struct act *a, struct cell_err *err)
{
    const struct action_ctx *ctx = a->ctx;
    struct utsname u;
    if (uname(&u) < 0)
        snprintf(u.machine, sizeof u.machine, "unknown");
    char uid[16], gid[16];
    snprintf(uid, sizeof uid, "%u", (unsigned)ctx->run_uid);
    snprintf(gid, sizeof gid, "%u", (unsigned)ctx->run_gid);
    const char *builtin[][2] = {{"run_uid", uid},
                                {"run_gid", gid},
                                {"cell_name", ctx->cell_name ? ctx->cell_name : ""},
                                {"cell_root", ctx->cell_root ? ctx->cell_root : ""},
                                {"manifest_dir", ctx->spec_dir ? ctx->spec_dir : ""},
                                {"arch", u.machine}};
    json_t *t = json_object();
    for (size_t i = 0; t && i < ARRAY_SIZE(builtin); i++)
        json_object_set_new(t, builtin[i][0], json_string_nocheck(builtin[i][1]));
    json_t *given = json_object_get(a->opts, "tokens");
    if (t == NULL || (given && !json_is_object(given))) {
        json_decref(t);
        cell_err_set(err, t ? 0 : ENOMEM, "tokens: expected a table of NAME = value");
        return NULL;
    }
    const char *name;
    json_t *v;
    json_object_foreach(given, name, v)
    {
        char num[32];
        const char *env = json_string_value(json_object_get(v, "from_env"));
        const char *value = env ? getenv(env) : json_text(v, num, sizeof num);
        if (!token_name_valid(name, strlen(name)))
            cell_err_set(err, 0, "token \"%s\": a name is letters, digits and _, not starting with a digit", name);
        else if (env && value == NULL)
            cell_err_set(err, 0, "token %s: environment variable %s is not set", name, env);
        else if (value == NULL)
            cell_err_set(err, 0, "token %s: expected a string, a number or from_env(\"NAME\")", name);
        else if (json_object_set_new(t, name, json_string_nocheck(value)) < 0)
            cell_err_set(err, ENOMEM, "token %s", name);
        else
            continue;
        json_decref(t);
        return NULL;
    }
    return t;
}

/* `text` with every {{name}} (spaces inside allowed) replaced by its
 * token; anything else between {{ and }} is an error (fail closed). */
int actions_render_template(const char *text, json_t *tokens, char **out, struct cell_err *err)
{
    size_t size;
    *out = NULL;
    FILE *m = open_memstream(out, &size);
    if (m == NULL)
        return cell_err_set(err, errno, "render");
    int line = 1, rc = 0;
    /* one pass, each byte looked at once: no search to the end of a line
     * (or of the text) for every token, quadratic on a long line */
    for (const char *p = text; *p;) {
        const char *open = p;
        for (; *open && !(open[0] == '{' && open[1] == '{'); open++)
            line += *open == '\n';
        fwrite(p, 1, (size_t)(open - p), m);
        if (*open == '\0')
            break;
        const char *close = open + 2; /* the first }} on the same line */
        while (*close && *close != '\n' && !(close[0] == '}' && close[1] == '}'))
            close++;
        if (*close != '}') {
            rc = cell_err_set(err, 0, "line %d: {{ without a closing }} on the same line", line);
            break;
        }
        const char *name = open + 2, *end = close;
        while (name < end && (*name == ' ' || *name == '\t'))
            name++;
        while (end > name && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        size_t n = (size_t)(end - name);
        char key[128];
        if (!token_name_valid(name, n) || n >= sizeof key) {
            int shown = close - open - 2 > 64 ? 64 : (int)(close - open - 2);
            rc = cell_err_set(err, 0, "line %d: {{%.*s}} is not a token name (letters, digits and _)", line, shown,
                              open + 2);
            break;
        }
        memcpy(key, name, n);
        key[n] = '\0';
        const char *value = json_string_value(json_object_get(tokens, key));
        if (value == NULL) {
            rc = cell_err_set(err, 0, "line %d: unknown token {{%s}} (give it in tokens = { %s = ... })", line, key,
                              key);
            break;
        }
        fputs(value, m);
        p = close + 2;
    }
    if (fclose(m) != 0 && rc == 0)
        rc = cell_err_set(err, ENOMEM, "render");
    if (rc < 0) {
        free(*out);
        *out = NULL;
    }
    return rc;
}

/* On the host: read the source named by `key` whole (no NUL bytes). */
static int read_source(struct act *a, int spec_dirfd, const char *key, char **text, struct cell_err *err)
{
    cleanup_close int fd = open_source(a, spec_dirfd, key, err);
    const char *name = json_string_value(json_object_get(a->action, key));
    size_t len;
    if (fd < 0 || read_whole(fd, name, text, &len, err) < 0)
        return -1;
    if (strlen(*text) != len) {
        free(*text);
        *text = NULL;
        return cell_err_set(err, 0, "%s contains a NUL byte (not a text file)", name);
    }
    return 0;
}

static int prepare_template(struct act *a, int spec_dirfd, struct action_prep *prep, struct cell_err *err)
{
    cleanup_free char *text = NULL;
    if (read_source(a, spec_dirfd, "src", &text, err) < 0)
        return -1;
    json_t *tokens = template_tokens(a, err);
    if (tokens == NULL)
        return -1;
    int rc = actions_render_template(text, tokens, &prep->texts[a->index], err);
    json_decref(tokens);
    return rc;
}

static int run_template(struct act *a, bool *changed, struct cell_err *err)
{
    const char *dst = view_path(a, "dst", err);
    struct attrs attrs;
    if (dst == NULL || read_attrs(a, 0644, &attrs, err) < 0)
        return -1;
    struct content c = {.data = a->text, .len = strlen(a->text), .fd = -1};
    return install_file(dst, &c, &attrs, changed, err);
}

/* ---- patch ------------------------------------------------------------------------ */

/* A line, without its newline; `nl`: it has one. */
struct span {
    const char *p;
    size_t len;
    bool nl;
};

struct lines {
    struct span *v;
    size_t n, cap;
};

struct hunk {
    size_t old_start, new_start; /* as the @@ line says (1-based) */
    struct lines old, new;
};

static int lines_add(struct lines *l, const char *p, size_t len, bool nl)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct span *grown = realloc(l->v, cap * sizeof *grown);
        if (grown == NULL)
            return -1;
        l->v = grown;
        l->cap = cap;
    }
    l->v[l->n++] = (struct span){.p = p, .len = len, .nl = nl};
    return 0;
}

/* Split text[0..len) into lines. */
static int split_lines(const char *text, size_t len, struct lines *l)
{
    for (const char *p = text; p < text + len;) {
        const char *nl = memchr(p, '\n', (size_t)(text + len - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(text + len - p);
        if (lines_add(l, p, n, nl != NULL) < 0)
            return -1;
        p += n + 1;
    }
    return 0;
}

static void hunks_free(struct hunk *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(h[i].old.v);
        free(h[i].new.v);
    }
    free(h);
}

/* "-A[,B] +C[,D] @@": the starts and counts of a hunk. */
static bool parse_range(const char *s, size_t *a, size_t *b, size_t *c, size_t *d)
{
    char *end;
    *a = strtoul(s, &end, 10);
    *b = *end == ',' ? strtoul(end + 1, &end, 10) : 1;
    if (strncmp(end, " +", 2) != 0)
        return false;
    *c = strtoul(end + 2, &end, 10);
    *d = *end == ',' ? strtoul(end + 1, &end, 10) : 1;
    return strncmp(end, " @@", 3) == 0;
}

/* The hunks of a one-file unified diff (its header lines are ignored). The
 * diff's own newlines do not count: a line has one unless "\ No newline at
 * end of file" follows it. */
static int parse_patch(const char *diff, struct hunk **out, size_t *count, struct cell_err *err)
{
    struct lines d = {0};
    if (split_lines(diff, strlen(diff), &d) < 0)
        return cell_err_set(err, ENOMEM, "parse the diff");
    struct hunk *h = NULL;
    size_t n = 0, old_left = 0, new_left = 0;
    char last = 0; /* the kind of the hunk line before */
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < d.n; i++) {
        const struct span *s = &d.v[i];
        if (n > 0 && last && s->len > 0 && s->p[0] == '\\') {
            if (last != '+')
                h[n - 1].old.v[h[n - 1].old.n - 1].nl = false;
            if (last != '-')
                h[n - 1].new.v[h[n - 1].new.n - 1].nl = false;
            last = 0;
        } else if (old_left > 0 || new_left > 0) {
            char kind = s->len ? s->p[0] : ' '; /* an empty line: context whose space was trimmed */
            struct hunk *k = &h[n - 1];
            if ((kind != ' ' && kind != '-' && kind != '+') || (kind != '+' && old_left == 0) ||
                (kind != '-' && new_left == 0)) {
                rc = cell_err_set(err, 0, "hunk %zu: line %zu of the diff does not fit its @@ counts", n, i + 1);
                break;
            }
            const char *p = s->len ? s->p + 1 : s->p;
            size_t len = s->len ? s->len - 1 : 0;
            if ((kind != '+' && lines_add(&k->old, p, len, true) < 0) ||
                (kind != '-' && lines_add(&k->new, p, len, true) < 0))
                rc = cell_err_set(err, ENOMEM, "parse the diff");
            old_left -= kind != '+';
            new_left -= kind != '-';
            last = kind;
        } else if (s->len >= 4 && strncmp(s->p, "@@ -", 4) == 0) {
            struct hunk *grown = realloc(h, (n + 1) * sizeof *grown);
            if (grown == NULL) {
                rc = cell_err_set(err, ENOMEM, "parse the diff");
                break;
            }
            h = grown;
            h[n++] = (struct hunk){0};
            char header[128];
            snprintf(header, sizeof header, "%.*s", (int)s->len, s->p);
            if (!parse_range(header + 4, &h[n - 1].old_start, &old_left, &h[n - 1].new_start, &new_left))
                rc = cell_err_set(err, 0, "hunk %zu: a malformed @@ line (line %zu of the diff)", n, i + 1);
            last = 0;
        } else if (n > 0 && s->len >= 4 && strncmp(s->p, "+++ ", 4) == 0) {
            rc = cell_err_set(err, 0, "the diff changes more than one file (line %zu): give one patch for each", i + 1);
        } else {
            last = 0; /* a header, or text between hunks */
        }
    }
    free(d.v);
    if (rc == 0 && (old_left > 0 || new_left > 0))
        rc = cell_err_set(err, 0, "hunk %zu is cut short (fewer lines than its @@ counts)", n);
    if (rc == 0 && n == 0)
        rc = cell_err_set(err, 0, "the diff has no hunks (@@ lines)");
    if (rc < 0) {
        hunks_free(h, n);
        return -1;
    }
    *out = h;
    *count = n;
    return 0;
}

static bool matches_at(const struct lines *file, size_t at, const struct lines *want)
{
    if (at + want->n > file->n)
        return false;
    for (size_t i = 0; i < want->n; i++) {
        const struct span *f = &file->v[at + i], *w = &want->v[i];
        if (f->len != w->len || f->nl != w->nl || memcmp(f->p, w->p, w->len) != 0)
            return false;
    }
    return true;
}

/* Where `want` is in `file`, at or after `from`, nearest to `expected`
 * (searching outward); -1 when nowhere. */
static ptrdiff_t find_lines(const struct lines *file, const struct lines *want, size_t from, ptrdiff_t expected)
{
    if (want->n > file->n || from > file->n - want->n)
        return -1;
    ptrdiff_t lo_end = (ptrdiff_t)from, hi_end = (ptrdiff_t)(file->n - want->n);
    /* outside [lo_end, hi_end] the nearest places come in the same order
     * from its nearer end: start there, not a line number's distance away */
    if (expected < lo_end)
        expected = lo_end;
    else if (expected > hi_end)
        expected = hi_end;
    for (ptrdiff_t d = 0;; d++) {
        ptrdiff_t lo = expected - d, hi = expected + d;
        if (lo < lo_end && hi > hi_end)
            return -1;
        if (lo >= lo_end && lo <= hi_end && matches_at(file, (size_t)lo, want))
            return lo;
        if (d > 0 && hi >= lo_end && hi <= hi_end && matches_at(file, (size_t)hi, want))
            return hi;
    }
}

/* Place every hunk in order (reverse: look for its new lines): at[k] is
 * where hunk k goes. -1 when all are placed, else the first that is not. */
static ptrdiff_t place_hunks(const struct lines *file, const struct hunk *h, size_t n, bool reverse, size_t *at)
{
    size_t from = 0;
    ptrdiff_t offset = 0; /* where the hunk before was found, less where its @@ said */
    for (size_t k = 0; k < n; k++) {
        const struct lines *want = reverse ? &h[k].new : &h[k].old;
        size_t start = reverse ? h[k].new_start : h[k].old_start;
        size_t line = want->n == 0 ? start : start - (start > 0); /* 0-based */
        /* any number can be on an @@ line: saturate, never overflow (base >= 0, offset >= -PTRDIFF_MAX) */
        ptrdiff_t base = line > PTRDIFF_MAX ? PTRDIFF_MAX : (ptrdiff_t)line, expected;
        if (__builtin_add_overflow(base, offset, &expected))
            expected = PTRDIFF_MAX;
        ptrdiff_t pos = find_lines(file, want, from, expected);
        if (pos < 0)
            return (ptrdiff_t)k;
        at[k] = (size_t)pos;
        offset = pos - base;
        from = (size_t)pos + want->n;
    }
    return -1;
}

/* Lines [from, to) of `l` (l->v may be NULL when it has none). */
static void put_lines(FILE *m, const struct lines *l, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        fwrite(l->v[i].p, 1, l->v[i].len, m);
        if (l->v[i].nl)
            fputc('\n', m);
    }
}

/* The file's lines with each hunk's old lines (placed at at[k]) replaced by its new ones. */
static int patched_text(const struct lines *file, const struct hunk *h, size_t n, const size_t *at, char **out,
                        size_t *len, struct cell_err *err)
{
    FILE *m = open_memstream(out, len);
    if (m == NULL) {
        *out = NULL;
        return cell_err_set(err, errno, "patch");
    }
    size_t pos = 0;
    for (size_t k = 0; k < n; k++) {
        put_lines(m, file, pos, at[k]);
        put_lines(m, &h[k].new, 0, h[k].new.n);
        pos = at[k] + h[k].old.n;
    }
    put_lines(m, file, pos, file->n);
    if (fclose(m) != 0) {
        free(*out);
        *out = NULL;
        return cell_err_set(err, ENOMEM, "patch");
    }
    return 0;
}

/* `diff` applied to text[0..len): the new text in *out, or *out NULL when
 * the diff is in it already (every hunk matches reversed). */
int actions_apply_diff(const char *text, size_t len, const char *diff, char **out, size_t *out_len,
                       struct cell_err *err)
{
    struct hunk *h = NULL;
    size_t n = 0;
    *out = NULL;
    if (parse_patch(diff, &h, &n, err) < 0)
        return -1;
    struct lines file = {0};
    size_t *at = calloc(n, sizeof *at), *back = calloc(n, sizeof *back);
    int rc = 0;
    if (at == NULL || back == NULL || split_lines(text, len, &file) < 0) {
        rc = cell_err_set(err, ENOMEM, "patch");
    } else {
        ptrdiff_t failed = place_hunks(&file, h, n, false, at);
        bool insert_only = false; /* a hunk without old lines fits anywhere: no proof it is not applied yet */
        for (size_t k = 0; k < n; k++)
            insert_only |= h[k].old.n == 0;
        bool applied = (failed >= 0 || insert_only) && place_hunks(&file, h, n, true, back) < 0;
        if (failed >= 0 && !applied)
            rc = cell_err_set(err, 0, "hunk %zd does not apply (line %zu)", failed + 1, h[failed].old_start);
        else if (!applied)
            rc = patched_text(&file, h, n, at, out, out_len, err);
    }
    free(at);
    free(back);
    free(file.v);
    hunks_free(h, n);
    return rc;
}

/* The file keeps its mode and owner; the diff's own file names are not
 * used (opts.strip is accepted for them, and changes nothing). */
static int run_patch(struct act *a, bool *changed, struct cell_err *err)
{
    const char *path = view_path(a, "path", err), *diff = path ? field(a, "content", err) : NULL;
    json_t *strip = json_object_get(a->opts, "strip");
    if (diff == NULL)
        return -1;
    if (strip && !(json_is_integer(strip) && json_integer_value(strip) >= 0))
        return cell_err_set(err, 0, "strip: expected a number of path components (0 or more)");
    char buf[PATH_MAX];
    const char *target = resolved(path, buf);
    struct stat st;
    cleanup_free char *text = NULL, *patched = NULL;
    size_t len, patched_len;
    if (stat(target, &st) < 0)
        return cell_err_set(err, errno, "read %s", target);
    if (read_view_file(target, &text, &len, err) < 0 ||
        actions_apply_diff(text, len, diff, &patched, &patched_len, err) < 0)
        return -1;
    if (patched == NULL)
        return 0; /* applied already */
    struct attrs keep = {.mode = st.st_mode & 07777, .uid = st.st_uid, .gid = st.st_gid};
    struct content c = {.data = patched, .len = patched_len, .fd = -1};
    return install_file(target, &c, &keep, changed, err);
}

/* ---- untar -------------------------------------------------------------------------- */

static void archive_read_freep(struct archive **a)
{
    if (*a)
        archive_read_free(*a);
}
static void archive_write_freep(struct archive **a)
{
    if (*a)
        archive_write_free(*a);
}

/* One pass over the archive: check every entry, and with `extract` write
 * it (relative to the working directory, the destination). */
static int untar_pass(const struct act *a, const char *src, unsigned strip, bool extract, struct cell_err *err)
{
    if (lseek(a->source_fd, 0, SEEK_SET) < 0)
        return cell_err_set(err, errno, "rewind %s", src);
    __attribute__((cleanup(archive_read_freep))) struct archive *in = archive_read_new();
    __attribute__((cleanup(archive_write_freep))) struct archive *out = extract ? archive_write_disk_new() : NULL;
    if (in == NULL || (extract && out == NULL))
        return cell_err_set(err, ENOMEM, "read %s", src);
    archive_read_support_filter_all(in);
    archive_read_support_format_all(in);
    if (out)
        archive_write_disk_set_options(out, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
                                                ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                                                ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS);
    if (archive_read_open_fd(in, a->source_fd, CHUNK) != ARCHIVE_OK)
        return cell_err_set(err, 0, "read %s: %s", src, archive_error_string(in));
    __attribute__((cleanup(archive_check_free))) struct archive_check check;
    archive_check_init(&check, &(struct archive_check_opts){.strip = strip, .types = ARCHIVE_CHECK_PLAIN});
    for (;;) {
        struct archive_entry *e;
        int r = archive_read_next_header(in, &e);
        if (r == ARCHIVE_EOF)
            return 0;
        if (r < ARCHIVE_WARN)
            return cell_err_set(err, 0, "read %s: %s", src, archive_error_string(in));
        char name[PATH_MAX], hardlink[PATH_MAX];
        int ok = archive_check_entry(&check, e, name, hardlink, err);
        if (ok < 0)
            return -1;
        if (ok == 0 || !extract) {
            archive_read_data_skip(in);
            continue;
        }
        char shown[128];
        snprintf(shown, sizeof shown, "%s", archive_entry_pathname(e));
        archive_entry_copy_pathname(e, name);
        if (archive_entry_hardlink(e))
            archive_entry_copy_hardlink(e, hardlink);
        if (archive_write_header(out, e) < ARCHIVE_WARN)
            return cell_err_set(err, 0, "entry \"%s\": %s", shown, archive_error_string(out));
        const void *block;
        size_t size;
        int64_t offset;
        while ((r = archive_read_data_block(in, &block, &size, &offset)) == ARCHIVE_OK)
            if (archive_write_data_block(out, block, size, offset) < ARCHIVE_WARN)
                return cell_err_set(err, 0, "entry \"%s\": %s", shown, archive_error_string(out));
        if (r < ARCHIVE_WARN)
            return cell_err_set(err, 0, "read %s: %s", src, archive_error_string(in));
        if (archive_write_finish_entry(out) < ARCHIVE_WARN)
            return cell_err_set(err, 0, "entry \"%s\": %s", shown, archive_error_string(out));
    }
}

static int run_untar(struct act *a, bool *changed, struct cell_err *err)
{
    const char *src = field(a, "src", err), *dst = src ? view_path(a, "dst", err) : NULL;
    json_t *strip = json_object_get(a->opts, "strip");
    if (dst == NULL)
        return -1;
    if (strip && !(json_is_integer(strip) && json_integer_value(strip) >= 0 && json_integer_value(strip) < 256))
        return cell_err_set(err, 0, "strip: expected a number of path components (0 or more)");
    unsigned n = strip ? (unsigned)json_integer_value(strip) : 0;
    /* every entry is checked before any is written */
    if (untar_pass(a, src, n, false, err) < 0 || make_dirs(dst, 0755, err) < 0)
        return -1;
    cleanup_close int here = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (here < 0)
        return cell_err_set(err, errno, "open the working directory");
    if (chdir(dst) < 0)
        return cell_err_set(err, errno, "enter %s", dst);
    int rc = untar_pass(a, src, n, true, err);
    if (fchdir(here) < 0 && rc == 0)
        rc = cell_err_set(err, errno, "return to the working directory");
    *changed = rc == 0;
    return rc;
}

/* ---- script ------------------------------------------------------------------------- */

static int prepare_script(struct act *a, int spec_dirfd, struct action_prep *prep, struct cell_err *err)
{
    return read_source(a, spec_dirfd, "path", &prep->texts[a->index], err);
}

static void free_strv(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}
static void cleanup_strvp(char ***v)
{
    free_strv(*v);
}

/* "/bin/sh", the script, then opts.args (a list, or Lua's empty {}) as
 * text. NULL with err. */
static char **script_argv(const char *script, json_t *args, struct cell_err *err)
{
    if (args && !json_is_array(args) && !(json_is_object(args) && json_object_size(args) == 0)) {
        cell_err_set(err, 0, "args: expected a list of strings");
        return NULL;
    }
    size_t n = json_array_size(args);
    __attribute__((cleanup(cleanup_strvp))) char **v = calloc(n + 3, sizeof *v);
    if (v == NULL || (v[0] = strdup("/bin/sh")) == NULL || (v[1] = strdup(script)) == NULL) {
        cell_err_set(err, ENOMEM, "args");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        char num[32];
        const char *s = json_text(json_array_get(args, i), num, sizeof num);
        if (s == NULL || (v[i + 2] = strdup(s)) == NULL) {
            cell_err_set(err, s ? ENOMEM : 0, "args[%zu]: expected a string", i + 1);
            return NULL;
        }
    }
    char **out = v;
    v = NULL;
    return out;
}

/* The clean environment with opts.env on top, as "K=V" strings. */
static char **script_env(json_t *env, struct cell_err *err)
{
    if (env && !json_is_object(env)) {
        cell_err_set(err, 0, "env: expected a table of NAME = \"value\"");
        return NULL;
    }
    __attribute__((cleanup(cleanup_strvp))) char **v = calloc(ARRAY_SIZE(clean_env) + json_object_size(env), sizeof *v);
    if (v == NULL) {
        cell_err_set(err, ENOMEM, "env");
        return NULL;
    }
    size_t n = 0;
    for (size_t i = 0; clean_env[i]; i++) {
        char name[16];
        snprintf(name, sizeof name, "%.*s", (int)strcspn(clean_env[i], "="), clean_env[i]);
        if (json_object_get(env, name) == NULL && (v[n++] = strdup(clean_env[i])) == NULL) {
            cell_err_set(err, ENOMEM, "env");
            return NULL;
        }
    }
    const char *key;
    json_t *value;
    json_object_foreach(env, key, value)
    {
        char num[32];
        const char *s = json_text(value, num, sizeof num);
        if (s == NULL || *key == '\0' || strchr(key, '=')) {
            cell_err_set(err, 0, "env %s: expected NAME = \"value\" (a name without =)", key);
            return NULL;
        }
        if (asprintf(&v[n], "%s=%s", key, s) < 0) {
            v[n] = NULL;
            cell_err_set(err, ENOMEM, "env");
            return NULL;
        }
        n++;
    }
    char **out = v;
    v = NULL;
    return out;
}

static int run_script(struct act *a, bool *changed, struct cell_err *err)
{
    json_t *cwd = json_object_get(a->opts, "cwd"), *timeout = json_object_get(a->opts, "timeout");
    json_t *ignore = json_object_get(a->opts, "ignore_exit");
    if (cwd && !json_is_string(cwd))
        return cell_err_set(err, 0, "cwd: expected a path inside the cell");
    if (timeout && !(json_is_number(timeout) && json_number_value(timeout) > 0 && json_number_value(timeout) < 1e6))
        return cell_err_set(err, 0, "timeout: expected a number of seconds");
    if (ignore && !json_is_boolean(ignore))
        return cell_err_set(err, 0, "ignore_exit: expected true or false");
    __attribute__((cleanup(cleanup_strvp))) char **envp = script_env(json_object_get(a->opts, "env"), err);
    if (envp == NULL)
        return -1;
    char tmp[PATH_MAX];
    int fd = create_beside("/tmp/cell-script", NULL, tmp, sizeof tmp);
    if (fd < 0)
        return cell_err_set(err, errno, "create a temporary file in /tmp");
    int rc = write_all(fd, a->text, strlen(a->text)) < 0 || fchmod(fd, 0700) < 0
                 ? cell_err_set(err, errno, "write %s", tmp)
                 : 0;
    close(fd);
    __attribute__((cleanup(cleanup_strvp))) char **argv =
        rc == 0 ? script_argv(tmp, json_object_get(a->opts, "args"), err) : NULL;
    if (argv) {
        struct child c = {.argv = argv,
                          .envp = envp,
                          .cwd = cwd ? json_string_value(cwd) : "/",
                          .timeout = timeout ? json_number_value(timeout) : 0};
        rc = run_shell(a, &c, json_is_true(ignore), err);
    } else {
        rc = -1;
    }
    unlink(tmp);
    *changed = rc == 0;
    return rc;
}

/* ---- the table, and the API ------------------------------------------------------ */

static const struct action_kind kinds[] = {
    {.name = "exec", .subject = "cmd", .quoted = true, .options = "", .run = run_exec},
    {.name = "dir", .subject = "path", .options = "mode owner group", .run = run_dir},
    {.name = "line", .subject = "path", .options = "", .run = run_line},
    {.name = "symlink", .subject = "link", .object = "target", .options = "", .run = run_symlink},
    {.name = "copy",
     .subject = "src",
     .object = "dst",
     .options = "mode owner group",
     .prepare = prepare_source,
     .run = run_copy},
    {.name = "untar",
     .subject = "src",
     .object = "dst",
     .options = "strip",
     .prepare = prepare_source,
     .run = run_untar},
    {.name = "file", .subject = "path", .options = "mode owner group", .run = run_file},
    {.name = "patch", .subject = "path", .options = "strip", .run = run_patch},
    {.name = "template",
     .subject = "src",
     .object = "dst",
     .options = "mode owner group tokens",
     .prepare = prepare_template,
     .run = run_template},
    {.name = "script",
     .subject = "path",
     .options = "args env cwd timeout ignore_exit",
     .prepare = prepare_script,
     .run = run_script},
};

static const struct action_kind *kind_named(const char *name)
{
    for (size_t i = 0; name && i < ARRAY_SIZE(kinds); i++)
        if (strcmp(kinds[i].name, name) == 0)
            return &kinds[i];
    return NULL;
}

/* `s` on one line, at most `max` bytes of it (then "..."). */
static void shorten(const char *s, size_t max, char *out, size_t len)
{
    size_t n = strlen(s);
    bool cut = n > max;
    if (cut)
        while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80) /* not inside a UTF-8 character */
            max--;
    snprintf(out, len, "%.*s%s", (int)(cut ? max : n), s, cut ? "..." : "");
    for (char *p = out; *p; p++)
        if (*p == '\n' || *p == '\t' || *p == '\r')
            *p = ' ';
}

void action_describe(json_t *action, char *out, size_t len)
{
    const char *name = json_string_value(json_object_get(action, "action"));
    const struct action_kind *k = kind_named(name);
    if (k == NULL) {
        snprintf(out, len, "%s", name ? name : "action");
        return;
    }
    const char *s = json_string_value(json_object_get(action, k->subject));
    const char *o = k->object ? json_string_value(json_object_get(action, k->object)) : NULL;
    char shown[64];
    if (k->quoted) {
        shorten(s ? s : "?", 40, shown, sizeof shown);
        snprintf(out, len, "%s \"%s\"", k->name, shown);
    } else if (k->object) {
        snprintf(out, len, "%s %s -> %s", k->name, s ? s : "?", o ? o : "?");
    } else {
        snprintf(out, len, "%s %s", k->name, s ? s : "?");
    }
}

/* Whether `word` is one of the space-separated `words`. */
static bool one_of(const char *word, const char *words)
{
    size_t n = strlen(word);
    for (const char *p = words; *p;) {
        size_t len = strcspn(p, " ");
        if (len == n && strncmp(p, word, n) == 0)
            return true;
        p += len + (p[len] == ' ');
    }
    return false;
}

/* Set up `a` for action `index`: its kind, options and what was prepared
 * for it. NULL with err (complete, "[N] ..." in front). */
static const struct action_kind *begin(struct act *a, json_t *action, size_t index, const struct action_prep *prep,
                                       const struct action_ctx *ctx, struct cell_err *err)
{
    *a = (struct act){.action = action, .index = index, .source_fd = -1, .ctx = ctx};
    const char *name = json_string_value(json_object_get(action, "action"));
    const struct action_kind *k = kind_named(name);
    if (k == NULL) {
        char shown[64];
        shorten(name ? name : "(none)", 40, shown, sizeof shown);
        cell_err_set(err, 0,
                     "[%zu] unknown action \"%s\": expected exec, dir, line, symlink, copy, untar, file, patch, "
                     "template or script",
                     index + 1, shown);
        return NULL;
    }
    char desc[DESCRIBE_MAX];
    action_describe(action, desc, sizeof desc);
    snprintf(a->prefix, sizeof a->prefix, "[%zu] %s: ", index + 1, desc);
    a->prefix_len = strlen(a->prefix);
    a->opts = json_object_get(action, "opts");
    if (a->opts && !json_is_object(a->opts)) {
        cell_err_set(err, 0, "options: expected a table");
        goto fail;
    }
    const char *key;
    json_t *v;
    json_object_foreach(a->opts, key, v)
    {
        if (!one_of(key, k->options)) {
            cell_err_set(err, 0, "unknown option \"%s\" (%s takes: %s)", key, k->name,
                         *k->options ? k->options : "none");
            goto fail;
        }
    }
    if (prep && index < prep->count) {
        a->source_fd = prep->source_fds[index];
        a->text = prep->texts[index];
    }
    return k;
fail:
    cell_err_prefix(err, "%s", a->prefix);
    return NULL;
}

void actions_release(struct action_prep *prep)
{
    for (size_t i = 0; i < prep->count; i++) {
        if (prep->source_fds && prep->source_fds[i] >= 0)
            close(prep->source_fds[i]);
        if (prep->texts)
            free(prep->texts[i]);
    }
    free(prep->source_fds);
    free(prep->texts);
    *prep = (struct action_prep){0};
}

int actions_prepare(json_t *actions, const struct action_ctx *ctx, struct action_prep *prep, struct cell_err *err)
{
    *prep = (struct action_prep){0};
    if (!json_is_array(actions))
        return cell_err_set(err, 0, "actions: expected a list");
    size_t n = json_array_size(actions);
    prep->source_fds = malloc((n + 1) * sizeof *prep->source_fds);
    prep->texts = calloc(n + 1, sizeof *prep->texts);
    if (prep->source_fds == NULL || prep->texts == NULL) {
        actions_release(prep);
        return cell_err_set(err, ENOMEM, "actions");
    }
    prep->count = n;
    for (size_t i = 0; i < n; i++)
        prep->source_fds[i] = -1;
    const char *dir = ctx->spec_dir ? ctx->spec_dir : ".";
    cleanup_close int dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) {
        actions_release(prep);
        return cell_err_set(err, errno, "open the desired-state directory %s", dir);
    }
    for (size_t i = 0; i < n; i++) {
        struct act a;
        const struct action_kind *k = begin(&a, json_array_get(actions, i), i, NULL, ctx, err);
        if (k == NULL || (k->prepare && k->prepare(&a, dirfd, prep, err) < 0)) {
            if (k)
                cell_err_prefix(err, "%s", a.prefix);
            actions_release(prep);
            return -1;
        }
    }
    return 0;
}

int action_run(json_t *action, size_t index, const struct action_prep *prep, const struct action_ctx *ctx,
               bool *changed, struct cell_err *err)
{
    *changed = false;
    struct act a;
    const struct action_kind *k = begin(&a, action, index, prep, ctx, err);
    if (k == NULL)
        return -1;
    int rc = 0;
    if (k->prepare && a.source_fd < 0 && a.text == NULL)
        rc = cell_err_set(err, 0, "not prepared (call actions_prepare() with this list first)");
    if (rc == 0)
        rc = k->run(&a, changed, err);
    return rc < 0 ? cell_err_prefix(err, "%s", a.prefix) : 0;
}
