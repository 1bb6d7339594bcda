/* fuzz_archive.c - libFuzzer target for the archive entry check that untar
 * and backup restore share (src/cellman/archive_check.c). The first byte
 * is the strip count (% 4), the second the policy (bit 0: absolute
 * symlinks allowed, 1: the tree's own entry kept, 2: whiteouts allowed,
 * 3: no hard links, 4: no fifos, 5: no symlinks); the rest is read as an
 * archive (every format and filter libarchive knows) and every header goes
 * through archive_check_entry(). Besides crashes and sanitizer reports it
 * aborts on an impossible result: a refusal without a message naming the
 * entry, an accepted name or hard link that is empty, absolute, not plain
 * (".", ".." or empty components) or going through a symlink accepted
 * earlier, an accepted symlink that leads out of the tree, an accepted
 * type the policy leaves out. Build and run: see tests/fuzz/README.md. */
#include "archive_check.h"

#include <archive.h>
#include <archive_entry.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ENTRIES 256 /* headers read of one input */

static void check(int ok, const char *what, const char *name)
{
    if (!ok) {
        fprintf(stderr, "fuzz_archive: check failed: %s (entry \"%s\")\n", what, name ? name : "(null)");
        abort();
    }
}

/* A plain relative path: not empty, no "/" at either end, no "", "." or
 * ".." component. */
static bool plain(const char *p)
{
    if (p[0] == '\0' || p[0] == '/' || strlen(p) >= PATH_MAX)
        return false;
    for (;;) {
        size_t n = strcspn(p, "/");
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return false;
        if (p[n] == '\0')
            return true;
        p += n + 1;
    }
}

/* The symlinks accepted so far (a list: inputs are small). */
struct seen {
    char *names[MAX_ENTRIES];
    size_t count;
};

/* Whether plain `p` goes through (below) one of the accepted symlinks, or is one. */
static bool under_link(const struct seen *s, const char *p, bool itself)
{
    for (size_t i = 0; i < s->count; i++) {
        size_t n = strlen(s->names[i]);
        if (strncmp(p, s->names[i], n) == 0 && (p[n] == '/' || (itself && p[n] == '\0')))
            return true;
    }
    return false;
}

/* Whether a symlink at plain `name` to relative `target`, resolved by name
 * alone, stays in the tree. */
static bool stays_inside(const char *name, const char *target)
{
    long depth = 0;
    for (const char *p = name; (p = strchr(p, '/')); p++)
        depth++;
    for (const char *p = target; *p;) {
        size_t n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.' && --depth < 0)
            return false;
        if (n > 0 && !(n == 1 && p[0] == '.') && !(n == 2 && p[0] == '.' && p[1] == '.'))
            depth++;
        p += n + (p[n] == '/');
    }
    return true;
}

static void check_accepted(const struct archive_check *c, struct archive_entry *e, const char *name, const char *link,
                           const struct seen *seen)
{
    const char *path = archive_entry_pathname(e), *hl = archive_entry_hardlink(e);
    if (strcmp(name, ".") == 0) {
        check(c->opts.keep_root, "the tree itself given without keep_root", path);
        check(hl == NULL && archive_entry_filetype(e) == AE_IFDIR, "the tree itself is not a directory", path);
        return;
    }
    check(plain(name), "accepted name not plain", path);
    check(!under_link(seen, name, true), "accepted name through or replacing a symlink", path);
    if (hl) {
        check(c->opts.types & ARCHIVE_CHECK_HARDLINK, "hard link accepted though not allowed", path);
        check(plain(link), "accepted hard link not plain", path);
        check(!under_link(seen, link, false), "accepted hard link through a symlink", path);
        return;
    }
    check(link[0] == '\0', "a hard link given for an entry that is none", path);
    mode_t type = archive_entry_filetype(e);
    unsigned bit = type == AE_IFREG                                             ? ARCHIVE_CHECK_FILE
                   : type == AE_IFDIR                                           ? ARCHIVE_CHECK_DIR
                   : type == AE_IFLNK                                           ? ARCHIVE_CHECK_SYMLINK
                   : type == AE_IFIFO                                           ? ARCHIVE_CHECK_FIFO
                   : type == AE_IFCHR && archive_entry_rdev(e) == makedev(0, 0) ? ARCHIVE_CHECK_WHITEOUT
                                                                                : 0;
    check(bit && (c->opts.types & bit), "a type accepted though not allowed", path);
    if (type == AE_IFLNK) {
        const char *to = archive_entry_symlink(e);
        check(to && to[0], "a symlink to nothing accepted", path);
        if (to[0] == '/')
            check(c->opts.allow_absolute_symlinks, "an absolute symlink accepted though not allowed", path);
        else
            check(stays_inside(name, to), "a symlink out of the tree accepted", path);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    unsigned policy = data[1];
    struct archive_check_opts opts = {
        .strip = data[0] % 4,
        .types = ARCHIVE_CHECK_PLAIN,
        .allow_absolute_symlinks = policy & 1,
        .keep_root = policy & 2,
    };
    if (policy & 4)
        opts.types |= ARCHIVE_CHECK_WHITEOUT;
    if (policy & 8)
        opts.types &= ~(unsigned)ARCHIVE_CHECK_HARDLINK;
    if (policy & 16)
        opts.types &= ~(unsigned)ARCHIVE_CHECK_FIFO;
    if (policy & 32)
        opts.types &= ~(unsigned)ARCHIVE_CHECK_SYMLINK;
    struct archive *in = archive_read_new();
    if (in == NULL)
        return 0;
    archive_read_support_filter_all(in);
    archive_read_support_format_all(in);
    if (archive_read_open_memory(in, data + 2, size - 2) != ARCHIVE_OK) {
        archive_read_free(in);
        return 0;
    }
    struct archive_check c;
    archive_check_init(&c, &opts);
    struct seen seen = {0};
    char name[PATH_MAX], link[PATH_MAX];
    for (int i = 0; i < MAX_ENTRIES; i++) {
        struct archive_entry *e;
        int r = archive_read_next_header(in, &e);
        if (r == ARCHIVE_EOF || r < ARCHIVE_WARN)
            break;
        struct cell_err err = {0};
        int rc = archive_check_entry(&c, e, name, link, &err);
        const char *path = archive_entry_pathname(e);
        check(rc >= -1 && rc <= 1, "a result other than -1, 0 or 1", path);
        if (rc < 0) {
            check(strncmp(err.msg, "entry \"", 7) == 0 && strstr(err.msg, "\" refused: ") != NULL,
                  "a refusal without the entry named", path);
            break; /* the extractors stop at the first refusal */
        }
        if (rc == 1) {
            check_accepted(&c, e, name, link, &seen);
            bool is_link =
                archive_entry_hardlink(e) ? under_link(&seen, link, true) : archive_entry_filetype(e) == AE_IFLNK;
            if (is_link && seen.count < MAX_ENTRIES && (seen.names[seen.count] = strdup(name)) != NULL)
                seen.count++;
        }
        archive_read_data_skip(in);
    }
    for (size_t i = 0; i < seen.count; i++)
        free(seen.names[i]);
    archive_check_free(&c);
    archive_read_free(in);
    return 0;
}
