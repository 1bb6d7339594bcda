/* job_nats.c - `cell job run --events-nats URL`: the job's CloudEvents go to
 * NATS JetStream through cell-job-nats (src/cell-job-nats/main.c, next to
 * this binary), which holds libnats. cell stays static, and it has no thread
 * of libnats's when it clones the job's cell. cell-job-nats runs with an
 * empty environment (cell's may hold the env broker's secrets) and talks
 * over one socket: its first line says whether it reached NATS and the
 * stream CELL_JOBS; then each event is "LEN TYPE\n" plus the event, answered
 * "ok" once JetStream acknowledged it, or with what failed. Closing the
 * socket ends it. Built when libnats is found (else job_nats_off.c). */
#include "job_nats.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define HELPER "cell-job-nats"
#define STOP_WAIT_MS 5000 /* for cell-job-nats to close its connection */

struct job_nats {
    char *url;
    int fd;    /* our end of the socket; -1 once cell-job-nats is gone */
    pid_t pid; /* cell-job-nats; 0 once waited for */
    int status;
};

/* cell-job-nats next to this binary */
static int helper_path(char *path, size_t size)
{
    ssize_t n = readlink("/proc/self/exe", path, size);
    char *slash = n > 0 && (size_t)n < size ? memrchr(path, '/', (size_t)n) : NULL;
    if (slash == NULL || (size_t)(slash - path) + sizeof "/" HELPER > size)
        return -1;
    strcpy(slash, "/" HELPER);
    return 0;
}

static void reap(struct job_nats *n)
{
    while (n->pid > 0 && waitpid(n->pid, &n->status, 0) < 0 && errno == EINTR)
        ;
    n->pid = 0;
}

/* cell-job-nats closed its end: how it ended, for the error */
static void helper_gone(struct job_nats *n, const char *what, struct cell_err *err)
{
    if (n->fd >= 0)
        close(n->fd);
    n->fd = -1;
    reap(n);
    if (WIFSIGNALED(n->status))
        cell_err_set(err, 0, "--events-nats %s: %s: the publisher " HELPER " was killed by signal %d", n->url, what,
                     WTERMSIG(n->status));
    else
        cell_err_set(err, 0, "--events-nats %s: %s: the publisher " HELPER " exited (status %d) without an answer",
                     n->url, what, WEXITSTATUS(n->status));
}

/* One answer line from cell-job-nats: 0 for "ok", -1 with err otherwise. */
static int read_answer(struct job_nats *n, const char *what, struct cell_err *err)
{
    char line[sizeof err->msg];
    size_t have = 0;
    while (have < sizeof line - 1) {
        ssize_t r = read(n->fd, line + have, 1); /* a line at a time: nothing is read ahead */
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            helper_gone(n, what, err);
            return -1;
        }
        if (line[have] == '\n')
            break;
        have++;
    }
    line[have] = '\0';
    if (strcmp(line, "ok") == 0)
        return 0;
    cell_err_set(err, 0, "--events-nats %s: %s", n->url, line);
    return -1;
}

static int send_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Start cell-job-nats URL JOB_ID on `fd` (its stdin and stdout); stderr stays cell's. */
static int spawn_helper(struct job_nats *n, const char *path, const char *job_id, int fd, struct cell_err *err)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_adddup2(&fa, fd, 0);
    posix_spawn_file_actions_adddup2(&fa, fd, 1);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3); /* no other file of cell's */
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    char *argv[] = {HELPER, n->url, (char *)job_id, NULL};
    char *envp[] = {NULL};
    int e = posix_spawn(&n->pid, path, &fa, &attr, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (e != 0) {
        n->pid = 0;
        return cell_err_set(err, e, "--events-nats %s: start %s (is cell fully built and installed?)", n->url, path);
    }
    return 0;
}

struct job_nats *job_nats_open(const char *url, const char *job_id, struct cell_err *err)
{
    char path[PATH_MAX];
    if (helper_path(path, sizeof path) < 0) {
        cell_err_set(err, 0, "--events-nats %s: cannot find " HELPER " next to cell", url);
        return NULL;
    }
    struct job_nats *n = calloc(1, sizeof *n);
    if (n == NULL || (n->url = strdup(url)) == NULL) {
        free(n);
        cell_err_set(err, ENOMEM, "--events-nats %s", url);
        return NULL;
    }
    n->fd = -1;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        cell_err_set(err, errno, "--events-nats %s: socketpair", url);
        job_nats_close(n);
        return NULL;
    }
    n->fd = sv[0];
    int rc = spawn_helper(n, path, job_id, sv[1], err);
    close(sv[1]);
    /* connected, and the stream is there: at most the connect timeout
     * plus a JetStream request or two */
    if (rc < 0 || read_answer(n, "connect", err) < 0) {
        job_nats_close(n);
        return NULL;
    }
    return n;
}

int job_nats_publish(void *ctx, const char *type, const char *line, size_t len, struct cell_err *err)
{
    struct job_nats *n = ctx;
    char what[128];
    snprintf(what, sizeof what, "publish %s", type);
    if (n->fd < 0)
        return cell_err_set(err, 0, "--events-nats %s: %s: the publisher " HELPER " is gone", n->url, what);
    if (type[0] == '\0' || strlen(type) > 255 || strpbrk(type, " \t\r\n") || len == 0)
        return cell_err_set(err, 0, "--events-nats %s: %s: not an event type and event", n->url, what);
    char header[320];
    int h = snprintf(header, sizeof header, "%zu %s\n", len, type);
    if (h < 0 || (size_t)h >= sizeof header)
        return cell_err_set(err, 0, "--events-nats %s: %s: the event type is too long", n->url, what);
    if (send_all(n->fd, header, (size_t)h) < 0 || send_all(n->fd, line, len) < 0) {
        if (errno == EPIPE || errno == ECONNRESET) {
            helper_gone(n, what, err);
            return -1;
        }
        return cell_err_set(err, errno, "--events-nats %s: %s: send to " HELPER, n->url, what);
    }
    return read_answer(n, what, err);
}

void job_nats_close(struct job_nats *n)
{
    if (n == NULL)
        return;
    if (n->fd >= 0)
        close(n->fd); /* EOF: cell-job-nats closes its connection and exits */
    if (n->pid > 0) {
        int pidfd = (int)syscall(SYS_pidfd_open, n->pid, 0);
        struct pollfd p = {.fd = pidfd, .events = POLLIN};
        if (pidfd >= 0 && poll(&p, 1, STOP_WAIT_MS) == 0) {
            cell_log(CELL_LOG_WARN, "cell: --events-nats %s: " HELPER " took over %d ms to close: stopped it", n->url,
                     STOP_WAIT_MS);
            kill(n->pid, SIGKILL);
        }
        if (pidfd >= 0)
            close(pidfd);
        reap(n);
    }
    free(n->url);
    free(n);
}
