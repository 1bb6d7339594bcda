/* ring.c - the shared-memory fast path of include/cell/ipc.h: two
 * single-producer single-consumer rings in a sealed memfd (the layout is in
 * ipc_internal.h).
 *
 * Trust: each side keeps its own positions locally and only reads the
 * peer's. Every value read from the mapping (the peer's head or tail, a
 * record's length and tag) is copied once and checked against what it can
 * be: a head ahead of our tail by at most the ring's size, a tail between
 * what we last saw and what we published, a record that fits before the end
 * and within what was published. Anything else marks the ring broken
 * (EPROTO) for good. The file cannot shrink under us (F_SEAL_SHRINK is
 * required at accept), so no access can fault.
 *
 * Waking: a consumer that finds nothing spins a while (the budget adapts:
 * it grows when spinning finds a message, shrinks when not), then announces
 * itself asleep and sleeps on the futex word data_seq with a timeout slice;
 * a producer's commit publishes head, then (after a full fence, pairing with
 * the consumer's) bumps data_seq and wakes it only if it sleeps. Between
 * slices the socket is polled: a peer that is gone hung it up. */
#include "ipc/ipc_internal.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define SLEEP_SLICE_MS 50
#define SPIN_MIN 64u
#define SPIN_MAX 16384u
#define RELEASE_BATCH 64u

struct cell_ring {
    int sock; /* the connection's, for hang-ups; not ours; -1 in tests */
    void *map;
    size_t map_len;
    uint64_t size, mask, max_msg;
    bool broken;
    /* what we produce */
    struct ring_ctl *tx;
    unsigned char *tx_data;
    uint64_t tx_head;      /* reserved up to */
    uint64_t tx_published; /* committed up to */
    uint64_t tx_tail_seen; /* the consumer's tail, last read */
    /* what we consume */
    struct ring_ctl *rx;
    unsigned char *rx_data;
    uint64_t rx_tail;      /* consumed up to (the peeked message not included) */
    uint64_t rx_head_seen; /* the producer's head, last read */
    uint64_t rx_flushed;   /* the tail the producer was last offered a wake-up for */
    uint64_t peek_size;    /* the peeked record's bytes; 0: none */
    const void *peek_ptr;
    size_t peek_len;
    unsigned releases;
    unsigned spin;
};

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static int futex_wait(_Atomic uint32_t *word, uint32_t value, int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    return (int)syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT, value, &ts, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *word)
{
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE, 1, NULL, NULL, 0);
}

static uint64_t align8(uint64_t n)
{
    return (n + 7) & ~(uint64_t)7;
}

