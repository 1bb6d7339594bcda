/* celld_client.c - what the commands that talk to celld share (cmd_cells.c,
 * cmd_top.c, and cellman): finding or starting celld for a root, connecting
 * to it, building a request, reading the last lines of a cell's log file,
 * and the global options both cell and cellman read. */
#include "celld_client.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* celld lives next to the cell binary (build/ or PREFIX/bin). */
static int celld_path(char *out, size_t len)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n < 0)
        return -1;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash == NULL)
        return -1;
    *slash = '\0';
    return snprintf(out, len, "%s/celld", self) < (int)len ? 0 : -1;
}

#define CELLD_EXTRA_ARGS 32

/* $CELL_CELLD_ARGS: more options for a celld this command starts, split at
 * spaces (no quoting), e.g. "--events-nats nats://127.0.0.1:4222". */
static int celld_extra_args(char *buf, size_t len, const char **out, struct cell_err *err)
{
    const char *env = getenv("CELL_CELLD_ARGS");
    int n = 0;
    if (env == NULL)
        return 0;
    if (snprintf(buf, len, "%s", env) >= (int)len)
        return cell_err_set(err, 0, "CELL_CELLD_ARGS is too long");
    for (char *save = NULL, *w = strtok_r(buf, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save)) {
        if (n == CELLD_EXTRA_ARGS)
            return cell_err_set(err, 0, "CELL_CELLD_ARGS: more than %d words", CELLD_EXTRA_ARGS);
        out[n++] = w;
    }
    return n;
}

/* Start celld in the background for this root and wait until it listens:
 * it writes "r" on the ready pipe, or "!" and why it could not start. */
static int start_celld(const struct cell_paths *p, const char *root, struct cell_err *err)
{
    char exe[PATH_MAX];
    if (celld_path(exe, sizeof exe) < 0 || access(exe, X_OK) < 0)
        return cell_err_set(err, 0, "celld is not running and %s cannot be started (is it built/installed?)", exe);
    if (cell_mkdirs(p->logs, 0700, err) < 0)
        return -1;
    char extra_buf[4096];
    const char *argv[8 + CELLD_EXTRA_ARGS] = {"celld"};
    int argc = 1;
    if (root) {
        argv[argc++] = "--root";
        argv[argc++] = root;
    }
    argv[argc++] = "--ready-fd";
    argv[argc++] = "3"; /* the ready pipe, below */
    int extra = celld_extra_args(extra_buf, sizeof extra_buf, argv + argc, err);
    if (extra < 0)
        return -1;
    argc += extra;
    int ready[2];
    if (pipe2(ready, O_CLOEXEC) < 0)
        return cell_err_set(err, errno, "start celld: pipe");
    pid_t pid = fork();
    if (pid < 0)
        return cell_err_set(err, errno, "start celld: fork");
    if (pid == 0) {
        setsid();
        char log[PATH_MAX + 16];
        snprintf(log, sizeof log, "%s/celld.log", p->logs);
        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
        int out = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (null >= 0)
            dup2(null, 0);
        if (out >= 0) {
            dup2(out, 1);
            dup2(out, 2);
        }
        /* celld keeps nothing of ours but the ready pipe (as fd 3): a test
         * harness or a shell must not wait on a pipe a daemon holds */
        if (dup2(ready[1], 3) < 0)
            _exit(127);
        syscall(SYS_close_range, 4, ~0U, 0);
        execv(exe, (char *const *)argv);
        _exit(127);
    }
    close(ready[1]);
    char answer[sizeof err->msg];
    size_t have = 0;
    ssize_t n;
    /* "r" is all there is on success; an error runs until celld exits */
    while (have < sizeof answer - 1 && (have == 0 || answer[0] == '!') &&
           ((n = read(ready[0], answer + have, sizeof answer - 1 - have)) > 0 || (n < 0 && errno == EINTR)))
        if (n > 0)
            have += (size_t)n;
    answer[have] = '\0';
    close(ready[0]);
    if (have > 0 && answer[0] == 'r')
        return 0;
    int status = 0;
    waitpid(pid, &status, 0);
    if (have > 1 && answer[0] == '!')
        return cell_err_set(err, 0, "celld did not start: %s (log: %s/celld.log)", answer + 1, p->logs);
    return cell_err_set(err, 0, "celld did not start (exit %d); see %s/celld.log", WEXITSTATUS(status), p->logs);
}

