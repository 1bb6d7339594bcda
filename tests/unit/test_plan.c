/* test_plan.c - what `cell apply` decides (src/cellman/plan.c) and the
 * state rule of the world (world_cell_state, src/cellman/world.c), on
 * worlds built by hand: the desired state loaded from Lua text, and for a
 * cell applied before, the applied.json and celld status that applying an
 * older text left. Covers first applies, nothing to do, service and
 * policy changes (deferred, or restarted with --restart-changed), autostart
 * turned off, apply documents added, unchanged, forced and removed,
 * orphans, the plan's order and selection, what a restart is for
 * (service_args) and every cell state. No celld, no files. */
#include "plan.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static struct cm cm = {.config = "/etc/cell", .cells = "/data/cells", .volumes = "/data/volumes"};

#define WEB "cell('web', { supervise = { cmd = 'sleep 1000' } })\n"
#define WEB_PARKED "cell('web', { autostart = false, supervise = { cmd = 'sleep 1000' } })\n"
#define WEB_OTHER_CMD "cell('web', { supervise = { cmd = 'sleep 2000' } })\n"
#define WEB_MEDIUM "cell('web', { create = { profile = 'medium' }, supervise = { cmd = 'sleep 1000' } })\n"
#define WEB_ACTIONS "apply('web', { exec('true'), file('/etc/motd', 'hi') })\n"
#define WEB_NO_ACTIONS "apply('web', {})\n"

enum { ROOM = 8 }; /* cells a test may add to a world beyond the declared */

/* A world of the Lua text `lua`: every declared cell hashed and indexed,
 * none applied (no runtime directory, no applied.json, no celld status). */
static void world_from(const char *lua, struct cm_world *w)
{
    struct cell_err err = {0};
    struct cell_desired_opts opts = {.volumes_dir = cm.volumes};
    memset(w, 0, sizeof *w);
    if (cell_desired_load_text("cells.lua", lua, strlen(lua), &opts, &w->desired, &err) < 0)
        fail_msg("%s", err.msg);
    w->cells = calloc(w->desired.ncells + ROOM, sizeof *w->cells);
    w->cell_index = json_object();
    assert_non_null(w->cells);
    assert_non_null(w->cell_index);
    for (size_t i = 0; i < w->desired.ncells; i++) {
        struct cm_cell *c = &w->cells[w->ncells];
        snprintf(c->name, sizeof c->name, "%s", w->desired.cells[i].name);
        c->desired = &w->desired.cells[i];
        if (cell_desired_hash(&w->desired, c->desired, cm.config, &c->hashes, &err) < 0)
            fail_msg("%s", err.msg);
        json_object_set_new(w->cell_index, c->name, json_integer((json_int_t)w->ncells++));
    }
}

/* A cell the world knows that is not declared (an orphan, or one run by hand). */
static struct cm_cell *add_undeclared(struct cm_world *w, const char *name)
{
    assert_true(w->ncells < w->desired.ncells + ROOM);
    struct cm_cell *c = &w->cells[w->ncells];
    snprintf(c->name, sizeof c->name, "%s", name);
    json_object_set_new(w->cell_index, c->name, json_integer((json_int_t)w->ncells++));
    return c;
}

/* celld's status of a cell: `state`, declared with `args` (borrowed). */
static void set_status(struct cm_cell *c, const char *state, json_t *args)
{
    c->status = args ? json_pack("{s:s, s:s, s:O}", "name", c->name, "state", state, "args", args)
                     : json_pack("{s:s, s:s, s:[s]}", "name", c->name, "state", state, "args", "true");
    c->running = strcmp(state, "exited") != 0 && strcmp(state, "failed") != 0;
}

/* Cell `c` as applying the Lua text `lua` left it: its runtime directory,
 * its applied.json (the hashes, arguments and apply_present of that text)
 * and celld's status with those arguments, in `state` ("running",
 * "exited"). */
static void applied_as(struct cm_cell *c, const char *lua, const char *state)
{
    struct cm_world old;
    world_from(lua, &old);
    struct cm_cell *o = world_cell(&old, c->name);
    assert_non_null(o);
    bool apply_present = false;
    for (size_t i = 0; i < old.desired.napplies; i++)
        apply_present |= strcmp(old.desired.applies[i].name, c->name) == 0;
    json_t *args = world_declaration(&cm, o->desired);
    c->runtime_dir = true;
    c->applied =
        json_pack("{s:s, s:{s:s, s:s, s:s, s:s}, s:O, s:b, s:s}", "name", c->name, "hashes", "service",
                  o->hashes.service, "policy", o->hashes.policy, "manifest", o->hashes.manifest, "apply",
                  o->hashes.apply, "args", args, "apply_present", apply_present, "applied_at", "2024-01-01T00:00:00Z");
    assert_non_null(c->applied);
    set_status(c, state, args);
    json_decref(args);
    world_free(&old);
}

