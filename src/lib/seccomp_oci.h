/* seccomp_oci.h - compile an OCI config's linux.seccomp object with
 * libseccomp (src/lib/seccomp_oci.c). Only the OCI front end calls it, so
 * only binaries that read bundles link libseccomp. */
#ifndef CELL_SECCOMP_OCI_H
#define CELL_SECCOMP_OCI_H

#include "cell/cell.h"

#include <jansson.h>

/* Called for each thing accepted but not applied (an unknown field, a
 * syscall unknown on this architecture): `path` is the field, `what` the
 * rest. Returns 0, or -1 with err set. */
typedef int (*seccomp_oci_warn_fn)(void *ctx, const char *path, const char *what);

/* The linux.seccomp object `v` into a new program in *out (free its filter
 * and itself; cell_spec_free does). 0, or -1 with err naming the field:
 * "config.json: linux.seccomp.syscalls[3].args[0].op: ...". */
int seccomp_oci_compile(json_t *v, struct cell_seccomp_program **out, seccomp_oci_warn_fn warn, void *ctx,
                        struct cell_err *err);

#endif
