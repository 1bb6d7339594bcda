/* views.c - the read views of the desired-state world: `cell list`, `cell
 * show`, `cell fields`, `cell status --view` and `cell volume list|show`.
 *
 * Everything a view can show is one row of a field table: its name, what it
 * means, the views that allow it, how it reads as text, and one function
 * that gets its value as JSON (typed; null when absent). The views are
 * compact, desired, runtime and merged (every field); each has default
 * columns. One printer turns the JSON values into aligned tables, TSV,
 * JSON, or show's "field: value" lines, for cells and volumes alike (and
 * for the field tables themselves: `cell fields`). */
#include "cellman.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum view { VIEW_COMPACT, VIEW_DESIRED, VIEW_RUNTIME, VIEW_MERGED, NVIEWS };
static const char *const view_names[NVIEWS] = {"compact", "desired", "runtime", "merged"};

#define IN_COMPACT (1u << VIEW_COMPACT)
#define IN_DESIRED (1u << VIEW_DESIRED)
#define IN_RUNTIME (1u << VIEW_RUNTIME)
#define IN_ALL (IN_COMPACT | IN_DESIRED | IN_RUNTIME)
/* every field is in the merged view */

/* How a value reads in a table (JSON output keeps the value as it is). */
enum text_form {
    TEXT_PLAIN,   /* strings as they are, YES/NO, lists joined with ',' */
    TEXT_NUMBER,  /* an integer, right-aligned */
    TEXT_AGE,     /* seconds: 45s, 5m3s, 2h4m, 3d1h */
    TEXT_SIZE,    /* bytes: 512B, 12.3M */
    TEXT_SECONDS, /* CPU seconds: 1.25s, then as an age */
    TEXT_MOUNTS,  /* volume mounts: VOLUME:TARGET:MODE,... */
};

struct view_ctx {
    struct cm *cm;
    struct cm_world *w;
    const struct kind *listed; /* `cell fields`: the kind whose fields are listed */
    enum view listed_view;     /* ... and the view asked for, or NVIEWS */
};

struct field {
    const char *name;
    unsigned views; /* IN_* besides merged */
    enum text_form form;
    /* its value (a new reference; null when absent) */
    json_t *(*get)(const struct view_ctx *x, const struct field *f, const void *item);
    const char *key; /* status_value, doc_text: which key; NULL */
    const char *description;
};

struct kind {
    const char *noun;       /* in errors: "cell NAME" */
    const char *fields_cmd; /* the command that lists its fields */
    const char *nowhere;    /* what a name that is nowhere is, and what to do */
    const struct field *fields;
    size_t nfields;
    const char *defaults[NVIEWS]; /* default columns of each view */
    unsigned world;               /* what world_load loads for them */
    /* the world's items: the i-th (NULL past the end), one by name (NULL
     * when nowhere); an absent one by name (malloc'd) */
    const void *(*nth)(const struct cm_world *w, size_t i);
    const void *(*find)(struct cm_world *w, const char *name);
    void *(*absent)(const char *name);
};

static json_t *or_null(json_t *borrowed)
{
    return borrowed ? json_incref(borrowed) : json_null();
}

/* Whether `name` is one of the comma-separated `list`. */
static bool in_list(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; p && *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0)
            return true;
        p = end ? end + 1 : NULL;
    }
    return false;
}

/* A number or a string as a JSON string (Lua keeps 4096 as a number). */
static json_t *as_string(json_t *v)
{
    if (json_is_string(v))
        return json_incref(v);
    if (json_is_integer(v))
        return json_sprintf("%lld", (long long)json_integer_value(v));
    if (json_is_real(v))
        return json_sprintf("%g", json_real_value(v));
    return json_null();
}

/* ---- cells -------------------------------------------------------------------- */

/* The desired document's key `a` (or a.b); NULL when absent or not declared. */
static json_t *doc_at(const struct cm_cell *c, const char *a, const char *b)
{
    json_t *v = c->desired ? json_object_get(c->desired->doc, a) : NULL;
    return b ? json_object_get(v, b) : v;
}

/* The value of option `opt` in celld's `cell run -d` arguments, or NULL. */
static const char *status_arg(const struct cm_cell *c, const char *opt)
{
    json_t *args = json_object_get(c->status, "args");
    size_t n = strlen(opt);
    for (size_t i = 0; i < json_array_size(args); i++) {
        const char *a = json_string_value(json_array_get(args, i));
        if (a == NULL || strcmp(a, "--") == 0)
            break;
        if (strcmp(a, opt) == 0)
            return json_string_value(json_array_get(args, i + 1));
        if (strncmp(a, opt, n) == 0 && a[n] == '=')
            return a + n + 1;
    }
    return NULL;
}

/* Key f->key of celld's status of it. */
static json_t *status_value(const struct view_ctx *x, const struct field *f, const void *item)
{
    return or_null(json_object_get(((const struct cm_cell *)item)->status, f->key));
}

/* Key f->key ("a" or "a.b") of its desired document, as text. */
static json_t *doc_text(const struct view_ctx *x, const struct field *f, const void *item)
{
    char a[64];
    snprintf(a, sizeof a, "%s", f->key);
    char *b = strchr(a, '.');
    if (b)
        *b++ = '\0';
    return as_string(doc_at(item, a, b));
}

static json_t *cell_name(const struct view_ctx *x, const struct field *f, const void *item)
{
    return json_string(((const struct cm_cell *)item)->name);
}

static json_t *cell_state(const struct view_ctx *x, const struct field *f, const void *item)
{
    return json_string(cm_cell_state_name(((const struct cm_cell *)item)->state));
}

static json_t *cell_running(const struct view_ctx *x, const struct field *f, const void *item)
{
    return json_boolean(((const struct cm_cell *)item)->running);
}

static json_t *cell_pid(const struct view_ctx *x, const struct field *f, const void *item)
{
    json_int_t pid = json_integer_value(json_object_get(((const struct cm_cell *)item)->status, "pid"));
    return pid > 0 ? json_integer(pid) : json_null();
}

