/* control.c - where cell keeps its files (cell_paths) and celld's control
 * protocol: one JSON object per line over a unix stream socket, a request
 * {"op": ...} answered by {"ok": true, ...} or {"ok": false, "error": "..."}. */
#include "cell/control.h"
#include "util.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int join(char *out, size_t len, const char *a, const char *b, struct cell_err *err)
{
    if (snprintf(out, len, "%s%s", a, b) >= (int)len)
        return cell_err_set(err, ENAMETOOLONG, "path %s%s", a, b);
    return 0;
}

int cell_paths_init(const char *root, struct cell_paths *p, struct cell_err *err)
{
    char run[PATH_MAX], data[PATH_MAX];
    memset(p, 0, sizeof *p);
    if (root != NULL) {
        if (root[0] != '/')
            return cell_err_set(err, 0, "--root \"%s\": not an absolute path", root);
        if (join(run, sizeof run, root, "/run", err) < 0 || join(data, sizeof data, root, "/data", err) < 0)
            return -1;
    } else if (geteuid() == 0) {
        snprintf(run, sizeof run, "/run/cell");
        snprintf(data, sizeof data, "/var/lib/cell");
    } else {
        const char *xrun = getenv("XDG_RUNTIME_DIR"), *xdata = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
        if (xrun == NULL || xrun[0] != '/')
            return cell_err_set(err, 0, "no runtime directory: set XDG_RUNTIME_DIR, or give --root DIR");
        if (join(run, sizeof run, xrun, "/cell", err) < 0)
            return -1;
        if (xdata != NULL && xdata[0] == '/') {
            if (join(data, sizeof data, xdata, "/cell", err) < 0)
                return -1;
        } else if (home != NULL && home[0] == '/') {
            if (join(data, sizeof data, home, "/.local/share/cell", err) < 0)
                return -1;
        } else {
            return cell_err_set(err, 0, "no data directory: set XDG_DATA_HOME or HOME, or give --root DIR");
        }
    }
    snprintf(p->run, sizeof p->run, "%s", run);
    snprintf(p->data, sizeof p->data, "%s", data);
    if (join(p->socket, sizeof p->socket, run, "/celld.sock", err) < 0 ||
        join(p->lock, sizeof p->lock, run, "/celld.lock", err) < 0 ||
        join(p->logs, sizeof p->logs, data, "/logs", err) < 0)
        return -1;
    struct sockaddr_un sun;
    if (strlen(p->socket) >= sizeof sun.sun_path)
        return cell_err_set(err, ENAMETOOLONG, "control socket %s (a unix socket path is at most %zu bytes)", p->socket,
                            sizeof sun.sun_path - 1);
    return 0;
}

int cell_mkdirs(const char *path, mode_t mode, struct cell_err *err)
{
    return make_dirs(path, mode, err);
}

int cell_control_connect(const struct cell_paths *p, struct cell_err *err)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", p->socket);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return cell_err_set(err, errno, "celld: socket");
    if (connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
        int e = errno;
        close(fd);
        return cell_err_set(err, e, "celld: connect to %s", p->socket);
    }
    return fd;
}

int cell_control_send(int fd, json_t *msg, struct cell_err *err)
{
    char *text = json_dumps(msg, JSON_COMPACT);
    if (text == NULL)
        return cell_err_set(err, ENOMEM, "celld: encode a message");
    size_t len = strlen(text);
    text[len] = '\n'; /* json_dumps' NUL becomes the line end */
    int rc = write_all(fd, text, len + 1);
    int e = errno;
    free(text);
    if (rc < 0)
        return cell_err_set(err, e, "celld: send");
    return 0;
}

/* An answer can be far longer than a request (`cell status` of 1,000 cells
 * is about 330 KB), so it is read into a buffer that grows up to this. */
#define CONTROL_MAX_ANSWER (64 * 1024 * 1024)

/* The next line, read in chunks: each chunk is peeked, then consumed only
 * through the newline, so what follows it (the next event of `cell events`)
 * stays in the socket for the next call. */
json_t *cell_control_receive(int fd, struct cell_err *err)
{
    char *line = NULL;
    size_t n = 0, cap = 0;
    bool done = false;
    while (!done) {
        if (cap - n < 64 * 1024) {
            if (cap >= CONTROL_MAX_ANSWER) {
                cell_err_set(err, 0, "celld: an answer longer than %d bytes", CONTROL_MAX_ANSWER);
                goto fail;
            }
            size_t grown = cap ? cap * 2 : 64 * 1024;
            char *p = realloc(line, grown + 1);
            if (p == NULL) {
                cell_err_set(err, ENOMEM, "celld: receive");
                goto fail;
            }
            line = p;
            cap = grown;
        }
        ssize_t r = recv(fd, line + n, cap - n, MSG_PEEK);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            cell_err_set(err, errno, "celld: receive");
            goto fail;
        }
        if (r == 0) {
            cell_err_set(err, 0, "celld: the connection closed before an answer (see celld's log)");
            goto fail;
        }
        char *nl = memchr(line + n, '\n', (size_t)r);
        size_t take = nl ? (size_t)(nl - (line + n)) + 1 : (size_t)r;
        ssize_t got = read(fd, line + n, take);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            cell_err_set(err, errno, "celld: receive");
            goto fail;
        }
        n += (size_t)got;
        done = nl != NULL && (size_t)got == take;
    }
    line[n - 1] = '\0';
    json_error_t jerr;
    json_t *msg = json_loads(line, 0, &jerr);
    free(line);
    if (msg == NULL || !json_is_object(msg)) {
        json_decref(msg);
        cell_err_set(err, 0, "celld: an answer that is not a JSON object: %s", jerr.text);
        return NULL;
    }
    return msg;
fail:
    free(line);
    return NULL;
}

json_t *cell_control_call(int fd, json_t *request, struct cell_err *err)
{
    if (cell_control_send(fd, request, err) < 0)
        return NULL;
    json_t *answer = cell_control_receive(fd, err);
    if (answer == NULL)
        return NULL;
    if (!json_is_true(json_object_get(answer, "ok"))) {
        const char *why = json_string_value(json_object_get(answer, "error"));
        cell_err_set(err, 0, "%s", why ? why : "celld: request failed, no reason given");
        json_decref(answer);
        return NULL;
    }
    return answer;
}
