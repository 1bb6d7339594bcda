# celld.bats - supervised cells: `cell run -d` hands a cell to celld, which
# restarts it by policy with backoff, marks a crash loop failed, stops with
# SIGTERM then SIGKILL, captures its output across restarts, answers bad
# requests with errors while serving others, survives its own kill -9 (the
# next celld takes the cells over), and leaves nothing after `cell down`.

load helpers

setup() {
    _common_setup
}

teardown() {
    celld_teardown
}

# c ARGS...: `cell --root $CELL_ROOT ARGS...`, tracked (in a subshell: tracked execs)
c() {
    (tracked "$CELL" --root "$CELL_ROOT" "$@")
}

state_of() {
    "$CELL" --root "$CELL_ROOT" status --json "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["state"])'
}

field_of() {
    "$CELL" --root "$CELL_ROOT" status --json "$1" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)[0][sys.argv[1]])' "$2"
}

state_is() {
    [[ $(state_of "$1") == "$2" ]]
}

@test "celld: run -d starts a supervised cell; status, logs, stop, start, rm" {
    run --separate-stderr c run -d --name web -- /bin/sh -c 'echo hello from web; exec sleep 1000'
    expect_status 0
    [[ $output == web ]] || { show; false; }
    state_is web running
    [[ $(field_of web pid) -gt 0 ]]
    wait_until 10 eval '"$CELL" --root "$CELL_ROOT" logs web | grep -q "stdout: hello from web"'

    run --separate-stderr c stop web
    expect_status 0
    state_is web exited
    [[ $(field_of web exit_code) == 143 ]]

    run --separate-stderr c start web
    expect_status 0
    state_is web running

    run --separate-stderr c rm web
    expect_status 0
    run --separate-stderr c status web
    expect_status 1
    expect_err "cell web: no such cell"
}

@test "celld: a cell that keeps dying is restarted with growing delays" {
    local d
    d=$(world_tmpdir)
    run --separate-stderr c run -d --name flaky --bind "$d:/state:rw" --restart-delay 100ms \
        --restart-max-delay 5s --crash-limit 50 -- /bin/sh -c 'date +%s%N >>/state/starts; exit 1'
    expect_status 0
    wait_until 30 eval '[[ $(wc -l <"$d/starts") -ge 5 ]]'
    c stop flaky
    mapfile -t t <"$d/starts"
    local i prev=0 gap
    for ((i = 1; i < 5; i++)); do
        gap=$(((t[i] - t[i - 1]) / 1000000))
        # each wait at least as long as the one before (order, not absolute time)
        [[ $gap -ge $prev ]] || { echo "gap $i: ${gap}ms after ${prev}ms"; printf '%s\n' "${t[@]}"; false; }
        prev=$gap
    done
    [[ $(field_of flaky restarts) -ge 4 ]]
}

@test "celld: a crash loop marks the cell failed until cell start" {
    run --separate-stderr c run -d --name loop --restart-delay 10ms --crash-limit 3 --crash-window 60s \
        -- /bin/sh -c 'exit 7'
    expect_status 0
    wait_until 20 state_is loop failed
    [[ $(field_of loop exit_code) == 7 ]]
    [[ $(field_of loop restarts) == 2 ]]
    # it stays failed: nothing restarts it
    run --separate-stderr c status loop
    expect_out "failed"
    # cell start tries again (and it fails again, into the same state)
    c start loop || true
    wait_until 20 state_is loop failed
}

@test "celld: restart policies never and on-failure leave a clean exit alone" {
    c run -d --name once --restart never -- /bin/sh -c 'exit 1'
    c run -d --name fine -- /bin/sh -c 'exit 0'
    wait_until 10 state_is once exited
    wait_until 10 state_is fine exited
    [[ $(field_of once restarts) == 0 && $(field_of fine restarts) == 0 ]]
    # control: always restarts even a clean exit
    c run -d --name again --restart always --restart-delay 10ms --crash-limit 3 -- /bin/sh -c 'exit 0'
    wait_until 10 state_is again failed
    [[ $(field_of again restarts) == 2 ]]
}

@test "celld: stop escalates to SIGKILL when the cell ignores SIGTERM" {
    c run -d --name stubborn --stop-timeout 300ms -- /bin/sh -c 'trap "" TERM; while :; do sleep 1; done'
    state_is stubborn running
    run --separate-stderr c stop stubborn
    expect_status 0
    state_is stubborn exited
    [[ $(field_of stubborn exit_code) == 137 ]]
    wait_until 10 _no_new_processes_but_celld
}

