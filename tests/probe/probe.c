/* probe.c - cell-probe: a static program that runs inside a cell and tries to
 * break out of it, one attempt per subcommand.
 *
 *   cell-probe SUBCOMMAND [ARGS...]
 *
 * Every attempt prints one line per thing it tried:
 *   BLOCKED: <what> (<errno text>)   the sandbox held
 *   ESCAPED: <what>                  the attempt got through
 * and the probe exits 0 when everything was blocked, 1 when anything escaped,
 * 2 on a usage error. Report-only subcommands (env, hostname, ifaces, whoami,
 * sleep, exit, tty, cwd) print facts and exit 0 (or the asked-for status).
 *
 * The probe is linked statically so it runs in any rootfs, and uses raw
 * syscalls for everything libc may not wrap (add_key, bpf, finit_module...).
 * It never does anything harmful when an attempt succeeds: created objects
 * are removed again, children are killed and reaped.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <linux/if_ether.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* ---- reporting ----------------------------------------------------------- */

static int escaped_count;

static void blocked(const char *what, int errnum)
{
    if (errnum)
        printf("BLOCKED: %s (%s)\n", what, strerror(errnum));
    else
        printf("BLOCKED: %s\n", what);
    fflush(stdout);
}

static void escaped(const char *what)
{
    printf("ESCAPED: %s\n", what);
    fflush(stdout);
    escaped_count++;
}

static int verdict(void)
{
    return escaped_count ? 1 : 0;
}

/* An errno that means "the sandbox (seccomp, capabilities, LSM) refused":
 * anything else means the call reached the kernel subsystem behind it. */
static bool is_denial(int errnum)
{
    return errnum == EPERM || errnum == EACCES || errnum == ENOSYS || errnum == EROFS;
}

/* Report a syscall attempt whose result `rc` (with errno `errnum`) is known. */
static void report_call(const char *what, long rc, int errnum)
{
    char buf[256];
    if (rc >= 0) {
        escaped(what);
    } else if (is_denial(errnum)) {
        blocked(what, errnum);
    } else {
        snprintf(buf, sizeof buf, "%s reached the kernel (%s)", what, strerror(errnum));
        escaped(buf);
    }
}

static long parse_long(const char *s, const char *what)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end) {
        fprintf(stderr, "cell-probe: bad %s: %s\n", what, s);
        exit(2);
    }
    return v;
}

/* ---- subcommands --------------------------------------------------------- */

static bool is_numeric(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

static int count_pids(void)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    int n = 0;
    if (!d)
        return -1;
    while ((e = readdir(d)))
        if (is_numeric(e->d_name))
            n++;
    closedir(d);
    return n;
}

/* pids HOSTPID: is a host pid visible? Also count the visible pids. */
static int cmd_pids(int argc, char **argv)
{
    long pid = parse_long(argv[0], "pid");
    char path[64], what[128];
    struct stat st;
    (void)argc;

    printf("visible pids: %d\n", count_pids());
    snprintf(path, sizeof path, "/proc/%ld", pid);
    snprintf(what, sizeof what, "see host pid %ld in /proc", pid);
    if (stat(path, &st) == 0)
        escaped(what);
    else
        blocked(what, errno);
    snprintf(what, sizeof what, "signal host pid %ld", pid);
    if (kill((pid_t)pid, 0) == 0)
        escaped(what);
    else
        blocked(what, errno);
    return verdict();
}

/* write PATH: open PATH for writing (creating it) and write a line. */
static int cmd_write(int argc, char **argv)
{
    char what[512];
    (void)argc;
    snprintf(what, sizeof what, "write %s", argv[0]);
    int fd = open(argv[0], O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        blocked(what, errno);
        return verdict();
    }
    ssize_t n = write(fd, "cell-probe\n", 11);
    if (n < 0)
        snprintf(what, sizeof what, "opened %s for writing (write: %s)", argv[0], strerror(errno));
    close(fd);
    escaped(what);
    return verdict();
}

