/* system.c - `cell system reset --yes`: back to a host without cells. celld
 * is told to stop every cell and itself (`cell down`), then every cell's
 * declaration and runtime directory (<data>/cells), every volume
 * (<data>/volumes), the logs (<data>/logs) and the events
 * (<data>/events.jsonl) are removed. The backups (<data>/backups) and the
 * desired state (the *.lua files) are kept: `cell apply` builds the host
 * again from them, `cell backup restore` brings the data back.
 *
 * Also the tree removal the other commands share (cm_remove_tree): rm -rf
 * through directory fds, never following a symlink, and refusing to go
 * into anything mounted inside (checked in /proc/self/mountinfo before
 * anything is removed, and again for each directory on the way). */
#include "cellman.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- removing a tree --------------------------------------------------------- */

/* Deeper than this is refused (each level holds a directory fd). */
#define REMOVE_MAX_DEPTH 512

/* mountinfo escapes space, tab, newline and backslash as \ooo */
static void unescape_mount_path(char *s)
{
    char *out = s;
    for (char *in = s; *in; in++) {
        if (in[0] == '\\' && in[1] >= '0' && in[1] <= '7' && in[2] >= '0' && in[2] <= '7' && in[3] >= '0' &&
            in[3] <= '7') {
            *out++ = (char)((in[1] - '0') * 64 + (in[2] - '0') * 8 + (in[3] - '0'));
            in += 3;
        } else {
            *out++ = *in;
        }
    }
    *out = '\0';
}

int cm_check_no_mounts(const char *path, bool below_only, struct cell_err *err)
{
    char real[PATH_MAX];
    if (realpath(path, real) == NULL)
        return errno == ENOENT ? 0 : cell_err_set(err, errno, "%s", path);
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (f == NULL) /* cannot tell here: the per-directory checks still apply */
        return 0;
    size_t n = strlen(real);
    char *line = NULL;
    size_t cap = 0;
    int rc = 0;
    while (rc == 0 && getline(&line, &cap, f) > 0) {
        /* ID PARENT MAJOR:MINOR ROOT MOUNTPOINT ... */
        char *save = NULL, *field = strtok_r(line, " ", &save);
        for (int i = 0; field && i < 4; i++)
            field = strtok_r(NULL, " ", &save);
        if (field == NULL)
            continue;
        unescape_mount_path(field);
        bool at = strcmp(field, real) == 0;
        bool below = strncmp(field, real, n) == 0 && field[n] == '/' && n > 1;
        if (below || (at && !below_only))
            rc = cell_err_set(err, 0, "%s is a mount point (umount it first)", field);
    }
    free(line);
    fclose(f);
    return rc;
}

static bool is_mount_root(int fd)
{
    struct statx stx;
    if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx) < 0)
        return false;
    return (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) && (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

/* Remove everything in the directory open as `fd` (`path` names it in
 * errors; `dev` is the device of the tree: another one is a mount). */
static int empty_dir(int fd, const char *path, dev_t dev, unsigned depth, struct cell_err *err)
{
    if (depth > REMOVE_MAX_DEPTH)
        return cell_err_set(err, 0, "remove %s: more than %d directories deep (remove it by hand)", path,
                            REMOVE_MAX_DEPTH);
    int dfd = dup(fd);
    DIR *d = dfd < 0 ? NULL : fdopendir(dfd);
    if (d == NULL) {
        int e = errno;
        if (dfd >= 0)
            close(dfd);
        return cell_err_set(err, e, "remove %s: read the directory", path);
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (errno = 0, e = readdir(d)) != NULL) {
        const char *name = e->d_name;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
            continue;
        cleanup_free char *child = NULL;
        if (asprintf(&child, "%s/%s", path, name) < 0) {
            rc = cell_err_set(err, ENOMEM, "remove %s", path);
            break;
        }
        bool dir = e->d_type == DT_DIR;
        if (e->d_type == DT_UNKNOWN) {
            struct stat st;
            dir = fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
        }
        if (dir) {
            cleanup_close int cfd = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            struct stat st;
            if (cfd < 0 && (errno == ENOTDIR || errno == ELOOP)) {
                dir = false; /* replaced meanwhile: unlinked below */
            } else if (cfd < 0) {
                if (errno != ENOENT)
                    rc = cell_err_set(err, errno, "remove %s", child);
                continue;
            } else if (fstat(cfd, &st) < 0) {
                rc = cell_err_set(err, errno, "remove %s", child);
                continue;
            } else if (st.st_dev != dev || is_mount_root(cfd)) {
                rc = cell_err_set(err, 0, "remove %s: it is a mount point (umount it first)", child);
                continue;
            } else if (empty_dir(cfd, child, dev, depth + 1, err) < 0) {
                rc = -1;
                continue;
            }
        }
        if (unlinkat(fd, name, dir ? AT_REMOVEDIR : 0) < 0 && errno != ENOENT)
            rc = cell_err_set(err, errno, "remove %s%s", child,
                              errno == EBUSY ? " (something is mounted there: umount it first)" : "");
    }
    if (rc == 0 && errno != 0)
        rc = cell_err_set(err, errno, "remove %s: read the directory", path);
    closedir(d);
    return rc;
}

int cm_remove_tree(const char *path, bool keep_root, struct cell_err *err)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : cell_err_set(err, errno, "remove %s", path);
    if (!S_ISDIR(st.st_mode)) {
        if (keep_root)
            return cell_err_set(err, ENOTDIR, "remove %s", path);
        if (unlink(path) < 0 && errno != ENOENT)
            return cell_err_set(err, errno, "remove %s", path);
        return 0;
    }
    if (cm_check_no_mounts(path, keep_root, err) < 0)
        return cell_err_prefix(err, "remove %s: ", path);
    cleanup_close int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0)
        return cell_err_set(err, errno, "remove %s", path);
    if (!keep_root && is_mount_root(fd))
        return cell_err_set(err, 0, "remove %s: it is a mount point (umount it first)", path);
    if (empty_dir(fd, path, st.st_dev, 0, err) < 0)
        return -1;
    if (!keep_root && rmdir(path) < 0 && errno != ENOENT)
        return cell_err_set(err, errno, "remove %s%s", path,
                            errno == ENOTEMPTY || errno == EBUSY ? " (something is mounted inside: umount it first)"
                                                                 : "");
    return 0;
}

