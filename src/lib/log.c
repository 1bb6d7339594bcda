/* log.c - libcell's only output: leveled messages on stderr. */
#include "cell/cell.h"

#include <stdarg.h>
#include <stdio.h>

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
    /* one write, so lines from several processes do not interleave */
    fprintf(stderr, "%s\n", line);
}
