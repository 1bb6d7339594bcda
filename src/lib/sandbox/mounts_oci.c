/* mounts_oci.c - an OCI bundle's filesystem (spec->oci.enabled), as the
 * runtime spec describes it rather than as cell builds its own: the rootfs
 * itself is the root (bound onto itself, nodev), every mount of
 * config.json is made in order inside it, then the default devices go into
 * /dev where they are missing (a read-only /dev is made so only then, as
 * runc does), and after pivot_root the sysctls are set,
 * the masked paths are
 * hidden, the read-only paths and (with root.readonly) the root made
 * read-only.
 *
 * Mount destinations are resolved inside the rootfs with openat2(
 * RESOLVE_IN_ROOT), so a symlink in an image cannot send a mount out to the
 * host; the mount then goes onto the resolved directory through its
 * /proc/self/fd path. init joins its cgroups before this (the host's
 * /sys/fs/cgroup is gone afterwards). */
#include "sandbox/sandbox.h"
#include "util.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

static int resolve_in_root(int rootfd, const char *path, int flags)
{
    while (*path == '/')
        path++;
    return openat2_retry(rootfd, *path ? path : ".", (uint64_t)flags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
}

/* mkdir -p of `path` inside the root, each step resolved in it; the last
 * component a directory, or (file) an empty file. An O_PATH fd of it. */
static int make_in_root(int rootfd, const char *path, bool file, struct cell_err *err)
{
    char walk[PATH_MAX];
    if (snprintf(walk, sizeof walk, "%s", path) >= (int)sizeof walk)
        return cell_err_set(err, ENAMETOOLONG, "mount point %s", path);
    for (char *slash = walk + 1;; slash++) {
        slash = strchr(slash, '/');
        bool last = slash == NULL;
        if (!last)
            *slash = '\0';
        int fd = resolve_in_root(rootfd, walk, O_PATH);
        if (fd < 0 && errno == ENOENT) {
            char parent[PATH_MAX], *base = strrchr(walk, '/');
            snprintf(parent, sizeof parent, "%.*s", (int)(base - walk), walk);
            cleanup_close int dir = resolve_in_root(rootfd, parent, O_PATH | O_DIRECTORY);
            int rc = dir < 0        ? -1
                     : last && file ? mknodat(dir, base + 1, S_IFREG | 0644, 0)
                                    : mkdirat(dir, base + 1, 0755);
            if (rc < 0 && errno != EEXIST)
                return cell_err_set(err, errno, "create mount point %s", walk);
            fd = resolve_in_root(rootfd, walk, O_PATH);
        }
        if (fd < 0)
            return cell_err_set(err, errno, "mount point %s", walk);
        if (last)
            return fd;
        close(fd);
        *slash = '/';
    }
}

static const char *fstype(enum cell_mount_kind kind)
{
    switch (kind) {
    case CELL_MOUNT_PROC:
        return "proc";
    case CELL_MOUNT_SYSFS:
        return "sysfs";
    case CELL_MOUNT_DEVPTS:
        return "devpts";
    case CELL_MOUNT_MQUEUE:
        return "mqueue";
    case CELL_MOUNT_TMPFS:
        return "tmpfs";
    case CELL_MOUNT_CGROUP: /* the unified hierarchy, seen from the container's cgroup namespace */
        return "cgroup2";
    default:
        return NULL;
    }
}

#define PROPAGATION (MS_PRIVATE | MS_SHARED | MS_SLAVE | MS_UNBINDABLE)

/* A read-only /dev is mounted writable, and made read-only once the mounts
 * under it and the default devices are in (as runc reads "ro" on /dev). */
static bool dev_readonly_later(const struct cell_mount *m)
{
    return m->kind == CELL_MOUNT_TMPFS && !m->writable && strcmp(m->destination, "/dev") == 0;
}

static int make_dev_readonly(int rootfd, const struct cell_mount *m, struct cell_err *err)
{
    cleanup_close int dev = resolve_in_root(rootfd, "/dev", O_PATH);
    char where[64];
    snprintf(where, sizeof where, "/proc/self/fd/%d", dev);
    unsigned long keep =
        m->flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME);
    if (dev < 0 || mount(NULL, where, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | keep, NULL) < 0)
        return cell_err_set(err, errno, "make /dev read-only");
    return 0;
}

