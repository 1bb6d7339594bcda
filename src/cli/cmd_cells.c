/* cmd_cells.c - the commands that talk to celld: `cell run -d` (declare a
 * supervised cell), status, start, stop, restart, delete (rm), down, and
 * logs (which reads the log file itself). A command that needs celld starts
 * it when it is not running and waits for its "ready" byte: no polling
 * (celld_client.c). */
#include "cli.h"
#include "cell/control.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* One request, one answer; NULL after printing the error. */
/* `cell run -d ...`: the arguments go to celld as given, except that
 * `--env K` (the caller's value of K) is resolved here, where it is set. */
int cmd_run_detached(int argc, char **argv, int first, const struct cli_globals *g)
{
    json_t *args = json_array();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        char *resolved = NULL;
        if (i < first && strcmp(a, "--env") == 0 && i + 1 < first && strchr(argv[i + 1], '=') == NULL) {
            json_array_append_new(args, json_string(a));
            a = argv[++i];
            const char *v = getenv(a);
            if (v && asprintf(&resolved, "%s=%s", a, v) > 0)
                a = resolved;
        } else if (i < first && strncmp(a, "--env=", 6) == 0 && strchr(a + 6, '=') == NULL) {
            const char *v = getenv(a + 6);
            if (v && asprintf(&resolved, "--env=%s=%s", a + 6, v) > 0)
                a = resolved;
        }
        json_array_append_new(args, json_string(a));
        free(resolved);
    }
    json_t *req = request("run");
    json_object_set_new(req, "args", args);
    json_t *answer = celld_call(g, req, true);
    if (answer == NULL)
        return CELL_EXIT_SETUP;
    json_t *cell = json_object_get(answer, "cell");
    printf("%s\n", json_string_value(json_object_get(cell, "name")));
    json_decref(answer);
    return 0;
}

/* The columns `cell status` can show (-o picks and orders them). */
static const struct {
    const char *name, *header;
    int width;
} status_fields[] = {
    {"name", "NAME", -20},       {"state", "STATE", -9},  {"health", "HEALTH", -9}, {"pid", "PID", 7},
    {"restarts", "RESTARTS", 8}, {"uptime", "UPTIME", 8}, {"cpu", "CPU", 8},        {"memory", "MEMORY", 8},
    {"procs", "PROCS", 5},       {"exit", "EXIT", 4},
};
#define DEFAULT_FIELDS "name,state,health,pid,restarts,uptime,cpu,memory,procs,exit"

static void field_text(json_t *c, const char *field, char *out, size_t len)
{
    json_t *v;
    if (strcmp(field, "uptime") == 0) {
        snprintf(out, len, "%.1fs", (double)json_integer_value(json_object_get(c, "uptime_ms")) / 1000.0);
    } else if (strcmp(field, "cpu") == 0) {
        v = json_object_get(c, "cpu_usec");
        if (json_is_integer(v))
            snprintf(out, len, "%.2fs", (double)json_integer_value(v) / 1e6);
        else
            snprintf(out, len, "-");
    } else if (strcmp(field, "memory") == 0) {
        v = json_object_get(c, "memory_bytes");
        if (json_is_integer(v))
            cell_format_size((uint64_t)json_integer_value(v), out, len);
        else
            snprintf(out, len, "-");
    } else {
        const char *key = strcmp(field, "exit") == 0 ? "exit_code" : field;
        v = json_object_get(c, key);
        if (json_is_string(v))
            snprintf(out, len, "%s", json_string_value(v));
        else if (json_is_integer(v))
            snprintf(out, len, "%lld", (long long)json_integer_value(v));
        else
            snprintf(out, len, "-");
    }
}

/* FIELDS ("name,state,...") into indexes of status_fields; -1 with a message. */
static int parse_fields(const char *text, int *idx, int max)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", text);
    int n = 0;
    for (char *f = strtok(buf, ","); f; f = strtok(NULL, ",")) {
        int found = -1;
        for (size_t i = 0; i < sizeof status_fields / sizeof status_fields[0]; i++)
            if (strcmp(f, status_fields[i].name) == 0)
                found = (int)i;
        if (found < 0 || n == max) {
            cli_error("status: -o: unknown field \"%s\" (fields: " DEFAULT_FIELDS ")", f);
            return -1;
        }
        idx[n++] = found;
    }
    return n;
}

