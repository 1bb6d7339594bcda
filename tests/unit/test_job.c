/* test_job.c - the ExecutionCell front end (src/lib/spec_json.c): the
 * reference's documents translated into a spec and a job, and every error
 * with its exact text (the JSON path, what is expected). */
#include "cell/job.h"

#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const char *const full =
    "{\"apiVersion\":\"cellos.io/v1\",\"kind\":\"ExecutionCell\","
    " \"spec\":{\"id\":\"demo-cell-001\", \"correlation\":\"build-77\","
    "  \"authority\":{\"secretRefs\":[\"GITHUB_TOKEN\"],\"egressRules\":[{\"host\":\"api.example.com\",\"port\":443}]},"
    "  \"lifetime\":{\"ttlSeconds\":120},"
    "  \"run\":{\"argv\":[\"/bin/sh\",\"-c\",\"echo hi\"],\"workingDirectory\":\"/job\","
    "         \"timeoutMs\":30000,\"secretDelivery\":\"env\","
    "         \"limits\":{\"memoryMaxBytes\":268435456,\"cpuMax\":{\"quota\":50000,\"periodMicros\":100000}}},"
    "  \"export\":{\"artifacts\":[{\"name\":\"report\",\"path\":\"/job/out.txt\"}]}}}";

static void load_ok(const char *text, struct cell_spec *spec, struct cell_job *job)
{
    struct cell_err err = {0};
    if (cell_job_load("job.json", text, strlen(text), spec, job, &err) < 0)
        fail_msg("refused: %s\n%s", err.msg, text);
}

static void refused(const char *text, const char *expected)
{
    struct cell_spec spec;
    struct cell_job job;
    struct cell_err err = {0};
    if (cell_job_load("job.json", text, strlen(text), &spec, &job, &err) == 0) {
        cell_spec_free(&spec);
        cell_job_free(&job);
        fail_msg("accepted: %s", text);
    }
    if (strcmp(err.msg, expected) != 0)
        fail_msg("for %s:\nerror    \"%s\"\nexpected \"%s\"", text, err.msg, expected);
    assert_null(spec.argv);
    assert_null(spec.name);
    assert_null(job.id);
}

/* a document: id "t", `spec_rest` inside "spec", and a lifetime of 60 s
 * unless spec_rest has one */
static char *doc(const char *spec_rest)
{
    static char text[4096];
    bool lifetime = strstr(spec_rest, "\"lifetime\"") != NULL;
    snprintf(text, sizeof text,
             "{\"apiVersion\":\"cellos.io/v1\",\"kind\":\"ExecutionCell\",\"spec\":{\"id\":\"t\"%s%s%s}}",
             lifetime ? "" : ",\"lifetime\":{\"ttlSeconds\":60}", spec_rest[0] ? "," : "", spec_rest);
    return text;
}

static void the_reference_document(void **state)
{
    (void)state;
    struct cell_spec spec;
    struct cell_job job;
    load_ok(full, &spec, &job);
    assert_string_equal(job.id, "demo-cell-001");
    assert_string_equal(spec.name, "demo-cell-001");
    assert_string_equal(job.correlation, "build-77");
    assert_int_equal(job.nsecret_refs, 1);
    assert_string_equal(job.secret_refs[0], "GITHUB_TOKEN");
    assert_null(job.secret_refs[1]);
    assert_int_equal(job.negress, 1);
    assert_string_equal(job.egress[0].host, "api.example.com");
    assert_int_equal(job.egress[0].port, 443);
    assert_string_equal(job.egress[0].protocol, "tcp");
    assert_int_equal(job.ttl_seconds, 120);
    assert_true(job.has_run);
    assert_string_equal(job.working_directory, "/job");
    assert_int_equal(job.timeout_ms, 30000);
    assert_int_equal(job.delivery, CELL_SECRET_ENV);
    assert_int_equal(job.nartifacts, 1);
    assert_string_equal(job.artifacts[0].name, "report");
    assert_string_equal(job.artifacts[0].path, "/job/out.txt");
    /* the spec: the command, the working directory a tmpfs and the cwd,
     * the limits, the timeout in whole seconds, no network, no environment */
    assert_string_equal(spec.argv[0], "/bin/sh");
    assert_string_equal(spec.argv[2], "echo hi");
    assert_null(spec.argv[3]);
    assert_string_equal(spec.cwd, "/job");
    assert_int_equal(spec.nmounts, 1);
    assert_int_equal(spec.mounts[0].kind, CELL_MOUNT_TMPFS);
    assert_string_equal(spec.mounts[0].destination, "/job");
    assert_int_equal(spec.limits.memory_bytes, 268435456);
    assert_int_equal(spec.limits.cpu_millis, 500);
    assert_int_equal(spec.timeout_sec, 30);
    assert_int_equal(spec.net_mode, CELL_NET_NONE);
    assert_int_equal(spec.negress, 1);
    assert_string_equal(spec.egress[0].host, "api.example.com");
    assert_int_equal(spec.egress[0].port, 443);
    assert_true(spec.env == NULL || spec.env[0] == NULL);
    cell_spec_free(&spec);
    cell_job_free(&job);
}

