/* test_parse.c - unit tests for the value parsers in cell.h (src/lib/parse.c):
 * every accepted form, and every error each parser reports, checking both the
 * return value and that the message quotes the offending text. */
#include "cell/cell.h"

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define KiB ((uint64_t)1024)
#define MiB (KiB * 1024)
#define GiB (MiB * 1024)
#define TiB (GiB * 1024)

/* Fail unless err.msg contains `needle`. */
#define assert_msg_contains(err, needle)                                                                               \
    do {                                                                                                               \
        if (strstr((err).msg, (needle)) == NULL)                                                                       \
            fail_msg("error message \"%s\" does not contain \"%s\"", (err).msg, (needle));                             \
    } while (0)

/* A fresh error value, pre-filled so tests notice when nothing was written. */
static struct cell_err fresh_err(void)
{
    struct cell_err err = {.errnum = 12345};
    strcpy(err.msg, "<unset>");
    return err;
}

/* ---- cell_parse_size ----------------------------------------------------- */

static uint64_t size_ok(const char *text)
{
    struct cell_err err = fresh_err();
    uint64_t v = 0;
    int rc = cell_parse_size(text, &v, &err);
    if (rc != 0)
        fail_msg("cell_parse_size(\"%s\") failed: %s", text, err.msg);
    return v;
}

/* Expect a failure whose message contains `needle` (and the input). */
static void size_bad(const char *text, const char *needle)
{
    struct cell_err err = fresh_err();
    uint64_t v = 777;
    assert_int_equal(cell_parse_size(text, &v, &err), -1);
    assert_int_equal(v, 777); /* output untouched on failure */
    assert_msg_contains(err, "\"");
    assert_msg_contains(err, text);
    if (needle)
        assert_msg_contains(err, needle);
}

static void size_mebibytes(void **state)
{
    (void)state;
    assert_int_equal(size_ok("64M"), 67108864);
}

static void size_gibibyte(void **state)
{
    (void)state;
    assert_int_equal(size_ok("1G"), GiB);
}

static void size_kibibytes_lowercase(void **state)
{
    (void)state;
    assert_int_equal(size_ok("512k"), 512 * KiB);
    assert_int_equal(size_ok("512K"), 512 * KiB);
}

static void size_tebibyte(void **state)
{
    (void)state;
    assert_int_equal(size_ok("1T"), TiB);
    assert_int_equal(size_ok("3t"), 3 * TiB);
}

static void size_fraction_is_exact(void **state)
{
    (void)state;
    assert_int_equal(size_ok("2.5G"), 2 * GiB + GiB / 2);
    assert_int_equal(size_ok("0.5M"), 512 * KiB);
    assert_int_equal(size_ok("1.25K"), 1280);
    assert_int_equal(size_ok("1.125G"), GiB + GiB / 8);
}

static void size_three_decimals_allowed(void **state)
{
    (void)state;
    assert_int_equal(size_ok("1.001M"), MiB + (MiB / 1000)); /* 1049624.576 -> truncated */
}

static void size_plain_bytes(void **state)
{
    (void)state;
    assert_int_equal(size_ok("1048576"), 1048576);
    assert_int_equal(size_ok("1"), 1);
}

static void size_ib_suffix(void **state)
{
    (void)state;
    assert_int_equal(size_ok("64MiB"), 64 * MiB);
    assert_int_equal(size_ok("64mib"), 64 * MiB);
    assert_int_equal(size_ok("2GiB"), 2 * GiB);
}

static void size_b_suffix(void **state)
{
    (void)state;
    assert_int_equal(size_ok("64mb"), 64 * MiB);
    assert_int_equal(size_ok("64MB"), 64 * MiB);
    assert_int_equal(size_ok("1kB"), KiB);
}

static void size_leading_zeros(void **state)
{
    (void)state;
    assert_int_equal(size_ok("0064M"), 64 * MiB);
}

static void size_large_but_valid(void **state)
{
    (void)state;
    assert_int_equal(size_ok("16000T"), 16000 * TiB);
}

static void size_error_empty(void **state)
{
    (void)state;
    size_bad("", "is not a size");
}

static void size_error_null(void **state)
{
    (void)state;
    struct cell_err err = fresh_err();
    uint64_t v = 777;
    assert_int_equal(cell_parse_size(NULL, &v, &err), -1);
    assert_msg_contains(err, "is not a size");
}

static void size_error_unknown_suffix(void **state)
{
    (void)state;
    size_bad("64Q", "is not a size");
}

static void size_error_suffix_without_number(void **state)
{
    (void)state;
    size_bad("M", "is not a size");
}

static void size_error_negative(void **state)
{
    (void)state;
    size_bad("-1", "is not a size");
}

static void size_error_two_dots(void **state)
{
    (void)state;
    size_bad("1.2.3", "is not a size");
}

static void size_error_dot_without_decimals(void **state)
{
    (void)state;
    size_bad("1.M", "is not a size");
    size_bad(".5M", "is not a size");
}

static void size_error_zero(void **state)
{
    (void)state;
    size_bad("0", "zero");
    size_bad("0M", "zero");
}

