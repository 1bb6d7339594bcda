/* stream.c - the baseline: a Unix SOCK_STREAM socketpair with plain
 * write(2) and read(2). Ping-pong: 32 bytes each way per round trip.
 * Throughput: the producer writes `batch` messages per write(2); the
 * consumer reads up to 64 KiB at a time and checks every message's
 * sequence number. */
#define _GNU_SOURCE
#include "ipcbench.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* 0 when len bytes were read, 1 at the end of the stream, -1 on error. */
static int read_full(int fd, void *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, (char *)buf + got, len - got);
        if (n == 0)
            return 1;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        got += (size_t)n;
    }
    return 0;
}

static int write_full(int fd, const void *buf, size_t len)
{
    size_t put = 0;
    while (put < len) {
        ssize_t n = write(fd, (const char *)buf + put, len - put);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        put += (size_t)n;
    }
    return 0;
}

static int echo_server(void *arg)
{
    int fd = *(int *)arg;
    struct ipcb_msg m;
    for (;;) {
        int rc = read_full(fd, &m, sizeof m);
        if (rc != 0)
            return rc < 0 ? ipcb_fail("stream server: read: %s", strerror(errno)) : 0;
        if (m.seq == IPCB_STOP)
            return 0;
        if (write_full(fd, &m, sizeof m) < 0)
            return ipcb_fail("stream server: write: %s", strerror(errno));
    }
}

static int stream_roundtrip(void *ctx, uint64_t seq)
{
    int fd = *(int *)ctx;
    struct ipcb_msg m = {.seq = seq};
    if (write_full(fd, &m, sizeof m) < 0)
        return ipcb_fail("stream client: write: %s", strerror(errno));
    int rc = read_full(fd, &m, sizeof m);
    if (rc != 0)
        return ipcb_fail("stream client: read: %s", rc > 0 ? "the server hung up" : strerror(errno));
    if (m.seq != seq)
        return ipcb_fail("stream client: sent %llu, got %llu back", (unsigned long long)seq, (unsigned long long)m.seq);
    return 0;
}

static int pair(int sv[2])
{
    signal(SIGPIPE, SIG_IGN);
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return ipcb_fail("socketpair: %s", strerror(errno));
    return 0;
}

int stream_latency(void)
{
    int sv[2];
    if (pair(sv) < 0)
        return -1;
    pid_t pid = ipcb_fork(echo_server, &sv[1]);
    if (pid < 0)
        return -1;
    close(sv[1]);
    int rc = ipcb_pingpong("stream", stream_roundtrip, &sv[0]);
    struct ipcb_msg stop = {.seq = IPCB_STOP};
    write_full(sv[0], &stop, sizeof stop);
    close(sv[0]);
    return ipcb_reap(pid, "stream server") < 0 ? -1 : rc;
}

/* Read messages until the stop message, checking each; then write back how
 * many came. */
static int stream_consumer(void *arg)
{
    int fd = *(int *)arg;
    size_t cap = 64 * 1024, have = 0;
    unsigned char *buf = malloc(cap);
    uint64_t expect = 1;
    if (buf == NULL)
        return ipcb_fail("stream consumer: no memory");
    for (;;) {
        ssize_t n = read(fd, buf + have, cap - have);
        if (n <= 0) {
            if (n < 0 && errno == EINTR)
                continue;
            free(buf);
            return ipcb_fail("stream consumer: read: %s", n == 0 ? "the producer hung up" : strerror(errno));
        }
        have += (size_t)n;
        size_t off = 0;
        for (; off + IPCB_MSG_BYTES <= have; off += IPCB_MSG_BYTES) {
            uint64_t seq;
            memcpy(&seq, buf + off, sizeof seq);
            if (seq == IPCB_STOP) {
                uint64_t count = expect - 1;
                free(buf);
                return write_full(fd, &count, sizeof count);
            }
            if (seq != expect) {
                free(buf);
                return ipcb_fail("stream consumer: message %llu where %llu was due", (unsigned long long)seq,
                                 (unsigned long long)expect);
            }
            expect++;
        }
        memmove(buf, buf + off, have - off);
        have -= off;
    }
}

int stream_throughput(void)
{
    int sv[2];
    if (pair(sv) < 0)
        return -1;
    pid_t pid = ipcb_fork(stream_consumer, &sv[1]);
    if (pid < 0)
        return -1;
    close(sv[1]);
    struct ipcb_msg *batch = calloc((size_t)ipcb.batch, sizeof *batch);
    if (batch == NULL)
        return ipcb_fail("stream producer: no memory");
    uint64_t seq = 1, count = 0;
    int rc = 0;
    uint64_t t0 = ipcb_now_ns();
    do {
        for (int i = 0; i < ipcb.batch; i++)
            batch[i].seq = seq++;
        if (write_full(sv[0], batch, (size_t)ipcb.batch * sizeof *batch) < 0) {
            rc = ipcb_fail("stream producer: write: %s", strerror(errno));
            break;
        }
    } while (!ipcb_send_done(t0));
    batch[0].seq = IPCB_STOP;
    if (rc == 0 && (write_full(sv[0], batch, sizeof *batch) < 0 || read_full(sv[0], &count, sizeof count) != 0))
        rc = ipcb_fail("stream producer: the consumer did not confirm");
    uint64_t t1 = ipcb_now_ns();
    free(batch);
    close(sv[0]);
    if (ipcb_reap(pid, "stream consumer") < 0 || rc < 0)
        return -1;
    if (count != seq - 1)
        return ipcb_fail("stream: sent %llu messages, the consumer counted %llu", (unsigned long long)(seq - 1),
                         (unsigned long long)count);
    char note[64];
    snprintf(note, sizeof note, "%d messages per write(2)", ipcb.batch);
    ipcb_report_rate("stream", count, t1 - t0, note);
    return 0;
}
