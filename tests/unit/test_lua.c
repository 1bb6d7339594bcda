/* test_lua.c - unit tests for the Lua desired-state loader (src/lib/
 * spec_lua.c): documents become `cell run -d` arguments and specs; every
 * error names file, line, document and key path; the sandbox refuses each
 * forbidden function; the instruction and memory limits stop hostile files;
 * nothing is kept when any part fails. */
#include "cell/desired.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

static int load(const char *text, struct cell_desired *d, struct cell_err *err)
{
    memset(err, 0, sizeof *err);
    struct cell_desired_opts opts = {.instructions = 2000000, .memory_bytes = 16u << 20, .volumes_dir = "/vol"};
    return cell_desired_load_text("web.lua", text, strlen(text), &opts, d, err);
}

static void refused(const char *text, const char *needle)
{
    struct cell_desired d;
    struct cell_err err;
    if (load(text, &d, &err) == 0) {
        cell_desired_free(&d);
        fail_msg("accepted: %s", text);
    }
    if (strstr(err.msg, needle) == NULL)
        fail_msg("for %s:\nerror \"%s\"\ndoes not contain \"%s\"", text, err.msg, needle);
    assert_int_equal(d.ncells + d.nvolumes + d.napplies, 0); /* nothing kept */
}

static char *args_text(const struct cell_desired_cell *c)
{
    return json_dumps(c->args, JSON_COMPACT);
}

static void test_cell_becomes_declaration(void **state)
{
    (void)state;
    struct cell_desired d;
    struct cell_err err;
    const char *text = "volume('www', {mode = '0750'})\n"
                       "cell('web', {\n"
                       "  autostart = false,\n"
                       "  create = { profile = 'medium', reserved_ports = '8080,8443', rlimit_nofile = '4096' },\n"
                       "  supervise = { cmd = 'exec httpd', run_as = 'uid:1000:1000', log = { tag = 'web' } },\n"
                       "  mounts = { volume('www', {target = '/srv', mode = 'ro'}) },\n"
                       "  limits = { memory = '64M', pids = 50, cpu = 0.5 },\n"
                       "  network = 'host', env = { LANG = 'C', A = 1 },\n"
                       "  restart = { policy = 'always', delay = '250ms', crash_limit = 3 },\n"
                       "  healthcheck = 'true', listen = true, ttl = '1m', stop_timeout = 2,\n"
                       "  listen_type = 'seqpacket',\n"
                       "})\n"
                       "apply('web', { file('/srv/i.html', 'hi', {mode = '0644'}), exec('true') })\n";
    if (load(text, &d, &err) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(d.ncells, 1);
    assert_int_equal(d.nvolumes, 1);
    assert_int_equal(d.volumes[0].mode, 0750);
    const struct cell_desired_cell *c = &d.cells[0];
    assert_string_equal(c->name, "web");
    assert_string_equal(c->file, "web.lua");
    assert_int_equal(c->line, 2);
    assert_false(c->autostart);
    char *a = args_text(c);
    assert_string_equal(a, "[\"-d\",\"--name\",\"web\",\"--no-autostart\",\"--profile\",\"medium\",\"--rlimit\","
                           "\"nofile=4096\",\"--user\",\"1000:1000\",\"--syslog-facility\",\"daemon\","
                           "\"--syslog-levels\",\"notice,err\",\"--syslog-tag\",\"web\",\"--health\",\"true\","
                           "\"--memory\",\"64M\",\"--pids\",\"50\",\"--cpus\",\"0.5\",\"--net\",\"host\",\"--env\","
                           "\"A=1\",\"--env\",\"LANG=C\",\"--restart\",\"always\",\"--restart-delay\",\"250ms\","
                           "\"--crash-limit\",\"3\",\"--listen\",\"--listen-type\",\"seqpacket\",\"--ttl\",\"1m\","
                           "\"--stop-timeout\",\"2\",\"--\","
                           "\"/bin/sh\",\"-c\",\"exec httpd\"]");
    free(a);
    /* the spec as celld would run it */
    assert_int_equal(c->spec.limits.memory_bytes, 64u << 20);
    assert_int_equal(c->spec.uid, 1000);
    assert_true(c->spec.supervise.no_autostart);
    assert_true(c->spec.supervise.listen_seqpacket);
    /* volume mounts are kept for apply, which makes the directory first */
    json_t *vm = json_array_get(json_object_get(c->doc, "volume_mounts"), 0);
    assert_string_equal(json_string_value(json_object_get(vm, "source")), "/vol/www");
    assert_string_equal(json_string_value(json_object_get(vm, "target")), "/srv");
    assert_int_equal(d.napplies, 1);
    assert_int_equal(json_array_size(d.applies[0].actions), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(d.applies[0].actions, 0), "action")), "file");
    cell_desired_free(&d);
}

