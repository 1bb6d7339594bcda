/* job_nats.h - where `cell job run --events-nats URL` sends the job's
 * CloudEvents: NATS JetStream, stream CELL_JOBS (subjects cell.jobs.>), the
 * subject cell.jobs.<id>.<started|completed|destroyed>, each event published
 * and its acknowledgement waited for before the job goes on. job_nats.c
 * (libnats), or job_nats_off.c when cell was built without libnats. */
#ifndef CELL_CLI_JOB_NATS_H
#define CELL_CLI_JOB_NATS_H

#include "cell/cell.h"

#include <stddef.h>

struct job_nats;

/* Connect to `url` (nats://HOST:PORT) and make sure of the stream; NULL
 * with err ("--events-nats URL: ...: what to do") when it cannot. */
struct job_nats *job_nats_open(const char *url, const char *job_id, struct cell_err *err);
/* cell_job_opts.event_sink (ctx: the struct job_nats): publish the event
 * `line` of `type` and wait for JetStream's acknowledgement; -1 with err. */
int job_nats_publish(void *ctx, const char *type, const char *line, size_t len, struct cell_err *err);
void job_nats_close(struct job_nats *n);

#endif
