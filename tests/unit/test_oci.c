/* test_oci.c - unit tests for the OCI front end (src/lib/spec_oci.c): the
 * config `crun spec` writes and a config using every field cell maps become
 * the expected cell_spec and cell_oci; limits arithmetic; bundle-relative
 * paths; hooks; the capability rule; one test per error message and per
 * warning. A temporary bundle holds rootfs/, data/ and a file. Most cases are
 * a small patch merged into a minimal config that loads without warnings. */
#include "cell/oci.h"

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

static char bundle[PATH_MAX - 64];
static char rootfs[PATH_MAX];

/* `crun spec` (crun 1.8), as written. */
static const char crun_spec[] =
    "{\"ociVersion\": \"1.0.0\", \"process\": {\"terminal\": true, \"user\": {\"uid\": 0, \"gid\": 0},"
    " \"args\": [\"sh\"], \"env\": [\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\","
    " \"TERM=xterm\"], \"cwd\": \"/\", \"capabilities\": {"
    " \"bounding\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],"
    " \"effective\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"], \"inheritable\": [],"
    " \"permitted\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],"
    " \"ambient\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"]},"
    " \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": 1024, \"soft\": 1024}], \"noNewPrivileges\": true},"
    " \"root\": {\"path\": \"rootfs\", \"readonly\": true}, \"hostname\": \"crun\", \"mounts\": ["
    " {\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},"
    " {\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\","
    "  \"options\": [\"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\"]},"
    " {\"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\","
    "  \"options\": [\"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\", \"mode=0620\", \"gid=5\"]},"
    " {\"destination\": \"/dev/shm\", \"type\": \"tmpfs\", \"source\": \"shm\","
    "  \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"mode=1777\", \"size=65536k\"]},"
    " {\"destination\": \"/dev/mqueue\", \"type\": \"mqueue\", \"source\": \"mqueue\","
    "  \"options\": [\"nosuid\", \"noexec\", \"nodev\"]},"
    " {\"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\","
    "  \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"ro\"]},"
    " {\"destination\": \"/sys/fs/cgroup\", \"type\": \"cgroup\", \"source\": \"cgroup\","
    "  \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"relatime\", \"ro\"]}],"
    " \"linux\": {\"resources\": {\"devices\": [{\"allow\": false, \"access\": \"rwm\"}]},"
    " \"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"network\"}, {\"type\": \"ipc\"}, {\"type\": \"uts\"},"
    " {\"type\": \"mount\"}],"
    " \"maskedPaths\": [\"/proc/acpi\", \"/proc/asound\", \"/proc/kcore\", \"/proc/keys\", \"/proc/latency_stats\","
    " \"/proc/timer_list\", \"/proc/timer_stats\", \"/proc/sched_debug\", \"/sys/firmware\", \"/proc/scsi\"],"
    " \"readonlyPaths\": [\"/proc/bus\", \"/proc/fs\", \"/proc/irq\", \"/proc/sys\", \"/proc/sysrq-trigger\"]}}";

/* Loads with no warning; every other case patches it. */
static const char minimal[] =
    "{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"rootfs\"},"
    " \"process\": {\"args\": [\"sh\"], \"cwd\": \"/\", \"noNewPrivileges\": true},"
    " \"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"mount\"}, {\"type\": \"ipc\"},"
    " {\"type\": \"uts\"}, {\"type\": \"cgroup\"}, {\"type\": \"network\"}]}}";

static int group_setup(void **state)
{
    (void)state;
    char path[PATH_MAX];
    snprintf(bundle, sizeof bundle, "/tmp/cell-test-oci-XXXXXX");
    if (mkdtemp(bundle) == NULL)
        return -1;
    snprintf(rootfs, sizeof rootfs, "%s/rootfs", bundle);
    snprintf(path, sizeof path, "%s/data", bundle);
    if (mkdir(rootfs, 0755) < 0 || mkdir(path, 0755) < 0)
        return -1;
    snprintf(path, sizeof path, "%s/file", bundle);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    fclose(f);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", bundle);
    return system(cmd) == 0 ? 0 : -1;
}

/* Merge `patch` into `base`: objects member by member, a null deletes, any
 * other value replaces. */
static void merge(json_t *base, json_t *patch)
{
    const char *key;
    json_t *v;
    json_object_foreach(patch, key, v)
    {
        json_t *old = json_object_get(base, key);
        if (json_is_null(v))
            json_object_del(base, key);
        else if (json_is_object(v) && json_is_object(old))
            merge(old, v);
        else
            json_object_set(base, key, v);
    }
}

/* The minimal config with `patch` (JSON text) merged in; free() it. */
static char *patched(const char *patch)
{
    json_error_t jerr;
    json_t *base = json_loads(minimal, 0, &jerr), *p = json_loads(patch, 0, &jerr);
    if (base == NULL || p == NULL)
        fail_msg("bad test JSON %s: %s", patch, jerr.text);
    merge(base, p);
    char *text = json_dumps(base, JSON_COMPACT);
    json_decref(base);
    json_decref(p);
    return text;
}

static int load_text(const char *text, struct cell_spec *spec, struct cell_oci *oci, struct cell_err *err)
{
    memset(err, 0, sizeof *err);
    return cell_oci_load(bundle, text, strlen(text), spec, oci, err);
}

static void load_ok(const char *text, struct cell_spec *spec, struct cell_oci *oci)
{
    struct cell_err err;
    if (load_text(text, spec, oci, &err) < 0)
        fail_msg("refused: %s\nconfig: %s", err.msg, text);
}

static void patch_ok(const char *patch, struct cell_spec *spec, struct cell_oci *oci)
{
    char *text = patched(patch);
    load_ok(text, spec, oci);
    free(text);
}

static void free_both(struct cell_spec *spec, struct cell_oci *oci)
{
    cell_spec_free(spec);
    cell_oci_free(oci);
}

/* The text is refused with exactly `expected` (or, with `prefix`, a message
 * starting with it), and nothing is kept. */
static void refused_text(const char *text, const char *expected, bool prefix)
{
    struct cell_spec spec;
    struct cell_oci oci;
    struct cell_err err;
    if (load_text(text, &spec, &oci, &err) == 0) {
        free_both(&spec, &oci);
        fail_msg("accepted: %s", text);
    }
    if (prefix ? strncmp(err.msg, expected, strlen(expected)) != 0 : strcmp(err.msg, expected) != 0)
        fail_msg("for %s:\nerror    \"%s\"\nexpected \"%s\"%s", text, err.msg, expected, prefix ? "..." : "");
    assert_null(spec.argv);
    assert_int_equal(spec.nmounts, 0);
    assert_false(spec.oci.enabled);
    assert_null(oci.bundle);
    assert_int_equal(oci.nwarnings, 0);
    assert_null(oci.annotations);
}

static void refused(const char *patch, const char *expected)
{
    char *text = patched(patch);
    refused_text(text, expected, false);
    free(text);
}

static bool has_warning(const struct cell_oci *oci, const char *expected)
{
    for (size_t i = 0; i < oci->nwarnings; i++)
        if (strncmp(oci->warnings[i], expected, strlen(expected)) == 0)
            return true;
    return false;
}

static void print_warnings(const struct cell_oci *oci)
{
    for (size_t i = 0; i < oci->nwarnings; i++)
        print_message("warning: %s\n", oci->warnings[i]);
}

/* The patch loads with exactly one warning, starting with `expected`. */
static void warned(const char *patch, const char *expected)
{
    struct cell_spec spec;
    struct cell_oci oci;
    patch_ok(patch, &spec, &oci);
    if (oci.nwarnings != 1 || !has_warning(&oci, expected)) {
        print_warnings(&oci);
        free_both(&spec, &oci);
        fail_msg("patch %s: expected the one warning \"%s...\"", patch, expected);
    }
    free_both(&spec, &oci);
}

static uint64_t cap(int n)
{
    return 1ULL << n;
}

