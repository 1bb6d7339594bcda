/* backup.c - `cell backup create|list|restore|delete NAME [--volume]`: gzip'd
 * tar archives of a cell's writable layer (<data>/cells/NAME/upper, what
 * the cell changed on top of its image) or, with --volume, of a volume
 * (<data>/volumes/NAME). They are kept apart, one directory per kind:
 *
 *   <data>/backups/cells/NAME_YYYYmmddHHMMSS.tar.gz     cell NAME's layer
 *   <data>/backups/volumes/NAME_YYYYmmddHHMMSS.tar.gz   volume NAME
 *
 * The time is when the backup was made, in UTC; a second backup of NAME in
 * the same second is NAME_YYYYmmddHHMMSS-2.tar.gz (then -3, ...). An archive
 * is never overwritten: it is written under a temporary name (.NAME_...,
 * opened O_EXCL) and renamed into place with RENAME_NOREPLACE at the end, so
 * a failed backup leaves nothing.
 *
 * The archives are pax through libarchive (full pax, not restricted: that
 * would drop the sub-second mtimes): "." is the directory itself, "./PATH"
 * every entry below it, with numeric owners, modes, mtimes (to the ns),
 * extended attributes (the overlay's opaque directories) and ACLs; symlinks
 * are stored as symlinks, hard links as links, the overlay's whiteouts
 * (0:0 character devices) as devices; nothing is followed and nothing
 * mounted inside is entered (a mount below the tree is an error). Sockets
 * are skipped (tar cannot hold them).
 *
 * A restore replaces the whole tree, with --yes, and only while no running
 * cell uses it. It takes an archive of the backups directory only (--from
 * must resolve inside it), extracts it into a new directory beside the
 * target (.NAME.restore-XXXXXX) and only when every entry is in, swaps it
 * with the target (RENAME_EXCHANGE) and removes the old tree. An entry that
 * could lead outside is refused, with the whole restore: an absolute path, a
 * ".." in a path, a path or hard link through a symlink, an entry replacing
 * a symlink, a hard link to a path outside, a relative symlink that climbs
 * out of the tree, a device node (except the overlay's whiteouts). Absolute
 * symlinks are kept: the tree is a cell's filesystem, where they lead into
 * the cell's own root. The check is archive_check.c's, shared with untar.
 * `create` refuses what `restore` would (the same check, on every entry it
 * writes), so every archive can be restored. */
#include "archive_check.h"
#include "cellman.h"
#include "util.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STAMP_LEN 14 /* YYYYmmddHHMMSS */
#define MAX_SEQ 999  /* backups of one NAME in one second */

enum backup_kind { KIND_CELL, KIND_VOLUME };

/* What a command works on. */
struct target {
    enum backup_kind kind;
    const char *name;
    char label[128];            /* "backup restore web", "backup restore volume data" */
    char dir[PATH_MAX];         /* the tree: <cells>/NAME/upper or <volumes>/NAME */
    char parent[PATH_MAX];      /* the directory holding it */
    char store[PATH_MAX];       /* <backups>/cells or <backups>/volumes */
    char other_store[PATH_MAX]; /* the other one (for hints) */
    char runtime[PATH_MAX];     /* the cell's --layer (<cells>/NAME), or the volume */
    const char *base;           /* the tree's own name: "upper", or the volume's */
};

static const char *kind_word(enum backup_kind k)
{
    return k == KIND_CELL ? "cell" : "volume";
}

static const char *arc_error(struct archive *a)
{
    const char *s = archive_error_string(a);
    return s ? s : "unknown error";
}

/* ---- archive names ------------------------------------------------------------ */

struct backup_file {
    char file[NAME_MAX + 1]; /* NAME_STAMP[-SEQ].tar.gz */
    char name[64];
    char stamp[STAMP_LEN + 1];
    unsigned seq; /* 1 for none */
    off_t size;
};

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return n > 0;
}

/* Parse "NAME_YYYYmmddHHMMSS[-SEQ].tar.gz"; false when it is not one. */
static bool parse_backup_file(const char *file, struct backup_file *b)
{
    static const char ext[] = ".tar.gz";
    size_t n = strlen(file), ne = sizeof ext - 1;
    if (n <= ne || n > NAME_MAX || strcmp(file + n - ne, ext) != 0)
        return false;
    size_t end = n - ne; /* file[0..end) is NAME_STAMP[-SEQ] */
    unsigned seq = 1;
    const char *dash = memrchr(file, '-', end);
    if (dash && (size_t)(dash - file) > STAMP_LEN && all_digits(dash + 1, end - (size_t)(dash - file) - 1) &&
        all_digits(dash - STAMP_LEN, STAMP_LEN) && dash[-STAMP_LEN - 1] == '_') {
        if (dash[1] == '0' || end - (size_t)(dash - file) - 1 > 3)
            return false;
        seq = (unsigned)strtoul(dash + 1, NULL, 10);
        if (seq < 2)
            return false;
        end = (size_t)(dash - file);
    }
    if (end < STAMP_LEN + 2 || !all_digits(file + end - STAMP_LEN, STAMP_LEN) || file[end - STAMP_LEN - 1] != '_')
        return false;
    size_t nn = end - STAMP_LEN - 1;
    if (nn >= sizeof b->name)
        return false;
    memcpy(b->name, file, nn);
    b->name[nn] = '\0';
    if (!cell_name_valid(b->name))
        return false;
    memcpy(b->stamp, file + end - STAMP_LEN, STAMP_LEN);
    b->stamp[STAMP_LEN] = '\0';
    b->seq = seq;
    snprintf(b->file, sizeof b->file, "%s", file);
    return true;
}

