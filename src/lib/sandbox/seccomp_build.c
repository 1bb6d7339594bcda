/* seccomp_build.c - a profile's rules (seccomp.c, walked through
 * seccomp_rules.h) compiled into a libseccomp filter. Built into the
 * build-time tool seccomp_gen, which embeds the programs in libcell, and
 * into the unit test that checks the embedded programs are current; libcell
 * itself never links libseccomp. */
#include "sandbox/seccomp_build.h"
#include "sandbox/seccomp_rules.h"

#include <errno.h>

static uint32_t rule_action(int errnum)
{
    return errnum ? SCMP_ACT_ERRNO((uint32_t)errnum) : SCMP_ACT_ALLOW;
}

/* One rule into the filter; a call this architecture or libseccomp version
 * does not know is skipped. */
static int add_rule(const struct seccomp_rule *rule, void *arg, struct cell_err *err)
{
    scmp_filter_ctx ctx = arg;
    struct scmp_arg_cmp cmps[SECCOMP_RULE_MAX_ARGS];
    int nr = seccomp_syscall_resolve_name(rule->name);
    if (nr == __NR_SCMP_ERROR)
        return 0;
    for (unsigned i = 0; i < rule->nargs; i++) {
        const struct seccomp_rule_arg *a = &rule->args[i];
        cmps[i] = a->masked ? (struct scmp_arg_cmp){a->index, SCMP_CMP_MASKED_EQ, a->mask, a->value}
                            : (struct scmp_arg_cmp){a->index, SCMP_CMP_EQ, a->value, 0};
    }
    int rc = seccomp_rule_add_array(ctx, rule_action(rule->errnum), nr, rule->nargs, cmps);
    if (rc < 0)
        return cell_err_set(err, -rc, "seccomp: add rule for %s", rule->name);
    return 0;
}

scmp_filter_ctx seccomp_profile_build(enum cell_profile profile, struct cell_err *err)
{
    scmp_filter_ctx ctx = seccomp_init(rule_action(seccomp_profile_default_errno(profile)));
    if (ctx == NULL) {
        cell_err_set(err, ENOMEM, "seccomp: create the %s profile", cell_profile_label(profile));
        return NULL;
    }
    /* no_new_privs is set by the sandbox itself */
    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
    /* a call of a foreign ABI (e.g. int 0x80) kills the whole process */
    seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
    /* a binary tree of syscall numbers: fewer instructions per call */
    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
    if (seccomp_profile_walk(profile, add_rule, ctx, err) < 0) {
        seccomp_release(ctx);
        return NULL;
    }
    return ctx;
}
