/* apply.c - `cell apply`: converge the host to the desired state, and `cell
 * up` (apply, then celld's up).
 *
 * A plan is made first (plan.c), for every selected cell and volume, from
 * the world (world.c): what differs between the Lua files, what the last
 * apply stored (applied.json) and what celld runs. A dry run prints it and
 * exits 2 when anything would change. An apply then, in depends_on order:
 *
 *   volumes   made (or their mode fixed)
 *   orphans   cells applied once but no longer declared: stopped and
 *             forgotten by celld (their layer stays, with its data)
 *   each cell its runtime directory made; stopped when it runs and must
 *             restart (a service change, new apply actions, or a policy
 *             change with --restart-changed); its apply actions run inside
 *             its filesystem view; its declaration given to celld; started
 *             when autostart (stopped when not); applied.json written.
 *
 * A policy change of a running cell without --restart-changed is kept for
 * later: it is not declared and its hash not stored, so the cell stays
 * pending. A cell whose step fails is reported and not started; the cells
 * depending on it are skipped; the exit code is then 1.
 *
 * Actions run in a child in new mount and pid namespaces: the sandbox's own
 * mount setup (mounts_setup) builds the cell's root, with its layer
 * writable and its volumes mounted, so every path is the cell's. */
#include "actions.h"
#include "cellman.h"
#include "plan.h"
#include "sandbox/sandbox.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- actions, inside the cell's filesystem view --------------------------- */

/* The spec a declaration describes (as celld would run it). */
static int declaration_spec(json_t *args, struct cell_spec *spec, struct cell_err *err)
{
    size_t n = json_array_size(args);
    char **argv = calloc(n + 2, sizeof *argv);
    cell_spec_init(spec);
    if (argv == NULL)
        return cell_err_set(err, ENOMEM, "apply");
    argv[0] = "run";
    for (size_t i = 0; i < n; i++)
        argv[i + 1] = (char *)json_string_value(json_array_get(args, i));
    int first = cell_spec_from_args((int)n + 1, argv, spec, err);
    int rc = first <= 0 || cell_spec_set_argv(spec, argv + first, err) < 0 || cell_spec_validate(spec, err) < 0;
    free(argv);
    if (rc) {
        cell_spec_free(spec);
        return -1;
    }
    return 0;
}

/* pid 1 of the actions' pid namespace: build the view, run the actions,
 * write one JSON line per action on `out`. */
__attribute__((noreturn)) static void actions_child(const struct cell_spec *spec, json_t *actions,
                                                    const struct action_prep *prep, const struct action_ctx *ctx,
                                                    int out)
{
    struct cell_err err = {0};
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (mounts_setup(spec, &err) < 0 || mounts_finish(true, &err) < 0) {
        json_t *line = json_pack("{s:b, s:s}", "setup", 0, "error", err.msg);
        char *text = json_dumps(line, JSON_COMPACT);
        dprintf(out, "%s\n", text);
        _exit(1);
    }
    size_t i;
    json_t *action;
    json_array_foreach(actions, i, action)
    {
        bool changed = false;
        memset(&err, 0, sizeof err);
        int rc = action_run(action, i, prep, ctx, &changed, &err);
        json_t *line = json_pack("{s:b, s:b, s:s}", "ok", rc == 0, "changed", changed, "error", rc ? err.msg : "");
        char *text = json_dumps(line, JSON_COMPACT);
        dprintf(out, "%s\n", text);
        free(text);
        json_decref(line);
        if (rc < 0)
            _exit(1);
    }
    _exit(0);
}

