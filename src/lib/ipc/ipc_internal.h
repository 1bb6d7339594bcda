/* ipc_internal.h - what socket.c and ring.c share, and the layout of a
 * ring's shared memory (the fuzz target builds rings by hand from it).
 *
 * The memfd of a ring pair:
 *
 *   0      struct ring_file       magic, version, the data size, where each
 *                                 direction's control block is
 *   4096   struct ring_ctl [0]    server -> client: head, tail, futex words,
 *                                 each on a cache line of its own
 *   4352   data [0]               `size` bytes
 *   ...    struct ring_ctl [1]    client -> server, page aligned
 *          data [1]
 *
 * head and tail are byte positions that only grow (a 64-bit count; the
 * place in the data is pos & (size - 1)). A record is a struct ring_record
 * (length and tag) then the payload, padded to 8. A record never wraps: when
 * the space before the end is too small, a RING_TAG_PAD record fills it.
 * The reader trusts none of it: see ring.c. */
#ifndef CELL_IPC_INTERNAL_H
#define CELL_IPC_INTERNAL_H

#include "cell/ipc.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define IPC_MAGIC 0x43454c4cu /* "CELL" */
#define IPC_KIND_RING 4u      /* a ring offer: the memfd rides along */

struct ipc_header {
    uint32_t magic;
    uint32_t kind;
    uint32_t id;
    uint32_t len;
};

struct cell_ipc_conn {
    int fd;
    uint32_t next_id;
    struct cell_ipc_peer peer;
    unsigned char buf[CELL_IPC_MAX_PAYLOAD + sizeof(struct ipc_header)];
};

/* "pid N", or "the peer" when it has no pid here (another pid namespace) */
const char *ipc_peer_name(const struct cell_ipc_conn *conn, char who[32]);
int ipc_send_fds(struct cell_ipc_conn *conn, uint32_t kind, uint32_t id, const void *data, size_t len, const int *fds,
                 size_t nfds, struct cell_err *err);
/* As cell_ipc_recv, with the kind (IPC_KIND_RING too) and the first fd that
 * came along (-1: none; others are closed). */
int ipc_recv_fds(struct cell_ipc_conn *conn, struct cell_ipc_msg *msg, uint32_t *kind, int *fd, struct cell_err *err);

/* ---- the shared memory ------------------------------------------------------ */

#define RING_MAGIC 0x474e4952534c4543ull /* "CELSRING" */
#define RING_VERSION 1u
#define RING_HEADER_BYTES 4096u
#define RING_CTL_BYTES 256u
#define RING_MIN_BYTES 4096u
#define RING_MAX_BYTES (1u << 30)
#define RING_TAG_MSG 0x4d534731u /* "MSG1" */
#define RING_TAG_PAD 0x50414431u /* "PAD1" */

struct ring_file {
    uint64_t magic;
    uint32_t version;
    uint32_t reserved;
    uint64_t size;          /* each direction's data bytes, a power of two */
    uint64_t ctl_offset[2]; /* [0] server -> client, [1] client -> server */
};

struct ring_ctl {
    _Alignas(64) _Atomic uint64_t head;     /* written by the producer */
    _Alignas(64) _Atomic uint64_t tail;     /* written by the consumer */
    _Alignas(64) _Atomic uint32_t data_seq; /* futex: the consumer sleeps on it */
    _Atomic uint32_t consumer_sleeping;
    _Alignas(64) _Atomic uint32_t space_seq; /* futex: the producer sleeps on it */
    _Atomic uint32_t producer_sleeping;
};
_Static_assert(sizeof(struct ring_ctl) <= RING_CTL_BYTES, "a control block fits its place");

struct ring_record {
    uint32_t len;
    uint32_t tag;
};

/* The whole file's size for data size `size`: header, then per direction a
 * page-aligned control block and its data. */
static inline uint64_t ring_direction_bytes(uint64_t size)
{
    return (RING_CTL_BYTES + size + 4095u) & ~(uint64_t)4095u;
}
static inline uint64_t ring_file_bytes(uint64_t size)
{
    return RING_HEADER_BYTES + 2 * ring_direction_bytes(size);
}

/* For the fuzz target: a consumer over `map` (a mapping of `map_len` bytes
 * laid out as above, its header checked as cell_ring_accept checks it),
 * reading direction `dir`, with no socket. */
struct cell_ring *ring_attach_for_test(void *map, size_t map_len, int dir, struct cell_err *err);
void ring_detach_for_test(struct cell_ring *ring);

#endif
