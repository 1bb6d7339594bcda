/* init.c - inside the cell. The clone3() child becomes the cell's pid 1:
 * it builds the filesystem (a root cell while the parent makes its v1
 * cgroups; in a user namespace only after the parent's go-ahead), joins its
 * v1 cgroups, detaches the host's root, names the host, brings up loopback,
 * enters a cgroup namespace, then starts the workload and stays behind as a
 * tiny init that forwards signals, reaps zombies, sends the workload's exact
 * status back, and dies with `cell run` (reaper.c; a supervised cell's init
 * execs cell-init for that).
 *
 * The workload (a child of init) takes on its identity and limits and loads
 * the seccomp filter last, right before exec. Any failure before exec is
 * reported to the parent over the report pipe, which closes on exec. */
#include "sandbox/reaper.h"
#include "sandbox/sandbox.h"
#include "util.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/close_range.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

/* Signals `cell run` forwards to init, and init to the workload. */

/* Report a setup failure (a complete message) to the parent and exit. */
__attribute__((noreturn)) static void send_report(const struct sandbox *sb, int exit_code, int errnum, const char *msg)
{
    struct sandbox_report r = {.exit_code = exit_code, .errnum = errnum};
    snprintf(r.msg, sizeof r.msg, "%s", msg);
    (void)write_all(sb->report_write, &r, sizeof r);
    _exit(exit_code);
}

