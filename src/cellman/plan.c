/* plan.c - what `cell apply` decides before it acts, from the world
 * (world.c) alone: per cell, SVC and POL (its service and policy hashes
 * against those applied.json stored), RT (no runtime directory), whether
 * celld's declaration differs, its apply document (PENDING, UNCHANGED,
 * REMOVED, NONE) and its run step:
 *
 *   running, autostart off                        stop
 *   running, service arguments differ, or actions
 *     to run, or a policy change with
 *     --restart-changed                           restart
 *   running, only the policy differs              kept (policy_deferred)
 *   not running, autostart                        start
 *   no longer declared, known to celld            stop+forget
 *
 * and whether anything changes at all. Nothing here talks to celld or
 * touches the disk: apply.c acts on the plan. */
#include "plan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const char *const apply_doc_names[] = {"NONE", "PENDING", "UNCHANGED", "REMOVED"};
const char *const run_step_names[] = {"-", "start", "stop", "restart", "kept", "stop+forget"};

static const struct cell_desired_apply *apply_doc_of(const struct cell_desired *d, const char *name)
{
    for (size_t i = 0; i < d->napplies; i++)
        if (strcmp(d->applies[i].name, name) == 0)
            return &d->applies[i];
    return NULL;
}

static bool stored_hash_is(const struct cm_cell *c, const char *which, const char *hash)
{
    const char *h = json_string_value(json_object_get(json_object_get(c->applied, "hashes"), which));
    return h && strcmp(h, hash) == 0;
}

/* The arguments without the policy options (--profile, --rlimit) and
 * --no-autostart: what a running cell must be restarted for. */
json_t *service_args(json_t *args)
{
    json_t *out = json_array();
    size_t n = json_array_size(args);
    for (size_t i = 0; i < n; i++) {
        const char *a = json_string_value(json_array_get(args, i));
        if (strcmp(a, "--") == 0) {
            for (; i < n; i++)
                json_array_append(out, json_array_get(args, i));
            break;
        }
        if (strcmp(a, "--profile") == 0 || strcmp(a, "--rlimit") == 0) {
            i++;
            continue;
        }
        if (strcmp(a, "--no-autostart") != 0)
            json_array_append(out, json_array_get(args, i));
    }
    return out;
}

bool same_service(json_t *a, json_t *b)
{
    json_t *sa = service_args(a), *sb = service_args(b);
    bool same = json_equal(sa, sb);
    json_decref(sa);
    json_decref(sb);
    return same;
}

void plan_cell(struct cm *cm, struct cm_world *w, struct cm_cell *c, const struct apply_opts *o, struct plan_cell *p)
{
    memset(p, 0, sizeof *p);
    p->c = c;
    json_t *declared = json_object_get(c->status, "args");
    if (c->desired == NULL) { /* an orphan: stop it and make celld forget it */
        p->run = c->status ? RUN_FORGET : RUN_NONE;
        p->changed = p->run != RUN_NONE;
        return;
    }
    p->declaration = world_declaration(cm, c->desired);
    const struct cell_desired_apply *a = apply_doc_of(&w->desired, c->name);
    p->actions = a ? a->actions : NULL;
    p->rt = !c->runtime_dir;
    p->svc = !stored_hash_is(c, "service", c->hashes.service);
    p->pol = !stored_hash_is(c, "policy", c->hashes.policy);
    p->declare = !json_equal(declared, p->declaration);
    bool apply_same = stored_hash_is(c, "apply", c->hashes.apply);
    if (a)
        p->doc = apply_same && !o->force ? APPLY_UNCHANGED : APPLY_PENDING;
    else
        p->doc = json_is_true(json_object_get(c->applied, "apply_present")) ? APPLY_REMOVED : APPLY_NONE;
    p->run_actions = p->doc == APPLY_PENDING && json_array_size(p->actions) > 0;
    bool autostart = c->desired->autostart;
    if (c->running) {
        bool service_changed = declared == NULL || !same_service(declared, p->declaration);
        bool policy_changed = p->declare && !service_changed;
        if (!autostart)
            p->run = RUN_STOP;
        else if (service_changed || p->run_actions || (policy_changed && o->restart_changed))
            p->run = RUN_RESTART;
        else if (policy_changed)
            p->run = RUN_KEEP, p->policy_deferred = true;
    } else if (autostart) {
        p->run = RUN_START;
    }
    p->changed = p->rt || p->svc || p->pol || p->declare || p->doc == APPLY_PENDING || p->doc == APPLY_REMOVED ||
                 (p->run != RUN_NONE && p->run != RUN_KEEP);
    /* a change that waits for --restart-changed is still a change */
    p->changed |= p->policy_deferred;
}

