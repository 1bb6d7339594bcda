/* events_nats.c - celld's NATS JetStream sink (--events-nats URL): every
 * event also goes to the subject cell.events.<name>.<type> (type without
 * "cell.": cell.events.web.started) of the JetStream stream CELL_EVENTS
 * (subjects cell.events.>, created when missing, accepted as it is when
 * present), with its CloudEvents id as Nats-Msg-Id, so that JetStream drops
 * a duplicate. In a cell name (see spec.c) the only character special to
 * NATS is '.', the token separator; it is written "%2E" ('%' cannot occur in
 * a name, so the subject maps back to exactly one name).
 *
 * Why a process. celld is one thread whose loop must never block. libnats
 * runs threads of its own, and they hold the connection's lock across
 * blocking socket work: a reconnect holds it through the TCP connect and
 * the handshake (up to the connect timeout), the flusher through a write
 * to a stalled server; a publish from the loop would wait for that lock.
 * And celld starts cells with a raw clone3(), whose child would inherit any
 * malloc or stdio lock another thread held at that instant. So libnats
 * lives in a helper, forked from celld before the first cell (and never
 * exec'd), and celld stays single-threaded. The loop hands each event over
 * with one non-blocking write() of at most PIPE_BUF bytes on a pipe: that is
 * atomic, the pipe (1 MiB) is the bounded queue, and a full pipe drops the
 * event with one warning until it drains.
 *
 * The helper publishes with js_PublishMsgAsync, not a core publish: the
 * server acknowledges what it stored, and an error handler logs what it did
 * not; at most PENDING_MAX acks are outstanding and each is waited for at
 * most ACK_WAIT_MS, after which the handler reports it. While NATS is away
 * the helper reads nothing (events wait in the pipe); it warns once per
 * outage, and on every (re)connect makes sure of the stream and sends again
 * what was still unacknowledged (the ids make that safe). At EOF (celld
 * exiting) it publishes what is left and waits briefly for the acks. */
#include "celld.h"
#include "jetstream.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <nats/nats.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define STREAM_NAME "CELL_EVENTS"
#define STREAM_SUBJECTS "cell.events.>"
#define QUEUE_BYTES (1 << 20) /* the pipe between celld and the helper */
#define PENDING_MAX 256       /* published, not acknowledged yet */
#define ACK_WAIT_MS 30000     /* for one ack */
#define API_WAIT_MS 5000      /* for a JetStream API answer (the stream) */
#define CONNECT_TIMEOUT_MS 2000
#define RECONNECT_WAIT_MS 1000
#define FINAL_WAIT_MS 2000 /* for the last acks when celld exits */
#define STOP_WAIT_MS 5000  /* for the helper to finish, when celld exits */
#define ERRORS_LOGGED 3    /* publish errors logged per connection */
#define STR_(x) #x
#define STR(x) STR_(x)

/* ---- celld's side --------------------------------------------------------- */

static struct {
    pid_t helper; /* 0: no NATS sink */
    int fd;       /* the write end of the queue, non-blocking; -1 once the helper is gone */
    const char *url;
    bool dropping; /* the queue is full: warned once, until a write succeeds */
    unsigned long dropped;
} sink = {.fd = -1};

static _Noreturn void helper_main(const char *url, bool required, int queue_fd, int verdict_fd);

bool events_nats_enabled(void)
{
    return sink.fd >= 0;
}

/* cell.events.<name with '.' as %2E>.<type> */
static void subject_for(char *out, size_t len, const char *name, const char *type)
{
    char token[3 * 64];
    snprintf(out, len, "cell.events.%s.%s", nats_subject_token(token, sizeof token, name) ? token : "?", type);
}

