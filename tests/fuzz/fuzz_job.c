/* fuzz_job.c - libFuzzer target for the ExecutionCell front end
 * (src/lib/spec_json.c): the input is one document's text. Besides crashes
 * and sanitizer reports it checks that a refusal names the document and
 * keeps nothing, and that an accepted job is what the runner relies on: an
 * id that is one safe path segment (it names the cell and an export
 * folder), a TTL, artifact names that are one segment and paths that are
 * absolute without "..", secret keys of safe characters, and a working
 * directory that is the spec's cwd and a tmpfs. */
#include "cell/job.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_job: check failed: %s\n", what);
        abort();
    }
}

static int safe_segment(const char *s)
{
    return s && s[0] && strlen(s) <= 63 && strcmp(s, ".") != 0 && strcmp(s, "..") != 0 &&
           s[strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")] == '\0';
}

static int clean_absolute(const char *s)
{
    return s && s[0] == '/' && strstr(s, "/../") == NULL && strstr(s, "//") == NULL &&
           (strlen(s) < 3 || strcmp(s + strlen(s) - 3, "/..") != 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cell_spec spec;
    struct cell_job job;
    struct cell_err err = {0};
    if (cell_job_load("fuzz.json", (const char *)data, size, &spec, &job, &err) < 0) {
        check(strncmp(err.msg, "fuzz.json: ", 11) == 0 && err.msg[11] != '\0', "a refusal names the document");
        check(spec.argv == NULL && spec.name == NULL && job.id == NULL && job.artifacts == NULL,
              "a refusal keeps nothing");
        return 0;
    }
    check(safe_segment(job.id) && strcmp(spec.name, job.id) == 0, "the id is one safe segment and the name");
    check(job.ttl_seconds > 0, "a TTL");
    check(!job.has_run || (spec.argv && spec.argv[0] && spec.argv[0][0]), "a command when there is a run");
    for (size_t i = 0; i < job.nartifacts; i++)
        check(safe_segment(job.artifacts[i].name) && clean_absolute(job.artifacts[i].path), "a safe artifact");
    for (size_t i = 0; i < job.nsecret_refs; i++)
        check(job.secret_refs[i][0] &&
                  job.secret_refs[i][strspn(job.secret_refs[i], "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                                                "0123456789_")] == '\0',
              "a safe secret key");
    check(job.secret_refs == NULL || job.secret_refs[job.nsecret_refs] == NULL, "secret keys end with NULL");
    for (size_t i = 0; i < job.negress; i++)
        check(job.egress[i].port > 0 && job.egress[i].host[0], "an egress rule with a host and a port");
    if (job.working_directory)
        check(clean_absolute(job.working_directory) && strcmp(spec.cwd, job.working_directory) == 0 &&
                  spec.nmounts == 1 && spec.mounts[0].kind == CELL_MOUNT_TMPFS,
              "the working directory is the cwd and a tmpfs");
    check(spec.net_mode == CELL_NET_NONE, "no network but the runner's egress link");
    check(spec.env == NULL || spec.env[0] == NULL, "no environment but the secrets");
    cell_spec_free(&spec);
    cell_job_free(&job);
    return 0;
}
