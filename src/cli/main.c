/* main.c - the `cell` command: global options, then one table that maps
 * each command name to its function and help (as git.c does). */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int cmd_help(int argc, char **argv, const struct cli_globals *g);
static void cmd_help_help(void);

static const struct cli_command commands[] = {
    {"run", cmd_run, cmd_run_help, "run a command in a new cell (-d: supervised by celld)"},
    {"job", cmd_job, cmd_job_help, "run a CellOS ExecutionCell document (JSON) to completion, or hand it to celld"},
    {"bundle", cmd_bundle, cmd_bundle_help, "write an OCI bundle for runc or crun (runsc: run --backend oci)"},
    {"status", cmd_status, cmd_status_help, "show the supervised cells"},
    {"start", cmd_start, cmd_start_help, "start stopped supervised cells"},
    {"stop", cmd_stop, cmd_stop_help, "stop supervised cells"},
    {"restart", cmd_restart, cmd_restart_help, "stop, then start supervised cells"},
    {"delete", cmd_delete, cmd_delete_help, "stop and forget supervised cells"},
    {"rm", cmd_delete, cmd_delete_help, "the same as delete"},
    {"exec", cmd_exec, cmd_exec_help, "run a command inside a running supervised cell"},
    {"swap", cmd_swap, cmd_swap_help, "replace a --listen cell without dropping a connection"},
    {"events", cmd_events, cmd_events_help, "follow what happens to the supervised cells"},
    {"logs", cmd_logs, cmd_logs_help, "show a supervised cell's output"},
    {"stats", cmd_stats, cmd_stats_help, "what supervised cells use; -P: as Prometheus metrics"},
    {"top", cmd_top, cmd_top_help, "a live view of the supervised cells (ncurses)"},
    {"up", cmd_up, cmd_up_help, "start celld and every declared cell that is down"},
    {"down", cmd_down, cmd_down_help, "stop every supervised cell, then celld (they stay declared)"},
    {"create", cmd_create, cmd_create_help, "OCI: create container ID from a bundle; it waits for start"},
    {"state", cmd_state, cmd_state_help, "OCI: the state of container ID, as JSON"},
    {"kill", oci_kill, cmd_kill_help, "OCI: send a signal to container ID"},
    {"ps", cmd_ps, cmd_ps_help, "OCI: the processes of container ID"},
    {"pause", cmd_pause, cmd_pause_help, "OCI: freeze container ID"},
    {"resume", cmd_resume, cmd_pause_help, "OCI: thaw container ID"},
    {"update", cmd_update, cmd_update_help, "OCI: new limits for container ID"},
    {"spec", cmd_spec, cmd_spec_help, "OCI: write a default config.json"},
    {"features", cmd_features, cmd_features_help, "OCI: what this runtime supports, as JSON"},
    {"apply", NULL, NULL, "converge the host to the desired state (*.lua files)"},
    {"list", NULL, NULL, "list the cells: desired, applied and running"},
    {"show", NULL, NULL, "show one cell, every field"},
    {"fields", NULL, NULL, "list the fields of the views (list, show, status --view)"},
    {"volume", NULL, NULL, "create, remove, list and show volumes"},
    {"backup", NULL, NULL, "back up and restore volumes and cell layers"},
    {"system", NULL, NULL, "system reset: remove every cell, volume and log"},
    {"help", cmd_help, cmd_help_help, "show help for cell or one of its commands"},
};

/* The desired-state commands (run == NULL above) live in cellman, next to
 * this binary: it links Lua, libcrypto and libarchive, which `cell run`
 * has no use for. Exec it with the same global options. */
