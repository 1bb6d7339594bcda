/* pingpong-server.c - the server half of examples/pingpong: cell messaging
 * (include/cell/ipc.h) from the serving side.
 *
 * It listens as "pingpong" (cell_listen: under `cell run -d --listen
 * --listen-type seqpacket` the socket celld passed as fd 3, else
 * $CELL_SOCKET_DIR/pingpong.sock) and answers each request "ping N" with
 * "pong N", printing every request on stdout (`cell logs` shows them). One
 * thread polls the listening socket, every connection and a signalfd. A
 * request "ring" moves its connection to the shared-memory fast path: the
 * server offers a ring (cell_ring_offer) and a thread of its own answers
 * the ring's messages the same way, until the client goes. SIGTERM or
 * SIGINT: the server closes everything and exits 0. */
#include "cell/ipc.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#define NAME "pingpong"
#define MAX_CONNS 64
#define RING_BYTES (64 * 1024)
#define ANSWER_MAX 64

/* The answer to one request into out ("pong N", or an error), and the
 * request as printable text into request; both NUL-terminated. */
static void answer(const void *data, size_t len, char *out, size_t outlen, char *request, size_t reqlen)
{
    /* copied before it is looked at: a ring's bytes stay in shared memory */
    size_t n = len < reqlen - 1 ? len : reqlen - 1;
    memcpy(request, data, n);
    request[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (request[i] < ' ' || request[i] > '~')
            request[i] = '?';
    char *end;
    if (len >= reqlen || strncmp(request, "ping ", 5) != 0 || request[5] < '0' || request[5] > '9') {
        snprintf(out, outlen, "error: not \"ping N\"");
        return;
    }
    errno = 0;
    unsigned long long number = strtoull(request + 5, &end, 10);
    if (*end != '\0' || errno != 0) {
        snprintf(out, outlen, "error: not \"ping N\"");
        return;
    }
    snprintf(out, outlen, "pong %llu", number);
}

/* ---- the ring: one thread per ring connection ------------------------------ */

/* A connection and the number it got when accepted (shown in the log). */
struct client {
    struct cell_ipc_conn *conn;
    unsigned number;
};

struct ring_job {
    struct client client;
    struct cell_ring *ring;
};

static void *serve_ring(void *arg)
{
    struct ring_job *job = arg;
    struct cell_err err = {0};
    char request[ANSWER_MAX], reply[ANSWER_MAX];
    for (;;) {
        int rc = cell_ring_wait(job->ring, -1, &err);
        if (rc < 0)
            break;
        const void *msg;
        size_t len;
        while ((msg = cell_ring_peek(job->ring, &len, &err)) != NULL) {
            answer(msg, len, reply, sizeof reply, request, sizeof request);
            cell_ring_release(job->ring);
            printf("ring #%u: %s -> %s\n", job->client.number, request, reply);
            size_t rlen = strlen(reply);
            void *slot;
            while ((slot = cell_ring_reserve(job->ring, rlen, &err)) == NULL) {
                if (err.errnum != EAGAIN || cell_ring_wait_space(job->ring, rlen, -1, &err) < 0)
                    goto out;
            }
            memcpy(slot, reply, rlen);
        }
        if (err.errnum != 0)
            break;
        cell_ring_commit(job->ring);
    }
out:
    /* EPIPE: the client went away, the usual end */
    if (err.errnum == EPIPE)
        printf("ring #%u: the client is gone\n", job->client.number);
    else
        fprintf(stderr, "pingpong-server: ring #%u: %s\n", job->client.number, err.msg);
    cell_ring_close(job->ring);
    cell_ipc_conn_close(job->client.conn);
    free(job);
    return NULL;
}

/* Offer a ring on conn and hand both to a thread of their own. */
static int start_ring(const struct client *c, struct cell_err *err)
{
    struct ring_job *job = calloc(1, sizeof *job);
    if (job == NULL)
        return cell_err_set(err, ENOMEM, "ring");
    job->client = *c;
    if (cell_ring_offer(c->conn, RING_BYTES, &job->ring, err) < 0) {
        free(job);
        return -1;
    }
    printf("socket #%u: switched to the ring\n", c->number);
    pthread_t thread;
    int e = pthread_create(&thread, NULL, serve_ring, job);
    if (e != 0) {
        cell_ring_close(job->ring);
        free(job);
        return cell_err_set(err, e, "ring: a thread");
    }
    pthread_detach(thread);
    return 0;
}

/* ---- the socket: one poll loop ------------------------------------------------ */

enum { CONN_KEEP, CONN_CLOSE, CONN_HANDED };

/* One message on a connection: answer it, or move it to the ring. */
static int serve_message(const struct client *c)
{
    struct cell_err err = {0};
    struct cell_ipc_msg msg;
    int rc = cell_ipc_recv(c->conn, &msg, &err);
    if (rc == 0) {
        printf("socket #%u: the client hung up\n", c->number);
        return CONN_CLOSE;
    }
    if (rc < 0) {
        fprintf(stderr, "pingpong-server: socket #%u: %s: closed\n", c->number, err.msg);
        return CONN_CLOSE;
    }
    if (msg.kind != CELL_IPC_REQUEST)
        return CONN_KEEP; /* one-way messages need no answer */
    if (msg.len == 4 && memcmp(msg.data, "ring", 4) == 0) {
        if (start_ring(c, &err) < 0) {
            fprintf(stderr, "pingpong-server: socket #%u: %s\n", c->number, err.msg);
            return CONN_CLOSE;
        }
        return CONN_HANDED;
    }
    char request[ANSWER_MAX], reply[ANSWER_MAX];
    answer(msg.data, msg.len, reply, sizeof reply, request, sizeof request);
    printf("socket #%u: %s -> %s\n", c->number, request, reply);
    if (cell_ipc_respond(c->conn, msg.id, reply, strlen(reply), &err) < 0) {
        fprintf(stderr, "pingpong-server: socket #%u: %s: closed\n", c->number, err.msg);
        return CONN_CLOSE;
    }
    return CONN_KEEP;
}

int main(void)
{
    struct cell_err err = {0};
    setvbuf(stdout, NULL, _IOLBF, 0); /* a line at a time into the cell's log */
    /* SIGTERM and SIGINT come through a signalfd; every thread blocks them */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    int sigfd = signalfd(-1, &stop, SFD_CLOEXEC);
    if (sigfd < 0) {
        fprintf(stderr, "pingpong-server: signalfd: %s\n", strerror(errno));
        return 1;
    }
    struct cell_ipc_server *server;
    if (cell_listen(NAME, NULL, &server, &err) < 0) {
        fprintf(stderr, "pingpong-server: %s\n", err.msg);
        return 1;
    }
    printf("pingpong-server: serving %s (pid %d)\n", NAME, (int)getpid());
    struct client conns[MAX_CONNS];
    unsigned accepted = 0;
    struct pollfd fds[MAX_CONNS + 2];
    size_t nconns = 0;
    int code = 0;
    for (;;) {
        fds[0] = (struct pollfd){.fd = sigfd, .events = POLLIN};
        /* at the limit, new clients wait in the backlog */
        fds[1] = (struct pollfd){.fd = nconns < MAX_CONNS ? cell_ipc_server_fd(server) : -1, .events = POLLIN};
        for (size_t i = 0; i < nconns; i++)
            fds[2 + i] = (struct pollfd){.fd = cell_ipc_conn_fd(conns[i].conn), .events = POLLIN};
        if (poll(fds, 2 + nconns, -1) < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "pingpong-server: poll: %s\n", strerror(errno));
            code = 1;
            break;
        }
        if (fds[0].revents) {
            struct signalfd_siginfo si;
            if (read(sigfd, &si, sizeof si) == (ssize_t)sizeof si)
                printf("pingpong-server: %s: stopping\n", si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
            break;
        }
        /* connections first, from the end: a closed one is replaced by the last */
        for (size_t i = nconns; i-- > 0;) {
            if (fds[2 + i].revents == 0)
                continue;
            int what = serve_message(&conns[i]);
            if (what == CONN_CLOSE)
                cell_ipc_conn_close(conns[i].conn);
            if (what != CONN_KEEP)
                conns[i] = conns[--nconns];
        }
        if (fds[1].revents) {
            struct cell_ipc_conn *conn;
            if (cell_ipc_accept(server, &conn, &err) < 0) {
                fprintf(stderr, "pingpong-server: %s\n", err.msg);
                continue;
            }
            /* the peer's pid is 0 when it runs in another pid namespace (another cell) */
            const struct cell_ipc_peer *peer = cell_ipc_conn_peer(conn);
            conns[nconns] = (struct client){.conn = conn, .number = ++accepted};
            printf("socket #%u: connected (uid %u, pid %d)\n", accepted, (unsigned)peer->uid, (int)peer->pid);
            nconns++;
        }
    }
    for (size_t i = 0; i < nconns; i++)
        cell_ipc_conn_close(conns[i].conn);
    cell_ipc_server_close(server);
    close(sigfd);
    /* ring threads end with the process; their clients see the hang-up */
    return code;
}
