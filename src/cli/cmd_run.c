/* cmd_run.c - `cell run [OPTIONS] -- CMD [ARGS...]`: run one command in a new
 * cell, pass its exit status through, and say why when cell ended it. */
#include "cli.h"

#include <stdio.h>

void cmd_run_help(void)
{
    printf("usage: cell run [OPTIONS] -- CMD [ARGS...]\n"
           "\n"
           "Run CMD in a new cell: new pid, mount, ipc, uts, net and cgroup namespaces,\n"
           "a read-only root, private /tmp, no network, no capabilities, the high seccomp\n"
           "profile, and exactly the declared environment. Waits for it and exits with its\n"
           "status (128+N if killed by signal N; 124 timeout; 125 setup error;\n"
           "126 not executable; 127 not found).\n"
           "\n"
           "filesystem:\n"
           "  --rootfs DIR           use DIR (read-only) instead of the host's system dirs\n"
           "  --layer DIR            overlay DIR/upper on the root: its files persist (cell apply\n"
           "                         writes them; the cell sees them read-only)\n"
           "  --bind SRC:DST[:ro|rw] bind host path SRC at DST (read-only unless :rw)\n"
           "  --tmpfs DST            a private writable tmpfs at DST\n"
           "  --cwd DIR              working directory inside the cell (default /)\n"
           "identity:\n"
           "  --name NAME            the cell's name (default: cell)\n"
           "  --hostname NAME        hostname inside the cell (default: the name)\n"
           "  --user UID[:GID]       run as UID and GID (default 0:0)\n"
           "  --group GID            add a supplementary group (repeatable; none by default)\n"
           "  --userns               also use a user namespace when run as root (cell uids\n"
           "                         0-65535 map to host 100000-165535)\n"
           "isolation:\n"
           "  --net none|host        none: only loopback (default); host: the host's network\n"
           "  --egress HOST:PORT[/udp]  allow connections to HOST:PORT only (repeatable; root):\n"
           "                         a veth link out, nftables rules in the cell's namespace\n"
           "  --egress-netns NAME    the link's other end in network namespace NAME (ip netns)\n"
           "  --profile high|medium|low  seccomp profile (default high)\n"
           "  --cap-add CAP          keep capability CAP (repeatable; all dropped otherwise)\n"
           "limits:\n"
           "  --memory SIZE          memory limit, e.g. 64M (cgroup)\n"
           "  --pids N               at most N processes (cgroup)\n"
           "  --cpus F               CPU bandwidth, e.g. 0.5 (cgroup)\n"
           "  --rlimit NAME=SOFT[:HARD]  nofile nproc as core cpu fsize stack memlock\n"
           "  --timeout SECONDS      kill the whole cell after SECONDS (exit 124)\n"
           "process:\n"
           "  --env K=V | K          set K (K alone: copy the caller's value)\n"
           "  --env-clear            start from an empty environment, not PATH and HOME\n"
           "  --preserve-fd N        pass fd N into the cell (nothing above 2 is otherwise)\n"
           "  -t, --tty              give the cell a terminal\n"
           "  -h, --help             show this help\n"
           "backend (cell bundle DIR [OPTIONS] -- CMD writes the same as a bundle):\n"
           "  --backend oci          let an OCI runtime run the cell, with the same isolation:\n"
           "                         a temporary bundle, RUNTIME run, its exit status, then\n"
           "                         nothing left (not with -d, --layer, --preserve-fd)\n"
           "  --oci-runtime R        runc (default), crun, runsc, or a runtime's path\n"
           "supervised (celld keeps the cell running; cell run returns once it started):\n"
           "  -d, --detach           hand the cell to celld (started if needed)\n"
           "  --restart POLICY       on-failure (default), always or never\n"
           "  --stop-timeout T       SIGKILL this long after SIGTERM on stop (default 5s)\n"
           "  --restart-delay T      wait after a quick death (default 1s), doubling ...\n"
           "  --restart-max-delay T  ... up to this (default 10s)\n"
           "  --stable-after T       a cell up this long is restarted at once (default 10s)\n"
           "  --backoff-reset T      up this long, the delay starts over (default 30s)\n"
           "  --crash-limit N        N exits within --crash-window (default 5 in 60s) ...\n"
           "  --crash-window T       ... mark the cell failed until cell start\n"
           "  --ttl T                stop the cell for good this long after it started\n"
           "  --health CMD           run CMD in the cell every --health-interval T (10s);\n"
           "                         --health-retries N failures (3) in a row: unhealthy,\n"
           "                         restarted; a check is killed after --health-timeout T\n"
           "  --listen[=PATH]        socket activation: celld listens, starts the cell on the\n"
           "                         first connection, passes the socket as fd 3 (LISTEN_FDS)\n"
           "  --listen-type stream|seqpacket  the socket's type (default stream; seqpacket\n"
           "                         for cell_listen() servers, cell/ipc.h)\n"
           "  --notify               ready once it writes a newline to $CELL_NOTIFY_FD\n"
           "  --no-autostart         cell up leaves this cell down\n"
           "  --syslog               also send output lines to syslog; --syslog-facility F\n"
           "                         (daemon), --syslog-levels OUT,ERR (info,err), --syslog-tag\n"
           "  (T: 1.5, 250ms, 2s, 1m)\n");
}

int cmd_run(int argc, char **argv, const struct cli_globals *g)
{
    struct cell_spec spec;
    struct cell_err err = {0};
    struct run_backend backend; /* --backend oci: cmd_bundle.c */
    if (run_backend_options(&argc, &argv, &backend, &err) < 0) {
        cli_error("%s", err.msg);
        return CELL_EXIT_SETUP;
    }
    cell_spec_init(&spec);
    int first = cell_spec_from_args(argc, argv, &spec, &err);
    if (first == 0) {
        cmd_run_help();
        cell_spec_free(&spec);
        return 0;
    }
    if (first < 0 || cell_spec_set_argv(&spec, argv + first, &err) < 0 || cell_spec_validate(&spec, &err) < 0) {
        cli_error("%s", err.msg);
        cell_spec_free(&spec);
        return CELL_EXIT_SETUP;
    }
    if (backend.oci) { /* another OCI runtime runs it */
        int code = cmd_run_oci(&spec, &backend, g);
        cell_spec_free(&spec);
        return code;
    }
    if (spec.supervise.detach) { /* checked here, started by celld */
        cell_spec_free(&spec);
        return cmd_run_detached(argc, argv, first, g);
    }
    struct cell_run_opts opts = {.root = g->root};
    struct cell_result result;
    if (cell_run(&spec, &opts, &result, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        cell_spec_free(&spec);
        return result.exit_code;
    }
    if (result.timed_out)
        fprintf(stderr, "cell %s: timed out after %us: killed\n", spec.name, spec.timeout_sec);
    else if (result.oom_killed) {
        char size[32];
        cell_format_size(spec.limits.memory_bytes, size, sizeof size);
        fprintf(stderr, "cell %s: killed: out of memory (limit %s)\n", spec.name, size);
    }
    cell_spec_free(&spec);
    return result.exit_code;
}
