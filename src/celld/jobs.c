/* jobs.c - CellOS ExecutionCell jobs handed to celld (`cell job submit`):
 * each runs to completion with libcell's cell_job_run(), the same code and
 * the same timeout and TTL rules as `cell job run`, in a runner process
 * celld forks for it (the runner blocks in its lifecycle; celld's loop must
 * not). What is kept of it is the record <data>/jobs/<id>/ (src/lib/job/
 * record.c says what it holds): celld writes it as the runner starts, the
 * runner when it ends, and celld again when the runner died without saying
 * how the job ended. The runner's stdout and stderr (the job's, and what
 * cell says of it) go to the record's output.log.
 *
 * One id, one record: a submit whose id has a record already is refused
 * (`cell job rm ID` removes a finished one), so two jobs of one id never
 * run at once and no record is lost. At shutdown the runners get SIGTERM,
 * which they pass on to their jobs, and a second one JOB_STOP_GRACE_MS
 * later, on which they kill them; celld exits once every runner has
 * finished its teardown. A runner outlives celld if celld itself is killed:
 * it still writes its record. */
#include "celld.h"
#include "request.h"
#include "util.h"

#include "cell/job.h"
#include "cell/oci.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#define JOB_STOP_GRACE_MS 2000

struct job {
    char *id;
    char dir[PATH_MAX];
    pid_t pid;
    int pidfd, stop_timerfd;
    struct watch pidfd_watch, stop_watch;
    bool dead; /* ended: freed after this batch of events */
    struct job *next;
};

static struct job *jobs, *dead_jobs;

static void job_free(struct job *j)
{
    free(j->id);
    free(j);
}

static json_t *record_start(const struct job *j, const struct request *req, const char *export_dir)
{
    char now[40];
    format_utc_now(now, sizeof now);
    json_t *r = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s}", "id", j->id, "state", "running", "source", req->source,
                          "submitted", now, "pid", (json_int_t)j->pid, "pidStart",
                          (json_int_t)cell_job_process_start(j->pid), "exportDir", export_dir);
    if (r && req->oci_runtime)
        json_object_set_new(r, "backend", json_string(req->oci_runtime));
    return r;
}

/* ---- the runner (a child of celld) ------------------------------------------ */

/* Run the job; never returns. `go` is read once celld has written the
 * record, so that the runner's final record always comes after it. */
static void runner_main(struct cell_spec *spec, struct cell_job *job, const struct request *req, const char *dir,
                        const char *export_dir, int log_fd, int go)
{
    /* celld's signal handling is not the runner's: cell_job_run() blocks
     * and relays what it needs */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    setsid(); /* a signal to celld's process group is not one to the job */
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null < 0 || dup2(null, 0) < 0 || dup2(log_fd, 1) < 0 || dup2(log_fd, 2) < 0)
        _exit(CELL_EXIT_SETUP);
    int keep[] = {go, celld.cell_init_fd};
    close_range_except(keep, ARRAY_SIZE(keep), 0);
    char byte;
    while (read(go, &byte, 1) < 0 && errno == EINTR)
        ;
    close(go);

    char events[PATH_MAX + 16];
    snprintf(events, sizeof events, "%s/events.jsonl", dir);
    struct cell_secret_broker broker;
    if (req->secrets_dir)
        cell_secret_broker_file(&broker, req->secrets_dir);
    else
        cell_secret_broker_env(&broker);
    struct cell_job_opts opts = {.root = celld.root,
                                 .export_dir = export_dir,
                                 .events_path = events,
                                 .broker = &broker,
                                 .init_exec_fd = celld.cell_init_fd,
                                 .egress_netns = req->egress_netns,
                                 .oci_runtime = req->oci_runtime};
    struct cell_job_result res;
    struct cell_err err = {0};
    int rc = cell_job_run(spec, job, &opts, &res, &err);
    if (rc < 0)
        fprintf(stderr, "cell: %s\n", err.msg);
    fflush(stderr);

    struct cell_err rerr = {0};
    json_t *record = cell_job_record_read(dir, job->id, &rerr);
    if (record == NULL)
        record = json_pack("{s:s}", "id", job->id);
    char now[40];
    format_utc_now(now, sizeof now);
    json_object_set_new(record, "state", json_string(cell_job_outcome_label(res.outcome)));
    json_object_set_new(record, "exitCode", json_integer(res.exit_code));
    json_object_set_new(record, "ended", json_string(now));
    if (rc < 0)
        json_object_set_new(record, "error", json_string(err.msg));
    if (res.report)
        json_object_set_new(record, "report", res.report);
    if (cell_job_record_write(dir, record, &rerr) < 0)
        fprintf(stderr, "cell: job %s: %s\n", job->id, rerr.msg);
    _exit(res.exit_code);
}