static void size_error_rounds_to_zero(void **state)
{
    (void)state;
    size_bad("0K", "zero");
}

static void size_error_fraction_of_a_byte(void **state)
{
    (void)state;
    size_bad("0.001", "fraction of a byte");
    size_bad("1.5", "fraction of a byte");
}

static void size_error_overflow_with_suffix(void **state)
{
    (void)state;
    size_bad("99999999999T", "too large");
    size_bad("16777216T", "too large"); /* exactly 2^64 */
}

static void size_error_overflow_without_suffix(void **state)
{
    (void)state;
    /* 2^64 and more: the number itself does not fit */
    size_bad("18446744073709551616", "too large");
    size_bad("99999999999999999999999", "too large");
}

static void size_error_too_many_decimals(void **state)
{
    (void)state;
    size_bad("1.0001M", "is not a size");
}

static void size_error_trailing_garbage(void **state)
{
    (void)state;
    size_bad("64Mx", "is not a size");
    size_bad("64Mi", "is not a size");
    size_bad("64MiBB", "is not a size");
    size_bad("64 M", "is not a size");
    size_bad(" 64M", "is not a size");
}

/* ---- cell_format_size ----------------------------------------------------- */

static void format(uint64_t v, char *buf, size_t len)
{
    memset(buf, 'X', len);
    cell_format_size(v, buf, len);
}

static void format_size_units(void **state)
{
    (void)state;
    char buf[32];
    format(64 * MiB, buf, sizeof buf);
    assert_string_equal(buf, "64M");
    format(GiB, buf, sizeof buf);
    assert_string_equal(buf, "1G");
    format(512 * KiB, buf, sizeof buf);
    assert_string_equal(buf, "512K");
    format(3 * TiB, buf, sizeof buf);
    assert_string_equal(buf, "3T");
    format(1024 * TiB, buf, sizeof buf);
    assert_string_equal(buf, "1024T");
}

static void format_size_plain(void **state)
{
    (void)state;
    char buf[32];
    format(0, buf, sizeof buf);
    assert_string_equal(buf, "0");
    format(1, buf, sizeof buf);
    assert_string_equal(buf, "1");
    format(1536, buf, sizeof buf);
    assert_string_equal(buf, "1536");
    format(2 * GiB + GiB / 2, buf, sizeof buf);
    assert_string_equal(buf, "2560M");
}

static void format_size_truncates_to_buffer(void **state)
{
    (void)state;
    char buf[3];
    format(1048577, buf, sizeof buf);
    assert_string_equal(buf, "10");
}

static void format_size_round_trips(void **state)
{
    (void)state;
    static const uint64_t values[] = {
        1,
        2,
        1023,
        1024,
        1025,
        4096,
        512 * KiB,
        MiB - 1,
        64 * MiB,
        GiB,
        2 * GiB + GiB / 2,
        3 * TiB,
        1024 * TiB,
        5 * TiB + 7 * KiB,
        123456789,
        16000 * TiB,
    };
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        char buf[32];
        cell_format_size(values[i], buf, sizeof buf);
        uint64_t back = size_ok(buf);
        if (back != values[i])
            fail_msg("%llu -> \"%s\" -> %llu", (unsigned long long)values[i], buf, (unsigned long long)back);
    }
}

static void format_size_round_trips_parsed_text(void **state)
{
    (void)state;
    static const char *const texts[] = {"64M", "1G", "512K", "3T", "1", "1536"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        char buf[32];
        cell_format_size(size_ok(texts[i]), buf, sizeof buf);
        assert_string_equal(buf, texts[i]);
    }
}

/* ---- cell_parse_cpus ------------------------------------------------------ */

static uint64_t cpus_ok(const char *text)
{
    struct cell_err err = fresh_err();
    uint64_t v = 0;
    if (cell_parse_cpus(text, &v, &err) != 0)
        fail_msg("cell_parse_cpus(\"%s\") failed: %s", text, err.msg);
    return v;
}

static void cpus_bad(const char *text, const char *needle)
{
    struct cell_err err = fresh_err();
    uint64_t v = 777;
    assert_int_equal(cell_parse_cpus(text, &v, &err), -1);
    assert_int_equal(v, 777);
    assert_msg_contains(err, text);
    assert_msg_contains(err, needle);
}

static void cpus_half(void **state)
{
    (void)state;
    assert_int_equal(cpus_ok("0.5"), 500);
}

static void cpus_whole(void **state)
{
    (void)state;
    assert_int_equal(cpus_ok("2"), 2000);
}

static void cpus_two_decimals(void **state)
{
    (void)state;
    assert_int_equal(cpus_ok("1.25"), 1250);
}

static void cpus_smallest_and_largest(void **state)
{
    (void)state;
    assert_int_equal(cpus_ok("0.001"), 1);
    assert_int_equal(cpus_ok("1024"), 1024000);
    assert_int_equal(cpus_ok("1024.000"), 1024000);
}

static void cpus_error_zero(void **state)
{
    (void)state;
    cpus_bad("0", "zero");
    cpus_bad("0.000", "zero");
}

