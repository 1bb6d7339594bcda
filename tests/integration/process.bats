# process.bats - the workload's lifecycle as the user sees it: exit codes,
# signals both ways, reaping, killing `cell run`, timeouts, exec failures,
# hostname, network interfaces and the terminal.

load helpers

# cell_procs NAME PID: the processes in the cell's pids cgroup.
cell_procs() {
    local d
    for d in $(cell_cgroups "$1" "$2"); do
        cat "$d/cgroup.procs" 2>/dev/null
        find "$d" -mindepth 2 -name cgroup.procs -exec cat {} + 2>/dev/null
    done | sort -u
}

all_gone() {
    local p
    for p in "$@"; do
        [[ -e /proc/$p && -n $(tr -d '\0' <"/proc/$p/cmdline" 2>/dev/null) ]] && return 1
    done
    return 0
}

@test "exit codes pass through: 0, 3, 255" {
    for code in 0 3 255; do
        run_probe -- exit "$code"
        expect_status "$code"
        [[ -z $stderr ]] || { echo "unexpected stderr"; show; false; }
    done
    run_cell run -- /bin/true
    expect_status 0
    run_cell run -- /bin/false
    expect_status 1
}

@test "a workload killed by a signal exits with 128+N" {
    run_cell run -- /bin/sh -c 'kill -KILL $$'
    expect_status 137
    run_cell run -- /bin/sh -c 'kill -TERM $$'
    expect_status 143
}

@test "SIGTERM sent to cell run reaches the workload" {
    local out=$BATS_TEST_TMPDIR/out
    start_cell "$out" run --bind "$PROBE:/probe" -- /probe signal
    wait_until 20 grep -q '^ready$' "$out" || { cat "$out" "$out.err"; false; }
    kill -TERM "$CELL_PID"
    local status=0
    wait "$CELL_PID" || status=$?
    [[ $status -eq 42 ]] || { echo "status $status"; cat "$out" "$out.err"; false; }
    grep -q '^got SIGTERM$' "$out" || { cat "$out"; false; }
}

@test "SIGINT and SIGHUP sent to cell run reach the workload" {
    local out=$BATS_TEST_TMPDIR/out sig status
    for sig in INT HUP; do
        start_cell "$out" run --bind "$PROBE:/probe" -- /probe signal
        wait_until 20 grep -q '^ready$' "$out" || { cat "$out" "$out.err"; false; }
        kill -"$sig" "$CELL_PID"
        status=0
        wait "$CELL_PID" || status=$?
        [[ $status -eq 42 ]] || { echo "SIG$sig: status $status"; cat "$out" "$out.err"; false; }
        grep -q "^got SIG$sig\$" "$out" || { cat "$out"; false; }
    done
}

@test "orphaned zombies are reaped" {
    run_probe -- zombies 10
    expect_blocked
    expect_out "zombies: 0"
}

@test "killing cell run with SIGTERM kills the whole cell" {
    local out=$BATS_TEST_TMPDIR/out name=term$$
    start_cell "$out" run --name "$name" --pids 100 -- /bin/sh -c 'sleep 1000 & sleep 1000 & echo started; wait'
    wait_until 20 grep -q started "$out" || { cat "$out" "$out.err"; false; }
    local procs
    wait_until 10 test "$(cell_procs "$name" "$CELL_PID" | wc -l)" -ge 3
    procs=$(cell_procs "$name" "$CELL_PID")
    [[ -n $procs ]] || { echo "no cgroup/processes found for cell.$name.$CELL_PID"; false; }

    kill -TERM "$CELL_PID"
    wait "$CELL_PID" || true
    # shellcheck disable=SC2086
    wait_until 10 all_gone $procs || { echo "left: $procs"; ps -o pid,args -p "${procs//$'\n'/,}"; false; }
    wait_until 10 test -z "$(cell_cgroups "$name" "$CELL_PID")" || { cell_cgroups "$name"; false; }
}

@test "killing cell run with SIGKILL kills the whole cell" {
    local out=$BATS_TEST_TMPDIR/out name=kill$$
    start_cell "$out" run --name "$name" --pids 100 -- /bin/sh -c 'trap "" TERM; sleep 1000 & sleep 1000 & echo started; wait'
    wait_until 20 grep -q started "$out" || { cat "$out" "$out.err"; false; }
    local procs
    wait_until 10 test "$(cell_procs "$name" "$CELL_PID" | wc -l)" -ge 3
    procs=$(cell_procs "$name" "$CELL_PID")
    [[ -n $procs ]] || { echo "no cgroup/processes found for cell.$name.$CELL_PID"; false; }

    kill -KILL "$CELL_PID"
    wait "$CELL_PID" || true
    # the keeper cleans up: give it a moment
    # shellcheck disable=SC2086
    wait_until 10 all_gone $procs || { echo "left: $procs"; ps -o pid,args -p "${procs//$'\n'/,}"; false; }
    wait_until 10 test -z "$(cell_cgroups "$name" "$CELL_PID")" || { cell_cgroups "$name"; false; }
}

@test "--timeout kills the cell and exits 124" {
    run_cell run --timeout 1 -- sleep 30
    expect_status 124
    expect_err "cell cell: timed out after 1s"
}

