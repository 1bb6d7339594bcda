/* main.c - the command line of bench/ipc's C program, and what every
 * contender shares: pinning, forking the server side, the timed ping-pong
 * loop and the result lines. bench/ipc builds this program, runs one
 * contender per invocation and parses what it prints:
 *
 *   pin client=CPU server=CPU
 *   latency NAME n=N warmup=W median_ns=.. p99_ns=.. p999_ns=.. min_ns=.. max_ns=.. mean_ns=..
 *   rate NAME messages=M ns=T per_s=R note=TEXT
 *   idle ring window_ns=.. server_cpu_ns=.. client_cpu_ns=.. server_switches=.. client_switches=..
 *   timer median_ns=..
 *
 * Usage: ipcbench [-n ROUNDTRIPS] [-w WARMUP] [-s SECONDS] [-b BATCH]
 *                 [-i IDLE_MS] [-d DIR] [-P] COMMAND [CONTENDER]
 * COMMAND: latency | throughput (CONTENDER: stream, seqpacket, ring, iox),
 *          idle (the ring), timer (the cost of one clock read). -P: no pinning. */
#define _GNU_SOURCE
#include "ipcbench.h"

#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct ipcb_config ipcb = {
    .roundtrips = 100000,
    .warmup = 10000,
    .seconds = 2.0,
    .batch = 64,
    .idle_ms = 5000,
    .dir = NULL,
    .cpu = {-1, -1},
};

int ipcb_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("bench/ipc: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return -1;
}

int ipcb_pin(int side)
{
    if (ipcb.cpu[side] < 0)
        return 0;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(ipcb.cpu[side], &set);
    if (sched_setaffinity(0, sizeof set, &set) < 0)
        return ipcb_fail("pin to CPU %d: %s", ipcb.cpu[side], strerror(errno));
    return 0;
}

pid_t ipcb_fork(int (*fn)(void *), void *arg)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        ipcb_fail("fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        /* exit, not _exit: iceoryx removes its runtime's files in a static
         * destructor */
        exit(ipcb_pin(1) < 0 ? 1 : fn(arg) < 0);
    }
    if (ipcb_pin(0) < 0)
        return -1;
    return pid;
}

int ipcb_reap(pid_t pid, const char *what)
{
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return ipcb_fail("%s: waitpid: %s", what, strerror(errno));
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (WIFSIGNALED(status))
        return ipcb_fail("%s: the child (pid %d) was killed by signal %d", what, (int)pid, WTERMSIG(status));
    return ipcb_fail("%s: the child (pid %d) exited %d", what, (int)pid, WEXITSTATUS(status));
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The nearest-rank percentile p (0..1] of sorted samples. */
static uint64_t percentile(const uint64_t *sorted, size_t n, double p)
{
    size_t rank = (size_t)(p * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return sorted[rank - 1];
}

int ipcb_pingpong(const char *name, int (*roundtrip)(void *ctx, uint64_t seq), void *ctx)
{
    size_t n = (size_t)ipcb.roundtrips;
    uint64_t *ns = malloc(n * sizeof *ns);
    if (ns == NULL)
        return ipcb_fail("%s: no memory for %zu samples", name, n);
    memset(ns, 0, n * sizeof *ns); /* no page faults in the timed loop */
    uint64_t seq = 1;
    for (long i = 0; i < ipcb.warmup; i++, seq++) {
        if (roundtrip(ctx, seq) < 0) {
            free(ns);
            return -1;
        }
    }
    for (size_t i = 0; i < n; i++, seq++) {
        uint64_t t0 = ipcb_now_ns();
        int rc = roundtrip(ctx, seq);
        uint64_t t1 = ipcb_now_ns();
        if (rc < 0) {
            free(ns);
            return -1;
        }
        ns[i] = t1 - t0;
    }
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += (double)ns[i];
    qsort(ns, n, sizeof *ns, cmp_u64);
    printf("latency %s n=%zu warmup=%ld median_ns=%llu p99_ns=%llu p999_ns=%llu min_ns=%llu max_ns=%llu "
           "mean_ns=%.1f\n",
           name, n, ipcb.warmup, (unsigned long long)percentile(ns, n, 0.5),
           (unsigned long long)percentile(ns, n, 0.99), (unsigned long long)percentile(ns, n, 0.999),
           (unsigned long long)ns[0], (unsigned long long)ns[n - 1], sum / (double)n);
    free(ns);
    return 0;
}

void ipcb_report_rate(const char *name, uint64_t messages, uint64_t ns, const char *note)
{
    printf("rate %s messages=%llu ns=%llu per_s=%.0f note=%s\n", name, (unsigned long long)messages,
           (unsigned long long)ns, ns ? (double)messages * 1e9 / (double)ns : 0.0, note ? note : "");
}

/* The cost of one clock read, in every latency sample: the median of
 * back-to-back pairs. */
static int timer_overhead(void)
{
    enum { N = 100001 };
    static uint64_t d[N];
    for (int i = 0; i < N; i++) {
        uint64_t a = ipcb_now_ns();
        uint64_t b = ipcb_now_ns();
        d[i] = b - a;
    }
    qsort(d, N, sizeof *d, cmp_u64);
    printf("timer median_ns=%llu\n", (unsigned long long)d[N / 2]);
    return 0;
}

/* The first two CPUs this process may run on: the client's and the
 * server's; unpinned on a machine with one. */
static void choose_cpus(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) < 0 || CPU_COUNT(&set) < 2)
        return;
    int k = 0;
    for (int c = 0; c < CPU_SETSIZE && k < 2; c++) {
        if (CPU_ISSET(c, &set))
            ipcb.cpu[k++] = c;
    }
}

