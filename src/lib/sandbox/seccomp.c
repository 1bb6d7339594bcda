/* seccomp.c - the three seccomp profiles, built with libseccomp:
 *   high   an allowlist comparable to Docker's default profile, without
 *          SysV IPC, io_uring, namespaces (clone/unshare/setns), mount,
 *          ptrace, bpf, keyctl or modules; raw and packet sockets refused;
 *   medium everything allowed except a denylist of dangerous calls;
 *   low    only calls that threaten the kernel's integrity are refused.
 * Refused calls fail with EPERM (clone3 with ENOSYS, so libc falls back to
 * clone, which is filtered by flags). Calls of a foreign architecture kill
 * the process. docs/seccomp-profiles.md lists every profile exactly.
 *
 * libseccomp compiles these at build time (seccomp_gen.c); the sandbox loads
 * the resulting BPF programs (seccomp_load.c), so starting a cell pays
 * neither the compile nor libseccomp's loading. */
#include "sandbox/seccomp_build.h"
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

static int add_rule(scmp_filter_ctx ctx, uint32_t action, const char *name, unsigned n, const struct scmp_arg_cmp *cmps,
                    struct cell_err *err)
{
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR)
        return 0; /* not a call of this architecture or libseccomp version */
    int rc = seccomp_rule_add_array(ctx, action, nr, n, cmps);
    if (rc < 0)
        return cell_err_set(err, -rc, "seccomp: add rule for %s", name);
    return 0;
}

static int add_list(scmp_filter_ctx ctx, uint32_t action, const char *const *names, size_t n, struct cell_err *err)
{
    for (size_t i = 0; i < n; i++)
        if (add_rule(ctx, action, names[i], 0, NULL, err) < 0)
            return -1;
    return 0;
}

/* high: sockets of the usual families and types only (no raw, no packet). */
static int add_high_sockets(scmp_filter_ctx ctx, struct cell_err *err)
{
    static const int inet[] = {AF_INET, AF_INET6};
    static const int types[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET};
    struct scmp_arg_cmp any_of[] = {SCMP_A0(SCMP_CMP_EQ, AF_UNIX)};
    if (add_rule(ctx, SCMP_ACT_ALLOW, "socket", 1, any_of, err) < 0)
        return -1;
    any_of[0] = (struct scmp_arg_cmp)SCMP_A0(SCMP_CMP_EQ, AF_NETLINK);
    if (add_rule(ctx, SCMP_ACT_ALLOW, "socket", 1, any_of, err) < 0)
        return -1;
    for (size_t f = 0; f < ARRAY_SIZE(inet); f++)
        for (size_t t = 0; t < ARRAY_SIZE(types); t++) {
            struct scmp_arg_cmp c[] = {SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)inet[f]),
                                       SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, (scmp_datum_t)types[t])};
            if (add_rule(ctx, SCMP_ACT_ALLOW, "socket", 2, c, err) < 0)
                return -1;
        }
    return 0;
}

static int add_high(scmp_filter_ctx ctx, struct cell_err *err)
{
    if (add_list(ctx, SCMP_ACT_ALLOW, high_allowed, ARRAY_SIZE(high_allowed), err) < 0 ||
        add_high_sockets(ctx, err) < 0)
        return -1;
    struct scmp_arg_cmp no_ns[] = {SCMP_A0(SCMP_CMP_MASKED_EQ, NS_CLONE_FLAGS, 0)};
    if (add_rule(ctx, SCMP_ACT_ALLOW, "clone", 1, no_ns, err) < 0)
        return -1;
    if (add_rule(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, NULL, err) < 0)
        return -1;
    static const scmp_datum_t personas[] = {0x0, 0x8, 0x20000, 0x20008, 0xffffffff};
    for (size_t i = 0; i < ARRAY_SIZE(personas); i++) {
        struct scmp_arg_cmp c[] = {SCMP_A0(SCMP_CMP_EQ, personas[i])};
        if (add_rule(ctx, SCMP_ACT_ALLOW, "personality", 1, c, err) < 0)
            return -1;
    }
    return 0;
}

static int add_medium(scmp_filter_ctx ctx, struct cell_err *err)
{
    if (add_list(ctx, SCMP_ACT_ERRNO(EPERM), medium_denied, ARRAY_SIZE(medium_denied), err) < 0)
        return -1;
    /* SysV IPC stays available under medium; user namespaces do not */
    struct scmp_arg_cmp userns[] = {SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER)};
    if (add_rule(ctx, SCMP_ACT_ERRNO(EPERM), "unshare", 1, userns, err) < 0 ||
        add_rule(ctx, SCMP_ACT_ERRNO(EPERM), "clone", 1, userns, err) < 0 ||
        add_rule(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, NULL, err) < 0)
        return -1;
    struct scmp_arg_cmp packet[] = {SCMP_A0(SCMP_CMP_EQ, AF_PACKET)};
    if (add_rule(ctx, SCMP_ACT_ERRNO(EPERM), "socket", 1, packet, err) < 0)
        return -1;
    static const int inet[] = {AF_INET, AF_INET6};
    for (size_t f = 0; f < ARRAY_SIZE(inet); f++) {
        struct scmp_arg_cmp raw[] = {SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)inet[f]),
                                     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_RAW)};
        if (add_rule(ctx, SCMP_ACT_ERRNO(EPERM), "socket", 2, raw, err) < 0)
            return -1;
    }
    return 0;
}

scmp_filter_ctx seccomp_profile_build(enum cell_profile profile, struct cell_err *err)
{
    uint32_t default_action = profile == CELL_PROFILE_HIGH ? SCMP_ACT_ERRNO(EPERM) : SCMP_ACT_ALLOW;
    scmp_filter_ctx ctx = seccomp_init(default_action);
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
    int rc = 0;
    switch (profile) {
    case CELL_PROFILE_HIGH:
        rc = add_high(ctx, err);
        break;
    case CELL_PROFILE_MEDIUM:
        rc = add_medium(ctx, err);
        break;
    case CELL_PROFILE_LOW:
        rc = add_list(ctx, SCMP_ACT_ERRNO(EPERM), low_denied, ARRAY_SIZE(low_denied), err);
        break;
    }
    if (rc < 0) {
        seccomp_release(ctx);
        return NULL;
    }
    return ctx;
}