static void cpus_error_not_a_number(void **state)
{
    (void)state;
    cpus_bad("abc", "is not a CPU amount");
}

static void cpus_error_empty(void **state)
{
    (void)state;
    cpus_bad("", "is not a CPU amount");
}

static void cpus_error_too_many_decimals(void **state)
{
    (void)state;
    cpus_bad("1.0001", "is not a CPU amount");
}

static void cpus_error_too_large(void **state)
{
    (void)state;
    cpus_bad("2000", "too large");
    cpus_bad("1024.001", "too large");
}

static void cpus_error_negative(void **state)
{
    (void)state;
    cpus_bad("-1", "is not a CPU amount");
}

static void cpus_error_trailing_garbage(void **state)
{
    (void)state;
    cpus_bad("1c", "is not a CPU amount");
    cpus_bad("1.", "is not a CPU amount");
    cpus_bad("1.5.", "is not a CPU amount");
}

static void cpus_error_huge(void **state)
{
    (void)state;
    struct cell_err err = fresh_err();
    uint64_t v = 777;
    assert_int_equal(cell_parse_cpus("99999999999999999999999999", &v, &err), -1);
    assert_msg_contains(err, "99999999999999999999999999");
}

/* ---- cell_parse_rlimit ---------------------------------------------------- */

static void rlimit_ok(const char *text, enum cell_rlimit_name want, uint64_t soft, uint64_t hard)
{
    struct cell_err err = fresh_err();
    enum cell_rlimit_name which = CELL_RLIMIT_COUNT;
    struct cell_rlimit rl = {0};
    if (cell_parse_rlimit(text, &which, &rl, &err) != 0)
        fail_msg("cell_parse_rlimit(\"%s\") failed: %s", text, err.msg);
    assert_int_equal(which, want);
    assert_true(rl.set);
    assert_int_equal(rl.soft, soft);
    assert_int_equal(rl.hard, hard);
}

static void rlimit_bad(const char *text, const char *needle1, const char *needle2)
{
    struct cell_err err = fresh_err();
    enum cell_rlimit_name which = CELL_RLIMIT_COUNT;
    struct cell_rlimit rl = {0};
    assert_int_equal(cell_parse_rlimit(text, &which, &rl, &err), -1);
    assert_int_equal(which, CELL_RLIMIT_COUNT);
    assert_false(rl.set);
    assert_msg_contains(err, needle1);
    if (needle2)
        assert_msg_contains(err, needle2);
}

static void rlimit_soft_only_sets_both(void **state)
{
    (void)state;
    rlimit_ok("nofile=1024", CELL_RLIMIT_NOFILE, 1024, 1024);
}

static void rlimit_soft_and_hard(void **state)
{
    (void)state;
    rlimit_ok("nofile=1024:4096", CELL_RLIMIT_NOFILE, 1024, 4096);
}

static void rlimit_unlimited(void **state)
{
    (void)state;
    rlimit_ok("core=unlimited", CELL_RLIMIT_CORE, UINT64_MAX, UINT64_MAX);
    rlimit_ok("core=infinity", CELL_RLIMIT_CORE, UINT64_MAX, UINT64_MAX);
    rlimit_ok("stack=8388608:unlimited", CELL_RLIMIT_STACK, 8388608, UINT64_MAX);
}

static void rlimit_zero(void **state)
{
    (void)state;
    rlimit_ok("core=0", CELL_RLIMIT_CORE, 0, 0);
}

static void rlimit_every_name(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        enum cell_rlimit_name which;
        const char *label;
    } all[] = {
        {"nofile=1", CELL_RLIMIT_NOFILE, "nofile"},
        {"nproc=1", CELL_RLIMIT_NPROC, "nproc"},
        {"as=1", CELL_RLIMIT_AS, "as"},
        {"core=1", CELL_RLIMIT_CORE, "core"},
        {"cpu=1", CELL_RLIMIT_CPU, "cpu"},
        {"fsize=1", CELL_RLIMIT_FSIZE, "fsize"},
        {"stack=1", CELL_RLIMIT_STACK, "stack"},
        {"memlock=1", CELL_RLIMIT_MEMLOCK, "memlock"},
    };
    assert_int_equal(sizeof all / sizeof all[0], CELL_RLIMIT_COUNT);
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        rlimit_ok(all[i].text, all[i].which, 1, 1);
        assert_string_equal(cell_rlimit_label(all[i].which), all[i].label);
    }
}

static void rlimit_label_out_of_range(void **state)
{
    (void)state;
    assert_string_equal(cell_rlimit_label(CELL_RLIMIT_COUNT), "?");
    assert_string_equal(cell_rlimit_label((enum cell_rlimit_name) - 1), "?");
}

static void rlimit_largest_number(void **state)
{
    (void)state;
    rlimit_ok("fsize=18446744073709551614", CELL_RLIMIT_FSIZE, UINT64_MAX - 1, UINT64_MAX - 1);
}

static void rlimit_error_missing_equals(void **state)
{
    (void)state;
    rlimit_bad("nofile", "\"nofile\"", "NAME=SOFT[:HARD]");
    rlimit_bad("", "NAME=SOFT[:HARD]", NULL);
}

