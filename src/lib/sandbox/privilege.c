/* privilege.c - who the workload is and what it may do: rlimits, user and
 * groups, capabilities (bounding, effective, permitted, inheritable,
 * ambient) and no_new_privs. The seccomp filter is loaded last, in init.c,
 * right before exec. */
#include "sandbox/sandbox.h"
#include "util.h"

#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <stdio.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>

static const int rlimit_resources[CELL_RLIMIT_COUNT] = {
    [CELL_RLIMIT_NOFILE] = RLIMIT_NOFILE, [CELL_RLIMIT_NPROC] = RLIMIT_NPROC,     [CELL_RLIMIT_AS] = RLIMIT_AS,
    [CELL_RLIMIT_CORE] = RLIMIT_CORE,     [CELL_RLIMIT_CPU] = RLIMIT_CPU,         [CELL_RLIMIT_FSIZE] = RLIMIT_FSIZE,
    [CELL_RLIMIT_STACK] = RLIMIT_STACK,   [CELL_RLIMIT_MEMLOCK] = RLIMIT_MEMLOCK,
};

static rlim_t to_rlim(uint64_t v)
{
    return v == UINT64_MAX ? RLIM_INFINITY : (rlim_t)v;
}

static void format_limit(uint64_t v, char *buf, size_t len)
{
    if (v == UINT64_MAX || v == (uint64_t)RLIM_INFINITY)
        snprintf(buf, len, "unlimited");
    else
        snprintf(buf, len, "%" PRIu64, v);
}

int rlimits_check(const struct cell_spec *spec, struct cell_err *err)
{
    bool can_raise = false;
    cap_t caps = cap_get_proc();
    if (caps) {
        cap_flag_value_t v = CAP_CLEAR;
        cap_get_flag(caps, CAP_SYS_RESOURCE, CAP_EFFECTIVE, &v);
        can_raise = v == CAP_SET;
        cap_free(caps);
    }
    for (int r = 0; r < CELL_RLIMIT_COUNT; r++) {
        const struct cell_rlimit *want = &spec->rlimits[r];
        struct rlimit have;
        if (!want->set || getrlimit(rlimit_resources[r], &have) < 0)
            continue;
        if (!can_raise && have.rlim_max != RLIM_INFINITY && to_rlim(want->hard) > have.rlim_max) {
            char a[32], b[32];
            format_limit(want->hard, a, sizeof a);
            format_limit(have.rlim_max, b, sizeof b);
            return cell_err_set(err, 0,
                                "rlimit %s: hard limit %s is above this host's hard limit %s, which cannot be "
                                "raised without CAP_SYS_RESOURCE: ask for at most %s",
                                cell_rlimit_label(r), a, b, b);
        }
    }
    return 0;
}

int rlimits_apply(const struct cell_spec *spec, struct cell_err *err)
{
    for (int r = 0; r < CELL_RLIMIT_COUNT; r++) {
        const struct cell_rlimit *want = &spec->rlimits[r];
        if (!want->set)
            continue;
        struct rlimit rl = {.rlim_cur = to_rlim(want->soft), .rlim_max = to_rlim(want->hard)};
        if (setrlimit(rlimit_resources[r], &rl) < 0)
            return cell_err_set(err, errno, "set rlimit %s", cell_rlimit_label(r));
    }
    return 0;
}

/* The kernel's highest capability, read once (by privilege_prepare, in the
 * parent, so the cell's processes inherit it without opening /proc again). */
static int last_cap(void)
{
    static int cached = -1;
    if (cached < 0) {
        int last = CAP_LAST_CAP;
        char buf[16];
        if (read_file_at(AT_FDCWD, "/proc/sys/kernel/cap_last_cap", buf, sizeof buf) > 0)
            last = atoi(buf);
        cached = last > 63 ? 63 : last;
    }
    return cached;
}

void privilege_prepare(void)
{
    (void)last_cap();
}

/* Drop every capability not in `keep` from the bounding set (needs CAP_SETPCAP). */
static int drop_bounding(uint64_t keep, struct cell_err *err)
{
    int last = last_cap();
    for (int c = 0; c <= last; c++)
        if (!(keep & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
            return cell_err_set(err, errno, "drop capability %d from the bounding set", c);
    return 0;
}

/* Keep exactly `keep` (a bit set) in the effective, permitted, inheritable
 * and (when `ambient`) ambient sets. */
static int caps_limit_to(uint64_t keep, bool ambient, struct cell_err *err)
{
    int last = last_cap();
    cap_t caps = cap_init(); /* all clear */
    if (caps == NULL)
        return cell_err_set(err, errno, "capabilities");
    for (int c = 0; c <= last; c++) {
        if (!(keep & (1ULL << c)))
            continue;
        cap_value_t v = c;
        cap_set_flag(caps, CAP_EFFECTIVE, 1, &v, CAP_SET);
        cap_set_flag(caps, CAP_PERMITTED, 1, &v, CAP_SET);
        cap_set_flag(caps, CAP_INHERITABLE, 1, &v, CAP_SET);
    }
    int rc = cap_set_proc(caps);
    int saved = errno;
    cap_free(caps);
    if (rc < 0)
        return cell_err_set(err, saved, "set capabilities");
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        return cell_err_set(err, errno, "clear ambient capabilities");
    for (int c = 0; ambient && c <= last; c++)
        if ((keep & (1ULL << c)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
            return cell_err_set(err, errno, "raise ambient capability %d", c);
    return 0;
}

int privilege_drop_workload(const struct cell_spec *spec, bool rootless, struct cell_err *err)
{
    uint64_t keep = spec->cap_add;
    /* the bounding set needs CAP_SETPCAP, which we lose with the uid */
    if (drop_bounding(keep, err) < 0)
        return -1;
    if (keep && spec->uid != 0 && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
        return cell_err_set(err, errno, "keep capabilities across the user change");
    /* a rootless cell cannot call setgroups (it is denied by design) */
    if (!rootless && setgroups(spec->ngroups, spec->groups) < 0)
        return cell_err_set(err, errno, "set supplementary groups");
    if (setresgid(spec->gid, spec->gid, spec->gid) < 0)
        return cell_err_set(err, errno, "set group %u", (unsigned)spec->gid);
    if (setresuid(spec->uid, spec->uid, spec->uid) < 0)
        return cell_err_set(err, errno, "set user %u", (unsigned)spec->uid);
    if (caps_limit_to(keep, spec->uid != 0, err) < 0)
        return -1;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return cell_err_set(err, errno, "set no_new_privs");
    return 0;
}

int privilege_drop_init(struct cell_err *err)
{
    /* pid 1 keeps only CAP_KILL, to signal a workload of another uid */
    if (drop_bounding(1ULL << CAP_KILL, err) < 0 || caps_limit_to(1ULL << CAP_KILL, false, err) < 0)
        return -1;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
        return cell_err_set(err, errno, "lock down the cell's init");
    return 0;
}
