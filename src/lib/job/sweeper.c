/* sweeper.c - what a runner killed outright leaves behind, removed at once.
 *
 * A runner killed by SIGKILL (or an OOM kill) cannot tear its job down: its
 * private directory's tmpfs mounts, its lock file and, under --backend oci,
 * the container itself (the runtime's `run` lives on) would stay until the
 * next run of the id. So the runner forks a sweeper right after it takes
 * the lock, before any secret exists in its memory. The sweeper holds one
 * end of a socket pair and nothing else, and ignores the signals the runner
 * relays. The runner tells it about an OCI container once one is started
 * (its runtime, state directory and id), and "done" once its own teardown
 * is over, then closes its end, and reaps it once the job is reported. An end of file without "done"
 * means the runner is gone: the sweeper deletes the container (`R delete
 * --force`), removes the private directory's mounts and directories and the
 * lock (cell_job_clear), and exits. The cell's own processes and cgroups
 * are the sandbox's keeper's (native) or go with the container (oci). */
#include "job/internal.h"
#include "util.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

enum { MSG_MAX = 3 * PATH_MAX };

/* R --root STATE delete --force ID, quietly, waited for. */
static void delete_container(const char *runtime, const char *state, const char *id)
{
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        for (int fd = 0; fd < 3 && null >= 0; fd++)
            dup2(null, fd);
        execl(runtime, runtime, "--root", state, "delete", "--force", id, (char *)NULL);
        _exit(127);
    }
    while (pid > 0 && waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
}

static void sweeper_main(int sock, const char *root, const char *id)
{
    prctl(PR_SET_NAME, "cell-job-sweep");
    static char msg[MSG_MAX + 1];
    char runtime[PATH_MAX] = "", state[PATH_MAX] = "", oci_id[128] = "";
    for (;;) {
        ssize_t n = recv(sock, msg, MSG_MAX, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n > 0 && msg[0] == 'D')
            _exit(0);                 /* the runner did its teardown */
        if (n > 0 && msg[0] == 'O') { /* "O" RUNTIME NUL STATE NUL ID NUL */
            msg[n] = '\0';
            const char *r = msg + 1, *s = r + strlen(r) + 1, *i = s < msg + n ? s + strlen(s) + 1 : NULL;
            if (i && i < msg + n) {
                snprintf(runtime, sizeof runtime, "%s", r);
                snprintf(state, sizeof state, "%s", s);
                snprintf(oci_id, sizeof oci_id, "%s", i);
            }
            continue;
        }
        if (n > 0)
            continue;
        break; /* the runner is gone without its teardown */
    }
    if (runtime[0])
        delete_container(runtime, state, oci_id);
    struct cell_err err = {0};
    if (cell_job_clear(root, id, true, &err) < 0)
        dprintf(2, "cell %s: sweeper: %s\n", id, err.msg);
    _exit(0);
}

int sweeper_start(struct job_sweeper *s, const char *root, const char *id, struct cell_err *err)
{
    int sv[2];
    s->pid = -1;
    s->sock = -1;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return cell_err_set(err, errno, "sweeper: socketpair");
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(sv[0]);
        close(sv[1]);
        return cell_err_set(err, e, "sweeper: fork");
    }
    if (pid == 0) {
        /* nothing of the runner's but its stderr (for a last word) and its
         * end of the pair: not the lock, which must go with the runner */
        int keep[] = {sv[1]};
        close_range_except(keep, ARRAY_SIZE(keep), 0);
        setsid(); /* a terminal's signals are the runner's to relay */
        /* nor its environment, where the env broker's values are */
        for (char **e = environ; e && *e; e++)
            explicit_bzero(*e, strlen(*e));
        sweeper_main(sv[1], root, id);
    }
    close(sv[1]);
    s->pid = pid;
    s->sock = sv[0];
    return 0;
}

void sweeper_oci(struct job_sweeper *s, const char *runtime, const char *state, const char *id)
{
    char msg[MSG_MAX];
    int n = snprintf(msg, sizeof msg, "O%s%c%s%c%s", runtime, '\0', state, '\0', id);
    if (s->sock >= 0 && n > 0 && n < (int)sizeof msg)
        (void)send(s->sock, msg, (size_t)n + 1, MSG_NOSIGNAL);
}

void sweeper_release(struct job_sweeper *s)
{
    if (s->sock >= 0) {
        (void)send(s->sock, "D", 1, MSG_NOSIGNAL);
        close(s->sock);
        s->sock = -1;
    }
}

void sweeper_reap(struct job_sweeper *s)
{
    sweeper_release(s);
    while (s->pid > 0 && waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
        ;
    s->pid = -1;
}
