/* socket.c - cell_listen, cell_connect and framed messages over a Unix
 * SOCK_SEQPACKET socket (include/cell/ipc.h). One message per datagram:
 * struct ipc_header, then the payload. A ring offer (ring.c) is a message of
 * kind IPC_KIND_RING carrying the memfd as SCM_RIGHTS. */
#include "ipc/ipc_internal.h"
#include "cell/control.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

struct cell_ipc_server {
    int fd;
    int lock_fd;                                            /* -1 under activation */
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)]; /* "" under activation */
    char lock_path[PATH_MAX];
    uid_t *allow;
    size_t nallow;
};

int cell_ipc_socket_dir(char *out, size_t len, struct cell_err *err)
{
    const char *dir = getenv("CELL_SOCKET_DIR");
    if (dir && dir[0]) {
        if (dir[0] != '/')
            return cell_err_set(err, 0, "CELL_SOCKET_DIR \"%s\": not an absolute path", dir);
        if (snprintf(out, len, "%s", dir) >= (int)len)
            return cell_err_set(err, ENAMETOOLONG, "CELL_SOCKET_DIR %s", dir);
        return 0;
    }
    struct cell_paths paths;
    if (cell_paths_init(getenv("CELL_ROOT"), &paths, err) < 0)
        return -1;
    if (snprintf(out, len, "%s/sockets", paths.run) >= (int)len)
        return cell_err_set(err, ENAMETOOLONG, "socket directory %s/sockets", paths.run);
    return 0;
}

static bool name_ok(const char *name)
{
    return name && cell_name_valid(name);
}

/* DIR/NAME.sock into addr (and its length). */
static int socket_address(const char *name, const char *dir_opt, struct sockaddr_un *addr, struct cell_err *err)
{
    char dir[PATH_MAX];
    if (!name_ok(name))
        return cell_err_set(err, 0, "ipc: \"%s\" is not a cell name (letters, digits, '-', '_', '.')",
                            name ? name : "");
    if (dir_opt) {
        if (snprintf(dir, sizeof dir, "%s", dir_opt) >= (int)sizeof dir)
            return cell_err_set(err, ENAMETOOLONG, "ipc %s: socket directory %s", name, dir_opt);
    } else if (cell_ipc_socket_dir(dir, sizeof dir, err) < 0) {
        return cell_err_prefix(err, "ipc %s: ", name);
    }
    memset(addr, 0, sizeof *addr);
    addr->sun_family = AF_UNIX;
    if (snprintf(addr->sun_path, sizeof addr->sun_path, "%s/%s.sock", dir, name) >= (int)sizeof addr->sun_path)
        return cell_err_set(err, ENAMETOOLONG, "ipc %s: %s/%s.sock is longer than a socket path may be", name, dir,
                            name);
    return 0;
}

static struct cell_ipc_conn *conn_new(int fd, struct cell_err *err)
{
    struct cell_ipc_conn *c = calloc(1, sizeof *c);
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (c == NULL) {
        close(fd);
        cell_err_set(err, ENOMEM, "ipc: a connection");
        return NULL;
    }
    c->fd = fd;
    c->next_id = 1;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
        c->peer = (struct cell_ipc_peer){.pid = cred.pid, .uid = cred.uid, .gid = cred.gid};
    return c;
}

/* The activation socket celld passed (LISTEN_FDS=1 for this pid), or -1. */
static int activation_fd(const char *name, struct cell_err *err)
{
    const char *fds = getenv("LISTEN_FDS"), *pid = getenv("LISTEN_PID");
    if (fds == NULL || pid == NULL || atol(pid) != (long)getpid())
        return -1;
    if (strcmp(fds, "1") != 0) {
        cell_err_set(err, 0, "ipc %s: LISTEN_FDS=%s: cell passes one socket", name, fds);
        return -2;
    }
    int type = 0;
    socklen_t len = sizeof type;
    if (getsockopt(3, SOL_SOCKET, SO_TYPE, &type, &len) < 0) {
        cell_err_set(err, errno, "ipc %s: the activation socket (fd 3)", name);
        return -2;
    }
    if (type != SOCK_SEQPACKET) {
        cell_err_set(err, 0,
                     "ipc %s: the activation socket is a stream socket: start the cell with --listen-type seqpacket",
                     name);
        return -2;
    }
    unsetenv("LISTEN_FDS"); /* not for our children */
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDNAMES");
    fcntl(3, F_SETFD, FD_CLOEXEC);
    return 3;
}

