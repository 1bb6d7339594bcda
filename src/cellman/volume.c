/* volume.c - `cell volume create|remove|list|show` and the volume directory
 * apply makes (volume_ensure). A volume is a directory, <data>/volumes/NAME,
 * that cells mount with --bind (the desired state's `volumes` do that).
 * Removing one deletes its data, so it needs --yes, and it is refused while
 * a running cell mounts it (celld's status: the cells' `cell run` arguments).
 * `cell volume backup ...` is `cell backup ... --volume` (backup.c). */
#include "cellman.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- which running cells use a directory ---------------------------------- */

/* The states in which a cell has (or is about to have) its mounts. */
static bool state_running(const char *s)
{
    static const char *const states[] = {"running", "starting", "stopping", "waiting", "backoff"};
    for (size_t i = 0; s && i < ARRAY_SIZE(states); i++)
        if (strcmp(s, states[i]) == 0)
            return true;
    return false;
}

/* `path` for comparing: its realpath, or (when it does not exist) its
 * parent's realpath and its last name, or itself without trailing slashes. */
static void canonical_path(const char *path, char *out, size_t len)
{
    char real[PATH_MAX];
    if (realpath(path, real)) {
        snprintf(out, len, "%s", real);
        return;
    }
    char copy[PATH_MAX], copy2[PATH_MAX];
    snprintf(copy, sizeof copy, "%s", path);
    size_t n = strlen(copy);
    while (n > 1 && copy[n - 1] == '/')
        copy[--n] = '\0';
    snprintf(copy2, sizeof copy2, "%s", copy);
    if (realpath(dirname(copy2), real) && strcmp(real, "/") != 0)
        snprintf(out, len, "%s/%s", real, basename(copy));
    else
        snprintf(out, len, "%s", copy);
}

/* a and b (canonical) are the same, or one is a directory holding the other */
static bool paths_overlap(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b), n = na < nb ? na : nb;
    if (strncmp(a, b, n) != 0)
        return false;
    if (na == nb || n == 1) /* the same, or one of them is "/" */
        return true;
    return (na > nb ? a : b)[n] == '/';
}

static bool source_overlaps(const char *source, const char *target)
{
    char canon[PATH_MAX];
    if (source == NULL || source[0] != '/')
        return false;
    canonical_path(source, canon, sizeof canon);
    return paths_overlap(canon, target);
}

/* Whether a cell declared with `args` (its `cell run` arguments) has a
 * --layer or --bind source overlapping `target`. */
static bool args_use(json_t *args, const char *target)
{
    size_t n = json_array_size(args);
    if (n == 0 || n > 4096)
        return false;
    char **argv = calloc(n + 2, sizeof *argv);
    if (argv == NULL)
        return false;
    argv[0] = "run";
    for (size_t i = 0; i < n; i++)
        argv[i + 1] = (char *)(json_string_value(json_array_get(args, i)) ?: "");
    bool used = false;
    struct cell_spec spec;
    struct cell_err err = {0};
    cell_spec_init(&spec);
    if (cell_spec_from_args((int)n + 1, argv, &spec, &err) > 0) {
        used = source_overlaps(spec.layer, target);
        for (size_t i = 0; !used && i < spec.nmounts; i++)
            used = spec.mounts[i].kind == CELL_MOUNT_BIND && source_overlaps(spec.mounts[i].source, target);
    } else { /* not parsed (a newer celld?): look at the arguments as they are */
        for (size_t i = 1; !used && i <= n && strcmp(argv[i], "--") != 0; i++) {
            const char *a = argv[i], *value = NULL;
            if ((strcmp(a, "--bind") == 0 || strcmp(a, "--layer") == 0) && i < n)
                value = argv[++i];
            else if (strncmp(a, "--bind=", 7) == 0 || strncmp(a, "--layer=", 8) == 0)
                value = strchr(a, '=') + 1;
            if (value) {
                char source[PATH_MAX];
                snprintf(source, sizeof source, "%.*s", (int)strcspn(value, ":"), value);
                used = source_overlaps(source, target);
            }
        }
    }
    cell_spec_free(&spec);
    free(argv);
    return used;
}