static json_t *cell_cpu(const struct view_ctx *x, const struct field *f, const void *item)
{
    json_t *v = json_object_get(((const struct cm_cell *)item)->status, "cpu_usec");
    return json_is_integer(v) ? json_real((double)json_integer_value(v) / 1e6) : json_null();
}

static json_t *cell_age(const struct view_ctx *x, const struct field *f, const void *item)
{
    json_int_t ms = json_integer_value(json_object_get(((const struct cm_cell *)item)->status, "uptime_ms"));
    return ms > 0 ? json_integer(ms / 1000) : json_null();
}

static json_t *cell_root(const struct view_ctx *x, const struct field *f, const void *item)
{
    const struct cm_cell *c = item;
    if (c->desired)
        return or_null(doc_at(c, "rootfs", NULL));
    const char *rootfs = status_arg(c, "--rootfs");
    return rootfs ? json_string(rootfs) : json_null();
}

static json_t *cell_layer(const struct view_ctx *x, const struct field *f, const void *item)
{
    const struct cm_cell *c = item;
    const char *layer = status_arg(c, "--layer");
    if (layer)
        return json_string(layer);
    return c->desired || c->runtime_dir ? json_sprintf("%s/%s", x->cm->cells, c->name) : json_null();
}

static json_t *cell_autostart(const struct view_ctx *x, const struct field *f, const void *item)
{
    const struct cm_cell *c = item;
    return c->desired ? json_boolean(c->desired->autostart) : json_null();
}

static json_t *cell_profile(const struct view_ctx *x, const struct field *f, const void *item)
{
    const struct cm_cell *c = item;
    return c->desired ? json_string(cell_profile_label(c->desired->spec.profile)) : json_null();
}

/* "80,443" (or the number 80) as [80, 443] */
static json_t *cell_reserved_ports(const struct view_ctx *x, const struct field *f, const void *item)
{
    json_t *v = doc_at(item, "create", "reserved_ports");
    if (json_is_integer(v))
        return json_pack("[O]", v);
    if (!json_is_string(v))
        return json_null();
    json_t *ports = json_array();
    for (const char *p = json_string_value(v); *p;) {
        char *end;
        long port = strtol(p, &end, 10);
        if (end == p)
            break;
        json_array_append_new(ports, json_integer(port));
        p = *end == ',' ? end + 1 : end;
    }
    return ports;
}

/* {memory, pids, cpu} as declared, in that order */
static json_t *cell_limits(const struct view_ctx *x, const struct field *f, const void *item)
{
    json_t *limits = doc_at(item, "limits", NULL);
    if (json_object_size(limits) == 0)
        return json_null();
    json_t *out = json_object();
    static const char *const keys[] = {"memory", "pids", "cpu"};
    for (size_t i = 0; i < 3; i++) {
        json_t *v = json_object_get(limits, keys[i]);
        if (v)
            json_object_set(out, keys[i], v);
    }
    return out;
}

static json_t *cell_depends_on(const struct view_ctx *x, const struct field *f, const void *item)
{
    const struct cm_cell *c = item;
    return c->desired ? or_null(c->desired->depends_on) : json_null();
}

/* The declared command; for a cell run by hand, what celld runs. */
static json_t *cell_supervise_cmd(const struct view_ctx *x, const struct field *f, const void *item)
{
    const struct cm_cell *c = item;
    if (c->desired)
        return as_string(doc_at(c, "supervise", "cmd"));
    json_t *args = json_object_get(c->status, "args");
    size_t i = 0, n = json_array_size(args);
    while (i < n && strcmp(json_string_value(json_array_get(args, i)) ?: "", "--") != 0)
        i++;
    if (++i >= n)
        return json_null();
    const char *a0 = json_string_value(json_array_get(args, i));
    const char *a1 = json_string_value(json_array_get(args, i + 1));
    if (n - i == 3 && a0 && a1 && strcmp(a0, "/bin/sh") == 0 && strcmp(a1, "-c") == 0)
        return or_null(json_array_get(args, i + 2));
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (mem == NULL)
        return json_null();
    for (size_t k = i; k < n; k++)
        fprintf(mem, "%s%s", k > i ? " " : "", json_string_value(json_array_get(args, k)) ?: "");
    fclose(mem);
    json_t *out = json_string(text);
    free(text);
    return out ? out : json_null();
}

static json_t *cell_volume_mounts(const struct view_ctx *x, const struct field *f, const void *item)
{
    json_t *mounts = doc_at(item, "volume_mounts", NULL);
    if (mounts == NULL)
        return json_null();
    json_t *out = json_array();
    size_t i;
    json_t *m;
    json_array_foreach(mounts, i, m)
    {
        json_array_append_new(out, json_pack("{s:O?,s:O?,s:O?}", "volume", json_object_get(m, "volume"), "target",
                                             json_object_get(m, "target"), "mode", json_object_get(m, "mode")));
    }
    return out;
}

static json_t *cell_apply_present(const struct view_ctx *x, const struct field *f, const void *item)
{
    const struct cm_cell *c = item;
    if (c->desired == NULL)
        return json_null();
    for (size_t i = 0; i < x->w->desired.napplies; i++)
        if (strcmp(x->w->desired.applies[i].name, c->name) == 0)
            return json_true();
    return json_false();
}

static json_t *cell_applied_at(const struct view_ctx *x, const struct field *f, const void *item)
{
    return or_null(json_object_get(((const struct cm_cell *)item)->applied, "applied_at"));
}

static json_t *cell_declared_at(const struct view_ctx *x, const struct field *f, const void *item)
{
    const struct cm_cell *c = item;
    return c->desired ? json_sprintf("%s:%d", c->desired->file, c->desired->line) : json_null();
}

/* What apply would change: the parts whose hash differs from applied.json's
 * (the same parts as the state rule, world.c), and "run" when running is
 * not what autostart says. */