void events_nats_publish(const char *name, const char *type, const char *id, const char *event_json)
{
    if (sink.fd < 0)
        return;
    char subject[256], line[PIPE_BUF];
    subject_for(subject, sizeof subject, name, type);
    int n = snprintf(line, sizeof line, "%s %s %s\n", subject, id, event_json);
    if (n < 0 || (size_t)n >= sizeof line) {
        cell_log(CELL_LOG_WARN, "celld: events: event %s is over %d bytes: not sent to NATS", id, PIPE_BUF);
        return;
    }
    ssize_t w = write(sink.fd, line, (size_t)n); /* all or nothing: n <= PIPE_BUF */
    if (w == n) {
        if (sink.dropping)
            cell_log(CELL_LOG_WARN, "celld: events: the NATS queue takes events again (%lu dropped)", sink.dropped);
        sink.dropping = false;
        sink.dropped = 0;
        return;
    }
    if (w < 0 && errno == EAGAIN) {
        if (!sink.dropping)
            cell_log(CELL_LOG_WARN,
                     "celld: events: the queue to NATS at %s is full (NATS away or slow): dropping events until it "
                     "drains (they still go to events.jsonl and cell events)",
                     sink.url);
        sink.dropping = true;
        sink.dropped++;
        return;
    }
    /* EPIPE: the helper is gone (it said why in celld's log) */
    cell_log(CELL_LOG_WARN, "celld: events: the NATS publisher (pid %d) is gone: events no longer go to NATS",
             (int)sink.helper);
    close(sink.fd);
    sink.fd = -1;
    if (waitpid(sink.helper, NULL, WNOHANG) == sink.helper)
        sink.helper = 0;
}

void events_nats_stop(void)
{
    if (sink.fd >= 0)
        close(sink.fd); /* EOF: the helper sends what is queued, then exits */
    sink.fd = -1;
    if (sink.helper <= 0)
        return;
    /* celld's exit waits for that, but not for a NATS that hangs */
    int pidfd = (int)syscall(SYS_pidfd_open, sink.helper, 0);
    struct pollfd p = {.fd = pidfd, .events = POLLIN};
    if (pidfd >= 0 && poll(&p, 1, STOP_WAIT_MS) == 0) {
        cell_log(CELL_LOG_WARN, "celld: events: NATS at %s took over %d ms for the last events: stopped waiting",
                 sink.url, STOP_WAIT_MS);
        kill(sink.helper, SIGKILL);
    }
    if (pidfd >= 0)
        close(pidfd);
    while (waitpid(sink.helper, NULL, 0) < 0 && errno == EINTR)
        ;
    sink.helper = 0;
}

int events_nats_start(const char *url, bool required, struct cell_err *err)
{
    int queue[2], verdict[2];
    if (pipe2(queue, O_CLOEXEC) < 0)
        return cell_err_set(err, errno, "events: NATS: pipe");
    if (pipe2(verdict, O_CLOEXEC) < 0) {
        close(queue[0]);
        close(queue[1]);
        return cell_err_set(err, errno, "events: NATS: pipe");
    }
    (void)fcntl(queue[1], F_SETPIPE_SZ, QUEUE_BYTES); /* else the default 64 KiB */
    /* the helper must not write celld's buffered output again */
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(queue[0]);
        close(queue[1]);
        close(verdict[0]);
        close(verdict[1]);
        return cell_err_set(err, e, "events: NATS: fork the publisher");
    }
    if (pid == 0) {
        int keep[] = {queue[0], verdict[1]}; /* and stdio */
        close_range_except(keep, 2, 0);
        helper_main(url, required, queue[0], verdict[1]);
    }
    close(queue[0]);
    close(verdict[1]);
    /* The helper answers at once, or with `required` once it has NATS and
     * the stream: "ok", or why not. celld does not listen yet, so waiting
     * here (at most the connect timeout plus one JetStream request) blocks
     * nobody. */
    char answer[sizeof err->msg];
    size_t have = 0;
    ssize_t n;
    while (have < sizeof answer - 1 &&
           ((n = read(verdict[0], answer + have, sizeof answer - 1 - have)) > 0 || (n < 0 && errno == EINTR)))
        if (n > 0)
            have += (size_t)n;
    answer[have] = '\0';
    close(verdict[0]);
    if (strcmp(answer, "ok") != 0) {
        close(queue[1]);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
        return cell_err_set(err, 0, "%s", have ? answer : "events: the NATS publisher exited before it answered");
    }
    (void)fcntl(queue[1], F_SETFL, O_NONBLOCK);
    sink.fd = queue[1];
    sink.helper = pid;
    sink.url = url;
    return 0;
}

