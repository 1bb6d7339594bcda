/* spawner.c - celld starts its cells through a small helper process, forked
 * at startup before celld holds anything per cell. A start from celld itself
 * would copy celld's fd table (about ten fds per cell) and page tables into
 * every new init, which would then close them all: with 1,000 cells that
 * made a restart several milliseconds slower than with 10. The spawner has a
 * handful of fds and a small heap, so a start costs the same whatever N is.
 *
 * One request per start, on a SOCK_SEQPACKET socketpair: a JSON object
 * {"args": [the declaration], "generation": N, "fds": MASK} with the fds the
 * instance gets (stdout, stderr, the --listen socket, the --notify pipe, the
 * held log pipes) as SCM_RIGHTS, in that order, those in MASK only. The
 * spawner rebuilds the spec from the declaration, calls cell_start() (the
 * cgroups named after celld's pid), and answers {"ok": true, "saved": ...}
 * (cell_instance_save) or {"ok": false, "error": ..., "code": N}; then it
 * lets go of the instance. celld takes the running cell over exactly as
 * after its own restart (cell_instance_adopt): the init is the spawner's
 * child, not celld's, and its status comes over the status socket the init
 * holds. The spawner reaps its children and dies with celld.
 *
 * If the spawner is gone (or a declaration does not fit in one message),
 * celld starts the cell itself (cells.c). */
#include "celld.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

enum { FD_STDOUT, FD_STDERR, FD_LISTEN, FD_NOTIFY, FD_HELD0, FD_HELD1, FD_COUNT };
_Static_assert(FD_COUNT <= SEND_FDS_MAX, "a start request sends at most SEND_FDS_MAX fds");

#define SPAWN_MSG_MAX (512 * 1024)

static int spawner_fd = -1;
static pid_t spawner_pid;

/* ---- the spawner's side ---------------------------------------------------- */

static void send_json(int sock, json_t *o)
{
    char *text = json_dumps(o, JSON_COMPACT);
    if (text)
        (void)send(sock, text, strlen(text), MSG_NOSIGNAL);
    free(text);
    json_decref(o);
}

/* An answer with one fd (SCM_RIGHTS). */
static void send_json_with_fd(int sock, json_t *o, int fd)
{
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (text == NULL)
        return;
    (void)send_with_fds(sock, text, strlen(text), &fd, 1);
    free(text);
}

static void spawn_failed(int sock, const struct cell_err *err, int code)
{
    json_t *a = json_object();
    json_object_set_new(a, "ok", json_false());
    json_object_set_new(a, "error", json_string(err->msg));
    json_object_set_new(a, "code", json_integer(code));
    send_json(sock, a);
}

static void spawn_one(int sock, const char *text, const int *fds, unsigned mask)
{
    struct cell_err err = {0};
    json_error_t jerr;
    json_t *req = json_loads(text, 0, &jerr);
    struct cell_spec spec;
    if (req == NULL || cell_spec_from_declaration(json_object_get(req, "args"), &spec, &err) < 0) {
        if (req == NULL)
            cell_err_set(&err, 0, "spawner: a bad request: %s", jerr.text);
        spawn_failed(sock, &err, CELL_EXIT_SETUP);
        json_decref(req);
        return;
    }
    int fd[FD_COUNT];
    for (int i = 0, k = 0; i < FD_COUNT; i++)
        fd[i] = mask & (1u << i) ? fds[k++] : -1;
    struct cell_start_opts opts = {.detached = true,
                                   .stdio = {-1, fd[FD_STDOUT], fd[FD_STDERR]},
                                   .listen_fd = fd[FD_LISTEN],
                                   .notify_fd = fd[FD_NOTIFY],
                                   .generation = (unsigned)json_integer_value(json_object_get(req, "generation")),
                                   .held_fds = {fd[FD_HELD0], fd[FD_HELD1]},
                                   .init_exec_fd = celld.cell_init_fd,
                                   .owner = getppid()};
    struct cell_instance *inst;
    if (cell_start(&spec, &opts, &inst, &err) < 0) {
        /* cell_start says how it failed only through its message */
        spawn_failed(sock, &err, CELL_EXIT_SETUP);
    } else {
        json_t *a = json_object();
        json_object_set_new(a, "ok", json_true());
        json_object_set_new(a, "saved", cell_instance_save(inst));
        int status_fd = cell_instance_hand_over(inst);
        send_json_with_fd(sock, a, status_fd);
        close(status_fd);
        /* the init is ours to reap, but not before celld holds a pidfd for
         * it: an init that ended already must stay until celld took it */
        char ack;
        while (recv(sock, &ack, 1, 0) < 0 && errno == EINTR)
            ;
    }
    cell_spec_free(&spec);
    json_decref(req);
}

