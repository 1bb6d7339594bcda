/* pingpong-client.c - the client half of examples/pingpong: cell messaging
 * (include/cell/ipc.h) from the asking side.
 *
 * It connects to "pingpong" (cell_connect: $CELL_SOCKET_DIR/pingpong.sock,
 * else the root's run/sockets), sends "ping 1" .. "ping N" with up to
 * --window requests in flight (cell_ipc_request numbers them; answers are
 * matched by id, in whatever order they come) and checks that each answer
 * is "pong N". With --ring it then asks for the ring and does the same over
 * the shared memory, where answers come in order. Exit 0 when every answer
 * matched; 1 with one line saying what went wrong (a wrong answer, the
 * server gone, no answer within --timeout); 2 for bad arguments. */
#include "cell/ipc.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NAME "pingpong"
#define MAX_WINDOW 1024

struct options {
    unsigned long long count, ring_count;
    unsigned window;
    unsigned delay_ms;
    int timeout_ms; /* -1: none */
    bool ring;
};

__attribute__((noreturn, format(printf, 1, 2))) static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "pingpong-client: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

static void usage(FILE *to)
{
    fprintf(to, "usage: pingpong-client [--count N] [--window W] [--delay MS] [--timeout S] [--ring [--ring-count N]]\n"
                "  --count N       requests over the socket (default 32)\n"
                "  --window W      requests in flight at once (default 8, at most 1024)\n"
                "  --delay MS      wait before each request (default 0)\n"
                "  --timeout S     give up when an answer takes longer (default 10; 0: wait forever)\n"
                "  --ring          then ask for the ring and send as many over it\n"
                "  --ring-count N  requests over the ring (default: --count)\n"
                "The server is found as pingpong in $CELL_SOCKET_DIR (or the root's run/sockets).\n");
}

static unsigned long long number(const char *flag, const char *text, unsigned long long max)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(text, &end, 10);
    if (text[0] < '0' || text[0] > '9' || *end != '\0' || errno != 0 || n > max) {
        fprintf(stderr, "pingpong-client: %s \"%s\": give a number from 0 to %llu\n", flag, text, max);
        exit(2);
    }
    return n;
}

static void parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longs[] = {
        {"count", required_argument, NULL, 'c'}, {"window", required_argument, NULL, 'w'},
        {"delay", required_argument, NULL, 'd'}, {"timeout", required_argument, NULL, 't'},
        {"ring", no_argument, NULL, 'r'},        {"ring-count", required_argument, NULL, 'R'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
    };
    *o = (struct options){.count = 32, .window = 8, .timeout_ms = 10000};
    bool ring_count = false;
    int opt;
    opterr = 0; /* our own one-line message */
    while ((opt = getopt_long(argc, argv, ":h", longs, NULL)) != -1) {
        switch (opt) {
        case 'c':
            o->count = number("--count", optarg, 1ull << 40);
            break;
        case 'w':
            o->window = (unsigned)number("--window", optarg, MAX_WINDOW);
            if (o->window == 0) {
                fprintf(stderr, "pingpong-client: --window 0: at least one request must be in flight\n");
                exit(2);
            }
            break;
        case 'd':
            o->delay_ms = (unsigned)number("--delay", optarg, 60000);
            break;
        case 't': {
            unsigned long long s = number("--timeout", optarg, 3600);
            o->timeout_ms = s ? (int)s * 1000 : -1;
            break;
        }
        case 'r':
            o->ring = true;
            break;
        case 'R':
            o->ring_count = number("--ring-count", optarg, 1ull << 40);
            ring_count = true;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        case ':':
            fprintf(stderr, "pingpong-client: %s needs a value (see --help)\n", argv[optind - 1]);
            exit(2);
        default:
            fprintf(stderr, "pingpong-client: unknown option \"%s\" (see --help)\n", argv[optind - 1]);
            exit(2);
        }
    }
    if (optind < argc) {
        fprintf(stderr, "pingpong-client: \"%s\": no arguments are taken (see --help)\n", argv[optind]);
        exit(2);
    }
    if (!ring_count)
        o->ring_count = o->count;
    if (ring_count && !o->ring) {
        fprintf(stderr, "pingpong-client: --ring-count: only with --ring\n");
        exit(2);
    }
}

static void pause_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

/* ---- over the socket: pipelined requests, answers matched by id ------------- */

struct in_flight {
    uint32_t id;
    unsigned long long n;
    bool used;
};