static void server_free(struct cell_ipc_server *s)
{
    free(s->allow);
    free(s);
}

int cell_listen(const char *name, const struct cell_ipc_listen_opts *opts, struct cell_ipc_server **out,
                struct cell_err *err)
{
    *out = NULL;
    struct cell_ipc_server *s = calloc(1, sizeof *s);
    if (s == NULL)
        return cell_err_set(err, ENOMEM, "ipc %s: listen", name);
    s->fd = s->lock_fd = -1;
    if (opts && opts->nallow_uids) {
        if ((s->allow = malloc(opts->nallow_uids * sizeof *s->allow)) == NULL) {
            server_free(s);
            return cell_err_set(err, ENOMEM, "ipc %s: listen", name);
        }
        memcpy(s->allow, opts->allow_uids, opts->nallow_uids * sizeof *s->allow);
        s->nallow = opts->nallow_uids;
    }
    if (!name_ok(name)) {
        server_free(s);
        return cell_err_set(err, 0, "ipc: \"%s\" is not a cell name (letters, digits, '-', '_', '.')",
                            name ? name : "");
    }
    int fd = activation_fd(name, err);
    if (fd == -2) {
        server_free(s);
        return -1;
    }
    if (fd >= 0) {
        s->fd = fd;
        *out = s;
        return 0;
    }
    struct sockaddr_un addr;
    if (socket_address(name, opts ? opts->socket_dir : NULL, &addr, err) < 0) {
        server_free(s);
        return -1;
    }
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%.*s", (int)(strrchr(addr.sun_path, '/') - addr.sun_path), addr.sun_path);
    snprintf(s->lock_path, sizeof s->lock_path, "%s/%s.lock", dir, name);
    if (cell_mkdirs(dir, 0755, err) < 0) {
        server_free(s);
        return cell_err_prefix(err, "ipc %s: ", name);
    }
    /* the lock first: a second server fails here, leaving the first's socket */
    s->lock_fd = open(s->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (s->lock_fd < 0) {
        int e = errno;
        server_free(s);
        return cell_err_set(err, e, "ipc %s: open the lock %s", name, dir);
    }
    if (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
        char holder[32] = "";
        ssize_t n = pread(s->lock_fd, holder, sizeof holder - 1, 0);
        holder[n > 0 ? n : 0] = '\0';
        holder[strcspn(holder, "\n")] = '\0';
        close(s->lock_fd);
        server_free(s);
        return cell_err_set(err, 0, "ipc %s: another server (pid %s) holds %s: stop it first, or use another name",
                            name, holder[0] ? holder : "?", addr.sun_path);
    }
    char pid[24];
    int len = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
    if (ftruncate(s->lock_fd, 0) < 0 || pwrite(s->lock_fd, pid, (size_t)len, 0) != len) {
        /* the pid is only for the message above */
    }
    unlink(addr.sun_path); /* a dead server's */
    s->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    mode_t old = umask(0177); /* 0600 from the start: no moment when others may connect */
    int rc = s->fd < 0 ? -1 : bind(s->fd, (struct sockaddr *)&addr, sizeof addr);
    umask(old);
    if (rc < 0 || listen(s->fd, 512) < 0) {
        int e = errno;
        if (rc == 0)
            unlink(addr.sun_path);
        if (s->fd >= 0)
            close(s->fd);
        unlink(s->lock_path);
        close(s->lock_fd);
        server_free(s);
        return cell_err_set(err, e, "ipc %s: listen on %s", name, addr.sun_path);
    }
    snprintf(s->path, sizeof s->path, "%s", addr.sun_path);
    *out = s;
    return 0;
}

int cell_ipc_server_fd(const struct cell_ipc_server *server)
{
    return server->fd;
}

int cell_ipc_accept(struct cell_ipc_server *server, struct cell_ipc_conn **out, struct cell_err *err)
{
    *out = NULL;
    int fd;
    do
        fd = accept4(server->fd, NULL, NULL, SOCK_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return cell_err_set(err, errno, "ipc: accept on %s", server->path[0] ? server->path : "the activation socket");
    struct cell_ipc_conn *c = conn_new(fd, err);
    if (c == NULL)
        return -1;
    if (server->nallow) {
        bool allowed = false;
        for (size_t i = 0; i < server->nallow && !allowed; i++)
            allowed = server->allow[i] == c->peer.uid;
        if (!allowed) {
            uid_t uid = c->peer.uid;
            pid_t pid = c->peer.pid;
            cell_ipc_conn_close(c);
            return cell_err_set(err, EACCES, "ipc: a peer of uid %u (pid %d) is not allowed: closed", (unsigned)uid,
                                (int)pid);
        }
    }
    *out = c;
    return 0;
}

int cell_ipc_serve(struct cell_ipc_server *server, int (*on_conn)(struct cell_ipc_conn *conn, void *ctx), void *ctx,
                   struct cell_err *err)
{
    for (;;) {
        struct cell_ipc_conn *c;
        if (cell_ipc_accept(server, &c, err) < 0) {
            if (err->errnum == EACCES || err->errnum == ECONNABORTED)
                continue; /* that peer only */
            return -1;
        }
        if (on_conn(c, ctx) < 0)
            return 0;
    }
}

void cell_ipc_server_close(struct cell_ipc_server *server)
{
    if (server == NULL)
        return;
    if (server->path[0])
        unlink(server->path);
    if (server->lock_fd >= 0) {
        unlink(server->lock_path); /* while held */
        close(server->lock_fd);
    }
    if (server->fd >= 0)
        close(server->fd);
    server_free(server);
}

int cell_connect(const char *name, const char *socket_dir, struct cell_ipc_conn **out, struct cell_err *err)
{
    *out = NULL;
    struct sockaddr_un addr;
    if (socket_address(name, socket_dir, &addr, err) < 0)
        return -1;
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return cell_err_set(err, errno, "ipc %s: socket", name);
    int rc;
    do
        rc = connect(fd, (struct sockaddr *)&addr, sizeof addr);
    while (rc < 0 && errno == EINTR);
    if (rc < 0) {
        int e = errno;
        close(fd);
        if (e == EPROTOTYPE)
            return cell_err_set(err, e, "ipc %s: %s is a stream socket (start the cell with --listen-type seqpacket)",
                                name, addr.sun_path);
        return cell_err_set(err, e, "ipc %s: connect to %s%s", name, addr.sun_path,
                            e == ENOENT || e == ECONNREFUSED ? " (is the cell running, or started with --listen?)"
                                                             : "");
    }
    *out = conn_new(fd, err);
    return *out ? 0 : -1;
}

int cell_ipc_conn_fd(const struct cell_ipc_conn *conn)
{
    return conn->fd;
}

const struct cell_ipc_peer *cell_ipc_conn_peer(const struct cell_ipc_conn *conn)
{
    return &conn->peer;
}

const char *ipc_peer_name(const struct cell_ipc_conn *conn, char who[32])
{
    /* a peer in another pid namespace (another cell) has no pid here */
    if (conn->peer.pid > 0)
        snprintf(who, 32, "pid %d", (int)conn->peer.pid);
    else
        snprintf(who, 32, "the peer");
    return who;
}

int ipc_send_fds(struct cell_ipc_conn *conn, uint32_t kind, uint32_t id, const void *data, size_t len, const int *fds,
                 size_t nfds, struct cell_err *err)
{
    char who[32];
    if (len > CELL_IPC_MAX_PAYLOAD)
        return cell_err_set(err, EMSGSIZE, "ipc: a message of %zu bytes: at most %d", len, CELL_IPC_MAX_PAYLOAD);
    struct ipc_header h = {.magic = IPC_MAGIC, .kind = kind, .id = id, .len = (uint32_t)len};
    struct iovec iov[2] = {{.iov_base = &h, .iov_len = sizeof h}, {.iov_base = (void *)data, .iov_len = len}};
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * 2)];
    } control;
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = len ? 2 : 1};
    if (nfds) {
        memset(&control, 0, sizeof control);
        msg.msg_control = control.buf;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
    }
    ssize_t n;
    do
        n = sendmsg(conn->fd, &msg, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return cell_err_set(err, errno, "ipc: send to %s", ipc_peer_name(conn, who));
    return 0;
}