static json_t *cell_changes(const struct view_ctx *x, const struct field *f, const void *item)
{
    const struct cm_cell *c = item;
    if (c->desired == NULL)
        return json_null();
    json_t *out = json_array(), *applied = json_object_get(c->applied, "hashes");
    const struct {
        const char *part, *hash;
    } parts[] = {{"service", c->hashes.service}, {"policy", c->hashes.policy}, {"apply", c->hashes.apply}};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        const char *h = json_string_value(json_object_get(applied, parts[i].part));
        if (h == NULL || strcmp(h, parts[i].hash) != 0)
            json_array_append_new(out, json_string(parts[i].part));
    }
    if (c->running != c->desired->autostart)
        json_array_append_new(out, json_string("run"));
    return out;
}

static const struct field cell_fields[] = {
    {"name", IN_ALL, TEXT_PLAIN, cell_name, NULL, "the cell's name"},
    {"state", IN_ALL, TEXT_PLAIN, cell_state, NULL,
     "managed, parked (autostart off), pending (apply would change it), declared (never applied), orphaned (applied, "
     "no longer declared), unmanaged (cell run -d by hand), absent"},
    {"running", IN_COMPACT | IN_RUNTIME, TEXT_PLAIN, cell_running, NULL, "whether celld has it running (or starting)"},
    {"run_state", IN_RUNTIME, TEXT_PLAIN, status_value, "state",
     "celld's state of it: running, starting, stopping, backoff, waiting, exited, failed"},
    {"pid", IN_COMPACT | IN_RUNTIME, TEXT_NUMBER, cell_pid, NULL, "the process id of its instance on the host"},
    {"procs", IN_RUNTIME, TEXT_NUMBER, status_value, "procs", "how many processes it has"},
    {"cpu", IN_RUNTIME, TEXT_SECONDS, cell_cpu, NULL, "CPU time its processes used (JSON: seconds)"},
    {"memory", IN_RUNTIME, TEXT_SIZE, status_value, "memory_bytes", "resident memory of its processes (JSON: bytes)"},
    {"age", IN_COMPACT | IN_RUNTIME, TEXT_AGE, cell_age, NULL, "how long it has been up (JSON: seconds)"},
    {"health", IN_COMPACT | IN_RUNTIME, TEXT_PLAIN, status_value, "health", "none, starting, healthy or unhealthy"},
    {"restarts", IN_COMPACT | IN_RUNTIME, TEXT_NUMBER, status_value, "restarts", "how often celld restarted it"},
    {"exit_code", IN_RUNTIME, TEXT_NUMBER, status_value, "exit_code", "the exit status of its last instance"},
    {"root", IN_DESIRED | IN_RUNTIME, TEXT_PLAIN, cell_root, NULL,
     "its root directory (rootfs); - : the host's system directories, read-only"},
    {"layer", 0, TEXT_PLAIN, cell_layer, NULL, "its persistent layer on the host (<data>/cells/NAME)"},
    {"autostart", IN_COMPACT | IN_DESIRED, TEXT_PLAIN, cell_autostart, NULL, "whether cell up starts it"},
    {"profile", IN_DESIRED, TEXT_PLAIN, cell_profile, NULL, "its seccomp profile: high, medium or low"},
    {"reserved_ports", IN_COMPACT | IN_DESIRED, TEXT_PLAIN, cell_reserved_ports, NULL,
     "the ports reserved for it (create.reserved_ports)"},
    {"rlimit_nofile", IN_DESIRED, TEXT_PLAIN, doc_text, "create.rlimit_nofile", "create.rlimit_nofile"},
    {"rlimit_as", IN_DESIRED, TEXT_PLAIN, doc_text, "create.rlimit_as", "create.rlimit_as"},
    {"rlimit_core", IN_DESIRED, TEXT_PLAIN, doc_text, "create.rlimit_core", "create.rlimit_core"},
    {"limits", IN_DESIRED, TEXT_PLAIN, cell_limits, NULL, "its cgroup limits: memory, pids, cpu"},
    {"depends_on", IN_DESIRED, TEXT_PLAIN, cell_depends_on, NULL, "the cells started before it"},
    {"healthcheck", IN_DESIRED, TEXT_PLAIN, doc_text, "healthcheck", "its health check command"},
    {"supervise_cmd", IN_DESIRED, TEXT_PLAIN, cell_supervise_cmd, NULL, "the command it runs (/bin/sh -c CMD)"},
    {"supervise_run_as", IN_DESIRED, TEXT_PLAIN, doc_text, "supervise.run_as", "the user it runs as"},
    {"volume_mounts", IN_DESIRED, TEXT_MOUNTS, cell_volume_mounts, NULL, "its volumes: VOLUME:TARGET:MODE"},
    {"apply_present", IN_DESIRED, TEXT_PLAIN, cell_apply_present, NULL, "whether an apply document is declared for it"},
    {"applied_at", 0, TEXT_PLAIN, cell_applied_at, NULL, "when apply last applied it (applied.json)"},
    {"declared_at", IN_DESIRED, TEXT_PLAIN, cell_declared_at, NULL, "the file and line of its cell document"},
    {"changes", 0, TEXT_PLAIN, cell_changes, NULL,
     "what apply would change: service, policy, apply (their hashes differ from the applied ones), run (it is "
     "up while autostart is off, or down while on)"},
};

static const void *nth_cell(const struct cm_world *w, size_t i)
{
    return i < w->ncells ? &w->cells[i] : NULL;
}

static const void *find_cell(struct cm_world *w, const char *name)
{
    return world_cell(w, name);
}

static void *absent_cell(const char *name)
{
    struct cm_cell *c = calloc(1, sizeof *c);
    if (c) {
        snprintf(c->name, sizeof c->name, "%s", name);
        c->state = CM_CELL_ABSENT;
    }
    return c;
}

