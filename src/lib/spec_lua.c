/* spec_lua.c - the Lua front end: desired-state files (*.lua) loaded in
 * sorted order into one sandboxed Lua 5.4 state. Only the base (without
 * dofile, load, loadfile, collectgarbage), string, table, math and utf8
 * libraries exist; no os, io, debug or package. An allocator caps the
 * state's memory and a count hook its instructions, so a hostile or buggy
 * file can neither exhaust nor hang the host.
 *
 * Documents: cell(name, {...}), volume(name, {mode=...}), apply(name,
 * {actions...}); helpers host(), volume() inside mounts, from_env(); the
 * action constructors come from a small Lua prelude. A cell document becomes
 * the `cell run -d` arguments celld declares, each value checked on the way
 * with the same parsers as the command line, so an error names the file,
 * line, document and key path. Cross-document checks (depends_on names and
 * cycles, mounted volumes, apply targets) run after every file is read. */
#include "cell/desired.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_INSTRUCTIONS 50000000ULL
#define DEFAULT_MEMORY (64u << 20)
#define HOOK_EVERY 1000
/* the registry table of declared cell names */
#define CELL_NAMES "cell.names"

struct loader {
    lua_State *L;
    struct cell_desired *d;
    size_t mem_used, mem_limit;
    uint64_t instructions, instr_limit;
    const char *volumes_dir;
    /* the document being read, for error messages */
    const char *kind, *name;
    char file[PATH_MAX]; /* where the document is */
    int line;
    /* JSON values being built while a Lua error may longjmp: freed then */
    json_t *pending[4];
    char json_error[128]; /* why to_json failed */
};

static json_t *hold(struct loader *ld, json_t *j)
{
    for (size_t i = 0; i < ARRAY_SIZE(ld->pending); i++)
        if (ld->pending[i] == NULL) {
            ld->pending[i] = j;
            return j;
        }
    abort(); /* more than the slots: a bug here */
}

static void let_go(struct loader *ld)
{
    for (size_t i = 0; i < ARRAY_SIZE(ld->pending); i++)
        ld->pending[i] = NULL;
}

static void drop_pending(struct loader *ld)
{
    for (size_t i = 0; i < ARRAY_SIZE(ld->pending); i++) {
        json_decref(ld->pending[i]);
        ld->pending[i] = NULL;
    }
}

static struct loader *loader_of(lua_State *L)
{
    void *ud;
    lua_getallocf(L, &ud);
    return ud;
}

static void *limited_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    struct loader *ld = ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        ld->mem_used -= old;
        free(ptr);
        return NULL;
    }
    if (nsize > old && ld->mem_used + (nsize - old) > ld->mem_limit)
        return NULL; /* Lua raises "not enough memory" */
    void *p = realloc(ptr, nsize);
    if (p)
        ld->mem_used = ld->mem_used - old + nsize;
    return p;
}

static void count_hook(lua_State *L, lua_Debug *ar)
{
    struct loader *ld = loader_of(L);
    ld->instructions += HOOK_EVERY;
    if (ld->instructions > ld->instr_limit) {
        char msg[PATH_MAX + 128]; /* lua_pushfstring has no %llu */
        if (!lua_getinfo(L, "Sl", ar))
            ar->short_src[0] = '\0';
        snprintf(msg, sizeof msg, "%s:%d: stopped after %llu Lua instructions (an endless loop?)", ar->short_src,
                 ar->currentline, (unsigned long long)ld->instr_limit);
        lua_pushstring(L, msg);
        lua_error(L);
    }
}

/* Raise "FILE:LINE: KIND "NAME": PATH: message". */
__attribute__((noreturn, format(printf, 3, 4))) static void doc_error(lua_State *L, const char *path, const char *fmt,
                                                                      ...)
{
    struct loader *ld = loader_of(L);
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    lua_pushfstring(L, "%s:%d: %s \"%s\": %s%s%s", ld->file, ld->line, ld->kind, ld->name ? ld->name : "?",
                    path ? path : "", path ? ": " : "", msg);
    lua_error(L);
    abort(); /* not reached */
}

/* The file and line of the Lua code that called the current C function. */
static void caller_position(lua_State *L, struct loader *ld)
{
    lua_Debug ar;
    if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sl", &ar)) {
        snprintf(ld->file, sizeof ld->file, "%s", ar.short_src);
        ld->line = ar.currentline;
    } else {
        snprintf(ld->file, sizeof ld->file, "?");
        ld->line = 0;
    }
}

/* ---- values ------------------------------------------------------------------ */

/* A string, or a number shown as text; NULL for other types. */
static const char *scalar_text(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    int t = lua_type(L, idx);
    if (t == LUA_TSTRING)
        return lua_tostring(L, idx);
    if (t == LUA_TNUMBER) {
        lua_pushvalue(L, idx);
        const char *s = lua_tostring(L, -1); /* the copy becomes a string */
        lua_replace(L, idx);
        return s;
    }
    return NULL;
}

static const char *need_text(lua_State *L, int idx, const char *path, const char *what)
{
    const char *s = scalar_text(L, idx);
    if (s == NULL)
        doc_error(L, path, "expected %s, got a %s", what, luaL_typename(L, idx));
    return s;
}

/* A Lua value as JSON: tables with keys 1..n are arrays, other tables
 * objects (string keys only). NULL (with ld->json_error) for what JSON cannot
 * hold: functions, mixed tables, deep nesting. Raises no Lua error. */
