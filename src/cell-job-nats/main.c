/* cell-job-nats - the NATS JetStream publisher behind `cell job run
 * --events-nats URL` (src/cli/job_nats.c starts it, next to cell, with an
 * empty environment). cell itself stays static and free of libnats's
 * threads: it clones the job's cell right after opening the sink, and a
 * child cloned while another thread held a malloc or stdio lock would
 * inherit that lock. So libnats lives here, in a process of its own.
 *
 * Usage: cell-job-nats URL JOB_ID, with stdin and stdout one socket to cell.
 * It connects to URL and makes sure of the stream CELL_JOBS (subjects
 * cell.jobs.>: created when missing, accepted as it is when present), then
 * answers one line: "ok", or what failed ("connect: ...", "stream
 * CELL_JOBS: ...") and exits 1. Each request is "LEN TYPE\n" and the LEN
 * bytes of one CloudEvent; it is published to cell.jobs.<JOB_ID>.<the last
 * word of TYPE> (started, completed, destroyed; '.' in the id as "%2E"),
 * with the event's id as Nats-Msg-Id, and the answer, "ok" or what failed,
 * comes once JetStream has acknowledged it or refused it. Errors name the
 * operation and the subject, never the event's contents. At EOF it closes
 * the connection and exits 0. */
#include "jetstream.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define STREAM_NAME "CELL_JOBS"
#define STREAM_SUBJECTS "cell.jobs.>"
#define CONNECT_TIMEOUT_MS 2000
#define RECONNECTS 3 /* a one-shot command: a short outage is ridden out, a long one fails */
#define RECONNECT_WAIT_MS 500
#define API_WAIT_MS 5000  /* for a JetStream API answer (the stream) */
#define ACK_WAIT_MS 10000 /* for one event's acknowledgement */
#define EVENT_MAX (1 << 20)
#define STR_(x) #x
#define STR(x) STR_(x)

/* One answer line to cell (fd 1): "ok", or the error without newlines. */
static int answer(const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n > sizeof line - 2)
        n = (int)sizeof line - 2;
    for (int i = 0; i < n; i++)
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    line[n++] = '\n';
    for (int off = 0; off < n;) {
        ssize_t w = send(1, line + off, (size_t)(n - off), MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1; /* cell is gone */
        off += (int)w;
    }
    return 0;
}

static natsStatus connect_to(natsConnection **nc, const char *url, const char *job_id)
{
    natsOptions *opts = NULL;
    char name[128];
    snprintf(name, sizeof name, "cell job %s", job_id);
    natsStatus s = natsOptions_Create(&opts);
    if (s == NATS_OK)
        s = natsOptions_SetURL(opts, url);
    if (s == NATS_OK)
        s = natsOptions_SetName(opts, name);
    if (s == NATS_OK)
        s = natsOptions_SetTimeout(opts, CONNECT_TIMEOUT_MS);
    if (s == NATS_OK)
        s = natsOptions_SetMaxReconnect(opts, RECONNECTS);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectWait(opts, RECONNECT_WAIT_MS);
    if (s == NATS_OK)
        s = natsConnection_Connect(nc, opts);
    natsOptions_Destroy(opts); /* the connection keeps its own copy */
    return s;
}

