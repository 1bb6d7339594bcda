/* spec.c - struct cell_spec: defaults, ownership, and the one validation
 * function every front end goes through. */
#include "cell/cell.h"
#include "util.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <sys/stat.h>

static const char *const default_env[] = {
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME=/tmp",
};

void cell_spec_init(struct cell_spec *spec)
{
    memset(spec, 0, sizeof *spec);
    spec->profile = CELL_PROFILE_HIGH;
    spec->net_mode = CELL_NET_NONE;
    spec->supervise = (struct cell_supervision){
        .restart = CELL_RESTART_ON_FAILURE,
        .stop_timeout_ms = 5000,
        .restart_delay_ms = 1000,
        .restart_max_delay_ms = 10000,
        .stable_after_ms = 10000,
        .reset_after_ms = 30000,
        .crash_limit = 5,
        .crash_window_ms = 60000,
        .health_interval_ms = 10000,
        .health_timeout_ms = 5000,
        .health_retries = 3,
        .syslog_facility = LOG_DAEMON,
        .syslog_stdout_level = LOG_INFO,
        .syslog_stderr_level = LOG_ERR,
    };
}

static void free_strv(char **v)
{
    if (v == NULL)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

void cell_spec_free(struct cell_spec *spec)
{
    free(spec->name);
    free_strv(spec->argv);
    free_strv(spec->env);
    free(spec->cwd);
    free(spec->hostname);
    free(spec->rootfs);
    free(spec->layer);
    free(spec->ns.join_net);
    free(spec->ns.join_ipc);
    free(spec->ns.join_uts);
    free(spec->ns.join_cgroup);
    free(spec->ns.join_pid);
    free(spec->ns.join_mount);
    free(spec->ns.join_user);
    free(spec->supervise.listen_path);
    free(spec->supervise.health);
    free(spec->supervise.syslog_tag);
    for (size_t i = 0; i < spec->nmounts; i++) {
        free(spec->mounts[i].source);
        free(spec->mounts[i].destination);
        free(spec->mounts[i].data);
    }
    free_strv(spec->oci.masked_paths);
    free_strv(spec->oci.readonly_paths);
    free_strv(spec->oci.sysctls);
    free(spec->oci.domainname);
    for (size_t i = 0; i < spec->negress; i++)
        free(spec->egress[i].host);
    free(spec->egress);
    free(spec->egress_netns);
    for (size_t i = 0; i < spec->oci.ndevices; i++)
        free(spec->oci.devices[i].path);
    free(spec->oci.devices);
    free(spec->oci.device_rules);
    free(spec->oci.io_throttle);
    free(spec->oci.cgroups_path);
    free(spec->oci.uid_map);
    free(spec->oci.gid_map);
    free(spec->mounts);
    if (spec->custom_seccomp)
        free(spec->custom_seccomp->filter);
    free(spec->custom_seccomp);
    cell_spec_init(spec);
}

static size_t strv_len(char *const *v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    return n;
}

int cell_spec_set_argv(struct cell_spec *spec, char *const *argv, struct cell_err *err)
{
    size_t n = strv_len(argv);
    char **copy = calloc(n + 1, sizeof *copy);
    if (copy == NULL)
        return cell_err_set(err, errno, "set command");
    for (size_t i = 0; i < n; i++) {
        copy[i] = strdup(argv[i]);
        if (copy[i] == NULL) {
            free_strv(copy);
            return cell_err_set(err, errno, "set command");
        }
    }
    free_strv(spec->argv);
    spec->argv = copy;
    return 0;
}

/* Add or replace "K=V" in the environment. */
int cell_spec_add_env(struct cell_spec *spec, const char *kv, struct cell_err *err)
{
    const char *eq = strchr(kv, '=');
    if (eq == NULL || eq == kv)
        return cell_err_set(err, 0, "environment entry \"%s\" is not KEY=VALUE", kv);
    size_t keylen = (size_t)(eq - kv);
    size_t n = strv_len(spec->env);
    char *dup = strdup(kv);
    if (dup == NULL)
        return cell_err_set(err, errno, "add environment entry");
    for (size_t i = 0; i < n; i++) {
        if (strncmp(spec->env[i], kv, keylen + 1) == 0) {
            free(spec->env[i]);
            spec->env[i] = dup;
            return 0;
        }
    }
    char **grown = realloc(spec->env, (n + 2) * sizeof *grown);
    if (grown == NULL) {
        free(dup);
        return cell_err_set(err, errno, "add environment entry");
    }
    grown[n] = dup;
    grown[n + 1] = NULL;
    spec->env = grown;
    return 0;
}

int cell_spec_add_mount(struct cell_spec *spec, const struct cell_mount *m, struct cell_err *err)
{
    struct cell_mount *grown = realloc(spec->mounts, (spec->nmounts + 1) * sizeof *grown);
    if (grown == NULL)
        return cell_err_set(err, errno, "add mount");
    spec->mounts = grown;
    struct cell_mount *dst = &grown[spec->nmounts];
    *dst = *m;
    dst->source = m->source ? strdup(m->source) : NULL;
    dst->destination = strdup(m->destination);
    dst->data = m->data ? strdup(m->data) : NULL;
    if ((m->source && dst->source == NULL) || dst->destination == NULL || (m->data && dst->data == NULL)) {
        free(dst->source);
        free(dst->destination);
        free(dst->data);
        return cell_err_set(err, ENOMEM, "add mount %s", m->destination);
    }
    spec->nmounts++;
    return 0;
}

bool cell_name_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '-' && c != '_' && c != '.')))
            return false;
    }
    return true;
}

