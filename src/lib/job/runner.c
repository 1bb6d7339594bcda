/* runner.c - cell_job_run(): an ExecutionCell job run to completion with
 * cell's own sandbox, one function per lifecycle step, in this order:
 *
 *   1. network scope   egress rules: the sandbox makes the link out and its
 *                      nftables rules (sandbox/egress.c) once the cell exists;
 *                      here only where its other end goes
 *   2. lock            <run>/jobs/<id>.lock (flock): one job per id
 *   3. private dir     <run>/jobs/<id>/ (0700); a stale one (its runner was
 *                      killed) is cleared first
 *   4. working dir     a tmpfs at <private>/root, bound at the working
 *                      directory instead of the cell's own tmpfs (so its
 *                      files can be exported once the job is done)
 *   5. secrets         resolved by the broker and delivered (secrets.c)
 *   6. `started`       the event
 *   7. run             cell_start(); the timeout and TTL timers, relayed
 *                      signals; the secrets wiped from the spec once the
 *                      workload has exec'd; wait for the cell's init
 *   8. `completed`     the event, with the outcome and exit code
 *   9. artifacts       copied out (artifacts.c) while the cell is ended but
 *                      not yet destroyed
 *  10. destroy         cell_instance_finish() (reap, cgroups removed), the
 *                      working directory's tmpfs unmounted
 *  11. revoke          secret files, their tmpfs, the broker's leases
 *  12. residue check   the private dir removed, then everything looked for
 *                      (report.c); the lock released
 *  13. `destroyed`     the event, with the report
 * A step that fails ends the run there and the teardown (10-13) still
 * runs, so nothing is left behind; the error says "job ID: STEP: why".
 *
 * Test hook: CELL_JOB_TEST_LEAK=cgroup makes one cgroup directory of the
 * cell survive its removal (a child cgroup is made in it first), so that a
 * test can see the residue check report it. */
#include "job/internal.h"
#include "util.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>

#include "cell/control.h"

static const int relayed_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

struct job_run {
    struct cell_spec *spec;
    const struct cell_job *job;
    const struct cell_job_opts *opts;
    struct cell_secret_broker env_broker;
    const struct cell_secret_broker *broker;
    struct job_dirs dirs;
    char run_id[37];
    bool started;      /* the `started` event went out */
    bool secrets_made; /* secrets_deliver was called: revoke */
    json_t *cgroup;    /* the cell's cgroups (cell_instance_save) */
    json_t *artifacts; /* artifacts_export's result */
    uint64_t t_begin, t_run, t_ended, t_done;
    enum cell_job_outcome outcome;
    int exit_code;
    int start_exit_code; /* cell_start failed: 125, 126 or 127 (as cell run); 0: it did not fail */
    bool oom_killed;
    sigset_t child_mask; /* the signal mask before the runner blocked the relayed ones */
    dev_t netns_dev;     /* the cell's network namespace, for the residue check; 0 0: unknown */
    ino_t netns_ino;
    struct job_oci oci; /* --backend oci */
    struct job_sweeper sweeper;
};

/* What runs the job: cell's sandbox (inst) or an OCI runtime (oci). */
struct job_cell {
    struct cell_instance *inst;
    struct job_oci *oci;
};

static int job_cell_pidfd(const struct job_cell *c)
{
    return c->inst ? cell_instance_pidfd(c->inst) : c->oci->run.pidfd;
}

static void job_cell_signal(const struct job_cell *c, int sig)
{
    if (c->inst)
        cell_instance_signal(c->inst, sig);
    else if (c->oci->run.pid > 0)
        kill(c->oci->run.pid, sig); /* the runtime passes it on */
}

static void job_cell_kill(const struct job_cell *c)
{
    if (c->inst)
        cell_instance_kill(c->inst);
    else
        cell_oci_runtime_kill(&c->oci->run);
}

const char *cell_job_outcome_label(enum cell_job_outcome outcome)
{
    switch (outcome) {
    case CELL_JOB_SUCCEEDED:
        return "succeeded";
    case CELL_JOB_TIMEOUT:
        return "timeout";
    case CELL_JOB_TTL:
        return "ttl";
    case CELL_JOB_FAILED:
        break;
    }
    return "failed";
}

