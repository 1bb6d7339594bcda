/* control.h - where cell keeps its files, and celld's control protocol: one
 * JSON object per line (jansson) over the unix stream socket
 * <run>/celld.sock. A request is {"op": NAME, ...}; the answer is
 * {"ok": true, ...} or {"ok": false, "error": "one clear line"}. */
#ifndef CELL_CONTROL_H
#define CELL_CONTROL_H

#include "cell/cell.h"

#include <jansson.h>
#include <limits.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A request line may not be longer than this (an answer may: up to 64 MiB). */
#define CELL_CONTROL_MAX_LINE (256 * 1024)

struct cell_paths {
    char run[PATH_MAX];    /* runtime state: /run/cell, or ROOT/run */
    char data[PATH_MAX];   /* persistent state: /var/lib/cell, or ROOT/data */
    char socket[PATH_MAX]; /* run/celld.sock */
    char lock[PATH_MAX];   /* run/celld.lock: one celld per root */
    char logs[PATH_MAX];   /* data/logs: the cells' log files */
};

/* The paths under `root` (--root / CELL_ROOT), or the defaults: for root
 * /run/cell and /var/lib/cell, for others $XDG_RUNTIME_DIR/cell and
 * $XDG_DATA_HOME/cell. */
int cell_paths_init(const char *root, struct cell_paths *p, struct cell_err *err);
/* mkdir -p */
int cell_mkdirs(const char *path, mode_t mode, struct cell_err *err);

/* A connection to celld, or -1 (errnum ENOENT/ECONNREFUSED: celld is not
 * running). */
int cell_control_connect(const struct cell_paths *p, struct cell_err *err);
int cell_control_send(int fd, json_t *msg, struct cell_err *err);
/* The next line as a JSON object (new reference), or NULL. */
json_t *cell_control_receive(int fd, struct cell_err *err);
/* Send, receive; NULL with err set to celld's "error" when it said no. */
json_t *cell_control_call(int fd, json_t *request, struct cell_err *err);

#ifdef __cplusplus
}
#endif
#endif
