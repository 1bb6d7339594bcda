/* cmd_job_submit.c - jobs handed to celld and what is kept of them:
 *
 *   cell job submit FILE.json [JOB OPTIONS] [--wait]   celld runs it
 *   cell job status [ID] [--json]                     its record(s)
 *   cell job logs ID                                  its output
 *   cell job wait ID                                  until it has ended
 *   cell job rm [--force] ID                          its record removed
 *
 * submit checks the document here first (the same errors as `job run`),
 * then sends its text and the options (paths made absolute: celld's working
 * directory is not ours) to celld, which runs it (src/celld/jobs.c). The
 * others read the record directory <data>/jobs/<id>/ (src/lib/job/
 * record.c) without celld, so they work while it is down too. */
#include "cli.h"
#include "cell/job.h"
#include "cell/oci.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* `path` as an absolute path (relative to our working directory), into out. */
static int absolute(const char *path, char *out, size_t len)
{
    char cwd[PATH_MAX];
    if (path[0] == '/')
        return snprintf(out, len, "%s", path) < (int)len ? 0 : -1;
    if (getcwd(cwd, sizeof cwd) == NULL)
        return -1;
    return snprintf(out, len, "%s/%s", cwd, path) < (int)len ? 0 : -1;
}

/* The one ID argument of status/logs/wait/rm (and their flag): 1, 0 after
 * --help, -1 on a usage error (said). `usage`: the command's synopsis when
 * the ID must be given; NULL when it may be left out. */
static int one_id(int argc, char **argv, const char *verb, const char *usage, const char *flag, bool *flag_set,
                  const char **id)
{
    *id = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            cmd_job_help();
            return 0;
        }
        if (flag && strcmp(argv[i], flag) == 0) {
            *flag_set = true;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            cli_error("job %s: unknown option \"%s\" (see cell job --help)", verb, argv[i]);
            return -1;
        } else if (*id) {
            cli_error("job %s: one job at a time (\"%s\" and \"%s\")", verb, *id, argv[i]);
            return -1;
        } else {
            *id = argv[i];
        }
    }
    if (*id == NULL && usage) {
        cli_error("job %s: give the job's id: %s", verb, usage);
        return -1;
    }
    return 1;
}

/* The record of `id` (NULL, said, when there is none or it is unreadable). */
/* The record directory of `id` into dir; -1 with err for an id that
 * cannot be one. */
