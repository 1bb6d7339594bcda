/* test_seccomp.c - the seccomp programs embedded in libcell (generated at
 * build time by seccomp_gen) must be exactly what libseccomp builds from
 * seccomp.c now, and must behave: each is loaded in a forked child that then
 * tries calls its profile refuses and allows. */
#include "sandbox/sandbox.h"
#include "sandbox/seccomp_build.h"

#include <errno.h>
#include <linux/filter.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

static void assert_embedded_matches(enum cell_profile profile)
{
    struct cell_err err = {0};
    scmp_filter_ctx ctx = seccomp_profile_build(profile, &err);
    assert_non_null(ctx);
    int fd = memfd_create("bpf", MFD_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(seccomp_export_bpf(ctx, fd), 0);
    seccomp_release(ctx);
    off_t size = lseek(fd, 0, SEEK_END);
    assert_true(size > 0);
    unsigned char *fresh = malloc((size_t)size);
    assert_non_null(fresh);
    assert_int_equal(pread(fd, fresh, (size_t)size, 0), size);
    close(fd);

    struct sock_fprog prog;
    assert_int_equal(seccomp_profile_program(profile, &prog), 0);
    if ((size_t)size != prog.len * sizeof(struct sock_filter) || memcmp(fresh, prog.filter, (size_t)size) != 0)
        fail_msg("the embedded %s program (%u insns) differs from libseccomp's (%zu insns): rebuild",
                 cell_profile_label(profile), prog.len, (size_t)size / sizeof(struct sock_filter));
    free(fresh);
}

static void test_high_is_current(void **state)
{
    (void)state;
    assert_embedded_matches(CELL_PROFILE_HIGH);
}
static void test_medium_is_current(void **state)
{
    (void)state;
    assert_embedded_matches(CELL_PROFILE_MEDIUM);
}
static void test_low_is_current(void **state)
{
    (void)state;
    assert_embedded_matches(CELL_PROFILE_LOW);
}

static void test_unknown_profile_is_refused(void **state)
{
    (void)state;
    struct sock_fprog prog;
    struct cell_err err = {0};
    assert_int_equal(seccomp_profile_program((enum cell_profile)42, &prog), -1);
    assert_int_equal(seccomp_profile_load((enum cell_profile)42, &err), -1);
    assert_int_equal(err.errnum, EINVAL);
}

/* In a child: load PROFILE, then report a bit per probe that succeeded. */
enum { PROBE_SYSV = 1, PROBE_UNSHARE_USER = 2, PROBE_RAW = 4, PROBE_UNIX = 8, PROBE_GETPID = 16 };

static int probes_after_loading(enum cell_profile profile)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct cell_err err = {0};
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || seccomp_profile_load(profile, &err) < 0)
            _exit(255);
        int ok = 0;
        int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
        if (id >= 0) {
            ok |= PROBE_SYSV;
            shmctl(id, IPC_RMID, NULL);
        }
        if (unshare(CLONE_NEWUSER) == 0)
            ok |= PROBE_UNSHARE_USER;
        int s = socket(AF_INET, SOCK_RAW, 1);
        if (s >= 0)
            ok |= PROBE_RAW; /* the test runs as root: only the filter can refuse it */
        int u = socket(AF_UNIX, SOCK_STREAM, 0);
        if (u >= 0)
            ok |= PROBE_UNIX;
        if (getpid() > 0)
            ok |= PROBE_GETPID;
        _exit(ok);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_not_equal(WEXITSTATUS(status), 255);
    return WEXITSTATUS(status);
}

static void test_high_refuses_and_allows(void **state)
{
    (void)state;
    int ok = probes_after_loading(CELL_PROFILE_HIGH);
    assert_false(ok & PROBE_SYSV);
    assert_false(ok & PROBE_UNSHARE_USER);
    assert_false(ok & PROBE_RAW);
    assert_true(ok & PROBE_UNIX);
    assert_true(ok & PROBE_GETPID);
}

static void test_medium_allows_sysv_not_userns(void **state)
{
    (void)state;
    int ok = probes_after_loading(CELL_PROFILE_MEDIUM);
    assert_true(ok & PROBE_SYSV);
    assert_false(ok & PROBE_UNSHARE_USER);
    assert_false(ok & PROBE_RAW);
    assert_true(ok & PROBE_UNIX);
}

#if defined(__x86_64__)
static void *foreign_call(void *arg)
{
    long ret;
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory"); /* i386 getpid */
    return arg;
}

/* A call through the 32-bit ABI (int 0x80) is of a foreign architecture: the
 * filter kills the whole process with SIGSYS, under every profile. */
static void test_foreign_abi_kills_the_process(void **state)
{
    (void)state;
    const enum cell_profile all[] = {CELL_PROFILE_HIGH, CELL_PROFILE_MEDIUM, CELL_PROFILE_LOW};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            struct cell_err err = {0};
            if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || seccomp_profile_load(all[i], &err) < 0)
                _exit(255);
            /* from a second thread: only killing the whole process ends main too */
            pthread_t t;
            if (pthread_create(&t, NULL, foreign_call, NULL) != 0)
                _exit(254);
            pthread_join(t, NULL);
            _exit(0);
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSYS)
            fail_msg("profile %s: int 0x80 did not end the process with SIGSYS (status 0x%x)",
                     cell_profile_label(all[i]), status);
    }
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_high_is_current),
        cmocka_unit_test(test_medium_is_current),
        cmocka_unit_test(test_low_is_current),
        cmocka_unit_test(test_unknown_profile_is_refused),
        cmocka_unit_test(test_high_refuses_and_allows),
        cmocka_unit_test(test_medium_allows_sysv_not_userns),
#if defined(__x86_64__)
        cmocka_unit_test(test_foreign_abi_kills_the_process),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