static void test_document_errors(void **state)
{
    (void)state;
    refused("cell('web', { create = { reserved_ports = '80,x' }, supervise = { cmd = 'x' } })",
            "web.lua:1: cell \"web\": create.reserved_ports: \"80,x\" is not a list of ports");
    refused("\n\ncell('web', { supervise = { cmd = 'x' }, bogus = 1 })", "web.lua:3: cell \"web\": unknown key bogus");
    refused("cell('web', { supervise = { cmd = 'x', user = 'a' } })", "unknown key supervise.user");
    refused("cell('a/b', { supervise = { cmd = 'x' } })", "cell \"a/b\": the name must be");
    refused("cell('web', {})", "cell \"web\": supervise: missing");
    refused("cell('web', { supervise = { } })", "supervise.cmd: missing");
    refused("cell('web', { supervise = { cmd = '' } })", "supervise.cmd: empty");
    refused("cell('web', { supervise = { cmd = 'x' } }) cell('web', { supervise = { cmd = 'y' } })",
            "cell \"web\": declared twice (first at web.lua:1)");
    refused("cell('web', { supervise = { cmd = 'x' }, autostart = 'yes' })", "autostart: expected true or false");
    refused("cell('web', { supervise = { cmd = 'x' }, create = { profile = 'paranoid' } })", "create.profile:");
    refused("cell('web', { supervise = { cmd = 'x' }, create = { rlimit_nofile = 'lots' } })", "create.rlimit_nofile:");
    refused("cell('web', { supervise = { cmd = 'x', run_as = 'cell:www' } })", "supervise.run_as: \"cell:www\"");
    refused("cell('web', { supervise = { cmd = 'x', run_as = 'host:no-such-user-here' } })",
            "no such user on this host");
    refused("cell('web', { supervise = { cmd = 'x' }, limits = { memory = 'lots' } })", "limits.memory:");
    refused("cell('web', { supervise = { cmd = 'x' }, limits = { cpu = 'x' } })", "limits.cpu:");
    refused("cell('web', { supervise = { cmd = 'x' }, limits = { pids = -1 } })", "limits.pids:");
    refused("cell('web', { supervise = { cmd = 'x' }, network = 'bridge' })", "network:");
    refused("cell('web', { supervise = { cmd = 'x' }, env = { ['A=B'] = 'c' } })", "env.A=B: expected NAME");
    refused("cell('web', { supervise = { cmd = 'x' }, restart = 'sometimes' })", "restart:");
    refused("cell('web', { supervise = { cmd = 'x' }, restart = { delay = 'soon' } })", "restart.delay");
    refused("cell('web', { supervise = { cmd = 'x' }, ttl = 'forever' })", "ttl");
    refused("cell('web', { supervise = { cmd = 'x' }, rootfs = 'relative' })",
            "rootfs: \"relative\" is not an absolute path");
    refused("cell('web', { supervise = { cmd = 'x' }, listen = 'sock' })", "listen: \"sock\" is not an absolute");
    refused("cell('web', { supervise = { cmd = 'x' }, listen = true, listen_type = 'dgram' })",
            "listen_type: \"dgram\": give \"stream\" or \"seqpacket\"");
    refused("cell('web', { supervise = { cmd = 'x' }, listen_type = 'seqpacket' })",
            "listen_type: only with listen = true or a socket path");
    refused("cell('web', { supervise = { cmd = 'x' }, listen = false, listen_type = 'seqpacket' })",
            "listen_type: only with listen");
    refused("cell('web', { supervise = { cmd = 'x' }, mounts = { host('/tmp', { target = 'rel' }) } })",
            "mounts[1]: target: an absolute path is needed");
    refused("cell('web', { supervise = { cmd = 'x' }, mounts = { host('/tmp', { target = '/dev/x' }) } })",
            "target \"/dev/x\" is not allowed");
    refused("cell('web', { supervise = { cmd = 'x' }, mounts = { host('/tmp', { target = '/a' }), host('/tmp', { "
            "target = '/a/b' }) } })",
            "mounts[2]: target \"/a/b\" overlaps mounts[1]'s \"/a\"");
    refused("cell('web', { supervise = { cmd = 'x' }, mounts = { host('/tmp', { target = '/a', mode = 'rx' }) } })",
            "mode: \"ro\" or \"rw\"");
    refused("cell('web', { supervise = { cmd = 'x' }, mounts = { volume('nope', { target = '/a' }) } })",
            "mounts: no volume \"nope\" is declared");
    refused("cell('a', { supervise = { cmd = 'x' }, depends_on = { 'b' } })",
            "cell \"a\": depends_on: no cell \"b\" is declared");
    refused("cell('a', { supervise = { cmd = 'x' }, depends_on = { 'b' } })\n"
            "cell('b', { supervise = { cmd = 'x' }, depends_on = { 'a' } })",
            "depends_on: a cycle leads back to it");
    refused("volume('v', { mode = 'rwx' })", "volume \"v\": mode: expected an octal mode");
    refused("volume('v') volume('v')", "volume \"v\": declared twice");
    refused("apply('ghost', { exec('true') })", "apply \"ghost\": no cell \"ghost\" is declared");
    refused("cell('web', { supervise = { cmd = 'x' } }) apply('web', { 'not an action' })",
            "apply \"web\": [1]: expected an action");
    refused("cell('web', { supervise = { cmd = 'x' } }) apply('web', { file('/a') })", "file: the content must be");
    refused("pkg('nginx')", "web.lua:1: pkg: there is no package action on Linux; install packages with exec(");
    refused("cell('web', { supervise = { cmd = 'x' }, healthcheck = function() end })", "healthcheck: expected");
    refused("this is not lua", "web.lua:1:");
}