static void the_minimal_document_and_others(void **state)
{
    (void)state;
    struct cell_spec spec;
    struct cell_job job;
    /* the reference's minimal document: no run, nothing to export */
    load_ok("{\"apiVersion\":\"cellos.io/v1\",\"kind\":\"ExecutionCell\",\"spec\":{\"id\":\"t\","
            "\"authority\":{\"secretRefs\":[]},\"lifetime\":{\"ttlSeconds\":60}}}",
            &spec, &job);
    assert_false(job.has_run);
    assert_null(spec.argv);
    assert_int_equal(job.nsecret_refs, 0);
    assert_int_equal(job.ttl_seconds, 60);
    cell_spec_free(&spec);
    cell_job_free(&job);
    /* a run without a working directory: cwd "/"; file delivery; udp; a
     * correlation object; timeouts round up; nulls are absent */
    load_ok(doc("\"correlation\":{\"b\":\"2\",\"a\":\"1\"},\"run\":{\"argv\":[\"/bin/true\"],\"timeoutMs\":1500,"
                "\"secretDelivery\":\"runtimeLeasedBroker\",\"workingDirectory\":null},"
                "\"export\":{\"artifacts\":[]},\"authority\":{\"egressRules\":[{\"host\":\"10.0.0.1\",\"port\":53,"
                "\"protocol\":\"udp\"}]}"),
            &spec, &job);
    assert_string_equal(spec.cwd, "/");
    assert_int_equal(spec.nmounts, 0);
    assert_int_equal(spec.timeout_sec, 2);
    assert_int_equal(job.delivery, CELL_SECRET_LEASED_BROKER);
    assert_string_equal(job.egress[0].protocol, "udp");
    assert_string_equal(job.correlation, "{\"a\":\"1\",\"b\":\"2\"}");
    cell_spec_free(&spec);
    cell_job_free(&job);
}