static void print_status(json_t *cells, const int *idx, int n, bool tsv, bool header)
{
    if (header) {
        for (int i = 0; i < n; i++) {
            const char *h = status_fields[idx[i]].header;
            if (tsv)
                printf("%s%s", i ? "\t" : "", h);
            else
                printf("%s%*s", i ? " " : "", status_fields[idx[i]].width, h);
        }
        printf("\n");
    }
    size_t k;
    json_t *c;
    json_array_foreach(cells, k, c)
    {
        for (int i = 0; i < n; i++) {
            char text[64];
            field_text(c, status_fields[idx[i]].name, text, sizeof text);
            if (tsv)
                printf("%s%s", i ? "\t" : "", text);
            else
                printf("%s%*s", i ? " " : "", status_fields[idx[i]].width, text);
        }
        printf("\n");
    }
}

void cmd_status_help(void)
{
    printf("usage: cell status [--json | -T [-H]] [-o FIELDS] [NAME...]\n\n"
           "Show the supervised cells. State: running, stopping, backoff, exited, failed,\n"
           "waiting (--listen, not started yet). Health: none, starting, healthy,\n"
           "unhealthy. CPU is the time all the cell's processes used; MEMORY the resident\n"
           "memory of those alive; PROCS how many there are.\n"
           "  --json     one JSON array, as celld gives it\n"
           "  -T         tab-separated values (for scripts)\n"
           "  -H         no header line\n"
           "  -o FIELDS  the columns, comma-separated: " DEFAULT_FIELDS "\n");
}

int cmd_status(int argc, char **argv, const struct cli_globals *g)
{
    bool as_json = false, tsv = false, header = true;
    int idx[16];
    int nfields = parse_fields(DEFAULT_FIELDS, idx, 16);
    json_t *names = json_array();
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            as_json = true;
        } else if (strcmp(argv[i], "-T") == 0) {
            tsv = true;
        } else if (strcmp(argv[i], "-H") == 0) {
            header = false;
        } else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
            if ((nfields = parse_fields(argv[++i], idx, 16)) < 0) {
                json_decref(names);
                return 2;
            }
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            json_decref(names);
            cmd_status_help();
            return 0;
        } else if (argv[i][0] == '-') {
            json_decref(names);
            cli_error("status: unknown option \"%s\" (see cell status --help)", argv[i]);
            return 2;
        } else {
            json_array_append_new(names, json_string(argv[i]));
        }
    }
    if (as_json && (tsv || !header)) {
        json_decref(names);
        cli_error("status: --json and -T/-H conflict: pick one output");
        return 2;
    }
    json_t *req = request("status");
    json_object_set_new(req, "names", names);
    /* no celld and nothing declared: no cells; do not start one just to say so */
    struct cell_err err = {0};
    int fd = connect_celld(g, false, &err);
    if (fd < 0 && celld_absent(&err) && json_array_size(names) == 0) {
        json_decref(req);
        if (as_json) {
            printf("[]\n");
        } else {
            json_t *none = json_array();
            print_status(none, idx, nfields, tsv, header);
            json_decref(none);
        }
        return 0;
    }
    if (fd >= 0)
        close(fd);
    json_t *answer = celld_call(g, req, false);
    if (answer == NULL)
        return 1;
    json_t *cells = json_object_get(answer, "cells");
    if (as_json) {
        char *text = json_dumps(cells, JSON_COMPACT);
        printf("%s\n", text ? text : "[]");
        free(text);
    } else {
        print_status(cells, idx, nfields, tsv, header);
    }
    json_decref(answer);
    return 0;
}

/* start, stop, restart, delete: NAME... one request each. */
static int named_op(int argc, char **argv, const struct cli_globals *g, const char *op, void (*help)(void))
{
    if (argc < 2) {
        help();
        return 2;
    }
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            help();
            return 0;
        }
        json_t *req = request(op);
        json_object_set_new(req, "name", json_string(argv[i]));
        json_t *answer = celld_call(g, req, false);
        if (answer == NULL)
            rc = 1;
        json_decref(answer);
    }
    return rc;
}

void cmd_start_help(void)
{
    printf("usage: cell start NAME...\n\nStart stopped or failed supervised cells again.\n");
}
void cmd_stop_help(void)
{
    printf("usage: cell stop NAME...\n\nStop supervised cells: SIGTERM, then SIGKILL to every process after the\n"
           "cell's --stop-timeout. They stay declared (cell start brings them back).\n");
}
void cmd_restart_help(void)
{
    printf("usage: cell restart NAME...\n\nStop, then start supervised cells.\n");
}
void cmd_delete_help(void)
{
    printf("usage: cell delete NAME...   (alias: rm)\n\nStop supervised cells and forget them.\n");
}
int cmd_start(int argc, char **argv, const struct cli_globals *g)
{
    return named_op(argc, argv, g, "start", cmd_start_help);
}
int cmd_stop(int argc, char **argv, const struct cli_globals *g)
{
    return named_op(argc, argv, g, "stop", cmd_stop_help);
}
int cmd_restart(int argc, char **argv, const struct cli_globals *g)
{
    return named_op(argc, argv, g, "restart", cmd_restart_help);
}
int cmd_delete(int argc, char **argv, const struct cli_globals *g)
{
    return named_op(argc, argv, g, "delete", cmd_delete_help);
}

