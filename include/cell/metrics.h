/* metrics.h - the supervised cells as Prometheus metrics: one formatter that
 * turns celld's status (the array of cell objects its "status" op answers)
 * into the Prometheus text exposition format 0.0.4. celld serves it over HTTP
 * (--metrics ADDR:PORT, GET /metrics) and `cell stats -P` prints it, so both
 * give the same text. */
#ifndef CELL_METRICS_H
#define CELL_METRICS_H

#include "cell/cell.h"

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The Content-Type of the text cell_metrics_format() makes. */
#define CELL_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* The metrics of `cells`, a JSON array of cell status objects, as a
 * NUL-terminated string (free() it), or NULL with err set when `cells` is not
 * an array or memory ran out.
 *
 * Every family gets its # HELP and # TYPE lines, even without samples, and one
 * sample per cell labelled cell="NAME" (the value escaped as the format says),
 * in the order of `cells`. Which status field each family reads:
 *
 *   cell_up                  gauge    up             1 running, 0 not
 *   cell_restarts_total      counter  restarts
 *   cell_cpu_seconds_total   counter  cpu_usec       of the running instance
 *   cell_memory_bytes        gauge    memory_bytes   resident, live processes
 *   cell_processes           gauge    procs
 *   cell_health_status       gauge    health_status  1 healthy, 0 unhealthy,
 *                                                    -1 starting (no result yet)
 *   cell_start_time_seconds  gauge    start_time_ms  wall clock, Unix epoch
 *   cell_oom_kills_total     counter  oom_kills      over every instance
 *
 * A cell whose field is missing (not running: no cpu, memory, processes or
 * start time; no --health: no health status) or not a number gets no sample
 * in that family; an element that is not an object with a string "name" is
 * skipped. */
char *cell_metrics_format(const json_t *cells, struct cell_err *err);

#ifdef __cplusplus
}
#endif
#endif
