/* oci.c - a job run by another OCI runtime (--backend oci: runsc, crun or
 * runc) instead of cell's own sandbox: the same spec written as a bundle
 * (src/lib/oci_write.c) and run with src/lib/oci_runtime.c, with what a job
 * adds around it:
 *   - the bundle and the runtime's state live in a tmpfs of their own at
 *     <private>/oci (mode 0700): config.json holds the environment, and a
 *     job's environment may hold secrets, which must never reach a disk;
 *   - the cell's network namespace is made here first, held by a small
 *     process with its loopback up, and joined by the container
 *     (linux.namespaces network path): egress rules give it its link and
 *     nftables rules first (sandbox/egress.c, as cell's sandbox does), and
 *     the residue check knows it by its inode; under runsc, whose sandbox
 *     has a network stack of its own, there is none of this, and egress
 *     rules are refused (that stack would not see the rules);
 *   - the cgroup the runtime makes, named cell.<id>.<runner pid> under the
 *     runner's own cgroup in every hierarchy, for the residue check.
 * The cell's working directory and secrets are the runner's binds, as for
 * the native backend. */
#include "job/internal.h"
#include "sandbox/egress.h"
#include "util.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

/* Every hierarchy the runner is in (/proc/self/cgroup): the directory
 * <mount><own path>/<leaf> the runtime makes for a relative cgroupsPath. */
static json_t *cgroup_traces(const char *leaf)
{
    char text[4096];
    json_t *traces = json_pack("{s:s, s:[]}", "v2", "", "v1");
    if (traces == NULL || read_file_at(AT_FDCWD, "/proc/self/cgroup", text, sizeof text) < 0)
        return traces;
    struct stat st;
    bool unified = stat("/sys/fs/cgroup/cgroup.controllers", &st) == 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *controllers = strchr(line, ':'), *path = controllers ? strchr(controllers + 1, ':') : NULL;
        if (path == NULL)
            continue;
        *path++ = '\0';
        controllers++;
        char dir[PATH_MAX];
        const char *own = strcmp(path, "/") == 0 ? "" : path;
        if (controllers[0] == '\0') {
            snprintf(dir, sizeof dir, "/sys/fs/cgroup%s%s/%s", unified ? "" : "/unified", own, leaf);
            json_object_set_new(traces, "v2", json_string(dir));
        } else {
            const char *name = strncmp(controllers, "name=", 5) == 0 ? controllers + 5 : controllers;
            snprintf(dir, sizeof dir, "/sys/fs/cgroup/%s%s/%s", name, own, leaf);
            json_array_append_new(json_object_get(traces, "v1"), json_string(dir));
        }
    }
    return traces;
}

/* A process in a network namespace of its own, with its loopback up,
 * until it is killed (or the runner dies). The pid, or -1 with err. */
static pid_t hold_netns(struct cell_err *err)
{
    int ready[2];
    if (pipe2(ready, O_CLOEXEC) < 0)
        return cell_err_set(err, errno, "network scope: pipe");
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(ready[0]);
        close(ready[1]);
        return cell_err_set(err, e, "network scope: fork");
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int keep[] = {ready[1]}; /* not the runner's lock, say */
        close_range_except(keep, ARRAY_SIZE(keep), 0);
        char ok = getppid() == parent && unshare(CLONE_NEWNET) == 0 ? 1 : 0;
        int s = ok ? socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0) : -1;
        struct ifreq ifr = {0};
        strcpy(ifr.ifr_name, "lo");
        if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0 || (ifr.ifr_flags |= IFF_UP, ioctl(s, SIOCSIFFLAGS, &ifr)) < 0)
            ok = 0;
        if (write(ready[1], &ok, 1) != 1 || !ok)
            _exit(1);
        for (;;)
            pause();
    }
    close(ready[1]);
    char ok = 0;
    ssize_t n;
    while ((n = read(ready[0], &ok, 1)) < 0 && errno == EINTR)
        ;
    close(ready[0]);
    if (n != 1 || !ok) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return cell_err_set(err, 0, "network scope: could not make a network namespace with its loopback up");
    }
    return pid;
}