/* The plan of cell "web" of `lua`, applied before as `old` (NULL: never)
 * and then in celld's `state`. */
struct web {
    struct cm_world w;
    struct cm_cell *c;
    struct plan_cell p;
};

static void plan_web(struct web *t, const char *old, const char *state, const char *lua, const struct apply_opts *o)
{
    world_from(lua, &t->w);
    t->c = world_cell(&t->w, "web");
    assert_non_null(t->c);
    if (old)
        applied_as(t->c, old, state);
    plan_cell(&cm, &t->w, t->c, o, &t->p);
}

static void web_free(struct web *t)
{
    json_decref(t->p.declaration);
    world_free(&t->w);
}

static const struct apply_opts plain = {.all = true};

static void assert_run(enum run_step got, enum run_step want)
{
    if (got != want)
        fail_msg("run step \"%s\", expected \"%s\"", run_step_names[got], run_step_names[want]);
}

static void assert_doc(enum apply_doc got, enum apply_doc want)
{
    if (got != want)
        fail_msg("apply document %s, expected %s", apply_doc_names[got], apply_doc_names[want]);
}

static void assert_state(enum cm_cell_state got, enum cm_cell_state want)
{
    if (got != want)
        fail_msg("state %s, expected %s", cm_cell_state_name(got), cm_cell_state_name(want));
}

/* ---- first applies ------------------------------------------------------- */

static void test_never_applied_starts(void **state)
{
    (void)state;
    struct web t;
    plan_web(&t, NULL, NULL, WEB, &plain);
    assert_true(t.p.rt && t.p.svc && t.p.pol && t.p.declare);
    assert_doc(t.p.doc, APPLY_NONE);
    assert_false(t.p.run_actions);
    assert_run(t.p.run, RUN_START);
    assert_false(t.p.policy_deferred);
    assert_true(t.p.changed);
    assert_null(t.p.actions);
    /* the declaration: its arguments plus the layer, before the command */
    json_t *layer = json_array_get(t.p.declaration, json_array_size(t.p.declaration) - 5);
    assert_string_equal(json_string_value(layer), "/data/cells/web");
    assert_state(world_cell_state(t.c, true), CM_CELL_DECLARED);
    web_free(&t);
}

static void test_never_applied_autostart_off_stays_down(void **state)
{
    (void)state;
    struct web t;
    plan_web(&t, NULL, NULL, WEB_PARKED, &plain);
    assert_true(t.p.rt && t.p.svc && t.p.pol && t.p.declare);
    assert_run(t.p.run, RUN_NONE);
    assert_true(t.p.changed);
    assert_state(world_cell_state(t.c, true), CM_CELL_DECLARED);
    web_free(&t);
}

static void test_never_applied_with_actions_runs_them(void **state)
{
    (void)state;
    struct web t;
    plan_web(&t, NULL, NULL, WEB WEB_ACTIONS, &plain);
    assert_doc(t.p.doc, APPLY_PENDING);
    assert_true(t.p.run_actions);
    assert_int_equal(json_array_size(t.p.actions), 2);
    assert_run(t.p.run, RUN_START);
    web_free(&t);
}

/* ---- nothing to do ----------------------------------------------------------- */

static void test_unchanged_running_is_managed(void **state)
{
    (void)state;
    struct web t;
    plan_web(&t, WEB, "running", WEB, &plain);
    assert_false(t.p.rt || t.p.svc || t.p.pol || t.p.declare || t.p.run_actions || t.p.policy_deferred);
    assert_doc(t.p.doc, APPLY_NONE);
    assert_run(t.p.run, RUN_NONE);
    assert_false(t.p.changed);
    assert_state(world_cell_state(t.c, true), CM_CELL_MANAGED);
    web_free(&t);
}

