/* parse.c - parsers of user-supplied values shared by every front end:
 * sizes, CPU fractions, rlimits, binds, users, profiles, capabilities.
 * Each rejects bad input with a message that quotes it and says what is
 * expected. */
#include "cell/cell.h"
#include "util.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/capability.h>

static const char *const rlimit_labels[CELL_RLIMIT_COUNT] = {
    [CELL_RLIMIT_NOFILE] = "nofile", [CELL_RLIMIT_NPROC] = "nproc",     [CELL_RLIMIT_AS] = "as",
    [CELL_RLIMIT_CORE] = "core",     [CELL_RLIMIT_CPU] = "cpu",         [CELL_RLIMIT_FSIZE] = "fsize",
    [CELL_RLIMIT_STACK] = "stack",   [CELL_RLIMIT_MEMLOCK] = "memlock",
};

const char *cell_rlimit_label(enum cell_rlimit_name which)
{
    return (unsigned)which < CELL_RLIMIT_COUNT ? rlimit_labels[which] : "?";
}

const char *cell_profile_label(enum cell_profile profile)
{
    switch (profile) {
    case CELL_PROFILE_HIGH:
        return "high";
    case CELL_PROFILE_MEDIUM:
        return "medium";
    case CELL_PROFILE_LOW:
        return "low";
    }
    return "?";
}

int cell_parse_uint(const char *text, uint64_t max, const char *what, uint64_t *out, struct cell_err *err)
{
    uint64_t v = 0;
    if (text == NULL || *text == '\0')
        return cell_err_set(err, 0, "%s: empty value: expected a number", what);
    for (const char *p = text; *p; p++) {
        if (!isdigit((unsigned char)*p))
            return cell_err_set(err, 0, "%s: \"%s\" is not a non-negative integer", what, text);
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return cell_err_set(err, 0, "%s: \"%s\" is too large (at most %" PRIu64 ")", what, text, max);
        v = v * 10 + d;
    }
    if (v > max)
        return cell_err_set(err, 0, "%s: \"%s\" is too large (at most %" PRIu64 ")", what, text, max);
    *out = v;
    return 0;
}

/* Parse "123" or "1.25" into an integer scaled by 10^decimals; rejects more
 * decimals than allowed. `rest` receives the first character after the number. */
static int parse_fixed(const char *text, unsigned decimals, uint64_t *scaled, const char **rest)
{
    const char *p = text;
    uint64_t whole = 0, frac = 0;
    unsigned nfrac = 0;
    if (!isdigit((unsigned char)*p))
        return -1;
    for (; isdigit((unsigned char)*p); p++) {
        if (whole > UINT64_MAX / 10 - 9)
            return -1;
        whole = whole * 10 + (unsigned)(*p - '0');
    }
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return -1;
        for (; isdigit((unsigned char)*p); p++) {
            if (++nfrac > decimals)
                return -1;
            frac = frac * 10 + (unsigned)(*p - '0');
        }
    }
    uint64_t scale = 1;
    for (unsigned i = 0; i < decimals; i++)
        scale *= 10;
    for (unsigned i = nfrac; i < decimals; i++)
        frac *= 10;
    if (whole > (UINT64_MAX - frac) / scale)
        return -1;
    *scaled = whole * scale + frac;
    *rest = p;
    return 0;
}