static int by_age(const void *pa, const void *pb)
{
    const struct backup_file *a = pa, *b = pb;
    int c = strcmp(a->name, b->name);
    if (c == 0)
        c = strcmp(a->stamp, b->stamp);
    if (c == 0)
        c = (a->seq > b->seq) - (a->seq < b->seq);
    return c;
}

/* The archives in `store` of `name` (every name when NULL), oldest first.
 * A missing store is an empty list. */
static int list_backups(const char *store, const char *name, struct backup_file **out, size_t *count,
                        struct cell_err *err)
{
    *out = NULL;
    *count = 0;
    cleanup_dir DIR *d = opendir(store);
    if (d == NULL)
        return errno == ENOENT ? 0 : cell_err_set(err, errno, "read %s", store);
    size_t cap = 0;
    for (struct dirent *e; (e = readdir(d));) {
        struct backup_file b;
        struct stat st;
        if (!parse_backup_file(e->d_name, &b) || (name && strcmp(b.name, name) != 0) ||
            fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
            continue;
        b.size = st.st_size;
        if (*count == cap) {
            cap = cap ? cap * 2 : 16;
            struct backup_file *more = realloc(*out, cap * sizeof **out);
            if (more == NULL) {
                free(*out);
                *out = NULL;
                return cell_err_set(err, ENOMEM, "read %s", store);
            }
            *out = more;
        }
        (*out)[(*count)++] = b;
    }
    if (*count)
        qsort(*out, *count, sizeof **out, by_age);
    return 0;
}

/* " (cell backup list [--volume] NAME shows them)" */
static const char *list_hint(const struct target *t, char *buf, size_t len)
{
    snprintf(buf, len, " (cell backup list%s %s shows them)", t->kind == KIND_VOLUME ? " --volume" : "", t->name);
    return buf;
}

/* The archive --from names, as a path: a file name in t->store, or a path
 * that resolves (symlinks and all) to a backup file directly in it. */
static int resolve_from(const struct target *t, const char *from, char *out, size_t len, struct backup_file *b,
                        struct cell_err *err)
{
    char store[PATH_MAX], real[PATH_MAX], candidate[PATH_MAX * 2], hint[128];
    bool bare = strchr(from, '/') == NULL;
    if (bare && (strcmp(from, ".") == 0 || strcmp(from, "..") == 0 || from[0] == '\0'))
        return cell_err_set(err, 0, "--from \"%s\": not a backup file%s", from, list_hint(t, hint, sizeof hint));
    if (bare)
        snprintf(candidate, sizeof candidate, "%s/%s", t->store, from);
    else
        snprintf(candidate, sizeof candidate, "%s", from);
    if (realpath(candidate, real) == NULL) {
        int e = errno;
        if (bare && e == ENOENT) {
            char other[PATH_MAX * 2];
            snprintf(other, sizeof other, "%s/%s", t->other_store, from);
            if (access(other, F_OK) == 0)
                return cell_err_set(err, 0, "--from %s: that is a %s backup (%s --volume)", from,
                                    t->kind == KIND_CELL ? "volume's" : "cell's",
                                    t->kind == KIND_CELL ? "add" : "leave out");
            return cell_err_set(err, 0, "--from %s: no such backup in %s%s", from, t->store,
                                list_hint(t, hint, sizeof hint));
        }
        return cell_err_set(err, 0, "--from %s: %s%s", from, strerror(e), list_hint(t, hint, sizeof hint));
    }
    if (realpath(t->store, store) == NULL)
        return cell_err_set(err, errno, "--from %s: %s", from, t->store);
    size_t n = strlen(store);
    if (strncmp(real, store, n) != 0 || real[n] != '/' || strchr(real + n + 1, '/') != NULL)
        return cell_err_set(err, 0,
                            "--from %s: not in the %ss' backups directory %s, the only place archives are taken from%s",
                            from, kind_word(t->kind), store, list_hint(t, hint, sizeof hint));
    struct stat st;
    if (!parse_backup_file(real + n + 1, b) || lstat(real, &st) < 0 || !S_ISREG(st.st_mode))
        return cell_err_set(err, 0, "--from %s: not a backup file (NAME_YYYYmmddHHMMSS.tar.gz)%s", from,
                            list_hint(t, hint, sizeof hint));
    b->size = st.st_size;
    if (snprintf(out, len, "%s", real) >= (int)len)
        return cell_err_set(err, ENAMETOOLONG, "--from %s", from);
    return 0;
}

/* The newest archive of t->name. */
static int resolve_latest(const struct target *t, char *out, size_t len, struct backup_file *b, struct cell_err *err)
{
    struct backup_file *all;
    size_t n;
    if (list_backups(t->store, t->name, &all, &n, err) < 0)
        return -1;
    if (n == 0)
        return cell_err_set(err, 0, "--latest: no backups of %s %s in %s (cell backup create%s %s makes one)",
                            kind_word(t->kind), t->name, t->store, t->kind == KIND_VOLUME ? " --volume" : "", t->name);
    *b = all[n - 1];
    free(all);
    if (snprintf(out, len, "%s/%s", t->store, b->file) >= (int)len)
        return cell_err_set(err, ENAMETOOLONG, "--latest");
    return 0;
}

/* ---- checking entries ------------------------------------------------------------ */

/* What restore takes of an archive (and so what create writes): the
 * overlay's whiteouts, absolute symlinks (they lead into the cell's own root
 * when the cell follows them; the host's tools never follow them), the
 * tree's own entry "." (its mode and times). */
static void restore_check_init(struct archive_check *c)
{
    archive_check_init(c, &(struct archive_check_opts){.types = ARCHIVE_CHECK_PLAIN | ARCHIVE_CHECK_WHITEOUT,
                                                       .allow_absolute_symlinks = true,
                                                       .keep_root = true});
}

/* ---- create ---------------------------------------------------------------------- */

/* Write the tree of the current directory to `out` (an archive being
 * written); `dir` names it in errors. */
static int write_tree(struct archive *out, const char *dir, struct cell_err *err)
{
    struct archive *disk = archive_read_disk_new();
    struct archive_entry_linkresolver *resolver = archive_entry_linkresolver_new();
    struct archive_entry *entry = archive_entry_new();
    char *buf = malloc(64 * 1024);
    char show[PATH_MAX * 2 + 16]; /* the entry's path on the host, for errors */
    struct archive_check check;   /* what a restore would refuse */
    int rc = -1;
    restore_check_init(&check);
    if (disk == NULL || resolver == NULL || entry == NULL || buf == NULL) {
        cell_err_set(err, ENOMEM, "read %s", dir);
        goto out;
    }
    archive_entry_linkresolver_set_strategy(resolver, archive_format(out));
    archive_read_disk_set_symlink_physical(disk);
    /* numeric owners only (no name lookup); sparse files are stored whole */
    if (archive_read_disk_set_behavior(disk, ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS | ARCHIVE_READDISK_NO_FFLAGS |
                                                 ARCHIVE_READDISK_NO_SPARSE) != ARCHIVE_OK ||
        archive_read_disk_open(disk, ".") != ARCHIVE_OK) {
        cell_err_set(err, 0, "read %s: %s", dir, arc_error(disk));
        goto out;
    }
    for (;;) {
        archive_entry_clear(entry);
        int r = archive_read_next_header2(disk, entry);
        if (r == ARCHIVE_EOF)
            break;
        char path[PATH_MAX + 8] = "";
        const char *name = archive_entry_pathname(entry);
        struct cell_err why = {0};
        if (name && archive_check_plain_path(name, path, PATH_MAX, &why) < 0) /* not from read_disk */
            snprintf(path, sizeof path, "%s", name);
        snprintf(show, sizeof show, "%s%s%s", dir, path[0] ? "/" : "", path);
        if (r != ARCHIVE_OK) {
            cell_err_set(err, 0, "read %s: %s", show, arc_error(disk));
            goto out;
        }
        if (archive_read_disk_can_descend(disk) && archive_read_disk_descend(disk) != ARCHIVE_OK) {
            cell_err_set(err, 0, "read %s: %s", show, arc_error(disk));
            goto out;
        }
        if (archive_entry_filetype(entry) == AE_IFSOCK) {
            cm_error("note: %s is a socket: not in the backup (tar cannot store sockets)", show);
            continue;
        }
        struct archive_entry *e = entry, *spare = NULL;
        archive_entry_linkify(resolver, &e, &spare);
        if (e == NULL) /* not with the tar strategy, but to be sure */
            continue;
        char checked[PATH_MAX], hardlink[PATH_MAX];
        if (archive_check_entry(&check, e, checked, hardlink, &why) < 0) {
            cell_err_set(err, 0, "%s: a restore would refuse it: %s (move it away first)", show, why.msg);
            goto out;
        }
        if (archive_write_header(out, e) != ARCHIVE_OK) {
            cell_err_set(err, 0, "archive %s: %s", show, arc_error(out));
            goto out;
        }
        if (archive_entry_filetype(e) == AE_IFREG && archive_entry_size(e) > 0) {
            la_ssize_t n;
            while ((n = archive_read_data(disk, buf, 64 * 1024)) > 0)
                if (archive_write_data(out, buf, (size_t)n) < 0) {
                    cell_err_set(err, 0, "archive %s: %s", show, arc_error(out));
                    goto out;
                }
            if (n < 0) {
                cell_err_set(err, 0, "read %s: %s", show, arc_error(disk));
                goto out;
            }
        }
        if (archive_write_finish_entry(out) != ARCHIVE_OK) {
            cell_err_set(err, 0, "archive %s: %s", show, arc_error(out));
            goto out;
        }
    }
    rc = 0;
out:
    archive_check_free(&check);
    free(buf);
    if (entry)
        archive_entry_free(entry);
    if (resolver)
        archive_entry_linkresolver_free(resolver);
    if (disk)
        archive_read_free(disk);
    return rc;
}

/* Archive t->dir into the temporary file open as `fd`. */
static int write_archive(const struct target *t, int fd, struct cell_err *err)
{
    cleanup_close int back = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    cleanup_close int dir = open(t->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (back < 0 || dir < 0)
        return cell_err_set(err, errno, "open %s", back < 0 ? "the current directory" : t->dir);
    struct archive *a = archive_write_new();
    if (a == NULL)
        return cell_err_set(err, ENOMEM, "archive %s", t->dir);
    int rc = -1;
    if (archive_write_add_filter_gzip(a) != ARCHIVE_OK || archive_write_set_format_pax(a) != ARCHIVE_OK ||
        archive_write_open_fd(a, fd) != ARCHIVE_OK) {
        cell_err_set(err, 0, "archive %s: %s", t->dir, arc_error(a));
    } else if (fchdir(dir) < 0) {
        cell_err_set(err, errno, "enter %s", t->dir);
    } else {
        rc = write_tree(a, t->dir, err);
        if (fchdir(back) < 0 && rc == 0)
            rc = cell_err_set(err, errno, "back to the current directory");
        if (rc == 0 && archive_write_close(a) != ARCHIVE_OK)
            rc = cell_err_set(err, 0, "archive %s: %s", t->dir, arc_error(a));
    }
    archive_write_free(a);
    if (rc == 0 && fsync(fd) < 0)
        rc = cell_err_set(err, errno, "archive %s: write", t->dir);
    return rc;
}

/* Move the finished temporary archive to its name: NAME_STAMP.tar.gz, or
 * with -2, -3, ... when taken. Never replaces a file. */
static int place_archive(const struct target *t, const char *tmp, const char *stamp, char *out, size_t len,
                         struct cell_err *err)
{
    for (unsigned seq = 1; seq <= MAX_SEQ; seq++) {
        char suffix[16] = "";
        if (seq > 1)
            snprintf(suffix, sizeof suffix, "-%u", seq);
        if (snprintf(out, len, "%s/%s_%s%s.tar.gz", t->store, t->name, stamp, suffix) >= (int)len)
            return cell_err_set(err, ENAMETOOLONG, "name the archive in %s", t->store);
        if (renameat2(AT_FDCWD, tmp, AT_FDCWD, out, RENAME_NOREPLACE) == 0)
            return 0;
        if (errno == EINVAL || errno == ENOSYS) { /* no RENAME_NOREPLACE here: link, which never replaces */
            if (link(tmp, out) == 0) {
                unlink(tmp);
                return 0;
            }
        }
        if (errno != EEXIST)
            return cell_err_set(err, errno, "rename %s to %s", tmp, out);
    }
    return cell_err_set(err, EEXIST, "%s_%s: more than %d backups in one second", t->name, stamp, MAX_SEQ);
}

static int backup_create(struct cm *cm, const struct target *t, struct cell_err *err)
{
    (void)cm;
    struct stat st;
    if (lstat(t->dir, &st) < 0) {
        if (errno == ENOENT && t->kind == KIND_CELL)
            return cell_err_set(err, 0, "cell %s has no writable layer (%s does not exist: cell apply makes it)",
                                t->name, t->dir);
        if (errno == ENOENT)
            return cell_err_set(err, 0, "no such volume (%s does not exist; cell volume list shows the volumes)",
                                t->dir);
        return cell_err_set(err, errno, "%s", t->dir);
    }
    if (!S_ISDIR(st.st_mode))
        return cell_err_set(err, 0, "%s is not a directory (move it away)", t->dir);
    if (cm_check_no_mounts(t->dir, true, err) < 0 || cell_mkdirs(t->store, 0700, err) < 0)
        return -1;
    char stamp[STAMP_LEN + 1];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%d%H%M%S", &tm);
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s/.%s_%s.tar.gz.XXXXXX", t->store, t->name, stamp) >= (int)sizeof tmp)
        return cell_err_set(err, ENAMETOOLONG, "name the archive in %s", t->store);
    int fd = mkostemp(tmp, O_CLOEXEC); /* O_EXCL: a new file */
    if (fd < 0)
        return cell_err_set(err, errno, "create an archive in %s", t->store);
    char final[PATH_MAX];
    int rc = write_archive(t, fd, err);
    if (close(fd) < 0 && rc == 0)
        rc = cell_err_set(err, errno, "write %s", tmp);
    if (rc == 0)
        rc = place_archive(t, tmp, stamp, final, sizeof final, err);
    if (rc < 0) {
        unlink(tmp);
        return -1;
    }
    printf("%s\n", final);
    return 0;
}

/* ---- list and delete ---------------------------------------------------------------- */

static void human_size(off_t size, char *out, size_t len)
{
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
    if (size < 1024) {
        snprintf(out, len, "%lld B", (long long)size);
        return;
    }
    double v = (double)size / 1024;
    size_t u = 0;
    while (v >= 1024 && u + 1 < ARRAY_SIZE(units)) {
        v /= 1024;
        u++;
    }
    snprintf(out, len, "%.1f %s", v, units[u]);
}

static int backup_list(const struct target *t, struct cell_err *err)
{
    struct backup_file *all;
    size_t n;
    if (list_backups(t->store, t->name, &all, &n, err) < 0)
        return -1;
    if (n == 0) {
        if (t->name)
            printf("no backups of %s %s in %s\n", kind_word(t->kind), t->name, t->store);
        else
            printf("no backups of %ss in %s\n", kind_word(t->kind), t->store);
        return 0;
    }
    size_t width = strlen("ARCHIVE");
    for (size_t i = 0; i < n; i++)
        if (strlen(all[i].file) > width)
            width = strlen(all[i].file);
    printf("%-*s  %10s  %s\n", (int)width, "ARCHIVE", "SIZE", "CREATED (UTC)");
    for (size_t i = 0; i < n; i++) {
        const char *s = all[i].stamp;
        char size[32];
        human_size(all[i].size, size, sizeof size);
        printf("%-*s  %10s  %.4s-%.2s-%.2s %.2s:%.2s:%.2s\n", (int)width, all[i].file, size, s, s + 4, s + 6, s + 8,
               s + 10, s + 12);
    }
    free(all);
    return 0;
}

/* ---- restore --------------------------------------------------------------------- */

/* Extract the archive open as `fd` into the current directory (a new, empty
 * one), checking every entry first. `*saw_root`: it had an entry for the
 * tree itself. */
static int extract(int fd, const char *archive, bool *saw_root, struct cell_err *err)
{
    struct archive *in = archive_read_new(), *out = archive_write_disk_new();
    struct archive_check check;
    struct timespec times[2] = {{.tv_nsec = UTIME_OMIT}, {.tv_nsec = UTIME_OMIT}}; /* of "." */
    int rc = -1;
    *saw_root = false;
    restore_check_init(&check);
    if (in == NULL || out == NULL) {
        cell_err_set(err, ENOMEM, "read %s", archive);
        goto done;
    }
    /* numeric owners: no archive_write_disk_set_standard_lookup */
    archive_write_disk_set_options(out, ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
                                            ARCHIVE_EXTRACT_ACL | ARCHIVE_EXTRACT_XATTR |
                                            ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                                            ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS);
    if (archive_read_support_filter_gzip(in) != ARCHIVE_OK || archive_read_support_format_tar(in) != ARCHIVE_OK ||
        archive_read_open_fd(in, fd, 64 * 1024) != ARCHIVE_OK) {
        cell_err_set(err, 0, "read %s: %s", archive, arc_error(in));
        goto done;
    }
    for (;;) {
        struct archive_entry *e;
        int r = archive_read_next_header(in, &e);
        if (r == ARCHIVE_EOF)
            break;
        if (r != ARCHIVE_OK) {
            cell_err_set(err, 0, "read %s: %s", archive, arc_error(in));
            goto done;
        }
        char path[PATH_MAX], name[PATH_MAX], hardlink[PATH_MAX]; /* path: as in the archive, for errors */
        snprintf(path, sizeof path, "%s", archive_entry_pathname(e) ? archive_entry_pathname(e) : "");
        struct cell_err why = {0};
        int ok = archive_check_entry(&check, e, name, hardlink, &why);
        if (ok < 0) {
            cell_err_set(err, 0, "%s: %s", archive, why.msg);
            goto done;
        }
        if (ok == 0) { /* (not without strip) */
            archive_read_data_skip(in);
            continue;
        }
        /* extracted under the names checked */
        archive_entry_copy_pathname(e, name);
        if (archive_entry_hardlink(e))
            archive_entry_copy_hardlink(e, hardlink);
        if (strcmp(name, ".") == 0) { /* an existing directory: libarchive sets its times at once, not at the end */
            *saw_root = true;
            times[0].tv_sec = archive_entry_atime(e);
            times[0].tv_nsec = archive_entry_atime_is_set(e) ? archive_entry_atime_nsec(e) : UTIME_OMIT;
            times[1].tv_sec = archive_entry_mtime(e);
            times[1].tv_nsec = archive_entry_mtime_is_set(e) ? archive_entry_mtime_nsec(e) : UTIME_OMIT;
        }
        if (archive_write_header(out, e) != ARCHIVE_OK) {
            cell_err_set(err, 0, "%s: entry \"%s\": %s", archive, path, arc_error(out));
            goto done;
        }
        if (archive_entry_size(e) > 0) {
            const void *block;
            size_t size;
            la_int64_t offset;
            while ((r = archive_read_data_block(in, &block, &size, &offset)) == ARCHIVE_OK)
                if (archive_write_data_block(out, block, size, offset) != ARCHIVE_OK) {
                    cell_err_set(err, 0, "%s: entry \"%s\": %s", archive, path, arc_error(out));
                    goto done;
                }
            if (r != ARCHIVE_EOF) {
                cell_err_set(err, 0, "read %s: entry \"%s\": %s", archive, path, arc_error(in));
                goto done;
            }
        }
        if (archive_write_finish_entry(out) != ARCHIVE_OK) {
            cell_err_set(err, 0, "%s: entry \"%s\": %s", archive, path, arc_error(out));
            goto done;
        }
    }
    /* directories get their modes and times now, after their content */
    if (archive_write_close(out) != ARCHIVE_OK) {
        cell_err_set(err, 0, "%s: %s", archive, arc_error(out));
        goto done;
    }
    if (*saw_root && utimensat(AT_FDCWD, ".", times, 0) < 0) {
        cell_err_set(err, errno, "%s: set the times of the tree", archive);
        goto done;
    }
    rc = 0;
done:
    archive_check_free(&check);
    if (out)
        archive_write_free(out);
    if (in)
        archive_read_free(in);
    return rc;
}

/* Extract `archive` into the new directory `tmp`. */
static int extract_into(const char *archive, const char *tmp, const struct stat *old, struct cell_err *err)
{
    cleanup_close int fd = open(archive, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return cell_err_set(err, errno, "open %s", archive);
    cleanup_close int back = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    cleanup_close int dir = open(tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (back < 0 || dir < 0)
        return cell_err_set(err, errno, "open %s", back < 0 ? "the current directory" : tmp);
    if (fchdir(dir) < 0)
        return cell_err_set(err, errno, "enter %s", tmp);
    bool saw_root;
    int rc = extract(fd, archive, &saw_root, err);
    if (fchdir(back) < 0 && rc == 0)
        rc = cell_err_set(err, errno, "back to the current directory");
    /* an archive without "." (not one of ours): the mode the tree had */
    if (rc == 0 && !saw_root && fchmod(dir, old ? old->st_mode & 07777 : 0755) < 0)
        rc = cell_err_set(err, errno, "chmod %s", tmp);
    return rc;
}

/* Put the extracted `tmp` in the place of t->dir, then remove the old tree. */
static int swap_in(const struct target *t, const char *tmp, bool had_old, struct cell_err *err)
{
    if (!had_old) {
        if (rename(tmp, t->dir) < 0)
            return cell_err_set(err, errno, "rename %s to %s", tmp, t->dir);
        return 0;
    }
    char old[PATH_MAX];
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, t->dir, RENAME_EXCHANGE) == 0) {
        snprintf(old, sizeof old, "%s", tmp);        /* now the old tree */
    } else if (errno == EINVAL || errno == ENOSYS) { /* no exchange here: old aside, new in */
        if (snprintf(old, sizeof old, "%s/.%s.old-XXXXXX", t->parent, t->base) >= (int)sizeof old ||
            mkdtemp(old) == NULL)
            return cell_err_set(err, errno, "make a directory in %s", t->parent);
        if (rename(t->dir, old) < 0) {
            int e = errno;
            rmdir(old);
            return cell_err_set(err, e, "rename %s to %s", t->dir, old);
        }
        if (rename(tmp, t->dir) < 0) {
            int e = errno;
            rename(old, t->dir);
            return cell_err_set(err, e, "rename %s to %s", tmp, t->dir);
        }
    } else {
        return cell_err_set(err, errno, "exchange %s and %s", tmp, t->dir);
    }
    struct cell_err rm = {0};
    if (cm_remove_tree(old, false, &rm) < 0)
        cm_error("%s: warning: restored, but the old tree is still in %s: %s (remove it by hand)", t->label, old,
                 rm.msg);
    return 0;
}

static int backup_restore(const struct target *t, const char *archive, struct cell_err *err)
{
    if (cell_mkdirs(t->parent, 0755, err) < 0)
        return -1;
    struct stat st;
    bool had_old = lstat(t->dir, &st) == 0;
    if (!had_old && errno != ENOENT)
        return cell_err_set(err, errno, "%s", t->dir);
    if (had_old && !S_ISDIR(st.st_mode))
        return cell_err_set(err, 0, "%s is not a directory (move it away)", t->dir);
    if (had_old && cm_check_no_mounts(t->dir, false, err) < 0)
        return -1;
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s/.%s.restore-XXXXXX", t->parent, t->base) >= (int)sizeof tmp ||
        mkdtemp(tmp) == NULL)
        return cell_err_set(err, errno, "make a directory in %s", t->parent);
    if (extract_into(archive, tmp, had_old ? &st : NULL, err) < 0 || swap_in(t, tmp, had_old, err) < 0) {
        struct cell_err rm = {0};
        if (cm_remove_tree(tmp, false, &rm) < 0)
            cm_error("%s: warning: could not remove %s: %s (remove it by hand)", t->label, tmp, rm.msg);
        size_t n = strlen(err->msg);
        snprintf(err->msg + n, sizeof err->msg - n, " (nothing was changed)");
        return -1;
    }
    return 0;
}

/* ---- the command ------------------------------------------------------------------ */

void cmd_backup_help(void)
{
    printf("usage: cell backup create NAME [--volume]\n"
           "       cell backup list [NAME] [--volume]\n"
           "       cell backup restore NAME [--volume] (--latest | --from ARCHIVE) --yes\n"
           "       cell backup delete NAME [--volume] (--latest | --from ARCHIVE) --yes\n"
           "\n"
           "Back up and restore a cell's writable layer (DATA/cells/NAME/upper: what the\n"
           "cell changed on top of its image) or, with --volume, a volume\n"
           "(DATA/volumes/NAME). DATA is /var/lib/cell, or ROOT/data with --root ROOT.\n"
           "The archives are gzip'd tar files, one directory per kind:\n"
           "\n"
           "  DATA/backups/cells/NAME_YYYYmmddHHMMSS.tar.gz     a cell's layer\n"
           "  DATA/backups/volumes/NAME_YYYYmmddHHMMSS.tar.gz   a volume\n"
           "\n"
           "The time is when the backup was made, in UTC (a second one in the same\n"
           "second ends in -2, -3, ...). An archive is never overwritten.\n"
           "\n"
           "  create   archive the tree now (the cell may run); prints the archive's path\n"
           "  list     NAME's archives (every one of the kind without NAME), oldest\n"
           "           first, with size and time\n"
           "  restore  replace the whole tree with an archive's; refused while a running\n"
           "           cell uses it (the cell itself, or a cell mounting the volume).\n"
           "           The archive is extracted beside the tree first and swapped in\n"
           "           only when complete: an entry that could lead outside (an\n"
           "           absolute path, \"..\", a path through a symlink, a hard link out,\n"
           "           a relative symlink climbing out of the tree, a device node)\n"
           "           fails the restore and leaves the tree as it was. --from may name\n"
           "           another cell's (volume's) archive of the same kind: a copy.\n"
           "  delete   delete one archive\n"
           "\n"
           "options:\n"
           "  --volume          NAME is a volume (also: cell volume backup ...)\n"
           "  --latest          restore, delete: the newest archive of NAME\n"
           "  --from ARCHIVE    restore, delete: this archive: a file name from cell backup\n"
           "                    list, or a path inside the backups directory of the kind\n"
           "  --yes             restore, delete: really replace (delete) the data\n");
}

struct backup_opts {
    const char *sub, *name, *from;
    bool volume, latest, yes;
};

static int parse_opts(int argc, char **argv, struct backup_opts *o)
{
    memset(o, 0, sizeof *o);
    o->sub = argv[1];
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--volume") == 0) {
            o->volume = true;
        } else if (strcmp(a, "--latest") == 0) {
            o->latest = true;
        } else if (strcmp(a, "--yes") == 0) {
            o->yes = true;
        } else if (strcmp(a, "--from") == 0 && i + 1 < argc) {
            o->from = argv[++i];
        } else if (strncmp(a, "--from=", 7) == 0) {
            o->from = a + 7;
        } else if (a[0] == '-' || o->name) {
            cm_error("backup %s: unexpected \"%s\" (see cell backup --help)", o->sub, a);
            return -1;
        } else {
            o->name = a;
        }
    }
    bool picks = strcmp(o->sub, "restore") == 0 || strcmp(o->sub, "delete") == 0;
    if (o->name == NULL && strcmp(o->sub, "list") != 0) {
        cm_error("backup %s: which %s? (cell backup %s NAME%s)", o->sub, o->volume ? "volume" : "cell", o->sub,
                 picks ? " --latest --yes" : "");
        return -1;
    }
    if (o->name && !cell_name_valid(o->name)) {
        cm_error("backup %s: \"%s\" is not a valid name (1-63 letters, digits, '-', '_' or '.', starting with a "
                 "letter or digit)",
                 o->sub, o->name);
        return -1;
    }
    if (!picks && (o->from || o->latest || o->yes)) {
        cm_error("backup %s: --from, --latest and --yes are for restore and delete", o->sub);
        return -1;
    }
    if (picks && (o->from != NULL) == o->latest) {
        cm_error("backup %s %s%s: which archive? (--latest, or --from ARCHIVE: cell backup list%s %s shows them)",
                 o->sub, o->volume ? "volume " : "", o->name, o->volume ? " --volume" : "", o->name);
        return -1;
    }
    return 0;
}

