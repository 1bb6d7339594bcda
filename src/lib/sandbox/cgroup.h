/* cgroup.h - a cgroup per cell, on cgroup v2 (unified), v1, or hybrid hosts.
 *
 * One interface, two backends. A cell's leaf directories are named
 * "cell.NAME.PID" (PID: the process that runs the cell) and created under the
 * caller's own cgroup in each hierarchy that is used (a second instance of
 * one cell, during a swap, is "cell.NAME.gN.PID"):
 *   - v2 (always, when a cgroup2 hierarchy is mounted): for CLONE_INTO_CGROUP,
 *     cgroup.kill, and, on a unified host, the limits (memory.max, pids.max,
 *     cpu.max) with the controllers enabled in the parent's subtree_control.
 *     When the caller's cgroup cannot delegate them (it holds processes: the
 *     "no internal processes" rule), the leaf goes under <v2 root>/cell/;
 *   - v1 memory, pids and cpu (hybrid and v1 hosts): the limits
 *     (memory.limit_in_bytes, pids.max, cpu.cfs_quota_us), and blkio for an
 *     OCI bundle's block device throttles (blkio.throttle.*; io.max on v2).
 * An OCI bundle's device list (spec->oci.device_cgroup) is an eBPF program
 * on the v2 leaf wherever there is one (hybrid hosts too: the kernel runs it
 * for every process in that cgroup), else the v1 devices controller's
 * devices.allow/deny (devices.h).
 * An OCI bundle's linux.cgroupsPath replaces the leaf's place and name in
 * every hierarchy: from each root ("/a/b"), or from the caller's cgroup
 * ("a/b"); missing parents are made (and left, as runc leaves them).
 * Everything is relative to a cgroupfs root directory, so tests can run the
 * same code on a fake directory tree (`fake` mode: files are created on write
 * and removed before rmdir, as a real cgroupfs does by itself).
 */
#ifndef CELL_SANDBOX_CGROUP_H
#define CELL_SANDBOX_CGROUP_H

#include "cell/cell.h"

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

enum cgroup_v1_controller {
    CGROUP_V1_MEMORY,
    CGROUP_V1_PIDS,
    CGROUP_V1_CPU,
    CGROUP_V1_DEVICES,
    CGROUP_V1_BLKIO,
    CGROUP_V1_COUNT
};

/* Where the caller's cgroups are. Empty strings mean "not available". */
struct cgroup_layout {
    bool fake;                              /* a test tree, not a cgroupfs */
    bool v2_unified;                        /* fsroot itself is cgroup2: a pure v2 host */
    char fsroot[PATH_MAX];                  /* the cgroupfs root ("/sys/fs/cgroup"); v1 roots are under it */
    char v2_root[PATH_MAX];                 /* the v2 hierarchy's mount point */
    char v2_dir[PATH_MAX];                  /* the caller's v2 cgroup directory */
    char v1_dir[CGROUP_V1_COUNT][PATH_MAX]; /* the caller's v1 cgroup per controller */
};

enum cgroup_mode { CGROUP_MODE_UNIFIED, CGROUP_MODE_HYBRID, CGROUP_MODE_V1 };

/* Build a layout from a cgroupfs root (e.g. "/sys/fs/cgroup"), how it is
 * mounted, and the text of /proc/self/cgroup. For hybrid hosts the v2 tree is
 * fsroot/unified; for v1 controllers fsroot/<controller> (memory, pids, cpu).
 * A hierarchy whose directory does not exist is left empty. */
int cgroup_layout_from(const char *fsroot, enum cgroup_mode mode, const char *self_cgroup, bool fake,
                       struct cgroup_layout *layout, struct cell_err *err);
/* The same for this host: statfs(/sys/fs/cgroup) and /proc/self/cgroup. */
int cgroup_layout_detect(struct cgroup_layout *layout, struct cell_err *err);

/* The longest cgroup directory path a cell's cgroup may have (a longer one
 * is refused, naming it). Not PATH_MAX: a supervisor keeps one struct
 * cell_cgroup per running cell, and thousands of 4 KiB paths add up. */
#define CGROUP_PATH_MAX 512

