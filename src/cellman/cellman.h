/* cellman.h - what the desired-state commands share. `cellman` is the
 * program behind `cell apply`, `cell list|show|fields`, `cell volume`,
 * `cell backup` and `cell system` (the `cell` command execs it for them):
 * it links what the static `cell` binary does not need on its hot path
 * (Lua, libcrypto, libarchive).
 *
 * The files it keeps, under the data directory <data> (`--root R`: R/data,
 * else /var/lib/cell):
 *
 *   <data>/cells/NAME/           a cell's runtime directory, made by apply:
 *                                upper/ and work/ (its writable layer, the
 *                                sandbox's --layer), lower/ (empty), and
 *                                applied.json (what apply last did, below)
 *   <data>/volumes/NAME/         a volume, with its declared mode
 *   <data>/backups/cells/NAME_YYYYmmddHHMMSS.tar.gz     backups (backup.c) of
 *   <data>/backups/volumes/NAME_YYYYmmddHHMMSS.tar.gz   a cell's upper/, of a volume
 *
 * (<data>/cells/NAME.json, beside them, is celld's declaration: celld.h.)
 * The desired state is the *.lua files of <config>: --config DIR, else
 * R/etc with --root R, else /etc/cell. */
#ifndef CELLMAN_H
#define CELLMAN_H

#include "cell/cell.h"
#include "cell/control.h"
#include "cell/desired.h"

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>

struct cm {
    const char *root; /* --root or CELL_ROOT, or NULL */
    bool debug;
    struct cell_paths paths;
    char config[PATH_MAX];  /* the desired-state directory */
    char cells[PATH_MAX];   /* <data>/cells */
    char volumes[PATH_MAX]; /* <data>/volumes */
    char backups[PATH_MAX]; /* <data>/backups */
};

struct cm_command {
    const char *name;
    int (*run)(int argc, char **argv, struct cm *cm);
    void (*help)(void);
    const char *summary;
};

/* Exit codes of every command: 0 done, 1 failed, 2 bad usage; apply
 * --dry-run also 2 when it finds changes. */
enum { CM_OK = 0, CM_FAILED = 1, CM_USAGE = 2 };

/* Print "cell: MESSAGE" on stderr. */
void cm_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- the world: desired, applied and running state, side by side (world.c) -- */

enum cm_cell_state {
    CM_CELL_MANAGED,   /* declared, applied as declared, running as autostart says */
    CM_CELL_PARKED,    /* declared and applied, autostart off, not running */
    CM_CELL_PENDING,   /* declared and applied before, but something differs now */
    CM_CELL_DECLARED,  /* declared, never applied (no runtime directory) */
    CM_CELL_ORPHANED,  /* applied once (runtime directory), no longer declared */
    CM_CELL_UNMANAGED, /* known to celld (cell run -d by hand), never applied */
    CM_CELL_ABSENT,    /* asked for by name, but nowhere */
};
enum cm_volume_state {
    CM_VOLUME_MANAGED,  /* declared, present with the declared mode */
    CM_VOLUME_PENDING,  /* declared, missing or another mode */
    CM_VOLUME_ORPHANED, /* present, no longer declared */
    CM_VOLUME_ABSENT,
};

struct cm_cell {
    char name[64];
    const struct cell_desired_cell *desired; /* NULL: not declared */
    struct cell_desired_hashes hashes;       /* of the desired state (when declared) */
    json_t *applied;                         /* applied.json, or NULL */
    json_t *status;                          /* celld's status of it (cell_status_json), or NULL */
    bool runtime_dir;                        /* <data>/cells/NAME/ exists */
    bool running;                            /* celld has it running, starting or waiting */
    enum cm_cell_state state;
};

struct cm_volume {
    char name[64];
    const struct cell_desired_volume *desired; /* NULL: not declared */
    bool present;
    unsigned mode; /* on disk, when present */
    enum cm_volume_state state;
};

struct cm_world {
    struct cell_desired desired;
    bool celld_running;
    struct cm_cell *cells; /* declared ones in declaration order, then the others by name */
    size_t ncells;
    json_t *cell_index; /* name -> index in cells (a lookup per cell, not a scan) */
    struct cm_volume *volumes;
    size_t nvolumes;
};