static void make_target(struct cm *cm, const struct backup_opts *o, struct target *t)
{
    memset(t, 0, sizeof *t);
    t->kind = o->volume ? KIND_VOLUME : KIND_CELL;
    t->name = o->name;
    if (o->name)
        snprintf(t->label, sizeof t->label, "backup %s %s%s", o->sub, o->volume ? "volume " : "", o->name);
    else
        snprintf(t->label, sizeof t->label, "backup %s%s", o->sub, o->volume ? " --volume" : "");
    snprintf(t->store, sizeof t->store, "%s/%s", cm->backups, o->volume ? "volumes" : "cells");
    snprintf(t->other_store, sizeof t->other_store, "%s/%s", cm->backups, o->volume ? "cells" : "volumes");
    if (o->name == NULL)
        return;
    if (o->volume) {
        snprintf(t->parent, sizeof t->parent, "%s", cm->volumes);
        snprintf(t->dir, sizeof t->dir, "%s/%s", cm->volumes, o->name);
        snprintf(t->runtime, sizeof t->runtime, "%s", t->dir);
        t->base = o->name;
    } else {
        snprintf(t->parent, sizeof t->parent, "%s/%s", cm->cells, o->name);
        snprintf(t->dir, sizeof t->dir, "%s/%s/upper", cm->cells, o->name);
        snprintf(t->runtime, sizeof t->runtime, "%s", t->parent);
        t->base = "upper";
    }
}

