/* state.c - what celld must not forget when it is killed, each file written
 * atomically (write, then rename):
 *
 *   <data>/cells/NAME.json  the declaration: the `cell run` arguments. Kept
 *                           until `cell rm`; celld, `cell down` and reboots
 *                           do not end it (`cell up` starts it again).
 *   <run>/cells/NAME.json   while the cell is up (running, stopping, backoff,
 *                           waiting): its state, restarts, and the running
 *                           instance as cell_instance_save() describes it.
 *
 * At start celld reads every declaration, and for each cell that was up
 * re-adopts its running instance (cells.c: cell_restore), or, when it ended
 * meanwhile, removes what it left and applies its restart policy. A runtime
 * file without a declaration is a cell whose declaration never completed:
 * its instance is killed and removed. */
#include "celld.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void state_path(char *out, size_t len, const char *dir, const char *name)
{
    snprintf(out, len, "%s/cells/%s.json", dir, name);
}

static void write_json(const char *path, json_t *o, bool durable)
{
    char *text = json_dumps(o, JSON_COMPACT);
    if (text == NULL || write_file_atomic(path, text, strlen(text), 0600, durable) < 0)
        cell_log(CELL_LOG_WARN, "celld: warning: write %s: %s (a restarted celld may not know this cell)", path,
                 strerror(errno));
    free(text);
}

int state_init(struct cell_err *err)
{
    char dir[PATH_MAX + 8];
    snprintf(dir, sizeof dir, "%s/cells", celld.paths.data);
    if (cell_mkdirs(dir, 0700, err) < 0)
        return -1;
    snprintf(dir, sizeof dir, "%s/cells", celld.paths.run);
    return cell_mkdirs(dir, 0700, err);
}

void state_save_declaration(const struct cell *c)
{
    char path[PATH_MAX + 64];
    state_path(path, sizeof path, celld.paths.data, c->name);
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(c->name));
    json_object_set(o, "args", c->args);
    write_json(path, o, true);
    json_decref(o);
}

void state_forget(const struct cell *c)
{
    char path[PATH_MAX + 64];
    state_path(path, sizeof path, celld.paths.data, c->name);
    unlink(path);
    state_path(path, sizeof path, celld.paths.run, c->name);
    unlink(path);
}

static bool is_up(enum cell_state s)
{
    return s == ST_RUNNING || s == ST_STOPPING || s == ST_BACKOFF || s == ST_WAITING;
}

void state_sync(const struct cell *c)
{
    if (c->dead || c->restoring)
        return;
    char path[PATH_MAX + 64];
    state_path(path, sizeof path, celld.paths.run, c->name);
    if (!is_up(c->state)) {
        unlink(path);
        return;
    }
    json_t *o = json_object();
    json_object_set_new(o, "state", json_string(cell_state_name(c->state)));
    json_object_set_new(o, "restarts", json_integer(c->restarts));
    json_object_set_new(o, "swaps", json_integer(c->swaps));
    json_object_set_new(o, "generation", json_integer(c->generation));
    json_object_set_new(o, "started_ms", json_integer((json_int_t)c->started_ms));
    json_object_set_new(o, "started_wall_ms", json_integer((json_int_t)c->started_wall_ms));
    json_object_set_new(o, "oom_kills", json_integer((json_int_t)c->oom_kills));
    json_object_set_new(o, "ttl_deadline_ms", json_integer((json_int_t)c->ttl_deadline_ms));
    json_object_set_new(o, "removing", json_boolean(c->removing));
    if (c->inst)
        json_object_set_new(o, "instance", cell_instance_save(c->inst));
    if (c->retiring)
        json_object_set_new(o, "retiring", cell_instance_save(c->retiring));
    write_json(path, o, false);
    json_decref(o);
}

static json_t *load_json(const char *path)
{
    json_error_t jerr;
    json_t *o = json_load_file(path, 0, &jerr);
    if (!json_is_object(o)) {
        cell_log(CELL_LOG_WARN, "celld: warning: %s: unreadable (%s); ignored", path, jerr.text);
        json_decref(o);
        return NULL;
    }
    return o;
}

/* NAME of DIR/NAME.json, or NULL for other entries (NAME.json.tmp: a write
 * that never completed). */
static const char *json_file_name(const struct dirent *e, char *name, size_t len)
{
    size_t n = strlen(e->d_name);
    if (n <= 5 || n - 5 >= len || strcmp(e->d_name + n - 5, ".json") != 0 || e->d_name[0] == '.')
        return NULL;
    memcpy(name, e->d_name, n - 5);
    name[n - 5] = '\0';
    return name;
}

/* Call fn(name, path, the file's JSON) for each NAME.json under BASE/cells
 * that reads as a JSON object. */
static void each_state_file(const char *base, void (*fn)(const char *name, const char *path, json_t *o))
{
    char dir[PATH_MAX + 8], path[PATH_MAX + 64], name[256];
    snprintf(dir, sizeof dir, "%s/cells", base);
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    for (struct dirent *e; (e = readdir(d));) {
        if (json_file_name(e, name, sizeof name) == NULL)
            continue;
        state_path(path, sizeof path, base, name);
        json_t *o = load_json(path);
        if (o)
            fn(name, path, o);
        json_decref(o);
    }
    closedir(d);
}

static void load_declaration(const char *name, const char *path, json_t *decl)
{
    struct cell *c;
    struct cell_err err = {0};
    const char *declared = json_string_value(json_object_get(decl, "name"));
    if (declared == NULL || strcmp(declared, name) != 0)
        cell_log(CELL_LOG_WARN, "celld: warning: %s: not the declaration of cell %s; ignored", path, name);
    else if (cell_declare(json_object_get(decl, "args"), false, &c, &err) < 0)
        cell_log(CELL_LOG_WARN, "celld: warning: %s: %s; ignored", path, err.msg);
}

static void load_runtime(const char *name, const char *path, json_t *rt)
{
    struct cell *c = cell_find(name);
    if (c) {
        cell_restore(c, rt);
        return;
    }
    /* no declaration: nothing may run under this name */
    cell_log(CELL_LOG_WARN, "celld: cell %s: not declared; what it left running is removed", name);
    json_t *inst[] = {json_object_get(rt, "instance"), json_object_get(rt, "retiring")};
    for (size_t i = 0; i < ARRAY_SIZE(inst); i++)
        if (json_is_object(inst[i]))
            cell_instance_discard(inst[i]);
    unlink(path);
}

void state_load(void)
{
    each_state_file(celld.paths.data, load_declaration);
    each_state_file(celld.paths.run, load_runtime);
}