static int step_failed(struct job_run *r, const char *step, struct cell_err *err)
{
    return cell_err_prefix(err, "job %s: %s: ", r->job->id, step);
}

/* The data every event has: cellId, specId, runId, correlation. */
static json_t *event_data(const struct job_run *r)
{
    json_t *d = json_pack("{s:s, s:s, s:s}", "cellId", r->spec->name ? r->spec->name : r->job->id, "specId", r->job->id,
                          "runId", r->run_id);
    const char *c = r->job->correlation;
    if (d && c) { /* an object of strings was kept as its JSON text */
        json_t *obj = c[0] == '{' ? json_loads(c, 0, NULL) : NULL;
        json_object_set_new(d, "correlation", obj ? obj : json_string(c));
    }
    return d;
}

static json_t *event_data_outcome(const struct job_run *r, int exit_code)
{
    json_t *d = event_data(r);
    if (d) {
        json_object_set_new(d, "outcome", json_string(cell_job_outcome_label(r->outcome)));
        json_object_set_new(d, "exitCode", json_integer(exit_code));
    }
    return d;
}

/* ---- 1-4: before anything runs ---------------------------------------------- */

static int step_network(struct job_run *r, struct cell_err *err)
{
    if (r->job->negress == 0)
        return 0; /* no network at all: the cell's own empty namespace */
    if (r->opts->egress_netns && (r->spec->egress_netns = strdup(r->opts->egress_netns)) == NULL) {
        cell_err_set(err, ENOMEM, "network scope");
        return step_failed(r, "network scope", err);
    }
    return 0;
}

static int join_path(char *out, const char *a, const char *b, struct cell_err *err)
{
    if (snprintf(out, PATH_MAX, "%s%s", a, b) >= PATH_MAX)
        return cell_err_set(err, ENAMETOOLONG, "%s%s", a, b);
    return 0;
}

static int step_lock(struct job_run *r, struct cell_err *err)
{
    struct cell_paths paths;
    struct job_dirs *d = &r->dirs;
    char name[80];
    if (cell_paths_init(r->opts->root, &paths, err) < 0 || join_path(d->jobs, paths.run, "/jobs", err) < 0 ||
        cell_mkdirs(d->jobs, 0700, err) < 0)
        return step_failed(r, "lock", err);
    snprintf(name, sizeof name, "/%s.lock", r->job->id);
    if (join_path(d->lock, d->jobs, name, err) < 0)
        return step_failed(r, "lock", err);
    /* the holder unlinks the file before it lets go: a lock taken on an
     * unlinked file is taken again on the new one */
    for (int attempt = 0; attempt < 100; attempt++) {
        int fd = open(d->lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0) {
            cell_err_set(err, errno, "open %s", d->lock);
            return step_failed(r, "lock", err);
        }
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
            int e = errno;
            close(fd);
            if (e == EWOULDBLOCK)
                cell_err_set(err, 0, "another job with the id \"%s\" is running (it holds %s); wait for it to end",
                             r->job->id, d->lock);
            else
                cell_err_set(err, e, "lock %s", d->lock);
            return step_failed(r, "lock", err);
        }
        struct stat held, now;
        if (fstat(fd, &held) == 0 && stat(d->lock, &now) == 0 && held.st_dev == now.st_dev &&
            held.st_ino == now.st_ino) {
            d->lock_fd = fd;
            return 0;
        }
        close(fd);
    }
    cell_err_set(err, 0, "%s keeps changing", d->lock);
    return step_failed(r, "lock", err);
}

static void release_lock(struct job_dirs *d)
{
    if (d->lock_fd < 0)
        return;
    unlink(d->lock);
    close(d->lock_fd);
    d->lock_fd = -1;
}

/* Unmount (lazily if busy) and remove one of the private mount points. */
static int remove_mount_point(const char *path, bool *mounted, struct cell_err *err)
{
    if (*mounted) {
        if (umount2(path, 0) < 0 && umount2(path, MNT_DETACH) < 0)
            return cell_err_set(err, errno, "unmount %s", path);
        *mounted = false;
    }
    if (rmdir(path) < 0 && errno != ENOENT)
        return cell_err_set(err, errno, "remove %s", path);
    return 0;
}