/* ---- the helper ----------------------------------------------------------- */

static struct {
    const char *url;
    natsConnection *nc;
    jsCtx *js;
    int wake; /* eventfd: libnats's callbacks wake the helper's poll */
    pthread_mutex_t mu;
    bool down;    /* warned that NATS is away (under mu) */
    bool closing; /* we close the connection ourselves (under mu) */
    atomic_bool connected;
    atomic_bool need_stream; /* (re)connected: make sure of the stream */
    atomic_int errors;       /* publish errors logged on this connection */
    bool published;          /* js_PublishMsgAsync was called (helper's thread only) */
} pub = {.wake = -1, .mu = PTHREAD_MUTEX_INITIALIZER};

static void wake_helper(void)
{
    uint64_t one = 1;
    (void)!write(pub.wake, &one, sizeof one);
}

/* libnats's threads: the connection came (back) or went */
static void on_connected(natsConnection *nc, void *closure)
{
    pthread_mutex_lock(&pub.mu);
    if (pub.down)
        cell_log(CELL_LOG_WARN, "celld: events: NATS at %s is reachable (again): events are published", pub.url);
    pub.down = false;
    atomic_store(&pub.errors, 0);
    atomic_store(&pub.need_stream, true);
    atomic_store(&pub.connected, true);
    pthread_mutex_unlock(&pub.mu);
    wake_helper();
}

static void on_disconnected(natsConnection *nc, void *closure)
{
    pthread_mutex_lock(&pub.mu);
    atomic_store(&pub.connected, false);
    if (!pub.down && !pub.closing)
        cell_log(CELL_LOG_WARN,
                 "celld: events: lost NATS at %s: celld keeps supervising; events wait in a queue until it is back",
                 pub.url);
    pub.down = true;
    pthread_mutex_unlock(&pub.mu);
    wake_helper();
}

static void log_publish_error(const char *what, const char *subject, const char *id, const char *why)
{
    int n = atomic_fetch_add(&pub.errors, 1) + 1;
    if (n <= ERRORS_LOGGED)
        cell_log(CELL_LOG_WARN, "celld: events: %s event %s (%s): %s%s", what, id ? id : "?", subject, why,
                 n == ERRORS_LOGGED ? " (further errors are not logged until NATS reconnects)" : "");
}

/* JetStream did not acknowledge a message: refused, or no ack in time */
static void on_ack_error(jsCtx *js, jsPubAckErr *pae, void *closure)
{
    const char *id = NULL;
    (void)natsMsgHeader_Get(pae->Msg, "Nats-Msg-Id", &id);
    if (pae->Err == NATS_TIMEOUT)
        log_publish_error("no ack from NATS within " STR(ACK_WAIT_MS) " ms for", natsMsg_GetSubject(pae->Msg), id,
                          "it may or may not be stored");
    else
        log_publish_error("NATS refused", natsMsg_GetSubject(pae->Msg), id,
                          pae->ErrText ? pae->ErrText : natsStatus_GetText(pae->Err));
}

static void on_async_error(natsConnection *nc, natsSubscription *sub, natsStatus s, void *closure)
{
    cell_log(CELL_LOG_WARN, "celld: events: NATS at %s: %s", pub.url, natsStatus_GetText(s));
}

/* "events: WHAT NATS at URL: STATUS[: DETAIL]" */
static void nats_error(struct cell_err *err, natsStatus s, const char *what)
{
    char text[sizeof err->msg];
    nats_status_text(text, sizeof text, s);
    cell_err_set(err, 0, "events: %s NATS at %s: %s", what, pub.url, text);
}