static void test_unchanged_autostart_off_is_parked(void **state)
{
    (void)state;
    struct web t;
    plan_web(&t, WEB_PARKED, "exited", WEB_PARKED, &plain);
    assert_false(t.p.rt || t.p.svc || t.p.pol || t.p.declare);
    assert_run(t.p.run, RUN_NONE);
    assert_false(t.p.changed);
    assert_state(world_cell_state(t.c, true), CM_CELL_PARKED);
    web_free(&t);
}

/* ---- changes ------------------------------------------------------------------- */

static void test_service_change_restarts(void **state)
{
    (void)state;
    struct web t;
    plan_web(&t, WEB, "running", WEB_OTHER_CMD, &plain);
    assert_true(t.p.svc && t.p.declare);
    assert_false(t.p.pol || t.p.rt || t.p.policy_deferred);
    assert_run(t.p.run, RUN_RESTART);
    assert_true(t.p.changed);
    assert_state(world_cell_state(t.c, true), CM_CELL_PENDING);
    web_free(&t);
}

static void test_policy_change_running_is_kept(void **state)
{
    (void)state;
    struct web t;
    plan_web(&t, WEB, "running", WEB_MEDIUM, &plain);
    assert_true(t.p.pol && t.p.declare);
    assert_false(t.p.svc || t.p.rt);
    assert_run(t.p.run, RUN_KEEP);
    assert_true(t.p.policy_deferred);
    assert_true(t.p.changed); /* waiting for --restart-changed is still a change */
    assert_state(world_cell_state(t.c, true), CM_CELL_PENDING);
    web_free(&t);
}

static void test_policy_change_restart_changed_restarts(void **state)
{
    (void)state;
    struct web t;
    struct apply_opts o = {.all = true, .restart_changed = true};
    plan_web(&t, WEB, "running", WEB_MEDIUM, &o);
    assert_true(t.p.pol && t.p.declare);
    assert_run(t.p.run, RUN_RESTART);
    assert_false(t.p.policy_deferred);
    assert_true(t.p.changed);
    web_free(&t);
}

static void test_policy_change_stopped_declares_and_starts(void **state)
{
    (void)state;
    struct web t;
    plan_web(&t, WEB, "exited", WEB_MEDIUM, &plain);
    assert_true(t.p.pol && t.p.declare);
    assert_false(t.p.svc);
    assert_run(t.p.run, RUN_START);
    assert_false(t.p.policy_deferred);
    assert_true(t.p.changed);
    web_free(&t);
}

static void test_autostart_turned_off_stops(void **state)
{
    (void)state;
    struct web t;
    plan_web(&t, WEB, "running", WEB_PARKED, &plain);
    assert_true(t.p.declare);
    assert_run(t.p.run, RUN_STOP);
    assert_false(t.p.policy_deferred);
    assert_true(t.p.changed);
    assert_state(world_cell_state(t.c, true), CM_CELL_PENDING);
    web_free(&t);
}

static void test_autostart_turned_on_starts(void **state)
{
    (void)state;
    struct web t;
    plan_web(&t, WEB_PARKED, "exited", WEB, &plain);
    assert_true(t.p.declare);
    assert_run(t.p.run, RUN_START);
    assert_true(t.p.changed);
    web_free(&t);
}

/* ---- apply documents ---------------------------------------------------------- */

static void test_apply_doc_added_restarts_running(void **state)
{
    (void)state;
    struct web t;
    plan_web(&t, WEB, "running", WEB WEB_ACTIONS, &plain);
    assert_doc(t.p.doc, APPLY_PENDING);
    assert_true(t.p.run_actions);
    assert_false(t.p.svc || t.p.pol || t.p.declare);
    assert_run(t.p.run, RUN_RESTART); /* actions run with the cell stopped */
    assert_true(t.p.changed);
    assert_state(world_cell_state(t.c, true), CM_CELL_PENDING);
    web_free(&t);
}

static void test_apply_doc_added_stopped_parked(void **state)
{
    (void)state;
    struct web t;
    plan_web(&t, WEB_PARKED, "exited", WEB_PARKED WEB_ACTIONS, &plain);
    assert_doc(t.p.doc, APPLY_PENDING);
    assert_true(t.p.run_actions);
    assert_run(t.p.run, RUN_NONE);
    assert_true(t.p.changed);
    web_free(&t);
}

