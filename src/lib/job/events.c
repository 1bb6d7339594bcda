/* events.c - a job's CloudEvents 1.0 as JSON lines (--events FILE): one
 * object per line, appended with a single write() so that lines of jobs
 * sharing a file never interleave, each timed with format_utc_now() (util.c,
 * as celld's events are). Also the ids (random UUIDs) and the monotonic
 * milliseconds the runner puts in events and reports.
 * Events carry ids, outcomes and exit codes; never a secret's value. */
#include "job/internal.h"
#include "util.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

uint64_t job_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void job_uuid(char out[37])
{
    unsigned char b[16];
    size_t got = 0;
    while (got < sizeof b) { /* 16 bytes never block once the pool is up */
        ssize_t n = getrandom(b + got, sizeof b - got, 0);
        if (n > 0)
            got += (size_t)n;
        else if (errno != EINTR)
            break;
    }
    if (got < sizeof b) { /* no getrandom: still unique enough per host and time */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t mix[2] = {(uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec, (uint64_t)getpid()};
        memcpy(b, mix, sizeof b);
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3],
             b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

int job_events_emit(const struct cell_job_opts *opts, const char *type, json_t *data, struct cell_err *err)
{
    const char *path = opts->events_path;
    if (path == NULL && opts->event_sink == NULL) {
        json_decref(data);
        return 0;
    }
    char id[37], when[32];
    job_uuid(id);
    format_utc_now(when, sizeof when);
    json_t *event =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "specversion", "1.0", "id", id, "source", "cell/job", "type",
                  type, "time", when, "datacontenttype", "application/json", "data", data);
    char *line = event ? json_dumps(event, JSON_COMPACT) : NULL;
    json_decref(event);
    if (line == NULL)
        return cell_err_set(err, ENOMEM, "event %s", type);
    size_t len = strlen(line);
    if (opts->event_sink && opts->event_sink(opts->event_ctx, type, line, len, err) < 0) {
        free(line);
        return -1;
    }
    if (path == NULL) {
        free(line);
        return 0;
    }
    line[len] = '\n'; /* json_dumps' NUL becomes the newline: one write */
    cleanup_close int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
    ssize_t n = fd < 0 ? -1 : write(fd, line, len + 1);
    int e = errno;
    free(line);
    if (n != (ssize_t)(len + 1))
        return cell_err_set(err, n < 0 ? e : EIO, "event %s: append to %s", type, path);
    return 0;
}
