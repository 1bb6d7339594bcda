/* test_run.c - cell_run() as a library caller sees it: the result fields for
 * a normal exit (also above 128), a signal and a timeout, and the error for a
 * command that is not there. Needs root (namespaces); skipped otherwise. */
#include "cell/cell.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exit_above_128_is_an_exit),
        cmocka_unit_test(test_signal_is_a_signal),
        cmocka_unit_test(test_timeout_is_reported),
        cmocka_unit_test(test_missing_command_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
