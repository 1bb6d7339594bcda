/* control.c - celld's control socket: clients send one JSON request per line
 * and get one answer per request (see cell/control.h). A malformed request
 * gets an error answer and the client stays connected; celld keeps serving
 * everyone else. Operations (checked by request.c): ping, run, status,
 * start, stop, restart, swap, delete, events (a stream of every event from
 * then on), up, down, declare (cell apply: a cell declared, or a stopped
 * one's declaration replaced, without starting it). stop, restart, swap, delete and down answer once done. */
#include "celld.h"
#include "request.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define ANSWER_SEND_TIMEOUT_S 5

json_t *answer_ok(void)
{
    json_t *a = json_object();
    json_object_set_new(a, "ok", json_true());
    return a;
}

json_t *answer_error(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *a = json_object();
    json_object_set_new(a, "ok", json_false());
    json_object_set_new(a, "error", json_string(msg));
    return a;
}

void client_accept(void)
{
    int fd = accept4(celld.listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0)
        return;
    struct client *cl = calloc(1, sizeof *cl);
    if (cl == NULL) {
        close(fd);
        return;
    }
    struct timeval send_timeout = {.tv_sec = ANSWER_SEND_TIMEOUT_S};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout);
    cl->fd = fd;
    cl->watch = (struct watch){.kind = W_CLIENT, .owner = cl};
    watch_add(fd, &cl->watch);
    cl->next = celld.clients;
    celld.clients = cl;
}

void client_close(struct client *cl)
{
    if (cl->fd < 0)
        return;
    cells_forget_client(cl);
    watch_del(cl->fd);
    close(cl->fd);
    cl->fd = -1;
}

void clients_free_dead(void)
{
    for (struct client **pp = &celld.clients; *pp;) {
        struct client *cl = *pp;
        if (cl->fd < 0) {
            *pp = cl->next;
            free(cl);
        } else {
            pp = &cl->next;
        }
    }
}

/* A blocking write of one line: an answer may be larger than the socket
 * buffer (`cell status` of 1,000 cells is about 330 KB), and the socket is
 * otherwise non-blocking. A client that stops reading for
 * ANSWER_SEND_TIMEOUT_S is dropped. */
void client_answer(struct client *cl, json_t *answer)
{
    if (cl->fd >= 0) {
        struct cell_err err;
        int flags = fcntl(cl->fd, F_GETFL);
        fcntl(cl->fd, F_SETFL, flags & ~O_NONBLOCK);
        int rc = cell_control_send(cl->fd, answer, &err);
        fcntl(cl->fd, F_SETFL, flags);
        if (rc < 0)
            client_close(cl);
    }
    json_decref(answer);
}

static struct cell *named_cell(const struct request *req, struct client *cl)
{
    const char *name = req->name;
    struct cell *c = cell_find(name);
    if (c == NULL)
        client_answer(cl, answer_error("cell %s: no such cell (see cell status)", name));
    return c;
}

static void op_run(const struct request *req, struct client *cl)
{
    struct cell_err err = {0};
    struct cell *c;
    json_t *args = req->args;
    if (cell_declare(args, true, &c, &err) < 0 || cell_first_start(c, &err) < 0) {
        client_answer(cl, answer_error("%s", err.msg));
        return;
    }
    if (cell_wait_ready(c, cl)) /* --notify: answered once it says it is ready */
        return;
    answer_cell(cl, c);
}

/* declare: what `cell apply` sends. The same arguments again change
 * nothing; new ones replace a stopped cell's declaration (apply stops a
 * running one first). */
static void op_declare(const struct request *req, struct client *cl)
{
    struct cell_err err = {0};
    struct cell_spec spec;
    if (cell_spec_from_declaration(req->args, &spec, &err) < 0) {
        client_answer(cl, answer_error("%s", err.msg));
        return;
    }
    struct cell *c = cell_find(spec.name);
    cell_spec_free(&spec);
    if (c && json_equal(c->args, req->args)) {
        answer_cell(cl, c);
        return;
    }
    if (c && c->state != ST_EXITED && c->state != ST_FAILED) {
        client_answer(cl, answer_error("cell %s: is %s: stop it before its declaration changes (cell stop %s)", c->name,
                                       cell_state_name(c->state), c->name));
        return;
    }
    json_t *old = c ? json_incref(c->args) : NULL;
    if (c) {
        c->replacing = true;
        cell_remove(c);
    }
    if (cell_declare(req->args, true, &c, &err) < 0) {
        struct cell *back;
        if (old && cell_declare(old, true, &back, &(struct cell_err){0}) < 0)
            cell_log(CELL_LOG_WARN, "celld: warning: the old declaration could not be restored either");
        json_decref(old);
        client_answer(cl, answer_error("%s", err.msg));
        return;
    }
    if (old)
        events_emit(c, "redeclared", NULL);
    json_decref(old);
    answer_cell(cl, c);
}