void sandbox_fail(const struct sandbox *sb, int exit_code, int errnum, const char *fmt, ...)
{
    char what[sizeof((struct sandbox_report *)0)->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    struct cell_err err;
    cell_err_set(&err, errnum, "%s", what);
    send_report(sb, exit_code, errnum, err.msg);
}

static void fail_with(const struct sandbox *sb, const struct cell_err *err)
{
    send_report(sb, CELL_EXIT_SETUP, err->errnum, err->msg);
}

static int loopback_up(struct cell_err *err)
{
    cleanup_close int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq ifr = {0};
    strcpy(ifr.ifr_name, "lo");
    if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
        return cell_err_set(err, errno, "network: read the flags of lo");
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
        return cell_err_set(err, errno, "network: bring lo up");
    return 0;
}

/* Look argv[0] up in the cell's PATH (from the spec's environment, not ours). */
static void resolve_command(const struct sandbox *sb, char *out, size_t len)
{
    const char *cmd = sb->spec->argv[0];
    struct stat st;
    if (strchr(cmd, '/')) {
        snprintf(out, len, "%s", cmd);
        if (stat(out, &st) < 0)
            sandbox_fail(sb, CELL_EXIT_NOTFOUND, 0, "command \"%s\" not found in the cell", cmd);
        if (S_ISDIR(st.st_mode))
            sandbox_fail(sb, CELL_EXIT_NOEXEC, 0, "command \"%s\" is a directory, not a program", cmd);
        return;
    }
    const char *path = "/usr/local/bin:/usr/bin:/bin";
    for (char **e = sb->spec->env; e && *e; e++)
        if (strncmp(*e, "PATH=", 5) == 0)
            path = *e + 5;
    bool found_noexec = false;
    for (const char *p = path; *p;) {
        size_t n = strcspn(p, ":");
        snprintf(out, len, "%.*s%s%s", (int)n, n ? p : ".", "/", cmd);
        if (stat(out, &st) == 0 && S_ISREG(st.st_mode)) {
            if (access(out, X_OK) == 0)
                return;
            found_noexec = true;
        }
        p += n + (p[n] == ':');
    }
    if (found_noexec)
        sandbox_fail(sb, CELL_EXIT_NOEXEC, EACCES, "command \"%s\" is not executable in the cell", cmd);
    sandbox_fail(sb, CELL_EXIT_NOTFOUND, 0, "command \"%s\" not found in the cell (PATH=%s)", cmd, path);
}

/* Close every fd above 2 on exec, except the ones declared with --preserve-fd
 * and, with socket activation, the listening socket at fd 3. */
static void close_inherited_fds(const struct sandbox *sb)
{
    const struct cell_spec *spec = sb->spec;
    int keep[2 + CELL_MAX_PRESERVED_FDS];
    size_t n = 0;
    if (sb->listen_fd >= 0)
        keep[n++] = SD_LISTEN_FDS_START;
    if (sb->notify_fd >= 0)
        keep[n++] = CELL_NOTIFY_FD_NUMBER;
    for (size_t i = 0; i < spec->npreserved_fds; i++)
        keep[n++] = spec->preserved_fds[i];
    close_range_except(keep, n, CLOSE_RANGE_CLOEXEC);
    for (size_t i = 0; i < n; i++)
        fcntl(keep[i], F_SETFD, 0); /* kept: open across exec */
}

/* The environment for exec: the spec's, plus LISTEN_FDS, LISTEN_PID and
 * LISTEN_FDNAMES with socket activation (systemd's convention). Built on the
 * stack: the workload shares init's memory until exec. */
#define LISTEN_ENV_COUNT 4

__attribute__((noreturn)) void sandbox_workload_exec(struct sandbox *sb, int tty_slave)
{
    const struct cell_spec *spec = sb->spec;
    struct cell_err err = {0};
    sigset_t none;
    sigemptyset(&none);
    for (int s = 1; s < NSIG; s++)
        signal(s, SIG_DFL);
    sigprocmask(SIG_SETMASK, &none, NULL);

    /* a new session: no way back to the caller's terminal (TIOCSTI) */
    setsid();
    if (tty_slave >= 0) {
        if (ioctl(tty_slave, TIOCSCTTY, 0) < 0)
            sandbox_fail(sb, CELL_EXIT_SETUP, errno, "tty: make the terminal controlling");
        for (int fd = 0; fd < 3; fd++)
            dup2(tty_slave, fd);
    }
    if (rlimits_apply(spec, &err) < 0 || privilege_drop_workload(spec, sb->rootless, &err) < 0)
        fail_with(sb, &err);
    if (chdir(spec->cwd) < 0)
        sandbox_fail(sb, CELL_EXIT_SETUP, errno, "working directory %s", spec->cwd);
    if (spec->oci.umask_set)
        umask(spec->oci.umask);
    char path[PATH_MAX];
    resolve_command(sb, path, sizeof path);
    close_inherited_fds(sb);
    size_t nenv = 0;
    while (spec->env && spec->env[nenv])
        nenv++;
    char *env[nenv + LISTEN_ENV_COUNT + 1];
    char listen_env[LISTEN_ENV_COUNT][96];
    for (size_t i = 0; i < nenv; i++)
        env[i] = spec->env[i];
    if (sb->listen_fd >= 0) {
        snprintf(listen_env[0], sizeof listen_env[0], "LISTEN_FDS=1");
        snprintf(listen_env[1], sizeof listen_env[1], "LISTEN_PID=%d", (int)getpid());
        snprintf(listen_env[2], sizeof listen_env[2], "LISTEN_FDNAMES=%s", spec->name);
        for (int i = 0; i < 3; i++)
            env[nenv++] = listen_env[i];
    }
    if (sb->notify_fd >= 0) {
        snprintf(listen_env[3], sizeof listen_env[3], "CELL_NOTIFY_FD=%d", CELL_NOTIFY_FD_NUMBER);
        env[nenv++] = listen_env[3];
    }
    env[nenv] = NULL;
    cell_log(CELL_LOG_DEBUG, "cell %s: workload: exec %s", spec->name, path);
    if (seccomp_load_spec(spec, &err) < 0)
        fail_with(sb, &err);
    execve(path, spec->argv, env);
    int e = errno;
    sandbox_fail(sb, e == ENOENT ? CELL_EXIT_NOTFOUND : CELL_EXIT_NOEXEC, e, "execute %s", path);
}

struct workload_args {
    struct sandbox *sb;
    int tty_slave;
};

__attribute__((unused)) static int workload_main(void *arg)
{
    struct workload_args *a = arg;
    sandbox_workload_exec(a->sb, a->tty_slave);
}

/* Start the workload as posix_spawn does: the child shares init's memory and
 * init waits until it has exec'd (or failed), so no page tables are copied on
 * the way to exec. The child runs on its own stack; what it changes in the
 * shared memory (libcap's small allocations, errno) is harmless to init,
 * which is suspended meanwhile and single-threaded. */
static pid_t start_workload(struct sandbox *sb, int tty_slave)
{
#if defined(__SANITIZE_ADDRESS__)
    /* AddressSanitizer cannot follow a switch to a foreign stack: fork */
    pid_t pid = fork();
    if (pid == 0)
        sandbox_workload_exec(sb, tty_slave);
    return pid;
#else
    static char stack[256 * 1024] __attribute__((aligned(16)));
    struct workload_args args = {.sb = sb, .tty_slave = tty_slave};
    return clone(workload_main, stack + sizeof stack, CLONE_VM | CLONE_VFORK | SIGCHLD, &args);
#endif
}

int sandbox_read_report(int fd, int *code, struct cell_err *err)
{
    struct sandbox_report r;
    ssize_t n;
    do
        n = read(fd, &r, sizeof r);
    while (n < 0 && errno == EINTR);
    if (n == 0)
        return 0;
    if (n == (ssize_t)sizeof r && r.exit_code == 0)
        return 0; /* OCI create: set up, waiting at the gate */
    if (n != (ssize_t)sizeof r) {
        *code = CELL_EXIT_SETUP;
        return cell_err_set(err, 0, "the cell's init died during setup");
    }
    r.msg[sizeof r.msg - 1] = '\0';
    *code = r.exit_code;
    cell_err_set(err, 0, "%s", r.msg); /* complete already, strerror included */
    err->errnum = r.errnum;
    return -1;
}

int sandbox_exit_code(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return CELL_EXIT_SETUP;
}

/* A supervised cell's init becomes cell-init (sb->init_exec_fd), which runs
 * the same reaper loop holding none of the starter's memory. The fds it
 * keeps must outlive the exec; the workload, which already runs, got none of
 * them. If the exec fails, this process runs the loop itself. */
static void become_small_init(struct sandbox *sb, pid_t workload)
{
    int keep[] = {sb->go_read, sb->parent_pidfd, CELL_STATUS_HOLD_FD, sb->held[0], sb->held[1]};
    for (size_t i = 0; i < ARRAY_SIZE(keep); i++)
        if (keep[i] >= 0)
            (void)fcntl(keep[i], F_SETFD, 0);
    char pid_text[16], status_text[16], parent_text[16];
    snprintf(pid_text, sizeof pid_text, "%d", (int)workload);
    snprintf(status_text, sizeof status_text, "%d", sb->go_read);
    snprintf(parent_text, sizeof parent_text, "%d", sb->parent_pidfd);
    char *argv[] = {"cell-init", pid_text, status_text, parent_text, NULL};
    char *envp[] = {NULL};
    syscall(SYS_execveat, sb->init_exec_fd, "", argv, envp, AT_EMPTY_PATH);
    cell_log(CELL_LOG_DEBUG, "cell %s: init: exec cell-init: %s; staying as we are", sb->spec->name, strerror(errno));
}

/* Socket activation puts the listening socket at fd 3, readiness
 * notification its pipe at fd 4, a detached cell's held fds theirs at
 * CELL_HELD_FD(i) (flags O_CLOEXEC: init's alone). Init's own fds that sit
 * there move out of the way first. */
static void place_fd(struct sandbox *sb, int *fd, int target, int flags, const char *what)
{
    int *own[] = {&sb->go_read,   &sb->report_write, &sb->parent_pidfd, &sb->tty_sock,    &sb->listen_fd,
                  &sb->notify_fd, &sb->held[0],      &sb->held[1],      &sb->init_exec_fd};
    _Static_assert(CELL_HELD_FDS == 2, "list every held fd above");
    for (size_t i = 0; i < ARRAY_SIZE(own); i++)
        if (own[i] != fd && *own[i] == target) {
            int moved = fcntl(*own[i], F_DUPFD_CLOEXEC, CELL_NOTIFY_FD_NUMBER + 1);
            if (moved < 0)
                _exit(CELL_EXIT_SETUP);
            close(*own[i]);
            *own[i] = moved;
        }
    if (*fd != target) {
        if (dup3(*fd, target, flags) < 0)
            sandbox_fail(sb, CELL_EXIT_SETUP, errno, "%s: place it at fd %d", what, target);
        *fd = target;
    }
}

/* Join the namespace the parent opened for `which` (if any), and close it. */
static void join_namespace(struct sandbox *sb, enum sandbox_join which, int type, const char *path)
{
    if (sb->join_fd[which] < 0)
        return;
    if (setns(sb->join_fd[which], type) < 0)
        sandbox_fail(sb, CELL_EXIT_SETUP, errno, "join the namespace %s", path);
    close(sb->join_fd[which]);
    sb->join_fd[which] = -1;
}

/* Close every fd above 2 except init's own and the ones the spec preserves. */
static void close_starter_fds(const struct sandbox *sb)
{
    int keep[8 + SANDBOX_JOIN_COUNT + CELL_HELD_FDS + CELL_MAX_PRESERVED_FDS] = {
        sb->go_read,   sb->report_write, sb->parent_pidfd, sb->tty_sock,
        sb->listen_fd, sb->notify_fd,    sb->init_exec_fd, sb->gate_fd};
    size_t n = 8;
    for (size_t i = 0; i < SANDBOX_JOIN_COUNT; i++)
        keep[n++] = sb->join_fd[i];
    for (size_t i = 0; i < CELL_HELD_FDS; i++)
        keep[n++] = sb->held[i];
    for (size_t i = 0; i < sb->spec->npreserved_fds; i++)
        keep[n++] = sb->spec->preserved_fds[i];
    close_range_except(keep, n, 0);
}

/* OCI create: tell the starter that everything is set up (a report with
 * exit code 0), then wait until `cell start` opens the exec FIFO for reading
 * (the open for writing blocks until then) and read its byte. */
static void wait_at_gate(struct sandbox *sb)
{
    struct sandbox_report r = {.exit_code = 0};
    snprintf(r.msg, sizeof r.msg, "waiting for start");
    if (write_all(sb->report_write, &r, sizeof r) < 0)
        _exit(CELL_EXIT_SETUP);
    /* the starter is gone by the time the workload could fail: its exit
     * status says how (127 for a missing command) */
    close(sb->report_write);
    sb->report_write = -1;
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", sb->gate_fd);
    int fd;
    do
        fd = open(path, O_WRONLY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0 || write(fd, "0", 1) != 1)
        _exit(CELL_EXIT_SETUP);
    close(fd);
    close(sb->gate_fd);
    sb->gate_fd = -1;
}

/* Wait for the parent's "go": id maps written, cgroups made and joined. A
 * detached cell's go carries the parent's end of the socket, which init
 * keeps at CELL_STATUS_HOLD_FD (see sandbox.h). */
static void wait_for_parent(struct sandbox *sb)
{
    char go;
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int))];
    } control;
    struct iovec iov = {.iov_base = &go, .iov_len = 1};
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf};
    ssize_t n;
    do
        n = recvmsg(sb->go_read, &msg, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n != 1)
        _exit(CELL_EXIT_SETUP); /* the parent failed or died; it reports */
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
        int status_end;
        memcpy(&status_end, CMSG_DATA(cm), sizeof status_end);
        if (sb->detached)
            place_fd(sb, &status_end, CELL_STATUS_HOLD_FD, O_CLOEXEC, "the status socket");
        else
            close(status_end);
    }
    /* the socket stays open: the workload's wait status goes back on it */
}

