/* cmd_oci.c - cell as an OCI runtime: create, start, state, kill, delete,
 * list, spec, features, and `cell run ID` for a bundle, with runc's command
 * line (what podman and containerd call). A container's state lives in
 * <run>/oci/ID/: state.json (written atomically: the bundle, the init's pid
 * and start time, its cgroups) and exec.fifo while it is created but not
 * started. The lifecycle is the runtime spec's:
 *
 *   create  the sandbox is built (namespaces, cgroups, mounts) and its init
 *           waits on exec.fifo before it starts the user's program; create
 *           exits, leaving it to its parent's subreaper (conmon, the shim)
 *   start   opens exec.fifo: the program starts
 *   state   created (the FIFO is there), running, or stopped (init is gone)
 *   kill    a signal to init, which forwards it (--all: every process)
 *   delete  kills what is left, removes the cgroups and the state
 *
 * config.json is read by libcell's OCI front end (src/lib/spec_oci.c). */
#include "cli.h"
#include "cell/oci.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <sched.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define OCI_VERSION "1.2.0"
#define ID_MAX 128

/* ---- ids, paths, state ------------------------------------------------------ */

/* An OCI id: 1-128 letters, digits, '-', '_', '.', '+', starting with a letter
 * or digit (podman's are 64 hex digits; never a '/'). */
static bool oci_id_valid(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > ID_MAX ||
        !((id[0] >= 'a' && id[0] <= 'z') || (id[0] >= 'A' && id[0] <= 'Z') || (id[0] >= '0' && id[0] <= '9')))
        return false;
    return strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.+") == n;
}

static int container_dir(const struct cli_globals *g, const char *id, char *out, size_t len, struct cell_err *err)
{
    struct cell_paths p;
    if (cell_paths_init(g->root, &p, err) < 0)
        return -1;
    if (!oci_id_valid(id))
        return cell_err_set(err, 0,
                            "container id \"%.200s\": use 1-128 letters, digits, '-', '_', '.' or '+' (no '/'), "
                            "starting with a letter or digit",
                            id);
    if (snprintf(out, len, "%s/oci/%s", p.run, id) >= (int)len)
        return cell_err_set(err, ENAMETOOLONG, "container %s", id);
    return 0;
}

bool oci_container_exists(const struct cli_globals *g, const char *id)
{
    char dir[PATH_MAX], path[PATH_MAX + 16];
    struct cell_err err;
    if (container_dir(g, id, dir, sizeof dir, &err) < 0)
        return false;
    snprintf(path, sizeof path, "%s/state.json", dir);
    return access(path, F_OK) == 0;
}

static json_t *load_state(const struct cli_globals *g, const char *id, char *dir, size_t len, struct cell_err *err)
{
    if (container_dir(g, id, dir, len, err) < 0)
        return NULL;
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/state.json", dir);
    json_error_t jerr;
    json_t *s = json_load_file(path, 0, &jerr);
    if (s == NULL) {
        if (access(path, F_OK) < 0)
            cell_err_set(err, 0, "container %s: does not exist (cell list shows the containers)", id);
        else
            cell_err_set(err, 0, "container %s: state %s: %s", id, path, jerr.text);
    }
    return s;
}

/* The init's pid when it is still that process (not a reused pid, not a
 * zombie), else 0. */
static pid_t live_pid(json_t *state)
{
    json_t *saved = json_object_get(state, "instance");
    return cell_instance_saved_alive(saved) ? (pid_t)json_integer_value(json_object_get(saved, "pid")) : 0;
}

static const char *status_of(json_t *state, const char *dir)
{
    if (live_pid(state) == 0)
        return "stopped";
    if (cell_instance_saved_frozen(json_object_get(state, "instance")))
        return "paused";
    char fifo[PATH_MAX + 16];
    snprintf(fifo, sizeof fifo, "%s/exec.fifo", dir);
    return access(fifo, F_OK) == 0 ? "created" : "running";
}

static int read_small_file(const char *path, char **text, size_t *len, struct cell_err *err);

/* ---- create ------------------------------------------------------------------ */

static int write_pid_file(const char *path, pid_t pid, struct cell_err *err)
{
    char text[32];
    int n = snprintf(text, sizeof text, "%d", (int)pid);
    if (write_file_atomic(path, text, (size_t)n, 0644, false) < 0)
        return cell_err_set(err, errno, "write the pid file %s", path);
    return 0;
}

/* The spec of bundle `bundle` for container `id`, validated. */
static int load_bundle(const char *bundle, const char *id, struct cell_spec *spec, struct cell_oci *oci,
                       struct cell_err *err)
{
    if (cell_oci_load_bundle(bundle, spec, oci, err) < 0)
        return -1;
    char name[64];
    snprintf(name, sizeof name, "%.63s", id); /* cgroup names: cell.NAME.PID */
    free(spec->name);
    if ((spec->name = strdup(name)) == NULL)
        return cell_err_set(err, ENOMEM, "container %s", id);
    if (spec->hostname == NULL && (spec->hostname = strdup(name)) == NULL)
        return cell_err_set(err, ENOMEM, "container %s", id);
    for (size_t i = 0; i < oci->nwarnings; i++)
        cell_log(CELL_LOG_WARN, "cell: container %s: warning: %s", id, oci->warnings[i]);
    return cell_spec_validate(spec, err);
}

/* ---- hooks --------------------------------------------------------------------
 * Run as the runtime spec says, each with the container's state on stdin:
 * prestart and createRuntime in the runtime's namespaces during create,
 * createContainer in the container's namespaces during create,
 * startContainer in them during start, before the program; poststart in the
 * runtime's after it (a failure there is a warning), poststop after delete
 * (a warning too). cell's init has pivoted already when the create hooks
 * run (it reports only once everything is set up). */

/* The state a hook reads: ociVersion, id, status, pid, bundle, annotations. */
static char *hook_state(const char *id, const char *status, pid_t pid, const struct cell_oci *oci)
{
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:i, s:s, s:O}", "ociVersion", oci->oci_version, "id", id, "status", status, "pid",
                  (int)pid, "bundle", oci->bundle, "annotations", oci->annotations ? oci->annotations : json_object());
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return text;
}

/* One hook; `enter`: run it in the namespaces of that pid (the container's
 * init), its path still resolved on the host. */
static int run_hook(const struct cell_oci_hook *h, enum cell_oci_hook_kind kind, const char *state, pid_t enter,
                    struct cell_err *err)
{
    const char *label = cell_oci_hook_label(kind);
    cleanup_close int exe = open(h->path, O_PATH | O_CLOEXEC);
    cleanup_close int target = enter > 0 ? (int)syscall(SYS_pidfd_open, enter, 0) : -1;
    int in[2];
    if (exe < 0 || (enter > 0 && target < 0))
        return cell_err_set(err, errno, "hook %s %s", label, h->path);
    if (pipe2(in, O_CLOEXEC) < 0)
        return cell_err_set(err, errno, "hook %s %s: pipe", label, h->path);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(in[0], 0);
        if (target >= 0 &&
            setns(target, CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET | CLONE_NEWCGROUP) < 0)
            _exit(126);
        if (target >= 0 && chdir("/") < 0)
            _exit(126);
        char *const plain[] = {h->path, NULL}, *const none[] = {NULL};
        syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
        fexecve(exe, h->args ? h->args : plain, h->env ? h->env : none);
        _exit(127);
    }
    close(in[0]);
    if (pid < 0) {
        close(in[1]);
        return cell_err_set(err, errno, "hook %s %s: fork", label, h->path);
    }
    (void)!write_all(in[1], state, strlen(state)); /* a hook that does not read: EPIPE */
    close(in[1]);
    cleanup_close int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    struct pollfd p = {.fd = pidfd, .events = POLLIN};
    int waited = pidfd >= 0 ? poll(&p, 1, h->timeout > 0 ? h->timeout * 1000 : -1) : 1;
    bool timed_out = waited == 0;
    if (timed_out)
        kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (timed_out)
        return cell_err_set(err, 0, "hook %s %s: killed after its timeout of %d s", label, h->path, h->timeout);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return cell_err_set(err, 0, "hook %s %s: %s %d", label, h->path,
                            WIFEXITED(status) ? "exited with status" : "killed by signal",
                            WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    return 0;
}

