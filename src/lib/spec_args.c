/* spec_args.c - the command-line front end: `cell run` flags into a struct
 * cell_spec. The CLI uses it for `cell run`, celld for the arguments a
 * client declares a supervised cell with. Values are parsed by libcell's
 * parsers and the whole spec is checked by cell_spec_validate(); what is
 * checked here is only what the flag syntax itself says (an explicit --pids 0
 * or --timeout 0 means nothing, as 0 is "none" in the spec; the fixed-size
 * group and fd lists; supervision flags without -d). */
#include "cell/cell.h"

#include <errno.h>
#include <stdbool.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <ctype.h>
#include <string.h>
#include <syslog.h>

enum {
    OPT_NAME = 256,
    OPT_ROOTFS,
    OPT_LAYER,
    OPT_BIND,
    OPT_TMPFS,
    OPT_NET,
    OPT_EGRESS,
    OPT_EGRESS_NETNS,
    OPT_USERNS,
    OPT_USER,
    OPT_GROUP,
    OPT_HOSTNAME,
    OPT_CAP_ADD,
    OPT_PROFILE,
    OPT_MEMORY,
    OPT_PIDS,
    OPT_CPUS,
    OPT_RLIMIT,
    OPT_ENV,
    OPT_ENV_CLEAR,
    OPT_CWD,
    OPT_PRESERVE_FD,
    OPT_TIMEOUT,
    /* supervision (-d) only, from here to OPT_SYSLOG_TAG */
    OPT_RESTART,
    OPT_STOP_TIMEOUT,
    OPT_RESTART_DELAY,
    OPT_RESTART_MAX_DELAY,
    OPT_STABLE_AFTER,
    OPT_BACKOFF_RESET,
    OPT_CRASH_LIMIT,
    OPT_CRASH_WINDOW,
    OPT_TTL,
    OPT_LISTEN,
    OPT_LISTEN_TYPE,
    OPT_HEALTH,
    OPT_HEALTH_INTERVAL,
    OPT_HEALTH_TIMEOUT,
    OPT_HEALTH_RETRIES,
    OPT_NOTIFY,
    OPT_NO_AUTOSTART,
    OPT_SYSLOG,
    OPT_SYSLOG_FACILITY,
    OPT_SYSLOG_LEVELS,
    OPT_SYSLOG_TAG,
};