static void test_crun_spec(void **state)
{
    (void)state;
    struct cell_spec spec;
    struct cell_oci oci;
    load_ok(crun_spec, &spec, &oci);

    assert_true(spec.oci.enabled);
    assert_null(spec.name); /* the caller's: the container id */
    assert_string_equal(oci.oci_version, "1.0.0");
    assert_string_equal(oci.bundle, bundle);
    assert_string_equal(spec.rootfs, rootfs);
    assert_true(spec.oci.readonly_root);
    assert_true(oci.terminal);
    assert_true(spec.tty);
    assert_string_equal(spec.argv[0], "sh");
    assert_null(spec.argv[1]);
    assert_string_equal(spec.env[0], "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    assert_string_equal(spec.env[1], "TERM=xterm");
    assert_null(spec.env[2]);
    assert_string_equal(spec.cwd, "/");
    assert_int_equal(spec.uid, 0);
    assert_int_equal(spec.gid, 0);
    assert_int_equal(spec.ngroups, 0);
    assert_int_equal(spec.cap_add, cap(29) | cap(5) | cap(10)); /* AUDIT_WRITE, KILL, NET_BIND_SERVICE */
    assert_true(spec.rlimits[CELL_RLIMIT_NOFILE].set);
    assert_int_equal(spec.rlimits[CELL_RLIMIT_NOFILE].soft, 1024);
    assert_int_equal(spec.rlimits[CELL_RLIMIT_NOFILE].hard, 1024);
    assert_false(spec.rlimits[CELL_RLIMIT_NPROC].set);
    assert_string_equal(spec.hostname, "crun");
    assert_null(spec.oci.domainname);
    assert_int_equal(spec.profile, CELL_PROFILE_HIGH);
    assert_int_equal(spec.net_mode, CELL_NET_NONE);
    assert_false(spec.ns.userns);
    assert_int_equal(spec.limits.memory_bytes, 0);
    assert_false(spec.oci.umask_set);

    assert_int_equal(spec.nmounts, 7);
    const struct {
        enum cell_mount_kind kind;
        const char *destination;
        unsigned long flags;
        const char *data;
        bool writable;
    } want[] = {
        {CELL_MOUNT_PROC, "/proc", 0, NULL, true},
        {CELL_MOUNT_TMPFS, "/dev", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k", true},
        {CELL_MOUNT_DEVPTS, "/dev/pts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5", true},
        {CELL_MOUNT_TMPFS, "/dev/shm", MS_NOSUID | MS_NOEXEC | MS_NODEV, "mode=1777,size=65536k", true},
        {CELL_MOUNT_MQUEUE, "/dev/mqueue", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL, true},
        {CELL_MOUNT_SYSFS, "/sys", MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY, NULL, false},
        {CELL_MOUNT_CGROUP, "/sys/fs/cgroup", MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RELATIME | MS_RDONLY, NULL, false},
    };
    for (size_t i = 0; i < 7; i++) {
        const struct cell_mount *m = &spec.mounts[i];
        assert_int_equal(m->kind, want[i].kind);
        assert_string_equal(m->destination, want[i].destination);
        assert_null(m->source);
        assert_int_equal(m->flags, want[i].flags);
        if (want[i].data)
            assert_string_equal(m->data, want[i].data);
        else
            assert_null(m->data);
        assert_int_equal(m->writable, want[i].writable);
    }
    size_t n = 0;
    while (spec.oci.masked_paths[n])
        n++;
    assert_int_equal(n, 10);
    assert_string_equal(spec.oci.masked_paths[8], "/sys/firmware");
    n = 0;
    while (spec.oci.readonly_paths[n])
        n++;
    assert_int_equal(n, 5);
    assert_string_equal(spec.oci.readonly_paths[3], "/proc/sys");

    assert_null(oci.annotations);
    assert_null(oci.cgroups_path);
    for (int k = 0; k < CELL_OCI_HOOK_COUNT; k++)
        assert_int_equal(oci.nhooks[k], 0);
    /* crun spec asks for no cgroup namespace: the one warning */
    if (oci.nwarnings != 1)
        print_warnings(&oci);
    assert_int_equal(oci.nwarnings, 1);
    assert_string_equal(oci.warnings[0],
                        "linux.namespaces: no cgroup namespace asked for; cell gives the container a new one anyway");
    free_both(&spec, &oci);
}

/* Every field cell maps, in one config. */
static void test_full_config(void **state)
{
    (void)state;
    struct cell_spec spec;
    struct cell_oci oci;
    char path[PATH_MAX];
    bool root = geteuid() == 0;
    if (!root)
        skip(); /* its user (1000) has no id in a rootless container, which maps only the caller, as 0 */
    char mapping[256];
    snprintf(mapping, sizeof mapping, "[{\"containerID\": 0, \"hostID\": %u, \"size\": %u}]",
             root ? 100000u : (unsigned)geteuid(), root ? 65536u : 1u);
    char *text = NULL;
    int len = asprintf(
        &text,
        "{\"ociVersion\": \"1.1.0-rc.1\", \"root\": {\"path\": \"rootfs\", \"readonly\": false},"
        " \"process\": {\"terminal\": false, \"consoleSize\": {\"height\": 25, \"width\": 80},"
        "  \"user\": {\"uid\": 1000, \"gid\": 1001, \"umask\": 18, \"additionalGids\": [5, 6]},"
        "  \"args\": [\"/bin/server\", \"--port\", \"8080\", \"\"], \"env\": [\"A=1\", \"B=\", \"A=2\"],"
        "  \"cwd\": \"/srv/./www/\","
        "  \"capabilities\": {\"bounding\": [\"CAP_NET_BIND_SERVICE\", \"CAP_CHOWN\"],"
        "   \"effective\": [\"CAP_NET_BIND_SERVICE\"], \"permitted\": [\"CAP_NET_BIND_SERVICE\", \"CAP_CHOWN\"],"
        "   \"ambient\": [\"CAP_NET_BIND_SERVICE\"]},"
        "  \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 1024, \"hard\": 4096},"
        "   {\"type\": \"RLIMIT_CORE\", \"soft\": 0, \"hard\": 18446744073709551615},"
        "   {\"type\": \"RLIMIT_STACK\", \"soft\": 8388608, \"hard\": 18446744073709551615}],"
        "  \"noNewPrivileges\": true, \"oomScoreAdj\": -500},"
        " \"hostname\": \"web\", \"domainname\": \"example.org\","
        " \"mounts\": [{\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"data\","
        "   \"options\": [\"rbind\", \"rw\", \"nosuid\", \"rprivate\"]},"
        "  {\"destination\": \"/etc/file\", \"source\": \"./file\", \"options\": [\"bind\", \"rro\", \"rnodev\"]},"
        "  {\"destination\": \"/host\", \"type\": \"none\", \"source\": \"/tmp\", \"options\": [\"rbind\", \"ro\","
        "   \"rslave\"]},"
        "  {\"destination\": \"/run/\", \"type\": \"tmpfs\", \"options\": [\"ro\", \"defaults\", \"size=1m\"]},"
        "  {\"destination\": \"/sys/fs/cgroup\", \"type\": \"cgroup2\", \"source\": \"cgroup\"}],"
        " \"hooks\": {\"prestart\": [{\"path\": \"/usr/bin/setup-net\", \"args\": [\"setup-net\", \"up\"],"
        "   \"env\": [\"X=1\"], \"timeout\": 5}],"
        "  \"poststop\": [{\"path\": \"/bin/true\"}, {\"path\": \"/bin/echo\", \"args\": [\"echo\", \"bye\"]}]},"
        " \"annotations\": {\"run.cell.profile\": \"medium\", \"org.example.team\": \"web\"},"
        " \"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"mount\"}, {\"type\": \"ipc\"},"
        "   {\"type\": \"uts\"}, {\"type\": \"cgroup\"}, {\"type\": \"network\"}, {\"type\": \"user\"}],"
        "  \"uidMappings\": %s, \"gidMappings\": %s,"
        "  \"resources\": {\"memory\": {\"limit\": 67108864, \"swap\": 134217728},"
        "   \"cpu\": {\"quota\": 50000, \"period\": 100000, \"shares\": 512}, \"pids\": {\"limit\": 100},"
        "   \"devices\": [{\"allow\": false, \"type\": \"a\", \"major\": -1, \"minor\": -1, \"access\": \"rwm\"}]},"
        "  \"cgroupsPath\": \"/cell/web\", \"rootfsPropagation\": \"rslave\","
        "  \"seccomp\": {\"defaultAction\": \"SCMP_ACT_ERRNO\"}, \"personality\": {\"domain\": \"LINUX\"},"
        "  \"sysctl\": {}, \"devices\": [],"
        "  \"maskedPaths\": [\"/proc/kcore\", \"/proc/../sys/firmware\"], \"readonlyPaths\": [\"/proc/sys\"]}}",
        mapping, mapping);
    assert_true(len > 0);
    load_ok(text, &spec, &oci);
    free(text);

    assert_string_equal(oci.oci_version, "1.1.0-rc.1");
    assert_false(spec.oci.readonly_root);
    assert_false(spec.tty);
    assert_int_equal(oci.console_height, 25);
    assert_int_equal(oci.console_width, 80);
    assert_int_equal(spec.uid, 1000);
    assert_int_equal(spec.gid, 1001);
    assert_int_equal(spec.ngroups, 2);
    assert_int_equal(spec.groups[0], 5);
    assert_int_equal(spec.groups[1], 6);
    assert_true(spec.oci.umask_set);
    assert_int_equal(spec.oci.umask, 022);
    assert_string_equal(spec.argv[2], "8080");
    assert_string_equal(spec.argv[3], "");
    assert_null(spec.argv[4]);
    assert_string_equal(spec.env[0], "A=2"); /* a repeated key: the last value, in the first place */
    assert_string_equal(spec.env[1], "B=");
    assert_null(spec.env[2]);
    assert_string_equal(spec.cwd, "/srv/www");
    /* uid 1000: bounding & permitted & ambient */
    assert_int_equal(spec.cap_add, cap(10));
    assert_int_equal(spec.rlimits[CELL_RLIMIT_NOFILE].soft, 1024);
    assert_int_equal(spec.rlimits[CELL_RLIMIT_NOFILE].hard, 4096);
    assert_int_equal(spec.rlimits[CELL_RLIMIT_CORE].soft, 0);
    assert_true(spec.rlimits[CELL_RLIMIT_CORE].hard == UINT64_MAX);
    assert_int_equal(spec.rlimits[CELL_RLIMIT_STACK].soft, 8388608);
    assert_true(oci.oom_score_adj_set);
    assert_int_equal(oci.oom_score_adj, -500);
    assert_string_equal(spec.hostname, "web");
    assert_string_equal(spec.oci.domainname, "example.org");

    assert_int_equal(spec.nmounts, 5);
    snprintf(path, sizeof path, "%s/data", bundle);
    assert_int_equal(spec.mounts[0].kind, CELL_MOUNT_BIND);
    assert_string_equal(spec.mounts[0].source, path);
    assert_string_equal(spec.mounts[0].destination, "/data");
    assert_true(spec.mounts[0].writable);
    assert_int_equal(spec.mounts[0].flags, MS_REC | MS_NOSUID | MS_PRIVATE);
    assert_null(spec.mounts[0].data);
    snprintf(path, sizeof path, "%s/file", bundle);
    assert_int_equal(spec.mounts[1].kind, CELL_MOUNT_BIND); /* no type: the "bind" option says it */
    assert_string_equal(spec.mounts[1].source, path);
    assert_false(spec.mounts[1].writable);
    assert_int_equal(spec.mounts[1].flags, MS_RDONLY | MS_NODEV);
    assert_int_equal(spec.mounts[2].kind, CELL_MOUNT_BIND); /* type "none" with rbind */
    assert_string_equal(spec.mounts[2].source, "/tmp");
    assert_false(spec.mounts[2].writable);
    assert_int_equal(spec.mounts[2].flags, MS_REC | MS_RDONLY | MS_SLAVE);
    assert_int_equal(spec.mounts[3].kind, CELL_MOUNT_TMPFS);
    assert_string_equal(spec.mounts[3].destination, "/run");
    assert_false(spec.mounts[3].writable);
    assert_int_equal(spec.mounts[3].flags, MS_RDONLY);
    assert_string_equal(spec.mounts[3].data, "size=1m");
    assert_int_equal(spec.mounts[4].kind, CELL_MOUNT_CGROUP);
    assert_true(spec.mounts[4].writable);

    assert_int_equal(spec.net_mode, CELL_NET_NONE);
    assert_true(spec.ns.userns);
    assert_int_equal(spec.limits.memory_bytes, 64u << 20);
    assert_int_equal(spec.limits.cpu_millis, 500);
    assert_int_equal(spec.limits.pids, 100);
    assert_string_equal(oci.cgroups_path, "/cell/web");
    assert_string_equal(spec.oci.cgroups_path, "/cell/web");
    assert_int_equal(spec.profile, CELL_PROFILE_MEDIUM);
    assert_string_equal(spec.oci.masked_paths[0], "/proc/kcore");
    assert_string_equal(spec.oci.masked_paths[1], "/sys/firmware");
    assert_null(spec.oci.masked_paths[2]);
    assert_string_equal(spec.oci.readonly_paths[0], "/proc/sys");

    assert_int_equal(oci.nhooks[CELL_OCI_HOOK_PRESTART], 1);
    const struct cell_oci_hook *h = &oci.hooks[CELL_OCI_HOOK_PRESTART][0];
    assert_string_equal(h->path, "/usr/bin/setup-net");
    assert_string_equal(h->args[0], "setup-net");
    assert_string_equal(h->args[1], "up");
    assert_null(h->args[2]);
    assert_string_equal(h->env[0], "X=1");
    assert_null(h->env[1]);
    assert_int_equal(h->timeout, 5);
    assert_int_equal(oci.nhooks[CELL_OCI_HOOK_POSTSTOP], 2);
    assert_string_equal(oci.hooks[CELL_OCI_HOOK_POSTSTOP][0].path, "/bin/true");
    assert_null(oci.hooks[CELL_OCI_HOOK_POSTSTOP][0].args);
    assert_null(oci.hooks[CELL_OCI_HOOK_POSTSTOP][0].env);
    assert_int_equal(oci.hooks[CELL_OCI_HOOK_POSTSTOP][0].timeout, 0);
    assert_string_equal(oci.hooks[CELL_OCI_HOOK_POSTSTOP][1].args[1], "bye");
    assert_int_equal(oci.nhooks[CELL_OCI_HOOK_CREATE_RUNTIME], 0);
    assert_null(oci.hooks[CELL_OCI_HOOK_CREATE_RUNTIME]);

    assert_true(json_is_object(oci.annotations));
    assert_string_equal(json_string_value(json_object_get(oci.annotations, "org.example.team")), "web");

    /* what is accepted but not honoured exactly */
    const char *expected[] = {
        "process.capabilities: bounding, permitted differ from what cell keeps: exactly "
        "CAP_NET_BIND_SERVICE in every set (what the process would hold after exec with no_new_privs: bounding and "
        "permitted and ambient, as the uid is not 0)",
        "linux.resources.memory.swap: not applied",
        "linux.resources.cpu.shares: not applied",
        "linux.seccomp: not applied; cell applies its own profile \"medium\" (annotation run.cell.profile)",
    };
    for (size_t i = 0; i < sizeof expected / sizeof *expected; i++)
        if (!has_warning(&oci, expected[i])) {
            print_warnings(&oci);
            fail_msg("no warning \"%s\"", expected[i]);
        }
    if (oci.nwarnings != sizeof expected / sizeof *expected)
        print_warnings(&oci);
    assert_int_equal(oci.nwarnings, sizeof expected / sizeof *expected);
    free_both(&spec, &oci);
}

/* `crun spec` and `runc spec`, where installed, as written into a bundle. */
static void test_generated_specs(void **state)
{
    (void)state;
    const char *tools[] = {"crun", "runc"};
    for (size_t i = 0; i < 2; i++) {
        char cmd[PATH_MAX + 64], path[PATH_MAX];
        snprintf(path, sizeof path, "%s/config.json", bundle);
        unlink(path);
        snprintf(cmd, sizeof cmd, "cd '%s' && %s spec >/dev/null 2>&1", bundle, tools[i]);
        if (system(cmd) != 0)
            continue; /* not installed */
        struct cell_spec spec;
        struct cell_oci oci;
        struct cell_err err = {0};
        if (cell_oci_load_bundle(bundle, &spec, &oci, &err) < 0)
            fail_msg("%s spec: %s", tools[i], err.msg);
        assert_string_equal(spec.argv[0], "sh");
        assert_string_equal(spec.rootfs, rootfs);
        assert_int_equal(spec.nmounts, 7);
        assert_int_equal(spec.cap_add, cap(29) | cap(5) | cap(10));
        free_both(&spec, &oci);
        unlink(path);
    }
}

static void test_load_bundle(void **state)
{
    (void)state;
    struct cell_spec spec;
    struct cell_oci oci;
    struct cell_err err = {0};
    char path[PATH_MAX], expected[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/config.json", bundle);
    unlink(path);
    assert_int_equal(cell_oci_load_bundle(bundle, &spec, &oci, &err), -1);
    snprintf(expected, sizeof expected, "read %s: No such file or directory", path);
    assert_string_equal(err.msg, expected);

    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(minimal, f);
    fclose(f);
    assert_int_equal(cell_oci_load_bundle(bundle, &spec, &oci, &err), 0);
    assert_string_equal(spec.argv[0], "sh");
    assert_int_equal(oci.nwarnings, 0);
    free_both(&spec, &oci);

    /* more than 4 MiB */
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(minimal, f);
    for (int i = 0; i < (4 << 20) / 64 + 1; i++)
        fputs("                                                                \n", f);
    fclose(f);
    assert_int_equal(cell_oci_load_bundle(bundle, &spec, &oci, &err), -1);
    snprintf(expected, sizeof expected, "read %s: larger than 4 MiB", path);
    assert_string_equal(err.msg, expected);
    unlink(path);
}

static void test_relative_paths(void **state)
{
    (void)state;
    struct cell_spec spec;
    struct cell_oci oci;
    struct cell_err err;
    char cwd[PATH_MAX], parent[PATH_MAX], path[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof cwd));
    snprintf(parent, sizeof parent, "%s", bundle);
    *strrchr(parent, '/') = '\0';
    assert_int_equal(chdir(parent), 0);

    /* the bundle given relative, and ./ and .. in the config's paths */
    char rel[PATH_MAX];
    snprintf(rel, sizeof rel, "./%s/", strrchr(bundle, '/') + 1);
    char *text = patched("{\"root\": {\"path\": \"./data/../rootfs/\"}, \"mounts\": [{\"destination\": \"/d\","
                         " \"type\": \"bind\", \"source\": \"data/\"}]}");
    memset(&err, 0, sizeof err);
    int rc = cell_oci_load(rel, text, strlen(text), &spec, &oci, &err);
    free(text);
    assert_int_equal(chdir(cwd), 0);
    if (rc < 0)
        fail_msg("%s", err.msg);
    assert_string_equal(oci.bundle, bundle);
    assert_string_equal(spec.rootfs, rootfs);
    snprintf(path, sizeof path, "%s/data", bundle);
    assert_string_equal(spec.mounts[0].source, path);
    free_both(&spec, &oci);

    /* an absolute root.path is taken as it is */
    snprintf(path, sizeof path, "{\"root\": {\"path\": \"%s\"}}", rootfs);
    patch_ok(path, &spec, &oci);
    assert_string_equal(spec.rootfs, rootfs);
    free_both(&spec, &oci);
}

static void test_limits(void **state)
{
    (void)state;
    const struct {
        const char *cpu;
        uint64_t millis;
    } cpus[] = {
        {"{\"quota\": 50000, \"period\": 100000}", 500},
        {"{\"quota\": 150000, \"period\": 100000}", 1500},
        {"{\"quota\": 200000}", 2000}, /* the default period: 100 ms */
        {"{\"quota\": 200000, \"period\": 0}", 2000},
        {"{\"quota\": 33333, \"period\": 100000}", 333},
        {"{\"quota\": 66667, \"period\": 100000}", 667},
        {"{\"quota\": 1, \"period\": 1000000}", 1}, /* never rounded to "no limit" */
        {"{\"quota\": 25000, \"period\": 50000}", 500},
        {"{\"quota\": -1, \"period\": 100000}", 0},
        {"{\"quota\": 0}", 0},
        {"{\"period\": 100000}", 0},
        {"{\"quota\": 102400000, \"period\": 100000}", 1024000},
    };
    for (size_t i = 0; i < sizeof cpus / sizeof *cpus; i++) {
        char patch[256];
        struct cell_spec spec;
        struct cell_oci oci;
        snprintf(patch, sizeof patch, "{\"linux\": {\"resources\": {\"cpu\": %s}}}", cpus[i].cpu);
        patch_ok(patch, &spec, &oci);
        if (spec.limits.cpu_millis != cpus[i].millis)
            fail_msg("%s: %llu millis, expected %llu", cpus[i].cpu, (unsigned long long)spec.limits.cpu_millis,
                     (unsigned long long)cpus[i].millis);
        free_both(&spec, &oci);
    }
    const struct {
        const char *patch;
        uint64_t memory, pids;
    } others[] = {
        {"{\"memory\": {\"limit\": 1073741824}}", 1u << 30, 0},
        {"{\"memory\": {\"limit\": -1}}", 0, 0},
        {"{\"memory\": {\"limit\": 0}}", 0, 0},
        {"{\"memory\": {}}", 0, 0},
        {"{\"pids\": {\"limit\": 32771}}", 0, 32771},
        {"{\"pids\": {\"limit\": 0}}", 0, 0},
        {"{\"pids\": {\"limit\": -1}}", 0, 0},
    };
    for (size_t i = 0; i < sizeof others / sizeof *others; i++) {
        char patch[256];
        struct cell_spec spec;
        struct cell_oci oci;
        snprintf(patch, sizeof patch, "{\"linux\": {\"resources\": %s}}", others[i].patch);
        patch_ok(patch, &spec, &oci);
        assert_int_equal(spec.limits.memory_bytes, others[i].memory);
        assert_int_equal(spec.limits.pids, others[i].pids);
        assert_int_equal(oci.nwarnings, 0);
        free_both(&spec, &oci);
    }
}

/* blockIO: the throttles, in the order given; rate 0 is none */
static void test_block_io(void **state)
{
    (void)state;
    struct cell_spec spec;
    struct cell_oci oci;
    patch_ok("{\"linux\": {\"resources\": {\"blockIO\": {\"throttleReadBpsDevice\": [{\"major\": 254, \"minor\": 0, "
             "\"rate\": 1048576}, {\"major\": 8, \"minor\": 16, \"rate\": 0}], \"throttleWriteIOPSDevice\": "
             "[{\"major\": 254, \"minor\": 0, \"rate\": 50}]}}}}",
             &spec, &oci);
    assert_int_equal(oci.nwarnings, 0);
    assert_int_equal(spec.oci.nio_throttle, 2);
    const struct cell_io_throttle *t = spec.oci.io_throttle;
    assert_true(t[0].kind == CELL_IO_READ_BPS && t[0].major == 254 && t[0].minor == 0 && t[0].rate == 1048576);
    assert_true(t[1].kind == CELL_IO_WRITE_IOPS && t[1].major == 254 && t[1].minor == 0 && t[1].rate == 50);
    free_both(&spec, &oci);
    refused("{\"linux\": {\"resources\": {\"blockIO\": {\"throttleReadBpsDevice\": [{\"major\": 254, \"rate\": 1}]}}}}",
            "config.json: linux.resources.blockIO.throttleReadBpsDevice[0].minor: required");
    refused("{\"linux\": {\"resources\": {\"blockIO\": {\"throttleWriteBpsDevice\": [{\"major\": -1, \"minor\": 0, "
            "\"rate\": 1}]}}}}",
            "config.json: linux.resources.blockIO.throttleWriteBpsDevice[0].major: -1 is not a device number (0 to "
            "2147483647)");
    refused("{\"linux\": {\"resources\": {\"blockIO\": {\"throttleReadIOPSDevice\": [{\"major\": 8, \"minor\": 0, "
            "\"rate\": -3}]}}}}",
            "config.json: linux.resources.blockIO.throttleReadIOPSDevice[0].rate: expected an integer from 0 to "
            "18446744073709551615");
    refused("{\"linux\": {\"resources\": {\"blockIO\": {\"throttleReadBpsDevice\": [{\"major\": 8, \"minor\": 0, "
            "\"rate\": 1}, {\"major\": 8, \"minor\": 0, \"rate\": 2}]}}}}",
            "config.json: linux.resources.blockIO.throttleReadBpsDevice[1]: device 8:0 is given twice");
    refused("{\"linux\": {\"resources\": {\"blockIO\": {\"throttleReadBpsDevice\": {}}}}}",
            "config.json: linux.resources.blockIO.throttleReadBpsDevice: expected an array");
}

static void test_versions(void **state)
{
    (void)state;
    const char *good[] = {"1.0.0", "1.0.2-dev", "1.0.0-rc5", "1.1.0", "1.1.0-rc.3", "1.2.0", "1.2.1+dev", "1.0.10"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        char patch[64];
        struct cell_spec spec;
        struct cell_oci oci;
        snprintf(patch, sizeof patch, "{\"ociVersion\": \"%s\"}", good[i]);
        patch_ok(patch, &spec, &oci);
        assert_string_equal(oci.oci_version, good[i]);
        free_both(&spec, &oci);
    }
    const char *bad[] = {"2.0.0", "1.3.0", "0.5.0-dev", "1.0", "1.1", "1.2.x", "v1.0.0", "1.0.0 ", "", "1.10.0"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char patch[64], expected[160];
        snprintf(patch, sizeof patch, "{\"ociVersion\": \"%s\"}", bad[i]);
        snprintf(expected, sizeof expected,
                 "config.json: ociVersion: \"%s\" is not supported: cell reads 1.0.x, 1.1.x and 1.2.x", bad[i]);
        refused(patch, expected);
    }
}

static void test_capabilities(void **state)
{
    (void)state;
    struct cell_spec spec;
    struct cell_oci oci;
    /* uid 0: bounding & permitted; effective and ambient do not matter */
    patch_ok("{\"process\": {\"capabilities\": {\"bounding\": [\"CAP_KILL\", \"CAP_CHOWN\", \"CAP_SETUID\"],"
             " \"permitted\": [\"CAP_KILL\", \"CAP_CHOWN\"], \"effective\": [\"CAP_KILL\", \"CAP_CHOWN\"]}}}",
             &spec, &oci);
    assert_int_equal(spec.cap_add, cap(5) | cap(0));
    assert_int_equal(oci.nwarnings, 1);
    assert_true(has_warning(&oci, "process.capabilities: bounding differ from what cell keeps: exactly CAP_CHOWN, "
                                  "CAP_KILL in every set"));
    free_both(&spec, &oci);
    /* names as libcap spells them too; the same sets: no warning */
    patch_ok("{\"process\": {\"capabilities\": {\"bounding\": [\"cap_kill\"], \"permitted\": [\"KILL\"],"
             " \"effective\": [\"CAP_KILL\"]}}}",
             &spec, &oci);
    assert_int_equal(spec.cap_add, cap(5));
    assert_int_equal(oci.nwarnings, 0);
    free_both(&spec, &oci);
    /* a non-root uid without ambient capabilities keeps none */
    patch_ok("{\"process\": {\"user\": {\"uid\": 1000, \"gid\": 1000}, \"capabilities\": {\"bounding\":"
             " [\"CAP_KILL\"], \"permitted\": [\"CAP_KILL\"], \"effective\": [\"CAP_KILL\"]}}}",
             &spec, &oci);
    assert_int_equal(spec.cap_add, 0);
    assert_true(has_warning(&oci, "process.capabilities: bounding, effective, permitted differ from what cell keeps: "
                                  "exactly none in every set"));
    free_both(&spec, &oci);
    /* no capabilities object: none kept */
    patch_ok("{}", &spec, &oci);
    assert_int_equal(spec.cap_add, 0);
    free_both(&spec, &oci);
    /* CAP_MKNOD is kept: the device cgroup decides which nodes may be made */
    const char *mknod =
        "{\"process\": {\"capabilities\": {\"bounding\": [\"CAP_MKNOD\", \"CAP_KILL\"],"
        " \"permitted\": [\"CAP_MKNOD\", \"CAP_KILL\"], \"effective\": [\"CAP_MKNOD\", \"CAP_KILL\"]}}}";
    patch_ok(mknod, &spec, &oci);
    assert_int_equal(spec.cap_add, cap(5) | cap(27));
    assert_int_equal(oci.nwarnings, 0);
    free_both(&spec, &oci);
}

static void test_namespaces(void **state)
{
    (void)state;
    struct cell_spec spec;
    struct cell_oci oci;
    /* no network namespace: the host's network */
    patch_ok("{\"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"mount\"}, {\"type\": \"ipc\"},"
             " {\"type\": \"uts\"}, {\"type\": \"cgroup\"}]}}",
             &spec, &oci);
    assert_int_equal(spec.net_mode, CELL_NET_HOST);
    assert_false(spec.ns.userns);
    assert_int_equal(oci.nwarnings, 0);
    free_both(&spec, &oci);
    /* no linux object at all: no namespaces asked for */
    patch_ok("{\"linux\": null}", &spec, &oci);
    assert_int_equal(spec.net_mode, CELL_NET_HOST);
    assert_int_equal(oci.nwarnings, 5);
    assert_string_equal(oci.warnings[0],
                        "linux.namespaces: no pid namespace asked for; cell gives the container a new one anyway");
    assert_string_equal(oci.warnings[4],
                        "linux.namespaces: no cgroup namespace asked for; cell gives the container a new one anyway");
    free_both(&spec, &oci);
    /* a user namespace without mappings: cell's own */
    patch_ok("{\"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"mount\"}, {\"type\": \"ipc\"},"
             " {\"type\": \"uts\"}, {\"type\": \"cgroup\"}, {\"type\": \"network\"}, {\"type\": \"user\"}]}}",
             &spec, &oci);
    assert_true(spec.ns.userns);
    assert_int_equal(spec.net_mode, CELL_NET_NONE);
    assert_null(spec.oci.uid_map);
    assert_null(spec.oci.gid_map);
    free_both(&spec, &oci);
    /* as root, any ranges: into the text of /proc/PID/uid_map, in order */
    if (geteuid() == 0) {
        patch_ok("{\"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"mount\"}, {\"type\": \"ipc\"},"
                 " {\"type\": \"uts\"}, {\"type\": \"cgroup\"}, {\"type\": \"network\"}, {\"type\": \"user\"}],"
                 " \"uidMappings\": [{\"containerID\": 0, \"hostID\": 200000, \"size\": 1000},"
                 " {\"containerID\": 1000, \"hostID\": 300000, \"size\": 64536}],"
                 " \"gidMappings\": [{\"containerID\": 0, \"hostID\": 0, \"size\": 1}]}}",
                 &spec, &oci);
        assert_string_equal(spec.oci.uid_map, "0 200000 1000\n1000 300000 64536\n");
        assert_string_equal(spec.oci.gid_map, "0 0 1\n");
        free_both(&spec, &oci);
    }
}

static void test_hooks(void **state)
{
    (void)state;
    struct cell_spec spec;
    struct cell_oci oci;
    patch_ok("{\"hooks\": {\"prestart\": [{\"path\": \"/a\"}], \"createRuntime\": [{\"path\": \"/b\"}],"
             " \"createContainer\": [{\"path\": \"/c\"}], \"startContainer\": [{\"path\": \"/d\", \"timeout\": 1}],"
             " \"poststart\": [{\"path\": \"/e\", \"env\": []}], \"poststop\": [{\"path\": \"/f\", \"args\": []}]}}",
             &spec, &oci);
    const char *paths[] = {"/a", "/b", "/c", "/d", "/e", "/f"};
    for (int k = 0; k < CELL_OCI_HOOK_COUNT; k++) {
        assert_int_equal(oci.nhooks[k], 1);
        assert_string_equal(oci.hooks[k][0].path, paths[k]);
    }
    assert_int_equal(oci.hooks[CELL_OCI_HOOK_START_CONTAINER][0].timeout, 1);
    assert_non_null(oci.hooks[CELL_OCI_HOOK_POSTSTART][0].env);
    assert_null(oci.hooks[CELL_OCI_HOOK_POSTSTART][0].env[0]);
    assert_non_null(oci.hooks[CELL_OCI_HOOK_POSTSTOP][0].args);
    assert_null(oci.hooks[CELL_OCI_HOOK_POSTSTOP][0].args[0]);
    assert_string_equal(cell_oci_hook_label(CELL_OCI_HOOK_CREATE_RUNTIME), "createRuntime");
    assert_string_equal(cell_oci_hook_label(CELL_OCI_HOOK_POSTSTOP), "poststop");
    free_both(&spec, &oci);
}

/* No device cgroup yet: a bind of a host device the rules deny is refused. */
/* As root the device list is the cgroup's: deny all, the config's rules in
 * order, then cell's own /dev nodes and linux.devices (read, write, mknod). */
static void test_device_rules(void **state)
{
    (void)state;
    struct cell_spec spec;
    struct cell_oci oci;
    if (geteuid() != 0)
        skip();
    patch_ok("{\"linux\": {\"resources\": {\"devices\": [{\"allow\": false, \"access\": \"rwm\"}, {\"allow\": true, "
             "\"type\": \"c\", \"major\": 10, \"minor\": 200, \"access\": \"rw\"}, {\"allow\": true, \"type\": \"b\", "
             "\"major\": 7, \"access\": \"\"}]}, \"devices\": [{\"path\": \"/dev/net/tun\", \"type\": \"u\", "
             "\"major\": 10, \"minor\": 200, \"fileMode\": 8630, \"uid\": 7, \"gid\": 8}, {\"path\": \"/dev/pipe\", "
             "\"type\": \"p\"}]}}",
             &spec, &oci);
    assert_int_equal(oci.nwarnings, 0);
    assert_true(spec.oci.device_cgroup);
    /* 3 of the config, 8 of cell's /dev, 1 of linux.devices (not the fifo) */
    assert_int_equal(spec.oci.ndevice_rules, 12);
    const struct cell_device_rule *r = spec.oci.device_rules;
    assert_true(!r[0].allow && r[0].type == 'a' && r[0].major == -1 && r[0].minor == -1 && r[0].access == 7);
    assert_true(r[1].allow && r[1].type == 'c' && r[1].major == 10 && r[1].minor == 200 && r[1].access == 3);
    assert_true(r[2].allow && r[2].type == 'b' && r[2].major == 7 && r[2].minor == -1 && r[2].access == 7);
    assert_true(r[3].allow && r[3].type == 'c' && r[3].major == 1 && r[3].minor == 3 && r[3].access == 7);
    assert_true(r[10].allow && r[10].type == 'c' && r[10].major == 136 && r[10].minor == -1);
    assert_true(r[11].allow && r[11].type == 'c' && r[11].major == 10 && r[11].minor == 200 && r[11].access == 7);
    assert_int_equal(spec.oci.ndevices, 2);
    const struct cell_device_node *d = spec.oci.devices;
    assert_string_equal(d[0].path, "/dev/net/tun");
    assert_true(d[0].type == 'c' && d[0].major == 10 && d[0].minor == 200 && d[0].mode == 0666 && d[0].uid == 7 &&
                d[0].gid == 8);
    assert_true(d[1].type == 'p' && d[1].mode == 0666 && d[1].uid == 0);
    free_both(&spec, &oci);
    /* no list at all: still deny all but cell's own */
    patch_ok("{}", &spec, &oci);
    assert_true(spec.oci.device_cgroup);
    assert_int_equal(spec.oci.ndevice_rules, 8);
    free_both(&spec, &oci);
}

/* Rootless there is no device cgroup: a bind of a host device the rules
 * deny is refused; as root the cgroup denies it, and the bind is allowed. */
static void test_device_binds(void **state)
{
    (void)state;
    struct cell_spec spec;
    struct cell_oci oci;
    char patch[512];
    bool root = geteuid() == 0;
    const char *deny_all = "{\"allow\": false, \"access\": \"rwm\"}";
    /* cell's own devices always may */
    snprintf(patch, sizeof patch,
             "{\"mounts\": [{\"destination\": \"/x\", \"type\": \"bind\", \"source\": \"/dev/null\"}],"
             " \"linux\": {\"resources\": {\"devices\": [%s]}}}",
             deny_all);
    patch_ok(patch, &spec, &oci);
    assert_int_equal(oci.nwarnings, 0);
    free_both(&spec, &oci);
    const struct {
        const char *path, *allow;
    } devices[] = {
        {"/dev/kmsg", "{\"allow\": true, \"type\": \"c\", \"major\": 1, \"minor\": 11, \"access\": \"rw\"}"},
        {"/dev/loop0", "{\"allow\": true, \"type\": \"b\", \"major\": 7, \"access\": \"r\"}"},
    };
    for (size_t i = 0; i < sizeof devices / sizeof *devices; i++) {
        struct stat st;
        char expected[512];
        if (stat(devices[i].path, &st) < 0)
            continue; /* not on this host */
        const char *mount = "{\"destination\": \"/x\", \"type\": \"bind\", \"source\": \"%s\"}";
        char m[128];
        snprintf(m, sizeof m, mount, devices[i].path);
        /* denied */
        snprintf(patch, sizeof patch,
                 "{\"mounts\": [{\"destination\": \"/t\", \"type\": \"tmpfs\"}, %s],"
                 " \"linux\": {\"resources\": {\"devices\": [%s]}}}",
                 m, deny_all);
        snprintf(expected, sizeof expected,
                 "config.json: mounts[1].source: %s is a device linux.resources.devices does not allow, and a "
                 "rootless cell has no device cgroup (remove the mount, or allow the device)",
                 devices[i].path);
        if (root) {
            patch_ok(patch, &spec, &oci); /* the cgroup denies it */
            free_both(&spec, &oci);
        } else {
            refused(patch, expected);
        }
        /* only mknod allowed: still denied */
        snprintf(patch, sizeof patch,
                 "{\"mounts\": [%s], \"linux\": {\"resources\": {\"devices\": [%s,"
                 " {\"allow\": true, \"access\": \"m\"}]}}}",
                 m, deny_all);
        expected[strlen("config.json: mounts[")] = '0';
        if (!root)
            refused(patch, expected);
        /* allowed by a later rule */
        snprintf(patch, sizeof patch, "{\"mounts\": [%s], \"linux\": {\"resources\": {\"devices\": [%s, %s]}}}", m,
                 deny_all, devices[i].allow);
        patch_ok(patch, &spec, &oci);
        free_both(&spec, &oci);
        /* no device rules at all: nothing to check (as root: the cgroup's deny all) */
        snprintf(patch, sizeof patch, "{\"mounts\": [%s]}", m);
        patch_ok(patch, &spec, &oci);
        assert_int_equal(oci.nwarnings, 0);
        free_both(&spec, &oci);
    }
}

static void test_join_namespaces(void **state)
{
    (void)state;
    struct cell_spec spec;
    struct cell_oci oci;
    patch_ok("{\"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"mount\"}, {\"type\": \"cgroup\"}, "
             "{\"type\": \"network\", \"path\": \"/run/netns/pod\"}, {\"type\": \"ipc\", \"path\": "
             "\"/proc/7/ns/ipc\"}, {\"type\": \"uts\", \"path\": \"/proc/7/ns/uts\"}]}}",
             &spec, &oci);
    assert_null(spec.ns.join_pid);
    assert_null(spec.ns.join_cgroup);
    assert_string_equal(spec.ns.join_net, "/run/netns/pod");
    assert_string_equal(spec.ns.join_ipc, "/proc/7/ns/ipc");
    assert_string_equal(spec.ns.join_uts, "/proc/7/ns/uts");
    assert_int_equal(spec.net_mode, CELL_NET_NONE);
    free_both(&spec, &oci);
    /* a pod's shared pid namespace, and its cgroup namespace */
    patch_ok("{\"linux\": {\"namespaces\": [{\"type\": \"pid\", \"path\": \"/proc/7/ns/pid\"}, {\"type\": "
             "\"mount\"}, {\"type\": \"cgroup\", \"path\": \"/proc/7/ns/cgroup\"}, {\"type\": \"ipc\"}, {\"type\": "
             "\"uts\"}]}}",
             &spec, &oci);
    assert_string_equal(spec.ns.join_pid, "/proc/7/ns/pid");
    assert_string_equal(spec.ns.join_cgroup, "/proc/7/ns/cgroup");
    free_both(&spec, &oci);
    /* a mount namespace; as root a user namespace too, with pid and cgroup
     * (they may belong to it), and no mappings of its own */
    patch_ok("{\"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"mount\", \"path\": \"/proc/7/ns/mnt\"}, "
             "{\"type\": \"cgroup\"}, {\"type\": \"ipc\"}, {\"type\": \"uts\"}]}}",
             &spec, &oci);
    assert_string_equal(spec.ns.join_mount, "/proc/7/ns/mnt");
    free_both(&spec, &oci);
    if (geteuid() == 0) {
        patch_ok("{\"linux\": {\"namespaces\": [{\"type\": \"pid\", \"path\": \"/proc/7/ns/pid\"}, {\"type\": "
                 "\"mount\"}, {\"type\": \"cgroup\"}, {\"type\": \"ipc\"}, {\"type\": \"uts\"}, {\"type\": \"user\", "
                 "\"path\": \"/proc/7/ns/user\"}]}}",
                 &spec, &oci);
        assert_string_equal(spec.ns.join_user, "/proc/7/ns/user");
        assert_true(spec.ns.userns);
        assert_null(spec.oci.uid_map);
        free_both(&spec, &oci);
        refused("{\"linux\": {\"namespaces\": [{\"type\": \"user\", \"path\": \"/proc/7/ns/user\"}], \"uidMappings\": "
                "[{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}], \"gidMappings\": [{\"containerID\": "
                "0, \"hostID\": 100000, \"size\": 65536}]}}",
                "config.json: linux.uidMappings: given with a user namespace to join (/proc/7/ns/user), which has its "
                "own (remove them)");
    }
}

/* sysctls of the container's own namespaces are kept, to be set in it */
static void test_sysctls(void **state)
{
    (void)state;
    struct cell_spec spec;
    struct cell_oci oci;
    patch_ok("{\"linux\": {\"sysctl\": {\"net.ipv4.ping_group_range\": \"0 0\", \"kernel.shmmax\": \"4096\"}}}", &spec,
             &oci);
    assert_non_null(spec.oci.sysctls);
    bool ping = false, shm = false;
    for (char **p = spec.oci.sysctls; *p; p++) {
        ping |= strcmp(*p, "net.ipv4.ping_group_range=0 0") == 0;
        shm |= strcmp(*p, "kernel.shmmax=4096") == 0;
    }
    assert_true(ping && shm);
    free_both(&spec, &oci);
}

static void test_errors(void **state)
{
    (void)state;
    char expected[PATH_MAX + 128];
    bool root = geteuid() == 0;

    refused_text("[1, 2]", "config.json: expected a JSON object", false);
    refused_text("{\"ociVersion\": ", "config.json: line 1, column ", true);
    refused_text("{\"ociVersion\": \"1.0.0\", \"ociVersion\": \"1.0.0\"}", "config.json: line 1, column ", true);
    refused("{\"ociVersion\": null}", "config.json: ociVersion: required (e.g. \"1.0.2\")");
    refused("{\"ociVersion\": 1}", "config.json: ociVersion: expected a string");

    /* root */
    refused("{\"root\": null}", "config.json: root: required (root.path names the rootfs directory)");
    refused("{\"root\": \"rootfs\"}", "config.json: root: expected an object");
    refused("{\"root\": {\"path\": null}}", "config.json: root.path: required (the rootfs directory, e.g. \"rootfs\")");
    refused("{\"root\": {\"path\": \"\"}}", "config.json: root.path: expected a path, not \"\"");
    snprintf(expected, sizeof expected, "config.json: root.path: %s/nope: No such file or directory", bundle);
    refused("{\"root\": {\"path\": \"nope\"}}", expected);
    snprintf(expected, sizeof expected, "config.json: root.path: %s/file is not a directory", bundle);
    refused("{\"root\": {\"path\": \"file\"}}", expected);
    refused("{\"root\": {\"readonly\": \"yes\"}}", "config.json: root.readonly: expected true or false");

    /* process */
    refused("{\"process\": null}", "config.json: process: required (cell needs process.args, the command to run)");
    refused("{\"process\": {\"args\": []}}", "config.json: process.args: expected a non-empty array of strings");
    refused("{\"process\": {\"args\": null}}", "config.json: process.args: expected a non-empty array of strings");
    refused("{\"process\": {\"args\": \"sh\"}}", "config.json: process.args: expected a non-empty array of strings");
    refused("{\"process\": {\"args\": [\"sh\", 1]}}", "config.json: process.args[1]: expected a string");
    refused("{\"process\": {\"args\": [\"\"]}}", "config.json: process.args[0]: the command is empty");
    refused("{\"process\": {\"env\": [\"A=1\", \"FOO\"]}}", "config.json: process.env[1]: \"FOO\" is not KEY=VALUE");
    refused("{\"process\": {\"env\": [\"=x\"]}}", "config.json: process.env[0]: \"=x\" is not KEY=VALUE");
    refused("{\"process\": {\"env\": \"A=1\"}}",
            "config.json: process.env: expected an array of \"KEY=VALUE\" strings");
    refused("{\"process\": {\"cwd\": null}}", "config.json: process.cwd: required (an absolute path, e.g. \"/\")");
    refused("{\"process\": {\"cwd\": \"tmp\"}}", "config.json: process.cwd: \"tmp\" is not an absolute path");
    refused("{\"process\": {\"user\": {\"uid\": -1}}}",
            "config.json: process.user.uid: expected an integer from 0 to 4294967294");
    refused("{\"process\": {\"user\": {\"uid\": 4294967295}}}",
            "config.json: process.user.uid: expected an integer from 0 to 4294967294");
    refused("{\"process\": {\"user\": {\"uid\": 1.5}}}",
            "config.json: process.user.uid: expected an integer from 0 to 4294967294");
    refused("{\"process\": {\"user\": {\"gid\": \"0\"}}}",
            "config.json: process.user.gid: expected an integer from 0 to 4294967294");
    refused("{\"process\": {\"user\": {\"additionalGids\": [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,"
            "23,24,25,26,27,28,29,30,31,32,33]}}}",
            "config.json: process.user.additionalGids: 33 groups: cell sets at most 32");
    refused("{\"process\": {\"user\": {\"additionalGids\": [5, -5]}}}",
            "config.json: process.user.additionalGids[1]: expected an integer from 0 to 4294967294");
    refused("{\"process\": {\"user\": {\"umask\": 512}}}",
            "config.json: process.user.umask: expected an integer from 0 to 511");
    refused("{\"process\": {\"user\": 0}}", "config.json: process.user: expected an object");
    refused("{\"process\": {\"terminal\": 1}}", "config.json: process.terminal: expected true or false");
    refused("{\"process\": {\"consoleSize\": {\"height\": 25}}}", "config.json: process.consoleSize.width: required");
    refused("{\"process\": {\"rlimits\": [{\"type\": \"RLIMIT_RTPRIO\", \"soft\": 0, \"hard\": 0}]}}",
            "config.json: process.rlimits[0].type: RLIMIT_RTPRIO is not supported by cell (it sets RLIMIT_NOFILE, "
            "NPROC, AS, CORE, CPU, FSIZE, STACK and MEMLOCK)");
    refused("{\"process\": {\"rlimits\": [{\"type\": \"RLIMIT_FOO\", \"soft\": 0, \"hard\": 0}]}}",
            "config.json: process.rlimits[0].type: \"RLIMIT_FOO\" is not an rlimit (see setrlimit(2), e.g. "
            "RLIMIT_NOFILE)");
    refused("{\"process\": {\"rlimits\": [{\"type\": \"RLIMIT_CORE\", \"soft\": 0, \"hard\": 0},"
            " {\"type\": \"RLIMIT_CORE\", \"soft\": 0, \"hard\": 0}]}}",
            "config.json: process.rlimits[1].type: RLIMIT_CORE is given twice");
    refused("{\"process\": {\"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 2048, \"hard\": 1024}]}}",
            "config.json: process.rlimits[0]: soft limit 2048 is above hard limit 1024");
    refused("{\"process\": {\"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": 1024}]}}",
            "config.json: process.rlimits[0].soft: required");
    refused("{\"process\": {\"rlimits\": [{\"soft\": 1, \"hard\": 1}]}}",
            "config.json: process.rlimits[0].type: required (e.g. \"RLIMIT_NOFILE\")");
    refused("{\"process\": {\"rlimits\": {}}}", "config.json: process.rlimits: expected an array");
    refused("{\"process\": {\"capabilities\": {\"bounding\": [\"CAP_KILL\", \"CAP_FOO\"]}}}",
            "config.json: process.capabilities.bounding[1]: \"CAP_FOO\" is not a capability cell knows (see "
            "capabilities(7))");
    refused("{\"process\": {\"capabilities\": {\"permitted\": \"CAP_KILL\"}}}",
            "config.json: process.capabilities.permitted: expected an array of capability names (e.g. \"CAP_KILL\")");
    refused("{\"process\": {\"capabilities\": [\"CAP_KILL\"]}}",
            "config.json: process.capabilities: expected an object");
    refused("{\"process\": {\"scheduler\": {\"policy\": \"SCHED_FIFO\"}}}",
            "config.json: process.scheduler: not supported by cell (remove it)");
    refused("{\"process\": {\"ioPriority\": {\"class\": \"IOPRIO_CLASS_RT\"}}}",
            "config.json: process.ioPriority: not supported by cell (remove it)");
    refused("{\"process\": {\"execCPUAffinity\": {\"initial\": \"0\"}}}",
            "config.json: process.execCPUAffinity: not supported by cell (remove it)");
    refused("{\"process\": {\"oomScoreAdj\": 1001}}",
            "config.json: process.oomScoreAdj: 1001 is out of range (-1000 to 1000)");
    if (access("/sys/kernel/security/apparmor", F_OK) == 0)
        refused("{\"process\": {\"apparmorProfile\": \"docker-default\"}}",
                "config.json: process.apparmorProfile: \"docker-default\" is not supported by cell: it cannot apply "
                "AppArmor, which this host has (remove it)");
    if (access("/sys/fs/selinux", F_OK) == 0)
        refused("{\"process\": {\"selinuxLabel\": \"system_u:system_r:container_t:s0\"}}",
                "config.json: process.selinuxLabel: \"system_u:system_r:container_t:s0\" is not supported by cell: it "
                "cannot apply SELinux, which this host has (remove it)");

    /* hostname */
    refused("{\"hostname\": 5}", "config.json: hostname: expected a string");
    refused("{\"domainname\": []}", "config.json: domainname: expected a string");

    /* mounts */
    refused("{\"mounts\": {}}", "config.json: mounts: expected an array");
    refused("{\"mounts\": [{\"destination\": \"proc\", \"type\": \"proc\"}]}",
            "config.json: mounts[0].destination: \"proc\" is not an absolute path");
    refused("{\"mounts\": [{\"destination\": \"/tmp\", \"type\": \"tmpfs\"}, {\"type\": \"tmpfs\"}]}",
            "config.json: mounts[1].destination: required (an absolute path in the container)");
    refused("{\"mounts\": [{\"destination\": \"/x\", \"type\": \"ext4\", \"source\": \"/dev/sda1\"}]}",
            "config.json: mounts[0].type: \"ext4\" is not supported by cell (bind, proc, sysfs, tmpfs, devpts, mqueue, "
            "cgroup, cgroup2)");
    refused("{\"mounts\": [{\"destination\": \"/dev\", \"type\": \"devtmpfs\"}]}",
            "config.json: mounts[0].type: \"devtmpfs\" is not supported by cell (bind, proc, sysfs, tmpfs, devpts, "
            "mqueue, cgroup, cgroup2)");
    refused("{\"mounts\": [{\"destination\": \"/x\"}]}",
            "config.json: mounts[0].type: required (e.g. \"tmpfs\", or \"bind\")");
    refused("{\"mounts\": [{\"destination\": \"/x\", \"type\": \"bind\"}]}",
            "config.json: mounts[0].source: required for a bind mount (a path on the host)");
    snprintf(expected, sizeof expected, "config.json: mounts[0].source: %s/nope: No such file or directory", bundle);
    refused("{\"mounts\": [{\"destination\": \"/x\", \"type\": \"bind\", \"source\": \"nope\"}]}", expected);
    refused("{\"mounts\": [{\"destination\": \"/x\", \"type\": \"bind\", \"source\": \"/tmp\","
            " \"options\": [\"rbind\", \"mode=755\"]}]}",
            "config.json: mounts[0].options[1]: \"mode=755\" is not an option of a bind mount (ro, rw, nosuid, nodev, "
            "noexec, the atime options, bind, rbind, and the propagation ones)");
    refused("{\"mounts\": [{\"destination\": \"/x\", \"source\": \"/tmp\", \"options\": [\"rbind\", \"idmap\"]}]}",
            "config.json: mounts[0].options[1]: \"idmap\" is not supported by cell");
    refused("{\"mounts\": [{\"destination\": \"/x\", \"type\": \"bind\", \"source\": \"/tmp\","
            " \"uidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}]}]}",
            "config.json: mounts[0].uidMappings: id-mapped mounts are not supported by cell yet");
    refused("{\"mounts\": [{\"destination\": \"/x\", \"type\": \"tmpfs\", \"options\": \"ro\"}]}",
            "config.json: mounts[0].options: expected an array of strings");
    refused("{\"mounts\": [{\"destination\": \"/x\", \"type\": \"tmpfs\", \"options\": [\"size=1m,mode=0\"]}]}",
            "config.json: mounts[0].options[0]: \"size=1m,mode=0\" is not a mount option");
    refused("{\"mounts\": [{\"destination\": \"/x\", \"type\": \"tmpfs\", \"options\": [\"\"]}]}",
            "config.json: mounts[0].options[0]: \"\" is not a mount option");
    refused("{\"mounts\": [{\"destination\": \"/x\", \"type\": \"tmpfs\", \"source\": 1}]}",
            "config.json: mounts[0].source: expected a string");
    refused("{\"mounts\": [\"/x\"]}", "config.json: mounts[0]: expected an object");

    /* linux.namespaces */
    if (geteuid() != 0)
        refused("{\"linux\": {\"namespaces\": [{\"type\": \"user\", \"path\": \"/proc/1/ns/user\"}]}}",
                "config.json: linux.namespaces[0].path: joining a user namespace (/proc/1/ns/user) needs root");
    refused("{\"linux\": {\"namespaces\": [{\"type\": \"time\", \"path\": \"/proc/1/ns/time\"}]}}",
            "config.json: linux.namespaces[0]: a time namespace is not supported by cell");
    refused("{\"linux\": {\"namespaces\": [{\"type\": \"user\"}, {\"type\": \"cgroup\", \"path\": "
            "\"/proc/1/ns/cgroup\"}]}}",
            "config.json: linux.namespaces: a cgroup namespace given by path cannot be joined from a new user "
            "namespace (it belongs to another; join it without {\"type\": \"user\"})");
    refused("{\"linux\": {\"namespaces\": [{\"type\": \"network\", \"path\": \"netns/x\"}]}}",
            "config.json: linux.namespaces[0].path: \"netns/x\" is not an absolute path");
    refused("{\"linux\": {\"namespaces\": [{\"type\": \"time\"}]}}",
            "config.json: linux.namespaces[0]: a time namespace is not supported by cell");
    refused("{\"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"pid\"}]}}",
            "config.json: linux.namespaces[1].type: the pid namespace is given twice");
    refused("{\"linux\": {\"namespaces\": [{\"type\": \"net\"}]}}",
            "config.json: linux.namespaces[0].type: \"net\" is not a namespace type (pid, network, mount, ipc, uts, "
            "user, cgroup, time)");
    refused("{\"linux\": {\"namespaces\": [{}]}}",
            "config.json: linux.namespaces[0].type: required (pid, network, mount, ipc, uts, user, cgroup, time)");
    refused("{\"linux\": {\"namespaces\": {}}}", "config.json: linux.namespaces: expected an array");
    refused("{\"linux\": {\"uidMappings\": [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}]}}",
            "config.json: linux.uidMappings: given without a user namespace (add {\"type\": \"user\"} to "
            "linux.namespaces)");
    const char *user_ns = "{\"type\": \"pid\"}, {\"type\": \"mount\"}, {\"type\": \"ipc\"}, {\"type\": \"uts\"}, "
                          "{\"type\": \"cgroup\"}, {\"type\": \"network\"}, {\"type\": \"user\"}";
    char patch[1024];
    /* each error of the mappings; M: a uidMappings list, gidMappings cell's own */