/* ---- celld's side -------------------------------------------------------------- */

static int make_record_dir(const char *id, char *dir, size_t len, struct cell_err *err)
{
    char jobs_dir[PATH_MAX];
    if (cell_job_record_dir(celld.root, "", jobs_dir, sizeof jobs_dir, err) < 0 || cell_mkdirs(jobs_dir, 0700, err) < 0)
        return -1;
    if (snprintf(dir, len, "%s%s", jobs_dir, id) >= (int)len)
        return cell_err_set(err, ENAMETOOLONG, "job %s: its record's path", id);
    if (mkdir(dir, 0700) < 0) {
        if (errno == EEXIST)
            return cell_err_set(err, 0,
                                "job %s: a job with this id was submitted already (see cell job status %s; "
                                "cell job rm %s removes it once it has ended)",
                                id, id, id);
        return cell_err_set(err, errno, "job %s: create %s", id, dir);
    }
    return 0;
}

/* The record directory, emptied and removed again (a submit that failed). */
static void remove_record_dir(const char *dir)
{
    struct cell_err ignored;
    cell_oci_remove_tree(dir, &ignored);
}

int job_submit(const struct request *req, json_t **answer, struct cell_err *err)
{
    struct cell_spec spec;
    struct cell_job job;
    if (celld.shutting_down)
        return cell_err_set(err, 0, "celld is shutting down: submit the job again once it is back");
    if (cell_job_load(req->source, req->document, strlen(req->document), &spec, &job, err) < 0)
        return -1;
    int rc = -1, log_fd = -1, go[2] = {-1, -1};
    struct job *j = calloc(1, sizeof *j);
    char export_dir[PATH_MAX + 8], path[PATH_MAX + 16];
    if (j == NULL || (j->id = strdup(job.id)) == NULL) {
        cell_err_set(err, ENOMEM, "job %s", job.id);
        goto out;
    }
    j->pidfd = j->stop_timerfd = -1;
    if (make_record_dir(job.id, j->dir, sizeof j->dir, err) < 0) {
        j->dir[0] = '\0';
        goto out;
    }
    if (req->export_dir)
        snprintf(export_dir, sizeof export_dir, "%s", req->export_dir);
    else
        snprintf(export_dir, sizeof export_dir, "%s/export", j->dir);
    snprintf(path, sizeof path, "%s/document.json", j->dir);
    if (write_file_atomic(path, req->document, strlen(req->document), 0600, true) < 0) {
        cell_err_set(err, errno, "job %s: write %s", job.id, path);
        goto out;
    }
    snprintf(path, sizeof path, "%s/output.log", j->dir);
    if ((log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0) {
        cell_err_set(err, errno, "job %s: create %s", job.id, path);
        goto out;
    }
    if (pipe2(go, O_CLOEXEC) < 0) {
        cell_err_set(err, errno, "job %s: pipe", job.id);
        goto out;
    }
    j->pid = fork();
    if (j->pid < 0) {
        cell_err_set(err, errno, "job %s: fork its runner", job.id);
        goto out;
    }
    if (j->pid == 0) {
        close(go[1]);
        runner_main(&spec, &job, req, j->dir, export_dir, log_fd, go[0]);
    }
    close(go[0]);
    go[0] = -1;
    json_t *record = record_start(j, req, export_dir);
    j->pidfd = (int)syscall(SYS_pidfd_open, j->pid, 0);
    if (record == NULL || cell_job_record_write(j->dir, record, err) < 0 || j->pidfd < 0) {
        if (record == NULL || j->pidfd < 0)
            cell_err_set(err, record ? errno : ENOMEM, "job %s: its record", job.id);
        json_decref(record);
        kill(j->pid, SIGKILL); /* it has not started anything: it waits for `go` */
        waitpid(j->pid, NULL, 0);
        goto out;
    }
    (void)!write(go[1], "g", 1);
    j->pidfd_watch = (struct watch){.kind = W_JOB, .owner = j};
    watch_add(j->pidfd, &j->pidfd_watch);
    j->next = jobs;
    jobs = j;
    cell_log(CELL_LOG_INFO, "celld: job %s: submitted (runner pid %d)", j->id, (int)j->pid);
    *answer = answer_ok();
    json_object_set_new(*answer, "job", record);
    j = NULL;
    rc = 0;
out:
    if (j && j->dir[0])
        remove_record_dir(j->dir);
    if (j && j->pidfd >= 0)
        close(j->pidfd);
    if (j)
        job_free(j);
    if (log_fd >= 0)
        close(log_fd);
    for (int i = 0; i < 2; i++)
        if (go[i] >= 0)
            close(go[i]);
    cell_job_free(&job);
    cell_spec_free(&spec);
    return rc;
}

/* The runner ended: reaped, and its record completed if it could not. */
static void job_ended(struct job *j)
{
    int status = 0;
    watch_del(j->pidfd);
    close(j->pidfd);
    j->pidfd = -1;
    if (j->stop_timerfd >= 0) {
        watch_del(j->stop_timerfd);
        close(j->stop_timerfd);
        j->stop_timerfd = -1;
    }
    while (waitpid(j->pid, &status, 0) < 0 && errno == EINTR)
        ;
    struct cell_err err = {0};
    json_t *record = cell_job_record_read(j->dir, j->id, &err);
    const char *state = json_string_value(json_object_get(record, "state"));
    if (record && state && strcmp(state, "lost") == 0) { /* it never wrote its end */
        char why[128], now[40];
        if (WIFSIGNALED(status))
            snprintf(why, sizeof why, "its runner was killed by signal %d before the job's end was recorded",
                     WTERMSIG(status));
        else
            snprintf(why, sizeof why, "its runner exited with %d before the job's end was recorded",
                     WEXITSTATUS(status));
        format_utc_now(now, sizeof now);
        json_object_set_new(record, "state", json_string("failed"));
        json_object_set_new(record, "exitCode", json_integer(CELL_EXIT_SETUP));
        json_object_set_new(record, "ended", json_string(now));
        json_object_set_new(record, "error", json_string(why));
        if (cell_job_record_write(j->dir, record, &err) < 0)
            cell_log(CELL_LOG_ERROR, "celld: job %s: %s", j->id, err.msg);
        cell_log(CELL_LOG_WARN, "celld: job %s: %s", j->id, why);
        /* its cell went with it (the keeper); its mounts did not */
        if (cell_job_clear(celld.root, j->id, false, &err) < 0)
            cell_log(CELL_LOG_ERROR, "celld: job %s: clear what its runner left: %s", j->id, err.msg);
    } else {
        cell_log(CELL_LOG_INFO, "celld: job %s: %s (exit %d)", j->id, state ? state : "ended",
                 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    }
    json_decref(record);
    for (struct job **p = &jobs; *p; p = &(*p)->next)
        if (*p == j) {
            *p = j->next;
            break;
        }
    j->dead = true;
    j->next = dead_jobs;
    dead_jobs = j;
}

void job_event(void *owner, bool timer)
{
    struct job *j = owner;
    if (j->dead)
        return;
    if (!timer) {
        job_ended(j);
        return;
    }
    uint64_t ticks;
    (void)!read(j->stop_timerfd, &ticks, sizeof ticks);
    watch_del(j->stop_timerfd);
    close(j->stop_timerfd);
    j->stop_timerfd = -1;
    kill(j->pid, SIGTERM); /* the second: the runner kills the job */
}

void jobs_stop_all(void)
{
    for (struct job *j = jobs; j; j = j->next) {
        if (j->stop_timerfd >= 0)
            continue;
        kill(j->pid, SIGTERM); /* passed on to the job */
        j->stop_timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        struct itimerspec its = {
            .it_value = {.tv_sec = JOB_STOP_GRACE_MS / 1000, .tv_nsec = (JOB_STOP_GRACE_MS % 1000) * 1000000L}};
        if (j->stop_timerfd < 0 || timerfd_settime(j->stop_timerfd, 0, &its, NULL) < 0) {
            kill(j->pid, SIGTERM); /* no grace, then */
            continue;
        }
        j->stop_watch = (struct watch){.kind = W_JOB_STOP, .owner = j};
        watch_add(j->stop_timerfd, &j->stop_watch);
    }
}

bool jobs_all_ended(void)
{
    return jobs == NULL;
}

void jobs_free_dead(void)
{
    while (dead_jobs) {
        struct job *j = dead_jobs;
        dead_jobs = j->next;
        job_free(j);
    }
}