/* The stream: accepted when present, created when missing. */
static int stream_ensure(struct cell_err *err)
{
    bool created;
    jsErrCode code;
    natsStatus s = nats_stream_ensure(pub.js, STREAM_NAME, STREAM_SUBJECTS, &created, &code);
    if (s == NATS_OK) {
        if (created)
            cell_log(CELL_LOG_INFO, "celld: events: created the JetStream stream %s (%s) at %s", STREAM_NAME,
                     STREAM_SUBJECTS, pub.url);
        return 0;
    }
    if (s == NATS_NO_RESPONDERS || s == NATS_TIMEOUT)
        return cell_err_set(err, 0,
                            "events: NATS at %s has no JetStream (no answer about the stream %s): start nats-server "
                            "with -js",
                            pub.url, STREAM_NAME);
    nats_error(err, s, "the stream " STREAM_NAME " at");
    return -1;
}

/* One queued line, "SUBJECT ID EVENT_JSON". */
static void publish_line(char *line, size_t len)
{
    char *id = memchr(line, ' ', len);
    char *json = id ? memchr(id + 1, ' ', len - (size_t)(id + 1 - line)) : NULL;
    if (json == NULL)
        return;
    *id++ = '\0';
    *json++ = '\0';
    natsMsg *msg = NULL;
    natsStatus s = natsMsg_Create(&msg, line, NULL, json, (int)(len - (size_t)(json - line)));
    if (s == NATS_OK)
        s = natsMsgHeader_Set(msg, "Content-Type", "application/cloudevents+json");
    if (s == NATS_OK) {
        jsPubOptions o;
        jsPubOptions_Init(&o);
        o.MsgId = id;
        o.MaxWait = ACK_WAIT_MS;
        s = js_PublishMsgAsync(pub.js, &msg, &o);
        pub.published = pub.published || s == NATS_OK;
    }
    natsMsg_Destroy(msg); /* NULL when libnats took it */
    if (s != NATS_OK)
        log_publish_error("could not publish", line, id, natsStatus_GetText(s));
}

/* celld's sequence number of the event in msg: the last part of its id */
static unsigned long long event_sequence(natsMsg *msg)
{
    const char *id = NULL, *dash;
    if (natsMsgHeader_Get(msg, "Nats-Msg-Id", &id) != NATS_OK || id == NULL || (dash = strrchr(id, '-')) == NULL)
        return 0;
    return strtoull(dash + 1, NULL, 10);
}

static int by_sequence(const void *a, const void *b)
{
    unsigned long long x = event_sequence(*(natsMsg *const *)a), y = event_sequence(*(natsMsg *const *)b);
    return x < y ? -1 : x > y;
}

/* On a new connection: what was published before but never acknowledged
 * (in flight when NATS went away, and younger than ACK_WAIT_MS) goes out
 * again, in order and before anything newer; its Nats-Msg-Id makes
 * JetStream drop what it already has. Events that libnats had buffered for
 * the new connection itself went out first, so after an outage a few
 * events can be stored out of order; each carries its time and sequence. */
static void republish_pending(void)
{
    natsMsgList pending = {0};
    /* libnats 3.4.1 crashes here before the first asynchronous publish */
    if (!pub.published || js_PublishAsyncGetPendingList(&pending, pub.js) != NATS_OK)
        return; /* none */
    jsPubOptions o;
    jsPubOptions_Init(&o);
    o.MaxWait = ACK_WAIT_MS; /* the message keeps its Nats-Msg-Id header */
    int again = 0, count = pending.Count;
    if (count > 1) /* libnats keeps them in a hash */
        qsort(pending.Msgs, (size_t)count, sizeof *pending.Msgs, by_sequence);
    for (int i = 0; i < count; i++)
        if (js_PublishMsgAsync(pub.js, &pending.Msgs[i], &o) == NATS_OK)
            again++;
    natsMsgList_Destroy(&pending); /* and the messages libnats did not take */
    cell_log(CELL_LOG_INFO, "celld: events: sent %d of %d unacknowledged events again", again, count);
}