/* net HOST PORT: TCP connect to a numeric IPv4/IPv6 address. */
static int cmd_net(int argc, char **argv)
{
    struct sockaddr_storage ss;
    socklen_t len;
    long port = parse_long(argv[1], "port");
    char what[256];
    (void)argc;

    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, argv[0], &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)port);
        len = sizeof *in4;
    } else if (inet_pton(AF_INET6, argv[0], &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        len = sizeof *in6;
    } else {
        fprintf(stderr, "cell-probe: net needs a numeric address, got %s\n", argv[0]);
        return 2;
    }
    snprintf(what, sizeof what, "connect to %s port %ld", argv[0], port);

    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        blocked(what, errno);
        return verdict();
    }
    int rc = connect(fd, (struct sockaddr *)&ss, len);
    if (rc < 0 && errno == EINPROGRESS) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int err = 0;
        socklen_t elen = sizeof err;
        if (poll(&p, 1, 10000) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == 0) {
            rc = err ? -1 : 0;
            errno = err;
        } else {
            errno = ETIMEDOUT;
        }
    }
    if (rc == 0)
        escaped(what);
    else
        blocked(what, errno);
    close(fd);
    return verdict();
}

/* mount [TARGET]: mount a tmpfs (default on /tmp). */
static int cmd_mount(int argc, char **argv)
{
    const char *target = argc > 0 ? argv[0] : "/tmp";
    char what[256];
    snprintf(what, sizeof what, "mount a tmpfs on %s", target);
    if (mount("cell-probe", target, "tmpfs", 0, "size=1m") == 0) {
        escaped(what);
        umount2(target, MNT_DETACH);
    } else {
        blocked(what, errno);
    }
    snprintf(what, sizeof what, "remount / read-write");
    if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND, NULL) == 0)
        escaped(what);
    else
        blocked(what, errno);
    return verdict();
}

static int child_exit(void *arg)
{
    (void)arg;
    _exit(0);
}

/* userns: unshare(CLONE_NEWUSER), then clone(CLONE_NEWUSER). */
static int cmd_userns(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    /* Try clone first: a successful unshare would change what clone means. */
    static char stack[64 * 1024];
    pid_t pid = clone(child_exit, stack + sizeof stack, CLONE_NEWUSER | SIGCHLD, NULL);
    if (pid > 0) {
        waitpid(pid, NULL, 0);
        escaped("clone(CLONE_NEWUSER)");
    } else {
        blocked("clone(CLONE_NEWUSER)", errno);
    }
    if (unshare(CLONE_NEWUSER) == 0)
        escaped("unshare(CLONE_NEWUSER)");
    else
        blocked("unshare(CLONE_NEWUSER)", errno);
    return verdict();
}

/* ptrace: fork a child and try PTRACE_ATTACH and PTRACE_SEIZE on it. */
static int cmd_ptrace(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    pid_t pid = fork();
    if (pid < 0) {
        perror("cell-probe: fork");
        return 2;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        for (;;)
            pause();
    }
    if (ptrace(PTRACE_ATTACH, pid, NULL, NULL) == 0) {
        escaped("ptrace(PTRACE_ATTACH) a child");
        waitpid(pid, NULL, __WALL);
        ptrace(PTRACE_DETACH, pid, NULL, NULL);
    } else {
        blocked("ptrace(PTRACE_ATTACH) a child", errno);
    }
    if (ptrace(PTRACE_SEIZE, pid, NULL, NULL) == 0) {
        escaped("ptrace(PTRACE_SEIZE) a child");
        ptrace(PTRACE_DETACH, pid, NULL, NULL);
    } else {
        blocked("ptrace(PTRACE_SEIZE) a child", errno);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, __WALL);
    return verdict();
}

