/* util.c - whole-file reads and writes, mkdir -p, and sending fds over a
 * socket, used across libcell (and by cell's and celld's own sources). */
#include "util.h"
#include "cell/cell.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <limits.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <string.h>
#include <time.h>

int make_dirs(const char *path, mode_t mode, struct cell_err *err)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return cell_err_set(err, ENAMETOOLONG, "create %s", path);
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(buf, mode) < 0 && errno != EEXIST)
                return cell_err_set(err, errno, "create directory %s", buf);
            *p = c;
            if (c == '\0')
                break;
        }
    }
    return 0;
}

ssize_t send_with_fds(int sock, const void *data, size_t len, const int *fds, size_t nfds)
{
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(SEND_FDS_MAX * sizeof(int))];
    } control;
    struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    if (nfds > SEND_FDS_MAX) {
        errno = EINVAL;
        return -1;
    }
    if (nfds) {
        memset(&control, 0, sizeof control);
        msg.msg_control = control.buf;
        msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
        struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
        memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
    }
    return sendmsg(sock, &msg, MSG_NOSIGNAL);
}

int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int write_file_at(int dirfd, const char *path, const char *data, size_t len)
{
    int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = write_all(fd, data, len);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

ssize_t read_file_at(int dirfd, const char *path, char *buf, size_t len)
{
    int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t total = 0;
    while (total + 1 < len) {
        ssize_t n = read(fd, buf + total, len - 1 - total);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        total += (size_t)n;
    }
    int saved = errno;
    close(fd);
    errno = saved;
    buf[total] = '\0';
    return (ssize_t)total;
}

int write_file_atomic(const char *path, const char *data, size_t len, mode_t mode, bool durable)
{
    char tmp[PATH_MAX + 16];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return -1;
    int rc = write_all(fd, data, len);
    if (rc == 0 && durable)
        rc = fsync(fd);
    int saved = errno;
    close(fd);
    if (rc == 0 && rename(tmp, path) == 0)
        return 0;
    saved = errno;
    unlink(tmp);
    errno = saved;
    return -1;
}

/* close_range() (with `flags`) every fd above 2 except those in keep[]. */
void close_range_except(const int *keep, size_t n, unsigned flags)
{
    unsigned from = 3;
    for (;;) {
        unsigned next = UINT_MAX;
        for (size_t i = 0; i < n; i++)
            if (keep[i] >= 0 && (unsigned)keep[i] >= from && (unsigned)keep[i] < next)
                next = (unsigned)keep[i];
        if (next > from)
            syscall(SYS_close_range, from, next == UINT_MAX ? ~0U : next - 1, flags);
        if (next == UINT_MAX)
            break;
        from = next + 1;
    }
}

int openat2_retry(int dirfd, const char *path, uint64_t flags, uint64_t resolve)
{
    struct open_how how = {.flags = flags | O_CLOEXEC, .resolve = resolve};
    int fd;
    for (int attempt = 0; attempt < 1000; attempt++)
        if ((fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how)) >= 0 || errno != EAGAIN)
            break;
    return fd;
}

void format_utc_now(char *out, size_t len)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, len, "%s.%03ldZ", stamp, ts.tv_nsec / 1000000);
}