static int exec_cellman(int argc, char **argv, const struct cli_globals *g)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    char *slash = n > 0 ? memrchr(exe, '/', (size_t)n) : NULL;
    if (slash == NULL || (size_t)(slash - exe) + sizeof "/cellman" > sizeof exe) {
        cli_error("%s: cannot find cellman next to cell", argv[0]);
        return 1;
    }
    strcpy(slash, "/cellman");
    char **args = calloc((size_t)argc + 6, sizeof *args);
    if (args == NULL) {
        cli_error("%s: out of memory", argv[0]);
        return 1;
    }
    int k = 0;
    args[k++] = "cellman";
    if (g->root) {
        args[k++] = "--root";
        args[k++] = (char *)g->root;
    }
    if (g->config) {
        args[k++] = "--config";
        args[k++] = (char *)g->config;
    }
    if (g->debug)
        args[k++] = "--debug";
    for (int i = 0; i < argc; i++)
        args[k++] = argv[i];
    execv(exe, args);
    cli_error("%s: run %s: %s (is cell fully built/installed?)", argv[0], exe, strerror(errno));
    free(args);
    return 1;
}

/* The verbs cell shares between OCI containers and supervised cells: an
 * OCI container's ID goes to cmd_oci.c, anything else to celld. */
static int shared_verb(const struct cli_command *c, int argc, char **argv, const struct cli_globals *g)
{
    const char *id = argc > 1 ? argv[argc - 1] : "";
    if (strcmp(c->name, "run") == 0 && oci_run_is_bundle(argc, argv))
        return oci_run(argc, argv, g);
    /* --force is runc's, not celld's: an OCI delete even of a gone container */
    bool oci =
        oci_container_exists(g, id) || (argc > 1 && (strcmp(c->name, "delete") == 0 || strcmp(c->name, "rm") == 0) &&
                                        (strcmp(argv[1], "--force") == 0 || strcmp(argv[1], "-f") == 0));
    if (strcmp(c->name, "exec") == 0 && oci_exec_is_container(argc, argv, g))
        return oci_exec(argc, argv, g);
    if (oci && strcmp(c->name, "start") == 0)
        return oci_start(argc, argv, g);
    if (oci && (strcmp(c->name, "delete") == 0 || strcmp(c->name, "rm") == 0))
        return oci_delete(argc, argv, g);
    return c->run(argc, argv, g);
}

/* runc's `list` takes --format or -q; cell list without them is cellman's view. */
static bool oci_list(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strncmp(argv[i], "--format", 8) == 0 || strcmp(argv[i], "-q") == 0 || strcmp(argv[i], "--quiet") == 0 ||
            strcmp(argv[i], "-f") == 0)
            return true;
    return false;
}

/* `cell status --view V` and `cell up` with a desired state go to cellman too. */
static bool wants_cellman(int argc, char **argv, const struct cli_globals *g)
{
    if (strcmp(argv[0], "status") == 0) {
        for (int i = 1; i < argc; i++)
            if (strcmp(argv[i], "--view") == 0 || strncmp(argv[i], "--view=", 7) == 0)
                return true;
        return false;
    }
    if (strcmp(argv[0], "up") != 0 || (argc > 1 && argv[1][0] == '-'))
        return false;
    char dir[PATH_MAX];
    DIR *d = desired_state_dir(g->root, g->config, dir, sizeof dir) == 0 ? opendir(dir) : NULL;
    bool found = false;
    for (struct dirent *e; d && !found && (e = readdir(d));) {
        size_t n = strlen(e->d_name);
        found = e->d_name[0] != '.' && n > 4 && strcmp(e->d_name + n - 4, ".lua") == 0;
    }
    if (d)
        closedir(d);
    return found;
}

/* runc's --log FILE and --log-format text|json: where errors go (podman and
 * containerd read them from there), instead of stderr */
static const char *log_file;
static bool log_json;

void cli_error(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    FILE *out = log_file ? fopen(log_file, "ae") : NULL;
    if (out == NULL) {
        fprintf(stderr, "cell: %s\n", msg);
        return;
    }
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    if (log_json) {
        json_t *line = json_pack("{s:s, s:s, s:s}", "level", "error", "msg", msg, "time", when);
        char *text = line ? json_dumps(line, JSON_COMPACT) : NULL;
        fprintf(out, "%s\n", text ? text : "{\"level\":\"error\",\"msg\":\"out of memory\"}");
        free(text);
        json_decref(line);
    } else {
        fprintf(out, "time=\"%s\" level=error msg=\"cell: %s\"\n", when, msg);
    }
    fclose(out);
}