int cm_running_users(struct cm *cm, const char *cell, const char *path, char *names, size_t len, struct cell_err *err)
{
    bool celld_running;
    names[0] = '\0';
    json_t *cells = cm_celld_status(cm, &celld_running, err);
    if (cells && !celld_running && cm_cells_may_run(cm)) {
        /* celld ended with cells up: started, it takes them over and tells */
        json_decref(cells);
        json_t *answer = cm_celld_call(cm, json_pack("{s:s}", "op", "status"), true, err);
        cells = answer ? json_incref(json_object_get(answer, "cells")) : NULL;
        if (answer && cells == NULL)
            cells = json_array();
        json_decref(answer);
    }
    if (cells == NULL)
        return cell_err_prefix(err, "ask celld which cells run: ");
    char target[PATH_MAX] = "";
    if (path)
        canonical_path(path, target, sizeof target);
    int count = 0;
    size_t i;
    json_t *c;
    json_array_foreach(cells, i, c)
    {
        const char *name = json_string_value(json_object_get(c, "name"));
        if (name == NULL || !state_running(json_string_value(json_object_get(c, "state"))))
            continue;
        if ((cell && strcmp(name, cell) == 0) || (path && args_use(json_object_get(c, "args"), target))) {
            size_t used = strlen(names);
            snprintf(names + used, len - used, "%s%s", count ? ", " : "", name);
            count++;
        }
    }
    json_decref(cells);
    return count;
}

/* ---- the volume directory ----------------------------------------------------- */

static int volume_path(struct cm *cm, const char *name, char *out, size_t len, struct cell_err *err)
{
    if (!cell_name_valid(name))
        return cell_err_set(err, 0,
                            "volume \"%s\": not a valid name (use 1-63 letters, digits, '-', '_' or '.', starting "
                            "with a letter or digit)",
                            name);
    if (snprintf(out, len, "%s/%s", cm->volumes, name) >= (int)len)
        return cell_err_set(err, ENAMETOOLONG, "volume %s", name);
    return 0;
}

int volume_ensure(struct cm *cm, const char *name, unsigned mode, struct cell_err *err)
{
    char path[PATH_MAX];
    if (volume_path(cm, name, path, sizeof path, err) < 0)
        return -1;
    if (mode > 07777)
        return cell_err_set(err, 0, "volume %s: mode %o is not a file mode (at most 07777)", name, mode);
    if (cell_mkdirs(cm->volumes, 0755, err) < 0)
        return cell_err_prefix(err, "volume %s: ", name);
    if (mkdir(path, 0700) < 0 && errno != EEXIST)
        return cell_err_set(err, errno, "volume %s: make %s", name, path);
    cleanup_close int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && (errno == ENOTDIR || errno == ELOOP))
        return cell_err_set(err, 0, "volume %s: %s is not a directory (move it away)", name, path);
    if (fd < 0)
        return cell_err_set(err, errno, "volume %s: open %s", name, path);
    if (fchmod(fd, (mode_t)mode) < 0)
        return cell_err_set(err, errno, "volume %s: chmod %04o %s", name, mode, path);
    return 0;
}

/* ---- the commands ---------------------------------------------------------------- */

void cmd_volume_help(void)
{
    printf("usage: cell volume create NAME [--mode MODE]\n"
           "       cell volume remove NAME --yes\n"
           "       cell volume list [VIEW OPTIONS]\n"
           "       cell volume show NAME [VIEW OPTIONS]\n"
           "       cell volume backup create|list|restore|delete NAME [OPTIONS]\n"
           "\n"
           "A volume is a directory, DATA/volumes/NAME, that cells mount (the desired\n"
           "state's volumes, or cell run --bind DATA/volumes/NAME:/PATH:rw). DATA is\n"
           "/var/lib/cell, or ROOT/data with --root ROOT.\n"
           "\n"
           "  create   make volume NAME (an error when it exists)\n"
           "  remove   delete volume NAME and all its data; refused while a running\n"
           "           cell mounts it. A volume still declared in the desired state\n"
           "           comes back (empty) with the next cell apply.\n"
           "  list     the volumes: declared, present, mode (view options: see\n"
           "           cell list --help)\n"
           "  show     one volume, every field\n"
           "  backup   cell backup ... --volume (see cell backup --help)\n"
           "\n"
           "options:\n"
           "  --mode MODE   create: the directory's mode, octal (default 0755)\n"
           "  --yes         remove: really delete the data\n");
}

static int parse_mode(const char *text, unsigned *mode)
{
    char *end;
    if (text[0] < '0' || text[0] > '7')
        return -1;
    errno = 0;
    unsigned long v = strtoul(text, &end, 8);
    if (errno || *end || v > 07777)
        return -1;
    *mode = (unsigned)v;
    return 0;
}

