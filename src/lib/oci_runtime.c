/* oci_runtime.c - a cell_spec run by another OCI runtime (runc, crun,
 * runsc): the bundle written into a private temporary directory, `R --root
 * STATE run --bundle BUNDLE ID` started as a child, killed through `R kill`,
 * and everything removed again (`R delete --force`, the directory). Used by
 * `cell run --backend oci` (src/cli/cmd_bundle.c) and by jobs run with
 * --backend oci (src/lib/job/runner.c); the API is in cell/oci.h.
 *
 * gVisor's runsc gets what it needs to keep cell's promises: --network=none
 * (its own network stack with only loopback; host for --net host) and
 * --oci-seccomp (it ignores linux.seccomp otherwise), and the recursive
 * mount options ("rro", "rnosuid", "rnodev") dropped, which it does not
 * know: its binds are served by its gofer and carry no host submounts, so
 * "ro" covers the whole tree there. /dev loses its "ro": runsc makes the
 * default devices (null, zero, ...) in it, and in a read-only one there
 * were none, not even /dev/null; under runsc /dev is a writable tmpfs of
 * the sandbox's own memory. */
#include "cell/oci.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int cell_oci_runtime_find(const char *runtime, char *path, size_t len, struct cell_err *err)
{
    if (strchr(runtime, '/')) {
        if (access(runtime, X_OK) < 0)
            return cell_err_set(err, errno, "--oci-runtime %s", runtime);
        snprintf(path, len, "%s", runtime);
        return 0;
    }
    if (strcmp(runtime, "runc") != 0 && strcmp(runtime, "crun") != 0 && strcmp(runtime, "runsc") != 0)
        return cell_err_set(err, 0, "--oci-runtime \"%s\": runc, crun, runsc or the path of a runtime", runtime);
    const char *search = getenv("PATH");
    cleanup_free char *dirs = strdup(search && *search ? search : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin");
    char *save = NULL;
    for (char *d = dirs ? strtok_r(dirs, ":", &save) : NULL; d; d = strtok_r(NULL, ":", &save)) {
        snprintf(path, len, "%s/%s", d, runtime);
        if (access(path, X_OK) == 0)
            return 0;
    }
    return cell_err_set(err, 0, "--oci-runtime %s: not found in PATH (install it, or give its path)", runtime);
}

bool cell_oci_runtime_is_runsc(const char *runtime)
{
    const char *slash = strrchr(runtime, '/');
    return strcmp(slash ? slash + 1 : runtime, "runsc") == 0;
}

/* runsc does not know the recursive mount options, and makes the default
 * devices in /dev itself, which it cannot in a read-only /dev (see the
 * top). */
static void adapt_for_runsc(json_t *config)
{
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(config, "mounts"), i, m)
    {
        json_t *options = json_object_get(m, "options");
        bool dev = json_string_value(json_object_get(m, "destination")) &&
                   strcmp(json_string_value(json_object_get(m, "destination")), "/dev") == 0;
        for (size_t k = json_array_size(options); k-- > 0;) {
            const char *o = json_string_value(json_array_get(options, k));
            if (o && (strcmp(o, "rro") == 0 || strcmp(o, "rnosuid") == 0 || strcmp(o, "rnodev") == 0 ||
                      (dev && strcmp(o, "ro") == 0)))
                json_array_remove(options, k);
        }
    }
}

/* runsc writes to a regular file as stdout or stderr at offsets of its own
 * (pwrite), leaving the file's offset where it was: what is written after
 * the container (the job's report, a shell's next line) would overwrite its
 * output. In append mode every write goes to the end, whoever makes it. */
