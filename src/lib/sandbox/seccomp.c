/* seccomp.c - the three seccomp profiles, as lists and rules:
 *   high   an allowlist comparable to Docker's default profile, without
 *          SysV IPC, io_uring, namespaces (clone/unshare/setns), mount,
 *          ptrace, bpf, keyctl or modules; raw and packet sockets refused;
 *   medium everything allowed except a denylist of dangerous calls;
 *   low    only calls that threaten the kernel's integrity are refused.
 * Refused calls fail with EPERM (clone3 with ENOSYS, so libc falls back to
 * clone, which is filtered by flags). Calls of a foreign architecture kill
 * the process. docs/seccomp-profiles.md lists every profile exactly.
 *
 * seccomp_profile_walk() hands the rules out one by one (seccomp_rules.h):
 * libseccomp compiles them at build time (seccomp_build.c, seccomp_gen.c)
 * and the sandbox loads the resulting BPF programs (seccomp_load.c), so
 * starting a cell pays neither the compile nor libseccomp's loading; the
 * OCI writer (oci_write.c) turns the same rules into config.json's
 * linux.seccomp. This file needs no libseccomp. */
#include "sandbox/seccomp_rules.h"
#include "util.h"

#include <errno.h>
#include <linux/sched.h>
#include <sys/socket.h>

/* Namespace flags that clone(2) may not carry under high and medium. */
#define NS_CLONE_FLAGS                                                                                                 \
    (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP)

/* The lists stay packed, each profile at a glance. */
// clang-format off
static const char *const high_allowed[] = {
    "accept", "accept4", "access", "adjtimex", "alarm", "arch_prctl", "bind", "brk", "cachestat", "capget",
    "capset", "chdir", "chmod", "chown", "clock_adjtime", "clock_getres", "clock_gettime", "clock_nanosleep",
    "close", "close_range", "connect", "copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create",
    "epoll_create1", "epoll_ctl", "epoll_pwait", "epoll_pwait2", "epoll_wait", "eventfd", "eventfd2", "execve",
    "execveat", "exit", "exit_group", "faccessat", "faccessat2", "fadvise64", "fallocate", "fanotify_mark",
    "fchdir", "fchmod", "fchmodat", "fchmodat2", "fchown", "fchownat", "fcntl", "fdatasync", "fgetxattr",
    "flistxattr", "flock", "fork", "fremovexattr", "fsetxattr", "fstat", "fstatfs", "fsync", "ftruncate",
    "futex", "futex_waitv", "futimesat", "get_robust_list", "getcpu", "getcwd", "getdents", "getdents64",
    "getegid", "geteuid", "getgid", "getgroups", "getitimer", "getpeername", "getpgid", "getpgrp", "getpid",
    "getppid", "getpriority", "getrandom", "getresgid", "getresuid", "getrlimit", "getrusage", "getsid",
    "getsockname", "getsockopt", "gettid", "gettimeofday", "getuid", "getxattr", "inotify_add_watch",
    "inotify_init", "inotify_init1", "inotify_rm_watch", "io_cancel", "io_destroy", "io_getevents",
    "io_pgetevents", "io_setup", "io_submit", "ioctl", "ioprio_get", "ioprio_set", "kill", "landlock_add_rule",
    "landlock_create_ruleset", "landlock_restrict_self", "lchown", "lgetxattr", "link", "linkat", "listen",
    "listxattr", "llistxattr", "lremovexattr", "lseek", "lsetxattr", "lstat", "madvise", "map_shadow_stack",
    "membarrier", "memfd_create", "mincore", "mkdir", "mkdirat", "mknod", "mknodat", "mlock", "mlock2",
    "mlockall", "mmap", "modify_ldt", "mprotect", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive",
    "mq_timedsend", "mq_unlink", "mremap", "mseal", "msync", "munlock", "munlockall", "munmap", "nanosleep",
    "newfstatat", "open", "openat", "openat2", "pause", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2",
    "pkey_alloc", "pkey_free", "pkey_mprotect", "poll", "ppoll", "prctl", "pread64", "preadv", "preadv2",
    "prlimit64", "process_mrelease", "pselect6", "pwrite64", "pwritev", "pwritev2", "read", "readahead",
    "readlink", "readlinkat", "readv", "recvfrom", "recvmmsg", "recvmsg", "remap_file_pages", "removexattr",
    "rename", "renameat", "renameat2", "restart_syscall", "rmdir", "rseq", "rt_sigaction", "rt_sigpending",
    "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
    "rt_tgsigqueueinfo", "sched_get_priority_max", "sched_get_priority_min", "sched_getaffinity",
    "sched_getattr", "sched_getparam", "sched_getscheduler", "sched_rr_get_interval", "sched_setaffinity",
    "sched_setattr", "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "select", "sendfile",
    "sendmmsg", "sendmsg", "sendto", "set_robust_list", "set_tid_address", "setfsgid", "setfsuid", "setgid",
    "setgroups", "setitimer", "setpgid", "setpriority", "setregid", "setresgid", "setresuid", "setreuid",
    "setrlimit", "setsid", "setsockopt", "setuid", "setxattr", "shutdown", "sigaltstack", "signalfd",
    "signalfd4", "socketpair", "splice", "stat", "statfs", "statx", "symlink", "symlinkat", "sync",
    "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create", "timer_delete",
    "timer_getoverrun", "timer_gettime", "timer_settime", "timerfd_create", "timerfd_gettime",
    "timerfd_settime", "times", "tkill", "truncate", "umask", "uname", "unlink", "unlinkat", "utime",
    "utimensat", "utimes", "vfork", "vmsplice", "wait4", "waitid", "write", "writev",
};

