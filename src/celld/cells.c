/* cells.c - the cells celld supervises and their state machine. Each cell is
 * in one state; each event (a start or stop request, the cell's exit, its
 * timer) has one handler per state in `transitions`, so what celld does is
 * read off one table, as in s6-supervise:
 *
 *              START        STOP              EXIT               TIMER
 *   running    (nothing)    SIGTERM, arm      restart/backoff/   -
 *                           stop timer ->     exited/failed
 *                           stopping
 *   stopping   (nothing)    (nothing)         -> exited          SIGKILL all
 *   backoff    start now    -> exited         -                  start
 *   exited     start        (nothing)         -                  -
 *   failed     start        (nothing)         -                  -
 *
 *   waiting    start        -> exited         -                  -
 *   (--listen: started by the first connection to its socket, a START)
 *
 * EXPIRE (the --ttl lifetime, counted from `cell run -d` or `cell start`)
 * is a STOP after which the cell is not restarted.
 *
 * Restart policy: a cell that was up at least stable_after is started again
 * at once; one that died sooner waits delay_ms, which doubles up to
 * restart_max_delay and starts over after reset_after of uptime. crash_limit
 * exits within crash_window make it `failed` until `cell start`. */
#include "celld.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <unistd.h>

typedef void (*handler)(struct cell *c);

static void health_arm(struct cell *c, bool on);
static void health_cancel(struct cell *c);
static const char *health_name(const struct cell *c);
static int health_status(const struct cell *c);

static const char *const state_names[ST_COUNT] = {
    [ST_RUNNING] = "running", [ST_STOPPING] = "stopping", [ST_BACKOFF] = "backoff",
    [ST_EXITED] = "exited",   [ST_FAILED] = "failed",     [ST_WAITING] = "waiting",
};

/* --listen: celld watches the socket only while nothing runs to accept. */
static void watch_activation(struct cell *c, bool on)
{
    if (c->listen_fd < 0 || c->activate_watched == on)
        return;
    if (on)
        watch_add(c->listen_fd, &c->activate_watch);
    else
        watch_del(c->listen_fd);
    c->activate_watched = on;
}

/* Bind and listen on the cell's socket, before the cell exists: a client's
 * connect() succeeds at once and waits in the backlog. */
static int set_listen_path(struct cell *c, struct cell_err *err)
{
    if (c->spec.supervise.listen_path) {
        snprintf(c->listen_path, sizeof c->listen_path, "%s", c->spec.supervise.listen_path);
        return 0;
    }
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/sockets", celld.paths.run);
    if (cell_mkdirs(dir, 0755, err) < 0)
        return -1;
    snprintf(c->listen_path, sizeof c->listen_path, "%s/%s.sock", dir, c->name);
    return 0;
}

static int open_listen_socket(struct cell *c, struct cell_err *err)
{
    c->listen_fd = -1;
    if (!c->spec.supervise.listen)
        return 0;
    if (set_listen_path(c, err) < 0)
        return -1;
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    if (strlen(c->listen_path) >= sizeof sun.sun_path)
        return cell_err_set(err, ENAMETOOLONG, "cell %s: --listen socket %s", c->name, c->listen_path);
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", c->listen_path);
    unlink(c->listen_path);
    /* seqpacket: what cell_listen (cell/ipc.h) takes; stream otherwise */
    int type = c->spec.supervise.listen_seqpacket ? SOCK_SEQPACKET : SOCK_STREAM;
    c->listen_fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
    if (c->listen_fd < 0 || bind(c->listen_fd, (struct sockaddr *)&sun, sizeof sun) < 0 ||
        chmod(c->listen_path, 0666) < 0 || listen(c->listen_fd, 128) < 0) {
        cell_err_set(err, errno, "cell %s: listen on %s", c->name, c->listen_path);
        if (c->listen_fd >= 0)
            close(c->listen_fd);
        c->listen_fd = -1;
        return -1;
    }
    c->activate_watch = (struct watch){.kind = W_ACTIVATE, .owner = c};
    return 0;
}

static void close_listen_socket(struct cell *c)
{
    if (c->listen_fd < 0)
        return;
    watch_activation(c, false);
    close(c->listen_fd);
    unlink(c->listen_path);
    c->listen_fd = -1;
}

const char *cell_state_name(enum cell_state s)
{
    return (unsigned)s < ST_COUNT ? state_names[s] : "?";
}

