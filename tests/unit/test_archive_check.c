/* test_archive_check.c - the archive entry check that untar and backup
 * restore share (src/cellman/archive_check.c), on entries built in memory:
 * names made plain, each refusal and its message, strip, the tree's own
 * entry, symlinks that go out or that a later entry goes through or
 * replaces, hard links (to a symlink too), types, and both policies
 * (untar's and restore's). */
#include "archive_check.h"

#include <archive.h>
#include <archive_entry.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cmocka.h>

/* untar's policy (with `strip`) and restore's */
static void init_untar(struct archive_check *c, unsigned strip)
{
    archive_check_init(c, &(struct archive_check_opts){.strip = strip, .types = ARCHIVE_CHECK_PLAIN});
}

static void init_restore(struct archive_check *c)
{
    archive_check_init(c, &(struct archive_check_opts){.types = ARCHIVE_CHECK_PLAIN | ARCHIVE_CHECK_WHITEOUT,
                                                       .allow_absolute_symlinks = true,
                                                       .keep_root = true});
}

/* An entry: type f file, d directory, l symlink (to `data`), h hard link
 * (to `data`), p fifo, c device 1:3, w whiteout (device 0:0), b block
 * device, s socket. */
static struct archive_entry *make(char type, const char *name, const char *data)
{
    struct archive_entry *e = archive_entry_new();
    assert_non_null(e);
    archive_entry_set_pathname(e, name);
    switch (type) {
    case 'd':
        archive_entry_set_filetype(e, AE_IFDIR);
        break;
    case 'l':
        archive_entry_set_filetype(e, AE_IFLNK);
        archive_entry_set_symlink(e, data);
        break;
    case 'h':
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_hardlink(e, data);
        break;
    case 'p':
        archive_entry_set_filetype(e, AE_IFIFO);
        break;
    case 'c':
    case 'w':
        archive_entry_set_filetype(e, AE_IFCHR);
        archive_entry_set_rdev(e, type == 'c' ? makedev(1, 3) : makedev(0, 0));
        break;
    case 'b':
        archive_entry_set_filetype(e, AE_IFBLK);
        archive_entry_set_rdev(e, makedev(8, 0));
        break;
    case 's':
        archive_entry_set_filetype(e, AE_IFSOCK);
        break;
    default:
        archive_entry_set_filetype(e, AE_IFREG);
    }
    return e;
}

/* The entry is extracted as `want` (and hard-linked to `want_link`, or not when NULL). */
static void accepted(struct archive_check *c, char type, const char *name, const char *data, const char *want,
                     const char *want_link)
{
    struct archive_entry *e = make(type, name, data);
    char out[PATH_MAX], link[PATH_MAX];
    struct cell_err err = {0};
    int rc = archive_check_entry(c, e, out, link, &err);
    if (rc != 1)
        fail_msg("entry \"%s\": %d, not extracted (%s)", name, rc, err.msg);
    assert_string_equal(out, want);
    assert_string_equal(link, want_link ? want_link : "");
    archive_entry_free(e);
}

/* The entry is skipped (nothing left after strip). */
static void skipped(struct archive_check *c, char type, const char *name, const char *data)
{
    struct archive_entry *e = make(type, name, data);
    char out[PATH_MAX], link[PATH_MAX];
    struct cell_err err = {0};
    int rc = archive_check_entry(c, e, out, link, &err);
    if (rc != 0)
        fail_msg("entry \"%s\": %d, not skipped (%s)", name, rc, err.msg);
    archive_entry_free(e);
}

/* The entry is refused with a message holding `needle`. */
static void refused(struct archive_check *c, char type, const char *name, const char *data, const char *needle)
{
    struct archive_entry *e = make(type, name, data);
    char out[PATH_MAX], link[PATH_MAX];
    struct cell_err err = {0};
    int rc = archive_check_entry(c, e, out, link, &err);
    if (rc != -1)
        fail_msg("entry \"%s\": %d, not refused (extracted as \"%s\")", name, rc, out);
    if (strstr(err.msg, needle) == NULL)
        fail_msg("entry \"%s\": \"%s\" does not say \"%s\"", name, err.msg, needle);
    archive_entry_free(e);
}