static void rlimit_error_null(void **state)
{
    (void)state;
    rlimit_bad(NULL, "NAME=SOFT[:HARD]", NULL);
}

static void rlimit_error_unknown_name(void **state)
{
    (void)state;
    rlimit_bad("files=10", "\"files\"", "not known");
    rlimit_bad("NOFILE=10", "\"NOFILE\"", "not known");
    rlimit_bad("nofil=10", "\"nofil\"", "not known");
    rlimit_bad("nofilex=10", "\"nofilex\"", "not known");
}

static void rlimit_error_empty_name(void **state)
{
    (void)state;
    rlimit_bad("=10", "\"\"", "not known");
}

static void rlimit_error_soft_above_hard(void **state)
{
    (void)state;
    rlimit_bad("nofile=4096:1024", "4096:1024", "above the hard limit");
    rlimit_bad("nofile=unlimited:1024", "unlimited:1024", "above the hard limit");
}

static void rlimit_error_empty_value(void **state)
{
    (void)state;
    rlimit_bad("nofile=", "rlimit nofile: \"\"", "SOFT[:HARD]");
}

static void rlimit_error_empty_hard(void **state)
{
    (void)state;
    rlimit_bad("nofile=1:", "\"1:\"", "SOFT[:HARD]");
    rlimit_bad("nofile=:1", "\":1\"", "SOFT[:HARD]");
}

static void rlimit_error_bad_hard(void **state)
{
    (void)state;
    rlimit_bad("nofile=1:x", "\"1:x\"", "SOFT[:HARD]");
}

static void rlimit_error_bad_soft(void **state)
{
    (void)state;
    rlimit_bad("nofile=-1", "\"-1\"", "SOFT[:HARD]");
    rlimit_bad("nofile=1k", "\"1k\"", "SOFT[:HARD]");
    rlimit_bad("nofile=Unlimited", "\"Unlimited\"", "SOFT[:HARD]");
}

static void rlimit_error_three_parts(void **state)
{
    (void)state;
    rlimit_bad("nofile=1:2:3", "\"1:2:3\"", "SOFT[:HARD]");
}

static void rlimit_error_number_too_large(void **state)
{
    (void)state;
    rlimit_bad("nofile=18446744073709551615", "\"18446744073709551615\"", "SOFT[:HARD]");
    rlimit_bad("nofile=99999999999999999999999", "\"99999999999999999999999\"", "SOFT[:HARD]");
    /* longer than the internal buffer */
    rlimit_bad("nofile=000000000000000000000000000000000001", "000000000000000000000000000000000001", NULL);
}

/* ---- cell_parse_bind ------------------------------------------------------ */

static void bind_ok(const char *text, const char *src, const char *dst, bool writable)
{
    struct cell_err err = fresh_err();
    struct cell_mount m = {.kind = CELL_MOUNT_TMPFS, .writable = !writable};
    if (cell_parse_bind(text, &m, &err) != 0)
        fail_msg("cell_parse_bind(\"%s\") failed: %s", text, err.msg);
    assert_int_equal(m.kind, CELL_MOUNT_BIND);
    assert_non_null(m.source);
    assert_non_null(m.destination);
    assert_string_equal(m.source, src);
    assert_string_equal(m.destination, dst);
    assert_int_equal(m.writable, writable);
    free(m.source);
    free(m.destination);
}

static void bind_bad(const char *text, const char *needle1, const char *needle2)
{
    struct cell_err err = fresh_err();
    struct cell_mount m = {.kind = CELL_MOUNT_TMPFS};
    assert_int_equal(cell_parse_bind(text, &m, &err), -1);
    assert_null(m.source);
    assert_null(m.destination);
    assert_msg_contains(err, needle1);
    if (needle2)
        assert_msg_contains(err, needle2);
}

static void bind_default_read_only(void **state)
{
    (void)state;
    bind_ok("/srv/data:/data", "/srv/data", "/data", false);
}

static void bind_explicit_ro(void **state)
{
    (void)state;
    bind_ok("/srv/data:/data:ro", "/srv/data", "/data", false);
}

static void bind_explicit_rw(void **state)
{
    (void)state;
    bind_ok("/srv/data:/mnt/data:rw", "/srv/data", "/mnt/data", true);
}

static void bind_root_paths(void **state)
{
    (void)state;
    bind_ok("/:/host", "/", "/host", false);
}

static void bind_error_empty(void **state)
{
    (void)state;
    bind_bad("", "empty value", "SRC:DST");
    bind_bad(NULL, "empty value", "SRC:DST");
}

static void bind_error_no_colon(void **state)
{
    (void)state;
    bind_bad("/srv/data", "\"/srv/data\"", "is not SRC:DST");
}

static void bind_error_empty_source(void **state)
{
    (void)state;
    bind_bad(":/data", "\":/data\"", "is not SRC:DST");
}

static void bind_error_empty_target(void **state)
{
    (void)state;
    bind_bad("/srv/data:", "\"/srv/data:\"", "empty target");
    bind_bad("/srv/data::rw", "\"/srv/data::rw\"", "empty target");
}

