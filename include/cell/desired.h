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

#ifdef __cplusplus
}
#endif
#endif