int cell_parse_size(const char *text, uint64_t *bytes, struct cell_err *err)
{
    static const char suffixes[] = "KMGT";
    const char *p = text;
    uint64_t whole = 0, frac_milli = 0;
    bool overflow = false, has_frac = false;
    if (text == NULL || !isdigit((unsigned char)*p))
        goto bad;
    for (; isdigit((unsigned char)*p); p++) {
        unsigned d = (unsigned)(*p - '0');
        if (whole > (UINT64_MAX - d) / 10)
            overflow = true;
        else
            whole = whole * 10 + d;
    }
    if (*p == '.') {
        unsigned ndigits = 0;
        has_frac = true;
        for (p++; isdigit((unsigned char)*p); p++) {
            if (++ndigits > 3)
                goto bad;
            frac_milli = frac_milli * 10 + (unsigned)(*p - '0');
        }
        if (ndigits == 0)
            goto bad;
        for (; ndigits < 3; ndigits++)
            frac_milli *= 10;
    }
    unsigned shift = 0;
    if (*p && *p != 'b' && *p != 'B') {
        const char *s = strchr(suffixes, toupper((unsigned char)*p));
        if (s == NULL)
            goto bad;
        shift = 10 * (unsigned)(s - suffixes + 1);
        p++;
        if (strcasecmp(p, "ib") == 0)
            p += 2;
    }
    if (strcasecmp(p, "b") == 0)
        p++;
    if (*p)
        goto bad;
    if (has_frac && shift == 0)
        return cell_err_set(err, 0, "size \"%s\": a fraction of a byte: use a suffix (1.5M) or whole bytes", text);
    if (overflow || (shift && whole > (UINT64_MAX >> shift)))
        return cell_err_set(err, 0, "size \"%s\" is too large", text);
    uint64_t v = whole << shift;
    uint64_t extra = (frac_milli << shift) / 1000;
    if (v > UINT64_MAX - extra)
        return cell_err_set(err, 0, "size \"%s\" is too large", text);
    v += extra;
    if (v == 0)
        return cell_err_set(err, 0, "size \"%s\" is zero: give a positive size such as 64M", text);
    *bytes = v;
    return 0;
bad:
    return cell_err_set(err, 0, "\"%s\" is not a size: expected a number with an optional K, M, G or T suffix (64M)",
                        text ? text : "");
}

void cell_format_size(uint64_t bytes, char *buf, size_t len)
{
    static const char units[] = "KMGT";
    int u = -1;
    while (u < 3 && bytes >= 1024 && bytes % 1024 == 0) {
        bytes /= 1024;
        u++;
    }
    if (u < 0)
        snprintf(buf, len, "%" PRIu64, bytes);
    else
        snprintf(buf, len, "%" PRIu64 "%c", bytes, units[u]);
}

int cell_parse_cpus(const char *text, uint64_t *millis, struct cell_err *err)
{
    const char *rest = NULL;
    uint64_t v;
    if (text == NULL || parse_fixed(text, 3, &v, &rest) < 0 || *rest)
        return cell_err_set(err, 0, "\"%s\" is not a CPU amount: expected a number such as 0.5 or 2", text ? text : "");
    if (v == 0)
        return cell_err_set(err, 0, "CPU amount \"%s\" is zero: give at least 0.001", text);
    if (v > 1024 * 1000)
        return cell_err_set(err, 0, "CPU amount \"%s\" is too large (at most 1024)", text);
    *millis = v;
    return 0;
}

static int parse_rlimit_value(const char *text, size_t len, uint64_t *out)
{
    char buf[32];
    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, text, len);
    buf[len] = '\0';
    if (strcmp(buf, "unlimited") == 0 || strcmp(buf, "infinity") == 0) {
        *out = UINT64_MAX;
        return 0;
    }
    struct cell_err ignored;
    return cell_parse_uint(buf, UINT64_MAX - 1, "rlimit", out, &ignored);
}