static bool valid_hostname(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
        if (!ok)
            return false;
    }
    return s[0] != '-' && s[0] != '.';
}

/* A path inside the cell in normal form: absolute, not "/" itself, and no
 * empty, "." or ".." component (so "//proc" cannot pass for something else);
 * one trailing "/" is allowed. */
static bool valid_cell_path(const char *p)
{
    if (p == NULL || p[0] != '/' || p[1] == '\0' || strlen(p) >= PATH_MAX)
        return false;
    for (const char *c = p; *c == '/';) {
        const char *next = strchrnul(c + 1, '/');
        size_t n = (size_t)(next - (c + 1));
        if ((n == 0 && *next != '\0') || (n == 1 && c[1] == '.') || (n == 2 && c[1] == '.' && c[2] == '.'))
            return false;
        c = next;
    }
    return true;
}

/* Paths the sandbox builds itself; a declared mount there would hide them. */
static bool reserved_destination(const char *p)
{
    static const char *const reserved[] = {"/proc", "/dev"};
    for (size_t i = 0; i < ARRAY_SIZE(reserved); i++) {
        size_t n = strlen(reserved[i]);
        if (strncmp(p, reserved[i], n) == 0 && (p[n] == '\0' || p[n] == '/'))
            return true;
    }
    return false;
}

