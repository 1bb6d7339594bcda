/* internal.h - what the job runner's files share (src/lib/job/): the state
 * of one run, and the helpers each lifecycle step is made of. runner.c calls
 * them in the order of the lifecycle; the public API is in cell/job.h. */
#ifndef CELL_JOB_INTERNAL_H
#define CELL_JOB_INTERNAL_H

#include "cell/job.h"

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

/* Where one run keeps its host-side state: the per-id private directory
 * <run>/jobs/<id>/ (mode 0700), holding the two tmpfs mounts the cell gets:
 *   root/      a tmpfs laid out as the cell sees it: the working directory
 *              is root/<workingDirectory>, bound writable into the cell
 *   secrets/   a tmpfs of the secret files, bound read-only at /run/secrets
 * and the lock file <run>/jobs/<id>.lock (one job per id at a time). */
struct job_dirs {
    char jobs[PATH_MAX];    /* <run>/jobs */
    char lock[PATH_MAX];    /* <run>/jobs/<id>.lock */
    char private[PATH_MAX]; /* <run>/jobs/<id> */
    char root[PATH_MAX];    /* private/root: the working directory's tmpfs */
    char work[PATH_MAX];    /* root + workingDirectory: the bind's source */
    char secrets[PATH_MAX]; /* private/secrets */
    int lock_fd;            /* flock'ed; -1 when not held */
    bool made_private, mounted_root, mounted_secrets;
};

/* ---- secrets.c ---- */

/* Resolve every secretRef with `broker` and deliver it: delivery env adds
 * KEY=value entries to spec->env (wiped by secrets_wipe_env); the file
 * deliveries mount dirs->secrets (a tmpfs), write each value into the file
 * KEY (mode 0400) and bind it read-only at /run/secrets. Every value is
 * wiped from memory as soon as it is delivered. Errors name the key, never
 * a value. */
int secrets_deliver(struct cell_spec *spec, const struct cell_job *job, const struct cell_secret_broker *broker,
                    struct job_dirs *dirs, struct cell_err *err);
/* Wipe and free the secret entries of spec->env (once the workload has its
 * environment, or on failure). */
void secrets_wipe_env(struct cell_spec *spec);
/* Revoke: the files unlinked, their tmpfs unmounted and its directory
 * removed, and the broker's leases dropped. -1 with err when something could
 * not be removed (teardown goes on). */
int secrets_revoke(const struct cell_job *job, const struct cell_secret_broker *broker, struct job_dirs *dirs,
                   struct cell_err *err);

/* ---- artifacts.c ---- */

/* Copy each declared artifact out of dirs->root (the cell's working
 * directory as the cell saw it) into <export_dir>/<id>/<name>. One that
 * fails (missing, not a regular file, a link leading out of the working
 * directory) is reported and skipped; the others are still exported.
 * Returns a new JSON object {"exported": [{name, path, bytes}], "errors":
 * [{name, error}]} (NULL when out of memory). */
json_t *artifacts_export(const struct cell_job *job, const struct job_dirs *dirs, const char *export_dir);

/* ---- events.c ---- */

/* A random RFC 4122 version 4 UUID, as text (37 bytes with the NUL). */
void job_uuid(char out[37]);
/* The time now as RFC 3339 in UTC with milliseconds. */
void job_rfc3339_now(char out[32]);
/* Append one CloudEvents 1.0 JSON line of `type` with `data` (stolen) to
 * the file at `path` (one write() per line, O_APPEND), or do nothing when
 * path is NULL. -1 with err when it cannot be written. */
int events_emit(const char *path, const char *type, json_t *data, struct cell_err *err);
#define JOB_EVENT_STARTED "io.cellos.cell.lifecycle.v1.started"
#define JOB_EVENT_COMPLETED "io.cellos.cell.command.v1.completed"
#define JOB_EVENT_DESTROYED "io.cellos.cell.lifecycle.v1.destroyed"

/* ---- report.c ---- */

/* What the residue check looks for: the cell's cgroup directories (from
 * cell_instance_save's "cgroup"), its cgroup leaf name (any process still
 * in a cgroup of that name is one of the cell's), and the private paths. */
struct job_traces {
    json_t *cgroup; /* cell_instance_save()'s "cgroup" object, or NULL */
    const struct job_dirs *dirs;
    bool egress;              /* the cell had a link out (sandbox/egress.c) */
    const char *egress_netns; /* where its other end was; NULL: the host */
};
/* The residue check: an array of {"kind", "what"} for everything of the
 * cell that is still there: processes, cgroup directories, mounts under the
 * private directory, secret files, the private directories. Empty when
 * nothing is left. */
json_t *residue_check(const struct job_traces *traces);

/* Monotonic milliseconds. */
uint64_t job_now_ms(void);

#endif
