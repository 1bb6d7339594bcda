/* logs.c - a cell's stdout and stderr. celld holds both pipes for the cell's
 * whole declared life, so a restart loses no line; each line goes to the
 * cell's log file <data>/logs/NAME.log as "TIME stdout: LINE", split at 511
 * bytes. At 1 MiB the file is rotated to NAME.log.1 (one old file kept).
 * With --syslog each line also goes to syslog ($CELL_SYSLOG_SOCKET, default
 * /dev/log) as "TAG: cell=NAME stdout: LINE", at the cell's facility and
 * the stream's level. */
#include "celld.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define LOG_ROTATE_BYTES (1024 * 1024)

static const char *const stream_names[2] = {"stdout", "stderr"};

static int open_log_file(struct cell *c, struct cell_err *err)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s.log", celld.paths.logs, c->name);
    c->log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (c->log_fd < 0)
        return cell_err_set(err, errno, "cell %s: open log %s", c->name, path);
    return 0;
}

int logs_open(struct cell *c, struct cell_err *err)
{
    c->log_fd = -1;
    for (int s = 0; s < 2; s++)
        c->log_pipe[s][0] = c->log_pipe[s][1] = -1;
    if (open_log_file(c, err) < 0)
        return -1;
    for (int s = 0; s < 2; s++) {
        if (pipe2(c->log_pipe[s], O_CLOEXEC) < 0) {
            cell_err_set(err, errno, "cell %s: log pipe", c->name);
            logs_close(c);
            return -1;
        }
        fcntl(c->log_pipe[s][0], F_SETFL, O_NONBLOCK);
        c->log_watch[s] = (struct watch){.kind = W_LOG, .owner = c, .stream = s};
        watch_add(c->log_pipe[s][0], &c->log_watch[s]);
    }
    return 0;
}

void logs_adopt(struct cell *c, const int read_end[2], const int write_end[2])
{
    for (int s = 0; s < 2; s++) {
        watch_del(c->log_pipe[s][0]);
        close(c->log_pipe[s][0]);
        close(c->log_pipe[s][1]);
        c->log_pipe[s][0] = read_end[s];
        c->log_pipe[s][1] = write_end[s];
        fcntl(read_end[s], F_SETFL, O_NONBLOCK);
        watch_add(read_end[s], &c->log_watch[s]);
    }
}

static void rotate_if_big(struct cell *c)
{
    off_t size = lseek(c->log_fd, 0, SEEK_END);
    if (size < LOG_ROTATE_BYTES)
        return;
    char path[PATH_MAX], old[PATH_MAX + 8];
    snprintf(path, sizeof path, "%s/%s.log", celld.paths.logs, c->name);
    snprintf(old, sizeof old, "%s.1", path);
    rename(path, old);
    close(c->log_fd);
    struct cell_err err;
    if (open_log_file(c, &err) < 0)
        cell_log(CELL_LOG_WARN, "celld: %s", err.msg);
}

/* One datagram per line to the local syslog socket (RFC 3164 framing). A
 * missing or full socket loses the syslog copy, never the log file's. */
static void syslog_line(struct cell *c, int stream, const char *line, size_t len)
{
    static int fd = -1;
    static bool warned;
    if (fd < 0) {
        const char *path = getenv("CELL_SYSLOG_SOCKET");
        struct sockaddr_un sun = {.sun_family = AF_UNIX};
        snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path && path[0] ? path : "/dev/log");
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
            if (!warned)
                cell_log(CELL_LOG_WARN, "celld: syslog %s: %s (lines stay in the log files)", sun.sun_path,
                         strerror(errno));
            warned = true;
            close(fd);
            fd = -1;
            return;
        }
    }
    const struct cell_supervision *s = &c->spec.supervise;
    int pri = s->syslog_facility | (stream == 0 ? s->syslog_stdout_level : s->syslog_stderr_level);
    char stamp[32], msg[LOG_LINE_MAX + 160];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%b %e %H:%M:%S", &tm);
    int n = snprintf(msg, sizeof msg, "<%d>%s %s: cell=%s %s: %.*s", pri, stamp, s->syslog_tag ? s->syslog_tag : "cell",
                     c->name, stream_names[stream], (int)len, line);
    if (n > 0 && send(fd, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1, MSG_NOSIGNAL) < 0 &&
        errno != EAGAIN) {
        close(fd); /* reconnect next time (syslogd restarted?) */
        fd = -1;
    }
}

static void write_line(struct cell *c, int stream, const char *line, size_t len)
{
    if (c->spec.supervise.syslog)
        syslog_line(c, stream, line, len);
    if (c->log_fd < 0)
        return;
    char stamp[40];
    format_utc_now(stamp, sizeof stamp);
    char out[LOG_LINE_MAX + 64];
    int n = snprintf(out, sizeof out, "%s %s: %.*s\n", stamp, stream_names[stream], (int)len, line);
    if (n > 0)
        (void)!write(c->log_fd, out, (size_t)n < sizeof out ? (size_t)n : sizeof out - 1);
    rotate_if_big(c);
}

void logs_readable(struct cell *c, int stream)
{
    if (c->dead)
        return;
    char chunk[4096];
    ssize_t n = read(c->log_pipe[stream][0], chunk, sizeof chunk);
    if (n <= 0)
        return;
    char *buf = c->log_buf[stream];
    size_t *len = &c->log_len[stream];
    for (ssize_t i = 0; i < n; i++) {
        if (chunk[i] == '\n') {
            write_line(c, stream, buf, *len);
            *len = 0;
        } else {
            buf[(*len)++] = chunk[i];
            if (*len == LOG_LINE_MAX) { /* split long lines */
                write_line(c, stream, buf, *len);
                *len = 0;
            }
        }
    }
}

void logs_close(struct cell *c)
{
    for (int s = 0; s < 2; s++) {
        if (c->log_pipe[s][0] >= 0) {
            logs_readable(c, s); /* what is still in the pipe */
            if (c->log_len[s])
                write_line(c, s, c->log_buf[s], c->log_len[s]);
            watch_del(c->log_pipe[s][0]);
            close(c->log_pipe[s][0]);
        }
        if (c->log_pipe[s][1] >= 0)
            close(c->log_pipe[s][1]);
        c->log_pipe[s][0] = c->log_pipe[s][1] = -1;
    }
    if (c->log_fd >= 0)
        close(c->log_fd);
    c->log_fd = -1;
}
