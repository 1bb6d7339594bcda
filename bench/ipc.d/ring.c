/* ring.c - cell's shared-memory fast path: cell_ring_offer (the server) and
 * cell_ring_accept (the client) on a cell connection, 1 MiB per direction.
 * Ping-pong: the client reserves 32 bytes, writes the sequence number,
 * commits and waits; the server waits, peeks, reserves the reply, copies
 * the message into it, commits and releases. Both wait in cell_ring_wait,
 * so they spin, then sleep, as the library decides. Throughput: the
 * producer reserves `batch` messages, then commits them at once; the
 * consumer peeks and releases each. Idle: both sides block in
 * cell_ring_wait with no traffic while this process reads their CPU time. */
#define _GNU_SOURCE
#include "ipcbench.h"

#include "cell/ipc.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The error of the calls made per message: one per process, so that no
 * 516-byte struct is zeroed per message (the library sets it on failure). */
static struct cell_err hot_err;

/* The next message, in place (NULL, with a message, on error). `wait_first`:
 * cell_ring_wait, then cell_ring_peek (one message in flight: nothing is
 * there yet); else peek, and wait only when nothing is (a stream of them). */
static const struct ipcb_msg *next_message(struct cell_ring *r, bool wait_first, const char *who)
{
    for (;;) {
        if (wait_first && cell_ring_wait(r, -1, &hot_err) < 0) {
            ipcb_fail("ring %s: %s", who, hot_err.msg);
            return NULL;
        }
        size_t len;
        const void *p = cell_ring_peek(r, &len, &hot_err);
        if (p != NULL) {
            if (len != IPCB_MSG_BYTES && len != sizeof(uint64_t)) {
                ipcb_fail("ring %s: a message of %zu bytes", who, len);
                return NULL;
            }
            return p;
        }
        if (hot_err.errnum != 0) {
            ipcb_fail("ring %s: %s", who, hot_err.msg);
            return NULL;
        }
        wait_first = true;
    }
}

/* Reserve len bytes, waiting for space if the ring is full. */
static void *reserve(struct cell_ring *r, size_t len, const char *who)
{
    for (;;) {
        void *p = cell_ring_reserve(r, len, &hot_err);
        if (p != NULL)
            return p;
        if (hot_err.errnum != EAGAIN || cell_ring_wait_space(r, len, -1, &hot_err) < 0) {
            ipcb_fail("ring %s: %s", who, hot_err.msg);
            return NULL;
        }
    }
}

static int echo_server(struct cell_ipc_conn *conn)
{
    struct cell_err err = {0};
    struct cell_ring *r;
    if (cell_ring_offer(conn, 0, &r, &err) < 0)
        return ipcb_fail("ring server: %s", err.msg);
    int rc = -1;
    for (;;) {
        const struct ipcb_msg *m = next_message(r, true, "server");
        if (m == NULL)
            break;
        if (m->seq == IPCB_STOP) {
            cell_ring_release(r);
            rc = 0;
            break;
        }
        void *reply = reserve(r, IPCB_MSG_BYTES, "server");
        if (reply == NULL)
            break;
        memcpy(reply, m, IPCB_MSG_BYTES);
        cell_ring_commit(r);
        cell_ring_release(r);
    }
    cell_ring_close(r);
    return rc;
}

static int send_seq(struct cell_ring *r, uint64_t seq, const char *who)
{
    struct ipcb_msg *m = reserve(r, IPCB_MSG_BYTES, who);
    if (m == NULL)
        return -1;
    m->seq = seq;
    cell_ring_commit(r);
    return 0;
}

static int ring_roundtrip(void *ctx, uint64_t seq)
{
    struct cell_ring *r = ctx;
    if (send_seq(r, seq, "client") < 0)
        return -1;
    const struct ipcb_msg *m = next_message(r, true, "client");
    if (m == NULL)
        return -1;
    uint64_t got = m->seq;
    cell_ring_release(r);
    if (got != seq)
        return ipcb_fail("ring client: sent %llu, got %llu back", (unsigned long long)seq, (unsigned long long)got);
    return 0;
}

/* The client's ring on a fresh connection whose server runs serve. */
static pid_t ring_pair(int (*serve)(struct cell_ipc_conn *), struct cell_ipc_server **server,
                       struct cell_ipc_conn **conn, struct cell_ring **ring)
{
    struct cell_err err = {0};
    pid_t pid = ipcb_cell_fork(serve, server, conn);
    if (pid < 0)
        return -1;
    if (cell_ring_accept(*conn, ring, &err) < 0) {
        ipcb_fail("ring client: %s", err.msg);
        ipcb_cell_close(*server, *conn);
        ipcb_reap(pid, "ring server");
        return -1;
    }
    return pid;
}