/* Every hook of `kind`, in order; the first failure stops them. */
static int run_hooks(const struct cell_oci *oci, enum cell_oci_hook_kind kind, const char *id, const char *status,
                     pid_t pid, pid_t enter, struct cell_err *err)
{
    if (oci->nhooks[kind] == 0)
        return 0;
    cleanup_free char *state = hook_state(id, status, pid, oci);
    if (state == NULL)
        return cell_err_set(err, ENOMEM, "hooks");
    for (size_t i = 0; i < oci->nhooks[kind]; i++)
        if (run_hook(&oci->hooks[kind][i], kind, state, enter, err) < 0)
            return cell_err_prefix(err, "container %s: ", id);
    return 0;
}

/* poststart and poststop: a failure is a warning (the spec's rule). */
static void run_hooks_warn(const struct cell_oci *oci, enum cell_oci_hook_kind kind, const char *id, const char *status,
                           pid_t pid)
{
    struct cell_err err = {0};
    if (run_hooks(oci, kind, id, status, pid, 0, &err) < 0)
        cli_error("warning: %s", err.msg);
}

/* The container's config again (start and delete run its hooks). */
static int reload_oci(json_t *state, struct cell_oci *oci, struct cell_err *err)
{
    struct cell_spec spec;
    int rc = cell_oci_load_bundle(json_string_value(json_object_get(state, "bundle")), &spec, oci, err);
    cell_spec_free(&spec);
    return rc;
}

struct create_opts {
    const char *bundle, *pid_file, *console_socket;
    unsigned preserve_fds; /* fds 3 .. 3+N-1 go to the container's process */
};

/* process.terminal: the terminal's master goes to the caller's console
 * socket (a Unix socket path), as SCM_RIGHTS, sized as consoleSize says. */
static int send_console(const char *path, int master, const struct cell_oci *oci, struct cell_err *err)
{
    if (oci->console_width && oci->console_height) {
        struct winsize ws = {.ws_row = (unsigned short)oci->console_height,
                             .ws_col = (unsigned short)oci->console_width};
        ioctl(master, TIOCSWINSZ, &ws);
    }
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof addr.sun_path)
        return cell_err_set(err, ENAMETOOLONG, "console socket %s", path);
    strcpy(addr.sun_path, path);
    cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0)
        return cell_err_set(err, errno, "console socket %s", path);
    if (send_with_fds(fd, "/dev/ptmx", 9, &master, 1) < 0)
        return cell_err_set(err, errno, "send the terminal to the console socket %s", path);
    return 0;
}

static int do_create(const struct cli_globals *g, const char *id, const struct create_opts *o, struct cell_err *err)
{
    char dir[PATH_MAX], path[PATH_MAX + 16], bundle[PATH_MAX];
    if (container_dir(g, id, dir, sizeof dir, err) < 0)
        return -1;
    if (realpath(o->bundle ? o->bundle : ".", bundle) == NULL)
        return cell_err_set(err, errno, "container %s: bundle %s", id, o->bundle ? o->bundle : ".");
    struct cell_spec spec;
    struct cell_oci oci;
    cell_spec_init(&spec);
    memset(&oci, 0, sizeof oci);
    int rc = -1;
    bool made = false;
    int gate = -1;
    if (load_bundle(bundle, id, &spec, &oci, err) < 0)
        goto out;
    if (o->preserve_fds > CELL_MAX_PRESERVED_FDS) {
        cell_err_set(err, 0, "container %s: --preserve-fds %u: at most %d", id, o->preserve_fds,
                     CELL_MAX_PRESERVED_FDS);
        goto out;
    }
    for (unsigned k = 0; k < o->preserve_fds; k++) {
        if (fcntl(3 + (int)k, F_GETFD) < 0) {
            cell_err_set(err, errno, "container %s: --preserve-fds %u: fd %u", id, o->preserve_fds, 3 + k);
            goto out;
        }
        spec.preserved_fds[spec.npreserved_fds++] = 3 + (int)k;
    }
    if (spec.tty != (o->console_socket != NULL)) {
        cell_err_set(err, 0,
                     spec.tty ? "container %s: process.terminal is true: give --console-socket for the terminal"
                              : "container %s: --console-socket needs process.terminal true in config.json",
                     id);
        goto out;
    }
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%.*s", (int)(strrchr(dir, '/') - dir), dir);
    if (cell_mkdirs(parent, 0700, err) < 0)
        goto out;
    if (mkdir(dir, 0700) < 0) {
        cell_err_set(err, errno == EEXIST ? 0 : errno, "container %s: %s", id,
                     errno == EEXIST ? "the id is in use (cell delete it first)" : "create its state directory");
        goto out;
    }
    made = true;
    snprintf(path, sizeof path, "%s/exec.fifo", dir);
    uid_t root_uid;
    gid_t root_gid;
    cell_oci_root_ids(&spec, &root_uid, &root_gid); /* init opens it as the container's root */
    /* a joined user namespace's root is unknown here: anyone may write the
     * FIFO then (its directory is root's, 0700: only init's O_PATH fd reaches it) */
    bool joined_user = spec.ns.join_user != NULL;
    if (mkfifo(path, 0600) < 0 || (joined_user ? chmod(path, 0622) : lchown(path, root_uid, root_gid)) < 0 ||
        (gate = open(path, O_PATH | O_CLOEXEC)) < 0) {
        cell_err_set(err, errno, "container %s: make %s", id, path);
        goto out;
    }
    struct cell_start_opts opts = {.detached = true, .stdio = {-1, -1, -1}, .start_gate_fd = gate};
    struct cell_instance *inst;
    if (cell_start(&spec, &opts, &inst, err) < 0)
        goto out;
    pid_t pid = cell_instance_pid(inst);
    if (spec.tty) {
        int master = cell_instance_take_tty(inst);
        int sent = master < 0 ? cell_err_set(err, 0, "container %s: no terminal came from the container", id)
                              : send_console(o->console_socket, master, &oci, err);
        if (master >= 0)
            close(master);
        if (sent < 0) {
            cell_instance_kill(inst);
            struct cell_result r;
            cell_instance_finish(inst, &r);
            goto out;
        }
    }
    json_t *saved = cell_instance_save(inst);
    char created[32];
    time_t now = time(NULL);
    struct tm tm;
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    json_t *state =
        json_pack("{s:s, s:s, s:i, s:s, s:s, s:O, s:o}", "ociVersion", oci.oci_version, "id", id, "pid", (int)pid,
                  "bundle", bundle, "created", created, "annotations",
                  oci.annotations ? oci.annotations : json_object(), "instance", saved ? saved : json_object());
    char *text = state ? json_dumps(state, JSON_COMPACT) : NULL;
    json_decref(state);
    snprintf(path, sizeof path, "%s/state.json", dir);
    if (text == NULL || write_file_atomic(path, text, strlen(text), 0600, true) < 0 ||
        (o->pid_file && write_pid_file(o->pid_file, pid, err) < 0)) {
        if (text == NULL || err->msg[0] == '\0')
            cell_err_set(err, errno, "container %s: write %s", id, path);
        free(text);
        cell_instance_kill(inst);
        struct cell_result r;
        cell_instance_finish(inst, &r);
        goto out;
    }
    free(text);
    if (run_hooks(&oci, CELL_OCI_HOOK_PRESTART, id, "creating", pid, 0, err) < 0 ||
        run_hooks(&oci, CELL_OCI_HOOK_CREATE_RUNTIME, id, "creating", pid, 0, err) < 0 ||
        run_hooks(&oci, CELL_OCI_HOOK_CREATE_CONTAINER, id, "creating", pid, pid, err) < 0) {
        cell_instance_kill(inst);
        struct cell_result r;
        cell_instance_finish(inst, &r);
        snprintf(path, sizeof path, "%s/state.json", dir);
        unlink(path);
        goto out;
    }
    /* the container outlives us: its init is our child until we exit, then
     * our parent's subreaper's (conmon, the containerd shim) */
    int status_fd = cell_instance_hand_over(inst);
    if (status_fd >= 0)
        close(status_fd);
    made = false;
    rc = 0;
out:
    if (gate >= 0)
        close(gate);
    if (made) {
        snprintf(path, sizeof path, "%s/exec.fifo", dir);
        unlink(path);
        rmdir(dir);
    }
    cell_oci_free(&oci);
    cell_spec_free(&spec);
    return rc;
}