static void test_apply_doc_unchanged(void **state)
{
    (void)state;
    struct web t;
    plan_web(&t, WEB WEB_ACTIONS, "running", WEB WEB_ACTIONS, &plain);
    assert_doc(t.p.doc, APPLY_UNCHANGED);
    assert_false(t.p.run_actions);
    assert_int_equal(json_array_size(t.p.actions), 2);
    assert_run(t.p.run, RUN_NONE);
    assert_false(t.p.changed);
    assert_state(world_cell_state(t.c, true), CM_CELL_MANAGED);
    web_free(&t);
}

static void test_apply_doc_forced(void **state)
{
    (void)state;
    struct web t;
    struct apply_opts o = {.all = true, .force = true};
    plan_web(&t, WEB WEB_ACTIONS, "running", WEB WEB_ACTIONS, &o);
    assert_doc(t.p.doc, APPLY_PENDING);
    assert_true(t.p.run_actions);
    assert_false(t.p.svc || t.p.pol || t.p.declare);
    assert_run(t.p.run, RUN_RESTART);
    assert_true(t.p.changed);
    web_free(&t);
}

static void test_apply_doc_without_actions_runs_nothing(void **state)
{
    (void)state;
    struct web t;
    /* no actions hash as no document: adding an empty one changes nothing */
    plan_web(&t, WEB, "running", WEB WEB_NO_ACTIONS, &plain);
    assert_doc(t.p.doc, APPLY_UNCHANGED);
    assert_false(t.p.run_actions);
    assert_run(t.p.run, RUN_NONE);
    assert_false(t.p.changed);
    web_free(&t);
    /* forced, it is pending, but there is nothing to run: no restart */
    struct apply_opts o = {.all = true, .force = true};
    plan_web(&t, WEB, "running", WEB WEB_NO_ACTIONS, &o);
    assert_doc(t.p.doc, APPLY_PENDING);
    assert_false(t.p.run_actions);
    assert_run(t.p.run, RUN_NONE);
    assert_true(t.p.changed);
    web_free(&t);
}

static void test_apply_doc_removed(void **state)
{
    (void)state;
    struct web t;
    plan_web(&t, WEB WEB_ACTIONS, "running", WEB, &plain);
    assert_doc(t.p.doc, APPLY_REMOVED);
    assert_false(t.p.run_actions);
    assert_null(t.p.actions);
    assert_run(t.p.run, RUN_NONE);
    assert_true(t.p.changed);
    assert_state(world_cell_state(t.c, true), CM_CELL_PENDING);
    web_free(&t);
}

/* ---- orphans ----------------------------------------------------------------------- */

static void test_orphan_known_to_celld_is_forgotten(void **state)
{
    (void)state;
    struct cm_world w;
    world_from(WEB, &w);
    struct cm_cell *c = add_undeclared(&w, "gone");
    c->runtime_dir = true;
    set_status(c, "running", NULL);
    struct plan_cell p;
    plan_cell(&cm, &w, c, &plain, &p);
    assert_run(p.run, RUN_FORGET);
    assert_null(p.declaration);
    assert_true(p.changed);
    assert_state(world_cell_state(c, true), CM_CELL_ORPHANED);
    world_free(&w);
}

static void test_orphan_celld_forgot_is_left_alone(void **state)
{
    (void)state;
    struct cm_world w;
    world_from(WEB, &w);
    struct cm_cell *c = add_undeclared(&w, "gone");
    c->runtime_dir = true;
    struct plan_cell p;
    plan_cell(&cm, &w, c, &plain, &p);
    assert_run(p.run, RUN_NONE);
    assert_false(p.changed);
    assert_state(world_cell_state(c, true), CM_CELL_ORPHANED);
    world_free(&w);
}

/* ---- the whole plan ---------------------------------------------------------------- */

#define TWO_CELLS                                                                                                      \
    "volume('data', { mode = '0750' })\n"                                                                              \
    "cell('web', { depends_on = { 'db' }, supervise = { cmd = 'sleep 1000' },\n"                                       \
    "  mounts = { volume('data', { target = '/data', mode = 'rw' }) } })\n"                                            \
    "cell('db', { supervise = { cmd = 'sleep 1000' } })\n"

/* TWO_CELLS, the orphan "gone" that celld still has, the orphan "quiet" it
 * forgot, and the volume "data" not made yet. */
