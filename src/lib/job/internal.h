/* internal.h - what the job runner's files share (src/lib/job/): the state
 * of one run, and the helpers each lifecycle step is made of. runner.c calls
 * them in the order of the lifecycle; the public API is in cell/job.h. */
#ifndef CELL_JOB_INTERNAL_H
#define CELL_JOB_INTERNAL_H

#include "cell/job.h"
#include "cell/oci.h"
#include "sandbox/egress.h"

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

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
    char oci[PATH_MAX];     /* private/oci: --backend oci's bundle and runtime state (a tmpfs) */
    int lock_fd;            /* flock'ed; -1 when not held */
    bool made_private, mounted_root, mounted_secrets, mounted_oci;
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
/* Append one CloudEvents 1.0 JSON line of `type` with `data` (stolen) to
 * the file opts->events_path (one write() per line, O_APPEND) and hand it
 * to opts->event_sink; nothing when there is neither. -1 with err when it
 * cannot be written. */
int job_events_emit(const struct cell_job_opts *opts, const char *type, json_t *data, struct cell_err *err);
#define JOB_EVENT_STARTED "io.cellos.cell.lifecycle.v1.started"
#define JOB_EVENT_COMPLETED "io.cellos.cell.command.v1.completed"
#define JOB_EVENT_DESTROYED "io.cellos.cell.lifecycle.v1.destroyed"

/* ---- oci.c ---- */

/* A job run by another OCI runtime (--backend oci). */
struct job_oci {
    struct cell_oci_runtime_run run;
    bool started;    /* run needs cell_oci_runtime_remove */
    pid_t holder;    /* the process holding the network namespace (not under runsc); -1 */
    dev_t netns_dev; /* that namespace's nsfs inode */
    ino_t netns_ino;
    struct egress_link link; /* egress: the link out */
    json_t *cgroup;          /* the cgroups the runtime makes, as residue_check wants them */
};
/* The network namespace of process `pid` (its nsfs device and inode); false
 * when it cannot be read. */
bool job_netns_of(pid_t pid, dev_t *dev, ino_t *ino);
/* Mount the tmpfs for the bundle, make the network scope (egress rules),
 * start opts->oci_runtime on the bundle of `spec` with stdin `devnull` and
 * the signal mask `child_mask`. -1 with err; job_oci_remove() must follow
 * either way. */
int job_oci_start(struct cell_spec *spec, const struct cell_job *job, const struct cell_job_opts *opts,
                  struct job_dirs *dirs, struct job_oci *o, int devnull, const sigset_t *child_mask,
                  struct cell_err *err);
/* The container gone (killed if need be), the runtime's state, the bundle
 * and its tmpfs removed, the link and the network namespace gone. */
int job_oci_remove(struct job_oci *o, struct job_dirs *dirs, struct cell_err *err);

/* ---- sweeper.c ---- */

/* The process that removes what the runner leaves if it is killed. */
struct job_sweeper {
    pid_t pid; /* -1: none */
    int sock;  /* the runner's end; -1 once done */
};
/* Fork it (before any secret is in the runner's memory). */
int sweeper_start(struct job_sweeper *s, const char *root, const char *id, struct cell_err *err);
/* Tell it the container to delete if the runner dies. */
void sweeper_oci(struct job_sweeper *s, const char *runtime, const char *state, const char *id);
/* The runner's teardown is over: the sweeper goes. */
void sweeper_release(struct job_sweeper *s);
/* ... and is reaped (released first if it was not). */
void sweeper_reap(struct job_sweeper *s);

/* ---- report.c ---- */

/* What the residue check looks for: the cell's cgroup directories
 * (cell_instance_save()'s "cgroup", or the runtime's, as {"v2", "v1"}) and
 * what their cgroup.procs list, the private paths, its network namespace,
 * its link out. */
struct job_traces {
    json_t *cgroup; /* cell_instance_save()'s "cgroup" object, or NULL */
    const struct job_dirs *dirs;
    bool egress;     /* the cell had a link out (sandbox/egress.c) */
    dev_t netns_dev; /* the cell's network namespace (its nsfs inode); 0 0: not known */
    ino_t netns_ino;
    const char *egress_netns; /* where its other end was; NULL: the host */
};
/* The residue check: an array of {"kind", "what"} for everything of the
 * cell that is still there: processes, cgroup directories, mounts under the
 * private directory, secret files, the private directories, its network
 * namespace (a process in it, or an nsfs mount of it) and the nftables
 * table in it, its veth link. Empty when nothing is left. */
json_t *residue_check(const struct job_traces *traces);

/* Monotonic milliseconds. */
uint64_t job_now_ms(void);

#endif