/* ---- the verbs ---------------------------------------------------------------- */

static int fail(const char *verb, const struct cell_err *err)
{
    cli_error("%s: %s", verb, err->msg);
    return 1;
}

static int one_id(int argc, char **argv, int first, const char *usage)
{
    if (argc - first != 1) {
        cli_error("%s", usage);
        return -1;
    }
    return first;
}

int cmd_create(int argc, char **argv, const struct cli_globals *g)
{
    static const struct option longopts[] = {{"bundle", required_argument, NULL, 'b'},
                                             {"pid-file", required_argument, NULL, 'p'},
                                             {"console-socket", required_argument, NULL, 'c'},
                                             {"no-pivot", no_argument, NULL, 'n'},
                                             {"preserve-fds", required_argument, NULL, 'f'},
                                             {"no-new-keyring", no_argument, NULL, 'k'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    struct create_opts o = {0};
    optind = 1;
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, "+b:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'b':
            o.bundle = optarg;
            break;
        case 'p':
            o.pid_file = optarg;
            break;
        case 'c':
            o.console_socket = optarg;
            break;
        case 'n':
        case 'k':
            break; /* cell always pivots; it makes no session keyring */
        case 'f': {
            uint64_t n;
            struct cell_err e = {0};
            if (cell_parse_uint(optarg, CELL_MAX_PRESERVED_FDS, "--preserve-fds", &n, &e) < 0) {
                cli_error("create: %s", e.msg);
                return 2;
            }
            o.preserve_fds = (unsigned)n;
            break;
        }
        case 'h':
            cmd_create_help();
            return 0;
        default:
            cli_error("create: unknown option \"%s\" (see cell create --help)", argv[optind - 1]);
            return 2;
        }
    }
    int i = one_id(argc, argv, optind, "create: usage: cell create [--bundle DIR] [--pid-file F] ID");
    if (i < 0)
        return 2;
    struct cell_err err = {0};
    return do_create(g, argv[i], &o, &err) < 0 ? fail("create", &err) : 0;
}

void cmd_create_help(void)
{
    printf("usage: cell create [--bundle DIR] [--pid-file FILE] [--console-socket SOCK] [--preserve-fds N] ID\n"
           "\n"
           "Create the OCI container ID from the bundle DIR (default: the current\n"
           "directory; its config.json): namespaces, cgroups and mounts are set up,\n"
           "and the process waits until cell start ID.\n");
}

static int release(const char *dir, const char *id, pid_t pid, struct cell_err *err);

/* startContainer hooks, the program released, poststart hooks. */
static int do_start(const struct cli_globals *g, const char *id, struct cell_err *err)
{
    char dir[PATH_MAX];
    json_t *state = load_state(g, id, dir, sizeof dir, err);
    if (state == NULL)
        return -1;
    const char *status = status_of(state, dir);
    pid_t pid = live_pid(state);
    struct cell_oci oci;
    memset(&oci, 0, sizeof oci);
    if (strcmp(status, "created") != 0) {
        json_decref(state);
        return cell_err_set(err, 0, "container %s: is %s, not created (start works once, after create)", id, status);
    }
    int rc = reload_oci(state, &oci, err) < 0
                 ? -1
                 : run_hooks(&oci, CELL_OCI_HOOK_START_CONTAINER, id, "created", pid, pid, err);
    json_decref(state);
    if (rc == 0)
        rc = release(dir, id, pid, err);
    if (rc == 0)
        run_hooks_warn(&oci, CELL_OCI_HOOK_POSTSTART, id, "running", pid);
    cell_oci_free(&oci);
    return rc;
}

/* Open exec.fifo and read init's byte: the program starts. */
static int release(const char *dir, const char *id, pid_t pid, struct cell_err *err)
{
    char fifo[PATH_MAX + 16];
    snprintf(fifo, sizeof fifo, "%s/exec.fifo", dir);
    /* the pidfd first: once the FIFO is open, init may start the program,
     * end and be reaped (by conmon, say) before we could look */
    cleanup_close int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd < 0)
        return cell_err_set(err, errno == ESRCH ? 0 : errno, "container %s: its init %s before the start", id,
                            errno == ESRCH ? "ended" : "cannot be watched");
    cleanup_close int fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return cell_err_set(err, errno, "container %s: open %s", id, fifo);
    /* init's byte, unless init dies first */
    struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = pidfd, .events = POLLIN}};
    char byte;
    for (;;) {
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            return cell_err_set(err, errno, "container %s: wait for it", id);
        if (p[0].revents & POLLIN) {
            if (read(fd, &byte, 1) == 1)
                break;
        }
        if (p[1].revents & POLLIN)
            return cell_err_set(err, 0, "container %s: its init died before the start", id);
    }
    unlink(fifo);
    return 0;
}

int oci_start(int argc, char **argv, const struct cli_globals *g)
{
    struct cell_err err = {0};
    if (argc != 2) {
        cli_error("start: usage: cell start ID");
        return 2;
    }
    return do_start(g, argv[1], &err) < 0 ? fail("start", &err) : 0;
}