static void op_status(const struct request *req, struct client *cl)
{
    json_t *names = req->names;
    json_t *list = json_array();
    if (json_is_array(names) && json_array_size(names) > 0) {
        size_t i;
        json_t *n;
        json_array_foreach(names, i, n)
        {
            struct cell *c = json_is_string(n) ? cell_find(json_string_value(n)) : NULL;
            if (c == NULL) {
                json_decref(list);
                client_answer(cl,
                              answer_error("cell %s: no such cell", json_is_string(n) ? json_string_value(n) : "?"));
                return;
            }
            json_array_append_new(list, cell_status_json(c));
        }
    } else {
        for (struct cell *c = celld.cells; c; c = c->next)
            json_array_append_new(list, cell_status_json(c));
    }
    json_t *a = answer_ok();
    json_object_set_new(a, "cells", list);
    client_answer(cl, a);
}

void answer_cell(struct client *cl, const struct cell *c)
{
    json_t *a = answer_ok();
    if (c)
        json_object_set_new(a, "cell", cell_status_json(c));
    client_answer(cl, a);
}

static void op_start(const struct request *req, struct client *cl)
{
    struct cell *c = named_cell(req, cl);
    if (c == NULL)
        return;
    cell_event(c, EV_START);
    if (c->state == ST_RUNNING)
        answer_cell(cl, c);
    else
        client_answer(cl, answer_error("cell %s: did not start: %s", c->name,
                                       c->last_error[0] ? c->last_error : cell_state_name(c->state)));
}

static void op_stop(const struct request *req, struct client *cl, bool restart)
{
    struct cell *c = named_cell(req, cl);
    if (c == NULL)
        return;
    if (restart && (c->state == ST_EXITED || c->state == ST_FAILED)) {
        cell_event(c, EV_START);
        answer_cell(cl, c);
        return;
    }
    c->restarting = restart;
    cell_event(c, EV_STOP);
    if (restart && c->state == ST_RUNNING) { /* stopped and started again already */
        answer_cell(cl, c);
        return;
    }
    if (!cell_wait_stopped(c, cl))
        answer_cell(cl, c);
}

static void op_delete(const struct request *req, struct client *cl)
{
    struct cell *c = named_cell(req, cl);
    if (c == NULL)
        return;
    if (cell_delete(c))
        cell_wait_stopped(c, cl);
    else
        answer_cell(cl, NULL);
}

static void op_up(struct client *cl)
{
    unsigned n = cells_up();
    json_t *a = answer_ok();
    json_object_set_new(a, "started", json_integer(n));
    json_t *list = json_array();
    for (struct cell *c = celld.cells; c; c = c->next)
        json_array_append_new(list, cell_status_json(c));
    json_object_set_new(a, "cells", list);
    client_answer(cl, a);
}

static void dispatch(const struct request *req, struct client *cl)
{
    struct cell_err err = {0};
    struct cell *c;
    switch (req->op) {
    case OP_PING: {
        json_t *a = answer_ok();
        json_object_set_new(a, "pid", json_integer(getpid()));
        json_object_set_new(a, "version", json_string(CELL_VERSION));
        client_answer(cl, a);
        break;
    }
    case OP_RUN:
        op_run(req, cl);
        break;
    case OP_STATUS:
        op_status(req, cl);
        break;
    case OP_START:
        op_start(req, cl);
        break;
    case OP_STOP:
        op_stop(req, cl, false);
        break;
    case OP_RESTART:
        op_stop(req, cl, true);
        break;
    case OP_DELETE:
        op_delete(req, cl);
        break;
    case OP_SWAP:
        if ((c = named_cell(req, cl)) && cell_swap(c, cl, &err) < 0)
            client_answer(cl, answer_error("%s", err.msg));
        break;
    case OP_EVENTS:
        cl->subscribed = true; /* from now on, every event, one per line */
        client_answer(cl, answer_ok());
        break;
    case OP_UP:
        op_up(cl);
        break;
    case OP_DECLARE:
        op_declare(req, cl);
        break;
    case OP_JOB_SUBMIT: {
        json_t *a = NULL;
        if (job_submit(req, &a, &err) < 0)
            client_answer(cl, answer_error("%s", err.msg));
        else
            client_answer(cl, a);
        break;
    }
    case OP_DOWN:
        celld.down_waiter = cl;
        celld_shutdown();
        break;
    }
}

static void handle_line(struct client *cl, char *line)
{
    struct request req;
    char err[512];
    if (request_parse(line, &req, err, sizeof err) < 0) {
        client_answer(cl, answer_error("%s", err));
        return;
    }
    dispatch(&req, cl);
    request_free(&req);
}

void client_readable(struct client *cl)
{
    ssize_t n = read(cl->fd, cl->buf + cl->len, sizeof cl->buf - 1 - cl->len);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) { /* gone, perhaps mid-request: forget it */
        client_close(cl);
        return;
    }
    cl->len += (size_t)n;
    char *start = cl->buf, *nl;
    while (cl->fd >= 0 && (nl = memchr(start, '\n', cl->len - (size_t)(start - cl->buf))) != NULL) {
        *nl = '\0';
        handle_line(cl, start);
        start = nl + 1;
    }
    if (cl->fd < 0)
        return;
    cl->len -= (size_t)(start - cl->buf);
    memmove(cl->buf, start, cl->len);
    if (cl->len == sizeof cl->buf - 1) {
        client_answer(cl, answer_error("a request longer than %d bytes", CELL_CONTROL_MAX_LINE));
        client_close(cl);
    }
}
