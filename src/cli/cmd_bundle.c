/* cmd_bundle.c - cell's specs for other OCI runtimes:
 *
 *   cell bundle DIR [RUN OPTIONS] -- CMD      write the bundle DIR
 *   cell run --backend oci [--oci-runtime R] [RUN OPTIONS] -- CMD
 *
 * The second writes a bundle into a private temporary directory (under
 * --root's run/ when given, else $TMPDIR or /tmp), runs `R --root STATE run
 * --bundle BUNDLE ID` in the foreground, passes signals sent to cell on to
 * it (a terminal's signals reach it directly: it is in cell's process
 * group), applies --timeout itself (`R kill ID KILL`, exit 124), passes the
 * exit status through, then makes sure the container is gone (`R delete
 * --force ID`) and removes the temporary directory. The container's cgroups
 * are named as cell's own (cell.NAME.PID under the caller's cgroup); the
 * runtime removes them. libcell writes the bundle (src/lib/oci_write.c).
 *
 * gVisor's runsc gets what it needs to keep cell's promises: --network=none
 * (its own network stack with only loopback; host for --net host) and
 * --oci-seccomp (it ignores linux.seccomp otherwise), and the recursive
 * mount options ("rro", "rnosuid", "rnodev") dropped, which it does not
 * know: its binds are served by its gofer and carry no host submounts, so
 * "ro" covers the whole tree there. */
#include "cli.h"
#include "cell/oci.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- cell bundle --------------------------------------------------------- */

void cmd_bundle_help(void)
{
    printf("usage: cell bundle DIR [RUN OPTIONS] -- CMD [ARGS...]\n"
           "\n"
           "Write an OCI bundle to DIR (made if missing): DIR/config.json, with which a\n"
           "standard runtime (runc, crun) runs CMD with the isolation cell run gives\n"
           "it: namespaces, read-only root, /proc masks, no capabilities but --cap-add,\n"
           "limits, and the seccomp profile rule for rule. Without --rootfs, DIR/rootfs is\n"
           "made too: mount points onto which the host's /usr, /bin, /sbin, /lib* and the\n"
           "minimal /etc are bound read-only. A DIR with a config.json (or, without\n"
           "--rootfs, a rootfs) is refused. Prints nothing on success.\n"
           "\n"
           "RUN OPTIONS are cell run's (see cell run --help), except what a bundle cannot\n"
           "express: --timeout, --layer, --preserve-fd and the supervision options.\n"
           "Run it with, e.g.: runc run --bundle DIR ID. For gVisor, use\n"
           "cell run --backend oci --oci-runtime runsc, which adapts the bundle to runsc.\n");
}

/* "run: ..." from the shared option parser, as bundle's */
static void bundle_error(struct cell_err *err)
{
    if (strncmp(err->msg, "run: ", 5) == 0)
        cli_error("bundle: %s", err->msg + 5);
    else
        cli_error("%s", err->msg);
}

int cmd_bundle(int argc, char **argv, const struct cli_globals *g)
{
    (void)g;
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        if (argc < 2) {
            cli_error("bundle: no directory given: cell bundle DIR [RUN OPTIONS] -- CMD [ARGS...]");
            return 2;
        }
        cmd_bundle_help();
        return 0;
    }
    if (argv[1][0] == '-') {
        cli_error("bundle: \"%s\": the directory comes first: cell bundle DIR [RUN OPTIONS] -- CMD", argv[1]);
        return 2;
    }
    struct cell_spec spec;
    struct cell_err err = {0};
    json_t *config = NULL;
    cell_spec_init(&spec);
    /* DIR stands where the option parser expects the command's name */
    int first = cell_spec_from_args(argc - 1, argv + 1, &spec, &err);
    int rc = 1;
    if (first == 0) {
        cmd_bundle_help();
        rc = 0;
    } else if (first < 0 || cell_spec_set_argv(&spec, argv + 1 + first, &err) < 0 ||
               cell_spec_validate(&spec, &err) < 0 || cell_oci_write_config(&spec, &config, &err) < 0 ||
               cell_oci_write_bundle(&spec, config, argv[1], &err) < 0) {
        bundle_error(&err);
    } else {
        rc = 0;
    }
    json_decref(config);
    cell_spec_free(&spec);
    return rc;
}

/* ---- cell run --backend oci ------------------------------------------------ */

/* Whether argv[i] is one of the backend options; *takes: how many words
 * it is (2 with a separate value), *value: its value. */