void sandbox_init_main(struct sandbox *sb)
{
    struct cell_err err = {0};
    const struct cell_spec *spec = sb->spec;

    /* die with `cell run`; the pidfd check covers a parent that died first.
     * A detached cell (supervised by celld) outlives its starter. */
    if (sb->parent_pidfd >= 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        struct pollfd parent = {.fd = sb->parent_pidfd, .events = POLLIN};
        if (poll(&parent, 1, 0) != 0)
            _exit(128 + SIGKILL);
    }
    /* the workload's stdio, when the starter gave some; then nothing of the
     * starter's stays open in the cell (a daemon's sockets, other pipes) */
    for (int fd = 0; fd < 3; fd++)
        if (sb->stdio[fd] >= 0 && dup2(sb->stdio[fd], fd) < 0)
            sandbox_fail(sb, CELL_EXIT_SETUP, errno, "set up fd %d", fd);
    if (sb->listen_fd >= 0)
        place_fd(sb, &sb->listen_fd, SD_LISTEN_FDS_START, 0, "socket activation");
    if (sb->notify_fd >= 0)
        place_fd(sb, &sb->notify_fd, CELL_NOTIFY_FD_NUMBER, 0, "readiness notification");
    for (int i = 0; i < CELL_HELD_FDS; i++)
        if (sb->held[i] >= 0)
            place_fd(sb, &sb->held[i], CELL_HELD_FD(i), O_CLOEXEC, "a held fd");
    close_starter_fds(sb);
    /* 1. In a user namespace nothing can be created before the parent has
     * written our id maps (and joined us to the cgroups): wait for it first,
     * then become the namespace's root. A root cell builds its filesystem
     * while the parent makes its cgroups, and waits afterwards. */
    if (sb->userns) {
        wait_for_parent(sb);
        if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
            sandbox_fail(sb, CELL_EXIT_SETUP, errno, "user namespace: become root in the cell");
    }
    /* 1b. an OCI bundle's namespaces to join (network, ipc, uts; cgroup
     * with its cgroups; the parent made init in the pid and user namespaces
     * it joins). A joined mount namespace is entered, then copied: what is
     * mounted there is the container's to start from, and its pivot_root
     * does not move the root of the namespace's other processes. */
    if (sb->join_fd[SANDBOX_JOIN_MOUNT] >= 0) {
        join_namespace(sb, SANDBOX_JOIN_MOUNT, CLONE_NEWNS, spec->ns.join_mount);
        if (unshare(CLONE_NEWNS) < 0)
            sandbox_fail(sb, CELL_EXIT_SETUP, errno, "copy the mount namespace %s", spec->ns.join_mount);
    }
    join_namespace(sb, SANDBOX_JOIN_NET, CLONE_NEWNET, spec->ns.join_net);
    join_namespace(sb, SANDBOX_JOIN_IPC, CLONE_NEWIPC, spec->ns.join_ipc);
    join_namespace(sb, SANDBOX_JOIN_UTS, CLONE_NEWUTS, spec->ns.join_uts);
    cell_log(CELL_LOG_DEBUG, "cell %s: init: setting up", spec->name);
    if (spec->oci.enabled) {
        /* 2-3 for an OCI bundle: cgroups first (the host's root goes with
         * the pivot), then its filesystem as config.json lists it */
        if (!sb->userns) {
            wait_for_parent(sb);
            if (sb->cgroup && cgroup_join_self(sb->cgroup, "", &err) < 0)
                fail_with(sb, &err);
        }
        /* in its cgroups now: a cgroup namespace rooted there (or the one
         * it joins), before a cgroup mount of config.json shows the
         * hierarchy (step 5 below makes another, rooted at the same place) */
        if (spec->ns.join_cgroup)
            join_namespace(sb, SANDBOX_JOIN_CGROUP, CLONE_NEWCGROUP, spec->ns.join_cgroup);
        else if (unshare(CLONE_NEWCGROUP) < 0)
            sandbox_fail(sb, CELL_EXIT_SETUP, errno, "create the cgroup namespace");
        if (mounts_setup_oci(spec, &err) < 0)
            fail_with(sb, &err);
    } else {
        /* 2. the filesystem, while the host's root is still at MOUNTS_OLDROOT */
        if (mounts_setup(spec, &err) < 0)
            fail_with(sb, &err);
        /* 3. a root cell joins its v1 cgroups itself, once the parent made them */
        if (!sb->userns) {
            wait_for_parent(sb);
            if (sb->cgroup && cgroup_join_self(sb->cgroup, MOUNTS_OLDROOT, &err) < 0)
                fail_with(sb, &err);
        }
        if (mounts_finish(false, &err) < 0)
            fail_with(sb, &err);
    }
    cell_log(CELL_LOG_DEBUG, "cell %s: init: filesystem ready", spec->name);
    /* 4. name and network */
    if (!spec->ns.join_uts && sethostname(spec->hostname, strlen(spec->hostname)) < 0)
        sandbox_fail(sb, CELL_EXIT_SETUP, errno, "set hostname %s", spec->hostname);
    if (spec->oci.domainname && !spec->ns.join_uts &&
        setdomainname(spec->oci.domainname, strlen(spec->oci.domainname)) < 0)
        sandbox_fail(sb, CELL_EXIT_SETUP, errno, "set domain name %s", spec->oci.domainname);
    if (spec->net_mode == CELL_NET_NONE && !spec->ns.join_net && loopback_up(&err) < 0)
        fail_with(sb, &err);
    int tty_slave = -1;
    if (sb->tty_sock >= 0 && tty_open_in_cell(sb->tty_sock, &tty_slave, &err) < 0)
        fail_with(sb, &err);
    /* 5. in the cell's cgroups now: a cgroup namespace rooted there (or
     * the one an OCI bundle joins) */
    if (spec->ns.join_cgroup)
        join_namespace(sb, SANDBOX_JOIN_CGROUP, CLONE_NEWCGROUP, spec->ns.join_cgroup); /* once */
    else if (unshare(CLONE_NEWCGROUP) < 0)
        sandbox_fail(sb, CELL_EXIT_SETUP, errno, "create the cgroup namespace");
    /* 6. the workload; SIGCHLD stays blocked so init's signalfd sees it */
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    if (sb->gate_fd >= 0)
        wait_at_gate(sb);
    cell_log(CELL_LOG_DEBUG, "cell %s: init: starting the workload", spec->name);
    pid_t workload = start_workload(sb, tty_slave);
    if (workload < 0)
        sandbox_fail(sb, CELL_EXIT_SETUP, errno, "start the workload");
    /* 7. init keeps nothing it does not need */
    close(sb->report_write);
    if (tty_slave >= 0)
        close(tty_slave);
    if (sb->tty_sock >= 0)
        close(sb->tty_sock);
    if (privilege_drop_init(&err) < 0) {
        kill(workload, SIGKILL);
        _exit(CELL_EXIT_SETUP);
    }
    if (sb->init_exec_fd >= 0)
        become_small_init(sb, workload);
    sandbox_reap_loop(workload, sb->go_read, sb->parent_pidfd);
}
