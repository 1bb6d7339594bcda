/* cmd_job.c - `cell job run FILE.json`: a CellOS ExecutionCell document run
 * to completion in the foreground (libcell's cell_job_run, cell/job.h): its
 * options (shared with submit), the broker it gets, what is said when the
 * job was killed, and the teardown report with --report. The subcommands of
 * jobs handed to celld are in cmd_job_submit.c. */
#include "cli.h"
#include "cell/job.h"
#include "cell/oci.h"
#include "job_nats.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void cmd_job_help(void)
{
    printf("usage: cell job run FILE.json [JOB OPTIONS] [--events FILE] [--events-nats URL] [--report]\n"
           "       cell job submit FILE.json [JOB OPTIONS] [--wait]\n"
           "       cell job status [ID] [--json]\n"
           "       cell job logs ID\n"
           "       cell job wait ID\n"
           "       cell job rm [--force] ID\n"
           "\n"
           "run: run a CellOS ExecutionCell document (apiVersion cellos.io/v1) to completion\n"
           "in a new cell: secrets resolved, the command run (its stdout and stderr are\n"
           "cell's, its stdin /dev/null, its environment exactly its secrets), artifacts\n"
           "exported, the cell destroyed, the secrets revoked, and nothing left behind\n"
           "(checked). Exits with the job's status (128+N if killed by signal N; 124 when\n"
           "timeoutMs or ttlSeconds expired; 125 when the document is refused or a step\n"
           "failed).\n"
           "\n"
           "submit: hand the document to celld (started if need be), which runs it the same\n"
           "way in the background and keeps its record: status, exit code, report, output\n"
           "(cell job logs), events, and artifacts (default: in the record). Prints the id.\n"
           "The env broker reads celld's environment there; paths are taken as absolute.\n"
           "A job's id is taken until cell job rm removes its record. status: every job, or\n"
           "one (--json: its record). wait: until the job has ended; exits with its status.\n"
           "rm: remove an ended job's record (output, events, and the artifacts in it);\n"
           "--force stops a running job first (SIGTERM, passed on to it; another after\n"
           "2 s, which kills it).\n"
           "\n"
           "JOB OPTIONS:\n"
           "  --backend native   cell's own sandbox runs the job (the default)\n"
           "  --backend oci      an OCI runtime runs it, from the bundle cell writes (the same\n"
           "                     isolation, see cell bundle --help); --oci-runtime R: runc (the\n"
           "                     default), crun, runsc or a path. Egress rules: not with runsc\n"
           "  --export-dir DIR   artifacts go to DIR/ID/NAME (default: ./export; submit: the\n"
           "                     record's export/)\n"
           "  --secrets-dir DIR  the file broker: the secret KEY is the file DIR/KEY\n"
           "                     (default: the env broker, CELL_SECRET_KEY in cell's\n"
           "                     environment)\n"
           "  --egress-netns NS  egress rules: the link's other end in network namespace NS\n"
           "                     (ip netns; default: the host's)\n"
           "run only:\n"
           "  --events FILE      append CloudEvents 1.0 JSON lines to FILE: started,\n"
           "                     completed, destroyed (with the teardown report)\n"
           "  --events-nats URL  also publish them to NATS JetStream at URL (nats://HOST:PORT):\n"
           "                     stream CELL_JOBS, subject cell.jobs.ID.started|completed|destroyed\n"
           "  --report           print the teardown report (JSON) after the job's output:\n"
           "                     outcome, exit code, durations, artifacts, residue\n"
           "  -h, --help         show this help\n"
           "\n"
           "secretDelivery env puts KEY=value in the job's environment; runtimeBroker and\n"
           "runtimeLeasedBroker the file /run/secrets/KEY (mode 0400, a private tmpfs).\n"
           "Two jobs with the same id never run at once. Needs root. See cell-job(1).\n");
}

/* cell-init next to this binary, for the cell's init to exec (so it keeps
 * no copy of our memory, where the secrets were); -1 without one. */
