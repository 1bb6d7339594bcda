/* oci_json.h - reading OCI JSON (config.json, its linux.seccomp), shared by
 * the OCI front end (spec_oci.c) and the seccomp compiler (seccomp_oci.c),
 * and oci_member by the ExecutionCell front end (spec_json.c):
 * members where null counts as absent, and unknown members as warnings. */
#ifndef CELL_OCI_JSON_H
#define CELL_OCI_JSON_H

#include <jansson.h>

/* Told of each thing accepted but not applied: `path` is the field, `what`
 * the rest. Returns 0, or -1 with the caller's error set. */
typedef int (*oci_warn_fn)(void *ctx, const char *path, const char *what);

/* A member of an object; NULL when absent or null (as Go's decoders read). */
json_t *oci_member(json_t *obj, const char *key);
/* Warn "PATH.KEY: unknown field (ignored)" (KEY alone at the top, where
 * PATH is "") for every non-null member of `obj` not in `known`
 * (NULL-terminated). 0, or -1 when a warning failed. */
int oci_check_keys(json_t *obj, const char *path, const char *const *known, oci_warn_fn warn, void *ctx);

#endif
