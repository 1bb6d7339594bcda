/* main.c - celld, the supervisor: one root (--root), one lock, one control
 * socket, one epoll loop over a signalfd, the control clients, and each
 * cell's pidfd, timer and log pipes. It never waits on a child except to reap
 * one whose pidfd said it ended. SIGTERM/SIGINT stop every cell, then celld.
 * --metrics ADDR:PORT also serves Prometheus metrics over HTTP (metrics_http.c);
 * --events-nats URL also publishes the events to NATS JetStream (events_nats.c).
 * Usage: celld [--root DIR] [--ready-fd N] [--metrics ADDR:PORT] [--debug]
 *              [--events-nats URL [--events-nats-required]] */
#include "celld.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct celld celld = {.epoll = -1, .listen_fd = -1, .signal_fd = -1, .cell_init_fd = -1};

/* the pipe of the CLI that started us: "r" once we listen, or "!" and why
 * we could not start */
static int ready_fd = -1;

uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int watch_add(int fd, struct watch *w)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = w};
    return epoll_ctl(celld.epoll, EPOLL_CTL_ADD, fd, &ev);
}

void watch_del(int fd)
{
    if (fd >= 0)
        epoll_ctl(celld.epoll, EPOLL_CTL_DEL, fd, NULL);
}

/* Exit with `status` (1: could not start; 2: a usage error), saying why on
 * stderr and to the CLI waiting on the ready pipe. */
static void die_status(const struct cell_err *err, int status)
{
    fprintf(stderr, "celld: %s\n", err->msg);
    if (ready_fd >= 0) {
        char line[sizeof err->msg + 1];
        int n = snprintf(line, sizeof line, "!%s", err->msg);
        (void)!write(ready_fd, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
    }
    exit(status);
}

static void die(const struct cell_err *err)
{
    die_status(err, 1);
}

/* celld holds about ten fds per cell: its soft limit on open files goes up
 * to the hard one. The cells get the limit celld was given (cells.c). */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return;
    celld.nofile = rl;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
        cell_log(CELL_LOG_WARN, "celld: warning: raise the open-files limit to %llu: %s",
                 (unsigned long long)rl.rlim_max, strerror(errno));
    else if (rl.rlim_max < 16384)
        cell_log(CELL_LOG_INFO, "celld: at most %llu open files: about %llu cells", (unsigned long long)rl.rlim_max,
                 (unsigned long long)rl.rlim_max / 12);
}

/* cell-init lives next to celld; opened once (the cells' inits exec it by
 * fd, after their root replaced the host's). Without it a cell's init stays
 * as it is: a copy of celld, larger. */
static void open_cell_init(void)
{
    char path[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 16);
    char *slash = n > 0 ? memrchr(path, '/', (size_t)n) : NULL;
    if (slash)
        strcpy(slash, "/cell-init");
    celld.cell_init_fd = slash ? open(path, O_PATH | O_CLOEXEC) : -1;
    if (celld.cell_init_fd < 0)
        cell_log(CELL_LOG_WARN, "celld: warning: %s: %s; each cell's init stays a copy of celld (more memory)",
                 slash ? path : "cell-init", strerror(errno));
}

/* One celld per root: an flock held for celld's life. */
static void take_lock(void)
{
    struct cell_err err;
    int fd = open(celld.paths.lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        cell_err_set(&err, errno, "open %s", celld.paths.lock);
        die(&err);
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        cell_err_set(&err, 0, "another celld already serves %s (lock %s)", celld.paths.run, celld.paths.lock);
        die(&err);
    }
}

static void listen_control(void)
{
    struct cell_err err;
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", celld.paths.socket);
    unlink(celld.paths.socket); /* a stale one: we hold the lock */
    celld.listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    mode_t old = umask(0177); /* 0600: only our user may talk to celld */
    int rc = celld.listen_fd < 0 ? -1 : bind(celld.listen_fd, (struct sockaddr *)&sun, sizeof sun);
    umask(old);
    if (rc < 0 || listen(celld.listen_fd, 64) < 0) {
        cell_err_set(&err, errno, "listen on %s", celld.paths.socket);
        die(&err);
    }
    celld.listen_watch = (struct watch){.kind = W_LISTEN};
    watch_add(celld.listen_fd, &celld.listen_watch);
}

static void setup_signals(void)
{
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);
    celld.signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    celld.signal_watch = (struct watch){.kind = W_SIGNAL};
    watch_add(celld.signal_fd, &celld.signal_watch);
}

/* Stop every cell; celld exits once they all have. */
void celld_shutdown(void)
{
    celld.shutting_down = true;
    jobs_stop_all();
    for (struct cell *c = celld.cells, *next; c; c = next) {
        next = c->next; /* a stopped cell leaves the list at once */
        c->removing = true;
        cell_event(c, EV_STOP);
    }
}

static void on_signal(void)
{
    struct signalfd_siginfo si;
    while (read(celld.signal_fd, &si, sizeof si) == (ssize_t)sizeof si)
        if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
            celld_shutdown();
}

