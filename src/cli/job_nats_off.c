/* job_nats_off.c - cell built without libnats: `cell job run --events-nats`
 * says so and runs nothing; --events and every other option work as usual. */
#include "job_nats.h"

struct job_nats *job_nats_open(const char *url, const char *job_id, struct cell_err *err)
{
    cell_err_set(err, 0, "--events-nats: cell was built without NATS support (install libnats-dev and rebuild)");
    return NULL;
}

int job_nats_publish(void *ctx, const char *type, const char *line, size_t len, struct cell_err *err)
{
    return cell_err_set(err, 0, "--events-nats: cell was built without NATS support (install libnats-dev and rebuild)");
}

void job_nats_close(struct job_nats *n)
{
}