#define MAPPED(list) "{\"linux\": {\"namespaces\": [%s], \"uidMappings\": " list ", \"gidMappings\": %s}}"
    const char *own = root ? "[{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}]"
                           : "[{\"containerID\": 0, \"hostID\": 0, \"size\": 1}]";
    char own_rootless[128];
    snprintf(own_rootless, sizeof own_rootless, "[{\"containerID\": 0, \"hostID\": %u, \"size\": 1}]",
             (unsigned)getegid());
    const char *gid_own = root ? own : own_rootless;
    snprintf(patch, sizeof patch, "{\"linux\": {\"namespaces\": [%s], \"gidMappings\": %s}}", user_ns, gid_own);
    refused(patch, "config.json: linux.uidMappings: required with linux.gidMappings (give both, or neither for "
                   "cell's own mapping)");
    if (root) {
        snprintf(patch, sizeof patch, MAPPED("[{\"containerID\": 0, \"hostID\": 1, \"size\": 0}]"), user_ns, gid_own);
        refused(patch, "config.json: linux.uidMappings[0].size: 0: a range maps at least one id");
        snprintf(patch, sizeof patch, MAPPED("[{\"containerID\": 0, \"hostID\": 4294967000, \"size\": 65536}]"),
                 user_ns, gid_own);
        refused(patch, "config.json: linux.uidMappings[0]: hostID 4294967000 + size 65536 is past the last id "
                       "(4294967294)");
        snprintf(patch, sizeof patch,
                 MAPPED("[{\"containerID\": 0, \"hostID\": 200000, \"size\": 1000}, {\"containerID\": 1000, "
                        "\"hostID\": 200500, \"size\": 10}]"),
                 user_ns, gid_own);
        refused(patch, "config.json: linux.uidMappings[1]: its hostID range overlaps that of linux.uidMappings[0]");
        snprintf(patch, sizeof patch,
                 MAPPED("[{\"containerID\": 0, \"hostID\": 200000, \"size\": 1000}, {\"containerID\": 999, "
                        "\"hostID\": 300000, \"size\": 10}]"),
                 user_ns, gid_own);
        refused(patch,
                "config.json: linux.uidMappings[1]: its containerID range overlaps that of linux.uidMappings[0]");
        snprintf(patch, sizeof patch, MAPPED("[{\"containerID\": 1, \"hostID\": 200000, \"size\": 1000}]"), user_ns,
                 gid_own);
        refused(patch, "config.json: linux.uidMappings: no range maps the container's root (containerID 0), which "
                       "cell's init runs as");
        snprintf(patch, sizeof patch,
                 "{\"process\": {\"user\": {\"uid\": 0, \"gid\": 70000}}, \"linux\": {\"namespaces\": [%s], "
                 "\"uidMappings\": %s, \"gidMappings\": %s}}",
                 user_ns, own, gid_own);
        refused(patch, "config.json: process.user.gid: 70000 is not in linux.gidMappings (the ids the container has)");
    } else {
        snprintf(patch, sizeof patch, MAPPED("[{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}]"), user_ns,
                 gid_own);
        snprintf(expected, sizeof expected,
                 "config.json: linux.uidMappings: rootless, only the caller's own id can be mapped: "
                 "[{\"containerID\": 0, \"hostID\": %u, \"size\": 1}] (other ranges need root)",
                 (unsigned)geteuid());
        refused(patch, expected);
    }
