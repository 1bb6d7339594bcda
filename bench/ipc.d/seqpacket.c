/* seqpacket.c - cell's socket path as it is: cell_listen / cell_connect on
 * a SOCK_SEQPACKET socket in a temp dir, one datagram per message (16 bytes
 * of header, 32 of payload). Ping-pong: cell_ipc_request, then
 * cell_ipc_recv of the response; the server cell_ipc_recv, then
 * cell_ipc_respond. Throughput: one cell_ipc_send (CELL_IPC_ONEWAY) per
 * message. Also the connection set-up that ring.c uses. */
#define _GNU_SOURCE
#include "ipcbench.h"

#include "cell/ipc.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static struct {
    struct cell_ipc_server *server;
    int (*serve)(struct cell_ipc_conn *);
} child;

static int accept_and_serve(void *unused)
{
    (void)unused;
    struct cell_err err = {0};
    struct cell_ipc_conn *conn;
    if (cell_ipc_accept(child.server, &conn, &err) < 0)
        return ipcb_fail("server: %s", err.msg);
    int rc = child.serve(conn);
    cell_ipc_conn_close(conn);
    return rc;
}

pid_t ipcb_cell_fork(int (*serve)(struct cell_ipc_conn *), struct cell_ipc_server **server,
                     struct cell_ipc_conn **client)
{
    struct cell_err err = {0};
    struct cell_ipc_listen_opts opts = {.socket_dir = ipcb.dir};
    char name[32];
    snprintf(name, sizeof name, "ipcb-%d", (int)getpid());
    *client = NULL;
    if (cell_listen(name, &opts, server, &err) < 0) {
        ipcb_fail("cell_listen: %s", err.msg);
        return -1;
    }
    child.server = *server;
    child.serve = serve;
    pid_t pid = ipcb_fork(accept_and_serve, NULL);
    if (pid < 0) {
        cell_ipc_server_close(*server);
        return -1;
    }
    if (cell_connect(name, ipcb.dir, client, &err) < 0) {
        ipcb_fail("cell_connect: %s", err.msg);
        /* the child waits in accept: let it have a connection to fail on */
        kill(pid, SIGKILL);
        ipcb_reap(pid, "server");
        cell_ipc_server_close(*server);
        return -1;
    }
    return pid;
}

void ipcb_cell_close(struct cell_ipc_server *server, struct cell_ipc_conn *client)
{
    cell_ipc_conn_close(client);
    cell_ipc_server_close(server);
}

static int echo_server(struct cell_ipc_conn *conn)
{
    struct cell_err err = {0};
    struct cell_ipc_msg msg;
    for (;;) {
        int rc = cell_ipc_recv(conn, &msg, &err);
        if (rc <= 0)
            return rc < 0 ? ipcb_fail("seqpacket server: %s", err.msg) : 0;
        uint64_t seq;
        if (msg.len != IPCB_MSG_BYTES)
            return ipcb_fail("seqpacket server: a message of %zu bytes", msg.len);
        memcpy(&seq, msg.data, sizeof seq);
        if (seq == IPCB_STOP)
            return 0;
        if (cell_ipc_respond(conn, msg.id, msg.data, msg.len, &err) < 0)
            return ipcb_fail("seqpacket server: %s", err.msg);
    }
}

/* The error of the calls made per message (not zeroed per message). */
static struct cell_err hot_err;

static int seqpacket_roundtrip(void *ctx, uint64_t seq)
{
    struct cell_ipc_conn *conn = ctx;
    struct ipcb_msg m = {.seq = seq};
    struct cell_ipc_msg reply;
    uint32_t id;
    if (cell_ipc_request(conn, &m, sizeof m, &id, &hot_err) < 0)
        return ipcb_fail("seqpacket client: %s", hot_err.msg);
    int rc = cell_ipc_recv(conn, &reply, &hot_err);
    if (rc <= 0)
        return ipcb_fail("seqpacket client: %s", rc < 0 ? hot_err.msg : "the server hung up");
    uint64_t got = 0;
    if (reply.len == sizeof got + sizeof m.pad)
        memcpy(&got, reply.data, sizeof got);
    if (reply.kind != CELL_IPC_RESPONSE || reply.id != id || got != seq)
        return ipcb_fail("seqpacket client: request %u (seq %llu) answered by kind %d id %u seq %llu", id,
                         (unsigned long long)seq, (int)reply.kind, reply.id, (unsigned long long)got);
    return 0;
}