/* What a killed runner of this id left: its tmpfs mounts, its directories. */
static int clear_private(const struct job_dirs *d, struct cell_err *err)
{
    const char *const points[] = {d->root, d->secrets, d->oci};
    for (size_t i = 0; i < ARRAY_SIZE(points); i++) {
        while (umount2(points[i], MNT_DETACH) == 0) /* every layer, if mounted more than once */
            ;
        if (rmdir(points[i]) < 0 && errno != ENOENT)
            return cell_err_set(err, errno, "remove %s", points[i]);
    }
    if (rmdir(d->private) < 0)
        return cell_err_set(err, errno, "remove %s", d->private);
    return 0;
}

static int clear_stale(struct job_run *r, struct cell_err *err)
{
    cell_log(CELL_LOG_WARN, "cell %s: warning: %s was left by an earlier run of this job (was it killed?); removing it",
             r->job->id, r->dirs.private);
    return clear_private(&r->dirs, err);
}

/* <run>/jobs/<id>/ and what is in it, for job `id`. */
static int private_paths(struct job_dirs *d, const char *id, struct cell_err *err)
{
    char name[NAME_MAX + 2];
    snprintf(name, sizeof name, "/%s", id);
    if (join_path(d->private, d->jobs, name, err) < 0 || join_path(d->root, d->private, "/root", err) < 0 ||
        join_path(d->secrets, d->private, "/secrets", err) < 0 || join_path(d->oci, d->private, "/oci", err) < 0)
        return -1;
    return 0;
}

int cell_job_clear(const char *root, const char *id, bool wait, struct cell_err *err)
{
    struct cell_paths paths;
    struct job_dirs d = {.lock_fd = -1};
    char name[NAME_MAX + 8];
    snprintf(name, sizeof name, "/%s.lock", id);
    if (cell_paths_init(root, &paths, err) < 0 || join_path(d.jobs, paths.run, "/jobs", err) < 0 ||
        private_paths(&d, id, err) < 0 || join_path(d.lock, d.jobs, name, err) < 0)
        return -1;
    int fd = open(d.lock, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT && access(d.private, F_OK) < 0 ? 0 : clear_private(&d, err);
    int locked;
    while ((locked = flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB))) < 0 && errno == EINTR)
        ;
    if (locked < 0) { /* a runner of this id holds it: its own */
        close(fd);
        return 0;
    }
    int rc = access(d.private, F_OK) == 0 ? clear_private(&d, err) : 0;
    unlink(d.lock);
    close(fd);
    return rc;
}

static int step_private_dir(struct job_run *r, struct cell_err *err)
{
    struct job_dirs *d = &r->dirs;
    if (private_paths(d, r->job->id, err) < 0)
        return step_failed(r, "private directory", err);
    struct stat st;
    if (lstat(d->private, &st) == 0 && clear_stale(r, err) < 0)
        return step_failed(r, "private directory", err);
    if (mkdir(d->private, 0700) < 0) {
        cell_err_set(err, errno, "create %s", d->private);
        return step_failed(r, "private directory", err);
    }
    d->made_private = true;
    return 0;
}

