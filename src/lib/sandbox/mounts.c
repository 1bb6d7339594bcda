/* mounts.c - the cell's filesystem, built in one order on a fresh tmpfs:
 * the new root, pivot_root (the host stays reachable at /.oldroot while we
 * build), system directories or the rootfs read-only, a minimal /etc, /proc
 * with sensitive paths masked, a minimal /dev, a private /tmp, the declared
 * binds and tmpfs mounts; then the old root is detached and the new root
 * itself made read-only. Each step fails with the path it was working on.
 *
 * With a layer (--layer DIR, what `cell apply` keeps per cell), the new root
 * is an overlay instead: the rootfs (or an empty directory) below, DIR/upper
 * above. Without a rootfs the host's system directories are bound on top of
 * it as usual, and /etc is seeded from the host where the layer has no file
 * of its own. The running cell gets it read-only like any root; apply
 * (mounts_finish with writable_root) writes into it. */
#include "sandbox/sandbox.h"
#include "util.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/mount.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#define OLDROOT MOUNTS_OLDROOT
/* Where the new root's tmpfs is mounted before pivot_root; in our private
 * mount namespace, so the host never sees it. */
#define STAGING "/tmp"

/* Host directories a default cell sees, read-only (symlinks are copied). */
static const char *const system_dirs[] = {"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"};
/* The minimal /etc: files and directories taken from the host when present.
 * Small files are copied into the new root (a copy costs far less than a
 * mount, and the root is made read-only at the end); directories and files
 * above ETC_COPY_MAX are bound read-only. */
static const char *const etc_entries[] = {
    "passwd",       "group", "hosts",           "resolv.conf",  "nsswitch.conf", "ld.so.cache", "ld.so.conf",
    "ld.so.conf.d", "ssl",   "ca-certificates", "alternatives", "localtime",     "services",    "protocols",
};
#define ETC_COPY_MAX (256 * 1024)
/* The device nodes of /dev: made with mknod where the cell may (real root),
 * else bound from the host's /dev. */
static const struct {
    const char *name;
    unsigned major, minor;
} dev_nodes[] = {{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};
/* /proc entries hidden behind an empty file or directory (as Docker/crun). */
static const char *const proc_masked[] = {
    "/proc/kcore",       "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
    "/proc/sched_debug", "/proc/acpi", "/proc/asound",        "/proc/scsi",       "/proc/kallsyms",
};
/* /proc entries left visible but read-only. */
static const char *const proc_readonly[] = {"/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs"};

/* The lists above, for the OCI writer (oci_write.c), which describes this
 * filesystem to other runtimes (sandbox.h). */
const struct mounts_list mounts_system_dirs = {system_dirs, ARRAY_SIZE(system_dirs)};
const struct mounts_list mounts_etc_entries = {etc_entries, ARRAY_SIZE(etc_entries)};
const struct mounts_list mounts_proc_masked = {proc_masked, ARRAY_SIZE(proc_masked)};
const struct mounts_list mounts_proc_readonly = {proc_readonly, ARRAY_SIZE(proc_readonly)};

static int sys_mount_setattr(const char *path, unsigned flags, struct mount_attr *attr)
{
    return (int)syscall(SYS_mount_setattr, AT_FDCWD, path, flags, attr, sizeof *attr);
}

/* Set per-mount attributes on a mount and everything under it. */
static int set_mount_attrs(const char *path, uint64_t attrs, struct cell_err *err)
{
    struct mount_attr attr = {.attr_set = attrs};
    if (sys_mount_setattr(path, AT_RECURSIVE | AT_NO_AUTOMOUNT, &attr) < 0)
        return cell_err_set(err, errno, "set mount flags of %s", path);
    return 0;
}

static int do_mount(const char *src, const char *dst, const char *type, unsigned long flags, const char *data,
                    struct cell_err *err)
{
    if (mount(src, dst, type, flags, data) < 0)
        return cell_err_set(err, errno, "mount %s on %s", type ? type : src ? src : "(flags)", dst);
    return 0;
}

/* Create a mount point of the same kind (file or directory) as the source. */
static int make_mount_point(const char *dst, bool is_dir, struct cell_err *err)
{
    if (is_dir)
        return make_dirs(dst, 0755, err);
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", dst);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent) {
        *slash = '\0';
        if (make_dirs(parent, 0755, err) < 0)
            return -1;
    }
    int fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0 && errno != EEXIST && errno != EISDIR)
        return cell_err_set(err, errno, "create mount point %s", dst);
    if (fd >= 0)
        close(fd);
    return 0;
}

