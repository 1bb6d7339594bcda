/* job.h - CellOS ExecutionCell documents (apiVersion cellos.io/v1, kind
 * ExecutionCell) as cell jobs: the document's JSON read, checked more
 * strictly than a schema, and translated into a struct cell_spec plus what
 * only a job has (struct cell_job: its id, secrets, egress rules, lifetime,
 * artifacts). src/lib/spec_json.c; the document is described in
 * ../shared/docs/reference/cellos-execution-cell.md and docs/cell-job.5.
 *
 * Errors name the JSON path and what is expected, e.g.
 *   job.json: spec.run.workingDirectory: "job" is not an absolute path
 * Unknown keys are errors (a typo must not silently drop a limit or a
 * rule). */
#ifndef CELL_JOB_H
#define CELL_JOB_H

#include "cell/cell.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum cell_secret_delivery {
    CELL_SECRET_ENV,           /* "env": environment variables KEY=value */
    CELL_SECRET_BROKER,        /* "runtimeBroker": files /run/secrets/KEY (mode 0400, a private tmpfs) */
    CELL_SECRET_LEASED_BROKER, /* "runtimeLeasedBroker": the same, revoked at teardown */
};

struct cell_job_artifact {
    char *name; /* one path segment: <export-dir>/<id>/<name> */
    char *path; /* absolute, inside the cell */
};

struct cell_job {
    char *id;           /* one path segment; names the cell too */
    char *correlation;  /* spec.correlation, kept for events; or NULL */
    char **secret_refs; /* NULL-terminated; keys: letters, digits, '_' */
    size_t nsecret_refs;
    struct cell_egress_rule *egress;
    size_t negress;
    uint64_t ttl_seconds;    /* > 0 */
    bool has_run;            /* spec.run given (a job without one runs nothing) */
    char *working_directory; /* absolute; a fresh private tmpfs there; or NULL */
    uint64_t timeout_ms;     /* 0: none */
    enum cell_secret_delivery delivery;
    struct cell_job_artifact *artifacts;
    size_t nartifacts;
};

/* Translate `text` (`len` bytes, the document; `source` names it in errors,
 * e.g. the file name) into `spec` and `job`, both initialised here. The spec
 * gets: the name (the id), argv, cwd (the working directory, else "/"), an
 * empty environment (the job's environment is exactly what the document
 * and its secrets give), a network of its own (CELL_NET_NONE) with the
 * egress rules as spec->egress (the sandbox makes the link out), the limits
 * (memoryMaxBytes, cpuMax as quota/period), a timeout (timeoutMs, rounded
 * up to seconds; the runner also enforces the exact ms and the TTL), a tmpfs
 * at the working directory. The spec is validated. 0, or -1 with err, and
 * both left empty. */
int cell_job_load(const char *source, const char *text, size_t len, struct cell_spec *spec, struct cell_job *job,
                  struct cell_err *err);
/* The same for a file (at most 1 MiB). */
int cell_job_load_file(const char *path, struct cell_spec *spec, struct cell_job *job, struct cell_err *err);
/* The text of the document file `path` (at most 1 MiB; NUL-terminated,
 * malloc'd, its length in *len), as cell_job_load_file reads it; NULL with
 * err. */
char *cell_job_read_file(const char *path, size_t *len, struct cell_err *err);
void cell_job_free(struct cell_job *job);

/* ---- running a job (src/lib/job/) -----------------------------------------
 * cell_job_run() runs a loaded job to completion, natively (cell's own
 * sandbox), in the lifecycle's order:
 *   network scope (egress rules: not supported yet, an error) -> secrets
 *   resolved -> `started` event -> run -> artifacts exported -> cell
 *   destroyed -> secrets revoked -> `destroyed` event (with the report).
 * The working directory is a tmpfs the runner mounts in a private directory
 * (<run>/jobs/<id>/, mode 0700) and binds into the cell, so its files
 * outlive the cell's processes long enough to be exported; they are copied
 * out with openat2(RESOLVE_IN_ROOT), and a link leading out of the working
 * directory is refused (src/lib/job/artifacts.c says how). The timeout
 * (timeoutMs, from the workload's start) and the TTL (ttlSeconds, from the
 * start of cell_job_run) are exact timers (milliseconds): the whole cell is
 * killed when either expires. Two jobs with one id never run at once (a
 * lock file per id). */

/* Where the values of a job's secretRefs come from. resolve() returns the
 * value of `key` in *value (malloc'd; the caller wipes it with
 * explicit_bzero and frees it) and its length in *len, or -1 with err
 * naming the key (never a value). revoke() drops whatever lease the broker
 * holds for `key` (at teardown). */
struct cell_secret_broker {
    const char *name; /* "env", "file" */
    int (*resolve)(const struct cell_secret_broker *b, const char *key, char **value, size_t *len,
                   struct cell_err *err);
    void (*revoke)(const struct cell_secret_broker *b, const char *key);
    const char *dir; /* the file broker's directory */
};
/* The env broker: the value of CELL_SECRET_<KEY> in this process's
 * environment. */