static int step_working_dir(struct job_run *r, struct cell_err *err)
{
    struct job_dirs *d = &r->dirs;
    const char *wd = r->job->working_directory;
    if (wd == NULL)
        return 0;
    if (mkdir(d->root, 0700) < 0) {
        cell_err_set(err, errno, "create %s", d->root);
        return step_failed(r, "working directory", err);
    }
    if (mount("tmpfs", d->root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0) {
        int e = errno;
        cell_err_set(err, e, "mount a tmpfs on %s%s", d->root, e == EPERM ? " (cell job run needs root)" : "");
        return step_failed(r, "working directory", err);
    }
    d->mounted_root = true;
    if (join_path(d->work, d->root, wd, err) < 0 || make_dirs(d->work, 0755, err) < 0)
        return step_failed(r, "working directory", err);
    /* the document's tmpfs at the working directory becomes a bind of ours */
    for (size_t i = 0; i < r->spec->nmounts; i++) {
        struct cell_mount *m = &r->spec->mounts[i];
        if (m->kind == CELL_MOUNT_TMPFS && strcmp(m->destination, wd) == 0) {
            char *source = strdup(d->work);
            if (source == NULL) {
                cell_err_set(err, ENOMEM, "%s", wd);
                return step_failed(r, "working directory", err);
            }
            free(m->source);
            m->source = source;
            m->kind = CELL_MOUNT_BIND;
            m->writable = true;
            return 0;
        }
    }
    struct cell_mount m = {.kind = CELL_MOUNT_BIND, .source = d->work, .destination = (char *)wd, .writable = true};
    if (cell_spec_add_mount(r->spec, &m, err) < 0)
        return step_failed(r, "working directory", err);
    return 0;
}

static int step_secrets(struct job_run *r, struct cell_err *err)
{
    r->secrets_made = true;
    if (secrets_deliver(r->spec, r->job, r->broker, &r->dirs, err) < 0)
        return step_failed(r, "secrets", err);
    return 0;
}

/* ---- 7-9: the run ---------------------------------------------------------------- */

static int arm_timer(uint64_t deadline_ms, struct cell_err *err)
{
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    struct itimerspec its = {
        .it_value = {.tv_sec = (time_t)(deadline_ms / 1000), .tv_nsec = (long)(deadline_ms % 1000) * 1000000}};
    if (fd < 0 || timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, NULL) < 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return cell_err_set(err, e, "create a timer");
    }
    return fd;
}

/* Wait for the cell's init to exit: relay signals (a second of the same
 * kind kills the cell), kill the cell when a timer expires. */
static void wait_for_cell(struct job_run *r, const struct job_cell *cell, int sigfd, int ttl_fd, int timeout_fd)
{
    enum { FD_INIT, FD_SIGNAL, FD_TTL, FD_TIMEOUT, FD_COUNT };
    struct pollfd fds[FD_COUNT] = {
        [FD_INIT] = {.fd = job_cell_pidfd(cell), .events = POLLIN},
        [FD_SIGNAL] = {.fd = sigfd, .events = POLLIN},
        [FD_TTL] = {.fd = ttl_fd, .events = POLLIN},
        [FD_TIMEOUT] = {.fd = timeout_fd, .events = POLLIN},
    };
    bool killed = false;
    uint32_t relayed = 0;
    while (!(fds[FD_INIT].revents & (POLLIN | POLLHUP))) {
        if (poll(fds, FD_COUNT, -1) < 0) {
            if (errno == EINTR)
                continue;
            job_cell_kill(cell); /* cannot watch it any more */
            break;
        }
        if (fds[FD_SIGNAL].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read(sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
                uint32_t bit = 1u << (si.ssi_signo % 32);
                if (relayed & bit) {
                    job_cell_kill(cell);
                } else {
                    job_cell_signal(cell, (int)si.ssi_signo);
                    relayed |= bit;
                }
            }
        }
        for (int t = FD_TTL; t <= FD_TIMEOUT; t++) {
            if (!(fds[t].revents & POLLIN))
                continue;
            if (!killed) {
                r->outcome = t == FD_TTL ? CELL_JOB_TTL : CELL_JOB_TIMEOUT;
                job_cell_kill(cell);
                killed = true;
            }
            fds[FD_TTL].fd = fds[FD_TIMEOUT].fd = -1;
        }
    }
}

/* CELL_JOB_TEST_LEAK=cgroup: a child cgroup keeps the cell's first cgroup
 * directory from being removed. */