void cmd_up_help(void)
{
    printf("usage: cell up\n\n"
           "Start celld if it is not running (it takes over the cells that still run),\n"
           "then start every declared cell that is down, except those declared with\n"
           "--no-autostart. Prints the cells, as cell status does.\n");
}

int cmd_up(int argc, char **argv, const struct cli_globals *g)
{
    if (argc > 1) {
        if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
            cmd_up_help();
            return 0;
        }
        cli_error("up: takes no arguments");
        return 2;
    }
    json_t *answer = celld_call(g, request("up"), true);
    if (answer == NULL)
        return 1;
    int idx[16];
    int nfields = parse_fields(DEFAULT_FIELDS, idx, 16);
    print_status(json_object_get(answer, "cells"), idx, nfields, false, true);
    json_decref(answer);
    return 0;
}

void cmd_down_help(void)
{
    printf("usage: cell down\n\nStop every supervised cell gracefully, then celld. The cells stay declared:\n"
           "cell up starts them again, cell rm forgets one.\n");
}

int cmd_down(int argc, char **argv, const struct cli_globals *g)
{
    if (argc > 1) {
        if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
            cmd_down_help();
            return 0;
        }
        cli_error("down: takes no arguments");
        return 2;
    }
    struct cell_err err = {0};
    int fd = connect_celld(g, false, &err);
    if (fd < 0)
        return celld_absent(&err) ? 0 : (cli_error("%s", err.msg), 1);
    json_t *req = request("down");
    json_t *answer = cell_control_call(fd, req, &err);
    json_decref(req);
    /* celld answers once every cell has stopped, then exits */
    char byte;
    while (answer && read(fd, &byte, 1) > 0)
        ;
    close(fd);
    if (answer == NULL) {
        cli_error("%s", err.msg);
        return 1;
    }
    json_decref(answer);
    return 0;
}

void cmd_logs_help(void)
{
    printf("usage: cell logs [-n N] NAME\n\nShow a supervised cell's captured stdout and stderr (the last N lines).\n");
}

int cmd_logs(int argc, char **argv, const struct cli_globals *g)
{
    long lines = -1;
    const char *name = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
            char *end;
            lines = strtol(argv[++i], &end, 10);
            if (*end || lines < 0) {
                cli_error("logs: -n \"%s\": not a number of lines", argv[i]);
                return 2;
            }
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            cmd_logs_help();
            return 0;
        } else if (argv[i][0] == '-' || name) {
            cli_error("logs: unexpected \"%s\" (see cell logs --help)", argv[i]);
            return 2;
        } else {
            name = argv[i];
        }
    }
    if (name == NULL) {
        cmd_logs_help();
        return 2;
    }
    struct cell_err err = {0};
    if (lines >= 0) {
        struct log_tail t;
        if (log_tail_read(g, name, (size_t)lines, &t, &err) < 0) {
            cli_error("logs: %s", err.msg);
            return 1;
        }
        for (size_t i = 0; i < t.count; i++)
            fputs(t.lines[i], stdout);
        log_tail_free(&t);
        return 0;
    }
    struct cell_paths p;
    if (cell_paths_init(g->root, &p, &err) < 0) {
        cli_error("%s", err.msg);
        return 1;
    }
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s.log", p.logs, name);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        cli_error("logs: cell %s: no log at %s: %s (cell status lists the cells)", name, path, strerror(errno));
        return 1;
    }
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        fwrite(buf, 1, n, stdout);
    fclose(f);
    return 0;
}

void cmd_swap_help(void)
{
    printf("usage: cell swap NAME...\n\n"
           "Replace a running cell declared with --listen without dropping a connection:\n"
           "a new instance starts on the same socket (clients queue in its backlog), then\n"
           "the old one gets SIGTERM (SIGKILL after --stop-timeout). Returns once the old\n"
           "instance is gone.\n");
}

int cmd_swap(int argc, char **argv, const struct cli_globals *g)
{
    return named_op(argc, argv, g, "swap", cmd_swap_help);
}

void cmd_exec_help(void)
{
    printf("usage: cell exec NAME -- CMD [ARGS...]\n"
           "       cell exec [OCI OPTIONS] ID [--] [ARGS...]\n\n"
           "Run CMD inside the running supervised cell NAME: in its namespaces and\n"
           "cgroups, as its workload's user, with its limits, capabilities and seccomp\n"
           "profile. Waits for CMD and exits with its status. Needs root.\n\n"
           "For an OCI container ID (as runc's exec): --process FILE, --env K=V, --cwd DIR,\n"
           "--user UID[:GID], --tty (a terminal on the container's devpts, relayed here),\n"
           "--console-socket SOCK (its master goes there), --detach, --pid-file FILE.\n");
}