static const struct kind cells_kind = {
    .noun = "cell",
    .fields_cmd = "cell fields",
    .nowhere = "not declared, applied or supervised (cell list shows them)",
    .world = CM_WORLD_DESIRED | CM_WORLD_RUNTIME,
    .nth = nth_cell,
    .find = find_cell,
    .absent = absent_cell,
    .fields = cell_fields,
    .nfields = sizeof cell_fields / sizeof cell_fields[0],
    .defaults =
        {
            [VIEW_COMPACT] = "name,state,running,pid,health,restarts,age,autostart,reserved_ports",
            [VIEW_DESIRED] = "name,state,autostart,profile,reserved_ports,depends_on,supervise_cmd",
            [VIEW_RUNTIME] = "name,state,running,pid,procs,cpu,memory,age,health,restarts,root",
            [VIEW_MERGED] = "name,state,running,pid,health,restarts,age,autostart,reserved_ports,changes",
        },
};

/* ---- volumes ------------------------------------------------------------------ */

static json_t *volume_name(const struct view_ctx *x, const struct field *f, const void *item)
{
    return json_string(((const struct cm_volume *)item)->name);
}

static json_t *volume_state(const struct view_ctx *x, const struct field *f, const void *item)
{
    return json_string(cm_volume_state_name(((const struct cm_volume *)item)->state));
}

static json_t *volume_mode(const struct view_ctx *x, const struct field *f, const void *item)
{
    const struct cm_volume *v = item;
    return v->desired ? json_sprintf("%04o", v->desired->mode) : json_null();
}

static json_t *volume_mode_on_disk(const struct view_ctx *x, const struct field *f, const void *item)
{
    const struct cm_volume *v = item;
    return v->present ? json_sprintf("%04o", v->mode) : json_null();
}

static json_t *volume_present(const struct view_ctx *x, const struct field *f, const void *item)
{
    return json_boolean(((const struct cm_volume *)item)->present);
}

static json_t *volume_path(const struct view_ctx *x, const struct field *f, const void *item)
{
    return json_sprintf("%s/%s", x->cm->volumes, ((const struct cm_volume *)item)->name);
}

static json_t *volume_mounted_by(const struct view_ctx *x, const struct field *f, const void *item)
{
    const struct cm_volume *v = item;
    json_t *out = json_array();
    for (size_t i = 0; i < x->w->desired.ncells; i++) {
        const struct cell_desired_cell *c = &x->w->desired.cells[i];
        size_t k;
        json_t *m;
        json_array_foreach(json_object_get(c->doc, "volume_mounts"), k, m)
        {
            if (strcmp(json_string_value(json_object_get(m, "volume")) ?: "", v->name) == 0) {
                json_array_append_new(out, json_string(c->name));
                break;
            }
        }
    }
    return out;
}

static json_t *volume_declared_at(const struct view_ctx *x, const struct field *f, const void *item)
{
    const struct cm_volume *v = item;
    return v->desired ? json_sprintf("%s:%d", v->desired->file, v->desired->line) : json_null();
}

static const struct field volume_fields[] = {
    {"name", IN_ALL, TEXT_PLAIN, volume_name, NULL, "the volume's name"},
    {"state", IN_ALL, TEXT_PLAIN, volume_state, NULL,
     "managed, pending (missing, or another mode on disk), orphaned (on disk, no longer declared), absent"},
    {"mode", IN_COMPACT | IN_DESIRED, TEXT_PLAIN, volume_mode, NULL, "the declared mode"},
    {"mode_on_disk", IN_RUNTIME, TEXT_PLAIN, volume_mode_on_disk, NULL, "the mode of its directory"},
    {"present", IN_RUNTIME, TEXT_PLAIN, volume_present, NULL, "whether its directory exists"},
    {"path", IN_RUNTIME, TEXT_PLAIN, volume_path, NULL, "its directory on the host (<data>/volumes/NAME)"},
    {"mounted_by", IN_COMPACT | IN_DESIRED, TEXT_PLAIN, volume_mounted_by, NULL, "the declared cells that mount it"},
    {"declared_at", IN_DESIRED, TEXT_PLAIN, volume_declared_at, NULL, "the file and line of its volume document"},
};

static const void *nth_volume(const struct cm_world *w, size_t i)
{
    return i < w->nvolumes ? &w->volumes[i] : NULL;
}

static const void *find_volume(struct cm_world *w, const char *name)
{
    return world_volume(w, name);
}

static void *absent_volume(const char *name)
{
    struct cm_volume *v = calloc(1, sizeof *v);
    if (v) {
        snprintf(v->name, sizeof v->name, "%s", name);
        v->state = CM_VOLUME_ABSENT;
    }
    return v;
}

static const struct kind volumes_kind = {
    .noun = "volume",
    .fields_cmd = "cell fields --volume",
    .nowhere = "neither declared nor on disk (cell volume list shows them)",
    .world = CM_WORLD_DESIRED,
    .nth = nth_volume,
    .find = find_volume,
    .absent = absent_volume,
    .fields = volume_fields,
    .nfields = sizeof volume_fields / sizeof volume_fields[0],
    .defaults =
        {
            [VIEW_COMPACT] = "name,state,mode,mounted_by",
            [VIEW_DESIRED] = "name,state,mode,mounted_by,declared_at",
            [VIEW_RUNTIME] = "name,state,present,mode_on_disk,path",
            [VIEW_MERGED] = "name,state,mode,mode_on_disk,mounted_by",
        },
};

/* ---- the fields themselves (cell fields) --------------------------------------- */

static json_t *field_views(const struct view_ctx *x, const struct field *f, const void *item)
{
    const struct field *listed = item;
    json_t *out = json_array();
    for (int v = 0; v < NVIEWS; v++)
        if (v == VIEW_MERGED || (listed->views & (1u << v)))
            json_array_append_new(out, json_string(view_names[v]));
    return out;
}

static json_t *field_name(const struct view_ctx *x, const struct field *f, const void *item)
{
    return json_string(((const struct field *)item)->name);
}

static json_t *field_description(const struct view_ctx *x, const struct field *f, const void *item)
{
    return json_string(((const struct field *)item)->description);
}

