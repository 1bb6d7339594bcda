/* world.c - the three states of the cells side by side: desired (the Lua
 * files), applied (each runtime directory's applied.json) and running
 * (celld's status). apply, the views and the volume commands all read it
 * through world_load(); the state rules are here and only here. */
#include "cellman.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *cm_cell_state_name(enum cm_cell_state s)
{
    static const char *const names[] = {"managed", "parked", "pending", "declared", "orphaned", "unmanaged", "absent"};
    return names[s];
}

const char *cm_volume_state_name(enum cm_volume_state s)
{
    static const char *const names[] = {"managed", "pending", "orphaned", "absent"};
    return names[s];
}

struct cm_cell *world_cell(struct cm_world *w, const char *name)
{
    json_t *i = w->cell_index ? json_object_get(w->cell_index, name) : NULL;
    return i ? &w->cells[json_integer_value(i)] : NULL;
}

static int index_cells(struct cm_world *w, struct cell_err *err)
{
    json_decref(w->cell_index);
    w->cell_index = json_object();
    for (size_t i = 0; w->cell_index && i < w->ncells; i++)
        if (json_object_set_new(w->cell_index, w->cells[i].name, json_integer((json_int_t)i)) < 0)
            return cell_err_set(err, ENOMEM, "cell %s", w->cells[i].name);
    return w->cell_index ? 0 : cell_err_set(err, ENOMEM, "the cells' index");
}

struct cm_volume *world_volume(struct cm_world *w, const char *name)
{
    for (size_t i = 0; i < w->nvolumes; i++)
        if (strcmp(w->volumes[i].name, name) == 0)
            return &w->volumes[i];
    return NULL;
}

static struct cm_cell *add_cell(struct cm_world *w, const char *name, struct cell_err *err)
{
    struct cm_cell *c = world_cell(w, name);
    if (c)
        return c;
    struct cm_cell *grown = realloc(w->cells, (w->ncells + 1) * sizeof *grown);
    if (grown == NULL) {
        cell_err_set(err, ENOMEM, "cell %s", name);
        return NULL;
    }
    w->cells = grown;
    c = &w->cells[w->ncells];
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", name);
    if (w->cell_index == NULL)
        w->cell_index = json_object();
    if (w->cell_index == NULL || json_object_set_new(w->cell_index, c->name, json_integer((json_int_t)w->ncells)) < 0) {
        cell_err_set(err, ENOMEM, "cell %s", name);
        return NULL;
    }
    w->ncells++;
    return c;
}

static struct cm_volume *add_volume(struct cm_world *w, const char *name, struct cell_err *err)
{
    struct cm_volume *v = world_volume(w, name);
    if (v)
        return v;
    struct cm_volume *grown = realloc(w->volumes, (w->nvolumes + 1) * sizeof *grown);
    if (grown == NULL) {
        cell_err_set(err, ENOMEM, "volume %s", name);
        return NULL;
    }
    w->volumes = grown;
    v = &w->volumes[w->nvolumes++];
    memset(v, 0, sizeof *v);
    snprintf(v->name, sizeof v->name, "%s", name);
    return v;
}

static int by_entry_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_named_dir(const struct dirent *e)
{
    return (e->d_type == DT_DIR || e->d_type == DT_UNKNOWN) && cell_name_valid(e->d_name);
}