#undef MAPPED
    snprintf(patch, sizeof patch,
             "{\"linux\": {\"namespaces\": [%s], \"uidMappings\": [{\"containerID\": 0, \"hostID\": 100000}]}}",
             user_ns);
    refused(patch, "config.json: linux.uidMappings[0].size: required");

    /* linux.resources */
    refused("{\"linux\": {\"resources\": {\"memory\": {\"limit\": -5}}}}",
            "config.json: linux.resources.memory.limit: -5: expected bytes above 0, or -1 for none");
    refused("{\"linux\": {\"resources\": {\"memory\": {\"limit\": \"64M\"}}}}",
            "config.json: linux.resources.memory.limit: expected an integer");
    refused("{\"linux\": {\"resources\": {\"cpu\": {\"quota\": 50000, \"period\": 10}}}}",
            "config.json: linux.resources.cpu.period: 10: expected 1000 to 1000000 (microseconds)");
    refused("{\"linux\": {\"resources\": {\"cpu\": {\"quota\": 50000, \"period\": 2000000}}}}",
            "config.json: linux.resources.cpu.period: expected an integer from 0 to 1000000");
    refused("{\"linux\": {\"resources\": {\"cpu\": {\"quota\": 102500000, \"period\": 100000}}}}",
            "config.json: linux.resources.cpu.quota: 102500000/100000 is more than 1024 CPUs");
    refused("{\"linux\": {\"resources\": {\"cpu\": {\"quota\": -2}}}}",
            "config.json: linux.resources.cpu.quota: -2: expected microseconds above 0, or -1 for none");
    refused("{\"linux\": {\"resources\": {\"pids\": {}}}}", "config.json: linux.resources.pids.limit: required");
    refused("{\"linux\": {\"resources\": {\"devices\": [{\"allow\": false, \"access\": \"rwx\"}]}}}",
            "config.json: linux.resources.devices[0].access: \"rwx\" is not an access (letters r, w and m)");
    refused("{\"linux\": {\"resources\": {\"devices\": [{\"access\": \"rwm\"}]}}}",
            "config.json: linux.resources.devices[0].allow: required");
    refused("{\"linux\": {\"resources\": {\"devices\": [{\"allow\": true, \"type\": \"p\"}]}}}",
            "config.json: linux.resources.devices[0].type: \"p\" is not a device type (a, c or b)");
    refused("{\"linux\": {\"resources\": []}}", "config.json: linux.resources: expected an object");

    /* the rest of linux */
    refused("{\"linux\": {\"devices\": [{\"path\": \"/fuse\", \"type\": \"c\", \"major\": 10, \"minor\": 229}]}}",
            "config.json: linux.devices[0].path: \"/fuse\" is not a path under /dev (cell's root is read-only and "
            "nodev; devices live in its /dev)");
    refused("{\"linux\": {\"devices\": [{\"path\": \"/dev/../etc/x\", \"type\": \"c\", \"major\": 1, \"minor\": 3}]}}",
            "config.json: linux.devices[0].path: \"/dev/../etc/x\" is not a path under /dev (cell's root is read-only "
            "and nodev; devices live in its /dev)");
    refused("{\"linux\": {\"devices\": [{\"path\": \"/dev/x\", \"type\": \"c\", \"major\": 1, \"minor\": 3}, "
            "{\"path\": \"/dev//x\", \"type\": \"p\"}]}}",
            "config.json: linux.devices[1].path: /dev/x is given twice");
    refused("{\"linux\": {\"devices\": [{\"path\": \"/dev/x\", \"major\": 1, \"minor\": 3}]}}",
            "config.json: linux.devices[0].type: required (c, u, b or p)");
    refused("{\"linux\": {\"devices\": [{\"path\": \"/dev/x\", \"type\": \"a\", \"major\": 1, \"minor\": 3}]}}",
            "config.json: linux.devices[0].type: \"a\" is not a device type (c, u, b or p)");
    refused("{\"linux\": {\"devices\": [{\"path\": \"/dev/x\", \"type\": \"b\", \"minor\": 3}]}}",
            "config.json: linux.devices[0].major: required for a device of type b");
    refused("{\"linux\": {\"devices\": [{\"path\": \"/dev/x\", \"type\": \"c\", \"major\": 1, \"minor\": -1}]}}",
            "config.json: linux.devices[0].minor: -1 is not a device number (0 to 2147483647)");
    refused("{\"linux\": {\"devices\": [{\"path\": \"/dev/x\", \"type\": \"c\", \"major\": 1, \"minor\": 3, "
            "\"fileMode\": 70000}]}}",
            "config.json: linux.devices[0].fileMode: expected an integer from 0 to 65535");
    refused("{\"linux\": {\"devices\": {}}}", "config.json: linux.devices: expected an array");
    refused("{\"linux\": {\"resources\": {\"devices\": [{\"allow\": true, \"major\": -2}]}}}",
            "config.json: linux.resources.devices[0].major: -2 is not a device number (0 to 2147483647, or -1 for "
            "any)");
    refused("{\"linux\": {\"sysctl\": {\"kernel.panic\": \"1\"}}}",
            "config.json: linux.sysctl.kernel.panic: not a sysctl of the container's own namespaces (IPC ones, "
            "fs.mqueue.*, and net.* with a network namespace): it would change the host");
    refused("{\"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"mount\"}, {\"type\": \"ipc\"}, "
            "{\"type\": \"uts\"}, {\"type\": \"cgroup\"}], \"sysctl\": {\"net.ipv4.ip_forward\": \"1\"}}}",
            "config.json: linux.sysctl.net.ipv4.ip_forward: not a sysctl of the container's own namespaces (IPC "
            "ones, fs.mqueue.*, and net.* with a network namespace): it would change the host");
    refused("{\"linux\": {\"sysctl\": {\"net.ipv4.ip_forward\": 1}}}",
            "config.json: linux.sysctl.net.ipv4.ip_forward: expected a string value");
    refused("{\"linux\": {\"netDevices\": {\"eth1\": {}}}}",
            "config.json: linux.netDevices: cell does not move network devices into a container yet (remove it)");
    refused("{\"linux\": {\"timeOffsets\": {\"monotonic\": {\"secs\": 1}}}}",
            "config.json: linux.timeOffsets: a time namespace is not supported by cell (remove it)");
    refused("{\"linux\": {\"intelRdt\": {\"closID\": \"x\"}}}",
            "config.json: linux.intelRdt: not supported by cell (remove it)");
    refused("{\"linux\": {\"mountLabel\": \"system_u:object_r:container_file_t:s0\"}}",
            "config.json: linux.mountLabel: SELinux mount labels are not supported by cell (remove it)");
    refused("{\"linux\": {\"personality\": {\"domain\": \"LINUX32\"}}}",
            "config.json: linux.personality: not supported by cell (only {\"domain\": \"LINUX\"})");
    refused("{\"linux\": {\"seccomp\": []}, \"annotations\": {\"run.cell.profile\": \"low\"}}",
            "config.json: linux.seccomp: expected an object");
    refused("{\"linux\": {\"rootfsPropagation\": \"shared\"}}",
            "config.json: linux.rootfsPropagation: \"shared\" is not supported by cell (its mounts are private; use "
            "private or slave)");
    refused("{\"linux\": {\"rootfsPropagation\": \"bogus\"}}",
            "config.json: linux.rootfsPropagation: \"bogus\" is not a propagation (private, rprivate, slave, rslave, "
            "unbindable, runbindable)");
    refused("{\"linux\": {\"maskedPaths\": [\"/proc/kcore\", \"proc/keys\"]}}",
            "config.json: linux.maskedPaths[1]: \"proc/keys\" is not an absolute path");
    refused("{\"linux\": {\"readonlyPaths\": \"/proc/sys\"}}",
            "config.json: linux.readonlyPaths: expected an array of absolute paths");
    refused("{\"linux\": {\"cgroupsPath\": 1}}", "config.json: linux.cgroupsPath: expected a string");
    static const char *const bad_paths[] = {"/a/../b", "a//b", "/a/", "./a", "/", "a/.."};
    for (size_t i = 0; i < sizeof bad_paths / sizeof *bad_paths; i++) {
        char bad[128];
        snprintf(bad, sizeof bad, "{\"linux\": {\"cgroupsPath\": \"%s\"}}", bad_paths[i]);
        snprintf(expected, sizeof expected,
                 strcmp(bad_paths[i], "/") == 0
                     ? "config.json: linux.cgroupsPath: \"/\" is the hierarchy's root, which holds no container"
                     : "config.json: linux.cgroupsPath: \"%s\": each part must be a name (no empty, \".\" or \"..\" "
                       "parts)",
                 bad_paths[i]);
        refused(bad, expected);
    }
    refused("{\"linux\": 1}", "config.json: linux: expected an object");

    /* annotations, hooks, other platforms */
    refused("{\"annotations\": {\"run.cell.profile\": \"max\"}}",
            "config.json: annotations.run.cell.profile: \"max\" is not a profile: use high, medium or low");
    refused("{\"annotations\": {\"a\": 1}}", "config.json: annotations.a: expected a string");
    refused("{\"annotations\": []}", "config.json: annotations: expected an object");
    refused("{\"hooks\": {\"prestart\": [{\"path\": \"hook\"}]}}",
            "config.json: hooks.prestart[0].path: \"hook\" is not an absolute path");
    refused("{\"hooks\": {\"poststop\": [{\"args\": []}]}}",
            "config.json: hooks.poststop[0].path: required (an absolute path on the host)");
    refused("{\"hooks\": {\"createRuntime\": [{\"path\": \"/h\", \"timeout\": 0}]}}",
            "config.json: hooks.createRuntime[0].timeout: expected seconds above 0");
    refused("{\"hooks\": {\"createRuntime\": [{\"path\": \"/h\", \"timeout\": -1}]}}",
            "config.json: hooks.createRuntime[0].timeout: expected an integer from 0 to 2147483647");
    refused("{\"hooks\": {\"poststart\": [{\"path\": \"/h\", \"args\": [\"h\", 2]}]}}",
            "config.json: hooks.poststart[0].args[1]: expected a string");
    refused("{\"hooks\": {\"poststart\": {}}}", "config.json: hooks.poststart: expected an array");
    refused("{\"vm\": {\"hypervisor\": {\"path\": \"/usr/bin/qemu\"}}}",
            "config.json: vm: cell runs containers, not virtual machines (remove it, or use a VM runtime)");
}

