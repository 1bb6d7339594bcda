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
 * runtime removes them. libcell writes the bundle (src/lib/oci_write.c) and
 * drives the runtime (src/lib/oci_runtime.c, which says what runsc gets). */
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

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for the runtime, forwarding signals (those a terminal sent reached
 * it already) and killing the container at the deadline (0: none). Returns
 * its exit code; *timed_out when the deadline struck. */
static int supervise_runtime(struct cell_oci_runtime_run *run, int sigfd, unsigned timeout_sec, bool *timed_out)
{
    long long deadline = timeout_sec ? now_ms() + (long long)timeout_sec * 1000 : 0;
    *timed_out = false;
    for (;;) {
        struct pollfd fds[2] = {{.fd = run->pidfd, .events = POLLIN}, {.fd = sigfd, .events = POLLIN}};
        long long left = deadline && !*timed_out ? deadline - now_ms() : -1;
        int n = poll(fds, 2, left < 0 ? -1 : (int)(left > INT_MAX ? INT_MAX : left));
        if (n < 0 && errno != EINTR)
            break;
        if (n == 0 && deadline && !*timed_out) {
            *timed_out = true;
            cell_oci_runtime_kill(run);
            continue;
        }
        if (n > 0 && (fds[1].revents & POLLIN)) {
            struct signalfd_siginfo si;
            if (read(sigfd, &si, sizeof si) == (ssize_t)sizeof si && si.ssi_code != SI_KERNEL)
                kill(run->pid, (int)si.ssi_signo);
        }
        if (n > 0 && (fds[0].revents & POLLIN))
            break;
    }
    return cell_oci_runtime_wait(run);
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
    char base[PATH_MAX - 64], cgroups[128];
    unsigned timeout_sec = spec->timeout_sec;
    spec->timeout_sec = 0; /* applied here, not by the runtime */
    if (temp_base(g, base, sizeof base, &err) < 0) {
        cli_error("run: %s", err.msg);
        return CELL_EXIT_SETUP;
    }
    /* the container's cgroups are named as a cell's, under the caller's own
     * (rootless: where the runtime can, as it chooses) */
    snprintf(cgroups, sizeof cgroups, "cell.%s.%d", spec->name, (int)getpid());
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
    struct cell_oci_runtime_opts ro = {
        .runtime = b->runtime, .base = base, .cgroup_name = cgroups, .child_mask = &old_mask};
    struct cell_oci_runtime_run run;
    if (sigfd < 0)
        cli_error("run: --backend oci: signalfd: %s", strerror(errno));
    else if (cell_oci_runtime_start(spec, &ro, &run, &err) < 0)
        cli_error("run: %s", err.msg);
    else if ((code = supervise_runtime(&run, sigfd, timeout_sec, &timed_out)) != 0 && !timed_out &&
             !cell_oci_runtime_started(&run)) {
        cli_error("run: --backend oci: %s did not start the container (exit %d; its own error is above)", run.runtime,
                  code);
        code = CELL_EXIT_SETUP;
    }
    if (sigfd >= 0 && cell_oci_runtime_remove(&run, &err) < 0)
        cli_error("run: %s", err.msg);
    if (g->root)
        rmdir(base); /* only when empty: celld's run/ stays */
    if (sigfd >= 0)
        close(sigfd);
    sigprocmask(SIG_SETMASK, &old_mask, NULL);
    if (timed_out) {
        fprintf(stderr, "cell %s: timed out after %us: killed\n", spec->name, timeout_sec);
        code = CELL_EXIT_TIMEOUT;
    }
    return code;
}