/* module: finit_module and init_module with an empty image. */
static int cmd_module(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    long rc = syscall(SYS_finit_module, fd, "", 0);
    report_call("finit_module", rc, errno);
    if (fd >= 0)
        close(fd);
    static char image[64];
    rc = syscall(SYS_init_module, image, (unsigned long)0, "");
    report_call("init_module", rc, errno);
    return verdict();
}

/* keyctl: add a user key to the process keyring with add_key(2). */
static int cmd_keyctl(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    long rc = syscall(SYS_add_key, "user", "cell-probe", "x", (size_t)1, -2 /* KEY_SPEC_PROCESS_KEYRING */);
    report_call("add_key", rc, errno);
    return verdict();
}

/* bpf: BPF_MAP_CREATE an array map. */
static int cmd_bpf(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.map_type = BPF_MAP_TYPE_ARRAY;
    attr.key_size = 4;
    attr.value_size = 4;
    attr.max_entries = 1;
    long rc = syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr);
    report_call("bpf(BPF_MAP_CREATE)", rc, errno);
    if (rc >= 0)
        close((int)rc);
    return verdict();
}

/* mknod PATH: create a character device (1,3) = /dev/null. */
static int cmd_mknod(int argc, char **argv)
{
    char what[512];
    (void)argc;
    snprintf(what, sizeof what, "mknod character device %s", argv[0]);
    if (mknod(argv[0], S_IFCHR | 0600, makedev(1, 3)) == 0) {
        escaped(what);
        unlink(argv[0]);
    } else {
        blocked(what, errno);
    }
    return verdict();
}

static const char *const cap_names[] = {
    "cap_chown",
    "cap_dac_override",
    "cap_dac_read_search",
    "cap_fowner",
    "cap_fsetid",
    "cap_kill",
    "cap_setgid",
    "cap_setuid",
    "cap_setpcap",
    "cap_linux_immutable",
    "cap_net_bind_service",
    "cap_net_broadcast",
    "cap_net_admin",
    "cap_net_raw",
    "cap_ipc_lock",
    "cap_ipc_owner",
    "cap_sys_module",
    "cap_sys_rawio",
    "cap_sys_chroot",
    "cap_sys_ptrace",
    "cap_sys_pacct",
    "cap_sys_admin",
    "cap_sys_boot",
    "cap_sys_nice",
    "cap_sys_resource",
    "cap_sys_time",
    "cap_sys_tty_config",
    "cap_mknod",
    "cap_lease",
    "cap_audit_write",
    "cap_audit_control",
    "cap_setfcap",
    "cap_mac_override",
    "cap_mac_admin",
    "cap_syslog",
    "cap_wake_alarm",
    "cap_block_suspend",
    "cap_audit_read",
    "cap_perfmon",
    "cap_bpf",
    "cap_checkpoint_restore",
};
#define NCAPS ((int)(sizeof cap_names / sizeof cap_names[0]))

static int cap_by_name(const char *name)
{
    char low[64];
    size_t i;
    for (i = 0; name[i] && i < sizeof low - 1; i++)
        low[i] = (char)tolower((unsigned char)name[i]);
    low[i] = 0;
    const char *n = strncmp(low, "cap_", 4) == 0 ? low : NULL;
    for (int c = 0; c < NCAPS; c++)
        if (strcmp(cap_names[c], n ? n : low) == 0 || (!n && strcmp(cap_names[c] + 4, low) == 0))
            return c;
    return -1;
}

/* caps [EXPECTED...]: print the capability sets; ESCAPED if any capability is
 * effective, permitted or ambient other than the expected ones, or if capset
 * can raise one. */