__attribute__((noreturn)) static void spawner_main(int sock)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (getppid() == 1)
        _exit(0);
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    int sigfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
    char *buf = malloc(SPAWN_MSG_MAX + 1);
    if (buf == NULL || sigfd < 0)
        _exit(1);
    for (;;) {
        struct pollfd p[2] = {{.fd = sock, .events = POLLIN}, {.fd = sigfd, .events = POLLIN}};
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            _exit(1);
        if (p[1].revents) { /* inits that ended: celld saw it on their pidfds */
            struct signalfd_siginfo si;
            while (read(sigfd, &si, sizeof si) > 0)
                ;
            while (waitpid(-1, NULL, WNOHANG) > 0)
                ;
        }
        if (!p[0].revents)
            continue;
        union {
            struct cmsghdr align;
            char buf[CMSG_SPACE(FD_COUNT * sizeof(int))];
        } control;
        struct iovec iov = {.iov_base = buf, .iov_len = SPAWN_MSG_MAX};
        struct msghdr msg = {
            .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf};
        ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
        if (n <= 0) {
            if (n < 0 && errno == EINTR)
                continue;
            _exit(0); /* celld is gone */
        }
        buf[n] = '\0';
        int fds[FD_COUNT], nfds = 0;
        struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
        if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
            nfds = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
            memcpy(fds, CMSG_DATA(cm), (size_t)nfds * sizeof(int));
        }
        json_t *peek = json_loads(buf, 0, NULL);
        unsigned mask = (unsigned)json_integer_value(json_object_get(peek, "fds"));
        json_decref(peek);
        if (__builtin_popcount(mask) != nfds) {
            struct cell_err err;
            cell_err_set(&err, 0, "spawner: %d fds for a mask of %d", nfds, __builtin_popcount(mask));
            spawn_failed(sock, &err, CELL_EXIT_SETUP);
        } else {
            spawn_one(sock, buf, fds, mask);
        }
        for (int i = 0; i < nfds; i++)
            close(fds[i]);
    }
}

/* ---- celld's side ------------------------------------------------------------ */

int spawner_start(struct cell_err *err)
{
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
        return cell_err_set(err, errno, "spawner: socketpair");
    int size = SPAWN_MSG_MAX * 2;
    setsockopt(pair[0], SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size);
    setsockopt(pair[1], SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(pair[0]);
        close(pair[1]);
        return cell_err_set(err, errno, "spawner: fork");
    }
    if (pid == 0) {
        /* nothing of celld's but the socket and cell-init */
        int keep[] = {pair[1], celld.cell_init_fd};
        close_range_except(keep, 2, 0);
        spawner_main(pair[1]);
    }
    close(pair[1]);
    spawner_fd = pair[0];
    spawner_pid = pid;
    return 0;
}

static void spawner_lost(const char *why)
{
    cell_log(CELL_LOG_WARN, "celld: warning: the spawner is gone (%s): celld starts cells itself from now on", why);
    close(spawner_fd);
    spawner_fd = -1;
    if (spawner_pid > 0)
        waitpid(spawner_pid, NULL, WNOHANG);
}

int spawner_launch(struct cell *c, const struct cell_start_opts *opts, struct cell_instance **out, struct cell_err *err)
{
    *out = NULL;
    if (spawner_fd < 0)
        return 1; /* none: the caller starts the cell itself */
    int given[FD_COUNT] = {opts->stdio[1],  opts->stdio[2],    opts->listen_fd,
                           opts->notify_fd, opts->held_fds[0], opts->held_fds[1]};
    int fds[FD_COUNT], nfds = 0;
    unsigned mask = 0;
    for (int i = 0; i < FD_COUNT; i++)
        if (given[i] > 0) {
            mask |= 1u << i;
            fds[nfds++] = given[i];
        }
    json_t *req = json_object();
    json_object_set(req, "args", c->args);
    json_object_set_new(req, "generation", json_integer(opts->generation));
    json_object_set_new(req, "fds", json_integer(mask));
    char *text = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    if (text == NULL || strlen(text) > SPAWN_MSG_MAX) {
        free(text);
        return 1;
    }
    ssize_t sent = send_with_fds(spawner_fd, text, strlen(text), fds, (size_t)nfds);
    free(text);
    if (sent < 0) {
        spawner_lost(strerror(errno));
        return 1;
    }
    char answer[16384];
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int))];
    } control;
    struct iovec aiov = {.iov_base = answer, .iov_len = sizeof answer - 1};
    struct msghdr amsg = {
        .msg_iov = &aiov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = CMSG_SPACE(sizeof(int))};
    ssize_t n;
    do
        n = recvmsg(spawner_fd, &amsg, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n <= 0) {
        spawner_lost(n == 0 ? "it closed its socket" : strerror(errno));
        return cell_err_set(err, 0, "cell %s: start: the spawner died during the start", c->name);
    }
    answer[n] = '\0';
    int status_fd = -1;
    struct cmsghdr *cm = CMSG_FIRSTHDR(&amsg);
    if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
        memcpy(&status_fd, CMSG_DATA(cm), sizeof status_fd);
    json_t *a = json_loads(answer, 0, NULL);
    if (!json_is_true(json_object_get(a, "ok")) || status_fd < 0) {
        const char *why = json_string_value(json_object_get(a, "error"));
        cell_err_set(err, 0, "%s", why ? why : "the spawner gave no answer");
        if (status_fd >= 0)
            close(status_fd);
        json_decref(a);
        return -1;
    }
    int rc = cell_instance_adopt_handed(&c->spec, json_object_get(a, "saved"), status_fd, out, err);
    (void)!send(spawner_fd, "a", 1, MSG_NOSIGNAL); /* taken: the spawner may reap it */
    if (rc < 0)                                    /* gone already (killed and reaped?): what it left goes */
        cell_instance_discard(json_object_get(a, "saved"));
    json_decref(a);
    return rc < 0 ? -1 : 0;
}

void spawner_stop(void)
{
    if (spawner_fd < 0)
        return;
    close(spawner_fd); /* EOF: it exits */
    spawner_fd = -1;
    while (spawner_pid > 0 && waitpid(spawner_pid, NULL, 0) < 0 && errno == EINTR)
        ;
}