static json_t *field_default(const struct view_ctx *x, const struct field *f, const void *item)
{
    if (x->listed_view == NVIEWS)
        return json_null();
    return json_boolean(in_list(x->listed->defaults[x->listed_view], ((const struct field *)item)->name));
}

static const struct field field_fields[] = {
    {"field", IN_ALL, TEXT_PLAIN, field_name, NULL, "the field's name (for -o)"},
    {"views", IN_ALL, TEXT_PLAIN, field_views, NULL, "the views that allow it"},
    {"default", IN_ALL, TEXT_PLAIN, field_default, NULL, "whether the view (--view) shows it without -o"},
    {"description", IN_ALL, TEXT_PLAIN, field_description, NULL, "what it shows"},
};

static const struct kind fields_kind = {
    .noun = "field",
    .fields_cmd = "cell fields --help",
    .fields = field_fields,
    .nfields = sizeof field_fields / sizeof field_fields[0],
};

/* ---- columns ---------------------------------------------------------------------- */

#define MAX_COLUMNS 64

static bool field_in_view(const struct field *f, enum view v)
{
    return v == VIEW_MERGED || (f->views & (1u << v));
}

static const struct field *find_field(const struct kind *k, const char *name)
{
    for (size_t i = 0; i < k->nfields; i++)
        if (strcmp(k->fields[i].name, name) == 0)
            return &k->fields[i];
    return NULL;
}

/* The columns of `list` (comma-separated); CM_USAGE after an error naming
 * the field when one is unknown or not in view `v`. */
static int pick_columns(const char *cmd, const struct kind *k, enum view v, const char *list, const struct field **cols,
                        size_t *ncols)
{
    *ncols = 0;
    for (const char *p = list; p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(len < sizeof name ? len : sizeof name - 1), p);
        p = end ? end + 1 : NULL;
        const struct field *f = find_field(k, name);
        if (len == 0) {
            cm_error("%s: -o \"%s\": an empty field name (give FIELD,FIELD,...; %s lists them)", cmd, list,
                     k->fields_cmd);
            return CM_USAGE;
        }
        if (f == NULL || len >= sizeof name) {
            cm_error("%s: -o: unknown field \"%s\" (%s lists them)", cmd, name, k->fields_cmd);
            return CM_USAGE;
        }
        if (!field_in_view(f, v)) {
            char allowed[1024] = "";
            for (size_t i = 0; i < k->nfields; i++)
                if (field_in_view(&k->fields[i], v))
                    snprintf(allowed + strlen(allowed), sizeof allowed - strlen(allowed), "%s%s", allowed[0] ? "," : "",
                             k->fields[i].name);
            cm_error("%s: field \"%s\" is not in the %s view (its fields: %s; %s lists them all)", cmd, name,
                     view_names[v], allowed, k->fields_cmd);
            return CM_USAGE;
        }
        if (*ncols == MAX_COLUMNS) {
            cm_error("%s: -o: more than %d fields", cmd, MAX_COLUMNS);
            return CM_USAGE;
        }
        cols[(*ncols)++] = f;
    }
    return CM_OK;
}

/* Every field of view `v`, in table order. */
static void view_columns(const struct kind *k, enum view v, const struct field **cols, size_t *ncols)
{
    *ncols = 0;
    for (size_t i = 0; i < k->nfields && *ncols < MAX_COLUMNS; i++)
        if (field_in_view(&k->fields[i], v))
            cols[(*ncols)++] = &k->fields[i];
}

/* ---- text ------------------------------------------------------------------------- */

static void put_age(FILE *f, long long s)
{
    if (s < 60)
        fprintf(f, "%llds", s);
    else if (s < 3600)
        fprintf(f, "%lldm%llds", s / 60, s % 60);
    else if (s < 86400)
        fprintf(f, "%lldh%lldm", s / 3600, s % 3600 / 60);
    else
        fprintf(f, "%lldd%lldh", s / 86400, s % 86400 / 3600);
}

static void put_size(FILE *f, double bytes)
{
    static const char units[] = "BKMGTPE";
    int u = 0;
    while (bytes >= 1024 && u < 6) {
        bytes /= 1024;
        u++;
    }
    if (u == 0)
        fprintf(f, "%.0fB", bytes);
    else
        fprintf(f, bytes < 100 ? "%.1f%c" : "%.0f%c", bytes, units[u]);
}

static void put_value(FILE *f, json_t *v, enum text_form form)
{
    switch (json_typeof(v)) {
    case JSON_NULL:
        fputc('-', f);
        return;
    case JSON_TRUE:
        fputs("YES", f);
        return;
    case JSON_FALSE:
        fputs("NO", f);
        return;
    case JSON_STRING:
        fputs(json_string_length(v) ? json_string_value(v) : "-", f);
        return;
    case JSON_INTEGER:
    case JSON_REAL: {
        double d = json_number_value(v);
        if (form == TEXT_AGE)
            put_age(f, (long long)d);
        else if (form == TEXT_SIZE)
            put_size(f, d);
        else if (form == TEXT_SECONDS && d < 60)
            fprintf(f, "%.2fs", d);
        else if (form == TEXT_SECONDS)
            put_age(f, (long long)d);
        else if (json_is_integer(v))
            fprintf(f, "%lld", (long long)json_integer_value(v));
        else
            fprintf(f, "%g", d);
        return;
    }
    case JSON_ARRAY: {
        if (json_array_size(v) == 0)
            fputc('-', f);
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
        {
            if (i)
                fputc(',', f);
            if (form == TEXT_MOUNTS)
                fprintf(f, "%s:%s:%s", json_string_value(json_object_get(e, "volume")) ?: "?",
                        json_string_value(json_object_get(e, "target")) ?: "?",
                        json_string_value(json_object_get(e, "mode")) ?: "rw");
            else
                put_value(f, e, form);
        }
        return;
    }
    case JSON_OBJECT: {
        if (json_object_size(v) == 0)
            fputc('-', f);
        const char *key;
        json_t *e;
        bool first = true;
        json_object_foreach(v, key, e)
        {
            fprintf(f, "%s%s=", first ? "" : ",", key);
            put_value(f, e, form);
            first = false;
        }
        return;
    }
    }
}