static json_t *state_json(json_t *state, const char *dir)
{
    const char *status = status_of(state, dir);
    json_t *out =
        json_pack("{s:O, s:O, s:s, s:i, s:O, s:O}", "ociVersion", json_object_get(state, "ociVersion"), "id",
                  json_object_get(state, "id"), "status", status, "pid",
                  strcmp(status, "stopped") == 0 ? 0 : (int)json_integer_value(json_object_get(state, "pid")), "bundle",
                  json_object_get(state, "bundle"), "annotations", json_object_get(state, "annotations"));
    json_object_set(out, "created", json_object_get(state, "created"));
    return out;
}

int cmd_state(int argc, char **argv, const struct cli_globals *g)
{
    if (argc != 2 || argv[1][0] == '-') {
        if (argc == 2 && strcmp(argv[1], "--help") == 0) {
            cmd_state_help();
            return 0;
        }
        cli_error("state: usage: cell state ID");
        return 2;
    }
    struct cell_err err = {0};
    char dir[PATH_MAX];
    json_t *state = load_state(g, argv[1], dir, sizeof dir, &err);
    if (state == NULL)
        return fail("state", &err);
    json_t *out = state_json(state, dir);
    char *text = json_dumps(out, JSON_INDENT(2));
    printf("%s\n", text);
    free(text);
    json_decref(out);
    json_decref(state);
    return 0;
}

void cmd_state_help(void)
{
    printf("usage: cell state ID\n\nThe OCI state of container ID, as JSON (runtime spec: ociVersion, id,\n"
           "status created|running|stopped, pid, bundle, annotations).\n");
}

static int parse_signal(const char *text, int *sig)
{
    static const struct {
        const char *name;
        int sig;
    } names[] = {{"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT},  {"KILL", SIGKILL}, {"USR1", SIGUSR1},
                 {"USR2", SIGUSR2}, {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},  {"TERM", SIGTERM}, {"CONT", SIGCONT},
                 {"STOP", SIGSTOP}, {"TSTP", SIGTSTP}, {"WINCH", SIGWINCH}};
    char *end;
    long n = strtol(text, &end, 10);
    if (*text && *end == '\0' && n > 0 && n < NSIG) {
        *sig = (int)n;
        return 0;
    }
    const char *name = strncmp(text, "SIG", 3) == 0 ? text + 3 : text;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(name, names[i].name) == 0) {
            *sig = names[i].sig;
            return 0;
        }
    return -1;
}

int cmd_ps(int argc, char **argv, const struct cli_globals *g)
{
    bool as_json = false;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if ((strcmp(argv[i], "--format") == 0 || strcmp(argv[i], "-f") == 0) && i + 1 < argc)
            as_json = strcmp(argv[++i], "json") == 0;
        else if (strcmp(argv[i], "--format=json") == 0)
            as_json = true;
        else if (strcmp(argv[i], "--format=table") != 0) {
            cli_error("ps: unknown option \"%s\" (--format table|json)", argv[i]);
            return 2;
        }
    }
    if (argc - i != 1) {
        cli_error("ps: usage: cell ps [--format table|json] ID");
        return 2;
    }
    struct cell_err err = {0};
    char dir[PATH_MAX];
    pid_t procs[4096];
    size_t n = 0;
    json_t *state = load_state(g, argv[i], dir, sizeof dir, &err);
    if (state == NULL || live_pid(state) == 0 ||
        cell_instance_saved_procs(json_object_get(state, "instance"), procs, 4096, &n, &err) < 0) {
        if (state && err.msg[0] == '\0')
            cell_err_set(&err, 0, "container %s: is stopped: no processes", argv[i]);
        json_decref(state);
        return fail("ps", &err);
    }
    json_decref(state);
    json_t *pids = json_array();
    if (!as_json)
        printf("%-8s %s\n", "PID", "CMD");
    for (size_t k = 0; k < n; k++) {
        json_array_append_new(pids, json_integer(procs[k]));
        char path[64], cmd[256] = "";
        snprintf(path, sizeof path, "/proc/%d/cmdline", (int)procs[k]);
        ssize_t len = read_file_at(AT_FDCWD, path, cmd, sizeof cmd);
        for (ssize_t c = 0; c + 1 < len; c++)
            if (cmd[c] == '\0')
                cmd[c] = ' ';
        if (!as_json)
            printf("%-8d %s\n", (int)procs[k], cmd);
    }
    if (as_json) {
        char *out = json_dumps(pids, JSON_COMPACT);
        printf("%s\n", out);
        free(out);
    }
    json_decref(pids);
    return 0;
}

void cmd_ps_help(void)
{
    printf("usage: cell ps [--format table|json] ID\n\nThe processes of OCI container ID (its cgroup's); json: their "
           "pids.\n");
}

/* pause and resume: the cgroup v2 freezer (libcell waits until the kernel
 * says it is done). */
static int freeze(const struct cli_globals *g, const char *verb, const char *id, bool on, struct cell_err *err)
{
    char dir[PATH_MAX];
    json_t *state = load_state(g, id, dir, sizeof dir, err);
    if (state == NULL)
        return -1;
    const char *status = status_of(state, dir), *want = on ? "running" : "paused";
    int rc;
    if (strcmp(status, want) != 0)
        rc = cell_err_set(err, 0, "container %s: is %s, not %s", id, status, want);
    else if ((rc = cell_instance_saved_freeze(json_object_get(state, "instance"), on, err)) < 0)
        cell_err_prefix(err, "container %s: %s: ", id, verb);
    json_decref(state);
    return rc;
}

int cmd_pause(int argc, char **argv, const struct cli_globals *g)
{
    struct cell_err err = {0};
    if (argc != 2 || argv[1][0] == '-') {
        cli_error("pause: usage: cell pause ID");
        return 2;
    }
    return freeze(g, "pause", argv[1], true, &err) < 0 ? fail("pause", &err) : 0;
}

int cmd_resume(int argc, char **argv, const struct cli_globals *g)
{
    struct cell_err err = {0};
    if (argc != 2 || argv[1][0] == '-') {
        cli_error("resume: usage: cell resume ID");
        return 2;
    }
    return freeze(g, "resume", argv[1], false, &err) < 0 ? fail("resume", &err) : 0;
}

void cmd_pause_help(void)
{
    printf("usage: cell pause ID | cell resume ID\n\nFreeze every process of OCI container ID (cgroup v2 freezer), or "
           "thaw\n"
           "them; cell state says paused meanwhile.\n");
}

/* update: new limits for a running container, from --resources FILE (an
 * OCI linux.resources object) or runc's flags. */