static int run_actions(struct cm *cm, struct plan_cell *p, int output_fd, struct cell_err *err)
{
    struct cell_spec spec;
    if (declaration_spec(p->declaration, &spec, err) < 0)
        return -1;
    /* apply fills volumes the cell may only read: writable here, like the
     * layer (host binds stay as declared) */
    size_t vlen = strlen(cm->volumes);
    for (size_t i = 0; i < spec.nmounts; i++)
        if (spec.mounts[i].source && strncmp(spec.mounts[i].source, cm->volumes, vlen) == 0 &&
            spec.mounts[i].source[vlen] == '/')
            spec.mounts[i].writable = true;
    char root[PATH_MAX];
    snprintf(root, sizeof root, "%s/%s", cm->cells, p->c->name);
    struct action_ctx ctx = {.cell_name = p->c->name,
                             .spec_dir = cm->config,
                             .cell_root = root,
                             .run_uid = spec.uid,
                             .run_gid = spec.gid,
                             .output_fd = output_fd};
    struct action_prep prep = {0};
    if (actions_prepare(p->actions, &ctx, &prep, err) < 0) {
        cell_spec_free(&spec);
        return -1;
    }
    p->results = json_array();
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) {
        actions_release(&prep);
        cell_spec_free(&spec);
        return cell_err_set(err, errno, "cell %s: apply: pipe", p->c->name);
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        /* a private mount table, and a pid namespace whose end ends
         * whatever an exec action left running */
        if (unshare(CLONE_NEWNS | CLONE_NEWPID) < 0)
            _exit(126);
        pid_t init = fork();
        if (init == 0)
            actions_child(&spec, p->actions, &prep, &ctx, fds[1]);
        int status = 0;
        if (init < 0 || waitpid(init, &status, 0) < 0)
            _exit(126);
        _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 125);
    }
    close(fds[1]);
    FILE *in = pid > 0 ? fdopen(fds[0], "r") : NULL;
    char *line = NULL;
    size_t len = 0;
    int rc = 0;
    while (in && getline(&line, &len, in) > 0) {
        json_t *r = json_loads(line, 0, NULL);
        if (r && json_object_get(r, "setup")) {
            rc = cell_err_set(err, 0, "cell %s: apply: build its filesystem view: %s", p->c->name,
                              json_string_value(json_object_get(r, "error")));
            json_decref(r);
        } else if (r) {
            json_array_append_new(p->results, r);
            if (!json_is_true(json_object_get(r, "ok")) && rc == 0)
                rc = cell_err_set(err, 0, "cell %s: apply: %s", p->c->name,
                                  json_string_value(json_object_get(r, "error")));
        }
    }
    free(line);
    if (in)
        fclose(in);
    else
        close(fds[0]);
    int status = 0;
    if (pid < 0)
        rc = cell_err_set(err, errno, "cell %s: apply: fork", p->c->name);
    else if (waitpid(pid, &status, 0) == pid && !(WIFEXITED(status) && WEXITSTATUS(status) == 0) && rc == 0)
        rc = cell_err_set(err, 0, "cell %s: apply: the actions ended early (status %d)", p->c->name,
                          WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    actions_release(&prep);
    cell_spec_free(&spec);
    return rc;
}

/* ---- the steps ------------------------------------------------------------ */

static int celld_op(struct cm *cm, const char *op, const char *name, json_t *args, struct cell_err *err)
{
    json_t *req = json_pack("{s:s}", "op", op);
    if (name)
        json_object_set_new(req, "name", json_string(name));
    if (args)
        json_object_set(req, "args", args);
    json_t *answer = cm_celld_call(cm, req, true, err);
    json_decref(answer);
    return answer ? 0 : -1;
}

static void format_utc(char *out, size_t len)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* applied.json: what this apply made of the cell. A deferred policy keeps
 * the hash it had, so the cell stays pending until it restarts. */
static int store_applied(struct cm *cm, const struct plan_cell *p, struct cell_err *err)
{
    const struct cm_cell *c = p->c;
    const char *policy = c->hashes.policy;
    json_t *old_args = json_object_get(c->applied, "args");
    if (p->policy_deferred)
        policy = json_string_value(json_object_get(json_object_get(c->applied, "hashes"), "policy"));
    char when[32];
    format_utc(when, sizeof when);
    json_t *o = json_pack("{s:s, s:{s:s, s:s?, s:s, s:s}, s:O, s:b, s:s}", "name", c->name, "hashes", "service",
                          c->hashes.service, "policy", policy, "manifest", c->hashes.manifest, "apply", c->hashes.apply,
                          "args", p->policy_deferred && old_args ? old_args : p->declaration, "apply_present",
                          p->actions != NULL, "applied_at", when);
    char path[PATH_MAX + 96];
    snprintf(path, sizeof path, "%s/%s/applied.json", cm->cells, c->name);
    char *text = o ? json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    json_decref(o);
    int rc = text && write_file_atomic(path, text, strlen(text), 0644, true) == 0
                 ? 0
                 : cell_err_set(err, errno, "cell %s: apply: write %s", c->name, path);
    free(text);
    return rc;
}