/* A value as table text (a new string, on one line), or NULL when out of memory. */
static char *value_text(json_t *v, enum text_form form)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (f == NULL)
        return NULL;
    put_value(f, v, form);
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    for (char *p = text; *p; p++)
        if ((unsigned char)*p < ' ')
            *p = ' ';
    return text;
}

/* ---- output ----------------------------------------------------------------------- */

struct view_opts {
    const char *cmd; /* "list", "volume show", ...: in errors */
    enum view view;
    bool view_given;
    const char *columns; /* -o, or NULL: the view's defaults */
    bool tsv, header, json;
    bool volume; /* cell fields --volume */
    char **names;
    int nnames;
};

/* Print `v` (a reference taken) as indented JSON. */
static int print_json(json_t *v, const struct view_opts *o)
{
    char *text = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    json_decref(v);
    if (text == NULL) {
        cm_error("%s: printing JSON: out of memory", o->cmd);
        return CM_FAILED;
    }
    printf("%s\n", text);
    free(text);
    return CM_OK;
}

/* One row per item, as JSON, TSV or an aligned table. */
static int print_rows(const struct view_ctx *x, const struct field *const *cols, size_t ncols, const void *const *items,
                      size_t n, const struct view_opts *o)
{
    if (o->json) {
        json_t *rows = json_array();
        for (size_t i = 0; i < n; i++) {
            json_t *row = json_object();
            for (size_t k = 0; k < ncols; k++)
                json_object_set_new(row, cols[k]->name, cols[k]->get(x, cols[k], items[i]));
            json_array_append_new(rows, row);
        }
        return print_json(rows, o);
    }
    char **texts = calloc((n + 1) * ncols, sizeof *texts);
    size_t width[MAX_COLUMNS] = {0};
    if (texts == NULL) {
        cm_error("%s: making the table: out of memory", o->cmd);
        return CM_FAILED;
    }
    int rc = CM_OK;
    for (size_t k = 0; k < ncols; k++) {
        char *h = strdup(cols[k]->name);
        for (char *p = h; p && *p && !o->tsv; p++)
            *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
        texts[k] = h;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < ncols; k++) {
            json_t *v = cols[k]->get(x, cols[k], items[i]);
            texts[(i + 1) * ncols + k] = value_text(v, cols[k]->form);
            json_decref(v);
        }
    for (size_t i = 0; i < (n + 1) * ncols; i++)
        if (texts[i] == NULL)
            rc = CM_FAILED;
    if (rc != CM_OK) {
        cm_error("%s: making the table: out of memory", o->cmd);
        goto out;
    }
    for (size_t i = o->header ? 0 : 1; i <= n; i++)
        for (size_t k = 0; k < ncols; k++) {
            size_t len = strlen(texts[i * ncols + k]);
            width[k] = len > width[k] ? len : width[k];
        }
    for (size_t i = o->header ? 0 : 1; i <= n; i++) {
        for (size_t k = 0; k < ncols; k++) {
            const char *t = texts[i * ncols + k];
            bool last = k + 1 == ncols;
            if (o->tsv)
                printf("%s%s", k ? "\t" : "", t);
            else if (cols[k]->form != TEXT_PLAIN && cols[k]->form != TEXT_MOUNTS)
                printf("%s%*s", k ? "  " : "", (int)width[k], t);
            else
                printf("%s%-*s", k ? "  " : "", last ? 0 : (int)width[k], t);
        }
        printf("\n");
    }
out:
    for (size_t i = 0; i < (n + 1) * ncols; i++)
        free(texts[i]);
    free(texts);
    return rc;
}

/* One item, field by field: "field: value" lines (TSV: "field\tvalue"), or
 * a JSON object. */
static int print_one(const struct view_ctx *x, const struct field *const *cols, size_t ncols, const void *item,
                     const struct view_opts *o)
{
    if (o->json) {
        json_t *obj = json_object();
        for (size_t k = 0; k < ncols; k++)
            json_object_set_new(obj, cols[k]->name, cols[k]->get(x, cols[k], item));
        return print_json(obj, o);
    }
    size_t width = 0;
    for (size_t k = 0; k < ncols; k++)
        width = strlen(cols[k]->name) > width ? strlen(cols[k]->name) : width;
    for (size_t k = 0; k < ncols; k++) {
        json_t *v = cols[k]->get(x, cols[k], item);
        char *t = value_text(v, cols[k]->form);
        json_decref(v);
        if (o->tsv)
            printf("%s\t%s\n", cols[k]->name, t ? t : "-");
        else
            printf("%s:%*s %s\n", cols[k]->name, (int)(width - strlen(cols[k]->name)), "", t ? t : "-");
        free(t);
    }
    return CM_OK;
}

/* ---- options ---------------------------------------------------------------------- */

static int parse_view(const char *cmd, const char *text, enum view *v)
{
    for (int i = 0; i < NVIEWS; i++)
        if (strcmp(text, view_names[i]) == 0) {
            *v = (enum view)i;
            return CM_OK;
        }
    cm_error("%s: unknown view \"%s\" (views: compact, desired, runtime, merged)", cmd, text);
    return CM_USAGE;
}

/* The view options of every command here. `accepts`: which other options
 * the command takes ("o": -o, "T": -T and -H, "v": --volume); names: at
 * most `max_names` (-1: any). -1 after printing help (exit 0), else CM_OK
 * or CM_USAGE. */