static void bind_error_relative_target(void **state)
{
    (void)state;
    bind_bad("/srv/data:data", "target \"data\"", "not an absolute path");
    bind_bad("/srv/data:data:rw", "target \"data\"", "not an absolute path");
}

static void bind_error_relative_source(void **state)
{
    (void)state;
    bind_bad("srv/data:/data", "source \"srv/data\"", "not an absolute path");
    bind_bad("./x:/data:ro", "source \"./x\"", "not an absolute path");
}

static void bind_error_bad_mode(void **state)
{
    (void)state;
    bind_bad("/srv/data:/data:rx", "mode \"rx\"", "not ro or rw");
    bind_bad("/srv/data:/data:", "mode \"\"", "not ro or rw");
    bind_bad("/srv/data:/data:RW", "mode \"RW\"", "not ro or rw");
    bind_bad("/srv/data:/data:ro:rw", "mode \"ro:rw\"", "not ro or rw");
}

/* ---- cell_parse_user ------------------------------------------------------ */

static void user_ok(const char *text, uid_t want_uid, gid_t want_gid)
{
    struct cell_err err = fresh_err();
    uid_t uid = 4242;
    gid_t gid = 4242;
    if (cell_parse_user(text, &uid, &gid, &err) != 0)
        fail_msg("cell_parse_user(\"%s\") failed: %s", text, err.msg);
    assert_int_equal(uid, want_uid);
    assert_int_equal(gid, want_gid);
}

static void user_bad(const char *text)
{
    struct cell_err err = fresh_err();
    uid_t uid = 4242;
    gid_t gid = 4242;
    assert_int_equal(cell_parse_user(text, &uid, &gid, &err), -1);
    assert_int_equal(uid, 4242);
    assert_int_equal(gid, 4242);
    char quoted[64];
    snprintf(quoted, sizeof quoted, "\"%s\"", text ? text : "");
    assert_msg_contains(err, quoted);
    assert_msg_contains(err, "UID[:GID]");
}

static void user_uid_only_sets_gid_too(void **state)
{
    (void)state;
    user_ok("1000", 1000, 1000);
}

static void user_uid_and_gid(void **state)
{
    (void)state;
    user_ok("1000:100", 1000, 100);
    user_ok("0:0", 0, 0);
}

static void user_largest(void **state)
{
    (void)state;
    user_ok("4294967294:4294967294", 4294967294u, 4294967294u);
}

static void user_error_not_numeric(void **state)
{
    (void)state;
    user_bad("abc");
    user_bad("nobody:nogroup");
    user_bad("1000:abc");
}

static void user_error_empty_gid(void **state)
{
    (void)state;
    user_bad("1000:");
}

static void user_error_empty_uid(void **state)
{
    (void)state;
    user_bad(":100");
    user_bad("");
}

static void user_error_negative(void **state)
{
    (void)state;
    user_bad("-1");
    user_bad("1000:-1");
}

static void user_error_too_large(void **state)
{
    (void)state;
    user_bad("4294967295"); /* (uid_t)-1 means "unchanged" to setresuid */
    user_bad("4294967296");
    user_bad("1000:4294967295");
}

static void user_error_too_long(void **state)
{
    (void)state;
    user_bad("000000000000000000000000000000001000");
}

static void user_error_three_parts(void **state)
{
    (void)state;
    user_bad("1:2:3");
}

/* ---- cell_parse_uint ------------------------------------------------------ */

static void uint_ok(void **state)
{
    (void)state;
    struct cell_err err = fresh_err();
    uint64_t v = 1;
    assert_int_equal(cell_parse_uint("0", 10, "pids", &v, &err), 0);
    assert_int_equal(v, 0);
    assert_int_equal(cell_parse_uint("10", 10, "pids", &v, &err), 0);
    assert_int_equal(v, 10);
    assert_int_equal(cell_parse_uint("007", 10, "pids", &v, &err), 0);
    assert_int_equal(v, 7);
    assert_int_equal(cell_parse_uint("18446744073709551615", UINT64_MAX, "x", &v, &err), 0);
    assert_int_equal(v, UINT64_MAX);
}

static void uint_error_empty(void **state)
{
    (void)state;
    struct cell_err err = fresh_err();
    uint64_t v = 777;
    assert_int_equal(cell_parse_uint("", 10, "pids", &v, &err), -1);
    assert_int_equal(v, 777);
    assert_msg_contains(err, "pids");
    assert_msg_contains(err, "empty value");
    assert_int_equal(cell_parse_uint(NULL, 10, "pids", &v, &err), -1);
    assert_msg_contains(err, "empty value");
}

static void uint_error_not_a_number(void **state)
{
    (void)state;
    static const char *const bad[] = {"abc", "-1", "+1", "1.5", " 1", "1 ", "0x10", "1e3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct cell_err err = fresh_err();
        uint64_t v = 777;
        assert_int_equal(cell_parse_uint(bad[i], 100, "timeout", &v, &err), -1);
        assert_int_equal(v, 777);
        char quoted[32];
        snprintf(quoted, sizeof quoted, "\"%s\"", bad[i]);
        assert_msg_contains(err, "timeout");
        assert_msg_contains(err, quoted);
        assert_msg_contains(err, "not a non-negative integer");
    }
}