static int mount_one(int rootfd, const struct cell_mount *m, struct cell_err *err)
{
    struct stat st;
    bool file = m->kind == CELL_MOUNT_BIND && stat(m->source, &st) == 0 && !S_ISDIR(st.st_mode);
    cleanup_close int target = make_in_root(rootfd, m->destination, file, err);
    if (target < 0)
        return -1;
    char where[64];
    snprintf(where, sizeof where, "/proc/self/fd/%d", target);
    unsigned long flags = m->flags & ~(PROPAGATION | MS_REC | MS_BIND);
    if (dev_readonly_later(m))
        flags &= ~(unsigned long)MS_RDONLY;
    else if (!m->writable)
        flags |= MS_RDONLY;
    if (m->kind == CELL_MOUNT_BIND) {
        if (mount(m->source, where, NULL, MS_BIND | (m->flags & MS_REC), NULL) < 0)
            return cell_err_set(err, errno, "bind %s to %s", m->source, m->destination);
    } else if (mount(fstype(m->kind), where, fstype(m->kind), flags, m->data) < 0) {
        return cell_err_set(err, errno, "mount %s on %s", fstype(m->kind), m->destination);
    }
    if (!(m->kind == CELL_MOUNT_BIND && flags) && !(m->flags & PROPAGATION))
        return 0;
    /* the new mount itself (the fd above is the directory under it) */
    cleanup_close int mounted = resolve_in_root(rootfd, m->destination, O_PATH);
    if (mounted < 0)
        return cell_err_set(err, errno, "mount point %s", m->destination);
    snprintf(where, sizeof where, "/proc/self/fd/%d", mounted);
    /* the flags of a bind take a remount */
    if (m->kind == CELL_MOUNT_BIND && flags && mount(NULL, where, NULL, MS_REMOUNT | MS_BIND | flags, NULL) < 0)
        return cell_err_set(err, errno, "set the options of %s", m->destination);
    if ((m->flags & PROPAGATION) && mount(NULL, where, NULL, (m->flags & (PROPAGATION | MS_REC)), NULL) < 0)
        return cell_err_set(err, errno, "set the propagation of %s", m->destination);
    return 0;
}

