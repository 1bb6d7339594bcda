/* celld.h - the supervisor daemon's shared types: the cells it keeps, its
 * control clients, and what its event loop watches. One thread, one epoll
 * loop (main.c); the supervision state machine is in cells.c, the control
 * protocol in control.c, log capture in logs.c. */
#ifndef CELLD_H
#define CELLD_H

#include "cell/cell.h"
#include "cell/control.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>

/* What an epoll event belongs to. */
enum watch_kind {
    W_SIGNAL,
    W_LISTEN,
    W_CLIENT,
    W_PIDFD,
    W_TIMER,
    W_TTL,
    W_LOG,
    W_ACTIVATE,
    W_RETIRE_PIDFD,
    W_RETIRE_TIMER,
    W_HEALTH_TIMER,
    W_HEALTH_DONE,
    W_NOTIFY,
    W_METRICS,
    W_JOB,      /* a job's runner ended (its pidfd) */
    W_JOB_STOP, /* shutdown: a job's grace is over */
};

struct watch {
    enum watch_kind kind;
    void *owner; /* struct cell or struct client */
    int stream;  /* W_LOG: 0 stdout, 1 stderr */
};

enum cell_state { ST_RUNNING, ST_STOPPING, ST_BACKOFF, ST_EXITED, ST_FAILED, ST_WAITING, ST_COUNT };
enum cell_event { EV_START, EV_STOP, EV_EXIT, EV_TIMER, EV_EXPIRE, EV_COUNT };

#define CELL_EXIT_HISTORY 64
#define CELL_MAX_WAITERS 8
#define LOG_LINE_MAX 511

struct client;

struct cell {
    char *name;
    json_t *args; /* the `cell run` arguments it was declared with */
    struct cell_spec spec;
    enum cell_state state;
    struct cell_instance *inst; /* while running or stopping */
    struct watch pidfd_watch, timer_watch, ttl_watch, log_watch[2];
    int timerfd;
    int ttl_timerfd; /* --ttl: the cell's lifetime */
    int listen_fd;   /* --listen: the socket celld holds for the cell; or -1 */
    char listen_path[PATH_MAX];
    struct watch activate_watch;
    bool activate_watched;
    /* swap: the old instance, stopping while the new one serves */
    struct cell_instance *retiring;
    struct watch retire_pidfd_watch, retire_timer_watch;
    int retire_timerfd;
    unsigned generation; /* of the running instance: 0 or 1, alternating */
    unsigned swaps;
    struct client *swap_waiter;
    /* --health: a check every interval, run through cell_exec in a child */
    int health_timerfd;
    struct watch health_timer_watch, health_done_watch;
    pid_t health_pid; /* the check in flight, or 0 */
    int health_pidfd;
    unsigned health_failures; /* in a row */
    enum { HEALTH_NONE, HEALTH_STARTING, HEALTH_HEALTHY, HEALTH_UNHEALTHY } health;
    /* --notify: the running instance said it is ready (a newline on fd 4) */
    int notify_pipe[2];
    struct watch notify_watch;
    bool ready;
    bool swap_waiting_ready;     /* the swapped-in instance is not ready yet */
    struct client *ready_waiter; /* `cell run -d` answers once ready */
    bool expired;
    uint64_t ttl_deadline_ms; /* monotonic; 0: no --ttl running */
    bool restoring;           /* being taken over from an earlier celld: not saved yet */
    int log_pipe[2][2];       /* [stdout, stderr][read, write]: held across restarts */
    char log_buf[2][LOG_LINE_MAX + 1];
    size_t log_len[2];
    int log_fd;
    unsigned restarts;
    uint64_t oom_kills;                   /* by the kernel, in its instances that ended */
    uint64_t started_ms;                  /* monotonic */
    uint64_t started_wall_ms;             /* the same start, wall clock (Unix epoch) */
    uint64_t exits_ms[CELL_EXIT_HISTORY]; /* recent exits, for the crash-loop rule */
    unsigned nexits;
    unsigned delay_ms; /* the next backoff delay */
    int last_exit_code;
    char last_error[256];
    bool dead;                                /* removed; freed after this batch of events */
    bool removing;                            /* deleted: goes away once stopped */
    bool restarting;                          /* restart: starts again once stopped */
    bool replacing;                           /* declare: a successor with new arguments takes its place */
    struct client *waiters[CELL_MAX_WAITERS]; /* answered when the cell stops */
    struct cell *next;
};

struct client {
    int fd;
    struct watch watch;
    char buf[CELL_CONTROL_MAX_LINE];
    size_t len;
    bool subscribed; /* `cell events`: every event is sent here */
    struct client *next;
};

struct celld {
    const char *root; /* --root or CELL_ROOT; NULL: the default paths */
    struct cell_paths paths;
    int epoll;
    int listen_fd;
    int signal_fd;
    struct watch signal_watch, listen_watch;
    int cell_init_fd;     /* cell-init (next to celld), which each cell's init execs; or -1 */
    struct rlimit nofile; /* the open-files limit celld was given, and its cells get */
    struct cell *cells;
    struct client *clients;
    bool shutting_down;
    struct client *down_waiter;
    /* freed after each batch of events, which may still point at them */
    struct cell *dead_cells;
    struct client *dead_clients;
};

extern struct celld celld;

