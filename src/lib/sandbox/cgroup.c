/* cgroup.c - a cgroup per cell: discover the host's hierarchies, create the
 * cell's leaves with its limits, join, detect OOM kills, kill and remove.
 * See cgroup.h for the layout on v2, v1 and hybrid hosts. */
#include "sandbox/cgroup.h"
#include "sandbox/devices.h"
#include "util.h"

#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <linux/magic.h>

static const char *const v1_names[CGROUP_V1_COUNT] = {"memory", "pids", "cpu", "devices", "blkio"};

/* Find the path of the hierarchy that carries `controller` in the text of
 * /proc/self/cgroup ("ID:ctrl,ctrl:/path" lines; v2 is "0::/path"). */
static bool self_cgroup_path(const char *text, const char *controller, char *out, size_t len)
{
    for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        const char *c1 = strchr(line, ':');
        const char *eol = strchrnul(line, '\n');
        if (c1 == NULL || c1 > eol)
            continue;
        const char *c2 = strchr(c1 + 1, ':');
        if (c2 == NULL || c2 > eol)
            continue;
        bool match = false;
        if (controller == NULL) {
            match = c2 == c1 + 1 && strncmp(line, "0:", 2) == 0;
        } else {
            size_t n = strlen(controller);
            for (const char *p = c1 + 1; p < c2;) {
                const char *comma = memchr(p, ',', (size_t)(c2 - p));
                const char *end = comma ? comma : c2;
                if ((size_t)(end - p) == n && strncmp(p, controller, n) == 0)
                    match = true;
                p = end + 1;
            }
        }
        if (match) {
            size_t n = (size_t)(eol - (c2 + 1));
            if (n + 1 > len)
                return false;
            memcpy(out, c2 + 1, n);
            out[n] = '\0';
            return true;
        }
    }
    return false;
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* dir = base + path, without a trailing "/" for the root path. */
static int join_dir(char *dst, size_t len, const char *base, const char *path)
{
    int n = snprintf(dst, len, "%s%s", base, strcmp(path, "/") == 0 ? "" : path);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

int cgroup_layout_from(const char *fsroot, enum cgroup_mode mode, const char *self_cgroup, bool fake,
                       struct cgroup_layout *layout, struct cell_err *err)
{
    memset(layout, 0, sizeof *layout);
    layout->fake = fake;
    layout->v2_unified = mode == CGROUP_MODE_UNIFIED;
    if (snprintf(layout->fsroot, sizeof layout->fsroot, "%s", fsroot) >= (int)sizeof layout->fsroot)
        return cell_err_set(err, ENAMETOOLONG, "cgroup root %s", fsroot);
    char path[PATH_MAX], base[PATH_MAX];

    if (mode != CGROUP_MODE_V1 && self_cgroup_path(self_cgroup, NULL, path, sizeof path)) {
        snprintf(base, sizeof base, "%s%s", fsroot, mode == CGROUP_MODE_HYBRID ? "/unified" : "");
        snprintf(layout->v2_root, sizeof layout->v2_root, "%s", base);
        if (join_dir(layout->v2_dir, sizeof layout->v2_dir, base, path) < 0)
            return cell_err_set(err, ENAMETOOLONG, "cgroup v2 path %s", path);
        if (!is_dir(layout->v2_dir))
            layout->v2_dir[0] = '\0';
    }
    if (mode == CGROUP_MODE_UNIFIED)
        return 0;
    for (int c = 0; c < CGROUP_V1_COUNT; c++) {
        if (!self_cgroup_path(self_cgroup, v1_names[c], path, sizeof path))
            continue;
        snprintf(base, sizeof base, "%s/%s", fsroot, v1_names[c]);
        if (join_dir(layout->v1_dir[c], sizeof layout->v1_dir[c], base, path) < 0)
            return cell_err_set(err, ENAMETOOLONG, "cgroup %s path %s", v1_names[c], path);
        if (!is_dir(layout->v1_dir[c]))
            layout->v1_dir[c][0] = '\0';
    }
    return 0;
}

int cgroup_layout_detect(struct cgroup_layout *layout, struct cell_err *err)
{
    static const char fsroot[] = "/sys/fs/cgroup";
    struct statfs sfs;
    enum cgroup_mode mode;
    if (statfs(fsroot, &sfs) < 0) {
        memset(layout, 0, sizeof *layout);
        return 0; /* no cgroupfs at all: nothing to use */
    }
    if (sfs.f_type == CGROUP2_SUPER_MAGIC)
        mode = CGROUP_MODE_UNIFIED;
    else if (statfs("/sys/fs/cgroup/unified", &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC)
        mode = CGROUP_MODE_HYBRID;
    else
        mode = CGROUP_MODE_V1;
    char text[4096];
    if (read_file_at(AT_FDCWD, "/proc/self/cgroup", text, sizeof text) < 0)
        return cell_err_set(err, errno, "read /proc/self/cgroup");
    return cgroup_layout_from(fsroot, mode, text, false, layout, err);
}

bool cgroup_layout_usable(const struct cgroup_layout *layout)
{
    if (layout->v2_dir[0] && access(layout->v2_dir, W_OK) == 0)
        return true;
    for (int c = 0; c < CGROUP_V1_COUNT; c++)
        if (layout->v1_dir[c][0] && access(layout->v1_dir[c], W_OK) == 0)
            return true;
    return false;
}

/* Write a control file in a cgroup directory. In fake mode the file is created. */
static int cg_write(bool fake, const char *dir, const char *file, const char *value, struct cell_err *err)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    int fd = open(path, O_WRONLY | O_CLOEXEC | (fake ? O_CREAT | O_TRUNC : 0), 0644);
    if (fd < 0)
        return cell_err_set(err, errno, "cgroup: open %s", path);
    int rc = write_all(fd, value, strlen(value));
    int saved = errno;
    close(fd);
    if (rc < 0)
        return cell_err_set(err, saved, "cgroup: write \"%s\" to %s", value, path);
    return 0;
}

static int cg_mkdir(const char *parent, const char *name, char *out, size_t len, struct cell_err *err)
{
    if (snprintf(out, len, "%s/%s", parent, name) >= (int)len) {
        out[0] = '\0'; /* never a cut path: teardown removes what is named */
        return cell_err_set(err, ENAMETOOLONG, "cgroup %s: its path would be longer than %zu bytes, under %s", name,
                            len - 1, parent);
    }
    if (mkdir(out, 0755) < 0) {
        int saved = errno;
        out[0] = '\0';
        return cell_err_set(err, saved, "cgroup: create %s/%s", parent, name);
    }
    return 0;
}

/* Enable a controller for the children of v2 cgroup `dir` unless it already is. */
static int v2_enable_controller(bool fake, const char *dir, const char *controller, struct cell_err *err)
{
    char current[1024] = "";
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/cgroup.subtree_control", dir);
    (void)read_file_at(AT_FDCWD, path, current, sizeof current);
    size_t n = strlen(controller);
    for (char *p = current; (p = strstr(p, controller)) != NULL; p += n)
        if ((p == current || p[-1] == ' ' || p[-1] == '+') && (p[n] == '\0' || p[n] == ' ' || p[n] == '\n'))
            return 0;
    if (fake) { /* append, as the kernel would show it */
        char joined[1100];
        size_t len = strcspn(current, "\n");
        snprintf(joined, sizeof joined, "%.*s%s%s", (int)len, current, len ? " " : "", controller);
        return cg_write(true, dir, "cgroup.subtree_control", joined, err);
    }
    char value[64];
    snprintf(value, sizeof value, "+%s", controller);
    return cg_write(false, dir, "cgroup.subtree_control", value, err);
}

/* The v2 controllers a spec's limits need, enabled for the children of dir. */
static int v2_enable_for(bool fake, const char *dir, const struct cell_spec *spec, struct cell_err *err)
{
    const struct cell_limits *l = &spec->limits;
    if ((l->memory_bytes && v2_enable_controller(fake, dir, "memory", err) < 0) ||
        (l->pids && v2_enable_controller(fake, dir, "pids", err) < 0) ||
        (l->cpu_millis && v2_enable_controller(fake, dir, "cpu", err) < 0) ||
        (spec->oci.nio_throttle && v2_enable_controller(fake, dir, "io", err) < 0))
        return -1;
    return 0;
}

/* Where a unified host's leaf goes: the caller's cgroup when it can delegate
 * the controllers, otherwise <root>/cell (the root is exempt from the
 * no-internal-processes rule). */
static int v2_pick_parent(const struct cgroup_layout *layout, const struct cell_spec *spec, char *parent, size_t len,
                          struct cell_err *err)
{
    snprintf(parent, len, "%s", layout->v2_dir);
    if (v2_enable_for(layout->fake, parent, spec, err) == 0)
        return 0;
    struct cell_err first = *err;
    snprintf(parent, len, "%s/cell", layout->v2_root);
    if ((mkdir(parent, 0755) == 0 || errno == EEXIST) && v2_enable_for(layout->fake, layout->v2_root, spec, err) == 0 &&
        v2_enable_for(layout->fake, parent, spec, err) == 0)
        return 0;
    *err = first;
    return cell_err_prefix(err,
                           "cgroup v2: cannot enable the controllers for --memory/--pids/--cpus under %s (run cell "
                           "as root, or from a cgroup whose controllers are delegated): ",
                           layout->v2_dir);
}

static int v2_write_limits(const struct cell_spec *spec, struct cell_cgroup *cg, struct cell_err *err)
{
    const struct cell_limits *l = &spec->limits;
    char value[64];
    if (l->memory_bytes) {
        snprintf(value, sizeof value, "%" PRIu64, l->memory_bytes);
        if (cg_write(cg->fake, cg->v2_path, "memory.max", value, err) < 0)
            return -1;
        /* no swap, so the limit is a limit; absent without swap accounting */
        struct cell_err ignored;
        (void)cg_write(cg->fake, cg->v2_path, "memory.swap.max", "0", &ignored);
    }
    if (l->pids) {
        snprintf(value, sizeof value, "%" PRIu64, l->pids);
        if (cg_write(cg->fake, cg->v2_path, "pids.max", value, err) < 0)
            return -1;
    }
    if (l->cpu_millis) {
        snprintf(value, sizeof value, "%" PRIu64 " 100000", l->cpu_millis * 100);
        if (cg_write(cg->fake, cg->v2_path, "cpu.max", value, err) < 0)
            return -1;
    }
    /* io.max: one line per device with each of its throttles, one write each */
    static const char *const keys[CELL_IO_KINDS] = {"rbps", "wbps", "riops", "wiops"};
    const struct cell_io_throttle *t = spec->oci.io_throttle;
    for (size_t i = 0; i < spec->oci.nio_throttle; i++) {
        bool first = true;
        for (size_t j = 0; j < i && first; j++)
            first = t[j].major != t[i].major || t[j].minor != t[i].minor;
        if (!first)
            continue; /* its line is written */
        char line[160];
        int n = snprintf(line, sizeof line, "%u:%u", t[i].major, t[i].minor);
        for (size_t j = i; j < spec->oci.nio_throttle; j++)
            if (t[j].major == t[i].major && t[j].minor == t[i].minor)
                n += snprintf(line + n, sizeof line - (size_t)n, " %s=%" PRIu64, keys[t[j].kind], t[j].rate);
        if (cg_write(cg->fake, cg->v2_path, "io.max", line, err) < 0)
            return cell_err_prefix(err, "linux.resources.blockIO (is %u:%u a whole block device?): ", t[i].major,
                                   t[i].minor);
    }
    return 0;
}

static int v1_write_limit(const struct cell_spec *spec, int c, struct cell_cgroup *cg, struct cell_err *err)
{
    const struct cell_limits *l = &spec->limits;
    char value[64];
    switch (c) {
    case CGROUP_V1_MEMORY: {
        snprintf(value, sizeof value, "%" PRIu64, l->memory_bytes);
        if (cg_write(cg->fake, cg->v1_path[c], "memory.limit_in_bytes", value, err) < 0)
            return -1;
        struct cell_err ignored; /* memsw exists only with swap accounting */
        (void)cg_write(cg->fake, cg->v1_path[c], "memory.memsw.limit_in_bytes", value, &ignored);
        return 0;
    }
    case CGROUP_V1_PIDS:
        snprintf(value, sizeof value, "%" PRIu64, l->pids);
        return cg_write(cg->fake, cg->v1_path[c], "pids.max", value, err);
    case CGROUP_V1_CPU:
        if (cg_write(cg->fake, cg->v1_path[c], "cpu.cfs_period_us", "100000", err) < 0)
            return -1;
        snprintf(value, sizeof value, "%" PRIu64, l->cpu_millis * 100);
        return cg_write(cg->fake, cg->v1_path[c], "cpu.cfs_quota_us", value, err);
    case CGROUP_V1_DEVICES:
        return (cg->fake ? devices_v1_write_fake : devices_v1_write)(cg->v1_path[c], spec->oci.device_rules,
                                                                     spec->oci.ndevice_rules, err);
    case CGROUP_V1_BLKIO: {
        static const char *const files[CELL_IO_KINDS] = {
            "blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device", "blkio.throttle.read_iops_device",
            "blkio.throttle.write_iops_device"};
        for (size_t i = 0; i < spec->oci.nio_throttle; i++) {
            const struct cell_io_throttle *t = &spec->oci.io_throttle[i];
            snprintf(value, sizeof value, "%u:%u %" PRIu64, t->major, t->minor, t->rate);
            if (cg_write(cg->fake, cg->v1_path[c], files[t->kind], value, err) < 0)
                return cell_err_prefix(err, "linux.resources.blockIO (is %u:%u a whole block device?): ", t->major,
                                       t->minor);
        }
        return 0;
    }
    }
    return 0;
}

static const char *const limit_flags[CGROUP_V1_COUNT] = {"--memory", "--pids", "--cpus", "linux.resources.devices",
                                                         "linux.resources.blockIO"};

static bool limit_wanted(const struct cell_spec *spec, int c)
{
    const struct cell_limits *l = &spec->limits;
    switch (c) {
    case CGROUP_V1_MEMORY:
        return l->memory_bytes != 0;
    case CGROUP_V1_PIDS:
        return l->pids != 0;
    case CGROUP_V1_CPU:
        return l->cpu_millis != 0;
    case CGROUP_V1_DEVICES:
        return spec->oci.device_cgroup;
    default:
        return spec->oci.nio_throttle != 0;
    }
}

int cgroup_update_limits(struct cell_cgroup *cg, const struct cell_limits *limits, struct cell_err *err)
{
    struct cell_spec spec = {.limits = *limits}; /* limits only: the device list stays */
    static const char *const v2_files[CGROUP_V1_COUNT] = {"memory.max", "pids.max", "cpu.max", NULL, NULL};
    for (int c = 0; c < CGROUP_V1_COUNT; c++) {
        if (!limit_wanted(&spec, c))
            continue;
        char file[CGROUP_PATH_MAX + 32];
        snprintf(file, sizeof file, "%s/%s", cg->v2_path, v2_files[c]);
        if (cg->v2_path[0] && access(file, F_OK) == 0) {
            struct cell_spec one = {0};
            if (c == CGROUP_V1_MEMORY)
                one.limits.memory_bytes = limits->memory_bytes;
            else if (c == CGROUP_V1_PIDS)
                one.limits.pids = limits->pids;
            else
                one.limits.cpu_millis = limits->cpu_millis;
            if (v2_write_limits(&one, cg, err) < 0)
                return -1;
        } else if (cg->v1_path[c][0]) {
            if (v1_write_limit(&spec, c, cg, err) < 0)
                return -1;
        } else {
            return cell_err_set(err, 0,
                                "cgroup %s: no %s controller: the cell was started without %s, and one cannot be "
                                "added to it on this host",
                                cg->name,
                                c == CGROUP_V1_MEMORY ? "memory"
                                : c == CGROUP_V1_PIDS ? "pids"
                                                      : "cpu",
                                limit_flags[c]);
        }
    }
    if (limits->memory_bytes)
        cg->memory_limit = limits->memory_bytes;
    return 0;
}

/* cgroupsPath in one hierarchy: its leaf's parent (made, with its own
 * missing parents) and its name. `root` is the hierarchy's root, `own` the
 * caller's cgroup in it. */
static int oci_leaf_parent(const char *root, const char *own, const char *cgroups_path, char *parent, size_t len,
                           const char **leaf, struct cell_err *err)
{
    const char *slash = strrchr(cgroups_path, '/');
    *leaf = slash ? slash + 1 : cgroups_path;
    bool below = cgroups_path[0] != '/' && slash; /* "a/b": "/a" under own; "b": own itself */
    int n = snprintf(parent, len, "%s%s%.*s", cgroups_path[0] == '/' ? root : own, below ? "/" : "",
                     slash ? (int)(slash - cgroups_path) : 0, cgroups_path);
    if (n < 0 || (size_t)n >= len)
        return cell_err_set(err, ENAMETOOLONG, "linux.cgroupsPath %s: too long under %s", cgroups_path, root);
    size_t base = strlen(cgroups_path[0] == '/' ? root : own);
    for (char *p = parent + base + 1; p <= parent + n; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(parent, 0755) < 0 && errno != EEXIST) {
            int saved = errno;
            *p = c;
            return cell_err_set(err, saved, "linux.cgroupsPath %s: create %s", cgroups_path, parent);
        }
        *p = c;
    }
    return 0;
}

