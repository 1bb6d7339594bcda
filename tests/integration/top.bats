# top.bats - `cell top`, the live view, run for real in a terminal (tmux, on
# a private server per test): the cells appear with state and restarts; keys
# stop, start and restart the selected cell and show its logs; a slow stop
# does not freeze the screen; resize, a too-small terminal, no cells and
# celld going away are shown; q exits 0 and restores the terminal. Also
# `cell top -n` (frames as text) and the errors without celld or a terminal.

load helpers

setup() {
    _common_setup
    TMUX_SOCKET=cell-top-$$-$RANDOM
    # the private server's socket goes in the test's own directory, so it
    # goes away with it (tmux leaves it behind after kill-server)
    export TMUX_TMPDIR=$BATS_TEST_TMPDIR
    TOP_STATUS=$BATS_TEST_TMPDIR/top.status
}

# The tmux server goes first (its panes' processes, our `cell top`, get
# SIGHUP); then celld, stopped with `cell down`, as in celld.bats.
teardown() {
    tmux -L "$TMUX_SOCKET" kill-server 2>/dev/null || true
    celld_teardown
}

# c ARGS...: `cell --root $CELL_ROOT ARGS...`, tracked
c() {
    (tracked "$CELL" --root "$CELL_ROOT" "$@")
}

field_of() {
    "$CELL" --root "$CELL_ROOT" status --json "$1" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)[0][sys.argv[1]])' "$2"
}

tm() {
    tmux -L "$TMUX_SOCKET" "$@"
}