int cell_spec_validate(struct cell_spec *spec, struct cell_err *err)
{
    if (spec->name == NULL && (spec->name = strdup("cell")) == NULL)
        return cell_err_set(err, errno, "validate spec");
    if (!cell_name_valid(spec->name))
        return cell_err_set(err, 0,
                            "name \"%s\" is not valid: use 1-63 letters, digits, '-', '_' or '.', "
                            "starting with a letter or digit",
                            spec->name);
    if (spec->argv == NULL || spec->argv[0] == NULL || spec->argv[0][0] == '\0')
        return cell_err_set(err, 0, "no command given: put it after \"--\"");
    if (spec->hostname == NULL) {
        if ((spec->hostname = strdup(spec->name)) == NULL)
            return cell_err_set(err, errno, "validate spec");
        for (char *c = spec->hostname; *c; c++) /* '_' is not valid in a hostname */
            if (*c == '_')
                *c = '-';
    }
    if (!valid_hostname(spec->hostname))
        return cell_err_set(err, 0, "hostname \"%s\" is not valid: use letters, digits, '-' and '.'", spec->hostname);
    if (spec->cwd == NULL && (spec->cwd = strdup("/")) == NULL)
        return cell_err_set(err, errno, "validate spec");
    if (spec->cwd[0] != '/')
        return cell_err_set(err, 0, "working directory \"%s\" is not an absolute path", spec->cwd);
    if (spec->negress && spec->net_mode != CELL_NET_NONE)
        return cell_err_set(err, 0, "--egress: only for a cell with a network of its own (not with --net host)");
    if (spec->egress_netns && !spec->negress)
        return cell_err_set(err, 0, "--egress-netns: only with --egress");
    if (spec->rootfs) {
        struct stat st;
        if (spec->rootfs[0] != '/')
            return cell_err_set(err, 0, "rootfs \"%s\" is not an absolute path", spec->rootfs);
        if (stat(spec->rootfs, &st) < 0)
            return cell_err_set(err, errno, "rootfs %s", spec->rootfs);
        if (!S_ISDIR(st.st_mode))
            return cell_err_set(err, ENOTDIR, "rootfs %s", spec->rootfs);
    }
    if (spec->oci.enabled && (spec->rootfs == NULL || spec->layer))
        return cell_err_set(err, 0, "an OCI bundle needs its rootfs, and takes no layer");
    if (spec->layer) {
        struct stat st;
        if (spec->layer[0] != '/')
            return cell_err_set(err, 0, "layer \"%s\" is not an absolute path", spec->layer);
        /* overlayfs options are separated by ',' and lower layers by ':' */
        if (strpbrk(spec->layer, ",:") || (spec->rootfs && strpbrk(spec->rootfs, ",:")))
            return cell_err_set(err, 0, "layer %s: its path and the rootfs's may not hold ',' or ':'", spec->layer);
        if (stat(spec->layer, &st) < 0)
            return cell_err_set(err, errno, "layer %s", spec->layer);
        if (!S_ISDIR(st.st_mode))
            return cell_err_set(err, ENOTDIR, "layer %s", spec->layer);
    }
    for (size_t i = 0; i < spec->nmounts; i++) {
        struct cell_mount *m = &spec->mounts[i];
        if (!valid_cell_path(m->destination))
            return cell_err_set(err, 0, "mount target \"%s\" is not an absolute path inside the cell", m->destination);
        /* an OCI bundle declares /proc and /dev itself */
        if (!spec->oci.enabled && reserved_destination(m->destination))
            return cell_err_set(err, 0, "mount target %s: cell builds /proc and /dev itself", m->destination);
        if (!spec->oci.enabled && m->kind != CELL_MOUNT_BIND && m->kind != CELL_MOUNT_TMPFS)
            return cell_err_set(err, 0, "mount target %s: only OCI bundles declare kernel filesystems", m->destination);
        if (m->kind == CELL_MOUNT_BIND) {
            struct stat st;
            if (m->source == NULL || m->source[0] != '/')
                return cell_err_set(err, 0, "bind source \"%s\" is not an absolute path", m->source ? m->source : "");
            if (stat(m->source, &st) < 0)
                return cell_err_set(err, errno, "bind %s", m->source);
        }
    }
    if (spec->limits.cpu_millis > 1024 * 1000)
        return cell_err_set(err, 0, "cpus: at most 1024");
    for (int r = 0; r < CELL_RLIMIT_COUNT; r++) {
        const struct cell_rlimit *rl = &spec->rlimits[r];
        if (rl->set && rl->soft > rl->hard)
            return cell_err_set(err, 0, "rlimit %s: soft limit above hard limit", cell_rlimit_label(r));
    }
    if (spec->timeout_sec > 365u * 24 * 3600)
        return cell_err_set(err, 0, "timeout %u: at most one year", spec->timeout_sec);
    if (spec->uid == (uid_t)-1 || spec->gid == (gid_t)-1)
        return cell_err_set(err, 0, "user %u:%u: -1 is not a valid id", (unsigned)spec->uid, (unsigned)spec->gid);
    if (spec->ngroups > CELL_MAX_GROUPS)
        return cell_err_set(err, 0, "groups: at most %d supplementary groups", CELL_MAX_GROUPS);
    for (size_t i = 0; i < spec->ngroups; i++)
        if (spec->groups[i] == (gid_t)-1)
            return cell_err_set(err, 0, "group %u: -1 is not a valid id", (unsigned)spec->groups[i]);
    if (spec->npreserved_fds > CELL_MAX_PRESERVED_FDS)
        return cell_err_set(err, 0, "preserve-fd: at most %d descriptors", CELL_MAX_PRESERVED_FDS);
    for (size_t i = 0; i < spec->npreserved_fds; i++)
        if (spec->preserved_fds[i] < 3)
            return cell_err_set(err, 0, "preserve-fd %d: fds 0-2 are always passed", spec->preserved_fds[i]);
    return 0;
}

int cell_spec_add_default_env(struct cell_spec *spec, struct cell_err *err)
{
    for (size_t i = 0; i < ARRAY_SIZE(default_env); i++)
        if (cell_spec_add_env(spec, default_env[i], err) < 0)
            return -1;
    return 0;
}
