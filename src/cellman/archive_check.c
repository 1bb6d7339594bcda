/* archive_check.c - the check of archive entries before extraction that the
 * untar action and backup restore share (archive_check.h says what it
 * refuses): names made plain and stripped, types, hard links, and symlinks,
 * which it remembers so that no later entry goes through or replaces one. */
#include "archive_check.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#define SHOWN_MAX 200 /* bytes of an entry's name shown in a message */
#define WHY_MAX 400

void archive_check_init(struct archive_check *c, const struct archive_check_opts *opts)
{
    memset(c, 0, sizeof *c);
    c->opts = *opts;
}

void archive_check_free(struct archive_check *c)
{
    for (size_t i = 0; i < c->links_cap; i++)
        free(c->links[i]);
    free(c->links);
    c->links = NULL;
    c->links_cap = c->links_count = 0;
}

/* ---- the symlinks seen so far ------------------------------------------------------ */

static uint64_t path_hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

/* The target of the symlink named by the first n bytes of p, or NULL. */
static const char *link_target(const struct archive_check *c, const char *p, size_t n)
{
    if (c->links_count == 0)
        return NULL;
    for (size_t i = path_hash(p, n) & (c->links_cap - 1);; i = (i + 1) & (c->links_cap - 1)) {
        const char *slot = c->links[i];
        if (slot == NULL)
            return NULL;
        if (strncmp(slot, p, n) == 0 && slot[n] == '\0')
            return slot + n + 1;
    }
}

static void put_slot(char **slots, size_t cap, char *s)
{
    size_t j = path_hash(s, strlen(s)) & (cap - 1);
    while (slots[j])
        j = (j + 1) & (cap - 1);
    slots[j] = s;
}

/* Remember the symlink `name` (not remembered yet) to `target`. */
static int link_add(struct archive_check *c, const char *name, const char *target)
{
    if ((c->links_count + 1) * 2 > c->links_cap) {
        size_t cap = c->links_cap ? c->links_cap * 2 : 64;
        char **slots = calloc(cap, sizeof *slots);
        if (slots == NULL)
            return -1;
        for (size_t i = 0; i < c->links_cap; i++)
            if (c->links[i])
                put_slot(slots, cap, c->links[i]);
        free(c->links);
        c->links = slots;
        c->links_cap = cap;
    }
    size_t n = strlen(name), t = strlen(target);
    char *s = malloc(n + t + 2);
    if (s == NULL)
        return -1;
    memcpy(s, name, n + 1);
    memcpy(s + n + 1, target, t + 1);
    put_slot(c->links, c->links_cap, s);
    c->links_count++;
    return 0;
}

/* The length of the first directory on the way to plain path `p` (not p
 * itself) that is a remembered symlink, or 0. */
static size_t through_link(const struct archive_check *c, const char *p)
{
    for (const char *slash = strchr(p, '/'); slash; slash = strchr(slash + 1, '/'))
        if (link_target(c, p, (size_t)(slash - p)))
            return (size_t)(slash - p);
    return 0;
}

/* ---- one entry ---------------------------------------------------------------------- */

int archive_check_plain_path(const char *p, char *out, size_t len, struct cell_err *err)
{
    if (p == NULL || p[0] == '\0')
        return cell_err_set(err, 0, "it has no name");
    if (p[0] == '/')
        return cell_err_set(err, 0, "it is an absolute path");
    size_t o = 0;
    out[0] = '\0';
    for (const char *c = p; *c;) {
        size_t n = strcspn(c, "/");
        if (n == 2 && c[0] == '.' && c[1] == '.')
            return cell_err_set(err, 0, "it goes up (\"..\")");
        if (n > 0 && !(n == 1 && c[0] == '.')) {
            if (o + n + 2 > len)
                return cell_err_set(err, ENAMETOOLONG, "its path is too long");
            if (o)
                out[o++] = '/';
            memcpy(out + o, c, n);
            o += n;
            out[o] = '\0';
        }
        c += n;
        while (*c == '/')
            c++;
    }
    return 0;
}

/* Plain path `p` without its first n components; NULL when nothing is left. */
static const char *strip_plain(const char *p, unsigned n)
{
    for (; n > 0 && *p; n--) {
        const char *slash = strchr(p, '/');
        if (slash == NULL)
            return NULL;
        p = slash + 1;
    }
    return *p ? p : NULL;
}

/* -1 with why (a phrase after "it is") when a symlink at plain path `name`
 * to `target` could lead out of the tree. A relative target must stay in
 * the tree taking its ".." steps first: a ".." after a name could climb out
 * of a directory that some symlink leads to. */
static int symlink_why(const struct archive_check *c, const char *name, const char *target, char *why, size_t len)
{
    if (target == NULL || target[0] == '\0') {
        snprintf(why, len, "a symlink to nothing");
        return -1;
    }
    if (target[0] == '/') {
        if (c->opts.allow_absolute_symlinks)
            return 0;
        snprintf(why, len, "a symlink to an absolute path (\"%s\"), which leads out of the tree", target);
        return -1;
    }
    long depth = 0; /* of the directory holding the symlink */
    for (const char *p = name; (p = strchr(p, '/')); p++)
        depth++;
    bool named = false;
    for (const char *p = target; *p;) {
        size_t n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            if (named) {
                snprintf(why, len, "a symlink with a \"..\" after a name (to \"%s\"): it could climb out of the tree",
                         target);
                return -1;
            }
            if (--depth < 0) {
                snprintf(why, len, "a symlink out of the tree (to \"%s\")", target);
                return -1;
            }
        } else if (n > 0 && !(n == 1 && p[0] == '.')) {
            named = true;
        }
        p += n;
        while (*p == '/')
            p++;
    }
    return 0;
}

