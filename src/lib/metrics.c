/* metrics.c - celld's status as Prometheus text (exposition format 0.0.4):
 * one table of metric families, each read from one field of the cell status
 * objects; the one formatter behind celld's GET /metrics and `cell stats -P`
 * (see cell/metrics.h). */
#include "cell/metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct family {
    const char *name;
    const char *type;
    const char *help;
    const char *field; /* in the status object */
    int64_t per_unit;  /* the field counts 1/per_unit of the metric's unit */
};

static const struct family families[] = {
    {"cell_up", "gauge", "Whether the cell is running (1) or not (0).", "up", 1},
    {"cell_restarts_total", "counter", "Times celld started the cell again after it ended or failed its health checks.",
     "restarts", 1},
    {"cell_cpu_seconds_total", "counter", "CPU time used by the processes of the cell's running instance.", "cpu_usec",
     1000000},
    {"cell_memory_bytes", "gauge", "Resident memory of the cell's live processes.", "memory_bytes", 1},
    {"cell_processes", "gauge", "Processes in the cell.", "procs", 1},
    {"cell_health_status", "gauge",
     "The cell's health check: 1 healthy, 0 unhealthy, -1 starting (no result yet); no sample without --health.",
     "health_status", 1},
    {"cell_start_time_seconds", "gauge", "When the cell's running instance started, in seconds since the Unix epoch.",
     "start_time_ms", 1000},
    {"cell_oom_kills_total", "counter", "Processes of the cell the kernel killed for running out of memory.",
     "oom_kills", 1},
};

/* A label value: backslash, double quote and newline escaped. */
static void put_label_value(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\')
            fputs("\\\\", out);
        else if (*s == '"')
            fputs("\\\"", out);
        else if (*s == '\n')
            fputs("\\n", out);
        else
            fputc(*s, out);
    }
}

/* An integer count of 1/per_unit units as an exact decimal: 1500000 usec is
 * "1.5", 250 ms is "0.25". */
static void put_scaled(FILE *out, json_int_t v, int64_t per_unit)
{
    if (per_unit == 1) {
        fprintf(out, "%" PRId64, (int64_t)v);
        return;
    }
    uint64_t mag = v < 0 ? -(uint64_t)v : (uint64_t)v;
    char frac[24];
    int digits = 0;
    for (int64_t p = per_unit; p > 1; p /= 10)
        digits++;
    snprintf(frac, sizeof frac, "%0*" PRIu64, digits, mag % (uint64_t)per_unit);
    size_t n = strlen(frac);
    while (n > 0 && frac[n - 1] == '0')
        frac[--n] = '\0';
    fprintf(out, "%s%" PRIu64 "%s%s", v < 0 ? "-" : "", mag / (uint64_t)per_unit, n ? "." : "", frac);
}

static void put_family(FILE *out, const struct family *f, const json_t *cells)
{
    fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name, f->type);
    size_t i;
    const json_t *c;
    json_array_foreach(cells, i, c)
    {
        const char *name = json_string_value(json_object_get(c, "name"));
        const json_t *v = json_object_get(c, f->field);
        if (name == NULL || !json_is_number(v))
            continue;
        fprintf(out, "%s{cell=\"", f->name);
        put_label_value(out, name);
        fputs("\"} ", out);
        if (json_is_integer(v))
            put_scaled(out, json_integer_value(v), f->per_unit);
        else
            fprintf(out, "%.17g", json_real_value(v) / (double)f->per_unit);
        fputc('\n', out);
    }
}

char *cell_metrics_format(const json_t *cells, struct cell_err *err)
{
    if (!json_is_array(cells)) {
        cell_err_set(err, 0, "metrics: the cells are not a JSON array");
        return NULL;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    if (out == NULL) {
        cell_err_set(err, errno, "metrics");
        return NULL;
    }
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++)
        put_family(out, &families[i], cells);
    bool failed = ferror(out);
    if (fclose(out) != 0 || failed) {
        free(text);
        cell_err_set(err, ENOMEM, "metrics");
        return NULL;
    }
    return text;
}
