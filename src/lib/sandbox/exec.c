/* exec.c - cell_exec(): run one more command inside a running cell: in its
 * cgroups and namespaces, under the same identity, limits, capabilities and
 * seccomp profile as its workload. The cell is found by its init's pid.
 *
 *   caller ── fork ─► helper: joins the cell's cgroups (writing "0" to them,
 *                     read from /proc/INIT/cgroup), setns() into the init's
 *                     namespaces through its pidfd, forks again (a pid
 *                     namespace takes effect for children) and waits ─►
 *                     command: sandbox_workload_exec(), as a cell's workload.
 *
 * With a terminal (cell_exec_opts.on_tty), the command opens it on the
 * cell's devpts once it is in the cell's mount namespace, and sends the
 * master over a socket pair before it execs; the caller gets it first,
 * then the report (exec'd, or why not), then the wait status.
 */
#include "sandbox/sandbox.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

/* Move the calling process into every cgroup /proc/PID/cgroup names (v1
 * memory, pids, cpu, devices, blkio and the v2 one). */
static int join_cgroups_of(pid_t pid, struct cell_err *err)
{
    char path[64], text[4096];
    snprintf(path, sizeof path, "/proc/%d/cgroup", (int)pid);
    if (read_file_at(AT_FDCWD, path, text, sizeof text) < 0)
        return cell_err_set(err, errno, "exec: read %s", path);
    struct statfs st;
    bool unified = statfs("/sys/fs/cgroup", &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char *ctrl = strchr(line, ':'), *cg = ctrl ? strchr(ctrl + 1, ':') : NULL;
        if (cg == NULL)
            continue;
        *cg++ = '\0';
        ctrl++;
        char dir[PATH_MAX];
        const char *file = "cgroup.procs";
        if (*ctrl == '\0') {
            snprintf(dir, sizeof dir, "/sys/fs/cgroup%s%s", unified ? "" : "/unified", cg);
        } else if (strcmp(ctrl, "memory") == 0 || strcmp(ctrl, "pids") == 0 || strcmp(ctrl, "cpu,cpuacct") == 0 ||
                   strcmp(ctrl, "cpu") == 0 || strcmp(ctrl, "devices") == 0 || strcmp(ctrl, "blkio") == 0) {
            snprintf(dir, sizeof dir, "/sys/fs/cgroup/%s%s", strcmp(ctrl, "cpu,cpuacct") == 0 ? "cpu" : ctrl, cg);
            file = "tasks"; /* "0": the calling thread, without the global lock */
        } else {
            continue;
        }
        if (strcmp(cg, "/") == 0)
            continue; /* the hierarchy's root: not the cell's own */
        char target[PATH_MAX + 16];
        snprintf(target, sizeof target, "%s/%s", dir, file);
        if (write_file_at(AT_FDCWD, target, "0", 1) < 0)
            return cell_err_set(err, errno, "exec: join the cell's cgroup %s", dir);
    }
    return 0;
}

/* Whether process `pid` is in a user namespace other than the caller's. */
static bool in_own_user_ns(pid_t pid)
{
    char path[64];
    struct stat mine, its;
    snprintf(path, sizeof path, "/proc/%d/ns/user", (int)pid);
    return stat("/proc/self/ns/user", &mine) == 0 && stat(path, &its) == 0 && mine.st_ino != its.st_ino;
}

static void close_pair(int pair[2])
{
    for (int k = 0; k < 2; k++)
        if (pair[k] >= 0)
            close(pair[k]);
}

/* The master the command sent, or -1 when it failed before (its report says why). */
static int receive_master(int sock)
{
    struct tty_relay relay = {.master = -1, .parent_sock = sock};
    return tty_receive_master(&relay) < 0 ? -1 : relay.master;
}

int cell_exec(pid_t init_pid, const struct cell_spec *spec, struct cell_result *result, struct cell_err *err)
{
    return cell_exec_with(init_pid, spec, NULL, result, err);
}

