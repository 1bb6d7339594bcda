/* ipc.h - cell-to-cell messaging: framed messages over a Unix SOCK_SEQPACKET
 * socket, and a shared-memory fast path of two rings in a sealed memfd.
 *
 * Sockets. A server calls cell_listen(NAME): it takes the socket celld
 * passed by activation (LISTEN_FDS=1, fd 3, `cell run -d --listen
 * --listen-type seqpacket`), or binds SOCKET_DIR/NAME.sock itself (mode 0600,
 * with SOCKET_DIR/NAME.lock held, so a second server of the same name fails
 * with an error naming the holder). SOCKET_DIR is $CELL_SOCKET_DIR, else
 * celld's: $CELL_ROOT/run/sockets, or /run/cell/sockets as root
 * ($XDG_RUNTIME_DIR/cell/sockets otherwise). A client
 * calls cell_connect(NAME) on the same path; under celld activation the
 * connect succeeds at once and waits in the backlog while the cell starts.
 *
 * Messages. Each message is one datagram: a 16-byte header (id, kind,
 * length, a magic) and at most CELL_IPC_MAX_PAYLOAD bytes. Requests carry an
 * id the sender picks (cell_ipc_request numbers them), responses carry the
 * id they answer, so any number of requests may be in flight on one
 * connection and answered in any order. A datagram that is not a well-formed
 * message is an error (EPROTO), never a crash. The peer's pid, uid and gid
 * come from SO_PEERCRED at connect; a server may accept only listed uids.
 * (The kernel gives a client the credentials of whoever made the listening
 * socket: under activation, celld's; the server's view of a client is the
 * client's own.)
 *
 * Rings. After a connection is made, cell_ring_offer (server) and
 * cell_ring_accept (client) set up the fast path: the server makes a memfd,
 * seals it (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL: it cannot be resized
 * under the client) and passes it over the socket. It holds two
 * single-producer single-consumer rings, one per direction. Both sides are
 * zero-copy: cell_ring_reserve(len) gives space in the ring to write the
 * message in place, cell_ring_commit() publishes every reserved message at
 * once (batching: one wake-up for many); cell_ring_peek() gives the next
 * message in place, cell_ring_release() frees it. cell_ring_wait() spins a
 * short, adaptive while, then sleeps on a futex word in the shared mapping:
 * an idle connection uses no CPU, a busy one never enters the kernel. A peer
 * that dies is noticed (its end of the socket hangs up) and every waiter
 * returns EPIPE. Every index and length read from the shared memory is
 * checked against the ring's bounds, so a corrupted or hostile peer yields
 * EPROTO, never an access out of bounds or a hang. The payload bytes stay in
 * the shared mapping: a hostile peer can change them while they are read,
 * so copy what must not change before checking it.
 *
 * Every function that can fail returns -1 (or NULL) and fills `err` with a
 * message naming the socket or ring and what to do. One connection or ring
 * is used by one thread at a time (each side of a ring by its own). */
#ifndef CELL_IPC_H
#define CELL_IPC_H

#include "cell/cell.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The largest payload of one socket message (the datagram is 16 bytes more). */
#define CELL_IPC_MAX_PAYLOAD (64 * 1024 - 16)

enum cell_ipc_kind { CELL_IPC_REQUEST = 1, CELL_IPC_RESPONSE = 2, CELL_IPC_ONEWAY = 3 };

struct cell_ipc_peer {
    pid_t pid;
    uid_t uid;
    gid_t gid;
};

struct cell_ipc_server;
struct cell_ipc_conn;

struct cell_ipc_listen_opts {
    const char *socket_dir;  /* NULL: as the top of this file says */
    const uid_t *allow_uids; /* accept only these peers' uids; NULL: any */
    size_t nallow_uids;
};

/* The socket directory cell_listen and cell_connect use without one given. */
int cell_ipc_socket_dir(char *out, size_t len, struct cell_err *err);

int cell_listen(const char *name, const struct cell_ipc_listen_opts *opts, struct cell_ipc_server **out,
                struct cell_err *err);
/* The listening socket, for a caller's own event loop (readable: accept). */
int cell_ipc_server_fd(const struct cell_ipc_server *server);
/* Accept one connection (blocks unless the fd is ready). A peer whose uid
 * is not allowed is closed and reported as EACCES; call again. */