static int cmd_caps(int argc, char **argv)
{
    uint64_t expected = 0, eff = 0, prm = 0, amb = 0;
    for (int i = 0; i < argc; i++) {
        int c = cap_by_name(argv[i]);
        if (c < 0) {
            fprintf(stderr, "cell-probe: unknown capability %s\n", argv[i]);
            return 2;
        }
        expected |= 1ULL << c;
    }
    FILE *f = fopen("/proc/self/status", "re");
    char line[256];
    if (!f) {
        perror("cell-probe: /proc/self/status");
        return 2;
    }
    while (fgets(line, sizeof line, f)) {
        uint64_t *set = NULL;
        if (strncmp(line, "CapInh:", 7) == 0 || strncmp(line, "CapBnd:", 7) == 0)
            fputs(line, stdout);
        else if (strncmp(line, "CapEff:", 7) == 0)
            set = &eff;
        else if (strncmp(line, "CapPrm:", 7) == 0)
            set = &prm;
        else if (strncmp(line, "CapAmb:", 7) == 0)
            set = &amb;
        if (set) {
            fputs(line, stdout);
            *set = strtoull(line + 7, NULL, 16);
        }
    }
    fclose(f);
    printf("effective:");
    for (int c = 0; c < 64; c++)
        if (eff & (1ULL << c))
            printf(" %s", c < NCAPS ? cap_names[c] : "cap_unknown");
    printf("\n");

    uint64_t held = (eff | prm | amb) & ~expected;
    for (int c = 0; c < 64; c++) {
        if (held & (1ULL << c)) {
            char what[128];
            snprintf(what, sizeof what, "holds capability %s", c < NCAPS ? cap_names[c] : "cap_unknown");
            escaped(what);
        }
    }
    if (!held)
        blocked("hold a capability not asked for", 0);

    /* Try to raise every capability into all three sets. */
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2];
    for (int i = 0; i < 2; i++) {
        data[i].effective = 0xffffffffu;
        data[i].permitted = 0xffffffffu;
        data[i].inheritable = 0xffffffffu;
    }
    if (syscall(SYS_capset, &hdr, data) == 0)
        escaped("capset raised every capability");
    else
        blocked("capset to raise every capability", errno);
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_SYS_ADMIN, 0, 0) == 0)
        escaped("raise CAP_SYS_ADMIN into the ambient set");
    else
        blocked("raise CAP_SYS_ADMIN into the ambient set", errno);
    return verdict();
}

/* read PATH: read bytes from PATH (e.g. /proc/kcore). */
static int cmd_read(int argc, char **argv)
{
    char what[512], buf[4096];
    (void)argc;
    snprintf(what, sizeof what, "read %s", argv[0]);
    int fd = open(argv[0], O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        blocked(what, errno);
        return verdict();
    }
    ssize_t n = read(fd, buf, sizeof buf);
    int err = errno;
    close(fd);
    if (n > 0) {
        snprintf(what, sizeof what, "read %zd bytes from %s", n, argv[0]);
        escaped(what);
    } else if (n == 0) {
        snprintf(what, sizeof what, "read %s (opened, but it is empty)", argv[0]);
        blocked(what, 0);
    } else {
        blocked(what, err);
    }
    return verdict();
}

/* fd N: is file descriptor N open? */
static int cmd_fd(int argc, char **argv)
{
    long n = parse_long(argv[0], "fd");
    char what[512], link[64], target[256];
    (void)argc;
    if (fcntl((int)n, F_GETFD) >= 0) {
        snprintf(link, sizeof link, "/proc/self/fd/%ld", n);
        ssize_t len = readlink(link, target, sizeof target - 1);
        target[len > 0 ? len : 0] = 0;
        snprintf(what, sizeof what, "fd %ld is open (%s)", n, len > 0 ? target : "?");
        escaped(what);
    } else {
        snprintf(what, sizeof what, "fd %ld is open", n);
        blocked(what, errno);
    }
    return verdict();
}

/* env: print the environment, one variable per line. */
static int cmd_env(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    for (char **e = environ; e && *e; e++)
        printf("%s\n", *e);
    return 0;
}

