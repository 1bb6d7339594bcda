/* test_run.c - cell_run() and cell_start() as a library caller sees them:
 * the result fields for a normal exit (also above 128), a signal and a
 * timeout, the error for a command that is not there, and a detached cell
 * on the caller's pipes. Needs root (namespaces); skipped otherwise. */
#include "cell/cell.h"

#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static int run_sh(const char *script, unsigned timeout, struct cell_result *result, struct cell_err *err)
{
    struct cell_spec spec;
    cell_spec_init(&spec);
    char *argv[] = {"/bin/sh", "-c", (char *)script, NULL};
    spec.timeout_sec = timeout;
    assert_int_equal(cell_spec_set_argv(&spec, argv, err), 0);
    assert_int_equal(cell_spec_add_default_env(&spec, err), 0);
    assert_int_equal(cell_spec_validate(&spec, err), 0);
    int rc = cell_run(&spec, NULL, result, err);
    cell_spec_free(&spec);
    return rc;
}

static void test_exit_above_128_is_an_exit(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip();
    struct cell_result r;
    struct cell_err err = {0};
    assert_int_equal(run_sh("exit 200", 0, &r, &err), 0);
    assert_int_equal(r.exit_code, 200);
    assert_int_equal(r.exit_status, 200);
    assert_int_equal(r.term_signal, 0);
    assert_false(r.timed_out);
}

static void test_signal_is_a_signal(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip();
    struct cell_result r;
    struct cell_err err = {0};
    assert_int_equal(run_sh("kill -TERM $$", 0, &r, &err), 0);
    assert_int_equal(r.exit_code, 128 + SIGTERM);
    assert_int_equal(r.exit_status, -1);
    assert_int_equal(r.term_signal, SIGTERM);
}

static void test_timeout_is_reported(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip();
    struct cell_result r;
    struct cell_err err = {0};
    assert_int_equal(run_sh("sleep 30", 1, &r, &err), 0);
    assert_int_equal(r.exit_code, CELL_EXIT_TIMEOUT);
    assert_true(r.timed_out);
    assert_int_equal(r.term_signal, SIGKILL);
}

static void test_missing_command_is_an_error(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip();
    struct cell_spec spec;
    struct cell_result r;
    struct cell_err err = {0};
    cell_spec_init(&spec);
    char *argv[] = {"/no/such/program", NULL};
    assert_int_equal(cell_spec_set_argv(&spec, argv, &err), 0);
    assert_int_equal(cell_spec_validate(&spec, &err), 0);
    assert_int_equal(cell_run(&spec, NULL, &r, &err), -1);
    assert_int_equal(r.exit_code, CELL_EXIT_NOTFOUND);
    assert_non_null(strstr(err.msg, "/no/such/program"));
    cell_spec_free(&spec);
}

/* cell_start: a detached cell with its stdout on our pipe; the cell holds no
 * other fd of ours (a pipe we close reads EOF at once while it runs). */
static void test_start_detached_with_stdio(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip();
    int out[2], other[2];
    assert_int_equal(pipe2(out, O_CLOEXEC), 0);
    assert_int_equal(pipe2(other, O_CLOEXEC | O_NONBLOCK), 0);
    struct cell_spec spec;
    struct cell_err err = {0};
    cell_spec_init(&spec);
    char *argv[] = {"/bin/sh", "-c", "echo started; read x; echo \"got $x\"; exit 3", NULL};
    assert_int_equal(cell_spec_set_argv(&spec, argv, &err), 0);
    assert_int_equal(cell_spec_add_default_env(&spec, &err), 0);
    assert_int_equal(cell_spec_validate(&spec, &err), 0);
    int in[2];
    assert_int_equal(pipe2(in, O_CLOEXEC), 0);
    struct cell_start_opts opts = {.detached = true, .stdio = {in[0], out[1], -1}};
    struct cell_instance *inst = NULL;
    if (cell_start(&spec, &opts, &inst, &err) != 0)
        fail_msg("cell_start: %s", err.msg);
    close(out[1]);
    close(in[0]);
    char buf[64] = "";
    assert_int_equal(read(out[0], buf, 8), 8);
    assert_memory_equal(buf, "started\n", 8);
    /* the cell runs; had it kept a copy of other[1], this would be EAGAIN */
    close(other[1]);
    assert_int_equal(read(other[0], buf, 1), 0);
    assert_true(cell_instance_pid(inst) > 0);
    assert_true(cell_instance_pidfd(inst) >= 0);
    assert_int_equal(write(in[1], "x\n", 2), 2);
    close(in[1]);
    struct pollfd p = {.fd = cell_instance_pidfd(inst), .events = POLLIN};
    assert_int_equal(poll(&p, 1, -1), 1);
    struct cell_result r;
    cell_instance_finish(inst, &r);
    assert_int_equal(r.exit_code, 3);
    assert_int_equal(r.exit_status, 3);
    ssize_t n = read(out[0], buf, sizeof buf - 1);
    assert_true(n > 0);
    buf[n] = '\0';
    assert_string_equal(buf, "got x\n");
    close(out[0]);
    close(other[0]);
    cell_spec_free(&spec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exit_above_128_is_an_exit), cmocka_unit_test(test_signal_is_a_signal),
        cmocka_unit_test(test_timeout_is_reported),       cmocka_unit_test(test_missing_command_is_an_error),
        cmocka_unit_test(test_start_detached_with_stdio),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
