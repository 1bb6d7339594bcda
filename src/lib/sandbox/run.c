/* run.c - cell_run(): the parent side of a cell, in the order it happens.
 *
 *   1. check what can be checked before anything exists (rlimits, ids)
 *   2. make the v2 leaf (and a unified host's limits), fix the v1 leaves'
 *      paths; start the cleanup keeper, which knows them all
 *   3. clone3() init into new namespaces (on v2 straight into its leaf)
 *   4. while a root cell's init builds its filesystem: make the v1 leaves
 *      and write their limits (init joins them itself); in a user namespace,
 *      write the id maps and move init into the v1 leaves; then say "go"
 *   5. wait for the workload's exec (or a setup error)
 *   6. relay signals, the terminal and the timeout until init exits; take
 *      the workload's exact status from init
 *   7. report OOM kills, remove the cgroups, release the keeper
 */
#include "sandbox/sandbox.h"
#include "util.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

/* Host ids that --userns maps the cell's 0-65535 to when the caller is root. */
#define USERNS_ROOT_BASE 100000
#define USERNS_ROOT_SIZE 65536

static const int relayed_signals[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH};

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* Limits a rootless cell cannot apply are named, not silently dropped. */
static void warn_rootless_limits(const struct cell_spec *spec)
{
    static const char why[] = "cgroups need root; running unprivileged";
    char size[32];
    if (spec->limits.memory_bytes) {
        cell_format_size(spec->limits.memory_bytes, size, sizeof size);
        cell_log(CELL_LOG_WARN, "cell %s: warning: --memory %s not applied: %s", spec->name, size, why);
    }
    if (spec->limits.pids)
        cell_log(CELL_LOG_WARN, "cell %s: warning: --pids not applied: %s", spec->name, why);
    if (spec->limits.cpu_millis)
        cell_log(CELL_LOG_WARN, "cell %s: warning: --cpus not applied: %s", spec->name, why);
}

static bool has_limits(const struct cell_spec *spec)
{
    return spec->limits.memory_bytes || spec->limits.pids || spec->limits.cpu_millis;
}

static int write_id_map(pid_t pid, const char *file, const char *map, struct cell_err *err)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
    if (write_file_at(AT_FDCWD, path, map, strlen(map)) < 0)
        return cell_err_set(err, errno, "user namespace: write %s \"%s\"", file, map);
    return 0;
}

static int write_id_maps(const struct cell_instance *ps, struct cell_err *err)
{
    char map[64];
    pid_t pid = ps->init_pid;
    if (ps->sb.rootless) {
        snprintf(map, sizeof map, "0 %u 1\n", (unsigned)geteuid());
        if (write_id_map(pid, "uid_map", map, err) < 0 || write_id_map(pid, "setgroups", "deny", err) < 0)
            return -1;
        snprintf(map, sizeof map, "0 %u 1\n", (unsigned)getegid());
        return write_id_map(pid, "gid_map", map, err);
    }
    snprintf(map, sizeof map, "0 %d %d\n", USERNS_ROOT_BASE, USERNS_ROOT_SIZE);
    const struct cell_oci_fs *oci = &ps->sb.spec->oci; /* an OCI bundle's own mappings */
    if (write_id_map(pid, "uid_map", oci->uid_map ? oci->uid_map : map, err) < 0)
        return -1;
    return write_id_map(pid, "gid_map", oci->gid_map ? oci->gid_map : map, err);
}

/* process.oomScoreAdj, on init before its workload exists (which inherits
 * it). Raising is always allowed; lowering below what the caller has needs
 * CAP_SYS_RESOURCE: without it the container is only likelier to be the
 * one the OOM killer picks, so that is a warning. */
static void set_oom_score_adj(const struct cell_instance *ps)
{
    char path[64], value[16];
    snprintf(path, sizeof path, "/proc/%d/oom_score_adj", (int)ps->init_pid);
    int n = snprintf(value, sizeof value, "%d", ps->sb.spec->oci.oom_score_adj);
    if (write_file_at(AT_FDCWD, path, value, (size_t)n) < 0 && errno != ESRCH)
        cell_log(CELL_LOG_WARN, "cell %s: warning: process.oomScoreAdj %s not applied: %s%s", ps->sb.spec->name, value,
                 strerror(errno),
                 errno == EACCES ? " (lowering it needs CAP_SYS_RESOURCE, which cell lacks here)" : "");
}

