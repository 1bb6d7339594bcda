/* events_nats_off.c - celld built without libnats: --events-nats says so;
 * every other sink works as usual. */
#include "celld.h"

int events_nats_start(const char *url, bool required, struct cell_err *err)
{
    return cell_err_set(err, 0,
                        "events: --events-nats %s: this celld was built without NATS support (install libnats-dev "
                        "and rebuild)",
                        url);
}

bool events_nats_enabled(void)
{
    return false;
}

void events_nats_publish(const char *name, const char *type, const char *id, const char *event_json)
{
}

void events_nats_stop(void)
{
}
