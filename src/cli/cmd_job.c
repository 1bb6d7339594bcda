/* cmd_job.c - `cell job run FILE.json`: a CellOS ExecutionCell document run
 * to completion in the foreground (libcell's cell_job_run, cell/job.h): its
 * options, the broker it gets, what is said when the job was killed, and
 * the teardown report with --report. */
#include "cli.h"
#include "cell/job.h"
#include "cell/oci.h"
#include "job_nats.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void cmd_job_help(void)
{
    printf("usage: cell job run FILE.json [--backend native|oci [--oci-runtime R]] [--export-dir DIR]\n"
           "                            [--events FILE] [--events-nats URL] [--report]\n"
           "                            [--secrets-dir DIR] [--egress-netns NS]\n"
           "\n"
           "Run a CellOS ExecutionCell document (apiVersion cellos.io/v1) to completion in a\n"
           "new cell: secrets resolved, the command run (its stdout and stderr are cell's,\n"
           "its stdin /dev/null, its environment exactly its secrets), artifacts exported,\n"
           "the cell destroyed, the secrets revoked, and nothing left behind (checked).\n"
           "Exits with the job's status (128+N if killed by signal N; 124 when timeoutMs or\n"
           "ttlSeconds expired; 125 when the document is refused or a step failed).\n"
           "\n"
           "  --backend native   cell's own sandbox runs the job (the default)\n"
           "  --backend oci      an OCI runtime runs it, from the bundle cell writes (the same\n"
           "                     isolation, see cell bundle --help); --oci-runtime R: runc (the\n"
           "                     default), crun, runsc or a path. Egress rules: not with runsc\n"
           "  --export-dir DIR   artifacts go to DIR/ID/NAME (default: ./export)\n"
           "  --events FILE      append CloudEvents 1.0 JSON lines to FILE: started,\n"
           "                     completed, destroyed (with the teardown report)\n"
           "  --events-nats URL  also publish them to NATS JetStream at URL (nats://HOST:PORT):\n"
           "                     stream CELL_JOBS, subject cell.jobs.ID.started|completed|destroyed\n"
           "  --report           print the teardown report (JSON) after the job's output:\n"
           "                     outcome, exit code, durations, artifacts, residue\n"
           "  --secrets-dir DIR  the file broker: the secret KEY is the file DIR/KEY\n"
           "  --egress-netns NS  egress rules: the link's other end in network namespace NS (ip netns)\n"
           "                     (default: the env broker, CELL_SECRET_KEY in cell's\n"
           "                     environment)\n"
           "  -h, --help         show this help\n"
           "\n"
           "secretDelivery env puts KEY=value in the job's environment; runtimeBroker and\n"
           "runtimeLeasedBroker the file /run/secrets/KEY (mode 0400, a private tmpfs).\n"
           "Two jobs with the same id never run at once. Needs root. See cell(1).\n");
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

static int job_run(int argc, char **argv, const struct cli_globals *g)
{
    const char *file = NULL, *secrets_dir = NULL, *nats_url = NULL, *backend = NULL, *runtime = NULL;
    struct cell_job_opts opts = {.root = g->root, .init_exec_fd = -1};
    bool report = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            cmd_job_help();
            return 0;
        } else if (option_value("--export-dir", argc, argv, &i, &opts.export_dir) ||
                   option_value("--events", argc, argv, &i, &opts.events_path) ||
                   option_value("--secrets-dir", argc, argv, &i, &secrets_dir) ||
                   option_value("--egress-netns", argc, argv, &i, &opts.egress_netns) ||
                   option_value("--events-nats", argc, argv, &i, &nats_url) ||
                   option_value("--backend", argc, argv, &i, &backend) ||
                   option_value("--oci-runtime", argc, argv, &i, &runtime)) {
            continue;
        } else if (strcmp(a, "--report") == 0) {
            report = true;
        } else if (i + 1 == argc &&
                   (strcmp(a, "--export-dir") == 0 || strcmp(a, "--events") == 0 || strcmp(a, "--secrets-dir") == 0 ||
                    strcmp(a, "--egress-netns") == 0 || strcmp(a, "--events-nats") == 0 ||
                    strcmp(a, "--backend") == 0 || strcmp(a, "--oci-runtime") == 0)) {
            cli_error("job run: %s needs a value (see cell job --help)", a);
            return 2;
        } else if (a[0] == '-' && a[1] != '\0') {
            cli_error("job run: unknown option \"%s\" (see cell job --help)", a);
            return 2;
        } else if (file == NULL) {
            file = a;
        } else {
            cli_error("job run: one document at a time (\"%s\" and \"%s\")", file, a);
            return 2;
        }
    }
    if (file == NULL) {
        cli_error("job run: give the document: cell job run FILE.json (see cell job --help)");
        return 2;
    }
    if ((opts.export_dir && !opts.export_dir[0]) || (opts.events_path && !opts.events_path[0]) ||
        (secrets_dir && !secrets_dir[0]) || (nats_url && !nats_url[0])) {
        cli_error("job run: an option's value is empty");
        return 2;
    }
    if (backend && strcmp(backend, "native") != 0 && strcmp(backend, "oci") != 0) {
        cli_error("job run: --backend \"%s\": native (cell's own sandbox, the default) or oci", backend);
        return 2;
    }
    bool oci = backend && strcmp(backend, "oci") == 0;
    if (runtime && !oci) {
        cli_error("job run: --oci-runtime needs --backend oci");
        return 2;
    }
    char runtime_path[PATH_MAX];
    struct cell_err find_err = {0};
    if (oci && cell_oci_runtime_find(runtime ? runtime : "runc", runtime_path, sizeof runtime_path, &find_err) < 0) {
        cli_error("job run: %s", find_err.msg);
        return CELL_EXIT_SETUP;
    }
    if (oci)
        opts.oci_runtime = runtime_path;
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
        cli_error("job: give a subcommand: cell job run FILE.json (see cell job --help)");
        return 2;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        cmd_job_help();
        return 0;
    }
    if (strcmp(argv[1], "run") == 0)
        return job_run(argc - 1, argv + 1, g);
    cli_error("job: unknown subcommand \"%s\" (cell job run FILE.json; see cell job --help)", argv[1]);
    return 2;
}
