/* fuzz_ring.c - libFuzzer target for the shared-memory ring of
 * include/cell/ipc.h (src/lib/ipc/ring.c), which must treat the mapping as
 * hostile. The target builds a ring file by hand as ipc_internal.h lays it
 * out (4096 data bytes per direction, in an mmap of exactly the file's size
 * between two PROT_NONE pages, the bytes that belong to nothing poisoned for
 * ASan), lets the first input bytes corrupt it before ring_attach_for_test(),
 * then plays the peer from a script of operations: it produces into the
 * direction the ring reads (honestly, or by writing positions, records and
 * bytes of its choosing) and consumes what the ring produces into the other
 * (honestly, or by writing the tail). In between it calls the ring's
 * cell_ring_peek/release/release_flush/wait (timeout 0) as the consumer and
 * cell_ring_reserve/commit/wait_space (timeout 0) as the producer.
 *
 * Always: a peeked message lies in the data area it was read from and is
 * read whole (ASan sees an overread), a reserved one lies in the other, where
 * the layout puts it, and is written whole; "none" is NULL with errnum 0;
 * every error is EPROTO, EAGAIN or EMSGSIZE with a message; EPROTO is for
 * good; the ring's tail only grows and never passes the furthest head
 * published; it never reserves more than the ring's size past a tail we
 * wrote that was no further than it had published. While the peer is honest
 * the ring must be exact: every message comes out in order with its length
 * and bytes, where the layout puts it, the released tail is its end, a wait
 * says whether a message is there, a reservation fails with EAGAIN only
 * when it does not fit, and what is committed reads back as the records
 * reserved, in order, with their bytes.
 *
 * Input: a byte of flags and what they ask for (see attach() below), then
 * operations, a byte each (% OP_COUNT, enum op) and their arguments
 * (little-endian); missing bytes read as 0. */
#include "ipc/ipc_internal.h"

#include <errno.h>
#include <sanitizer/asan_interface.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                                    \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            fprintf(stderr, "fuzz_ring: check failed: %s (line %d)\n", #cond, __LINE__);                               \
            abort();                                                                                                   \
        }                                                                                                              \
    } while (0)

#define DATA_BYTES 4096u
#define MAX_MSG (DATA_BYTES / 4 - sizeof(struct ring_record))
#define MAX_OPS 4096
#define MAX_WAITS 8            /* a wait on an empty ring spins a while: a few per input */
#define QUEUE (DATA_BYTES / 8) /* the most records in flight in one direction */

enum op {
    OP_PRODUCE,    /* len16: an honest message (bit 15: not published yet) */
    OP_PUBLISH,    /* head = what was produced */
    OP_CONSUME,    /* n8: up to n % 32 + 1 times peek, check, release */
    OP_PEEK,       /* peek only (the same message until released) */
    OP_RELEASE,    /* release only */
    OP_FLUSH,      /* cell_ring_release_flush */
    OP_WAIT,       /* cell_ring_wait, timeout 0 */
    OP_RESERVE,    /* len16: reserve and write it (bit 15: commit too) */
    OP_COMMIT,     /* cell_ring_commit */
    OP_TX_READ,    /* read back what was committed, honestly, and free it */
    OP_WAIT_SPACE, /* len16: cell_ring_wait_space, timeout 0 */
    OP_RECORD,     /* len32 tag8: a record header of any kind at our head (hostile) */
    OP_ADVANCE,    /* delta16: move our head, unpublished (hostile) */
    OP_SET_HEAD,   /* u64: head = anything (hostile) */
    OP_POKE,       /* off16 n8 bytes: any bytes into the data area read (hostile) */
    OP_SET_TAIL,   /* sel8, then delta16 or u64: the tail of what the ring produces (hostile) */
    OP_CTL_WORD,   /* which8 u32: a futex word or sleeping flag of either block */
    OP_LIE,        /* len16 sel8 delta16: a message whose record or head lies (hostile) */
    OP_COUNT
};

