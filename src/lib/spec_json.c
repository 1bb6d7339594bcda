/* spec_json.c - the ExecutionCell front end (include/cell/job.h): a CellOS
 * document into a struct cell_spec and a struct cell_job. It only reads
 * and checks; the job runner acts.
 *
 *   apiVersion            "cellos.io/v1"
 *   kind                  "ExecutionCell"
 *   spec.id               one path segment: letters, digits, '-', '_', '.',
 *                         1-63 bytes (it is the cell's name too)
 *   spec.correlation      a string (or an object of strings), kept for events
 *   spec.authority        secretRefs: keys (letters, digits, '_'), no
 *                         duplicates; egressRules: {host, port, protocol?}
 *   spec.lifetime         ttlSeconds > 0 (required)
 *   spec.run              optional: argv (non-empty strings), workingDirectory
 *                         (absolute; a tmpfs there), timeoutMs, secretDelivery
 *                         (env | runtimeBroker | runtimeLeasedBroker),
 *                         limits.memoryMaxBytes, limits.cpuMax {quota,
 *                         periodMicros}
 *   spec.export           artifacts: [{name (one segment), path (absolute)}]
 * Everything else is an error naming its JSON path: a typo must not drop a
 * rule silently. Null counts as absent. */
#include "cell/job.h"
#include "oci_json.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_DOCUMENT_BYTES (1u << 20)

struct job_ctx {
    const char *source;
    struct cell_spec *spec;
    struct cell_job *job;
    struct cell_err *err;
};

__attribute__((format(printf, 3, 4))) static int fail(struct job_ctx *c, const char *path, const char *fmt, ...)
{
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return cell_err_set(c->err, 0, "%s: %s: %s", c->source, path, what);
}

static const char *type_name(json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

static char *sub(char *out, size_t len, const char *path, const char *key)
{
    snprintf(out, len, "%s%s%s", path, path[0] ? "." : "", key);
    return out;
}

static char *idx(char *out, size_t len, const char *path, size_t i)
{
    snprintf(out, len, "%s[%zu]", path, i);
    return out;
}

/* Every non-null member of obj is in known (NULL-terminated). */
static int check_keys(struct job_ctx *c, json_t *obj, const char *path, const char *const *known)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        bool ok = json_is_null(v);
        for (const char *const *k = known; *k && !ok; k++)
            ok = strcmp(*k, key) == 0;
        if (!ok) {
            char p[256], list[256] = "";
            size_t n = 0;
            for (const char *const *k = known; *k; k++)
                n += (size_t)snprintf(list + n, n < sizeof list ? sizeof list - n : 0, "%s%s", n ? ", " : "", *k);
            return fail(c, sub(p, sizeof p, path, key), "unknown key (known here: %s)", list);
        }
    }
    return 0;
}

static int want(struct job_ctx *c, json_t *v, json_type type, const char *path)
{
    static const char *const names[] = {
        [JSON_OBJECT] = "an object", [JSON_ARRAY] = "an array", [JSON_STRING] = "a string"};
    if (json_typeof(v) != type)
        return fail(c, path, "expected %s, not %s", names[type], type_name(v));
    return 0;
}

static int string_of(struct job_ctx *c, json_t *v, const char *path, const char **out)
{
    if (want(c, v, JSON_STRING, path) < 0)
        return -1;
    *out = json_string_value(v);
    if (strlen(*out) != json_string_length(v))
        return fail(c, path, "contains a NUL byte");
    return 0;
}

/* A whole number from min to max (JSON integers, or reals that are whole). */
static int number_of(struct job_ctx *c, json_t *v, const char *path, uint64_t min, uint64_t max, uint64_t *out)
{
    double d = 0;
    if (json_is_integer(v)) {
        json_int_t n = json_integer_value(v);
        if (n >= 0 && (uint64_t)n >= min && (uint64_t)n <= max) {
            *out = (uint64_t)n;
            return 0;
        }
    } else if (json_is_real(v) && (d = json_real_value(v)) >= (double)min && d <= (double)max &&
               d == (double)(uint64_t)d) {
        *out = (uint64_t)d;
        return 0;
    }
    if (!json_is_number(v))
        return fail(c, path, "expected a number, not %s", type_name(v));
    return fail(c, path, "expected a whole number from %llu to %llu", (unsigned long long)min, (unsigned long long)max);
}

