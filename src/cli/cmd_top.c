/* cmd_top.c - `cell top`: a live view of the supervised cells. It asks celld
 * for "status" once a second, works out CPU % from the cpu_usec delta between
 * two polls, and draws the cells with ncurses. Keys send the same control
 * ops as `cell start/stop/restart`, each on a connection of its own that the
 * loop watches, so a stop that takes seconds does not freeze the screen.
 * `cell top -n N` prints N frames as plain text instead (no terminal needed).
 * Nothing of ncurses runs unless this command does. */
#include "cli.h"

#include <curses.h>
#include <errno.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TOP_INTERVAL_MS 1000
#define TOP_MAX_PENDING 8
#define TOP_NAME_MAX 64
/* fixed columns after NAME: " STATE     HEALTH      CPU%     MEM RESTARTS   UPTIME" */
#define TOP_FIXED_WIDTH 53
#define TOP_MIN_NAME 8
#define TOP_MIN_COLS (TOP_FIXED_WIDTH + TOP_MIN_NAME)
#define TOP_MIN_LINES 6 /* header, column names, two cells, message line, keys */
#define TOP_KEYS "up/down j/k select  s start  S/x stop  r restart  l logs  q quit"

enum { PAIR_GOOD = 1, PAIR_WARN, PAIR_BAD, PAIR_DIM };

/* One cell as the last poll saw it. */
struct top_row {
    char name[TOP_NAME_MAX];
    char state[16], health[16];
    long long pid, restarts, uptime_ms;
    bool has_cpu, has_mem;
    unsigned long long cpu_usec, mem_bytes;
    double cpu_pct; /* < 0: not known */
};

/* A start/stop/restart sent to celld, its answer not read yet. */
struct top_pending {
    int fd; /* -1: free */
    char op[16];
    char name[TOP_NAME_MAX];
};

struct top {
    const struct cli_globals *g;
    struct cell_paths paths;
    const char *root_label;
    int status_fd; /* kept open between polls; -1: connect at the next one */
    struct top_row *rows, *prev;
    size_t nrows, nprev;
    long long polled_ms;         /* when `rows` was fetched */
    bool celld_gone;             /* the last poll failed: say why instead of rows */
    char gone_msg[640];          /* why */
    char selected[TOP_NAME_MAX]; /* followed by name across polls */
    size_t sel, scroll;
    char msg[640]; /* the message line: what an action did */
    struct top_pending pending[TOP_MAX_PENDING];
    bool logs_view;
    char logs_name[TOP_NAME_MAX];
    bool colors;
};

static volatile sig_atomic_t top_signal;

static void top_on_signal(int sig)
{
    top_signal = sig;
}

static long long monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void format_memory(unsigned long long bytes, char *out, size_t len)
{
    static const char units[] = "BKMGT";
    double v = (double)bytes;
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(out, len, "%lluB", bytes);
    else
        snprintf(out, len, v < 10 ? "%.1f%c" : "%.0f%c", v, units[u]);
}

static void format_uptime(long long ms, char *out, size_t len)
{
    long long s = ms / 1000;
    if (ms <= 0)
        snprintf(out, len, "-");
    else if (s < 60)
        snprintf(out, len, "%llds", s);
    else if (s < 3600)
        snprintf(out, len, "%lldm%02llds", s / 60, s % 60);
    else if (s < 86400)
        snprintf(out, len, "%lldh%02lldm", s / 3600, s / 60 % 60);
    else
        snprintf(out, len, "%lldd%02lldh", s / 86400, s / 3600 % 24);
}

static void copy_string(char *out, size_t len, json_t *v, const char *fallback)
{
    snprintf(out, len, "%s", json_is_string(v) ? json_string_value(v) : fallback);
}

static void row_from_json(struct top_row *r, json_t *c)
{
    memset(r, 0, sizeof *r);
    copy_string(r->name, sizeof r->name, json_object_get(c, "name"), "?");
    copy_string(r->state, sizeof r->state, json_object_get(c, "state"), "?");
    copy_string(r->health, sizeof r->health, json_object_get(c, "health"), "-");
    r->pid = json_integer_value(json_object_get(c, "pid"));
    r->restarts = json_integer_value(json_object_get(c, "restarts"));
    r->uptime_ms = json_integer_value(json_object_get(c, "uptime_ms"));
    json_t *v = json_object_get(c, "cpu_usec");
    if ((r->has_cpu = json_is_integer(v)))
        r->cpu_usec = (unsigned long long)json_integer_value(v);
    v = json_object_get(c, "memory_bytes");
    if ((r->has_mem = json_is_integer(v)))
        r->mem_bytes = (unsigned long long)json_integer_value(v);
    r->cpu_pct = -1;
}