static bool selected(const struct cm_cell *c, int argc, char **argv, int first, bool all)
{
    if (all)
        return true;
    for (int i = first; i < argc; i++)
        if (strcmp(argv[i], c->name) == 0)
            return true;
    return false;
}

/* The volumes the selected cells mount (all declared ones with --all). */
static bool volume_needed(const struct plan *plan, const struct cm_volume *v, bool all)
{
    if (all)
        return true;
    for (size_t i = 0; i < plan->ncells; i++) {
        const struct cm_cell *c = plan->cells[i].c;
        size_t k;
        json_t *m;
        if (c->desired)
            json_array_foreach(json_object_get(c->desired->doc, "volume_mounts"), k,
                               m) if (strcmp(json_string_value(json_object_get(m, "volume")), v->name) ==
                                      0) return true;
    }
    return false;
}

int make_plan(struct cm *cm, struct cm_world *w, const struct apply_opts *o, int argc, char **argv, int first,
              struct plan *plan, struct cell_err *err)
{
    memset(plan, 0, sizeof *plan);
    for (int i = first; i < argc; i++) {
        struct cm_cell *c = world_cell(w, argv[i]);
        if (c == NULL || (c->desired == NULL && !c->runtime_dir))
            return cell_err_set(err, 0, "apply: cell %s: not declared in %s/*.lua (cell list shows the cells)", argv[i],
                                cm->config);
    }
    plan->cells = calloc(w->ncells + 1, sizeof *plan->cells);
    plan->volumes = calloc(w->nvolumes + 1, sizeof *plan->volumes);
    size_t *order = calloc(w->desired.ncells + 1, sizeof *order);
    if (plan->cells == NULL || plan->volumes == NULL || order == NULL || cell_desired_order(&w->desired, order) < 0) {
        free(order);
        return cell_err_set(err, ENOMEM, "apply");
    }
    /* orphans celld still has first (they are stopped before anything
     * starts; once forgotten, they are left alone), then the
     * declared cells, dependencies first */
    for (size_t i = 0; i < w->ncells; i++) {
        struct cm_cell *c = &w->cells[i];
        if (c->desired == NULL && c->runtime_dir && c->status && selected(c, argc, argv, first, o->all))
            plan_cell(cm, w, c, o, &plan->cells[plan->ncells++]);
    }
    for (size_t k = 0; k < w->desired.ncells; k++) {
        struct cm_cell *c = world_cell(w, w->desired.cells[order[k]].name);
        if (selected(c, argc, argv, first, o->all))
            plan_cell(cm, w, c, o, &plan->cells[plan->ncells++]);
    }
    free(order);
    for (size_t i = 0; i < w->nvolumes; i++) {
        struct cm_volume *v = &w->volumes[i];
        if (v->desired && volume_needed(plan, v, o->all)) {
            struct plan_volume *pv = &plan->volumes[plan->nvolumes++];
            pv->v = v;
            pv->changed = v->state == CM_VOLUME_PENDING;
        }
    }
    for (size_t i = 0; i < plan->ncells; i++)
        plan->changes += plan->cells[i].changed;
    for (size_t i = 0; i < plan->nvolumes; i++)
        plan->changes += plan->volumes[i].changed;
    return 0;
}

void plan_free(struct plan *plan)
{
    for (size_t i = 0; i < plan->ncells; i++) {
        json_decref(plan->cells[i].declaration);
        json_decref(plan->cells[i].results);
    }
    free(plan->cells);
    free(plan->volumes);
}
