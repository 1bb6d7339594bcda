/* keeper.c - the cleanup guarantee when `cell run` itself is SIGKILLed.
 *
 * Before the cell starts, `cell run` forks a keeper that holds nothing but a
 * pipe. `cell run` tells it the pid of the cell's init; at a normal end it
 * writes "done" and the keeper exits at once. If the pipe closes without
 * "done", `cell run` died: the keeper waits for the cell's init to exit (it
 * dies with its parent), kills anything left in the cgroup and removes the
 * cgroup directories, so nothing is left behind whatever happens. */
#include "sandbox/sandbox.h"
#include "util.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

__attribute__((noreturn)) static void keeper_main(int control, struct cell_cgroup *cg)
{
    /* detach from the caller's terminal, signals and stdio */
    setsid();
    static const int ignored[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE};
    for (size_t i = 0; i < ARRAY_SIZE(ignored); i++)
        signal(ignored[i], SIG_IGN);
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
    }
    pid_t init_pid = 0;
    char done = 0;
    ssize_t n = read(control, &init_pid, sizeof init_pid);
    if (n == (ssize_t)sizeof init_pid)
        n = read(control, &done, 1);
    if (done == 'd')
        _exit(0);
    if (init_pid > 0) {
        int pidfd = (int)syscall(SYS_pidfd_open, init_pid, 0);
        if (pidfd >= 0) {
            struct pollfd p = {.fd = pidfd, .events = POLLIN};
            /* init dies with `cell run`; do not wait forever for it */
            if (poll(&p, 1, 2000) == 0)
                syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
        }
    }
    cgroup_kill_all(cg);
    struct cell_err ignored_err;
    cgroup_destroy(cg, &ignored_err);
    _exit(0);
}

pid_t keeper_start(struct cell_cgroup *cg, char *const *env, int *control_fd, struct cell_err *err)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return cell_err_set(err, errno, "start the cleanup keeper: pipe");
    pid_t pid = fork();
    if (pid < 0) {
        int saved = errno;
        close(p[0]);
        close(p[1]);
        return cell_err_set(err, saved, "start the cleanup keeper: fork");
    }
    if (pid == 0) {
        /* our copies of the workload's environment (a job's secrets, say) and
         * of the starter's own (where an env broker found them) go: the
         * keeper lives as long as the cell and needs none of it */
        for (char *const *e = env; e && *e; e++)
            explicit_bzero(*e, strlen(*e));
        for (char **e = environ; e && *e; e++)
            explicit_bzero(*e, strlen(*e));
        close(p[1]);
        /* hold no other file of the caller: pipes the caller reads must close */
        if (p[0] != 3)
            dup2(p[0], 3);
        syscall(SYS_close_range, 4, ~0U, 0);
        keeper_main(3, cg);
    }
    close(p[0]);
    *control_fd = p[1];
    return pid;
}

void keeper_arm(int control_fd, pid_t init_pid)
{
    (void)write_all(control_fd, &init_pid, sizeof init_pid);
}

void keeper_release(int control_fd, pid_t keeper)
{
    (void)write_all(control_fd, "d", 1);
    close(control_fd);
    while (waitpid(keeper, NULL, 0) < 0 && errno == EINTR)
        ;
}
