/* metrics_http.c - celld's Prometheus endpoint (--metrics ADDR:PORT, off by
 * default): GET /metrics answers the text cell_metrics_format() makes of every
 * cell's status, the same text `cell stats -P` prints. libmicrohttpd runs
 * inside celld's one thread: in its external epoll mode (no thread of its
 * own), its epoll fd is one more fd in celld's loop, MHD_run() is called when
 * it is readable, and MHD's timeout bounds celld's epoll_wait. celld binds the
 * socket itself, so a bad or busy address fails with a message naming it. */
#include "celld.h"
#include "cell/metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct MHD_Daemon *mhd;
static struct watch metrics_watch = {.kind = W_METRICS};
static bool run_due; /* MHD asked to be run after this wait */

/* "127.0.0.1:9100" or "[::1]:9100": numeric only, no name lookups in celld */
static int parse_address(const char *text, struct sockaddr_storage *ss, socklen_t *len, struct cell_err *err)
{
    char host[64];
    const char *colon = strrchr(text, ':');
    size_t hlen = colon ? (size_t)(colon - text) : 0;
    bool v6 = hlen >= 2 && text[0] == '[' && text[hlen - 1] == ']';
    if (colon == NULL || hlen == 0 || hlen >= sizeof host)
        goto bad;
    snprintf(host, sizeof host, "%.*s", (int)(v6 ? hlen - 2 : hlen), v6 ? text + 1 : text);
    char *end;
    errno = 0;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (colon[1] < '0' || colon[1] > '9' || *end || errno || port == 0 || port > 65535)
        goto bad;
    memset(ss, 0, sizeof *ss);
    if (v6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
            goto bad;
        *len = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)ss;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
            goto bad;
        *len = sizeof *a;
    }
    return 0;
bad:
    return cell_err_set(err, 0,
                        "--metrics \"%s\": expected ADDR:PORT, a numeric IPv4 address or [IPv6] and a port "
                        "1-65535 (e.g. 127.0.0.1:9100)",
                        text);
}

int metrics_check_address(const char *text, struct cell_err *err)
{
    struct sockaddr_storage ss;
    socklen_t len;
    return parse_address(text, &ss, &len, err);
}

static enum MHD_Result answer(struct MHD_Connection *conn, unsigned code, const char *type, char *body)
{
    if (body == NULL)
        return MHD_NO; /* out of memory: MHD drops the connection */
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    enum MHD_Result rc = MHD_queue_response(conn, code, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_size, void **state)
{
    (void)cls, (void)version, (void)upload_data;
    /* called first with the headers: answer only once the whole request is
     * in, or MHD closes the connection after the answer (no keep-alive) */
    static int request_seen;
    if (*state == NULL) {
        *state = &request_seen;
        return MHD_YES;
    }
    if (*upload_size) { /* a body nobody asked for */
        *upload_size = 0;
        return MHD_YES;
    }
    const char *plain = "text/plain; charset=utf-8";
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return answer(conn, MHD_HTTP_METHOD_NOT_ALLOWED, plain, strdup("only GET and HEAD\n"));
    if (strcmp(url, "/metrics") != 0)
        return answer(conn, MHD_HTTP_NOT_FOUND, plain, strdup("not found: the metrics are at /metrics\n"));
    json_t *cells = json_array();
    for (struct cell *c = celld.cells; c; c = c->next)
        json_array_append_new(cells, cell_status_json(c));
    struct cell_err err = {0};
    char *text = cell_metrics_format(cells, &err);
    json_decref(cells);
    if (text == NULL) {
        cell_log(CELL_LOG_WARN, "celld: %s", err.msg);
        return answer(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, plain, strdup("celld could not make the metrics\n"));
    }
    return answer(conn, MHD_HTTP_OK, CELL_METRICS_CONTENT_TYPE, text);
}

static void on_mhd_error(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    cell_log(CELL_LOG_WARN, "celld: metrics: %s", msg);
}

int metrics_listen(const char *address, struct cell_err *err)
{
    struct sockaddr_storage ss;
    socklen_t len;
    if (parse_address(address, &ss, &len, err) < 0)
        return -1;
    int one = 1;
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return cell_err_set(err, errno, "--metrics %s: socket", address);
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 || bind(fd, (struct sockaddr *)&ss, len) < 0 ||
        listen(fd, 64) < 0) {
        cell_err_set(err, errno, "--metrics %s: cannot listen there", address);
        close(fd);
        return -1;
    }
    /* MHD_USE_EPOLL without MHD_USE_INTERNAL_POLLING_THREAD: MHD starts no
     * thread; it is driven from celld's loop through its epoll fd */
    mhd =
        MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, NULL, MHD_OPTION_EXTERNAL_LOGGER,
                         on_mhd_error, NULL, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT, (unsigned)16,
                         MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_END);
    const union MHD_DaemonInfo *info = mhd ? MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
    if (info == NULL || watch_add(info->epoll_fd, &metrics_watch) < 0) {
        cell_err_set(err, errno, "--metrics %s: start the HTTP server", address);
        if (mhd)
            MHD_stop_daemon(mhd); /* closes fd */
        else
            close(fd);
        mhd = NULL;
        return -1;
    }
    cell_log(CELL_LOG_INFO, "celld: metrics at http://%s/metrics", address);
    return 0;
}

int metrics_timeout_ms(void)
{
    MHD_UNSIGNED_LONG_LONG ms;
    run_due = false;
    if (mhd == NULL || MHD_get_timeout(mhd, &ms) != MHD_YES)
        return -1;
    run_due = true; /* MHD_run() right after the wait, whatever woke it */
    return ms > 60000 ? 60000 : (int)ms;
}

void metrics_readable(void)
{
    run_due = true;
}

void metrics_run(void)
{
    if (mhd && run_due)
        MHD_run(mhd);
    run_due = false;
}

void metrics_stop(void)
{
    if (mhd == NULL)
        return;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_EPOLL_FD);
    if (info)
        watch_del(info->epoll_fd);
    MHD_stop_daemon(mhd);
    mhd = NULL;
}