/* Publish every complete line in buf; returns the bytes consumed. */
static size_t publish_lines(char *buf, size_t have)
{
    size_t done = 0;
    char *nl;
    while ((nl = memchr(buf + done, '\n', have - done)) != NULL) {
        publish_line(buf + done, (size_t)(nl - (buf + done)));
        done = (size_t)(nl - buf) + 1;
    }
    return done;
}

static _Noreturn void helper_finish(int code)
{
    if (atomic_load(&pub.connected)) {
        jsPubOptions o;
        jsPubOptions_Init(&o);
        o.MaxWait = FINAL_WAIT_MS;
        if (js_PublishAsyncComplete(pub.js, &o) != NATS_OK)
            cell_log(CELL_LOG_WARN, "celld: events: NATS at %s did not acknowledge the last events in %d ms", pub.url,
                     FINAL_WAIT_MS);
        pthread_mutex_lock(&pub.mu);
        pub.closing = true;
        pthread_mutex_unlock(&pub.mu);
        natsConnection_Destroy(pub.nc); /* a quick close: nothing is pending */
    }
    _exit(code);
}

static void verdict(int fd, const char *text)
{
    if (fd < 0)
        return;
    (void)!write(fd, text, strlen(text));
    close(fd);
}

static _Noreturn void helper_main(const char *url, bool required, int queue_fd, int verdict_fd)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* celld's end of the queue closing is what stops the helper */
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    prctl(PR_SET_NAME, "celld-nats");
    pub.url = url;
    pub.wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

    struct cell_err err = {0};
    natsOptions *opts = NULL;
    natsStatus s = pub.wake < 0 ? NATS_SYS_ERROR : nats_Open(-1);
    if (s == NATS_OK)
        s = natsOptions_Create(&opts);
    if (s == NATS_OK)
        s = natsOptions_SetURL(opts, url);
    if (s == NATS_OK)
        s = natsOptions_SetName(opts, "celld");
    if (s == NATS_OK)
        s = natsOptions_SetTimeout(opts, CONNECT_TIMEOUT_MS);
    if (s == NATS_OK)
        s = natsOptions_SetMaxReconnect(opts, -1); /* forever */
    if (s == NATS_OK)
        s = natsOptions_SetReconnectWait(opts, RECONNECT_WAIT_MS);
    if (s == NATS_OK)
        s = natsOptions_SetDisconnectedCB(opts, on_disconnected, NULL);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectedCB(opts, on_connected, NULL);
    if (s == NATS_OK)
        s = natsOptions_SetErrorHandler(opts, on_async_error, NULL);
    if (s == NATS_OK && !required) /* unreachable now: keep trying in the background */
        s = natsOptions_SetRetryOnFailedConnect(opts, true, on_connected, NULL);
    if (s != NATS_OK) {
        nats_error(&err, s, "set up a connection to");
        cell_log(CELL_LOG_WARN, "celld: %s", err.msg);
        verdict(verdict_fd, required ? err.msg : "ok");
        _exit(1);
    }
    if (!required) {
        verdict(verdict_fd, "ok"); /* celld goes on at once; we connect on our own */
        verdict_fd = -1;
    }

    s = natsConnection_Connect(&pub.nc, opts);
    if (s == NATS_OK || s == NATS_NOT_YET_CONNECTED) {
        jsOptions jo;
        jsOptions_Init(&jo);
        jo.Wait = API_WAIT_MS;
        jo.PublishAsync.MaxPending = PENDING_MAX;
        jo.PublishAsync.StallWait = ACK_WAIT_MS; /* the helper may wait; celld never does */
        jo.PublishAsync.ErrHandler = on_ack_error;
        natsStatus js = natsConnection_JetStream(&pub.js, pub.nc, &jo);
        if (js != NATS_OK) {
            nats_error(&err, js, "JetStream context for");
            cell_log(CELL_LOG_WARN, "celld: %s", err.msg);
            verdict(verdict_fd, err.msg);
            _exit(1);
        }
    }
    if (s == NATS_OK) {
        atomic_store(&pub.connected, true);
        atomic_store(&pub.need_stream, true);
    } else if (s == NATS_NOT_YET_CONNECTED) {
        pthread_mutex_lock(&pub.mu);
        if (!atomic_load(&pub.connected)) {
            cell_log(CELL_LOG_WARN,
                     "celld: events: NATS at %s is unreachable: celld goes on without it and publishes once it is "
                     "there (events wait in a queue)",
                     url);
            pub.down = true;
        }
        pthread_mutex_unlock(&pub.mu);
    } else {
        nats_error(&err, s, "cannot reach");
        if (required) {
            char msg[sizeof err.msg];
            snprintf(msg, sizeof msg,
                     "%s; --events-nats-required was given: start nats-server with JetStream there (nats-server -js), "
                     "or leave out --events-nats-required to start without it",
                     err.msg);
            verdict(verdict_fd, msg);
        } else {
            cell_log(CELL_LOG_WARN, "celld: %s: events do not go to NATS", err.msg);
        }
        _exit(1);
    }

    static char buf[64 * 1024];
    size_t have = 0;
    bool stream_ok = false, stream_warned = false;
    for (;;) {
        bool retry = !stream_ok && atomic_load(&pub.connected);
        if (atomic_exchange(&pub.need_stream, false)) {
            stream_warned = false; /* a new connection */
            retry = true;
        }
        if (retry) {
            stream_ok = stream_ensure(&err) == 0;
            if (verdict_fd >= 0) { /* required: the first answer decides */
                if (!stream_ok) {
                    verdict(verdict_fd, err.msg);
                    _exit(1);
                }
                verdict(verdict_fd, "ok");
                verdict_fd = -1;
            } else if (!stream_ok && !stream_warned) {
                cell_log(CELL_LOG_WARN, "celld: %s; events wait in a queue, and celld asks again every %d ms", err.msg,
                         API_WAIT_MS);
                stream_warned = true;
            } else if (stream_ok && stream_warned) {
                cell_log(CELL_LOG_WARN, "celld: events: the stream %s is there now: events are published", STREAM_NAME);
                stream_warned = false;
            }
            if (stream_ok)
                republish_pending();
        }
        bool ready = atomic_load(&pub.connected) && stream_ok;
        bool waiting_stream = atomic_load(&pub.connected) && !stream_ok;
        struct pollfd p[2] = {{.fd = pub.wake, .events = POLLIN}, {.fd = queue_fd, .events = ready ? POLLIN : 0}};
        int n_ready = poll(p, 2, waiting_stream ? API_WAIT_MS : -1);
        if (n_ready == 0)
            continue; /* ask for the stream again */
        if (n_ready < 0) {
            if (errno == EINTR)
                continue;
            _exit(1);
        }
        if (p[0].revents & POLLIN) {
            uint64_t count;
            (void)!read(pub.wake, &count, sizeof count);
        }
        if (!ready) {
            if (p[1].revents & (POLLHUP | POLLERR)) /* celld is gone, and so is NATS */
                helper_finish(0);
            continue;
        }
        if (p[1].revents & (POLLIN | POLLHUP)) {
            ssize_t n = read(queue_fd, buf + have, sizeof buf - have);
            if (n > 0) {
                have += (size_t)n;
                size_t done = publish_lines(buf, have);
                memmove(buf, buf + done, have - done);
                have -= done;
            } else if (n == 0 || errno != EINTR) {
                helper_finish(0); /* celld has handed over everything */
            }
        }
    }
}
