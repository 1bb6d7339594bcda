/* drift.c - what a cell's desired state hashes to, so an apply can tell
 * what changed. SHA-256 (libcrypto) over canonical, length-prefixed fields,
 * split as in the reference design:
 *
 *   service   what the running cell is: autostart, supervise, healthcheck,
 *             depends_on, mounts, and the Linux keys rootfs, limits,
 *             network, env, restart, listen, ttl, stop_timeout
 *   policy    what it may do: create (profile, reserved_ports, rlimits)
 *   manifest  service and policy together
 *   apply     its apply document: each action's fields, and the content of
 *             every source file an action names (copy, untar, template,
 *             script), relative to the spec file's directory
 *
 * Each field is fed as "<name length>:<name><value length>:<value>", the
 * value being the field's compact JSON with sorted keys (empty when the key
 * is absent), so no two different documents feed the same bytes. */
#include "cell/desired.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const service_keys[] = {"autostart", "supervise", "healthcheck",  "depends_on", "mounts",
                                           "rootfs",    "limits",    "network",      "env",        "restart",
                                           "listen",    "ttl",       "stop_timeout", NULL};
static const char *const policy_keys[] = {"create", NULL};

static void feed(EVP_MD_CTX *md, const char *name, const char *value, size_t len)
{
    char prefix[48];
    int n = snprintf(prefix, sizeof prefix, "%zu:", strlen(name));
    EVP_DigestUpdate(md, prefix, (size_t)n);
    EVP_DigestUpdate(md, name, strlen(name));
    n = snprintf(prefix, sizeof prefix, "%zu:", len);
    EVP_DigestUpdate(md, prefix, (size_t)n);
    EVP_DigestUpdate(md, value, len);
}

static void feed_json(EVP_MD_CTX *md, const char *name, json_t *value)
{
    char *text = value ? json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
    feed(md, name, text ? text : "", text ? strlen(text) : 0);
    free(text);
}

static void finish(EVP_MD_CTX *md, char out[65])
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    EVP_DigestFinal_ex(md, digest, &len);
    for (unsigned i = 0; i < len && i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", digest[i]);
    out[64] = '\0';
}

static void hash_keys(json_t *doc, const char *const *keys, char out[65])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    for (size_t i = 0; keys[i]; i++)
        feed_json(md, keys[i], json_object_get(doc, keys[i]));
    finish(md, out);
    EVP_MD_CTX_free(md);
}

/* The source file an action reads, if any. */
static const char *action_source(json_t *action)
{
    const char *kind = json_string_value(json_object_get(action, "action"));
    if (kind == NULL)
        return NULL;
    if (strcmp(kind, "copy") == 0 || strcmp(kind, "untar") == 0 || strcmp(kind, "template") == 0)
        return json_string_value(json_object_get(action, "src"));
    if (strcmp(kind, "script") == 0)
        return json_string_value(json_object_get(action, "path"));
    return NULL;
}

static int feed_file(EVP_MD_CTX *md, const char *spec_dir, const char *src, const struct cell_desired_apply *a,
                     size_t index, struct cell_err *err)
{
    char path[PATH_MAX];
    if (src[0] == '/')
        snprintf(path, sizeof path, "%s", src);
    else
        snprintf(path, sizeof path, "%s/%s", spec_dir, src);
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return cell_err_set(err, errno, "%s:%d: apply \"%s\": [%zu]: source %s", a->file, a->line, a->name, index + 1,
                            path);
    EVP_MD_CTX *content = EVP_MD_CTX_new();
    EVP_DigestInit_ex(content, EVP_sha256(), NULL);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        EVP_DigestUpdate(content, buf, n);
    bool failed = ferror(f);
    fclose(f);
    char hex[65];
    finish(content, hex);
    EVP_MD_CTX_free(content);
    if (failed)
        return cell_err_set(err, EIO, "%s:%d: apply \"%s\": [%zu]: read %s", a->file, a->line, a->name, index + 1,
                            path);
    feed(md, src, hex, 64);
    return 0;
}

int cell_desired_hash(const struct cell_desired *d, const struct cell_desired_cell *c, const char *spec_dir,
                      struct cell_desired_hashes *out, struct cell_err *err)
{
    memset(out, 0, sizeof *out);
    hash_keys(c->doc, service_keys, out->service);
    hash_keys(c->doc, policy_keys, out->policy);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    feed(md, "service", out->service, 64);
    feed(md, "policy", out->policy, 64);
    finish(md, out->manifest);

    const struct cell_desired_apply *a = NULL;
    for (size_t i = 0; i < d->napplies; i++)
        if (strcmp(d->applies[i].name, c->name) == 0)
            a = &d->applies[i];
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    int rc = 0;
    if (a) {
        size_t i;
        json_t *action;
        json_array_foreach(a->actions, i, action)
        {
            feed_json(md, "action", action);
            const char *src = action_source(action);
            if (src && (rc = feed_file(md, spec_dir, src, a, i, err)) < 0)
                break;
        }
    }
    finish(md, out->apply);
    EVP_MD_CTX_free(md);
    if (rc < 0)
        memset(out, 0, sizeof *out);
    return rc;
}