/* restore and delete: the archive, the running check, --yes, then do it */
static int backup_pick_and_do(struct cm *cm, const struct backup_opts *o, const struct target *t)
{
    struct cell_err err = {0};
    char archive[PATH_MAX];
    struct backup_file b;
    int r = o->latest ? resolve_latest(t, archive, sizeof archive, &b, &err)
                      : resolve_from(t, o->from, archive, sizeof archive, &b, &err);
    if (r < 0) {
        cm_error("%s: %s", t->label, err.msg);
        return CM_FAILED;
    }
    bool restore = strcmp(o->sub, "restore") == 0;
    if (!restore) {
        if (strcmp(b.name, t->name) != 0) {
            cm_error("%s: %s is a backup of %s %s, not of %s", t->label, b.file, kind_word(t->kind), b.name, t->name);
            return CM_FAILED;
        }
        if (!o->yes) {
            cm_error("%s: this deletes %s: add --yes to do it", t->label, archive);
            return CM_USAGE;
        }
        if (unlink(archive) < 0) {
            cm_error("%s: delete %s: %s", t->label, archive, strerror(errno));
            return CM_FAILED;
        }
        printf("deleted %s\n", archive);
        return CM_OK;
    }
    char users[1024];
    int n = cm_running_users(cm, t->kind == KIND_CELL ? t->name : NULL, t->runtime, users, sizeof users, &err);
    if (n < 0) {
        cm_error("%s: %s", t->label, err.msg);
        return CM_FAILED;
    }
    if (n > 0) {
        if (t->kind == KIND_CELL && strcmp(users, t->name) == 0)
            cm_error("%s: the cell is running (cell stop %s first)", t->label, t->name);
        else
            cm_error("%s: in use by the running %s %s (cell stop %s first)", t->label, n == 1 ? "cell" : "cells", users,
                     n == 1 ? users : "them");
        return CM_FAILED;
    }
    if (!o->yes) {
        cm_error("%s: this replaces %s and everything in it with %s: add --yes to do it", t->label, t->dir, archive);
        return CM_USAGE;
    }
    if (backup_restore(t, archive, &err) < 0) {
        cm_error("%s: %s", t->label, err.msg);
        return CM_FAILED;
    }
    printf("restored %s %s (%s) from %s\n", kind_word(t->kind), t->name, t->dir, archive);
    return CM_OK;
}