@test "a workload that finishes before --timeout is unaffected" {
    run_probe --timeout 60 -- exit 7
    expect_status 7
    [[ $stderr != *"timed out"* ]] || { show; false; }
}

@test "command not found inside the cell exits 127 and names it" {
    run_cell -127 run -- no-such-command-xyz arg
    expect_status 127
    expect_err "no-such-command-xyz"
    expect_one_error_line

    run_cell -127 run -- /no/such/path
    expect_status 127
    expect_err "/no/such/path"
}

@test "a directory as the command exits 126" {
    run_cell run -- /usr
    expect_status 126
    expect_err "/usr"
    expect_one_error_line
}

@test "hostname defaults to the name and --hostname overrides it" {
    run_probe -- hostname
    expect_status 0
    [[ $output == cell ]] || { show; false; }

    run_probe --name web-1 -- hostname
    expect_status 0
    [[ $output == web-1 ]] || { show; false; }

    run_probe --name web-1 --hostname box.example -- hostname
    expect_status 0
    [[ $output == box.example ]] || { show; false; }
}

@test "--net none shows only lo, and it is up" {
    run_probe -- ifaces
    expect_status 0
    [[ $output == "lo up" ]] || { show; false; }

    run_probe --net none -- ifaces
    expect_status 0
    [[ $output == "lo up" ]] || { show; false; }

    # positive control: --net host shows the host's interfaces
    run_probe --net host -- ifaces
    expect_status 0
    [[ ${#lines[@]} -eq $(grep -c : /proc/net/dev) ]] || { show; false; }
}

@test "--cwd sets the working directory (default /)" {
    run_probe -- cwd
    expect_status 0
    [[ $output == / ]] || { show; false; }
    run_probe --cwd /tmp -- cwd
    expect_status 0
    [[ $output == /tmp ]] || { show; false; }
}

@test "stdin and stdout are relayed" {
    run --separate-stderr bash -c 'printf "one\ntwo\n" | { echo $BASHPID >>"$CELL_TEST_PIDS"; exec "$CELL" --root "$CELL_ROOT" run -- /bin/cat; }'
    expect_status 0
    [[ $output == $'one\ntwo' ]] || { show; false; }
}

@test "--tty gives the workload a terminal and relays its output" {
    local out=$BATS_TEST_TMPDIR/tty.out
    # script(1) gives cell a real terminal; its own stdin is /dev/null
    run script -qec "echo \$\$ >>'$CELL_TEST_PIDS'; exec '$CELL' --root '$CELL_ROOT' run -t -- /bin/sh -c 'tty; echo relayed-through-pty; exit 5'" "$out" </dev/null
    [[ $status -eq 5 ]] || { echo "status $status"; cat -A "$out"; false; }
    # script(1) passes its stdin's end on as an EOF character, a NUL when its
    # stdin is no terminal; the workload's terminal may echo it first
    # (not `tr | grep -q`: grep may leave before tr is done, and pipefail
    # then fails the test on tr's SIGPIPE)
    tr -d '\000' <"$out" >"$out.clean"
    grep -q '^/dev/pts/[0-9]*' "$out.clean" || { cat -A "$out"; false; }
    grep -q 'relayed-through-pty' "$out" || { cat -A "$out"; false; }

    # control: without -t the workload has no terminal
    run_cell run -- /bin/sh -c 'tty || true'
    [[ $output == "not a tty" ]] || { show; false; }
}

# tmux_wait SESSION TEXT: poll the pane until it shows TEXT.
tmux_wait() {
    wait_until 20 eval "tmux -L '$TMUX_SOCKET' capture-pane -p -t '$1' | grep -qF -- '$2'"
}

@test "--tty under a real terminal (tmux): interactive input, window size, exit status" {
    command -v tmux >/dev/null || skip "tmux is not installed"
    TMUX_SOCKET=cell-test-$$-$RANDOM
    local done=$BATS_TEST_TMPDIR/tty.status
    tmux -L "$TMUX_SOCKET" -f /dev/null new-session -d -s cell -x 100 -y 30 \
        "echo \$\$ >>'$CELL_TEST_PIDS'; CELL_TEST_ID='$CELL_TEST_ID' '$CELL' --root '$CELL_ROOT' run -t -- /bin/sh -c 'stty size; printf \"name? \"; read n; echo \"hello, \$n\"; exit 7'; echo \$? >'$done'; sleep 600"
    tmux_wait cell "name?" || { tmux -L "$TMUX_SOCKET" capture-pane -p -t cell; tmux -L "$TMUX_SOCKET" kill-server; false; }
    tmux -L "$TMUX_SOCKET" send-keys -t cell "cell-user" Enter
    wait_until 20 test -s "$done"
    local pane
    pane=$(tmux -L "$TMUX_SOCKET" capture-pane -p -t cell)
    tmux -L "$TMUX_SOCKET" kill-server
    [[ $pane == *"30 100"* ]] || { echo "window size not passed: $pane"; false; }
    [[ $pane == *"hello, cell-user"* ]] || { echo "input not relayed: $pane"; false; }
    [[ $(cat "$done") == 7 ]] || { echo "exit status $(cat "$done")"; false; }
}