int cell_parse_rlimit(const char *text, enum cell_rlimit_name *which, struct cell_rlimit *rl, struct cell_err *err)
{
    const char *eq = text ? strchr(text, '=') : NULL;
    if (eq == NULL)
        return cell_err_set(err, 0, "rlimit \"%s\" is not NAME=SOFT[:HARD] (for example nofile=1024:4096)",
                            text ? text : "");
    size_t namelen = (size_t)(eq - text);
    int found = -1;
    for (int i = 0; i < CELL_RLIMIT_COUNT; i++)
        if (strlen(rlimit_labels[i]) == namelen && strncmp(text, rlimit_labels[i], namelen) == 0)
            found = i;
    if (found < 0)
        return cell_err_set(err, 0,
                            "rlimit \"%.*s\" is not known: use nofile, nproc, as, core, cpu, fsize, stack or memlock",
                            (int)namelen, text);
    const char *val = eq + 1;
    const char *colon = strchr(val, ':');
    uint64_t soft, hard;
    size_t softlen = colon ? (size_t)(colon - val) : strlen(val);
    if (parse_rlimit_value(val, softlen, &soft) < 0 ||
        (colon && parse_rlimit_value(colon + 1, strlen(colon + 1), &hard) < 0))
        return cell_err_set(err, 0, "rlimit %s: \"%s\" is not SOFT[:HARD] with numbers or \"unlimited\"",
                            rlimit_labels[found], val);
    if (!colon)
        hard = soft;
    if (soft > hard)
        return cell_err_set(err, 0, "rlimit %s: soft limit %s is above the hard limit", rlimit_labels[found], val);
    *which = (enum cell_rlimit_name)found;
    rl->set = true;
    rl->soft = soft;
    rl->hard = hard;
    return 0;
}

int cell_parse_bind(const char *text, struct cell_mount *m, struct cell_err *err)
{
    if (text == NULL || *text == '\0')
        return cell_err_set(err, 0, "bind: empty value: expected SRC:DST[:ro|rw]");
    const char *c1 = strchr(text, ':');
    if (c1 == NULL || c1 == text)
        return cell_err_set(err, 0, "bind \"%s\" is not SRC:DST[:ro|rw]", text);
    const char *dst = c1 + 1;
    const char *c2 = strchr(dst, ':');
    size_t dstlen = c2 ? (size_t)(c2 - dst) : strlen(dst);
    bool writable = false;
    if (c2) {
        if (strcmp(c2 + 1, "rw") == 0)
            writable = true;
        else if (strcmp(c2 + 1, "ro") != 0)
            return cell_err_set(err, 0, "bind \"%s\": mode \"%s\" is not ro or rw", text, c2 + 1);
    }
    if (dstlen == 0)
        return cell_err_set(err, 0, "bind \"%s\": empty target: expected SRC:DST", text);
    if (dst[0] != '/')
        return cell_err_set(err, 0, "bind \"%s\": target \"%.*s\" is not an absolute path", text, (int)dstlen, dst);
    if (text[0] != '/')
        return cell_err_set(err, 0, "bind \"%s\": source \"%.*s\" is not an absolute path", text, (int)(c1 - text),
                            text);
    m->kind = CELL_MOUNT_BIND;
    m->writable = writable;
    m->source = strndup(text, (size_t)(c1 - text));
    m->destination = strndup(dst, dstlen);
    if (m->source == NULL || m->destination == NULL) {
        free(m->source);
        free(m->destination);
        m->source = m->destination = NULL;
        return cell_err_set(err, ENOMEM, "bind %s", text);
    }
    return 0;
}

int cell_parse_user(const char *text, uid_t *uid, gid_t *gid, struct cell_err *err)
{
    char buf[32];
    if (text == NULL || strlen(text) >= sizeof buf)
        return cell_err_set(err, 0, "user \"%s\" is not UID[:GID]", text ? text : "");
    strcpy(buf, text);
    char *colon = strchr(buf, ':');
    if (colon)
        *colon = '\0';
    uint64_t u, g;
    if (cell_parse_uint(buf, UINT32_MAX - 1, "user", &u, err) < 0)
        goto bad;
    g = u;
    if (colon && cell_parse_uint(colon + 1, UINT32_MAX - 1, "group", &g, err) < 0)
        goto bad;
    *uid = (uid_t)u;
    *gid = (gid_t)g;
    return 0;
bad:
    if (strstr(err->msg, "too large"))
        return cell_err_set(err, 0, "user \"%s\": an id is too large (at most %u); expected UID[:GID]", text,
                            UINT32_MAX - 1);
    return cell_err_set(err, 0, "user \"%s\" is not UID[:GID] with numeric ids", text);
}