# start_top [VAR=VALUE...] [-- TOP ARGS...]: `cell top` in the 100x30 pane of
# a new tmux session "top". The pane stays when top exits (remain-on-exit);
# the shell then writes top's exit status to $TOP_STATUS and whether the
# terminal settings are as before to $TOP_STATUS.stty. Everything in the pane
# carries this test's marker, so the residue check sees it; the server's pid
# is tracked, so teardown kills it even when kill-server is never reached.
start_top() {
    local envs=() args=()
    while [[ $# -gt 0 && $1 != -- ]]; do
        envs+=("$1")
        shift
    done
    [[ ${1:-} == -- ]] && shift
    args=("$@")
    local conf=$BATS_TEST_TMPDIR/tmux.conf
    echo "set -g remain-on-exit on" >"$conf"
    rm -f "$TOP_STATUS" "$TOP_STATUS.stty"
    tm -f "$conf" new-session -d -s top -x 100 -y 30 \
        "export CELL_TEST_ID='$CELL_TEST_ID'; before=\$(stty -g); echo 'before cell top'; ${envs[*]} '$CELL' --root '$CELL_ROOT' top ${args[*]}; echo \$? >'$TOP_STATUS.tmp'; [ \"\$(stty -g)\" = \"\$before\" ] && echo same >'$TOP_STATUS.stty'; mv '$TOP_STATUS.tmp' '$TOP_STATUS'" 3>&-
    track_pid "$(tm display-message -p '#{pid}')"
}

# The pane's lines, wrapped ones joined, with its history: once the pane's
# command has exited, tmux scrolls the screen up a line to say so.
_pane_matches() {
    tm capture-pane -p -J -S - -t top | grep -qE -- "$1"
}

_pane_lacks() {
    ! _pane_matches "$1"
}

# shows REGEX: wait until a line of the screen matches REGEX (grep -E).
shows() {
    wait_until 20 _pane_matches "$1" && return 0
    echo "the screen never showed /$1/; it shows:"
    tm capture-pane -p -t top
    return 1
}

# top_exited N: wait for top to exit, with status N.
top_exited() {
    wait_until 20 test -s "$TOP_STATUS" || {
        echo "cell top did not exit; the screen:"
        tm capture-pane -p -t top
        return 1
    }
    [[ $(cat "$TOP_STATUS") == "$1" ]] || {
        echo "cell top exited $(cat "$TOP_STATUS"), not $1; the screen:"
        tm capture-pane -p -t top
        return 1
    }
}

# a cell's row: NAME STATE HEALTH CPU% MEM RESTARTS UPTIME
row() {
    echo "^$1 +$2 +[a-z]+ +[-0-9.]+ +[-0-9.]+[BKMGT]? +$3 +[-0-9dhms]+ *\$"
}

@test "top: shows the cells; S, s, r and l act on the selected one; q exits 0 and restores the terminal" {
    c run -d --name alpha -- /bin/sh -c 'echo alpha says hi; exec sleep 1000'
    c run -d --name beta -- /bin/sh -c 'echo beta was here; exec sleep 1000'
    # exits at once, twice restarted, failed at the third exit
    c run -d --name crashy --restart-delay 100ms --crash-limit 3 -- /bin/sh -c 'exit 3'
    start_top
    shows "$(row alpha running 0)"
    shows "$(row beta running 0)"
    shows "$(row crashy failed 2)"
    shows '^NAME +STATE +HEALTH +CPU% +MEM +RESTARTS +UPTIME'
    shows "^cell top - .* - root $CELL_ROOT - 3 cells: 2 running, 1 failed"
    shows 's start +S/x stop +r restart +l logs +q quit'

    # the cells are sorted by name and alpha is selected: j selects beta
    tm send-keys -t top j S
    shows "$(row beta exited 0)"
    shows "^stopped beta \(state: exited\)"
    [[ $(field_of beta state) == exited ]]
    [[ $(field_of alpha state) == running ]]

    tm send-keys -t top s
    shows "$(row beta running 0)"
    shows "^started beta \(state: running\)"
    [[ $(field_of beta state) == running ]]

    local pid
    pid=$(field_of beta pid)
    tm send-keys -t top r
    shows "^restarted beta \(state: running\)"
    [[ $(field_of beta pid) != "$pid" && $(field_of beta state) == running ]]

    # x stops too; k goes back up to alpha
    tm send-keys -t top k x
    shows "$(row alpha exited 0)"
    [[ $(field_of alpha state) == exited ]]

    # l: the selected cell's last log lines, until a key
    tm send-keys -t top j l
    shows "^logs of beta"
    shows "stdout: beta was here"
    tm send-keys -t top Space
    shows "$(row beta running 0)"

    tm send-keys -t top q
    top_exited 0
    [[ -s $TOP_STATUS.stty ]] || { echo "the terminal settings were not restored"; false; }
    # the screen top drew is gone: the shell's own screen is back (tmux may
    # still be reading what top wrote last when the status file appears)
    shows '^before cell top'
    wait_until 20 _pane_lacks '^NAME +STATE' || { tm capture-pane -p -t top; false; }
}

@test "top: a stop that takes seconds does not freeze the screen" {
    c run -d --name stubborn --stop-timeout 4s -- /bin/sh -c 'trap "" TERM; while :; do sleep 0.1; done'
    c run -d --name other -- /bin/sleep 1000
    start_top
    shows "$(row stubborn running 0)"
    tm send-keys -t top j S # `other` comes first
    shows "^stopping stubborn \.\.\."
    # while celld has not answered, the view keeps polling: it shows the state
    shows "$(row stubborn stopping 0)"
    # and keys still work: k selects `other`, l shows its logs (none), a key returns
    tm send-keys -t top k l
    shows "^logs of other"
    shows "no output yet"
    tm send-keys -t top Space
    shows "$(row other running 0)"
    # then the answer comes: SIGKILL after the stop timeout
    shows "^stopped stubborn \(state: exited\)"
    shows "$(row stubborn exited 0)"
    tm send-keys -t top q
    top_exited 0
}

@test "top: resize, a too-small terminal, no cells, and celld going away and back" {
    c run -d --name solo -- /bin/sleep 1000
    start_top
    shows "$(row solo running 0)"
    tm resize-window -t top -x 40 -y 5
    shows "^terminal too small: 40x5"
    shows "^cell top needs [0-9]+x[0-9]+"
    tm resize-window -t top -x 100 -y 30
    shows "$(row solo running 0)"

    c rm solo
    shows "^no supervised cells \(declare one with cell run -d\)"
    shows "- 0 cells *$"

    c down
    shows "^celld is not running: nothing serves $CELL_ROOT/run/celld.sock"
    shows "^trying again every second \(q quits\)"
    shows "- no celld *$"

    c run -d --name back -- /bin/sleep 1000
    shows "$(row back running 0)"
    tm send-keys -t top q
    top_exited 0
}

@test "top: the static binary finds terminfo for tmux-256color, screen and xterm; an unknown TERM is an error" {
    c run -d --name web -- /bin/sleep 1000
    local term
    for term in tmux-256color screen xterm; do
        start_top "TERM=$term"
        shows "$(row web running 0)"
        tm send-keys -t top q
        top_exited 0
        tm kill-server
        TMUX_SOCKET=cell-top-$$-$RANDOM # a new server: the old one may still be going
    done
    start_top "TERM=no-such-terminal"
    top_exited 1
    shows "^cell: top: no terminfo entry for TERM=no-such-terminal"
}

@test "top: no celld, or no terminal, is a clear error; top starts no celld" {
    # in a terminal, without celld
    start_top
    top_exited 1
    shows "^cell: top: no celld serves $CELL_ROOT/run, so there are no supervised cells \(declare one with cell run -d\)"
    [[ -s $TOP_STATUS.stty ]]
    ! pgrep -f "celld --root $CELL_ROOT" >/dev/null

    run --separate-stderr c top -n 1
    expect_status 1
    expect_one_error_line
    expect_err "top: no celld serves $CELL_ROOT/run"

    # not a terminal: stdout is a pipe here
    c run -d --name web -- /bin/sleep 1000
    run --separate-stderr c top
    expect_status 1
    expect_one_error_line
    expect_err "top: needs a terminal"
    expect_err "(cell top -n 1 prints one frame as text)"

    run --separate-stderr c top -n 0
    expect_status 2
    expect_err 'top: -n "0": not a number of frames'
    run --separate-stderr c top --help
    expect_status 0
    expect_out "usage: cell top [-n FRAMES]"
}

@test "top -n: frames as text, CPU % from the delta between two polls" {
    c run -d --name busy -- /bin/sh -c 'while :; do :; done'
    c run -d --name idle -- /bin/sleep 1000
    run --separate-stderr c top -n 2
    expect_status 0
    # two frames, each a header line, the column names and one row per cell
    [[ ${#lines[@]} -eq 8 ]] || { show; false; } # bats drops the empty line between them
    [[ ${lines[0]} =~ ^cell\ top\ -\ .*\ -\ 2\ cells:\ 2\ running$ ]] || { show; false; }
    [[ ${lines[1]} =~ ^NAME\ +STATE\ +HEALTH\ +CPU%\ +MEM\ +RESTARTS\ +UPTIME$ ]] || { show; false; }
    [[ ${lines[6]} =~ $(row busy running 0) ]] || { show; false; }
    [[ ${lines[7]} =~ $(row idle running 0) ]] || { show; false; }
    # second frame: busy spins (most of a CPU), idle sleeps
    local busy idle
    busy=$(awk '{print $4}' <<<"${lines[6]}")
    idle=$(awk '{print $4}' <<<"${lines[7]}")
    awk -v b="$busy" -v i="$idle" 'BEGIN { exit !(b >= 20 && i < 5) }' || { show; false; }
}
