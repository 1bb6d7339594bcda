/* oci.h - the OCI front end (src/lib/spec_oci.c): an OCI bundle's
 * config.json (runtime spec 1.0, 1.1 and 1.2, Linux) into a struct
 * cell_spec, plus the facts only an OCI runtime needs (hooks, annotations,
 * the cgroups path, ...) in a struct cell_oci.
 *
 * Nothing a config asks for is dropped silently. What cell honours is
 * mapped; what it does not honour but which only makes the container
 * stricter, or which is not isolation (a resource weight, a console size),
 * is accepted with a warning naming the field; what it cannot honour and
 * whose absence would make the container weaker (an AppArmor profile on a
 * host that has AppArmor, a time namespace, sysctls of the host, ...)
 * is refused with an error naming the field.
 * The comment at the top of src/lib/spec_oci.c lists every field.
 *
 * Seccomp: a config's own linux.seccomp is compiled with libseccomp at load
 * time (src/lib/seccomp_oci.c) into spec->custom_seccomp and applied instead
 * of cell's profile. The annotation "run.cell.profile" (high | medium | low)
 * chooses one of cell's own profiles instead (replacing linux.seccomp, with
 * a warning); with neither, the profile is high. */
#ifndef CELL_OCI_H
#define CELL_OCI_H

#include "cell/cell.h"

#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The annotation that chooses cell's seccomp profile for a bundle. */
#define CELL_OCI_PROFILE_ANNOTATION "run.cell.profile"

/* The hook lists of config.json, in the order the runtime spec runs them. */
enum cell_oci_hook_kind {
    CELL_OCI_HOOK_PRESTART,
    CELL_OCI_HOOK_CREATE_RUNTIME,
    CELL_OCI_HOOK_CREATE_CONTAINER,
    CELL_OCI_HOOK_START_CONTAINER,
    CELL_OCI_HOOK_POSTSTART,
    CELL_OCI_HOOK_POSTSTOP,
    CELL_OCI_HOOK_COUNT
};

struct cell_oci_hook {
    char *path;  /* absolute, on the host */
    char **args; /* NULL-terminated, or NULL when not given */
    char **env;  /* NULL-terminated, or NULL when not given */
    int timeout; /* seconds, > 0; 0: none */
};

struct cell_oci {
    char *oci_version;   /* as written: "1.0.2-dev" */
    char *bundle;        /* the bundle directory, absolute (not resolved through symlinks) */
    char *cgroups_path;  /* linux.cgroupsPath, or NULL */
    json_t *annotations; /* an object of strings, or NULL */
    struct cell_oci_hook *hooks[CELL_OCI_HOOK_COUNT];
    size_t nhooks[CELL_OCI_HOOK_COUNT];
    bool terminal;                          /* process.terminal (spec->tty is set too) */
    unsigned console_width, console_height; /* process.consoleSize; 0 when not given */
    bool oom_score_adj_set;                 /* process.oomScoreAdj (spec->oci has it too) */
    int oom_score_adj;
    /* What was accepted but is not honoured exactly, one line each, starting
     * with the field: "linux.resources.cpu.shares: not applied". */
    char **warnings;
    size_t nwarnings;
};

/* The host ids the container's root (its init) has: 0 without a user
 * namespace; with one the first host id linux.uidMappings / gidMappings
 * give container id 0, or cell's own mapping's; rootless, the caller's. */
void cell_oci_root_ids(const struct cell_spec *spec, uid_t *uid, gid_t *gid);

/* "prestart", "createRuntime", ... as config.json spells them. */
const char *cell_oci_hook_label(enum cell_oci_hook_kind kind);

/* Translate `config_text` (`len` bytes, a config.json) of the bundle in
 * directory `bundle` (absolute or relative to the current directory; made
 * absolute) into `spec` and `oci`, which are initialised here. Relative
 * paths in the config (root.path, bind sources) are taken from the bundle;
 * root.path must be a directory and bind sources must exist. spec->name is
 * left NULL and the spec is NOT validated: the caller sets the name (the
 * container id), then calls cell_spec_validate(). Returns 0, or -1 with
 * err naming the field and what is expected, e.g.
 * `config.json: mounts[3].destination: "proc" is not an absolute path`;
 * on failure `spec` and `oci` are left empty (freeing them is harmless). */
