/* oci_json.c - the JSON reading the OCI front end and the seccomp compiler
 * share (see oci_json.h). */
#include "oci_json.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

json_t *oci_member(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_null(v) ? NULL : v;
}

int oci_check_keys(json_t *obj, const char *path, const char *const *known, oci_warn_fn warn, void *ctx)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        bool found = false;
        for (const char *const *k = known; *k && !found; k++)
            found = strcmp(*k, key) == 0;
        if (!found && !json_is_null(v)) {
            char p[512];
            snprintf(p, sizeof p, "%s%s%s", path, *path ? "." : "", key);
            if (warn(ctx, p, "unknown field (ignored)") < 0)
                return -1;
        }
    }
    return 0;
}