/* clone3 from a helper that entered the user namespace an OCI bundle
 * joins: namespaces belong to the user namespace of the process that makes
 * them, so init's must be made from inside it; CLONE_PARENT makes init our
 * child all the same. The helper reports init's pid (or why not) and exits.
 * Moving a process into a cgroup from inside a user namespace may be
 * refused: then init is made outside its v2 cgroup, and moved here. */
static long clone_in_user_ns(struct cell_instance *ps, struct clone_args *args, struct cell_err *err)
{
    const struct cell_spec *spec = ps->sb.spec;
    int pipefd[2];
    struct {
        long pid;
        int errnum;
        bool into_cgroup;
    } r = {-1, 0, false};
    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return cell_err_set(err, errno, "join the user namespace %s: pipe", spec->ns.join_user);
    pid_t helper = fork();
    if (helper == 0) {
        close(pipefd[0]);
        args->flags = (args->flags & ~(uint64_t)CLONE_PIDFD) | CLONE_PARENT;
        args->exit_signal = 0; /* clone3 wants none with CLONE_PARENT: init's is ours, SIGCHLD */
        /* the pid namespace first, while we hold the host's capabilities;
         * it is for our children only, so the pid we report is ours */
        int join_pid = ps->sb.join_fd[SANDBOX_JOIN_PID];
        if (join_pid >= 0 && setns(join_pid, CLONE_NEWPID) < 0) {
            r.errnum = errno;
        } else if (setns(ps->sb.join_fd[SANDBOX_JOIN_USER], CLONE_NEWUSER) < 0) {
            r.errnum = errno;
        } else {
            r.into_cgroup = (args->flags & CLONE_INTO_CGROUP) != 0;
            r.pid = syscall(SYS_clone3, args, sizeof *args);
            if (r.pid < 0 && r.into_cgroup && (errno == EPERM || errno == EACCES)) {
                args->flags &= ~(uint64_t)CLONE_INTO_CGROUP;
                r.into_cgroup = false;
                r.pid = syscall(SYS_clone3, args, sizeof *args);
            }
            if (r.pid == 0)
                sandbox_init_main(&ps->sb);
            r.errnum = r.pid < 0 ? errno : 0;
        }
        _exit(write(pipefd[1], &r, sizeof r) == (ssize_t)sizeof r ? 0 : 1);
    }
    close(pipefd[1]);
    ssize_t n = helper < 0 ? -1 : read(pipefd[0], &r, sizeof r);
    int saved = errno;
    close(pipefd[0]);
    if (helper > 0)
        while (waitpid(helper, NULL, 0) < 0 && errno == EINTR)
            ;
    if (n != (ssize_t)sizeof r)
        return cell_err_set(err, helper < 0 ? saved : 0, "join the user namespace %s: the helper failed",
                            spec->ns.join_user);
    if (r.pid < 0)
        return cell_err_set(err, r.errnum, "join the user namespace %s", spec->ns.join_user);
    ps->pidfd = (int)syscall(SYS_pidfd_open, (pid_t)r.pid, 0); /* our child: its pid is not reused before we wait */
    if (ps->pidfd < 0) {
        kill((pid_t)r.pid, SIGKILL);
        return cell_err_set(err, errno, "join the user namespace %s: pidfd of init", spec->ns.join_user);
    }
    if (!r.into_cgroup && (args->flags & CLONE_INTO_CGROUP)) {
        char value[24];
        int len = snprintf(value, sizeof value, "%ld", r.pid);
        if (write_file_at(ps->cg.v2_fd, "cgroup.procs", value, (size_t)len) < 0) {
            kill((pid_t)r.pid, SIGKILL);
            return cell_err_set(err, errno, "cgroup: move init into %s", ps->cg.v2_path);
        }
    }
    return r.pid;
}