int ring_latency(void)
{
    struct cell_ipc_server *server;
    struct cell_ipc_conn *conn;
    struct cell_ring *r;
    pid_t pid = ring_pair(echo_server, &server, &conn, &r);
    if (pid < 0)
        return -1;
    int rc = ipcb_pingpong("ring", ring_roundtrip, r);
    send_seq(r, IPCB_STOP, "client");
    if (ipcb_reap(pid, "ring server") < 0)
        rc = -1;
    cell_ring_close(r);
    ipcb_cell_close(server, conn);
    return rc;
}

/* Peek, check and release every message until the stop message; answer it
 * with the count. */
static int consumer(struct cell_ipc_conn *conn)
{
    struct cell_err err = {0};
    struct cell_ring *r;
    if (cell_ring_offer(conn, 0, &r, &err) < 0)
        return ipcb_fail("ring consumer: %s", err.msg);
    uint64_t expect = 1;
    int rc = -1;
    for (;;) {
        const struct ipcb_msg *m = next_message(r, false, "consumer");
        if (m == NULL)
            break;
        uint64_t seq = m->seq;
        cell_ring_release(r);
        if (seq == IPCB_STOP) {
            cell_ring_release_flush(r);
            uint64_t *count = reserve(r, sizeof *count, "consumer");
            if (count != NULL) {
                *count = expect - 1;
                cell_ring_commit(r);
                rc = 0;
            }
            break;
        }
        if (seq != expect) {
            ipcb_fail("ring consumer: message %llu where %llu was due", (unsigned long long)seq,
                      (unsigned long long)expect);
            break;
        }
        expect++;
    }
    cell_ring_close(r);
    return rc;
}

int ring_throughput(void)
{
    struct cell_ipc_server *server;
    struct cell_ipc_conn *conn;
    struct cell_ring *r;
    pid_t pid = ring_pair(consumer, &server, &conn, &r);
    if (pid < 0)
        return -1;
    uint64_t seq = 1, count = 0;
    int rc = 0;
    uint64_t t0 = ipcb_now_ns();
    do {
        for (int i = 0; i < ipcb.batch; i++, seq++) {
            struct ipcb_msg *m = reserve(r, IPCB_MSG_BYTES, "producer");
            if (m == NULL) {
                rc = -1;
                break;
            }
            m->seq = seq;
        }
        cell_ring_commit(r);
    } while (rc == 0 && !ipcb_send_done(t0));
    uint64_t sent = seq - 1;
    const struct ipcb_msg *reply = NULL;
    if (rc == 0 && send_seq(r, IPCB_STOP, "producer") == 0 && (reply = next_message(r, true, "producer")) != NULL) {
        memcpy(&count, reply, sizeof count);
        cell_ring_release(r);
    } else {
        rc = -1;
    }
    uint64_t t1 = ipcb_now_ns();
    if (ipcb_reap(pid, "ring consumer") < 0)
        rc = -1;
    cell_ring_close(r);
    ipcb_cell_close(server, conn);
    if (rc < 0)
        return -1;
    if (count != sent)
        return ipcb_fail("ring: sent %llu messages, the consumer counted %llu", (unsigned long long)sent,
                         (unsigned long long)count);
    char note[96];
    snprintf(note, sizeof note, "%d reserves per commit, 1 MiB ring", ipcb.batch);
    ipcb_report_rate("ring", count, t1 - t0, note);
    return 0;
}

/* ---- idle ---------------------------------------------------------------------- */

/* The server: offer the ring, then wait with no timeout until the stop. */
static int idle_server(struct cell_ipc_conn *conn)
{
    struct cell_err err = {0};
    struct cell_ring *r;
    if (cell_ring_offer(conn, 0, &r, &err) < 0)
        return ipcb_fail("ring idle server: %s", err.msg);
    const struct ipcb_msg *m = next_message(r, true, "idle server");
    int rc = m != NULL && m->seq == IPCB_STOP ? 0 : -1;
    cell_ring_close(r);
    return rc;
}

static struct {
    struct cell_ipc_conn *conn;
    int ready_fd;
} idle_client_ctx;

/* The client: accept, say so, then one cell_ring_wait that outlasts the
 * window (it times out: nothing is sent); then stop the server. */