int cmd_update(int argc, char **argv, const struct cli_globals *g)
{
    static const struct option longopts[] = {{"resources", required_argument, NULL, 'r'},
                                             {"memory", required_argument, NULL, 'm'},
                                             {"pids-limit", required_argument, NULL, 'p'},
                                             {"cpu-quota", required_argument, NULL, 'q'},
                                             {"cpu-period", required_argument, NULL, 'P'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *resources = NULL;
    struct cell_limits limits = {0};
    uint64_t quota = 0, period = 100000;
    struct cell_err err = {0};
    optind = 1;
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, "+r:h", longopts, NULL)) != -1) {
        int rc = 0;
        switch (opt) {
        case 'r':
            resources = optarg;
            break;
        case 'm':
            rc = cell_parse_size(optarg, &limits.memory_bytes, &err);
            break;
        case 'p':
            rc = cell_parse_uint(optarg, 4194304, "--pids-limit", &limits.pids, &err);
            break;
        case 'q':
            rc = cell_parse_uint(optarg, UINT32_MAX, "--cpu-quota", &quota, &err);
            break;
        case 'P':
            rc = cell_parse_uint(optarg, 1000000, "--cpu-period", &period, &err);
            break;
        case 'h':
            cmd_update_help();
            return 0;
        default:
            cli_error("update: unknown option \"%s\" (see cell update --help)", argv[optind - 1]);
            return 2;
        }
        if (rc < 0) {
            cli_error("update: %s", err.msg);
            return 2;
        }
    }
    if (argc - optind != 1) {
        cli_error("update: usage: cell update [--resources FILE | --memory N --pids-limit N --cpu-quota Q] ID");
        return 2;
    }
    const char *id = argv[optind];
    if (quota && period)
        limits.cpu_millis = quota * 1000 / period ? quota * 1000 / period : 1;
    if (resources) {
        struct cell_oci oci;
        memset(&oci, 0, sizeof oci);
        char *text = NULL;
        size_t len = 0;
        int rc = read_small_file(resources, &text, &len, &err) < 0 ||
                         cell_oci_load_resources(text, len, &limits, &oci, &err) < 0
                     ? -1
                     : 0;
        for (size_t i = 0; rc == 0 && i < oci.nwarnings; i++)
            cli_error("update: warning: %s", oci.warnings[i]);
        free(text);
        cell_oci_free(&oci);
        if (rc < 0)
            return fail("update", &err);
    }
    if (!limits.memory_bytes && !limits.pids && !limits.cpu_millis) {
        cli_error("update: container %s: no limit given (memory, pids or cpu)", id);
        return 2;
    }
    char dir[PATH_MAX];
    json_t *state = load_state(g, id, dir, sizeof dir, &err);
    if (state == NULL)
        return fail("update", &err);
    int rc = live_pid(state) == 0 ? cell_err_set(&err, 0, "container %s: is stopped", id)
                                  : cell_instance_saved_update(json_object_get(state, "instance"), &limits, &err);
    json_decref(state);
    if (rc < 0)
        return fail("update", &err);
    return 0;
}

void cmd_update_help(void)
{
    printf("usage: cell update [--resources FILE] [--memory N] [--pids-limit N] [--cpu-quota Q [--cpu-period P]] ID\n"
           "\n"
           "New limits for running OCI container ID, written into its cgroups: from FILE\n"
           "(an OCI linux.resources object: memory.limit, pids.limit, cpu.quota/period)\n"
           "or the options. A limit whose cgroup controller the container was created\n"
           "without cannot be added on a hybrid-cgroup host (an error says so).\n");
}

void cmd_kill_help(void)
{
    printf(
        "usage: cell kill [--all] ID [SIGNAL]\n\nSend SIGNAL (default TERM; a number or a name) to OCI container ID's\n"
        "process; --all: to every process in it.\n");
}

int oci_kill(int argc, char **argv, const struct cli_globals *g)
{
    bool all = false;
    int i = 1;
    if (i < argc && (strcmp(argv[i], "--all") == 0 || strcmp(argv[i], "-a") == 0)) {
        all = true;
        i++;
    }
    if (argc - i < 1 || argc - i > 2) {
        cli_error("kill: usage: cell kill [--all] ID [SIGNAL]");
        return 2;
    }
    int sig = SIGTERM;
    if (argc - i == 2 && parse_signal(argv[i + 1], &sig) < 0) {
        cli_error("kill: \"%s\" is not a signal (a number, TERM, SIGKILL, ...)", argv[i + 1]);
        return 2;
    }
    struct cell_err err = {0};
    char dir[PATH_MAX];
    json_t *state = load_state(g, argv[i], dir, sizeof dir, &err);
    if (state == NULL)
        return fail("kill", &err);
    pid_t pid = live_pid(state);
    int rc = 0;
    if (pid == 0)
        rc = cell_err_set(&err, 0, "container %s: is stopped: nothing to signal", argv[i]);
    else if (all)
        rc = cell_instance_saved_signal_all(json_object_get(state, "instance"), sig, &err) < 0
                 ? cell_err_prefix(&err, "container %s: ", argv[i])
                 : 0;
    else if (kill(pid, sig) < 0)
        rc = cell_err_set(&err, errno, "container %s: signal %d", argv[i], sig);
    json_decref(state);
    return rc < 0 ? fail("kill", &err) : 0;
}

static int remove_state(const char *dir)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/exec.fifo", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/state.json", dir);
    unlink(path);
    return rmdir(dir);
}

int oci_delete(int argc, char **argv, const struct cli_globals *g)
{
    bool force = false;
    int i = 1;
    if (i < argc && (strcmp(argv[i], "--force") == 0 || strcmp(argv[i], "-f") == 0)) {
        force = true;
        i++;
    }
    if (argc - i != 1) {
        cli_error("delete: usage: cell delete [--force] ID");
        return 2;
    }
    struct cell_err err = {0};
    char dir[PATH_MAX];
    json_t *state = load_state(g, argv[i], dir, sizeof dir, &err);
    if (state == NULL && force && !oci_container_exists(g, argv[i]) && access(dir, F_OK) < 0 && dir[0])
        return 0; /* --force: gone already is fine (podman cleans up after a failed create) */
    if (state == NULL)
        return fail("delete", &err);
    const char *status = status_of(state, dir);
    if ((strcmp(status, "running") == 0 || strcmp(status, "paused") == 0) && !force) {
        json_decref(state);
        cli_error("delete: container %s: is %s (cell kill it, or delete --force)", argv[i], status);
        return 1;
    }
    /* kills what is left (a created container's waiting init too) and
     * removes the cgroups */
    cell_instance_discard(json_object_get(state, "instance"));
    struct cell_oci oci;
    memset(&oci, 0, sizeof oci);
    bool hooks = reload_oci(state, &oci, &err) == 0; /* a bundle gone: no poststop */
    json_decref(state);
    if (remove_state(dir) < 0) {
        cell_oci_free(&oci);
        cli_error("delete: container %s: remove %s: %s", argv[i], dir, strerror(errno));
        return 1;
    }
    if (hooks)
        run_hooks_warn(&oci, CELL_OCI_HOOK_POSTSTOP, argv[i], "stopped", 0);
    cell_oci_free(&oci);
    return 0;
}