static json_t *to_json(lua_State *L, int idx, int depth)
{
    struct loader *ld = loader_of(L);
    idx = lua_absindex(L, idx);
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
        return json_null();
    case LUA_TBOOLEAN:
        return json_boolean(lua_toboolean(L, idx));
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx))
            return json_integer((json_int_t)lua_tointeger(L, idx));
        return json_real(lua_tonumber(L, idx));
    case LUA_TSTRING: {
        size_t n;
        const char *str = lua_tolstring(L, idx, &n);
        return json_stringn(str, n);
    }
    case LUA_TTABLE:
        break;
    default:
        snprintf(ld->json_error, sizeof ld->json_error, "a %s cannot be part of a document", luaL_typename(L, idx));
        return NULL;
    }
    if (depth > 16 || !lua_checkstack(L, 4)) {
        snprintf(ld->json_error, sizeof ld->json_error, "nested too deeply");
        return NULL;
    }
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
    json_t *out = n > 0 ? json_array() : json_object();
    if (n > 0) {
        lua_Integer count = 0;
        lua_pushnil(L);
        while (lua_next(L, idx)) {
            lua_pop(L, 1);
            count++;
        }
        if (count != n) {
            json_decref(out);
            snprintf(ld->json_error, sizeof ld->json_error, "mixes a list with named keys");
            return NULL;
        }
        for (lua_Integer i = 1; i <= n; i++) {
            lua_rawgeti(L, idx, i);
            json_t *v = to_json(L, -1, depth + 1);
            lua_pop(L, 1);
            if (v == NULL) {
                json_decref(out);
                return NULL;
            }
            json_array_append_new(out, v);
        }
        return out;
    }
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        if (lua_type(L, -2) != LUA_TSTRING) {
            lua_pop(L, 2);
            json_decref(out);
            snprintf(ld->json_error, sizeof ld->json_error, "has a key that is not a name");
            return NULL;
        }
        json_t *v = to_json(L, -1, depth + 1);
        if (v == NULL) {
            lua_pop(L, 2);
            json_decref(out);
            return NULL;
        }
        json_object_set_new(out, lua_tostring(L, -2), v);
        lua_pop(L, 1);
    }
    return out;
}

/* Every key of the table at idx must be one of `known` (NULL-ended). */
static void check_keys(lua_State *L, int idx, const char *path, const char *const *known)
{
    idx = lua_absindex(L, idx);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        bool ok = false;
        for (size_t i = 0; k && known[i]; i++)
            ok |= strcmp(k, known[i]) == 0;
        if (!ok) {
            char list[512] = "";
            for (size_t i = 0; known[i]; i++)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", known[i]);
            char key[80];
            snprintf(key, sizeof key, "%s%s%s", path ? path : "", path ? "." : "",
                     k ? k : "(a key that is not a name)");
            lua_pop(L, 1);
            doc_error(L, NULL, "unknown key %s (known%s%s: %s)", key, path ? " in " : "", path ? path : "", list);
        }
    }
}

static void arg(json_t *args, const char *a)
{
    json_array_append_new(args, json_string(a));
}

static void arg2(json_t *args, const char *a, const char *b)
{
    arg(args, a);
    arg(args, b);
}

/* Check `text` with a cell_err-style parser; on failure raise at `path`. */
#define CHECKED(call, path)                                                                                            \
    do {                                                                                                               \
        struct cell_err e_ = {0};                                                                                      \
        if ((call) < 0)                                                                                                \
            doc_error(L, path, "%s", e_.msg);                                                                          \
    } while (0)

static void duration(lua_State *L, int idx, const char *path, const char *flag, json_t *args)
{
    const char *s = need_text(L, idx, path, "a duration (1.5, 250ms, 2s, 1m)");
    unsigned ms;
    struct cell_err e = {0};
    if (cell_parse_duration(s, path, &ms, &e) < 0)
        doc_error(L, NULL, "%s", e.msg);
    arg2(args, flag, s);
}

static void ports(lua_State *L, int idx, const char *path)
{
    const char *s = need_text(L, idx, path, "a list of ports such as \"80,443\"");
    const char *p = s;
    do {
        char *end;
        long port = strtol(p, &end, 10);
        if (end == p || port < 1 || port > 65535 || (*end && *end != ','))
            doc_error(L, path, "\"%s\" is not a list of ports (e.g. \"80,443\")", s);
        p = *end ? end + 1 : end;
    } while (*p);
}

/* run_as: "uid:UID[:GID]" or "host:USER[:GROUP]" (the host's databases). */
static void run_as(lua_State *L, int idx, const char *path, json_t *args)
{
    const char *s = need_text(L, idx, path, "uid:UID[:GID] or host:USER[:GROUP]");
    char user[64];
    if (strncmp(s, "uid:", 4) == 0) {
        uid_t u;
        gid_t g;
        CHECKED(cell_parse_user(s + 4, &u, &g, &e_), path);
        snprintf(user, sizeof user, "%u:%u", (unsigned)u, (unsigned)g);
    } else if (strncmp(s, "host:", 5) == 0) {
        char name[64], *group;
        snprintf(name, sizeof name, "%s", s + 5);
        if ((group = strchr(name, ':')))
            *group++ = '\0';
        struct passwd *pw = getpwnam(name);
        struct group *gr = group ? getgrnam(group) : NULL;
        if (pw == NULL || (group && gr == NULL))
            doc_error(L, path, "\"%s\": no such %s on this host", s, pw ? "group" : "user");
        snprintf(user, sizeof user, "%u:%u", (unsigned)pw->pw_uid, (unsigned)(gr ? gr->gr_gid : pw->pw_gid));
    } else {
        doc_error(L, path,
                  "\"%s\": expected uid:UID[:GID] or host:USER[:GROUP] (cell:USER is not supported: a cell "
                  "has no user database when it is declared)",
                  s);
    }
    arg2(args, "--user", user);
}

/* ---- cell documents ------------------------------------------------------------ */

static void cell_create(lua_State *L, int t, json_t *args)
{
    static const char *const keys[] = {"profile", "reserved_ports", "rlimit_nofile", "rlimit_as", "rlimit_core", NULL};
    check_keys(L, t, "create", keys);
    if (lua_getfield(L, t, "profile") != LUA_TNIL) {
        const char *s = need_text(L, -1, "create.profile", "high, medium or low");
        enum cell_profile p;
        CHECKED(cell_parse_profile(s, &p, &e_), "create.profile");
        arg2(args, "--profile", s);
    }
    lua_pop(L, 1);
    if (lua_getfield(L, t, "reserved_ports") != LUA_TNIL)
        ports(L, -1, "create.reserved_ports");
    lua_pop(L, 1);
    static const char *const rl[] = {"nofile", "as", "core"};
    for (size_t i = 0; i < 3; i++) {
        char key[32], path[48], text[128];
        snprintf(key, sizeof key, "rlimit_%s", rl[i]);
        snprintf(path, sizeof path, "create.%s", key);
        if (lua_getfield(L, t, key) != LUA_TNIL) {
            const char *s = need_text(L, -1, path, "a limit such as \"4096\", \"1024:4096\" or \"unlimited\"");
            snprintf(text, sizeof text, "%s=%s", rl[i], s);
            enum cell_rlimit_name which;
            struct cell_rlimit r;
            CHECKED(cell_parse_rlimit(text, &which, &r, &e_), path);
            arg2(args, "--rlimit", text);
        }
        lua_pop(L, 1);
    }
}