int seqpacket_latency(void)
{
    struct cell_ipc_server *server;
    struct cell_ipc_conn *conn;
    pid_t pid = ipcb_cell_fork(echo_server, &server, &conn);
    if (pid < 0)
        return -1;
    int rc = ipcb_pingpong("seqpacket", seqpacket_roundtrip, conn);
    struct cell_err err = {0};
    struct ipcb_msg stop = {.seq = IPCB_STOP};
    cell_ipc_request(conn, &stop, sizeof stop, NULL, &err);
    if (ipcb_reap(pid, "seqpacket server") < 0)
        rc = -1;
    ipcb_cell_close(server, conn);
    return rc;
}

/* Receive and check messages until the stop message; answer it with the
 * count. */
static int consumer(struct cell_ipc_conn *conn)
{
    struct cell_err err = {0};
    struct cell_ipc_msg msg;
    uint64_t expect = 1;
    for (;;) {
        int rc = cell_ipc_recv(conn, &msg, &err);
        if (rc <= 0)
            return ipcb_fail("seqpacket consumer: %s", rc < 0 ? err.msg : "the producer hung up");
        uint64_t seq;
        if (msg.len != IPCB_MSG_BYTES)
            return ipcb_fail("seqpacket consumer: a message of %zu bytes", msg.len);
        memcpy(&seq, msg.data, sizeof seq);
        if (seq == IPCB_STOP) {
            uint64_t count = expect - 1;
            if (cell_ipc_respond(conn, msg.id, &count, sizeof count, &err) < 0)
                return ipcb_fail("seqpacket consumer: %s", err.msg);
            return 0;
        }
        if (seq != expect)
            return ipcb_fail("seqpacket consumer: message %llu where %llu was due", (unsigned long long)seq,
                             (unsigned long long)expect);
        expect++;
    }
}

int seqpacket_throughput(void)
{
    struct cell_ipc_server *server;
    struct cell_ipc_conn *conn;
    pid_t pid = ipcb_cell_fork(consumer, &server, &conn);
    if (pid < 0)
        return -1;
    struct cell_err err = {0};
    struct ipcb_msg m = {.seq = 1};
    uint64_t count = 0;
    int rc = 0;
    uint64_t t0 = ipcb_now_ns();
    do {
        for (int i = 0; i < ipcb.batch && rc == 0; i++, m.seq++) {
            if (cell_ipc_send(conn, CELL_IPC_ONEWAY, 0, &m, sizeof m, &err) < 0)
                rc = ipcb_fail("seqpacket producer: %s", err.msg);
        }
    } while (rc == 0 && !ipcb_send_done(t0));
    uint64_t sent = m.seq - 1;
    if (rc == 0) {
        struct ipcb_msg stop = {.seq = IPCB_STOP};
        struct cell_ipc_msg reply;
        if (cell_ipc_request(conn, &stop, sizeof stop, NULL, &err) < 0 || cell_ipc_recv(conn, &reply, &err) <= 0 ||
            reply.len != sizeof count)
            rc = ipcb_fail("seqpacket producer: the consumer did not confirm: %s", err.msg);
        else
            memcpy(&count, reply.data, sizeof count);
    }
    uint64_t t1 = ipcb_now_ns();
    if (ipcb_reap(pid, "seqpacket consumer") < 0)
        rc = -1;
    ipcb_cell_close(server, conn);
    if (rc < 0)
        return -1;
    if (count != sent)
        return ipcb_fail("seqpacket: sent %llu messages, the consumer counted %llu", (unsigned long long)sent,
                         (unsigned long long)count);
    ipcb_report_rate("seqpacket", count, t1 - t0, "one datagram per message");
    return 0;
}