int cmd_list(int argc, char **argv, const struct cli_globals *g)
{
    bool as_json = false, quiet = false;
    for (int i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "--format") == 0 || strcmp(argv[i], "-f") == 0) && i + 1 < argc)
            as_json = strcmp(argv[++i], "json") == 0;
        else if (strcmp(argv[i], "--format=json") == 0)
            as_json = true;
        else if (strcmp(argv[i], "-q") == 0 || strcmp(argv[i], "--quiet") == 0)
            quiet = true;
        else {
            cli_error("list: unknown option \"%s\" (--format table|json, -q)", argv[i]);
            return 2;
        }
    }
    struct cell_paths p;
    struct cell_err err = {0};
    if (cell_paths_init(g->root, &p, &err) < 0)
        return fail("list", &err);
    char base[PATH_MAX + 8];
    snprintf(base, sizeof base, "%s/oci", p.run);
    struct dirent **names = NULL;
    int n = scandir(base, &names, NULL, alphasort);
    json_t *list = json_array();
    if (!as_json && !quiet)
        printf("%-20s %-8s %-10s %-40s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED");
    for (int k = 0; k < n; k++) {
        char dir[PATH_MAX];
        json_t *state = names[k]->d_name[0] == '.' ? NULL : load_state(g, names[k]->d_name, dir, sizeof dir, &err);
        if (state) {
            json_t *s = state_json(state, dir);
            if (quiet)
                printf("%s\n", names[k]->d_name);
            else if (!as_json)
                printf("%-20s %-8lld %-10s %-40s %s\n", names[k]->d_name,
                       (long long)json_integer_value(json_object_get(s, "pid")),
                       json_string_value(json_object_get(s, "status")), json_string_value(json_object_get(s, "bundle")),
                       json_string_value(json_object_get(s, "created")));
            json_array_append_new(list, s);
            json_decref(state);
        }
        free(names[k]);
    }
    free(names);
    if (as_json) {
        char *text = json_dumps(list, JSON_COMPACT);
        printf("%s\n", text);
        free(text);
    }
    json_decref(list);
    return 0;
}

void cmd_list_help(void)
{
    printf("usage: cell list [--format table|json] [-q]\n\nThe OCI containers (cell create) and their status.\n");
}

/* ---- exec --------------------------------------------------------------------- */

/* KEY=VALUE into env, replacing KEY's value when it is there. */
static int set_env(struct cell_spec *spec, const char *kv, struct cell_err *err)
{
    const char *eq = strchr(kv, '=');
    if (eq == NULL || eq == kv)
        return cell_err_set(err, 0, "--env \"%s\": expected KEY=VALUE", kv);
    for (char **e = spec->env; e && *e; e++)
        if (strncmp(*e, kv, (size_t)(eq - kv) + 1) == 0) {
            char *copy = strdup(kv);
            if (copy == NULL)
                return cell_err_set(err, ENOMEM, "--env");
            free(*e);
            *e = copy;
            return 0;
        }
    return cell_spec_add_env(spec, kv, err);
}

static int read_small_file(const char *path, char **text, size_t *len, struct cell_err *err)
{
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return cell_err_set(err, errno, "read %s", path);
    *text = malloc(1 << 20);
    *len = *text ? fread(*text, 1, 1 << 20, f) : 0;
    bool whole = *text && feof(f);
    fclose(f);
    if (!whole) {
        free(*text);
        *text = NULL;
        return cell_err_set(err, EFBIG, "read %s: larger than 1 MiB", path);
    }
    return 0;
}

struct exec_opts {
    const char *process, *pid_file, *cwd, *user, *console_socket;
    bool detach, tty;
    char *env[64];
    size_t nenv;
};

/* The container's spec with the exec's process in it; *tty: the process
 * asks for a terminal (--tty, or process.terminal of --process), sized as
 * its consoleSize says (in oci). */
static int exec_spec(const struct cli_globals *g, const char *id, const struct exec_opts *o, char **args,
                     struct cell_spec *spec, struct cell_oci *oci, bool *tty, pid_t *pid, struct cell_err *err)
{
    char dir[PATH_MAX];
    json_t *state = load_state(g, id, dir, sizeof dir, err);
    if (state == NULL)
        return -1;
    *pid = live_pid(state);
    const char *status = status_of(state, dir);
    int rc = -1;
    if (strcmp(status, "running") != 0)
        cell_err_set(err, 0, "container %s: is %s: exec needs a running container", id, status);
    else if (load_bundle(json_string_value(json_object_get(state, "bundle")), id, spec, oci, err) == 0)
        rc = 0;
    spec->tty = false; /* the container's terminal is not the exec's */
    oci->console_width = oci->console_height = 0;
    json_decref(state);
    if (rc == 0 && o->process) {
        char *text = NULL;
        size_t len = 0;
        rc = read_small_file(o->process, &text, &len, err) < 0 || cell_oci_load_process(text, len, spec, oci, err) < 0
                 ? -1
                 : 0;
        free(text);
    } else if (rc == 0) {
        rc = cell_spec_set_argv(spec, args, err);
    }
    for (size_t i = 0; rc == 0 && i < o->nenv; i++)
        rc = set_env(spec, o->env[i], err);
    if (rc == 0 && o->cwd) {
        free(spec->cwd);
        if ((spec->cwd = strdup(o->cwd)) == NULL)
            rc = cell_err_set(err, ENOMEM, "--cwd");
    }
    if (rc == 0 && o->user)
        rc = cell_parse_user(o->user, &spec->uid, &spec->gid, err);
    *tty = o->tty || spec->tty;
    spec->tty = false; /* the sandbox's flag is for a cell's init, not for an exec */
    if (rc == 0 && o->console_socket && !*tty)
        rc = cell_err_set(err, 0, "container %s: --console-socket needs a terminal (--tty, or process.terminal)", id);
    if (rc == 0 && *tty && o->detach && !o->console_socket)
        rc = cell_err_set(err, 0, "container %s: a detached exec with a terminal needs --console-socket", id);
    return rc;
}

/* The exec's terminal and start, seen from `cell exec` */
struct exec_watch {
    const char *console_socket; /* NULL: relay the terminal here */
    const struct cell_oci *oci; /* consoleSize */
    int started_fd;             /* --detach: a byte here once the command runs; or -1 */
    struct cell_err err;
    bool failed;
};

static void exec_on_tty(int master, void *ctx)
{
    struct exec_watch *w = ctx;
    if (w->console_socket == NULL)
        cell_tty_relay(master);
    else if (send_console(w->console_socket, master, w->oci, &w->err) < 0)
        w->failed = true; /* the command loses its terminal with the last master: SIGHUP */
}

/* The exec's terminal size, set before the command starts: consoleSize for
 * a console socket, else the size of the terminal cell relays it to. */
static void exec_tty_size(const struct exec_watch *w, struct cell_exec_opts *opts)
{
    struct winsize ws;
    if (w->console_socket) {
        opts->tty_rows = (unsigned short)w->oci->console_height;
        opts->tty_cols = (unsigned short)w->oci->console_width;
    } else if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0) {
        opts->tty_rows = ws.ws_row;
        opts->tty_cols = ws.ws_col;
    }
}

static void exec_on_started(void *ctx)
{
    struct exec_watch *w = ctx;
    if (w->started_fd >= 0 && !w->failed)
        (void)!write(w->started_fd, "s", 1);
}

/* --detach: run the command in a child of ours (its pid goes to the pid
 * file; its exit status is the command's); return once the command runs,
 * its terminal passed on, or with the child's status when it could not. */
