/* request.h - a control-socket request, parsed and checked (request.c). */
#ifndef CELLD_REQUEST_H
#define CELLD_REQUEST_H

#include "cell/cell.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

enum request_op {
    OP_PING,
    OP_RUN,
    OP_STATUS,
    OP_START,
    OP_STOP,
    OP_RESTART,
    OP_DELETE,
    OP_SWAP,
    OP_EVENTS,
    OP_UP,
    OP_DOWN,
    OP_DECLARE,
    OP_JOB_SUBMIT,
};

struct request {
    enum request_op op;
    const char *name; /* start, stop, restart, delete, swap: a valid cell name */
    json_t *args;     /* run, declare: 1-4096 strings, the `cell run` arguments */
    json_t *names;    /* status: valid cell names, or NULL for all */
    /* job-submit: the document's text and the name it goes by in errors;
     * the options (export_dir, secrets_dir, egress_netns: absolute paths
     * or a name; oci_runtime), each NULL when not given */
    const char *document, *source;
    const char *export_dir, *secrets_dir, *egress_netns, *oci_runtime;
    json_t *json; /* the whole request; the fields above point into it */
};

/* Parse and check one request line. 0, or -1 with a one-line error (naming
 * the field and what it needs) in err. */
int request_parse(const char *line, struct request *req, char *err, size_t len);
void request_free(struct request *req);

#endif
