/* archive_check.h - the one check of archive entries before they are
 * extracted, for the untar action (actions.c) and backup restore (backup.c):
 * a name that could land outside the destination tree, a link that could
 * lead out of it, or a type the extractor does not take is refused.
 *
 * One struct archive_check per pass over an archive; give it every header
 * in order (it remembers the symlinks seen so far). What it refuses:
 *   - an entry without a name, an absolute path, a ".." component
 *   - a path that goes through a symlink of an earlier entry, or that
 *     replaces one (a second entry of the same name)
 *   - a hard link to an absolute path, through ".." or an earlier symlink,
 *     or to the tree itself; a hard link to an earlier symlink is a symlink
 *     at its own place, checked as one
 *   - a symlink to nothing, a relative symlink that climbs out of the tree
 *     or has a ".." after a name (it could climb out of a directory some
 *     symlink leads to), an absolute symlink unless allowed
 *   - the tree itself ("." or "./") when it is not a directory
 *   - a type not in `types` (devices, sockets, ...)
 * The extractors still set libarchive's ARCHIVE_EXTRACT_SECURE_* flags: a
 * second line of defence against what is already on disk. */
#ifndef CELLMAN_ARCHIVE_CHECK_H
#define CELLMAN_ARCHIVE_CHECK_H

#include "cell/cell.h"

#include <archive_entry.h>
#include <stdbool.h>
#include <stddef.h>

/* The kinds of entry an extractor takes (archive_check_opts.types). */
enum archive_check_type {
    ARCHIVE_CHECK_FILE = 1u << 0,
    ARCHIVE_CHECK_DIR = 1u << 1,
    ARCHIVE_CHECK_SYMLINK = 1u << 2,
    ARCHIVE_CHECK_FIFO = 1u << 3,
    ARCHIVE_CHECK_HARDLINK = 1u << 4,
    ARCHIVE_CHECK_WHITEOUT = 1u << 5, /* an overlay whiteout: a 0:0 character device */
};
/* what untar takes; a backup restore takes whiteouts too */
#define ARCHIVE_CHECK_PLAIN                                                                                            \
    (ARCHIVE_CHECK_FILE | ARCHIVE_CHECK_DIR | ARCHIVE_CHECK_SYMLINK | ARCHIVE_CHECK_FIFO | ARCHIVE_CHECK_HARDLINK)

struct archive_check_opts {
    unsigned strip;               /* leading path components dropped (untar's strip) */
    unsigned types;               /* enum archive_check_type bits */
    bool allow_absolute_symlinks; /* a cell layer's absolute links lead into the cell's own root */
    bool keep_root;               /* give the tree's own entry as "." (restore: its mode and times); else skip it */
};

struct archive_check {
    struct archive_check_opts opts;
    /* the symlinks given so far, by their name after strip, each with its
     * target: an open-addressing hash set of "NAME\0TARGET" strings */
    char **links;
    size_t links_cap, links_count;
};

void archive_check_init(struct archive_check *c, const struct archive_check_opts *opts);
void archive_check_free(struct archive_check *c);

/* Check the next entry of the archive. 1: extract it as `name_out` (plain:
 * no ".", ".." or empty components; "." for the tree itself) and, for a
 * hard link, link it to `hardlink_out` (else ""), both PATH_MAX bytes;
 * 0: skip it (nothing left of its name after strip); -1: refused, err says
 * `entry "NAME" refused: WHY`. */
int archive_check_entry(struct archive_check *c, struct archive_entry *e, char *name_out, char *hardlink_out,
                        struct cell_err *err);

/* Relative path `p` made plain into `out` (len bytes): no ".", empty or
 * trailing components; "" for the tree itself. -1 with why in err ("it is an
 * absolute path", "it goes up (\"..\")", ...). */
int archive_check_plain_path(const char *p, char *out, size_t len, struct cell_err *err);

#endif