static void test_sandbox(void **state)
{
    (void)state;
    static const char *const forbidden[] = {
        "dofile('/etc/passwd')",  "loadfile('/etc/passwd')", "load('return 1')",
        "require('os')",          "collectgarbage()",        "os.exit(1)",
        "io.open('/etc/passwd')", "debug.getinfo(1)",        "package.loadlib('x','y')"};
    for (size_t i = 0; i < sizeof forbidden / sizeof forbidden[0]; i++)
        refused(forbidden[i], "attempt to");
}

static void test_limits(void **state)
{
    (void)state;
    refused("while true do end", "web.lua:1: stopped after 2000000 Lua instructions");
    refused("local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 1000) .. i end", "bytes of memory");
    refused("local s = string.rep('x', 100000000)", "memory");
}

static void test_directory_in_sorted_order(void **state)
{
    (void)state;
    char dir[] = "/tmp/cell-test-lua-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/b.lua", dir);
    FILE *f = fopen(path, "w");
    fputs("cell('second', { supervise = { cmd = 'x' }, depends_on = { 'first' } })\n", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/a.lua", dir);
    f = fopen(path, "w");
    fputs("cell('first', { supervise = { cmd = 'x' } })\n", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/notes.txt", dir);
    f = fopen(path, "w");
    fputs("not lua", f);
    fclose(f);
    struct cell_desired d;
    struct cell_err err = {0};
    if (cell_desired_load(dir, NULL, &d, &err) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(d.ncells, 2);
    assert_string_equal(d.cells[0].name, "first");
    assert_string_equal(d.cells[0].file, "a.lua");
    assert_string_equal(d.cells[1].file, "b.lua");
    cell_desired_free(&d);
    /* an error in any file: nothing at all */
    snprintf(path, sizeof path, "%s/c.lua", dir);
    f = fopen(path, "w");
    fputs("cell('third', { supervise = { cmd = 'x' }, network = 'wifi' })\n", f);
    fclose(f);
    assert_int_equal(cell_desired_load(dir, NULL, &d, &err), -1);
    assert_non_null(strstr(err.msg, "c.lua:1: cell \"third\": network:"));
    assert_int_equal(d.ncells, 0);
    const char *names[] = {"a.lua", "b.lua", "c.lua", "notes.txt"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
    assert_int_equal(cell_desired_load("/nonexistent-cell-dir", NULL, &d, &err), -1);
    assert_non_null(strstr(err.msg, "desired state: read /nonexistent-cell-dir"));
}

static void test_depends_on_order(void **state)
{
    (void)state;
    struct cell_desired d;
    struct cell_err err;
    const char *text = "cell('web', { supervise = { cmd = 'x' }, depends_on = { 'api', 'cache' } })\n"
                       "cell('api', { supervise = { cmd = 'x' }, depends_on = { 'db' } })\n"
                       "cell('other', { supervise = { cmd = 'x' } })\n"
                       "cell('db', { supervise = { cmd = 'x' } })\n"
                       "cell('cache', { supervise = { cmd = 'x' } })\n";
    if (load(text, &d, &err) < 0)
        fail_msg("%s", err.msg);
    size_t order[5];
    assert_int_equal(cell_desired_order(&d, order), 0);
    const char *want[] = {"db", "api", "cache", "web", "other"};
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(d.cells[order[i]].name, want[i]);
    cell_desired_free(&d);
}

/* Hashes of the only cell of `text`; the apply sources are read in `dir`. */
static struct cell_desired_hashes hashes(const char *text, const char *dir)
{
    struct cell_desired d;
    struct cell_err err;
    if (load(text, &d, &err) < 0)
        fail_msg("%s", err.msg);
    struct cell_desired_hashes h;
    if (cell_desired_hash(&d, &d.cells[0], dir, &h, &err) < 0)
        fail_msg("%s", err.msg);
    cell_desired_free(&d);
    return h;
}

static void test_drift_hashes(void **state)
{
    (void)state;
    char dir[] = "/tmp/cell-test-drift-XXXXXX", src[64];
    assert_non_null(mkdtemp(dir));
    snprintf(src, sizeof src, "%s/page.in", dir);
    FILE *f = fopen(src, "w");
    fputs("hello {{cell_name}}\n", f);
    fclose(f);
    const char *base = "cell('web', { create = { profile = 'high' }, supervise = { cmd = 'run' }, env = { A = '1', B "
                       "= '2' } }) apply('web', { template('page.in', '/srv/i.html'), exec('true') })";
    struct cell_desired_hashes h0 = hashes(base, dir), h;
    assert_int_equal(strlen(h0.service), 64);
    /* the same document, its keys in another order: the same hashes */
    h = hashes("cell('web', { env = { B = '2', A = '1' }, supervise = { cmd = 'run' }, create = { profile = 'high' } "
               "}) apply('web', { template('page.in', '/srv/i.html'), exec('true') })",
               dir);
    assert_string_equal(h.manifest, h0.manifest);
    assert_string_equal(h.apply, h0.apply);
    /* a service change */
    h = hashes("cell('web', { create = { profile = 'high' }, supervise = { cmd = 'run2' }, env = { A = '1', B = '2' } "
               "}) apply('web', { template('page.in', '/srv/i.html'), exec('true') })",
               dir);
    assert_string_not_equal(h.service, h0.service);
    assert_string_equal(h.policy, h0.policy);
    assert_string_not_equal(h.manifest, h0.manifest);
    assert_string_equal(h.apply, h0.apply);
    /* a policy change */
    h = hashes("cell('web', { create = { profile = 'medium' }, supervise = { cmd = 'run' }, env = { A = '1', B = '2' "
               "} }) apply('web', { template('page.in', '/srv/i.html'), exec('true') })",
               dir);
    assert_string_equal(h.service, h0.service);
    assert_string_not_equal(h.policy, h0.policy);
    assert_string_equal(h.apply, h0.apply);
    /* an action change, and a change in a file an action reads */
    h = hashes("cell('web', { create = { profile = 'high' }, supervise = { cmd = 'run' }, env = { A = '1', B = '2' } "
               "}) apply('web', { template('page.in', '/srv/i.html'), exec('false') })",
               dir);
    assert_string_equal(h.manifest, h0.manifest);
    assert_string_not_equal(h.apply, h0.apply);
    f = fopen(src, "w");
    fputs("hello again\n", f);
    fclose(f);
    h = hashes(base, dir);
    assert_string_equal(h.manifest, h0.manifest);
    assert_string_not_equal(h.apply, h0.apply);
    /* a source that is not there is an error naming the action */
    unlink(src);
    struct cell_desired d;
    struct cell_err err;
    assert_int_equal(load(base, &d, &err), 0);
    assert_int_equal(cell_desired_hash(&d, &d.cells[0], dir, &h, &err), -1);
    assert_non_null(strstr(err.msg, "web.lua:1: apply \"web\": [1]: source "));
    cell_desired_free(&d);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cell_becomes_declaration),
        cmocka_unit_test(test_document_errors),
        cmocka_unit_test(test_sandbox),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_directory_in_sorted_order),
        cmocka_unit_test(test_drift_hashes),
        cmocka_unit_test(test_depends_on_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