# every process of this test's cells is gone; celld itself may still run
_no_new_processes_but_celld() {
    ! _new_processes | grep -v ' celld ' | grep -q .
}

@test "celld: output is captured across restarts, no line lost" {
    local d
    d=$(world_tmpdir)
    c run -d --name talker --bind "$d:/state:rw" --restart-delay 10ms --crash-limit 50 -- \
        /bin/sh -c 'n=$(cat /state/n 2>/dev/null || echo 0); n=$((n+1)); echo $n >/state/n;
                    echo "run $n out"; echo "run $n err" >&2; [ $n -ge 3 ] && exec sleep 1000; exit 1'
    wait_until 20 eval '[[ $(cat "$d/n" 2>/dev/null) == 3 ]]'
    wait_until 10 eval '"$CELL" --root "$CELL_ROOT" logs talker | grep -q "stderr: run 3 err"'
    run --separate-stderr c logs talker
    local n
    for n in 1 2 3; do
        expect_out "stdout: run $n out"
        expect_out "stderr: run $n err"
    done
    run --separate-stderr c logs -n 1 talker
    [[ ${#lines[@]} -eq 1 ]] || { show; false; }
}

@test "celld: bad requests get one clear error and celld keeps serving" {
    c run -d --name one -- /bin/sleep 1000
    run --separate-stderr c run -d --name one -- /bin/true
    expect_status 125
    expect_err "cell one: already exists"
    run --separate-stderr c stop nosuch
    expect_status 1
    expect_err "cell nosuch: no such cell"
    run --separate-stderr c run --restart always -- /bin/true
    expect_status 125
    expect_err "--restart: only for a supervised cell (add -d)"
    run --separate-stderr c run -d -t -- /bin/true
    expect_status 125
    expect_err "-d and --tty conflict"
    run --separate-stderr c run -d --name bad -- /nonexistent/program
    expect_status 125
    expect_err "not found in the cell"

    # garbage, an unknown op, a half request then a hang-up; then a ping
    run python3 - "$CELL_ROOT/run/celld.sock" <<'PY'
import json, socket, sys
def conn():
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); return s, s.makefile("r")
s, f = conn()
for req in [b"garbage\n", b"[1,2]\n", b'{"op":"explode"}\n', b'{"op":"stop"}\n']:
    s.sendall(req)
    a = json.loads(f.readline())
    assert a["ok"] is False and a["error"], a
    print("error:", a["error"])
h, _ = conn(); h.sendall(b'{"op":"sta'); h.close()
s.sendall(b'{"op":"ping"}\n')
a = json.loads(f.readline()); assert a["ok"] is True, a
print("ping ok")
PY
    [[ $status -eq 0 ]] || { echo "$output"; false; }
    [[ $output == *"not a JSON object"* && $output == *'unknown op "explode"'* && $output == *"ping ok"* ]] ||
        { echo "$output"; false; }
    state_is one running
}

@test "celld: one celld per root, and cell down stops everything" {
    c run -d --name a -- /bin/sleep 1000
    c run -d --name b --stop-timeout 500ms -- /bin/sh -c 'trap "" TERM; while :; do sleep 1; done'
    run --separate-stderr "$REPO/build/celld" --root "$CELL_ROOT"
    expect_status 1
    expect_err "another celld already serves"
    run --separate-stderr c down
    expect_status 0
    [[ ! -S $CELL_ROOT/run/celld.sock ]]
    ! pgrep -f "celld --root $CELL_ROOT" >/dev/null
    # they stay declared: the next command starts a celld that lists them
    run --separate-stderr c status
    expect_status 0
    echo "$(celld_pid)" >>"$CELL_TEST_PIDS"
    [[ ${#lines[@]} -eq 3 && $output == *"a "*exited* && $output == *"b "*exited* ]] || { show; false; }
    c rm a b
    run --separate-stderr c status
    expect_status 0
    [[ ${#lines[@]} -eq 1 ]] || { show; false; } # the header only
}

@test "celld: --ttl stops a cell for good when its lifetime is over" {
    c run -d --name brief --ttl 500ms --restart always -- /bin/sleep 1000
    state_is brief running
    wait_until 20 state_is brief exited
    [[ $(field_of brief expired) == True ]]
    [[ $(field_of brief restarts) == 0 ]]
    # control: without --ttl a cell keeps running
    c run -d --name lasting -- /bin/sleep 1000
    state_is lasting running
    run --separate-stderr c run --ttl 1s -- /bin/true
    expect_status 125
    expect_err "--ttl: only for a supervised cell (add -d)"
}

celld_pid() { # the oldest: its spawner (and NATS publisher) share its command line
    pgrep -o -f "celld --root $CELL_ROOT"
}

# the cell's log holds "tick 0" .. "tick N" without a gap, N >= $2
ticks_complete() {
    python3 - "$CELL_ROOT/data/logs/$1.log" "$2" <<'PY'
import re, sys
ticks = [int(m) for m in re.findall(r"stdout: tick (\d+)", open(sys.argv[1]).read())]
sys.exit(0 if ticks == list(range(len(ticks))) and len(ticks) > int(sys.argv[2]) else 1)
PY
}

@test "celld: cells are started by its spawner; without one celld starts them itself" {
    c run -d --name first -- /bin/sleep 1000
    local celld spawner init
    celld=$(celld_pid)
    init=$(field_of first pid)
    spawner=$(awk '/^PPid:/ {print $2}' "/proc/$init/status")
    # the init's parent is the spawner, a child of celld: not celld itself
    [[ $spawner != "$celld" && $(awk '/^PPid:/ {print $2}' "/proc/$spawner/status") == "$celld" ]]
    # an exit status comes back whole through it, even for a cell that ends at once
    c run -d --name quick --restart never -- /bin/sh -c 'exit 7'
    wait_until 20 state_is quick exited
    [[ $(field_of quick exit_code) == 7 ]]
    # the spawner dies: celld says so and starts the next cells itself
    kill -9 "$spawner"
    c run -d --name second -- /bin/sleep 1000
    state_is second running
    [[ $(awk '/^PPid:/ {print $2}' "/proc/$(field_of second pid)/status") == "$celld" ]]
    grep -q "the spawner is gone" "$CELL_ROOT/data/logs/celld.log"
    state_is first running
    c stop first
    [[ $(field_of first exit_code) == 143 ]]
}

@test "celld: a supervised cell's pid 1 is cell-init, holding none of celld's memory" {
    c run -d --name small -- /bin/sleep 1000
    local pid
    pid=$(field_of small pid)
    [[ $(tr '\0' ' ' <"/proc/$pid/cmdline") == "cell-init "* ]] || { tr '\0' ' ' <"/proc/$pid/cmdline"; false; }
    # nothing of celld (its binary, its libraries) is mapped
    ! grep -q -e '/celld$' -e 'libjansson' -e 'libmicrohttpd' -e 'libnats' "/proc/$pid/maps" || {
        cat "/proc/$pid/maps"
        false
    }
    # it still does an init's job: the workload's exact status comes back
    c stop small
    [[ $(field_of small exit_code) == 143 ]]
}

@test "celld: more cells than its open-files soft limit allows fds for; the cells keep that limit" {
    # celld needs ~10 fds per cell: with a soft limit of 64 it would stop at 5
    (
        ulimit -Sn 64
        for i in $(seq 1 12); do c run -d --name "f$i" -- /bin/sh -c 'ulimit -n; exec sleep 1000' >/dev/null || exit 1; done
    )
    for i in 1 12; do
        state_is "f$i" running
        wait_until 10 eval '"$CELL" --root "$CELL_ROOT" logs f'"$i"' | grep -q "stdout: 64$"' || {
            "$CELL" --root "$CELL_ROOT" logs "f$i"
            false
        }
    done
}

@test "celld: killed with -9, celld is replaced by the next command and takes its cells over" {
    c run -d --name victim --memory 64M -- /bin/sh -c 'i=0; while :; do echo "tick $i"; i=$((i+1)); sleep 0.1; done'
    c run -d --name doomed --restart always -- /bin/sleep 1000
    c run -d --name quiet --restart never -- /bin/sleep 1000
    local old victim doomed quiet
    old=$(celld_pid)
    echo "$old" >>"$CELL_TEST_PIDS" # its cells' cgroups are cell.NAME.$old
    victim=$(field_of victim pid)
    doomed=$(field_of doomed pid)
    quiet=$(field_of quiet pid)
    # what a new celld needs is on disk, written whole
    python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["instance"]["pid"] == int(sys.argv[2])' \
        "$CELL_ROOT/run/cells/victim.json" "$victim"
    [[ -z $(find "$CELL_ROOT" -name '*.tmp') ]]

    kill -9 "$old"
    wait_until 20 eval '! kill -0 '"$old"' 2>/dev/null'
    # the cells outlive celld; two of them end while no celld watches
    kill -0 "$victim"
    kill -9 "$doomed" "$quiet"
    sleep 1 # victim keeps writing meanwhile: its log pipe is held by its init

    # the next command starts a celld, which takes the cells over
    run --separate-stderr c status
    expect_status 0
    local new
    new=$(celld_pid)
    [[ -n $new && $new != "$old" ]]
    echo "$new" >>"$CELL_TEST_PIDS"
    state_is victim running
    [[ $(field_of victim pid) == "$victim" && $(field_of victim restarts) == 0 ]]
    # doomed ended meanwhile: its policy restarts it; quiet's does not
    wait_until 20 state_is doomed running
    [[ $(field_of doomed pid) != "$doomed" && $(field_of doomed restarts) == 1 ]]
    state_is quiet exited
    # what the ended ones left is gone; the running one keeps its cgroup
    [[ -z $(cell_cgroups doomed "$old") && -z $(cell_cgroups quiet "$old") ]] || {
        cell_cgroups doomed
        cell_cgroups quiet
        false
    }
    [[ -n $(cell_cgroups victim "$old") ]]
    # not a line lost across the gap, and the new celld goes on reading
    wait_until 20 ticks_complete victim 15 || { cat "$CELL_ROOT/data/logs/victim.log"; false; }
    grep -q '"type":"cell.adopted".*"subject":"victim"' "$CELL_ROOT/data/events.jsonl"
    grep -q '"subject":"doomed".*"exit_code":null' "$CELL_ROOT/data/events.jsonl"
    # the adopted cell is supervised as any other: stopped, its cgroup removed
    run --separate-stderr c stop victim
    expect_status 0
    state_is victim exited
    [[ $(field_of victim exit_code) == 143 ]]
    wait_until 20 eval '[[ -z $(cell_cgroups victim "$old") ]]'
    [[ ! -e $CELL_ROOT/run/cells/victim.json ]]
}

@test "celld: a saved pid that is another process now is never taken over nor killed" {
    c run -d --name gone --restart never -- /bin/sleep 1000
    local old init
    old=$(celld_pid)
    echo "$old" >>"$CELL_TEST_PIDS"
    init=$(field_of gone pid)
    kill -9 "$old"
    kill -9 "$init"
    # a stranger holds a pid the state file names (as after pid reuse)
    /bin/sleep 1000 3>&- &
    local stranger=$!
    track_pid "$stranger"
    python3 - "$CELL_ROOT/run/cells/gone.json" "$stranger" <<'PY'
import json, sys
state = json.load(open(sys.argv[1]))
state["instance"]["pid"] = int(sys.argv[2])
json.dump(state, open(sys.argv[1], "w"))
PY
    wait_until 20 eval '! kill -0 '"$old"' 2>/dev/null'
    run --separate-stderr c status
    expect_status 0
    echo "$(celld_pid)" >>"$CELL_TEST_PIDS"
    state_is gone exited
    kill -0 "$stranger" # untouched
    [[ -z $(cell_cgroups gone "$old") ]]
}

@test "celld: cell up starts the declared cells that are down, except --no-autostart ones" {
    c run -d --name auto -- /bin/sleep 1000
    c run -d --name manual --no-autostart -- /bin/sleep 1000
    run --separate-stderr c down
    expect_status 0
    # declarations outlive celld
    [[ -f $CELL_ROOT/data/cells/auto.json && -f $CELL_ROOT/data/cells/manual.json ]]
    [[ -z $(find "$CELL_ROOT/run" -name '*.json') ]]
    run --separate-stderr c up
    expect_status 0
    echo "$(celld_pid)" >>"$CELL_TEST_PIDS"
    expect_out "auto"
    state_is auto running
    state_is manual exited
    run --separate-stderr c up # nothing more to do
    expect_status 0
    state_is manual exited
    c start manual
    state_is manual running
    c rm manual
    [[ ! -e $CELL_ROOT/data/cells/manual.json ]]
    run --separate-stderr c up extra
    expect_status 2
    expect_err "up: takes no arguments"
}

# A server for socket activation: answers each connection on fd 3 with
# "pong DATA from NAME pid PID"; with ONE=1 it exits after one connection.
SERVER='
import os, socket, sys
assert os.environ["LISTEN_FDS"] == "1" and os.environ["LISTEN_PID"] == str(os.getpid()), dict(os.environ)
s = socket.socket(fileno=3)
while True:
    c, _ = s.accept()
    data = c.recv(100)
    c.sendall(b"pong %s from %s" % (data, os.environ["LISTEN_FDNAMES"].encode()))
    c.close()
    if os.environ.get("ONE") == "1":
        sys.exit(1)
'

# ask SOCKET N: N clients, one after another, each sends "ping I"; prints answers
ask() {
    python3 - "$1" "$2" <<'PY'
import socket, sys
for i in range(int(sys.argv[2])):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    s.sendall(b"ping %d" % i)
    print(s.recv(100).decode())
PY
}

@test "celld: --listen starts the cell on the first connection, which succeeds at once" {
    c run -d --name echo --listen -- /usr/bin/python3 -c "$SERVER"
    # declared, not started: nothing runs until a client comes
    state_is echo waiting
    [[ $(field_of echo pid) == 0 ]]
    local sock=$CELL_ROOT/run/sockets/echo.sock
    [[ -S $sock ]]
    run ask "$sock" 1
    [[ $status -eq 0 && $output == "pong ping 0 from echo" ]] || { echo "$output"; false; }
    state_is echo running
    run ask "$sock" 3
    [[ ${#lines[@]} -eq 3 && ${lines[2]} == "pong ping 2 from echo" ]] || { echo "$output"; false; }
    c rm echo
    [[ ! -e $sock ]]
}

@test "celld: a --listen cell taken over after kill -9 keeps its socket, and swaps" {
    c run -d --name echo --listen -- /usr/bin/python3 -c "$SERVER"
    local sock=$CELL_ROOT/run/sockets/echo.sock old pid
    run ask "$sock" 1
    [[ $status -eq 0 && $output == "pong ping 0 from echo" ]] || { echo "$output"; false; }
    old=$(celld_pid)
    echo "$old" >>"$CELL_TEST_PIDS"
    pid=$(field_of echo pid)
    kill -9 "$old"
    wait_until 20 eval '! kill -0 '"$old"' 2>/dev/null'
    # the cell still serves on the socket while no celld runs
    run ask "$sock" 2
    [[ $status -eq 0 && ${lines[1]} == "pong ping 1 from echo" ]] || { echo "$output"; false; }
    run --separate-stderr c status
    expect_status 0
    echo "$(celld_pid)" >>"$CELL_TEST_PIDS"
    [[ $(field_of echo pid) == "$pid" && $(field_of echo listen) == "$sock" ]]
    # the new celld holds the same socket: a swap hands it to a new instance
    run --separate-stderr c swap echo
    expect_status 0
    [[ $(field_of echo pid) != "$pid" ]]
    run ask "$sock" 2
    [[ $status -eq 0 && ${lines[1]} == "pong ping 1 from echo" ]] || { echo "$output"; false; }
    c rm echo
    [[ ! -e $sock ]]
}

@test "celld: --listen keeps every connection across restarts of the cell" {
    # the server exits after each connection; celld restarts it on the socket
    c run -d --name once --listen --env ONE=1 --restart-delay 10ms --crash-limit 100 \
        -- /usr/bin/python3 -c "$SERVER"
    run ask "$CELL_ROOT/run/sockets/once.sock" 10
    [[ $status -eq 0 && ${#lines[@]} -eq 10 ]] || { echo "$output"; false; }
    local i
    for i in 0 9; do
        [[ $output == *"pong ping $i from once"* ]] || { echo "$output"; false; }
    done
    [[ $(field_of once restarts) -ge 9 ]]
}

@test "celld: a --listen cell that exits without taking a waiting connection fails at the crash limit, not in a loop" {
    c run -d --name noaccept --listen --restart never --crash-limit 5 --crash-window 60s -- /bin/true
    # a client that connects and waits: the connection stays in the backlog
    python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
time.sleep(3)' "$CELL_ROOT/run/sockets/noaccept.sock" &
    local client=$!
    echo "$client" >>"$BATS_TEST_TMPDIR/.host-pids"
    wait_until 20 state_is noaccept failed
    wait "$client"
    # failed at the limit: celld says why, and starts it no more
    grep -q "5 exits within 60000 ms while connections wait on its --listen socket" "$CELL_ROOT/data/logs/celld.log" ||
        { cat "$CELL_ROOT/data/logs/celld.log"; false; }
    sleep 0.5
    state_is noaccept failed
    c rm noaccept
}

# A server that stops gracefully: on SIGTERM it finishes every connection it
# accepted, then exits; what is still queued stays for the next instance.
GRACEFUL='
import os, select, signal, socket
token = os.urandom(4).hex()
r, w = os.pipe()
os.set_blocking(w, False)
signal.set_wakeup_fd(w)
signal.signal(signal.SIGTERM, lambda *a: None)
s = socket.socket(fileno=3)
while True:
    ready, _, _ = select.select([s, r], [], [])
    if s in ready:
        c, _ = s.accept()
        data = c.recv(100)
        c.sendall(b"pong %s from %s" % (data, token.encode()))
        c.close()
    elif r in ready:
        os._exit(0)
'

@test "celld: swap replaces a --listen cell while clients keep connecting, and none fails" {
    c run -d --name svc --listen --stop-timeout 5s -- /usr/bin/python3 -c "$GRACEFUL"
    local sock=$CELL_ROOT/run/sockets/svc.sock out=$BATS_TEST_TMPDIR/clients
    # clients: connect, ask, read the answer, again and again, until told to stop
    python3 - "$sock" "$BATS_TEST_TMPDIR/stop" >"$out" 2>&1 <<'PY' &
import os, socket, sys
ok = failed = 0
tokens = set()
while not os.path.exists(sys.argv[2]) or ok < 20:
    try:
        s = socket.socket(socket.AF_UNIX)
        s.connect(sys.argv[1])
        s.sendall(b"ping %d" % ok)
        answer = s.recv(100).decode()
        assert answer.startswith("pong ping %d from " % ok), answer
        tokens.add(answer.rsplit(" ", 1)[1])
        ok += 1
    except Exception as e:
        failed += 1
        print("failed:", repr(e))
    finally:
        s.close()
print("ok", ok, "failed", failed, "instances", len(tokens))
PY
    local clients=$!
    track_pid "$clients"
    wait_until 20 state_is svc running
    local i
    for i in 1 2 3; do
        run --separate-stderr c swap svc
        expect_status 0
    done
    touch "$BATS_TEST_TMPDIR/stop"
    wait "$clients"
    cat "$out"
    grep -q "failed 0 " "$out"
    # every instance answered some: the first and the three swapped in
    [[ $(awk '/^ok/ {print $6}' "$out") -ge 2 ]]
    [[ $(field_of svc swaps) == 3 ]]
    state_is svc running
}

@test "celld: swap refuses a cell without --listen, and an unknown one" {
    c run -d --name plain -- /bin/sleep 1000
    run --separate-stderr c swap plain
    expect_status 1
    expect_err "cell plain: swap needs a --listen socket"
    run --separate-stderr c swap nosuch
    expect_status 1
    expect_err "cell nosuch: no such cell"
}

@test "celld: cell exec runs a command inside the running cell, as its workload" {
    c run -d --name box --memory 64M --user 1000:1000 --hostname boxhost -- /bin/sleep 1000
    local pid
    pid=$(field_of box pid)
    run --separate-stderr c exec box -- /bin/sh -c 'id -u; hostname; grep -c . /proc/self/cgroup >/dev/null;
        awk -F: "\$2==\"memory\" {print \$3}" /proc/self/cgroup; grep NoNewPrivs /proc/self/status;
        touch /x 2>/dev/null || echo read-only; exit 5'
    expect_status 5
    [[ ${lines[0]} == 1000 && ${lines[1]} == boxhost && ${lines[2]} == / ]] || { show; false; }
    expect_out "NoNewPrivs:	1"
    expect_out "read-only"
    # the command ran in the cell's own memory cgroup, seen from the host
    local cg
    cg=$(cell_cgroups box | grep /memory/ | head -n 1)
    [[ -n $cg ]]
    # a command that does not exist, and a cell that is not running
    run -127 --separate-stderr c exec box -- /nonexistent
    expect_status 127
    expect_err "not found in the cell"
    c stop box
    run --separate-stderr c exec box -- /bin/true
    expect_status 125
    expect_err "cell box is not running"
}

@test "celld: --health: failing checks make the cell unhealthy and restart it; a hanging check fails" {
    local d
    d=$(world_tmpdir)
    touch "$d/ok"
    c run -d --name checked --bind "$d:/state:rw" --health 'test -f /state/ok' --health-interval 100ms \
        --health-retries 2 -- /bin/sleep 1000
    wait_until 20 eval '[[ $(field_of checked health) == healthy ]]'
    [[ $(field_of checked restarts) == 0 ]]
    # the check runs inside the cell: it sees the bind at /state, not the host path
    rm "$d/ok"
    wait_until 20 eval '[[ $(field_of checked restarts) -ge 1 ]]'
    touch "$d/ok"
    wait_until 20 eval '[[ $(field_of checked health) == healthy ]]'
    state_is checked running

    # a check that hangs is killed after --health-timeout and counts as failed
    c run -d --name hung --restart never --health 'sleep 100' --health-interval 100ms --health-timeout 1s \
        --health-retries 1 -- /bin/sleep 1000
    wait_until 30 eval '[[ $(field_of hung health) == unhealthy ]]'
    state_is hung running # policy never: marked, not restarted
    # celld kept serving meanwhile
    run --separate-stderr c status
    expect_status 0
}

@test "celld: status shows cpu, memory and processes, as a table, TSV or JSON" {
    c run -d --name busy -- /bin/sh -c 'sleep 1000 & while :; do :; done'
    c run -d --name idle -- /bin/sleep 1000
    wait_until 20 eval '[[ $("$CELL" --root "$CELL_ROOT" status -T -H -o cpu busy) != 0.00s ]]'
    run --separate-stderr c status -T -H -o name,procs,state busy idle
    expect_status 0
    [[ ${lines[0]} == $'busy\t3\trunning' && ${lines[1]} == $'idle\t2\trunning' ]] || { show; false; }
    run --separate-stderr c status --json idle
    expect_out '"memory_bytes":'
    [[ $(field_of idle memory_bytes) -gt 0 ]]
    run --separate-stderr c status
    [[ ${lines[0]} == NAME*STATE*HEALTH*PID*RESTARTS*UPTIME*CPU*MEMORY*PROCS*EXIT ]] || { show; false; }
    run --separate-stderr c status -o bogus
    expect_status 2
    expect_err 'unknown field "bogus"'
}

@test "celld: --syslog sends each output line to syslog with facility, level and tag" {
    local sock=$BATS_TEST_TMPDIR/log.sock got=$BATS_TEST_TMPDIR/syslog.txt
    # a syslog receiver on a private socket (no host syslog is touched)
    python3 - "$sock" "$got" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "w") as f:
    for _ in range(4):  # stdout, stderr (their order varies), and the long line's two parts
        f.write(s.recv(2048).decode() + "\n"); f.flush()
PY
    local receiver=$!
    track_pid "$receiver"
    wait_until 10 test -S "$sock"
    run --separate-stderr env CELL_SYSLOG_SOCKET="$sock" "$CELL" --root "$CELL_ROOT" run -d --name chatty \
        --syslog-facility local3 --syslog-levels notice,crit --syslog-tag web -- \
        /bin/sh -c 'echo to stdout; echo to stderr >&2; head -c 600 /dev/zero | tr "\0" x; echo; exec sleep 1000'
    expect_status 0
    wait "$receiver"
    cat "$got"
    # <PRI> = facility local3 (19*8=152) + level: notice 5 -> 157, crit 2 -> 154
    grep -q '^<157>.* web: cell=chatty stdout: to stdout$' "$got"
    grep -q '^<154>.* web: cell=chatty stderr: to stderr$' "$got"
    # a line longer than 511 bytes is split: the first part is 511 x's
    grep -q "stdout: $(printf 'x%.0s' $(seq 511))\$" "$got"
    run --separate-stderr c run --syslog -- /bin/true
    expect_status 125
    expect_err "--syslog: only for a supervised cell (add -d)"
    run --separate-stderr c run -d --syslog-levels loud,err -- /bin/true
    expect_status 125
    expect_err '--syslog-levels "loud": not one of emerg'
}

@test "celld: --notify: run -d returns once the cell says it is ready, or says why not" {
    local d
    d=$(world_tmpdir)
    c run -d --name slow --notify --bind "$d:/state:rw" -- \
        /bin/sh -c 'sleep 0.5; date +%s%N >/state/ready; echo >&$CELL_NOTIFY_FD; exec sleep 1000'
    # the ready mark was written before run -d returned
    [[ -s $d/ready ]]
    [[ $(field_of slow ready) == True ]]
    run --separate-stderr c run -d --name never --notify --restart never -- /bin/sh -c 'exit 3'
    expect_status 125
    expect_err "cell never: exited (3) before it was ready"
    # until it is ready, a running cell shows as starting
    (c run -d --name late --notify --bind "$d:/state:rw" -- \
        /bin/sh -c 'while [ ! -e /state/go ]; do sleep 0.1; done; echo >&$CELL_NOTIFY_FD; exec sleep 1000') \
        >/dev/null 2>&1 3>&- &
    local runner=$!
    wait_until 20 state_is late starting
    touch "$d/go"
    wait "$runner"
    state_is late running
}

@test "celld: swap with --notify stops the old instance only once the new one is ready" {
    local server='
import os, select, signal, socket, sys, time
token = os.urandom(4).hex()
time.sleep(0.3)  # a slow start
print("ready", token, flush=True)
os.write(int(os.environ["CELL_NOTIFY_FD"]), b"\n")
r, w = os.pipe(); os.set_blocking(w, False)
signal.set_wakeup_fd(w); signal.signal(signal.SIGTERM, lambda *a: None)
s = socket.socket(fileno=3)
while True:
    ready, _, _ = select.select([s, r], [], [])
    if s in ready:
        c, _ = s.accept(); c.recv(100); c.sendall(token.encode()); c.close()
    elif r in ready:
        print("stopping", token, flush=True); os._exit(0)
'
    c run -d --name svc --listen --notify -- /usr/bin/python3 -c "$server"
    local sock=$CELL_ROOT/run/sockets/svc.sock
    ask "$sock" 1 >/dev/null # starts the first instance
    run --separate-stderr c swap svc
    expect_status 0
    wait_until 10 eval '"$CELL" --root "$CELL_ROOT" logs svc | grep -q stopping'
    run --separate-stderr c logs svc
    # order in the log: ready A, ready B, stopping A
    local -a ev
    mapfile -t ev < <(printf '%s\n' "${lines[@]}" | sed -n 's/.*stdout: \(ready\|stopping\) \(.*\)/\1 \2/p')
    [[ ${#ev[@]} -eq 3 && ${ev[0]} == "ready "* && ${ev[1]} == "ready "* && ${ev[2]} == "stopping ${ev[0]#ready }" ]] ||
        { printf '%s\n' "${ev[@]}"; false; }
}

@test "celld: events: started, exited, restarting, stopped, removed as CloudEvents, live and in a file" {
    c run -d --name seed -- /bin/sleep 1000 # celld runs; subscribe before the interesting part
    local out=$BATS_TEST_TMPDIR/events
    "$CELL" --root "$CELL_ROOT" events --json >"$out" 2>&1 3>&- &
    local follower=$!
    track_pid "$follower"
    wait_until 10 eval '[[ -n $(pgrep -f "cell --root $CELL_ROOT events") ]]'
    c run -d --name ev --restart-delay 10ms --crash-limit 2 -- /bin/sh -c 'exit 4'
    wait_until 20 state_is ev failed
    c rm ev
    wait_until 10 eval 'grep -q "\"type\":\"cell.removed\",.*\"subject\":\"ev\"" "$out"'
    python3 - "$out" "$CELL_ROOT/data/events.jsonl" <<'PY'
import json, sys
live = [json.loads(l) for l in open(sys.argv[1])]
kept = [json.loads(l) for l in open(sys.argv[2])]
for e in live:
    assert e["specversion"] == "1.0" and e["id"] and e["time"] and e["source"], e
ev = [e["type"] for e in live if e["subject"] == "ev"]
assert ev == ["cell.started", "cell.exited", "cell.restarting", "cell.started", "cell.exited",
              "cell.removed"], ev
exited = [e for e in live if e["subject"] == "ev" and e["type"] == "cell.exited"]
assert all(e["data"]["exit_code"] == 4 and e["data"]["pid"] > 0 for e in exited), exited
# the file holds them too (and the seed cell's start before we subscribed)
assert [e["id"] for e in kept if e["subject"] == "ev"] == [e["id"] for e in live if e["subject"] == "ev"]
assert kept[0]["subject"] == "seed" and kept[0]["type"] == "cell.started"
print("ok", len(live), "events")
PY
}

@test "celld: commands that need celld say so when none runs, and start none" {
    run --separate-stderr c stop web
    expect_status 1
    expect_one_error_line
    expect_err "no celld serves $CELL_ROOT/run, so there are no supervised cells (declare one with cell run -d)"
    run --separate-stderr c events
    expect_status 1
    expect_err "no celld serves"
    run --separate-stderr c exec web -- /bin/true
    expect_status 125
    expect_err "no celld serves"
    run --separate-stderr c logs web
    expect_status 1
    expect_err "logs: cell web: no log at $CELL_ROOT/data/logs/web.log"
    ! pgrep -f "celld --root $CELL_ROOT" >/dev/null
    # status with no celld: an empty table, not an error
    run --separate-stderr c status
    expect_status 0
}

@test "celld: an answer larger than the socket buffer arrives whole (status of many cells)" {
    # each cell's status echoes its arguments: three of 100 KB make an answer
    # of 300 KB, more than a unix socket buffers (about 200 KB), as the status
    # of about 700 ordinary cells would be
    local big
    big=$(head -c 100000 /dev/zero | tr '\0' x)
    local i
    for i in 1 2 3; do
        c run -d --name "big$i" -- /bin/sh -c 'exec sleep 1000' sh "$big"
    done
    run --separate-stderr c status --json
    expect_status 0
    python3 -c 'import json,sys; c = json.load(sys.stdin); assert sorted(x["name"] for x in c) == ["big1", "big2", "big3"], c; assert all(len(x["args"][-1]) == 100000 for x in c)' <<<"$output"
    run --separate-stderr c status -T -H -o name,state
    expect_status 0
    [[ $(sort <<<"$output") == $'big1\trunning\nbig2\trunning\nbig3\trunning' ]] || { show; false; }
}