static void uint_error_above_max(void **state)
{
    (void)state;
    struct cell_err err = fresh_err();
    uint64_t v = 777;
    assert_int_equal(cell_parse_uint("11", 10, "pids", &v, &err), -1);
    assert_int_equal(v, 777);
    assert_msg_contains(err, "pids");
    assert_msg_contains(err, "\"11\"");
    assert_msg_contains(err, "too large (at most 10)");
}

static void uint_error_overflow(void **state)
{
    (void)state;
    struct cell_err err = fresh_err();
    uint64_t v = 777;
    assert_int_equal(cell_parse_uint("18446744073709551616", UINT64_MAX, "pids", &v, &err), -1);
    assert_int_equal(v, 777);
    assert_msg_contains(err, "\"18446744073709551616\"");
    assert_msg_contains(err, "too large");
    assert_int_equal(cell_parse_uint("99999999999999999999999999999", UINT64_MAX, "pids", &v, &err), -1);
    assert_msg_contains(err, "too large");
}

/* ---- cell_parse_profile / cell_parse_net ----------------------------------- */

static void profile_all_names(void **state)
{
    (void)state;
    struct cell_err err = fresh_err();
    enum cell_profile p = CELL_PROFILE_LOW;
    assert_int_equal(cell_parse_profile("high", &p, &err), 0);
    assert_int_equal(p, CELL_PROFILE_HIGH);
    assert_int_equal(cell_parse_profile("medium", &p, &err), 0);
    assert_int_equal(p, CELL_PROFILE_MEDIUM);
    assert_int_equal(cell_parse_profile("low", &p, &err), 0);
    assert_int_equal(p, CELL_PROFILE_LOW);
}

static void profile_labels(void **state)
{
    (void)state;
    assert_string_equal(cell_profile_label(CELL_PROFILE_HIGH), "high");
    assert_string_equal(cell_profile_label(CELL_PROFILE_MEDIUM), "medium");
    assert_string_equal(cell_profile_label(CELL_PROFILE_LOW), "low");
    assert_string_equal(cell_profile_label((enum cell_profile)99), "?");
}

static void profile_error_unknown(void **state)
{
    (void)state;
    static const char *const bad[] = {"strict", "HIGH", "", "high ", "hi"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct cell_err err = fresh_err();
        enum cell_profile p = CELL_PROFILE_MEDIUM;
        assert_int_equal(cell_parse_profile(bad[i], &p, &err), -1);
        assert_int_equal(p, CELL_PROFILE_MEDIUM);
        char quoted[32];
        snprintf(quoted, sizeof quoted, "profile \"%s\"", bad[i]);
        assert_msg_contains(err, quoted);
        assert_msg_contains(err, "high, medium or low");
    }
    struct cell_err err = fresh_err();
    enum cell_profile p = CELL_PROFILE_MEDIUM;
    assert_int_equal(cell_parse_profile(NULL, &p, &err), -1);
    assert_msg_contains(err, "profile \"\"");
}

static void net_all_names(void **state)
{
    (void)state;
    struct cell_err err = fresh_err();
    enum cell_net_mode m = CELL_NET_HOST;
    assert_int_equal(cell_parse_net("none", &m, &err), 0);
    assert_int_equal(m, CELL_NET_NONE);
    assert_int_equal(cell_parse_net("host", &m, &err), 0);
    assert_int_equal(m, CELL_NET_HOST);
}

static void net_error_unknown(void **state)
{
    (void)state;
    static const char *const bad[] = {"bridge", "Host", "", "none\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct cell_err err = fresh_err();
        enum cell_net_mode m = CELL_NET_HOST;
        assert_int_equal(cell_parse_net(bad[i], &m, &err), -1);
        assert_int_equal(m, CELL_NET_HOST);
        char quoted[32];
        snprintf(quoted, sizeof quoted, "network mode \"%s\"", bad[i]);
        assert_msg_contains(err, quoted);
        assert_msg_contains(err, "none or host");
    }
    struct cell_err err = fresh_err();
    enum cell_net_mode m = CELL_NET_HOST;
    assert_int_equal(cell_parse_net(NULL, &m, &err), -1);
    assert_msg_contains(err, "network mode \"\"");
}

/* ---- cell_parse_capability ------------------------------------------------- */

static int cap_ok(const char *text)
{
    struct cell_err err = fresh_err();
    int cap = -1;
    if (cell_parse_capability(text, &cap, &err) != 0)
        fail_msg("cell_parse_capability(\"%s\") failed: %s", text, err.msg);
    return cap;
}

static void cap_bad(const char *text)
{
    struct cell_err err = fresh_err();
    int cap = -1;
    assert_int_equal(cell_parse_capability(text, &cap, &err), -1);
    assert_int_equal(cap, -1);
    char quoted[128];
    snprintf(quoted, sizeof quoted, "capability \"%s\"", text ? text : "");
    assert_msg_contains(err, quoted);
    assert_msg_contains(err, "not known");
}