static bool backend_option(int argc, char **argv, int i, int *takes, const char **value)
{
    static const char *const names[] = {"--backend", "--oci-runtime"};
    for (size_t k = 0; k < ARRAY_SIZE(names); k++) {
        size_t n = strlen(names[k]);
        if (strncmp(argv[i], names[k], n) != 0)
            continue;
        if (argv[i][n] == '=') {
            *takes = 1;
            *value = argv[i] + n + 1;
            return true;
        }
        if (argv[i][n] == '\0') {
            *takes = i + 1 < argc ? 2 : 1;
            *value = i + 1 < argc ? argv[i + 1] : NULL;
            return true;
        }
    }
    return false;
}

/* argv without the backend options before index `stop` (and before "--");
 * the options' values into *backend and *runtime. */
static int strip_backend(int argc, char **argv, int stop, char **out, const char **backend, const char **runtime,
                         struct cell_err *err)
{
    int n = 0;
    bool dashdash = false;
    for (int i = 0; i < argc; i++) {
        int takes;
        const char *value;
        if (strcmp(argv[i], "--") == 0)
            dashdash = true;
        if (i > 0 && i < stop && !dashdash && backend_option(argc, argv, i, &takes, &value)) {
            if (value == NULL)
                return cell_err_set(err, 0, "run: option \"%s\" needs a value (see cell run --help)", argv[i]);
            *(argv[i][2] == 'b' ? backend : runtime) = value;
            i += takes - 1;
            continue;
        }
        out[n++] = argv[i];
    }
    out[n] = NULL;
    return n;
}

int run_backend_options(int *argc, char ***argv, struct run_backend *b, struct cell_err *err)
{
    memset(b, 0, sizeof *b);
    bool any = false;
    for (int i = 1; i < *argc && strcmp((*argv)[i], "--") != 0 && !any; i++) {
        int takes;
        const char *value;
        any = backend_option(*argc, *argv, i, &takes, &value);
    }
    if (!any)
        return 0;
    const char *backend = NULL, *runtime = NULL;
    char **out = calloc((size_t)*argc + 1, sizeof *out);
    if (out == NULL)
        return cell_err_set(err, ENOMEM, "run: --backend");
    /* first without every such option, to find where the command starts
     * (an option's value is never the command); then without those before it */
    struct cell_spec scratch;
    cell_spec_init(&scratch);
    int n = strip_backend(*argc, *argv, *argc, out, &backend, &runtime, err);
    int first = n < 0 ? -1 : cell_spec_from_args(n, out, &scratch, err);
    cell_spec_free(&scratch);
    int stop = *argc;
    if (first > 0) /* the command's word in argv: the first with its pointer */
        for (int i = 0; i < *argc; i++)
            if ((*argv)[i] == out[first]) {
                stop = i;
                break;
            }
    backend = runtime = NULL;
    if (n < 0 || (n = strip_backend(*argc, *argv, stop, out, &backend, &runtime, err)) < 0) {
        free(out);
        return -1;
    }
    if (backend && strcmp(backend, "oci") != 0 && strcmp(backend, "cell") != 0) {
        free(out);
        return cell_err_set(err, 0, "run: --backend \"%s\": cell (the default) or oci", backend);
    }
    b->oci = backend && strcmp(backend, "oci") == 0;
    if (runtime && !b->oci) {
        free(out);
        return cell_err_set(err, 0, "run: --oci-runtime needs --backend oci");
    }
    b->runtime = runtime ? runtime : "runc";
    memcpy(*argv, out, ((size_t)n + 1) * sizeof *out); /* in place: argv shrinks */
    *argc = n;
    free(out);
    return 0;
}