int cmd_exec(int argc, char **argv, const struct cli_globals *g)
{
    if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        cmd_exec_help();
        return 0;
    }
    int cmd = 2;
    if (cmd < argc && strcmp(argv[cmd], "--") == 0)
        cmd++;
    if (argc < 2 || argv[1][0] == '-' || cmd >= argc) {
        cmd_exec_help();
        return 2;
    }
    json_t *req = request("status");
    json_t *names = json_array();
    json_array_append_new(names, json_string(argv[1]));
    json_object_set_new(req, "names", names);
    json_t *answer = celld_call(g, req, false);
    if (answer == NULL)
        return CELL_EXIT_SETUP;
    json_t *cell = json_array_get(json_object_get(answer, "cells"), 0);
    pid_t pid = (pid_t)json_integer_value(json_object_get(cell, "pid"));
    json_t *args = json_object_get(cell, "args");
    if (pid <= 0 || !json_is_array(args)) {
        cli_error("exec: cell %s is not running (%s)", argv[1], json_string_value(json_object_get(cell, "state")));
        json_decref(answer);
        return CELL_EXIT_SETUP;
    }
    /* the cell's own spec, from the arguments it was declared with */
    size_t n = json_array_size(args);
    char **run_argv = calloc(n + 2, sizeof *run_argv);
    struct cell_spec spec;
    struct cell_err err = {0};
    cell_spec_init(&spec);
    run_argv[0] = "run";
    for (size_t i = 0; i < n; i++)
        run_argv[i + 1] = (char *)json_string_value(json_array_get(args, i));
    int rc = CELL_EXIT_SETUP;
    struct cell_result result;
    if (cell_spec_from_args((int)n + 1, run_argv, &spec, &err) <= 0 ||
        cell_spec_set_argv(&spec, argv + cmd, &err) < 0 || cell_spec_validate(&spec, &err) < 0) {
        cli_error("exec: %s", err.msg);
    } else if (cell_exec(pid, &spec, &result, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        rc = result.exit_code;
    } else {
        rc = result.exit_code;
    }
    cell_spec_free(&spec);
    free(run_argv);
    json_decref(answer);
    return rc;
}

void cmd_events_help(void)
{
    printf("usage: cell events [--json]\n\n"
           "Follow what happens to the supervised cells, as it happens: started, exited,\n"
           "restarting, healthy, unhealthy, stopped, removed. Each event is a CloudEvents\n"
           "1.0 object (--json prints them as they come, one per line); celld also keeps\n"
           "them in <data>/events.jsonl. Stops when celld does, or on Ctrl-C.\n"
           "\n"
           "celld can also publish them to NATS JetStream: the stream CELL_EVENTS, subjects\n"
           "cell.events.NAME.TYPE ('.' in NAME as %%2E), the event's id as Nats-Msg-Id.\n"
           "Start celld with --events-nats URL [--events-nats-required], e.g.\n"
           "  CELL_CELLD_ARGS=\"--events-nats nats://127.0.0.1:4222\" cell run -d ...\n");
}

int cmd_events(int argc, char **argv, const struct cli_globals *g)
{
    bool as_json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            as_json = true;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            cmd_events_help();
            return 0;
        } else {
            cli_error("events: unexpected \"%s\" (see cell events --help)", argv[i]);
            return 2;
        }
    }
    struct cell_err err = {0};
    int fd = connect_celld(g, false, &err);
    json_t *req = request("events");
    json_t *answer = fd < 0 ? NULL : cell_control_call(fd, req, &err);
    json_decref(req);
    if (answer == NULL) {
        cli_error("%s", err.msg);
        if (fd >= 0)
            close(fd);
        return 1;
    }
    json_decref(answer);
    setvbuf(stdout, NULL, _IOLBF, 0);
    json_t *e;
    while ((e = cell_control_receive(fd, &err)) != NULL) {
        if (as_json) {
            char *text = json_dumps(e, JSON_COMPACT);
            printf("%s\n", text ? text : "{}");
            free(text);
        } else {
            json_t *data = json_object_get(e, "data");
            printf("%s %-16s %s", json_string_value(json_object_get(e, "time")),
                   json_string_value(json_object_get(e, "type")), json_string_value(json_object_get(e, "subject")));
            const char *key;
            json_t *v;
            json_object_foreach(data, key, v)
            {
                if (strcmp(key, "cell") != 0 && json_is_integer(v))
                    printf(" %s=%lld", key, (long long)json_integer_value(v));
            }
            printf("\n");
        }
        json_decref(e);
    }
    close(fd);
    return 0;
}