static void test_leak(const struct job_run *r)
{
    const char *leak = getenv("CELL_JOB_TEST_LEAK");
    if (leak == NULL || strcmp(leak, "cgroup") != 0 || r->cgroup == NULL)
        return;
    const char *dir = json_string_value(json_object_get(r->cgroup, "v2"));
    for (size_t i = 0; (dir == NULL || dir[0] == '\0') && i < json_array_size(json_object_get(r->cgroup, "v1")); i++)
        dir = json_string_value(json_array_get(json_object_get(r->cgroup, "v1"), i));
    char child[PATH_MAX + 8];
    if (dir && dir[0] && snprintf(child, sizeof child, "%s/leak", dir) < (int)sizeof child && mkdir(child, 0755) == 0)
        cell_log(CELL_LOG_WARN, "cell %s: test hook: %s made so that %s stays", r->job->id, child, dir);
}

static int step_run(struct job_run *r, int sigfd, struct cell_err *err)
{
    const struct cell_job *job = r->job;
    if (!job->has_run) {
        r->t_run = job_now_ms(); /* no spec.run: nothing runs; the other steps still happen */
        r->t_ended = r->t_run;
        r->outcome = CELL_JOB_SUCCEEDED;
        r->exit_code = 0;
        return 0;
    }
    cleanup_close int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    cleanup_close int ttl_fd = arm_timer(r->t_begin + job->ttl_seconds * 1000, err);
    if (devnull < 0 || ttl_fd < 0) {
        if (devnull < 0)
            cell_err_set(err, errno, "open /dev/null");
        secrets_wipe_env(r->spec);
        return step_failed(r, "run", err);
    }
    struct job_cell cell = {0};
    if (r->opts->oci_runtime) { /* another runtime runs the bundle of the spec */
        cell.oci = &r->oci;
        int rc = job_oci_start(r->spec, job, r->opts, &r->dirs, &r->oci, devnull, &r->child_mask, err);
        if (r->oci.run.state[0])
            sweeper_oci(&r->sweeper, r->oci.run.runtime, r->oci.run.state, r->oci.run.id);
        secrets_wipe_env(r->spec); /* in the bundle's config.json, on its tmpfs, now */
        r->t_run = job_now_ms();
        r->cgroup = json_incref(r->oci.cgroup);
        r->netns_dev = r->oci.netns_dev;
        r->netns_ino = r->oci.netns_ino;
        if (rc < 0)
            return step_failed(r, "run", err);
    } else {
        struct cell_start_opts so = {
            .stdio = {devnull, -1, -1}, .init_exec_fd = r->opts->init_exec_fd, .setup_exit_code = &r->start_exit_code};
        int started = cell_start(r->spec, &so, &cell.inst, err);
        secrets_wipe_env(r->spec); /* the workload has its environment (or never will) */
        r->t_run = job_now_ms();
        if (started < 0)
            return step_failed(r, "run", err);
        job_netns_of(cell_instance_pid(cell.inst), &r->netns_dev, &r->netns_ino);
        json_t *saved = cell_instance_save(cell.inst);
        r->cgroup = json_incref(json_object_get(saved, "cgroup"));
        json_decref(saved);
    }
    cleanup_close int timeout_fd = -1;
    if (job->timeout_ms && (timeout_fd = arm_timer(r->t_run + job->timeout_ms, err)) < 0) {
        job_cell_kill(&cell);
        if (cell.inst) {
            struct cell_result ignored;
            cell_instance_finish(cell.inst, &ignored);
        }
        return step_failed(r, "run", err);
    }
    r->outcome = CELL_JOB_FAILED;
    wait_for_cell(r, &cell, sigfd, ttl_fd, timeout_fd);
    r->t_ended = job_now_ms();
    /* the status, not reaped yet for cell's init (its exit code is the
     * workload's); the runtime's is the container's */
    siginfo_t info = {0};
    int code = CELL_EXIT_SETUP;
    if (cell.oci) {
        code = cell_oci_runtime_wait(&r->oci.run);
        if (code != 0 && !cell_oci_runtime_started(&r->oci.run) && r->outcome == CELL_JOB_FAILED) {
            cell_err_set(err, 0, "%s did not start the container (exit %d; its own error is above)", r->oci.run.runtime,
                         code);
            return step_failed(r, "run", err);
        }
    } else if (waitid(P_PIDFD, (id_t)cell_instance_pidfd(cell.inst), &info, WEXITED | WNOWAIT) == 0)
        code = info.si_code == CLD_EXITED ? info.si_status : 128 + info.si_status;
    bool killed = r->outcome == CELL_JOB_TIMEOUT || r->outcome == CELL_JOB_TTL;
    if (killed)
        code = CELL_EXIT_TIMEOUT;
    else
        r->outcome = code == 0 ? CELL_JOB_SUCCEEDED : CELL_JOB_FAILED;
    struct cell_err event_err = {0};
    int event_rc = job_events_emit(r->opts, JOB_EVENT_COMPLETED, event_data_outcome(r, code), &event_err);
    /* 9: the job's files, before the cell is destroyed */
    r->artifacts = artifacts_export(job, &r->dirs, r->opts->export_dir ? r->opts->export_dir : "export");
    /* 10: destroyed (reaped, cgroups removed) */
    if (cell.inst) {
        test_leak(r);
        struct cell_result result;
        cell_instance_finish(cell.inst, &result);
        r->exit_code = killed ? CELL_EXIT_TIMEOUT : result.exit_code;
        r->oom_killed = result.oom_killed;
    } else {
        r->exit_code = code;
        if (job_oci_remove(&r->oci, &r->dirs, &event_err) < 0) {
            *err = event_err;
            return step_failed(r, "destroy", err);
        }
    }
    if (event_rc < 0) {
        *err = event_err;
        return step_failed(r, "completed event", err);
    }
    return 0;
}

