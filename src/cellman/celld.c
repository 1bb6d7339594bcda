/* celld.c - cellman's requests to celld, through the `cell` command's
 * client code (src/cli/celld_client.c: finding, starting and connecting to
 * the celld of a root). */
#include "cellman.h"
#include "celld_client.h"

#include <unistd.h>

json_t *cm_celld_call(struct cm *cm, json_t *req, bool start, struct cell_err *err)
{
    struct cli_globals g = {.root = cm->root, .debug = cm->debug};
    int fd = connect_celld(&g, start, err);
    json_t *answer = fd < 0 ? NULL : cell_control_call(fd, req, err);
    if (fd >= 0)
        close(fd);
    json_decref(req);
    return answer;
}

json_t *cm_celld_status(struct cm *cm, bool *running, struct cell_err *err)
{
    struct cell_paths *p = &cm->paths;
    *running = false;
    int fd = cell_control_connect(p, err);
    if (fd < 0)
        return celld_absent(err) ? json_array() : NULL;
    json_t *req = request("status");
    json_t *answer = cell_control_call(fd, req, err);
    close(fd);
    json_decref(req);
    if (answer == NULL)
        return NULL;
    *running = true;
    json_t *cells = json_incref(json_object_get(answer, "cells"));
    json_decref(answer);
    return cells ? cells : json_array();
}