/* ---- system reset ---------------------------------------------------------------- */

/* What a reset removes and keeps, counted before it starts. */
struct reset_count {
    size_t cells;   /* names with a declaration or a runtime directory */
    size_t volumes; /* directories in <data>/volumes */
    bool logs;      /* <data>/logs exists */
    bool events;    /* <data>/events.jsonl exists */
    size_t backups; /* files in <data>/backups/cells and /volumes */
};

static bool exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static int by_string(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The distinct cell names in <data>/cells: NAME.json and NAME/. */
static size_t count_cells(const char *dir)
{
    cleanup_dir DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    char **names = NULL;
    size_t n = 0, cap = 0;
    for (struct dirent *e; (e = readdir(d));) {
        char name[256];
        snprintf(name, sizeof name, "%s", e->d_name);
        size_t len = strlen(name);
        if (len > 5 && strcmp(name + len - 5, ".json") == 0)
            name[len - 5] = '\0';
        if (!cell_name_valid(name))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **more = realloc(names, cap * sizeof *names);
            if (more == NULL)
                break;
            names = more;
        }
        if ((names[n] = strdup(name)) == NULL)
            break;
        n++;
    }
    if (n > 1)
        qsort(names, n, sizeof *names, by_string);
    size_t distinct = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || strcmp(names[i], names[i - 1]) != 0)
            distinct++;
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return distinct;
}

static size_t count_entries(const char *dir, bool dirs_only)
{
    cleanup_dir DIR *d = opendir(dir);
    size_t n = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && (!dirs_only || S_ISDIR(st.st_mode)))
            n++;
    }
    return n;
}

static void reset_count(struct cm *cm, struct reset_count *c)
{
    char path[PATH_MAX + 32];
    c->cells = count_cells(cm->cells);
    c->volumes = count_entries(cm->volumes, true);
    c->logs = exists(cm->paths.logs);
    snprintf(path, sizeof path, "%s/events.jsonl", cm->paths.data);
    c->events = exists(path);
    snprintf(path, sizeof path, "%s/cells", cm->backups);
    c->backups = count_entries(path, false);
    snprintf(path, sizeof path, "%s/volumes", cm->backups);
    c->backups += count_entries(path, false);
}

static const char *plural(size_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

bool cm_cells_may_run(struct cm *cm)
{
    char dir[PATH_MAX + 8];
    snprintf(dir, sizeof dir, "%s/cells", cm->paths.run);
    cleanup_dir DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        size_t n = strlen(e->d_name);
        if (n > 5 && strcmp(e->d_name + n - 5, ".json") == 0)
            return true;
    }
    return false;
}

/* `cell down`: celld stops every cell, answers, then exits; wait for it to
 * be gone (its end of the connection closes) so it writes nothing more.
 * When celld is not running but left cells up, it is started first (any
 * request does that) so it takes them over and stops them. 1: celld was
 * stopped, 0: none ran. */