static void capability_full_name(void **state)
{
    (void)state;
    assert_int_equal(cap_ok("CAP_NET_RAW"), 13);
    assert_int_equal(cap_ok("CAP_SYS_ADMIN"), 21);
    assert_int_equal(cap_ok("CAP_NET_BIND_SERVICE"), 10);
    assert_int_equal(cap_ok("CAP_CHOWN"), 0);
}

static void capability_bare_lowercase(void **state)
{
    (void)state;
    assert_int_equal(cap_ok("net_raw"), 13);
    assert_int_equal(cap_ok("sys_admin"), 21);
}

static void capability_mixed_case(void **state)
{
    (void)state;
    assert_int_equal(cap_ok("cap_net_raw"), 13);
    assert_int_equal(cap_ok("Cap_Net_Raw"), 13);
    assert_int_equal(cap_ok("NET_RAW"), 13);
}

static void capability_error_unknown(void **state)
{
    (void)state;
    cap_bad("CAP_BOGUS");
    cap_bad("bogus");
    cap_bad("CAP_CAP_NET_RAW");
    cap_bad("CAP_");
    cap_bad("12");
    cap_bad("all");
}

static void capability_error_empty(void **state)
{
    (void)state;
    cap_bad("");
    cap_bad(NULL);
}

static void capability_error_too_long(void **state)
{
    (void)state;
    cap_bad("CAP_NET_RAW_NET_RAW_NET_RAW_NET_RAW_NET_RAW_NET_RAW_NET_RAW_NET_RAW_NET_RAW");
}

/* ---- cell_parse_duration, cell_parse_restart ------------------------------- */

static unsigned duration_ok(const char *text)
{
    struct cell_err err = fresh_err();
    unsigned ms = 0;
    if (cell_parse_duration(text, "--stop-timeout", &ms, &err) != 0)
        fail_msg("cell_parse_duration(\"%s\") failed: %s", text, err.msg);
    return ms;
}

static void duration_bad(const char *text, const char *needle)
{
    struct cell_err err = fresh_err();
    unsigned ms = 777;
    assert_int_equal(cell_parse_duration(text, "--stop-timeout", &ms, &err), -1);
    assert_int_equal(ms, 777);
    assert_msg_contains(err, "--stop-timeout");
    assert_msg_contains(err, text);
    assert_msg_contains(err, needle);
}

static void duration_forms(void **state)
{
    (void)state;
    assert_int_equal(duration_ok("5"), 5000);
    assert_int_equal(duration_ok("1.5"), 1500);
    assert_int_equal(duration_ok("2s"), 2000);
    assert_int_equal(duration_ok("250ms"), 250);
    assert_int_equal(duration_ok("0.1"), 100);
    assert_int_equal(duration_ok("2m"), 120000);
    assert_int_equal(duration_ok("0"), 0);
    assert_int_equal(duration_ok("1.23456789"), 1234);
    assert_int_equal(duration_ok("1440m"), 86400000);
}

static void duration_errors(void **state)
{
    (void)state;
    duration_bad("", "not a duration");
    duration_bad("soon", "not a duration");
    duration_bad("-1", "not a duration");
    duration_bad("1.", "not a duration");
    duration_bad(".5", "not a duration");
    duration_bad("5h", "unknown unit");
    duration_bad("5 s", "unknown unit");
    duration_bad("1441m", "longer than a day");
    duration_bad("99999999999999999999", "longer than a day");
}