static void usage(FILE *out)
{
    fprintf(out, "usage: cell [--root DIR] [--config DIR] [--debug] COMMAND [ARGS...]\n"
                 "\n"
                 "Run workloads as cells: sandboxed processes with their own namespaces,\n"
                 "a read-only root, no network, no capabilities, a seccomp profile and limits.\n"
                 "\n"
                 "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n"
                 "global options:\n"
                 "  --root DIR   keep every file cell writes under DIR (also CELL_ROOT;\n"
                 "               cell run itself writes none)\n"
                 "  --config DIR the desired-state directory (*.lua files; default /etc/cell,\n"
                 "               or DIR/etc with --root; also CELL_CONFIG)\n"
                 "  --debug      print what cell does\n"
                 "  --log FILE   write errors to FILE (--log-format text|json), as runc does\n"
                 "  --systemd-cgroup  accepted for runc's callers; cell makes its cgroups itself\n"
                 "  --version    print the version\n"
                 "  -h, --help   show this help\n"
                 "\n"
                 "environment:\n"
                 "  CELL_CELLD_ARGS  options for the celld a command starts (split at spaces),\n"
                 "                   e.g. \"--events-nats nats://127.0.0.1:4222\"\n"
                 "\n"
                 "'cell help COMMAND' or 'cell COMMAND --help' shows a command's options.\n");
}

static const struct cli_command *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static void cmd_help_help(void)
{
    printf("usage: cell help [COMMAND]\n\nShow help for cell or for one command.\n");
}

static int cmd_help(int argc, char **argv, const struct cli_globals *g)
{
    if (argc < 2) {
        usage(stdout);
        return 0;
    }
    const struct cli_command *c = find_command(argv[1]);
    if (c == NULL) {
        cli_error("help: unknown command \"%s\" (see cell help)", argv[1]);
        return 2;
    }
    if (c->help == NULL) {
        char *args[] = {argv[1], "--help", NULL};
        return exec_cellman(2, args, g);
    }
    c->help();
    return 0;
}

int main(int argc, char **argv)
{
    struct cli_globals g = {.root = getenv("CELL_ROOT"), .config = getenv("CELL_CONFIG")};
    const char *f;
    if (g.config && *g.config == '\0')
        g.config = NULL;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--version") == 0) {
            printf("cell %s\nspec: 1.2.0 (OCI runtime spec; configs of 1.0.0 to 1.2.x are read)\n", CELL_VERSION);
            return 0;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--debug") == 0) {
            g.debug = true;
        } else if (option_value("--root", argc, argv, &i, &g.root) ||
                   option_value("--log", argc, argv, &i, &log_file) ||
                   option_value("--config", argc, argv, &i, &g.config)) {
            continue;
        } else if (option_value("--log-format", argc, argv, &i, &f)) {
            if (strcmp(f, "json") != 0 && strcmp(f, "text") != 0) {
                cli_error("--log-format \"%s\": text or json", f);
                return 2;
            }
            log_json = strcmp(f, "json") == 0;
        } else if (strcmp(a, "--systemd-cgroup") == 0) {
            /* runc's: cgroups through systemd. cell makes its own (cgroupfs) */
            cell_log(CELL_LOG_WARN, "cell: warning: --systemd-cgroup: cell manages its cgroups itself "
                                    "(cgroupfs); systemd is not asked");
        } else {
            cli_error("unknown option \"%s\" (see cell --help)", a);
            return 2;
        }
    }
    if (g.debug)
        cell_log_set_level(CELL_LOG_DEBUG);
    if (g.root && g.root[0] != '/') {
        cli_error("--root \"%s\": not an absolute path", g.root);
        return 2;
    }
    if (i >= argc) {
        usage(stderr);
        return 2;
    }
    const struct cli_command *c = find_command(argv[i]);
    if (c == NULL) {
        cli_error("unknown command \"%s\" (see cell help)", argv[i]);
        return 2;
    }
    if (strcmp(c->name, "list") == 0 && oci_list(argc - i, argv + i))
        return cmd_list(argc - i, argv + i, &g);
    if (c->run == NULL || wants_cellman(argc - i, argv + i, &g))
        return exec_cellman(argc - i, argv + i, &g);
    return shared_verb(c, argc - i, argv + i, &g);
}