/* euid: print real and effective ids (run as a setuid copy). */
static int cmd_euid(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    uid_t r = getuid(), e = geteuid();
    gid_t rg = getgid(), eg = getegid();
    char what[128];
    printf("ruid=%u euid=%u rgid=%u egid=%u\n", (unsigned)r, (unsigned)e, (unsigned)rg, (unsigned)eg);
    if (r != e) {
        snprintf(what, sizeof what, "setuid raised euid from %u to %u", (unsigned)r, (unsigned)e);
        escaped(what);
    } else {
        snprintf(what, sizeof what, "setuid raise the euid (euid stays %u)", (unsigned)e);
        blocked(what, 0);
    }
    return verdict();
}

/* sysv: create a SysV shared memory segment, semaphore set and message queue. */
static int cmd_sysv(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    if (id >= 0) {
        escaped("shmget");
        shmctl(id, IPC_RMID, NULL);
    } else {
        blocked("shmget", errno);
    }
    id = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
    if (id >= 0) {
        escaped("semget");
        semctl(id, 0, IPC_RMID);
    } else {
        blocked("semget", errno);
    }
    id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    if (id >= 0) {
        escaped("msgget");
        msgctl(id, IPC_RMID, NULL);
    } else {
        blocked("msgget", errno);
    }
    return verdict();
}

/* raw: open raw packet and raw IP sockets. */
static int cmd_raw(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
    if (fd >= 0) {
        escaped("socket(AF_PACKET, SOCK_RAW)");
        close(fd);
    } else {
        blocked("socket(AF_PACKET, SOCK_RAW)", errno);
    }
    fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
    if (fd >= 0) {
        escaped("socket(AF_INET, SOCK_RAW)");
        close(fd);
    } else {
        blocked("socket(AF_INET, SOCK_RAW)", errno);
    }
    return verdict();
}

/* memory MB: allocate and touch MB megabytes, 1 MB at a time. */
static int cmd_memory(int argc, char **argv)
{
    long mb = parse_long(argv[0], "megabytes");
    long page = sysconf(_SC_PAGESIZE);
    char what[128];
    (void)argc;
    for (long i = 1; i <= mb; i++) {
        char *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            snprintf(what, sizeof what, "allocate megabyte %ld of %ld", i, mb);
            blocked(what, errno);
            return verdict();
        }
        for (long off = 0; off < (1 << 20); off += page)
            p[off] = (char)i;
        printf("allocated %ld MB\n", i);
        fflush(stdout);
    }
    snprintf(what, sizeof what, "allocated and touched all %ld MB", mb);
    escaped(what);
    return verdict();
}

/* forks N: fork N sleeping children; contained when some fork fails with EAGAIN. */
static int cmd_forks(int argc, char **argv)
{
    long n = parse_long(argv[0], "count");
    pid_t *kids = calloc((size_t)(n > 0 ? n : 1), sizeof *kids);
    long ok = 0;
    int first_err = 0;
    char what[160];
    (void)argc;
    if (!kids)
        return 2;
    for (long i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            for (;;)
                pause();
        }
        if (pid < 0) {
            if (!first_err)
                first_err = errno;
            continue;
        }
        kids[ok++] = pid;
    }
    printf("forked %ld of %ld\n", ok, n);
    fflush(stdout);
    for (long i = 0; i < ok; i++)
        kill(kids[i], SIGKILL);
    for (long i = 0; i < ok; i++)
        waitpid(kids[i], NULL, 0);
    free(kids);
    snprintf(what, sizeof what, "fork %ld processes (only %ld succeeded)", n, ok);
    if (ok < n && first_err == EAGAIN) {
        blocked(what, first_err);
    } else if (ok < n) {
        /* Failed, but not the way a pids limit fails. */
        fprintf(stderr, "cell-probe: fork failed: %s\n", strerror(first_err));
        blocked(what, first_err);
    } else {
        snprintf(what, sizeof what, "forked all %ld processes", n);
        escaped(what);
    }
    return verdict();
}

