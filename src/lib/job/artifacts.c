/* artifacts.c - a job's artifacts copied out after its run, into
 * <export-dir>/<id>/<name>.
 *
 * How a file is read out of the cell safely: the job's only writable
 * place that outlives its processes is its working directory, and that is
 * a tmpfs the runner mounted on the host side (<private>/root, with the
 * working directory at root/<workingDirectory>, so the tree below root
 * looks as the cell saw it) and bound into the cell. Once the cell's init
 * has exited (no process of the job runs any more; the cell is not yet
 * destroyed), each artifact path is opened with openat2(RESOLVE_IN_ROOT)
 * from that root: every link, absolute or relative, resolves inside the
 * tmpfs as it did in the cell, and one that leads anywhere else (/etc/passwd,
 * ../../..) can only reach that tmpfs, where nothing but the working
 * directory exists. RESOLVE_NO_XDEV and RESOLVE_NO_MAGICLINKS keep it on
 * this one filesystem; a hard link cannot cross into it either (a tmpfs of
 * its own). A path that does not resolve is then explained: a link on the
 * way whose target is outside the working directory is refused as such,
 * naming the link and its target. Only regular files are exported
 * (a FIFO is opened without blocking and refused). The copy is written to
 * <name>.part and renamed, so an export is whole or absent. */
#include "job/internal.h"
#include "util.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

static int open_in_root(int rootfd, const char *relative)
{
    return openat2_retry(rootfd, relative, O_RDONLY | O_NONBLOCK | O_NOCTTY,
                         RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV);
}

/* Whether absolute, clean-or-not `path` lies in `dir` (".." folded). */
static bool lexically_inside(const char *path, const char *dir)
{
    char parts[PATH_MAX];
    size_t n = 0;
    /* fold ".", "..", "//" into a clean absolute path */
    for (const char *p = path; *p;) {
        while (*p == '/')
            p++;
        size_t len = strcspn(p, "/");
        if (len == 0)
            break;
        if (len == 1 && p[0] == '.') {
        } else if (len == 2 && p[0] == '.' && p[1] == '.') {
            while (n > 0 && parts[n - 1] != '/')
                n--;
            if (n > 0)
                n--;
        } else {
            if (n + 1 + len >= sizeof parts)
                return false;
            parts[n++] = '/';
            memcpy(parts + n, p, len);
            n += len;
        }
        p += len;
    }
    parts[n] = '\0';
    size_t dlen = strlen(dir);
    return strncmp(parts, dir, dlen) == 0 && (parts[dlen] == '\0' || parts[dlen] == '/');
}

/* Why `path` (in the cell) did not open: the first link on the way, if any,
 * and where it leads. */
static void explain(int rootfd, const char *path, const char *workdir, int errnum, char *why, size_t len)
{
    char prefix[PATH_MAX];
    snprintf(prefix, sizeof prefix, "%s", path);
    for (char *end = prefix + 1;; end++) { /* each prefix, shortest first */
        char saved = *end;
        if (saved != '/' && saved != '\0')
            continue;
        *end = '\0';
        struct stat st;
        if (fstatat(rootfd, prefix + 1, &st, AT_SYMLINK_NOFOLLOW) < 0)
            break;
        if (S_ISLNK(st.st_mode)) {
            char target[PATH_MAX], resolved[2 * PATH_MAX + 2];
            ssize_t n = readlinkat(rootfd, prefix + 1, target, sizeof target - 1);
            if (n < 0)
                break;
            target[n] = '\0';
            if (target[0] == '/') {
                snprintf(resolved, sizeof resolved, "%s", target);
            } else {
                char *slash = strrchr(prefix, '/');
                snprintf(resolved, sizeof resolved, "%.*s/%s", (int)(slash - prefix), prefix, target);
            }
            if (!lexically_inside(resolved, workdir)) {
                snprintf(why, len, "%s is a link to %s, outside the working directory %s: refused", prefix, target,
                         workdir);
                return;
            }
            snprintf(why, len, "%s (through the link %s -> %s): %s", path, prefix, target, strerror(errnum));
            return;
        }
        if (saved == '\0')
            break;
        *end = saved;
    }
    snprintf(why, len, "%s: %s", path, strerror(errnum));
}

