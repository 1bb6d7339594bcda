/* main.c - `cellman`: the desired-state commands of cell (apply, up, list,
 * show, fields, status views, volume, backup, system). `cell COMMAND ...`
 * execs `cellman [--root DIR] [--debug] COMMAND ...` for these, so the
 * global options and the errors are the same as cell's. */
#include "cellman.h"
#include "celld_client.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct cm_command commands[] = {
    {"apply", cmd_apply, cmd_apply_help, "converge the host to the desired state (*.lua)"},
    {"up", cmd_up, cmd_up_help, "apply, then start every declared cell that is down"},
    {"list", cmd_list, cmd_list_help, "list the cells: desired, applied and running"},
    {"show", cmd_show, cmd_show_help, "show one cell, every field"},
    {"fields", cmd_fields, cmd_fields_help, "list the fields the views can show"},
    {"status", cmd_status, cmd_status_help, "the supervised cells, with the view options"},
    {"volume", cmd_volume, cmd_volume_help, "create, remove, list and show volumes"},
    {"backup", cmd_backup, cmd_backup_help, "back up and restore volumes and cell layers"},
    {"system", cmd_system, cmd_system_help, "system reset: remove every cell, volume and log"},
};

void cm_error(const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "cell: %s\n", msg);
}

static void usage(FILE *out)
{
    fprintf(out, "usage: cellman [--root DIR] [--config DIR] [--debug] COMMAND [ARGS...]\n"
                 "\n"
                 "The desired-state commands of cell; `cell COMMAND` runs them.\n"
                 "\n"
                 "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n"
                 "global options:\n"
                 "  --root DIR    keep every file under DIR (also CELL_ROOT): desired state\n"
                 "                in DIR/etc, cells, volumes and backups in DIR/data\n"
                 "  --config DIR  the desired-state directory (*.lua; default /etc/cell,\n"
                 "                or DIR/etc with --root; also CELL_CONFIG)\n"
                 "  --debug       print what it does\n");
}

static int setup_paths(struct cm *cm, const char *config, struct cell_err *err)
{
    if (cell_paths_init(cm->root, &cm->paths, err) < 0)
        return -1;
    if (desired_state_dir(cm->root, config, cm->config, sizeof cm->config) < 0 ||
        snprintf(cm->cells, sizeof cm->cells, "%s/cells", cm->paths.data) >= PATH_MAX ||
        snprintf(cm->volumes, sizeof cm->volumes, "%s/volumes", cm->paths.data) >= PATH_MAX ||
        snprintf(cm->backups, sizeof cm->backups, "%s/backups", cm->paths.data) >= PATH_MAX)
        return cell_err_set(err, ENAMETOOLONG, "paths under %s", cm->paths.data);
    return 0;
}

int main(int argc, char **argv)
{
    struct cm cm = {.root = getenv("CELL_ROOT")};
    const char *config = getenv("CELL_CONFIG");
    if (config && *config == '\0')
        config = NULL;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--debug") == 0) {
            cm.debug = true;
        } else if (option_value("--root", argc, argv, &i, &cm.root) ||
                   option_value("--config", argc, argv, &i, &config)) {
            continue;
        } else {
            cm_error("unknown option \"%s\" (see cell --help)", a);
            return CM_USAGE;
        }
    }
    if (cm.debug)
        cell_log_set_level(CELL_LOG_DEBUG);
    if (cm.root && cm.root[0] != '/') {
        cm_error("--root \"%s\": not an absolute path", cm.root);
        return CM_USAGE;
    }
    if (config && config[0] != '/') {
        cm_error("--config \"%s\": not an absolute path", config);
        return CM_USAGE;
    }
    if (i >= argc) {
        usage(stderr);
        return CM_USAGE;
    }
    struct cell_err err = {0};
    if (setup_paths(&cm, config, &err) < 0) {
        cm_error("%s", err.msg);
        return CM_FAILED;
    }
    for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++)
        if (strcmp(commands[k].name, argv[i]) == 0) {
            if (argc - i > 1 && (strcmp(argv[i + 1], "--help") == 0 || strcmp(argv[i + 1], "-h") == 0)) {
                commands[k].help();
                return 0;
            }
            return commands[k].run(argc - i, argv + i, &cm);
        }
    cm_error("unknown command \"%s\" (see cell help)", argv[i]);
    return CM_USAGE;
}