/* The devices every OCI container has, where /dev lacks them. */
static int default_devices(int rootfd, struct cell_err *err)
{
    static const struct {
        const char *name;
        unsigned major, minor;
    } devices[] = {{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};
    static const char *const links[][2] = {{"/proc/self/fd", "fd"},
                                           {"/proc/self/fd/0", "stdin"},
                                           {"/proc/self/fd/1", "stdout"},
                                           {"/proc/self/fd/2", "stderr"},
                                           {"pts/ptmx", "ptmx"}};
    cleanup_close int dev = resolve_in_root(rootfd, "/dev", O_PATH | O_DIRECTORY);
    if (dev < 0)
        return cell_err_set(err, errno, "open the container's /dev");
    for (size_t i = 0; i < ARRAY_SIZE(devices); i++) {
        if (faccessat(dev, devices[i].name, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
            continue;
        if (mknodat(dev, devices[i].name, S_IFCHR | 0666, makedev(devices[i].major, devices[i].minor)) == 0) {
            int fd = openat(dev, devices[i].name, O_PATH | O_CLOEXEC); /* the umask took bits off */
            if (fd >= 0) {
                char path[64];
                snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
                chmod(path, 0666);
                close(fd);
            }
            continue;
        }
        if (errno != EPERM)
            return cell_err_set(err, errno, "create /dev/%s", devices[i].name);
        /* in a user namespace: the host's node, bound */
        char host[64], where[64];
        snprintf(host, sizeof host, "/dev/%s", devices[i].name);
        int fd = openat(dev, devices[i].name, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
            return cell_err_set(err, errno, "create /dev/%s", devices[i].name);
        close(fd);
        cleanup_close int node = openat(dev, devices[i].name, O_PATH | O_CLOEXEC | O_NOFOLLOW);
        snprintf(where, sizeof where, "/proc/self/fd/%d", node);
        if (node < 0 || mount(host, where, NULL, MS_BIND, NULL) < 0)
            return cell_err_set(err, errno, "bind /dev/%s", devices[i].name);
    }
    for (size_t i = 0; i < ARRAY_SIZE(links); i++)
        if (symlinkat(links[i][0], dev, links[i][1]) < 0 && errno != EEXIST)
            return cell_err_set(err, errno, "create /dev/%s", links[i][1]);
    return 0;
}

/* The directory of `path` (under the container's /dev, made 0755 where
 * missing) as an O_PATH fd, and the node's name in it. */
static int device_dir(int rootfd, const char *path, const char **name, struct cell_err *err)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    *name = slash + 1;
    for (char *p = dir + 4;; p++) { /* from the end of "/dev" */
        char c = *p;
        if (c != '/' && c != '\0')
            continue;
        *p = '\0';
        int fd = resolve_in_root(rootfd, dir, O_PATH | O_DIRECTORY);
        if (fd < 0 && errno == ENOENT) {
            char *last = strrchr(dir, '/');
            *last = '\0';
            cleanup_close int parent = resolve_in_root(rootfd, dir, O_PATH | O_DIRECTORY);
            *last = '/';
            if (parent < 0 || mkdirat(parent, last + 1, 0755) < 0)
                return cell_err_set(err, errno, "create %s for linux.devices", dir);
            fd = resolve_in_root(rootfd, dir, O_PATH | O_DIRECTORY);
        }
        if (fd < 0)
            return cell_err_set(err, errno, "open %s for linux.devices", dir);
        if (c == '\0')
            return fd;
        close(fd);
        *p = c;
    }
}

/* linux.devices: each node made in the container's /dev with its mode and
 * owner (replacing what is there), or in a user namespace, where mknod is
 * not allowed, the host's node at the same path bound onto an empty file. */
static int config_devices(int rootfd, const struct cell_spec *spec, struct cell_err *err)
{
    for (size_t i = 0; i < spec->oci.ndevices; i++) {
        const struct cell_device_node *d = &spec->oci.devices[i];
        const char *name;
        cleanup_close int dir = device_dir(rootfd, d->path, &name, err);
        if (dir < 0)
            return -1;
        if (unlinkat(dir, name, 0) < 0 && errno != ENOENT)
            return cell_err_set(err, errno, "replace %s (linux.devices)", d->path);
        mode_t type = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
        if (mknodat(dir, name, type | (d->mode & 07777), makedev(d->major, d->minor)) == 0) {
            cleanup_close int node = openat(dir, name, O_PATH | O_CLOEXEC | O_NOFOLLOW);
            char where[64];
            snprintf(where, sizeof where, "/proc/self/fd/%d", node);
            /* chmod: the umask took bits off */
            if (node < 0 || chown(where, d->uid, d->gid) < 0 || chmod(where, d->mode & 07777) < 0)
                return cell_err_set(err, errno, "set the owner and mode of %s (linux.devices)", d->path);
            continue;
        }
        if (errno != EPERM)
            return cell_err_set(err, errno, "create %s (linux.devices)", d->path);
        int fd = openat(dir, name, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
            return cell_err_set(err, errno, "create %s (linux.devices)", d->path);
        close(fd);
        cleanup_close int node = openat(dir, name, O_PATH | O_CLOEXEC | O_NOFOLLOW);
        char where[64];
        snprintf(where, sizeof where, "/proc/self/fd/%d", node);
        if (node < 0 || mount(d->path, where, NULL, MS_BIND, NULL) < 0)
            return cell_err_set(err, errno, "bind the host's %s (linux.devices, in a user namespace)", d->path);
    }
    return 0;
}

/* After pivot_root: hide a path behind /dev/null or an empty read-only tmpfs. */
static int mask(const char *path, struct cell_err *err)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return 0; /* nothing there to hide */
    if (S_ISDIR(st.st_mode)) {
        if (mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0,mode=0555") < 0)
            return cell_err_set(err, errno, "mask %s", path);
    } else if (mount("/dev/null", path, NULL, MS_BIND, NULL) < 0) {
        return cell_err_set(err, errno, "mask %s", path);
    }
    return 0;
}

static int make_readonly(const char *path, struct cell_err *err)
{
    if (access(path, F_OK) < 0)
        return 0;
    if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0 ||
        mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
        return cell_err_set(err, errno, "make %s read-only", path);
    return 0;
}

/* "net.ipv4.ping_group_range=0 0" into /proc/sys/net/ipv4/ping_group_range
 * (the parser allowed only the container's own namespaces' sysctls). */
static int set_sysctl(const char *kv, struct cell_err *err)
{
    char path[PATH_MAX];
    const char *eq = strchr(kv, '=');
    if (eq == NULL || snprintf(path, sizeof path, "/proc/sys/%.*s", (int)(eq - kv), kv) >= (int)sizeof path)
        return cell_err_set(err, EINVAL, "sysctl %s", kv);
    for (char *c = path + 10; *c; c++)
        if (*c == '.')
            *c = '/';
    cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 || write_all(fd, eq + 1, strlen(eq + 1)) < 0)
        return cell_err_set(err, errno, "sysctl %.*s", (int)(eq - kv), kv);
    return 0;
}

int mounts_setup_oci(const struct cell_spec *spec, struct cell_err *err)
{
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return cell_err_set(err, errno, "make the mounts private");
    /* the rootfs, bound onto itself (a mount point, for pivot_root; no
     * other place is covered, so bind sources anywhere stay reachable),
     * becomes the root */
    if (mount(spec->rootfs, spec->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
        return cell_err_set(err, errno, "bind the rootfs %s", spec->rootfs);
    /* nodev: a device node an image carries does not open, whatever the
     * device list allows (/dev is a mount of its own, with the default
     * devices and linux.devices; the cgroup's list applies there) */
    if (mount(NULL, spec->rootfs, NULL, MS_REMOUNT | MS_BIND | MS_NODEV, NULL) < 0)
        return cell_err_set(err, errno, "make the rootfs %s nodev", spec->rootfs);
    cleanup_close int rootfd = open(spec->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return cell_err_set(err, errno, "open the rootfs %s", spec->rootfs);
    for (size_t i = 0; i < spec->nmounts; i++)
        if (mount_one(rootfd, &spec->mounts[i], err) < 0)
            return -1;
    if (default_devices(rootfd, err) < 0 || config_devices(rootfd, spec, err) < 0)
        return -1;
    for (size_t i = 0; i < spec->nmounts; i++)
        if (dev_readonly_later(&spec->mounts[i]) && make_dev_readonly(rootfd, &spec->mounts[i], err) < 0)
            return -1;
    /* pivot_root(".", ".") stacks the old root on the new one; detaching
     * it leaves the new root alone (no directory made in the image) */
    if (fchdir(rootfd) < 0 || syscall(SYS_pivot_root, ".", ".") < 0)
        return cell_err_set(err, errno, "pivot_root into the rootfs %s", spec->rootfs);
    if (umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
        return cell_err_set(err, errno, "detach the host's root");
    /* before /proc/sys goes read-only */
    for (char **p = spec->oci.sysctls; p && *p; p++)
        if (set_sysctl(*p, err) < 0)
            return -1;
    for (char **p = spec->oci.masked_paths; p && *p; p++)
        if (mask(*p, err) < 0)
            return -1;
    for (char **p = spec->oci.readonly_paths; p && *p; p++)
        if (make_readonly(*p, err) < 0)
            return -1;
    if (spec->oci.readonly_root && mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NODEV, NULL) < 0)
        return cell_err_set(err, errno, "make the root read-only");
    return 0;
}
