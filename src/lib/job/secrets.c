/* secrets.c - a job's secrets: resolved by a broker, delivered, revoked.
 *
 * Brokers (struct cell_secret_broker): `env` reads CELL_SECRET_<KEY> from
 * cell's own environment, `file` reads DIR/KEY (--secrets-dir). Delivery:
 *   env                   KEY=value in the job's environment (which holds
 *                         nothing else); the entries are wiped from the
 *                         spec once the workload has exec'd
 *   runtimeBroker,        a tmpfs the runner mounts at <private>/secrets
 *   runtimeLeasedBroker   (mode 0700, nosuid, nodev, noexec: never on
 *                         disk), one file KEY of mode 0400 per secret,
 *                         bound read-only at /run/secrets in the cell
 * At teardown the files are unlinked, the tmpfs unmounted and its directory
 * removed, and each key's lease is dropped with the broker's revoke().
 * Every copy of a value this process makes is wiped with explicit_bzero as
 * soon as it is delivered. Errors name the key and the broker, never the
 * value. */
#include "job/internal.h"
#include "util.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

static int env_resolve(const struct cell_secret_broker *b, const char *key, char **value, size_t *len,
                       struct cell_err *err)
{
    (void)b;
    char name[96];
    snprintf(name, sizeof name, "CELL_SECRET_%s", key);
    const char *v = getenv(name);
    if (v == NULL)
        return cell_err_set(err, 0, "%s: not found (the env broker reads %s from cell's environment)", key, name);
    *len = strlen(v);
    if (*len > CELL_SECRET_MAX)
        return cell_err_set(err, 0, "%s: longer than %d bytes", key, CELL_SECRET_MAX);
    if ((*value = malloc(*len + 1)) == NULL)
        return cell_err_set(err, ENOMEM, "%s", key);
    memcpy(*value, v, *len + 1);
    return 0;
}

