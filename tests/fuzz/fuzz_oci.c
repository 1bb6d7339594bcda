/* fuzz_oci.c - libFuzzer target for the OCI front end (src/lib/spec_oci.c):
 * the input is one config.json's text, loaded with cell_oci_load() for a
 * fixed bundle (/tmp/cell-fuzz-oci-UID, made once, holding rootfs/ and
 * data/). Besides crashes, leaks and sanitizer reports it checks that a
 * refusal says why and keeps nothing, and that an accepted config is
 * possible: a command, absolute paths everywhere (cwd, rootfs, bundle, mount
 * destinations and bind sources, masked and read-only paths, hooks), mount
 * data without empty options, writable agreeing with MS_RDONLY, limits and
 * rlimits in range, warnings that name a field. The accepted spec is then
 * named and validated, as the runtime does. */
#include "cell/oci.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char bundle[64];

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_oci: check failed: %s\n", what);
        abort();
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char path[128];
    snprintf(bundle, sizeof bundle, "/tmp/cell-fuzz-oci-%u", (unsigned)getuid());
    mkdir(bundle, 0700);
    snprintf(path, sizeof path, "%s/rootfs", bundle);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/data", bundle);
    mkdir(path, 0755);
    return 0;
}

static bool absolute(const char *p)
{
    return p != NULL && p[0] == '/';
}

/* Whether `path` has a ".." component (a name such as "..a" is none). */
static bool has_dotdot(const char *path)
{
    for (const char *p = strstr(path, "/.."); p; p = strstr(p + 1, "/.."))
        if (p[3] == '/' || p[3] == '\0')
            return true;
    return false;
}

static void check_accepted(struct cell_spec *spec, struct cell_oci *oci)
{
    struct stat st;
    check(spec->oci.enabled, "the spec is an OCI one");
    check(spec->name == NULL, "the name is left to the caller");
    check(spec->argv && spec->argv[0] && spec->argv[0][0], "a command");
    check(absolute(spec->cwd), "an absolute cwd");
    check(absolute(spec->rootfs) && stat(spec->rootfs, &st) == 0 && S_ISDIR(st.st_mode), "a rootfs directory");
    check(absolute(oci->bundle), "an absolute bundle");
    check(oci->oci_version && strncmp(oci->oci_version, "1.", 2) == 0, "a supported version");
    for (char **e = spec->env; e && *e; e++)
        check(strchr(*e, '=') != NULL && (*e)[0] != '=', "KEY=VALUE environment");
    for (size_t i = 0; i < spec->nmounts; i++) {
        const struct cell_mount *m = &spec->mounts[i];
        check(m->kind <= CELL_MOUNT_CGROUP, "a known mount kind");
        check(absolute(m->destination), "an absolute mount destination");
        check(strstr(m->destination, "//") == NULL && strstr(m->destination, "/./") == NULL &&
                  strstr(m->destination, "/../") == NULL,
              "a clean mount destination");
        if (m->kind == CELL_MOUNT_BIND)
            check(absolute(m->source) && stat(m->source, &st) == 0, "an existing absolute bind source");
        else
            check(m->source == NULL, "no source but a bind's");
        if (m->data)
            check(m->data[0] && m->data[0] != ',' && m->data[strlen(m->data) - 1] != ',' &&
                      strstr(m->data, ",,") == NULL,
                  "mount data without empty options");
        check(m->kind != CELL_MOUNT_BIND || m->data == NULL, "no data on a bind");
        check(m->writable == !(m->flags & MS_RDONLY), "writable agrees with MS_RDONLY");
    }
    for (char **p = spec->oci.masked_paths; p && *p; p++)
        check(absolute(*p), "absolute masked paths");
    for (char **p = spec->oci.readonly_paths; p && *p; p++)
        check(absolute(*p), "absolute read-only paths");
    check(spec->ngroups <= CELL_MAX_GROUPS, "at most 32 groups");
    check(spec->limits.cpu_millis <= 1024 * 1000, "at most 1024 CPUs");
    for (int r = 0; r < CELL_RLIMIT_COUNT; r++)
        check(!spec->rlimits[r].set || spec->rlimits[r].soft <= spec->rlimits[r].hard, "soft <= hard");
    check(spec->profile <= CELL_PROFILE_LOW, "a known profile");
    /* as root every container has a device cgroup that denies all but its
     * own /dev nodes and linux.devices first (so CAP_MKNOD may be kept) */
    if (geteuid() == 0) {
        const struct cell_device_rule *r = spec->oci.device_rules;
        check(spec->oci.device_cgroup && r != NULL, "a device cgroup");
        check(spec->oci.ndevice_rules <= 200 + 8 + 64, "a bounded device list");
        check(spec->oci.ndevice_rules >= 8 && r[spec->oci.ndevice_rules - 1].allow, "cell's own nodes allowed last");
    }
    for (size_t i = 0; i < spec->oci.ndevices; i++)
        check(strncmp(spec->oci.devices[i].path, "/dev/", 5) == 0 && !has_dotdot(spec->oci.devices[i].path),
              "device nodes only under /dev");
    for (size_t i = 0; i < spec->oci.nio_throttle; i++)
        check(spec->oci.io_throttle[i].rate > 0 && spec->oci.io_throttle[i].kind < CELL_IO_KINDS, "a throttle");
    for (const char *p = spec->oci.cgroups_path; p && *p;) { /* parts: names, never "", "." or ".." */
        p += *p == '/';
        size_t n = strcspn(p, "/");
        check(n > 0 && !(n == 1 && p[0] == '.') && !(n == 2 && p[0] == '.' && p[1] == '.'),
              "a cgroups path of plain names");
        p += n;
    }
    check((spec->oci.uid_map == NULL) == (spec->oci.gid_map == NULL), "both id maps or neither");
    for (int k = 0; k < CELL_OCI_HOOK_COUNT; k++) {
        check(oci->nhooks[k] == 0 || oci->hooks[k] != NULL, "hooks held");
        for (size_t i = 0; i < oci->nhooks[k]; i++)
            check(absolute(oci->hooks[k][i].path) && oci->hooks[k][i].timeout >= 0, "an absolute hook path");
    }
    check(oci->annotations == NULL || json_is_object(oci->annotations), "annotations are an object");
    for (size_t i = 0; i < oci->nwarnings; i++)
        check(oci->warnings[i] && strstr(oci->warnings[i], ": ") != NULL, "a warning names its field");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cell_spec spec;
    struct cell_oci oci;
    struct cell_err err = {0};
    if (cell_oci_load(bundle, (const char *)data, size, &spec, &oci, &err) < 0) {
        check(strncmp(err.msg, "config.json: ", 13) == 0 && err.msg[13] != '\0', "a refusal says why");
        check(spec.argv == NULL && spec.nmounts == 0 && !spec.oci.enabled, "a refusal keeps no spec");
        check(oci.bundle == NULL && oci.nwarnings == 0 && oci.annotations == NULL, "a refusal keeps no facts");
        cell_spec_free(&spec);
        cell_oci_free(&oci);
        return 0;
    }
    check_accepted(&spec, &oci);
    spec.name = strdup("fuzz");
    if (cell_spec_validate(&spec, &err) < 0)
        check(err.msg[0] != '\0', "a validation error says why");
    cell_spec_free(&spec);
    cell_oci_free(&oci);
    return 0;
}
