/* test_request.c - unit tests for celld's request checking (src/celld/
 * request.c): every op accepted with the fields it needs, and every error it
 * reports, by message. */
#include "request.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static void refused(const char *line, const char *needle)
{
    struct request req;
    char err[512] = "";
    if (request_parse(line, &req, err, sizeof err) == 0)
        fail_msg("accepted: %s", line);
    if (strstr(err, needle) == NULL)
        fail_msg("for %s: error \"%s\" does not contain \"%s\"", line, err, needle);
    assert_null(req.json);
}

static struct request accepted(const char *line)
{
    struct request req;
    char err[512] = "";
    if (request_parse(line, &req, err, sizeof err) < 0)
        fail_msg("refused %s: %s", line, err);
    return req;
}

static void test_every_op(void **state)
{
    (void)state;
    static const struct {
        const char *line;
        enum request_op op;
    } cases[] = {
        {"{\"op\":\"ping\"}", OP_PING},
        {"{\"op\":\"status\"}", OP_STATUS},
        {"{\"op\":\"status\",\"names\":null}", OP_STATUS},
        {"{\"op\":\"start\",\"name\":\"web\"}", OP_START},
        {"{\"op\":\"stop\",\"name\":\"web\"}", OP_STOP},
        {"{\"op\":\"restart\",\"name\":\"w.e-b_1\"}", OP_RESTART},
        {"{\"op\":\"delete\",\"name\":\"web\"}", OP_DELETE},
        {"{\"op\":\"swap\",\"name\":\"web\"}", OP_SWAP},
        {"{\"op\":\"events\"}", OP_EVENTS},
        {"{\"op\":\"up\"}", OP_UP},
        {"{\"op\":\"down\",\"extra\":1}", OP_DOWN},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct request req = accepted(cases[i].line);
        assert_int_equal(req.op, cases[i].op);
        request_free(&req);
    }
    struct request req = accepted("{\"op\":\"run\",\"args\":[\"-d\",\"--\",\"/bin/true\"]}");
    assert_int_equal(req.op, OP_RUN);
    assert_int_equal(json_array_size(req.args), 3);
    request_free(&req);
    req = accepted("{\"op\":\"declare\",\"args\":[\"-d\",\"--\",\"/bin/true\"]}");
    assert_int_equal(req.op, OP_DECLARE);
    assert_int_equal(json_array_size(req.args), 3);
    request_free(&req);
    req = accepted("{\"op\":\"status\",\"names\":[\"a\",\"b\"]}");
    assert_int_equal(json_array_size(req.names), 2);
    request_free(&req);
    req = accepted("{\"op\":\"stop\",\"name\":\"web\"}");
    assert_string_equal(req.name, "web");
    request_free(&req);
    req = accepted("{\"op\":\"job-submit\",\"document\":\"{}\",\"source\":\"j.json\"}");
    assert_int_equal(req.op, OP_JOB_SUBMIT);
    assert_string_equal(req.document, "{}");
    assert_string_equal(req.source, "j.json");
    assert_null(req.export_dir);
    assert_null(req.oci_runtime);
    request_free(&req);
    req = accepted("{\"op\":\"job-submit\",\"document\":\"{}\",\"source\":\"j.json\",\"export_dir\":\"/x\","
                   "\"secrets_dir\":\"/s\",\"egress_netns\":\"out\",\"oci_runtime\":\"runc\"}");
    assert_string_equal(req.export_dir, "/x");
    assert_string_equal(req.secrets_dir, "/s");
    assert_string_equal(req.egress_netns, "out");
    assert_string_equal(req.oci_runtime, "runc");
    request_free(&req);
}

static void test_errors(void **state)
{
    (void)state;
    refused("", "not a JSON object:");
    refused("{\"op\":", "not a JSON object:");
    refused("[1,2]", "not a JSON object: another JSON value");
    refused("\"ping\"", "not a JSON object:"); /* a bare value: jansson wants an array or object */
    refused("{\"op\":\"ping\",\"op\":\"down\"}", "not a JSON object:"); /* duplicate keys */
    refused("{}", "the request needs an \"op\"");
    refused("{\"op\":7}", "the request needs an \"op\"");
    refused("{\"op\":\"explode\"}", "unknown op \"explode\"");
    refused("{\"op\":\"stop\"}", "the request needs \"name\", a cell name");
    refused("{\"op\":\"stop\",\"name\":3}", "the request needs \"name\", a cell name");
    refused("{\"op\":\"start\",\"name\":\"../etc\"}", "\"name\": not a cell name");
    refused("{\"op\":\"delete\",\"name\":\"\"}", "\"name\": not a cell name");
    refused("{\"op\":\"run\"}", "run: the request needs \"args\", an array of 1-4096 strings");
    refused("{\"op\":\"run\",\"args\":[]}", "run: the request needs \"args\"");
    refused("{\"op\":\"run\",\"args\":\"-d\"}", "run: the request needs \"args\"");
    refused("{\"op\":\"run\",\"args\":[\"-d\",1]}", "run: \"args\" holds a value that is not a string");
    refused("{\"op\":\"declare\"}", "declare: the request needs \"args\", an array of 1-4096 strings");
    refused("{\"op\":\"declare\",\"args\":[null]}", "declare: \"args\" holds a value that is not a string");
    refused("{\"op\":\"status\",\"names\":\"web\"}", "status: \"names\" must be an array of cell names");
    refused("{\"op\":\"status\",\"names\":[1]}", "the request needs \"names\", a cell name");
    refused("{\"op\":\"status\",\"names\":[\"a/b\"]}", "\"names\": not a cell name");
    refused("{\"op\":\"job-submit\"}", "job-submit: the request needs \"document\", the document's text");
    refused("{\"op\":\"job-submit\",\"document\":\"\"}", "job-submit: the request needs \"document\"");
    refused("{\"op\":\"job-submit\",\"document\":{}}", "job-submit: the request needs \"document\"");
    refused("{\"op\":\"job-submit\",\"document\":\"{}\"}",
            "job-submit: the request needs \"source\", the document's name (1-4096 bytes)");
    refused("{\"op\":\"job-submit\",\"document\":\"{}\",\"source\":\"\"}", "the request needs \"source\"");
    refused("{\"op\":\"job-submit\",\"document\":\"{}\",\"source\":\"j\",\"export_dir\":\"rel\"}",
            "job-submit: \"export_dir\" must be an absolute path");
    refused("{\"op\":\"job-submit\",\"document\":\"{}\",\"source\":\"j\",\"secrets_dir\":7}",
            "job-submit: \"secrets_dir\" must be an absolute path");
    refused("{\"op\":\"job-submit\",\"document\":\"{}\",\"source\":\"j\",\"oci_runtime\":\"\"}",
            "job-submit: \"oci_runtime\" must be a non-empty string");
    refused("{\"op\":\"job-submit\",\"document\":\"{}\",\"source\":\"j\",\"egress_netns\":[]}",
            "job-submit: \"egress_netns\" must be a non-empty string");
}

static void test_long_op_is_cut(void **state)
{
    (void)state;
    char line[400];
    memset(line, 0, sizeof line);
    strcpy(line, "{\"op\":\"");
    memset(line + strlen(line), 'x', 200);
    strcat(line, "\"}");
    struct request req;
    char err[512];
    assert_int_equal(request_parse(line, &req, err, sizeof err), -1);
    assert_true(strlen(err) < 100); /* the op is quoted, cut at 64 characters */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_op),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_long_op_is_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
