/* cli.h - what the `cell` command's files share: the command table entry
 * type, global options, and the one place errors are printed. */
#ifndef CELL_CLI_H
#define CELL_CLI_H

#include "cell/cell.h"
#include "cell/control.h"

struct cli_globals {
    const char *root; /* --root or CELL_ROOT */
    bool debug;
};

struct cli_command {
    const char *name;
    int (*run)(int argc, char **argv, const struct cli_globals *g);
    void (*help)(void);
    const char *summary;
};

int cmd_run(int argc, char **argv, const struct cli_globals *g);
void cmd_run_help(void);
/* cmd_cells.c: the supervised cells, through celld */
int cmd_run_detached(int argc, char **argv, int first, const struct cli_globals *g);
int cmd_status(int argc, char **argv, const struct cli_globals *g);
void cmd_status_help(void);
int cmd_start(int argc, char **argv, const struct cli_globals *g);
void cmd_start_help(void);
int cmd_stop(int argc, char **argv, const struct cli_globals *g);
void cmd_stop_help(void);
int cmd_restart(int argc, char **argv, const struct cli_globals *g);
void cmd_restart_help(void);
int cmd_delete(int argc, char **argv, const struct cli_globals *g);
void cmd_delete_help(void);
int cmd_exec(int argc, char **argv, const struct cli_globals *g);
void cmd_exec_help(void);
int cmd_events(int argc, char **argv, const struct cli_globals *g);
void cmd_events_help(void);
int cmd_swap(int argc, char **argv, const struct cli_globals *g);
void cmd_swap_help(void);
int cmd_up(int argc, char **argv, const struct cli_globals *g);
void cmd_up_help(void);
int cmd_down(int argc, char **argv, const struct cli_globals *g);
void cmd_down_help(void);
int cmd_logs(int argc, char **argv, const struct cli_globals *g);
void cmd_logs_help(void);
/* cmd_stats.c */
int cmd_stats(int argc, char **argv, const struct cli_globals *g);
void cmd_stats_help(void);
/* cmd_top.c: a live view of the supervised cells */
int cmd_top(int argc, char **argv, const struct cli_globals *g);
void cmd_top_help(void);

/* celld_client.c: what the commands that talk to celld share */
/* A connection to celld for this root, or -1; starts celld when `start` and
 * it is not running. Without `start`, a missing celld is an error that says
 * so (and celld_absent() is true of it). */
int connect_celld(const struct cli_globals *g, bool start, struct cell_err *err);
/* connect_celld failed because no celld serves the root (not for another reason) */
bool celld_absent(const struct cell_err *err);
/* {"op": OP}, to add fields to */
json_t *request(const char *op);
/* The last lines of a cell's log file (<data>/logs/NAME.log), oldest first,
 * each with its newline. */
struct log_tail {
    char **lines;
    size_t count;
};
int log_tail_read(const struct cli_globals *g, const char *name, size_t max, struct log_tail *t, struct cell_err *err);
void log_tail_free(struct log_tail *t);

/* Print "cell: MESSAGE" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