static bool depends_failed(const struct plan *plan, const struct plan_cell *p, char *which, size_t len)
{
    size_t k;
    json_t *dep;
    json_array_foreach(p->c->desired->depends_on, k, dep)
    {
        for (size_t i = 0; i < plan->ncells; i++) {
            const struct plan_cell *q = &plan->cells[i];
            if ((q->failed || q->skipped) && strcmp(q->c->name, json_string_value(dep)) == 0) {
                snprintf(which, len, "%s", q->c->name);
                return true;
            }
        }
    }
    return false;
}

static int apply_cell(struct cm *cm, struct plan *plan, struct plan_cell *p, int output_fd, struct cell_err *err)
{
    const char *name = p->c->name;
    if (p->c->desired == NULL) { /* an orphan */
        if (p->run == RUN_FORGET && celld_op(cm, "delete", name, NULL, err) < 0)
            return -1;
        return 0;
    }
    char dep[64];
    if (depends_failed(plan, p, dep, sizeof dep)) {
        p->skipped = true;
        return cell_err_set(err, 0, "cell %s: skipped: it depends on %s, which failed", name, dep);
    }
    char dir[PATH_MAX + 64];
    snprintf(dir, sizeof dir, "%s/%s", cm->cells, name);
    if (cell_mkdirs(dir, 0755, err) < 0)
        return -1;
    if ((p->run == RUN_RESTART || p->run == RUN_STOP || (p->run_actions && p->c->running)) &&
        celld_op(cm, "stop", name, NULL, err) < 0)
        return -1;
    if (p->run_actions && run_actions(cm, p, output_fd, err) < 0)
        return -1;
    if (p->declare && !p->policy_deferred && celld_op(cm, "declare", NULL, p->declaration, err) < 0)
        return -1;
    if ((p->run == RUN_START || p->run == RUN_RESTART || (p->run_actions && p->c->running)) &&
        celld_op(cm, "start", name, NULL, err) < 0)
        return -1;
    return store_applied(cm, p, err);
}

/* ---- the report ------------------------------------------------------------ */

static const char *yes_no(bool b)
{
    return b ? "YES" : "NO";
}

static void report(const struct plan *plan, const struct apply_opts *o)
{
    printf("APPLY REPORT (%s)\n", o->dry_run ? "DRY-RUN" : "APPLY");
    if (plan->nvolumes) {
        printf("\n[VOLUME]\n%-20s %-5s %s\n", "VOLUME", "MODE", "CHG");
        for (size_t i = 0; i < plan->nvolumes; i++) {
            const struct plan_volume *pv = &plan->volumes[i];
            printf("%-20s %04o  %s%s%s\n", pv->v->name, pv->v->desired->mode, yes_no(pv->changed),
                   pv->failed ? "  FAILED: " : "", pv->failed ? pv->error : "");
        }
    }
    printf("\n[CELL]\n%-20s %-4s %-9s %-4s %-4s %-4s %-4s %-11s %s\n", "CELL", "CHG", "APPLY", "CFG", "SVC", "POL",
           "RT", "RUN", "AUTO");
    for (size_t i = 0; i < plan->ncells; i++) {
        const struct plan_cell *p = &plan->cells[i];
        bool declared = p->c->desired != NULL;
        printf("%-20s %-4s %-10s %-4s %-4s %-4s %-4s %-11s %s", p->c->name, yes_no(p->changed),
               declared ? apply_doc_names[p->doc] : "-", declared ? yes_no(p->svc || p->pol) : "-",
               declared ? yes_no(p->svc) : "-", declared ? yes_no(p->pol) : "-", declared ? yes_no(p->rt) : "-",
               run_step_names[p->run], declared ? yes_no(p->c->desired->autostart) : "-");
        if (p->failed || p->skipped)
            printf("  %s: %s", p->skipped ? "SKIPPED" : "FAILED", p->error);
        printf("\n");
    }
    bool any_doc = false;
    for (size_t i = 0; i < plan->ncells; i++)
        any_doc |= plan->cells[i].c->desired && plan->cells[i].doc != APPLY_NONE;
    if (any_doc) {
        printf("\n[APPLY]\n%-20s %-10s %-7s %s\n", "CELL", "STATE", "ACTIONS", "RUN");
        for (size_t i = 0; i < plan->ncells; i++) {
            const struct plan_cell *p = &plan->cells[i];
            if (p->c->desired && p->doc != APPLY_NONE)
                printf("%-20s %-10s %-7zu %s\n", p->c->name, apply_doc_names[p->doc], json_array_size(p->actions),
                       yes_no(p->run_actions));
        }
    }
    bool any_action = false;
    for (size_t i = 0; i < plan->ncells; i++)
        any_action |= plan->cells[i].run_actions;
    if (any_action) {
        printf("\n[ACTIONS]\n%-20s %-3s %-48s %s\n", "CELL", "#", "ACTION", "RESULT");
        for (size_t i = 0; i < plan->ncells; i++) {
            const struct plan_cell *p = &plan->cells[i];
            if (!p->run_actions)
                continue;
            size_t k;
            json_t *action;
            json_array_foreach(p->actions, k, action)
            {
                char what[256];
                action_describe(action, what, sizeof what);
                json_t *r = json_array_get(p->results, k);
                const char *result = o->dry_run                                    ? "pending"
                                     : r == NULL                                   ? (p->failed ? "not run" : "-")
                                     : !json_is_true(json_object_get(r, "ok"))     ? "FAILED"
                                     : json_is_true(json_object_get(r, "changed")) ? "changed"
                                                                                   : "unchanged";
                printf("%-20s %-3zu %-48.48s %s\n", p->c->name, k + 1, what, result);
            }
        }
    }
    printf("\n");
}