static void test_warnings(void **state)
{
    (void)state;
    struct cell_spec spec;
    struct cell_oci oci;
    warned("{\"process\": {\"noNewPrivileges\": false}}",
           "process.noNewPrivileges: false or absent; cell sets no_new_privs anyway (setuid programs and file "
           "capabilities give no privileges in the container)");
    warned("{\"process\": {\"noNewPrivileges\": null}}", "process.noNewPrivileges: false or absent;");
    warned("{\"process\": {\"user\": {\"username\": \"web\"}}}",
           "process.user.username: a Windows field (ignored); uid and gid are used");
    warned("{\"process\": {\"commandLine\": \"sh\"}}",
           "process.commandLine: a Windows field (ignored); process.args is used");
    warned("{\"linux\": {\"cgroupsPath\": \"system.slice:cell:web\"}}",
           "linux.cgroupsPath: \"system.slice:cell:web\" is systemd's form, which cell does not use");
    /* process.oomScoreAdj is applied (by run.c on init): no warning */
    patch_ok("{\"process\": {\"oomScoreAdj\": 100}}", &spec, &oci);
    assert_int_equal(oci.nwarnings, 0);
    assert_true(spec.oci.oom_score_adj_set);
    assert_int_equal(spec.oci.oom_score_adj, 100);
    free_both(&spec, &oci);
    warned("{\"linux\": {\"namespaces\": [{\"type\": \"mount\"}, {\"type\": \"ipc\"}, {\"type\": \"uts\"},"
           " {\"type\": \"cgroup\"}, {\"type\": \"network\"}]}}",
           "linux.namespaces: no pid namespace asked for; cell gives the container a new one anyway");
    const struct {
        const char *resources, *field;
    } unapplied[] = {
        {"{\"memory\": {\"swap\": 1}}", "memory.swap"},
        {"{\"memory\": {\"reservation\": 1}}", "memory.reservation"},
        {"{\"memory\": {\"kernel\": -1}}", "memory.kernel"},
        {"{\"memory\": {\"kernelTCP\": -1}}", "memory.kernelTCP"},
        {"{\"memory\": {\"swappiness\": 0}}", "memory.swappiness"},
        {"{\"memory\": {\"disableOOMKiller\": true}}", "memory.disableOOMKiller"},
        {"{\"memory\": {\"useHierarchy\": true}}", "memory.useHierarchy"},
        {"{\"memory\": {\"checkBeforeUpdate\": true}}", "memory.checkBeforeUpdate"},
        {"{\"cpu\": {\"shares\": 1024}}", "cpu.shares"},
        {"{\"cpu\": {\"burst\": 1000}}", "cpu.burst"},
        {"{\"cpu\": {\"realtimeRuntime\": 1}}", "cpu.realtimeRuntime"},
        {"{\"cpu\": {\"realtimePeriod\": 1}}", "cpu.realtimePeriod"},
        {"{\"cpu\": {\"cpus\": \"0-1\"}}", "cpu.cpus"},
        {"{\"cpu\": {\"mems\": \"0\"}}", "cpu.mems"},
        {"{\"cpu\": {\"idle\": 1}}", "cpu.idle"},
        {"{\"blockIO\": {\"weight\": 10}}", "blockIO.weight"},
        {"{\"blockIO\": {\"weightDevice\": [{\"major\": 8, \"minor\": 0, \"weight\": 10}]}}", "blockIO.weightDevice"},
        {"{\"hugepageLimits\": [{\"pageSize\": \"2MB\", \"limit\": 1}]}", "hugepageLimits"},
        {"{\"network\": {\"classID\": 1}}", "network"},
        {"{\"rdma\": {\"mlx5_1\": {\"hcaHandles\": 3}}}", "rdma"},
        {"{\"unified\": {\"io.max\": \"259:0 rbps=2097152\"}}", "unified"},
        {"{\"oomScoreAdj\": 5}", "oomScoreAdj"},
        {"{\"disableOOMKiller\": true}", "disableOOMKiller"},
    };
    for (size_t i = 0; i < sizeof unapplied / sizeof *unapplied; i++) {
        char patch[256], expected[128];
        snprintf(patch, sizeof patch, "{\"linux\": {\"resources\": %s}}", unapplied[i].resources);
        snprintf(expected, sizeof expected, "linux.resources.%s: not applied", unapplied[i].field);
        warned(patch, expected);
    }
    if (geteuid() != 0) { /* rootless: no device cgroup */
        warned("{\"linux\": {\"resources\": {\"devices\": [{\"allow\": false, \"access\": \"rwm\"},"
               " {\"allow\": true, \"type\": \"c\", \"major\": 1, \"minor\": 3, \"access\": \"rwm\"}]}}}",
               "linux.resources.devices: not applied: rootless, cell has no device cgroup; its /dev holds only null, "
               "zero, full, random, urandom, tty, ptmx and pts (and the devices the mounts and linux.devices give)");
        warned("{\"linux\": {\"resources\": {\"devices\": [{\"allow\": false, \"access\": \"r\"}]}}}",
               "linux.resources.devices: not applied");
    }
    warned("{\"linux\": {\"rootfsPropagation\": \"unbindable\"}}",
           "linux.rootfsPropagation: \"unbindable\" not applied; the rootfs is private");
    warned("{\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ERRNO\"}}, \"annotations\": {\"run.cell.profile\":"
           " \"low\"}}",
           "linux.seccomp: not applied; cell applies its own profile \"low\" (annotation run.cell.profile)");
    warned("{\"mounts\": [{\"destination\": \"/x\", \"type\": \"tmpfs\", \"options\": [\"tmpcopyup\"]}]}",
           "mounts[0].options[0]: \"tmpcopyup\" not honoured (ignored)");
    warned("{\"windows\": {}}", "windows: not for Linux (ignored)");
    warned("{\"platform\": {\"os\": \"linux\"}}", "platform: unknown field (ignored)");
    warned("{\"process\": {\"foo\": 1}}", "process.foo: unknown field (ignored)");
    warned("{\"linux\": {\"foo\": 1}}", "linux.foo: unknown field (ignored)");
    warned("{\"linux\": {\"resources\": {\"memory\": {\"foo\": 1}}}}",
           "linux.resources.memory.foo: unknown field (ignored)");
    warned("{\"mounts\": [{\"destination\": \"/x\", \"type\": \"tmpfs\", \"foo\": 1}]}",
           "mounts[0].foo: unknown field (ignored)");
    warned("{\"hooks\": {\"prestop\": []}}", "hooks.prestop: unknown field (ignored)");
    if (access("/sys/kernel/security/apparmor", F_OK) != 0)
        warned("{\"process\": {\"apparmorProfile\": \"docker-default\"}}",
               "process.apparmorProfile: \"docker-default\" not applied: this host has no AppArmor");
    if (access("/sys/fs/selinux", F_OK) != 0)
        warned("{\"process\": {\"selinuxLabel\": \"system_u:system_r:container_t:s0\"}}",
               "process.selinuxLabel: \"system_u:system_r:container_t:s0\" not applied: this host has no SELinux");

    /* accepted without a warning: they ask for nothing cell does not do */
    const char *quiet[] = {
        "{\"process\": {\"apparmorProfile\": \"unconfined\", \"selinuxLabel\": \"\"}}",
        "{\"linux\": {\"sysctl\": {}, \"devices\": [], \"mountLabel\": \"\", \"intelRdt\": {}}}",
        "{\"linux\": {\"personality\": {\"domain\": \"LINUX\"}, \"rootfsPropagation\": \"rprivate\"}}",
        "{\"linux\": {\"resources\": {\"devices\": [{\"allow\": false, \"type\": \"a\", \"access\": \"rwm\"}]}}}",
        "{\"hostname\": \"\", \"domainname\": \"\", \"mounts\": null, \"hooks\": {}, \"annotations\": {}}",
        "{\"annotations\": {\"run.cell.profile\": \"low\"}}",
    };
    for (size_t i = 0; i < sizeof quiet / sizeof *quiet; i++) {
        patch_ok(quiet[i], &spec, &oci);
        if (oci.nwarnings != 0) {
            print_warnings(&oci);
            fail_msg("%s: warned", quiet[i]);
        }
        free_both(&spec, &oci);
    }
}