static int idle_client(void *unused)
{
    (void)unused;
    struct cell_err err = {0};
    struct cell_ring *r;
    if (cell_ring_accept(idle_client_ctx.conn, &r, &err) < 0)
        return ipcb_fail("ring idle client: %s", err.msg);
    char c = 'r';
    if (write(idle_client_ctx.ready_fd, &c, 1) != 1)
        return ipcb_fail("ring idle client: ready pipe: %s", strerror(errno));
    int rc = cell_ring_wait(r, ipcb.idle_ms + 1500, &err);
    if (rc != 0) {
        cell_ring_close(r);
        return ipcb_fail("ring idle client: the wait returned %d (%s), not a timeout", rc,
                         rc < 0 ? err.msg : "a message");
    }
    rc = send_seq(r, IPCB_STOP, "idle client");
    cell_ring_close(r);
    return rc;
}

struct proc_cpu {
    uint64_t sched_ns; /* /proc/PID/schedstat: time on a CPU */
    uint64_t ticks_ns; /* /proc/PID/stat: utime + stime, in clock ticks */
    uint64_t switches; /* /proc/PID/status: voluntary + involuntary */
};

static int read_proc_cpu(pid_t pid, struct proc_cpu *out)
{
    char path[64], buf[4096];
    FILE *f;
    *out = (struct proc_cpu){0};
    snprintf(path, sizeof path, "/proc/%d/schedstat", (int)pid);
    if ((f = fopen(path, "r")) != NULL) {
        unsigned long long ns;
        if (fscanf(f, "%llu", &ns) == 1)
            out->sched_ns = ns;
        fclose(f);
    }
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    if ((f = fopen(path, "r")) == NULL)
        return ipcb_fail("%s: %s", path, strerror(errno));
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* after the command name */
    unsigned long long utime, stime;
    if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
        return ipcb_fail("%s: not understood", path);
    out->ticks_ns = (utime + stime) * (1000000000ull / (unsigned long long)sysconf(_SC_CLK_TCK));
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    if ((f = fopen(path, "r")) != NULL) {
        while (fgets(buf, sizeof buf, f)) {
            unsigned long long v;
            if (sscanf(buf, "voluntary_ctxt_switches: %llu", &v) == 1 ||
                sscanf(buf, "nonvoluntary_ctxt_switches: %llu", &v) == 1)
                out->switches += v;
        }
        fclose(f);
    }
    return 0;
}

int ring_idle(void)
{
    struct cell_ipc_server *server;
    struct cell_ipc_conn *conn;
    int ready[2];
    if (pipe(ready) < 0)
        return ipcb_fail("pipe: %s", strerror(errno));
    pid_t spid = ipcb_cell_fork(idle_server, &server, &conn);
    if (spid < 0)
        return -1;
    idle_client_ctx.conn = conn;
    idle_client_ctx.ready_fd = ready[1];
    /* the client is a child too (on the server's CPU's peer: ipcb_fork
     * pins it to cpu[1]; swap so each side has its own CPU) */
    int keep = ipcb.cpu[1];
    ipcb.cpu[1] = ipcb.cpu[0];
    pid_t cpid = ipcb_fork(idle_client, NULL);
    ipcb.cpu[1] = keep;
    close(ready[1]);
    int rc = 0;
    char c;
    if (cpid < 0 || read(ready[0], &c, 1) != 1) {
        rc = ipcb_fail("ring idle: the client did not get ready");
    } else {
        struct proc_cpu s0, c0, s1, c1;
        usleep(200 * 1000); /* past the first spin */
        uint64_t t0 = ipcb_now_ns();
        if (read_proc_cpu(spid, &s0) < 0 || read_proc_cpu(cpid, &c0) < 0)
            rc = -1;
        usleep((useconds_t)ipcb.idle_ms * 1000);
        uint64_t t1 = ipcb_now_ns();
        if (rc == 0 && (read_proc_cpu(spid, &s1) < 0 || read_proc_cpu(cpid, &c1) < 0))
            rc = -1;
        if (rc == 0)
            printf("idle ring window_ns=%llu server_cpu_ns=%llu client_cpu_ns=%llu server_ticks_ns=%llu "
                   "client_ticks_ns=%llu server_switches=%llu client_switches=%llu\n",
                   (unsigned long long)(t1 - t0), (unsigned long long)(s1.sched_ns - s0.sched_ns),
                   (unsigned long long)(c1.sched_ns - c0.sched_ns), (unsigned long long)(s1.ticks_ns - s0.ticks_ns),
                   (unsigned long long)(c1.ticks_ns - c0.ticks_ns), (unsigned long long)(s1.switches - s0.switches),
                   (unsigned long long)(c1.switches - c0.switches));
    }
    close(ready[0]);
    if (cpid > 0 && ipcb_reap(cpid, "ring idle client") < 0)
        rc = -1;
    else if (cpid < 0)
        kill(spid, SIGKILL);
    if (ipcb_reap(spid, "ring idle server") < 0)
        rc = -1;
    ipcb_cell_close(server, conn);
    return rc;
}
