/* sandbox.h - internals shared by the sandbox's steps: the state the parent
 * prepares before clone3() and the helpers each step is made of. The order
 * in which they run is in run.c (parent side) and init.c (inside the cell). */
#ifndef CELL_SANDBOX_H
#define CELL_SANDBOX_H

#include "cell/cell.h"
#include "sandbox/cgroup.h"
#include "sandbox/egress.h"

#include <signal.h>
#include <stdbool.h>

/* Where socket activation puts the listening socket (systemd's convention). */
#define SD_LISTEN_FDS_START 3
/* Where readiness notification puts its pipe ($CELL_NOTIFY_FD). */
#define CELL_NOTIFY_FD_NUMBER 4
/* A detached cell's init keeps the starter's end of the control socket
 * here (received with the "go"), so that the workload's wait status, which
 * init sends on its own end, can still be read by a supervisor that took the
 * cell over; the starter's held fds follow it (CELL_HELD_FD(i)). */
#define CELL_STATUS_HOLD_FD 100

/* The namespaces an OCI bundle may join by path, in sandbox.join_fd. */
enum sandbox_join {
    SANDBOX_JOIN_NET,
    SANDBOX_JOIN_IPC,
    SANDBOX_JOIN_UTS,
    SANDBOX_JOIN_CGROUP,
    SANDBOX_JOIN_PID,
    SANDBOX_JOIN_MOUNT,
    SANDBOX_JOIN_USER,
    SANDBOX_JOIN_COUNT
};
/* join_fd's initializer: none (an fd of 0 would be joined) */
#define SANDBOX_JOIN_NONE                                                                                              \
    {                                                                                                                  \
        -1, -1, -1, -1, -1, -1, -1                                                                                     \
    }
_Static_assert(SANDBOX_JOIN_COUNT == 7, "SANDBOX_JOIN_NONE has an entry per namespace");

struct sandbox {
    const struct cell_spec *spec;
    bool userns;                      /* the cell gets a new user namespace */
    bool rootless;                    /* the caller is not root */
    int go_read;                      /* init's end of the control socket: "go" arrives on it (maps and
                                       * cgroups set); the workload's wait status leaves on it */
    int report_write;                 /* child reports setup errors here; EOF means exec'd */
    int parent_pidfd;                 /* the `cell run` process: die with it; -1 when detached */
    int stdio[3];                     /* the workload's stdin/out/err; -1: the starter's own */
    int listen_fd;                    /* socket activation: becomes fd 3 (LISTEN_FDS=1); or -1 */
    int notify_fd;                    /* readiness: becomes fd 4 ($CELL_NOTIFY_FD); or -1 */
    int tty_sock;                     /* --tty: init passes the terminal's master here; else -1 */
    bool detached;                    /* the cell outlives its starter (see CELL_STATUS_HOLD_FD) */
    int held[CELL_HELD_FDS];          /* detached: init keeps these at CELL_HELD_FD(i); or -1 */
    int init_exec_fd;                 /* cell-init, which init execs once the workload runs; or -1 */
    const struct cell_cgroup *cgroup; /* v1 leaves a root cell's init joins itself; or NULL */
    int join_fd[SANDBOX_JOIN_COUNT];  /* OCI: namespaces to join, opened and checked by the
                                       * parent (which joins pid itself); or -1 */
    int gate_fd;                      /* OCI create: an O_PATH fd of the exec FIFO init waits on
                                       * before it starts the workload (cell start opens it); or -1 */
};

/* A setup failure reported from inside the cell to the parent. */
struct sandbox_report {
    int exit_code; /* CELL_EXIT_SETUP, CELL_EXIT_NOEXEC or CELL_EXIT_NOTFOUND */
    int errnum;
    char msg[480];
};

/* init.c: the cell's pid 1. Sets up the filesystem, network and hostname,
 * starts the workload, then forwards signals and reaps. Never returns. */
__attribute__((noreturn)) void sandbox_init_main(struct sandbox *sb);
/* The workload's last steps (identity, limits, fds, seccomp) and exec; also
 * used by cell_exec for a command run in an existing cell. */
__attribute__((noreturn)) void sandbox_workload_exec(struct sandbox *sb, int tty_slave);
/* The starter's side of the report pipe: 0 at EOF (the command exec'd), or
 * -1 with the reported error and its exit code (125, 126 or 127). */
int sandbox_read_report(int fd, int *code, struct cell_err *err);
/* A wait status as an exit code: the status, or 128+N for signal N. */
int sandbox_exit_code(int status);
/* Report a setup failure to the parent and exit with its code. */
__attribute__((noreturn, format(printf, 4, 5))) void sandbox_fail(const struct sandbox *sb, int exit_code, int errnum,
                                                                  const char *fmt, ...);

