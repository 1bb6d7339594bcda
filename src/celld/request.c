/* request.c - one control-socket request line, checked before celld acts on
 * it: a JSON object with a known "op" and the fields that op needs, of the
 * right types ("name": a valid cell name; "names": an array of them; "args":
 * an array of strings). Untrusted input: it has a fuzz target
 * (tests/fuzz/fuzz_request.c) and nothing here touches celld's state. */
#include "request.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    enum request_op op;
    bool needs_name;
} ops[] = {
    {"ping", OP_PING, false},
    {"run", OP_RUN, false},
    {"status", OP_STATUS, false},
    {"start", OP_START, true},
    {"stop", OP_STOP, true},
    {"restart", OP_RESTART, true},
    {"delete", OP_DELETE, true},
    {"swap", OP_SWAP, true},
    {"events", OP_EVENTS, false},
    {"up", OP_UP, false},
    {"down", OP_DOWN, false},
    {"declare", OP_DECLARE, false},
    {"job-submit", OP_JOB_SUBMIT, false},
};

#define RUN_MAX_ARGS 4096

static int fail(char *err, size_t len, const char *msg, const char *detail)
{
    snprintf(err, len, msg, detail);
    return -1;
}

/* A cell name from the request, quoted in errors only as far as printable. */
static int check_name(json_t *v, const char *field, char *err, size_t len)
{
    const char *name = json_string_value(v);
    if (name == NULL)
        return fail(err, len, "the request needs \"%s\", a cell name", field);
    if (!cell_name_valid(name))
        return fail(err, len, "\"%s\": not a cell name (1-63 letters, digits, '-', '_' or '.')", field);
    return 0;
}

/* job-submit's optional fields: strings; the paths absolute */
static const struct {
    const char *field;
    size_t offset;
    bool path;
} job_options[] = {
    {"export_dir", offsetof(struct request, export_dir), true},
    {"secrets_dir", offsetof(struct request, secrets_dir), true},
    {"egress_netns", offsetof(struct request, egress_netns), false},
    {"oci_runtime", offsetof(struct request, oci_runtime), false},
};

static int check_job_submit(json_t *o, struct request *req, char *err, size_t len)
{
    req->document = json_string_value(json_object_get(o, "document"));
    req->source = json_string_value(json_object_get(o, "source"));
    if (req->document == NULL || req->document[0] == '\0')
        return fail(err, len, "job-submit: the request needs \"document\", the document's text%s", "");
    if (req->source == NULL || req->source[0] == '\0' || strlen(req->source) > 4096)
        return fail(err, len, "job-submit: the request needs \"source\", the document's name (1-4096 bytes)%s", "");
    for (size_t i = 0; i < sizeof job_options / sizeof job_options[0]; i++) {
        json_t *v = json_object_get(o, job_options[i].field);
        if (v == NULL || json_is_null(v))
            continue;
        const char *s = json_string_value(v);
        if (s == NULL || s[0] == '\0' || strlen(s) >= 4096 || (job_options[i].path && s[0] != '/'))
            return fail(err, len,
                        job_options[i].path ? "job-submit: \"%s\" must be an absolute path"
                                            : "job-submit: \"%s\" must be a non-empty string",
                        job_options[i].field);
        *(const char **)((char *)req + job_options[i].offset) = s;
    }
    return 0;
}

int request_parse(const char *line, struct request *req, char *err, size_t len)
{
    memset(req, 0, sizeof *req);
    json_error_t jerr;
    json_t *o = json_loads(line, JSON_REJECT_DUPLICATES, &jerr);
    if (o == NULL)
        return fail(err, len, "not a JSON object: %s", jerr.text);
    if (!json_is_object(o)) {
        json_decref(o);
        return fail(err, len, "not a JSON object: %s", "another JSON value");
    }
    req->json = o;
    const char *op = json_string_value(json_object_get(o, "op"));
    if (op == NULL) {
        request_free(req);
        return fail(err, len, "the request needs an \"op\"%s", "");
    }
    size_t i;
    for (i = 0; i < sizeof ops / sizeof ops[0] && strcmp(ops[i].name, op) != 0; i++)
        ;
    if (i == sizeof ops / sizeof ops[0]) {
        char shown[80];
        snprintf(shown, sizeof shown, "%.64s", op);
        request_free(req);
        return fail(err, len, "unknown op \"%s\"", shown);
    }
    req->op = ops[i].op;
    if (ops[i].needs_name) {
        if (check_name(json_object_get(o, "name"), "name", err, len) < 0) {
            request_free(req);
            return -1;
        }
        req->name = json_string_value(json_object_get(o, "name"));
    }
    if (req->op == OP_RUN || req->op == OP_DECLARE) {
        const char *op_name = ops[i].name; /* `op` goes with the request */
        json_t *args = json_object_get(o, "args"), *a;
        if (!json_is_array(args) || json_array_size(args) == 0 || json_array_size(args) > RUN_MAX_ARGS) {
            request_free(req);
            return fail(err, len, "%s: the request needs \"args\", an array of 1-4096 strings", op_name);
        }
        json_array_foreach(args, i, a) if (!json_is_string(a))
        {
            request_free(req);
            return fail(err, len, "%s: \"args\" holds a value that is not a string", op_name);
        }
        req->args = args;
    }
    if (req->op == OP_JOB_SUBMIT && check_job_submit(o, req, err, len) < 0) {
        request_free(req);
        return -1;
    }
    if (req->op == OP_STATUS) {
        json_t *names = json_object_get(o, "names"), *n;
        if (names && !json_is_array(names) && !json_is_null(names)) {
            request_free(req);
            return fail(err, len, "status: \"names\" must be an array of cell names%s", "");
        }
        json_array_foreach(names, i, n) if (check_name(n, "names", err, len) < 0)
        {
            request_free(req);
            return -1;
        }
        req->names = json_is_array(names) ? names : NULL;
    }
    return 0;
}

void request_free(struct request *req)
{
    json_decref(req->json);
    memset(req, 0, sizeof *req);
}