static int file_resolve(const struct cell_secret_broker *b, const char *key, char **value, size_t *len,
                        struct cell_err *err)
{
    cleanup_close int dir = open(b->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0)
        return cell_err_set(err, errno, "%s: the file broker's directory %s", key, b->dir);
    /* the key is letters, digits and '_': one name in that directory */
    cleanup_close int fd = openat(dir, key, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    if (fd < 0)
        return cell_err_set(err, errno, "%s: not found: %s/%s", key, b->dir, key);
    if (fstat(fd, &st) < 0)
        return cell_err_set(err, errno, "%s: %s/%s", key, b->dir, key);
    if (!S_ISREG(st.st_mode))
        return cell_err_set(err, 0, "%s: %s/%s is not a regular file", key, b->dir, key);
    if (st.st_size > CELL_SECRET_MAX)
        return cell_err_set(err, 0, "%s: %s/%s is larger than %d bytes", key, b->dir, key, CELL_SECRET_MAX);
    /* one byte more than the size said is asked for: a file that grew
     * while it was read is refused rather than cut */
    size_t cap = (size_t)st.st_size + 1;
    char *buf = malloc(cap + 1);
    if (buf == NULL)
        return cell_err_set(err, ENOMEM, "%s", key);
    size_t got = 0;
    ssize_t n = 0;
    while (got < cap && ((n = read(fd, buf + got, cap - got)) > 0 || (n < 0 && errno == EINTR)))
        got += n > 0 ? (size_t)n : 0;
    if (n < 0 || got > (size_t)st.st_size) {
        int e = n < 0 ? errno : 0;
        explicit_bzero(buf, got);
        free(buf);
        if (e)
            return cell_err_set(err, e, "%s: read %s/%s", key, b->dir, key);
        return cell_err_set(err, 0, "%s: %s/%s changed while it was read", key, b->dir, key);
    }
    buf[got] = '\0';
    *value = buf;
    *len = got;
    return 0;
}

static void no_lease(const struct cell_secret_broker *b, const char *key)
{
    (void)b; /* env and file hand out values, not leases: nothing to drop */
    (void)key;
}

void cell_secret_broker_env(struct cell_secret_broker *b)
{
    *b = (struct cell_secret_broker){.name = "env", .resolve = env_resolve, .revoke = no_lease};
}

void cell_secret_broker_file(struct cell_secret_broker *b, const char *dir)
{
    *b = (struct cell_secret_broker){.name = "file", .resolve = file_resolve, .revoke = no_lease, .dir = dir};
}

/* Free a value, wiping it first. */
static void drop_value(char *value, size_t len)
{
    if (value) {
        explicit_bzero(value, len);
        free(value);
    }
}

/* KEY=value appended to spec->env (the entry is the only copy). */
static int deliver_env(struct cell_spec *spec, const char *key, const char *value, size_t len, struct cell_err *err)
{
    if (memchr(value, '\0', len))
        return cell_err_set(err, 0, "%s: contains a NUL byte: deliver it as a file (secretDelivery runtimeBroker)",
                            key);
    size_t n = 0;
    while (spec->env && spec->env[n])
        n++;
    char **grown = realloc(spec->env, (n + 2) * sizeof *grown);
    if (grown == NULL)
        return cell_err_set(err, ENOMEM, "%s", key);
    spec->env = grown;
    size_t klen = strlen(key);
    char *entry = malloc(klen + 1 + len + 1);
    if (entry == NULL) {
        grown[n] = NULL;
        return cell_err_set(err, ENOMEM, "%s", key);
    }
    memcpy(entry, key, klen);
    entry[klen] = '=';
    memcpy(entry + klen + 1, value, len);
    entry[klen + 1 + len] = '\0';
    grown[n] = entry;
    grown[n + 1] = NULL;
    return 0;
}

void secrets_wipe_env(struct cell_spec *spec)
{
    for (size_t i = 0; spec->env && spec->env[i]; i++) {
        explicit_bzero(spec->env[i], strlen(spec->env[i]));
        free(spec->env[i]);
    }
    free(spec->env);
    spec->env = NULL;
}

/* The secrets tmpfs: big enough for every value, no more. */
static int mount_secrets(const struct cell_job *job, struct job_dirs *dirs, struct cell_err *err)
{
    if (mkdir(dirs->secrets, 0700) < 0)
        return cell_err_set(err, errno, "create %s", dirs->secrets);
    char options[96];
    size_t kib = (job->nsecret_refs * (CELL_SECRET_MAX + 4096)) / 1024 + 64;
    snprintf(options, sizeof options, "mode=0700,size=%zuk,nr_inodes=%zu", kib, job->nsecret_refs + 16);
    if (mount("tmpfs", dirs->secrets, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, options) < 0) {
        int e = errno;
        rmdir(dirs->secrets);
        return cell_err_set(err, e, "mount a tmpfs on %s%s", dirs->secrets,
                            e == EPERM ? " (secret files need root)" : "");
    }
    dirs->mounted_secrets = true;
    return 0;
}

static int write_secret_file(const struct job_dirs *dirs, const char *key, const char *value, size_t len,
                             struct cell_err *err)
{
    cleanup_close int dir = open(dirs->secrets, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    cleanup_close int fd =
        dir < 0 ? -1 : openat(dir, key, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0400);
    if (fd < 0)
        return cell_err_set(err, errno, "%s: create %s/%s", key, dirs->secrets, key);
    if (fchmod(fd, 0400) < 0 || write_all(fd, value, len) < 0)
        return cell_err_set(err, errno, "%s: write %s/%s", key, dirs->secrets, key);
    return 0;
}

int secrets_deliver(struct cell_spec *spec, const struct cell_job *job, const struct cell_secret_broker *broker,
                    struct job_dirs *dirs, struct cell_err *err)
{
    if (job->nsecret_refs == 0)
        return 0;
    bool as_files = job->delivery != CELL_SECRET_ENV;
    if (as_files && mount_secrets(job, dirs, err) < 0)
        return -1;
    for (size_t i = 0; i < job->nsecret_refs; i++) {
        const char *key = job->secret_refs[i];
        char *value = NULL;
        size_t len = 0;
        if (broker->resolve(broker, key, &value, &len, err) < 0)
            return cell_err_prefix(err, "the %s broker: ", broker->name);
        int rc = as_files ? write_secret_file(dirs, key, value, len, err) : deliver_env(spec, key, value, len, err);
        drop_value(value, len);
        if (rc < 0)
            return -1;
    }
    if (!as_files)
        return 0;
    /* nothing is written any more: the host's side read-only too */
    if (mount(NULL, dirs->secrets, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
        return cell_err_set(err, errno, "make %s read-only", dirs->secrets);
    struct cell_mount m = {.kind = CELL_MOUNT_BIND, .source = dirs->secrets, .destination = "/run/secrets"};
    return cell_spec_add_mount(spec, &m, err);
}

int secrets_revoke(const struct cell_job *job, const struct cell_secret_broker *broker, struct job_dirs *dirs,
                   struct cell_err *err)
{
    int rc = 0;
    if (dirs->mounted_secrets) {
        /* writable again so the files can go before the mount does (a
         * lazily detached tmpfs would keep them while anything holds it) */
        mount(NULL, dirs->secrets, NULL, MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
        for (size_t i = 0; i < job->nsecret_refs; i++) {
            char path[PATH_MAX + 80];
            snprintf(path, sizeof path, "%s/%s", dirs->secrets, job->secret_refs[i]);
            if (unlink(path) < 0 && errno != ENOENT && rc == 0)
                rc = cell_err_set(err, errno, "remove the secret file %s", path);
        }
        if (umount2(dirs->secrets, 0) < 0 && umount2(dirs->secrets, MNT_DETACH) < 0) {
            if (rc == 0)
                rc = cell_err_set(err, errno, "unmount %s", dirs->secrets);
        } else {
            dirs->mounted_secrets = false;
        }
    }
    if (!dirs->mounted_secrets && rmdir(dirs->secrets) < 0 && errno != ENOENT && rc == 0)
        rc = cell_err_set(err, errno, "remove %s", dirs->secrets);
    for (size_t i = 0; i < job->nsecret_refs; i++)
        broker->revoke(broker, job->secret_refs[i]);
    return rc;
}
