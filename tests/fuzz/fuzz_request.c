/* fuzz_request.c - libFuzzer target for celld's control-socket requests: the
 * input is cut into lines at '\n', as celld's client reader does, and each
 * line goes through request_parse() (src/celld/request.c); a "run" request's
 * arguments then go on through cell_spec_from_args() and
 * cell_spec_validate(), as cell_declare() does, and a "job-submit" request's
 * document through cell_job_load(), as src/celld/jobs.c does. Besides crashes and
 * sanitizer reports it checks that every refusal carries a message and every
 * accepted request has the fields its op needs. */
#include "cell/cell.h"
#include "cell/job.h"
#include "request.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_request: check failed: %s\n", what);
        abort();
    }
}

static void run_args(json_t *args)
{
    size_t n = json_array_size(args);
    char **argv = calloc(n + 2, sizeof *argv);
    if (argv == NULL)
        return;
    argv[0] = "run";
    for (size_t i = 0; i < n; i++)
        argv[i + 1] = (char *)json_string_value(json_array_get(args, i));
    struct cell_spec spec;
    struct cell_err err = {0};
    cell_spec_init(&spec);
    int first = cell_spec_from_args((int)n + 1, argv, &spec, &err);
    if (first > 0 && cell_spec_set_argv(&spec, argv + first, &err) == 0 && cell_spec_validate(&spec, &err) == 0)
        check(spec.argv && spec.argv[0] && cell_name_valid(spec.name), "a valid run spec has a command and a name");
    else if (first != 0)
        check(err.msg[0] != '\0', "a refused run spec says why");
    cell_spec_free(&spec);
    free(argv);
}

static void one_line(const char *line)
{
    struct request req;
    char err[512] = "";
    if (request_parse(line, &req, err, sizeof err) < 0) {
        check(err[0] != '\0', "a refused request says why");
        check(req.json == NULL, "a refused request holds nothing");
        return;
    }
    check(req.op <= OP_JOB_SUBMIT, "a known op");
    switch (req.op) {
    case OP_START:
    case OP_STOP:
    case OP_RESTART:
    case OP_DELETE:
    case OP_SWAP:
        check(req.name && cell_name_valid(req.name), "a named op has a valid name");
        break;
    case OP_RUN:
    case OP_DECLARE: /* the arguments of a run, checked as one */
        check(json_is_array(req.args) && json_array_size(req.args) > 0, "run and declare have arguments");
        run_args(req.args);
        break;
    case OP_STATUS:
        check(req.names == NULL || json_is_array(req.names), "status names are an array");
        break;
    case OP_JOB_SUBMIT: { /* the document, as jobs.c loads it */
        check(req.document && req.document[0] && req.source && req.source[0], "a submit has a document and a source");
        check(!req.export_dir || req.export_dir[0] == '/', "export_dir is absolute");
        check(!req.secrets_dir || req.secrets_dir[0] == '/', "secrets_dir is absolute");
        struct cell_spec spec;
        struct cell_job job;
        struct cell_err err2 = {0};
        if (cell_job_load(req.source, req.document, strlen(req.document), &spec, &job, &err2) == 0) {
            cell_job_free(&job);
            cell_spec_free(&spec);
        } else {
            check(err2.msg[0] != '\0', "a refused document says why");
        }
        break;
    }
    default:
        break;
    }
    request_free(&req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    for (char *line = text, *nl; line; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        one_line(line);
    }
    free(text);
    return 0;
}