static int parse_opts(int argc, char **argv, const char *accepts, int max_names, void (*help)(void),
                      struct view_opts *o)
{
    o->view = VIEW_MERGED;
    o->header = true;
    o->names = calloc((size_t)argc + 1, sizeof *o->names);
    if (o->names == NULL) {
        cm_error("%s: reading its arguments: out of memory", o->cmd);
        return CM_FAILED;
    }
    bool only_names = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (only_names || a[0] != '-' || a[1] == '\0') {
            if (max_names >= 0 && o->nnames >= max_names) {
                cm_error("%s: unexpected argument \"%s\" (see cell %s --help)", o->cmd, a, o->cmd);
                return CM_USAGE;
            }
            o->names[o->nnames++] = argv[i];
        } else if (strcmp(a, "--") == 0) {
            only_names = true;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            help();
            return -1;
        } else if (strcmp(a, "--view") == 0 || strncmp(a, "--view=", 7) == 0) {
            const char *v = a[6] == '=' ? a + 7 : i + 1 < argc ? argv[++i] : NULL;
            if (v == NULL) {
                cm_error("%s: --view needs a view: compact, desired, runtime or merged", o->cmd);
                return CM_USAGE;
            }
            if (parse_view(o->cmd, v, &o->view) != CM_OK)
                return CM_USAGE;
            o->view_given = true;
        } else if (strcmp(a, "--json") == 0) {
            o->json = true;
        } else if (strcmp(a, "-o") == 0 && strchr(accepts, 'o')) {
            if (i + 1 >= argc) {
                cm_error("%s: -o needs FIELD,FIELD,... (see cell %s --help)", o->cmd, o->cmd);
                return CM_USAGE;
            }
            o->columns = argv[++i];
        } else if (strcmp(a, "-T") == 0 && strchr(accepts, 'T')) {
            o->tsv = true;
        } else if (strcmp(a, "-H") == 0 && strchr(accepts, 'T')) {
            o->header = false;
        } else if (strcmp(a, "--volume") == 0 && strchr(accepts, 'v')) {
            o->volume = true;
        } else {
            cm_error("%s: unknown option \"%s\" (see cell %s --help)", o->cmd, a, o->cmd);
            return CM_USAGE;
        }
    }
    if (o->json && (o->tsv || !o->header)) {
        cm_error("%s: --json and -T/-H conflict: pick one output", o->cmd);
        return CM_USAGE;
    }
    return CM_OK;
}

/* The columns the options ask for: -o, else the view's defaults (`all`:
 * every field of the view, as show does). */
static int columns_of(const struct kind *k, const struct view_opts *o, bool all, const struct field **cols,
                      size_t *ncols)
{
    if (o->columns)
        return pick_columns(o->cmd, k, o->view, o->columns, cols, ncols);
    if (all) {
        view_columns(k, o->view, cols, ncols);
        return CM_OK;
    }
    return pick_columns(o->cmd, k, o->view, k->defaults[o->view], cols, ncols);
}

static void view_help(const struct kind *k)
{
    printf("views (--view) and their default columns:\n");
    for (int v = 0; v < NVIEWS; v++)
        printf("  %-8s %s\n", view_names[v], k->defaults[v]);
    printf("'%s' lists every field and the views that allow it.\n", k->fields_cmd);
}

static const char *const output_help = "  --view V   compact, desired, runtime or merged (default merged)\n"
                                       "  -o FIELDS  the columns, comma-separated, in that order (only the view's)\n"
                                       "  -T         tab-separated values with a lowercase header (for scripts)\n"
                                       "  -H         no header line\n"
                                       "  --json     a JSON array of objects: numbers, booleans, null when absent\n";

/* ---- commands ----------------------------------------------------------------------- */

/* A world for kind `k`; CM_FAILED after printing the error. */
static int load(struct cm *cm, const struct kind *k, struct cm_world *w)
{
    struct cell_err err = {0};
    if (world_load(cm, k->world | CM_WORLD_NO_CONFIG_OK, w, &err) < 0) {
        cm_error("%s", err.msg);
        return CM_FAILED;
    }
    return CM_OK;
}

static bool supervised(const void *item)
{
    return ((const struct cm_cell *)item)->status != NULL;
}

/* list, status --view and volume list: a row per item `keep` keeps (NULL:
 * all); NAME... only those (each must be somewhere, and kept). */
static int list_items(int argc, char **argv, struct cm *cm, const struct kind *k, bool (*keep)(const void *),
                      const char *cmd, void (*help)(void))
{
    struct view_opts o = {.cmd = cmd};
    const struct field *cols[MAX_COLUMNS];
    size_t ncols;
    struct cm_world w;
    int rc = parse_opts(argc, argv, "oT", -1, help, &o);
    if (rc == CM_OK)
        rc = columns_of(k, &o, false, cols, &ncols);
    if (rc == CM_OK)
        rc = load(cm, k, &w);
    if (rc != CM_OK) {
        free(o.names);
        return rc < 0 ? CM_OK : rc;
    }
    size_t total = 0;
    while (k->nth(&w, total))
        total++;
    const void **items = calloc(total + (size_t)o.nnames + 1, sizeof *items);
    size_t n = 0;
    if (items == NULL) {
        cm_error("%s: listing %zu %ss: out of memory", cmd, total, k->noun);
        rc = CM_FAILED;
    }
    for (size_t i = 0; items && o.nnames == 0 && i < total; i++)
        if (keep == NULL || keep(k->nth(&w, i)))
            items[n++] = k->nth(&w, i);
    for (int i = 0; items && i < o.nnames; i++) {
        const void *item = k->find(&w, o.names[i]);
        if (item == NULL) {
            cm_error("%s: %s %s: %s", cmd, k->noun, o.names[i], k->nowhere);
            rc = CM_FAILED;
        } else if (keep && !keep(item)) {
            cm_error("%s: %s %s: not supervised by celld (cell list shows every cell)", cmd, k->noun, o.names[i]);
            rc = CM_FAILED;
        }
        items[n++] = item;
    }
    struct view_ctx x = {.cm = cm, .w = &w};
    if (rc == CM_OK)
        rc = print_rows(&x, cols, ncols, items, n, &o);
    free(items);
    free(o.names);
    world_free(&w);
    return rc;
}

/* show and volume show: one item, every field of the view (or -o's); one
 * that is nowhere is shown (state absent) and fails. */