static void errors_name_the_json_path(void **state)
{
    (void)state;
    refused("[]", "job.json: (the document): expected an object, not an array");
    refused("{", "job.json: line 1, column 1: string or '}' expected near end of file");
    refused("{\"apiVersion\":\"cellos.io/v2\",\"kind\":\"ExecutionCell\",\"spec\":{}}",
            "job.json: apiVersion: \"cellos.io/v2\" is not supported (\"cellos.io/v1\")");
    refused("{\"apiVersion\":\"cellos.io/v1\",\"kind\":\"Pod\",\"spec\":{}}",
            "job.json: kind: \"Pod\" is not supported (\"ExecutionCell\")");
    refused("{\"kind\":\"ExecutionCell\",\"spec\":{}}", "job.json: apiVersion: required (\"cellos.io/v1\")");
    refused("{\"apiVersion\":\"cellos.io/v1\",\"kind\":\"ExecutionCell\"}", "job.json: spec: required");
    refused("{\"apiVersion\":\"cellos.io/v1\",\"kind\":\"ExecutionCell\",\"spec\":{},\"extra\":1}",
            "job.json: extra: unknown key (known here: apiVersion, kind, metadata, spec)");
    refused("{\"apiVersion\":\"cellos.io/v1\",\"kind\":\"ExecutionCell\",\"spec\":{\"lifetime\":{\"ttlSeconds\":1}}}",
            "job.json: spec.id: required (one path segment naming the cell)");
    refused("{\"apiVersion\":\"cellos.io/v1\",\"kind\":\"ExecutionCell\",\"spec\":{\"id\":\"\"}}",
            "job.json: spec.id: empty: give the cell a name");
    refused("{\"apiVersion\":\"cellos.io/v1\",\"kind\":\"ExecutionCell\",\"spec\":{\"id\":\"a/b\"}}",
            "job.json: spec.id: \"a/b\" has more than one path segment");
    refused("{\"apiVersion\":\"cellos.io/v1\",\"kind\":\"ExecutionCell\",\"spec\":{\"id\":\"..\"}}",
            "job.json: spec.id: \"..\" is not a cell id (1-63 letters, digits, '-', '_', '.'; first a letter or "
            "digit)");
    refused("{\"apiVersion\":\"cellos.io/v1\",\"kind\":\"ExecutionCell\",\"spec\":{\"id\":7}}",
            "job.json: spec.id: expected a string, not a number");
    refused("{\"apiVersion\":\"cellos.io/v1\",\"kind\":\"ExecutionCell\",\"spec\":{\"id\":\"t\"}}",
            "job.json: spec.lifetime: required (ttlSeconds)");
    refused(doc("\"lifetime\":{\"ttlSeconds\":0}"),
            "job.json: spec.lifetime.ttlSeconds: 0: a cell must be given some time to live");
    refused(doc("\"lifetime\":{}"),
            "job.json: spec.lifetime.ttlSeconds: required (seconds the cell may live, above 0)");
    refused(doc("\"lifetime\":{\"ttlSeconds\":-5}"),
            "job.json: spec.lifetime.ttlSeconds: expected a whole number from 1 to 604800");
    refused(doc("\"lifetime\":{\"ttlSeconds\":1.5}"),
            "job.json: spec.lifetime.ttlSeconds: expected a whole number from 1 to 604800");
    refused(doc("\"lifetime\":{\"ttl\":5}"), "job.json: spec.lifetime.ttl: unknown key (known here: ttlSeconds)");
    refused(doc("\"run\":{}"), "job.json: spec.run.argv: required (the command and its arguments)");
    refused(doc("\"run\":{\"argv\":[]}"), "job.json: spec.run.argv: empty: give the command to run");
    refused(doc("\"run\":{\"argv\":[\"\"]}"), "job.json: spec.run.argv[0]: an empty command");
    refused(doc("\"run\":{\"argv\":[\"/bin/sh\",3]}"), "job.json: spec.run.argv[1]: expected a string, not a number");
    refused(doc("\"run\":{\"argv\":[\"x\"],\"workingDirectory\":\"job\"}"),
            "job.json: spec.run.workingDirectory: \"job\" is not an absolute path below / (no \".\" or \"..\")");
    refused(doc("\"run\":{\"argv\":[\"x\"],\"workingDirectory\":\"/a/../b\"}"),
            "job.json: spec.run.workingDirectory: \"/a/../b\" is not an absolute path below / (no \".\" or \"..\")");
    refused(doc("\"run\":{\"argv\":[\"x\"],\"timeoutMs\":0}"),
            "job.json: spec.run.timeoutMs: expected a whole number from 1 to 604800000");
    refused(doc("\"run\":{\"argv\":[\"x\"],\"secretDelivery\":\"mail\"}"),
            "job.json: spec.run.secretDelivery: \"mail\" is not a delivery (env, runtimeBroker, runtimeLeasedBroker)");
    refused(doc("\"run\":{\"argv\":[\"x\"],\"limits\":{\"memoryMaxBytes\":10}}"),
            "job.json: spec.run.limits.memoryMaxBytes: expected a whole number from 1048576 to 9223372036854775807");
    refused(doc("\"run\":{\"argv\":[\"x\"],\"limits\":{\"cpuMax\":{\"periodMicros\":100000}}}"),
            "job.json: spec.run.limits.cpuMax.quota: required (microseconds per period)");
    refused(doc("\"run\":{\"argv\":[\"x\"],\"limits\":{\"cpu\":1}}"),
            "job.json: spec.run.limits.cpu: unknown key (known here: memoryMaxBytes, cpuMax)");
    refused(doc("\"run\":{\"argv\":[\"x\"],\"env\":[\"A=1\"]}"),
            "job.json: spec.run.env: unknown key (known here: argv, workingDirectory, timeoutMs, secretDelivery, "
            "limits)");
    refused(doc("\"authority\":{\"secretRefs\":[\"A-B\"]}"),
            "job.json: spec.authority.secretRefs[0]: \"A-B\" is not a secret key (letters, digits and '_', not first "
            "a digit, 1-64)");
    refused(doc("\"authority\":{\"secretRefs\":[\"A\",\"A\"]}"),
            "job.json: spec.authority.secretRefs[1]: \"A\" is given twice");
    refused(doc("\"authority\":{\"egressRules\":[{\"host\":\"x\"}]}"),
            "job.json: spec.authority.egressRules[0].port: required");
    refused(doc("\"authority\":{\"egressRules\":[{\"host\":\"x\",\"port\":70000}]}"),
            "job.json: spec.authority.egressRules[0].port: expected a whole number from 1 to 65535");
    refused(doc("\"authority\":{\"egressRules\":[{\"host\":\"x y\",\"port\":1}]}"),
            "job.json: spec.authority.egressRules[0].host: \"x y\" is not a host name or address");
    refused(doc("\"authority\":{\"egressRules\":[{\"host\":\"x\",\"port\":1,\"protocol\":\"icmp\"}]}"),
            "job.json: spec.authority.egressRules[0].protocol: \"icmp\" is not a protocol (tcp or udp)");
    refused(doc("\"authority\":{\"secrets\":[]}"),
            "job.json: spec.authority.secrets: unknown key (known here: secretRefs, egressRules)");
    refused(doc("\"export\":{\"artifacts\":[{\"name\":\"a/b\",\"path\":\"/x\"}]}"),
            "job.json: spec.export.artifacts[0].name: \"a/b\" is not a name (one path segment: letters, digits, '-', "
            "'_', '.')");
    refused(doc("\"export\":{\"artifacts\":[{\"name\":\"a\",\"path\":\"x\"}]}"),
            "job.json: spec.export.artifacts[0].path: \"x\" is not an absolute path in the cell (no \".\" or \"..\")");
    refused(doc("\"export\":{\"artifacts\":[{\"name\":\"a\",\"path\":\"/x\"},{\"name\":\"a\",\"path\":\"/y\"}]}"),
            "job.json: spec.export.artifacts[1].name: \"a\" is given twice");
    refused(doc("\"export\":{\"artifacts\":[{\"name\":\"a\"}]}"), "job.json: spec.export.artifacts[0].path: required");
    refused(doc("\"correlation\":{\"a\":1}"), "job.json: spec.correlation.a: expected a string, not a number");
    refused(doc("\"runn\":{}"),
            "job.json: spec.runn: unknown key (known here: id, correlation, authority, lifetime, run, export)");
    /* duplicate keys are refused by the reader */
    refused("{\"apiVersion\":\"cellos.io/v1\",\"apiVersion\":\"cellos.io/v1\"}",
            "job.json: line 1, column 41: duplicate object key near '\"apiVersion\"'");
}