/* nofile N: open /dev/null (or /) until N descriptors or an error. */
static int cmd_nofile(int argc, char **argv)
{
    long n = parse_long(argv[0], "count");
    const char *path = access("/dev/null", R_OK) == 0 ? "/dev/null" : "/";
    long opened = 0;
    int highest = -1, err = 0;
    char what[160];
    (void)argc;
    while (opened < n) {
        int fd = open(path, O_RDONLY);
        if (fd < 0) {
            err = errno;
            break;
        }
        opened++;
        if (fd > highest)
            highest = fd;
    }
    printf("opened %ld files (highest fd %d)\n", opened, highest);
    if (err) {
        snprintf(what, sizeof what, "open %ld files (stopped after %ld)", n, opened);
        blocked(what, err);
    } else {
        snprintf(what, sizeof what, "opened all %ld files", n);
        escaped(what);
    }
    return verdict();
}

static int cmd_exit(int argc, char **argv)
{
    (void)argc;
    return (int)parse_long(argv[0], "status");
}

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
    got_signal = sig;
}

/* signal: wait for TERM/INT/HUP/USR1, print "got SIGNAME", exit 42. */
static int cmd_signal(int argc, char **argv)
{
    static const struct {
        int sig;
        const char *name;
    } sigs[] = {{SIGTERM, "SIGTERM"}, {SIGINT, "SIGINT"}, {SIGHUP, "SIGHUP"}, {SIGUSR1, "SIGUSR1"}};
    struct sigaction sa;
    (void)argc;
    (void)argv;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaction(sigs[i].sig, &sa, NULL);
    printf("ready\n");
    fflush(stdout);
    /* Give up after two minutes so a lost signal cannot leave a process behind. */
    for (int i = 0; i < 1200 && !got_signal; i++) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (!got_signal) {
        printf("no signal\n");
        return 3;
    }
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        if (sigs[i].sig == got_signal)
            printf("got %s\n", sigs[i].name);
    fflush(stdout);
    return 42;
}

static int count_zombies(void)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    int n = 0;
    if (!d)
        return -1;
    while ((e = readdir(d))) {
        char path[300], buf[512];
        if (!is_numeric(e->d_name))
            continue;
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        ssize_t len = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (len <= 0)
            continue;
        buf[len] = 0;
        char *rp = strrchr(buf, ')');
        if (rp && rp[1] == ' ' && rp[2] == 'Z')
            n++;
    }
    closedir(d);
    return n;
}

/* zombies [N]: orphan N grandchildren that exit; someone must reap them. */
static int cmd_zombies(int argc, char **argv)
{
    long n = argc > 0 ? parse_long(argv[0], "count") : 5;
    char what[128];
    for (long i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            if (fork() == 0) {
                struct timespec ts = {0, 200 * 1000 * 1000};
                nanosleep(&ts, NULL); /* exit after our parent: an orphan */
                _exit(0);
            }
            _exit(0);
        }
        if (pid > 0)
            waitpid(pid, NULL, 0);
    }
    /* Let the orphans exit and be reaped: poll up to 10 s. */
    int z = 0;
    for (int i = 0; i < 100; i++) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
        z = count_zombies();
        if (i >= 5 && z == 0)
            break;
    }
    printf("zombies: %d\n", z);
    snprintf(what, sizeof what, "leave %ld orphaned zombies unreaped", n);
    if (z > 0) {
        snprintf(what, sizeof what, "%d zombie processes left unreaped", z);
        escaped(what);
    } else {
        blocked(what, 0);
    }
    return verdict();
}

static int cmd_sleep(int argc, char **argv)
{
    (void)argc;
    double s = strtod(argv[0], NULL);
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
    return 0;
}

static int cmd_hostname(int argc, char **argv)
{
    struct utsname u;
    (void)argc;
    (void)argv;
    if (uname(&u) < 0) {
        perror("cell-probe: uname");
        return 2;
    }
    printf("%s\n", u.nodename);
    return 0;
}