int cell_oci_load(const char *bundle, const char *config_text, size_t len, struct cell_spec *spec, struct cell_oci *oci,
                  struct cell_err *err);
/* The same for BUNDLE/config.json, read here (at most 4 MiB). */
int cell_oci_load_bundle(const char *bundle, struct cell_spec *spec, struct cell_oci *oci, struct cell_err *err);
/* `exec --process FILE`: replace the process of `spec` (a container's,
 * from cell_oci_load) with the OCI process object in `text`: args, env,
 * cwd, user, capabilities, rlimits, terminal. 0, or -1 with err (the spec
 * keeps its old process then). */
int cell_oci_load_process(const char *text, size_t len, struct cell_spec *spec, struct cell_oci *oci,
                          struct cell_err *err);
/* `update --resources FILE`: the limits of an OCI linux.resources object
 * (memory, pids, cpu; what cell does not apply is a warning in oci). */
int cell_oci_load_resources(const char *text, size_t len, struct cell_limits *limits, struct cell_oci *oci,
                            struct cell_err *err);
/* Free what `oci` owns and reset it. */
void cell_oci_free(struct cell_oci *oci);

/* ---- writing bundles for other runtimes (src/lib/oci_write.c) ----------------
 * The other direction: a cell_spec into a bundle that a standard runtime
 * (runc, crun, runsc) runs with the isolation cell gives the spec itself.
 *
 *   process   args, env (exactly), cwd, terminal (--tty), user uid/gid/
 *             additionalGids, rlimits, noNewPrivileges true; capabilities:
 *             the kept set (cap_add) in bounding, effective, permitted and
 *             inheritable, and ambient when the uid is not 0
 *   root      spec->rootfs, read-only; without one, "rootfs" in the bundle:
 *             a directory of mount points (cell_oci_write_bundle makes it)
 *             onto which the host's /usr, /bin, /sbin, /lib* (a symlink
 *             among them is a symlink in it) and the minimal /etc entries
 *             are bound read-only, as cell's own root has them
 *   hostname  spec->hostname
 *   mounts    those of cell's filesystem: /proc, /dev (tmpfs, read-only)
 *             with devpts, /dev/shm and /dev/mqueue, a private /tmp, then
 *             --bind (recursive, nosuid, nodev, read-only unless :rw) and
 *             --tmpfs in order
 *   linux     namespaces pid, mount, ipc, uts, cgroup, network (not with
 *             --net host), user (--userns, or always when not root) with
 *             cell's mapping; resources: every device denied but the
 *             runtime's defaults, memory (memory+swap the same where the
 *             host accounts swap), pids, cpu quota/period; maskedPaths and
 *             readonlyPaths of /proc as cell's; seccomp: cell's profile,
 *             rule for rule (see docs/seccomp-profiles.md)
 *   annotations  run.cell.profile: the profile's name, so cell itself
 *             runs the bundle with its own profile
 *
 * Refused, naming the option: --timeout (not in config.json; `cell run
 * --backend oci` applies it itself), --layer, --preserve-fd, -d, and a
 * spec that came from a bundle. Differences left to the runtime: a call of
 * a foreign architecture is whatever the runtime's bad-architecture action
 * is (cell kills the process; runc the thread), and runc answers calls
 * newer than its profile's with ENOSYS rather than EPERM. */

/* The ociVersion written: the version whose fields the bundle uses (the
 * recursive mount options are 1.1's). crun 1.8 refuses "1.2.0". */
#define CELL_OCI_WRITE_VERSION "1.1.0"

/* The config.json of `spec` (validated) into *out (a new object), or -1
 * with err naming what a bundle cannot express. It reads the host (which
 * system directories and /etc entries exist; cgroup swap accounting) but
 * writes nothing. */