int cell_ipc_accept(struct cell_ipc_server *server, struct cell_ipc_conn **out, struct cell_err *err);
/* The accept loop, for a server without its own event loop: each
 * connection is handed to on_conn (it owns it from then on: serve it,
 * perhaps in a thread, and close it). A refused peer (allowlist) is skipped.
 * Returns when on_conn returns < 0 (0), or accept fails (-1 with err). */
int cell_ipc_serve(struct cell_ipc_server *server, int (*on_conn)(struct cell_ipc_conn *conn, void *ctx), void *ctx,
                   struct cell_err *err);
/* Close; a socket cell_listen bound is removed with its lock. */
void cell_ipc_server_close(struct cell_ipc_server *server);

int cell_connect(const char *name, const char *socket_dir, struct cell_ipc_conn **out, struct cell_err *err);

int cell_ipc_conn_fd(const struct cell_ipc_conn *conn);
const struct cell_ipc_peer *cell_ipc_conn_peer(const struct cell_ipc_conn *conn);

/* One received message; its data stays valid until the next receive on the
 * connection. */
struct cell_ipc_msg {
    uint32_t id;
    enum cell_ipc_kind kind;
    const void *data;
    size_t len;
};

/* Send a message of `kind` with `id` (blocks while the socket is full). */
int cell_ipc_send(struct cell_ipc_conn *conn, enum cell_ipc_kind kind, uint32_t id, const void *data, size_t len,
                  struct cell_err *err);
/* A request with the connection's next id (in *id). */
int cell_ipc_request(struct cell_ipc_conn *conn, const void *data, size_t len, uint32_t *id, struct cell_err *err);
/* The response to request `id`. */
int cell_ipc_respond(struct cell_ipc_conn *conn, uint32_t id, const void *data, size_t len, struct cell_err *err);
/* Receive the next message: 1, 0 at the peer's end (hang-up), -1 with err. */
int cell_ipc_recv(struct cell_ipc_conn *conn, struct cell_ipc_msg *msg, struct cell_err *err);
void cell_ipc_conn_close(struct cell_ipc_conn *conn);

/* ---- the shared-memory fast path ------------------------------------------------ */

struct cell_ring;

/* Ring sizes: each direction's data area, a power of two from 4 KiB to
 * 1 GiB; 0: 1 MiB. A message takes its length rounded up to 8, plus 8. */
int cell_ring_offer(struct cell_ipc_conn *conn, size_t bytes, struct cell_ring **out, struct cell_err *err);
int cell_ring_accept(struct cell_ipc_conn *conn, struct cell_ring **out, struct cell_err *err);

/* The largest message this ring takes. */
size_t cell_ring_max_message(const struct cell_ring *ring);
/* Space for a message of `len` bytes, to write in place; NULL when the ring
 * is full (EAGAIN in err; cell_ring_wait_space), or len is too large
 * (EMSGSIZE). Reserved messages are not seen until committed. */
void *cell_ring_reserve(struct cell_ring *ring, size_t len, struct cell_err *err);
/* Publish every reserved message, and wake the peer if it sleeps. */
void cell_ring_commit(struct cell_ring *ring);
/* The next message in place (*len its length); NULL when there is none
 * (err->errnum 0) or the ring is corrupt (EPROTO). The same message until
 * released. */
const void *cell_ring_peek(struct cell_ring *ring, size_t *len, struct cell_err *err);
/* Free the peeked message; the producer sees the space freed at the next
 * cell_ring_release_flush or after a batch (at most every 64 releases). */
void cell_ring_release(struct cell_ring *ring);
void cell_ring_release_flush(struct cell_ring *ring);
/* Wait until a message can be peeked (1), the timeout passed (0; -1 ms:
 * none), or the peer is gone or the ring corrupt (-1: EPIPE, EPROTO). */
int cell_ring_wait(struct cell_ring *ring, int timeout_ms, struct cell_err *err);
/* Wait until `len` bytes can be reserved; as cell_ring_wait. */
int cell_ring_wait_space(struct cell_ring *ring, size_t len, int timeout_ms, struct cell_err *err);
/* Unmap; the peer's waiters see EPIPE once the connection is closed too. */
void cell_ring_close(struct cell_ring *ring);

#ifdef __cplusplus
}
#endif

#endif