struct cell *cell_find(const char *name)
{
    for (struct cell *c = celld.cells; c; c = c->next)
        if (!c->dead && strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

/* A cell's timerfd, watched as `kind`; -1 on failure. */
static int timer_open(struct cell *c, struct watch *w, enum watch_kind kind)
{
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    *w = (struct watch){.kind = kind, .owner = c};
    if (fd >= 0 && watch_add(fd, w) < 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

static struct timespec ms_timespec(unsigned ms)
{
    return (struct timespec){.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
}

/* Fire after `ms` (0: at once), then every `every_ms` (0: once). */
static void timer_arm(int fd, unsigned ms, unsigned every_ms)
{
    struct itimerspec its = {.it_value = ms_timespec(ms), .it_interval = ms_timespec(every_ms)};
    if (ms == 0)
        its.it_value.tv_nsec = 1; /* 0 would disarm */
    timerfd_settime(fd, 0, &its, NULL);
}

static void timer_disarm(int fd)
{
    struct itimerspec its = {0};
    timerfd_settime(fd, 0, &its, NULL);
}

static void arm_timer(struct cell *c, unsigned ms)
{
    timer_arm(c->timerfd, ms, 0);
}

static void disarm_timer(struct cell *c)
{
    timer_disarm(c->timerfd);
}

/* A lifetime starts at the cell's declaration and at each `cell start`. */
static void start_lifetime(struct cell *c)
{
    c->expired = false;
    c->ttl_deadline_ms = c->spec.supervise.ttl_ms ? now_ms() + c->spec.supervise.ttl_ms : 0;
    if (c->spec.supervise.ttl_ms)
        timer_arm(c->ttl_timerfd, c->spec.supervise.ttl_ms, 0);
    else
        timer_disarm(c->ttl_timerfd);
}

static void answer_waiters(struct cell *c)
{
    for (int i = 0; i < CELL_MAX_WAITERS; i++)
        if (c->waiters[i]) {
            answer_cell(c->waiters[i], c);
            c->waiters[i] = NULL;
        }
}

static void set_state_quietly(struct cell *c, enum cell_state s)
{
    cell_log(CELL_LOG_DEBUG, "celld: cell %s: %s -> %s", c->name, cell_state_name(c->state), cell_state_name(s));
    if (s != ST_RUNNING && c->state == ST_RUNNING)
        health_arm(c, false);
    c->state = s;
    state_sync(c);
}

static void set_state(struct cell *c, enum cell_state s)
{
    set_state_quietly(c, s);
    if (s == ST_EXITED || s == ST_FAILED)
        answer_waiters(c);
}

static void retire_finish(struct cell *c);
static void retire_begin(struct cell *c);
static void swap_undo(struct cell *c);

/* Free a stopped cell's resources and hand it to the graveyard. */
void cell_remove(struct cell *c)
{
    struct cell **pp = &celld.cells;
    while (*pp != c)
        pp = &(*pp)->next;
    *pp = c->next;
    if (!celld.shutting_down) /* `cell down` stops cells; only rm ends them */
        state_forget(c);
    if (!c->replacing) /* a new declaration is "redeclared", not an end */
        events_emit(c, "removed", NULL);
    if (c->retiring) { /* mid-swap: the old instance goes too */
        cell_instance_kill(c->retiring);
        retire_finish(c);
    }
    if (c->retire_timerfd > 0) {
        watch_del(c->retire_timerfd);
        close(c->retire_timerfd);
    }
    for (int i = 0; i < 2; i++)
        if (c->notify_pipe[i] >= 0) {
            if (i == 0)
                watch_del(c->notify_pipe[0]);
            close(c->notify_pipe[i]);
            c->notify_pipe[i] = -1;
        }
    health_cancel(c);
    if (c->health_timerfd > 0) {
        watch_del(c->health_timerfd);
        close(c->health_timerfd);
    }
    logs_close(c);
    c->dead = true;
    close_listen_socket(c);
    watch_del(c->timerfd);
    close(c->timerfd);
    watch_del(c->ttl_timerfd);
    close(c->ttl_timerfd);
    c->next = celld.dead_cells;
    celld.dead_cells = c;
}

void cells_free_dead(void)
{
    while (celld.dead_cells) {
        struct cell *c = celld.dead_cells;
        celld.dead_cells = c->next;
        cell_spec_free(&c->spec);
        json_decref(c->args);
        free(c->name);
        free(c);
    }
}

/* A new instance of the cell, on the pipes and socket celld holds for it.
 * Without --notify an instance is ready once it has exec'd. */
static int launch(struct cell *c, unsigned generation, struct cell_instance **out, struct cell_err *err)
{
    /* detached: the cell outlives celld, whose next run takes it over; its
     * init holds the log pipes' read ends meanwhile, so nothing written is
     * lost (see state.c) */
    struct cell_start_opts opts = {.detached = true,
                                   .stdio = {-1, c->log_pipe[0][1], c->log_pipe[1][1]},
                                   .listen_fd = c->listen_fd,
                                   .notify_fd = c->notify_pipe[1],
                                   .generation = generation,
                                   .held_fds = {c->log_pipe[0][0], c->log_pipe[1][0]},
                                   .init_exec_fd = celld.cell_init_fd};
    c->ready = c->notify_pipe[1] < 0;
    c->started_ms = now_ms();
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    c->started_wall_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    int rc = spawner_launch(c, &opts, out, err);
    if (rc <= 0)
        return rc;
    return cell_start(&c->spec, &opts, out, err);
}

/* Reap an instance that ended (cell_instance_finish), counting its OOM kills
 * first: its cgroup, which holds the count, goes with it. */
static void finish_instance(struct cell *c, struct cell_instance *inst, struct cell_result *r)
{
    struct cell_usage u;
    cell_instance_usage(inst, &u);
    c->oom_kills += u.oom_kills;
    cell_instance_finish(inst, r);
}

/* The instance just launched is the cell's: watch it, say so. */
static void now_running(struct cell *c)
{
    c->pidfd_watch = (struct watch){.kind = W_PIDFD, .owner = c};
    watch_add(cell_instance_pidfd(c->inst), &c->pidfd_watch);
    set_state(c, ST_RUNNING);
    health_arm(c, true);
    events_emit(c, "started", event_data_pid(cell_instance_pid(c->inst)));
}

/* Start an instance; on failure the cell counts as having exited 125. */
static void do_start(struct cell *c)
{
    disarm_timer(c);
    watch_activation(c, false); /* the cell accepts from now on */
    struct cell_err err = {0};
    if ((c->listen_fd < 0 && open_listen_socket(c, &err) < 0) || launch(c, c->generation, &c->inst, &err) < 0) {
        snprintf(c->last_error, sizeof c->last_error, "%s", err.msg);
        cell_log(CELL_LOG_WARN, "celld: %s", err.msg);
        c->inst = NULL;
        c->last_exit_code = CELL_EXIT_SETUP;
        c->state = ST_RUNNING; /* and it ended at once */
        cell_event(c, EV_EXIT);
        return;
    }
    c->last_error[0] = '\0';
    now_running(c);
}

/* Reap the instance that ended; record the exit. */
static void collect_exit(struct cell *c)
{
    if (c->inst) {
        pid_t pid = cell_instance_pid(c->inst);
        watch_del(cell_instance_pidfd(c->inst));
        struct cell_result r;
        finish_instance(c, c->inst, &r);
        c->inst = NULL;
        c->last_exit_code = r.exit_code;
        json_t *d = event_data_pid(pid);
        json_object_set_new(d, "exit_code", json_integer(r.exit_code));
        if (r.term_signal)
            json_object_set_new(d, "signal", json_integer(r.term_signal));
        if (r.oom_killed)
            json_object_set_new(d, "oom_killed", json_true());
        events_emit(c, "exited", d);
    }
    c->exits_ms[c->nexits++ % CELL_EXIT_HISTORY] = now_ms();
}

static bool crash_looping(const struct cell *c)
{
    const struct cell_supervision *s = &c->spec.supervise;
    uint64_t now = now_ms();
    unsigned recent = 0;
    unsigned n = c->nexits < CELL_EXIT_HISTORY ? c->nexits : CELL_EXIT_HISTORY;
    for (unsigned i = 0; i < n; i++)
        if (now - c->exits_ms[i] <= s->crash_window_ms)
            recent++;
    return recent >= s->crash_limit;
}

/* The cell has stopped: remove it, start it again, or leave it exited; then
 * answer whoever waited for this. */
static void stopped(struct cell *c)
{
    set_state_quietly(c, ST_EXITED);
    events_emit(c, "stopped", NULL);
    if (c->restarting && !c->removing && !celld.shutting_down) {
        c->restarting = false;
        c->delay_ms = c->spec.supervise.restart_delay_ms;
        do_start(c);
    }
    if (c->removing) /* gone (its socket too) by the time a waiter hears of it */
        cell_remove(c);
    answer_waiters(c);
}

/* running + EXIT: restart now, later, or not at all. */
static void on_exit_running(struct cell *c)
{
    const struct cell_supervision *s = &c->spec.supervise;
    uint64_t uptime = now_ms() - c->started_ms;
    collect_exit(c);
    if (c->retiring && c->swap_waiting_ready) {
        swap_undo(c);
        return;
    }
    if (c->ready_waiter) {
        client_answer(c->ready_waiter, answer_error("cell %s: exited (%d) before it was ready (see cell logs %s)",
                                                    c->name, c->last_exit_code, c->name));
        c->ready_waiter = NULL;
    }
    bool again = s->restart == CELL_RESTART_ALWAYS || (s->restart == CELL_RESTART_ON_FAILURE && c->last_exit_code != 0);
    if (!again || celld.shutting_down || c->expired) {
        if (c->listen_fd >= 0 && !celld.shutting_down && !c->expired) {
            /* a cell that exits without taking the waiting connection would
             * be started again at once, for ever: the crash limit holds here too */
            if (crash_looping(c)) {
                cell_log(CELL_LOG_WARN,
                         "celld: cell %s: %u exits within %u ms while connections wait on its --listen socket: "
                         "failed (cell start %s to retry)",
                         c->name, s->crash_limit, s->crash_window_ms, c->name);
                set_state(c, ST_FAILED);
                return;
            }
            set_state(c, ST_WAITING); /* the next connection starts it again */
            watch_activation(c, true);
            return;
        }
        stopped(c);
        return;
    }
    if (crash_looping(c)) {
        cell_log(CELL_LOG_WARN, "celld: cell %s: %u exits within %u ms: failed (cell start %s to retry)", c->name,
                 s->crash_limit, s->crash_window_ms, c->name);
        set_state(c, ST_FAILED);
        return;
    }
    c->restarts++;
    json_t *d = json_object();
    json_object_set_new(d, "restarts", json_integer(c->restarts));
    events_emit(c, "restarting", d);
    if (uptime >= s->reset_after_ms)
        c->delay_ms = s->restart_delay_ms;
    if (uptime >= s->stable_after_ms) {
        do_start(c);
        return;
    }
    set_state(c, ST_BACKOFF);
    arm_timer(c, c->delay_ms);
    unsigned next = c->delay_ms * 2;
    c->delay_ms = next > s->restart_max_delay_ms ? s->restart_max_delay_ms : next;
}

/* running + STOP: SIGTERM, then SIGKILL after the stop timeout. */
static void on_stop_running(struct cell *c)
{
    if (c->retiring)
        cell_instance_signal(c->retiring, SIGTERM);
    cell_instance_signal(c->inst, SIGTERM);
    arm_timer(c, c->spec.supervise.stop_timeout_ms);
    set_state(c, ST_STOPPING);
}

static void on_exit_stopping(struct cell *c)
{
    disarm_timer(c);
    collect_exit(c);
    stopped(c);
}

static void on_timer_stopping(struct cell *c)
{
    cell_log(CELL_LOG_INFO, "celld: cell %s: not stopped after %u ms: killing it", c->name,
             c->spec.supervise.stop_timeout_ms);
    cell_instance_kill(c->inst);
}

static void on_stop_idle(struct cell *c)
{
    disarm_timer(c);
    watch_activation(c, false);
    stopped(c);
}

/* EXPIRE: the lifetime is over; stop, and do not come back. */
static void on_expire(struct cell *c)
{
    cell_log(CELL_LOG_INFO, "celld: cell %s: its --ttl of %u ms is over: stopping it", c->name,
             c->spec.supervise.ttl_ms);
    c->expired = true;
    c->restarting = false;
    cell_event(c, EV_STOP);
}

static void on_start_idle(struct cell *c)
{
    start_lifetime(c);
    c->nexits = 0; /* a fresh start forgets the crash loop */
    c->delay_ms = c->spec.supervise.restart_delay_ms;
    do_start(c);
}

static void ignore(struct cell *c)
{
    (void)c;
}

static const handler transitions[ST_COUNT][EV_COUNT] = {
    [ST_RUNNING] =
        {[EV_START] = ignore, [EV_STOP] = on_stop_running, [EV_EXIT] = on_exit_running, [EV_EXPIRE] = on_expire},
    [ST_STOPPING] = {[EV_START] = ignore,
                     [EV_STOP] = ignore,
                     [EV_EXIT] = on_exit_stopping,
                     [EV_TIMER] = on_timer_stopping,
                     [EV_EXPIRE] = ignore},
    [ST_BACKOFF] = {[EV_START] = do_start, [EV_STOP] = on_stop_idle, [EV_TIMER] = do_start, [EV_EXPIRE] = on_expire},
    [ST_EXITED] = {[EV_START] = on_start_idle, [EV_STOP] = on_stop_idle},
    [ST_FAILED] = {[EV_START] = on_start_idle, [EV_STOP] = on_stop_idle},
    [ST_WAITING] = {[EV_START] = do_start, [EV_STOP] = on_stop_idle, [EV_EXPIRE] = on_expire},
};

void cell_event(struct cell *c, enum cell_event ev)
{
    if (c->dead)
        return;
    if (ev == EV_TIMER || ev == EV_EXPIRE) { /* consume the expiry */
        uint64_t n;
        (void)!read(ev == EV_TIMER ? c->timerfd : c->ttl_timerfd, &n, sizeof n);
    }
    handler h = transitions[c->state][ev];
    if (h)
        h(c);
}

int cell_spec_from_declaration(json_t *args, struct cell_spec *spec, struct cell_err *err)
{
    size_t n = json_array_size(args);
    cell_spec_init(spec);
    if (n == 0 || n > 4096)
        return cell_err_set(err, 0, "run: the request has no arguments");
    char **argv = calloc(n + 2, sizeof *argv);
    if (argv == NULL)
        return cell_err_set(err, ENOMEM, "run");
    argv[0] = "run";
    for (size_t i = 0; i < n; i++)
        if ((argv[i + 1] = (char *)json_string_value(json_array_get(args, i))) == NULL) {
            free(argv);
            return cell_err_set(err, 0, "run: argument %zu is not a string", i);
        }
    int first = cell_spec_from_args((int)n + 1, argv, spec, err);
    if (first == 0)
        cell_err_set(err, 0, "run: --help is for the command line");
    int rc =
        first <= 0 || cell_spec_set_argv(spec, argv + first, err) < 0 || cell_spec_validate(spec, err) < 0 ? -1 : 0;
    free(argv);
    if (rc == 0 && !spec->supervise.detach)
        rc = cell_err_set(err, 0, "run: celld runs supervised cells only (-d)");
    if (rc < 0) {
        cell_spec_free(spec);
        return -1;
    }
    /* celld raised its own open-files limit; a cell gets the one it was given */
    struct cell_rlimit *nofile = &spec->rlimits[CELL_RLIMIT_NOFILE];
    if (!nofile->set && celld.nofile.rlim_max)
        *nofile =
            (struct cell_rlimit){.set = true,
                                 .soft = celld.nofile.rlim_cur == RLIM_INFINITY ? UINT64_MAX : celld.nofile.rlim_cur,
                                 .hard = celld.nofile.rlim_max == RLIM_INFINITY ? UINT64_MAX : celld.nofile.rlim_max};
    return 0;
}

int cell_declare(json_t *args, bool save, struct cell **out, struct cell_err *err)
{
    struct cell *c = calloc(1, sizeof *c);
    if (c == NULL)
        return cell_err_set(err, ENOMEM, "run");
    c->listen_fd = -1;
    c->notify_pipe[0] = c->notify_pipe[1] = -1;
    if (cell_spec_from_declaration(args, &c->spec, err) < 0) {
        free(c);
        return -1;
    }
    if (cell_find(c->spec.name)) {
        cell_err_set(err, 0, "cell %s: already exists (cell rm %s, or another --name)", c->spec.name, c->spec.name);
        goto fail;
    }
    c->name = strdup(c->spec.name);
    c->args = json_incref(args);
    c->state = ST_EXITED;
    c->delay_ms = c->spec.supervise.restart_delay_ms;
    c->timerfd = timer_open(c, &c->timer_watch, W_TIMER);
    c->ttl_timerfd = timer_open(c, &c->ttl_watch, W_TTL);
    if (c->name == NULL || c->timerfd < 0 || c->ttl_timerfd < 0) {
        cell_err_set(err, errno, "cell %s: timer", c->spec.name);
        watch_del(c->timerfd);
        goto fail;
    }
    if (logs_open(c, err) < 0) {
        watch_del(c->timerfd);
        watch_del(c->ttl_timerfd);
        goto fail;
    }
    if (c->spec.supervise.notify) {
        if (pipe2(c->notify_pipe, O_CLOEXEC) < 0) {
            cell_err_set(err, errno, "cell %s: notify pipe", c->name);
            logs_close(c);
            watch_del(c->timerfd);
            watch_del(c->ttl_timerfd);
            goto fail;
        }
        fcntl(c->notify_pipe[0], F_SETFL, O_NONBLOCK);
        c->notify_watch = (struct watch){.kind = W_NOTIFY, .owner = c};
        watch_add(c->notify_pipe[0], &c->notify_watch);
    }
    c->next = celld.cells;
    celld.cells = c;
    if (save)
        state_save_declaration(c);
    *out = c;
    return 0;
fail:
    if (c->timerfd > 0)
        close(c->timerfd);
    if (c->ttl_timerfd > 0)
        close(c->ttl_timerfd);
    free(c->name);
    json_decref(c->args);
    cell_spec_free(&c->spec);
    free(c);
    return -1;
}

json_t *cell_status_json(const struct cell *c)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(c->name));
    /* running but not ready yet (--notify): shown as starting */
    bool starting = c->state == ST_RUNNING && c->inst && !c->ready;
    json_object_set_new(o, "state", json_string(starting ? "starting" : cell_state_name(c->state)));
    json_object_set_new(o, "pid", json_integer(c->inst ? cell_instance_pid(c->inst) : 0));
    json_object_set_new(o, "restarts", json_integer(c->restarts));
    bool up = c->state == ST_RUNNING || c->state == ST_STOPPING;
    json_object_set_new(o, "uptime_ms", json_integer(up ? (json_int_t)(now_ms() - c->started_ms) : 0));
    /* for the metrics (cell/metrics.h): running as a number, the start on
     * the wall clock, health as a number, OOM kills over every instance */
    json_object_set_new(o, "up", json_integer(c->state == ST_RUNNING));
    if (up)
        json_object_set_new(o, "start_time_ms", json_integer((json_int_t)c->started_wall_ms));
    json_object_set_new(o, "exit_code", c->nexits ? json_integer(c->last_exit_code) : json_null());
    json_object_set_new(o, "restart", json_string(cell_restart_label(c->spec.supervise.restart)));
    json_object_set_new(o, "expired", json_boolean(c->expired));
    json_object_set_new(o, "swaps", json_integer(c->swaps));
    json_object_set_new(o, "health", json_string(health_name(c)));
    if (c->spec.supervise.health)
        json_object_set_new(o, "health_status", json_integer(health_status(c)));
    json_object_set_new(o, "ready", json_boolean(c->inst != NULL && c->ready));
    struct cell_usage u = {0};
    if (c->inst && cell_instance_usage(c->inst, &u) == 0) {
        json_object_set_new(o, "cpu_usec", json_integer((json_int_t)u.cpu_usec));
        json_object_set_new(o, "memory_bytes", json_integer((json_int_t)u.memory_bytes));
        json_object_set_new(o, "procs", json_integer(u.procs));
    }
    json_object_set_new(o, "oom_kills", json_integer((json_int_t)(c->oom_kills + u.oom_kills)));
    json_object_set(o, "args", c->args); /* what it was declared with (cell exec uses it) */
    if (c->listen_fd >= 0)
        json_object_set_new(o, "listen", json_string(c->listen_path));
    if (c->last_error[0])
        json_object_set_new(o, "error", json_string(c->last_error));
    return o;
}

bool cell_wait_stopped(struct cell *c, struct client *cl)
{
    if (c->state == ST_EXITED || c->state == ST_FAILED)
        return false;
    for (int i = 0; i < CELL_MAX_WAITERS; i++)
        if (c->waiters[i] == NULL) {
            c->waiters[i] = cl;
            return true;
        }
    return false; /* too many waiters: answered at once */
}

void cells_forget_client(struct client *cl)
{
    for (struct cell *c = celld.cells; c; c = c->next) {
        for (int i = 0; i < CELL_MAX_WAITERS; i++)
            if (c->waiters[i] == cl)
                c->waiters[i] = NULL;
        if (c->swap_waiter == cl)
            c->swap_waiter = NULL;
        if (c->ready_waiter == cl)
            c->ready_waiter = NULL;
    }
    if (celld.down_waiter == cl)
        celld.down_waiter = NULL;
}

bool cells_all_stopped(void)
{
    return celld.cells == NULL;
}

int cell_first_start(struct cell *c, struct cell_err *err)
{
    if (open_listen_socket(c, err) < 0) {
        cell_remove(c);
        return -1;
    }
    if (c->listen_fd >= 0) { /* started by its first client */
        set_state(c, ST_WAITING);
        watch_activation(c, true);
        start_lifetime(c);
        return 0;
    }
    if (launch(c, c->generation, &c->inst, err) < 0) {
        c->inst = NULL;
        cell_remove(c);
        return -1;
    }
    start_lifetime(c);
    now_running(c);
    return 0;
}

/* ---- taken over from an earlier celld -------------------------------------
 * The running instance's pipes and socket are the ones its init holds: the
 * log pipes' read ends (held for this), its stdout and stderr (the write
 * ends), and its fd 3 (the --listen socket). */
static int take_instance_fds(struct cell *c, struct cell_err *err)
{
    int read_end[2] = {-1, -1}, write_end[2] = {-1, -1};
    for (int s = 0; s < 2; s++) {
        read_end[s] = cell_instance_take_fd(c->inst, CELL_HELD_FD(s), err);
        write_end[s] = cell_instance_take_fd(c->inst, 1 + s, err);
    }
    if (read_end[0] < 0 || read_end[1] < 0 || write_end[0] < 0 || write_end[1] < 0) {
        for (int s = 0; s < 2; s++) {
            if (read_end[s] >= 0)
                close(read_end[s]);
            if (write_end[s] >= 0)
                close(write_end[s]);
        }
        return -1;
    }
    logs_adopt(c, read_end, write_end);
    if (c->spec.supervise.listen) {
        if (set_listen_path(c, err) < 0)
            return -1;
        c->listen_fd = cell_instance_take_fd(c->inst, 3, err);
        c->activate_watch = (struct watch){.kind = W_ACTIVATE, .owner = c};
        if (c->listen_fd < 0)
            return -1;
    }
    return 0;
}

static void restore_lifetime(struct cell *c, json_t *rt)
{
    uint64_t deadline = (uint64_t)json_integer_value(json_object_get(rt, "ttl_deadline_ms"));
    c->ttl_deadline_ms = deadline;
    if (deadline == 0)
        return;
    uint64_t now = now_ms();
    timer_arm(c->ttl_timerfd, deadline > now ? (unsigned)(deadline - now) : 0, 0);
}

void cell_restore(struct cell *c, json_t *rt)
{
    struct cell_err err = {0};
    const char *state = json_string_value(json_object_get(rt, "state"));
    json_t *saved = json_object_get(rt, "instance"), *old = json_object_get(rt, "retiring");
    c->restoring = true;
    c->restarts = (unsigned)json_integer_value(json_object_get(rt, "restarts"));
    c->swaps = (unsigned)json_integer_value(json_object_get(rt, "swaps"));
    c->generation = (unsigned)json_integer_value(json_object_get(rt, "generation")) & 1;
    c->started_ms = (uint64_t)json_integer_value(json_object_get(rt, "started_ms"));
    c->started_wall_ms = (uint64_t)json_integer_value(json_object_get(rt, "started_wall_ms"));
    c->oom_kills = (uint64_t)json_integer_value(json_object_get(rt, "oom_kills"));
    c->removing = json_is_true(json_object_get(rt, "removing"));
    bool stopping = state && strcmp(state, "stopping") == 0;
    restore_lifetime(c, rt);
    if (json_is_object(old)) /* mid-swap: the old instance was on its way out */
        cell_instance_discard(old);
    if (json_is_object(saved) && cell_instance_adopt(&c->spec, saved, &c->inst, &err) == 0) {
        if (take_instance_fds(c, &err) < 0)
            cell_log(CELL_LOG_WARN, "celld: cell %s: warning: %s; its output from now on is lost", c->name, err.msg);
        c->ready = true;
        c->restoring = false;
        c->pidfd_watch = (struct watch){.kind = W_PIDFD, .owner = c};
        watch_add(cell_instance_pidfd(c->inst), &c->pidfd_watch);
        set_state(c, ST_RUNNING);
        health_arm(c, true);
        cell_log(CELL_LOG_INFO, "celld: cell %s: running as pid %d, taken over", c->name,
                 (int)cell_instance_pid(c->inst));
        events_emit(c, "adopted", event_data_pid(cell_instance_pid(c->inst)));
        if (stopping || c->removing)
            cell_event(c, EV_STOP);
        return;
    }
    c->inst = NULL;
    c->restoring = false;
    if (json_is_object(saved)) { /* it ended while no celld watched it */
        cell_instance_discard(saved);
        cell_log(CELL_LOG_INFO, "celld: cell %s: ended while celld was not running", c->name);
        json_t *d = json_object();
        json_object_set_new(d, "pid",
                            json_object_get(saved, "pid") ? json_incref(json_object_get(saved, "pid")) : json_null());
        json_object_set_new(d, "exit_code", json_null());
        events_emit(c, "exited", d);
        c->last_exit_code = -1; /* unknown: a failure for the restart policy */
        c->state = ST_RUNNING;
        if (stopping || c->removing) {
            collect_exit(c);
            stopped(c);
        } else {
            cell_event(c, EV_EXIT);
        }
        return;
    }
    if (state && strcmp(state, "waiting") == 0 && open_listen_socket(c, &err) == 0 && c->listen_fd >= 0) {
        set_state(c, ST_WAITING);
        watch_activation(c, true);
        return;
    }
    do_start(c); /* backoff, or a socket that could not be opened again */
}

unsigned cells_up(void)
{
    unsigned n = 0;
    for (struct cell *c = celld.cells; c; c = c->next) {
        if (c->dead || c->spec.supervise.no_autostart || (c->state != ST_EXITED && c->state != ST_FAILED))
            continue;
        cell_event(c, EV_START);
        n++;
    }
    return n;
}

/* delete: a stopped cell goes at once; a running one once it has stopped */
bool cell_delete(struct cell *c)
{
    c->removing = true;
    if (c->state == ST_EXITED || c->state == ST_FAILED) {
        cell_remove(c);
        return false;
    }
    cell_event(c, EV_STOP);
    return !c->dead;
}

/* ---- swap ------------------------------------------------------------------
 * Beside the state table: while running, a cell with a --listen socket can
 * get a second instance on the same socket. The new one becomes the cell's
 * instance at once (connections queue in the shared backlog until it
 * accepts); the old one, `retiring`, gets SIGTERM, and SIGKILL after the stop
 * timeout. The swap is answered when the old one is gone. */

static void retire_finish(struct cell *c)
{
    if (c->retiring == NULL)
        return;
    watch_del(cell_instance_pidfd(c->retiring));
    timer_disarm(c->retire_timerfd);
    struct cell_result r;
    finish_instance(c, c->retiring, &r);
    c->retiring = NULL;
    state_sync(c);
    if (c->swap_waiter) {
        answer_cell(c->swap_waiter, c);
        c->swap_waiter = NULL;
    }
}

void cell_retire_event(struct cell *c, bool timer)
{
    if (c->dead || c->retiring == NULL)
        return;
    if (timer) {
        uint64_t n;
        (void)!read(c->retire_timerfd, &n, sizeof n);
        cell_log(CELL_LOG_INFO, "celld: cell %s: the swapped-out instance did not stop: killing it", c->name);
        cell_instance_kill(c->retiring);
        return;
    }
    retire_finish(c);
}

int cell_swap(struct cell *c, struct client *waiter, struct cell_err *err)
{
    if (c->listen_fd < 0)
        return cell_err_set(err, 0, "cell %s: swap needs a --listen socket to hand over (use cell restart)", c->name);
    if (c->state != ST_RUNNING)
        return cell_err_set(err, 0, "cell %s: swap needs a running cell (it is %s)", c->name,
                            cell_state_name(c->state));
    if (c->retiring)
        return cell_err_set(err, 0, "cell %s: a swap is already in progress", c->name);
    if (c->retire_timerfd <= 0 && (c->retire_timerfd = timer_open(c, &c->retire_timer_watch, W_RETIRE_TIMER)) < 0)
        return cell_err_set(err, errno, "cell %s: swap timer", c->name);
    uint64_t old_start = c->started_ms, old_wall = c->started_wall_ms;
    bool old_ready = c->ready;
    struct cell_instance *fresh;
    if (launch(c, c->generation ^ 1, &fresh, err) < 0) {
        c->started_ms = old_start; /* the old instance keeps serving */
        c->started_wall_ms = old_wall;
        c->ready = old_ready;
        return -1;
    }
    /* the old instance's pidfd now reports to the retiring watch */
    c->retiring = c->inst;
    c->retire_pidfd_watch = (struct watch){.kind = W_RETIRE_PIDFD, .owner = c};
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &c->retire_pidfd_watch};
    epoll_ctl(celld.epoll, EPOLL_CTL_MOD, cell_instance_pidfd(c->retiring), &ev);
    c->inst = fresh;
    c->generation ^= 1;
    c->swaps++;
    watch_add(cell_instance_pidfd(c->inst), &c->pidfd_watch);
    c->swap_waiter = waiter;
    state_sync(c);
    if (c->ready)
        retire_begin(c);
    else
        c->swap_waiting_ready = true; /* the old one serves until the new one is ready */
    return 0;
}

/* The old instance stops: SIGTERM now, SIGKILL after the stop timeout. */
static void retire_begin(struct cell *c)
{
    c->swap_waiting_ready = false;
    cell_instance_signal(c->retiring, SIGTERM);
    timer_arm(c->retire_timerfd, c->spec.supervise.stop_timeout_ms, 0);
}

/* The swapped-in instance died before it was ready: the old one, still
 * serving, becomes the cell's instance again and the swap fails. */
static void swap_undo(struct cell *c)
{
    c->inst = c->retiring;
    c->retiring = NULL;
    c->swap_waiting_ready = false;
    c->ready = true;
    c->generation ^= 1;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &c->pidfd_watch};
    epoll_ctl(celld.epoll, EPOLL_CTL_MOD, cell_instance_pidfd(c->inst), &ev);
    state_sync(c);
    if (c->swap_waiter) {
        client_answer(c->swap_waiter, answer_error("cell %s: swap failed: the new instance exited (%d) before it "
                                                   "was ready; the old one keeps serving",
                                                   c->name, c->last_exit_code));
        c->swap_waiter = NULL;
    }
}

void cell_notify_event(struct cell *c)
{
    if (c->dead)
        return;
    char buf[256];
    ssize_t n;
    bool newline = false;
    while ((n = read(c->notify_pipe[0], buf, sizeof buf)) > 0)
        newline |= memchr(buf, '\n', (size_t)n) != NULL;
    if (!newline || c->ready || c->inst == NULL)
        return;
    c->ready = true;
    cell_log(CELL_LOG_DEBUG, "celld: cell %s: ready", c->name);
    if (c->ready_waiter) {
        answer_cell(c->ready_waiter, c);
        c->ready_waiter = NULL;
    }
    if (c->swap_waiting_ready && c->retiring)
        retire_begin(c);
}

bool cell_wait_ready(struct cell *c, struct client *cl)
{
    if (c->ready || c->state != ST_RUNNING)
        return false;
    c->ready_waiter = cl;
    return true;
}

/* ---- health ----------------------------------------------------------------
 * Beside the state table too: while a --health cell runs, every interval a
 * child of celld runs the check inside the cell (cell_exec, with the check's
 * timeout), and celld learns the result from the child's pidfd; it never
 * waits for it. --health-retries failures in a row make the cell unhealthy,
 * and it is restarted unless its policy is never. */

static void health_cancel(struct cell *c)
{
    if (c->health_pid > 0) {
        watch_del(c->health_pidfd);
        close(c->health_pidfd);
        kill(c->health_pid, SIGKILL);
        waitpid(c->health_pid, NULL, 0);
        c->health_pid = 0;
    }
}

static void health_arm(struct cell *c, bool on)
{
    if (c->spec.supervise.health == NULL)
        return;
    if (c->health_timerfd <= 0 && (c->health_timerfd = timer_open(c, &c->health_timer_watch, W_HEALTH_TIMER)) < 0)
        return;
    if (on) {
        unsigned every = c->spec.supervise.health_interval_ms;
        timer_arm(c->health_timerfd, every, every);
        c->health = HEALTH_STARTING;
        c->health_failures = 0;
    } else {
        timer_disarm(c->health_timerfd);
        health_cancel(c);
    }
}

static void health_start_check(struct cell *c)
{
    if (c->health_pid > 0 || c->inst == NULL || c->state != ST_RUNNING)
        return; /* one check at a time, only while running */
    pid_t init = cell_instance_pid(c->inst);
    pid_t pid = fork();
    if (pid < 0)
        return;
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        for (int fd = 0; fd < 3 && null >= 0; fd++)
            dup2(null, fd);
        /* none of celld's fds (sockets, pipes, the lock) outlive it in the check */
        syscall(SYS_close_range, 3, ~0U, 0);
        char *argv[] = {"/bin/sh", "-c", c->spec.supervise.health, NULL};
        c->spec.argv = argv; /* this child's copy of the spec */
        c->spec.timeout_sec = (c->spec.supervise.health_timeout_ms + 999) / 1000;
        struct cell_result r;
        struct cell_err err;
        if (cell_exec(init, &c->spec, &r, &err) < 0)
            _exit(r.exit_code ? r.exit_code : CELL_EXIT_SETUP);
        _exit(r.exit_code);
    }
    c->health_pid = pid;
    c->health_pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    c->health_done_watch = (struct watch){.kind = W_HEALTH_DONE, .owner = c};
    watch_add(c->health_pidfd, &c->health_done_watch);
}

