/* test_metrics.c - unit tests for cell_metrics_format() (src/lib/metrics.c):
 * the Prometheus text made from celld's status objects: every family's HELP
 * and TYPE lines, the samples and their exact values, label escaping of odd
 * names, fields that are missing or not numbers, and an empty list. */
#include "cell/metrics.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const char *const family_names[] = {
    "cell_up",        "cell_restarts_total", "cell_cpu_seconds_total",  "cell_memory_bytes",
    "cell_processes", "cell_health_status",  "cell_start_time_seconds", "cell_oom_kills_total",
};
#define NFAMILIES (sizeof family_names / sizeof family_names[0])

/* The text for a JSON array given as text; fails the test on an error. */
static char *format_text(const char *json)
{
    json_error_t jerr;
    json_t *cells = json_loads(json, 0, &jerr);
    if (cells == NULL) {
        fail_msg("bad test JSON: %s", jerr.text);
        abort(); /* fail_msg does not return; tell the compiler */
    }
    struct cell_err err = {0};
    char *text = cell_metrics_format(cells, &err);
    json_decref(cells);
    if (text == NULL) {
        fail_msg("cell_metrics_format failed: %s", err.msg);
        abort();
    }
    return text;
}

static void assert_has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
        if ((p == text || p[-1] == '\n') && p[n] == '\n')
            return;
    fail_msg("no line \"%s\" in:\n%s", line, text);
}

/* noinline: inlined, gcc 12 with -fsanitize=undefined wrongly sees a NULL
 * reach the %s below (-Wformat-overflow) */
__attribute__((noinline)) static void assert_no_text(const char *text, const char *what)
{
    if (strstr(text, what))
        fail_msg("unexpected \"%s\" in:\n%s", what, text);
}

static size_t count_lines(const char *text)
{
    size_t n = 0;
    for (; *text; text++)
        n += *text == '\n';
    return n;
}

static void empty_list_gives_every_family_without_samples(void **state)
{
    (void)state;
    char *text = format_text("[]");
    char want[128];
    for (size_t i = 0; i < NFAMILIES; i++) {
        snprintf(want, sizeof want, "# TYPE %s ", family_names[i]);
        assert_non_null(strstr(text, want));
        snprintf(want, sizeof want, "# HELP %s ", family_names[i]);
        assert_non_null(strstr(text, want));
    }
    assert_int_equal(count_lines(text), 2 * NFAMILIES);
    assert_int_equal(text[strlen(text) - 1], '\n');
    free(text);
}

static void a_running_cell_gets_every_sample(void **state)
{
    (void)state;
    char *text = format_text("[{\"name\": \"web\", \"state\": \"running\", \"up\": 1, \"restarts\": 3,"
                             " \"cpu_usec\": 1500000, \"memory_bytes\": 4194304, \"procs\": 2,"
                             " \"health_status\": -1, \"start_time_ms\": 1732363200123, \"oom_kills\": 0,"
                             " \"health\": \"starting\", \"args\": [\"--name\", \"web\"]}]");
    assert_has_line(text, "# TYPE cell_up gauge");
    assert_has_line(text, "# TYPE cell_restarts_total counter");
    assert_has_line(text, "# TYPE cell_cpu_seconds_total counter");
    assert_has_line(text, "# TYPE cell_oom_kills_total counter");
    assert_has_line(text, "cell_up{cell=\"web\"} 1");
    assert_has_line(text, "cell_restarts_total{cell=\"web\"} 3");
    assert_has_line(text, "cell_cpu_seconds_total{cell=\"web\"} 1.5");
    assert_has_line(text, "cell_memory_bytes{cell=\"web\"} 4194304");
    assert_has_line(text, "cell_processes{cell=\"web\"} 2");
    assert_has_line(text, "cell_health_status{cell=\"web\"} -1");
    assert_has_line(text, "cell_start_time_seconds{cell=\"web\"} 1732363200.123");
    assert_has_line(text, "cell_oom_kills_total{cell=\"web\"} 0");
    assert_int_equal(count_lines(text), 3 * NFAMILIES);
    free(text);
}

/* Each family's samples follow its own TYPE line, in the order of the list. */
static void samples_are_grouped_by_family(void **state)
{
    (void)state;
    char *text = format_text("[{\"name\": \"b\", \"up\": 1, \"restarts\": 0},"
                             " {\"name\": \"a\", \"up\": 0, \"restarts\": 5}]");
    const char *type_up = strstr(text, "# TYPE cell_up gauge\n");
    const char *type_restarts = strstr(text, "# TYPE cell_restarts_total");
    const char *up_b = strstr(text, "cell_up{cell=\"b\"} 1\n");
    const char *up_a = strstr(text, "cell_up{cell=\"a\"} 0\n");
    const char *restarts_b = strstr(text, "cell_restarts_total{cell=\"b\"} 0\n");
    const char *restarts_a = strstr(text, "cell_restarts_total{cell=\"a\"} 5\n");
    assert_non_null(type_up);
    assert_non_null(up_a);
    assert_non_null(up_b);
    assert_non_null(restarts_a);
    assert_non_null(restarts_b);
    assert_true(type_up < up_b && up_b < up_a && up_a < type_restarts);
    assert_true(type_restarts < restarts_b && restarts_b < restarts_a);
    free(text);
}