struct cell_cgroup {
    bool fake;
    char name[128];                                 /* "cell.NAME.PID" */
    char v2_path[CGROUP_PATH_MAX];                  /* "" when unused */
    int v2_fd;                                      /* O_DIRECTORY fd of v2_path, or -1 */
    char v2_shared_parent[CGROUP_PATH_MAX];         /* <v2 root>/cell when used, removed with the last cell */
    char v1_path[CGROUP_V1_COUNT][CGROUP_PATH_MAX]; /* "" when unused */
    bool v1_planned[CGROUP_V1_COUNT];               /* path known, directory not made yet */
    uint64_t memory_limit;                          /* for the OOM message */
    bool devices_bpf;                               /* the device list is an eBPF program on the v2 leaf */
};

/* Create the leaves for `spec` and write its limits. Limits that this host
 * cannot apply fail with a message naming the flag (e.g. "--memory"). On
 * failure nothing is left behind. */
int cgroup_create(const struct cgroup_layout *layout, const struct cell_spec *spec, pid_t owner, struct cell_cgroup *cg,
                  struct cell_err *err);
/* cgroup_create in two halves, so a start can overlap them with the cell's
 * own setup: _early makes what clone3 needs (the v2 leaf, and on a unified
 * host its limits) and fixes every v1 path, so the keeper knows them all;
 * _late makes the v1 leaves and writes their limits. After a failure of
 * either, cgroup_destroy removes what exists. */
int cgroup_create_early(const struct cgroup_layout *layout, const struct cell_spec *spec, pid_t owner,
                        unsigned generation, struct cell_cgroup *cg, struct cell_err *err);
int cgroup_create_late(const struct cell_spec *spec, struct cell_cgroup *cg, struct cell_err *err);
/* Put `pid` into the v1 leaves (v2 is joined at clone time). */
/* Write new limits (the non-zero ones of `limits`) into a cell's cgroups:
 * the v2 files where the controller is there, else its v1 leaf; a limit
 * whose controller the cell has neither of is an error. */
int cgroup_update_limits(struct cell_cgroup *cg, const struct cell_limits *limits, struct cell_err *err);
/* A cell's processes, from its cgroups: `sig` to each; their pids (at most
 * `max`, in *n). -1 with err when it has no cgroup or it cannot be read. */
int cgroup_signal_all(const struct cell_cgroup *cg, int sig, struct cell_err *err);
int cgroup_procs(const struct cell_cgroup *cg, pid_t *pids, size_t max, size_t *n, struct cell_err *err);
/* The v2 freezer: freeze or thaw (and wait until the kernel says it is
 * done), and whether it is frozen. */
int cgroup_freeze(const struct cell_cgroup *cg, bool frozen, struct cell_err *err);
bool cgroup_frozen(const struct cell_cgroup *cg);
int cgroup_attach(const struct cell_cgroup *cg, pid_t pid, struct cell_err *err);
/* The calling process (single-threaded) moves itself into the v1 leaves,
 * found under `prefix` (where the host's root is now, e.g. "/.oldroot").
 * Writing "0" to `tasks` spares the kernel the global threadgroup lock that
 * a cgroup.procs write takes, and with it an RCU grace period (often
 * milliseconds). */
int cgroup_join_self(const struct cell_cgroup *cg, const char *prefix, struct cell_err *err);
/* How many processes of the cell the kernel OOM-killed: oom_kill in the v2
 * memory.events and in the v1 memory.oom_control (only one of them exists
 * where the memory controller is). 0 without a memory cgroup. */
uint64_t cgroup_oom_kills(const struct cell_cgroup *cg);
/* Whether the kernel OOM-killed a process of the cell. */
bool cgroup_oom_killed(const struct cell_cgroup *cg);
/* SIGKILL every process in the cell (v2 cgroup.kill; else the v1 pids list). */
void cgroup_kill_all(const struct cell_cgroup *cg);
/* Remove every leaf; waits briefly for dying processes to leave. */
int cgroup_destroy(struct cell_cgroup *cg, struct cell_err *err);
/* Whether any hierarchy of the layout can hold limits (false: rootless or no cgroupfs). */
bool cgroup_layout_usable(const struct cgroup_layout *layout);

#endif