enum {
    CM_WORLD_DESIRED = 1,      /* load the Lua files (an error is fatal) */
    CM_WORLD_RUNTIME = 2,      /* ask celld (when it runs; never starts it) */
    CM_WORLD_NO_CONFIG_OK = 4, /* a missing config directory is an empty desired state */
};
/* Load what `what` asks for. -1 with err. */
int world_load(struct cm *cm, unsigned what, struct cm_world *w, struct cell_err *err);
void world_free(struct cm_world *w);
struct cm_cell *world_cell(struct cm_world *w, const char *name);
struct cm_volume *world_volume(struct cm_world *w, const char *name);
const char *cm_cell_state_name(enum cm_cell_state s);
/* The state of cell `c` from what it holds (desired, hashes, applied,
 * runtime_dir, status, running); world_load() sets each cell's state with
 * it. Without `know_runtime` (celld was not asked) running against
 * autostart does not make a cell pending. */
enum cm_cell_state world_cell_state(const struct cm_cell *c, bool know_runtime);
const char *cm_volume_state_name(enum cm_volume_state s);
/* The final `cell run -d` arguments apply declares for a desired cell: its
 * own, plus --layer <data>/cells/NAME and a --bind for each volume mount.
 * A new reference. */
json_t *world_declaration(struct cm *cm, const struct cell_desired_cell *c);

/* ---- celld (celld_client.c of the cell command, shared) ----------------- */

/* One request to celld; NULL with err. `start`: start celld if needed. */
json_t *cm_celld_call(struct cm *cm, json_t *req, bool start, struct cell_err *err);
/* celld's status of every cell (array), or NULL with err; celld not
 * running is not an error: an empty array and *running = false. */
json_t *cm_celld_status(struct cm *cm, bool *running, struct cell_err *err);

/* ---- commands ----------------------------------------------------------- */

int cmd_apply(int argc, char **argv, struct cm *cm); /* apply.c */
void cmd_apply_help(void);
int cmd_up(int argc, char **argv, struct cm *cm); /* apply.c: apply, then celld's up */
void cmd_up_help(void);
int cmd_list(int argc, char **argv, struct cm *cm); /* views.c */
void cmd_list_help(void);
int cmd_show(int argc, char **argv, struct cm *cm);
void cmd_show_help(void);
int cmd_fields(int argc, char **argv, struct cm *cm);
void cmd_fields_help(void);
int cmd_status(int argc, char **argv, struct cm *cm); /* views.c: cell status with view options */
void cmd_status_help(void);
int cmd_volume(int argc, char **argv, struct cm *cm); /* volume.c: create, remove, list, show */
void cmd_volume_help(void);
int cmd_backup(int argc, char **argv, struct cm *cm); /* backup.c */
void cmd_backup_help(void);
int cmd_system(int argc, char **argv, struct cm *cm); /* system.c: reset */
void cmd_system_help(void);

/* volume.c: make volume NAME's directory with `mode` (or fix its mode). */
int volume_ensure(struct cm *cm, const char *name, unsigned mode, struct cell_err *err);
/* volume.c: how many cells celld has running (or starting, stopping,
 * waiting, in backoff) that are named `cell` (when not NULL) or whose
 * --layer or a --bind source overlaps `path` (when not NULL: is it, is
 * inside it, or holds it); their names, comma-separated, in `names`. -1 with
 * err when celld cannot be asked. A celld that is not running: 0, unless it
 * ended with cells up (cm_cells_may_run): then it is started to tell. */
int cm_running_users(struct cm *cm, const char *cell, const char *path, char *names, size_t len, struct cell_err *err);

/* system.c: rm -rf `path` without following a symlink or entering anything
 * mounted inside (a mount below it is an error, found before anything is
 * removed). `keep_root`: empty it, keep the directory (which may itself be
 * a mount point). A missing path is not an error. */
int cm_remove_tree(const char *path, bool keep_root, struct cell_err *err);
/* system.c: whether <run>/cells holds a cell's runtime state: a cell celld
 * had up when it ended (killed), perhaps still running without it. */
bool cm_cells_may_run(struct cm *cm);
/* system.c: -1 with err naming the mount point when something is mounted
 * at `path` or below it (`below_only`: strictly below it). */
int cm_check_no_mounts(const char *path, bool below_only, struct cell_err *err);
/* views.c: `cell volume list` and `cell volume show NAME` (argv[0] is
 * "list" or "show"), with the view options */
int views_volume_list(int argc, char **argv, struct cm *cm);
int views_volume_show(int argc, char **argv, struct cm *cm);

#endif
