/* seccomp_rules.h - the rules of cell's three seccomp profiles as plain
 * data, without libseccomp: seccomp_profile_walk() calls back once per rule,
 * in the order the profile is built. Two readers share it, so the lists in
 * seccomp.c exist once: the libseccomp builder (seccomp_build.c, at build
 * time) and the OCI writer (oci_write.c), which turns a profile into
 * config.json's linux.seccomp for another runtime. */
#ifndef CELL_SECCOMP_RULES_H
#define CELL_SECCOMP_RULES_H

#include "cell/cell.h"

#include <stdbool.h>
#include <stdint.h>

/* The most argument comparisons one rule makes (socket: family and type). */
#define SECCOMP_RULE_MAX_ARGS 2

/* One comparison of a system call's argument: argument `index` equals
 * `value` (masked: (argument & mask) == value). All of a rule's
 * comparisons must hold for the rule to match; rules for the same call are
 * alternatives. */
struct seccomp_rule_arg {
    unsigned index;
    bool masked;
    uint64_t mask; /* masked only */
    uint64_t value;
};

/* One rule: the call `name` (as libseccomp and config.json spell it) is
 * allowed (errnum 0) or fails with errnum. A name a kernel or libseccomp
 * does not know is skipped by the reader. */
struct seccomp_rule {
    const char *name;
    int errnum;
    unsigned nargs;
    struct seccomp_rule_arg args[SECCOMP_RULE_MAX_ARGS];
};

/* What a call no rule matches gets: 0 (allowed) or an errno (EPERM). */
int seccomp_profile_default_errno(enum cell_profile profile);

/* Call fn for every rule of `profile`, in order; stops at the first
 * callback that returns -1 (having set err) and returns -1. */
typedef int (*seccomp_rule_fn)(const struct seccomp_rule *rule, void *arg, struct cell_err *err);
int seccomp_profile_walk(enum cell_profile profile, seccomp_rule_fn fn, void *arg, struct cell_err *err);

#endif