static const struct option run_options[] = {
    {"name", required_argument, NULL, OPT_NAME},
    {"rootfs", required_argument, NULL, OPT_ROOTFS},
    {"layer", required_argument, NULL, OPT_LAYER},
    {"bind", required_argument, NULL, OPT_BIND},
    {"tmpfs", required_argument, NULL, OPT_TMPFS},
    {"net", required_argument, NULL, OPT_NET},
    {"egress", required_argument, NULL, OPT_EGRESS},
    {"egress-netns", required_argument, NULL, OPT_EGRESS_NETNS},
    {"userns", no_argument, NULL, OPT_USERNS},
    {"user", required_argument, NULL, OPT_USER},
    {"group", required_argument, NULL, OPT_GROUP},
    {"hostname", required_argument, NULL, OPT_HOSTNAME},
    {"cap-add", required_argument, NULL, OPT_CAP_ADD},
    {"profile", required_argument, NULL, OPT_PROFILE},
    {"memory", required_argument, NULL, OPT_MEMORY},
    {"pids", required_argument, NULL, OPT_PIDS},
    {"cpus", required_argument, NULL, OPT_CPUS},
    {"rlimit", required_argument, NULL, OPT_RLIMIT},
    {"env", required_argument, NULL, OPT_ENV},
    {"env-clear", no_argument, NULL, OPT_ENV_CLEAR},
    {"cwd", required_argument, NULL, OPT_CWD},
    {"preserve-fd", required_argument, NULL, OPT_PRESERVE_FD},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"tty", no_argument, NULL, 't'},
    {"detach", no_argument, NULL, 'd'},
    {"restart", required_argument, NULL, OPT_RESTART},
    {"stop-timeout", required_argument, NULL, OPT_STOP_TIMEOUT},
    {"restart-delay", required_argument, NULL, OPT_RESTART_DELAY},
    {"restart-max-delay", required_argument, NULL, OPT_RESTART_MAX_DELAY},
    {"stable-after", required_argument, NULL, OPT_STABLE_AFTER},
    {"backoff-reset", required_argument, NULL, OPT_BACKOFF_RESET},
    {"crash-limit", required_argument, NULL, OPT_CRASH_LIMIT},
    {"crash-window", required_argument, NULL, OPT_CRASH_WINDOW},
    {"ttl", required_argument, NULL, OPT_TTL},
    {"listen", optional_argument, NULL, OPT_LISTEN},
    {"listen-type", required_argument, NULL, OPT_LISTEN_TYPE},
    {"health", required_argument, NULL, OPT_HEALTH},
    {"health-interval", required_argument, NULL, OPT_HEALTH_INTERVAL},
    {"health-timeout", required_argument, NULL, OPT_HEALTH_TIMEOUT},
    {"health-retries", required_argument, NULL, OPT_HEALTH_RETRIES},
    {"notify", no_argument, NULL, OPT_NOTIFY},
    {"no-autostart", no_argument, NULL, OPT_NO_AUTOSTART},
    {"syslog", no_argument, NULL, OPT_SYSLOG},
    {"syslog-facility", required_argument, NULL, OPT_SYSLOG_FACILITY},
    {"syslog-levels", required_argument, NULL, OPT_SYSLOG_LEVELS},
    {"syslog-tag", required_argument, NULL, OPT_SYSLOG_TAG},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static const char *option_name(int val)
{
    for (const struct option *o = run_options; o->name; o++)
        if (o->val == val)
            return o->name;
    return "?";
}

