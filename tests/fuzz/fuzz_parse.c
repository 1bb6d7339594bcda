/* fuzz_parse.c - libFuzzer target for the value parsers in cell.h
 * (src/lib/parse.c) and cell_spec_add_env. The first input byte selects the
 * parser (selector % 10, see SELECTORS below; for uint, selector / 10 picks the
 * maximum); the rest becomes a NUL-terminated string. Besides crashes and
 * sanitizer reports it checks that every success gives a sane value (sizes
 * round-trip through cell_format_size, binds are absolute, soft <= hard, ...)
 * and that every failure leaves a NUL-terminated, non-empty message.
 * Build and run: see tests/fuzz/README.md. */
#include "cell/cell.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* SELECTORS: what `selector % 10` feeds. */
enum {
    SEL_SIZE,
    SEL_CPUS,
    SEL_RLIMIT,
    SEL_BIND,
    SEL_USER,
    SEL_PROFILE,
    SEL_NET,
    SEL_CAPABILITY,
    SEL_UINT,
    SEL_ENV,
    SEL_COUNT
};

#define CHECK(cond)                                                                                                    \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            fprintf(stderr, "fuzz_parse: check failed: %s (line %d)\n", #cond, __LINE__);                              \
            abort();                                                                                                   \
        }                                                                                                              \
    } while (0)

static void check_err(int rc, const struct cell_err *err)
{
    CHECK(rc == 0 || rc == -1);
    if (rc < 0) {
        CHECK(memchr(err->msg, '\0', sizeof err->msg) != NULL);
        CHECK(err->msg[0] != '\0');
    }
}

static void fuzz_size(const char *text)
{
    struct cell_err err = {0};
    uint64_t v = 0;
    int rc = cell_parse_size(text, &v, &err);
    check_err(rc, &err);
    if (rc == 0) {
        CHECK(v > 0);
        char buf[32];
        cell_format_size(v, buf, sizeof buf);
        uint64_t back = 0;
        CHECK(cell_parse_size(buf, &back, &err) == 0);
        CHECK(back == v);
    }
}

static void fuzz_cpus(const char *text)
{
    struct cell_err err = {0};
    uint64_t v = 0;
    int rc = cell_parse_cpus(text, &v, &err);
    check_err(rc, &err);
    if (rc == 0)
        CHECK(v >= 1 && v <= 1024 * 1000);
}

static void fuzz_rlimit(const char *text)
{
    struct cell_err err = {0};
    enum cell_rlimit_name which = CELL_RLIMIT_COUNT;
    struct cell_rlimit rl = {0};
    int rc = cell_parse_rlimit(text, &which, &rl, &err);
    check_err(rc, &err);
    if (rc == 0) {
        CHECK((unsigned)which < CELL_RLIMIT_COUNT);
        CHECK(rl.set);
        CHECK(rl.soft <= rl.hard);
        CHECK(strncmp(text, cell_rlimit_label(which), strlen(cell_rlimit_label(which))) == 0);
    }
}

static void fuzz_bind(const char *text)
{
    struct cell_err err = {0};
    struct cell_mount m = {0};
    int rc = cell_parse_bind(text, &m, &err);
    check_err(rc, &err);
    if (rc == 0) {
        CHECK(m.kind == CELL_MOUNT_BIND);
        CHECK(m.source != NULL && m.source[0] == '/');
        CHECK(m.destination != NULL && m.destination[0] == '/');
        CHECK(strchr(m.source, ':') == NULL && strchr(m.destination, ':') == NULL);
        CHECK(strlen(m.source) + strlen(m.destination) < strlen(text));
    } else {
        CHECK(m.source == NULL && m.destination == NULL);
    }
    free(m.source);
    free(m.destination);
}

static void fuzz_user(const char *text)
{
    struct cell_err err = {0};
    uid_t uid = 0;
    gid_t gid = 0;
    int rc = cell_parse_user(text, &uid, &gid, &err);
    check_err(rc, &err);
    if (rc == 0)
        CHECK(uid != (uid_t)-1 && gid != (gid_t)-1);
}

static void fuzz_profile(const char *text)
{
    struct cell_err err = {0};
    enum cell_profile p = CELL_PROFILE_HIGH;
    int rc = cell_parse_profile(text, &p, &err);
    check_err(rc, &err);
    if (rc == 0)
        CHECK(strcmp(cell_profile_label(p), text) == 0);
}

static void fuzz_net(const char *text)
{
    struct cell_err err = {0};
    enum cell_net_mode mode = CELL_NET_NONE;
    int rc = cell_parse_net(text, &mode, &err);
    check_err(rc, &err);
    if (rc == 0)
        CHECK(mode == CELL_NET_NONE || mode == CELL_NET_HOST);
}

static void fuzz_capability(const char *text)
{
    struct cell_err err = {0};
    int cap = -1;
    int rc = cell_parse_capability(text, &cap, &err);
    check_err(rc, &err);
    if (rc == 0)
        CHECK(cap >= 0 && cap <= 63);
}

static void fuzz_uint(const char *text, unsigned which_max)
{
    static const uint64_t maxes[] = {UINT64_MAX, 0, 1, 1024, UINT32_MAX, 365u * 24 * 3600};
    uint64_t max = maxes[which_max % (sizeof maxes / sizeof maxes[0])];
    struct cell_err err = {0};
    uint64_t v = 0;
    int rc = cell_parse_uint(text, max, "fuzz", &v, &err);
    check_err(rc, &err);
    if (rc == 0) {
        CHECK(v <= max);
        char buf[32];
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
        const char *digits = text + strspn(text, "0");
        CHECK(strcmp(buf, *digits ? digits : "0") == 0);
    } else {
        CHECK(strstr(err.msg, "fuzz") != NULL);
    }
}

static void fuzz_env(const char *text)
{
    struct cell_spec spec;
    struct cell_err err = {0};
    cell_spec_init(&spec);
    /* add it twice: the second must replace, not append */
    int rc = cell_spec_add_env(&spec, text, &err);
    check_err(rc, &err);
    if (rc == 0) {
        CHECK(cell_spec_add_env(&spec, text, &err) == 0);
        CHECK(spec.env != NULL && spec.env[0] != NULL && spec.env[1] == NULL);
        CHECK(strcmp(spec.env[0], text) == 0);
    }
    cell_spec_free(&spec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    unsigned selector = data[0];
    char *text = malloc(size);
    if (text == NULL)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0'; /* stops at the first NUL inside, too */

    switch (selector % SEL_COUNT) {
    case SEL_SIZE:
        fuzz_size(text);
        break;
    case SEL_CPUS:
        fuzz_cpus(text);
        break;
    case SEL_RLIMIT:
        fuzz_rlimit(text);
        break;
    case SEL_BIND:
        fuzz_bind(text);
        break;
    case SEL_USER:
        fuzz_user(text);
        break;
    case SEL_PROFILE:
        fuzz_profile(text);
        break;
    case SEL_NET:
        fuzz_net(text);
        break;
    case SEL_CAPABILITY:
        fuzz_capability(text);
        break;
    case SEL_UINT:
        fuzz_uint(text, selector / SEL_COUNT);
        break;
    case SEL_ENV:
        fuzz_env(text);
        break;
    }
    free(text);
    return 0;
}