static int start_init(struct cell_instance *ps, struct cell_err *err)
{
    const struct cell_spec *spec = ps->sb.spec;
    /* a namespace an OCI bundle joins is not made new: init joins it */
    uint64_t flags = CLONE_PIDFD;
    if (ps->sb.join_fd[SANDBOX_JOIN_MOUNT] < 0) /* else init enters it and copies it */
        flags |= CLONE_NEWNS;
    int own_pid_ns = -1, join_pid = ps->sb.join_fd[SANDBOX_JOIN_PID];
    if (join_pid < 0) {
        flags |= CLONE_NEWPID;
    } else if (!spec->ns.join_user) { /* a pid namespace is for the caller's children: ours for a moment */
        own_pid_ns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
        if (own_pid_ns < 0 || setns(join_pid, CLONE_NEWPID) < 0) {
            int e = errno;
            if (own_pid_ns >= 0)
                close(own_pid_ns);
            return cell_err_set(err, e, "join the pid namespace %s", spec->ns.join_pid);
        }
    }
    if (!spec->ns.join_ipc)
        flags |= CLONE_NEWIPC;
    if (!spec->ns.join_uts)
        flags |= CLONE_NEWUTS;
    if (spec->net_mode == CELL_NET_NONE && !spec->ns.join_net)
        flags |= CLONE_NEWNET;
    if (ps->sb.userns && !spec->ns.join_user)
        flags |= CLONE_NEWUSER;
    struct clone_args args = {
        .flags = flags,
        .pidfd = (uint64_t)(uintptr_t)&ps->pidfd,
        .exit_signal = SIGCHLD,
    };
    if (ps->have_cgroup && ps->cg.v2_fd >= 0) {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = (uint64_t)ps->cg.v2_fd;
    }
    long pid = spec->ns.join_user ? clone_in_user_ns(ps, &args, err) : syscall(SYS_clone3, &args, sizeof args);
    int clone_errno = errno;
    if (pid == 0)
        sandbox_init_main(&ps->sb);
    if (own_pid_ns >= 0) { /* our later children (hooks, keeper) are in our own again */
        int back = setns(own_pid_ns, CLONE_NEWPID);
        close(own_pid_ns);
        if (back < 0) {
            cell_log(CELL_LOG_ERROR, "cell %s: return to cell's own pid namespace: %s", spec->name, strerror(errno));
            abort(); /* never go on with a foreign namespace for our children */
        }
    }
    if (pid < 0 && spec->ns.join_user)
        return -1; /* err says why */
    if (pid < 0 && clone_errno == ENOMEM && join_pid >= 0)
        return cell_err_set(err, 0, "join the pid namespace %s: its init has exited (the namespace is ending)",
                            spec->ns.join_pid);
    if (pid < 0)
        return cell_err_set(err, clone_errno, "create the cell's namespaces (clone3)");
    ps->init_pid = (pid_t)pid;
    return 0;
}

/* Wait for the workload's exec. Returns 0 on exec, or -1 with the error that
 * init or the workload reported (and its exit code in *code). */
static int wait_for_exec(struct cell_instance *ps, int *code, struct cell_err *err)
{
    return sandbox_read_report(ps->report_read, code, err);
}

/* "go" to init; a detached cell's init also gets our end of the socket to
 * keep (see CELL_STATUS_HOLD_FD). */
static int send_go(struct cell_instance *ps)
{
    return send_with_fds(ps->go_write, "g", 1, &ps->go_write, ps->detached ? 1 : 0) == 1 ? 0 : -1;
}

static int arm_timeout(struct cell_instance *ps, unsigned seconds, struct cell_err *err)
{
    ps->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    struct itimerspec its = {.it_value = {.tv_sec = seconds}};
    if (ps->timerfd < 0 || timerfd_settime(ps->timerfd, 0, &its, NULL) < 0)
        return cell_err_set(err, errno, "timeout: create a timer");
    return 0;
}

static void kill_cell(struct cell_instance *ps)
{
    syscall(SYS_pidfd_send_signal, ps->pidfd, SIGKILL, NULL, 0);
    if (ps->have_cgroup)
        cgroup_kill_all(&ps->cg);
}