static int broken(struct cell_ring *r, struct cell_err *err, const char *what)
{
    r->broken = true;
    return cell_err_set(err, EPROTO, "ipc ring: the peer's shared memory is corrupt (%s): the ring is closed", what);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- set-up ------------------------------------------------------------------- */

/* Check a mapped file's header (copied once) and make the ring. `server`:
 * we produce into direction 0 and consume direction 1. */
static struct cell_ring *attach(void *map, size_t map_len, bool server, int sock, struct cell_err *err)
{
    struct ring_file h;
    if (map_len < RING_HEADER_BYTES) {
        cell_err_set(err, EPROTO, "ipc ring: the shared memory is %zu bytes, less than a header", map_len);
        return NULL;
    }
    memcpy(&h, map, sizeof h);
    if (h.magic != RING_MAGIC || h.version != RING_VERSION) {
        cell_err_set(err, EPROTO, "ipc ring: not a cell ring (magic or version %u)", h.version);
        return NULL;
    }
    if (h.size < RING_MIN_BYTES || h.size > RING_MAX_BYTES || (h.size & (h.size - 1)) != 0 ||
        h.ctl_offset[0] != RING_HEADER_BYTES || h.ctl_offset[1] != RING_HEADER_BYTES + ring_direction_bytes(h.size) ||
        map_len < ring_file_bytes(h.size)) {
        cell_err_set(err, EPROTO, "ipc ring: a header that does not fit its %zu bytes (size %llu)", map_len,
                     (unsigned long long)h.size);
        return NULL;
    }
    struct cell_ring *r = calloc(1, sizeof *r);
    if (r == NULL) {
        cell_err_set(err, ENOMEM, "ipc ring");
        return NULL;
    }
    unsigned char *base = map;
    struct ring_ctl *ctl[2] = {(struct ring_ctl *)(base + h.ctl_offset[0]),
                               (struct ring_ctl *)(base + h.ctl_offset[1])};
    unsigned char *data[2] = {base + h.ctl_offset[0] + RING_CTL_BYTES, base + h.ctl_offset[1] + RING_CTL_BYTES};
    int out = server ? 0 : 1;
    *r = (struct cell_ring){.sock = sock,
                            .map = map,
                            .map_len = map_len,
                            .size = h.size,
                            .mask = h.size - 1,
                            .max_msg = h.size / 4 - sizeof(struct ring_record),
                            .tx = ctl[out],
                            .tx_data = data[out],
                            .rx = ctl[1 - out],
                            .rx_data = data[1 - out],
                            .spin = 1024};
    /* a fresh ring: the positions only we write are 0 (the peer may have
     * produced already: its head is checked when read, as always) */
    if (atomic_load(&r->tx->head) != 0 || atomic_load(&r->rx->tail) != 0) {
        free(r);
        cell_err_set(err, EPROTO, "ipc ring: offered with our own positions moved already");
        return NULL;
    }
    return r;
}

int cell_ring_offer(struct cell_ipc_conn *conn, size_t bytes, struct cell_ring **out, struct cell_err *err)
{
    *out = NULL;
    uint64_t size = bytes ? bytes : 1u << 20;
    if (size < RING_MIN_BYTES || size > RING_MAX_BYTES || (size & (size - 1)) != 0)
        return cell_err_set(err, EINVAL, "ipc ring: %zu bytes: a power of two from 4 KiB to 1 GiB", bytes);
    size_t len = (size_t)ring_file_bytes(size);
    int fd = memfd_create("cell-ring", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
        return cell_err_set(err, errno, "ipc ring: memfd_create");
    void *map = MAP_FAILED;
    if (ftruncate(fd, (off_t)len) < 0 || fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0 ||
        (map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0)) == MAP_FAILED) {
        int e = errno;
        close(fd);
        return cell_err_set(err, e, "ipc ring: make the shared memory (%zu bytes)", len);
    }
    struct ring_file h = {.magic = RING_MAGIC,
                          .version = RING_VERSION,
                          .size = size,
                          .ctl_offset = {RING_HEADER_BYTES, RING_HEADER_BYTES + ring_direction_bytes(size)}};
    memcpy(map, &h, sizeof h);
    struct cell_ring *r = attach(map, len, true, conn->fd, err);
    if (r == NULL || ipc_send_fds(conn, IPC_KIND_RING, 0, &size, sizeof size, &fd, 1, err) < 0) {
        if (r)
            free(r);
        munmap(map, len);
        close(fd);
        return -1;
    }
    close(fd);
    *out = r;
    return 0;
}

int cell_ring_accept(struct cell_ipc_conn *conn, struct cell_ring **out, struct cell_err *err)
{
    *out = NULL;
    struct cell_ipc_msg msg;
    uint32_t kind;
    int fd;
    int rc = ipc_recv_fds(conn, &msg, &kind, &fd, err);
    if (rc <= 0) {
        if (rc == 0)
            cell_err_set(err, EPIPE, "ipc ring: the peer closed the connection before offering a ring");
        return -1;
    }
    if (kind != IPC_KIND_RING || fd < 0) {
        if (fd >= 0)
            close(fd);
        char who[32];
        return cell_err_set(err, EPROTO, "ipc ring: %s sent a message where a ring offer was expected",
                            ipc_peer_name(conn, who));
    }
    struct stat st;
    int seals = fcntl(fd, F_GET_SEALS);
    int need = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || seals < 0 || (seals & need) != need || st.st_size <= 0) {
        close(fd);
        return cell_err_set(err, EPROTO,
                            "ipc ring: the offered memory is not a sealed memfd (it could shrink under us)");
    }
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        return cell_err_set(err, errno, "ipc ring: map the offered memory (%lld bytes)", (long long)st.st_size);
    struct cell_ring *r = attach(map, (size_t)st.st_size, false, conn->fd, err);
    if (r == NULL) {
        munmap(map, (size_t)st.st_size);
        return -1;
    }
    *out = r;
    return 0;
}

struct cell_ring *ring_attach_for_test(void *map, size_t map_len, int dir, struct cell_err *err)
{
    struct cell_ring *r = attach(map, map_len, dir == 1, -1, err);
    if (r)
        r->map = NULL; /* the caller's */
    return r;
}

void ring_detach_for_test(struct cell_ring *ring)
{
    free(ring);
}

void cell_ring_close(struct cell_ring *ring)
{
    if (ring == NULL)
        return;
    if (ring->map)
        munmap(ring->map, ring->map_len);
    free(ring);
}

size_t cell_ring_max_message(const struct cell_ring *ring)
{
    return (size_t)ring->max_msg;
}

/* ---- producing ---------------------------------------------------------------- */

/* The consumer's tail, read and checked: at least what we saw, at most what
 * we published. */
static int refresh_tail(struct cell_ring *r, struct cell_err *err)
{
    uint64_t t = atomic_load_explicit(&r->tx->tail, memory_order_acquire);
    if (t < r->tx_tail_seen || t > r->tx_published)
        return broken(r, err, "the consumer's position");
    r->tx_tail_seen = t;
    return 0;
}

