/* test_ipc.c - cell messaging (include/cell/ipc.h) between real processes:
 * the socket path (listen, a second server refused, connect, pipelined
 * requests matched by id, size limits, malformed datagrams, peer
 * credentials and the allowlist, hang-ups, nothing left behind) and the
 * ring path (millions of messages with checksummed sequence numbers both
 * ways, wrap-around, a full ring, a peer killed mid-stream, a peer that
 * corrupts the shared memory). Each test forks its peer. */
#include "cell/ipc.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

static char dir[256];

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "%s/cell-test-ipc-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return nftw(dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
}

#define ok_or_fail(call, err)                                                                                          \
    do {                                                                                                               \
        if ((call) < 0)                                                                                                \
            fail_msg("%s: %s", #call, (err).msg);                                                                      \
    } while (0)

/* In a child: report a failure by exit status (cmocka is the parent's). */
__attribute__((noreturn, format(printf, 1, 2))) static void child_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "child: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    _exit(1);
}

static void wait_child(pid_t pid, int want)
{
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != want)
        fail_msg("child ended with status %#x, expected exit %d", status, want);
}

static int count_entries(const char *path)
{
    int n = 0;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", path);
    FILE *p = popen(cmd, "r");
    if (p == NULL || fscanf(p, "%d", &n) != 1)
        n = -1;
    if (p)
        pclose(p);
    return n;
}

/* ---- sockets -------------------------------------------------------------------- */

static void listen_refuses_a_second_server_and_leaves_nothing(void **state)
{
    (void)state;
    struct cell_ipc_server *s, *second;
    struct cell_err err = {0};
    struct cell_ipc_listen_opts opts = {.socket_dir = dir};
    ok_or_fail(cell_listen("svc", &opts, &s, &err), err);
    char path[300];
    struct stat st;
    snprintf(path, sizeof path, "%s/svc.sock", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0600);
    /* a second server of the same name, from another process (flock is per open file) */
    pid_t pid = fork();
    if (pid == 0) {
        struct cell_err e = {0};
        if (cell_listen("svc", &opts, &second, &e) == 0)
            child_fail("a second server was allowed");
        char want[64];
        snprintf(want, sizeof want, "another server (pid %d) holds", (int)getppid());
        if (strstr(e.msg, want) == NULL)
            child_fail("error \"%s\" lacks \"%s\"", e.msg, want);
        _exit(0);
    }
    wait_child(pid, 0);
    /* the first still works */
    struct cell_ipc_conn *c;
    ok_or_fail(cell_connect("svc", dir, &c, &err), err);
    cell_ipc_conn_close(c);
    cell_ipc_server_close(s);
    assert_int_equal(count_entries(dir), 0);
    /* names are checked; nobody listening is a clear error */
    assert_int_equal(cell_listen("../x", &opts, &s, &err), -1);
    assert_non_null(strstr(err.msg, "not a cell name"));
    assert_int_equal(cell_connect("svc", dir, &c, &err), -1);
    assert_int_equal(err.errnum, ENOENT);
    assert_non_null(strstr(err.msg, "is the cell running"));
}

/* the server side of the request test: answers "N" with N + 1000, in the
 * reverse order of each batch of 16, so ids must match them */
static void answer_reversed(struct cell_ipc_server *s)
{
    struct cell_ipc_conn *c;
    struct cell_err e = {0};
    if (cell_ipc_accept(s, &c, &e) < 0)
        child_fail("accept: %s", e.msg);
    if (cell_ipc_conn_peer(c)->pid != getppid() || cell_ipc_conn_peer(c)->uid != geteuid())
        child_fail("the client's credentials: pid %d", (int)cell_ipc_conn_peer(c)->pid);
    for (;;) {
        struct {
            uint32_t id, value;
        } batch[16];
        int n = 0;
        for (; n < 16; n++) {
            struct cell_ipc_msg m;
            int rc = cell_ipc_recv(c, &m, &e);
            if (rc == 0)
                break;
            if (rc < 0 || m.kind != CELL_IPC_REQUEST || m.len != 4)
                child_fail("recv: %s", e.msg);
            batch[n].id = m.id;
            memcpy(&batch[n].value, m.data, 4);
        }
        for (int i = n - 1; i >= 0; i--) {
            uint32_t v = batch[i].value + 1000;
            if (cell_ipc_respond(c, batch[i].id, &v, 4, &e) < 0)
                child_fail("respond: %s", e.msg);
        }
        if (n < 16)
            break;
    }
    cell_ipc_conn_close(c);
    _exit(0);
}

