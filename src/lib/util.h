/* util.h - small internal helpers shared by libcell: cleanup attributes,
 * checked allocation, and whole-file reads/writes. */
#ifndef CELL_UTIL_H
#define CELL_UTIL_H

#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

struct cell_err;

static inline void cleanup_freep(void *p)
{
    free(*(void **)p);
}
static inline void cleanup_closep(int *fd)
{
    if (*fd >= 0) {
        int saved = errno;
        close(*fd);
        errno = saved;
    }
}
static inline void cleanup_closedirp(DIR **d)
{
    if (*d)
        closedir(*d);
}
#define cleanup_free __attribute__((cleanup(cleanup_freep)))
#define cleanup_close __attribute__((cleanup(cleanup_closep)))
#define cleanup_dir __attribute__((cleanup(cleanup_closedirp)))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Write all of `len` bytes to the file at dirfd/path (O_WRONLY, no create). */
int write_file_at(int dirfd, const char *path, const char *data, size_t len);
/* Read up to len-1 bytes of dirfd/path into buf, NUL-terminated; returns
 * bytes read or -1. */
ssize_t read_file_at(int dirfd, const char *path, char *buf, size_t len);
/* mkdir -p: every missing directory of `path`, with `mode`. */
int make_dirs(const char *path, mode_t mode, struct cell_err *err);
/* Send `len` bytes on Unix socket `sock` with `nfds` fds attached
 * (SCM_RIGHTS; at most SEND_FDS_MAX), without SIGPIPE. sendmsg's result. */
#define SEND_FDS_MAX 8
ssize_t send_with_fds(int sock, const void *data, size_t len, const int *fds, size_t nfds);
/* Write all bytes to an fd, retrying on EINTR/short writes. */
int write_all(int fd, const void *buf, size_t len);
/* The time now as RFC 3339 in UTC with milliseconds
 * (2026-11-23T12:00:00.123Z): events, records, log lines. */
void format_utc_now(char *out, size_t len);
/* openat2(dirfd, path, {flags | O_CLOEXEC, resolve}): -1 with errno. Tried
 * again while it fails with EAGAIN, which RESOLVE_IN_ROOT and
 * RESOLVE_BENEATH give when a ".." met a rename or mount anywhere on the
 * system during the lookup (openat2(2) says to retry). */
int openat2_retry(int dirfd, const char *path, uint64_t flags, uint64_t resolve);
/* close_range() (with `flags`) every fd above 2 except those in keep[]
 * (negative entries are ignored). */
void close_range_except(const int *keep, size_t n, unsigned flags);
/* Replace `path` with `data` all at once: a reader sees the old file or the
 * new one, never part of one (write PATH.tmp, then rename). `durable`
 * fsyncs the data first. Returns 0, or -1 with errno (PATH.tmp removed). */
int write_file_atomic(const char *path, const char *data, size_t len, mode_t mode, bool durable);

#endif