/* ---- the commands ------------------------------------------------------------ */

void cmd_apply_help(void)
{
    printf("usage: cell apply [--all | NAME...] [--dry-run] [--force] [--restart-changed]\n"
           "                  [--silent] [-v|-vv]\n"
           "\n"
           "Converge the host to the desired state: the *.lua files of the config\n"
           "directory (cell-spec(5)). Volumes are made, cells no longer declared are\n"
           "stopped, and each cell, dependencies first, gets its runtime directory,\n"
           "its apply actions (run inside its filesystem view), its declaration in\n"
           "celld, and is started when autostart (stopped when not).\n"
           "\n"
           "  --all              every cell (also the default without NAMEs)\n"
           "  --dry-run          only print what would change; exit 2 if anything would\n"
           "  --force            run the apply actions again even when unchanged\n"
           "  --restart-changed  also restart running cells whose policy (create =\n"
           "                     {...}) changed; otherwise that waits for their restart\n"
           "  --silent           print nothing but errors\n"
           "  -v, -vv            show the actions' output; -vv: also what cell does\n"
           "\n"
           "exit status: 0 applied (or nothing to change), 1 failed, 2 a dry run found\n"
           "changes. A service change restarts a running cell.\n");
}

static int parse_apply_opts(int argc, char **argv, struct apply_opts *o)
{
    static const struct option longopts[] = {
        {"all", no_argument, NULL, 'a'},    {"dry-run", no_argument, NULL, 'n'},
        {"force", no_argument, NULL, 'f'},  {"restart-changed", no_argument, NULL, 'r'},
        {"silent", no_argument, NULL, 's'}, {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},   {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    optind = 1;
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, "+vh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'a':
            o->all = true;
            break;
        case 'n':
            o->dry_run = true;
            break;
        case 'f':
            o->force = true;
            break;
        case 'r':
            o->restart_changed = true;
            break;
        case 's':
            o->silent = true;
            break;
        case 'v':
            o->verbose++;
            break;
        case 'h':
            cmd_apply_help();
            return 0;
        default:
            cm_error("%s: unknown option \"%s\" (see cell apply --help)", argv[0], argv[optind - 1]);
            return -1;
        }
    }
    if (o->all && optind < argc) {
        cm_error("%s: --all or NAMEs, not both", argv[0]);
        return -1;
    }
    if (optind == argc)
        o->all = true;
    if (o->verbose > 1)
        cell_log_set_level(CELL_LOG_DEBUG);
    return optind;
}

