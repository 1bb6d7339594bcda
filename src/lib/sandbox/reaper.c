/* reaper.c - what a cell's pid 1 does once the workload runs: forward
 * signals to it, reap every child, and leave with the workload's status
 * (sent first, exactly, on the status socket). Leaving ends the pid
 * namespace: the kernel kills the rest. It runs in the init that set the
 * cell up, or, for a supervised cell, in the small program cell-init
 * (src/cell-init/) that the init execs, so that each cell's pid 1 holds
 * none of its starter's memory. Only libc: cell-init links this file alone. */
#include "sandbox/reaper.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* Signals the init forwards to the workload. */
static const int forwarded_signals[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH};

static int exit_code_of(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return REAPER_EXIT_FAILED;
}

void sandbox_reap_loop(pid_t workload, int status_fd, int parent_pidfd)
{
    sigset_t mask;
    sigemptyset(&mask);
    for (size_t i = 0; i < sizeof forwarded_signals / sizeof forwarded_signals[0]; i++)
        sigaddset(&mask, forwarded_signals[i]);
    sigaddset(&mask, SIGCHLD);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
    if (sfd < 0)
        _exit(REAPER_EXIT_FAILED);
    struct pollfd fds[2] = {{.fd = sfd, .events = POLLIN}, {.fd = parent_pidfd, .events = POLLIN}};
    for (;;) {
        /* a child may have ended before the signalfd existed: reap first */
        int status;
        pid_t pid;
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
            if (pid == workload) {
                /* the exact status: an exit code of 200 is not signal 72 */
                (void)send(status_fd, &status, sizeof status, MSG_NOSIGNAL);
                _exit(exit_code_of(status));
            }
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            _exit(REAPER_EXIT_FAILED);
        }
        if (fds[1].revents)
            _exit(128 + SIGKILL); /* `cell run` is gone: so is the cell */
        struct signalfd_siginfo si;
        if (read(sfd, &si, sizeof si) == (ssize_t)sizeof si && (int)si.ssi_signo != SIGCHLD)
            kill(workload, (int)si.ssi_signo);
    }
}
