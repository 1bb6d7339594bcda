/* report.c - the residue check of a job's teardown report: after the cell
 * is destroyed and its secrets revoked, look for anything of it that is
 * still there, from the outside (the same places a test would look):
 *   process     a process in one of the cell's cgroup directories
 *               (cgroup.procs)
 *   cgroup      the cell's cgroup directories (v2 leaf, v1 leaves)
 *   mount       a mount point under the job's private directory
 *               (/proc/self/mountinfo: the working directory's and the
 *               secrets' tmpfs)
 *   secret-file a file of the secrets directory
 *   directory   the private directory, its root/ and secrets/
 *   network-namespace  the cell's (by its nsfs inode), kept by a mount of
 *               it (an nsfs mount in /proc/self/mountinfo); a process of
 *               the cell keeps it too, and is listed as one
 *   nftables    its egress table, in such a namespace
 *   link        the host end of its veth link
 * Each is listed as {"kind", "what"}; an empty list means nothing is left. */
#include "job/internal.h"
#include "util.h"
#include "sandbox/egress.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void found(json_t *residue, const char *kind, const char *what)
{
    json_array_append_new(residue, json_pack("{s:s, s:s}", "kind", kind, "what", what));
}

/* The processes still in the cell's cgroups: what cgroup.procs of each of
 * its directories that is still there lists (each pid once). A process
 * cannot leave a cgroup without root, and a cgroup that holds one cannot
 * be removed: a cell whose directories are gone has no process left. This
 * costs a few reads however many processes the host runs. */
static void check_processes(json_t *residue, json_t *cgroup)
{
    const char *dirs[16];
    size_t n = 0;
    const char *v2 = json_string_value(json_object_get(cgroup, "v2"));
    if (v2 && v2[0])
        dirs[n++] = v2;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(cgroup, "v1"), i, v)
    {
        if (n < ARRAY_SIZE(dirs) && json_string_value(v) && json_string_value(v)[0])
            dirs[n++] = json_string_value(v);
    }
    long seen[64];
    size_t nseen = 0;
    for (size_t d = 0; d < n; d++) {
        char path[PATH_MAX + 16];
        snprintf(path, sizeof path, "%s/cgroup.procs", dirs[d]);
        FILE *f = fopen(path, "re");
        long pid;
        while (f && fscanf(f, "%ld", &pid) == 1) {
            bool dup = false;
            for (size_t k = 0; k < nseen && !dup; k++)
                dup = seen[k] == pid;
            if (dup)
                continue;
            if (nseen < ARRAY_SIZE(seen))
                seen[nseen++] = pid;
            char what[PATH_MAX + 48];
            snprintf(what, sizeof what, "pid %ld in %s", pid, dirs[d]);
            found(residue, "process", what);
        }
        if (f)
            fclose(f);
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

bool job_netns_of(pid_t pid, dev_t *dev, ino_t *ino)
{
    char path[64];
    struct stat st;
    snprintf(path, sizeof path, "/proc/%d/ns/net", (int)pid);
    if (stat(path, &st) < 0)
        return false;
    *dev = st.st_dev;
    *ino = st.st_ino;
    return true;
}

/* The cell's network namespace, if something outside the cell keeps it:
 * an nsfs mount of it (a process of the cell keeps it too, and is found
 * in the cell's cgroups); and then its egress table. */
static void check_netns(json_t *residue, const struct job_traces *t)
{
    if (t->netns_ino == 0)
        return;
    char what[PATH_MAX + 96], path[PATH_MAX] = "";
    unsigned long long ino = (unsigned long long)t->netns_ino;
    char root[64];
    snprintf(root, sizeof root, "net:[%llu]", ino);
    FILE *f = fopen("/proc/self/mountinfo", "re");
    char *line = NULL;
    size_t cap = 0;
    while (f && getline(&line, &cap, f) > 0) {
        /* id parent major:minor ROOT MOUNT-POINT ...: an nsfs mount's root
         * names the namespace */
        char *fields[5] = {line};
        for (int k = 1; k < 5 && fields[k - 1]; k++)
            fields[k] = strchr(fields[k - 1], ' ') ? strchr(fields[k - 1], ' ') + 1 : NULL;
        if (fields[4] == NULL || strncmp(fields[3], root, strlen(root)) != 0 || fields[3][strlen(root)] != ' ')
            continue;
        fields[4][strcspn(fields[4], " ")] = '\0';
        snprintf(what, sizeof what, "%s: mounted at %s", root, fields[4]);
        found(residue, "network-namespace", what);
        if (path[0] == '\0')
            snprintf(path, sizeof path, "%s", fields[4]);
    }
    free(line);
    if (f)
        fclose(f);
    if (t->egress && path[0] && egress_rules_left(path)) {
        snprintf(what, sizeof what, "table inet cell_egress in %s", root);
        found(residue, "nftables", what);
    }
}

json_t *residue_check(const struct job_traces *traces)
{
    json_t *residue = json_array();
    if (residue == NULL)
        return NULL;
    if (traces->cgroup)
        check_processes(residue, traces->cgroup);
    if (traces->cgroup)
        check_cgroups(residue, traces->cgroup);
    if (traces->dirs->private[0]) {
        check_mounts(residue, traces->dirs->private);
        check_paths(residue, traces->dirs);
    }
    check_netns(residue, traces);
    if (traces->egress) {
        char name[IF_NAMESIZE];
        egress_link_name(getpid(), name);
        if (egress_link_left(traces->egress_netns, name))
            found(residue, "link", name);
    }
    return residue;
}