static int show_item(int argc, char **argv, struct cm *cm, const struct kind *k, const char *cmd, void (*help)(void))
{
    struct view_opts o = {.cmd = cmd};
    const struct field *cols[MAX_COLUMNS];
    size_t ncols;
    struct cm_world w;
    int rc = parse_opts(argc, argv, "oT", 1, help, &o);
    if (rc == CM_OK && o.nnames != 1) {
        cm_error("%s: which %s? (cell %s NAME)", cmd, k->noun, cmd);
        rc = CM_USAGE;
    }
    if (rc == CM_OK)
        rc = columns_of(k, &o, true, cols, &ncols);
    if (rc == CM_OK)
        rc = load(cm, k, &w);
    if (rc != CM_OK) {
        free(o.names);
        return rc < 0 ? CM_OK : rc;
    }
    const char *name = o.names[0];
    const void *item = k->find(&w, name);
    void *absent = NULL;
    if (item == NULL) {
        cm_error("%s: %s %s: %s", cmd, k->noun, name, k->nowhere);
        item = absent = k->absent(name);
        rc = CM_FAILED;
    }
    struct view_ctx x = {.cm = cm, .w = &w};
    if (item == NULL)
        cm_error("%s: %s %s: out of memory", cmd, k->noun, name);
    else if (print_one(&x, cols, ncols, item, &o) != CM_OK)
        rc = CM_FAILED;
    free(absent);
    free(o.names);
    world_free(&w);
    return rc;
}

int cmd_list(int argc, char **argv, struct cm *cm)
{
    return list_items(argc, argv, cm, &cells_kind, NULL, "list", cmd_list_help);
}

void cmd_list_help(void)
{
    printf("usage: cell list [--view V] [-o FIELDS] [-T] [-H] [--json] [NAME...]\n\n"
           "List the cells side by side: declared (the *.lua files), applied (their\n"
           "runtime directories) and supervised by celld; NAME... only those.\n"
           "%s\n",
           output_help);
    view_help(&cells_kind);
}

int cmd_status(int argc, char **argv, struct cm *cm)
{
    return list_items(argc, argv, cm, &cells_kind, supervised, "status", cmd_status_help);
}

void cmd_status_help(void)
{
    printf("usage: cell status --view V [-o FIELDS] [-T] [-H] [--json] [NAME...]\n\n"
           "The cells celld supervises, as cell list shows them (cell status without\n"
           "--view shows celld's own table).\n"
           "%s\n",
           output_help);
    view_help(&cells_kind);
}

int cmd_show(int argc, char **argv, struct cm *cm)
{
    return show_item(argc, argv, cm, &cells_kind, "show", cmd_show_help);
}

void cmd_show_help(void)
{
    printf("usage: cell show NAME [--view V] [-o FIELDS] [-T] [--json]\n\n"
           "Show one cell: every field of the view (default merged), one per line;\n"
           "-o only those. A cell that is nowhere is shown as absent, and the exit\n"
           "status is 1.\n"
           "  --view V   compact, desired, runtime or merged\n"
           "  -o FIELDS  the fields, comma-separated, in that order\n"
           "  -T         \"field<TAB>value\" lines\n"
           "  --json     a JSON object: numbers, booleans, null when absent\n"
           "'cell fields' lists every field and the views that allow it.\n");
}

int cmd_fields(int argc, char **argv, struct cm *cm)
{
    struct view_opts o = {.cmd = "fields"};
    int rc = parse_opts(argc, argv, "Tv", 0, cmd_fields_help, &o);
    free(o.names);
    if (rc != CM_OK)
        return rc < 0 ? CM_OK : rc;
    const struct kind *k = o.volume ? &volumes_kind : &cells_kind;
    const void *items[MAX_COLUMNS];
    size_t n = 0;
    for (size_t i = 0; i < k->nfields && n < MAX_COLUMNS; i++)
        if (!o.view_given || field_in_view(&k->fields[i], o.view))
            items[n++] = &k->fields[i];
    struct view_ctx x = {.cm = cm, .listed = k, .listed_view = o.view_given ? o.view : NVIEWS};
    const struct field *cols[MAX_COLUMNS];
    size_t ncols;
    rc = pick_columns(o.cmd, &fields_kind, VIEW_MERGED,
                      o.view_given ? "field,views,default,description" : "field,views,description", cols, &ncols);
    return rc != CM_OK ? rc : print_rows(&x, cols, ncols, items, n, &o);
}

void cmd_fields_help(void)
{
    printf("usage: cell fields [--view V] [--volume] [-T] [-H] [--json]\n\n"
           "List the fields cell list, show and status --view can show, with the\n"
           "views that allow each (merged allows them all).\n"
           "  --view V   only the fields of view V, and whether it shows them by default\n"
           "  --volume   the fields of cell volume list and show\n"
           "  -T         tab-separated values with a lowercase header\n"
           "  -H         no header line\n"
           "  --json     a JSON array of objects\n");
}

static void volume_list_help(void)
{
    printf("usage: cell volume list [--view V] [-o FIELDS] [-T] [-H] [--json] [NAME...]\n\n"
           "List the volumes: declared (the *.lua files) and on disk; NAME... only those.\n"
           "%s\n",
           output_help);
    view_help(&volumes_kind);
}

static void volume_show_help(void)
{
    printf("usage: cell volume show NAME [--view V] [-o FIELDS] [-T] [--json]\n\n"
           "Show one volume: every field of the view (default merged), one per line;\n"
           "-o only those. A volume that is nowhere is shown as absent, and the exit\n"
           "status is 1. 'cell fields --volume' lists the fields.\n");
}

int views_volume_list(int argc, char **argv, struct cm *cm)
{
    return list_items(argc, argv, cm, &volumes_kind, NULL, "volume list", volume_list_help);
}

int views_volume_show(int argc, char **argv, struct cm *cm)
{
    return show_item(argc, argv, cm, &volumes_kind, "volume show", volume_show_help);
}