/* A unified host's limits under cgroupsPath: the controllers enabled in
 * every cgroup from the root down to the leaf's parent. */
static int v2_enable_along(const struct cgroup_layout *layout, const struct cell_spec *spec, const char *parent,
                           struct cell_err *err)
{
    char dir[PATH_MAX];
    size_t root = strlen(layout->v2_root);
    snprintf(dir, sizeof dir, "%s", parent);
    for (char *p = dir + root;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (v2_enable_for(layout->fake, dir, spec, err) < 0)
            return cell_err_prefix(err, "linux.cgroupsPath %s: ", spec->oci.cgroups_path);
        *p = c;
        if (c == '\0')
            return 0;
    }
}

int cgroup_create_early(const struct cgroup_layout *layout, const struct cell_spec *spec, pid_t owner,
                        unsigned generation, struct cell_cgroup *cg, struct cell_err *err)
{
    memset(cg, 0, sizeof *cg);
    cg->fake = layout->fake;
    cg->v2_fd = -1;
    cg->memory_limit = spec->limits.memory_bytes;
    if (generation)
        snprintf(cg->name, sizeof cg->name, "cell.%s.g%u.%d", spec->name, generation, (int)owner);
    else
        snprintf(cg->name, sizeof cg->name, "cell.%s.%d", spec->name, (int)owner);

    bool limits = limit_wanted(spec, CGROUP_V1_MEMORY) || limit_wanted(spec, CGROUP_V1_PIDS) ||
                  limit_wanted(spec, CGROUP_V1_CPU) || limit_wanted(spec, CGROUP_V1_BLKIO);
    if (layout->v2_unified && limits && !layout->v2_dir[0]) {
        for (int c = 0; c < CGROUP_V1_COUNT; c++)
            if (limit_wanted(spec, c))
                return cell_err_set(err, 0, "%s: the caller's cgroup v2 directory was not found under %s",
                                    limit_flags[c], layout->v2_root);
    }
    const char *cgroups_path = spec->oci.cgroups_path;
    if (cgroups_path) {
        const char *slash = strrchr(cgroups_path, '/');
        snprintf(cg->name, sizeof cg->name, "%s", slash ? slash + 1 : cgroups_path);
    }
    if (layout->v2_dir[0] && cgroups_path) {
        char parent[PATH_MAX];
        const char *leaf;
        if (oci_leaf_parent(layout->v2_root, layout->v2_dir, cgroups_path, parent, sizeof parent, &leaf, err) < 0 ||
            (layout->v2_unified && limits && v2_enable_along(layout, spec, parent, err) < 0) ||
            cg_mkdir(parent, leaf, cg->v2_path, sizeof cg->v2_path, err) < 0)
            goto fail;
    } else if (layout->v2_dir[0]) {
        char parent[PATH_MAX];
        snprintf(parent, sizeof parent, "%s", layout->v2_dir);
        if (layout->v2_unified && limits && v2_pick_parent(layout, spec, parent, sizeof parent, err) < 0)
            goto fail;
        if (strcmp(parent, layout->v2_dir) != 0 && snprintf(cg->v2_shared_parent, sizeof cg->v2_shared_parent, "%s",
                                                            parent) >= (int)sizeof cg->v2_shared_parent) {
            cg->v2_shared_parent[0] = '\0'; /* never a cut path: it is removed later */
            cell_err_set(err, ENAMETOOLONG, "cgroup %s: its parent's path is longer than %zu bytes: %s", cg->name,
                         sizeof cg->v2_shared_parent - 1, parent);
            goto fail;
        }
        /* ENOENT: another cell's teardown removed the shared parent just now */
        if (cg_mkdir(parent, cg->name, cg->v2_path, sizeof cg->v2_path, err) < 0 &&
            !(err->errnum == ENOENT && cg->v2_shared_parent[0] &&
              v2_pick_parent(layout, spec, parent, sizeof parent, err) == 0 &&
              cg_mkdir(parent, cg->name, cg->v2_path, sizeof cg->v2_path, err) == 0))
            goto fail;
    }
    if (layout->v2_dir[0]) {
        cg->v2_fd = open(cg->v2_path, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        if (cg->v2_fd < 0) {
            cell_err_set(err, errno, "cgroup: open %s", cg->v2_path);
            goto fail;
        }
        if (layout->v2_unified && v2_write_limits(spec, cg, err) < 0)
            goto fail;
        /* before the cell's first process is in it; a test tree has no kernel to load it into */
        if (spec->oci.device_cgroup && !cg->fake &&
            devices_bpf_attach(cg->v2_fd, spec->oci.device_rules, spec->oci.ndevice_rules, err) < 0) {
            cell_err_prefix(err, "linux.resources.devices: cgroup %s: ", cg->v2_path);
            goto fail;
        }
        cg->devices_bpf = spec->oci.device_cgroup;
    }
    if (layout->v2_unified && spec->oci.device_cgroup && !cg->devices_bpf) {
        cell_err_set(err, 0, "linux.resources.devices: the caller's cgroup v2 directory was not found under %s",
                     layout->v2_root);
        goto fail;
    }
    if (layout->v2_unified)
        return 0;
    /* plan the v1 leaves: their paths are known (and a missing controller is
     * an error) now; cgroup_create_late makes them */
    for (int c = 0; c < CGROUP_V1_COUNT; c++) {
        /* under a cgroupsPath its callers read usage from (podman stats, a
         * kubelet): memory, pids and cpu always, where the host has them */
        bool accounted = cgroups_path && c <= CGROUP_V1_CPU && layout->v1_dir[c][0];
        if ((!limit_wanted(spec, c) && !accounted) || (c == CGROUP_V1_DEVICES && cg->devices_bpf))
            continue;
        if (!layout->v1_dir[c][0]) {
            cell_err_set(err, 0, "%s: this host has no %s cgroup controller mounted", limit_flags[c], v1_names[c]);
            goto fail;
        }
        char parent[PATH_MAX], root[PATH_MAX];
        const char *leaf = cg->name;
        snprintf(parent, sizeof parent, "%s", layout->v1_dir[c]);
        snprintf(root, sizeof root, "%s/%s", layout->fsroot, v1_names[c]);
        if (cgroups_path &&
            oci_leaf_parent(root, layout->v1_dir[c], cgroups_path, parent, sizeof parent, &leaf, err) < 0)
            goto fail;
        if (snprintf(cg->v1_path[c], sizeof cg->v1_path[c], "%s/%s", parent, leaf) >= (int)sizeof cg->v1_path[c]) {
            cg->v1_path[c][0] = '\0';
            cell_err_set(err, ENAMETOOLONG, "cgroup %s: its path would be longer than %zu bytes, under %s", cg->name,
                         sizeof cg->v1_path[c] - 1, layout->v1_dir[c]);
            goto fail;
        }
        cg->v1_planned[c] = true;
    }
    return 0;
fail:;
    struct cell_err ignored;
    cgroup_destroy(cg, &ignored);
    return -1;
}

int cgroup_create_late(const struct cell_spec *spec, struct cell_cgroup *cg, struct cell_err *err)
{
    for (int c = 0; c < CGROUP_V1_COUNT; c++) {
        if (!cg->v1_planned[c])
            continue;
        if (mkdir(cg->v1_path[c], 0755) < 0)
            return cell_err_set(err, errno, "cgroup: create %s", cg->v1_path[c]);
        cg->v1_planned[c] = false;
        if (limit_wanted(spec, c) && v1_write_limit(spec, c, cg, err) < 0)
            return -1;
    }
    return 0;
}

int cgroup_create(const struct cgroup_layout *layout, const struct cell_spec *spec, pid_t owner, struct cell_cgroup *cg,
                  struct cell_err *err)
{
    if (cgroup_create_early(layout, spec, owner, 0, cg, err) < 0)
        return -1;
    if (cgroup_create_late(spec, cg, err) < 0) {
        struct cell_err ignored;
        cgroup_destroy(cg, &ignored);
        return -1;
    }
    return 0;
}

int cgroup_attach(const struct cell_cgroup *cg, pid_t pid, struct cell_err *err)
{
    char value[32];
    snprintf(value, sizeof value, "%d", (int)pid);
    for (int c = 0; c < CGROUP_V1_COUNT; c++)
        if (cg->v1_path[c][0] && cg_write(cg->fake, cg->v1_path[c], "cgroup.procs", value, err) < 0)
            return -1;
    return 0;
}

int cgroup_join_self(const struct cell_cgroup *cg, const char *prefix, struct cell_err *err)
{
    for (int c = 0; c < CGROUP_V1_COUNT; c++) {
        if (!cg->v1_path[c][0])
            continue;
        char dir[PATH_MAX + 64];
        if (snprintf(dir, sizeof dir, "%s%s", prefix, cg->v1_path[c]) >= (int)sizeof dir)
            return cell_err_set(err, ENAMETOOLONG, "cgroup: join %s", cg->v1_path[c]);
        /* "0" in tasks moves the calling thread, init's only one */
        if (cg_write(cg->fake, dir, "tasks", "0", err) < 0)
            return -1;
    }
    return 0;
}

/* Read "key N" from a flat-keyed cgroup file. */
static uint64_t cg_read_key(const char *dir, const char *file, const char *key)
{
    char path[PATH_MAX], text[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    if (read_file_at(AT_FDCWD, path, text, sizeof text) < 0)
        return 0;
    size_t n = strlen(key);
    for (char *line = text; line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
        if (strncmp(line, key, n) == 0 && line[n] == ' ')
            return strtoull(line + n + 1, NULL, 10);
    return 0;
}

uint64_t cgroup_oom_kills(const struct cell_cgroup *cg)
{
    uint64_t n = 0;
    if (cg->v2_path[0])
        n += cg_read_key(cg->v2_path, "memory.events", "oom_kill");
    if (cg->v1_path[CGROUP_V1_MEMORY][0])
        n += cg_read_key(cg->v1_path[CGROUP_V1_MEMORY], "memory.oom_control", "oom_kill");
    return n;
}

bool cgroup_oom_killed(const struct cell_cgroup *cg)
{
    return cgroup_oom_kills(cg) > 0;
}

/* Send `sig` to every process listed in DIR/cgroup.procs; false when it
 * cannot be read. */
static bool signal_procs(const char *dir, int sig)
{
    char path[PATH_MAX], text[65536];
    snprintf(path, sizeof path, "%s/cgroup.procs", dir);
    if (read_file_at(AT_FDCWD, path, text, sizeof text) < 0)
        return false;
    for (char *p = text; *p;) {
        char *end;
        long pid = strtol(p, &end, 10);
        if (end == p)
            break;
        if (pid > 0)
            kill((pid_t)pid, sig);
        p = end + strspn(end, "\n");
    }
    return true;
}

void cgroup_kill_all(const struct cell_cgroup *cg)
{
    struct cell_err ignored;
    if (cg->v2_path[0] && cg_write(cg->fake, cg->v2_path, "cgroup.kill", "1", &ignored) == 0)
        return;
    for (int c = 0; c < CGROUP_V1_COUNT; c++)
        if (cg->v1_path[c][0])
            (void)signal_procs(cg->v1_path[c], SIGKILL);
}

/* The directory whose cgroup.procs lists the cell's processes: its v2
 * leaf, or a v1 one (each lists them all); NULL without any. */
static const char *procs_dir(const struct cell_cgroup *cg)
{
    if (cg->v2_path[0])
        return cg->v2_path;
    for (int c = 0; c < CGROUP_V1_COUNT; c++)
        if (cg->v1_path[c][0])
            return cg->v1_path[c];
    return NULL;
}

int cgroup_signal_all(const struct cell_cgroup *cg, int sig, struct cell_err *err)
{
    const char *dir = procs_dir(cg);
    if (dir == NULL || !signal_procs(dir, sig))
        return cell_err_set(err, dir ? errno : 0, "cgroup %s: read its processes", cg->name);
    return 0;
}

int cgroup_procs(const struct cell_cgroup *cg, pid_t *pids, size_t max, size_t *n, struct cell_err *err)
{
    const char *dir = procs_dir(cg);
    char path[PATH_MAX], text[65536];
    *n = 0;
    snprintf(path, sizeof path, "%s/cgroup.procs", dir ? dir : "");
    if (dir == NULL || read_file_at(AT_FDCWD, path, text, sizeof text) < 0)
        return cell_err_set(err, dir ? errno : 0, "cgroup %s: read its processes", cg->name);
    for (char *p = text; *p && *n < max;) {
        char *end;
        long pid = strtol(p, &end, 10);
        if (end == p)
            break;
        pids[(*n)++] = (pid_t)pid;
        p = end + strspn(end, "\n");
    }
    return 0;
}

int cgroup_freeze(const struct cell_cgroup *cg, bool frozen, struct cell_err *err)
{
    if (!cg->v2_path[0])
        return cell_err_set(err, 0, "cgroup %s: freezing needs a cgroup v2 leaf, which it has not", cg->name);
    if (cg_write(cg->fake, cg->v2_path, "cgroup.freeze", frozen ? "1" : "0", err) < 0)
        return -1;
    /* the kernel freezes the processes one by one: until it says so */
    char path[PATH_MAX], events[512];
    snprintf(path, sizeof path, "%s/cgroup.events", cg->v2_path);
    for (int i = 0; i < 1000; i++) {
        char *f = read_file_at(AT_FDCWD, path, events, sizeof events) > 0 ? strstr(events, "frozen ") : NULL;
        if (f == NULL || f[7] == (frozen ? '1' : '0'))
            break;
        usleep(1000);
    }
    return 0;
}

bool cgroup_frozen(const struct cell_cgroup *cg)
{
    char path[PATH_MAX], text[8];
    snprintf(path, sizeof path, "%s/cgroup.freeze", cg->v2_path);
    return cg->v2_path[0] && read_file_at(AT_FDCWD, path, text, sizeof text) > 0 && text[0] == '1';
}

/* In fake mode a directory holds the files we wrote; a cgroupfs removes its own. */
static void fake_empty_dir(const char *dir)
{
    cleanup_dir DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            unlinkat(dirfd(d), e->d_name, 0);
}

static int cg_rmdir(bool fake, char *path, struct cell_err *err)
{
    if (!path[0])
        return 0;
    if (fake)
        fake_empty_dir(path);
    /* Processes of a dead pid namespace may take a moment to leave. */
    for (int attempt = 0; rmdir(path) < 0; attempt++) {
        if (errno == ENOENT)
            break;
        if (errno != EBUSY || attempt >= 2000)
            return cell_err_set(err, errno, "cgroup: remove %s", path);
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    path[0] = '\0';
    return 0;
}

int cgroup_destroy(struct cell_cgroup *cg, struct cell_err *err)
{
    int rc = 0; /* a planned leaf never made is simply not found */
    if (cg->v2_fd >= 0) {
        close(cg->v2_fd);
        cg->v2_fd = -1;
    }
    for (int c = 0; c < CGROUP_V1_COUNT; c++)
        if (cg_rmdir(cg->fake, cg->v1_path[c], err) < 0)
            rc = -1;
    if (cg_rmdir(cg->fake, cg->v2_path, err) < 0)
        rc = -1;
    /* the shared <v2 root>/cell parent goes with its last cell (EBUSY while
     * another cell uses it: that one removes it) */
    if (cg->v2_shared_parent[0]) {
        if (cg->fake)
            fake_empty_dir(cg->v2_shared_parent);
        if (rmdir(cg->v2_shared_parent) == 0)
            cg->v2_shared_parent[0] = '\0';
    }
    return rc;
}
