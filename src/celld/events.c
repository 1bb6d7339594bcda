/* events.c - what happens to cells, as CloudEvents 1.0 JSON objects: started,
 * exited, restarting, healthy, unhealthy, stopped, removed. Each goes, one
 * per line, to <data>/events.jsonl, to every control client that asked for
 * them (`cell events`), and with --events-nats to NATS (events_nats.c). */
#include "celld.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static int events_fd = -1;
static unsigned long sequence;
static unsigned boot_tag; /* random, drawn at the first event */

static void open_sink(void)
{
    if (events_fd >= 0)
        return;
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/events.jsonl", celld.paths.data);
    events_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (events_fd < 0)
        cell_log(CELL_LOG_WARN, "celld: events: open %s: %s", path, strerror(errno));
}

void events_emit(const struct cell *c, const char *type, json_t *data)
{
    char id[64], when[40], ev_type[64];
    format_utc_now(when, sizeof when);
    /* unique per source (CloudEvents) and so a sound Nats-Msg-Id: a celld
     * that restarts with the same pid still draws another tag */
    while (boot_tag == 0)
        if (getrandom(&boot_tag, sizeof boot_tag, 0) != (ssize_t)sizeof boot_tag)
            boot_tag = (unsigned)now_ms() ^ ((unsigned)getpid() << 16);
    snprintf(id, sizeof id, "%d-%08x-%lu", (int)getpid(), boot_tag, ++sequence);
    snprintf(ev_type, sizeof ev_type, "cell.%s", type);
    json_t *e = json_object();
    json_object_set_new(e, "specversion", json_string("1.0"));
    json_object_set_new(e, "type", json_string(ev_type));
    json_object_set_new(e, "source", json_string(celld.paths.run));
    json_object_set_new(e, "id", json_string(id));
    json_object_set_new(e, "time", json_string(when));
    json_object_set_new(e, "subject", json_string(c->name));
    json_object_set_new(e, "datacontenttype", json_string("application/json"));
    if (data == NULL)
        data = json_object();
    json_object_set_new(data, "cell", json_string(c->name));
    json_object_set_new(e, "data", data);

    open_sink();
    struct cell_err err;
    if (events_fd >= 0)
        (void)cell_control_send(events_fd, e, &err);
    for (struct client *cl = celld.clients; cl; cl = cl->next)
        if (cl->fd >= 0 && cl->subscribed && cell_control_send(cl->fd, e, &err) < 0)
            client_close(cl);
    if (events_nats_enabled()) {
        char *text = json_dumps(e, JSON_COMPACT);
        if (text)
            events_nats_publish(c->name, type, id, text);
        free(text);
    }
    json_decref(e);
}

json_t *event_data_pid(pid_t pid)
{
    json_t *d = json_object();
    json_object_set_new(d, "pid", json_integer(pid));
    return d;
}