static int open_cell_init(void)
{
    char path[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 16);
    char *slash = n > 0 ? memrchr(path, '/', (size_t)n) : NULL;
    if (slash == NULL)
        return -1;
    strcpy(slash, "/cell-init");
    int fd = open(path, O_PATH | O_CLOEXEC);
    if (fd < 0)
        cell_log(CELL_LOG_DEBUG, "cell: %s: %s; the cell's init stays a copy of cell", path, strerror(errno));
    return fd;
}

/* What the user is told beyond the job's own output. */
static void say_outcome(const struct cell_spec *spec, const struct cell_job *job, const struct cell_job_result *res)
{
    if (res->outcome == CELL_JOB_TIMEOUT)
        fprintf(stderr, "cell %s: timed out after %llums (run.timeoutMs): killed\n", job->id,
                (unsigned long long)job->timeout_ms);
    else if (res->outcome == CELL_JOB_TTL)
        fprintf(stderr, "cell %s: its TTL of %llus (lifetime.ttlSeconds) expired: killed\n", job->id,
                (unsigned long long)job->ttl_seconds);
    json_t *report = res->report;
    if (json_is_true(json_object_get(report, "oomKilled"))) {
        char size[32];
        cell_format_size(spec->limits.memory_bytes, size, sizeof size);
        fprintf(stderr, "cell %s: killed: out of memory (limit %s)\n", job->id, size);
    }
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(report, "residue"), i, r)
    {
        fprintf(stderr, "cell %s: error: left behind: %s %s\n", job->id, json_string_value(json_object_get(r, "kind")),
                json_string_value(json_object_get(r, "what")));
    }
}

/* The options `run` and `submit` share, and run's own (with `run`). */
int job_parse_args(int argc, char **argv, bool run, struct job_args *a)
{
    const char *verb = run ? "job run" : "job submit";
    static const char *const valued[] = {"--export-dir",  "--secrets-dir", "--egress-netns", "--backend",
                                         "--oci-runtime", "--events",      "--events-nats"};
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (strcmp(o, "-h") == 0 || strcmp(o, "--help") == 0) {
            cmd_job_help();
            return 0;
        }
        if (option_value("--export-dir", argc, argv, &i, &a->export_dir) ||
            option_value("--secrets-dir", argc, argv, &i, &a->secrets_dir) ||
            option_value("--egress-netns", argc, argv, &i, &a->egress_netns) ||
            option_value("--backend", argc, argv, &i, &a->backend) ||
            option_value("--oci-runtime", argc, argv, &i, &a->runtime) ||
            (run && (option_value("--events", argc, argv, &i, &a->events) ||
                     option_value("--events-nats", argc, argv, &i, &a->nats_url))))
            continue;
        if (run && strcmp(o, "--report") == 0) {
            a->report = true;
            continue;
        }
        if (!run && strcmp(o, "--wait") == 0) {
            a->wait = true;
            continue;
        }
        for (size_t k = 0; k < ARRAY_SIZE(valued); k++)
            if (strcmp(o, valued[k]) == 0 && (k < 5 || run)) {
                cli_error("%s: %s needs a value (see cell job --help)", verb, o);
                return -2;
            }
        if (o[0] == '-' && o[1] != '\0') {
            cli_error(
                "%s: unknown option \"%s\"%s (see cell job --help)", verb, o,
                !run && (strcmp(o, "--events") == 0 || strcmp(o, "--events-nats") == 0 || strcmp(o, "--report") == 0)
                    ? ": a submitted job's events and report are in its record (cell job status ID --json)"
                    : "");
            return -2;
        }
        if (a->file) {
            cli_error("%s: one document at a time (\"%s\" and \"%s\")", verb, a->file, o);
            return -2;
        }
        a->file = o;
    }
    if (a->file == NULL) {
        cli_error("%s: give the document: cell %s FILE.json (see cell job --help)", verb, verb);
        return -2;
    }
    const char *const values[] = {a->export_dir, a->secrets_dir, a->egress_netns, a->backend,
                                  a->runtime,    a->events,      a->nats_url};
    for (size_t k = 0; k < ARRAY_SIZE(values); k++)
        if (values[k] && values[k][0] == '\0') {
            cli_error("%s: %s: the value is empty", verb, valued[k]);
            return -2;
        }
    if (a->backend && strcmp(a->backend, "native") != 0 && strcmp(a->backend, "oci") != 0) {
        cli_error("%s: --backend \"%s\": native (cell's own sandbox, the default) or oci", verb, a->backend);
        return -2;
    }
    bool oci = a->backend && strcmp(a->backend, "oci") == 0;
    if (a->runtime && !oci) {
        cli_error("%s: --oci-runtime needs --backend oci", verb);
        return -2;
    }
    struct cell_err err = {0};
    if (oci &&
        cell_oci_runtime_find(a->runtime ? a->runtime : "runc", a->runtime_path, sizeof a->runtime_path, &err) < 0) {
        cli_error("%s: %s", verb, err.msg);
        return -1;
    }
    return 1;
}