/* A config's own linux.seccomp is compiled into spec.custom_seccomp. */
static void test_seccomp(void **state)
{
    struct cell_spec spec;
    struct cell_oci oci;
    patch_ok("{\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"defaultErrnoRet\": 1,"
             " \"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X86\", \"SCMP_ARCH_X32\", \"SCMP_ARCH_AARCH64\"],"
             " \"flags\": [\"SECCOMP_FILTER_FLAG_LOG\", \"SECCOMP_FILTER_FLAG_TSYNC\"],"
             " \"syscalls\": [{\"names\": [\"mkdir\", \"mkdirat\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 1},"
             " {\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ERRNO\","
             "  \"args\": [{\"index\": 0, \"value\": 4294967295, \"op\": \"SCMP_CMP_EQ\"}]},"
             " {\"names\": [\"socket\"], \"action\": \"SCMP_ACT_KILL_PROCESS\","
             "  \"args\": [{\"index\": 0, \"value\": 2, \"op\": \"SCMP_CMP_EQ\"},"
             "   {\"index\": 0, \"value\": 10, \"op\": \"SCMP_CMP_EQ\"}]},"
             " {\"names\": [\"clone\"], \"action\": \"SCMP_ACT_TRAP\","
             "  \"args\": [{\"index\": 0, \"value\": 2114060288, \"valueTwo\": 0, \"op\": \"SCMP_CMP_MASKED_EQ\"}]},"
             " {\"names\": [\"getpid\"], \"action\": \"SCMP_ACT_ALLOW\"},"
             " {\"names\": [\"no_such_call\"], \"action\": \"SCMP_ACT_LOG\"}]}}}",
             &spec, &oci);
    assert_non_null(spec.custom_seccomp);
    assert_non_null(spec.custom_seccomp->filter);
    assert_true(spec.custom_seccomp->len > 0);
    assert_int_equal(spec.custom_seccomp->flags, 2 /* SECCOMP_FILTER_FLAG_LOG */);
    assert_int_equal(oci.nwarnings, 1);
    assert_string_equal(oci.warnings[0],
                        "linux.seccomp.syscalls[5].names[0]: \"no_such_call\" is not a system call on this "
                        "architecture (skipped)");
    free_both(&spec, &oci);

    patch_ok("{\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\","
             " \"write\", \"exit_group\"], \"action\": \"SCMP_ACT_ALLOW\"}], \"listenerPath\": \"\"}}}",
             &spec, &oci);
    assert_non_null(spec.custom_seccomp);
    assert_true(spec.custom_seccomp->len > 0);
    assert_int_equal(spec.custom_seccomp->flags, 0);
    assert_int_equal(oci.nwarnings, 0);
    free_both(&spec, &oci);

    /* without linux.seccomp, or with the annotation: cell's profile */
    patch_ok("{}", &spec, &oci);
    assert_null(spec.custom_seccomp);
    free_both(&spec, &oci);
    patch_ok("{\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\"}},"
             " \"annotations\": {\"run.cell.profile\": \"medium\"}}",
             &spec, &oci);
    assert_null(spec.custom_seccomp);
    assert_int_equal(spec.profile, CELL_PROFILE_MEDIUM);
    free_both(&spec, &oci);
}