/* Bind host path `src` (a path in the host's tree) to `dst` in the new root. */
static int bind_path(const char *src, const char *dst, bool writable, bool recursive, struct cell_err *err)
{
    char host[PATH_MAX];
    struct stat st;
    snprintf(host, sizeof host, OLDROOT "%s", src);
    if (stat(host, &st) < 0)
        return cell_err_set(err, errno, "bind %s", src);
    if (make_mount_point(dst, S_ISDIR(st.st_mode), err) < 0)
        return -1;
    if (mount(host, dst, NULL, MS_BIND | (recursive ? MS_REC : 0), NULL) < 0)
        return cell_err_set(err, errno, "bind %s to %s", src, dst);
    uint64_t attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (writable ? 0 : MOUNT_ATTR_RDONLY);
    return set_mount_attrs(dst, attrs, err);
}

/* Copy a small host file into the new root (same mode, owned by root). */
static int copy_file(const char *host, const char *dst, struct cell_err *err)
{
    cleanup_close int in = open(host, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (in < 0 || fstat(in, &st) < 0)
        return cell_err_set(err, errno, "read %s", host + strlen(OLDROOT));
    cleanup_close int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, st.st_mode & 0644);
    if (out < 0)
        return cell_err_set(err, errno, "create %s", dst);
    for (off_t left = st.st_size; left > 0;) {
        ssize_t n = sendfile(out, in, NULL, (size_t)left);
        if (n <= 0) /* the file shrank while we copied: keep what we have */
            return n < 0 ? cell_err_set(err, errno, "copy %s", host + strlen(OLDROOT)) : 0;
        left -= n;
    }
    return 0;
}

/* Copy a host symlink (e.g. /bin -> usr/bin on merged-/usr hosts). */
static int copy_symlink(const char *host, const char *dst, struct cell_err *err)
{
    char target[PATH_MAX];
    ssize_t n = readlink(host, target, sizeof target - 1);
    if (n < 0)
        return cell_err_set(err, errno, "read link %s", host);
    target[n] = '\0';
    if (symlink(target, dst) < 0 && errno != EEXIST)
        return cell_err_set(err, errno, "create link %s", dst);
    return 0;
}

/* One host entry into the new root at the same place: a symlink is copied
 * (under /etc: followed), a small /etc file is copied, anything else is
 * bound read-only; a missing entry is skipped. */
static int mirror_entry(const char *src, const char *dst, struct cell_err *err)
{
    char host[PATH_MAX];
    struct stat st;
    snprintf(host, sizeof host, OLDROOT "%s", src);
    if (lstat(host, &st) < 0)
        return errno == ENOENT ? 0 : cell_err_set(err, errno, "inspect %s", src);
    bool in_etc = strncmp(src, "/etc/", 5) == 0;
    if (S_ISLNK(st.st_mode) && !in_etc)
        return copy_symlink(host, dst, err);
    if (S_ISLNK(st.st_mode) && stat(host, &st) < 0) /* /etc links (resolv.conf) give their target */
        return errno == ENOENT ? 0 : cell_err_set(err, errno, "inspect %s", src);
    if (in_etc && S_ISREG(st.st_mode) && st.st_size <= ETC_COPY_MAX)
        return copy_file(host, dst, err);
    return bind_path(src, dst, false, true, err);
}

static int setup_system_root(struct cell_err *err)
{
    for (size_t i = 0; i < ARRAY_SIZE(system_dirs); i++)
        if (mirror_entry(system_dirs[i], system_dirs[i], err) < 0)
            return -1;
    if (mkdir("/etc", 0755) < 0 && errno != EEXIST)
        return cell_err_set(err, errno, "create /etc");
    for (size_t i = 0; i < ARRAY_SIZE(etc_entries); i++) {
        char path[PATH_MAX];
        struct stat st;
        snprintf(path, sizeof path, "/etc/%s", etc_entries[i]);
        if (lstat(path, &st) == 0) /* the layer's own */
            continue;
        if (mirror_entry(path, path, err) < 0)
            return -1;
    }
    return 0;
}

/* A rootfs directory: each top-level entry bound read-only, except the
 * directories the sandbox provides itself. */