static void cell_log_keys(lua_State *L, int t, json_t *args)
{
    static const char *const keys[] = {"facility", "stdout_level", "stderr_level", "tag", NULL};
    check_keys(L, t, "supervise.log", keys);
    const char *v[4] = {"daemon", "notice", "err", NULL};
    for (int i = 0; i < 4; i++) {
        char path[48];
        snprintf(path, sizeof path, "supervise.log.%s", keys[i]);
        if (lua_getfield(L, t, keys[i]) != LUA_TNIL)
            v[i] = need_text(L, -1, path, "a name");
        lua_pop(L, 1);
    }
    /* values stay valid: the table holds them */
    char levels[96];
    snprintf(levels, sizeof levels, "%s,%s", v[1], v[2]);
    arg2(args, "--syslog-facility", v[0]);
    arg2(args, "--syslog-levels", levels);
    if (v[3])
        arg2(args, "--syslog-tag", v[3]);
}

static void cell_supervise(lua_State *L, int t, json_t *args, const char **cmd)
{
    static const char *const keys[] = {"cmd", "run_as", "log", NULL};
    check_keys(L, t, "supervise", keys);
    if (lua_getfield(L, t, "cmd") == LUA_TNIL)
        doc_error(L, "supervise.cmd", "missing: the command to run (as /bin/sh -c CMD)");
    *cmd = need_text(L, -1, "supervise.cmd", "a shell command");
    if (**cmd == '\0')
        doc_error(L, "supervise.cmd", "empty: give the command to run");
    lua_pop(L, 1);
    if (lua_getfield(L, t, "run_as") != LUA_TNIL)
        run_as(L, -1, "supervise.run_as", args);
    lua_pop(L, 1);
    if (lua_getfield(L, t, "log") != LUA_TNIL) {
        if (!lua_istable(L, -1))
            doc_error(L, "supervise.log", "expected a table, got a %s", luaL_typename(L, -1));
        cell_log_keys(L, lua_absindex(L, -1), args);
    }
    lua_pop(L, 1);
}

/* Two mount targets overlap when one is the other or lies below it. */
static bool overlaps(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b), n = na < nb ? na : nb;
    return strncmp(a, b, n) == 0 && (na == nb || (na < nb ? b[na] : a[nb]) == '/');
}

static void cell_mounts(lua_State *L, int t, json_t *args, json_t *volume_mounts)
{
    struct loader *ld = loader_of(L);
    if (!lua_istable(L, t))
        doc_error(L, "mounts", "expected a list of volume(...) and host(...), got a %s", luaL_typename(L, t));
    lua_Integer n = (lua_Integer)lua_rawlen(L, t);
    char targets[32][PATH_MAX];
    if (n > 32)
        doc_error(L, "mounts", "more than 32 mounts");
    for (lua_Integer i = 1; i <= n; i++) {
        char path[48];
        snprintf(path, sizeof path, "mounts[%lld]", (long long)i);
        lua_rawgeti(L, t, i);
        int m = lua_absindex(L, -1);
        if (!lua_istable(L, m) || lua_getfield(L, m, "mount") != LUA_TSTRING)
            doc_error(L, path, "expected volume(NAME, {target=...}) or host(PATH, {target=...})");
        const char *kind = lua_tostring(L, -1);
        lua_getfield(L, m, "source");
        const char *source = lua_tostring(L, -1);
        lua_getfield(L, m, "target");
        const char *target = lua_tostring(L, -1);
        lua_getfield(L, m, "mode");
        const char *mode = lua_isnil(L, -1) ? "rw" : lua_tostring(L, -1);
        if (target == NULL || target[0] != '/')
            doc_error(L, path, "target: an absolute path is needed");
        if (strcmp(target, "/") == 0 || overlaps(target, "/dev") || strstr(target, "/.."))
            doc_error(L, path, "target \"%s\" is not allowed (/, /dev and .. are refused)", target);
        if (mode == NULL || (strcmp(mode, "ro") != 0 && strcmp(mode, "rw") != 0))
            doc_error(L, path, "mode: \"ro\" or \"rw\"");
        for (lua_Integer j = 1; j < i; j++)
            if (overlaps(targets[j - 1], target))
                doc_error(L, path, "target \"%s\" overlaps mounts[%lld]'s \"%s\"", target, (long long)j,
                          targets[j - 1]);
        snprintf(targets[i - 1], sizeof targets[i - 1], "%s", target);
        char bind[PATH_MAX * 2 + 8];
        if (strcmp(kind, "volume") == 0) {
            /* bound by apply, which makes the volume's directory first */
            json_t *vm = json_object();
            json_object_set_new(vm, "volume", json_string(source));
            json_object_set_new(vm, "target", json_string(target));
            json_object_set_new(vm, "mode", json_string(mode));
            json_object_set_new(vm, "source", json_sprintf("%s/%s", ld->volumes_dir, source));
            json_array_append_new(volume_mounts, vm);
            lua_pop(L, 5);
            continue;
        } else {
            if (source == NULL || source[0] != '/')
                doc_error(L, path, "host path: an absolute path is needed");
            snprintf(bind, sizeof bind, "%s:%s:%s", source, target, mode);
        }
        arg2(args, "--bind", bind);
        lua_pop(L, 5);
    }
}