/* Copy fd `in` to <dirfd>/<name>, through <name>.part. */
static int copy_out(int in, const struct stat *st, int dirfd, const char *name, uint64_t *bytes, char *why, size_t len)
{
    char part[NAME_MAX + 8];
    snprintf(part, sizeof part, ".%s.part", name);
    unlinkat(dirfd, part, 0);
    mode_t mode = (st->st_mode & 0111) ? 0755 : 0644;
    cleanup_close int out = openat(dirfd, part, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (out < 0) {
        snprintf(why, len, "create %s: %s", part, strerror(errno));
        return -1;
    }
    char buf[65536];
    *bytes = 0;
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || (n > 0 && write_all(out, buf, (size_t)n) < 0)) {
            snprintf(why, len, "copy: %s", strerror(errno));
            unlinkat(dirfd, part, 0);
            return -1;
        }
        if (n == 0)
            break;
        *bytes += (uint64_t)n;
    }
    if (renameat(dirfd, part, dirfd, name) < 0) {
        snprintf(why, len, "rename %s to %s: %s", part, name, strerror(errno));
        unlinkat(dirfd, part, 0);
        return -1;
    }
    return 0;
}

/* One artifact: 0, or -1 with `why`. */
static int export_one(const struct cell_job *job, int rootfd, int outdir, const struct cell_job_artifact *a,
                      uint64_t *bytes, char *why, size_t len)
{
    const char *wd = job->working_directory;
    if (wd == NULL) {
        snprintf(why, len, "%s: the job has no run.workingDirectory, the only place whose files outlive it", a->path);
        return -1;
    }
    size_t wlen = strlen(wd);
    if (strncmp(a->path, wd, wlen) != 0 || (a->path[wlen] != '/' && a->path[wlen] != '\0')) {
        snprintf(why, len, "%s is not in the working directory %s, the only place whose files outlive the job", a->path,
                 wd);
        return -1;
    }
    cleanup_close int in = open_in_root(rootfd, a->path + 1);
    if (in < 0) {
        explain(rootfd, a->path, wd, errno, why, len);
        return -1;
    }
    struct stat st;
    if (fstat(in, &st) < 0) {
        snprintf(why, len, "%s: %s", a->path, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(why, len, "%s is not a regular file", a->path);
        return -1;
    }
    int flags = fcntl(in, F_GETFL);
    if (flags >= 0)
        fcntl(in, F_SETFL, flags & ~O_NONBLOCK);
    return copy_out(in, &st, outdir, a->name, bytes, why, len);
}

json_t *artifacts_export(const struct cell_job *job, const struct job_dirs *dirs, const char *export_dir)
{
    json_t *exported = json_array(), *errors = json_array();
    json_t *out = json_pack("{s:o, s:o}", "exported", exported, "errors", errors);
    if (out == NULL || job->nartifacts == 0)
        return out;
    char outpath[PATH_MAX], why[PATH_MAX + 256];
    cleanup_close int rootfd = -1, outdir = -1;
    struct cell_err err;
    int made = snprintf(outpath, sizeof outpath, "%s/%s", export_dir, job->id) < (int)sizeof outpath
                   ? make_dirs(outpath, 0755, &err)
                   : cell_err_set(&err, ENAMETOOLONG, "%s/%s", export_dir, job->id);
    if (made == 0)
        outdir = open(outpath, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (made == 0 && outdir < 0)
        cell_err_set(&err, errno, "open %s", outpath);
    if (dirs->mounted_root)
        rootfd = open(dirs->root, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    for (size_t i = 0; i < job->nartifacts; i++) {
        const struct cell_job_artifact *a = &job->artifacts[i];
        uint64_t bytes = 0;
        int rc = -1;
        if (outdir < 0)
            snprintf(why, sizeof why, "the export directory: %s", err.msg);
        else if (rootfd < 0 && job->working_directory)
            snprintf(why, sizeof why, "the working directory is gone: %s", strerror(errno));
        else
            rc = export_one(job, rootfd, outdir, a, &bytes, why, sizeof why);
        char dest[PATH_MAX + NAME_MAX + 2];
        snprintf(dest, sizeof dest, "%s/%s", outpath, a->name);
        if (rc == 0) {
            json_array_append_new(exported, json_pack("{s:s, s:s, s:s, s:I}", "name", a->name, "from", a->path, "path",
                                                      dest, "bytes", (json_int_t)bytes));
        } else {
            cell_log(CELL_LOG_WARN, "cell %s: artifact %s: %s", job->id, a->name, why);
            json_array_append_new(errors, json_pack("{s:s, s:s}", "name", a->name, "error", why));
        }
    }
    return out;
}