/* The bytes a message of len takes at our head (a pad to the end first,
 * when it does not fit before it). */
static uint64_t bytes_needed(const struct cell_ring *r, uint64_t len)
{
    uint64_t need = sizeof(struct ring_record) + align8(len);
    uint64_t to_end = r->size - (r->tx_head & r->mask);
    return to_end < need ? to_end + need : need;
}

void *cell_ring_reserve(struct cell_ring *r, size_t len, struct cell_err *err)
{
    if (r->broken) {
        cell_err_set(err, EPROTO, "ipc ring: closed after the peer corrupted it");
        return NULL;
    }
    if (len > r->max_msg) {
        cell_err_set(err, EMSGSIZE, "ipc ring: a message of %zu bytes: this ring takes at most %llu", len,
                     (unsigned long long)r->max_msg);
        return NULL;
    }
    uint64_t total = bytes_needed(r, len);
    if (r->tx_head + total - r->tx_tail_seen > r->size) {
        if (refresh_tail(r, err) < 0)
            return NULL;
        if (r->tx_head + total - r->tx_tail_seen > r->size) {
            err->errnum = EAGAIN;
            snprintf(err->msg, sizeof err->msg, "ipc ring: full");
            return NULL;
        }
    }
    uint64_t pos = r->tx_head & r->mask, to_end = r->size - pos;
    uint64_t need = sizeof(struct ring_record) + align8(len);
    if (to_end < need) {
        struct ring_record pad = {.len = (uint32_t)(to_end - sizeof pad), .tag = RING_TAG_PAD};
        memcpy(r->tx_data + pos, &pad, sizeof pad);
        r->tx_head += to_end;
        pos = 0;
    }
    struct ring_record rec = {.len = (uint32_t)len, .tag = RING_TAG_MSG};
    memcpy(r->tx_data + pos, &rec, sizeof rec);
    r->tx_head += need;
    return r->tx_data + pos + sizeof rec;
}

static void wake_if_sleeping(_Atomic uint32_t *sleeping, _Atomic uint32_t *seq)
{
    atomic_thread_fence(memory_order_seq_cst); /* our store before their flag's load */
    if (atomic_load_explicit(sleeping, memory_order_relaxed)) {
        atomic_fetch_add_explicit(seq, 1, memory_order_release);
        futex_wake(seq);
    }
}

void cell_ring_commit(struct cell_ring *r)
{
    if (r->tx_head == r->tx_published || r->broken)
        return;
    atomic_store_explicit(&r->tx->head, r->tx_head, memory_order_release);
    r->tx_published = r->tx_head;
    wake_if_sleeping(&r->tx->consumer_sleeping, &r->tx->data_seq);
}

/* ---- consuming ---------------------------------------------------------------- */

/* Whether a message waits (1), none (0), or the ring is corrupt (-1). */
static int has_message(struct cell_ring *r, struct cell_err *err)
{
    if (r->peek_size || r->rx_tail != r->rx_head_seen)
        return 1;
    uint64_t h = atomic_load_explicit(&r->rx->head, memory_order_acquire);
    if (h < r->rx_tail || h - r->rx_tail > r->size)
        return broken(r, err, "the producer's position");
    r->rx_head_seen = h;
    return h != r->rx_tail;
}

const void *cell_ring_peek(struct cell_ring *r, size_t *len, struct cell_err *err)
{
    err->errnum = 0;
    err->msg[0] = '\0';
    if (r->broken) {
        cell_err_set(err, EPROTO, "ipc ring: closed after the peer corrupted it");
        return NULL;
    }
    if (r->peek_size) {
        *len = r->peek_len;
        return r->peek_ptr;
    }
    for (;;) {
        int has = has_message(r, err);
        if (has <= 0)
            return NULL;
        uint64_t avail = r->rx_head_seen - r->rx_tail, pos = r->rx_tail & r->mask, to_end = r->size - pos;
        struct ring_record rec;
        if (avail < sizeof rec) {
            broken(r, err, "a record cut short");
            return NULL;
        }
        memcpy(&rec, r->rx_data + pos, sizeof rec); /* once: the peer may change it */
        if (rec.tag == RING_TAG_PAD) {
            if ((uint64_t)rec.len + sizeof rec != to_end || to_end > avail) {
                broken(r, err, "a padding record");
                return NULL;
            }
            r->rx_tail += to_end; /* freed with the next release */
            continue;
        }
        uint64_t need = sizeof rec + align8(rec.len);
        if (rec.tag != RING_TAG_MSG || rec.len > r->max_msg || need > to_end || need > avail) {
            broken(r, err, "a message record");
            return NULL;
        }
        r->peek_size = need;
        r->peek_ptr = r->rx_data + pos + sizeof rec;
        r->peek_len = rec.len;
        *len = rec.len;
        return r->peek_ptr;
    }
}

