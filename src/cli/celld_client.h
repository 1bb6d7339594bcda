/* celld_client.h - what the commands that talk to celld share
 * (celld_client.c): used by the `cell` command and by cellman. */
#ifndef CELL_CELLD_CLIENT_H
#define CELL_CELLD_CLIENT_H

#include "cell/cell.h"
#include "cell/control.h"

struct cli_globals {
    const char *root;   /* --root or CELL_ROOT */
    const char *config; /* --config or CELL_CONFIG: the desired-state directory (cellman's) */
    bool debug;
};

/* A connection to celld for this root, or -1; starts celld when `start` and
 * it is not running. Without `start`, a missing celld is an error that says
 * so (and celld_absent() is true of it). */
int connect_celld(const struct cli_globals *g, bool start, struct cell_err *err);
/* connect_celld failed because no celld serves the root (not for another reason) */
bool celld_absent(const struct cell_err *err);
/* {"op": OP}, to add fields to */
json_t *request(const char *op);
/* Send `req` (taken over) to celld (started first when `start`): the answer,
 * or NULL when there is none or it is an error (said on stderr). */
json_t *celld_call(const struct cli_globals *g, json_t *req, bool start);
/* The last lines of a cell's log file (<data>/logs/NAME.log), oldest first,
 * each with its newline. */
struct log_tail {
    char **lines;
    size_t count;
};
int log_tail_read(const struct cli_globals *g, const char *name, size_t max, struct log_tail *t, struct cell_err *err);
void log_tail_free(struct log_tail *t);

/* Where the desired state (*.lua) is: `config` (--config, CELL_CONFIG),
 * else ROOT/etc with --root, else /etc/cell. 0, or -1 when it does not fit. */
int desired_state_dir(const char *root, const char *config, char *out, size_t len);
/* A global option with a value, "--NAME VALUE" or "--NAME=VALUE", at
 * argv[*i]: true with *value set (and *i past it), false when it is not one. */
bool option_value(const char *name, int argc, char **argv, int *i, const char **value);

#endif