/* connect_celld failed because no celld serves the root (not for another reason) */
bool celld_absent(const struct cell_err *err)
{
    return err->errnum == ENOENT || err->errnum == ECONNREFUSED;
}

/* Whether DIR/cells holds a state file (see src/celld/state.c). */
static bool has_state_files(const char *dir)
{
    char path[PATH_MAX + 8];
    snprintf(path, sizeof path, "%s/cells", dir);
    DIR *d = opendir(path);
    if (d == NULL)
        return false;
    bool found = false;
    for (struct dirent *e; !found && (e = readdir(d));) {
        size_t n = strlen(e->d_name);
        found = n > 5 && strcmp(e->d_name + n - 5, ".json") == 0;
    }
    closedir(d);
    return found;
}

/* A connection to celld for this root. celld is started when it is not
 * running and `start` asks for it, or cells are declared: a celld that was
 * killed is replaced by the next command, and takes its cells over. */
int connect_celld(const struct cli_globals *g, bool start, struct cell_err *err)
{
    struct cell_paths p;
    if (cell_paths_init(g->root, &p, err) < 0)
        return -1;
    int fd = cell_control_connect(&p, err);
    if (fd >= 0 || !celld_absent(err))
        return fd;
    if (!start && !has_state_files(p.data) && !has_state_files(p.run)) {
        int e = err->errnum;
        cell_err_set(err, 0, "no celld serves %s, so there are no supervised cells (declare one with cell run -d)",
                     p.run);
        err->errnum = e;
        return -1;
    }
    if (start_celld(&p, g->root, err) < 0)
        return -1;
    return cell_control_connect(&p, err);
}

json_t *request(const char *op)
{
    json_t *r = json_object();
    json_object_set_new(r, "op", json_string(op));
    return r;
}

void log_tail_free(struct log_tail *t)
{
    for (size_t i = 0; i < t->count; i++)
        free(t->lines[i]);
    free(t->lines);
    t->lines = NULL;
    t->count = 0;
}

int log_tail_read(const struct cli_globals *g, const char *name, size_t max, struct log_tail *t, struct cell_err *err)
{
    memset(t, 0, sizeof *t);
    struct cell_paths p;
    if (cell_paths_init(g->root, &p, err) < 0)
        return -1;
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s.log", p.logs, name);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        int e = errno;
        cell_err_set(err, 0, "cell %s: no log at %s: %s (cell status lists the cells)", name, path, strerror(e));
        err->errnum = e;
        return -1;
    }
    if (max == 0) {
        fclose(f);
        return 0;
    }
    /* keep the last `max` lines in a ring, then put them in order */
    char **ring = calloc(max, sizeof *ring);
    if (ring == NULL) {
        fclose(f);
        return cell_err_set(err, ENOMEM, "cell %s: read %s", name, path);
    }
    size_t count = 0;
    char *line = NULL;
    size_t len = 0;
    while (getline(&line, &len, f) >= 0) {
        free(ring[count % max]);
        ring[count % max] = strdup(line);
        count++;
    }
    free(line);
    fclose(f);
    t->count = count < max ? count : max;
    t->lines = calloc(t->count + 1, sizeof *t->lines);
    for (size_t i = 0; i < t->count; i++)
        t->lines[i] = ring[(count - t->count + i) % max];
    free(ring);
    if (t->lines == NULL) {
        t->count = 0;
        return cell_err_set(err, ENOMEM, "cell %s: read %s", name, path);
    }
    return 0;
}

int desired_state_dir(const char *root, const char *config, char *out, size_t len)
{
    int n = config ? snprintf(out, len, "%s", config)
            : root ? snprintf(out, len, "%s/etc", root)
                   : snprintf(out, len, "/etc/cell");
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

bool option_value(const char *name, int argc, char **argv, int *i, const char **value)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strcmp(a, name) == 0 && *i + 1 < argc) {
        *value = argv[++*i];
        return true;
    }
    if (strncmp(a, name, n) == 0 && a[n] == '=') {
        *value = a + n + 1;
        return true;
    }
    return false;
}

json_t *celld_call(const struct cli_globals *g, json_t *req, bool start)
{
    struct cell_err err = {0};
    int fd = connect_celld(g, start, &err);
    json_t *answer = fd < 0 ? NULL : cell_control_call(fd, req, &err);
    if (fd >= 0)
        close(fd);
    json_decref(req);
    if (answer == NULL)
        fprintf(stderr, "cell: %s\n", err.msg);
    return answer;
}