/* The runtime's executable: one of the three by name (in PATH), or a path. */
static int find_runtime(const char *runtime, char *path, size_t len, struct cell_err *err)
{
    if (strchr(runtime, '/')) {
        if (access(runtime, X_OK) < 0)
            return cell_err_set(err, errno, "run: --oci-runtime %s", runtime);
        snprintf(path, len, "%s", runtime);
        return 0;
    }
    if (strcmp(runtime, "runc") != 0 && strcmp(runtime, "crun") != 0 && strcmp(runtime, "runsc") != 0)
        return cell_err_set(err, 0, "run: --oci-runtime \"%s\": runc, crun, runsc or the path of a runtime", runtime);
    const char *search = getenv("PATH");
    cleanup_free char *dirs = strdup(search && *search ? search : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin");
    char *save = NULL;
    for (char *d = dirs ? strtok_r(dirs, ":", &save) : NULL; d; d = strtok_r(NULL, ":", &save)) {
        snprintf(path, len, "%s/%s", d, runtime);
        if (access(path, X_OK) == 0)
            return 0;
    }
    return cell_err_set(err, 0, "run: --oci-runtime %s: not found in PATH (install it, or give its path)", runtime);
}

/* RUNTIME --root STATE VERB ARGS...: a child with signals as they were
 * before cell blocked them; quiet: its stdout and stderr to /dev/null. */
static pid_t spawn_runtime(const char *runtime, const char *state, const char *const *args, bool quiet,
                           const sigset_t *old_mask)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    sigprocmask(SIG_SETMASK, old_mask, NULL);
    if (quiet) {
        int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (null >= 0) {
            dup2(null, 1);
            dup2(null, 2);
        }
    }
    const char *argv[16] = {runtime, "--root", state};
    size_t n = 3;
    for (size_t i = 0; args[i] && n < ARRAY_SIZE(argv) - 1; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    execv(runtime, (char *const *)argv);
    fprintf(stderr, "cell: run %s: %s\n", runtime, strerror(errno));
    _exit(CELL_EXIT_SETUP);
}

static int wait_status(pid_t pid)
{
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return CELL_EXIT_SETUP;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for the runtime `pid`, forwarding signals (those a terminal sent
 * reached it already) and killing the container at the deadline (0: none).
 * Returns its exit code; *timed_out when the deadline struck. */
static int supervise_runtime(pid_t pid, int sigfd, const char *runtime, const char *state, const char *id,
                             unsigned timeout_sec, const sigset_t *old_mask, bool *timed_out)
{
    cleanup_close int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    long long deadline = timeout_sec ? now_ms() + (long long)timeout_sec * 1000 : 0;
    *timed_out = false;
    while (pidfd >= 0) {
        struct pollfd fds[2] = {{.fd = pidfd, .events = POLLIN}, {.fd = sigfd, .events = POLLIN}};
        long long left = deadline && !*timed_out ? deadline - now_ms() : -1;
        int n = poll(fds, 2, left < 0 ? -1 : (int)(left > INT_MAX ? INT_MAX : left));
        if (n < 0 && errno != EINTR)
            break;
        if (n == 0 && deadline && !*timed_out) {
            const char *kill_args[] = {"kill", id, "KILL", NULL};
            *timed_out = true;
            pid_t k = spawn_runtime(runtime, state, kill_args, true, old_mask);
            if (k > 0)
                wait_status(k);
            continue;
        }
        if (n > 0 && (fds[1].revents & POLLIN)) {
            struct signalfd_siginfo si;
            if (read(sigfd, &si, sizeof si) == (ssize_t)sizeof si && si.ssi_code != SI_KERNEL)
                kill(pid, (int)si.ssi_signo);
        }
        if (n > 0 && (fds[0].revents & POLLIN))
            break;
    }
    return wait_status(pid);
}

static bool is_runsc(const char *runtime)
{
    const char *slash = strrchr(runtime, '/');
    return strcmp(slash ? slash + 1 : runtime, "runsc") == 0;
}

/* runsc does not know the recursive mount options (see the top). */
static void adapt_for_runsc(json_t *config)
{
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(config, "mounts"), i, m)
    {
        json_t *options = json_object_get(m, "options");
        for (size_t k = json_array_size(options); k-- > 0;) {
            const char *o = json_string_value(json_array_get(options, k));
            if (o && (strcmp(o, "rro") == 0 || strcmp(o, "rnosuid") == 0 || strcmp(o, "rnodev") == 0))
                json_array_remove(options, k);
        }
    }
}

/* The temporary directory's parent: --root's run/, or $TMPDIR, or /tmp. */
static int temp_base(const struct cli_globals *g, char *base, size_t len, struct cell_err *err)
{
    const char *tmp = getenv("TMPDIR");
    if (g->root) {
        snprintf(base, len, "%s/run", g->root);
        return make_dirs(base, 0755, err);
    }
    snprintf(base, len, "%s", tmp && tmp[0] == '/' ? tmp : "/tmp");
    return 0;
}

int cmd_run_oci(struct cell_spec *spec, const struct run_backend *b, const struct cli_globals *g)
{
    struct cell_err err = {0};
    char runtime[PATH_MAX], base[PATH_MAX - 64], tmp[PATH_MAX], bundle[PATH_MAX + 8], state[PATH_MAX + 8], id[96];
    unsigned timeout_sec = spec->timeout_sec;
    json_t *config = NULL;
    spec->timeout_sec = 0; /* applied here, not by the runtime */
    if (find_runtime(b->runtime, runtime, sizeof runtime, &err) < 0 || temp_base(g, base, sizeof base, &err) < 0) {
        cli_error("%s", err.msg);
        return CELL_EXIT_SETUP;
    }
    if (cell_oci_write_config(spec, &config, &err) < 0) { /* "bundle: -d: ..." */
        cli_error("run: --backend oci: %s", strncmp(err.msg, "bundle: ", 8) == 0 ? err.msg + 8 : err.msg);
        return CELL_EXIT_SETUP;
    }
    /* the container's cgroups are named as a cell's, under the caller's own
     * (rootless: where the runtime can, as it chooses) */
    char cgroups[128];
    snprintf(cgroups, sizeof cgroups, "cell.%s.%d", spec->name, (int)getpid());
    if (geteuid() == 0)
        json_object_set_new(json_object_get(config, "linux"), "cgroupsPath", json_string(cgroups));
    bool runsc = is_runsc(runtime);
    if (runsc)
        adapt_for_runsc(config);
    snprintf(id, sizeof id, "%s-%d", spec->name, (int)getpid());
    snprintf(tmp, sizeof tmp, "%s/cell-oci.XXXXXX", base);
    if (mkdtemp(tmp) == NULL) {
        cli_error("run: --backend oci: create a temporary directory in %s: %s", base, strerror(errno));
        json_decref(config);
        return CELL_EXIT_SETUP;
    }
    snprintf(bundle, sizeof bundle, "%s/bundle", tmp);
    snprintf(state, sizeof state, "%s/state", tmp);

    /* from here on every way out goes through the removal below */
    int code = CELL_EXIT_SETUP;
    bool timed_out = false;
    sigset_t forward, old_mask;
    sigemptyset(&forward);
    for (int s = 1; s < 32; s++)
        if (s != SIGKILL && s != SIGSTOP && s != SIGCHLD && s != SIGTSTP && s != SIGTTIN && s != SIGTTOU &&
            s != SIGSEGV && s != SIGBUS && s != SIGILL && s != SIGFPE && s != SIGPIPE && s != SIGWINCH)
            sigaddset(&forward, s);
    sigprocmask(SIG_BLOCK, &forward, &old_mask);
    int sigfd = signalfd(-1, &forward, SFD_CLOEXEC);
    if (sigfd < 0) {
        cli_error("run: --backend oci: signalfd: %s", strerror(errno));
    } else if (mkdir(state, 0700) < 0) {
        cli_error("run: --backend oci: create %s: %s", state, strerror(errno));
    } else if (cell_oci_write_bundle(spec, config, bundle, &err) < 0) {
        cli_error("%s", err.msg);
    } else {
        const char *plain_args[] = {"run", "--bundle", bundle, id, NULL};
        const char *runsc_args[] = {spec->net_mode == CELL_NET_HOST ? "--network=host" : "--network=none",
                                    "--oci-seccomp",
                                    "run",
                                    "--bundle",
                                    bundle,
                                    id,
                                    NULL};
        const char *const *run_args = runsc ? runsc_args : plain_args;
        pid_t pid = spawn_runtime(runtime, state, run_args, false, &old_mask);
        if (pid < 0)
            cli_error("run: --backend oci: start %s: %s", runtime, strerror(errno));
        else
            code = supervise_runtime(pid, sigfd, runtime, state, id, timeout_sec, &old_mask, &timed_out);
        /* gone already after `run`; the state of one that was not (the
         * runtime killed, say) goes now */
        const char *delete_args[] = {"delete", "--force", id, NULL};
        pid_t d = pid > 0 ? spawn_runtime(runtime, state, delete_args, true, &old_mask) : -1;
        if (d > 0)
            wait_status(d);
    }
    if (cell_oci_remove_tree(tmp, &err) < 0)
        cli_error("run: --backend oci: %s", err.msg);
    if (g->root)
        rmdir(base); /* only when empty: celld's run/ stays */
    if (sigfd >= 0)
        close(sigfd);
    sigprocmask(SIG_SETMASK, &old_mask, NULL);
    json_decref(config);
    if (timed_out) {
        fprintf(stderr, "cell %s: timed out after %us: killed\n", spec->name, timeout_sec);
        code = CELL_EXIT_TIMEOUT;
    }
    return code;
}