/* One path segment: letters, digits, '-', '_', '.' (not "." or ".."), 1-63. */
static bool segment_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return false;
    for (const char *p = s; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
            return false;
    return true;
}

static bool absolute_clean(const char *s)
{
    if (s[0] != '/')
        return false;
    for (const char *p = s; *p;) { /* no empty, "." or ".." part */
        p++;
        size_t n = strcspn(p, "/");
        if ((n == 0 && p[n] == '/') || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return false;
        p += n;
    }
    return true;
}

static char *dup_or_fail(struct job_ctx *c, const char *s, const char *path)
{
    char *d = strdup(s);
    if (d == NULL)
        cell_err_set(c->err, ENOMEM, "%s: %s", c->source, path);
    return d;
}

/* ---- the parts --------------------------------------------------------------- */

static int parse_top(struct job_ctx *c, json_t *top)
{
    static const char *const known[] = {"apiVersion", "kind", "metadata", "spec", NULL};
    const char *s;
    json_t *v;
    if (want(c, top, JSON_OBJECT, "(the document)") < 0 || check_keys(c, top, "", known) < 0)
        return -1;
    if ((v = oci_member(top, "apiVersion")) == NULL)
        return fail(c, "apiVersion", "required (\"cellos.io/v1\")");
    if (string_of(c, v, "apiVersion", &s) < 0)
        return -1;
    if (strcmp(s, "cellos.io/v1") != 0)
        return fail(c, "apiVersion", "\"%s\" is not supported (\"cellos.io/v1\")", s);
    if ((v = oci_member(top, "kind")) == NULL)
        return fail(c, "kind", "required (\"ExecutionCell\")");
    if (string_of(c, v, "kind", &s) < 0)
        return -1;
    if (strcmp(s, "ExecutionCell") != 0)
        return fail(c, "kind", "\"%s\" is not supported (\"ExecutionCell\")", s);
    if ((v = oci_member(top, "metadata")) && want(c, v, JSON_OBJECT, "metadata") < 0)
        return -1;
    if ((v = oci_member(top, "spec")) == NULL)
        return fail(c, "spec", "required");
    return want(c, v, JSON_OBJECT, "spec");
}

static int parse_correlation(struct job_ctx *c, json_t *v)
{
    if (json_is_string(v))
        return (c->job->correlation = dup_or_fail(c, json_string_value(v), "spec.correlation")) ? 0 : -1;
    if (!json_is_object(v))
        return fail(c, "spec.correlation", "expected a string or an object of strings, not %s", type_name(v));
    const char *key;
    json_t *x;
    json_object_foreach(v, key, x)
    {
        char p[256];
        if (!json_is_string(x))
            return fail(c, sub(p, sizeof p, "spec.correlation", key), "expected a string, not %s", type_name(x));
    }
    char *text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
    if (text == NULL)
        return cell_err_set(c->err, ENOMEM, "%s: spec.correlation", c->source);
    c->job->correlation = text;
    return 0;
}

static int parse_authority(struct job_ctx *c, json_t *a)
{
    static const char *const known[] = {"secretRefs", "egressRules", NULL};
    static const char *const rule_keys[] = {"host", "port", "protocol", NULL};
    json_t *v, *e;
    size_t i;
    if (want(c, a, JSON_OBJECT, "spec.authority") < 0 || check_keys(c, a, "spec.authority", known) < 0)
        return -1;
    if ((v = oci_member(a, "secretRefs"))) {
        if (want(c, v, JSON_ARRAY, "spec.authority.secretRefs") < 0)
            return -1;
        if (json_array_size(v) > 64)
            return fail(c, "spec.authority.secretRefs", "%zu secrets: at most 64", json_array_size(v));
        if ((c->job->secret_refs = calloc(json_array_size(v) + 1, sizeof(char *))) == NULL)
            return cell_err_set(c->err, ENOMEM, "%s: spec.authority.secretRefs", c->source);
        json_array_foreach(v, i, e)
        {
            char p[256];
            const char *s;
            idx(p, sizeof p, "spec.authority.secretRefs", i);
            if (string_of(c, e, p, &s) < 0)
                return -1;
            bool ok = s[0] != '\0' && strlen(s) <= 64 && !isdigit((unsigned char)s[0]);
            for (const char *q = s; *q && ok; q++)
                ok = isalnum((unsigned char)*q) || *q == '_';
            if (!ok)
                return fail(c, p, "\"%s\" is not a secret key (letters, digits and '_', not first a digit, 1-64)", s);
            for (size_t k = 0; k < c->job->nsecret_refs; k++)
                if (strcmp(c->job->secret_refs[k], s) == 0)
                    return fail(c, p, "\"%s\" is given twice", s);
            if ((c->job->secret_refs[c->job->nsecret_refs] = dup_or_fail(c, s, p)) == NULL)
                return -1;
            c->job->nsecret_refs++;
        }
    }
    if ((v = oci_member(a, "egressRules"))) {
        if (want(c, v, JSON_ARRAY, "spec.authority.egressRules") < 0)
            return -1;
        if (json_array_size(v) > 64)
            return fail(c, "spec.authority.egressRules", "%zu rules: at most 64", json_array_size(v));
        if ((c->job->egress = calloc(json_array_size(v) + 1, sizeof *c->job->egress)) == NULL)
            return cell_err_set(c->err, ENOMEM, "%s: spec.authority.egressRules", c->source);
        json_array_foreach(v, i, e)
        {
            char p[256], q[256];
            const char *s;
            uint64_t port;
            struct cell_egress_rule *r = &c->job->egress[i];
            idx(p, sizeof p, "spec.authority.egressRules", i);
            if (want(c, e, JSON_OBJECT, p) < 0 || check_keys(c, e, p, rule_keys) < 0)
                return -1;
            json_t *h = oci_member(e, "host"), *port_v = oci_member(e, "port"), *proto = oci_member(e, "protocol");
            if (h == NULL)
                return fail(c, sub(q, sizeof q, p, "host"), "required");
            if (string_of(c, h, sub(q, sizeof q, p, "host"), &s) < 0)
                return -1;
            bool ok = s[0] != '\0' && strlen(s) <= 253;
            for (const char *x = s; *x && ok; x++)
                ok = isalnum((unsigned char)*x) || *x == '-' || *x == '.' || *x == ':';
            if (!ok)
                return fail(c, q, "\"%s\" is not a host name or address", s);
            if (port_v == NULL)
                return fail(c, sub(q, sizeof q, p, "port"), "required");
            if (number_of(c, port_v, sub(q, sizeof q, p, "port"), 1, 65535, &port) < 0)
                return -1;
            snprintf(r->protocol, sizeof r->protocol, "tcp");
            if (proto) {
                if (string_of(c, proto, sub(q, sizeof q, p, "protocol"), &s) < 0)
                    return -1;
                if (strcmp(s, "tcp") != 0 && strcmp(s, "udp") != 0)
                    return fail(c, q, "\"%s\" is not a protocol (tcp or udp)", s);
                snprintf(r->protocol, sizeof r->protocol, "%s", s);
            }
            if ((r->host = dup_or_fail(c, json_string_value(h), p)) == NULL)
                return -1;
            r->port = (uint16_t)port;
            c->job->negress++;
        }
    }
    return 0;
}

static int parse_lifetime(struct job_ctx *c, json_t *l)
{
    static const char *const known[] = {"ttlSeconds", NULL};
    json_t *v;
    if (want(c, l, JSON_OBJECT, "spec.lifetime") < 0 || check_keys(c, l, "spec.lifetime", known) < 0)
        return -1;
    if ((v = oci_member(l, "ttlSeconds")) == NULL)
        return fail(c, "spec.lifetime.ttlSeconds", "required (seconds the cell may live, above 0)");
    if (json_is_number(v) && json_number_value(v) == 0)
        return fail(c, "spec.lifetime.ttlSeconds", "0: a cell must be given some time to live");
    return number_of(c, v, "spec.lifetime.ttlSeconds", 1, 7 * 24 * 3600, &c->job->ttl_seconds);
}

static int parse_limits(struct job_ctx *c, json_t *l)
{
    static const char *const known[] = {"memoryMaxBytes", "cpuMax", NULL};
    static const char *const cpu_keys[] = {"quota", "periodMicros", NULL};
    const char *path = "spec.run.limits";
    json_t *v;
    if (want(c, l, JSON_OBJECT, path) < 0 || check_keys(c, l, path, known) < 0)
        return -1;
    if ((v = oci_member(l, "memoryMaxBytes")) &&
        number_of(c, v, "spec.run.limits.memoryMaxBytes", 1 << 20, UINT64_MAX / 2, &c->spec->limits.memory_bytes) < 0)
        return -1;
    if ((v = oci_member(l, "cpuMax"))) {
        uint64_t quota, period = 100000;
        json_t *q, *p;
        if (want(c, v, JSON_OBJECT, "spec.run.limits.cpuMax") < 0 ||
            check_keys(c, v, "spec.run.limits.cpuMax", cpu_keys) < 0)
            return -1;
        if ((q = oci_member(v, "quota")) == NULL)
            return fail(c, "spec.run.limits.cpuMax.quota", "required (microseconds per period)");
        if (number_of(c, q, "spec.run.limits.cpuMax.quota", 1000, 1000000000ull, &quota) < 0)
            return -1;
        if ((p = oci_member(v, "periodMicros")) &&
            number_of(c, p, "spec.run.limits.cpuMax.periodMicros", 1000, 1000000, &period) < 0)
            return -1;
        uint64_t millis = (quota * 1000 + period - 1) / period;
        if (millis > 1024 * 1000)
            return fail(c, "spec.run.limits.cpuMax", "%llu/%llu is more than 1024 CPUs", (unsigned long long)quota,
                        (unsigned long long)period);
        c->spec->limits.cpu_millis = millis;
    }
    return 0;
}

static int parse_run(struct job_ctx *c, json_t *r)
{
    static const char *const known[] = {"argv", "workingDirectory", "timeoutMs", "secretDelivery", "limits", NULL};
    const char *s;
    json_t *v, *e;
    size_t i;
    if (want(c, r, JSON_OBJECT, "spec.run") < 0 || check_keys(c, r, "spec.run", known) < 0)
        return -1;
    c->job->has_run = true;
    if ((v = oci_member(r, "argv")) == NULL)
        return fail(c, "spec.run.argv", "required (the command and its arguments)");
    if (want(c, v, JSON_ARRAY, "spec.run.argv") < 0)
        return -1;
    if (json_array_size(v) == 0)
        return fail(c, "spec.run.argv", "empty: give the command to run");
    if (json_array_size(v) > 4096)
        return fail(c, "spec.run.argv", "%zu arguments: at most 4096", json_array_size(v));
    char **argv = calloc(json_array_size(v) + 1, sizeof *argv);
    if (argv == NULL)
        return cell_err_set(c->err, ENOMEM, "%s: spec.run.argv", c->source);
    json_array_foreach(v, i, e)
    {
        char p[256];
        idx(p, sizeof p, "spec.run.argv", i);
        if (string_of(c, e, p, &s) < 0 || (i == 0 && s[0] == '\0' && fail(c, p, "an empty command") < 0)) {
            free(argv);
            return -1;
        }
        argv[i] = (char *)s;
    }
    int rc = cell_spec_set_argv(c->spec, argv, c->err);
    free(argv);
    if (rc < 0)
        return -1;
    if ((v = oci_member(r, "workingDirectory"))) {
        if (string_of(c, v, "spec.run.workingDirectory", &s) < 0)
            return -1;
        if (!absolute_clean(s) || strcmp(s, "/") == 0)
            return fail(c, "spec.run.workingDirectory", "\"%s\" is not an absolute path below / (no \".\" or \"..\")",
                        s);
        if ((c->job->working_directory = dup_or_fail(c, s, "spec.run.workingDirectory")) == NULL)
            return -1;
    }
    if ((v = oci_member(r, "timeoutMs")) &&
        number_of(c, v, "spec.run.timeoutMs", 1, 7 * 24 * 3600 * 1000ull, &c->job->timeout_ms) < 0)
        return -1;
    c->job->delivery = CELL_SECRET_ENV;
    if ((v = oci_member(r, "secretDelivery"))) {
        if (string_of(c, v, "spec.run.secretDelivery", &s) < 0)
            return -1;
        if (strcmp(s, "env") == 0)
            c->job->delivery = CELL_SECRET_ENV;
        else if (strcmp(s, "runtimeBroker") == 0)
            c->job->delivery = CELL_SECRET_BROKER;
        else if (strcmp(s, "runtimeLeasedBroker") == 0)
            c->job->delivery = CELL_SECRET_LEASED_BROKER;
        else
            return fail(c, "spec.run.secretDelivery",
                        "\"%s\" is not a delivery (env, runtimeBroker, runtimeLeasedBroker)", s);
    }
    if ((v = oci_member(r, "limits")) && parse_limits(c, v) < 0)
        return -1;
    return 0;
}

static int parse_export(struct job_ctx *c, json_t *x)
{
    static const char *const known[] = {"artifacts", NULL};
    static const char *const artifact_keys[] = {"name", "path", NULL};
    json_t *v, *e;
    size_t i;
    if (want(c, x, JSON_OBJECT, "spec.export") < 0 || check_keys(c, x, "spec.export", known) < 0)
        return -1;
    if ((v = oci_member(x, "artifacts")) == NULL)
        return 0;
    if (want(c, v, JSON_ARRAY, "spec.export.artifacts") < 0)
        return -1;
    if (json_array_size(v) > 64)
        return fail(c, "spec.export.artifacts", "%zu artifacts: at most 64", json_array_size(v));
    if ((c->job->artifacts = calloc(json_array_size(v) + 1, sizeof *c->job->artifacts)) == NULL)
        return cell_err_set(c->err, ENOMEM, "%s: spec.export.artifacts", c->source);
    json_array_foreach(v, i, e)
    {
        char p[256], q[256];
        const char *name, *path;
        json_t *n, *pa;
        idx(p, sizeof p, "spec.export.artifacts", i);
        if (want(c, e, JSON_OBJECT, p) < 0 || check_keys(c, e, p, artifact_keys) < 0)
            return -1;
        if ((n = oci_member(e, "name")) == NULL)
            return fail(c, sub(q, sizeof q, p, "name"), "required");
        if (string_of(c, n, sub(q, sizeof q, p, "name"), &name) < 0)
            return -1;
        if (!segment_ok(name))
            return fail(c, q, "\"%s\" is not a name (one path segment: letters, digits, '-', '_', '.')", name);
        for (size_t k = 0; k < c->job->nartifacts; k++)
            if (strcmp(c->job->artifacts[k].name, name) == 0)
                return fail(c, q, "\"%s\" is given twice", name);
        if ((pa = oci_member(e, "path")) == NULL)
            return fail(c, sub(q, sizeof q, p, "path"), "required");
        if (string_of(c, pa, sub(q, sizeof q, p, "path"), &path) < 0)
            return -1;
        if (!absolute_clean(path))
            return fail(c, q, "\"%s\" is not an absolute path in the cell (no \".\" or \"..\")", path);
        struct cell_job_artifact *a = &c->job->artifacts[i];
        if ((a->name = dup_or_fail(c, name, p)) == NULL || (a->path = dup_or_fail(c, path, p)) == NULL)
            return -1;
        c->job->nartifacts++;
    }
    return 0;
}

static int parse_spec(struct job_ctx *c, json_t *s)
{
    static const char *const known[] = {"id", "correlation", "authority", "lifetime", "run", "export", NULL};
    const char *id;
    json_t *v;
    if (check_keys(c, s, "spec", known) < 0)
        return -1;
    if ((v = oci_member(s, "id")) == NULL)
        return fail(c, "spec.id", "required (one path segment naming the cell)");
    if (string_of(c, v, "spec.id", &id) < 0)
        return -1;
    if (id[0] == '\0')
        return fail(c, "spec.id", "empty: give the cell a name");
    if (strchr(id, '/'))
        return fail(c, "spec.id", "\"%s\" has more than one path segment", id);
    if (!segment_ok(id) || id[0] == '.' || id[0] == '-')
        return fail(c, "spec.id",
                    "\"%s\" is not a cell id (1-63 letters, digits, '-', '_', '.'; first a letter or digit)", id);
    if ((c->job->id = dup_or_fail(c, id, "spec.id")) == NULL)
        return -1;
    if ((v = oci_member(s, "correlation")) && parse_correlation(c, v) < 0)
        return -1;
    if ((v = oci_member(s, "authority")) && parse_authority(c, v) < 0)
        return -1;
    if ((v = oci_member(s, "lifetime")) == NULL)
        return fail(c, "spec.lifetime", "required (ttlSeconds)");
    if (parse_lifetime(c, v) < 0)
        return -1;
    if ((v = oci_member(s, "run")) && parse_run(c, v) < 0)
        return -1;
    if ((v = oci_member(s, "export")) && parse_export(c, v) < 0)
        return -1;
    return 0;
}

/* What the spec gets beyond the document's own fields. */
static int finish_spec(struct job_ctx *c)
{
    struct cell_spec *spec = c->spec;
    struct cell_job *job = c->job;
    if ((spec->name = strdup(job->id)) == NULL)
        return cell_err_set(c->err, ENOMEM, "%s", c->source);
    spec->net_mode = CELL_NET_NONE; /* egress, when allowed, is a link out of its own namespace */
    if (job->negress) {
        if ((spec->egress = calloc(job->negress, sizeof *spec->egress)) == NULL)
            return cell_err_set(c->err, ENOMEM, "%s", c->source);
        for (size_t i = 0; i < job->negress; i++) {
            spec->egress[i] = job->egress[i];
            if ((spec->egress[i].host = strdup(job->egress[i].host)) == NULL)
                return cell_err_set(c->err, ENOMEM, "%s", c->source);
            spec->negress++;
        }
    }
    if (job->timeout_ms)
        spec->timeout_sec = (unsigned)((job->timeout_ms + 999) / 1000);
    if (job->working_directory) {
        struct cell_mount m = {.kind = CELL_MOUNT_TMPFS, .destination = job->working_directory, .writable = true};
        if (cell_spec_add_mount(spec, &m, c->err) < 0)
            return -1;
        free(spec->cwd);
        if ((spec->cwd = strdup(job->working_directory)) == NULL)
            return cell_err_set(c->err, ENOMEM, "%s", c->source);
    }
    if (!job->has_run) /* nothing to run: the runner only makes and destroys the cell */
        return 0;
    if (cell_spec_validate(spec, c->err) < 0)
        return cell_err_prefix(c->err, "%s: ", c->source);
    return 0;
}

void cell_job_free(struct cell_job *job)
{
    free(job->id);
    free(job->correlation);
    for (size_t i = 0; i < job->nsecret_refs; i++)
        free(job->secret_refs[i]);
    free(job->secret_refs);
    for (size_t i = 0; i < job->negress; i++)
        free(job->egress[i].host);
    free(job->egress);
    free(job->working_directory);
    for (size_t i = 0; i < job->nartifacts; i++) {
        free(job->artifacts[i].name);
        free(job->artifacts[i].path);
    }
    free(job->artifacts);
    memset(job, 0, sizeof *job);
}

int cell_job_load(const char *source, const char *text, size_t len, struct cell_spec *spec, struct cell_job *job,
                  struct cell_err *err)
{
    struct job_ctx c = {.source = source ? source : "job", .spec = spec, .job = job, .err = err};
    cell_spec_init(spec);
    memset(job, 0, sizeof *job);
    json_error_t jerr;
    json_t *top = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (top == NULL)
        return cell_err_set(err, 0, "%s: line %d, column %d: %s", c.source, jerr.line, jerr.column, jerr.text);
    int rc =
        parse_top(&c, top) == 0 && parse_spec(&c, json_object_get(top, "spec")) == 0 && finish_spec(&c) == 0 ? 0 : -1;
    json_decref(top);
    if (rc < 0) {
        cell_spec_free(spec);
        cell_job_free(job);
    }
    return rc;
}

char *cell_job_read_file(const char *path, size_t *len, struct cell_err *err)
{
    FILE *f = fopen(path, "re");
    if (f == NULL) {
        cell_err_set(err, errno, "job %s: open", path);
        return NULL;
    }
    char *text = malloc(MAX_DOCUMENT_BYTES + 1);
    size_t n = text ? fread(text, 1, MAX_DOCUMENT_BYTES + 1, f) : 0;
    bool failed = ferror(f);
    fclose(f);
    if (text == NULL) {
        cell_err_set(err, ENOMEM, "job %s", path);
        return NULL;
    }
    if (failed || n > MAX_DOCUMENT_BYTES) {
        free(text);
        cell_err_set(err, failed ? EIO : EFBIG, "job %s: %s", path, failed ? "read" : "larger than 1 MiB");
        return NULL;
    }
    text[n] = '\0';
    *len = n;
    return text;
}

int cell_job_load_file(const char *path, struct cell_spec *spec, struct cell_job *job, struct cell_err *err)
{
    cell_spec_init(spec);
    memset(job, 0, sizeof *job);
    size_t n;
    char *text = cell_job_read_file(path, &n, err);
    if (text == NULL)
        return -1;
    int rc = cell_job_load(path, text, n, spec, job, err);
    free(text);
    return rc;
}