static void over_socket(struct cell_ipc_conn *conn, const struct options *o)
{
    struct in_flight slots[MAX_WINDOW] = {{0}};
    struct cell_err err = {0};
    unsigned long long sent = 0, answered = 0;
    unsigned inflight = 0;
    while (answered < o->count) {
        for (unsigned s = 0; s < o->window && inflight < o->window && sent < o->count; s++) {
            if (slots[s].used)
                continue;
            if (o->delay_ms)
                pause_ms(o->delay_ms);
            char request[32];
            int len = snprintf(request, sizeof request, "ping %llu", sent + 1);
            if (cell_ipc_request(conn, request, (size_t)len, &slots[s].id, &err) < 0) {
                if (err.errnum == EPIPE || err.errnum == ECONNRESET)
                    die("socket: the server hung up (%llu of %llu answers came)", answered, o->count);
                die("socket: %s (%llu of %llu answers came)", err.msg, answered, o->count);
            }
            slots[s].n = ++sent;
            slots[s].used = true;
            inflight++;
        }
        struct pollfd p = {.fd = cell_ipc_conn_fd(conn), .events = POLLIN};
        int ready = poll(&p, 1, o->timeout_ms);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready == 0)
            die("socket: no answer within %d s (%llu of %llu answers came)", o->timeout_ms / 1000, answered, o->count);
        struct cell_ipc_msg msg;
        int rc = cell_ipc_recv(conn, &msg, &err);
        if (rc == 0)
            die("socket: the server hung up (%llu of %llu answers came)", answered, o->count);
        if (rc < 0 && err.errnum == ECONNRESET)
            die("socket: the server hung up (%llu of %llu answers came)", answered, o->count);
        if (rc < 0)
            die("socket: %s (%llu of %llu answers came)", err.msg, answered, o->count);
        if (msg.kind != CELL_IPC_RESPONSE)
            die("socket: the server sent a message of kind %d, not an answer", (int)msg.kind);
        struct in_flight *slot = NULL;
        for (unsigned s = 0; s < o->window && slot == NULL; s++)
            if (slots[s].used && slots[s].id == msg.id)
                slot = &slots[s];
        if (slot == NULL)
            die("socket: an answer to request id %u, which is not in flight", msg.id);
        char want[32];
        int wlen = snprintf(want, sizeof want, "pong %llu", slot->n);
        if (msg.len != (size_t)wlen || memcmp(msg.data, want, msg.len) != 0)
            die("socket: \"ping %llu\" was answered \"%.*s\", not \"%s\"", slot->n, (int)(msg.len < 64 ? msg.len : 64),
                (const char *)msg.data, want);
        printf("socket: ping %llu -> %s\n", slot->n, want);
        slot->used = false;
        inflight--;
        answered++;
    }
}

/* ---- over the ring: batches written in place, answers in order ------------- */

static void over_ring(struct cell_ipc_conn *conn, const struct options *o)
{
    struct cell_err err = {0};
    uint32_t id;
    struct cell_ring *ring;
    if (cell_ipc_request(conn, "ring", 4, &id, &err) < 0 || cell_ring_accept(conn, &ring, &err) < 0)
        die("ring: %s", err.msg);
    printf("ring: accepted (%zu bytes at most per message)\n", cell_ring_max_message(ring));
    unsigned long long sent = 0, answered = 0;
    while (answered < o->ring_count) {
        /* a batch: up to the window, each written in place, then one commit */
        while (sent - answered < o->window && sent < o->ring_count) {
            if (o->delay_ms) {
                pause_ms(o->delay_ms);
                cell_ring_commit(ring); /* one at a time, then */
            }
            char request[32];
            int len = snprintf(request, sizeof request, "ping %llu", sent + 1);
            void *slot = cell_ring_reserve(ring, (size_t)len, &err);
            if (slot == NULL) {
                if (err.errnum == EAGAIN)
                    break; /* full: the answers free it */
                die("ring: %s (%llu of %llu answers came)", err.msg, answered, o->ring_count);
            }
            memcpy(slot, request, (size_t)len);
            sent++;
        }
        cell_ring_commit(ring);
        int rc = cell_ring_wait(ring, o->timeout_ms, &err);
        if (rc < 0)
            die("ring: %s (%llu of %llu answers came)", err.msg, answered, o->ring_count);
        if (rc == 0)
            die("ring: no answer within %d s (%llu of %llu answers came)", o->timeout_ms / 1000, answered,
                o->ring_count);
        const void *msg;
        size_t len;
        while ((msg = cell_ring_peek(ring, &len, &err)) != NULL) {
            char got[64], want[32];
            /* copied first: the bytes stay in memory the server can change */
            size_t n = len < sizeof got - 1 ? len : sizeof got - 1;
            memcpy(got, msg, n);
            got[n] = '\0';
            cell_ring_release(ring);
            if (answered == sent)
                die("ring: an answer \"%s\" to no request", got);
            snprintf(want, sizeof want, "pong %llu", answered + 1);
            if (len != strlen(want) || strcmp(got, want) != 0)
                die("ring: \"ping %llu\" was answered \"%s\", not \"%s\"", answered + 1, got, want);
            printf("ring: ping %llu -> %s\n", answered + 1, want);
            answered++;
        }
        if (err.errnum != 0)
            die("ring: %s (%llu of %llu answers came)", err.msg, answered, o->ring_count);
    }
    cell_ring_close(ring);
}

int main(int argc, char **argv)
{
    struct options o;
    parse_options(argc, argv, &o);
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct cell_err err = {0};
    struct cell_ipc_conn *conn;
    if (cell_connect(NAME, NULL, &conn, &err) < 0)
        die("%s", err.msg);
    over_socket(conn, &o);
    if (o.ring)
        over_ring(conn, &o);
    cell_ipc_conn_close(conn);
    if (o.ring)
        printf("pingpong-client: %llu answers over the socket and %llu over the ring: all matched\n", o.count,
               o.ring_count);
    else
        printf("pingpong-client: %llu answers over the socket: all matched\n", o.count);
    return 0;
}