int main(int argc, char **argv)
{
    const char *root = getenv("CELL_ROOT");
    const char *metrics = NULL;
    const char *nats_url = NULL;
    bool nats_required = false;
    struct cell_err err = {0};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--root") == 0 && i + 1 < argc) {
            root = argv[++i];
        } else if (strcmp(argv[i], "--ready-fd") == 0 && i + 1 < argc) {
            ready_fd = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--metrics") == 0 && i + 1 < argc) {
            metrics = argv[++i];
        } else if (strcmp(argv[i], "--events-nats") == 0 && i + 1 < argc) {
            nats_url = argv[++i];
        } else if (strcmp(argv[i], "--events-nats-required") == 0) {
            nats_required = true;
        } else if (strcmp(argv[i], "--debug") == 0) {
            cell_log_set_level(CELL_LOG_DEBUG);
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("celld %s\n", CELL_VERSION);
            return 0;
        } else {
            fprintf(stderr,
                    "celld: unknown option \"%s\"\n"
                    "usage: celld [--root DIR] [--ready-fd N] [--metrics ADDR:PORT] [--debug] "
                    "[--events-nats URL [--events-nats-required]]\n",
                    argv[i]);
            return 2;
        }
    }
    if (nats_required && nats_url == NULL) {
        cell_err_set(&err, 0, "--events-nats-required needs --events-nats URL");
        die_status(&err, 2);
    }
    if (metrics && metrics_check_address(metrics, &err) < 0)
        die_status(&err, 2);
    celld.root = root;
    if (cell_paths_init(root, &celld.paths, &err) < 0 || cell_mkdirs(celld.paths.run, 0700, &err) < 0 ||
        cell_mkdirs(celld.paths.logs, 0700, &err) < 0 || state_init(&err) < 0)
        die(&err);
    take_lock();
    raise_nofile();
    open_cell_init();
    /* before anything per cell exists: a start copies the spawner, not celld */
    if (spawner_start(&err) < 0)
        cell_log(CELL_LOG_WARN, "celld: warning: %s; celld starts cells itself", err.msg);
    /* before the first cell, and before the signals are blocked: the NATS
     * publisher is a process of its own (events_nats.c) */
    if (nats_url && events_nats_start(nats_url, nats_required, &err) < 0) {
        unlink(celld.paths.lock); /* we hold it: nobody else can be using it */
        die(&err);
    }
    celld.epoll = epoll_create1(EPOLL_CLOEXEC);
    setup_signals();
    if (metrics && metrics_listen(metrics, &err) < 0) {
        unlink(celld.paths.lock); /* ours: nobody else can be using it */
        die(&err);
    }
    listen_control();
    state_load();        /* the cells an earlier celld declared, and took care of */
    if (ready_fd >= 0) { /* the CLI that started us waits for this byte */
        (void)!write(ready_fd, "r", 1);
        close(ready_fd);
    }
    cell_log(CELL_LOG_INFO, "celld: serving %s", celld.paths.socket);

    for (;;) {
        if (celld.shutting_down && cells_all_stopped() && jobs_all_ended())
            break;
        struct epoll_event evs[64];
        int n = epoll_wait(celld.epoll, evs, 64, metrics_timeout_ms());
        if (n < 0 && errno != EINTR)
            break;
        for (int i = 0; i < n; i++) {
            struct watch *w = evs[i].data.ptr;
            switch (w->kind) {
            case W_SIGNAL:
                on_signal();
                break;
            case W_LISTEN:
                client_accept();
                break;
            case W_CLIENT:
                if (((struct client *)w->owner)->fd >= 0)
                    client_readable(w->owner);
                break;
            case W_PIDFD:
                cell_event(w->owner, EV_EXIT);
                break;
            case W_TIMER:
                cell_event(w->owner, EV_TIMER);
                break;
            case W_TTL:
                cell_event(w->owner, EV_EXPIRE);
                break;
            case W_ACTIVATE: /* a client connected to a waiting cell's socket */
                cell_event(w->owner, EV_START);
                break;
            case W_RETIRE_PIDFD:
                cell_retire_event(w->owner, false);
                break;
            case W_RETIRE_TIMER:
                cell_retire_event(w->owner, true);
                break;
            case W_HEALTH_TIMER:
                cell_health_event(w->owner, false);
                break;
            case W_HEALTH_DONE:
                cell_health_event(w->owner, true);
                break;
            case W_NOTIFY:
                cell_notify_event(w->owner);
                break;
            case W_LOG:
                logs_readable(w->owner, w->stream);
                break;
            case W_METRICS:
                metrics_readable();
                break;
            case W_JOB:
                job_event(w->owner, false);
                break;
            case W_JOB_STOP:
                job_event(w->owner, true);
                break;
            }
        }
        cells_free_dead();
        clients_free_dead();
        jobs_free_dead();
        metrics_run();
    }
    metrics_stop();
    spawner_stop();
    events_nats_stop(); /* the last events reach NATS before `cell down` returns */
    if (celld.down_waiter)
        client_answer(celld.down_waiter, answer_ok());
    unlink(celld.paths.socket);
    unlink(celld.paths.lock); /* we still hold it: nobody else can be using it */
    return 0;
}