static int record_path(const struct cli_globals *g, const char *id, char *dir, size_t len, struct cell_err *err)
{
    if (strchr(id, '/') || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
        return cell_err_set(err, 0, "no job \"%s\" (an id is one path segment)", id);
    return cell_job_record_dir(g->root, id, dir, len, err);
}

static json_t *read_record(const struct cli_globals *g, const char *id, char *dir, size_t len)
{
    struct cell_err err = {0};
    json_t *record = NULL;
    if (record_path(g, id, dir, len, &err) == 0)
        record = cell_job_record_read(dir, id, &err);
    if (record == NULL)
        cli_error("%s", err.msg);
    return record;
}

static const char *state_of(json_t *record)
{
    const char *s = json_string_value(json_object_get(record, "state"));
    return s ? s : "unknown";
}

/* Until the runner of a "running" record has ended (polling its pidfd),
 * then the record as it was left: the runner writes it before it exits. */
static json_t *wait_record(const struct cli_globals *g, const char *id, json_t *record, char *dir, size_t len)
{
    while (record && strcmp(state_of(record), "running") == 0) {
        int pidfd = (int)syscall(SYS_pidfd_open, (pid_t)json_integer_value(json_object_get(record, "pid")), 0);
        json_decref(record);
        record = read_record(g, id, dir, len); /* "running" still: pidfd is the runner's, not another's */
        if (pidfd >= 0 && record && strcmp(state_of(record), "running") == 0) {
            struct pollfd p = {.fd = pidfd, .events = POLLIN};
            while (poll(&p, 1, -1) < 0 && errno == EINTR)
                ;
            json_decref(record);
            record = read_record(g, id, dir, len);
        }
        if (pidfd >= 0)
            close(pidfd);
    }
    /* a runner that ended without its record: celld (its parent) writes
     * why once it has reaped it, a moment later; without celld it stays
     * lost */
    for (int i = 0; i < 300 && record && strcmp(state_of(record), "lost") == 0; i++) {
        usleep(10000);
        json_decref(record);
        record = read_record(g, id, dir, len);
    }
    return record;
}

/* The exit code a record stands for (`wait`, `submit --wait`). */
static int record_exit_code(json_t *record)
{
    json_t *code = json_object_get(record, "exitCode");
    return json_is_integer(code) ? (int)json_integer_value(code) : CELL_EXIT_SETUP;
}

static void say_end(const char *id, json_t *record)
{
    const char *state = state_of(record);
    const char *error = json_string_value(json_object_get(record, "error"));
    if (error)
        fprintf(stderr, "cell: job %s: %s\n", id, error);
    if (strcmp(state, "timeout") == 0)
        fprintf(stderr, "cell %s: timed out (run.timeoutMs): killed\n", id);
    else if (strcmp(state, "ttl") == 0)
        fprintf(stderr, "cell %s: its TTL (lifetime.ttlSeconds) expired: killed\n", id);
    else if (strcmp(state, "lost") == 0)
        fprintf(stderr, "cell: job %s: its runner is gone without recording the job's end\n", id);
}

/* `wait`: until job `id` has ended; what happened said, its exit code. */
static int wait_for_end(const struct cli_globals *g, const char *id)
{
    char dir[PATH_MAX];
    json_t *record = wait_record(g, id, read_record(g, id, dir, sizeof dir), dir, sizeof dir);
    if (record == NULL)
        return CELL_EXIT_SETUP;
    say_end(id, record);
    int code = record_exit_code(record);
    json_decref(record);
    return code;
}

int job_submit(int argc, char **argv, const struct cli_globals *g)
{
    struct job_args a;
    int parsed = job_parse_args(argc, argv, false, &a);
    if (parsed <= 0)
        return parsed == 0 ? 0 : parsed == -2 ? 2 : CELL_EXIT_SETUP;
    /* the same checks as `job run`, before celld is bothered, of the very
     * text that is sent */
    struct cell_spec spec;
    struct cell_job job;
    struct cell_err err = {0};
    size_t len;
    char *text = cell_job_read_file(a.file, &len, &err);
    if (text && strlen(text) != len)
        cell_err_set(&err, 0, "job %s: it holds a NUL byte (a JSON document holds none)", a.file);
    if (text == NULL || strlen(text) != len || cell_job_load(a.file, text, len, &spec, &job, &err) < 0) {
        cli_error("%s", err.msg);
        free(text);
        return CELL_EXIT_SETUP;
    }
    char id[256];
    snprintf(id, sizeof id, "%s", job.id);
    cell_job_free(&job);
    cell_spec_free(&spec);
    if (len > CELL_CONTROL_MAX_LINE - 64 * 1024) {
        cli_error("job submit: %s: %zu bytes; a submitted document is at most %d KiB (cell job run takes up to 1 "
                  "MiB)",
                  a.file, len, (CELL_CONTROL_MAX_LINE - 64 * 1024) / 1024);
        free(text);
        return CELL_EXIT_SETUP;
    }
    json_t *req = request("job-submit");
    json_object_set_new(req, "document", json_string(text));
    json_object_set_new(req, "source", json_string(a.file));
    free(text);
    const struct {
        const char *field, *value;
    } paths[] = {{"export_dir", a.export_dir}, {"secrets_dir", a.secrets_dir}};
    for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
        char abs[PATH_MAX];
        if (paths[i].value == NULL)
            continue;
        if (absolute(paths[i].value, abs, sizeof abs) < 0) {
            cli_error("job submit: %s: the path is too long", paths[i].value);
            json_decref(req);
            return CELL_EXIT_SETUP;
        }
        json_object_set_new(req, paths[i].field, json_string(abs));
    }
    if (a.egress_netns)
        json_object_set_new(req, "egress_netns", json_string(a.egress_netns));
    if (a.runtime_path[0])
        json_object_set_new(req, "oci_runtime", json_string(a.runtime_path));
    json_t *answer = celld_call(g, req, true);
    if (answer == NULL)
        return CELL_EXIT_SETUP;
    json_decref(answer);
    if (!a.wait) {
        printf("%s\n", id);
        return 0;
    }
    return wait_for_end(g, id);
}