/* ifaces: list network interfaces (from /proc/net/dev) with up/down state. */
static int cmd_ifaces(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    FILE *f = fopen("/proc/net/dev", "re");
    char line[512];
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (!f) {
        perror("cell-probe: /proc/net/dev");
        return 2;
    }
    while (fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (!colon)
            continue;
        *colon = 0;
        char *name = line;
        while (*name == ' ')
            name++;
        struct ifreq ifr;
        memset(&ifr, 0, sizeof ifr);
        size_t nlen = strlen(name);
        memcpy(ifr.ifr_name, name, nlen < IFNAMSIZ ? nlen : IFNAMSIZ - 1);
        const char *state = "?";
        if (s >= 0 && ioctl(s, SIOCGIFFLAGS, &ifr) == 0)
            state = (ifr.ifr_flags & IFF_UP) ? "up" : "down";
        printf("%s %s\n", name, state);
    }
    fclose(f);
    if (s >= 0)
        close(s);
    return 0;
}

static int cmd_whoami(int argc, char **argv)
{
    gid_t groups[256];
    (void)argc;
    (void)argv;
    int n = getgroups(256, groups);
    printf("uid=%u gid=%u groups=", (unsigned)getuid(), (unsigned)getgid());
    for (int i = 0; i < n; i++)
        printf("%s%u", i ? "," : "", (unsigned)groups[i]);
    printf("\n");
    return 0;
}

static int cmd_tty(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const char *t = ttyname(0);
    printf("%s\n", t ? t : "not a tty");
    return 0;
}

static int cmd_cwd(int argc, char **argv)
{
    char buf[4096];
    (void)argc;
    (void)argv;
    printf("%s\n", getcwd(buf, sizeof buf) ? buf : "?");
    return 0;
}

/* ---- dispatch ------------------------------------------------------------ */

static const struct command {
    const char *name;
    int min_args;
    const char *usage;
    int (*fn)(int argc, char **argv);
} commands[] = {
    {"pids", 1, "HOSTPID", cmd_pids},
    {"write", 1, "PATH", cmd_write},
    {"net", 2, "HOST PORT", cmd_net},
    {"mount", 0, "[TARGET]", cmd_mount},
    {"userns", 0, "", cmd_userns},
    {"ptrace", 0, "", cmd_ptrace},
    {"module", 0, "", cmd_module},
    {"keyctl", 0, "", cmd_keyctl},
    {"bpf", 0, "", cmd_bpf},
    {"mknod", 1, "PATH", cmd_mknod},
    {"caps", 0, "[EXPECTED_CAP...]", cmd_caps},
    {"read", 1, "PATH", cmd_read},
    {"fd", 1, "N", cmd_fd},
    {"env", 0, "", cmd_env},
    {"euid", 0, "", cmd_euid},
    {"sysv", 0, "", cmd_sysv},
    {"raw", 0, "", cmd_raw},
    {"memory", 1, "MB", cmd_memory},
    {"forks", 1, "N", cmd_forks},
    {"nofile", 1, "N", cmd_nofile},
    {"exit", 1, "STATUS", cmd_exit},
    {"signal", 0, "", cmd_signal},
    {"zombies", 0, "[N]", cmd_zombies},
    {"sleep", 1, "SECONDS", cmd_sleep},
    {"hostname", 0, "", cmd_hostname},
    {"ifaces", 0, "", cmd_ifaces},
    {"whoami", 0, "", cmd_whoami},
    {"tty", 0, "", cmd_tty},
    {"cwd", 0, "", cmd_cwd},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: cell-probe SUBCOMMAND [ARGS]\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %s %s\n", commands[i].name, commands[i].usage);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        const struct command *c = &commands[i];
        if (strcmp(argv[1], c->name) != 0)
            continue;
        if (argc - 2 < c->min_args) {
            fprintf(stderr, "usage: cell-probe %s %s\n", c->name, c->usage);
            return 2;
        }
        return c->fn(argc - 2, argv + 2);
    }
    if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "cell-probe: unknown subcommand %s\n", argv[1]);
    usage(stderr);
    return 2;
}