static void requests_in_flight_are_matched_by_id(void **state)
{
    (void)state;
    struct cell_ipc_server *s;
    struct cell_err err = {0};
    struct cell_ipc_listen_opts opts = {.socket_dir = dir};
    ok_or_fail(cell_listen("req", &opts, &s, &err), err);
    pid_t pid = fork();
    if (pid == 0)
        answer_reversed(s);
    struct cell_ipc_conn *c;
    ok_or_fail(cell_connect("req", dir, &c, &err), err);
    /* a client sees the credentials of whoever made the listening socket
     * (here this process, before the fork; under activation: celld) */
    assert_int_equal(cell_ipc_conn_peer(c)->pid, getpid());
    assert_int_equal(cell_ipc_conn_peer(c)->uid, geteuid());
    enum { TOTAL = 16 * 200 };
    uint32_t expected[TOTAL + 1];
    for (uint32_t k = 0; k < TOTAL; k += 16) {
        for (uint32_t i = 0; i < 16; i++) { /* 16 in flight */
            uint32_t id, v = k + i;
            ok_or_fail(cell_ipc_request(c, &v, 4, &id, &err), err);
            assert_true(id >= 1 && id <= TOTAL);
            expected[id] = v + 1000;
        }
        for (uint32_t i = 0; i < 16; i++) {
            struct cell_ipc_msg m;
            assert_int_equal(cell_ipc_recv(c, &m, &err), 1);
            assert_int_equal(m.kind, CELL_IPC_RESPONSE);
            uint32_t v;
            memcpy(&v, m.data, 4);
            assert_int_equal(v, expected[m.id]);
        }
    }
    cell_ipc_conn_close(c);
    wait_child(pid, 0);
    cell_ipc_server_close(s);
}

static void message_sizes_and_malformed_datagrams(void **state)
{
    (void)state;
    struct cell_ipc_server *s;
    struct cell_err err = {0};
    struct cell_ipc_listen_opts opts = {.socket_dir = dir};
    ok_or_fail(cell_listen("size", &opts, &s, &err), err);
    pid_t pid = fork();
    if (pid == 0) {
        struct cell_ipc_conn *c;
        struct cell_err e = {0};
        if (cell_ipc_accept(s, &c, &e) < 0)
            child_fail("accept: %s", e.msg);
        struct cell_ipc_msg m;
        /* the largest message arrives whole */
        if (cell_ipc_recv(c, &m, &e) != 1 || m.len != CELL_IPC_MAX_PAYLOAD ||
            ((const unsigned char *)m.data)[m.len - 1] != 0x5a)
            child_fail("the largest message: %s", e.msg);
        /* then a raw datagram that is no cell message */
        if (cell_ipc_recv(c, &m, &e) != -1 || e.errnum != EPROTO || strstr(e.msg, "not a cell message") == NULL)
            child_fail("a malformed datagram was taken: \"%s\"", e.msg);
        /* then the peer's end */
        if (cell_ipc_recv(c, &m, &e) != 0)
            child_fail("no hang-up seen");
        _exit(0);
    }
    struct cell_ipc_conn *c;
    ok_or_fail(cell_connect("size", dir, &c, &err), err);
    unsigned char *big = calloc(1, CELL_IPC_MAX_PAYLOAD + 1);
    big[CELL_IPC_MAX_PAYLOAD - 1] = 0x5a;
    assert_int_equal(cell_ipc_send(c, CELL_IPC_ONEWAY, 7, big, CELL_IPC_MAX_PAYLOAD + 1, &err), -1);
    assert_int_equal(err.errnum, EMSGSIZE);
    ok_or_fail(cell_ipc_send(c, CELL_IPC_ONEWAY, 7, big, CELL_IPC_MAX_PAYLOAD, &err), err);
    free(big);
    assert_int_equal(send(cell_ipc_conn_fd(c), "garbage!", 8, 0), 8);
    cell_ipc_conn_close(c);
    wait_child(pid, 0);
    cell_ipc_server_close(s);
}

