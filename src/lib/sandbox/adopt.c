/* adopt.c - a detached cell outlives its supervisor. What a new supervisor
 * needs to take a running cell over is saved as JSON (cell_instance_save):
 * the init's pid and start time, and the cell's cgroup paths. Adoption opens
 * a pidfd for that pid, checks that the process still started at the saved
 * time (a reused pid is another process), and takes back, with
 * pidfd_getfd(), the end of the status socket the init holds for exactly
 * this (CELL_STATUS_HOLD_FD); the supervisor takes its own held fds the same
 * way (cell_instance_take_fd). A cell that ended meanwhile is discarded:
 * whatever is left in its cgroups is killed and the cgroups removed. */
#include "sandbox/sandbox.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* /proc/PID/stat's starttime (field 22): clock ticks after boot. */
static int process_start_time(pid_t pid, char *out, size_t len)
{
    char path[64], stat[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    if (read_file_at(AT_FDCWD, path, stat, sizeof stat) <= 0)
        return -1;
    char *p = strrchr(stat, ')'); /* the command may hold spaces and parentheses */
    if (p == NULL)
        return -1;
    /* after ") ": state is field 3, starttime field 22 */
    for (int field = 2; field < 22 && p; field++)
        p = strchr(p + 1, ' ');
    if (p == NULL)
        return -1;
    size_t n = strcspn(p + 1, " \n");
    if (n == 0 || n >= len)
        return -1;
    memcpy(out, p + 1, n);
    out[n] = '\0';
    return 0;
}

bool cell_instance_saved_alive(json_t *saved)
{
    pid_t pid = (pid_t)json_integer_value(json_object_get(saved, "pid"));
    const char *start = json_string_value(json_object_get(saved, "start_time"));
    char now[32], path[64], stat[1024];
    if (pid <= 0 || start == NULL || process_start_time(pid, now, sizeof now) < 0 || strcmp(now, start) != 0)
        return false;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    char *p = read_file_at(AT_FDCWD, path, stat, sizeof stat) > 0 ? strrchr(stat, ')') : NULL;
    return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X'; /* exited, not reaped yet: gone */
}

/* A saved path, or "" when there is none or it does not fit (never a cut
 * path: it may be removed). */
static void set_path(char *dst, size_t len, json_t *value)
{
    const char *s = json_string_value(value);
    if (s == NULL || snprintf(dst, len, "%s", s) >= (int)len)
        dst[0] = '\0';
}

/* The cgroup paths of a saved instance; true when it has any. */
static bool cgroup_from_saved(json_t *saved, struct cell_cgroup *cg)
{
    memset(cg, 0, sizeof *cg);
    cg->v2_fd = -1;
    json_t *o = json_object_get(saved, "cgroup");
    if (!json_is_object(o))
        return false;
    set_path(cg->name, sizeof cg->name, json_object_get(o, "name"));
    set_path(cg->v2_path, sizeof cg->v2_path, json_object_get(o, "v2"));
    set_path(cg->v2_shared_parent, sizeof cg->v2_shared_parent, json_object_get(o, "v2_shared_parent"));
    json_t *v1 = json_object_get(o, "v1");
    for (int i = 0; i < CGROUP_V1_COUNT; i++)
        set_path(cg->v1_path[i], sizeof cg->v1_path[i], json_array_get(v1, (size_t)i));
    cg->memory_limit = (uint64_t)json_integer_value(json_object_get(o, "memory_limit"));
    /* only cell cgroups: a damaged state file must not make us remove
     * others. Ours are named cell.*, or (an OCI bundle's cgroupsPath) by the
     * saved name, in the host's cgroupfs */
    bool any = false;
    char *paths[1 + CGROUP_V1_COUNT] = {cg->v2_path};
    for (int i = 0; i < CGROUP_V1_COUNT; i++)
        paths[1 + i] = cg->v1_path[i];
    for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
        const char *base = strrchr(paths[i], '/');
        bool named =
            base && cg->name[0] && strcmp(base + 1, cg->name) == 0 && strncmp(paths[i], "/sys/fs/cgroup/", 15) == 0;
        if (paths[i][0] && (base == NULL || !(strncmp(base + 1, "cell.", 5) == 0 || named) || strstr(paths[i], "/..")))
            paths[i][0] = '\0';
        any |= paths[i][0] != '\0';
    }
    const char *base = strrchr(cg->v2_shared_parent, '/');
    if (base == NULL || strcmp(base, "/cell") != 0)
        cg->v2_shared_parent[0] = '\0';
    if (cg->v2_path[0])
        cg->v2_fd = open(cg->v2_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    return any;
}

/* The cgroups of a saved instance, for the calls below; -1 with err when
 * it has none. done_with() closes what cgroup_from_saved opened. */
static int saved_cgroup(json_t *saved, struct cell_cgroup *cg, struct cell_err *err)
{
    if (!cgroup_from_saved(saved, cg))
        return cell_err_set(err, 0, "the cell has no cgroups");
    return 0;
}

static int done_with(struct cell_cgroup *cg, int rc)
{
    if (cg->v2_fd >= 0)
        close(cg->v2_fd);
    return rc;
}

int cell_instance_saved_update(json_t *saved, const struct cell_limits *limits, struct cell_err *err)
{
    struct cell_cgroup cg;
    return saved_cgroup(saved, &cg, err) < 0 ? -1 : done_with(&cg, cgroup_update_limits(&cg, limits, err));
}

/* A cell without cgroups (rootless): its init stands for all of it. */
int cell_instance_saved_signal_all(json_t *saved, int sig, struct cell_err *err)
{
    struct cell_cgroup cg;
    if (!cgroup_from_saved(saved, &cg)) {
        pid_t init = (pid_t)json_integer_value(json_object_get(saved, "pid"));
        return kill(init, sig) < 0 ? cell_err_set(err, errno, "signal %d to pid %d", sig, (int)init) : 0;
    }
    return done_with(&cg, cgroup_signal_all(&cg, sig, err));
}

int cell_instance_saved_procs(json_t *saved, pid_t *pids, size_t max, size_t *n, struct cell_err *err)
{
    struct cell_cgroup cg;
    *n = 0;
    if (!cgroup_from_saved(saved, &cg)) {
        if (max > 0)
            pids[(*n)++] = (pid_t)json_integer_value(json_object_get(saved, "pid"));
        return 0;
    }
    return done_with(&cg, cgroup_procs(&cg, pids, max, n, err));
}

int cell_instance_saved_freeze(json_t *saved, bool frozen, struct cell_err *err)
{
    struct cell_cgroup cg;
    return saved_cgroup(saved, &cg, err) < 0 ? -1 : done_with(&cg, cgroup_freeze(&cg, frozen, err));
}

bool cell_instance_saved_frozen(json_t *saved)
{
    struct cell_cgroup cg;
    struct cell_err ignored;
    return saved_cgroup(saved, &cg, &ignored) == 0 && done_with(&cg, cgroup_frozen(&cg));
}

json_t *cell_instance_save(const struct cell_instance *inst)
{
    char start[32] = "";
    (void)process_start_time(inst->init_pid, start, sizeof start);
    json_t *o = json_object();
    json_object_set_new(o, "pid", json_integer(inst->init_pid));
    json_object_set_new(o, "start_time", json_string(start));
    json_object_set_new(o, "generation", json_integer(inst->generation));
    if (inst->have_cgroup) {
        const struct cell_cgroup *cg = &inst->cg;
        json_t *c = json_object(), *v1 = json_array();
        json_object_set_new(c, "name", json_string(cg->name));
        json_object_set_new(c, "v2", json_string(cg->v2_path));
        json_object_set_new(c, "v2_shared_parent", json_string(cg->v2_shared_parent));
        for (int i = 0; i < CGROUP_V1_COUNT; i++)
            json_array_append_new(v1, json_string(cg->v1_path[i]));
        json_object_set_new(c, "v1", v1);
        json_object_set_new(c, "memory_limit", json_integer((json_int_t)cg->memory_limit));
        json_object_set_new(o, "cgroup", c);
    }
    return o;
}

/* status_fd: the status socket, or -1 to take it from the init; ended_too:
 * an init that has exited (not yet reaped) is taken too. */
static int adopt(const struct cell_spec *spec, json_t *saved, int status_fd, bool ended_too, struct cell_instance **out,
                 struct cell_err *err)
{
    *out = NULL;
    json_int_t pid = json_integer_value(json_object_get(saved, "pid"));
    const char *start = json_string_value(json_object_get(saved, "start_time"));
    if (pid <= 0 || pid > INT32_MAX || start == NULL)
        return cell_err_set(err, EINVAL, "cell %s: adopt: the saved state names no process", spec->name);
    int pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
    if (pidfd < 0)
        return cell_err_set(err, ESRCH, "cell %s: adopt: its init (pid %d) has ended", spec->name, (int)pid);
    fcntl(pidfd, F_SETFD, FD_CLOEXEC);
    char now[32];
    struct pollfd ended = {.fd = pidfd, .events = POLLIN};
    if (process_start_time((pid_t)pid, now, sizeof now) < 0 || strcmp(now, start) != 0 ||
        (!ended_too && poll(&ended, 1, 0) != 0)) {
        close(pidfd);
        return cell_err_set(err, ESRCH, "cell %s: adopt: its init (pid %d) has ended", spec->name, (int)pid);
    }
    struct cell_start_opts opts = {.detached = true,
                                   .stdio = {-1, -1, -1},
                                   .generation = (unsigned)json_integer_value(json_object_get(saved, "generation"))};
    struct cell_instance *ps = sandbox_instance_new(spec, &opts);
    if (ps == NULL) {
        close(pidfd);
        return cell_err_set(err, ENOMEM, "cell %s: adopt", spec->name);
    }
    ps->adopted = true;
    ps->pidfd = pidfd;
    ps->init_pid = (pid_t)pid;
    /* -1 when the init holds none: its status is then unknown (SIGKILL) */
    ps->go_write = status_fd >= 0 ? status_fd : (int)syscall(SYS_pidfd_getfd, pidfd, CELL_STATUS_HOLD_FD, 0);
    ps->have_cgroup = cgroup_from_saved(saved, &ps->cg);
    *out = ps;
    return 0;
}

int cell_instance_adopt(const struct cell_spec *spec, json_t *saved, struct cell_instance **out, struct cell_err *err)
{
    return adopt(spec, saved, -1, false, out, err);
}

int cell_instance_adopt_handed(const struct cell_spec *spec, json_t *saved, int status_fd, struct cell_instance **out,
                               struct cell_err *err)
{
    int rc = adopt(spec, saved, status_fd, true, out, err);
    if (rc < 0)
        close(status_fd);
    return rc;
}

void cell_instance_discard(json_t *saved)
{
    struct cell_cgroup cg;
    struct cell_err err;
    /* the init, if it is still the saved process (a cell without cgroups) */
    json_int_t pid = json_integer_value(json_object_get(saved, "pid"));
    const char *start = json_string_value(json_object_get(saved, "start_time"));
    char now[32];
    int pidfd = pid > 0 && pid <= INT32_MAX ? (int)syscall(SYS_pidfd_open, (pid_t)pid, 0) : -1;
    if (pidfd >= 0) {
        if (start && process_start_time((pid_t)pid, now, sizeof now) == 0 && strcmp(now, start) == 0)
            syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
        close(pidfd);
    }
    if (!cgroup_from_saved(saved, &cg))
        return;
    cgroup_kill_all(&cg);
    if (cgroup_destroy(&cg, &err) < 0)
        cell_log(CELL_LOG_WARN, "cell: warning: %s", err.msg);
}

int cell_instance_take_fd(const struct cell_instance *inst, int n, struct cell_err *err)
{
    int fd = (int)syscall(SYS_pidfd_getfd, inst->pidfd, n, 0);
    if (fd < 0)
        return cell_err_set(err, errno, "take fd %d of the cell's init (pid %d)", n, (int)inst->init_pid);
    return fd;
}

int cell_instance_hand_over(struct cell_instance *inst)
{
    int status_fd = inst->go_write;
    inst->go_write = -1;
    int *fds[] = {&inst->report_read, &inst->pidfd, &inst->cg.v2_fd,   &inst->sb.go_read,      &inst->sb.report_write,
                  &inst->timerfd,     &inst->sigfd, &inst->tty.master, &inst->tty.parent_sock, &inst->tty.child_sock};
    for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
        if (*fds[i] >= 0) {
            close(*fds[i]);
            *fds[i] = -1;
        }
    free(inst);
    return status_fd;
}