static void test_names_made_plain(void **state)
{
    (void)state;
    struct archive_check c;
    init_untar(&c, 0);
    accepted(&c, 'f', "a", NULL, "a", NULL);
    accepted(&c, 'd', "dir/", NULL, "dir", NULL);
    accepted(&c, 'f', "./dir//sub/./b.txt", NULL, "dir/sub/b.txt", NULL);
    accepted(&c, 'p', "dir/fifo", NULL, "dir/fifo", NULL);
    accepted(&c, 'h', "./same", "./dir//sub/b.txt", "same", "dir/sub/b.txt");
    accepted(&c, 'f', "..dots/...", NULL, "..dots/...", NULL); /* names, not ".." */
    archive_check_free(&c);
}

static void test_paths_refused(void **state)
{
    (void)state;
    struct archive_check c;
    init_untar(&c, 0);
    refused(&c, 'f', "", NULL, "entry \"\" refused: it has no name");
    refused(&c, 'f', "/etc/passwd", NULL, "entry \"/etc/passwd\" refused: it is an absolute path");
    refused(&c, 'f', "../evil", NULL, "entry \"../evil\" refused: it goes up (\"..\")");
    refused(&c, 'f', "a/../b", NULL, "entry \"a/../b\" refused: it goes up");
    refused(&c, 'd', "a/..", NULL, "it goes up");
    char *deep = malloc(PATH_MAX + 10);
    assert_non_null(deep);
    for (size_t i = 0; i < PATH_MAX + 8; i += 2)
        memcpy(deep + i, "a/", 2);
    deep[PATH_MAX + 8] = '\0';
    refused(&c, 'f', deep, NULL, "refused: its path is too long");
    refused(&c, 'f', deep, NULL, "a/a/...\" refused"); /* the name shortened */
    free(deep);
    archive_check_free(&c);
}

static void test_the_tree_itself(void **state)
{
    (void)state;
    struct archive_check c;
    init_untar(&c, 0); /* untar leaves its destination's mode alone */
    skipped(&c, 'd', ".", NULL);
    skipped(&c, 'd', "./", NULL);
    refused(&c, 'f', ".", NULL, "entry \".\" refused: the tree itself is not a directory");
    refused(&c, 'l', "./", "x", "the tree itself is not a directory");
    refused(&c, 'h', "./", "a", "the tree itself is not a directory");
    refused(&c, 'h', "x", "./", "entry \"x\" refused: it is a hard link to the tree itself");
    archive_check_free(&c);
    init_restore(&c); /* restore gives it its mode and times */
    accepted(&c, 'd', "./", NULL, ".", NULL);
    accepted(&c, 'd', ".", NULL, ".", NULL);
    refused(&c, 'l', ".", "/", "the tree itself is not a directory");
    archive_check_free(&c);
}

static void test_strip(void **state)
{
    (void)state;
    struct archive_check c;
    init_untar(&c, 1);
    skipped(&c, 'd', "pkg-1.0/", NULL);
    skipped(&c, 'f', "README", NULL); /* a file at the top: nothing left */
    skipped(&c, 'd', ".", NULL);
    accepted(&c, 'f', "pkg-1.0/a.txt", NULL, "a.txt", NULL);
    accepted(&c, 'f', "./pkg-1.0//sub/b.txt", NULL, "sub/b.txt", NULL);
    accepted(&c, 'l', "pkg-1.0/sub/up", "../a.txt", "sub/up", NULL); /* its depth after strip */
    refused(&c, 'l', "pkg-1.0/up", "../a.txt", "entry \"pkg-1.0/up\" refused: it is a symlink out of the tree");
    accepted(&c, 'h', "pkg-1.0/same", "pkg-1.0/a.txt", "same", "a.txt");
    skipped(&c, 'h', "pkg-1.0/top", "README"); /* its target was not extracted */
    /* checked before stripping: what strip drops is no excuse */
    refused(&c, 'f', "../pkg/a", NULL, "it goes up");
    refused(&c, 'f', "/pkg/a", NULL, "it is an absolute path");
    refused(&c, 'c', "pkg/null", NULL, "it is a device node (1:3)");
    refused(&c, 'h', "pkg/h", "/etc/passwd", "it is a hard link to \"/etc/passwd\"");
    /* the symlinks are remembered under their names after strip */
    accepted(&c, 'l', "one/link", "sub", "link", NULL);
    refused(&c, 'f', "two/link/x", NULL, "entry \"two/link/x\" refused: it goes through the symlink \"link\"");
    archive_check_free(&c);
    init_untar(&c, 2);
    skipped(&c, 'f', "a/b", NULL);
    accepted(&c, 'f', "a/b/c/d", NULL, "c/d", NULL);
    archive_check_free(&c);
}

