/* seccomp_build.h - building a profile's filter with libseccomp
 * (seccomp_build.c, from the rules in seccomp.c). Used at build time by
 * seccomp_gen (which embeds the compiled programs in libcell) and by the
 * unit test that checks the embedded programs are current. */
#ifndef CELL_SECCOMP_BUILD_H
#define CELL_SECCOMP_BUILD_H

#include "cell/cell.h"

#include <seccomp.h>

/* The profile as a libseccomp filter; NULL with err set on failure. */
scmp_filter_ctx seccomp_profile_build(enum cell_profile profile, struct cell_err *err);

#endif