static void two_cells(struct cm_world *w)
{
    world_from(TWO_CELLS, w);
    struct cm_cell *gone = add_undeclared(w, "gone");
    gone->runtime_dir = true;
    set_status(gone, "running", NULL);
    add_undeclared(w, "quiet")->runtime_dir = true;
    w->volumes = calloc(1, sizeof *w->volumes);
    assert_non_null(w->volumes);
    w->nvolumes = 1;
    snprintf(w->volumes[0].name, sizeof w->volumes[0].name, "data");
    w->volumes[0].desired = &w->desired.volumes[0];
    w->volumes[0].state = CM_VOLUME_PENDING;
}

static void test_make_plan_orders_orphans_then_dependencies(void **state)
{
    (void)state;
    struct cm_world w;
    two_cells(&w);
    struct plan plan;
    struct cell_err err = {0};
    char *argv[] = {"apply", NULL};
    if (make_plan(&cm, &w, &plain, 1, argv, 1, &plan, &err) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(plan.ncells, 3);
    assert_string_equal(plan.cells[0].c->name, "gone");
    assert_run(plan.cells[0].run, RUN_FORGET);
    assert_string_equal(plan.cells[1].c->name, "db");
    assert_string_equal(plan.cells[2].c->name, "web");
    assert_int_equal(plan.nvolumes, 1);
    assert_true(plan.volumes[0].changed);
    assert_int_equal(plan.changes, 4);
    plan_free(&plan);
    world_free(&w);
}

static void test_make_plan_selects_named_cells_and_their_volumes(void **state)
{
    (void)state;
    struct cm_world w;
    two_cells(&w);
    struct plan plan;
    struct cell_err err = {0};
    struct apply_opts o = {0};
    char *db[] = {"apply", "db", NULL};
    if (make_plan(&cm, &w, &o, 2, db, 1, &plan, &err) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(plan.ncells, 1);
    assert_string_equal(plan.cells[0].c->name, "db");
    assert_int_equal(plan.nvolumes, 0); /* db mounts no volume */
    assert_int_equal(plan.changes, 1);
    plan_free(&plan);

    char *web[] = {"apply", "web", NULL};
    if (make_plan(&cm, &w, &o, 2, web, 1, &plan, &err) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(plan.ncells, 1);
    assert_string_equal(plan.cells[0].c->name, "web");
    assert_int_equal(plan.nvolumes, 1);
    assert_int_equal(plan.changes, 2);
    plan_free(&plan);
    world_free(&w);
}

static void test_make_plan_refuses_unknown_names(void **state)
{
    (void)state;
    struct cm_world w;
    two_cells(&w);
    struct plan plan;
    struct cell_err err = {0};
    struct apply_opts o = {0};
    char *argv[] = {"apply", "db", "nope", NULL};
    assert_int_equal(make_plan(&cm, &w, &o, 3, argv, 1, &plan, &err), -1);
    assert_non_null(strstr(err.msg, "cell nope: not declared in /etc/cell/*.lua"));
    plan_free(&plan);
    world_free(&w);
}

/* ---- service_args -------------------------------------------------------------------- */

static json_t *args_of(const char *text)
{
    json_t *a = json_loads(text, 0, NULL);
    assert_non_null(a);
    return a;
}

static void test_service_args_drop_policy_and_autostart(void **state)
{
    (void)state;
    json_t *args = args_of("[\"-d\", \"--name\", \"web\", \"--no-autostart\", \"--profile\", \"medium\", "
                           "\"--rlimit\", \"nofile=4096\", \"--memory\", \"64M\", \"--rlimit\", \"core=0\", "
                           "\"--\", \"/bin/app\", \"--profile\", \"fast\", \"--no-autostart\", \"--\"]");
    json_t *want = args_of("[\"-d\", \"--name\", \"web\", \"--memory\", \"64M\", "
                           "\"--\", \"/bin/app\", \"--profile\", \"fast\", \"--no-autostart\", \"--\"]");
    json_t *got = service_args(args);
    if (!json_equal(got, want)) {
        char *text = json_dumps(got, JSON_COMPACT);
        fail_msg("service_args: %s", text);
    }
    json_decref(got);
    json_decref(want);
    json_decref(args);
}

static void test_same_service(void **state)
{
    (void)state;
    json_t *a = args_of("[\"-d\", \"--name\", \"web\", \"--\", \"/bin/app\", \"--profile\", \"fast\"]");
    json_t *policy = args_of("[\"-d\", \"--name\", \"web\", \"--profile\", \"low\", \"--rlimit\", \"nofile=64\", "
                             "\"--no-autostart\", \"--\", \"/bin/app\", \"--profile\", \"fast\"]");
    json_t *limit = args_of("[\"-d\", \"--name\", \"web\", \"--memory\", \"1G\", "
                            "\"--\", \"/bin/app\", \"--profile\", \"fast\"]");
    json_t *command = args_of("[\"-d\", \"--name\", \"web\", \"--\", \"/bin/app\", \"--profile\", \"slow\"]");
    assert_true(same_service(a, a));
    assert_true(same_service(a, policy));
    assert_false(same_service(a, limit));
    assert_false(same_service(a, command)); /* a word of the command is the service */
    json_decref(a);
    json_decref(policy);
    json_decref(limit);
    json_decref(command);
}

/* ---- world_cell_state ------------------------------------------------------------------ */

static void test_state_running_against_autostart_is_pending(void **state)
{
    (void)state;
    struct cm_world w;
    world_from(WEB, &w);
    struct cm_cell *c = world_cell(&w, "web");
    applied_as(c, WEB, "exited");
    assert_state(world_cell_state(c, true), CM_CELL_PENDING);
    assert_state(world_cell_state(c, false), CM_CELL_MANAGED); /* celld not asked */
    world_free(&w);

    world_from(WEB_PARKED, &w);
    c = world_cell(&w, "web");
    applied_as(c, WEB_PARKED, "running");
    assert_state(world_cell_state(c, true), CM_CELL_PENDING);
    assert_state(world_cell_state(c, false), CM_CELL_PARKED);
    world_free(&w);
}

static void test_state_without_applied_json_is_pending(void **state)
{
    (void)state;
    struct cm_world w;
    world_from(WEB, &w);
    struct cm_cell *c = world_cell(&w, "web");
    c->runtime_dir = true; /* an applied.json that is missing or unreadable */
    assert_state(world_cell_state(c, false), CM_CELL_PENDING);
    world_free(&w);
}

static void test_state_undeclared(void **state)
{
    (void)state;
    struct cm_world w;
    world_from(WEB, &w);
    struct cm_cell *orphan = add_undeclared(&w, "gone");
    orphan->runtime_dir = true;
    assert_state(world_cell_state(orphan, true), CM_CELL_ORPHANED);
    set_status(orphan, "running", NULL);
    assert_state(world_cell_state(orphan, true), CM_CELL_ORPHANED);
    struct cm_cell *by_hand = add_undeclared(&w, "manual");
    set_status(by_hand, "running", NULL);
    assert_state(world_cell_state(by_hand, true), CM_CELL_UNMANAGED);
    assert_state(world_cell_state(add_undeclared(&w, "nowhere"), true), CM_CELL_ABSENT);
    world_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_never_applied_starts),
        cmocka_unit_test(test_never_applied_autostart_off_stays_down),
        cmocka_unit_test(test_never_applied_with_actions_runs_them),
        cmocka_unit_test(test_unchanged_running_is_managed),
        cmocka_unit_test(test_unchanged_autostart_off_is_parked),
        cmocka_unit_test(test_service_change_restarts),
        cmocka_unit_test(test_policy_change_running_is_kept),
        cmocka_unit_test(test_policy_change_restart_changed_restarts),
        cmocka_unit_test(test_policy_change_stopped_declares_and_starts),
        cmocka_unit_test(test_autostart_turned_off_stops),
        cmocka_unit_test(test_autostart_turned_on_starts),
        cmocka_unit_test(test_apply_doc_added_restarts_running),
        cmocka_unit_test(test_apply_doc_added_stopped_parked),
        cmocka_unit_test(test_apply_doc_unchanged),
        cmocka_unit_test(test_apply_doc_forced),
        cmocka_unit_test(test_apply_doc_without_actions_runs_nothing),
        cmocka_unit_test(test_apply_doc_removed),
        cmocka_unit_test(test_orphan_known_to_celld_is_forgotten),
        cmocka_unit_test(test_orphan_celld_forgot_is_left_alone),
        cmocka_unit_test(test_make_plan_orders_orphans_then_dependencies),
        cmocka_unit_test(test_make_plan_selects_named_cells_and_their_volumes),
        cmocka_unit_test(test_make_plan_refuses_unknown_names),
        cmocka_unit_test(test_service_args_drop_policy_and_autostart),
        cmocka_unit_test(test_same_service),
        cmocka_unit_test(test_state_running_against_autostart_is_pending),
        cmocka_unit_test(test_state_without_applied_json_is_pending),
        cmocka_unit_test(test_state_undeclared),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