/* Refused under medium (and, being absent from the allowlist, under high). */
static const char *const medium_denied[] = {
    "acct", "add_key", "bpf", "chroot", "clock_settime", "delete_module", "finit_module", "fsconfig", "fsmount",
    "fsopen", "fspick", "init_module", "io_uring_enter", "io_uring_register", "io_uring_setup", "ioperm", "iopl",
    "kcmp", "kexec_file_load", "kexec_load", "keyctl", "lookup_dcookie", "mount", "mount_setattr", "move_mount",
    "name_to_handle_at", "nfsservctl", "open_by_handle_at", "open_tree", "perf_event_open", "pivot_root",
    "process_vm_readv", "process_vm_writev", "ptrace", "quotactl", "reboot", "request_key", "setns",
    "settimeofday", "swapoff", "swapon", "syslog", "umount2", "uselib", "userfaultfd", "vhangup", "_sysctl",
};

/* Refused under low: calls that change the running kernel or the machine. */
static const char *const low_denied[] = {
    "acct", "clock_settime", "delete_module", "finit_module", "init_module", "ioperm", "iopl", "kexec_file_load",
    "kexec_load", "open_by_handle_at", "reboot", "settimeofday", "swapoff", "swapon", "uselib", "_sysctl",
};
// clang-format on

/* ---- the rules, in the order each profile is built ---------------------- */

struct walk {
    seccomp_rule_fn fn;
    void *arg;
    struct cell_err *err;
};

static int emit(struct walk *w, const char *name, int errnum, unsigned nargs, const struct seccomp_rule_arg *args)
{
    struct seccomp_rule rule = {.name = name, .errnum = errnum, .nargs = nargs};
    for (unsigned i = 0; i < nargs && i < SECCOMP_RULE_MAX_ARGS; i++)
        rule.args[i] = args[i];
    return w->fn(&rule, w->arg, w->err);
}

static int emit_list(struct walk *w, int errnum, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (emit(w, names[i], errnum, 0, NULL) < 0)
            return -1;
    return 0;
}

/* argument INDEX == VALUE */
#define ARG_EQ(i, v) ((struct seccomp_rule_arg){.index = (i), .value = (uint64_t)(v)})
/* (argument INDEX & MASK) == VALUE */
#define ARG_MASKED(i, m, v)                                                                                            \
    ((struct seccomp_rule_arg){.index = (i), .masked = true, .mask = (m), .value = (uint64_t)(v)})