/* Each directory of `dir` whose name is a valid name, sorted; calls `add`. */
static int each_dir(const char *dir, int (*add)(struct cm_world *, const char *, const char *, struct cell_err *),
                    struct cm_world *w, struct cell_err *err)
{
    struct dirent **names;
    int n = scandir(dir, &names, is_named_dir, by_entry_name);
    if (n < 0)
        return errno == ENOENT ? 0 : cell_err_set(err, errno, "read %s", dir);
    int rc = 0;
    for (int i = 0; i < n; i++) {
        char path[PATH_MAX + 256];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
        if (rc == 0 && lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
            rc = add(w, path, names[i]->d_name, err);
        free(names[i]);
    }
    free(names);
    return rc;
}

static int add_runtime_dir(struct cm_world *w, const char *path, const char *name, struct cell_err *err)
{
    struct cm_cell *c = add_cell(w, name, err);
    if (c == NULL)
        return -1;
    c->runtime_dir = true;
    char file[PATH_MAX + 32];
    snprintf(file, sizeof file, "%s/applied.json", path);
    json_error_t jerr;
    c->applied = json_load_file(file, 0, &jerr);
    if (c->applied == NULL && access(file, F_OK) == 0)
        cell_log(CELL_LOG_WARN, "cell: warning: %s: %s (the cell counts as never applied)", file, jerr.text);
    return 0;
}

static int add_volume_dir(struct cm_world *w, const char *path, const char *name, struct cell_err *err)
{
    struct cm_volume *v = add_volume(w, name, err);
    struct stat st;
    if (v == NULL)
        return -1;
    if (stat(path, &st) == 0) {
        v->present = true;
        v->mode = st.st_mode & 07777;
    }
    return 0;
}

static bool status_up(json_t *status)
{
    const char *s = json_string_value(json_object_get(status, "state"));
    return s && strcmp(s, "exited") != 0 && strcmp(s, "failed") != 0;
}

static const char *applied_hash(const struct cm_cell *c, const char *which)
{
    return json_string_value(json_object_get(json_object_get(c->applied, "hashes"), which));
}

static bool same_hash(const struct cm_cell *c, const char *which, const char *desired)
{
    const char *h = applied_hash(c, which);
    return h && strcmp(h, desired) == 0;
}

enum cm_cell_state world_cell_state(const struct cm_cell *c, bool know_runtime)
{
    if (c->desired == NULL)
        return c->runtime_dir ? CM_CELL_ORPHANED : c->status ? CM_CELL_UNMANAGED : CM_CELL_ABSENT;
    if (!c->runtime_dir)
        return CM_CELL_DECLARED;
    bool applied = c->applied && same_hash(c, "service", c->hashes.service) &&
                   same_hash(c, "policy", c->hashes.policy) && same_hash(c, "apply", c->hashes.apply);
    if (!applied || (know_runtime && c->running != c->desired->autostart))
        return CM_CELL_PENDING;
    return c->desired->autostart ? CM_CELL_MANAGED : CM_CELL_PARKED;
}

static int load_desired(struct cm *cm, unsigned what, struct cm_world *w, struct cell_err *err)
{
    struct cell_desired_opts opts = {.volumes_dir = cm->volumes};
    struct stat st;
    if ((what & CM_WORLD_NO_CONFIG_OK) && stat(cm->config, &st) < 0 && errno == ENOENT)
        return 0;
    if (cell_desired_load(cm->config, &opts, &w->desired, err) < 0) {
        if (err->errnum == ENOENT)
            cell_err_set(err, 0, "no desired state: %s does not exist (write *.lua files there, or give --config DIR)",
                         cm->config);
        return -1;
    }
    for (size_t i = 0; i < w->desired.ncells; i++) {
        const struct cell_desired_cell *d = &w->desired.cells[i];
        struct cm_cell *c = add_cell(w, d->name, err);
        if (c == NULL || cell_desired_hash(&w->desired, d, cm->config, &c->hashes, err) < 0)
            return -1;
        c->desired = d;
    }
    for (size_t i = 0; i < w->desired.nvolumes; i++) {
        struct cm_volume *v = add_volume(w, w->desired.volumes[i].name, err);
        if (v == NULL)
            return -1;
        v->desired = &w->desired.volumes[i];
    }
    return 0;
}

static int by_cell_name(const void *a, const void *b)
{
    return strcmp(((const struct cm_cell *)a)->name, ((const struct cm_cell *)b)->name);
}

static int by_volume_name(const void *a, const void *b)
{
    return strcmp(((const struct cm_volume *)a)->name, ((const struct cm_volume *)b)->name);
}

int world_load(struct cm *cm, unsigned what, struct cm_world *w, struct cell_err *err)
{
    memset(w, 0, sizeof *w);
    if ((what & CM_WORLD_DESIRED) && load_desired(cm, what, w, err) < 0)
        goto fail;
    size_t ndeclared = w->ncells, ndeclared_volumes = w->nvolumes;
    if (each_dir(cm->cells, add_runtime_dir, w, err) < 0 || each_dir(cm->volumes, add_volume_dir, w, err) < 0)
        goto fail;
    if (what & CM_WORLD_RUNTIME) {
        json_t *list = cm_celld_status(cm, &w->celld_running, err);
        if (list == NULL)
            goto fail;
        size_t i;
        json_t *s;
        json_array_foreach(list, i, s)
        {
            const char *name = json_string_value(json_object_get(s, "name"));
            struct cm_cell *c = name ? add_cell(w, name, err) : NULL;
            if (name && c == NULL) {
                json_decref(list);
                goto fail;
            }
            if (c) {
                c->status = json_incref(s);
                c->running = status_up(s);
            }
        }
        json_decref(list);
    }
    /* the declared first, in declaration order; the rest by name */
    if (w->ncells > ndeclared) /* qsort wants a real array, even of nothing */
        qsort(w->cells + ndeclared, w->ncells - ndeclared, sizeof *w->cells, by_cell_name);
    if (index_cells(w, err) < 0)
        goto fail;
    if (w->nvolumes > ndeclared_volumes)
        qsort(w->volumes + ndeclared_volumes, w->nvolumes - ndeclared_volumes, sizeof *w->volumes, by_volume_name);
    for (size_t i = 0; i < w->ncells; i++)
        w->cells[i].state = world_cell_state(&w->cells[i], what & CM_WORLD_RUNTIME);
    for (size_t i = 0; i < w->nvolumes; i++) {
        struct cm_volume *v = &w->volumes[i];
        if (v->desired)
            v->state = v->present && v->mode == v->desired->mode ? CM_VOLUME_MANAGED : CM_VOLUME_PENDING;
        else
            v->state = v->present ? CM_VOLUME_ORPHANED : CM_VOLUME_ABSENT;
    }
    return 0;
fail:
    world_free(w);
    return -1;
}

void world_free(struct cm_world *w)
{
    for (size_t i = 0; i < w->ncells; i++) {
        json_decref(w->cells[i].applied);
        json_decref(w->cells[i].status);
    }
    free(w->cells);
    json_decref(w->cell_index);
    free(w->volumes);
    cell_desired_free(&w->desired);
    memset(w, 0, sizeof *w);
}

json_t *world_declaration(struct cm *cm, const struct cell_desired_cell *c)
{
    json_t *out = json_array();
    size_t i;
    json_t *a;
    bool added = false;
    json_array_foreach(c->args, i, a)
    {
        if (!added && strcmp(json_string_value(a), "--") == 0) {
            json_array_append_new(out, json_string("--layer"));
            json_array_append_new(out, json_sprintf("%s/%s", cm->cells, c->name));
            size_t k;
            json_t *m;
            json_array_foreach(json_object_get(c->doc, "volume_mounts"), k, m)
            {
                json_array_append_new(out, json_string("--bind"));
                json_array_append_new(out, json_sprintf("%s:%s:%s", json_string_value(json_object_get(m, "source")),
                                                        json_string_value(json_object_get(m, "target")),
                                                        json_string_value(json_object_get(m, "mode"))));
            }
            added = true;
        }
        json_array_append(out, a);
    }
    return out;
}
