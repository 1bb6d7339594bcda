/* desired.h - desired state in Lua: the documents of the *.lua files in <root>/etc
 * (default /etc/cell), loaded in one sandboxed Lua 5.4 state
 * (src/lib/spec_lua.c). A `cell` document becomes the `cell run -d`
 * arguments of a supervised cell (what celld declares) and its validated
 * cell_spec; `volume` and `apply` documents are kept as read. Loading
 * changes nothing: it only reads and checks. Keys and actions: cell-spec(5). */
#ifndef CELL_DESIRED_H
#define CELL_DESIRED_H

#include "cell/cell.h"

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

struct cell_desired_cell {
    char *name;
    char *file; /* the .lua file and line of the document */
    int line;
    json_t *args; /* `cell run -d` arguments (array of strings) */
    struct cell_spec spec;
    bool autostart;
    json_t *depends_on; /* array of names */
    json_t *doc;        /* the document's fields, canonical (for drift hashes) */
};

struct cell_desired_volume {
    char *name;
    char *file;
    int line;
    unsigned mode; /* e.g. 0755 */
};

struct cell_desired_apply {
    char *name; /* the cell it applies to */
    char *file;
    int line;
    json_t *actions; /* [{"action": "file", "path": ..., ...}, ...] in order */
};

struct cell_desired {
    struct cell_desired_cell *cells;
    size_t ncells;
    struct cell_desired_volume *volumes;
    size_t nvolumes;
    struct cell_desired_apply *applies;
    size_t napplies;
};

struct cell_desired_opts {
    uint64_t instructions;   /* Lua VM instructions for all files together; 0: default (50 million) */
    size_t memory_bytes;     /* the Lua state's memory; 0: default (64 MiB) */
    const char *volumes_dir; /* where volume NAME lives (NAME below it); NULL: /var/lib/cell/volumes */
};

/* Load every *.lua of `dir`, in sorted order. 0, or -1 with err naming the
 * file, line, document and key path, and what is expected, e.g.
 * `web.lua:7: cell "web": create.reserved_ports: "80,x" is not a list of ports`. */
int cell_desired_load(const char *dir, const struct cell_desired_opts *opts, struct cell_desired *out,
                      struct cell_err *err);
/* The same for one chunk of text named `file` (tests, fuzzing). */
int cell_desired_load_text(const char *file, const char *text, size_t len, const struct cell_desired_opts *opts,
                           struct cell_desired *out, struct cell_err *err);
void cell_desired_free(struct cell_desired *d);
/* The cells in the order to start them: each after what it depends_on,
 * otherwise as declared. `order` has room for d->ncells indices. */
int cell_desired_order(const struct cell_desired *d, size_t *order);

/* What a cell's desired state hashes to (SHA-256, hex), for drift: see
 * src/lib/drift.c for what each covers. */
struct cell_desired_hashes {
    char service[65];  /* the running cell: command, mounts, limits, ... */
    char policy[65];   /* create: profile, reserved ports, rlimits */
    char manifest[65]; /* service and policy */
    char apply[65];    /* its apply actions and the files they read */
};
/* Hash cell `c` of `d`; relative action sources are read below `spec_dir`.
 * -1 with err (naming the action) when a source cannot be read. */
int cell_desired_hash(const struct cell_desired *d, const struct cell_desired_cell *c, const char *spec_dir,
                      struct cell_desired_hashes *out, struct cell_err *err);

#ifdef __cplusplus
}
#endif
#endif