static int stop_celld(struct cm *cm, struct cell_err *err)
{
    if (cm_cells_may_run(cm)) {
        json_t *answer = cm_celld_call(cm, json_pack("{s:s}", "op", "status"), true, err);
        if (answer == NULL)
            return cell_err_prefix(err, "start celld to stop the cells it left running: ");
        json_decref(answer);
    }
    int fd = cell_control_connect(&cm->paths, err);
    if (fd < 0) {
        if (err->errnum != ENOENT && err->errnum != ECONNREFUSED)
            return cell_err_prefix(err, "stop celld: ");
        memset(err, 0, sizeof *err);
        return 0;
    }
    json_t *req = json_pack("{s:s}", "op", "down");
    json_t *answer = cell_control_call(fd, req, err);
    json_decref(req);
    char byte;
    while (answer && read(fd, &byte, 1) > 0)
        ;
    close(fd);
    if (answer == NULL)
        return cell_err_prefix(err, "stop celld (cell down): ");
    json_decref(answer);
    return 1;
}

void cmd_system_help(void)
{
    printf("usage: cell system reset --yes\n"
           "\n"
           "reset: stop every cell and celld (as cell down), then remove every cell's\n"
           "declaration and runtime directory (DATA/cells), every volume (DATA/volumes),\n"
           "the logs (DATA/logs) and the events (DATA/events.jsonl). The backups\n"
           "(DATA/backups) and the desired state (the *.lua files) are kept: cell apply\n"
           "builds the cells and volumes again, cell backup restore brings data back.\n"
           "DATA is /var/lib/cell, or ROOT/data with --root ROOT.\n"
           "\n"
           "options:\n"
           "  --yes   really do it (without it, only says what would be removed)\n");
}

static int system_reset(struct cm *cm, bool yes)
{
    struct reset_count c = {0};
    reset_count(cm, &c);
    if (!yes) {
        cm_error("system reset: would stop every cell and celld, and remove %zu %s, %zu %s, the logs and the "
                 "events under %s (keeping %zu %s and the desired state in %s): add --yes to do it",
                 c.cells, plural(c.cells, "cell", "cells"), c.volumes, plural(c.volumes, "volume", "volumes"),
                 cm->paths.data, c.backups, plural(c.backups, "backup", "backups"), cm->config);
        return CM_USAGE;
    }
    struct cell_err err = {0};
    if (cm_check_no_mounts(cm->cells, true, &err) < 0 || cm_check_no_mounts(cm->volumes, true, &err) < 0 ||
        cm_check_no_mounts(cm->paths.logs, false, &err) < 0) {
        cm_error("system reset: %s; nothing was stopped or removed", err.msg);
        return CM_FAILED;
    }
    int stopped = stop_celld(cm, &err);
    if (stopped < 0) {
        cm_error("system reset: %s (nothing was removed)", err.msg);
        return CM_FAILED;
    }
    if (stopped)
        printf("stopped every cell and celld\n");
    reset_count(cm, &c); /* celld may have written more meanwhile */
    char events[PATH_MAX + 16];
    snprintf(events, sizeof events, "%s/events.jsonl", cm->paths.data);
    if (cm_remove_tree(cm->cells, true, &err) < 0) {
        cm_error("system reset: cells: %s", err.msg);
        return CM_FAILED;
    }
    printf("removed %zu %s (declarations and runtime directories) from %s\n", c.cells, plural(c.cells, "cell", "cells"),
           cm->cells);
    if (cm_remove_tree(cm->volumes, true, &err) < 0) {
        cm_error("system reset: volumes: %s", err.msg);
        return CM_FAILED;
    }
    printf("removed %zu %s from %s\n", c.volumes, plural(c.volumes, "volume", "volumes"), cm->volumes);
    if (c.logs) {
        if (cm_remove_tree(cm->paths.logs, false, &err) < 0) {
            cm_error("system reset: logs: %s", err.msg);
            return CM_FAILED;
        }
        printf("removed the logs in %s\n", cm->paths.logs);
    }
    if (c.events) {
        if (unlink(events) < 0 && errno != ENOENT) {
            cm_error("system reset: remove %s: %s", events, strerror(errno));
            return CM_FAILED;
        }
        printf("removed the events in %s\n", events);
    }
    printf("kept %zu %s in %s\n", c.backups, plural(c.backups, "backup", "backups"), cm->backups);
    printf("kept the desired state in %s\n", cm->config);
    return CM_OK;
}

int cmd_system(int argc, char **argv, struct cm *cm)
{
    if (argc < 2) {
        cm_error("system: which one? (cell system reset --yes; see cell system --help)");
        return CM_USAGE;
    }
    if (strcmp(argv[1], "reset") != 0) {
        cm_error("system: unknown command \"%s\" (see cell system --help)", argv[1]);
        return CM_USAGE;
    }
    bool yes = false;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--yes") == 0) {
            yes = true;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            cmd_system_help();
            return CM_OK;
        } else {
            cm_error("system reset: unexpected \"%s\" (see cell system --help)", argv[i]);
            return CM_USAGE;
        }
    }
    return system_reset(cm, yes);
}