void cell_secret_broker_env(struct cell_secret_broker *b);
/* The file broker: the bytes of the file DIR/KEY (at most 64 KiB), as they
 * are (a trailing newline included). */
void cell_secret_broker_file(struct cell_secret_broker *b, const char *dir);
/* A value is at most this long. */
#define CELL_SECRET_MAX (64 * 1024)

enum cell_job_outcome {
    CELL_JOB_SUCCEEDED, /* exit status 0 */
    CELL_JOB_FAILED,    /* any other status, or a setup error */
    CELL_JOB_TIMEOUT,   /* run.timeoutMs expired: killed */
    CELL_JOB_TTL,       /* lifetime.ttlSeconds expired: killed */
};
/* "succeeded", "failed", "timeout", "ttl" */
const char *cell_job_outcome_label(enum cell_job_outcome outcome);

struct cell_job_opts {
    const char *root;                        /* --root (cell_paths_init); NULL: the default */
    const char *export_dir;                  /* artifacts: EXPORT_DIR/<id>/<name>; NULL: "export" */
    const char *events_path;                 /* CloudEvents JSON lines appended here; NULL: none */
    const struct cell_secret_broker *broker; /* NULL: the env broker */
    int init_exec_fd;                        /* cell-init (cell_start_opts.init_exec_fd); -1: none */
    const char *egress_netns;                /* egressRules: the link's other end there (ip netns); NULL: host */
    const char *oci_runtime;                 /* --backend oci: runc, crun, runsc or a path; NULL: cell's sandbox */
    /* Another place for the events (--events-nats): each CloudEvent as one
     * JSON line (`len` bytes, no newline) of `type`; -1 with err fails the
     * step as an events file that cannot be written does. NULL: none. */
    int (*event_sink)(void *ctx, const char *type, const char *line, size_t len, struct cell_err *err);
    void *event_ctx;
};

struct cell_job_result {
    int exit_code; /* the job's status (128+N for signal N); 124 timeout or TTL; 125 setup error */
    enum cell_job_outcome outcome;
    /* The teardown report (a new reference; NULL when the job failed before
     * anything was made): cellId, specId, runId, exitCode, outcome,
     * durationsMs {setup, run, teardown, total}, artifacts {exported,
     * errors}, residue [{kind, what}] (empty: nothing left). */
    struct json_t *report;
};

/* Run `job` with `spec` (both from cell_job_load; the runner adds its
 * mounts and the secrets to spec, and wipes the secrets again). The job's
 * stdout and stderr are the caller's; its stdin is /dev/null; SIGINT,
 * SIGTERM, SIGHUP and SIGQUIT are passed on to it (a second one kills it).
 * Returns 0 when the job ran (whatever its status), or -1 with err ("job ID:
 * STEP: what went wrong") when a step failed; result is filled either way
 * and nothing of the job is left behind. Needs root (the tmpfs mounts). */
int cell_job_run(struct cell_spec *spec, const struct cell_job *job, const struct cell_job_opts *opts,
                 struct cell_job_result *result, struct cell_err *err);

/* What a runner of job `id` that was killed left behind (its private
 * directory's mounts and directories, its lock file), removed; nothing when
 * a runner of that id is running (with `wait`: once the lock is free). 0,
 * or -1 with err. */
int cell_job_clear(const char *root, const char *id, bool wait, struct cell_err *err);

/* ---- jobs handed to celld (`cell job submit`; src/lib/job/record.c) ---------
 * celld runs each submitted job with cell_job_run() in a runner process of
 * its own and keeps a record in <data>/jobs/<id>/: document.json, job.json
 * (state "running", then the outcome, exit code and report), output.log
 * (the job's stdout and stderr), events.jsonl and export/. `cell job status`,
 * `logs` and `rm` read it without celld. */

/* <data>/jobs/<id> of the root (NULL: the default); id "" gives the jobs
 * directory with a '/' at the end. */
int cell_job_record_dir(const char *root, const char *id, char *out, size_t len, struct cell_err *err);
/* The start time of process `pid` (/proc/PID/stat, clock ticks since boot),
 * or 0 when there is none: a pid and its start name one process. */
unsigned long long cell_job_process_start(pid_t pid);
/* job.json of the record directory `dir`, written atomically. */
int cell_job_record_write(const char *dir, struct json_t *record, struct cell_err *err);
/* job.json of `dir` (a new reference), its state "lost" when it says
 * "running" but its runner is gone; NULL with err ("no job \"ID\"" when
 * there is no such directory). */
struct json_t *cell_job_record_read(const char *dir, const char *id, struct cell_err *err);
/* Every record of the root, as an array (unreadable ones as {id, state
 * "unreadable", error}); NULL with err. */
struct json_t *cell_job_records(const char *root, struct cell_err *err);

#ifdef __cplusplus
}
#endif

#endif