static void cell_limits(lua_State *L, int t, json_t *args)
{
    static const char *const keys[] = {"memory", "pids", "cpu", NULL};
    check_keys(L, t, "limits", keys);
    if (lua_getfield(L, t, "memory") != LUA_TNIL) {
        const char *s = need_text(L, -1, "limits.memory", "a size such as \"64M\"");
        uint64_t b;
        CHECKED(cell_parse_size(s, &b, &e_), "limits.memory");
        arg2(args, "--memory", s);
    }
    lua_pop(L, 1);
    if (lua_getfield(L, t, "pids") != LUA_TNIL) {
        const char *s = need_text(L, -1, "limits.pids", "a number of processes");
        uint64_t n;
        CHECKED(cell_parse_uint(s, 4194304, "limits.pids", &n, &e_), "limits.pids");
        arg2(args, "--pids", s);
    }
    lua_pop(L, 1);
    if (lua_getfield(L, t, "cpu") != LUA_TNIL) {
        const char *s = need_text(L, -1, "limits.cpu", "a number of CPUs such as 0.5");
        uint64_t m;
        CHECKED(cell_parse_cpus(s, &m, &e_), "limits.cpu");
        arg2(args, "--cpus", s);
    }
    lua_pop(L, 1);
}

static void cell_restart(lua_State *L, int idx, json_t *args)
{
    if (!lua_istable(L, idx)) {
        const char *s = need_text(L, idx, "restart", "always, on-failure or never, or a table");
        enum cell_restart_policy p;
        CHECKED(cell_parse_restart(s, &p, &e_), "restart");
        arg2(args, "--restart", s);
        return;
    }
    static const char *const keys[] = {"policy",        "delay",       "max_delay",    "stable_after",
                                       "backoff_reset", "crash_limit", "crash_window", NULL};
    static const char *const flags[] = {"--restart",       "--restart-delay", "--restart-max-delay", "--stable-after",
                                        "--backoff-reset", "--crash-limit",   "--crash-window"};
    int t = lua_absindex(L, idx);
    check_keys(L, t, "restart", keys);
    for (int i = 0; keys[i]; i++) {
        char path[48];
        snprintf(path, sizeof path, "restart.%s", keys[i]);
        if (lua_getfield(L, t, keys[i]) != LUA_TNIL) {
            if (i == 0) {
                const char *s = need_text(L, -1, path, "always, on-failure or never");
                enum cell_restart_policy p;
                CHECKED(cell_parse_restart(s, &p, &e_), path);
                arg2(args, flags[i], s);
            } else if (i == 5) {
                const char *s = need_text(L, -1, path, "a number");
                uint64_t n;
                CHECKED(cell_parse_uint(s, 1000000, path, &n, &e_), path);
                arg2(args, flags[i], s);
            } else {
                duration(L, -1, path, flags[i], args);
            }
        }
        lua_pop(L, 1);
    }
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void cell_env(lua_State *L, int t, json_t *args)
{
    if (!lua_istable(L, t))
        doc_error(L, "env", "expected a table of NAME = \"value\"");
    json_t *sorted = json_object();
    lua_pushnil(L);
    while (lua_next(L, t)) {
        if (lua_type(L, -2) != LUA_TSTRING) {
            json_decref(sorted);
            doc_error(L, "env", "a key is not a name");
        }
        const char *k = lua_tostring(L, -2);
        char path[96];
        snprintf(path, sizeof path, "env.%.80s", k);
        const char *v = scalar_text(L, lua_absindex(L, -1));
        if (v == NULL || strchr(k, '=') || *k == '\0') {
            json_decref(sorted);
            doc_error(L, path, "expected NAME = \"value\" (a string)");
        }
        json_object_set_new(sorted, k, json_string(v));
        lua_pop(L, 1);
    }
    /* in name order: the same file gives the same declaration */
    size_t n = json_object_size(sorted), i = 0;
    const char **keys = calloc(n ? n : 1, sizeof *keys);
    const char *k;
    json_t *v;
    json_object_foreach(sorted, k, v)
    {
        if (keys)
            keys[i++] = k;
    }
    if (keys)
        qsort(keys, n, sizeof *keys, compare_names);
    for (i = 0; keys && i < n; i++) {
        char kv[8192];
        snprintf(kv, sizeof kv, "%s=%s", keys[i], json_string_value(json_object_get(sorted, keys[i])));
        arg2(args, "--env", kv);
    }
    free(keys);
    json_decref(sorted);
}

static char *xstrdup(lua_State *L, const char *s)
{
    char *d = strdup(s);
    if (d == NULL)
        luaL_error(L, "not enough memory");
    return d;
}

static int doc_cell(lua_State *L)
{
    struct loader *ld = loader_of(L);
    caller_position(L, ld);
    ld->kind = "cell";
    ld->name = lua_type(L, 1) == LUA_TSTRING ? lua_tostring(L, 1) : NULL;
    if (ld->name == NULL || !cell_name_valid(ld->name))
        doc_error(L, NULL, "the name must be 1-63 letters, digits, '-', '_' or '.'");
    /* the names so far, in a registry table: name -> index (no scan per cell) */
    lua_getfield(L, LUA_REGISTRYINDEX, CELL_NAMES);
    if (lua_getfield(L, -1, ld->name) == LUA_TNUMBER) {
        const struct cell_desired_cell *first = &ld->d->cells[lua_tointeger(L, -1)];
        doc_error(L, NULL, "declared twice (first at %s:%d)", first->file, first->line);
    }
    lua_pop(L, 2);
    if (!lua_istable(L, 2))
        doc_error(L, NULL, "expected cell(NAME, { ... })");
    static const char *const keys[] = {"autostart",   "create", "supervise",    "depends_on", "healthcheck", "mounts",
                                       "rootfs",      "limits", "network",      "env",        "restart",     "listen",
                                       "listen_type", "ttl",    "stop_timeout", NULL};
    check_keys(L, 2, NULL, keys);
    /* held: freed if an error longjmps out of here */
    json_t *args = hold(ld, json_array()), *depends = hold(ld, json_array()), *volumes = hold(ld, json_array());
    json_array_append_new(args, json_string("-d"));
    arg2(args, "--name", ld->name);
    bool autostart = true;
    const char *cmd = NULL;
    lua_getfield(L, 2, "autostart");
    if (!lua_isnil(L, -1)) {
        if (!lua_isboolean(L, -1))
            doc_error(L, "autostart", "expected true or false, got a %s", luaL_typename(L, -1));
        autostart = lua_toboolean(L, -1);
        if (!autostart)
            arg(args, "--no-autostart");
    }
    lua_pop(L, 1);
    if (lua_getfield(L, 2, "create") != LUA_TNIL) {
        if (!lua_istable(L, -1))
            doc_error(L, "create", "expected a table, got a %s", luaL_typename(L, -1));
        cell_create(L, lua_absindex(L, -1), args);
    }
    lua_pop(L, 1);
    if (lua_getfield(L, 2, "supervise") == LUA_TNIL)
        doc_error(L, "supervise", "missing: supervise = { cmd = \"...\" } says what the cell runs");
    if (!lua_istable(L, -1))
        doc_error(L, "supervise", "expected a table, got a %s", luaL_typename(L, -1));
    cell_supervise(L, lua_absindex(L, -1), args, &cmd);
    /* cmd lives in the supervise table, kept on the stack until the end */
    if (lua_getfield(L, 2, "depends_on") != LUA_TNIL) {
        if (!lua_istable(L, -1))
            doc_error(L, "depends_on", "expected a list of cell names");
        for (lua_Integer i = 1; i <= (lua_Integer)lua_rawlen(L, -1); i++) {
            lua_rawgeti(L, -1, i);
            const char *dep = lua_tostring(L, -1);
            if (lua_type(L, -1) != LUA_TSTRING || !cell_name_valid(dep))
                doc_error(L, "depends_on", "entry %lld is not a cell name", (long long)i);
            json_array_append_new(depends, json_string(dep));
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    if (lua_getfield(L, 2, "healthcheck") != LUA_TNIL)
        arg2(args, "--health", need_text(L, -1, "healthcheck", "a shell command"));
    lua_pop(L, 1);
    if (lua_getfield(L, 2, "mounts") != LUA_TNIL)
        cell_mounts(L, lua_absindex(L, -1), args, volumes);
    lua_pop(L, 1);
    if (lua_getfield(L, 2, "rootfs") != LUA_TNIL) {
        const char *s = need_text(L, -1, "rootfs", "an absolute directory");
        if (s[0] != '/')
            doc_error(L, "rootfs", "\"%s\" is not an absolute path", s);
        arg2(args, "--rootfs", s);
    }
    lua_pop(L, 1);
    if (lua_getfield(L, 2, "limits") != LUA_TNIL) {
        if (!lua_istable(L, -1))
            doc_error(L, "limits", "expected a table, got a %s", luaL_typename(L, -1));
        cell_limits(L, lua_absindex(L, -1), args);
    }
    lua_pop(L, 1);
    if (lua_getfield(L, 2, "network") != LUA_TNIL) {
        const char *s = need_text(L, -1, "network", "none or host");
        enum cell_net_mode m;
        CHECKED(cell_parse_net(s, &m, &e_), "network");
        arg2(args, "--net", s);
    }
    lua_pop(L, 1);
    if (lua_getfield(L, 2, "env") != LUA_TNIL)
        cell_env(L, lua_absindex(L, -1), args);
    lua_pop(L, 1);
    if (lua_getfield(L, 2, "restart") != LUA_TNIL)
        cell_restart(L, lua_absindex(L, -1), args);
    lua_pop(L, 1);
    bool listen = false;
    if (lua_getfield(L, 2, "listen") != LUA_TNIL) {
        if (lua_isboolean(L, -1)) {
            if ((listen = lua_toboolean(L, -1)))
                arg(args, "--listen");
        } else {
            listen = true;
            const char *s = need_text(L, -1, "listen", "true or an absolute socket path");
            if (s[0] != '/')
                doc_error(L, "listen", "\"%s\" is not an absolute path", s);
            char flag[PATH_MAX + 16];
            snprintf(flag, sizeof flag, "--listen=%s", s);
            arg(args, flag);
        }
    }
    lua_pop(L, 1);
    if (lua_getfield(L, 2, "listen_type") != LUA_TNIL) {
        const char *s = need_text(L, -1, "listen_type", "\"stream\" or \"seqpacket\"");
        if (strcmp(s, "stream") != 0 && strcmp(s, "seqpacket") != 0)
            doc_error(L, "listen_type", "\"%s\": give \"stream\" or \"seqpacket\" (for cell_listen servers)", s);
        if (!listen)
            doc_error(L, "listen_type", "only with listen = true or a socket path");
        arg2(args, "--listen-type", s);
    }
    lua_pop(L, 1);
    if (lua_getfield(L, 2, "ttl") != LUA_TNIL)
        duration(L, -1, "ttl", "--ttl", args);
    lua_pop(L, 1);
    if (lua_getfield(L, 2, "stop_timeout") != LUA_TNIL)
        duration(L, -1, "stop_timeout", "--stop-timeout", args);
    lua_pop(L, 1);
    arg(args, "--");
    arg(args, "/bin/sh");
    arg(args, "-c");
    arg(args, cmd);
    json_t *doc = to_json(L, 2, 0);
    if (doc == NULL)
        doc_error(L, NULL, "%s", ld->json_error);
    hold(ld, doc);
    lua_pop(L, 1); /* supervise */

    /* the whole declaration, as celld will read it */
    size_t n = json_array_size(args);
    char **argv = calloc(n + 2, sizeof *argv);
    struct cell_desired_cell c = {.args = args, .autostart = autostart, .depends_on = depends, .doc = doc};
    struct cell_err e = {0};
    int first = -1;
    cell_spec_init(&c.spec);
    if (argv) {
        argv[0] = "run";
        for (size_t i = 0; i < n; i++)
            argv[i + 1] = (char *)json_string_value(json_array_get(args, i));
        first = cell_spec_from_args((int)n + 1, argv, &c.spec, &e);
        if (first > 0 && (cell_spec_set_argv(&c.spec, argv + first, &e) < 0 || cell_spec_validate(&c.spec, &e) < 0))
            first = -1;
        free(argv);
    }
    struct cell_desired_cell *grown = realloc(ld->d->cells, (ld->d->ncells + 1) * sizeof *grown);
    if (grown)
        ld->d->cells = grown;
    if (first <= 0 || grown == NULL) {
        cell_spec_free(&c.spec);
        doc_error(L, NULL, "%s", e.msg[0] ? e.msg : "not enough memory");
    }
    let_go(ld);
    json_object_set_new(doc, "volume_mounts", volumes);
    c.name = xstrdup(L, ld->name);
    c.line = ld->line;
    c.file = xstrdup(L, ld->file);
    lua_getfield(L, LUA_REGISTRYINDEX, CELL_NAMES);
    lua_pushinteger(L, (lua_Integer)ld->d->ncells);
    lua_setfield(L, -2, c.name);
    lua_pop(L, 1);
    ld->d->cells[ld->d->ncells++] = c;
    return 0;
}

/* ---- volumes, mounts, apply ------------------------------------------------------ */

/* volume(NAME, {mode=...}) declares a volume; volume(NAME, {target=...})
 * inside mounts names one to mount. */
static int doc_volume(lua_State *L)
{
    struct loader *ld = loader_of(L);
    caller_position(L, ld);
    ld->kind = "volume";
    ld->name = lua_type(L, 1) == LUA_TSTRING ? lua_tostring(L, 1) : NULL;
    if (ld->name == NULL || !cell_name_valid(ld->name))
        doc_error(L, NULL, "the name must be 1-63 letters, digits, '-', '_' or '.'");
    if (!lua_isnoneornil(L, 2) && !lua_istable(L, 2))
        doc_error(L, NULL, "expected volume(NAME, { ... })");
    if (lua_istable(L, 2) && lua_getfield(L, 2, "target") != LUA_TNIL) { /* a mount */
        static const char *const keys[] = {"target", "mode", NULL};
        check_keys(L, 2, NULL, keys);
        lua_newtable(L);
        lua_pushstring(L, "volume");
        lua_setfield(L, -2, "mount");
        lua_pushvalue(L, 1);
        lua_setfield(L, -2, "source");
        lua_pushvalue(L, -2);
        lua_setfield(L, -2, "target");
        lua_getfield(L, 2, "mode");
        lua_setfield(L, -2, "mode");
        return 1;
    }
    static const char *const keys[] = {"mode", NULL};
    if (lua_istable(L, 2))
        check_keys(L, 2, NULL, keys);
    unsigned mode = 0755;
    if (lua_istable(L, 2) && lua_getfield(L, 2, "mode") != LUA_TNIL) {
        const char *s = lua_tostring(L, -1);
        char *end;
        unsigned long m = s ? strtoul(s, &end, 8) : 0;
        if (s == NULL || lua_type(L, -1) != LUA_TSTRING || *s == '\0' || *end || m > 07777)
            doc_error(L, "mode", "expected an octal mode such as \"0755\"");
        mode = (unsigned)m;
    }
    for (size_t i = 0; i < ld->d->nvolumes; i++)
        if (strcmp(ld->d->volumes[i].name, ld->name) == 0)
            doc_error(L, NULL, "declared twice (first at %s:%d)", ld->d->volumes[i].file, ld->d->volumes[i].line);
    struct cell_desired_volume *grown = realloc(ld->d->volumes, (ld->d->nvolumes + 1) * sizeof *grown);
    if (grown == NULL)
        return luaL_error(L, "not enough memory");
    ld->d->volumes = grown;
    grown[ld->d->nvolumes] = (struct cell_desired_volume){
        .name = xstrdup(L, ld->name), .file = xstrdup(L, ld->file), .line = ld->line, .mode = mode};
    ld->d->nvolumes++;
    return 0;
}

static int doc_host(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_newtable(L);
    lua_pushstring(L, "host");
    lua_setfield(L, -2, "mount");
    lua_pushstring(L, path);
    lua_setfield(L, -2, "source");
    lua_getfield(L, 2, "target");
    lua_setfield(L, -2, "target");
    lua_getfield(L, 2, "mode");
    lua_setfield(L, -2, "mode");
    return 1;
}

static int doc_apply(lua_State *L)
{
    struct loader *ld = loader_of(L);
    caller_position(L, ld);
    ld->kind = "apply";
    ld->name = lua_type(L, 1) == LUA_TSTRING ? lua_tostring(L, 1) : NULL;
    if (ld->name == NULL || !cell_name_valid(ld->name))
        doc_error(L, NULL, "the name must be the name of a cell");
    if (!lua_istable(L, 2))
        doc_error(L, NULL, "expected apply(NAME, { actions... })");
    for (size_t i = 0; i < ld->d->napplies; i++)
        if (strcmp(ld->d->applies[i].name, ld->name) == 0)
            doc_error(L, NULL, "declared twice (first at %s:%d)", ld->d->applies[i].file, ld->d->applies[i].line);
    lua_Integer n = (lua_Integer)lua_rawlen(L, 2);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, 2, i);
        if (!lua_istable(L, -1) || lua_getfield(L, -1, "action") != LUA_TSTRING) {
            char path[32];
            snprintf(path, sizeof path, "[%lld]", (long long)i);
            doc_error(L, path,
                      "expected an action: exec, dir, line, symlink, copy, untar, file, patch, template or "
                      "script");
        }
        lua_pop(L, 2);
    }
    json_t *actions = to_json(L, 2, 0);
    if (actions == NULL)
        doc_error(L, NULL, "%s", ld->json_error);
    if (!json_is_array(actions)) { /* {} */
        json_decref(actions);
        actions = json_array();
    }
    struct cell_desired_apply *grown = realloc(ld->d->applies, (ld->d->napplies + 1) * sizeof *grown);
    if (grown == NULL) {
        json_decref(actions);
        return luaL_error(L, "not enough memory");
    }
    ld->d->applies = grown;
    grown[ld->d->napplies++] = (struct cell_desired_apply){
        .name = xstrdup(L, ld->name), .file = xstrdup(L, ld->file), .line = ld->line, .actions = actions};
    return 0;
}

/* The action constructors and helpers, in Lua: each checks its arguments
 * and returns a plain table; error(..., 2) points at the caller's line. */
static const char prelude[] =
    "local function s(v, what, fn) if type(v) ~= 'string' then error(fn .. ': ' .. what .. ' must be a string', 3) end "
    "end\n"
    "local function o(v, fn) if v ~= nil and type(v) ~= 'table' then error(fn .. ': options must be a table', 3) end "
    "return v or {} end\n"
    "local function act(kind, t) t.action = kind return t end\n"
    "function from_env(name) s(name, 'the variable name', 'from_env') return { from_env = name } end\n"
    "function exec(cmd) s(cmd, 'the command', 'exec') return act('exec', { cmd = cmd }) end\n"
    "function dir(path, opt) s(path, 'the path', 'dir') return act('dir', { path = path, opts = o(opt, 'dir') }) end\n"
    "function line(path, text) s(path, 'the path', 'line') s(text, 'the line', 'line') return act('line', { path = "
    "path, text = text }) end\n"
    "function symlink(target, link) s(target, 'the target', 'symlink') s(link, 'the link', 'symlink') return "
    "act('symlink', { target = target, link = link }) end\n"
    "function copy(src, dst, opt) s(src, 'the source', 'copy') s(dst, 'the destination', 'copy') return act('copy', { "
    "src = src, dst = dst, opts = o(opt, 'copy') }) end\n"
    "function untar(src, dst, opt) s(src, 'the archive', 'untar') s(dst, 'the destination', 'untar') return "
    "act('untar', { src = src, dst = dst, opts = o(opt, 'untar') }) end\n"
    "function file(path, content, opt) s(path, 'the path', 'file') s(content, 'the content', 'file') return "
    "act('file', { path = path, content = content, opts = o(opt, 'file') }) end\n"
    "function patch(path, content, opt) s(path, 'the path', 'patch') s(content, 'the patch', 'patch') return "
    "act('patch', { path = path, content = content, opts = o(opt, 'patch') }) end\n"
    "function template(src, dst, opt) s(src, 'the template', 'template') s(dst, 'the destination', 'template') return "
    "act('template', { src = src, dst = dst, opts = o(opt, 'template') }) end\n"
    "function script(path, opt) s(path, 'the script', 'script') return act('script', { path = path, opts = o(opt, "
    "'script') }) end\n"
    "function pkg() error('pkg: there is no package action on Linux; install packages with exec(\"apt-get install -y "
    "...\")', 2) end\n";

static lua_State *new_state(struct loader *ld)
{
    lua_State *L = lua_newstate(limited_alloc, ld);
    if (L == NULL)
        return NULL;
    static const luaL_Reg libs[] = {{LUA_GNAME, luaopen_base},
                                    {LUA_TABLIBNAME, luaopen_table},
                                    {LUA_STRLIBNAME, luaopen_string},
                                    {LUA_MATHLIBNAME, luaopen_math},
                                    {LUA_UTF8LIBNAME, luaopen_utf8}};
    for (size_t i = 0; i < ARRAY_SIZE(libs); i++) {
        luaL_requiref(L, libs[i].name, libs[i].func, 1);
        lua_pop(L, 1);
    }
    static const char *const removed[] = {"dofile", "loadfile", "load", "require", "collectgarbage"};
    for (size_t i = 0; i < ARRAY_SIZE(removed); i++) {
        lua_pushnil(L);
        lua_setglobal(L, removed[i]);
    }
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, CELL_NAMES);
    lua_register(L, "cell", doc_cell);
    lua_register(L, "volume", doc_volume);
    lua_register(L, "host", doc_host);
    lua_register(L, "apply", doc_apply);
    lua_sethook(L, count_hook, LUA_MASKCOUNT, HOOK_EVERY);
    if (luaL_loadbufferx(L, prelude, sizeof prelude - 1, "=prelude", "t") != LUA_OK ||
        lua_pcall(L, 0, 0, 0) != LUA_OK) {
        lua_close(L);
        return NULL;
    }
    return L;
}