static int usage(void)
{
    fprintf(stderr, "usage: ipcbench [-n ROUNDTRIPS] [-w WARMUP] [-s SECONDS] [-b BATCH] [-i IDLE_MS] [-d DIR] [-P]\n"
                    "                latency|throughput stream|seqpacket|ring|iox | idle | timer\n");
    return 2;
}

static int run(const char *cmd, const char *who)
{
    static const struct {
        const char *cmd, *who;
        int (*fn)(void);
    } table[] = {
        {"latency", "stream", stream_latency},
        {"latency", "seqpacket", seqpacket_latency},
        {"latency", "ring", ring_latency},
        {"latency", "iox", iox_latency},
        {"throughput", "stream", stream_throughput},
        {"throughput", "seqpacket", seqpacket_throughput},
        {"throughput", "ring", ring_throughput},
        {"throughput", "iox", iox_throughput},
        {"idle", NULL, ring_idle},
        {"timer", NULL, timer_overhead},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (strcmp(table[i].cmd, cmd) != 0)
            continue;
        if (table[i].who && (who == NULL || strcmp(table[i].who, who) != 0))
            continue;
        return table[i].fn() < 0 ? 1 : 0;
    }
    return usage();
}

int main(int argc, char **argv)
{
    bool pin = true;
    int opt;
    while ((opt = getopt(argc, argv, "n:w:s:b:i:d:P")) != -1) {
        switch (opt) {
        case 'n':
            ipcb.roundtrips = atol(optarg);
            break;
        case 'w':
            ipcb.warmup = atol(optarg);
            break;
        case 's':
            ipcb.seconds = atof(optarg);
            break;
        case 'b':
            ipcb.batch = atoi(optarg);
            break;
        case 'i':
            ipcb.idle_ms = atoi(optarg);
            break;
        case 'd':
            ipcb.dir = optarg;
            break;
        case 'P':
            pin = false;
            break;
        default:
            return usage();
        }
    }
    if (optind >= argc || ipcb.roundtrips < 1 || ipcb.warmup < 0 || ipcb.seconds <= 0 || ipcb.batch < 1 ||
        ipcb.batch > 4096 || ipcb.idle_ms < 1)
        return usage();
    if (pin)
        choose_cpus();
    printf("pin client=%d server=%d\n", ipcb.cpu[0], ipcb.cpu[1]);
    return run(argv[optind], optind + 1 < argc ? argv[optind + 1] : NULL);
}