static int setup_rootfs(const char *rootfs, struct cell_err *err)
{
    static const char *const provided[] = {"proc", "dev", "tmp", "sys"};
    char host[PATH_MAX];
    snprintf(host, sizeof host, OLDROOT "%s", rootfs);
    cleanup_dir DIR *dir = opendir(host);
    if (dir == NULL)
        return cell_err_set(err, errno, "open rootfs %s", rootfs);
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        bool skip = false;
        for (size_t i = 0; i < ARRAY_SIZE(provided); i++)
            skip |= strcmp(e->d_name, provided[i]) == 0;
        if (skip)
            continue;
        char src[PATH_MAX + 256], dst[NAME_MAX + 2];
        snprintf(src, sizeof src, "%s/%s", rootfs, e->d_name);
        snprintf(dst, sizeof dst, "/%s", e->d_name);
        struct stat st;
        char hostpath[PATH_MAX + 300];
        snprintf(hostpath, sizeof hostpath, OLDROOT "%s", src);
        if (lstat(hostpath, &st) < 0)
            return cell_err_set(err, errno, "inspect rootfs entry %s", src);
        if (S_ISLNK(st.st_mode)) {
            if (copy_symlink(hostpath, dst, err) < 0)
                return -1;
        } else if (bind_path(src, dst, false, true, err) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Hide a /proc entry behind an empty read-only file or directory. */
static int mask_path(const char *path, struct cell_err *err)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return 0; /* not on this kernel */
    if (S_ISDIR(st.st_mode))
        return do_mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0,mode=0555", err);
    if (mount(OLDROOT "/dev/null", path, NULL, MS_BIND, NULL) < 0)
        return cell_err_set(err, errno, "mask %s", path);
    return 0;
}

static int setup_proc(struct cell_err *err)
{
    if (mkdir("/proc", 0555) < 0 && errno != EEXIST)
        return cell_err_set(err, errno, "create /proc");
    if (do_mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, err) < 0)
        return -1;
    for (size_t i = 0; i < ARRAY_SIZE(proc_readonly); i++) {
        const char *p = proc_readonly[i];
        if (access(p, F_OK) < 0)
            continue;
        if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0)
            return cell_err_set(err, errno, "bind %s read-only", p);
        if (set_mount_attrs(p, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, err) < 0)
            return -1;
    }
    for (size_t i = 0; i < ARRAY_SIZE(proc_masked); i++)
        if (mask_path(proc_masked[i], err) < 0)
            return -1;
    return 0;
}

static int bind_dev_node(const char *host, const char *dst, struct cell_err *err)
{
    if (mount(host, dst, NULL, MS_BIND, NULL) < 0)
        return cell_err_set(err, errno, "bind %s", dst);
    return set_mount_attrs(dst, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, err);
}