static void test_symlink_targets(void **state)
{
    (void)state;
    struct archive_check c;
    init_untar(&c, 0);
    accepted(&c, 'l', "here", "a.txt", "here", NULL);
    accepted(&c, 'l', "dot", ".", "dot", NULL);
    accepted(&c, 'l', "sub/up", "../a.txt", "sub/up", NULL);
    accepted(&c, 'l', "sub/deeper/up", "./../../a.txt", "sub/deeper/up", NULL);
    refused(&c, 'l', "out", "../outside", "entry \"out\" refused: it is a symlink out of the tree (to \"../outside\")");
    refused(&c, 'l', "sub/out", "../../outside", "it is a symlink out of the tree");
    refused(&c, 'l', "climb", "sub/../../x",
            "entry \"climb\" refused: it is a symlink with a \"..\" after a name (to \"sub/../../x\")");
    refused(&c, 'l', "climb2", "here/../a.txt", "a \"..\" after a name"); /* here could be a symlink */
    refused(&c, 'l', "empty", "", "entry \"empty\" refused: it is a symlink to nothing");
    refused(&c, 'l', "abs", "/etc",
            "entry \"abs\" refused: it is a symlink to an absolute path (\"/etc\"), which leads out of the tree");
    archive_check_free(&c);
    /* in a cell's layer an absolute symlink leads into the cell's own root */
    init_restore(&c);
    accepted(&c, 'l', "abs", "/etc", "abs", NULL);
    accepted(&c, 'l', "usr/lib/libz.so", "/usr/lib/libz.so.1", "usr/lib/libz.so", NULL);
    refused(&c, 'l', "out", "../outside", "it is a symlink out of the tree");
    refused(&c, 'f', "abs/passwd", NULL, "entry \"abs/passwd\" refused: it goes through the symlink \"abs\"");
    archive_check_free(&c);
}

static void test_through_and_replacing_symlinks(void **state)
{
    (void)state;
    struct archive_check c;
    init_untar(&c, 0);
    accepted(&c, 'd', "sub", NULL, "sub", NULL);
    accepted(&c, 'l', "l", "sub", "l", NULL);
    accepted(&c, 'f', "sub/x", NULL, "sub/x", NULL);
    accepted(&c, 'f', "lx", NULL, "lx", NULL); /* a name that starts like the symlink */
    refused(&c, 'f', "l/x", NULL, "entry \"l/x\" refused: it goes through the symlink \"l\"");
    refused(&c, 'd', "./l//deep/", NULL, "it goes through the symlink \"l\"");
    refused(&c, 'l', "l/l2", "x", "it goes through the symlink \"l\"");
    refused(&c, 'd', "l", NULL, "entry \"l\" refused: it replaces the symlink of the same name");
    refused(&c, 'l', "./l", "sub", "it replaces the symlink of the same name");
    refused(&c, 'h', "h", "l/x",
            "entry \"h\" refused: it is a hard link to \"l/x\": it goes through the symlink \"l\"");
    /* a symlink below a directory: only what is below it is refused */
    accepted(&c, 'l', "sub/in", "x", "sub/in", NULL);
    refused(&c, 'f', "sub/in/y", NULL, "it goes through the symlink \"sub/in\"");
    accepted(&c, 'f', "sub/y", NULL, "sub/y", NULL);
    archive_check_free(&c);
}