static int exec_detached(pid_t init, const struct cell_spec *spec, struct exec_watch *w, bool tty, const char *pid_file)
{
    struct cell_err err = {0};
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return cell_err_set(&err, errno, "exec: pipe"), fail("exec", &err), CELL_EXIT_SETUP;
    fflush(NULL);
    pid_t child = fork();
    if (child == 0) {
        struct cell_result result;
        close(pipefd[0]);
        setsid();
        w->started_fd = pipefd[1];
        struct cell_exec_opts opts = {.on_tty = tty ? exec_on_tty : NULL, .on_started = exec_on_started, .ctx = w};
        exec_tty_size(w, &opts);
        int rc = cell_exec_with(init, spec, &opts, &result, &err);
        if (rc < 0 || w->failed)
            fail("exec", w->failed ? &w->err : &err);
        _exit(rc < 0 || w->failed ? (result.exit_code ? result.exit_code : CELL_EXIT_SETUP) : result.exit_code);
    }
    close(pipefd[1]);
    if (child < 0) {
        close(pipefd[0]);
        return cell_err_set(&err, errno, "exec: fork"), fail("exec", &err), CELL_EXIT_SETUP;
    }
    char byte;
    ssize_t n;
    do
        n = read(pipefd[0], &byte, 1);
    while (n < 0 && errno == EINTR);
    close(pipefd[0]);
    if (n != 1) { /* it did not start; the child said why */
        int status;
        while (waitpid(child, &status, 0) < 0 && errno == EINTR)
            ;
        return WIFEXITED(status) && WEXITSTATUS(status) ? WEXITSTATUS(status) : CELL_EXIT_SETUP;
    }
    if (pid_file && write_pid_file(pid_file, child, &err) < 0)
        return fail("exec", &err), CELL_EXIT_SETUP;
    return 0;
}

int oci_exec(int argc, char **argv, const struct cli_globals *g)
{
    static const struct option longopts[] = {{"process", required_argument, NULL, 'p'},
                                             {"pid-file", required_argument, NULL, 'P'},
                                             {"cwd", required_argument, NULL, 'c'},
                                             {"user", required_argument, NULL, 'u'},
                                             {"env", required_argument, NULL, 'e'},
                                             {"detach", no_argument, NULL, 'd'},
                                             {"tty", no_argument, NULL, 't'},
                                             {"console-socket", required_argument, NULL, 'C'},
                                             {"cap", required_argument, NULL, 'a'},
                                             {"no-new-privs", no_argument, NULL, 'n'},
                                             {NULL, 0, NULL, 0}};
    struct exec_opts o = {0};
    optind = 1;
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, "+p:u:e:dt", longopts, NULL)) != -1) {
        switch (opt) {
        case 'p':
            o.process = optarg;
            break;
        case 'P':
            o.pid_file = optarg;
            break;
        case 'c':
            o.cwd = optarg;
            break;
        case 'u':
            o.user = optarg;
            break;
        case 'e':
            if (o.nenv == sizeof o.env / sizeof o.env[0]) {
                cli_error("exec: more than 64 --env");
                return 2;
            }
            o.env[o.nenv++] = optarg;
            break;
        case 'd':
            o.detach = true;
            break;
        case 't':
            o.tty = true;
            break;
        case 'C':
            o.console_socket = optarg;
            break;
        case 'n':
            break; /* always so */
        case 'a':
            cli_error("exec: --cap: adding capabilities to an exec is not supported");
            return 1;
        default:
            cli_error("exec: unknown option \"%s\"", argv[optind - 1]);
            return 2;
        }
    }
    if (optind >= argc) {
        cli_error("exec: usage: cell exec [--process FILE] [--tty [--console-socket SOCK]] [--detach] ID [-- ARGS]");
        return 2;
    }
    const char *id = argv[optind++];
    if (optind < argc && strcmp(argv[optind], "--") == 0)
        optind++;
    if (o.process == NULL && optind >= argc) {
        cli_error("exec: container %s: give --process FILE or the command to run", id);
        return 2;
    }
    struct cell_spec spec;
    struct cell_oci oci;
    struct cell_err err = {0};
    pid_t init;
    bool tty = false;
    cell_spec_init(&spec);
    memset(&oci, 0, sizeof oci);
    if (exec_spec(g, id, &o, argv + optind, &spec, &oci, &tty, &init, &err) < 0) {
        cell_spec_free(&spec);
        cell_oci_free(&oci);
        return fail("exec", &err), CELL_EXIT_SETUP;
    }
    struct exec_watch w = {.console_socket = o.console_socket, .oci = &oci, .started_fd = -1};
    int rc;
    if (o.detach) {
        rc = exec_detached(init, &spec, &w, tty, o.pid_file);
    } else {
        struct cell_result result;
        struct cell_exec_opts opts = {.on_tty = tty ? exec_on_tty : NULL, .ctx = &w};
        exec_tty_size(&w, &opts);
        int exec_rc = cell_exec_with(init, &spec, &opts, &result, &err);
        if (w.failed) /* the cause of whatever the command met then */
            fail("exec", &w.err);
        else if (exec_rc < 0)
            fail("exec", &err);
        rc = w.failed && result.exit_code == 0 ? CELL_EXIT_SETUP : result.exit_code;
    }
    cell_spec_free(&spec);
    cell_oci_free(&oci);
    return rc;
}

/* The container id of `cell exec ARGS`, when it names an OCI container. */
bool oci_exec_is_container(int argc, char **argv, const struct cli_globals *g)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return false;
        if (argv[i][0] != '-')
            return oci_container_exists(g, argv[i]);
        /* an option with its value apart */
        static const char *const valued[] = {"--process", "-p", "--pid-file",       "--cwd", "--user", "-u",
                                             "--env",     "-e", "--console-socket", "--cap"};
        for (size_t k = 0; k < sizeof valued / sizeof valued[0]; k++)
            if (strcmp(argv[i], valued[k]) == 0)
                i++;
    }
    return false;
}

/* `cell run [--bundle DIR] ID`: create, start, wait; its exit status. */
int oci_run(int argc, char **argv, const struct cli_globals *g)
{
    const char *bundle = NULL, *id = NULL;
    for (int i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "--bundle") == 0 || strcmp(argv[i], "-b") == 0) && i + 1 < argc)
            bundle = argv[++i];
        else if (strncmp(argv[i], "--bundle=", 9) == 0)
            bundle = argv[i] + 9;
        else if (argv[i][0] != '-' && id == NULL)
            id = argv[i];
        else {
            cli_error("run: \"%s\": a bundle takes cell run [--bundle DIR] ID", argv[i]);
            return 2;
        }
    }
    char path[PATH_MAX];
    struct cell_err err = {0};
    if (realpath(bundle ? bundle : ".", path) == NULL) {
        cli_error("run: bundle %s: %s", bundle ? bundle : ".", strerror(errno));
        return CELL_EXIT_SETUP;
    }
    struct cell_spec spec;
    struct cell_oci oci;
    cell_spec_init(&spec);
    memset(&oci, 0, sizeof oci);
    char dir[PATH_MAX];
    if (container_dir(g, id, dir, sizeof dir, &err) < 0 || load_bundle(path, id, &spec, &oci, &err) < 0) {
        cli_error("run: %s", err.msg);
        cell_oci_free(&oci);
        cell_spec_free(&spec);
        return CELL_EXIT_SETUP;
    }
    struct cell_result result;
    struct cell_run_opts opts = {.root = g->root};
    int rc = cell_run(&spec, &opts, &result, &err);
    if (rc < 0)
        cli_error("run: %s", err.msg);
    cell_oci_free(&oci);
    cell_spec_free(&spec);
    return result.exit_code;
}

/* Whether `cell run ARGS` names a bundle: no "--", a --bundle, or one word
 * and a config.json in the current directory. */