static int setup_dev(struct cell_err *err)
{
    if (mkdir("/dev", 0755) < 0 && errno != EEXIST)
        return cell_err_set(err, errno, "create /dev");
    if (do_mount("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k", err) < 0)
        return -1;
    mode_t old_umask = umask(0);
    for (size_t i = 0; i < ARRAY_SIZE(dev_nodes); i++) {
        char host[64], dst[64];
        snprintf(host, sizeof host, OLDROOT "/dev/%s", dev_nodes[i].name);
        snprintf(dst, sizeof dst, "/dev/%s", dev_nodes[i].name);
        if (mknod(dst, S_IFCHR | 0666, makedev(dev_nodes[i].major, dev_nodes[i].minor)) == 0)
            continue;
        if (errno != EPERM) { /* in a user namespace: bind the host's node */
            umask(old_umask);
            return cell_err_set(err, errno, "create %s", dst);
        }
        if (access(host, F_OK) < 0)
            continue;
        if (make_mount_point(dst, false, err) < 0 || bind_dev_node(host, dst, err) < 0) {
            umask(old_umask);
            return -1;
        }
    }
    umask(old_umask);
    if (mkdir("/dev/pts", 0755) < 0 || mkdir("/dev/shm", 01777) < 0)
        return cell_err_set(err, errno, "create /dev/pts and /dev/shm");
    if (do_mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620", err) < 0)
        return -1;
    if (do_mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777", err) < 0)
        return -1;
    static const char *const links[][2] = {
        {"pts/ptmx", "/dev/ptmx"},          {"/proc/self/fd", "/dev/fd"},       {"/proc/self/fd/0", "/dev/stdin"},
        {"/proc/self/fd/1", "/dev/stdout"}, {"/proc/self/fd/2", "/dev/stderr"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(links); i++)
        if (symlink(links[i][0], links[i][1]) < 0)
            return cell_err_set(err, errno, "create link %s", links[i][1]);
    /* nothing more is created in /dev: make it read-only */
    if (mount(NULL, "/dev", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NOEXEC, NULL) < 0)
        return cell_err_set(err, errno, "make /dev read-only");
    return 0;
}

static int setup_declared_mounts(const struct cell_spec *spec, struct cell_err *err)
{
    for (size_t i = 0; i < spec->nmounts; i++) {
        const struct cell_mount *m = &spec->mounts[i];
        if (m->kind == CELL_MOUNT_TMPFS) {
            if (make_dirs(m->destination, 0755, err) < 0 ||
                do_mount("tmpfs", m->destination, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777", err) < 0)
                return -1;
        } else if (bind_path(m->source, m->destination, m->writable, true, err) < 0) {
            return -1;
        }
    }
    return 0;
}

/* The layer's overlay at STAGING, where a cell without one gets a tmpfs:
 * lower is the rootfs or the layer's empty DIR/lower, upper DIR/upper (each
 * made when missing). Mounted before anything covers STAGING, where the
 * layer or the rootfs may be. */
static int mount_layer(const struct cell_spec *spec, struct cell_err *err)
{
    char upper[PATH_MAX], work[PATH_MAX], lower[PATH_MAX], options[3 * PATH_MAX + 64];
    snprintf(upper, sizeof upper, "%s/upper", spec->layer);
    snprintf(work, sizeof work, "%s/work", spec->layer);
    snprintf(lower, sizeof lower, "%s", spec->rootfs ? spec->rootfs : spec->layer);
    if (!spec->rootfs)
        snprintf(lower, sizeof lower, "%s/lower", spec->layer);
    if (make_dirs(upper, 0755, err) < 0 || make_dirs(work, 0700, err) < 0 ||
        (!spec->rootfs && make_dirs(lower, 0755, err) < 0))
        return -1;
    snprintf(options, sizeof options, "lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work);
    if (mount("overlay", STAGING, "overlay", MS_NOSUID | MS_NODEV, options) < 0)
        return cell_err_set(err, errno, "mount the layer %s (overlay on %s)", spec->layer,
                            spec->rootfs ? spec->rootfs : "an empty root");
    return 0;
}

int mounts_setup(const struct cell_spec *spec, struct cell_err *err)
{
    /* 1. our mount namespace must not propagate anything back to the host */
    if (do_mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL, err) < 0)
        return -1;
    /* 2. a fresh tmpfs (or the layer's overlay on one) becomes the root; the
     * host stays at /.oldroot */
    if (spec->layer ? mount_layer(spec, err) < 0
                    : do_mount("tmpfs", STAGING, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=4m", err) < 0)
        return -1;
    if (mkdir(STAGING OLDROOT, 0700) < 0 && !(spec->layer && errno == EEXIST)) /* a layer may keep one from a crash */
        return cell_err_set(err, errno, "create %s", STAGING OLDROOT);
    if (syscall(SYS_pivot_root, STAGING, STAGING OLDROOT) < 0)
        return cell_err_set(err, errno, "pivot_root into the new root");
    if (chdir("/") < 0)
        return cell_err_set(err, errno, "chdir /");
    /* 3. the system: a rootfs directory (in the layer's overlay already) or
     * the host's system directories */
    if (spec->rootfs && !spec->layer && setup_rootfs(spec->rootfs, err) < 0)
        return -1;
    if (!spec->rootfs && setup_system_root(err) < 0)
        return -1;
    /* 4. the kernel's and the cell's own filesystems */
    if (setup_proc(err) < 0 || setup_dev(err) < 0)
        return -1;
    if (mkdir("/tmp", 01777) < 0 && errno != EEXIST)
        return cell_err_set(err, errno, "create /tmp");
    if (do_mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777", err) < 0)
        return -1;
    /* 5. what the spec declares */
    if (setup_declared_mounts(spec, err) < 0)
        return -1;
    return 0;
}

int mounts_finish(bool writable_root, struct cell_err *err)
{
    /* 6. let go of the host, then freeze the root */
    if (umount2(OLDROOT, MNT_DETACH) < 0)
        return cell_err_set(err, errno, "detach the host's root");
    if (rmdir(OLDROOT) < 0)
        return cell_err_set(err, errno, "remove %s", OLDROOT);
    if (writable_root) /* apply: writes into the layer */
        return 0;
    if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
        return cell_err_set(err, errno, "make the root read-only");
    return 0;
}
