/* test_args.c - unit tests for the `cell run` command line
 * (cell_spec_from_args, src/lib/spec_args.c), its supervision options
 * above all: each option sets its field, the defaults hold, and each error
 * is reported with the option's name. */
#include "cell/cell.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

/* Parse "run ARGS... -- /bin/true" into spec; returns what the parser did. */
static int parse(struct cell_spec *spec, struct cell_err *err, const char *const *args)
{
    char *argv[64] = {"run"};
    int argc = 1;
    for (; args[argc - 1]; argc++)
        argv[argc] = (char *)args[argc - 1];
    argv[argc++] = "--";
    argv[argc++] = "/bin/true";
    cell_spec_init(spec);
    memset(err, 0, sizeof *err);
    return cell_spec_from_args(argc, argv, spec, err);
}

static void refused(const char *const *args, const char *needle)
{
    struct cell_spec spec;
    struct cell_err err;
    if (parse(&spec, &err, args) != -1)
        fail_msg("accepted, expected: %s", needle);
    if (strstr(err.msg, needle) == NULL)
        fail_msg("error \"%s\" does not contain \"%s\"", err.msg, needle);
    cell_spec_free(&spec);
}

static void test_supervision_defaults(void **state)
{
    (void)state;
    struct cell_spec spec;
    struct cell_err err;
    const char *args[] = {"-d", "--name", "web", NULL};
    assert_true(parse(&spec, &err, args) > 0);
    const struct cell_supervision *s = &spec.supervise;
    assert_true(s->detach);
    assert_int_equal(s->restart, CELL_RESTART_ON_FAILURE);
    assert_int_equal(s->restart_delay_ms, 1000);
    assert_int_equal(s->restart_max_delay_ms, 10000);
    assert_int_equal(s->stable_after_ms, 10000);
    assert_int_equal(s->reset_after_ms, 30000);
    assert_int_equal(s->stop_timeout_ms, 5000);
    assert_false(s->no_autostart);
    assert_false(s->listen);
    assert_false(s->listen_seqpacket);
    cell_spec_free(&spec);
}

/* --listen[=PATH] and --listen-type: stream unless seqpacket is asked for. */
static void test_listen_options(void **state)
{
    (void)state;
    struct cell_spec spec;
    struct cell_err err;
    if (parse(&spec, &err, (const char *[]){"-d", "--listen", NULL}) <= 0)
        fail_msg("refused: %s", err.msg);
    assert_true(spec.supervise.listen);
    assert_null(spec.supervise.listen_path);
    assert_false(spec.supervise.listen_seqpacket);
    cell_spec_free(&spec);
    if (parse(&spec, &err, (const char *[]){"-d", "--listen=/run/x.sock", "--listen-type", "seqpacket", NULL}) <= 0)
        fail_msg("refused: %s", err.msg);
    assert_true(spec.supervise.listen);
    assert_string_equal(spec.supervise.listen_path, "/run/x.sock");
    assert_true(spec.supervise.listen_seqpacket);
    cell_spec_free(&spec);
    /* the last one given counts, as for every other option */
    if (parse(&spec, &err,
              (const char *[]){"-d", "--listen-type=seqpacket", "--listen", "--listen-type", "stream", NULL}) <= 0)
        fail_msg("refused: %s", err.msg);
    assert_true(spec.supervise.listen);
    assert_false(spec.supervise.listen_seqpacket);
    cell_spec_free(&spec);
}

/* --egress HOST:PORT[/udp] (repeatable) and --egress-netns NAME */
static void test_egress(void **state)
{
    (void)state;
    struct cell_spec spec;
    struct cell_err err;
    if (parse(&spec, &err,
              (const char *[]){"--egress", "198.51.100.1:8081", "--egress=api.example.com:53/udp", "--egress-netns",
                               "outside", NULL}) <= 0)
        fail_msg("refused: %s", err.msg);
    assert_int_equal(spec.negress, 2);
    assert_string_equal(spec.egress[0].host, "198.51.100.1");
    assert_int_equal(spec.egress[0].port, 8081);
    assert_string_equal(spec.egress[0].protocol, "tcp");
    assert_string_equal(spec.egress[1].host, "api.example.com");
    assert_string_equal(spec.egress[1].protocol, "udp");
    assert_string_equal(spec.egress_netns, "outside");
    assert_int_equal(cell_spec_set_argv(&spec, (char *[]){"/bin/true", NULL}, &err), 0);
    assert_int_equal(cell_spec_validate(&spec, &err), 0);
    cell_spec_free(&spec);
    refused((const char *[]){"--egress", "nohost", NULL}, "--egress \"nohost\": expected HOST:PORT[/tcp|/udp]");
    refused((const char *[]){"--egress", ":80", NULL}, "--egress \":80\": expected HOST:PORT[/tcp|/udp]");
    refused((const char *[]){"--egress", "a b:80", NULL}, "\"a b\" is not a host name or IPv4 address");
    refused((const char *[]){"--egress", "h:0", NULL}, "--egress \"h:0\": the port is 1 to 65535");
    refused((const char *[]){"--egress", "h:70000", NULL}, "--egress \"h:70000\": the port is 1 to 65535");
    refused((const char *[]){"--egress", "h:80/icmp", NULL}, "--egress \"h:80/icmp\": the protocol is /tcp or /udp");
    refused((const char *[]){"--egress-netns", "a/b", NULL}, "--egress-netns \"a/b\": the name of a network namespace");
    /* what only the whole spec can say */
    const char *const *wrong[] = {(const char *[]){"--egress", "h:80", "--net", "host", NULL},
                                  (const char *[]){"--egress-netns", "outside", NULL}};
    const char *why[] = {"--egress: only for a cell with a network of its own (not with --net host)",
                         "--egress-netns: only with --egress"};
    for (int i = 0; i < 2; i++) {
        assert_true(parse(&spec, &err, wrong[i]) > 0);
        assert_int_equal(cell_spec_set_argv(&spec, (char *[]){"/bin/true", NULL}, &err), 0);
        assert_int_equal(cell_spec_validate(&spec, &err), -1);
        assert_string_equal(err.msg, why[i]);
        cell_spec_free(&spec);
    }
}

