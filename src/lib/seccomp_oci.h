/* seccomp_oci.h - compile an OCI config's linux.seccomp object with
 * libseccomp (src/lib/seccomp_oci.c). Only the OCI front end calls it, so
 * only binaries that read bundles link libseccomp. */
#ifndef CELL_SECCOMP_OCI_H
#define CELL_SECCOMP_OCI_H

#include "cell/cell.h"

#include "oci_json.h"

#include <jansson.h>

/* The linux.seccomp object `v` into a new program in *out (free its filter
 * and itself; cell_spec_free does); `warn` is told of what is accepted but
 * not applied (an unknown field, a syscall unknown on this architecture).
 * 0, or -1 with err naming the field:
 * "config.json: linux.seccomp.syscalls[3].args[0].op: ...". */
int seccomp_oci_compile(json_t *v, struct cell_seccomp_program **out, oci_warn_fn warn, void *ctx,
                        struct cell_err *err);

#endif