/* the input, read from the front; zeros once it runs out */
struct input {
    const uint8_t *p;
    size_t left;
};

static uint64_t take(struct input *in, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes && in->left > 0; i++, in->left--)
        v |= (uint64_t)*in->p++ << (8 * i);
    return v;
}

/* one message in flight: where its record starts, where it ends, its bytes */
struct msg {
    uint64_t pos, end;
    uint32_t len;
    uint8_t seed;
};

struct queue {
    struct msg m[QUEUE];
    unsigned first, n;
};

static void push(struct queue *q, struct msg m)
{
    CHECK(q->n < QUEUE);
    q->m[(q->first + q->n++) % QUEUE] = m;
}

static struct msg pop(struct queue *q)
{
    CHECK(q->n > 0);
    struct msg m = q->m[q->first];
    q->first = (q->first + 1) % QUEUE;
    q->n--;
    return m;
}

static uint8_t pattern(uint8_t seed, size_t i)
{
    return (uint8_t)(seed + i * 31u);
}

static volatile unsigned sink; /* what a hostile payload sums to: read, never used */
static unsigned char *map;     /* the file, between two PROT_NONE pages */
static size_t map_len;

struct fuzz {
    struct cell_ring *ring;
    struct ring_ctl *rx_ctl, *tx_ctl;
    unsigned char *rx, *tx; /* data areas: the ring reads rx and writes tx */
    bool broken;            /* an EPROTO was seen: every later call fails so */
    unsigned waits;
    uint8_t seed;
    /* we produce into rx */
    bool rx_honest;        /* only honest records and positions so far */
    uint64_t rx_head;      /* produced up to */
    struct queue rx_q;     /* produced, not released */
    unsigned rx_published; /* of rx_q, how many are published */
    uint64_t rx_head_max;  /* the furthest head published */
    uint64_t rx_tail_seen; /* the ring's tail, last read */
    bool peeked;
    const void *peek_ptr;
    size_t peek_len;
    /* the ring produces into tx */
    bool tx_honest;       /* only honest tails so far */
    uint64_t tx_head;     /* what the ring must have reserved up to */
    uint64_t tx_pub;      /* what it must have committed */
    uint64_t tx_tail;     /* the tail we wrote */
    uint64_t tx_tail_max; /* the furthest tail we wrote */
    struct queue tx_q;    /* reserved, not read back */
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    map_len = ring_file_bytes(DATA_BYTES);
    unsigned char *all = mmap(NULL, map_len + 2 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(all != MAP_FAILED);
    map = all + 4096;
    CHECK(mprotect(map, map_len, PROT_READ | PROT_WRITE) == 0);
    /* what is neither header, control block nor data: no one may touch it */
    uint64_t dir_bytes = ring_direction_bytes(DATA_BYTES);
    ASAN_POISON_MEMORY_REGION(map + sizeof(struct ring_file), RING_HEADER_BYTES - sizeof(struct ring_file));
    for (int d = 0; d < 2; d++) {
        uint64_t end = RING_HEADER_BYTES + d * dir_bytes + RING_CTL_BYTES + DATA_BYTES;
        ASAN_POISON_MEMORY_REGION(map + end, RING_HEADER_BYTES + (d + 1) * dir_bytes - end);
    }
    return 0;
}

static struct ring_ctl *ctl_of(int d)
{
    return (struct ring_ctl *)(map + RING_HEADER_BYTES + d * ring_direction_bytes(DATA_BYTES));
}

static unsigned char *data_of(int d)
{
    return (unsigned char *)ctl_of(d) + RING_CTL_BYTES;
}

/* A fresh, valid ring file: positions 0, data zero. */
static void make_file(void)
{
    struct ring_file h = {.magic = RING_MAGIC,
                          .version = RING_VERSION,
                          .size = DATA_BYTES,
                          .ctl_offset = {RING_HEADER_BYTES, RING_HEADER_BYTES + ring_direction_bytes(DATA_BYTES)}};
    memcpy(map, &h, sizeof h);
    for (int d = 0; d < 2; d++) {
        memset(ctl_of(d), 0, RING_CTL_BYTES);
        memset(data_of(d), 0, DATA_BYTES);
    }
}

/* Write n bytes at data offset off of area, as much of them as lies in it. */
static void put(unsigned char *area, uint64_t off, const void *bytes, size_t n)
{
    if (off >= DATA_BYTES)
        return;
    memcpy(area + off, bytes, n < DATA_BYTES - off ? n : DATA_BYTES - off);
}

static void put_record(unsigned char *area, uint64_t off, uint32_t len, uint32_t tag)
{
    struct ring_record rec = {.len = len, .tag = tag};
    put(area, off, &rec, sizeof rec);
}

/* Any failure: a known errnum with a message; EPROTO for good. */
static void check_error(struct fuzz *f, const struct cell_err *err)
{
    CHECK(err->errnum == EPROTO || err->errnum == EAGAIN || err->errnum == EMSGSIZE);
    CHECK(err->msg[0] != '\0');
    if (err->errnum == EPROTO)
        f->broken = true;
}

/* ---- the ring as consumer ------------------------------------------------------ */

/* The ring's tail only grows, and never past what was published. */
static void check_rx_tail(struct fuzz *f)
{
    uint64_t t = atomic_load(&f->rx_ctl->tail);
    CHECK(t >= f->rx_tail_seen && t <= f->rx_head_max);
    f->rx_tail_seen = t;
}

/* Release; while the producer is honest the tail is the message's end. */
static void release_peeked(struct fuzz *f)
{
    uint64_t before = atomic_load(&f->rx_ctl->tail);
    cell_ring_release(f->ring);
    check_rx_tail(f);
    if (!f->peeked) {
        CHECK(atomic_load(&f->rx_ctl->tail) == before);
        return;
    }
    f->peeked = false;
    if (f->rx_honest && !f->broken) {
        struct msg m = pop(&f->rx_q);
        f->rx_published--;
        CHECK(atomic_load(&f->rx_ctl->tail) == m.end);
    }
}

/* Peek (and release): 1 a message, 0 none, -1 an error. */
static int peek(struct fuzz *f, bool release)
{
    struct cell_err err = {.errnum = -1};
    size_t len = SIZE_MAX;
    const unsigned char *p = cell_ring_peek(f->ring, &len, &err);
    bool honest = f->rx_honest && !f->broken;
    if (p == NULL) {
        if (err.errnum == 0) {
            CHECK(!f->broken);
            CHECK(!honest || f->rx_published == 0);
            return 0;
        }
        CHECK(err.errnum == EPROTO);
        CHECK(!honest);
        check_error(f, &err);
        return -1;
    }
    CHECK(!f->broken);
    CHECK(err.errnum == 0);
    /* in the data area, after its record header, whole */
    CHECK(p >= f->rx + sizeof(struct ring_record) && p <= f->rx + DATA_BYTES);
    CHECK((size_t)(p - f->rx) % 8 == 0);
    CHECK(len <= MAX_MSG && len <= (size_t)(f->rx + DATA_BYTES - p));
    if (f->peeked)
        CHECK(p == f->peek_ptr && len == f->peek_len);
    f->peeked = true;
    f->peek_ptr = p;
    f->peek_len = len;
    if (honest) {
        CHECK(f->rx_published > 0);
        const struct msg *m = &f->rx_q.m[f->rx_q.first];
        CHECK(p == f->rx + (m->pos & (DATA_BYTES - 1)) + sizeof(struct ring_record));
        CHECK(len == m->len);
        for (size_t i = 0; i < len; i++)
            CHECK(p[i] == pattern(m->seed, i));
    } else {
        unsigned sum = 0;
        for (size_t i = 0; i < len; i++)
            sum += p[i];
        sink = sum;
    }
    if (release)
        release_peeked(f);
    return 1;
}

static void wait_message(struct fuzz *f)
{
    if (f->waits++ >= MAX_WAITS)
        return;
    struct cell_err err = {0};
    int rc = cell_ring_wait(f->ring, 0, &err);
    CHECK(rc >= -1 && rc <= 1);
    check_rx_tail(f);
    if (rc < 0) {
        CHECK(err.errnum == EPROTO);
        CHECK(!f->rx_honest || f->broken);
        check_error(f, &err);
        return;
    }
    CHECK(!f->broken);
    if (f->rx_honest)
        CHECK(rc == (f->peeked || f->rx_published > 0));
}

/* ---- the peer as producer (into rx) -------------------------------------------- */

static void set_head(struct fuzz *f, uint64_t head)
{
    atomic_store(&f->rx_ctl->head, head);
    if (head > f->rx_head_max)
        f->rx_head_max = head;
}

static void publish(struct fuzz *f)
{
    set_head(f, f->rx_head);
    f->rx_published = f->rx_q.n;
}

/* An honest producer's message: a pad first when it does not fit before the
 * end, nothing when the ring is full. */
static void produce(struct fuzz *f, uint16_t arg)
{
    uint32_t len = (arg & 0x7fffu) % (MAX_MSG + 1);
    if (!f->rx_honest)
        f->rx_q.n = f->rx_published = 0; /* no longer followed */
    uint64_t need = sizeof(struct ring_record) + ((len + 7u) & ~7u);
    uint64_t pos = f->rx_head & (DATA_BYTES - 1), to_end = DATA_BYTES - pos;
    uint64_t total = to_end < need ? to_end + need : need;
    if (f->rx_head + total - atomic_load(&f->rx_ctl->tail) > DATA_BYTES || f->rx_q.n == QUEUE)
        return; /* full */
    if (to_end < need) {
        put_record(f->rx, pos, (uint32_t)(to_end - sizeof(struct ring_record)), RING_TAG_PAD);
        f->rx_head += to_end;
        pos = 0;
    }
    struct msg m = {.pos = f->rx_head, .end = f->rx_head + need, .len = len, .seed = f->seed++};
    put_record(f->rx, pos, len, RING_TAG_MSG);
    for (uint32_t i = 0; i < len; i++)
        f->rx[pos + sizeof(struct ring_record) + i] = pattern(m.seed, i);
    f->rx_head = m.end;
    push(&f->rx_q, m);
    if (!(arg & 0x8000u))
        publish(f);
}

static void hostile_record(struct fuzz *f, struct input *in)
{
    uint32_t len = (uint32_t)take(in, 4);
    uint8_t sel = (uint8_t)take(in, 1);
    static const uint32_t tags[] = {RING_TAG_MSG, RING_TAG_PAD, 0, RING_TAG_MSG ^ 1u};
    put_record(f->rx, f->rx_head & (DATA_BYTES - 1), len, tags[sel % 4]);
    f->rx_honest = false;
}

/* A message as produce() writes it, but sel: bits 0-1 the tag (a message,
 * a pad, 0, a near miss), bit 2 no pad first even when it does not fit,
 * bit 3 the head (else the record's length) off by delta, bit 4 not
 * published yet. */
static void lie(struct fuzz *f, struct input *in)
{
    uint32_t len = (uint32_t)take(in, 2);
    uint8_t sel = (uint8_t)take(in, 1);
    int16_t delta = (int16_t)take(in, 2);
    uint64_t need = sizeof(struct ring_record) + ((len + 7u) & ~7u);
    uint64_t pos = f->rx_head & (DATA_BYTES - 1), to_end = DATA_BYTES - pos;
    if (!(sel & 4) && to_end < need) {
        put_record(f->rx, pos, (uint32_t)(to_end - sizeof(struct ring_record)), RING_TAG_PAD);
        f->rx_head += to_end;
        pos = 0;
    }
    static const uint32_t tags[] = {RING_TAG_MSG, RING_TAG_PAD, 0, RING_TAG_MSG ^ 0x100u};
    put_record(f->rx, pos, sel & 8 ? len : len + (uint32_t)(int32_t)delta, tags[sel % 4]);
    for (uint32_t i = 0; i < len && pos + sizeof(struct ring_record) + i < DATA_BYTES; i++)
        f->rx[pos + sizeof(struct ring_record) + i] = pattern(f->seed, i);
    f->seed++;
    f->rx_head += need + (sel & 8 ? (uint64_t)(int64_t)delta : 0);
    f->rx_honest = false;
    if (!(sel & 16))
        publish(f);
}

static void poke(struct fuzz *f, struct input *in)
{
    uint64_t off = take(in, 2) % DATA_BYTES;
    size_t n = (size_t)take(in, 1);
    n = n < in->left ? n : in->left;
    put(f->rx, off, in->p, n);
    in->p += n;
    in->left -= n;
    f->rx_honest = false;
}

/* ---- the ring as producer (into tx) -------------------------------------------- */

static void commit(struct fuzz *f)
{
    cell_ring_commit(f->ring);
    if (!f->broken)
        f->tx_pub = f->tx_head;
}

static void reserve(struct fuzz *f, uint16_t arg)
{
    size_t len = (arg & 0x7fffu) % (MAX_MSG + 64); /* sometimes too large */
    struct cell_err err = {0};
    unsigned char *p = cell_ring_reserve(f->ring, len, &err);
    uint64_t need = sizeof(struct ring_record) + ((len + 7u) & ~(size_t)7u);
    uint64_t pos = f->tx_head & (DATA_BYTES - 1), to_end = DATA_BYTES - pos;
    uint64_t total = to_end < need ? to_end + need : need;
    bool fits = f->tx_head + total - f->tx_tail <= DATA_BYTES;
    if (p == NULL) {
        if (f->broken)
            CHECK(err.errnum == EPROTO);
        else if (len > MAX_MSG)
            CHECK(err.errnum == EMSGSIZE);
        else if (f->tx_honest)
            CHECK(err.errnum == EAGAIN && !fits);
        check_error(f, &err);
        return;
    }
    CHECK(!f->broken && len <= MAX_MSG);
    CHECK(!f->tx_honest || fits);
    /* in the data area, whole, where the layout puts it */
    CHECK(p >= f->tx + sizeof(struct ring_record) && p + len <= f->tx + DATA_BYTES);
    if (to_end < need) {
        struct ring_record pad;
        memcpy(&pad, f->tx + pos, sizeof pad);
        CHECK(pad.tag == RING_TAG_PAD && pad.len == to_end - sizeof pad);
        f->tx_head += to_end;
        pos = 0;
    }
    CHECK(p == f->tx + pos + sizeof(struct ring_record));
    struct ring_record rec;
    memcpy(&rec, p - sizeof rec, sizeof rec);
    CHECK(rec.tag == RING_TAG_MSG && rec.len == len);
    struct msg m = {.pos = f->tx_head, .end = f->tx_head + need, .len = (uint32_t)len, .seed = f->seed++};
    for (size_t i = 0; i < len; i++)
        p[i] = pattern(m.seed, i);
    f->tx_head = m.end;
    /* the space used: from a tail we wrote that was no further than
     * published, whatever else we wrote */
    CHECK(f->tx_head - (f->tx_pub < f->tx_tail_max ? f->tx_pub : f->tx_tail_max) <= DATA_BYTES);
    if (f->tx_honest)
        push(&f->tx_q, m);
    if (arg & 0x8000u)
        commit(f);
}

static void write_tail(struct fuzz *f, uint64_t t)
{
    atomic_store(&f->tx_ctl->tail, t);
    f->tx_tail = t;
    if (t > f->tx_tail_max)
        f->tx_tail_max = t;
}

/* Read back, as an honest consumer, everything committed; then free it. */
static void tx_read(struct fuzz *f)
{
    uint64_t head = atomic_load(&f->tx_ctl->head);
    CHECK(head == f->tx_pub);
    if (!f->tx_honest) {
        write_tail(f, head);
        return;
    }
    CHECK(head - f->tx_tail <= DATA_BYTES);
    uint64_t t = f->tx_tail;
    while (t < head) {
        uint64_t pos = t & (DATA_BYTES - 1);
        struct ring_record rec;
        memcpy(&rec, f->tx + pos, sizeof rec);
        if (rec.tag == RING_TAG_PAD) {
            CHECK(rec.len == DATA_BYTES - pos - sizeof rec);
            t += DATA_BYTES - pos;
            continue;
        }
        struct msg m = pop(&f->tx_q);
        CHECK(rec.tag == RING_TAG_MSG && rec.len == m.len && m.end <= head);
        CHECK((m.pos & (DATA_BYTES - 1)) == pos);
        for (uint32_t i = 0; i < m.len; i++)
            CHECK(f->tx[pos + sizeof rec + i] == pattern(m.seed, i));
        t = m.end;
    }
    CHECK(t == head);
    write_tail(f, t);
}

static void set_tail(struct fuzz *f, struct input *in)
{
    uint8_t sel = (uint8_t)take(in, 1);
    uint64_t t = sel % 2 ? take(in, 8) : f->tx_tail + (uint64_t)(int64_t)(int16_t)take(in, 2);
    write_tail(f, t);
    f->tx_honest = false;
    f->tx_q.n = 0; /* no longer followed */
}

static void wait_space(struct fuzz *f, uint16_t arg)
{
    if (f->waits++ >= MAX_WAITS)
        return;
    size_t len = arg % (MAX_MSG + 64);
    struct cell_err err = {0};
    int rc = cell_ring_wait_space(f->ring, len, 0, &err);
    CHECK(rc >= -1 && rc <= 1);
    if (len <= MAX_MSG && !f->broken)
        f->tx_pub = f->tx_head; /* it commits first */
    if (rc < 0) {
        if (len > MAX_MSG)
            CHECK(err.errnum == EMSGSIZE);
        else
            CHECK(err.errnum == EPROTO && (!f->tx_honest || f->broken));
        check_error(f, &err);
        return;
    }
    CHECK(!f->broken && len <= MAX_MSG);
    if (f->tx_honest) {
        uint64_t need = sizeof(struct ring_record) + ((len + 7u) & ~(size_t)7u);
        uint64_t to_end = DATA_BYTES - (f->tx_head & (DATA_BYTES - 1));
        uint64_t total = to_end < need ? to_end + need : need;
        CHECK(rc == (f->tx_head + total - f->tx_tail <= DATA_BYTES));
    }
}

/* ---- the script ---------------------------------------------------------------- */

static void ctl_word(struct fuzz *f, struct input *in)
{
    uint8_t which = (uint8_t)take(in, 1);
    uint32_t v = (uint32_t)take(in, 4);
    struct ring_ctl *c = which & 4 ? f->tx_ctl : f->rx_ctl;
    _Atomic uint32_t *words[] = {&c->data_seq, &c->consumer_sleeping, &c->space_seq, &c->producer_sleeping};
    atomic_store(words[which % 4], v);
}

static void run(struct fuzz *f, struct input *in)
{
    for (int n = 0; n < MAX_OPS && in->left > 0; n++) {
        switch ((enum op)(take(in, 1) % OP_COUNT)) {
        case OP_PRODUCE:
            produce(f, (uint16_t)take(in, 2));
            break;
        case OP_PUBLISH:
            publish(f);
            break;
        case OP_CONSUME:
            for (unsigned i = 0, k = (unsigned)take(in, 1) % 32 + 1; i < k; i++)
                if (peek(f, true) <= 0)
                    break;
            break;
        case OP_PEEK:
            (void)peek(f, false);
            break;
        case OP_RELEASE:
            release_peeked(f);
            break;
        case OP_FLUSH:
            cell_ring_release_flush(f->ring);
            check_rx_tail(f);
            break;
        case OP_WAIT:
            wait_message(f);
            break;
        case OP_RESERVE:
            reserve(f, (uint16_t)take(in, 2));
            break;
        case OP_COMMIT:
            commit(f);
            break;
        case OP_TX_READ:
            tx_read(f);
            break;
        case OP_WAIT_SPACE:
            wait_space(f, (uint16_t)take(in, 2));
            break;
        case OP_RECORD:
            hostile_record(f, in);
            break;
        case OP_ADVANCE:
            f->rx_head += take(in, 2);
            f->rx_honest = false;
            break;
        case OP_SET_HEAD:
            f->rx_head = take(in, 8);
            set_head(f, f->rx_head);
            f->rx_honest = false;
            break;
        case OP_POKE:
            poke(f, in);
            break;
        case OP_SET_TAIL:
            set_tail(f, in);
            break;
        case OP_CTL_WORD:
            ctl_word(f, in);
            break;
        case OP_LIE:
            lie(f, in);
            break;
        case OP_COUNT:
            break;
        }
    }
}

/* The first bytes: flags (bit 0: the direction read; bits 1-2: how many
 * header bytes to corrupt, each an offset and an xor; bit 3: a position not
 * 0 at attach, which and its value; bit 4: a mapping length short by a
 * 16-bit amount), then what they ask for. A bad header or length must be
 * refused (EPROTO), a good file with every position 0 taken; a position
 * already moved may be either (taken, it is the peer's doing: hostile). */
static struct cell_ring *attach(struct fuzz *f, struct input *in, uint8_t flags, int dir)
{
    struct ring_file h;
    for (unsigned i = 0; i < (flags >> 1 & 3u); i++) {
        uint64_t off = take(in, 1) % sizeof h;
        map[off] ^= (uint8_t)take(in, 1);
    }
    memcpy(&h, map, sizeof h);
    bool bad = h.magic != RING_MAGIC || h.version != RING_VERSION || h.size != DATA_BYTES ||
               h.ctl_offset[0] != RING_HEADER_BYTES ||
               h.ctl_offset[1] != RING_HEADER_BYTES + ring_direction_bytes(DATA_BYTES);
    bool moved = false;
    if (flags & 8) {
        uint8_t which = (uint8_t)take(in, 1);
        struct ring_ctl *c = ctl_of(which & 1);
        atomic_store(which & 2 ? &c->tail : &c->head, take(in, 8) | 1u);
        moved = true;
    }
    size_t len = map_len;
    if (flags & 16) {
        uint64_t cut = take(in, 2) % map_len;
        len -= cut;
        bad |= cut != 0;
    }
    struct cell_err err = {0};
    struct cell_ring *r = ring_attach_for_test(map, len, dir, &err);
    if (r == NULL) {
        CHECK(bad || moved);
        CHECK(err.errnum == EPROTO && err.msg[0] != '\0');
        return NULL;
    }
    CHECK(!bad);
    CHECK(cell_ring_max_message(r) == MAX_MSG);
    /* the positions the ring starts from: the file's (0 unless moved) */
    f->rx_head = f->rx_head_max = atomic_load(&f->rx_ctl->head);
    f->rx_tail_seen = atomic_load(&f->rx_ctl->tail);
    if (f->rx_tail_seen > f->rx_head_max)
        f->rx_head_max = f->rx_tail_seen; /* a moved tail, taken: where the ring starts */
    f->tx_head = f->tx_pub = atomic_load(&f->tx_ctl->head);
    f->tx_tail = f->tx_tail_max = atomic_load(&f->tx_ctl->tail);
    f->rx_honest = f->tx_honest = !moved;
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    make_file();
    struct input in = {data + 1, size - 1};
    int dir = data[0] & 1;
    static struct fuzz f;
    f = (struct fuzz){.rx_ctl = ctl_of(dir),
                      .tx_ctl = ctl_of(1 - dir),
                      .rx = data_of(dir),
                      .tx = data_of(1 - dir),
                      .rx_honest = true,
                      .tx_honest = true};
    f.ring = attach(&f, &in, data[0], dir);
    if (f.ring == NULL)
        return 0;
    run(&f, &in);
    ring_detach_for_test(f.ring);
    return 0;
}
