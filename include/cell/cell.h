/* cell.h - the public C API of libcell: the cell specification, its
 * validation and parsers, error values, logging, and running a cell.
 *
 * Every front end (CLI flags, and later Lua, OCI config.json, ExecutionCell
 * JSON) fills one `struct cell_spec`; cell_spec_validate() checks it once;
 * cell_run() starts it in the sandbox and waits for it. Nothing downstream of
 * the spec parses text.
 *
 * Conventions: a function that can fail takes `struct cell_err *err` as its
 * last argument and returns -1 (or NULL) with err filled in; the message names
 * the object and the operation ("bind /srv: No such file or directory").
 * libcell never calls exit() and never prints except through cell_log().
 */
#ifndef CELL_CELL_H
#define CELL_CELL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CELL_VERSION "0.1.0"

/* ---- errors ------------------------------------------------------------ */

/* An error value. `errnum` is the errno behind it (0 when none); `msg` is a
 * complete sentence fragment naming the object and the operation. */
struct cell_err {
    int errnum;
    char msg[512];
};

/* Fill `err` from a printf-style format; appends ": strerror(errnum)" when
 * errnum is non-zero. Always returns -1 so callers can `return cell_err_set(...)`. */
int cell_err_set(struct cell_err *err, int errnum, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Prefix an existing error with more context ("cell web: " + old message). */
int cell_err_prefix(struct cell_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- logging ----------------------------------------------------------- */

enum cell_log_level { CELL_LOG_ERROR, CELL_LOG_WARN, CELL_LOG_INFO, CELL_LOG_DEBUG };

/* Messages at or below `level` are written to stderr, one line each, as the
 * caller formatted them (cell's own say "cell NAME: ..."); debug lines get a
 * monotonic timestamp and the pid. The default is CELL_LOG_WARN. */
void cell_log_set_level(enum cell_log_level level);
void cell_log(enum cell_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- the specification --------------------------------------------------- */

enum cell_net_mode { CELL_NET_NONE, CELL_NET_HOST };

/* Seccomp profiles; see docs/seccomp-profiles.md for the exact lists. */
enum cell_profile { CELL_PROFILE_HIGH, CELL_PROFILE_MEDIUM, CELL_PROFILE_LOW };

/* Namespaces a cell gets. pid, mount, ipc, uts and cgroup are always new;
 * net is new unless net_mode is CELL_NET_HOST; user is new when the caller
 * is not root or when `userns` is asked for. */
struct cell_namespaces {
    bool userns;
    /* OCI: join these existing namespaces (a path such as /run/netns/NAME or
     * /proc/PID/ns/net) instead of making new ones; NULL: new */
    char *join_net, *join_ipc, *join_uts, *join_cgroup, *join_pid, *join_mount, *join_user;
};

/* BIND and TMPFS are cell's own; the others come from OCI bundles (their
 * config.json lists every mount, /proc and /dev included). */
enum cell_mount_kind {
    CELL_MOUNT_BIND,
    CELL_MOUNT_TMPFS,
    CELL_MOUNT_PROC,
    CELL_MOUNT_SYSFS,
    CELL_MOUNT_DEVPTS,
    CELL_MOUNT_MQUEUE,
    CELL_MOUNT_CGROUP,
};

struct cell_mount {
    enum cell_mount_kind kind;
    char *source;        /* bind only: a host path */
    char *destination;   /* an absolute path inside the cell */
    bool writable;       /* bind: rw when true, ro otherwise; tmpfs: always rw (OCI: unless "ro") */
    unsigned long flags; /* OCI: MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_RDONLY, ... as given */
    char *data;          /* OCI: the filesystem's options ("size=65536k,mode=755"), or NULL */
};

/* An OCI bundle's filesystem (cell create / cell run ID): the rootfs itself
 * is the root, writable unless readonly_root, and only the mounts of the
 * spec are made (in order), then the default devices in /dev, the masked
 * and the read-only paths. */
/* One rule of a device access list (OCI linux.resources.devices), enforced
 * by the cell's cgroup (src/lib/sandbox/devices.h says how). */
enum { CELL_DEVICE_READ = 1, CELL_DEVICE_WRITE = 2, CELL_DEVICE_MKNOD = 4 };
struct cell_device_rule {
    bool allow;
    char type;       /* 'a' (any), 'c' or 'b' */
    int64_t major;   /* -1: any */
    int64_t minor;   /* -1: any */
    unsigned access; /* CELL_DEVICE_READ | _WRITE | _MKNOD */
};

/* A device node an OCI bundle asks for (linux.devices), made in /dev. */
struct cell_device_node {
    char *path; /* absolute, under /dev */
    char type;  /* 'c' (also for "u"), 'b' or 'p' */
    unsigned major, minor;
    mode_t mode; /* permission bits */
    uid_t uid;
    gid_t gid;
};

/* A block device throttle (OCI linux.resources.blockIO.throttle*Device). */
enum cell_io_kind { CELL_IO_READ_BPS, CELL_IO_WRITE_BPS, CELL_IO_READ_IOPS, CELL_IO_WRITE_IOPS, CELL_IO_KINDS };
struct cell_io_throttle {
    enum cell_io_kind kind;
    unsigned major, minor;
    uint64_t rate; /* bytes or operations per second, > 0 */
};

/* An address and port a cell may connect to (cell run --egress, a job's
 * spec.authority.egressRules). */
struct cell_egress_rule {
    char *host; /* a name or an address, resolved before start */
    uint16_t port;
    char protocol[4]; /* "tcp" (default) or "udp" */
};

struct cell_oci_fs {
    bool enabled;
    bool readonly_root;
    char **masked_paths;   /* NULL-terminated, or NULL */
    char **readonly_paths; /* NULL-terminated, or NULL */
    char *domainname;      /* or NULL */
    char **sysctls;        /* "net.ipv4.ping_group_range=0 0", NULL-terminated, or NULL: only
                            * those of the container's own namespaces (net: with its own network) */
    bool umask_set;
    mode_t umask;
    bool oom_score_adj_set; /* process.oomScoreAdj, -1000..1000 */
    int oom_score_adj;
    /* linux.uidMappings / gidMappings as /proc/PID/uid_map takes them
     * ("0 200000 65536\n", a line per range), or NULL: cell's own mapping */
    char *uid_map, *gid_map;
    /* device_cgroup: the cell's cgroup enforces device_rules (deny all,
     * then the rules in order; the last match decides) */
    bool device_cgroup;
    struct cell_device_rule *device_rules;
    size_t ndevice_rules;
    struct cell_device_node *devices; /* linux.devices */
    size_t ndevices;
    struct cell_io_throttle *io_throttle; /* written into the cell's blkio (v1) or io.max (v2) */
    /* linux.cgroupsPath: "/a/b" from each hierarchy's root, "a/b" from the
     * caller's cgroup; NULL: cell.NAME.PID under the caller's */
    char *cgroups_path;
    size_t nio_throttle;
};

/* A seccomp filter compiled at run time (an OCI config's own linux.seccomp,
 * src/lib/seccomp_oci.c): a struct sock_fprog's instructions and the flags
 * for seccomp(SECCOMP_SET_MODE_FILTER). It replaces the profile's filter. */
struct cell_seccomp_program {
    void *filter; /* struct sock_filter[len], malloc'd */
    unsigned short len;
    unsigned flags; /* SECCOMP_FILTER_FLAG_LOG, _SPEC_ALLOW */
};

/* Resource limits applied through the cell's cgroup; 0 means "not set". */
struct cell_limits {
    uint64_t memory_bytes;
    uint64_t pids;
    uint64_t cpu_millis; /* 1000 = one full CPU */
};

enum cell_rlimit_name {
    CELL_RLIMIT_NOFILE,
    CELL_RLIMIT_NPROC,
    CELL_RLIMIT_AS,
    CELL_RLIMIT_CORE,
    CELL_RLIMIT_CPU,
    CELL_RLIMIT_FSIZE,
    CELL_RLIMIT_STACK,
    CELL_RLIMIT_MEMLOCK,
    CELL_RLIMIT_COUNT
};

struct cell_rlimit {
    bool set;
    uint64_t soft; /* UINT64_MAX = unlimited */
    uint64_t hard;
};

#define CELL_MAX_GROUPS 32
#define CELL_MAX_PRESERVED_FDS 16

/* How celld supervises a detached cell (`cell run -d`). Times in ms. */
enum cell_restart_policy { CELL_RESTART_ON_FAILURE, CELL_RESTART_ALWAYS, CELL_RESTART_NEVER };

struct cell_supervision {
    bool detach;                      /* hand the cell to celld instead of waiting for it */
    enum cell_restart_policy restart; /* default on-failure */
    unsigned stop_timeout_ms;         /* SIGTERM, then SIGKILL after this (default 5 s) */
    unsigned restart_delay_ms;        /* first delay after a quick death (default 1 s) */
    unsigned restart_max_delay_ms;    /* the doubling stops here (default 10 s) */
    unsigned stable_after_ms;         /* up this long: restart at once (default 10 s) */
    unsigned reset_after_ms;          /* up this long: the delay starts over (default 30 s) */
    unsigned crash_limit;             /* this many exits ... (default 5) */
    unsigned crash_window_ms;         /* ... within this window: failed (default 60 s) */
    unsigned ttl_ms;                  /* stopped for good this long after it was started; 0: no limit */
    char *health;                     /* a shell command run in the cell; failing: unhealthy */
    unsigned health_interval_ms;      /* default 10 s */
    unsigned health_timeout_ms;       /* a check running longer fails (default 5 s) */
    unsigned health_retries;          /* failures in a row before it counts (default 3) */
    bool syslog;                      /* also send its output lines to syslog */
    int syslog_facility;              /* LOG_DAEMON by default (<syslog.h> values) */
    int syslog_stdout_level;          /* LOG_INFO */
    int syslog_stderr_level;          /* LOG_ERR */
    char *syslog_tag;                 /* NULL: "cell" */
    bool listen;                      /* socket activation: started on the first connection */
    bool notify;                      /* ready once it writes a newline to $CELL_NOTIFY_FD */
    bool no_autostart;                /* `cell up` leaves it down */
    char *listen_path;                /* its socket; NULL: <run>/sockets/NAME.sock */
    bool listen_seqpacket;            /* --listen-type seqpacket (cell/ipc.h); false: a stream socket */
};

struct cell_spec {
    char *name;  /* [A-Za-z0-9][A-Za-z0-9_.-]{0,62} */
    char **argv; /* NULL-terminated; argv[0] is looked up in the cell's PATH */
    char **env;  /* NULL-terminated "K=V"; exactly the workload's environment */
    char *cwd;   /* absolute; default "/" */
    uid_t uid;   /* inside the cell */
    gid_t gid;
    gid_t groups[CELL_MAX_GROUPS]; /* supplementary groups; none unless given */
    size_t ngroups;
    char *hostname; /* default: the cell's name */
    char *rootfs;   /* NULL: the host's system directories, read-only */
    char *layer;    /* NULL, or a host directory whose upper/ (and work/) is overlaid on
                     * the root: files it holds persist across starts (apply writes them;
                     * the cell itself still sees its root read-only) */
    struct cell_mount *mounts;
    size_t nmounts;
    struct cell_namespaces ns;
    enum cell_net_mode net_mode;
    /* With net none: a veth link out and nftables rules in the cell's
     * network namespace allowing exactly these (sandbox/egress.h); as root
     * only. egress_netns: the named network namespace (`ip netns`) of the
     * link's other end; NULL: the host's. */
    struct cell_egress_rule *egress;
    size_t negress;
    char *egress_netns;
    struct cell_limits limits;
    struct cell_rlimit rlimits[CELL_RLIMIT_COUNT];
    enum cell_profile profile;
    struct cell_seccomp_program *custom_seccomp; /* NULL: the profile's filter; else this one */
    uint64_t cap_add;                            /* bit N = capability N kept (see <linux/capability.h>) */
    unsigned timeout_sec;                        /* 0: none */
    bool tty;
    int preserved_fds[CELL_MAX_PRESERVED_FDS];
    size_t npreserved_fds;
    struct cell_supervision supervise;
    struct cell_oci_fs oci; /* enabled only for OCI bundles */
};

/* The `cell run` command line (after "run") into `spec`: options up to "--"
 * or the first word that is not one. Returns the index of the command's
 * first word, 0 when --help was asked for, or -1 with err filled in. The
 * caller then sets argv and validates. */
int cell_spec_from_args(int argc, char **argv, struct cell_spec *spec, struct cell_err *err);

/* Initialise with defaults (profile high, net none, cwd "/", uid/gid 0). */
void cell_spec_init(struct cell_spec *spec);
/* Free every string and array the spec owns, and reset it. */
void cell_spec_free(struct cell_spec *spec);
/* A cell name: 1-63 letters, digits, '-', '_' or '.', starting with a letter
 * or digit (so it is also a safe file name). */
bool cell_name_valid(const char *name);
/* Check every field; the first problem found is reported in err. Fills
 * derived defaults (hostname from name). Returns 0 or -1. */
int cell_spec_validate(struct cell_spec *spec, struct cell_err *err);

/* Add the default environment (PATH of the usual system directories and
 * HOME=/tmp); a spec whose env stays empty runs with an empty environment. */
int cell_spec_add_default_env(struct cell_spec *spec, struct cell_err *err);

/* Append helpers; strings are copied. */
int cell_spec_add_env(struct cell_spec *spec, const char *kv, struct cell_err *err);
int cell_spec_add_mount(struct cell_spec *spec, const struct cell_mount *m, struct cell_err *err);
int cell_spec_set_argv(struct cell_spec *spec, char *const *argv, struct cell_err *err);

/* ---- parsers (for every front end; each rejects with a precise message) -- */

/* "64M", "1G", "512k", "1048576", "2.5G" -> bytes. Suffixes K M G T (powers
 * of 1024), case-insensitive, optional trailing "B"/"iB". */
int cell_parse_size(const char *text, uint64_t *bytes, struct cell_err *err);
/* "0.5", "2", "1.25" -> millis of CPU (500, 2000, 1250); > 0, <= 1024 CPUs,
 * at most three decimals. */
int cell_parse_cpus(const char *text, uint64_t *millis, struct cell_err *err);
/* "nofile=1024", "nofile=1024:4096", "core=unlimited" -> which + limit. */
int cell_parse_rlimit(const char *text, enum cell_rlimit_name *which, struct cell_rlimit *rl, struct cell_err *err);
/* "SRC:DST", "SRC:DST:ro", "SRC:DST:rw" -> a bind mount (read-only by default). */
int cell_parse_bind(const char *text, struct cell_mount *m, struct cell_err *err);
/* "UID" or "UID:GID" (numeric) */
int cell_parse_user(const char *text, uid_t *uid, gid_t *gid, struct cell_err *err);
/* A non-negative decimal integer that fits `max`. `what` names it in errors. */
int cell_parse_uint(const char *text, uint64_t max, const char *what, uint64_t *out, struct cell_err *err);
/* "1.5", "1.5s", "250ms", "2m": a duration up to one day, in milliseconds;
 * `what` names the option in errors. */
int cell_parse_duration(const char *text, const char *what, unsigned *ms, struct cell_err *err);
/* "always" | "on-failure" | "never" */
int cell_parse_restart(const char *text, enum cell_restart_policy *policy, struct cell_err *err);
const char *cell_restart_label(enum cell_restart_policy policy);
/* "high" | "medium" | "low" */
int cell_parse_profile(const char *text, enum cell_profile *profile, struct cell_err *err);
/* "none" | "host" */
int cell_parse_net(const char *text, enum cell_net_mode *mode, struct cell_err *err);
/* "CAP_NET_BIND_SERVICE", "net_bind_service" -> capability number */
int cell_parse_capability(const char *text, int *cap, struct cell_err *err);

const char *cell_rlimit_label(enum cell_rlimit_name which); /* "nofile" */
const char *cell_profile_label(enum cell_profile profile);  /* "high" */
/* Format bytes compactly: 67108864 -> "64M". */
void cell_format_size(uint64_t bytes, char *buf, size_t len);

/* ---- running a cell ---------------------------------------------------- */

/* Exit codes cell uses for its own failures (the workload's own status
 * passes through unchanged; a signal N becomes 128+N). */
enum {
    CELL_EXIT_TIMEOUT = 124,  /* --timeout expired; the cell was killed */
    CELL_EXIT_SETUP = 125,    /* cell could not set up the sandbox */
    CELL_EXIT_NOEXEC = 126,   /* the command exists but cannot be executed */
    CELL_EXIT_NOTFOUND = 127, /* the command does not exist inside the cell */
};

struct cell_run_opts {
    const char *root; /* cell's root directory (unused by cell_run today) */
};

/* What happened to a cell. */
struct cell_result {
    int exit_code;   /* what `cell run` exits with */
    int exit_status; /* the workload's exit status, or -1 */
    int term_signal; /* the signal that ended it, or 0 */
    bool timed_out;
    bool oom_killed;
};

/* Start `spec` (validated) in a new sandbox (stdio inherited, or a relayed
 * pty with spec->tty), forward signals, and wait until the cell is gone and
 * its cgroups are removed.
 * Returns 0 with `result` filled when the cell ran (whatever its status), or
 * -1 with err when it could not be set up; `result->exit_code` is always set. */
int cell_run(const struct cell_spec *spec, const struct cell_run_opts *opts, struct cell_result *result,
             struct cell_err *err);

/* ---- supervised cells --------------------------------------------------- */

/* A running cell started by cell_start(), for a supervisor (celld) that waits
 * for many cells in one event loop. */
struct cell_instance;
struct json_t;

/* How many fds a detached cell's init holds for its supervisor, and where. */
#define CELL_HELD_FDS 2
#define CELL_HELD_FD(i) (101 + (i))

struct cell_start_opts {
    /* The cell outlives its starter (no die-with-parent, no cleanup keeper):
     * the supervisor owns its cleanup. */
    bool detached;
    /* The workload's stdin, stdout, stderr; -1 keeps the starter's own. */
    int stdio[3];
    /* Socket activation: a listening socket the workload gets as fd 3, with
     * LISTEN_FDS=1, LISTEN_PID and LISTEN_FDNAMES=NAME; 0 or -1 for none. */
    int listen_fd;
    /* Readiness: a pipe's write end the workload gets as fd 4, named by
     * $CELL_NOTIFY_FD; it writes a newline when it is ready. 0 or -1: none. */
    int notify_fd;
    /* Nonzero for a second instance of the same cell running alongside the
     * first (a swap): it then gets cgroups of its own, cell.NAME.gN.PID. */
    unsigned generation;
    /* A detached cell's init keeps a copy of each of these fds (say the read
     * ends of the log pipes the workload writes to) at CELL_HELD_FD(i), so a
     * supervisor that was restarted can take them back from the running cell
     * (cell_instance_adopt, cell_instance_take_fd). 0 or -1: none. */
    int held_fds[CELL_HELD_FDS];
    /* An fd (O_PATH is enough) of cell-init, the small program the cell's
     * init execs once the workload runs, so that each cell's pid 1 holds
     * none of the starter's memory (a supervisor's, say: celld). 0 or -1:
     * the init stays as it is. */
    int init_exec_fd;
    /* OCI create: an fd (O_PATH) of a FIFO. Once everything is set up, init
     * says so (cell_start returns) and waits until someone opens the FIFO
     * for reading (cell start), and only then starts the workload. 0 or -1:
     * none. */
    int start_gate_fd;
    /* The pid in the cell's cgroup names (cell.NAME.PID); 0: the caller's.
     * A supervisor that starts cells through a helper process gives its own. */
    pid_t owner;
    /* Not NULL: when the start fails, the status `cell run` would exit with
     * is stored here: 126 (the command cannot be executed), 127 (not
     * found), else 125. */
    int *setup_exit_code;
};

/* Start `spec` (validated; it must outlive the instance) and return once the
 * workload has exec'd, or -1 with err when it could not be set up (nothing is
 * left behind then). The cell is not waited for: poll its pidfd, then call
 * cell_instance_finish(). */
int cell_start(const struct cell_spec *spec, const struct cell_start_opts *opts, struct cell_instance **out,
               struct cell_err *err);
/* A started cell with spec->tty: the master end of its terminal, now the
 * caller's (to relay, or to pass to an OCI console socket); -1 without one. */
int cell_instance_take_tty(struct cell_instance *inst);
/* A pidfd of the cell's init: readable once the cell has ended. */
int cell_instance_pidfd(const struct cell_instance *inst);
pid_t cell_instance_pid(const struct cell_instance *inst);
/* Send `sig` to the cell (its init forwards it to the workload). */
int cell_instance_signal(struct cell_instance *inst, int sig);
/* SIGKILL every process of the cell. */
void cell_instance_kill(struct cell_instance *inst);
/* Run spec->argv inside the running cell whose init is `init_pid`: in its
 * cgroups and namespaces, with spec's identity, limits, capabilities and
 * seccomp profile (spec is the cell's own, with argv replaced). Waits for the
 * command (killing it after spec->timeout_sec, if set: exit 124); stdio is
 * the caller's. Needs root. */
int cell_exec(pid_t init_pid, const struct cell_spec *spec, struct cell_result *result, struct cell_err *err);
/* What cell_exec_with can do beyond cell_exec (zero them for none). */
struct cell_exec_opts {
    /* Not NULL: the command gets a new terminal, opened on the cell's own
     * devpts (its controlling terminal and its stdio); its master end is
     * handed to on_tty (which may relay it until the command is gone, or
     * pass it on) and closed when on_tty returns. */
    void (*on_tty)(int master, void *ctx);
    /* With on_tty: the terminal's size, set before the command starts (0:
     * the kernel's default; on_tty may still change it). */
    unsigned short tty_rows, tty_cols;
    /* Not NULL: called once the command has been exec'd (not when it
     * failed to start), before cell_exec_with waits for it. */
    void (*on_started)(void *ctx);
    void *ctx;
};
int cell_exec_with(pid_t init_pid, const struct cell_spec *spec, const struct cell_exec_opts *opts,
                   struct cell_result *result, struct cell_err *err);
/* Relay a terminal's master to the caller's stdin and stdout (stdin in raw
 * mode while it is a terminal, the window size copied) until the other end
 * is closed by everyone: an on_tty for a command in the foreground. */
void cell_tty_relay(int master);
/* What a running cell uses, from its cgroup: CPU time of all its processes
 * (exited ones included), resident memory of the live ones (from /proc, so
 * it works without a memory cgroup), how many processes it has, and how many
 * the kernel OOM-killed (oom_kill of its memory cgroup: v2 memory.events or
 * v1 memory.oom_control; 0 without one). Returns -1 when the cell has no
 * cgroup or its process list cannot be read; oom_kills is filled even then,
 * and also after the cell's init has exited, until cell_instance_finish(). */
struct cell_usage {
    uint64_t cpu_usec;
    uint64_t memory_bytes;
    unsigned procs;
    uint64_t oom_kills;
};
int cell_instance_usage(const struct cell_instance *inst, struct cell_usage *usage);
/* Reap the cell (waiting for it if it still runs), fill `result`, remove its
 * cgroups, and free the instance. */
void cell_instance_finish(struct cell_instance *inst, struct cell_result *result);

/* ---- surviving the supervisor -------------------------------------------
 * A detached cell outlives a supervisor that is killed. What a new
 * supervisor needs to take it over is saved as a JSON object: the init's pid
 * and start time (a reused pid is told apart), and the cgroup paths. */

/* The facts to save for `inst` (a new reference). */
struct json_t *cell_instance_save(const struct cell_instance *inst);
/* Take over the detached cell described by `saved`, still running `spec`
 * (which must outlive the instance). Fails with errnum ESRCH when that cell
 * has ended (or its pid is another process now): then
 * cell_instance_discard() removes what it left. The adopted instance is
 * used like a started one; its exit status comes from its init, or, if init
 * was killed, is reported as SIGKILL. */
int cell_instance_adopt(const struct cell_spec *spec, struct json_t *saved, struct cell_instance **out,
                        struct cell_err *err);
/* Free `inst` and close the starter's fds, leaving the cell running, its
 * cgroups in place, and return the status socket (the caller owns it): for
 * a helper that started the cell for a supervisor, which takes it over with
 * cell_instance_save() and cell_instance_adopt_handed(). */
int cell_instance_hand_over(struct cell_instance *inst);
/* cell_instance_adopt for a cell a helper just started and handed over with
 * its status socket: taken even if it has ended already (the helper, its
 * parent, has not reaped it yet), so its exit status is not lost. The
 * status socket is the instance's now (closed on failure). */
int cell_instance_adopt_handed(const struct cell_spec *spec, struct json_t *saved, int status_fd,
                               struct cell_instance **out, struct cell_err *err);
/* Change the limits of the running cell described by `saved`: each
 * non-zero one of `limits` is written into its cgroups (OCI update). */
int cell_instance_saved_update(struct json_t *saved, const struct cell_limits *limits, struct cell_err *err);
/* The running cell described by `saved`, through its cgroups (OCI kill
 * --all, ps, pause, resume): `sig` to every process; their pids (at most
 * `max`, how many in *n); the v2 freezer on or off (waiting until the
 * kernel is done), and whether it is on. A cell without cgroups (rootless)
 * is its init for the first two; freezing needs a cgroup v2 leaf. */
int cell_instance_saved_signal_all(struct json_t *saved, int sig, struct cell_err *err);
int cell_instance_saved_procs(struct json_t *saved, pid_t *pids, size_t max, size_t *n, struct cell_err *err);
int cell_instance_saved_freeze(struct json_t *saved, bool frozen, struct cell_err *err);
bool cell_instance_saved_frozen(struct json_t *saved);
/* Whether the init described by `saved` still runs: the same pid and start
 * time (a reused pid is told apart), and not a zombie. */
bool cell_instance_saved_alive(struct json_t *saved);
/* Kill the cell described by `saved` if it still runs, and whatever is left
 * in its cgroups, and remove them. */
void cell_instance_discard(struct json_t *saved);
/* A copy of fd `n` of the cell's init (close-on-exec): its stdout (1) or
 * stderr (2), the socket-activation socket (3), or CELL_HELD_FD(i). */
int cell_instance_take_fd(const struct cell_instance *inst, int n, struct cell_err *err);

#ifdef __cplusplus
}
#endif
#endif
