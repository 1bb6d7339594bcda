/* cli.h - what the `cell` command's files share: the command table entry
 * type, global options, and the one place errors are printed. */
#ifndef CELL_CLI_H
#define CELL_CLI_H

#include "cell/cell.h"

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

/* Parse `cell run` options into spec (everything before "--" or the first
 * non-option). Returns the index of the command's first word, 0 when --help
 * was asked for, or -1 with err filled in. */
int options_parse_run(int argc, char **argv, struct cell_spec *spec, struct cell_err *err);

/* Print "cell: MESSAGE" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
