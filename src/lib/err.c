/* err.c - error values: fill and prefix `struct cell_err`. */
#include "cell/cell.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int cell_err_set(struct cell_err *err, int errnum, const char *fmt, ...)
{
    if (err == NULL)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if (errnum != 0 && (size_t)n < sizeof err->msg)
        snprintf(err->msg + n, sizeof err->msg - n, ": %s", strerror(errnum));
    err->errnum = errnum;
    return -1;
}

int cell_err_prefix(struct cell_err *err, const char *fmt, ...)
{
    if (err == NULL)
        return -1;
    char prefix[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    char old[sizeof err->msg];
    memcpy(old, err->msg, sizeof old);
    size_t n = strlen(prefix);
    if (n >= sizeof err->msg)
        n = sizeof err->msg - 1;
    memcpy(err->msg, prefix, n);
    snprintf(err->msg + n, sizeof err->msg - n, "%.*s", (int)(sizeof err->msg - 1), old);
    return -1;
}