static void test_seccomp_errors(void **state)
{
    static const struct {
        const char *seccomp, *expected;
    } cases[] = {
        {"[]", "linux.seccomp: expected an object"},
        {"{}", "linux.seccomp.defaultAction: required"},
        {"{\"defaultAction\": 1}", "linux.seccomp.defaultAction: expected a string"},
        {"{\"defaultAction\": \"SCMP_ACT_DENY\"}",
         "linux.seccomp.defaultAction: \"SCMP_ACT_DENY\" is not an action (SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, "
         "SCMP_ACT_KILL_THREAD, SCMP_ACT_TRAP, SCMP_ACT_ERRNO, SCMP_ACT_TRACE, SCMP_ACT_ALLOW, SCMP_ACT_LOG)"},
        {"{\"defaultAction\": \"SCMP_ACT_NOTIFY\"}",
         "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY is not supported by cell (no seccomp agent)"},
        {"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": -1}",
         "linux.seccomp.defaultErrnoRet: expected an integer from 0 to 4095"},
        {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"/run/agent.sock\"}",
         "linux.seccomp.listenerPath: a seccomp agent is not supported by cell (remove it)"},
        {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerMetadata\": \"x\"}",
         "linux.seccomp.listenerMetadata: a seccomp agent is not supported by cell (remove it)"},
        {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": \"SCMP_ARCH_X86_64\"}",
         "linux.seccomp.architectures: expected an array"},
        {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_VAX\"]}",
         "linux.seccomp.architectures[1]: \"SCMP_ARCH_VAX\" is not an architecture cell knows (SCMP_ARCH_X86_64, "
         "SCMP_ARCH_AARCH64, ...)"},
        {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"flags\": {}}", "linux.seccomp.flags: expected an array"},
        {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"flags\": [\"SECCOMP_FILTER_FLAG_NEW_LISTENER\"]}",
         "linux.seccomp.flags[0]: \"SECCOMP_FILTER_FLAG_NEW_LISTENER\" is not a flag cell supports "
         "(SECCOMP_FILTER_FLAG_LOG, SECCOMP_FILTER_FLAG_SPEC_ALLOW, SECCOMP_FILTER_FLAG_TSYNC)"},
        {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": {}}", "linux.seccomp.syscalls: expected an array"},
        {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [1]}", "linux.seccomp.syscalls[0]: expected an object"},
        {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"]}]}",
         "linux.seccomp.syscalls[0].action: required"},
        {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"action\": \"SCMP_ACT_ERRNO\"}]}",
         "linux.seccomp.syscalls[0].names: required"},
        {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [], \"action\": \"SCMP_ACT_ERRNO\"}]}",
         "linux.seccomp.syscalls[0].names: expected a non-empty array of names"},
        {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [7], \"action\": \"SCMP_ACT_ERRNO\"}]}",
         "linux.seccomp.syscalls[0].names[0]: expected a string"},
        {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], \"action\": "
         "\"SCMP_ACT_NOTIFY\"}]}",
         "linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY is not supported by cell (no seccomp agent)"},
        {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], \"action\": "
         "\"SCMP_ACT_ERRNO\","
         " \"errnoRet\": 5000}]}",
         "linux.seccomp.syscalls[0].errnoRet: expected an integer from 0 to 4095"},
        {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], \"action\": "
         "\"SCMP_ACT_ERRNO\","
         " \"args\": {}}]}",
         "linux.seccomp.syscalls[0].args: expected an array"},
        {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], \"action\": "
         "\"SCMP_ACT_ERRNO\","
         " \"args\": [{\"index\": 6, \"value\": 0, \"op\": \"SCMP_CMP_EQ\"}]}]}",
         "linux.seccomp.syscalls[0].args[0].index: expected an integer from 0 to 5"},
        {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], \"action\": "
         "\"SCMP_ACT_ERRNO\","
         " \"args\": [{\"value\": 0, \"op\": \"SCMP_CMP_EQ\"}]}]}",
         "linux.seccomp.syscalls[0].args[0].index: required"},
        {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], \"action\": "
         "\"SCMP_ACT_ERRNO\","
         " \"args\": [{\"index\": 0, \"value\": -1, \"op\": \"SCMP_CMP_EQ\"}]}]}",
         "linux.seccomp.syscalls[0].args[0].value: expected an integer from 0 to 18446744073709551615"},
        {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], \"action\": "
         "\"SCMP_ACT_ERRNO\","
         " \"args\": [{\"index\": 0, \"value\": 1}]}]}",
         "linux.seccomp.syscalls[0].args[0].op: required"},
        {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], \"action\": "
         "\"SCMP_ACT_ALLOW\"},"
         " {\"names\": [\"write\"], \"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 1, \"value\": 1},"
         " {\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_SAME\"}]}]}",
         "linux.seccomp.syscalls[1].args[0].op: required"},
        {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"write\"], \"action\": "
         "\"SCMP_ACT_ERRNO\","
         " \"args\": [{\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_SAME\"}]}]}",
         "linux.seccomp.syscalls[0].args[0].op: \"SCMP_CMP_SAME\" is not a comparison (SCMP_CMP_NE, SCMP_CMP_LT, "
         "SCMP_CMP_LE, SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_GT, SCMP_CMP_MASKED_EQ)"},
        {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"write\"], \"action\": "
         "\"SCMP_ACT_ERRNO\","
         " \"args\": [1]}]}",
         "linux.seccomp.syscalls[0].args[0]: expected an object"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char patch[1024], expected[512];
        snprintf(patch, sizeof patch, "{\"linux\": {\"seccomp\": %s}}", cases[i].seccomp);
        snprintf(expected, sizeof expected, "config.json: %s", cases[i].expected);
        refused(patch, expected);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crun_spec),       cmocka_unit_test(test_full_config),
        cmocka_unit_test(test_generated_specs), cmocka_unit_test(test_load_bundle),
        cmocka_unit_test(test_relative_paths),  cmocka_unit_test(test_limits),
        cmocka_unit_test(test_versions),        cmocka_unit_test(test_capabilities),
        cmocka_unit_test(test_namespaces),      cmocka_unit_test(test_hooks),
        cmocka_unit_test(test_device_binds),    cmocka_unit_test(test_block_io),
        cmocka_unit_test(test_device_rules),    cmocka_unit_test(test_errors),
        cmocka_unit_test(test_warnings),        cmocka_unit_test(test_sysctls),
        cmocka_unit_test(test_join_namespaces), cmocka_unit_test(test_seccomp),
        cmocka_unit_test(test_seccomp_errors),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