int cell_oci_write_config(const struct cell_spec *spec, json_t **out, struct cell_err *err);
/* The text of `config` as config.json holds it (an unlimited rlimit as the
 * integer 18446744073709551615, which a jansson integer cannot hold);
 * malloc'd, or NULL with err. */
char *cell_oci_config_text(json_t *config, struct cell_err *err);
/* Write the bundle DIR (made when missing; its parent must exist): DIR/
 * config.json from `config` (cell_oci_write_config's, perhaps with more
 * added, say linux.cgroupsPath), and for a spec without rootfs DIR/rootfs
 * with its mount points and symlinks. Refuses a DIR that has a config.json
 * (or, without rootfs, a rootfs) already. On failure what was made is
 * removed again. */
int cell_oci_write_bundle(const struct cell_spec *spec, json_t *config, const char *dir, struct cell_err *err);
/* Remove DIR and everything in it, never following a symlink or entering
 * another mount (then: an error, and the rest is left). A missing DIR is
 * fine. For a written bundle, or a runtime's state directory. */
int cell_oci_remove_tree(const char *dir, struct cell_err *err);

/* ---- running a spec with another runtime (src/lib/oci_runtime.c) -------------
 * The bundle of a spec written into a private temporary directory and run
 * by `R --root STATE run --bundle BUNDLE ID` as a child of the caller, which
 * waits for it (its exit status is the container's), kills it through `R
 * kill ID KILL`, and then removes everything (`R delete --force ID`, the
 * directory). runsc gets --network=none (host with --net host) and
 * --oci-seccomp, and the recursive mount options it does not know are
 * dropped. */
struct cell_oci_runtime_opts {
    const char *runtime;        /* runc, crun, runsc (found in PATH) or a path */
    const char *base;           /* the temporary directory's parent */
    const char *cgroup_name;    /* linux.cgroupsPath (as root); NULL: the runtime's choice */
    const int *stdio;           /* the container's stdin, stdout, stderr (-1: ours); NULL: ours */
    const sigset_t *child_mask; /* the runtime's signal mask; NULL: the caller's */
};
struct cell_oci_runtime_run {
    char runtime[PATH_MAX]; /* the executable */
    bool runsc;
    char dir[PATH_MAX - 32]; /* the temporary directory; "" once removed */
    char bundle[PATH_MAX], state[PATH_MAX], pid_file[PATH_MAX];
    char id[96];   /* NAME-PID */
    pid_t pid;     /* `R run`: a child; -1 once waited for */
    int pidfd;     /* its pidfd (poll: readable when it exited) */
    int exit_code; /* its exit status, once waited for */
    sigset_t child_mask;
};
/* The runtime's executable: runc, crun or runsc in PATH, or a path. */
int cell_oci_runtime_find(const char *runtime, char *path, size_t len, struct cell_err *err);
bool cell_oci_runtime_is_runsc(const char *runtime);
/* Write the bundle of `spec` (validated; timeout_sec 0) and start the
 * runtime. 0, or -1 with err; either way cell_oci_runtime_remove() must
 * follow. */
int cell_oci_runtime_start(const struct cell_spec *spec, const struct cell_oci_runtime_opts *opts,
                           struct cell_oci_runtime_run *run, struct cell_err *err);
/* `R kill ID KILL` (waited for); nothing once the runtime was waited for. */
void cell_oci_runtime_kill(struct cell_oci_runtime_run *run);
/* Wait for the runtime (once its pidfd is readable, this does not block);
 * its exit code: the container's status (128+N for signal N). */
int cell_oci_runtime_wait(struct cell_oci_runtime_run *run);
/* Whether the runtime made the container (its --pid-file was written): a
 * runtime that failed before exits as a workload might, but did not run it. */
bool cell_oci_runtime_started(const struct cell_oci_runtime_run *run);
/* Kill and wait when that was not done, `R delete --force ID`, remove the
 * temporary directory. -1 with err when something would not go. */
int cell_oci_runtime_remove(struct cell_oci_runtime_run *run, struct cell_err *err);

#ifdef __cplusplus
}
#endif
#endif