/* mounts.c: build the cell's root on a fresh tmpfs and pivot into it; the
 * host's root stays reachable at MOUNTS_OLDROOT until mounts_finish detaches
 * it and makes the new root read-only (unless writable_root: apply writing
 * into a layer). */
#define MOUNTS_OLDROOT "/.oldroot"
int mounts_setup(const struct cell_spec *spec, struct cell_err *err);
int mounts_finish(bool writable_root, struct cell_err *err);
/* What mounts.c builds from, for the OCI writer: the host's system
 * directories, the minimal /etc's entries (names under /etc), the /proc
 * paths it masks and those it makes read-only. */
struct mounts_list {
    const char *const *items;
    size_t n;
};
extern const struct mounts_list mounts_system_dirs, mounts_etc_entries, mounts_proc_masked, mounts_proc_readonly;
/* mounts_oci.c: an OCI bundle's filesystem, pivot_root included (the host's
 * root is gone when it returns; init joins its cgroups before) */
int mounts_setup_oci(const struct cell_spec *spec, struct cell_err *err);

/* privilege.c */
void privilege_prepare(void); /* read what the drops need while /proc is the host's */
int privilege_drop_workload(const struct cell_spec *spec, bool rootless, struct cell_err *err);
int privilege_drop_init(struct cell_err *err);
int rlimits_apply(const struct cell_spec *spec, struct cell_err *err);
/* Fail before start when a requested hard limit exceeds this host's. */
int rlimits_check(const struct cell_spec *spec, struct cell_err *err);

/* seccomp_load.c: the profile's precompiled filter, and installing it (last,
 * right before exec). */
struct sock_fprog;
int seccomp_profile_program(enum cell_profile profile, struct sock_fprog *prog);
int seccomp_profile_load(enum cell_profile profile, struct cell_err *err);
/* spec->custom_seccomp (an OCI config's own, with its flags) when there is
 * one, else the profile's */
int seccomp_load_spec(const struct cell_spec *spec, struct cell_err *err);

/* tty.c */
struct tty_relay {
    int master;      /* received from the cell */
    int parent_sock; /* cell run's end of the terminal socket */
    int child_sock;  /* init's end */
    bool stdin_raw;
    bool stdin_eof;
};
/* The socket init sends the terminal's master on (a detached cell: the
 * starter passes the master on, e.g. to an OCI console socket). */
int tty_socket(struct tty_relay *tty, struct cell_err *err);
/* cell run: the socket, and the caller's terminal in raw mode. */
int tty_prepare(struct tty_relay *tty, struct cell_err *err);
/* init: open a terminal on the cell's devpts, send its master, keep the slave. */
int tty_open_in_cell(int sock, int *slave, struct cell_err *err);
/* cell run: receive the master; -1 when init failed before sending it. */
int tty_receive_master(struct tty_relay *tty);
void tty_copy_winsize(const struct tty_relay *tty);
/* Move what is available between stdin/stdout and the master; returns -1
 * once the master is closed (the cell has no terminal any more). */
int tty_pump_master(struct tty_relay *tty);
int tty_pump_stdin(struct tty_relay *tty);
void tty_restore(struct tty_relay *tty);

/* A started cell, seen from its starter: `cell run` or celld. */
struct cell_instance {
    struct sandbox sb;
    bool detached;
    unsigned generation; /* a cell's second instance (swap) needs other cgroup names */
    pid_t owner;         /* the pid in its cgroups' names: cell.NAME.PID */
    struct cell_cgroup cg;
    bool have_cgroup;
    pid_t keeper;
    int keeper_fd;
    int go_write;
    int report_read;
    int sigfd;
    int timerfd;
    int pidfd;
    pid_t init_pid;
    bool adopted;                         /* taken over from an earlier supervisor: not our child */
    struct egress_target *egress_targets; /* spec->egress resolved before start */
    size_t negress_targets;
    struct egress_link egress; /* removed at teardown */
    struct tty_relay tty;
    sigset_t old_mask;
};

/* A new instance of `spec` with every fd closed (-1) and `opts` (may be NULL)
 * applied; NULL when out of memory (run.c; adopt.c builds on it too). */
struct cell_instance *sandbox_instance_new(const struct cell_spec *spec, const struct cell_start_opts *opts);

/* keeper.c: a small helper process that removes the cell's cgroups and
 * kills what remains if `cell run` itself is killed (SIGKILL). */
pid_t keeper_start(struct cell_cgroup *cg, char *const *env, int *control_fd, struct cell_err *err);
void keeper_arm(int control_fd, pid_t init_pid);
void keeper_release(int control_fd, pid_t keeper);

#endif