int cell_ipc_send(struct cell_ipc_conn *conn, enum cell_ipc_kind kind, uint32_t id, const void *data, size_t len,
                  struct cell_err *err)
{
    if (kind != CELL_IPC_REQUEST && kind != CELL_IPC_RESPONSE && kind != CELL_IPC_ONEWAY)
        return cell_err_set(err, EINVAL, "ipc: %d is not a message kind", (int)kind);
    return ipc_send_fds(conn, (uint32_t)kind, id, data, len, NULL, 0, err);
}

int cell_ipc_request(struct cell_ipc_conn *conn, const void *data, size_t len, uint32_t *id, struct cell_err *err)
{
    uint32_t mine = conn->next_id++;
    if (conn->next_id == 0)
        conn->next_id = 1;
    if (id)
        *id = mine;
    return cell_ipc_send(conn, CELL_IPC_REQUEST, mine, data, len, err);
}

int cell_ipc_respond(struct cell_ipc_conn *conn, uint32_t id, const void *data, size_t len, struct cell_err *err)
{
    return cell_ipc_send(conn, CELL_IPC_RESPONSE, id, data, len, err);
}

int ipc_recv_fds(struct cell_ipc_conn *conn, struct cell_ipc_msg *msg, uint32_t *kind, int *fd, struct cell_err *err)
{
    char who[32];
    struct iovec iov = {.iov_base = conn->buf, .iov_len = sizeof conn->buf};
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * 4)];
    } control;
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control};
    if (fd)
        *fd = -1;
    ssize_t n;
    do
        n = recvmsg(conn->fd, &m, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return cell_err_set(err, errno, "ipc: receive from %s", ipc_peer_name(conn, who));
    /* fds that came along: the one asked for is kept, any other closed */
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; i++) {
            int got;
            memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof got);
            if (fd && *fd < 0)
                *fd = got;
            else
                close(got);
        }
    }
    if (n == 0)
        return 0; /* the peer's end */
    struct ipc_header h;
    if ((size_t)n < sizeof h || (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
        goto bad;
    memcpy(&h, conn->buf, sizeof h);
    if (h.magic != IPC_MAGIC || h.len != (size_t)n - sizeof h || h.kind < CELL_IPC_REQUEST || h.kind > IPC_KIND_RING)
        goto bad;
    *msg = (struct cell_ipc_msg){
        .id = h.id, .kind = (enum cell_ipc_kind)h.kind, .data = conn->buf + sizeof h, .len = h.len};
    *kind = h.kind;
    return 1;
bad:
    if (fd && *fd >= 0) {
        close(*fd);
        *fd = -1;
    }
    return cell_err_set(err, EPROTO, "ipc: %s sent a datagram that is not a cell message (%zd bytes)",
                        ipc_peer_name(conn, who), n);
}

int cell_ipc_recv(struct cell_ipc_conn *conn, struct cell_ipc_msg *msg, struct cell_err *err)
{
    uint32_t kind;
    char who[32];
    int rc = ipc_recv_fds(conn, msg, &kind, NULL, err);
    if (rc == 1 && kind == IPC_KIND_RING)
        return cell_err_set(err, EPROTO, "ipc: %s offered a ring where a message was expected (cell_ring_accept)",
                            ipc_peer_name(conn, who));
    return rc;
}

void cell_ipc_conn_close(struct cell_ipc_conn *conn)
{
    if (conn == NULL)
        return;
    close(conn->fd);
    free(conn);
}