static int apply(struct cm *cm, const struct apply_opts *o, int argc, char **argv, int first)
{
    struct cell_err err = {0};
    struct cm_world w;
    /* an apply starts celld first: one that was killed takes its cells over,
     * so the plan sees what really runs */
    if (!o->dry_run) {
        struct cm_world probe;
        if (world_load(cm, CM_WORLD_DESIRED, &probe, &err) < 0) {
            cm_error("%s: %s (nothing was changed)", argv[0], err.msg);
            return CM_FAILED;
        }
        world_free(&probe);
        json_decref(cm_celld_call(cm, json_pack("{s:s}", "op", "ping"), true, &err));
    }
    if (world_load(cm, CM_WORLD_DESIRED | CM_WORLD_RUNTIME, &w, &err) < 0) {
        cm_error("%s: %s (nothing was changed)", argv[0], err.msg);
        return CM_FAILED;
    }
    struct plan plan;
    if (make_plan(cm, &w, o, argc, argv, first, &plan, &err) < 0) {
        cm_error("%s", err.msg);
        plan_free(&plan);
        world_free(&w);
        return CM_FAILED;
    }
    int rc = CM_OK;
    if (o->dry_run) {
        rc = plan.changes ? CM_USAGE : CM_OK;
    } else {
        for (size_t i = 0; i < plan.nvolumes; i++) {
            struct plan_volume *pv = &plan.volumes[i];
            if (pv->changed && volume_ensure(cm, pv->v->name, pv->v->desired->mode, &err) < 0) {
                pv->failed = true;
                snprintf(pv->error, sizeof pv->error, "%s", err.msg);
                cm_error("%s", err.msg);
                rc = CM_FAILED;
            }
        }
        for (size_t i = 0; rc == CM_OK && i < plan.ncells; i++) {
            struct plan_cell *p = &plan.cells[i];
            if (!p->changed && !p->run_actions)
                continue;
            memset(&err, 0, sizeof err);
            if (apply_cell(cm, &plan, p, o->verbose ? STDERR_FILENO : -1, &err) < 0) {
                p->failed = !p->skipped;
                snprintf(p->error, sizeof p->error, "%s", err.msg);
                cm_error("%s", err.msg);
            }
        }
        for (size_t i = 0; i < plan.ncells; i++)
            if (plan.cells[i].failed || plan.cells[i].skipped)
                rc = CM_FAILED;
    }
    if (!o->silent) {
        report(&plan, o);
        if (o->dry_run)
            printf(plan.changes ? "%zu change%s to make (cell apply makes %s)\n" : "nothing to change\n", plan.changes,
                   plan.changes == 1 ? "" : "s", plan.changes == 1 ? "it" : "them");
        else if (rc == CM_OK)
            printf(plan.changes ? "applied %zu change%s\n" : "nothing to change\n", plan.changes,
                   plan.changes == 1 ? "" : "s");
        else
            printf("apply failed: see the errors above\n");
    }
    plan_free(&plan);
    world_free(&w);
    return rc;
}

int cmd_apply(int argc, char **argv, struct cm *cm)
{
    struct apply_opts o;
    int first = parse_apply_opts(argc, argv, &o);
    if (first <= 0)
        return first == 0 ? CM_OK : CM_USAGE;
    return apply(cm, &o, argc, argv, first);
}

void cmd_up_help(void)
{
    printf("usage: cell up\n"
           "\n"
           "Apply the desired state (cell apply --all), then start every declared cell\n"
           "that is down, as celld's up does (cells declared with cell run -d too).\n"
           "Without *.lua files in the config directory, only the latter.\n");
}

int cmd_up(int argc, char **argv, struct cm *cm)
{
    if (argc > 1) {
        cm_error("up: takes no arguments (see cell up --help)");
        return CM_USAGE;
    }
    struct apply_opts o = {.all = true};
    char *apply_argv[] = {"apply", NULL};
    int rc = apply(cm, &o, 1, apply_argv, 1);
    if (rc != CM_OK)
        return rc;
    struct cell_err err = {0};
    json_t *answer = cm_celld_call(cm, json_pack("{s:s}", "op", "up"), true, &err);
    if (answer == NULL) {
        cm_error("up: %s", err.msg);
        return CM_FAILED;
    }
    printf("started %lld more cell(s)\n", (long long)json_integer_value(json_object_get(answer, "started")));
    json_decref(answer);
    return CM_OK;
}