/* examples/jobs: every valid document loads, every invalid one gives the
 * error examples/jobs/invalid/expected-errors.txt says */
static void the_examples(void **state)
{
    (void)state;
    const char *root = getenv("CELL_SOURCE_ROOT");
    if (root == NULL)
        fail_msg("CELL_SOURCE_ROOT is not set (meson test sets it; by hand: CELL_SOURCE_ROOT=$PWD)");
    static const char *const valid[] = {"minimal", "hello", "secrets-env", "secrets-file", "timeout", "reference"};
    for (size_t i = 0; i < sizeof valid / sizeof *valid; i++) {
        char path[512];
        struct cell_spec spec;
        struct cell_job job;
        struct cell_err err = {0};
        snprintf(path, sizeof path, "%s/examples/jobs/%s.json", root, valid[i]);
        if (cell_job_load_file(path, &spec, &job, &err) < 0)
            fail_msg("%s: %s", path, err.msg);
        cell_spec_free(&spec);
        cell_job_free(&job);
    }
    char list[512], line[512];
    snprintf(list, sizeof list, "%s/examples/jobs/invalid/expected-errors.txt", root);
    FILE *f = fopen(list, "r");
    assert_non_null(f);
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *colon = strchr(line, ':'), path[512], want[600];
        assert_non_null(colon);
        *colon = '\0';
        snprintf(path, sizeof path, "%s/examples/jobs/invalid/%s", root, line);
        snprintf(want, sizeof want, "%s:%s", path, colon + 1);
        struct cell_spec spec;
        struct cell_job job;
        struct cell_err err = {0};
        if (cell_job_load_file(path, &spec, &job, &err) == 0)
            fail_msg("%s was accepted", path);
        if (strcmp(err.msg, want) != 0)
            fail_msg("%s:\nerror    \"%s\"\nexpected \"%s\"", path, err.msg, want);
        n++;
    }
    fclose(f);
    assert_int_equal(n, 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_reference_document),
        cmocka_unit_test(the_minimal_document_and_others),
        cmocka_unit_test(errors_name_the_json_path),
        cmocka_unit_test(the_examples),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