int cmd_backup(int argc, char **argv, struct cm *cm)
{
    if (argc < 2) {
        cm_error("backup: which command? (create, list, restore or delete; see cell backup --help)");
        return CM_USAGE;
    }
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            cmd_backup_help();
            return CM_OK;
        }
    const char *sub = argv[1];
    if (strcmp(sub, "create") != 0 && strcmp(sub, "list") != 0 && strcmp(sub, "restore") != 0 &&
        strcmp(sub, "delete") != 0) {
        cm_error("backup: unknown command \"%s\" (create, list, restore or delete; see cell backup --help)", sub);
        return CM_USAGE;
    }
    struct backup_opts o;
    if (parse_opts(argc, argv, &o) < 0)
        return CM_USAGE;
    struct target t;
    make_target(cm, &o, &t);
    struct cell_err err = {0};
    if (strcmp(sub, "create") == 0) {
        if (backup_create(cm, &t, &err) < 0) {
            cm_error("%s: %s", t.label, err.msg);
            return CM_FAILED;
        }
        return CM_OK;
    }
    if (strcmp(sub, "list") == 0) {
        if (backup_list(&t, &err) < 0) {
            cm_error("%s: %s", t.label, err.msg);
            return CM_FAILED;
        }
        return CM_OK;
    }
    return backup_pick_and_do(cm, &o, &t);
}
