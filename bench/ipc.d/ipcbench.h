/* ipcbench.h - what the parts of bench/ipc's C program share: the message
 * (32 bytes, a sequence number first), the settings from the command line,
 * the clock, pinning the two sides to their CPUs, forking the server side,
 * and the lines the program prints for bench/ipc to parse.
 *
 * Every contender has the same shape: the process that runs main() is the
 * client (ping-pong) or the producer (throughput); a forked child is the
 * server or the consumer. A message whose sequence number is IPCB_STOP tells
 * the child to finish. */
#ifndef IPCBENCH_H
#define IPCBENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define IPCB_MSG_BYTES 32
#define IPCB_STOP UINT64_MAX

struct ipcb_msg {
    uint64_t seq;
    unsigned char pad[IPCB_MSG_BYTES - sizeof(uint64_t)];
};
_Static_assert(sizeof(struct ipcb_msg) == IPCB_MSG_BYTES, "a message is 32 bytes");

struct ipcb_config {
    long roundtrips; /* timed round trips (ping-pong) */
    long warmup;     /* untimed round trips before them */
    double seconds;  /* how long the producer sends (throughput) */
    int batch;       /* messages per write / commit (throughput) */
    int idle_ms;     /* the idle window */
    const char *dir; /* a temp dir: sockets of cell_listen */
    int cpu[2];      /* [0] client/producer, [1] server/consumer; -1: not pinned */
};

extern struct ipcb_config ipcb;

static inline uint64_t ipcb_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Print "bench/ipc: ..." on stderr; returns -1. */
int ipcb_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Pin the calling process to ipcb.cpu[side] (no-op when -1). */
int ipcb_pin(int side);

/* Fork the server side: the child pins itself to cpu[1], runs fn(arg) and
 * exits with 0 when it returns 0, else 1. The parent pins itself to cpu[0]
 * and gets the child's pid (-1 on failure). */
pid_t ipcb_fork(int (*fn)(void *), void *arg);
/* Wait for the child: 0 when it exited 0, else -1 (with a message). */
int ipcb_reap(pid_t pid, const char *what);

/* The timed ping-pong loop: warmup + roundtrips calls of roundtrip(ctx,
 * seq), each timed alone; prints the latency line for `name`. The callback
 * sends seq and waits for its echo (0), or fails (-1). */
int ipcb_pingpong(const char *name, int (*roundtrip)(void *ctx, uint64_t seq), void *ctx);

/* The throughput line: `messages` received by the consumer in `ns`. */
void ipcb_report_rate(const char *name, uint64_t messages, uint64_t ns, const char *note);

/* Whether the producer should stop sending (checked once per batch). */
static inline bool ipcb_send_done(uint64_t start_ns)
{
    return ipcb_now_ns() - start_ns >= (uint64_t)(ipcb.seconds * 1e9);
}

/* A cell connection: cell_listen("ipcb-PID") in $CELL_SOCKET_DIR (or
 * ipcb.dir), then a forked child accepts and runs serve(conn) while the
 * parent connects (*client). *server is closed by ipcb_cell_close. */
struct cell_ipc_server;
struct cell_ipc_conn;
pid_t ipcb_cell_fork(int (*serve)(struct cell_ipc_conn *), struct cell_ipc_server **server,
                     struct cell_ipc_conn **client);
void ipcb_cell_close(struct cell_ipc_server *server, struct cell_ipc_conn *client);

/* The contenders, in stream.c, seqpacket.c, ring.c and iox.c. */
int stream_latency(void);
int stream_throughput(void);
int seqpacket_latency(void);
int seqpacket_throughput(void);
int ring_latency(void);
int ring_throughput(void);
int ring_idle(void);
int iox_latency(void);
int iox_throughput(void);

#endif