static void health_finished(struct cell *c)
{
    int status = 0;
    watch_del(c->health_pidfd);
    close(c->health_pidfd);
    waitpid(c->health_pid, &status, 0);
    c->health_pid = 0;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        if (c->health != HEALTH_HEALTHY)
            events_emit(c, "healthy", NULL);
        c->health = HEALTH_HEALTHY;
        c->health_failures = 0;
        return;
    }
    c->health_failures++;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    cell_log(CELL_LOG_INFO, "celld: cell %s: health check failed (exit %d), %u in a row", c->name, code,
             c->health_failures);
    if (c->health_failures < c->spec.supervise.health_retries || c->health == HEALTH_UNHEALTHY)
        return;
    c->health = HEALTH_UNHEALTHY;
    events_emit(c, "unhealthy", NULL);
    cell_log(CELL_LOG_WARN, "celld: cell %s: unhealthy after %u failed checks", c->name, c->health_failures);
    if (c->spec.supervise.restart != CELL_RESTART_NEVER && c->state == ST_RUNNING) {
        c->restarting = true;
        c->restarts++;
        cell_event(c, EV_STOP);
    }
}

void cell_health_event(struct cell *c, bool done)
{
    if (c->dead)
        return;
    if (done) {
        health_finished(c);
        return;
    }
    uint64_t n;
    (void)!read(c->health_timerfd, &n, sizeof n);
    health_start_check(c);
}

static const char *health_name(const struct cell *c)
{
    static const char *const names[] = {"none", "starting", "healthy", "unhealthy"};
    return c->spec.supervise.health ? names[c->health] : "none";
}

/* The health as the cell_health_status gauge: 1 healthy, 0 unhealthy, -1
 * starting (no result yet). */
static int health_status(const struct cell *c)
{
    return c->health == HEALTH_HEALTHY ? 1 : c->health == HEALTH_UNHEALTHY ? 0 : -1;
}
