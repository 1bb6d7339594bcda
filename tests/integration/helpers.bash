# helpers.bash - shared by cell's integration tests: where cell and the probe
# are, run_cell/run_probe, and a setup/teardown pair that fails the test when
# a cell leaves anything behind (cgroup directories, processes, mounts, files).
# shellcheck disable=SC2034,SC2154,SC2001
# shellcheck shell=bash

bats_require_minimum_version 1.5.0

REPO=${REPO:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
CELL=${CELL:-$REPO/build/cell}
PROBE=${PROBE:-$REPO/build/tests/cell-probe}
export REPO CELL PROBE

# The uid/gid rootless tests run as.
NOBODY=65534

# How long cleanup checks wait for a cell to disappear (polling, not a
# time assertion: a cell that is gone earlier passes earlier).
CLEANUP_WAIT=${CLEANUP_WAIT:-10}

# ---- running cell -----------------------------------------------------------

# tracked CMD...: exec CMD after recording its pid (= the pid of `cell run`
# when CMD is cell, or setpriv exec'ing cell) in $CELL_TEST_PIDS, so teardown
# can tell this test's cells (cgroups cell.NAME.PID) from anybody else's.
tracked() {
    echo "$BASHPID" >>"$CELL_TEST_PIDS"
    export CELL_TEST_ID # only here: the test shell's own children stay unmarked
    exec "$@"
}

# run_cell [-N] ARGS... : `run` cell with --root $CELL_ROOT and stdout/stderr
# apart ($output / $stderr, $lines / $stderr_lines). -N (e.g. -127) is passed
# to bats' run: the expected status.
run_cell() {
    local flags=(--separate-stderr)
    if [[ ${1:-} =~ ^-[0-9]+$ ]]; then
        flags+=("$1")
        shift
    fi
    run "${flags[@]}" tracked "$CELL" --root "$CELL_ROOT" "$@"
}

# probe_with RUNNER [CELL RUN OPTIONS...] -- PROBE ARGS...
# runs `RUNNER run --bind $PROBE:/probe [opts] -- /probe ARGS...`.
probe_with() {
    local runner=$1 opts=()
    shift
    while [[ $# -gt 0 && $1 != -- ]]; do
        opts+=("$1")
        shift
    done
    [[ ${1:-} == -- ]] && shift
    "$runner" run --bind "$PROBE:/probe" "${opts[@]}" -- /probe "$@"
}

# run_probe [CELL RUN OPTIONS...] -- PROBE ARGS...: the probe in a cell.
run_probe() {
    probe_with run_cell "$@"
}

# start_cell OUTFILE ARGS...: `cell ARGS...` in the background (with default
# SIGINT/SIGQUIT dispositions, as in a terminal), stdout to OUTFILE, stderr to
# OUTFILE.err. Sets CELL_PID.
start_cell() {
    local out=$1
    shift
    (
        trap - INT QUIT
        tracked "$CELL" --root "$CELL_ROOT" "$@"
    ) >"$out" 2>"$out.err" </dev/null 3>&- &
    CELL_PID=$!
    track_pid "$CELL_PID"
}

# show: print what the last `run` produced (shown by bats when a test fails).
show() {
    echo "# status: $status"
    echo "# stdout:"
    printf '#   %s\n' "${lines[@]}"
    echo "# stderr:"
    printf '#   %s\n' "${stderr_lines[@]}"
}

# expect_status N: the last run exited with N (prints everything otherwise).
expect_status() {
    if [[ $status -ne $1 ]]; then
        echo "expected exit status $1, got $status"
        show
        return 1
    fi
}

# expect_out PATTERN / expect_err PATTERN: stdout/stderr contain the fixed string.
expect_out() {
    if [[ $output != *"$1"* ]]; then
        echo "expected stdout to contain: $1"
        show
        return 1
    fi
}
expect_err() {
    if [[ $stderr != *"$1"* ]]; then
        echo "expected stderr to contain: $1"
        show
        return 1
    fi
}
refute_out() {
    if [[ $output == *"$1"* ]]; then
        echo "expected stdout NOT to contain: $1"
        show
        return 1
    fi
}

# expect_blocked: the probe exited 0, said BLOCKED, and nothing ESCAPED.
expect_blocked() {
    expect_status 0 || return 1
    expect_out "BLOCKED: " || return 1
    refute_out "ESCAPED: " || return 1
}

# expect_escaped: a positive control: the probe got through (exit 1, ESCAPED).
expect_escaped() {
    expect_status 1 || return 1
    expect_out "ESCAPED: " || return 1
}

# expect_one_error_line: exactly one stderr line, starting with "cell: " or "cell NAME: ".
expect_one_error_line() {
    if [[ ${#stderr_lines[@]} -ne 1 ]]; then
        echo "expected exactly one line on stderr, got ${#stderr_lines[@]}"
        show
        return 1
    fi
    if [[ ! ${stderr_lines[0]} =~ ^cell(\ [A-Za-z0-9][A-Za-z0-9_.-]*)?:\  ]]; then
        echo "expected the error line to start with 'cell: ' or 'cell NAME: '"
        show
        return 1
    fi
}

# ---- host helpers -----------------------------------------------------------

# track_pid PID: a host process this test started; teardown kills it.
track_pid() {
    echo "$1" >>"$BATS_TEST_TMPDIR/.host-pids"
}

# free_port: a TCP port on 127.0.0.1 that can be bound now. Chosen below the
# kernel's ephemeral range, so no outgoing connection takes it meanwhile (a
# port merely free of listeners could be a client's local port: binding it
# then fails with "Address already in use").
free_port() {
    local port low high from=10000 count
    read -r low high </proc/sys/net/ipv4/ip_local_port_range
    count=$((low - from))
    if ((count < 1000)); then # an unusual range: above it, or anywhere
        from=$((high < 64000 ? high + 1 : 10000))
        count=$((high < 64000 ? 65535 - high : 55000))
    fi
    for _ in $(seq 1 200); do
        port=$((from + RANDOM % count))
        if python3 -c 'import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))' "$port" 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    return 1
}

# start_listener PORT: a TCP listener on 127.0.0.1:PORT (killed in teardown).
# Sets LISTENER_PID.
start_listener() {
    local port=$1 py
    py=$(command -v /usr/bin/python3 || command -v python3)
    "$py" -m http.server --bind 127.0.0.1 "$port" >/dev/null 2>&1 3>&- &
    LISTENER_PID=$!
    track_pid "$LISTENER_PID"
    for _ in $(seq 1 100); do
        if (exec 9<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    echo "listener on 127.0.0.1:$port did not come up"
    return 1
}

# cell_cgroups NAME [PID]: the cgroup directories of cell NAME (of the `cell run`
# process PID when given), in every hierarchy.
cell_cgroups() {
    find /sys/fs/cgroup -maxdepth 8 -type d -name "cell.$1.${2:-*}" 2>/dev/null
}

# wait_until SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
wait_until() {
    local limit=$1
    shift
    local i
    for ((i = 0; i < limit * 10; i++)); do
        "$@" && return 0
        sleep 0.1
    done
    "$@"
}

# A world-readable/writable temp dir (for rootless runs: BATS_TEST_TMPDIR sits
# in a 0700 directory). Removed by teardown.
world_tmpdir() {
    local d
    d=$(mktemp -d /tmp/cell-test.XXXXXX)
    chmod 0777 "$d"
    echo "$d" >>"$BATS_TEST_TMPDIR/.world-dirs"
    echo "$d"
}

# ---- celld ---------------------------------------------------------------------

# celld_stop [LOG...]: what a test that used celld does before the residue
# check. celld's pid is recorded, so the check covers its cells' cgroups
# (named cell.NAME.<celld pid>); `cell down` stops the cells and celld; under
# `make asan` celld is sanitized, so its log (and each LOG given) must hold
# no report. celld's own files go: logs, events, declarations (tests check
# them), and apply's: cell layers, volumes, backups, and the test's etc/. The oldest match is celld (its NATS publisher has its command line).
celld_stop() {
    local pid log
    pid=$(pgrep -o -f "celld --root $CELL_ROOT" || true)
    [[ -n $pid ]] && echo "$pid" >>"$CELL_TEST_PIDS"
    "$CELL" --root "$CELL_ROOT" down >/dev/null 2>&1 || true
    for log in "$CELL_ROOT/data/logs/celld.log" "$@"; do
        if grep -q -e "AddressSanitizer" -e "runtime error:" "$log" 2>/dev/null; then
            cat "$log"
            return 1
        fi
    done
    rm -rf "$CELL_ROOT/data/logs" "$CELL_ROOT/data/events.jsonl" "$CELL_ROOT/data/cells"
    # what cell apply keeps on purpose (volumes, backups) and the desired
    # state the test wrote
    rm -rf "$CELL_ROOT/data/volumes" "$CELL_ROOT/data/backups" "$CELL_ROOT/etc"
    [[ -S $CELL_ROOT/run/celld.sock ]] && {
        echo "residue: celld.sock"
        return 1
    }
    rmdir "$CELL_ROOT/run" "$CELL_ROOT/data" 2>/dev/null || true
}

# celld_teardown [LOG...]: celld_stop, then the residue check.
celld_teardown() {
    local failed=0
    celld_stop "$@" || failed=1
    _residue_teardown || failed=1
    return "$failed"
}

# ---- a private nats-server (nats.bats, job_nats.bats) -----------------------
# The test's setup sets NATS_STORE and NATS_LOG (in its temp dir).

# start_nats [--no-js]: nats-server on 127.0.0.1:$NATS_PORT (a free port,
# chosen at the first start; a restart reuses it and the store), with
# JetStream unless --no-js. Waits until it is ready. Sets NATS_PID, NATS_URL.
start_nats() {
    local js=(-js -sd "$NATS_STORE")
    [[ ${1:-} == --no-js ]] && js=()
    NATS_PORT=${NATS_PORT:-$(free_port)}
    NATS_URL=nats://127.0.0.1:$NATS_PORT
    : >"$NATS_LOG"
    nats-server "${js[@]}" -a 127.0.0.1 -p "$NATS_PORT" >"$NATS_LOG" 2>&1 </dev/null 3>&- &
    NATS_PID=$!
    track_pid "$NATS_PID"
    wait_until 20 grep -q "Server is ready" "$NATS_LOG" || { cat "$NATS_LOG"; return 1; }
}

# stop_nats [SIGNAL]: stop our nats-server (by pid) and wait until it is gone.
stop_nats() {
    [[ -n ${NATS_PID:-} ]] || return 0
    kill "-${1:-TERM}" "$NATS_PID" 2>/dev/null || true
    wait "$NATS_PID" 2>/dev/null || true
    NATS_PID=
}

# ---- residue snapshot / check -----------------------------------------------
#
# A process is this test's only when it started after the test's setup AND
# either its environment carries this test's unique $CELL_TEST_ID (every
# `cell run` and celld, and anything they fork, inherits it), or it sits in
# one of this test's cgroups, or the init of its pid namespace (or that
# init's parent) is marked or in such a cgroup. A bare pid is never trusted:
# pids are reused, and the machine running the tests (a CI harness, say) has
# processes of its own that teardown must never touch.

# _now_ticks: the current time in clock ticks since boot (as /proc/PID/stat's
# starttime): the start time of the awk that reads it.
_now_ticks() {
    awk '{print $22}' /proc/self/stat
}

# _proc_table: "pid ppid pidns nspid-innermost marker(0/1) starttime cmdline"
# per process (one python3 pass over /proc: a fork per field per process
# made every residue poll take a third of a second).
_proc_table() {
    python3 - "$CELL_TEST_ID" <<'PY'
import os, sys
marker = b"CELL_TEST_ID=" + sys.argv[1].encode()
for p in os.listdir("/proc"):
    if not p.isdigit():
        continue
    d = "/proc/" + p
    try:
        ns = os.readlink(d + "/ns/pid")
        with open(d + "/status") as f:
            st = dict(l.split(":", 1) for l in f if ":" in l)
        with open(d + "/stat") as f:
            start = f.read().rsplit(") ", 1)[1].split()[19]
        with open(d + "/cmdline", "rb") as f:
            cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        try:
            with open(d + "/environ", "rb") as f:
                mark = int(marker in f.read().split(b"\0"))
        except OSError:
            mark = 0
    except (OSError, IndexError):
        continue  # gone, or not readable
    if not cmd:
        continue  # kernel thread, or exiting
    ppid = st.get("PPid", "0").strip()
    nspid = (st.get("NSpid", "0").split() or ["0"])[-1]
    print(p, ppid, ns, nspid, mark, start, cmd)
PY
}

_cell_cgroup_dirs() {
    find /sys/fs/cgroup -maxdepth 8 -type d -name 'cell.*' 2>/dev/null | sort
}

# Cgroup dirs created since setup by this test's cells.
_new_cgroups() {
    local d
    _cell_cgroup_dirs | comm -13 "$BATS_TEST_TMPDIR/.cgroups-before" - | while read -r d; do
        grep -qx "${d##*.}" "$CELL_TEST_PIDS" 2>/dev/null && echo "$d"
    done
}

# Processes of this test's cells still alive: "pid cmdline".
_new_processes() {
    local table cg since
    table=$(_proc_table)
    since=$(cat "$BATS_TEST_TMPDIR/.since" 2>/dev/null || echo 0)
    cg=$(for d in $(_new_cgroups); do cat "$d/cgroup.procs" 2>/dev/null; done)
    awk -v self="$$" -v cg="$cg" -v since="$since" '
        BEGIN { n = split(cg, b, "\n"); for (i = 1; i <= n; i++) if (b[i] != "") incg[b[i]] = 1 }
        { pid[NR] = $1; ppid[$1] = $2; ns[$1] = $3; nsp[$1] = $4; mark[$1] = $5; start[$1] = $6
          line = $0; for (i = 1; i <= 6; i++) sub(/^[^ ]* /, "", line); cmd[$1] = line
          if ($4 == 1) init[$3] = $1 }
        END {
          for (i = 1; i <= NR; i++) {
            p = pid[i]
            if (p == self || start[p] + 0 < since + 0) continue
            q = init[ns[p]]
            if (mark[p] || (p in incg) ||
                (q != "" && q != 1 && (mark[q] || (q in incg) || mark[ppid[q]])))
              print p, cmd[p]
          }
        }' <<<"$table"
}

_no_new_cgroups() { [[ -z $(_new_cgroups) ]]; }
_no_new_processes() { [[ -z $(_new_processes) ]]; }

_cell_mounts() {
    grep -F -e "$CELL_ROOT" -e "$BATS_TEST_TMPDIR" /proc/self/mountinfo 2>/dev/null
}

# _common_setup: what every test file's setup does first.
_common_setup() {
    CELL_TEST_ID="cell-test-$$-${BATS_TEST_NUMBER:-0}-$RANDOM$RANDOM"
    _now_ticks >"$BATS_TEST_TMPDIR/.since"
    export CELL_TEST_PIDS=$BATS_TEST_TMPDIR/.cell-pids
    export CELL_ROOT=$BATS_TEST_TMPDIR/root
    mkdir -p "$CELL_ROOT"
    : >"$CELL_TEST_PIDS"
    : >"$BATS_TEST_TMPDIR/.host-pids"
    : >"$BATS_TEST_TMPDIR/.world-dirs"
    _cell_cgroup_dirs >"$BATS_TEST_TMPDIR/.cgroups-before"
    [[ -x $CELL ]] || {
        echo "cell binary not found at $CELL (build it first)"
        return 1
    }
    [[ -x $PROBE ]] || {
        echo "probe not found at $PROBE (build it first)"
        return 1
    }
}

setup() {
    _common_setup
}

teardown() {
    _residue_teardown
}

# The residue check every test file's teardown ends with.
_residue_teardown() {
    local failed=0 p leftover

    # Host helpers this test started (listeners, background cells), by pid.
    while read -r p; do
        [[ -n $p ]] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
    done <"$BATS_TEST_TMPDIR/.host-pids"

    # 1. processes (the keeper may need a moment after a SIGKILLed `cell run`)
    if ! wait_until "$CLEANUP_WAIT" _no_new_processes; then
        echo "residue: processes left behind:"
        _new_processes | sed 's/^/  /'
        for p in $(_new_processes | awk '{print $1}'); do kill -KILL "$p" 2>/dev/null; done
        failed=1
    fi

    # 2. cgroup directories
    if ! wait_until "$CLEANUP_WAIT" _no_new_cgroups; then
        echo "residue: cgroup directories left behind:"
        _new_cgroups | sed 's/^/  /'
        failed=1
    fi

    # 3. mounts on the host referring to the cell's root or our temp dir
    leftover=$(_cell_mounts)
    if [[ -n $leftover ]]; then
        echo "residue: mounts left behind:"
        echo "$leftover" | sed 's/^/  /'
        failed=1
    fi

    # 4. files in the cell root directory
    leftover=$(find "$CELL_ROOT" -mindepth 1 ! -type d 2>/dev/null)
    if [[ -n $leftover ]]; then
        echo "residue: files left in $CELL_ROOT:"
        echo "$leftover" | sed 's/^/  /'
        failed=1
    fi

    while read -r p; do
        [[ -n $p && $p == /tmp/cell-test.* ]] && rm -rf "$p"
    done <"$BATS_TEST_TMPDIR/.world-dirs"

    return "$failed"
}