static void append_to_files(const int *stdio)
{
    for (int i = 1; i < 3; i++) {
        int fd = stdio && stdio[i] >= 0 ? stdio[i] : i;
        struct stat st;
        int flags = fcntl(fd, F_GETFL);
        if (flags >= 0 && !(flags & O_APPEND) && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
            fcntl(fd, F_SETFL, flags | O_APPEND);
    }
}

/* RUNTIME --root STATE [runsc's flags] VERB ARGS...: a child with the
 * signal mask `mask`, the given stdio (-1: as ours; quiet: /dev/null for
 * stdout and stderr) and no other fd of ours. */
static pid_t spawn_runtime(const struct cell_oci_runtime_run *run, const char *const *args, const int stdio[3],
                           bool quiet)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    sigprocmask(SIG_SETMASK, &run->child_mask, NULL);
    int null = quiet ? open("/dev/null", O_RDWR | O_CLOEXEC) : -1;
    for (int i = 0; i < 3; i++) {
        int fd = quiet && i > 0 ? null : stdio ? stdio[i] : -1;
        if (fd >= 0 && fd != i && dup2(fd, i) < 0)
            _exit(CELL_EXIT_SETUP);
        if (fd == i)
            fcntl(i, F_SETFD, 0);
    }
    syscall(SYS_close_range, 3, ~0U, 0);
    const char *argv[16] = {run->runtime, "--root", run->state};
    size_t n = 3;
    for (size_t i = 0; args[i] && n < ARRAY_SIZE(argv) - 1; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    execv(run->runtime, (char *const *)argv);
    dprintf(2, "cell: run %s: %s\n", run->runtime, strerror(errno));
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

/* A verb whose output is not wanted, waited for. */
static int runtime_quietly(const struct cell_oci_runtime_run *run, const char *const *args)
{
    pid_t pid = spawn_runtime(run, args, NULL, true);
    return pid < 0 ? -1 : wait_status(pid);
}

/* jansson's memory, wiped before it is freed: a spec's environment may
 * hold secrets, and building and writing its config copies them (the
 * strings of process.env, and the buffers json_dumps grows). */
static void wiping_free(void *p)
{
    if (p) {
        explicit_bzero(p, malloc_usable_size(p));
        free(p);
    }
}

static int start(const struct cell_spec *spec, const struct cell_oci_runtime_opts *opts,
                 struct cell_oci_runtime_run *run, struct cell_err *err);

int cell_oci_runtime_start(const struct cell_spec *spec, const struct cell_oci_runtime_opts *opts,
                           struct cell_oci_runtime_run *run, struct cell_err *err)
{
    json_malloc_t old_malloc;
    json_free_t old_free;
    json_get_alloc_funcs(&old_malloc, &old_free);
    bool ours = old_malloc == malloc && old_free == free; /* not a program's own allocator */
    if (ours)
        json_set_alloc_funcs(malloc, wiping_free);
    int rc = start(spec, opts, run, err);
    if (ours)
        json_set_alloc_funcs(old_malloc, old_free);
    return rc;
}

static int start(const struct cell_spec *spec, const struct cell_oci_runtime_opts *opts,
                 struct cell_oci_runtime_run *run, struct cell_err *err)
{
    memset(run, 0, sizeof *run);
    run->pid = -1;
    run->pidfd = -1;
    if (opts->child_mask)
        run->child_mask = *opts->child_mask;
    else
        sigprocmask(SIG_SETMASK, NULL, &run->child_mask);
    if (cell_oci_runtime_find(opts->runtime, run->runtime, sizeof run->runtime, err) < 0)
        return -1;
    json_t *config = NULL;
    if (cell_oci_write_config(spec, &config, err) < 0) { /* "bundle: -d: ...": what a bundle cannot say */
        if (strncmp(err->msg, "bundle: ", 8) == 0)
            memmove(err->msg, err->msg + 8, strlen(err->msg + 8) + 1);
        return cell_err_prefix(err, "--backend oci: ");
    }
    if (opts->cgroup_name && geteuid() == 0)
        json_object_set_new(json_object_get(config, "linux"), "cgroupsPath", json_string(opts->cgroup_name));
    run->runsc = cell_oci_runtime_is_runsc(run->runtime);
    if (run->runsc) {
        adapt_for_runsc(config);
        append_to_files(opts->stdio);
    }
    snprintf(run->id, sizeof run->id, "%s-%d", spec->name, (int)getpid());
    if (snprintf(run->dir, sizeof run->dir, "%s/cell-oci.XXXXXX", opts->base) >= (int)sizeof run->dir ||
        mkdtemp(run->dir) == NULL) {
        int e = errno;
        json_decref(config);
        run->dir[0] = '\0';
        return cell_err_set(err, e, "--backend oci: create a temporary directory in %s", opts->base);
    }
    snprintf(run->bundle, sizeof run->bundle, "%s/bundle", run->dir);
    snprintf(run->state, sizeof run->state, "%s/state", run->dir);
    snprintf(run->pid_file, sizeof run->pid_file, "%s/pid", run->dir);
    if (mkdir(run->state, 0700) < 0) {
        json_decref(config);
        return cell_err_set(err, errno, "--backend oci: create %s", run->state);
    }
    int rc = cell_oci_write_bundle(spec, config, run->bundle, err);
    json_decref(config);
    if (rc < 0)
        return -1;
    /* the pid file says that the runtime made the container: a failure
     * without one is the runtime's, not the workload's */
    const char *plain_args[] = {"run", "--pid-file", run->pid_file, "--bundle", run->bundle, run->id, NULL};
    const char *runsc_args[] = {spec->net_mode == CELL_NET_HOST ? "--network=host" : "--network=none",
                                "--oci-seccomp",
                                "run",
                                "--pid-file",
                                run->pid_file,
                                "--bundle",
                                run->bundle,
                                run->id,
                                NULL};
    run->pid = spawn_runtime(run, run->runsc ? runsc_args : plain_args, opts->stdio, false);
    if (run->pid < 0)
        return cell_err_set(err, errno, "--backend oci: start %s", run->runtime);
    run->pidfd = (int)syscall(SYS_pidfd_open, run->pid, 0);
    if (run->pidfd < 0) {
        int e = errno;
        cell_oci_runtime_kill(run);
        run->exit_code = wait_status(run->pid);
        run->pid = -1;
        return cell_err_set(err, e, "--backend oci: watch %s", run->runtime);
    }
    return 0;
}

void cell_oci_runtime_kill(struct cell_oci_runtime_run *run)
{
    const char *kill_args[] = {"kill", run->id, "KILL", NULL};
    if (run->pid > 0)
        runtime_quietly(run, kill_args);
}

int cell_oci_runtime_wait(struct cell_oci_runtime_run *run)
{
    if (run->pid > 0) {
        run->exit_code = wait_status(run->pid);
        run->pid = -1;
    }
    if (run->pidfd >= 0) {
        close(run->pidfd);
        run->pidfd = -1;
    }
    return run->exit_code;
}

bool cell_oci_runtime_started(const struct cell_oci_runtime_run *run)
{
    return run->pid_file[0] && access(run->pid_file, F_OK) == 0;
}

/* Whether the runtime keeps any state (a container `run` did not remove:
 * the runtime was killed, say). */
static bool state_left(const char *state)
{
    cleanup_dir DIR *d = opendir(state);
    for (struct dirent *e; d && (e = readdir(d));)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            return true;
    return false;
}

int cell_oci_runtime_remove(struct cell_oci_runtime_run *run, struct cell_err *err)
{
    if (run->pid > 0) { /* never waited for: it goes now */
        cell_oci_runtime_kill(run);
        cell_oci_runtime_wait(run);
    }
    if (run->dir[0] == '\0')
        return 0;
    /* gone already after `run` (no `delete` then: it costs a runtime's
     * start); the state of one that was not goes now */
    const char *delete_args[] = {"delete", "--force", run->id, NULL};
    if (run->runtime[0] && state_left(run->state))
        runtime_quietly(run, delete_args);
    int rc = cell_oci_remove_tree(run->dir, err);
    run->dir[0] = '\0';
    return rc < 0 ? cell_err_prefix(err, "--backend oci: ") : 0;
}