static void print_json(json_t *v)
{
    char *text = json_dumps(v, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (text)
        printf("%s\n", text);
    free(text);
}

static const char *str(json_t *record, const char *key)
{
    const char *s = json_string_value(json_object_get(record, key));
    return s ? s : "-";
}

static int by_submitted(const void *x, const void *y)
{
    json_t *const *a = x, *const *b = y;
    int c = strcmp(str(*a, "submitted"), str(*b, "submitted"));
    return c ? c : strcmp(str(*a, "id"), str(*b, "id"));
}

static void list_line(json_t *r)
{
    char exit_code[16] = "-";
    if (json_is_integer(json_object_get(r, "exitCode")))
        snprintf(exit_code, sizeof exit_code, "%lld", (long long)json_integer_value(json_object_get(r, "exitCode")));
    printf("%-24s %-10s %4s  %-24s %s\n", str(r, "id"), state_of(r), exit_code, str(r, "submitted"), str(r, "ended"));
}

int job_status(int argc, char **argv, const struct cli_globals *g)
{
    bool as_json = false;
    const char *id;
    int rc = one_id(argc, argv, "status", NULL, "--json", &as_json, &id);
    if (rc <= 0)
        return rc == 0 ? 0 : 2;
    if (id) {
        char dir[PATH_MAX];
        json_t *record = read_record(g, id, dir, sizeof dir);
        if (record == NULL)
            return 1;
        if (as_json) {
            print_json(record);
        } else {
            printf("%-24s %-10s %4s  %-24s %s\n", "ID", "STATE", "EXIT", "SUBMITTED", "ENDED");
            list_line(record);
            say_end(id, record);
            size_t i;
            json_t *r;
            json_array_foreach(json_object_get(json_object_get(record, "report"), "residue"), i, r)
            {
                printf("left behind: %s %s\n", str(r, "kind"), str(r, "what"));
            }
        }
        json_decref(record);
        return 0;
    }
    struct cell_err err = {0};
    json_t *all = cell_job_records(g->root, &err);
    if (all == NULL) {
        cli_error("job status: %s", err.msg);
        return 1;
    }
    size_t n = json_array_size(all);
    json_t **sorted = calloc(n ? n : 1, sizeof *sorted);
    for (size_t i = 0; sorted && i < n; i++)
        sorted[i] = json_array_get(all, i);
    if (sorted && n)
        qsort(sorted, n, sizeof *sorted, by_submitted);
    if (as_json) {
        json_t *list = json_array();
        for (size_t i = 0; sorted && i < n; i++)
            json_array_append(list, sorted[i]);
        print_json(list);
        json_decref(list);
    } else {
        printf("%-24s %-10s %4s  %-24s %s\n", "ID", "STATE", "EXIT", "SUBMITTED", "ENDED");
        for (size_t i = 0; sorted && i < n; i++)
            list_line(sorted[i]);
    }
    free(sorted);
    json_decref(all);
    return 0;
}

int job_logs(int argc, char **argv, const struct cli_globals *g)
{
    const char *id;
    int rc = one_id(argc, argv, "logs", "cell job logs ID", NULL, NULL, &id);
    if (rc <= 0)
        return rc == 0 ? 0 : 2;
    char dir[PATH_MAX], path[PATH_MAX + 16];
    json_t *record = read_record(g, id, dir, sizeof dir);
    if (record == NULL)
        return 1;
    json_decref(record);
    snprintf(path, sizeof path, "%s/output.log", dir);
    cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        cli_error("job %s: %s: %s", id, path, strerror(errno));
        return 1;
    }
    char buf[65536];
    ssize_t n;
    fflush(stdout);
    while ((n = read(fd, buf, sizeof buf)) > 0)
        if (write_all(1, buf, (size_t)n) < 0)
            return 1;
    return n < 0 ? 1 : 0;
}

int job_wait(int argc, char **argv, const struct cli_globals *g)
{
    const char *id;
    int rc = one_id(argc, argv, "wait", "cell job wait ID", NULL, NULL, &id);
    if (rc <= 0)
        return rc == 0 ? 0 : 2;
    return wait_for_end(g, id);
}

/* Stop a running job: SIGTERM to its runner (passed on to the job), and
 * another one (which kills it) if it has not ended 2 s later. */
static void stop_runner(json_t *record)
{
    pid_t pid = (pid_t)json_integer_value(json_object_get(record, "pid"));
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd < 0)
        return;
    if (cell_job_process_start(pid) == (unsigned long long)json_integer_value(json_object_get(record, "pidStart"))) {
        syscall(SYS_pidfd_send_signal, pidfd, SIGTERM, NULL, 0);
        struct pollfd p = {.fd = pidfd, .events = POLLIN};
        if (poll(&p, 1, 2000) == 0)
            syscall(SYS_pidfd_send_signal, pidfd, SIGTERM, NULL, 0);
    }
    close(pidfd);
}

int job_rm(int argc, char **argv, const struct cli_globals *g)
{
    bool force = false;
    const char *id;
    int rc = one_id(argc, argv, "rm", "cell job rm [--force] ID", "--force", &force, &id);
    if (rc <= 0)
        return rc == 0 ? 0 : 2;
    char dir[PATH_MAX];
    struct cell_err err = {0};
    if (record_path(g, id, dir, sizeof dir, &err) < 0) {
        cli_error("%s", err.msg);
        return 1;
    }
    json_t *record = cell_job_record_read(dir, id, &err);
    struct stat st;
    if (record == NULL && stat(dir, &st) == 0) { /* there, but its job.json cannot be read: no runner to wait for */
        cli_error("job %s: warning: its record %s/job.json cannot be read; removing it", id, dir);
        record = json_object();
    } else if (record == NULL) {
        cli_error("%s", err.msg);
        return 1;
    }
    if (strcmp(state_of(record), "running") == 0) {
        if (!force) {
            cli_error("job %s: it is running: wait for it (cell job wait %s), or stop it and remove it with "
                      "cell job rm --force %s",
                      id, id, id);
            json_decref(record);
            return 1;
        }
        stop_runner(record);
        record = wait_record(g, id, record, dir, sizeof dir);
    }
    if (record == NULL)
        return 1;
    json_decref(record);
    if (cell_oci_remove_tree(dir, &err) < 0) {
        cli_error("job %s: remove its record: %s", id, err.msg);
        return 1;
    }
    return 0;
}
