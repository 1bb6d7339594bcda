/* log.c - libcell's only output: leveled messages on stderr. */
#include "cell/cell.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static enum cell_log_level current_level = CELL_LOG_WARN;

void cell_log_set_level(enum cell_log_level level)
{
    current_level = level;
}

void cell_log(enum cell_log_level level, const char *fmt, ...)
{
    if (level > current_level)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* one write, so lines from several processes do not interleave; debug
     * lines carry a monotonic timestamp and the pid, to follow a start */
    if (level == CELL_LOG_DEBUG) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        fprintf(stderr, "[%ld.%06ld %d] %s\n", (long)ts.tv_sec, ts.tv_nsec / 1000, (int)getpid(), line);
    } else {
        fprintf(stderr, "%s\n", line);
    }
}
