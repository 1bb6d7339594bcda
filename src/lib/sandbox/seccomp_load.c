/* seccomp_load.c - install a profile's seccomp filter. The programs were
 * compiled by libseccomp at build time (seccomp_gen.c over seccomp.c) and are
 * embedded here; tests/unit/test_seccomp.c checks they match what libseccomp
 * builds now. An OCI config's own filter (compiled at create time by
 * seccomp_oci.c) is loaded here too, in place of the profile's. The caller
 * has set no_new_privs. */
#include "sandbox/sandbox.h"
#include "util.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "seccomp_profiles.h"

#define PROGRAM(insns)                                                                                                 \
    {                                                                                                                  \
        .len = ARRAY_SIZE(insns), .filter = (struct sock_filter *)(insns)                                              \
    }

int seccomp_profile_program(enum cell_profile profile, struct sock_fprog *prog)
{
    static const struct sock_fprog programs[] = {
        [CELL_PROFILE_HIGH] = PROGRAM(seccomp_high_insns),
        [CELL_PROFILE_MEDIUM] = PROGRAM(seccomp_medium_insns),
        [CELL_PROFILE_LOW] = PROGRAM(seccomp_low_insns),
    };
    if ((unsigned)profile >= ARRAY_SIZE(programs) || programs[profile].len == 0)
        return -1;
    *prog = programs[profile];
    return 0;
}

int seccomp_profile_load(enum cell_profile profile, struct cell_err *err)
{
    struct sock_fprog prog;
    if (seccomp_profile_program(profile, &prog) < 0)
        return cell_err_set(err, EINVAL, "seccomp: no filter for profile %d", (int)profile);
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
        return cell_err_set(err, errno, "seccomp: load the %s profile", cell_profile_label(profile));
    return 0;
}

int seccomp_load_spec(const struct cell_spec *spec, struct cell_err *err)
{
    const struct cell_seccomp_program *own = spec->custom_seccomp;
    if (own == NULL)
        return seccomp_profile_load(spec->profile, err);
    struct sock_fprog prog = {.len = own->len, .filter = own->filter};
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, own->flags, &prog) < 0)
        return cell_err_set(err, errno, "seccomp: load the config's linux.seccomp filter");
    return 0;
}