/* high: sockets of the usual families and types only (no raw, no packet). */
static int walk_high_sockets(struct walk *w)
{
    static const int inet[] = {AF_INET, AF_INET6};
    static const int types[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET};
    struct seccomp_rule_arg any_of[] = {ARG_EQ(0, AF_UNIX)};
    if (emit(w, "socket", 0, 1, any_of) < 0)
        return -1;
    any_of[0] = ARG_EQ(0, AF_NETLINK);
    if (emit(w, "socket", 0, 1, any_of) < 0)
        return -1;
    for (size_t f = 0; f < ARRAY_SIZE(inet); f++)
        for (size_t t = 0; t < ARRAY_SIZE(types); t++) {
            struct seccomp_rule_arg c[] = {ARG_EQ(0, inet[f]), ARG_MASKED(1, 0xf, types[t])};
            if (emit(w, "socket", 0, 2, c) < 0)
                return -1;
        }
    return 0;
}

static int walk_high(struct walk *w)
{
    if (emit_list(w, 0, high_allowed, ARRAY_SIZE(high_allowed)) < 0 || walk_high_sockets(w) < 0)
        return -1;
    struct seccomp_rule_arg no_ns[] = {ARG_MASKED(0, NS_CLONE_FLAGS, 0)};
    if (emit(w, "clone", 0, 1, no_ns) < 0)
        return -1;
    if (emit(w, "clone3", ENOSYS, 0, NULL) < 0)
        return -1;
    static const uint64_t personas[] = {0x0, 0x8, 0x20000, 0x20008, 0xffffffff};
    for (size_t i = 0; i < ARRAY_SIZE(personas); i++) {
        struct seccomp_rule_arg c[] = {ARG_EQ(0, personas[i])};
        if (emit(w, "personality", 0, 1, c) < 0)
            return -1;
    }
    return 0;
}

static int walk_medium(struct walk *w)
{
    if (emit_list(w, EPERM, medium_denied, ARRAY_SIZE(medium_denied)) < 0)
        return -1;
    /* SysV IPC stays available under medium; user namespaces do not */
    struct seccomp_rule_arg userns[] = {ARG_MASKED(0, CLONE_NEWUSER, CLONE_NEWUSER)};
    if (emit(w, "unshare", EPERM, 1, userns) < 0 || emit(w, "clone", EPERM, 1, userns) < 0 ||
        emit(w, "clone3", ENOSYS, 0, NULL) < 0)
        return -1;
    struct seccomp_rule_arg packet[] = {ARG_EQ(0, AF_PACKET)};
    if (emit(w, "socket", EPERM, 1, packet) < 0)
        return -1;
    static const int inet[] = {AF_INET, AF_INET6};
    for (size_t f = 0; f < ARRAY_SIZE(inet); f++) {
        struct seccomp_rule_arg raw[] = {ARG_EQ(0, inet[f]), ARG_MASKED(1, 0xf, SOCK_RAW)};
        if (emit(w, "socket", EPERM, 2, raw) < 0)
            return -1;
    }
    return 0;
}

int seccomp_profile_default_errno(enum cell_profile profile)
{
    return profile == CELL_PROFILE_HIGH ? EPERM : 0;
}

int seccomp_profile_walk(enum cell_profile profile, seccomp_rule_fn fn, void *arg, struct cell_err *err)
{
    struct walk w = {.fn = fn, .arg = arg, .err = err};
    switch (profile) {
    case CELL_PROFILE_HIGH:
        return walk_high(&w);
    case CELL_PROFILE_MEDIUM:
        return walk_medium(&w);
    case CELL_PROFILE_LOW:
        return emit_list(&w, EPERM, low_denied, ARRAY_SIZE(low_denied));
    }
    return cell_err_set(err, EINVAL, "seccomp: profile %d does not exist", (int)profile);
}