/* -1 with why (a phrase after "it is") when the entry (not a hard link) is
 * of a type not in c->opts.types. */
static int type_why(const struct archive_check *c, struct archive_entry *e, char *why, size_t len)
{
    unsigned bit;
    const char *word;
    dev_t rdev = archive_entry_rdev(e);
    switch (archive_entry_filetype(e)) {
    case AE_IFREG:
        bit = ARCHIVE_CHECK_FILE, word = "a regular file";
        break;
    case AE_IFDIR:
        bit = ARCHIVE_CHECK_DIR, word = "a directory";
        break;
    case AE_IFLNK:
        bit = ARCHIVE_CHECK_SYMLINK, word = "a symlink";
        break;
    case AE_IFIFO:
        bit = ARCHIVE_CHECK_FIFO, word = "a fifo";
        break;
    case AE_IFCHR:
        if (rdev == makedev(0, 0) && (c->opts.types & ARCHIVE_CHECK_WHITEOUT))
            return 0;
        snprintf(why, len, "a device node (%u:%u)", major(rdev), minor(rdev));
        return -1;
    case AE_IFBLK:
        snprintf(why, len, "a block device node (%u:%u)", major(rdev), minor(rdev));
        return -1;
    case AE_IFSOCK:
        snprintf(why, len, "a socket");
        return -1;
    default:
        snprintf(why, len, "not a file, directory, symlink or fifo (type 0%o)", (unsigned)archive_entry_filetype(e));
        return -1;
    }
    if (c->opts.types & bit)
        return 0;
    snprintf(why, len, "%s, which is not extracted here", word);
    return -1;
}

static int refuse(struct cell_err *err, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int refuse(struct cell_err *err, const char *path, const char *fmt, ...)
{
    char why[WHY_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    size_t n = path ? strlen(path) : 0;
    return cell_err_set(err, 0, "entry \"%.*s%s\" refused: %s", (int)(n > SHOWN_MAX ? SHOWN_MAX : n), path ? path : "",
                        n > SHOWN_MAX ? "..." : "", why);
}

int archive_check_entry(struct archive_check *c, struct archive_entry *e, char *name_out, char *hardlink_out,
                        struct cell_err *err)
{
    const char *path = archive_entry_pathname(e), *hl = archive_entry_hardlink(e);
    char plain[PATH_MAX], link[PATH_MAX], why[WHY_MAX];
    struct cell_err sub = {0};
    name_out[0] = hardlink_out[0] = '\0';
    if (archive_check_plain_path(path, plain, sizeof plain, &sub) < 0)
        return refuse(err, path, "%s", sub.msg);
    if (hl) {
        if (!(c->opts.types & ARCHIVE_CHECK_HARDLINK))
            return refuse(err, path, "it is a hard link (to \"%s\"), which is not extracted here", hl);
        if (archive_check_plain_path(hl, link, sizeof link, &sub) < 0)
            return refuse(err, path, "it is a hard link to \"%s\": %s", hl, sub.msg);
        if (link[0] == '\0')
            return refuse(err, path, "it is a hard link to the tree itself");
    } else if (type_why(c, e, why, sizeof why) < 0) {
        return refuse(err, path, "it is %s", why);
    }
    if (plain[0] == '\0') { /* the tree itself */
        if (hl || archive_entry_filetype(e) != AE_IFDIR)
            return refuse(err, path, "the tree itself is not a directory");
        if (!c->opts.keep_root)
            return 0;
        strcpy(name_out, ".");
        return 1;
    }
    const char *name = strip_plain(plain, c->opts.strip), *target = hl ? strip_plain(link, c->opts.strip) : NULL;
    if (name == NULL || (hl && target == NULL))
        return 0;
    size_t n = through_link(c, name);
    if (n)
        return refuse(err, path, "it goes through the symlink \"%.*s\"", (int)n, name);
    if (link_target(c, name, strlen(name)))
        return refuse(err, path, "it replaces the symlink of the same name");
    const char *to = NULL; /* a symlink's target: this entry is one */
    if (hl) {
        if ((n = through_link(c, target)))
            return refuse(err, path, "it is a hard link to \"%s\": it goes through the symlink \"%.*s\"", hl, (int)n,
                          target);
        /* a second name of a symlink is a symlink here, with the same target */
        if ((to = link_target(c, target, strlen(target))) && symlink_why(c, name, to, why, sizeof why) < 0)
            return refuse(err, path, "it is a hard link to the symlink \"%s\", here %s", hl, why);
    } else if (archive_entry_filetype(e) == AE_IFLNK) {
        to = archive_entry_symlink(e);
        if (symlink_why(c, name, to, why, sizeof why) < 0)
            return refuse(err, path, "it is %s", why);
    }
    if (to && link_add(c, name, to) < 0)
        return cell_err_set(err, ENOMEM, "entry \"%.*s\": remember the symlink", SHOWN_MAX, path);
    strcpy(name_out, name);
    if (target)
        strcpy(hardlink_out, target);
    return 1;
}