/* cell.jobs.<job id>.<the last word of type>, each as one subject token */
static int subject_for(char *out, size_t size, const char *job_id, const char *type)
{
    const char *dot = strrchr(type, '.');
    char id_token[3 * 256], type_token[3 * 64];
    if (!nats_subject_token(id_token, sizeof id_token, job_id) ||
        !nats_subject_token(type_token, sizeof type_token, dot ? dot + 1 : type))
        return -1;
    int n = snprintf(out, size, "cell.jobs.%s.%s", id_token, type_token);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* Publish one event and wait for JetStream's acknowledgement; the answer. */
static int publish(jsCtx *js, const char *url, const char *job_id, const char *type, const char *event, size_t len)
{
    char subject[1024];
    if (subject_for(subject, sizeof subject, job_id, type) < 0)
        return answer("publish: no subject for the event type \"%s\" of job \"%s\"", type, job_id);
    /* its CloudEvents id; a parse error's text could quote the event: not said */
    json_t *doc = json_loadb(event, len, 0, NULL);
    const char *id = json_string_value(json_object_get(doc, "id"));
    if (id == NULL || id[0] == '\0') {
        json_decref(doc);
        return answer("publish %s: the event is not a CloudEvent with an id", subject);
    }
    natsMsg *msg = NULL;
    jsPubAck *ack = NULL;
    jsErrCode code = 0;
    natsStatus s = natsMsg_Create(&msg, subject, NULL, event, (int)len);
    if (s == NATS_OK)
        s = natsMsgHeader_Set(msg, "Content-Type", "application/cloudevents+json");
    if (s == NATS_OK) {
        jsPubOptions o;
        jsPubOptions_Init(&o);
        o.MsgId = id; /* a duplicate (the same event sent again) is dropped by JetStream */
        o.MaxWait = ACK_WAIT_MS;
        s = js_PublishMsg(&ack, js, msg, &o, &code);
    }
    char text[512];
    nats_status_text(text, sizeof text, s);
    natsMsg_Destroy(msg);
    jsPubAck_Destroy(ack);
    json_decref(doc);
    if (s == NATS_OK)
        return answer("ok");
    if (s == NATS_NO_RESPONDERS)
        return answer("publish %s: no JetStream stream takes the subject (is the stream %s, subjects %s, still at %s?)",
                      subject, STREAM_NAME, STREAM_SUBJECTS, url);
    if (s == NATS_CONNECTION_CLOSED)
        return answer("publish %s: lost NATS at %s (%s; reconnecting failed)", subject, url, text);
    if (s == NATS_TIMEOUT)
        return answer("publish %s: no acknowledgement from JetStream at %s within " STR(ACK_WAIT_MS) " ms", subject,
                      url);
    return answer("publish %s: %s", subject, text);
}

/* Requests until EOF: "LEN TYPE\n" and LEN bytes, each answered. */
static int serve(jsCtx *js, const char *url, const char *job_id)
{
    FILE *in = fdopen(0, "r");
    char *header = NULL, *event = NULL;
    size_t header_size = 0;
    ssize_t n;
    int rc = 0;
    while (in && (n = getline(&header, &header_size, in)) > 0) {
        char type[256];
        size_t len;
        if (sscanf(header, "%zu %255s", &len, type) != 2 || len == 0) {
            answer("publish: a malformed request from cell");
            rc = 1;
            break;
        }
        if (len > EVENT_MAX) { /* and then what follows cannot be read as a request */
            answer("publish %s: the event is %zu bytes, over the limit of %d", type, len, EVENT_MAX);
            rc = 1;
            break;
        }
        char *grown = realloc(event, len);
        if (grown == NULL) {
            answer("publish: out of memory for an event of %zu bytes", len);
            rc = 1;
            break;
        }
        event = grown;
        if (fread(event, 1, len, in) != len) {
            rc = 1; /* cell went away mid-request */
            break;
        }
        if (publish(js, url, job_id, type, event, len) < 0) {
            rc = 1;
            break;
        }
    }
    free(header);
    free(event);
    if (in)
        fclose(in);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: cell-job-nats URL JOB_ID (started by cell job run --events-nats)\n");
        return 2;
    }
    const char *url = argv[1], *job_id = argv[2];
    /* a Ctrl-C at the terminal is for cell, which passes it on to the job
     * and still has events to publish: cell's end closing stops us */
    signal(SIGINT, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    (void)!chdir("/"); /* hold no directory of cell's busy */

    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    char text[512];
    int rc = 1;
    natsStatus s = nats_Open(-1);
    if (s == NATS_OK)
        s = connect_to(&nc, url, job_id);
    if (s != NATS_OK) {
        nats_status_text(text, sizeof text, s);
        answer("connect: %s%s", text,
               s == NATS_NO_SERVER                                  ? " (is nats-server running there, with -js?)"
               : s == NATS_INVALID_ARG || s == NATS_ADDRESS_MISSING ? " (give the URL as nats://HOST:PORT)"
                                                                    : "");
        goto out;
    }
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = API_WAIT_MS;
    if ((s = natsConnection_JetStream(&js, nc, &jo)) != NATS_OK) {
        nats_status_text(text, sizeof text, s);
        answer("JetStream: %s", text);
        goto out;
    }
    bool created;
    jsErrCode code;
    s = nats_stream_ensure(js, STREAM_NAME, STREAM_SUBJECTS, &created, &code);
    if (s == NATS_NO_RESPONDERS || s == NATS_TIMEOUT) {
        answer("stream " STREAM_NAME ": no answer from JetStream (start nats-server with -js)");
        goto out;
    }
    if (s != NATS_OK) {
        nats_status_text(text, sizeof text, s);
        answer("stream " STREAM_NAME ": %s", text);
        goto out;
    }
    if (answer("ok") == 0)
        rc = serve(js, url, job_id);
out:
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc); /* closes it: every event was acknowledged */
    nats_Close();
    return rc;
}