static void restart_policies(void **state)
{
    (void)state;
    struct cell_err err = fresh_err();
    enum cell_restart_policy p = CELL_RESTART_NEVER;
    assert_int_equal(cell_parse_restart("always", &p, &err), 0);
    assert_int_equal(p, CELL_RESTART_ALWAYS);
    assert_int_equal(cell_parse_restart("on-failure", &p, &err), 0);
    assert_int_equal(p, CELL_RESTART_ON_FAILURE);
    assert_int_equal(cell_parse_restart("never", &p, &err), 0);
    assert_int_equal(p, CELL_RESTART_NEVER);
    assert_string_equal(cell_restart_label(CELL_RESTART_ON_FAILURE), "on-failure");
    assert_int_equal(cell_parse_restart("sometimes", &p, &err), -1);
    assert_msg_contains(err, "\"sometimes\"");
    assert_msg_contains(err, "always, on-failure or never");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        /* size */
        cmocka_unit_test(size_mebibytes),
        cmocka_unit_test(size_gibibyte),
        cmocka_unit_test(size_kibibytes_lowercase),
        cmocka_unit_test(size_tebibyte),
        cmocka_unit_test(size_fraction_is_exact),
        cmocka_unit_test(size_three_decimals_allowed),
        cmocka_unit_test(size_plain_bytes),
        cmocka_unit_test(size_ib_suffix),
        cmocka_unit_test(size_b_suffix),
        cmocka_unit_test(size_leading_zeros),
        cmocka_unit_test(size_large_but_valid),
        cmocka_unit_test(size_error_empty),
        cmocka_unit_test(size_error_null),
        cmocka_unit_test(size_error_unknown_suffix),
        cmocka_unit_test(size_error_suffix_without_number),
        cmocka_unit_test(size_error_negative),
        cmocka_unit_test(size_error_two_dots),
        cmocka_unit_test(size_error_dot_without_decimals),
        cmocka_unit_test(size_error_zero),
        cmocka_unit_test(size_error_rounds_to_zero),
        cmocka_unit_test(size_error_fraction_of_a_byte),
        cmocka_unit_test(size_error_overflow_with_suffix),
        cmocka_unit_test(size_error_overflow_without_suffix),
        cmocka_unit_test(size_error_too_many_decimals),
        cmocka_unit_test(size_error_trailing_garbage),
        /* format */
        cmocka_unit_test(format_size_units),
        cmocka_unit_test(format_size_plain),
        cmocka_unit_test(format_size_truncates_to_buffer),
        cmocka_unit_test(format_size_round_trips),
        cmocka_unit_test(format_size_round_trips_parsed_text),
        /* cpus */
        cmocka_unit_test(cpus_half),
        cmocka_unit_test(cpus_whole),
        cmocka_unit_test(cpus_two_decimals),
        cmocka_unit_test(cpus_smallest_and_largest),
        cmocka_unit_test(cpus_error_zero),
        cmocka_unit_test(cpus_error_not_a_number),
        cmocka_unit_test(cpus_error_empty),
        cmocka_unit_test(cpus_error_too_many_decimals),
        cmocka_unit_test(cpus_error_too_large),
        cmocka_unit_test(cpus_error_negative),
        cmocka_unit_test(cpus_error_trailing_garbage),
        cmocka_unit_test(cpus_error_huge),
        /* rlimit */
        cmocka_unit_test(rlimit_soft_only_sets_both),
        cmocka_unit_test(rlimit_soft_and_hard),
        cmocka_unit_test(rlimit_unlimited),
        cmocka_unit_test(rlimit_zero),
        cmocka_unit_test(rlimit_every_name),
        cmocka_unit_test(rlimit_label_out_of_range),
        cmocka_unit_test(rlimit_largest_number),
        cmocka_unit_test(rlimit_error_missing_equals),
        cmocka_unit_test(rlimit_error_null),
        cmocka_unit_test(rlimit_error_unknown_name),
        cmocka_unit_test(rlimit_error_empty_name),
        cmocka_unit_test(rlimit_error_soft_above_hard),
        cmocka_unit_test(rlimit_error_empty_value),
        cmocka_unit_test(rlimit_error_empty_hard),
        cmocka_unit_test(rlimit_error_bad_hard),
        cmocka_unit_test(rlimit_error_bad_soft),
        cmocka_unit_test(rlimit_error_three_parts),
        cmocka_unit_test(rlimit_error_number_too_large),
        /* bind */
        cmocka_unit_test(bind_default_read_only),
        cmocka_unit_test(bind_explicit_ro),
        cmocka_unit_test(bind_explicit_rw),
        cmocka_unit_test(bind_root_paths),
        cmocka_unit_test(bind_error_empty),
        cmocka_unit_test(bind_error_no_colon),
        cmocka_unit_test(bind_error_empty_source),
        cmocka_unit_test(bind_error_empty_target),
        cmocka_unit_test(bind_error_relative_target),
        cmocka_unit_test(bind_error_relative_source),
        cmocka_unit_test(bind_error_bad_mode),
        /* user */
        cmocka_unit_test(user_uid_only_sets_gid_too),
        cmocka_unit_test(user_uid_and_gid),
        cmocka_unit_test(user_largest),
        cmocka_unit_test(user_error_not_numeric),
        cmocka_unit_test(user_error_empty_gid),
        cmocka_unit_test(user_error_empty_uid),
        cmocka_unit_test(user_error_negative),
        cmocka_unit_test(user_error_too_large),
        cmocka_unit_test(user_error_too_long),
        cmocka_unit_test(user_error_three_parts),
        /* uint */
        cmocka_unit_test(uint_ok),
        cmocka_unit_test(uint_error_empty),
        cmocka_unit_test(uint_error_not_a_number),
        cmocka_unit_test(uint_error_above_max),
        cmocka_unit_test(uint_error_overflow),
        /* profile, net */
        cmocka_unit_test(profile_all_names),
        cmocka_unit_test(profile_labels),
        cmocka_unit_test(profile_error_unknown),
        cmocka_unit_test(net_all_names),
        cmocka_unit_test(net_error_unknown),
        /* capability */
        cmocka_unit_test(capability_full_name),
        cmocka_unit_test(capability_bare_lowercase),
        cmocka_unit_test(capability_mixed_case),
        cmocka_unit_test(capability_error_unknown),
        cmocka_unit_test(capability_error_empty),
        cmocka_unit_test(capability_error_too_long),
        /* durations, restart policies */
        cmocka_unit_test(duration_forms),
        cmocka_unit_test(duration_errors),
        cmocka_unit_test(restart_policies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