static int row_by_name(const void *a, const void *b)
{
    return strcmp(((const struct top_row *)a)->name, ((const struct top_row *)b)->name);
}

/* CPU % of one CPU: from the previous poll when the same instance (pid) was
 * there, else the average since the instance started (the first frame). */
static void compute_cpu(struct top *t, long long now)
{
    for (size_t i = 0; i < t->nrows; i++) {
        struct top_row *r = &t->rows[i];
        if (!r->has_cpu || r->pid <= 0)
            continue;
        struct top_row key, *old = NULL;
        snprintf(key.name, sizeof key.name, "%s", r->name);
        if (t->prev)
            old = bsearch(&key, t->prev, t->nprev, sizeof *t->prev, row_by_name);
        long long elapsed = now - t->polled_ms;
        if (old && old->has_cpu && old->pid == r->pid && r->cpu_usec >= old->cpu_usec && elapsed > 0)
            r->cpu_pct = (double)(r->cpu_usec - old->cpu_usec) / ((double)elapsed * 10.0);
        else if (r->uptime_ms > 0)
            r->cpu_pct = (double)r->cpu_usec / ((double)r->uptime_ms * 10.0);
    }
}

/* Ask celld for every cell; -1 with err set when it cannot be reached. */
static int top_poll(struct top *t, struct cell_err *err)
{
    json_t *answer = NULL;
    while (answer == NULL) {
        bool kept = t->status_fd >= 0;
        if (!kept) {
            t->status_fd = connect_celld(t->g, false, err);
            if (t->status_fd < 0)
                return -1;
            /* a celld that hangs must not hang the screen */
            struct timeval tv = {.tv_sec = 3};
            setsockopt(t->status_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
            setsockopt(t->status_fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        }
        json_t *req = request("status");
        answer = cell_control_call(t->status_fd, req, err);
        json_decref(req);
        if (answer == NULL) {
            close(t->status_fd);
            t->status_fd = -1;
            if (!kept || err->errnum == EAGAIN)
                return -1;
            /* the kept connection broke (celld went away, or is a new
             * one): try once on a fresh one, which says which it is */
        }
    }
    long long now = monotonic_ms();
    json_t *cells = json_object_get(answer, "cells");
    size_t n = json_array_size(cells);
    struct top_row *rows = calloc(n ? n : 1, sizeof *rows);
    if (rows == NULL) {
        json_decref(answer);
        return cell_err_set(err, ENOMEM, "top: status of %zu cells", n);
    }
    for (size_t i = 0; i < n; i++)
        row_from_json(&rows[i], json_array_get(cells, i));
    json_decref(answer);
    if (n > 1)
        qsort(rows, n, sizeof *rows, row_by_name);
    free(t->prev);
    t->prev = t->rows;
    t->nprev = t->nrows;
    t->rows = rows;
    t->nrows = n;
    compute_cpu(t, now);
    t->polled_ms = now;
    return 0;
}

/* "3 cells: 2 running, 1 exited" */
static void top_summary(const struct top *t, char *out, size_t len)
{
    static const char *states[] = {"running", "waiting", "stopping", "backoff", "exited", "failed"};
    if (t->celld_gone) {
        snprintf(out, len, "no celld");
        return;
    }
    int n = snprintf(out, len, "%zu cell%s", t->nrows, t->nrows == 1 ? "" : "s");
    const char *sep = ": ";
    for (size_t s = 0; s < sizeof states / sizeof states[0]; s++) {
        size_t count = 0;
        for (size_t i = 0; i < t->nrows; i++)
            count += strcmp(t->rows[i].state, states[s]) == 0;
        if (count && n >= 0 && (size_t)n < len) {
            n += snprintf(out + n, len - (size_t)n, "%s%zu %s", sep, count, states[s]);
            sep = ", ";
        }
    }
}

/* How wide NAME is: the longest name, within what the width leaves. */
static int name_width(const struct top *t, int cols)
{
    int w = 4;
    for (size_t i = 0; i < t->nrows; i++) {
        int l = (int)strlen(t->rows[i].name);
        w = l > w ? l : w;
    }
    if (w > cols - TOP_FIXED_WIDTH)
        w = cols - TOP_FIXED_WIDTH;
    return w < TOP_MIN_NAME ? TOP_MIN_NAME : w;
}

static void format_columns(int namew, char *out, size_t len)
{
    snprintf(out, len, "%-*s %-9s %-9s %6s %7s %8s %8s", namew, "NAME", "STATE", "HEALTH", "CPU%", "MEM", "RESTARTS",
             "UPTIME");
}

static void format_row(const struct top_row *r, int namew, char *out, size_t len)
{
    char cpu[16] = "-", mem[16] = "-", up[16];
    if (r->cpu_pct >= 0)
        snprintf(cpu, sizeof cpu, "%.1f", r->cpu_pct);
    if (r->has_mem)
        format_memory(r->mem_bytes, mem, sizeof mem);
    format_uptime(r->uptime_ms, up, sizeof up);
    snprintf(out, len, "%-*.*s %-9s %-9s %6s %7s %8lld %8s", namew, namew, r->name, r->state, r->health, cpu, mem,
             r->restarts, up);
}

/* ---- batch mode: frames as text ------------------------------------------- */

static void print_frame(const struct top *t)
{
    char line[512], summary[256];
    time_t now = time(NULL);
    char clock[16];
    strftime(clock, sizeof clock, "%H:%M:%S", localtime(&now));
    top_summary(t, summary, sizeof summary);
    printf("cell top - %s - root %s - %s\n", clock, t->root_label, summary);
    int namew = name_width(t, 1024);
    format_columns(namew, line, sizeof line);
    printf("%s\n", line);
    for (size_t i = 0; i < t->nrows; i++) {
        format_row(&t->rows[i], namew, line, sizeof line);
        printf("%s\n", line);
    }
}

static int top_batch(struct top *t, long frames)
{
    for (long f = 0; f < frames; f++) {
        if (f > 0) { /* the first frame is the poll cmd_top made */
            long long wait = t->polled_ms + TOP_INTERVAL_MS - monotonic_ms();
            if (wait > 0) {
                struct timespec ts = {.tv_sec = wait / 1000, .tv_nsec = wait % 1000 * 1000000};
                while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                    ;
            }
            printf("\n");
            struct cell_err err = {0};
            if (top_poll(t, &err) < 0) {
                fflush(stdout);
                cli_error("top: %s", err.msg);
                return 1;
            }
        }
        print_frame(t);
        fflush(stdout);
    }
    return 0;
}

/* ---- the screen ------------------------------------------------------------ */

static int state_pair(const char *state)
{
    if (strcmp(state, "running") == 0 || strcmp(state, "healthy") == 0)
        return PAIR_GOOD;
    if (strcmp(state, "failed") == 0 || strcmp(state, "unhealthy") == 0)
        return PAIR_BAD;
    if (strcmp(state, "exited") == 0 || strcmp(state, "none") == 0 || strcmp(state, "waiting") == 0)
        return PAIR_DIM;
    return PAIR_WARN; /* stopping, backoff, starting */
}

/* the selection follows the selected cell's name across polls */
static void top_follow_selection(struct top *t)
{
    for (size_t i = 0; i < t->nrows; i++)
        if (strcmp(t->rows[i].name, t->selected) == 0) {
            t->sel = i;
            return;
        }
    if (t->sel >= t->nrows)
        t->sel = t->nrows ? t->nrows - 1 : 0;
    if (t->nrows)
        snprintf(t->selected, sizeof t->selected, "%s", t->rows[t->sel].name);
}

static void draw_logs(struct top *t)
{
    struct log_tail tail;
    struct cell_err err = {0};
    char title[256];
    snprintf(title, sizeof title, "logs of %s (the last lines, as cell logs -n %d %s) - any key returns", t->logs_name,
             LINES - 1, t->logs_name);
    attron(A_BOLD);
    mvaddnstr(0, 0, title, COLS);
    attroff(A_BOLD);
    if (log_tail_read(t->g, t->logs_name, (size_t)(LINES - 1), &tail, &err) < 0) {
        mvaddnstr(1, 0, err.msg, COLS);
        return;
    }
    if (tail.count == 0)
        mvaddnstr(1, 0, "(no output yet)", COLS);
    for (size_t i = 0; i < tail.count; i++) {
        size_t l = strcspn(tail.lines[i], "\n");
        mvaddnstr(1 + (int)i, 0, tail.lines[i], (int)l < COLS ? (int)l : COLS);
    }
    log_tail_free(&tail);
}

static void draw_table(struct top *t)
{
    char line[512], summary[256];
    time_t now = time(NULL);
    char clock[16];
    strftime(clock, sizeof clock, "%H:%M:%S", localtime(&now));
    top_summary(t, summary, sizeof summary);
    snprintf(line, sizeof line, "cell top - %s - root %s - %s", clock, t->root_label, summary);
    attron(A_BOLD);
    mvaddnstr(0, 0, line, COLS);
    attroff(A_BOLD);

    int namew = name_width(t, COLS);
    format_columns(namew, line, sizeof line);
    attron(A_REVERSE);
    mvaddnstr(1, 0, line, COLS);
    for (int x = (int)strlen(line); x < COLS; x++)
        addch(' ');
    attroff(A_REVERSE);

    int first = 2, visible = LINES - 4;
    if (t->celld_gone) {
        mvaddnstr(first, 0, t->gone_msg, COLS);
        mvaddnstr(first + 1, 0, "trying again every second (q quits)", COLS);
    } else if (t->nrows == 0) {
        mvaddnstr(first, 0, "no supervised cells (declare one with cell run -d)", COLS);
    }
    if (t->sel < t->scroll)
        t->scroll = t->sel;
    if (t->sel >= t->scroll + (size_t)visible)
        t->scroll = t->sel - (size_t)visible + 1;
    for (int i = 0; !t->celld_gone && i < visible && t->scroll + (size_t)i < t->nrows; i++) {
        size_t k = t->scroll + (size_t)i;
        const struct top_row *r = &t->rows[k];
        format_row(r, namew, line, sizeof line);
        int y = first + i;
        mvaddnstr(y, 0, line, COLS);
        if (t->colors) {
            mvchgat(y, namew + 1, 9, 0, (short)state_pair(r->state), NULL);
            mvchgat(y, namew + 11, 9, 0, (short)state_pair(r->health), NULL);
        }
        if (k == t->sel)
            mvchgat(y, 0, -1, A_REVERSE, 0, NULL);
    }
    mvaddnstr(LINES - 2, 0, t->msg, COLS);
    attron(A_DIM);
    mvaddnstr(LINES - 1, 0, TOP_KEYS, COLS);
    attroff(A_DIM);
}

static void top_draw(struct top *t)
{
    erase();
    if (COLS < TOP_MIN_COLS || LINES < TOP_MIN_LINES) {
        char line[3][64];
        snprintf(line[0], sizeof line[0], "terminal too small: %dx%d", COLS, LINES);
        snprintf(line[1], sizeof line[1], "cell top needs %dx%d", TOP_MIN_COLS, TOP_MIN_LINES);
        snprintf(line[2], sizeof line[2], "(q quits)");
        for (int i = 0; i < 3 && i < LINES; i++)
            mvaddnstr(i, 0, line[i], COLS);
    } else if (t->logs_view) {
        draw_logs(t);
    } else {
        draw_table(t);
    }
    refresh();
}

static void top_refresh(struct top *t)
{
    struct cell_err err = {0};
    if (top_poll(t, &err) == 0) {
        t->celld_gone = false;
        top_follow_selection(t);
        return;
    }
    t->celld_gone = true;
    if (celld_absent(&err))
        snprintf(t->gone_msg, sizeof t->gone_msg, "celld is not running: nothing serves %s", t->paths.socket);
    else
        snprintf(t->gone_msg, sizeof t->gone_msg, "celld does not answer: %s",
                 err.errnum == EAGAIN ? "no answer within 3 s" : err.msg);
    free(t->rows);
    t->rows = NULL;
    t->nrows = 0;
}

static const char *past_tense(const char *op)
{
    return strcmp(op, "start") == 0 ? "started" : strcmp(op, "stop") == 0 ? "stopped" : "restarted";
}

/* Send OP for the selected cell; its answer comes back through the loop. */
static void top_action(struct top *t, const char *op, const char *doing)
{
    if (t->celld_gone || t->nrows == 0) {
        snprintf(t->msg, sizeof t->msg, "no cell to %s", op);
        return;
    }
    struct top_pending *slot = NULL;
    for (int i = 0; i < TOP_MAX_PENDING && slot == NULL; i++)
        if (t->pending[i].fd < 0)
            slot = &t->pending[i];
    const char *name = t->rows[t->sel].name;
    if (slot == NULL) {
        snprintf(t->msg, sizeof t->msg, "%s %s: %d requests are still waiting for celld", op, name, TOP_MAX_PENDING);
        return;
    }
    struct cell_err err = {0};
    int fd = connect_celld(t->g, false, &err);
    json_t *req = request(op);
    json_object_set_new(req, "name", json_string(name));
    int rc = fd < 0 ? -1 : cell_control_send(fd, req, &err);
    json_decref(req);
    if (rc < 0) {
        if (fd >= 0)
            close(fd);
        snprintf(t->msg, sizeof t->msg, "%s %s failed: %s", op, name, err.msg);
        return;
    }
    slot->fd = fd;
    snprintf(slot->op, sizeof slot->op, "%s", op);
    snprintf(slot->name, sizeof slot->name, "%s", name);
    snprintf(t->msg, sizeof t->msg, "%s %s ...", doing, name);
}

static void top_answer(struct top *t, struct top_pending *p)
{
    struct cell_err err = {0};
    json_t *a = cell_control_receive(p->fd, &err);
    if (a == NULL) {
        snprintf(t->msg, sizeof t->msg, "%s %s failed: %s", p->op, p->name, err.msg);
    } else if (!json_is_true(json_object_get(a, "ok"))) {
        const char *why = json_string_value(json_object_get(a, "error"));
        snprintf(t->msg, sizeof t->msg, "%s %s failed: %s", p->op, p->name, why ? why : "no reason given");
    } else {
        const char *state = json_string_value(json_object_get(json_object_get(a, "cell"), "state"));
        snprintf(t->msg, sizeof t->msg, "%s %s (state: %s)", past_tense(p->op), p->name, state ? state : "?");
    }
    json_decref(a);
    close(p->fd);
    p->fd = -1;
}

/* One key; false when it quits. */
static bool top_key(struct top *t, int ch)
{
    if (ch == KEY_RESIZE)
        return true; /* ncurses has the new size; the loop redraws */
    if (t->logs_view) {
        t->logs_view = false; /* any key returns to the table */
        return true;
    }
    size_t last = t->nrows ? t->nrows - 1 : 0;
    switch (ch) {
    case 'q':
    case 'Q':
        return false;
    case KEY_UP:
    case 'k':
        t->sel = t->sel > 0 ? t->sel - 1 : 0;
        break;
    case KEY_DOWN:
    case 'j':
        t->sel = t->sel < last ? t->sel + 1 : last;
        break;
    case KEY_HOME:
    case 'g':
        t->sel = 0;
        break;
    case KEY_END:
    case 'G':
        t->sel = last;
        break;
    case 's':
        top_action(t, "start", "starting");
        break;
    case 'S':
    case 'x':
        top_action(t, "stop", "stopping");
        break;
    case 'r':
        top_action(t, "restart", "restarting");
        break;
    case 'l':
    case '\r':
    case '\n':
    case KEY_ENTER:
        if (t->nrows) {
            t->logs_view = true;
            snprintf(t->logs_name, sizeof t->logs_name, "%s", t->rows[t->sel].name);
        }
        break;
    case 12: /* ^L */
        clearok(curscr, TRUE);
        break;
    default:
        break;
    }
    if (t->nrows)
        snprintf(t->selected, sizeof t->selected, "%s", t->rows[t->sel].name);
    return true;
}

static void top_screen_init(struct top *t)
{
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    set_escdelay(25);
    curs_set(0);
    if (has_colors() && start_color() == OK) {
        use_default_colors();
        init_pair(PAIR_GOOD, COLOR_GREEN, -1);
        init_pair(PAIR_WARN, COLOR_YELLOW, -1);
        init_pair(PAIR_BAD, COLOR_RED, -1);
        init_pair(PAIR_DIM, COLOR_BLUE, -1);
        t->colors = true;
    }
}

static int top_interactive(struct top *t)
{
    const char *term = getenv("TERM");
    if (term == NULL || term[0] == '\0') {
        cli_error("top: TERM is not set, so the terminal is unknown (set it, e.g. TERM=xterm-256color)");
        return 1;
    }
    /* our handlers first: ncurses then leaves INT and TERM to us */
    struct sigaction sa = {.sa_handler = top_on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    setlocale(LC_CTYPE, "");
    SCREEN *screen = newterm(NULL, stdout, stdin);
    if (screen == NULL) {
        cli_error("top: no terminfo entry for TERM=%s (try TERM=xterm-256color, or cell top -n 1)", term);
        return 1;
    }
    set_term(screen);
    top_screen_init(t);
    top_follow_selection(t);
    long long next_poll = t->polled_ms + TOP_INTERVAL_MS; /* cmd_top polled once already */
    bool running = true;
    while (running && !top_signal) {
        long long now = monotonic_ms();
        if (now >= next_poll) {
            top_refresh(t);
            next_poll = now + TOP_INTERVAL_MS;
        }
        top_draw(t);
        struct pollfd fds[1 + TOP_MAX_PENDING];
        struct top_pending *owner[1 + TOP_MAX_PENDING];
        nfds_t n = 0;
        fds[n++] = (struct pollfd){.fd = STDIN_FILENO, .events = POLLIN};
        for (int i = 0; i < TOP_MAX_PENDING; i++)
            if (t->pending[i].fd >= 0) {
                owner[n] = &t->pending[i];
                fds[n++] = (struct pollfd){.fd = t->pending[i].fd, .events = POLLIN};
            }
        long long wait = next_poll - monotonic_ms();
        int ready = poll(fds, n, wait > 0 ? (int)wait : 0);
        if (ready < 0 && errno != EINTR)
            break;
        if (ready > 0 && (fds[0].revents & (POLLHUP | POLLERR | POLLNVAL)))
            break; /* the terminal is gone */
        int ch;
        while (running && (ch = getch()) != ERR) /* also KEY_RESIZE after SIGWINCH */
            running = top_key(t, ch);
        bool answered = false;
        for (nfds_t i = 1; ready > 0 && i < n; i++)
            if (fds[i].revents) {
                top_answer(t, owner[i]);
                answered = true;
            }
        if (answered)
            next_poll = 0; /* show what the action did at once */
    }
    endwin();
    delscreen(screen);
    for (int i = 0; i < TOP_MAX_PENDING; i++)
        if (t->pending[i].fd >= 0)
            close(t->pending[i].fd); /* celld carries on; it forgets us */
    return 0;
}

void cmd_top_help(void)
{
    printf("usage: cell top [-n FRAMES]\n\n"
           "A live view of the supervised cells, refreshed every second: state, health,\n"
           "CPU %% (of one CPU, since the previous refresh), resident memory, restarts and\n"
           "uptime. Keys:\n"
           "  up/down, j/k   select a cell (g/G: first/last)\n"
           "  s              start the selected cell (as cell start)\n"
           "  S, x           stop it (as cell stop)\n"
           "  r              restart it (as cell restart)\n"
           "  l, Enter       show its last log lines (as cell logs -n); any key returns\n"
           "  q              quit\n"
           "An action shows its progress on the message line while the view goes on.\n"
           "When celld goes away, the view says so and tries again every second.\n"
           "Needs a terminal, and a celld for the root.\n"
           "  -n FRAMES  no terminal needed: print FRAMES frames as plain text, one\n"
           "             second apart, then exit (the first frame's CPU %% is the\n"
           "             average since each cell started)\n");
}

int cmd_top(int argc, char **argv, const struct cli_globals *g)
{
    long frames = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
            char *end;
            frames = strtol(argv[++i], &end, 10);
            if (*end || end == argv[i] || frames < 1) {
                cli_error("top: -n \"%s\": not a number of frames (1 or more)", argv[i]);
                return 2;
            }
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            cmd_top_help();
            return 0;
        } else {
            cli_error("top: unexpected \"%s\" (see cell top --help)", argv[i]);
            return 2;
        }
    }
    if (frames == 0 && (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO))) {
        cli_error("top: needs a terminal, and std%s is not one (cell top -n 1 prints one frame as text)",
                  isatty(STDIN_FILENO) ? "out" : "in");
        return 1;
    }
    struct top t = {.g = g, .status_fd = -1};
    for (int i = 0; i < TOP_MAX_PENDING; i++)
        t.pending[i].fd = -1;
    struct cell_err err = {0};
    if (cell_paths_init(g->root, &t.paths, &err) < 0) {
        cli_error("top: %s", err.msg);
        return 1;
    }
    t.root_label = g->root ? g->root : t.paths.run;
    signal(SIGPIPE, SIG_IGN); /* a celld that goes away is an error, not our end */
    /* no celld at all: say so before taking over the screen */
    int rc = 1;
    if (top_poll(&t, &err) < 0)
        cli_error("top: %s", err.msg);
    else
        rc = frames ? top_batch(&t, frames) : top_interactive(&t);
    if (t.status_fd >= 0)
        close(t.status_fd);
    free(t.rows);
    free(t.prev);
    return rc;
}