static void allowlist_closes_other_uids(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip(); /* a peer of another uid needs root to make */
    struct cell_ipc_server *s;
    struct cell_err err = {0};
    uid_t allowed[] = {0};
    struct cell_ipc_listen_opts opts = {.socket_dir = dir, .allow_uids = allowed, .nallow_uids = 1};
    ok_or_fail(cell_listen("allow", &opts, &s, &err), err);
    chmod(dir, 0755);
    char path[300];
    snprintf(path, sizeof path, "%s/allow.sock", dir);
    chmod(path, 0666);
    pid_t pid = fork();
    if (pid == 0) { /* uid 65534 connects: refused; closed at once */
        struct cell_ipc_conn *c;
        struct cell_err e = {0};
        if (setgid(65534) < 0 || setuid(65534) < 0)
            child_fail("setuid");
        if (cell_connect("allow", dir, &c, &e) < 0)
            child_fail("connect: %s", e.msg);
        struct cell_ipc_msg m;
        _exit(cell_ipc_recv(c, &m, &e) == 0 ? 0 : 2);
    }
    struct cell_ipc_conn *c;
    assert_int_equal(cell_ipc_accept(s, &c, &err), -1);
    assert_int_equal(err.errnum, EACCES);
    assert_non_null(strstr(err.msg, "uid 65534"));
    wait_child(pid, 0);
    cell_ipc_server_close(s);
}

/* ---- rings ---------------------------------------------------------------------- */

/* A message: its sequence number, a length that varies (8 to 300 bytes),
 * filled from the number, the last 4 bytes a checksum of the rest. */
static size_t message_len(uint64_t seq)
{
    return 16 + (size_t)((seq * 2654435761u) % 285);
}