void cell_ring_release_flush(struct cell_ring *r)
{
    if (r->rx_flushed == r->rx_tail)
        return; /* nothing freed since: no fence, no wake-up */
    r->rx_flushed = r->rx_tail;
    atomic_store_explicit(&r->rx->tail, r->rx_tail, memory_order_release);
    wake_if_sleeping(&r->rx->producer_sleeping, &r->rx->space_seq);
}

void cell_ring_release(struct cell_ring *r)
{
    if (r->peek_size == 0)
        return;
    r->rx_tail += r->peek_size;
    r->peek_size = 0;
    atomic_store_explicit(&r->rx->tail, r->rx_tail, memory_order_release);
    if (++r->releases % RELEASE_BATCH == 0) {
        r->rx_flushed = r->rx_tail;
        wake_if_sleeping(&r->rx->producer_sleeping, &r->rx->space_seq);
    }
}

/* ---- waiting ------------------------------------------------------------------ */

/* The peer hung up its end of the connection: it is gone. */
static bool peer_gone(const struct cell_ring *r)
{
    if (r->sock < 0)
        return false;
    struct pollfd p = {.fd = r->sock, .events = POLLRDHUP};
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLRDHUP | POLLERR | POLLNVAL));
}

/* Wait for ready(r) with the adaptive spin, then the futex `seq` with the
 * flag `sleeping` raised. */
static int wait_for(struct cell_ring *r, int (*ready)(struct cell_ring *, uint64_t, struct cell_err *), uint64_t arg,
                    _Atomic uint32_t *sleeping, _Atomic uint32_t *seq, int timeout_ms, struct cell_err *err)
{
    int rc = ready(r, arg, err);
    if (rc != 0)
        return rc;
    for (unsigned i = 0; i < r->spin; i++) {
        cpu_relax();
        if ((rc = ready(r, arg, err)) != 0) {
            if (r->spin < SPIN_MAX)
                r->spin *= 2;
            return rc;
        }
    }
    if (r->spin > SPIN_MIN)
        r->spin /= 2;
    long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
    for (;;) {
        uint32_t s = atomic_load_explicit(seq, memory_order_acquire);
        atomic_store_explicit(sleeping, 1, memory_order_seq_cst);
        atomic_thread_fence(memory_order_seq_cst); /* the flag before our check: pairs with the waker */
        rc = ready(r, arg, err);
        if (rc == 0) {
            long long left = deadline < 0 ? SLEEP_SLICE_MS : deadline - now_ms();
            if (left > 0)
                futex_wait(seq, s, (int)(left < SLEEP_SLICE_MS ? left : SLEEP_SLICE_MS));
            rc = ready(r, arg, err);
        }
        atomic_store_explicit(sleeping, 0, memory_order_relaxed);
        if (rc != 0)
            return rc;
        if (peer_gone(r))
            return cell_err_set(err, EPIPE, "ipc ring: the peer is gone (its connection hung up)");
        if (deadline >= 0 && now_ms() >= deadline)
            return 0;
    }
}

static int message_ready(struct cell_ring *r, uint64_t unused, struct cell_err *err)
{
    (void)unused;
    return has_message(r, err);
}

static int space_ready(struct cell_ring *r, uint64_t len, struct cell_err *err)
{
    if (r->broken)
        return cell_err_set(err, EPROTO, "ipc ring: closed after the peer corrupted it");
    uint64_t total = bytes_needed(r, len);
    if (r->tx_head + total - r->tx_tail_seen <= r->size)
        return 1;
    if (refresh_tail(r, err) < 0)
        return -1;
    return r->tx_head + total - r->tx_tail_seen <= r->size;
}

int cell_ring_wait(struct cell_ring *r, int timeout_ms, struct cell_err *err)
{
    if (r->broken)
        return cell_err_set(err, EPROTO, "ipc ring: closed after the peer corrupted it");
    cell_ring_release_flush(r); /* the producer may wait for the space we hold */
    return wait_for(r, message_ready, 0, &r->rx->consumer_sleeping, &r->rx->data_seq, timeout_ms, err);
}

int cell_ring_wait_space(struct cell_ring *r, size_t len, int timeout_ms, struct cell_err *err)
{
    if (len > r->max_msg)
        return cell_err_set(err, EMSGSIZE, "ipc ring: a message of %zu bytes: this ring takes at most %llu", len,
                            (unsigned long long)r->max_msg);
    cell_ring_commit(r); /* the consumer may wait for what we hold */
    return wait_for(r, space_ready, len, &r->tx->producer_sleeping, &r->tx->space_seq, timeout_ms, err);
}