static int volume_create(int argc, char **argv, struct cm *cm)
{
    const char *name = NULL;
    unsigned mode = 0755;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *value = NULL;
        if (strcmp(a, "--mode") == 0 && i + 1 < argc)
            value = argv[++i];
        else if (strncmp(a, "--mode=", 7) == 0)
            value = a + 7;
        if (value) {
            if (parse_mode(value, &mode) < 0) {
                cm_error("volume create: --mode \"%s\": not an octal file mode (like 0755, at most 07777)", value);
                return CM_USAGE;
            }
        } else if (a[0] == '-' || name) {
            cm_error("volume create: unexpected \"%s\" (see cell volume --help)", a);
            return CM_USAGE;
        } else {
            name = a;
        }
    }
    if (name == NULL) {
        cm_error("volume create: which volume? (cell volume create NAME)");
        return CM_USAGE;
    }
    struct cell_err err = {0};
    char path[PATH_MAX];
    if (volume_path(cm, name, path, sizeof path, &err) < 0) {
        cm_error("volume create: %s", err.msg);
        return CM_USAGE;
    }
    struct stat st;
    if (lstat(path, &st) == 0) {
        cm_error("volume create %s: it already exists (%s; cell volume remove %s --yes deletes it)", name, path, name);
        return CM_FAILED;
    }
    if (volume_ensure(cm, name, mode, &err) < 0) {
        cm_error("volume create %s: %s", name, err.msg);
        return CM_FAILED;
    }
    printf("created volume %s (%s, mode %04o)\n", name, path, mode);
    return CM_OK;
}

static int volume_remove(int argc, char **argv, struct cm *cm)
{
    const char *name = NULL;
    bool yes = false;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--yes") == 0) {
            yes = true;
        } else if (argv[i][0] == '-' || name) {
            cm_error("volume remove: unexpected \"%s\" (see cell volume --help)", argv[i]);
            return CM_USAGE;
        } else {
            name = argv[i];
        }
    }
    if (name == NULL) {
        cm_error("volume remove: which volume? (cell volume remove NAME --yes)");
        return CM_USAGE;
    }
    struct cell_err err = {0};
    char path[PATH_MAX];
    if (volume_path(cm, name, path, sizeof path, &err) < 0) {
        cm_error("volume remove: %s", err.msg);
        return CM_USAGE;
    }
    struct stat st;
    if (lstat(path, &st) < 0) {
        cm_error("volume remove %s: no such volume (%s: %s; cell volume list shows the volumes)", name, path,
                 strerror(errno));
        return CM_FAILED;
    }
    char users[1024];
    int n = cm_running_users(cm, NULL, path, users, sizeof users, &err);
    if (n < 0) {
        cm_error("volume remove %s: %s", name, err.msg);
        return CM_FAILED;
    }
    if (n > 0) {
        cm_error("volume remove %s: mounted by the running %s %s (cell stop %s first)", name, n == 1 ? "cell" : "cells",
                 users, n == 1 ? users : "them");
        return CM_FAILED;
    }
    if (!yes) {
        cm_error("volume remove %s: this deletes %s and all its data: add --yes to do it", name, path);
        return CM_USAGE;
    }
    if (cm_remove_tree(path, false, &err) < 0) {
        cm_error("volume remove %s: %s", name, err.msg);
        return CM_FAILED;
    }
    printf("removed volume %s\n", name);
    return CM_OK;
}

/* `cell volume backup ARGS...`: `cell backup ARGS... --volume` */
static int volume_backup(int argc, char **argv, struct cm *cm)
{
    char **args = calloc((size_t)argc + 1, sizeof *args);
    if (args == NULL) {
        cm_error("volume backup: out of memory");
        return CM_FAILED;
    }
    args[0] = "backup";
    for (int i = 2; i < argc; i++)
        args[i - 1] = argv[i];
    args[argc - 1] = "--volume";
    int rc = cmd_backup(argc, args, cm);
    free(args);
    return rc;
}

int cmd_volume(int argc, char **argv, struct cm *cm)
{
    const char *sub = argc > 1 ? argv[1] : NULL;
    if (sub == NULL) {
        cm_error("volume: which command? (create, remove, list, show or backup; see cell volume --help)");
        return CM_USAGE;
    }
    for (int i = 2; i < argc && strcmp(sub, "backup") != 0; i++)
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            cmd_volume_help();
            return CM_OK;
        }
    if (strcmp(sub, "create") == 0)
        return volume_create(argc, argv, cm);
    if (strcmp(sub, "remove") == 0 || strcmp(sub, "rm") == 0)
        return volume_remove(argc, argv, cm);
    if (strcmp(sub, "list") == 0)
        return views_volume_list(argc - 1, argv + 1, cm);
    if (strcmp(sub, "show") == 0)
        return views_volume_show(argc - 1, argv + 1, cm);
    if (strcmp(sub, "backup") == 0)
        return volume_backup(argc, argv, cm);
    cm_error("volume: unknown command \"%s\" (create, remove, list, show or backup; see cell volume --help)", sub);
    return CM_USAGE;
}