uint64_t now_ms(void);
int watch_add(int fd, struct watch *w);
void watch_del(int fd);

void celld_shutdown(void);

/* cells.c */
struct cell *cell_find(const char *name);
/* The spec of a declaration (its `cell run` arguments), as celld runs it
 * (a supervised cell; the open-files limit celld was given). */
int cell_spec_from_declaration(json_t *args, struct cell_spec *spec, struct cell_err *err);
/* A cell from `cell run` arguments; `save`: write its declaration file
 * (not when it is read back from one). */
int cell_declare(json_t *args, bool save, struct cell **out, struct cell_err *err);
/* Take the cell over as an earlier celld left it (its runtime file). */
void cell_restore(struct cell *c, json_t *runtime);
/* Forget a stopped cell (its declaration too): delete, and declare's replace. */
void cell_remove(struct cell *c);
/* `cell up`: start every declared cell that is down and not --no-autostart;
 * returns how many. */
unsigned cells_up(void);
/* Start a just-declared cell; on failure it is removed again. */
int cell_first_start(struct cell *c, struct cell_err *err);
/* Remove a cell (stopping it first); true while it is still stopping. */
bool cell_delete(struct cell *c);
void cell_event(struct cell *c, enum cell_event ev);
json_t *cell_status_json(const struct cell *c);
const char *cell_state_name(enum cell_state s);
bool cell_wait_stopped(struct cell *c, struct client *cl); /* false: already stopped */
void cells_forget_client(struct client *cl);
bool cells_all_stopped(void);
/* swap: a new instance on the same --listen socket, then the old one stops */
int cell_swap(struct cell *c, struct client *waiter, struct cell_err *err);
void cell_retire_event(struct cell *c, bool timer);
/* --health: the interval timer fired, or a check finished */
void cell_health_event(struct cell *c, bool done);
void cell_notify_event(struct cell *c);
/* --notify: answer `cl` once the cell is ready; false if it is already */
bool cell_wait_ready(struct cell *c, struct client *cl);
void cells_free_dead(void);

/* spawner.c: cells are started by a small helper forked at startup */
int spawner_start(struct cell_err *err);
/* Start an instance of `c` with `opts` through the spawner: 0, -1 with err,
 * or 1 when there is no spawner (the caller starts it itself). */
int spawner_launch(struct cell *c, const struct cell_start_opts *opts, struct cell_instance **out,
                   struct cell_err *err);
void spawner_stop(void);

/* state.c */
int state_init(struct cell_err *err);
void state_load(void);
void state_save_declaration(const struct cell *c);
void state_sync(const struct cell *c);
void state_forget(const struct cell *c);

/* control.c */
void client_accept(void);
void client_readable(struct client *cl);
void client_answer(struct client *cl, json_t *answer);
void client_close(struct client *cl);
void clients_free_dead(void);
json_t *answer_ok(void);
/* {"ok": true, "cell": STATUS} (no "cell" when c is NULL) */
void answer_cell(struct client *cl, const struct cell *c);
json_t *answer_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* events.c: CloudEvents to <data>/events.jsonl and to subscribed clients;
 * `data` (may be NULL) is taken over */
void events_emit(const struct cell *c, const char *type, json_t *data);
json_t *event_data_pid(pid_t pid);

/* metrics_http.c: --metrics ADDR:PORT, GET /metrics (libmicrohttpd, driven
 * from celld's loop: no thread of its own) */
/* A usable ADDR:PORT ("127.0.0.1:9100", "[::1]:9100"), or -1 saying why. */
int metrics_check_address(const char *text, struct cell_err *err);
/* Listen on ADDR:PORT and serve GET /metrics from celld's loop. */
int metrics_listen(const char *address, struct cell_err *err);
/* For epoll_wait: at most this long (-1: no limit); metrics_run() after it. */
int metrics_timeout_ms(void);
void metrics_readable(void);
void metrics_run(void);
void metrics_stop(void);
/* events_nats.c: --events-nats URL. start forks the publisher; with
 * `required` it fails unless NATS and the stream are there. publish never
 * blocks (a full queue drops the event); stop hands over what is queued
 * and waits for the publisher to finish. */
int events_nats_start(const char *url, bool required, struct cell_err *err);
bool events_nats_enabled(void);
void events_nats_publish(const char *name, const char *type, const char *id, const char *event_json);
void events_nats_stop(void);

/* jobs.c: `cell job submit`: a job run to completion by a runner process,
 * its record in <data>/jobs/<id>/ */
struct request;
/* Check the document, make the record, fork the runner: 0 with *answer
 * ({"ok": true, "job": RECORD}), or -1 with err. */
int job_submit(const struct request *req, json_t **answer, struct cell_err *err);
/* A job's runner ended (timer false) or its shutdown grace is over (true). */
void job_event(void *owner, bool timer);
/* Shutdown: SIGTERM to every runner, another one after a grace. */
void jobs_stop_all(void);
bool jobs_all_ended(void);
void jobs_free_dead(void);

/* logs.c */
int logs_open(struct cell *c, struct cell_err *err);
void logs_readable(struct cell *c, int stream);
void logs_close(struct cell *c);
/* A cell taken over from an earlier celld: its pipes are the ones its
 * running instance writes to (taken from its init), not new ones. */
void logs_adopt(struct cell *c, const int read_end[2], const int write_end[2]);

#endif