static int job_run(int argc, char **argv, const struct cli_globals *g)
{
    struct job_args a;
    int parsed = job_parse_args(argc, argv, true, &a);
    if (parsed <= 0)
        return parsed == 0 ? 0 : parsed == -2 ? 2 : CELL_EXIT_SETUP;
    struct cell_job_opts opts = {.root = g->root,
                                 .init_exec_fd = -1,
                                 .export_dir = a.export_dir,
                                 .events_path = a.events,
                                 .egress_netns = a.egress_netns,
                                 .oci_runtime = a.runtime_path[0] ? a.runtime_path : NULL};
    const char *file = a.file, *secrets_dir = a.secrets_dir, *nats_url = a.nats_url;
    bool report = a.report;
    struct cell_spec spec;
    struct cell_job job;
    struct cell_err err = {0};
    if (cell_job_load_file(file, &spec, &job, &err) < 0) {
        cli_error("%s", err.msg);
        return CELL_EXIT_SETUP;
    }
    struct cell_secret_broker broker;
    if (secrets_dir)
        cell_secret_broker_file(&broker, secrets_dir);
    else
        cell_secret_broker_env(&broker);
    opts.broker = &broker;
    struct job_nats *nats = NULL;
    if (nats_url) {
        if ((nats = job_nats_open(nats_url, job.id, &err)) == NULL) {
            cli_error("job %s: %s", job.id, err.msg);
            cell_job_free(&job);
            cell_spec_free(&spec);
            return CELL_EXIT_SETUP;
        }
        opts.event_sink = job_nats_publish;
        opts.event_ctx = nats;
    }
    opts.init_exec_fd = open_cell_init();
    struct cell_job_result res;
    int rc = cell_job_run(&spec, &job, &opts, &res, &err);
    if (opts.init_exec_fd >= 0)
        close(opts.init_exec_fd);
    if (rc < 0)
        cli_error("%s", err.msg);
    say_outcome(&spec, &job, &res);
    if (report && res.report) {
        char *text = json_dumps(res.report, JSON_INDENT(2));
        if (text)
            printf("%s\n", text);
        free(text);
        fflush(stdout);
    }
    json_decref(res.report);
    if (nats)
        job_nats_close(nats);
    cell_job_free(&job);
    cell_spec_free(&spec);
    return res.exit_code;
}

int cmd_job(int argc, char **argv, const struct cli_globals *g)
{
    if (argc < 2) {
        cli_error("job: give a subcommand: run, submit, status, logs, wait or rm (see cell job --help)");
        return 2;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        cmd_job_help();
        return 0;
    }
    static const struct {
        const char *name;
        int (*fn)(int, char **, const struct cli_globals *);
    } subcommands[] = {{"run", job_run},   {"submit", job_submit}, {"status", job_status},
                       {"logs", job_logs}, {"wait", job_wait},     {"rm", job_rm}};
    for (size_t i = 0; i < ARRAY_SIZE(subcommands); i++)
        if (strcmp(argv[1], subcommands[i].name) == 0)
            return subcommands[i].fn(argc - 1, argv + 1, g);
    cli_error("job: unknown subcommand \"%s\" (run, submit, status, logs, wait, rm; see cell job --help)", argv[1]);
    return 2;
}