static uint32_t checksum(const unsigned char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static void fill(unsigned char *p, uint64_t seq, size_t len)
{
    memcpy(p, &seq, 8);
    for (size_t i = 8; i < len - 4; i++)
        p[i] = (unsigned char)(seq + i);
    uint32_t sum = checksum(p, len - 4);
    memcpy(p + len - 4, &sum, 4);
}

static int check(const unsigned char *p, size_t len, uint64_t want)
{
    uint64_t seq;
    uint32_t sum;
    if (len < 16)
        return -1;
    memcpy(&seq, p, 8);
    memcpy(&sum, p + len - 4, 4);
    return seq == want && len == message_len(seq) && sum == checksum(p, len - 4) ? 0 : -1;
}

/* Send `count` messages (batches of up to 32 per commit), receiving as many
 * from the peer; both checked. */
static int pump(struct cell_ring *r, uint64_t count, struct cell_err *err)
{
    uint64_t sent = 0, got = 0;
    while (sent < count || got < count) {
        unsigned batch = 0;
        while (sent < count && batch < 32) {
            size_t len = message_len(sent);
            unsigned char *p = cell_ring_reserve(r, len, err);
            if (p == NULL) {
                if (err->errnum != EAGAIN)
                    return -1;
                break;
            }
            fill(p, sent++, len);
            batch++;
        }
        cell_ring_commit(r);
        size_t len;
        const unsigned char *m;
        bool any = false;
        while ((m = cell_ring_peek(r, &len, err)) != NULL) {
            if (check(m, len, got) < 0)
                return cell_err_set(err, EBADMSG, "message %llu is wrong", (unsigned long long)got);
            got++;
            any = true;
            cell_ring_release(r);
        }
        if (err->errnum)
            return -1;
        if (!any && batch == 0 && cell_ring_wait(r, 1000, err) < 0)
            return -1;
    }
    cell_ring_release_flush(r);
    return 0;
}

static void ring_carries_millions_of_messages_both_ways(void **state)
{
    (void)state;
    struct cell_ipc_server *s;
    struct cell_err err = {0};
    struct cell_ipc_listen_opts opts = {.socket_dir = dir};
    ok_or_fail(cell_listen("ring", &opts, &s, &err), err);
    enum { COUNT = 1000000 }; /* each way: two million in all */
    pid_t pid = fork();
    if (pid == 0) {
        struct cell_ipc_conn *c;
        struct cell_ring *r;
        struct cell_err e = {0};
        if (cell_ipc_accept(s, &c, &e) < 0 || cell_ring_offer(c, 64 * 1024, &r, &e) < 0)
            child_fail("offer: %s", e.msg);
        if (pump(r, COUNT, &e) < 0)
            child_fail("server: %s", e.msg);
        _exit(0);
    }
    struct cell_ipc_conn *c;
    struct cell_ring *r;
    ok_or_fail(cell_connect("ring", dir, &c, &err), err);
    ok_or_fail(cell_ring_accept(c, &r, &err), err);
    assert_int_equal(cell_ring_max_message(r), 64 * 1024 / 4 - 8);
    if (pump(r, COUNT, &err) < 0)
        fail_msg("client: %s", err.msg);
    /* a message too large for the ring */
    assert_null(cell_ring_reserve(r, cell_ring_max_message(r) + 1, &err));
    assert_int_equal(err.errnum, EMSGSIZE);
    wait_child(pid, 0);
    /* the peer is gone: a wait says so, it does not hang */
    assert_int_equal(cell_ring_wait(r, -1, &err), -1);
    assert_int_equal(err.errnum, EPIPE);
    cell_ring_close(r);
    cell_ipc_conn_close(c);
    cell_ipc_server_close(s);
}

static void a_full_ring_waits_for_space(void **state)
{
    (void)state;
    struct cell_ipc_server *s;
    struct cell_err err = {0};
    struct cell_ipc_listen_opts opts = {.socket_dir = dir};
    ok_or_fail(cell_listen("full", &opts, &s, &err), err);
    int go[2];
    assert_int_equal(pipe(go), 0);
    pid_t pid = fork();
    if (pid == 0) { /* reads nothing until told, then everything */
        struct cell_ipc_conn *c;
        struct cell_ring *r;
        struct cell_err e = {0};
        char byte;
        if (cell_ipc_accept(s, &c, &e) < 0 || cell_ring_offer(c, 4096, &r, &e) < 0)
            child_fail("offer: %s", e.msg);
        if (read(go[0], &byte, 1) != 1)
            child_fail("go");
        uint64_t got = 0;
        while (got < 200) {
            size_t len;
            const unsigned char *m = cell_ring_peek(r, &len, &e);
            if (m == NULL) {
                if (e.errnum || cell_ring_wait(r, 5000, &e) <= 0)
                    child_fail("wait: %s", e.msg);
                continue;
            }
            if (check(m, len, got++) < 0)
                child_fail("message %llu", (unsigned long long)got - 1);
            cell_ring_release(r);
        }
        _exit(0);
    }
    struct cell_ipc_conn *c;
    struct cell_ring *r;
    ok_or_fail(cell_connect("full", dir, &c, &err), err);
    ok_or_fail(cell_ring_accept(c, &r, &err), err);
    uint64_t sent = 0;
    for (;; sent++) { /* fill it */
        unsigned char *p = cell_ring_reserve(r, message_len(sent), &err);
        if (p == NULL)
            break;
        fill(p, sent, message_len(sent));
        cell_ring_commit(r);
    }
    assert_int_equal(err.errnum, EAGAIN);
    assert_true(sent > 5);
    /* nobody reads: the wait times out */
    assert_int_equal(cell_ring_wait_space(r, message_len(sent), 100, &err), 0);
    assert_int_equal(write(go[1], "g", 1), 1);
    for (; sent < 200; sent++) {
        unsigned char *p;
        while ((p = cell_ring_reserve(r, message_len(sent), &err)) == NULL) {
            assert_int_equal(err.errnum, EAGAIN);
            if (cell_ring_wait_space(r, message_len(sent), 5000, &err) != 1)
                fail_msg("no space came: %s", err.msg);
        }
        fill(p, sent, message_len(sent));
        cell_ring_commit(r);
    }
    wait_child(pid, 0);
    close(go[0]);
    close(go[1]);
    cell_ring_close(r);
    cell_ipc_conn_close(c);
    cell_ipc_server_close(s);
}

static void a_killed_peer_wakes_the_waiter(void **state)
{
    (void)state;
    struct cell_ipc_server *s;
    struct cell_err err = {0};
    struct cell_ipc_listen_opts opts = {.socket_dir = dir};
    ok_or_fail(cell_listen("kill", &opts, &s, &err), err);
    pid_t pid = fork();
    if (pid == 0) { /* sends a few messages, then waits forever */
        struct cell_ipc_conn *c;
        struct cell_ring *r;
        struct cell_err e = {0};
        if (cell_ipc_accept(s, &c, &e) < 0 || cell_ring_offer(c, 0, &r, &e) < 0)
            child_fail("offer: %s", e.msg);
        for (uint64_t i = 0; i < 10; i++) {
            unsigned char *p = cell_ring_reserve(r, message_len(i), &e);
            fill(p, i, message_len(i));
        }
        cell_ring_commit(r);
        pause();
        _exit(0);
    }
    struct cell_ipc_conn *c;
    struct cell_ring *r;
    ok_or_fail(cell_connect("kill", dir, &c, &err), err);
    ok_or_fail(cell_ring_accept(c, &r, &err), err);
    for (uint64_t i = 0; i < 10; i++) {
        size_t len;
        assert_int_equal(cell_ring_wait(r, 5000, &err), 1);
        const unsigned char *m = cell_ring_peek(r, &len, &err);
        assert_non_null(m);
        assert_int_equal(check(m, len, i), 0);
        cell_ring_release(r);
    }
    kill(pid, SIGKILL); /* mid-stream: we wait for the eleventh */
    assert_int_equal(cell_ring_wait(r, -1, &err), -1);
    assert_int_equal(err.errnum, EPIPE);
    int status;
    waitpid(pid, &status, 0);
    cell_ring_close(r);
    cell_ipc_conn_close(c);
    cell_ipc_server_close(s);
}

/* the accept loop hands each connection over; a killed client wakes the
 * server's waiter too */
static int take_one(struct cell_ipc_conn *conn, void *ctx)
{
    *(struct cell_ipc_conn **)ctx = conn;
    return -1; /* one is enough */
}

static void a_killed_client_wakes_the_server(void **state)
{
    (void)state;
    struct cell_ipc_server *s;
    struct cell_err err = {0};
    struct cell_ipc_listen_opts opts = {.socket_dir = dir};
    ok_or_fail(cell_listen("killc", &opts, &s, &err), err);
    pid_t pid = fork();
    if (pid == 0) { /* a client that takes the ring, sends one message and hangs */
        struct cell_ipc_conn *c;
        struct cell_ring *r;
        struct cell_err e = {0};
        if (cell_connect("killc", dir, &c, &e) < 0 || cell_ring_accept(c, &r, &e) < 0)
            child_fail("accept: %s", e.msg);
        unsigned char *p = cell_ring_reserve(r, message_len(0), &e);
        fill(p, 0, message_len(0));
        cell_ring_commit(r);
        pause();
        _exit(0);
    }
    struct cell_ipc_conn *c = NULL;
    assert_int_equal(cell_ipc_serve(s, take_one, &c, &err), 0);
    assert_non_null(c);
    struct cell_ring *r;
    ok_or_fail(cell_ring_offer(c, 0, &r, &err), err);
    size_t len;
    assert_int_equal(cell_ring_wait(r, 5000, &err), 1);
    const unsigned char *m = cell_ring_peek(r, &len, &err);
    assert_non_null(m);
    assert_int_equal(check(m, len, 0), 0);
    cell_ring_release(r);
    kill(pid, SIGKILL);
    assert_int_equal(cell_ring_wait(r, -1, &err), -1);
    assert_int_equal(err.errnum, EPIPE);
    int status;
    waitpid(pid, &status, 0);
    cell_ring_close(r);
    cell_ipc_conn_close(c);
    cell_ipc_server_close(s);
}

static void a_peer_that_corrupts_the_ring_is_an_error(void **state)
{
    (void)state;
    struct cell_ipc_server *s;
    struct cell_err err = {0};
    struct cell_ipc_listen_opts opts = {.socket_dir = dir};
    ok_or_fail(cell_listen("bad", &opts, &s, &err), err);
    pid_t pid = fork();
    if (pid == 0) { /* one good message, then a head far ahead of anything */
        struct cell_ipc_conn *c;
        struct cell_ring *r;
        struct cell_err e = {0};
        if (cell_ipc_accept(s, &c, &e) < 0 || cell_ring_offer(c, 4096, &r, &e) < 0)
            child_fail("offer: %s", e.msg);
        unsigned char *p = cell_ring_reserve(r, message_len(0), &e);
        fill(p, 0, message_len(0));
        cell_ring_commit(r);
        /* the head is the first 8 bytes of the server's control block */
        uint64_t *head = (uint64_t *)((unsigned char *)p - 8 - 256);
        __atomic_store_n(head, (uint64_t)1 << 40, __ATOMIC_RELEASE);
        struct cell_ipc_msg m;
        cell_ipc_recv(c, &m, &e); /* until the client is done */
        _exit(0);
    }
    struct cell_ipc_conn *c;
    struct cell_ring *r;
    ok_or_fail(cell_connect("bad", dir, &c, &err), err);
    ok_or_fail(cell_ring_accept(c, &r, &err), err);
    size_t len;
    const void *m = NULL;
    for (int i = 0; i < 1000 && m == NULL && err.errnum == 0; i++) {
        m = cell_ring_peek(r, &len, &err);
        if (m == NULL && err.errnum == 0)
            usleep(1000);
    }
    /* the first message may or may not be read before the head goes wild;
     * then every call is an error, never a read out of bounds */
    if (m != NULL) {
        cell_ring_release(r);
        while (cell_ring_peek(r, &len, &err) == NULL && err.errnum == 0)
            usleep(1000);
    }
    assert_int_equal(err.errnum, EPROTO);
    assert_null(cell_ring_peek(r, &len, &err));
    assert_int_equal(err.errnum, EPROTO);
    assert_int_equal(cell_ring_wait(r, 0, &err), -1);
    assert_null(cell_ring_reserve(r, 8, &err));
    assert_int_equal(err.errnum, EPROTO);
    cell_ipc_conn_close(c);
    wait_child(pid, 0);
    cell_ring_close(r);
    cell_ipc_server_close(s);
}

static void a_ring_offer_is_checked(void **state)
{
    (void)state;
    struct cell_ipc_server *s;
    struct cell_err err = {0};
    struct cell_ipc_listen_opts opts = {.socket_dir = dir};
    ok_or_fail(cell_listen("offer", &opts, &s, &err), err);
    pid_t pid = fork();
    if (pid == 0) { /* a plain message where the ring should be */
        struct cell_ipc_conn *c;
        struct cell_err e = {0};
        if (cell_ipc_accept(s, &c, &e) < 0 || cell_ipc_send(c, CELL_IPC_ONEWAY, 1, "x", 1, &e) < 0)
            child_fail("send: %s", e.msg);
        struct cell_ipc_msg m;
        cell_ipc_recv(c, &m, &e);
        _exit(0);
    }
    struct cell_ipc_conn *c;
    struct cell_ring *r;
    ok_or_fail(cell_connect("offer", dir, &c, &err), err);
    assert_int_equal(cell_ring_accept(c, &r, &err), -1);
    assert_int_equal(err.errnum, EPROTO);
    assert_int_equal(cell_ring_offer(c, 5000, &r, &err), -1); /* not a power of two */
    assert_int_equal(err.errnum, EINVAL);
    cell_ipc_conn_close(c);
    wait_child(pid, 0);
    cell_ipc_server_close(s);
}

/* a million checksummed messages through the socket path, in both directions at once */
static void socket_carries_a_million_messages(void **state)
{
    (void)state;
    struct cell_ipc_server *s;
    struct cell_err err = {0};
    struct cell_ipc_listen_opts opts = {.socket_dir = dir};
    ok_or_fail(cell_listen("million", &opts, &s, &err), err);
    enum { COUNT = 1000000 };
    pid_t pid = fork();
    if (pid == 0) { /* checks what comes, echoes it back as a response */
        struct cell_ipc_conn *c;
        struct cell_err e = {0};
        if (cell_ipc_accept(s, &c, &e) < 0)
            child_fail("accept: %s", e.msg);
        for (uint64_t want = 0; want < COUNT; want++) {
            struct cell_ipc_msg m;
            if (cell_ipc_recv(c, &m, &e) != 1 || m.kind != CELL_IPC_REQUEST || check(m.data, m.len, want) < 0)
                child_fail("message %llu: %s", (unsigned long long)want, e.msg);
            unsigned char copy[512];
            memcpy(copy, m.data, m.len);
            if (cell_ipc_respond(c, m.id, copy, m.len, &e) < 0)
                child_fail("respond: %s", e.msg);
        }
        _exit(0);
    }
    struct cell_ipc_conn *c;
    ok_or_fail(cell_connect("million", dir, &c, &err), err);
    uint64_t sent = 0, got = 0;
    unsigned char buf[512];
    while (got < COUNT) {
        while (sent < COUNT && sent - got < 64) { /* 64 in flight */
            size_t len = message_len(sent);
            fill(buf, sent++, len);
            ok_or_fail(cell_ipc_request(c, buf, len, NULL, &err), err);
        }
        for (int k = 0; k < 32 && got < sent; k++) { /* then half the window back */
            struct cell_ipc_msg m;
            assert_int_equal(cell_ipc_recv(c, &m, &err), 1);
            assert_int_equal(m.id, (uint32_t)(got + 1));
            if (check(m.data, m.len, got) < 0)
                fail_msg("response %llu is wrong", (unsigned long long)got);
            got++;
        }
    }
    cell_ipc_conn_close(c);
    wait_child(pid, 0);
    cell_ipc_server_close(s);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(listen_refuses_a_second_server_and_leaves_nothing),
        T(requests_in_flight_are_matched_by_id),
        T(message_sizes_and_malformed_datagrams),
        T(allowlist_closes_other_uids),
        T(socket_carries_a_million_messages),
        T(ring_carries_millions_of_messages_both_ways),
        T(a_full_ring_waits_for_space),
        T(a_killed_peer_wakes_the_waiter),
        T(a_killed_client_wakes_the_server),
        T(a_peer_that_corrupts_the_ring_is_an_error),
        T(a_ring_offer_is_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
