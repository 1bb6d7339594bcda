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

struct cell_egress_rule {
    char *host; /* a name or an address, resolved before start */
    uint16_t port;
    char protocol[4]; /* "tcp" (default) or "udp" */
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
 * and its secrets give), no network unless egress rules are given (then
 * CELL_NET_NONE too: the job runner adds the egress link), the limits
 * (memoryMaxBytes, cpuMax as quota/period), a timeout (timeoutMs, rounded
 * up to seconds; the runner also enforces the exact ms and the TTL), a tmpfs
 * at the working directory. The spec is validated. 0, or -1 with err, and
 * both left empty. */
int cell_job_load(const char *source, const char *text, size_t len, struct cell_spec *spec, struct cell_job *job,
                  struct cell_err *err);
/* The same for a file (at most 1 MiB). */
int cell_job_load_file(const char *path, struct cell_spec *spec, struct cell_job *job, struct cell_err *err);
void cell_job_free(struct cell_job *job);

#ifdef __cplusplus
}
#endif

#endif