bool oci_run_is_bundle(int argc, char **argv)
{
    int words = 0;
    bool bundle = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return false;
        if ((strcmp(argv[i], "--bundle") == 0 || strcmp(argv[i], "-b") == 0) && i + 1 < argc)
            bundle = true, i++;
        else if (strncmp(argv[i], "--bundle=", 9) == 0)
            bundle = true;
        else if (argv[i][0] != '-')
            words++;
        else
            return false; /* a cell run option */
    }
    return words == 1 && (bundle || access("config.json", F_OK) == 0);
}

/* ---- spec, features ---------------------------------------------------------- */

static const char default_config[] =
    "{\n"
    "  \"ociVersion\": \"1.0.2\",\n" /* what crun 1.8 and runc 1.1 accept too */
    "  \"process\": {\n"
    "    \"terminal\": false,\n"
    "    \"user\": {\"uid\": 0, \"gid\": 0},\n"
    "    \"args\": [\"sh\"],\n"
    "    \"env\": [\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\", \"TERM=xterm\"],\n"
    "    \"cwd\": \"/\",\n"
    "    \"capabilities\": {\n"
    "      \"bounding\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],\n"
    "      \"effective\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],\n"
    "      \"permitted\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"]\n"
    "    },\n"
    "    \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": 1024, \"soft\": 1024}],\n"
    "    \"noNewPrivileges\": true\n"
    "  },\n"
    "  \"root\": {\"path\": \"rootfs\", \"readonly\": true},\n"
    "  \"hostname\": \"cell\",\n"
    "  \"mounts\": [\n"
    "    {\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},\n"
    "    {\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\",\n"
    "     \"options\": [\"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\"]},\n"
    "    {\"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\",\n"
    "     \"options\": [\"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\", \"mode=0620\"]},\n"
    "    {\"destination\": \"/dev/shm\", \"type\": \"tmpfs\", \"source\": \"shm\",\n"
    "     \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"mode=1777\", \"size=65536k\"]},\n"
    "    {\"destination\": \"/dev/mqueue\", \"type\": \"mqueue\", \"source\": \"mqueue\",\n"
    "     \"options\": [\"nosuid\", \"noexec\", \"nodev\"]},\n"
    "    {\"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\",\n"
    "     \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"ro\"]},\n"
    "    {\"destination\": \"/tmp\", \"type\": \"tmpfs\", \"source\": \"tmpfs\",\n"
    "     \"options\": [\"nosuid\", \"nodev\", \"mode=1777\"]}\n"
    "  ],\n"
    "  \"linux\": {\n"
    "    \"resources\": {\"devices\": [{\"allow\": false, \"access\": \"rwm\"}]},\n"
    "    \"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"network\"}, {\"type\": \"ipc\"}, {\"type\": \"uts\"},\n"
    "                   {\"type\": \"mount\"}, {\"type\": \"cgroup\"}],\n"
    "    \"maskedPaths\": [\"/proc/acpi\", \"/proc/asound\", \"/proc/kcore\", \"/proc/keys\", "
    "\"/proc/latency_stats\",\n"
    "                    \"/proc/timer_list\", \"/proc/timer_stats\", \"/proc/sched_debug\", \"/sys/firmware\",\n"
    "                    \"/proc/scsi\"],\n"
    "    \"readonlyPaths\": [\"/proc/bus\", \"/proc/fs\", \"/proc/irq\", \"/proc/sys\", \"/proc/sysrq-trigger\"]\n"
    "  }\n"
    "}\n";

int cmd_spec(int argc, char **argv, const struct cli_globals *g)
{
    (void)g;
    const char *bundle = ".";
    for (int i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "--bundle") == 0 || strcmp(argv[i], "-b") == 0) && i + 1 < argc)
            bundle = argv[++i];
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            cmd_spec_help();
            return 0;
        } else {
            cli_error("spec: unknown option \"%s\" (--bundle DIR)", argv[i]);
            return 2;
        }
    }
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/config.json", bundle);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        cli_error("spec: %s: %s%s", path, strerror(errno),
                  errno == EEXIST ? " (it is never overwritten: remove it first)" : "");
        return 1;
    }
    int rc = write_all(fd, default_config, sizeof default_config - 1);
    if (close(fd) < 0 || rc < 0) {
        cli_error("spec: write %s: %s", path, strerror(errno));
        unlink(path);
        return 1;
    }
    return 0;
}

void cmd_spec_help(void)
{
    printf("usage: cell spec [--bundle DIR]\n\nWrite a default OCI config.json into DIR (default: the current\n"
           "directory), as runc spec does; its root is DIR/rootfs, read-only. Never overwrites.\n");
}

void cmd_features_help(void)
{
    printf("usage: cell features\n\nWhat cell supports as an OCI runtime (runtime spec features.md), as JSON.\n");
}

int cmd_features(int argc, char **argv, const struct cli_globals *g)
{
    (void)argc;
    (void)argv;
    (void)g;
    printf("{\n"
           "  \"ociVersionMin\": \"1.0.0\",\n"
           "  \"ociVersionMax\": \"" OCI_VERSION "\",\n"
           "  \"hooks\": [\"prestart\", \"createRuntime\", \"createContainer\", \"startContainer\", \"poststart\", "
           "\"poststop\"],\n"
           "  \"mountOptions\": [\"bind\", \"rbind\", \"ro\", \"rw\", \"nosuid\", \"suid\", \"nodev\", \"dev\", "
           "\"noexec\", \"exec\", \"private\", \"rprivate\", \"slave\", \"rslave\", \"relatime\", \"strictatime\", "
           "\"noatime\"],\n"
           "  \"linux\": {\n"
           "    \"namespaces\": [\"pid\", \"network\", \"ipc\", \"uts\", \"mount\", \"cgroup\", \"user\"],\n"
           "    \"cgroup\": {\"v1\": true, \"v2\": true, \"systemd\": false, \"systemdUser\": false},\n"
           "    \"seccomp\": {\"enabled\": true, \"actions\": [\"SCMP_ACT_ALLOW\", \"SCMP_ACT_ERRNO\", "
           "\"SCMP_ACT_KILL\", \"SCMP_ACT_KILL_PROCESS\", \"SCMP_ACT_KILL_THREAD\", \"SCMP_ACT_LOG\", "
           "\"SCMP_ACT_TRACE\", \"SCMP_ACT_TRAP\"], \"operators\": [\"SCMP_CMP_EQ\", \"SCMP_CMP_GE\", "
           "\"SCMP_CMP_GT\", \"SCMP_CMP_LE\", \"SCMP_CMP_LT\", \"SCMP_CMP_MASKED_EQ\", \"SCMP_CMP_NE\"], "
           "\"archs\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X86\", \"SCMP_ARCH_X32\", \"SCMP_ARCH_AARCH64\", "
           "\"SCMP_ARCH_ARM\"], \"supportedFlags\": [\"SECCOMP_FILTER_FLAG_LOG\", "
           "\"SECCOMP_FILTER_FLAG_SPEC_ALLOW\", \"SECCOMP_FILTER_FLAG_TSYNC\"]},\n"
           "    \"apparmor\": {\"enabled\": false},\n"
           "    \"selinux\": {\"enabled\": false}\n"
           "  },\n"
           "  \"annotations\": {\"run.cell.profile\": \"high|medium|low: cell's own seccomp profile\"}\n"
           "}\n");
    return 0;
}