static void test_hard_links(void **state)
{
    (void)state;
    struct archive_check c;
    init_untar(&c, 0);
    accepted(&c, 'f', "a", NULL, "a", NULL);
    accepted(&c, 'h', "b", "a", "b", "a");
    refused(&c, 'h', "hl", "/etc/passwd",
            "entry \"hl\" refused: it is a hard link to \"/etc/passwd\": it is an absolute path");
    refused(&c, 'h', "hl", "../outside", "entry \"hl\" refused: it is a hard link to \"../outside\": it goes up");
    refused(&c, 'h', "hl", "", "it is a hard link to \"\": it has no name");
    /* a second name of a symlink is a symlink: checked where it is */
    accepted(&c, 'l', "d1/d2/l", "../../a", "d1/d2/l", NULL);
    refused(&c, 'h', "top", "d1/d2/l",
            "entry \"top\" refused: it is a hard link to the symlink \"d1/d2/l\", here a symlink out of the tree");
    accepted(&c, 'h', "d1/d2/twin", "d1/d2/l", "d1/d2/twin", "d1/d2/l");
    refused(&c, 'f', "d1/d2/twin/x", NULL, "it goes through the symlink \"d1/d2/twin\"");
    refused(&c, 'f', "d1/d2/twin", NULL, "it replaces the symlink of the same name");
    archive_check_free(&c);
    /* an extractor that takes no hard links */
    archive_check_init(&c, &(struct archive_check_opts){.types = ARCHIVE_CHECK_FILE});
    refused(&c, 'h', "b", "a", "entry \"b\" refused: it is a hard link (to \"a\"), which is not extracted here");
    archive_check_free(&c);
}

static void test_types(void **state)
{
    (void)state;
    struct archive_check c;
    init_untar(&c, 0);
    refused(&c, 'c', "null", NULL, "entry \"null\" refused: it is a device node (1:3)");
    refused(&c, 'w', "gone", NULL, "entry \"gone\" refused: it is a device node (0:0)");
    refused(&c, 'b', "sda", NULL, "entry \"sda\" refused: it is a block device node (8:0)");
    refused(&c, 's', "sock", NULL, "entry \"sock\" refused: it is a socket");
    accepted(&c, 'p', "fifo", NULL, "fifo", NULL);
    archive_check_free(&c);
    /* restore takes the overlay's whiteouts, no other device */
    init_restore(&c);
    accepted(&c, 'w', "gone", NULL, "gone", NULL);
    refused(&c, 'c', "null", NULL, "it is a device node (1:3)");
    refused(&c, 'b', "sda", NULL, "it is a block device node");
    archive_check_free(&c);
    /* types left out of the options */
    archive_check_init(&c, &(struct archive_check_opts){.types = ARCHIVE_CHECK_FILE | ARCHIVE_CHECK_DIR});
    accepted(&c, 'f', "f", NULL, "f", NULL);
    accepted(&c, 'd', "d", NULL, "d", NULL);
    refused(&c, 'p', "fifo", NULL, "entry \"fifo\" refused: it is a fifo, which is not extracted here");
    refused(&c, 'l', "l", "f", "it is a symlink, which is not extracted here");
    archive_check_free(&c);
}

/* A check can be freed and used again; many symlinks grow the set. */
static void test_many_symlinks(void **state)
{
    (void)state;
    struct archive_check c;
    init_untar(&c, 0);
    char name[32], want[32];
    for (int i = 0; i < 500; i++) {
        snprintf(name, sizeof name, "./l%d", i);
        snprintf(want, sizeof want, "l%d", i);
        accepted(&c, 'l', name, "x", want, NULL);
    }
    for (int i = 0; i < 500; i += 37) {
        snprintf(name, sizeof name, "l%d/f", i);
        refused(&c, 'f', name, NULL, "it goes through the symlink");
    }
    accepted(&c, 'f', "l500/f", NULL, "l500/f", NULL);
    archive_check_free(&c);
    archive_check_free(&c);
    accepted(&c, 'f', "l1/f", NULL, "l1/f", NULL); /* forgotten */
    archive_check_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_made_plain), cmocka_unit_test(test_paths_refused),
        cmocka_unit_test(test_the_tree_itself),  cmocka_unit_test(test_strip),
        cmocka_unit_test(test_symlink_targets),  cmocka_unit_test(test_through_and_replacing_symlinks),
        cmocka_unit_test(test_hard_links),       cmocka_unit_test(test_types),
        cmocka_unit_test(test_many_symlinks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