/* ---- 10-13: teardown ----------------------------------------------------------- */

/* Everything made is removed; the first failure goes to err (when it holds
 * no error yet). */
static int teardown(struct job_run *r, bool failed_before, struct cell_err *err)
{
    struct job_dirs *d = &r->dirs;
    struct cell_err e = {0};
    int rc = 0;
    secrets_wipe_env(r->spec);
    if (r->opts->oci_runtime && job_oci_remove(&r->oci, d, &e) < 0)
        rc = step_failed(r, "destroy", &e);
    if (d->made_private && remove_mount_point(d->root, &d->mounted_root, &e) < 0 && rc == 0)
        rc = step_failed(r, "destroy", &e);
    if (r->secrets_made && secrets_revoke(r->job, r->broker, d, &e) < 0 && rc == 0)
        rc = step_failed(r, "secrets revoked", &e);
    if (d->made_private && rmdir(d->private) < 0 && errno != ENOENT && rc == 0) {
        cell_err_set(&e, errno, "remove %s", d->private);
        rc = step_failed(r, "destroy", &e);
    }
    if (rc < 0 && !failed_before)
        *err = e;
    else if (rc < 0) /* the first error is returned; this one is said */
        cell_log(CELL_LOG_ERROR, "cell: %s", e.msg);
    return rc;
}

static json_t *make_report(const struct job_run *r, json_t *residue)
{
    json_t *report = event_data_outcome(r, r->exit_code);
    if (report == NULL)
        return NULL;
    json_object_set_new(report, "durationsMs",
                        json_pack("{s:I, s:I, s:I, s:I}", "setup", (json_int_t)(r->t_run - r->t_begin), "run",
                                  (json_int_t)(r->t_ended - r->t_run), "teardown", (json_int_t)(r->t_done - r->t_ended),
                                  "total", (json_int_t)(r->t_done - r->t_begin)));
    json_object_set_new(report, "artifacts",
                        r->artifacts ? json_incref(r->artifacts) : json_pack("{s:[], s:[]}", "exported", "errors"));
    json_object_set_new(report, "oomKilled", json_boolean(r->oom_killed));
    json_object_set_new(report, "residue", residue ? residue : json_array());
    return report;
}

int cell_job_run(struct cell_spec *spec, const struct cell_job *job, const struct cell_job_opts *opts,
                 struct cell_job_result *result, struct cell_err *err)
{
    static const struct cell_job_opts no_opts = {.init_exec_fd = -1};
    struct job_run r = {.spec = spec,
                        .job = job,
                        .opts = opts ? opts : &no_opts,
                        .dirs = {.lock_fd = -1},
                        .oci = {.holder = -1},
                        .sweeper = {.pid = -1, .sock = -1}};
    cell_secret_broker_env(&r.env_broker);
    r.broker = r.opts->broker ? r.opts->broker : &r.env_broker;
    r.outcome = CELL_JOB_FAILED;
    r.exit_code = CELL_EXIT_SETUP;
    r.t_begin = job_now_ms();
    job_uuid(r.run_id);
    *result = (struct cell_job_result){.exit_code = CELL_EXIT_SETUP, .outcome = CELL_JOB_FAILED};