/* Relay signals, the timeout and the terminal until init exits. */
static void relay(struct cell_instance *ps, struct cell_result *result)
{
    enum { FD_INIT, FD_SIGNAL, FD_TIMER, FD_MASTER, FD_STDIN, FD_COUNT };
    struct pollfd fds[FD_COUNT] = {
        [FD_INIT] = {.fd = ps->pidfd, .events = POLLIN},
        [FD_SIGNAL] = {.fd = ps->sigfd, .events = POLLIN},
        [FD_TIMER] = {.fd = ps->timerfd, .events = POLLIN},
        [FD_MASTER] = {.fd = ps->tty.master, .events = POLLIN},
        [FD_STDIN] = {.fd = ps->tty.master >= 0 ? STDIN_FILENO : -1, .events = POLLIN},
    };
    for (;;) {
        if (poll(fds, FD_COUNT, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (fds[FD_SIGNAL].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read(ps->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
                if ((int)si.ssi_signo == SIGWINCH && ps->tty.master >= 0)
                    tty_copy_winsize(&ps->tty);
                syscall(SYS_pidfd_send_signal, ps->pidfd, (int)si.ssi_signo, NULL, 0);
            }
        }
        if (fds[FD_TIMER].revents & POLLIN) {
            result->timed_out = true;
            kill_cell(ps);
            fds[FD_TIMER].fd = -1;
        }
        if (fds[FD_MASTER].revents && tty_pump_master(&ps->tty) < 0)
            fds[FD_MASTER].fd = -1;
        if (fds[FD_STDIN].revents && tty_pump_stdin(&ps->tty) < 0)
            fds[FD_STDIN].fd = -1;
        if (fds[FD_INIT].revents & POLLIN)
            break;
    }
    /* whatever the cell wrote last is still in the terminal's buffer */
    while (ps->tty.master >= 0 && fds[FD_MASTER].fd >= 0) {
        struct pollfd p = {.fd = ps->tty.master, .events = POLLIN};
        if (poll(&p, 1, 0) <= 0 || tty_pump_master(&ps->tty) < 0)
            break;
    }
}

/* Reap init (waiting for it if need be); returns the cell's exit code and
 * fills the result's status fields. */
static int reap(struct cell_instance *ps, struct cell_result *result)
{
    siginfo_t info = {0};
    if (ps->adopted) { /* not our child: its parent reaps it; wait for the end */
        struct pollfd end = {.fd = ps->pidfd, .events = POLLIN};
        while (poll(&end, 1, -1) < 0 && errno == EINTR)
            ;
    } else {
        while (waitid(P_PIDFD, (id_t)ps->pidfd, &info, WEXITED) < 0 && errno == EINTR)
            ;
    }
    /* init sends the workload's exact wait status before it exits */
    int raw;
    if (ps->go_write >= 0 && recv(ps->go_write, &raw, sizeof raw, MSG_DONTWAIT) == (ssize_t)sizeof raw) {
        if (WIFSIGNALED(raw)) {
            result->term_signal = WTERMSIG(raw);
            return 128 + WTERMSIG(raw);
        }
        result->exit_status = WEXITSTATUS(raw);
        return WEXITSTATUS(raw);
    }
    /* init itself ended (killed, or failed before the workload ran); an
     * adopted init that sent no status was killed: it never fails after that */
    if (ps->adopted) {
        result->term_signal = SIGKILL;
        return 128 + SIGKILL;
    }
    if (info.si_code == CLD_EXITED)
        return info.si_status;
    result->term_signal = info.si_status;
    return 128 + info.si_status;
}

static void teardown(struct cell_instance *ps)
{
    struct cell_err err;
    if (ps->have_cgroup) {
        if (cgroup_destroy(&ps->cg, &err) < 0)
            cell_log(CELL_LOG_WARN, "cell %s: warning: %s", ps->sb.spec->name, err.msg);
        ps->have_cgroup = false;
    }
    if (ps->keeper > 0)
        keeper_release(ps->keeper_fd, ps->keeper);
    ps->keeper = 0;
    tty_restore(&ps->tty);
    if (ps->egress.host_if[0] && egress_teardown(&ps->egress, &err) < 0)
        cell_log(CELL_LOG_WARN, "cell %s: warning: %s", ps->sb.spec->name, err.msg);
    free(ps->egress_targets);
    ps->egress_targets = NULL;
    close_fd(&ps->go_write);
    close_fd(&ps->report_read);
    close_fd(&ps->sb.go_read);
    close_fd(&ps->sb.report_write);
    for (int i = 0; i < SANDBOX_JOIN_COUNT; i++)
        close_fd(&ps->sb.join_fd[i]);
    close_fd(&ps->sb.parent_pidfd);
    close_fd(&ps->timerfd);
    close_fd(&ps->pidfd);
    if (ps->sigfd >= 0) { /* only an interactive run changed the mask */
        close_fd(&ps->sigfd);
        sigprocmask(SIG_SETMASK, &ps->old_mask, NULL);
    }
}

/* Steps 1-2: everything that can fail before a process exists. */
/* The namespaces an OCI bundle joins, opened here (where the paths are) and
 * checked to be namespaces of the right kind. */
static int open_joined_namespaces(struct cell_instance *ps, struct cell_err *err)
{
    const struct cell_spec *spec = ps->sb.spec;
    const char *paths[SANDBOX_JOIN_COUNT] = {
        [SANDBOX_JOIN_NET] = spec->ns.join_net,  [SANDBOX_JOIN_IPC] = spec->ns.join_ipc,
        [SANDBOX_JOIN_UTS] = spec->ns.join_uts,  [SANDBOX_JOIN_CGROUP] = spec->ns.join_cgroup,
        [SANDBOX_JOIN_PID] = spec->ns.join_pid,  [SANDBOX_JOIN_MOUNT] = spec->ns.join_mount,
        [SANDBOX_JOIN_USER] = spec->ns.join_user};
    static const int types[SANDBOX_JOIN_COUNT] = {CLONE_NEWNET, CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWCGROUP,
                                                  CLONE_NEWPID, CLONE_NEWNS,  CLONE_NEWUSER};
    static const char *const names[SANDBOX_JOIN_COUNT] = {"network", "ipc", "uts", "cgroup", "pid", "mount", "user"};
    for (int i = 0; i < SANDBOX_JOIN_COUNT; i++) {
        if (paths[i] == NULL)
            continue;
        int fd = open(paths[i], O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return cell_err_set(err, errno, "%s namespace %s", names[i], paths[i]);
        ps->sb.join_fd[i] = fd;
        int type = ioctl(fd, NS_GET_NSTYPE);
        if (type < 0)
            return cell_err_set(err, errno == ENOTTY ? 0 : errno, "%s namespace %s: not a namespace", names[i],
                                paths[i]);
        if (type != types[i])
            return cell_err_set(err, 0, "%s namespace %s: a namespace of another kind", names[i], paths[i]);
    }
    return 0;
}

static int prepare(struct cell_instance *ps, struct cell_err *err)
{
    const struct cell_spec *spec = ps->sb.spec;
    if (rlimits_check(spec, err) < 0 || open_joined_namespaces(ps, err) < 0)
        return -1;
    if (spec->negress && ps->sb.rootless)
        return cell_err_set(err, 0, "--egress: needs root (the link out is made in the host's network namespace)");
    /* the hosts are resolved before the cell exists */
    if (spec->negress &&
        egress_resolve(spec->egress, spec->negress, &ps->egress_targets, &ps->negress_targets, err) < 0)
        return -1;
    if (ps->sb.rootless && (spec->uid != 0 || spec->gid != 0))
        return cell_err_set(err, 0,
                            "--user %u:%u: an unprivileged caller's cell maps only the caller, as 0:0; "
                            "run as root to choose another user or group",
                            (unsigned)spec->uid, (unsigned)spec->gid);
    /* the kernel forbids setgroups in a user namespace an unprivileged
     * caller makes, so the caller's own groups stay (shown as nogroup) */
    if (ps->sb.rootless && spec->ngroups > 0)
        return cell_err_set(err, 0,
                            "--group: an unprivileged caller's cell cannot set supplementary groups (the kernel "
                            "denies setgroups in its user namespace); run as root, or drop --group");
    if (ps->sb.rootless) {
        warn_rootless_limits(spec);
    } else {
        struct cgroup_layout layout; /* only while the cgroups are made: 20 KiB */
        if (cgroup_layout_detect(&layout, err) < 0)
            return -1;
        if (cgroup_layout_usable(&layout)) {
            if (cgroup_create_early(&layout, spec, ps->owner, ps->generation, &ps->cg, err) < 0)
                return -1;
            ps->have_cgroup = true;
            ps->sb.cgroup = &ps->cg;
        } else if (has_limits(spec)) {
            return cell_err_set(err, 0, "--memory/--pids/--cpus: no writable cgroup hierarchy on this host");
        }
    }
    privilege_prepare();
    int go[2], report[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, go) < 0)
        return cell_err_set(err, errno, "create the start socket");
    ps->sb.go_read = go[0];
    ps->go_write = go[1];
    if (pipe2(report, O_CLOEXEC) < 0)
        return cell_err_set(err, errno, "create the report pipe");
    ps->report_read = report[0];
    ps->sb.report_write = report[1];
    if (ps->detached)
        return 0; /* its supervisor cleans up; the cell outlives its starter */
    ps->sb.parent_pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
    if (ps->sb.parent_pidfd < 0)
        return cell_err_set(err, errno, "open a pidfd for cell run");
    fcntl(ps->sb.parent_pidfd, F_SETFD, FD_CLOEXEC);
    if (ps->have_cgroup) {
        ps->keeper = keeper_start(&ps->cg, spec->env, &ps->keeper_fd, err);
        if (ps->keeper < 0) {
            ps->keeper = 0;
            return -1;
        }
    }
    return 0;
}

/* What only an interactive `cell run` needs: relayed signals, the timeout,
 * the terminal. */
static int prepare_interactive(struct cell_instance *ps, struct cell_err *err)
{
    const struct cell_spec *spec = ps->sb.spec;
    sigset_t mask;
    sigemptyset(&mask);
    for (size_t i = 0; i < ARRAY_SIZE(relayed_signals); i++)
        sigaddset(&mask, relayed_signals[i]);
    sigprocmask(SIG_BLOCK, &mask, &ps->old_mask);
    ps->sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
    if (ps->sigfd < 0)
        return cell_err_set(err, errno, "create a signalfd");
    if (spec->timeout_sec && arm_timeout(ps, spec->timeout_sec, err) < 0)
        return -1;
    if (spec->tty) {
        if (tty_prepare(&ps->tty, err) < 0)
            return -1;
        ps->sb.tty_sock = ps->tty.child_sock;
    }
    return 0;
}

struct cell_instance *sandbox_instance_new(const struct cell_spec *spec, const struct cell_start_opts *opts)
{
    struct cell_instance *ps = calloc(1, sizeof *ps);
    if (ps == NULL)
        return NULL;
    *ps = (struct cell_instance){
        .sb = {.spec = spec,
               .go_read = -1,
               .report_write = -1,
               .parent_pidfd = -1,
               .tty_sock = -1,
               .stdio = {-1, -1, -1},
               .listen_fd = -1,
               .notify_fd = -1,
               .held = {-1, -1},
               .init_exec_fd = -1,
               .join_fd = SANDBOX_JOIN_NONE,
               .gate_fd = -1},
        .detached = opts && opts->detached,
        .keeper_fd = -1,
        .go_write = -1,
        .report_read = -1,
        .sigfd = -1,
        .timerfd = -1,
        .pidfd = -1,
        .tty = {.master = -1, .parent_sock = -1, .child_sock = -1},
    };
    if (opts) {
        for (int i = 0; i < 3; i++)
            ps->sb.stdio[i] = opts->stdio[i];
        ps->sb.listen_fd = opts->listen_fd > 0 ? opts->listen_fd : -1;
        ps->sb.notify_fd = opts->notify_fd > 0 ? opts->notify_fd : -1;
        ps->generation = opts->generation;
        if (opts->owner > 0)
            ps->owner = opts->owner;
        ps->sb.init_exec_fd = opts->init_exec_fd > 0 ? opts->init_exec_fd : -1;
        ps->sb.gate_fd = opts->start_gate_fd > 0 ? opts->start_gate_fd : -1;
        for (int i = 0; i < CELL_HELD_FDS && ps->detached; i++)
            ps->sb.held[i] = opts->held_fds[i] > 0 ? opts->held_fds[i] : -1;
    }
    ps->sb.detached = ps->detached;
    if (ps->owner == 0)
        ps->owner = getpid();
    ps->sb.rootless = geteuid() != 0;
    ps->sb.userns = ps->sb.rootless || spec->ns.userns;
    sigprocmask(SIG_SETMASK, NULL, &ps->old_mask);
    return ps;
}

/* Steps 1-5: from nothing to the workload's exec. On failure everything
 * started is killed and removed again, and *code says how it failed. */
static int launch(struct cell_instance *ps, int *code, struct cell_err *err)
{
    const struct cell_spec *spec = ps->sb.spec;
    *code = CELL_EXIT_SETUP;
    cell_log(CELL_LOG_DEBUG, "cell %s: preparing", spec->name);
    if (prepare(ps, err) < 0 || start_init(ps, err) < 0)
        goto fail;
    cell_log(CELL_LOG_DEBUG, "cell %s: init started as pid %d", spec->name, (int)ps->init_pid);
    if (ps->keeper > 0)
        keeper_arm(ps->keeper_fd, ps->init_pid);
    /* the child's copies; ours would keep the pipes open */
    close_fd(&ps->sb.go_read);
    close_fd(&ps->sb.report_write);
    close_fd(&ps->tty.child_sock);
    /* meanwhile a root cell's init builds its filesystem (see init.c) */
    /* a joined user namespace has its maps */
    if ((ps->sb.userns && !spec->ns.join_user && write_id_maps(ps, err) < 0) ||
        (ps->have_cgroup && cgroup_create_late(spec, &ps->cg, err) < 0))
        goto fail;
    /* a root cell's init joins its v1 cgroups itself (cheaper, see
     * cgroup_join_self); in a user namespace it may not, so we move it.
     * ESRCH: init already failed; its report, read below, says why */
    if (ps->have_cgroup && ps->sb.userns && cgroup_attach(&ps->cg, ps->init_pid, err) < 0 && err->errnum != ESRCH)
        goto fail;
    if (spec->oci.oom_score_adj_set)
        set_oom_score_adj(ps);
    /* the link out and its rules, before the workload may run */
    if (spec->negress &&
        egress_setup(ps->init_pid, ps->egress_targets, ps->negress_targets, spec->egress_netns, &ps->egress, err) < 0)
        goto fail;
    /* init may have failed already: no SIGPIPE, its report says why */
    if (send_go(ps) < 0 && errno != EPIPE) {
        cell_err_set(err, errno, "start the cell");
        goto fail;
    }
    cell_log(CELL_LOG_DEBUG, "cell %s: maps and cgroups set, init released", spec->name);
    if (spec->tty)
        tty_receive_master(&ps->tty);
    if (wait_for_exec(ps, code, err) < 0)
        goto fail;
    cell_log(CELL_LOG_DEBUG, "cell %s: workload started", spec->name);
    return 0;
fail:
    cell_err_prefix(err, "cell %s: ", spec->name);
    if (ps->pidfd >= 0) {
        kill_cell(ps);
        siginfo_t info;
        waitid(P_PIDFD, (id_t)ps->pidfd, &info, WEXITED);
    }
    teardown(ps);
    return -1;
}

/* Steps 6-7 after init exited: its status, OOM, cgroups removed. */
static void collect(struct cell_instance *ps, struct cell_result *result)
{
    int status = reap(ps, result);
    cell_log(CELL_LOG_DEBUG, "cell %s: init exited with %d", ps->sb.spec->name, status);
    result->exit_code = status;
    if (ps->have_cgroup)
        result->oom_killed = cgroup_oom_killed(&ps->cg);
    if (result->timed_out)
        result->exit_code = CELL_EXIT_TIMEOUT;
    teardown(ps);
    cell_log(CELL_LOG_DEBUG, "cell %s: torn down", ps->sb.spec->name);
}

static void result_init(struct cell_result *result)
{
    memset(result, 0, sizeof *result);
    result->exit_code = CELL_EXIT_SETUP;
    result->exit_status = -1;
}

int cell_run(const struct cell_spec *spec, const struct cell_run_opts *opts, struct cell_result *result,
             struct cell_err *err)
{
    (void)opts;
    result_init(result);
    struct cell_instance *ps = sandbox_instance_new(spec, NULL);
    if (ps == NULL)
        return cell_err_set(err, ENOMEM, "cell %s: start", spec->name);
    int code;
    if (prepare_interactive(ps, err) < 0) {
        cell_err_prefix(err, "cell %s: ", spec->name);
        teardown(ps);
        free(ps);
        return -1;
    }
    if (launch(ps, &code, err) < 0) {
        result->exit_code = code;
        free(ps);
        return -1;
    }
    relay(ps, result);
    collect(ps, result);
    free(ps);
    return 0;
}

int cell_start(const struct cell_spec *spec, const struct cell_start_opts *opts, struct cell_instance **out,
               struct cell_err *err)
{
    *out = NULL;
    struct cell_instance *ps = sandbox_instance_new(spec, opts);
    if (ps == NULL)
        return cell_err_set(err, ENOMEM, "cell %s: start", spec->name);
    int code;
    if (spec->tty) { /* the master is the starter's: cell_instance_take_tty */
        if (tty_socket(&ps->tty, err) < 0) {
            free(ps);
            return -1;
        }
        ps->sb.tty_sock = ps->tty.child_sock;
    }
    if (launch(ps, &code, err) < 0) {
        if (opts && opts->setup_exit_code)
            *opts->setup_exit_code = code;
        free(ps);
        return -1;
    }
    *out = ps;
    return 0;
}

int cell_instance_take_tty(struct cell_instance *inst)
{
    int master = inst->tty.master;
    inst->tty.master = -1;
    return master;
}

int cell_instance_pidfd(const struct cell_instance *inst)
{
    return inst->pidfd;
}

pid_t cell_instance_pid(const struct cell_instance *inst)
{
    return inst->init_pid;
}

int cell_instance_signal(struct cell_instance *inst, int sig)
{
    return (int)syscall(SYS_pidfd_send_signal, inst->pidfd, sig, NULL, 0);
}

void cell_instance_kill(struct cell_instance *inst)
{
    kill_cell(inst);
}

void cell_instance_finish(struct cell_instance *inst, struct cell_result *result)
{
    result_init(result);
    collect(inst, result);
    free(inst);
}

int cell_instance_usage(const struct cell_instance *inst, struct cell_usage *usage)
{
    memset(usage, 0, sizeof *usage);
    const char *dir = inst->cg.v2_path[0] ? inst->cg.v2_path : inst->cg.v1_path[CGROUP_V1_PIDS];
    if (!inst->have_cgroup || dir[0] == '\0')
        return -1;
    usage->oom_kills = cgroup_oom_kills(&inst->cg);
    char path[PATH_MAX + 32], text[8192];
    snprintf(path, sizeof path, "%s/cpu.stat", inst->cg.v2_path);
    if (inst->cg.v2_path[0] && read_file_at(AT_FDCWD, path, text, sizeof text) > 0) {
        char *u = strstr(text, "usage_usec ");
        if (u)
            usage->cpu_usec = strtoull(u + 11, NULL, 10);
    }
    snprintf(path, sizeof path, "%s/cgroup.procs", dir);
    if (read_file_at(AT_FDCWD, path, text, sizeof text) < 0)
        return -1;
    long page = sysconf(_SC_PAGESIZE);
    for (char *p = text; *p;) {
        char *end;
        long pid = strtol(p, &end, 10);
        if (end == p)
            break;
        usage->procs++;
        char statm[128], file[64];
        snprintf(file, sizeof file, "/proc/%ld/statm", pid);
        unsigned long size, resident;
        if (read_file_at(AT_FDCWD, file, statm, sizeof statm) > 0 && sscanf(statm, "%lu %lu", &size, &resident) == 2)
            usage->memory_bytes += (uint64_t)resident * (uint64_t)page;
        p = end + strspn(end, "\n");
    }
    return 0;
}