static void test_listen_errors(void **state)
{
    (void)state;
    refused((const char *[]){"-d", "--listen=sock", NULL}, "run: --listen=sock: not an absolute path");
    refused((const char *[]){"-d", "--listen", "--listen-type", "datagram", NULL},
            "run: --listen-type \"datagram\": give stream (the default) or seqpacket");
    refused((const char *[]){"-d", "--listen", "--listen-type", "", NULL}, "run: --listen-type \"\"");
    refused((const char *[]){"-d", "--listen-type", "seqpacket", NULL}, "run: --listen-type: only with --listen");
    refused((const char *[]){"--listen", "--listen-type", "seqpacket", NULL},
            "--listen: only for a supervised cell (add -d)");
    refused((const char *[]){"--listen-type", "seqpacket", NULL}, "--listen-type: only for a supervised cell (add -d)");
    refused((const char *[]){"-d", "--listen", "--listen-type", NULL}, "--listen-type \"--\": give stream");
}

static void test_supervision_options(void **state)
{
    (void)state;
    struct cell_spec spec;
    struct cell_err err;
    const char *args[] = {"-d",       "--restart",
                          "always",   "--restart-delay",
                          "250ms",    "--restart-max-delay",
                          "2s",       "--stable-after",
                          "1.5",      "--backoff-reset",
                          "1m",       "--crash-limit",
                          "7",        "--crash-window",
                          "20s",      "--stop-timeout",
                          "3s",       "--ttl",
                          "60m",      "--no-autostart",
                          "--notify", NULL};
    if (parse(&spec, &err, args) <= 0)
        fail_msg("refused: %s", err.msg);
    const struct cell_supervision *s = &spec.supervise;
    assert_int_equal(s->restart, CELL_RESTART_ALWAYS);
    assert_int_equal(s->restart_delay_ms, 250);
    assert_int_equal(s->restart_max_delay_ms, 2000);
    assert_int_equal(s->stable_after_ms, 1500);
    assert_int_equal(s->reset_after_ms, 60000);
    assert_int_equal(s->crash_limit, 7);
    assert_int_equal(s->crash_window_ms, 20000);
    assert_int_equal(s->stop_timeout_ms, 3000);
    assert_int_equal(s->ttl_ms, 3600000);
    assert_true(s->no_autostart);
    assert_true(s->notify);
    cell_spec_free(&spec);
}

static void test_supervision_errors(void **state)
{
    (void)state;
    refused((const char *[]){"--stable-after", "5s", NULL}, "--stable-after: only for a supervised cell (add -d)");
    refused((const char *[]){"--no-autostart", NULL}, "--no-autostart: only for a supervised cell (add -d)");
    refused((const char *[]){"--backoff-reset", "1s", NULL}, "--backoff-reset: only for a supervised cell");
    refused((const char *[]){"-d", "--stable-after", "soon", NULL}, "--stable-after");
    refused((const char *[]){"-d", "--backoff-reset", "-1s", NULL}, "--backoff-reset");
    refused((const char *[]){"-d", "--restart-delay", "5s", "--restart-max-delay", "1s", NULL},
            "--restart-max-delay is below --restart-delay");
    refused((const char *[]){"-d", "--restart", "sometimes", NULL}, "--restart");
    refused((const char *[]){"-d", "-t", NULL}, "-d and --tty conflict");
    refused((const char *[]){"-d", "--stable-after", NULL}, "--stable-after \"--\": not a duration");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_supervision_defaults), cmocka_unit_test(test_supervision_options),
        cmocka_unit_test(test_supervision_errors),   cmocka_unit_test(test_listen_options),
        cmocka_unit_test(test_listen_errors),        cmocka_unit_test(test_egress),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
