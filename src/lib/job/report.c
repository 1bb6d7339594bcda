/* report.c - the residue check of a job's teardown report: after the cell
 * is destroyed and its secrets revoked, look for anything of it that is
 * still there, from the outside (the same places a test would look):
 *   process     a process in a cgroup of the cell's leaf name
 *               (/proc/PID/cgroup), in any hierarchy
 *   cgroup      the cell's cgroup directories (v2 leaf, v1 leaves)
 *   mount       a mount point under the job's private directory
 *               (/proc/self/mountinfo: the working directory's and the
 *               secrets' tmpfs)
 *   secret-file a file of the secrets directory
 *   directory   the private directory, its root/ and secrets/
 * Each is listed as {"kind", "what"}; an empty list means nothing is left. */
#include "job/internal.h"
#include "util.h"
#include "sandbox/egress.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static void found(json_t *residue, const char *kind, const char *what)
{
    json_array_append_new(residue, json_pack("{s:s, s:s}", "kind", kind, "what", what));
}

/* Processes whose cgroup (any hierarchy) ends in /<leaf>. */
static void check_processes(json_t *residue, const char *leaf)
{
    cleanup_dir DIR *proc = opendir("/proc");
    size_t llen = strlen(leaf);
    for (struct dirent *e; proc && (e = readdir(proc));) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        char path[64], text[4096];
        snprintf(path, sizeof path, "/proc/%s/cgroup", e->d_name);
        if (read_file_at(AT_FDCWD, path, text, sizeof text) < 0)
            continue; /* gone meanwhile */
        for (char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
            size_t n = strcspn(line, "\n");
            char *p = line;
            while ((p = memmem(p, (size_t)(line + n - p), leaf, llen)) != NULL) {
                bool whole = p > line && p[-1] == '/' && (p + llen == line + n || p[llen] == '/');
                if (whole) {
                    char what[128];
                    snprintf(what, sizeof what, "pid %s in %s", e->d_name, leaf);
                    found(residue, "process", what);
                    goto next;
                }
                p += llen;
            }
        }
    next:;
    }
}

static void check_cgroups(json_t *residue, json_t *cgroup)
{
    const char *v2 = json_string_value(json_object_get(cgroup, "v2"));
    struct stat st;
    if (v2 && v2[0] && stat(v2, &st) == 0)
        found(residue, "cgroup", v2);
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(cgroup, "v1"), i, v)
    {
        const char *p = json_string_value(v);
        if (p && p[0] && stat(p, &st) == 0)
            found(residue, "cgroup", p);
    }
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void mountinfo_escape(const char *in, char *out, size_t len)
{
    size_t n = 0;
    for (; *in && n + 5 < len; in++) {
        if (*in == ' ' || *in == '\t' || *in == '\n' || *in == '\\')
            n += (size_t)snprintf(out + n, len - n, "\\%03o", (unsigned char)*in);
        else
            out[n++] = *in;
    }
    out[n] = '\0';
}

static void check_mounts(json_t *residue, const char *dir)
{
    char prefix[PATH_MAX * 2];
    mountinfo_escape(dir, prefix, sizeof prefix);
    size_t plen = strlen(prefix);
    FILE *f = fopen("/proc/self/mountinfo", "re");
    char *line = NULL;
    size_t cap = 0;
    while (f && getline(&line, &cap, f) > 0) {
        /* id parent major:minor root MOUNT-POINT ... */
        char *p = line;
        for (int field = 0; field < 4 && p; field++)
            p = strchr(p, ' ') ? strchr(p, ' ') + 1 : NULL;
        if (p == NULL)
            continue;
        p[strcspn(p, " ")] = '\0';
        if (strncmp(p, prefix, plen) == 0 && (p[plen] == '\0' || p[plen] == '/'))
            found(residue, "mount", p);
    }
    free(line);
    if (f)
        fclose(f);
}

static void check_paths(json_t *residue, const struct job_dirs *dirs)
{
    struct stat st;
    cleanup_dir DIR *secrets = opendir(dirs->secrets);
    for (struct dirent *e; secrets && (e = readdir(secrets));) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char path[PATH_MAX + NAME_MAX + 2];
        snprintf(path, sizeof path, "%s/%s", dirs->secrets, e->d_name);
        found(residue, "secret-file", path);
    }
    const char *const paths[] = {dirs->root, dirs->secrets, dirs->private};
    for (size_t i = 0; i < ARRAY_SIZE(paths); i++)
        if (paths[i][0] && lstat(paths[i], &st) == 0)
            found(residue, "directory", paths[i]);
}

json_t *residue_check(const struct job_traces *traces)
{
    json_t *residue = json_array();
    if (residue == NULL)
        return NULL;
    const char *leaf = json_string_value(json_object_get(traces->cgroup, "name"));
    if (leaf && leaf[0])
        check_processes(residue, leaf);
    if (traces->cgroup)
        check_cgroups(residue, traces->cgroup);
    if (traces->dirs->private[0]) {
        check_mounts(residue, traces->dirs->private);
        check_paths(residue, traces->dirs);
    }
    if (traces->egress) {
        char name[IF_NAMESIZE];
        egress_link_name(getpid(), name);
        if (egress_link_left(traces->egress_netns, name))
            found(residue, "link", name);
    }
    return residue;
}