static int make_oci_dir(struct job_dirs *dirs, struct cell_err *err)
{
    if (mkdir(dirs->oci, 0700) < 0)
        return cell_err_set(err, errno, "create %s", dirs->oci);
    if (mount("tmpfs", dirs->oci, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700") < 0)
        return cell_err_set(err, errno, "mount a tmpfs on %s", dirs->oci);
    dirs->mounted_oci = true;
    return 0;
}

int job_oci_start(struct cell_spec *spec, const struct cell_job *job, const struct cell_job_opts *opts,
                  struct job_dirs *dirs, struct job_oci *o, int devnull, const sigset_t *child_mask,
                  struct cell_err *err)
{
    o->holder = -1;
    o->started = false;
    char leaf[128];
    snprintf(leaf, sizeof leaf, "cell.%s.%d", job->id, (int)getpid());
    o->cgroup = cgroup_traces(leaf);
    if (job->negress && cell_oci_runtime_is_runsc(opts->oci_runtime))
        return cell_err_set(err, 0,
                            "egress rules with --oci-runtime runsc: gVisor's own network stack would not see "
                            "cell's nftables rules; use crun, runc or the native backend");
    if (make_oci_dir(dirs, err) < 0)
        return -1;
    spec->timeout_sec = 0; /* the runner's timers apply timeoutMs */
    /* the network namespace is made here (but under runsc, whose sandbox
     * has its own network stack): so that it can get its link before the
     * container starts, and so that the residue check knows it */
    bool runsc = cell_oci_runtime_is_runsc(opts->oci_runtime);
    if (!runsc) {
        char path[64];
        if ((o->holder = hold_netns(err)) < 0)
            return -1;
        job_netns_of(o->holder, &o->netns_dev, &o->netns_ino);
        snprintf(path, sizeof path, "/proc/%d/ns/net", (int)o->holder);
        free(spec->ns.join_net);
        if ((spec->ns.join_net = strdup(path)) == NULL)
            return cell_err_set(err, ENOMEM, "network scope");
    }
    if (job->negress) {
        struct egress_target *targets = NULL;
        size_t n = 0;
        if (egress_resolve(spec->egress, spec->negress, &targets, &n, err) < 0)
            return -1;
        int rc = egress_setup(o->holder, targets, n, spec->egress_netns, &o->link, err);
        free(targets);
        if (rc < 0)
            return -1;
    }
    int stdio[3] = {devnull, -1, -1};
    struct cell_oci_runtime_opts ro = {
        .runtime = opts->oci_runtime, .base = dirs->oci, .cgroup_name = leaf, .stdio = stdio, .child_mask = child_mask};
    o->started = true; /* remove() from here on */
    return cell_oci_runtime_start(spec, &ro, &o->run, err);
}

int job_oci_remove(struct job_oci *o, struct job_dirs *dirs, struct cell_err *err)
{
    int rc = 0;
    if (o->started && cell_oci_runtime_remove(&o->run, err) < 0)
        rc = -1;
    o->started = false;
    struct cell_err e = {0};
    if (o->link.host_if[0] && egress_teardown(&o->link, &e) < 0 && rc == 0) {
        *err = e;
        rc = -1;
    }
    if (o->holder > 0) {
        kill(o->holder, SIGKILL);
        waitpid(o->holder, NULL, 0);
        o->holder = -1;
    }
    if (dirs->mounted_oci) {
        if (umount2(dirs->oci, 0) < 0 && umount2(dirs->oci, MNT_DETACH) < 0 && rc == 0)
            rc = cell_err_set(err, errno, "unmount %s", dirs->oci);
        else
            dirs->mounted_oci = false;
    }
    if (dirs->oci[0] && rmdir(dirs->oci) < 0 && errno != ENOENT && rc == 0)
        rc = cell_err_set(err, errno, "remove %s", dirs->oci);
    return rc;
}
