/* record.c - what is kept of a job handed to celld (`cell job submit`):
 * the directory <data>/jobs/<id>/ holding
 *   document.json   the document as it was submitted (it names secrets,
 *                   never holds their values)
 *   job.json        the record: id, state, pid and its start time while the
 *                   runner runs, then the outcome, exit code and the
 *                   teardown report; written atomically (write, rename)
 *   output.log      the job's stdout and stderr, and what cell said of it
 *   events.jsonl    its CloudEvents (started, completed, destroyed)
 *   export/         its artifacts, unless it was submitted with --export-dir
 * celld writes the record when it starts the runner and the runner when it
 * ends; `cell job status|logs|rm` read it without celld. A record still
 * "running" whose runner is gone (the same pid with another start time is
 * another process) is reported as "lost". */
#include "job/internal.h"
#include "util.h"

#include "cell/control.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int cell_job_record_dir(const char *root, const char *id, char *out, size_t len, struct cell_err *err)
{
    struct cell_paths paths;
    if (cell_paths_init(root, &paths, err) < 0)
        return -1;
    if (snprintf(out, len, "%s/jobs/%s", paths.data, id) >= (int)len)
        return cell_err_set(err, ENAMETOOLONG, "job %s: its record's path", id);
    return 0;
}

unsigned long long cell_job_process_start(pid_t pid)
{
    char path[64], text[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    if (read_file_at(AT_FDCWD, path, text, sizeof text) < 0)
        return 0;
    /* pid (comm) state ppid ...: field 22 is the start time; comm may hold
     * spaces and parentheses, so count from the last ')'. A zombie has
     * ended (where nobody reaps it, it stays one). */
    char *p = strrchr(text, ')');
    if (p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X'))
        return 0;
    for (int field = 2; p && field < 22; field++)
        p = strchr(p + 1, ' ');
    return p ? strtoull(p + 1, NULL, 10) : 0;
}

int cell_job_record_write(const char *dir, json_t *record, struct cell_err *err)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/job.json", dir) >= (int)sizeof path)
        return cell_err_set(err, ENAMETOOLONG, "%s/job.json", dir);
    char *text = json_dumps(record, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (text == NULL)
        return cell_err_set(err, ENOMEM, "write %s", path);
    size_t len = strlen(text);
    text[len] = '\n'; /* the NUL becomes the last newline */
    int rc = write_file_atomic(path, text, len + 1, 0600, true);
    int e = errno;
    free(text);
    return rc < 0 ? cell_err_set(err, e, "write %s", path) : 0;
}

json_t *cell_job_record_read(const char *dir, const char *id, struct cell_err *err)
{
    char path[PATH_MAX];
    struct stat st;
    if (stat(dir, &st) < 0) {
        if (errno == ENOENT)
            cell_err_set(err, 0, "no job \"%s\" (cell job status lists them)", id);
        else
            cell_err_set(err, errno, "job %s: %s", id, dir);
        return NULL;
    }
    snprintf(path, sizeof path, "%s/job.json", dir);
    json_error_t jerr;
    json_t *record = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(record)) {
        json_decref(record);
        cell_err_set(err, 0, "job %s: %s: %s (remove it with cell job rm %s)", id, path,
                     record ? "not a JSON object" : jerr.text, id);
        return NULL;
    }
    const char *state = json_string_value(json_object_get(record, "state"));
    if (state && strcmp(state, "running") == 0) {
        json_int_t pid = json_integer_value(json_object_get(record, "pid"));
        json_int_t start = json_integer_value(json_object_get(record, "pidStart"));
        if (pid <= 0 || cell_job_process_start((pid_t)pid) != (unsigned long long)start)
            json_object_set_new(record, "state", json_string("lost"));
    }
    return record;
}

json_t *cell_job_records(const char *root, struct cell_err *err)
{
    char dir[PATH_MAX];
    if (cell_job_record_dir(root, "", dir, sizeof dir, err) < 0)
        return NULL;
    json_t *all = json_array();
    cleanup_dir DIR *d = opendir(dir);
    if (d == NULL && errno != ENOENT) {
        json_decref(all);
        cell_err_set(err, errno, "read %s", dir);
        return NULL;
    }
    for (struct dirent *e; d && all && (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        char sub[PATH_MAX];
        struct cell_err ignored = {0};
        snprintf(sub, sizeof sub, "%s%s", dir, e->d_name);
        json_t *r = cell_job_record_read(sub, e->d_name, &ignored);
        if (r == NULL) /* unreadable: listed as such, so that it can be removed */
            r = json_pack("{s:s, s:s, s:s}", "id", e->d_name, "state", "unreadable", "error", ignored.msg);
        json_array_append_new(all, r);
    }
    return all;
}