int cell_parse_profile(const char *text, enum cell_profile *profile, struct cell_err *err)
{
    static const enum cell_profile all[] = {CELL_PROFILE_HIGH, CELL_PROFILE_MEDIUM, CELL_PROFILE_LOW};
    for (size_t i = 0; text && i < ARRAY_SIZE(all); i++)
        if (strcmp(text, cell_profile_label(all[i])) == 0) {
            *profile = all[i];
            return 0;
        }
    return cell_err_set(err, 0, "profile \"%s\" is not known: use high, medium or low", text ? text : "");
}

int cell_parse_net(const char *text, enum cell_net_mode *mode, struct cell_err *err)
{
    if (text && strcmp(text, "none") == 0)
        *mode = CELL_NET_NONE;
    else if (text && strcmp(text, "host") == 0)
        *mode = CELL_NET_HOST;
    else
        return cell_err_set(err, 0, "network mode \"%s\" is not known: use none or host", text ? text : "");
    return 0;
}

int cell_parse_capability(const char *text, int *cap, struct cell_err *err)
{
    char name[64];
    if (text == NULL || strlen(text) + 4 >= sizeof name)
        return cell_err_set(err, 0, "capability \"%s\" is not known", text ? text : "");
    const char *bare = strncasecmp(text, "cap_", 4) == 0 ? text + 4 : text;
    snprintf(name, sizeof name, "cap_%s", bare);
    for (char *p = name; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    cap_value_t v;
    if (cap_from_name(name, &v) < 0 || v < 0 || v > 63)
        return cell_err_set(err, 0, "capability \"%s\" is not known (see capabilities(7), e.g. CAP_NET_BIND_SERVICE)",
                            text);
    *cap = (int)v;
    return 0;
}

int cell_parse_duration(const char *text, const char *what, unsigned *ms, struct cell_err *err)
{
    const uint64_t day_ms = 24ULL * 3600 * 1000;
    const char *p = text;
    uint64_t whole = 0, frac = 0, frac_scale = 1;
    if (!isdigit((unsigned char)*p))
        return cell_err_set(err, 0, "%s \"%s\": not a duration (e.g. 1.5, 250ms, 2s, 1m)", what, text);
    for (; isdigit((unsigned char)*p); p++) {
        whole = whole * 10 + (uint64_t)(*p - '0');
        if (whole > day_ms)
            return cell_err_set(err, 0, "%s \"%s\": longer than a day", what, text);
    }
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return cell_err_set(err, 0, "%s \"%s\": not a duration (e.g. 1.5, 250ms, 2s, 1m)", what, text);
        for (; isdigit((unsigned char)*p); p++)
            if (frac_scale < 1000000) {
                frac = frac * 10 + (uint64_t)(*p - '0');
                frac_scale *= 10;
            }
    }
    uint64_t unit;
    if (strcmp(p, "") == 0 || strcmp(p, "s") == 0)
        unit = 1000;
    else if (strcmp(p, "ms") == 0)
        unit = 1;
    else if (strcmp(p, "m") == 0)
        unit = 60000;
    else
        return cell_err_set(err, 0, "%s \"%s\": unknown unit \"%s\" (use ms, s or m)", what, text, p);
    uint64_t total = whole * unit + frac * unit / frac_scale;
    if (total > day_ms)
        return cell_err_set(err, 0, "%s \"%s\": longer than a day", what, text);
    *ms = (unsigned)total;
    return 0;
}

static const char *const restart_labels[] = {
    [CELL_RESTART_ON_FAILURE] = "on-failure",
    [CELL_RESTART_ALWAYS] = "always",
    [CELL_RESTART_NEVER] = "never",
};

const char *cell_restart_label(enum cell_restart_policy policy)
{
    return (unsigned)policy < ARRAY_SIZE(restart_labels) ? restart_labels[policy] : "?";
}

int cell_parse_restart(const char *text, enum cell_restart_policy *policy, struct cell_err *err)
{
    for (size_t i = 0; i < ARRAY_SIZE(restart_labels); i++)
        if (strcmp(text, restart_labels[i]) == 0) {
            *policy = (enum cell_restart_policy)i;
            return 0;
        }
    return cell_err_set(err, 0, "--restart \"%s\": not a policy (always, on-failure or never)", text);
}