int cell_exec_with(pid_t init_pid, const struct cell_spec *spec, const struct cell_exec_opts *opts,
                   struct cell_result *result, struct cell_err *err)
{
    static const struct cell_exec_opts none = {0};
    if (opts == NULL)
        opts = &none;
    memset(result, 0, sizeof *result);
    result->exit_code = CELL_EXIT_SETUP;
    result->exit_status = -1;
    if (geteuid() != 0)
        return cell_err_set(err, 0, "cell %s: exec needs root", spec->name);
    int pidfd = (int)syscall(SYS_pidfd_open, init_pid, 0);
    if (pidfd < 0)
        return cell_err_set(err, errno, "cell %s: exec: find its init (pid %d)", spec->name, (int)init_pid);
    int report[2], tty[2] = {-1, -1};
    if (opts->on_tty && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, tty) < 0) {
        close(pidfd);
        return cell_err_set(err, errno, "cell %s: exec: the terminal's socket", spec->name);
    }
    if (pipe2(report, O_CLOEXEC) < 0) {
        close(pidfd);
        close_pair(tty);
        return cell_err_set(err, errno, "cell %s: exec: pipe", spec->name);
    }
    privilege_prepare();
    pid_t helper = fork();
    if (helper < 0) {
        close(pidfd);
        close(report[0]);
        close(report[1]);
        close_pair(tty);
        return cell_err_set(err, errno, "cell %s: exec: fork", spec->name);
    }
    if (helper == 0) {
        struct sandbox sb = {.spec = spec,
                             .go_read = -1,
                             .report_write = report[1],
                             .parent_pidfd = -1,
                             .tty_sock = -1,
                             .stdio = {-1, -1, -1},
                             .listen_fd = -1,
                             .notify_fd = -1,
                             .held = {-1, -1},
                             .init_exec_fd = -1,
                             .join_fd = SANDBOX_JOIN_NONE,
                             .gate_fd = -1};
        struct cell_err e = {0};
        if (join_cgroups_of(init_pid, &e) < 0)
            sandbox_fail(&sb, CELL_EXIT_SETUP, e.errnum, "%s", e.msg);
        int ns = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWCGROUP;
        if (in_own_user_ns(init_pid)) /* its ids, not the host's: a command there is never the host's root */
            ns |= CLONE_NEWUSER;
        if (setns(pidfd, ns) < 0)
            sandbox_fail(&sb, CELL_EXIT_SETUP, errno, "exec: enter the cell's namespaces");
        pid_t cmd = fork();
        if (cmd < 0)
            sandbox_fail(&sb, CELL_EXIT_SETUP, errno, "exec: fork");
        if (cmd == 0) {
            int slave = -1;
            if (tty[1] >= 0 && tty_open_in_cell(tty[1], &slave, &e) < 0)
                sandbox_fail(&sb, CELL_EXIT_SETUP, e.errnum, "exec: %s", e.msg);
            if (slave >= 0 && opts->tty_rows && opts->tty_cols) { /* sized before the command can look */
                struct winsize ws = {.ws_row = opts->tty_rows, .ws_col = opts->tty_cols};
                ioctl(slave, TIOCSWINSZ, &ws);
            }
            sandbox_workload_exec(&sb, slave);
        }
        close(report[1]);
        close_pair(tty);
        /* spec->timeout_sec: the command is killed when it runs longer */
        if (spec->timeout_sec) {
            int cmd_fd = (int)syscall(SYS_pidfd_open, cmd, 0);
            struct pollfd p = {.fd = cmd_fd, .events = POLLIN};
            int ready;
            do
                ready = poll(&p, 1, (int)spec->timeout_sec * 1000);
            while (ready < 0 && errno == EINTR);
            if (ready == 0) {
                kill(-cmd, SIGKILL); /* its process group: it leads one (setsid) */
                kill(cmd, SIGKILL);
                waitpid(cmd, NULL, 0);
                _exit(CELL_EXIT_TIMEOUT);
            }
        }
        int status;
        while (waitpid(cmd, &status, 0) < 0 && errno == EINTR)
            ;
        if (WIFSIGNALED(status)) { /* end the same way, so the caller sees the signal */
            signal(WTERMSIG(status), SIG_DFL);
            prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); /* no second core */
            kill(getpid(), WTERMSIG(status));
        }
        _exit(sandbox_exit_code(status));
    }
    close(report[1]);
    close(pidfd);
    if (tty[0] >= 0) {
        close(tty[1]); /* EOF on tty[0] when the command failed before it sent a master */
        int master = receive_master(tty[0]);
        close(tty[0]);
        if (master >= 0) {
            opts->on_tty(master, opts->ctx);
            close(master);
        }
    }
    int code;
    int rc = sandbox_read_report(report[0], &code, err);
    close(report[0]);
    if (rc == 0 && opts->on_started)
        opts->on_started(opts->ctx);
    int status;
    while (waitpid(helper, &status, 0) < 0 && errno == EINTR)
        ;
    if (rc < 0) {
        result->exit_code = code;
        return cell_err_prefix(err, "cell %s: ", spec->name);
    }
    result->exit_code = sandbox_exit_code(status);
    if (WIFSIGNALED(status))
        result->term_signal = WTERMSIG(status);
    else
        result->exit_status = WEXITSTATUS(status);
    return 0;
}