    if (step_network(&r, err) < 0)
        return -1;
    /* from here on things exist: a signal may not kill us half way (the
     * run relays them to the job; they are delivered after the teardown) */
    sigset_t mask, old_mask;
    sigemptyset(&mask);
    for (size_t i = 0; i < ARRAY_SIZE(relayed_signals); i++)
        sigaddset(&mask, relayed_signals[i]);
    sigprocmask(SIG_BLOCK, &mask, &old_mask);
    r.child_mask = old_mask;
    cleanup_close int sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
    if (sigfd < 0) {
        cell_err_set(err, errno, "create a signalfd");
        sigprocmask(SIG_SETMASK, &old_mask, NULL);
        return step_failed(&r, "run", err);
    }
    if (step_lock(&r, err) < 0) {
        sigprocmask(SIG_SETMASK, &old_mask, NULL);
        return -1;
    }
    int rc = 0;
    if (sweeper_start(&r.sweeper, r.opts->root, job->id, err) < 0)
        rc = step_failed(&r, "lock", err);
    if (rc == 0 && (step_private_dir(&r, err) < 0 || step_working_dir(&r, err) < 0 || step_secrets(&r, err) < 0))
        rc = -1;
    if (rc == 0 && job_events_emit(r.opts, JOB_EVENT_STARTED, event_data(&r), err) < 0)
        rc = step_failed(&r, "started event", err);
    r.started = rc == 0;
    if (rc == 0 && step_run(&r, sigfd, err) < 0)
        rc = -1;
    if (rc < 0) { /* whatever the job did, cell failed to do its part (or the command was not there: 126, 127) */
        r.exit_code = r.start_exit_code ? r.start_exit_code : CELL_EXIT_SETUP;
        r.outcome = CELL_JOB_FAILED;
    }
    if (r.t_run == 0) /* setup lasted until it failed */
        r.t_run = job_now_ms();
    if (r.t_ended == 0)
        r.t_ended = r.t_run;
    if (teardown(&r, rc < 0, err) < 0 && rc == 0) {
        rc = -1;
        r.exit_code = CELL_EXIT_SETUP;
        r.outcome = CELL_JOB_FAILED;
    }
    struct job_traces traces = {.cgroup = r.cgroup,
                                .dirs = &r.dirs,
                                .egress = job->negress > 0,
                                .egress_netns = spec->egress_netns,
                                .netns_dev = r.netns_dev,
                                .netns_ino = r.netns_ino};
    json_t *residue = residue_check(&traces);
    sweeper_release(&r.sweeper); /* the teardown is done: it goes (reaped at the end, while it exits) */
    release_lock(&r.dirs);
    r.t_done = job_now_ms();
    json_t *report = make_report(&r, residue);
    if (r.started) {
        json_t *data = event_data_outcome(&r, r.exit_code);
        if (data && report)
            json_object_set(data, "report", report);
        struct cell_err e = {0};
        if (job_events_emit(r.opts, JOB_EVENT_DESTROYED, data, &e) < 0) {
            step_failed(&r, "destroyed event", &e);
            if (rc == 0)
                *err = e;
            else
                cell_log(CELL_LOG_ERROR, "cell: %s", e.msg);
            rc = -1;
            r.exit_code = CELL_EXIT_SETUP; /* as for the other events */
        }
    }
    json_decref(r.cgroup);
    json_decref(r.oci.cgroup);
    json_decref(r.artifacts);
    sweeper_reap(&r.sweeper);
    sigprocmask(SIG_SETMASK, &old_mask, NULL);
    *result = (struct cell_job_result){.exit_code = r.exit_code, .outcome = r.outcome, .report = report};
    return rc;
}
