/* plan.h - what `cell apply` decides before it acts (plan.c): per cell,
 * what differs (RT, SVC, POL, the declaration), what becomes of its apply
 * document and which run step it takes; per volume, whether it changes.
 * Pure: it reads a loaded world and asks nothing of celld or the disk,
 * so unit tests build worlds by hand (tests/unit/test_plan.c). apply.c
 * acts on the plan and reports it. */
#ifndef CELLMAN_PLAN_H
#define CELLMAN_PLAN_H

#include "cellman.h"

#include <stdbool.h>
#include <stddef.h>

struct apply_opts {
    bool all, dry_run, force, restart_changed, silent;
    int verbose;
};

/* What becomes of a cell's apply document: none declared nor stored,
 * its actions to run (new, changed, or --force), unchanged since the last
 * apply, or declared no longer (applied.json's apply_present). */
enum apply_doc { APPLY_NONE, APPLY_PENDING, APPLY_UNCHANGED, APPLY_REMOVED };
extern const char *const apply_doc_names[]; /* "NONE", "PENDING", ... as the report prints them */

/* What apply does with a cell's process. RUN_KEEP: running, only its
 * policy changed, left running until --restart-changed (or a restart). */
enum run_step { RUN_NONE, RUN_START, RUN_STOP, RUN_RESTART, RUN_KEEP, RUN_FORGET };
extern const char *const run_step_names[]; /* "-", "start", "stop", "restart", "kept", "stop+forget" */

struct plan_cell {
    struct cm_cell *c;
    json_t *declaration;  /* the final `cell run` arguments; NULL for an orphan */
    json_t *actions;      /* its apply document's actions, or NULL (borrowed from the world) */
    bool rt, svc, pol;    /* runtime directory missing; service, policy differ */
    bool declare;         /* celld's declaration differs */
    bool policy_deferred; /* running, only its policy changed, no --restart-changed */
    enum apply_doc doc;
    bool run_actions;
    enum run_step run;
    bool changed;
    /* what happened (apply.c fills these) */
    bool failed, skipped;
    char error[512];
    json_t *results; /* per action: {"ok", "changed", "error"} */
};

struct plan_volume {
    struct cm_volume *v;
    bool changed;
    bool failed;
    char error[512];
};

struct plan {
    struct plan_cell *cells; /* orphans celld still has first, then the declared, dependencies first */
    size_t ncells;
    struct plan_volume *volumes;
    size_t nvolumes;
    size_t changes;
};

/* The `cell run` arguments without the policy options (--profile,
 * --rlimit, each with its value) and --no-autostart: what a running cell
 * must be restarted for. Everything after "--" (the command) is kept as
 * it is. A new reference. */
json_t *service_args(json_t *args);
/* Whether two declarations differ only in policy options and autostart. */
bool same_service(json_t *a, json_t *b);

/* Plan cell `c` of world `w` into `p` (which it clears). */
void plan_cell(struct cm *cm, struct cm_world *w, struct cm_cell *c, const struct apply_opts *o, struct plan_cell *p);
/* Plan the cells named in argv[first..argc) (every one with o->all) and
 * the volumes they mount (every declared one with o->all). -1 with err
 * for a name neither declared nor applied, or no memory; plan_free() the
 * plan either way. */
int make_plan(struct cm *cm, struct cm_world *w, const struct apply_opts *o, int argc, char **argv, int first,
              struct plan *plan, struct cell_err *err);
void plan_free(struct plan *plan);

#endif