/* Run one file's text; -1 with err on any error. */
static int load_chunk(struct loader *ld, const char *file, const char *text, size_t len, struct cell_err *err)
{
    char chunkname[PATH_MAX + 2];
    snprintf(chunkname, sizeof chunkname, "=%s", file);
    /* "t": text only, never precompiled bytecode */
    int rc = luaL_loadbufferx(ld->L, text, len, chunkname, "t");
    if (rc == LUA_OK)
        rc = lua_pcall(ld->L, 0, 0, 0);
    if (rc == LUA_OK)
        return 0;
    drop_pending(ld);
    const char *msg = lua_tostring(ld->L, -1);
    cell_err_set(err, 0, "%s", msg ? msg : "an error without a message");
    if (rc == LUA_ERRMEM)
        cell_err_set(err, ENOMEM, "%s: used more than %zu bytes of memory", file, ld->mem_limit);
    lua_pop(ld->L, 1);
    return -1;
}

/* ---- checks across documents --------------------------------------------------- */

static int find_cell(const struct cell_desired *d, const char *name)
{
    for (size_t i = 0; i < d->ncells; i++)
        if (strcmp(d->cells[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* Depth-first search for a cycle through depends_on; 0 ok, -1 with err. */
static int visit(const struct cell_desired *d, size_t i, unsigned char *mark, struct cell_err *err)
{
    if (mark[i] == 2)
        return 0;
    const struct cell_desired_cell *c = &d->cells[i];
    if (mark[i] == 1)
        return cell_err_set(err, 0, "%s:%d: cell \"%s\": depends_on: a cycle leads back to it", c->file, c->line,
                            c->name);
    mark[i] = 1;
    size_t k;
    json_t *dep;
    json_array_foreach(c->depends_on, k, dep)
    {
        int j = find_cell(d, json_string_value(dep));
        if (j < 0)
            return cell_err_set(err, 0, "%s:%d: cell \"%s\": depends_on: no cell \"%s\" is declared", c->file, c->line,
                                c->name, json_string_value(dep));
        if (visit(d, (size_t)j, mark, err) < 0)
            return -1;
    }
    mark[i] = 2;
    return 0;
}

static int check_across(const struct cell_desired *d, struct cell_err *err)
{
    unsigned char *mark = calloc(d->ncells + 1, 1);
    if (mark == NULL)
        return cell_err_set(err, ENOMEM, "desired state");
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < d->ncells; i++)
        rc = visit(d, i, mark, err);
    free(mark);
    for (size_t i = 0; rc == 0 && i < d->ncells; i++) {
        const struct cell_desired_cell *c = &d->cells[i];
        size_t k;
        json_t *v;
        json_array_foreach(json_object_get(c->doc, "volume_mounts"), k, v)
        {
            const char *name = json_string_value(json_object_get(v, "volume"));
            bool found = false;
            for (size_t j = 0; j < d->nvolumes; j++)
                found |= strcmp(d->volumes[j].name, name) == 0;
            if (!found) {
                rc = cell_err_set(err, 0,
                                  "%s:%d: cell \"%s\": mounts: no volume \"%s\" is declared (volume(\"%s\", "
                                  "{mode = \"0755\"}))",
                                  c->file, c->line, c->name, name, name);
                break;
            }
        }
    }
    for (size_t i = 0; rc == 0 && i < d->napplies; i++)
        if (find_cell(d, d->applies[i].name) < 0)
            rc = cell_err_set(err, 0, "%s:%d: apply \"%s\": no cell \"%s\" is declared", d->applies[i].file,
                              d->applies[i].line, d->applies[i].name, d->applies[i].name);
    return rc;
}

/* Depth-first: dependencies first, then the cell (cycles were refused at
 * load, so marks only need "placed"). */
static void place(const struct cell_desired *d, size_t i, unsigned char *placed, size_t *order, size_t *n)
{
    if (placed[i])
        return;
    placed[i] = 1;
    size_t k;
    json_t *dep;
    json_array_foreach(d->cells[i].depends_on, k, dep)
    {
        int j = find_cell(d, json_string_value(dep));
        if (j >= 0)
            place(d, (size_t)j, placed, order, n);
    }
    order[(*n)++] = i;
}

int cell_desired_order(const struct cell_desired *d, size_t *order)
{
    unsigned char *placed = calloc(d->ncells + 1, 1);
    if (placed == NULL)
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < d->ncells; i++)
        place(d, i, placed, order, &n);
    free(placed);
    return 0;
}

/* ---- entry points ------------------------------------------------------------- */

static int loader_open(struct loader *ld, const struct cell_desired_opts *opts, struct cell_desired *out,
                       struct cell_err *err)
{
    memset(out, 0, sizeof *out);
    *ld = (struct loader){
        .d = out,
        .mem_limit = opts && opts->memory_bytes ? opts->memory_bytes : DEFAULT_MEMORY,
        .instr_limit = opts && opts->instructions ? opts->instructions : DEFAULT_INSTRUCTIONS,
        .volumes_dir = opts && opts->volumes_dir ? opts->volumes_dir : "/var/lib/cell/volumes",
    };
    ld->L = new_state(ld);
    if (ld->L == NULL)
        return cell_err_set(err, ENOMEM, "desired state: create the Lua state");
    return 0;
}

static int loader_close(struct loader *ld, int rc, struct cell_desired *out, struct cell_err *err)
{
    lua_close(ld->L);
    if (rc == 0)
        rc = check_across(out, err);
    if (rc < 0)
        cell_desired_free(out); /* all or nothing */
    return rc;
}

int cell_desired_load_text(const char *file, const char *text, size_t len, const struct cell_desired_opts *opts,
                           struct cell_desired *out, struct cell_err *err)
{
    struct loader ld;
    if (loader_open(&ld, opts, out, err) < 0)
        return -1;
    return loader_close(&ld, load_chunk(&ld, file, text, len, err), out, err);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_lua(const struct dirent *e)
{
    size_t n = strlen(e->d_name);
    return e->d_name[0] != '.' && n > 4 && strcmp(e->d_name + n - 4, ".lua") == 0;
}

int cell_desired_load(const char *dir, const struct cell_desired_opts *opts, struct cell_desired *out,
                      struct cell_err *err)
{
    memset(out, 0, sizeof *out);
    struct dirent **names;
    int n = scandir(dir, &names, is_lua, by_name);
    if (n < 0)
        return cell_err_set(err, errno, "desired state: read %s", dir);
    struct loader ld;
    int rc = loader_open(&ld, opts, out, err);
    for (int i = 0; i < n; i++) {
        if (rc == 0) {
            char path[PATH_MAX + 256];
            snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
            char *text = NULL;
            size_t len = 0;
            FILE *f = fopen(path, "re");
            if (f == NULL) {
                rc = cell_err_set(err, errno, "desired state: open %s", path);
            } else {
                text = malloc(1 << 20);
                len = text ? fread(text, 1, 1 << 20, f) : 0;
                if (text == NULL || !feof(f))
                    rc = cell_err_set(err, EFBIG, "desired state: %s: larger than 1 MiB", path);
                fclose(f);
            }
            if (rc == 0)
                rc = load_chunk(&ld, names[i]->d_name, text, len, err);
            free(text);
        }
        free(names[i]);
    }
    free(names);
    if (rc < 0 && ld.L == NULL)
        return -1;
    return loader_close(&ld, rc, out, err);
}

void cell_desired_free(struct cell_desired *d)
{
    for (size_t i = 0; i < d->ncells; i++) {
        free(d->cells[i].name);
        free(d->cells[i].file);
        json_decref(d->cells[i].args);
        json_decref(d->cells[i].depends_on);
        json_decref(d->cells[i].doc);
        cell_spec_free(&d->cells[i].spec);
    }
    for (size_t i = 0; i < d->nvolumes; i++) {
        free(d->volumes[i].name);
        free(d->volumes[i].file);
    }
    for (size_t i = 0; i < d->napplies; i++) {
        free(d->applies[i].name);
        free(d->applies[i].file);
        json_decref(d->applies[i].actions);
    }
    free(d->cells);
    free(d->volumes);
    free(d->applies);
    memset(d, 0, sizeof *d);
}
