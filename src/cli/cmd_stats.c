/* cmd_stats.c - `cell stats [-P] [NAME...]`: what the supervised cells use, from
 * celld's status; -P prints it as Prometheus text, made by the same formatter
 * (cell_metrics_format) as celld's GET /metrics, so the two are the same. */
#include "cli.h"
#include "cell/control.h"
#include "cell/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void cmd_stats_help(void)
{
    printf("usage: cell stats [-P] [NAME...]\n\n"
           "Show what the supervised cells (all, or the NAMEs) use: whether they run, their\n"
           "restarts, CPU time and resident memory of the running instance, processes,\n"
           "OOM kills over every instance, health, and when the instance started (UTC).\n"
           "  -P, --prometheus  the Prometheus text format (0.0.4), the same text celld\n"
           "                    serves at GET /metrics when started with --metrics ADDR:PORT\n"
           "                    (metric names: see cell(1))\n");
}

/* The cells' status from celld (the array its status op answers, a new
 * reference): all cells when `names` is empty, and then none when no celld
 * runs. NULL after printing the error (an unknown name, no celld). */
static json_t *status_cells(const struct cli_globals *g, json_t *names)
{
    struct cell_err err = {0};
    int fd = connect_celld(g, false, &err);
    if (fd < 0 && celld_absent(&err) && json_array_size(names) == 0) {
        json_decref(names);
        return json_array();
    }
    json_t *req = json_object();
    json_object_set_new(req, "op", json_string("status"));
    json_object_set_new(req, "names", names);
    json_t *answer = fd < 0 ? NULL : cell_control_call(fd, req, &err);
    json_decref(req);
    if (fd >= 0)
        close(fd);
    if (answer == NULL) {
        cli_error("%s", err.msg);
        return NULL;
    }
    json_t *cells = json_incref(json_object_get(answer, "cells"));
    json_decref(answer);
    return cells ? cells : json_array();
}

/* A field as text, "-" when the cell does not have it (not running). */
static void number_text(json_t *c, const char *field, char *out, size_t len)
{
    json_t *v = json_object_get(c, field);
    if (!json_is_integer(v))
        snprintf(out, len, "-");
    else if (strcmp(field, "cpu_usec") == 0)
        snprintf(out, len, "%.2fs", (double)json_integer_value(v) / 1e6);
    else if (strcmp(field, "memory_bytes") == 0)
        cell_format_size((uint64_t)json_integer_value(v), out, len);
    else if (strcmp(field, "start_time_ms") == 0) {
        time_t t = (time_t)(json_integer_value(v) / 1000);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
    } else
        snprintf(out, len, "%lld", (long long)json_integer_value(v));
}

static void print_table(json_t *cells)
{
    static const struct {
        const char *field, *header;
        int width;
    } cols[] = {
        {"name", "NAME", -20},
        {"up", "UP", 2},
        {"restarts", "RESTARTS", 8},
        {"cpu_usec", "CPU", 8},
        {"memory_bytes", "MEMORY", 8},
        {"procs", "PROCS", 5},
        {"oom_kills", "OOM", 4},
        {"health", "HEALTH", -9},
        {"start_time_ms", "STARTED", -20},
    };
    size_t n = sizeof cols / sizeof cols[0];
    for (size_t i = 0; i < n; i++)
        printf("%s%*s", i ? " " : "", i + 1 < n ? cols[i].width : 0, cols[i].header);
    printf("\n");
    size_t k;
    json_t *c;
    json_array_foreach(cells, k, c)
    {
        for (size_t i = 0; i < n; i++) {
            char text[64];
            const char *s = json_string_value(json_object_get(c, cols[i].field));
            if (s)
                snprintf(text, sizeof text, "%s", s);
            else
                number_text(c, cols[i].field, text, sizeof text);
            printf("%s%*s", i ? " " : "", i + 1 < n ? cols[i].width : 0, text);
        }
        printf("\n");
    }
}

int cmd_stats(int argc, char **argv, const struct cli_globals *g)
{
    bool prometheus = false;
    json_t *names = json_array();
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-P") == 0 || strcmp(argv[i], "--prometheus") == 0) {
            prometheus = true;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            json_decref(names);
            cmd_stats_help();
            return 0;
        } else if (argv[i][0] == '-') {
            json_decref(names);
            cli_error("stats: unknown option \"%s\" (see cell stats --help)", argv[i]);
            return 2;
        } else {
            json_array_append_new(names, json_string(argv[i]));
        }
    }
    json_t *cells = status_cells(g, names);
    if (cells == NULL)
        return 1;
    int rc = 0;
    if (prometheus) {
        struct cell_err err = {0};
        char *text = cell_metrics_format(cells, &err);
        if (text == NULL) {
            cli_error("stats: %s", err.msg);
            rc = 1;
        } else {
            fputs(text, stdout);
            free(text);
        }
    } else {
        print_table(cells);
    }
    json_decref(cells);
    return rc;
}