/* --egress HOST:PORT[/tcp|/udp] */
static int add_egress(struct cell_spec *spec, const char *arg, struct cell_err *err)
{
    const char *colon = strrchr(arg, ':'), *slash = colon ? strchr(colon, '/') : NULL;
    char port_text[16];
    uint64_t port;
    if (colon == NULL || colon == arg || (size_t)(colon - arg) > 253)
        return cell_err_set(err, 0, "--egress \"%s\": expected HOST:PORT[/tcp|/udp]", arg);
    for (const char *p = arg; p < colon; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.')
            return cell_err_set(err, 0, "--egress \"%s\": \"%.*s\" is not a host name or IPv4 address", arg,
                                (int)(colon - arg), arg);
    snprintf(port_text, sizeof port_text, "%.*s", slash ? (int)(slash - colon - 1) : 15, colon + 1);
    if (cell_parse_uint(port_text, 65535, "--egress", &port, err) < 0 || port == 0)
        return cell_err_set(err, 0, "--egress \"%s\": the port is 1 to 65535", arg);
    if (slash && strcmp(slash, "/tcp") != 0 && strcmp(slash, "/udp") != 0)
        return cell_err_set(err, 0, "--egress \"%s\": the protocol is /tcp or /udp", arg);
    if (spec->negress >= 64)
        return cell_err_set(err, 0, "--egress: at most 64");
    struct cell_egress_rule *grown = realloc(spec->egress, (spec->negress + 1) * sizeof *grown);
    if (grown == NULL)
        return cell_err_set(err, ENOMEM, "--egress");
    spec->egress = grown;
    struct cell_egress_rule *r = &spec->egress[spec->negress];
    if ((r->host = strndup(arg, (size_t)(colon - arg))) == NULL)
        return cell_err_set(err, ENOMEM, "--egress");
    r->port = (uint16_t)port;
    snprintf(r->protocol, sizeof r->protocol, "%s", slash ? slash + 1 : "tcp");
    spec->negress++;
    return 0;
}

static int replace_string(char **slot, const char *value, struct cell_err *err)
{
    char *dup = strdup(value);
    if (dup == NULL)
        return cell_err_set(err, errno, "copy %s", value);
    free(*slot);
    *slot = dup;
    return 0;
}

/* --env K=V, or --env K to pass the caller's value of K. */
static int add_env_option(struct cell_spec *spec, const char *value, struct cell_err *err)
{
    if (strchr(value, '=') != NULL)
        return cell_spec_add_env(spec, value, err);
    const char *host = getenv(value);
    if (host == NULL)
        return cell_err_set(err, 0, "--env %s: not set in the caller's environment (use --env %s=VALUE)", value, value);
    char *kv = NULL;
    if (asprintf(&kv, "%s=%s", value, host) < 0)
        return cell_err_set(err, ENOMEM, "--env %s", value);
    int rc = cell_spec_add_env(spec, kv, err);
    free(kv);
    return rc;
}

struct syslog_name {
    const char *name;
    int value;
};
static const struct syslog_name facilities[] = {
    {"daemon", LOG_DAEMON},
    {"user", LOG_USER},
    {"local0", LOG_LOCAL0},
    {"local1", LOG_LOCAL1},
    {"local2", LOG_LOCAL2},
    {"local3", LOG_LOCAL3},
    {"local4", LOG_LOCAL4},
    {"local5", LOG_LOCAL5},
    {"local6", LOG_LOCAL6},
    {"local7", LOG_LOCAL7},
    {NULL, 0},
};
static const struct syslog_name levels[] = {
    {"emerg", LOG_EMERG},   {"alert", LOG_ALERT}, {"crit", LOG_CRIT},   {"err", LOG_ERR}, {"warning", LOG_WARNING},
    {"notice", LOG_NOTICE}, {"info", LOG_INFO},   {"debug", LOG_DEBUG}, {NULL, 0},
};

static int parse_syslog_name(const char *text, const struct syslog_name *names, const char *what, int *out,
                             struct cell_err *err)
{
    char list[160] = "";
    for (const struct syslog_name *n = names; n->name; n++) {
        if (strcmp(text, n->name) == 0) {
            *out = n->value;
            return 0;
        }
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", list[0] ? ", " : "", n->name);
    }
    return cell_err_set(err, 0, "%s \"%s\": not one of %s", what, text, list);
}

/* One option; `flag` is its spelling for messages. */
static int apply_option(struct cell_spec *spec, int opt, const char *arg, const char *flag, bool *env_clear,
                        char ***envs, size_t *nenvs, struct cell_err *err)
{
    uint64_t n;
    struct cell_mount m = {0};
    int rc = 0;
    switch (opt) {
    case OPT_NAME:
        return replace_string(&spec->name, arg, err);
    case OPT_ROOTFS:
        return replace_string(&spec->rootfs, arg, err);
    case OPT_LAYER:
        return replace_string(&spec->layer, arg, err);
    case OPT_HOSTNAME:
        return replace_string(&spec->hostname, arg, err);
    case OPT_CWD:
        return replace_string(&spec->cwd, arg, err);
    case OPT_BIND:
        if (cell_parse_bind(arg, &m, err) < 0)
            return -1;
        rc = cell_spec_add_mount(spec, &m, err);
        free(m.source);
        free(m.destination);
        return rc;
    case OPT_TMPFS:
        m.kind = CELL_MOUNT_TMPFS;
        m.destination = (char *)arg;
        m.writable = true;
        if (arg[0] != '/')
            return cell_err_set(err, 0, "--tmpfs \"%s\": not an absolute path", arg);
        return cell_spec_add_mount(spec, &m, err);
    case OPT_NET:
        return cell_parse_net(arg, &spec->net_mode, err);
    case OPT_EGRESS:
        return add_egress(spec, arg, err);
    case OPT_EGRESS_NETNS:
        if (arg[0] == '\0' || strlen(arg) > 63 || strchr(arg, '/'))
            return cell_err_set(err, 0, "--egress-netns \"%s\": the name of a network namespace (ip netns)", arg);
        return replace_string(&spec->egress_netns, arg, err);
    case OPT_USERNS:
        spec->ns.userns = true;
        return 0;
    case OPT_USER:
        return cell_parse_user(arg, &spec->uid, &spec->gid, err);
    case OPT_GROUP:
        if (spec->ngroups >= CELL_MAX_GROUPS)
            return cell_err_set(err, 0, "--group: at most %d groups", CELL_MAX_GROUPS);
        if (cell_parse_uint(arg, UINT32_MAX - 1, "--group", &n, err) < 0)
            return -1;
        spec->groups[spec->ngroups++] = (gid_t)n;
        return 0;
    case OPT_CAP_ADD: {
        int cap;
        if (cell_parse_capability(arg, &cap, err) < 0)
            return -1;
        spec->cap_add |= 1ULL << cap;
        return 0;
    }
    case OPT_PROFILE:
        return cell_parse_profile(arg, &spec->profile, err);
    case OPT_MEMORY:
        return cell_parse_size(arg, &spec->limits.memory_bytes, err);
    case OPT_PIDS:
        if (cell_parse_uint(arg, 4194304, "--pids", &spec->limits.pids, err) < 0)
            return -1;
        if (spec->limits.pids == 0)
            return cell_err_set(err, 0, "--pids 0: a cell needs at least one process");
        return 0;
    case OPT_CPUS:
        return cell_parse_cpus(arg, &spec->limits.cpu_millis, err);
    case OPT_RLIMIT: {
        enum cell_rlimit_name which;
        struct cell_rlimit rl;
        if (cell_parse_rlimit(arg, &which, &rl, err) < 0)
            return -1;
        spec->rlimits[which] = rl;
        return 0;
    }
    case OPT_ENV: {
        char **grown = realloc(*envs, (*nenvs + 1) * sizeof *grown);
        if (grown == NULL)
            return cell_err_set(err, errno, "--env");
        grown[(*nenvs)++] = (char *)arg;
        *envs = grown;
        return 0;
    }
    case OPT_ENV_CLEAR:
        *env_clear = true;
        return 0;
    case OPT_PRESERVE_FD:
        if (spec->npreserved_fds >= CELL_MAX_PRESERVED_FDS)
            return cell_err_set(err, 0, "--preserve-fd: at most %d", CELL_MAX_PRESERVED_FDS);
        if (cell_parse_uint(arg, 1 << 20, "--preserve-fd", &n, err) < 0)
            return -1;
        spec->preserved_fds[spec->npreserved_fds++] = (int)n;
        return 0;
    case OPT_TIMEOUT:
        if (cell_parse_uint(arg, 365u * 24 * 3600, "--timeout", &n, err) < 0)
            return -1;
        if (n == 0)
            return cell_err_set(err, 0, "--timeout 0: give a number of seconds above zero");
        spec->timeout_sec = (unsigned)n;
        return 0;
    case 't':
        spec->tty = true;
        return 0;
    case 'd':
        spec->supervise.detach = true;
        return 0;
    case OPT_RESTART:
        return cell_parse_restart(arg, &spec->supervise.restart, err);
    case OPT_STOP_TIMEOUT:
        return cell_parse_duration(arg, "--stop-timeout", &spec->supervise.stop_timeout_ms, err);
    case OPT_RESTART_DELAY:
        return cell_parse_duration(arg, "--restart-delay", &spec->supervise.restart_delay_ms, err);
    case OPT_RESTART_MAX_DELAY:
        return cell_parse_duration(arg, "--restart-max-delay", &spec->supervise.restart_max_delay_ms, err);
    case OPT_STABLE_AFTER:
        return cell_parse_duration(arg, "--stable-after", &spec->supervise.stable_after_ms, err);
    case OPT_BACKOFF_RESET:
        return cell_parse_duration(arg, "--backoff-reset", &spec->supervise.reset_after_ms, err);
    case OPT_CRASH_WINDOW:
        return cell_parse_duration(arg, "--crash-window", &spec->supervise.crash_window_ms, err);
    case OPT_HEALTH:
        if (arg[0] == '\0')
            return cell_err_set(err, 0, "--health: give a command");
        return replace_string(&spec->supervise.health, arg, err);
    case OPT_HEALTH_INTERVAL:
        if (cell_parse_duration(arg, "--health-interval", &spec->supervise.health_interval_ms, err) < 0)
            return -1;
        if (spec->supervise.health_interval_ms < 10)
            return cell_err_set(err, 0, "--health-interval %s: at least 10ms", arg);
        return 0;
    case OPT_HEALTH_TIMEOUT:
        if (cell_parse_duration(arg, "--health-timeout", &spec->supervise.health_timeout_ms, err) < 0)
            return -1;
        if (spec->supervise.health_timeout_ms < 1000)
            return cell_err_set(err, 0, "--health-timeout %s: at least 1s", arg);
        return 0;
    case OPT_HEALTH_RETRIES:
        if (cell_parse_uint(arg, 1000, "--health-retries", &n, err) < 0)
            return -1;
        if (n == 0)
            return cell_err_set(err, 0, "--health-retries 0: give a number above zero");
        spec->supervise.health_retries = (unsigned)n;
        return 0;
    case OPT_NOTIFY:
        spec->supervise.notify = true;
        return 0;
    case OPT_NO_AUTOSTART:
        spec->supervise.no_autostart = true;
        return 0;
    case OPT_SYSLOG:
        spec->supervise.syslog = true;
        return 0;
    case OPT_SYSLOG_FACILITY:
        spec->supervise.syslog = true;
        return parse_syslog_name(arg, facilities, "--syslog-facility", &spec->supervise.syslog_facility, err);
    case OPT_SYSLOG_LEVELS: {
        spec->supervise.syslog = true;
        char out[32], errl[32];
        const char *comma = strchr(arg, ',');
        if (comma == NULL || (size_t)(comma - arg) >= sizeof out || strlen(comma + 1) >= sizeof errl)
            return cell_err_set(err, 0, "--syslog-levels \"%s\": give STDOUT,STDERR levels, e.g. info,err", arg);
        snprintf(out, sizeof out, "%.*s", (int)(comma - arg), arg);
        snprintf(errl, sizeof errl, "%s", comma + 1);
        if (parse_syslog_name(out, levels, "--syslog-levels", &spec->supervise.syslog_stdout_level, err) < 0 ||
            parse_syslog_name(errl, levels, "--syslog-levels", &spec->supervise.syslog_stderr_level, err) < 0)
            return -1;
        return 0;
    }
    case OPT_SYSLOG_TAG:
        spec->supervise.syslog = true;
        if (arg[0] == '\0' || strlen(arg) > 32 || strpbrk(arg, " :[]"))
            return cell_err_set(err, 0, "--syslog-tag \"%s\": 1-32 characters, without spaces, : or []", arg);
        return replace_string(&spec->supervise.syslog_tag, arg, err);
    case OPT_LISTEN:
        spec->supervise.listen = true;
        if (arg == NULL)
            return 0;
        if (arg[0] != '/')
            return cell_err_set(err, 0, "--listen=%s: not an absolute path", arg);
        return replace_string(&spec->supervise.listen_path, arg, err);
    case OPT_LISTEN_TYPE:
        if (strcmp(arg, "stream") != 0 && strcmp(arg, "seqpacket") != 0)
            return cell_err_set(
                err, 0, "--listen-type \"%s\": give stream (the default) or seqpacket (for cell_listen servers)", arg);
        spec->supervise.listen_seqpacket = strcmp(arg, "seqpacket") == 0;
        return 0;
    case OPT_TTL:
        if (cell_parse_duration(arg, "--ttl", &spec->supervise.ttl_ms, err) < 0)
            return -1;
        if (spec->supervise.ttl_ms == 0)
            return cell_err_set(err, 0, "--ttl 0: give a lifetime above zero");
        return 0;
    case OPT_CRASH_LIMIT:
        if (cell_parse_uint(arg, 1000, "--crash-limit", &n, err) < 0)
            return -1;
        if (n == 0)
            return cell_err_set(err, 0, "--crash-limit 0: give a number of exits above zero");
        spec->supervise.crash_limit = (unsigned)n;
        return 0;
    }
    return cell_err_set(err, 0, "%s: not handled", flag);
}

/* Supervision flags mean something only for a supervised cell, and a
 * supervised cell has no terminal or caller to time it out. */
static int check_supervision_flags(const struct cell_spec *spec, const bool *seen, struct cell_err *err)
{
    if (!spec->supervise.detach) {
        /* the supervision options are the enum's range OPT_RESTART..OPT_SYSLOG_TAG */
        for (int opt = OPT_RESTART; opt <= OPT_SYSLOG_TAG; opt++)
            if (seen[opt])
                return cell_err_set(err, 0, "run: --%s: only for a supervised cell (add -d)", option_name(opt));
        return 0;
    }
    if (spec->tty)
        return cell_err_set(err, 0, "run: -d and --tty conflict: a supervised cell has no terminal");
    if (spec->timeout_sec)
        return cell_err_set(err, 0, "run: -d and --timeout conflict: celld stops a supervised cell (cell stop)");
    if (seen[OPT_LISTEN_TYPE] && !spec->supervise.listen)
        return cell_err_set(err, 0, "run: --listen-type: only with --listen (the socket celld passes as fd 3)");
    for (size_t i = 0; spec->supervise.listen && i < spec->npreserved_fds; i++)
        if (spec->preserved_fds[i] == 3)
            return cell_err_set(err, 0, "run: --listen and --preserve-fd 3 conflict: the socket is fd 3");
    if (spec->supervise.restart_max_delay_ms < spec->supervise.restart_delay_ms)
        return cell_err_set(err, 0, "run: --restart-max-delay is below --restart-delay");
    return 0;
}

int cell_spec_from_args(int argc, char **argv, struct cell_spec *spec, struct cell_err *err)
{
    bool seen[OPT_SYSLOG_TAG + 1] = {false};
    bool env_clear = false;
    char **envs = NULL;
    size_t nenvs = 0;
    int rc = -1;
    optind = 0; /* 0, not 1: glibc then resets all of getopt's state */
    opterr = 0;
    for (;;) {
        int before = optind ? optind : 1; /* optind 0 means "reset": argv[1] comes first */
        int opt = getopt_long(argc, argv, "+:thd", run_options, NULL);
        if (opt == -1)
            break;
        const char *flag = argv[before] ? argv[before] : "?";
        if (opt == 'h') {
            rc = 0;
            goto out;
        }
        if (opt == '?') {
            cell_err_set(err, 0, "run: unknown option \"%s\" (see cell run --help)", flag);
            goto out;
        }
        if (opt == ':') {
            cell_err_set(err, 0, "run: option \"%s\" needs a value (see cell run --help)", flag);
            goto out;
        }
        if (opt >= 0 && opt <= OPT_SYSLOG_TAG)
            seen[opt] = true;
        if (apply_option(spec, opt, optarg, flag, &env_clear, &envs, &nenvs, err) < 0) {
            if (strncmp(err->msg, "--", 2) != 0)
                cell_err_prefix(err, "run: --%s: ", option_name(opt));
            else
                cell_err_prefix(err, "run: ");
            goto out;
        }
    }
    if (check_supervision_flags(spec, seen, err) < 0)
        goto out;
    if (!env_clear && cell_spec_add_default_env(spec, err) < 0)
        goto out;
    for (size_t i = 0; i < nenvs; i++)
        if (add_env_option(spec, envs[i], err) < 0) {
            cell_err_prefix(err, "run: ");
            goto out;
        }
    if (optind >= argc) {
        cell_err_set(err, 0, "run: no command given: cell run [OPTIONS] -- CMD [ARGS...]");
        goto out;
    }
    rc = optind;
out:
    free(envs);
    return rc;
}