/* A stopped cell has no usage, no start time; a cell without --health no
 * health status: those families get no sample for it, and nothing is made up. */
static void missing_fields_give_no_sample(void **state)
{
    (void)state;
    char *text = format_text("[{\"name\": \"idle\", \"state\": \"exited\", \"up\": 0, \"restarts\": 0,"
                             " \"oom_kills\": 2, \"exit_code\": null}]");
    assert_has_line(text, "cell_up{cell=\"idle\"} 0");
    assert_has_line(text, "cell_restarts_total{cell=\"idle\"} 0");
    assert_has_line(text, "cell_oom_kills_total{cell=\"idle\"} 2");
    assert_no_text(text, "cell_cpu_seconds_total{");
    assert_no_text(text, "cell_memory_bytes{");
    assert_no_text(text, "cell_processes{");
    assert_no_text(text, "cell_health_status{");
    assert_no_text(text, "cell_start_time_seconds{");
    free(text);
}

/* Values that are not numbers, and elements without a usable name, are left out. */
static void wrong_types_are_skipped(void **state)
{
    (void)state;
    char *text = format_text("[{\"name\": \"x\", \"up\": \"1\", \"restarts\": true, \"procs\": null,"
                             " \"memory_bytes\": 1.5e3},"
                             " {\"up\": 1}, {\"name\": 7, \"up\": 1}, \"web\", 42, null, [1]]");
    assert_no_text(text, "cell_up{");
    assert_no_text(text, "cell_restarts_total{");
    assert_no_text(text, "cell_processes{");
    assert_has_line(text, "cell_memory_bytes{cell=\"x\"} 1500");
    assert_int_equal(count_lines(text), 2 * NFAMILIES + 1);
    free(text);
}

/* Backslash, double quote and newline in a label value are escaped; anything
 * else (UTF-8, braces, spaces, '=') passes as it is. */
static void odd_names_are_escaped(void **state)
{
    (void)state;
    json_t *cells = json_array();
    json_t *c = json_object();
    json_object_set_new(c, "name", json_string("a\"b\\c\nd} e=\xc3\xa9"));
    json_object_set_new(c, "up", json_integer(1));
    json_array_append_new(cells, c);
    struct cell_err err = {0};
    char *text = cell_metrics_format(cells, &err);
    json_decref(cells);
    assert_non_null(text);
    assert_has_line(text, "cell_up{cell=\"a\\\"b\\\\c\\nd} e=\xc3\xa9\"} 1");
    assert_int_equal(count_lines(text), 2 * NFAMILIES + 1);
    free(text);
}

/* Exact decimals from integer micro- and milliseconds, negatives included. */
static void scaled_values_are_exact(void **state)
{
    (void)state;
    char *text = format_text("[{\"name\": \"a\", \"cpu_usec\": 0, \"start_time_ms\": 1000},"
                             " {\"name\": \"b\", \"cpu_usec\": 1, \"start_time_ms\": 999},"
                             " {\"name\": \"c\", \"cpu_usec\": 123456789, \"start_time_ms\": -1500},"
                             " {\"name\": \"d\", \"cpu_usec\": 9223372036854775807,"
                             " \"memory_bytes\": 18446744073709}]");
    assert_has_line(text, "cell_cpu_seconds_total{cell=\"a\"} 0");
    assert_has_line(text, "cell_cpu_seconds_total{cell=\"b\"} 0.000001");
    assert_has_line(text, "cell_cpu_seconds_total{cell=\"c\"} 123.456789");
    assert_has_line(text, "cell_cpu_seconds_total{cell=\"d\"} 9223372036854.775807");
    assert_has_line(text, "cell_start_time_seconds{cell=\"a\"} 1");
    assert_has_line(text, "cell_start_time_seconds{cell=\"b\"} 0.999");
    assert_has_line(text, "cell_start_time_seconds{cell=\"c\"} -1.5");
    assert_has_line(text, "cell_memory_bytes{cell=\"d\"} 18446744073709");
    free(text);
}

static void not_an_array_is_an_error(void **state)
{
    (void)state;
    struct cell_err err = {0};
    json_t *obj = json_object();
    assert_null(cell_metrics_format(obj, &err));
    assert_non_null(strstr(err.msg, "not a JSON array"));
    assert_null(cell_metrics_format(NULL, &err));
    json_decref(obj);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(empty_list_gives_every_family_without_samples),
        cmocka_unit_test(a_running_cell_gets_every_sample),
        cmocka_unit_test(samples_are_grouped_by_family),
        cmocka_unit_test(missing_fields_give_no_sample),
        cmocka_unit_test(wrong_types_are_skipped),
        cmocka_unit_test(odd_names_are_escaped),
        cmocka_unit_test(scaled_values_are_exact),
        cmocka_unit_test(not_an_array_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
