# oci.bats - cell as an OCI runtime, driven as runc is: `cell spec` writes a
# config.json, `create` builds the container and leaves its program waiting,
# `start` releases it, `state` reports created/running/stopped, `kill` and
# `delete` end it and leave nothing (state, cgroups, processes). Bad bundles
# and ids are refused with a clear error and nothing left behind. The
# container sees what config.json says: its hostname, a read-only root,
# masked and read-only paths; device nodes inside the image do not open; its
# own linux.seccomp (unless run.cell.profile picks cell's).

load helpers

setup() {
    _common_setup
    BUNDLE=$BATS_TEST_TMPDIR/bundle
    mkdir -p "$BUNDLE/rootfs/bin" "$BATS_TEST_TMPDIR/shared"
    cp /bin/busybox "$BUNDLE/rootfs/bin/"
    for a in sh sleep echo cat ls touch hostname; do ln -s busybox "$BUNDLE/rootfs/bin/$a"; done
}

teardown() {
    local id
    for id in $("$CELL" --root "$CELL_ROOT" list -q 2>/dev/null); do
        "$CELL" --root "$CELL_ROOT" delete --force "$id" >/dev/null 2>&1 || true
    done
    rm -rf "$CELL_ROOT/run/oci"
    rmdir "$CELL_ROOT/run" 2>/dev/null || true
    # the network namespace of the joining test, if it failed halfway
    ip netns del "cell-oci-test-$$" 2>/dev/null || true
    _residue_teardown
}

# config ARGS_JSON [PYTHON...]: cell spec, then the program and a bind of
# $BATS_TEST_TMPDIR/shared at /shared; more edits as python on `c`
config() {
    local args=$1
    shift
    rm -f "$BUNDLE/config.json"
    (cd "$BUNDLE" && "$CELL" spec)
    python3 - "$BUNDLE/config.json" "$args" "${SHARED:-$BATS_TEST_TMPDIR/shared}" "$@" <<'PY'
import json, sys
path, args, shared = sys.argv[1:4]
c = json.load(open(path))
c["process"]["args"] = json.loads(args)
c["mounts"].append({"destination": "/shared", "type": "bind", "source": shared, "options": ["rbind", "rw"]})
for edit in sys.argv[4:]:
    exec(edit)
json.dump(c, open(path, "w"), indent=1)
PY
}

oci() {
    (cd "$BUNDLE" && tracked "$CELL" --root "$CELL_ROOT" "$@")
}

status_of() {
    oci state "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])'
}

@test "oci: spec writes a config.json and never overwrites it" {
    run_cell spec --bundle "$BUNDLE"
    expect_status 0
    python3 -c 'import json,sys; c = json.load(open(sys.argv[1])); assert c["root"]["path"] == "rootfs"' \
        "$BUNDLE/config.json"
    run_cell spec --bundle "$BUNDLE"
    expect_status 1
    expect_err "never overwritten"
    run_cell features
    expect_status 0
    python3 -c 'import json,sys; f = json.loads(sys.argv[1]); assert f["ociVersionMin"] == "1.0.0"
assert f["linux"]["seccomp"]["enabled"] and "SCMP_CMP_MASKED_EQ" in f["linux"]["seccomp"]["operators"]
assert f["hooks"] == ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"]' "$output"
}

@test "oci: create leaves the program waiting; start runs it; state follows; kill, delete leave nothing" {
    config '["sh", "-c", "touch /shared/ran; echo $$ > /shared/pid; exec sleep 1000"]'
    oci create --pid-file "$BATS_TEST_TMPDIR/pidfile" c1 >"$BATS_TEST_TMPDIR/out" 2>&1
    [[ $(status_of c1) == created ]]
    # the program has not run before start
    [[ ! -e $BATS_TEST_TMPDIR/shared/ran ]]
    local pid
    pid=$(cat "$BATS_TEST_TMPDIR/pidfile")
    [[ $(oci state c1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])') == "$pid" ]]
    kill -0 "$pid"

    oci start c1
    wait_until 10 test -e "$BATS_TEST_TMPDIR/shared/pid"
    [[ $(status_of c1) == running ]]
    [[ $(cat "$BATS_TEST_TMPDIR/shared/pid") == 1 || -n $(cat "$BATS_TEST_TMPDIR/shared/pid") ]]
    # start works once
    run oci start c1
    [[ $status -ne 0 && $output == *"is running, not created"* ]]
    # a running container is not deleted without --force
    run oci delete c1
    [[ $status -eq 1 && $output == *"is running (cell kill it, or delete --force)"* ]]
    oci list -q | grep -qx c1

    oci kill c1 KILL
    wait_until 10 bash -c "[[ \$('$CELL' --root '$CELL_ROOT' state c1 | grep -c '\"stopped\"') == 1 ]]"
    oci delete c1
    run oci state c1
    [[ $status -eq 1 && $output == *"container c1: does not exist"* ]]
    [[ ! -e $CELL_ROOT/run/oci/c1 ]]
}

@test "oci: delete --force ends a created or running container; kill --all reaches every process" {
    config '["sh", "-c", "sleep 1000 & sleep 1000"]'
    oci create c2 >/dev/null 2>&1
    oci delete --force c2
    [[ ! -e $CELL_ROOT/run/oci/c2 ]]

    oci create c3 >/dev/null 2>&1
    oci start c3
    oci kill --all c3 KILL
    wait_until 10 bash -c "[[ \$('$CELL' --root '$CELL_ROOT' state c3 | grep -c '\"stopped\"') == 1 ]]"
    oci delete c3
}

@test "oci: the container sees config.json: hostname, read-only root, masked and read-only paths" {
    mknod "$BUNDLE/rootfs/devnull" c 1 3
    config '["sh", "-c", "hostname > /shared/host; (echo x > /devnull) 2>/shared/dev-err; touch /rootfile 2>/shared/root-err; cat /proc/keys > /shared/keys 2>&1; (echo 1 > /proc/sys/kernel/domainname) 2>/shared/sys-err; touch /tmp/ok && echo tmp-ok > /shared/tmp"]' \
        'c["hostname"] = "oci-host"'
    run_cell run --bundle "$BUNDLE" c4
    expect_status 0
    [[ $(cat "$BATS_TEST_TMPDIR/shared/host") == oci-host ]]
    grep -q "Read-only file system" "$BATS_TEST_TMPDIR/shared/root-err"
    [[ -e $BATS_TEST_TMPDIR/shared/keys && ! -s $BATS_TEST_TMPDIR/shared/keys ]] # masked: /dev/null
    grep -q "Read-only file system" "$BATS_TEST_TMPDIR/shared/sys-err"
    [[ $(cat "$BATS_TEST_TMPDIR/shared/tmp") == tmp-ok ]]
    [[ ! -e $BUNDLE/rootfs/rootfile ]]
    # a device node the image carries does not open (the rootfs is nodev)
    grep -q "Permission denied" "$BATS_TEST_TMPDIR/shared/dev-err"
}

@test "oci: the device cgroup: linux.devices are made and open; every other device is denied, even to root with CAP_MKNOD" {
    # the probes, from inside: make nodes, open them, open a bound host
    # device (/dev/kmsg for writing: no capability needed, only the device
    # list; nothing is written)
    local probe='for d in /dev/null /dev/zero /dev/cell-full /dev/sub/mem; do
        if (: <>"$d") 2>/dev/null; then echo "open $d"; else echo "denied $d"; fi; done
        ls -ln /dev/cell-full /dev/sub/mem /dev/cell-fifo | while read -r m l u g rest; do echo "$m $u $g"; done
        mknod /dev/kmsg2 c 1 11 2>/dev/null && echo "mknod kmsg" || echo "no mknod kmsg"
        mknod /dev/null2 c 1 3 2>/dev/null && (: <>/dev/null2) && echo "mknod null"
        (: >/host-kmsg) 2>/dev/null && echo "open host-kmsg" || echo "denied host-kmsg"'
    config "$(python3 -c 'import json,sys; print(json.dumps(["sh", "-c", sys.argv[1]]))' "$probe")" \
        'c["process"]["capabilities"] = {k: ["CAP_MKNOD", "CAP_DAC_OVERRIDE"] for k in ("bounding", "effective", "permitted")}' \
        'c["linux"]["devices"] = [{"path": "/dev/cell-full", "type": "c", "major": 1, "minor": 7, "fileMode": 0o600, "uid": 7, "gid": 8},
                                  {"path": "/dev/sub/mem", "type": "c", "major": 1, "minor": 1, "fileMode": 0o640},
                                  {"path": "/dev/cell-fifo", "type": "p"}]' \
        'c["linux"]["resources"] = {"devices": [{"allow": False, "access": "rwm"},
                                                {"allow": False, "type": "c", "major": 1, "minor": 1, "access": "rw"}]}' \
        'c["mounts"].append({"destination": "/host-kmsg", "type": "bind", "source": "/dev/kmsg", "options": ["rbind", "rw"]})'
    run_cell run --bundle "$BUNDLE" d1
    expect_status 0
    # the default devices and linux.devices open (a config rule denying a
    # linux.devices node comes before that node's allow, as runc orders them)
    [[ $output == *"open /dev/null"* && $output == *"open /dev/zero"* && $output == *"open /dev/cell-full"* ]] ||
        { echo "$output"; false; }
    # mode and owner as linux.devices says; a fifo too
    [[ $output == *"crw------- 7 8"* && $output == *"crw-r----- 0 0"* && $output == *"prw-rw-rw- 0 0"* ]] ||
        { echo "$output"; false; }
    # CAP_MKNOD is kept, yet the cgroup lets it make only the allowed devices
    [[ $output == *"no mknod kmsg"* && $output == *"mknod null"* ]] || { echo "$output"; false; }
    # a host device bound in (not in the list) does not open, even for root
    [[ $output == *"denied host-kmsg"* ]] || { echo "$output"; false; }

    # positive control: the same bind opens when the list allows it
    config '["sh", "-c", "(: >/host-kmsg) && echo open host-kmsg"]' \
        'c["linux"]["resources"] = {"devices": [{"allow": False, "access": "rwm"},
                                                {"allow": True, "type": "c", "major": 1, "minor": 11, "access": "w"}]}' \
        'c["mounts"].append({"destination": "/host-kmsg", "type": "bind", "source": "/dev/kmsg", "options": ["rbind", "rw"]})'
    run_cell run --bundle "$BUNDLE" d2
    expect_status 0
    [[ $output == "open host-kmsg" ]] || { echo "$output"; false; }

    # an exec'd command is under the same list
    config '["sleep", "1000"]' \
        'c["mounts"].append({"destination": "/host-kmsg", "type": "bind", "source": "/dev/kmsg", "options": ["rbind", "rw"]})'
    oci create d3 >/dev/null 2>&1
    oci start d3
    run oci exec d3 sh -c '(: >/host-kmsg) 2>/dev/null && echo open || echo denied; (: </dev/null) && echo null-ok'
    [[ $output == $'denied\nnull-ok' ]] || { echo "$output"; false; }
    oci delete --force d3
    # bad linux.devices: refused naming the field, nothing made
    config '["true"]' 'c["linux"]["devices"] = [{"path": "/etc/x", "type": "c", "major": 1, "minor": 3}]'
    run oci create d4
    [[ $status -ne 0 && $output == *'linux.devices[0].path: "/etc/x" is not a path under /dev'* ]] || { echo "$output"; false; }
    [[ ! -e $CELL_ROOT/run/oci/d4 ]]
}

@test "oci: process.oomScoreAdj is the container's; lowering it without CAP_SYS_RESOURCE is a warning" {
    config '["cat", "/proc/self/oom_score_adj"]' 'c["process"]["oomScoreAdj"] = 500'
    run_cell run --bundle "$BUNDLE" o1
    expect_status 0
    [[ $output == 500 ]] || { show; false; }
    # lowering needs CAP_SYS_RESOURCE: applied where cell has it, else said
    config '["cat", "/proc/self/oom_score_adj"]' 'c["process"]["oomScoreAdj"] = -500'
    run_cell run --bundle "$BUNDLE" o2
    expect_status 0
    local caps
    caps=$(awk '/^CapEff/ {print $2}' /proc/self/status)
    if (((16#$caps >> 24) & 1)); then # CAP_SYS_RESOURCE
        [[ $output == -500 ]] || { show; false; }
    else
        [[ $output == "$(cat /proc/self/oom_score_adj)" ]] || { show; false; }
        expect_err "process.oomScoreAdj -500 not applied: Permission denied (lowering it needs CAP_SYS_RESOURCE"
    fi
}

@test "oci: cell run ID runs the bundle of the current directory and passes its status through" {
    config '["sh", "-c", "exit 7"]'
    run oci run c5
    [[ $status -eq 7 ]]
    # the ad-hoc form is unchanged
    run_cell run -- /bin/sh -c 'exit 3'
    expect_status 3
}

@test "oci: bad bundles and ids are refused, nothing is left" {
    config '["true"]'
    run oci create 'a/b'
    [[ $status -ne 0 && $output == *"container id \"a/b\""* ]]
    run oci state nosuch
    [[ $status -eq 1 && $output == *"container nosuch: does not exist"* ]]

    python3 -c 'import json,sys; c = json.load(open(sys.argv[1])); c["ociVersion"] = "0.9.0"; json.dump(c, open(sys.argv[1], "w"))' "$BUNDLE/config.json"
    run oci create c6
    [[ $status -ne 0 && $output == *"ociVersion"* ]]
    [[ ! -e $CELL_ROOT/run/oci/c6 ]]

    config '["true"]' 'c["root"]["path"] = "missing"'
    run oci create c7
    [[ $status -ne 0 && $output == *"root.path"* ]]
    [[ ! -e $CELL_ROOT/run/oci/c7 ]]

    echo '{"ociVersion": ' >"$BUNDLE/config.json"
    run oci create c8
    [[ $status -ne 0 && $output == *"config.json"* ]]

    rm "$BUNDLE/config.json"
    run oci create c9
    [[ $status -ne 0 && $output == *"config.json"* ]]
    [[ ! -e $CELL_ROOT/run/oci/c9 ]]

    # an id in use
    config '["sleep", "1000"]'
    oci create c10 >/dev/null 2>&1
    run oci create c10
    [[ $status -ne 0 && $output == *"the id is in use"* ]]
    oci delete --force c10
}

@test "oci: exec runs in the running container (args, --env, --cwd, --process, --detach); ps lists its processes" {
    config '["sleep", "1000"]' 'c["hostname"] = "inside"'
    oci create c11 >/dev/null 2>&1
    oci start c11
    run oci exec c11 sh -c 'hostname; echo $$'
    [[ $status -eq 0 && ${lines[0]} == inside ]] || { echo "$output"; false; }
    run oci exec --env GREETING=hi --cwd /tmp c11 -- sh -c 'echo $GREETING $(pwd); exit 5'
    [[ $status -eq 5 && $output == "hi /tmp" ]] || { echo "$output"; false; }
    echo '{"args": ["sh", "-c", "echo from process.json; echo $A"], "cwd": "/", "env": ["A=1"], "user": {"uid": 0, "gid": 0}}' \
        >"$BATS_TEST_TMPDIR/process.json"
    run oci exec --process "$BATS_TEST_TMPDIR/process.json" c11
    [[ $status -eq 0 && $output == $'from process.json\n1' ]] || { echo "$output"; false; }
    # --detach: the pid file names a process whose status is the command's
    oci exec --detach --pid-file "$BATS_TEST_TMPDIR/exec.pid" c11 touch /shared/detached
    wait_until 10 test -e "$BATS_TEST_TMPDIR/shared/detached"
    [[ -s $BATS_TEST_TMPDIR/exec.pid ]]
    # ps: the container's processes
    run oci ps --format json c11
    [[ $status -eq 0 ]]
    python3 -c 'import json,sys; p = json.loads(sys.argv[1]); assert len(p) >= 1 and all(isinstance(x, int) for x in p)' "$output"
    oci ps c11 | grep -q "sleep 1000"
    oci delete --force c11
    # exec needs a running container
    oci create c12 >/dev/null 2>&1
    run oci exec c12 true
    [[ $status -ne 0 && $output == *"is created: exec needs a running container"* ]]
    oci delete --force c12
}

@test "oci: --log FILE --log-format json gets the errors, as podman and containerd read them" {
    run "$CELL" --root "$CELL_ROOT" --log "$BATS_TEST_TMPDIR/log.json" --log-format json state nosuch
    [[ $status -eq 1 ]]
    python3 -c '
import json, sys
line = json.loads(open(sys.argv[1]).readline())
assert line["level"] == "error" and "container nosuch: does not exist" in line["msg"] and line["time"]' \
        "$BATS_TEST_TMPDIR/log.json"
    run "$CELL" --root "$CELL_ROOT" --log-format yaml state nosuch
    [[ $status -eq 2 && $output == *"--log-format \"yaml\": text or json"* ]]
}

@test "oci: process.terminal: the terminal's master goes to --console-socket, sized as consoleSize says" {
    config '["sh", "-c", "tty; stty size; echo bye"]' 'c["process"]["terminal"] = True' \
        'c["process"]["consoleSize"] = {"height": 33, "width": 101}'
    local sock=$BATS_TEST_TMPDIR/console.sock
    python3 "$REPO/tests/integration/console-socket.py" "$sock" >"$BATS_TEST_TMPDIR/console.out" &
    echo $! >>"$BATS_TEST_TMPDIR/.host-pids"
    wait_until 10 test -S "$sock"
    oci create --console-socket "$sock" c13
    oci start c13
    wait_until 10 grep -q bye "$BATS_TEST_TMPDIR/console.out"
    grep -q "^/dev/pts/0" "$BATS_TEST_TMPDIR/console.out"
    grep -q "^33 101" "$BATS_TEST_TMPDIR/console.out"
    oci delete --force c13
    # a terminal needs a console socket, and a console socket a terminal
    run oci create c14
    [[ $status -ne 0 && $output == *"give --console-socket"* ]]
    config '["true"]'
    run oci create --console-socket "$sock" c15
    [[ $status -ne 0 && $output == *"needs process.terminal true"* ]]
    [[ ! -e $CELL_ROOT/run/oci/c14 && ! -e $CELL_ROOT/run/oci/c15 ]]
}

@test "oci: exec --tty: a terminal of the container's devpts, to --console-socket or relayed here" {
    config '["sleep", "1000"]'
    oci create c16 >/dev/null 2>&1
    oci start c16
    local sock=$BATS_TEST_TMPDIR/exec-console.sock
    python3 "$REPO/tests/integration/console-socket.py" "$sock" >"$BATS_TEST_TMPDIR/console.out" &
    echo $! >>"$BATS_TEST_TMPDIR/.host-pids"
    wait_until 10 test -S "$sock"
    # --detach --console-socket (as podman's conmon asks): cell returns once
    # the command runs and its terminal is with the socket's owner
    echo '{"args": ["sh", "-c", "tty; stty size; echo bye"], "cwd": "/", "terminal": true,
           "consoleSize": {"height": 21, "width": 77}, "user": {"uid": 0, "gid": 0}}' >"$BATS_TEST_TMPDIR/process.json"
    oci exec --detach --console-socket "$sock" --pid-file "$BATS_TEST_TMPDIR/exec.pid" \
        --process "$BATS_TEST_TMPDIR/process.json" c16
    [[ -s $BATS_TEST_TMPDIR/exec.pid ]]
    wait_until 10 grep -q bye "$BATS_TEST_TMPDIR/console.out"
    grep -q "^/dev/pts/[0-9]" "$BATS_TEST_TMPDIR/console.out"
    grep -q "^21 77" "$BATS_TEST_TMPDIR/console.out"
    # in the foreground without a socket: relayed to cell's own terminal (a
    # real pty from script(1)); the command's status comes through
    run script -qec "$CELL --root $CELL_ROOT exec --tty c16 sh -c 'test -t 0 && test -t 1 && tty; exit 3'" /dev/null
    [[ $status -eq 3 && $output == *"/dev/pts/"* ]] || { echo "$output"; false; }
    # without --tty no terminal: stdin is not one
    run oci exec c16 sh -c 'test -t 0 || echo no-terminal'
    [[ $status -eq 0 && $output == no-terminal ]]
    # a socket without a terminal, and a detached terminal without a socket
    run oci exec --console-socket "$sock" c16 true
    [[ $status -ne 0 && $output == *"--console-socket needs a terminal"* ]]
    run oci exec --detach --tty c16 true
    [[ $status -ne 0 && $output == *"detached exec with a terminal needs --console-socket"* ]]
    # a socket nobody listens on: an error naming it, the command not left running
    run oci exec --tty --console-socket "$BATS_TEST_TMPDIR/nobody.sock" c16 sleep 777
    [[ $status -ne 0 && $output == *"nobody.sock"* ]] || { echo "$output"; false; }
    run oci ps c16
    [[ $output != *"sleep 777"* ]] || { echo "$output"; false; }
    oci delete --force c16
}

@test "oci: hooks run in the spec's order and namespaces, with the state on stdin; a failing one fails create" {
    local shared=$BATS_TEST_TMPDIR/shared log=$BATS_TEST_TMPDIR/shared/hooks.log
    # each hook (the static busybox) appends its kind, its hostname and the
    # state's status; the script is in the shared directory, which the
    # container sees at /shared
    cat >"$shared/hook.sh" <<'SH'
read -r s
echo "$1 $(busybox hostname) $(echo "$s" | busybox grep -o '"status":"[a-z]*"')" >>"$2/hooks.log"
SH
    config '["sh", "-c", "echo program >> /shared/hooks.log; sleep 1000"]' 'c["hostname"] = "in-hooks"' "
def hook(kind, where):
    return [{'path': '/bin/busybox', 'args': ['busybox', 'sh', where + '/hook.sh', kind, where]}]
c['hooks'] = {'prestart': hook('prestart', '$shared'), 'createRuntime': hook('createRuntime', '$shared'),
              'createContainer': hook('createContainer', '/shared'), 'startContainer': hook('startContainer', '/shared'),
              'poststart': hook('poststart', '$shared'), 'poststop': hook('poststop', '$shared')}"
    oci create h1 >/dev/null 2>&1
    oci start h1
    wait_until 10 grep -q program "$log"
    oci delete --force h1
    local host order
    host=$(hostname)
    cat "$log"
    order=$(awk '{print $1}' "$log" | grep -v program | tr '\n' ' ')
    [[ $order == "prestart createRuntime createContainer startContainer poststart poststop " ]]
    # the program ran after startContainer
    [[ $(grep -n . "$log" | grep startContainer | cut -d: -f1) -lt $(grep -n . "$log" | grep program | cut -d: -f1) ]]
    # runtime namespace vs the container's (its hostname), and the status each sees
    grep -q "^createRuntime $host \"status\":\"creating\"" "$log"
    grep -q "^createContainer in-hooks \"status\":\"creating\"" "$log"
    grep -q "^startContainer in-hooks \"status\":\"created\"" "$log"
    grep -q "^poststart $host \"status\":\"running\"" "$log"
    grep -q "^poststop $host \"status\":\"stopped\"" "$log"

    # a failing createRuntime hook: create fails, nothing is left
    config '["sleep", "1000"]' "c['hooks'] = {'createRuntime': [{'path': '/bin/busybox', 'args': ['busybox', 'false']}]}"
    run oci create h2
    [[ $status -ne 0 && $output == *"hook createRuntime /bin/busybox: exited with status 1"* ]] || { echo "$output"; false; }
    [[ ! -e $CELL_ROOT/run/oci/h2 ]]
}

@test "oci: pause freezes every process (state paused), resume thaws them" {
    config '["sh", "-c", "i=0; while true; do i=$((i+1)); echo $i > /shared/count; sleep 0.05; done"]'
    oci create p1 >/dev/null 2>&1
    oci start p1
    wait_until 10 test -s "$BATS_TEST_TMPDIR/shared/count"
    oci pause p1
    [[ $(status_of p1) == paused ]]
    # frozen: the counter does not move
    local a b
    a=$(cat "$BATS_TEST_TMPDIR/shared/count")
    sleep 0.5
    b=$(cat "$BATS_TEST_TMPDIR/shared/count")
    [[ $a == "$b" ]]
    run oci pause p1
    [[ $status -eq 1 && $output == *"is paused, not running"* ]]
    run oci delete p1
    [[ $status -eq 1 && $output == *"is paused (cell kill it, or delete --force)"* ]]
    oci resume p1
    [[ $(status_of p1) == running ]]
    wait_until 10 bash -c "[[ \$(cat '$BATS_TEST_TMPDIR/shared/count') != '$b' ]]"
    oci delete --force p1
}

@test "oci: update writes new limits into the running container's cgroups" {
    config '["sleep", "1000"]' 'c["linux"]["resources"]["memory"] = {"limit": 67108864}' \
        'c["linux"]["resources"]["pids"] = {"limit": 50}'
    oci create u1 >/dev/null 2>&1
    oci start u1
    oci update --memory 32M --pids-limit 20 u1
    echo '{"pids": {"limit": 30}}' >"$BATS_TEST_TMPDIR/resources.json"
    oci update --resources "$BATS_TEST_TMPDIR/resources.json" u1
    # the container's own cgroup files say so (v2, or the v1 leaves)
    python3 - "$CELL_ROOT/run/oci/u1/state.json" <<'PY'
import json, os, sys
cg = json.load(open(sys.argv[1]))["instance"]["cgroup"]
dirs = [d for d in [cg["v2"]] + cg["v1"] if d]
def value(*files):
    for d in dirs:
        for f in files:
            p = os.path.join(d, f)
            if os.path.exists(p):
                return open(p).read().strip()
assert value("memory.max", "memory.limit_in_bytes") == str(32 << 20), value("memory.max", "memory.limit_in_bytes")
assert value("pids.max") == "30", value("pids.max")
PY
    run oci update u1
    [[ $status -eq 2 && $output == *"no limit given"* ]]
    oci delete --force u1
    run oci update --memory 32M u1
    [[ $status -eq 1 && $output == *"container u1: does not exist"* ]]
}

@test "oci: blockIO throttles are written into the container's blkio (v1) or io.max (v2); a device that is none fails create" {
    local dev
    dev=$(for d in /sys/block/*; do [[ $d == */loop* ]] || { cat "$d/dev"; break; }; done)
    [[ -n $dev ]] || skip "no block device on this host"
    config '["sleep", "1000"]' "c['linux']['resources']['blockIO'] = {
        'throttleReadBpsDevice': [{'major': ${dev%:*}, 'minor': ${dev#*:}, 'rate': 1048576}],
        'throttleWriteIOPSDevice': [{'major': ${dev%:*}, 'minor': ${dev#*:}, 'rate': 50}]}"
    oci create b1 >/dev/null 2>&1
    oci start b1
    python3 - "$CELL_ROOT/run/oci/b1/state.json" "$dev" <<'PY'
import json, os, sys
cg = json.load(open(sys.argv[1]))["instance"]["cgroup"]
dev = sys.argv[2]
dirs = [d for d in [cg["v2"]] + cg["v1"] if d]
found = {}
for d in dirs:
    for f in ("io.max", "blkio.throttle.read_bps_device", "blkio.throttle.write_iops_device"):
        p = os.path.join(d, f)
        if os.path.exists(p):
            found[f] = open(p).read().strip()
if "blkio.throttle.read_bps_device" in found:
    assert found["blkio.throttle.read_bps_device"] == dev + " 1048576", found
    assert found["blkio.throttle.write_iops_device"] == dev + " 50", found
else:
    assert "rbps=1048576" in found["io.max"] and "wiops=50" in found["io.max"], found
PY
    oci delete --force b1
    # a device number that is no block device: the kernel refuses, create says so, nothing is left
    config '["true"]' "c['linux']['resources']['blockIO'] = {'throttleReadBpsDevice': [{'major': 4000, 'minor': 7, 'rate': 1}]}"
    run oci create b2
    [[ $status -ne 0 && $output == *"4000:7 1"* ]] || { echo "$output"; false; }
    [[ ! -e $CELL_ROOT/run/oci/b2 ]]
}

@test "oci: linux.cgroupsPath places the container's cgroups (from each root, or from the caller's); the leaf goes with delete" {
    local top=cell-oci-test-$$
    config '["sleep", "1000"]' "c['linux']['cgroupsPath'] = '/$top/pod/ctr'" \
        'c["linux"]["resources"]["pids"] = {"limit": 40}'
    oci create g1 >/dev/null 2>&1
    oci start g1
    local pid
    pid=$(oci state g1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
    # the container's processes are there, in the v2 tree and in the v1
    # memory, pids and cpu ones (usage for podman stats, a kubelet), with the limit
    grep -q "^0::/$top/pod/ctr\$" "/proc/$pid/cgroup" || { cat "/proc/$pid/cgroup"; false; }
    if [[ -d /sys/fs/cgroup/pids/$top ]]; then
        [[ $(cat "/sys/fs/cgroup/pids/$top/pod/ctr/pids.max") == 40 ]]
        grep -q ":memory:/$top/pod/ctr\$" "/proc/$pid/cgroup" || { cat "/proc/$pid/cgroup"; false; }
    fi
    # the same path again: in use, refused, nothing of the second left
    run oci create g2
    [[ $status -ne 0 && $output == *"ctr"* ]] || { echo "$output"; false; }
    [[ ! -e $CELL_ROOT/run/oci/g2 ]]
    oci delete --force g1
    # the leaves are gone; the parents stay (as runc leaves them): removed here
    local d
    for d in /sys/fs/cgroup/unified /sys/fs/cgroup /sys/fs/cgroup/{memory,pids,cpu,devices,blkio}; do
        [[ ! -e $d/$top/pod/ctr ]] || { echo "left: $d/$top/pod/ctr"; false; }
        [[ -d $d/$top ]] && rmdir "$d/$top/pod" "$d/$top"
    done
    # a bad path is refused naming the field
    config '["true"]' "c['linux']['cgroupsPath'] = '/$top/../x'"
    run oci create g3
    [[ $status -ne 0 && $output == *"linux.cgroupsPath"* ]] || { echo "$output"; false; }
}

@test "oci: --preserve-fds N passes fds 3 .. 3+N-1 to the program, and no other" {
    config '["sh", "-c", "cat <&3 > /shared/three; cat <&4 > /shared/four; ls /proc/self/fd > /shared/fds"]'
    echo three >"$BATS_TEST_TMPDIR/f3"
    echo four >"$BATS_TEST_TMPDIR/f4"
    (cd "$BUNDLE" && tracked "$CELL" --root "$CELL_ROOT" create --preserve-fds 2 f1 \
        3<"$BATS_TEST_TMPDIR/f3" 4<"$BATS_TEST_TMPDIR/f4" 5<"$BATS_TEST_TMPDIR/f4") >/dev/null 2>&1
    oci start f1
    wait_until 10 test -s "$BATS_TEST_TMPDIR/shared/fds"
    [[ $(cat "$BATS_TEST_TMPDIR/shared/three") == three && $(cat "$BATS_TEST_TMPDIR/shared/four") == four ]]
    # fd 5 was open in create too, but not passed on
    ! grep -qx 5 "$BATS_TEST_TMPDIR/shared/fds"
    oci delete --force f1
    # (bats itself holds fd 3: closed for this one)
    run oci create --preserve-fds 2 f2 3<&- 4<&-
    [[ $status -ne 0 && $output == *"--preserve-fds 2: fd 3: Bad file descriptor"* ]]
    [[ ! -e $CELL_ROOT/run/oci/f2 ]]
}

@test "oci: a config's own linux.seccomp is applied: mkdir denied with EPERM, the rest works" {
    config '["sh", "-c", "busybox mkdir /tmp/x 2>/shared/mkdir-err; echo $? > /shared/mkdir-status; touch /tmp/y && echo ok > /shared/ok"]' \
        'c["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"], "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}'
    run oci run s1
    [[ $status -eq 0 ]]
    grep -q "Operation not permitted" "$BATS_TEST_TMPDIR/shared/mkdir-err"
    [[ $(cat "$BATS_TEST_TMPDIR/shared/mkdir-status") != 0 ]]
    [[ $(cat "$BATS_TEST_TMPDIR/shared/ok") == ok ]]
}

@test "oci: linux.seccomp argument filters bite only on the matching argument" {
    # personality(PER_LINUX32 = 8) denied; personality(PER_LINUX = 0) allowed
    config '["sh", "-c", "busybox linux32 busybox true 2>/shared/l32-err; echo $? > /shared/l32; busybox linux64 busybox true; echo $? > /shared/l64"]' \
        'c["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1, "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]}]}'
    run oci run s2
    [[ $status -eq 0 ]]
    [[ $(cat "$BATS_TEST_TMPDIR/shared/l32") != 0 ]]
    grep -q "Operation not permitted" "$BATS_TEST_TMPDIR/shared/l32-err"
    [[ $(cat "$BATS_TEST_TMPDIR/shared/l64") == 0 ]]
}

@test "oci: linux.seccomp with defaultAction SCMP_ACT_ERRNO and an allow list runs sh; the rest fails" {
    local allow='["execve", "execveat", "brk", "arch_prctl", "mmap", "munmap", "mprotect", "mremap", "madvise", "read", "write", "readv", "writev", "pread64", "close", "exit", "exit_group", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack", "getpid", "getppid", "gettid", "getuid", "geteuid", "getgid", "getegid", "getgroups", "uname", "set_tid_address", "set_robust_list", "rseq", "prlimit64", "getrlimit", "readlink", "readlinkat", "fstat", "newfstatat", "statx", "stat", "lstat", "open", "openat", "ioctl", "fcntl", "dup", "dup2", "dup3", "wait4", "waitid", "clone", "clone3", "fork", "vfork", "getcwd", "chdir", "access", "faccessat", "faccessat2", "lseek", "pipe", "pipe2", "getrandom", "futex", "getdents64", "prctl", "setpgid", "getpgid", "getpgrp", "poll", "ppoll", "pselect6", "select", "kill", "tgkill", "umask", "sysinfo", "times", "time", "gettimeofday", "clock_gettime", "nanosleep", "clock_nanosleep"]'
    config '["sh", "-c", "true && echo ran > /shared/ran; busybox mkdir /shared/d 2>/shared/mkdir-err; echo $? > /shared/mkdir"]' \
        "c['linux']['seccomp'] = {'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': 1, 'syscalls': [{'names': $allow, 'action': 'SCMP_ACT_ALLOW'}]}"
    run oci run s3
    [[ $status -eq 0 ]]
    [[ $(cat "$BATS_TEST_TMPDIR/shared/ran") == ran ]]
    [[ $(cat "$BATS_TEST_TMPDIR/shared/mkdir") != 0 && ! -e $BATS_TEST_TMPDIR/shared/d ]]
    grep -q "Operation not permitted" "$BATS_TEST_TMPDIR/shared/mkdir-err"
}

@test "oci: bad linux.seccomp is refused naming the field; run.cell.profile overrides it" {
    config '["true"]' \
        'c["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["socket"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 2, "op": "SCMP_CMP_SAME"}]}]}'
    run oci create s4
    [[ $status -ne 0 && $output == *"linux.seccomp.syscalls[0].args[0].op"* ]]
    [[ ! -e $CELL_ROOT/run/oci/s4 ]]

    # the annotation: cell's profile instead (mkdir allowed), with a warning
    config '["sh", "-c", "busybox mkdir /tmp/x && echo made > /shared/made"]' \
        'c["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}' \
        'c["annotations"] = {"run.cell.profile": "low"}'
    run oci run s5
    [[ $status -eq 0 && $output == *"linux.seccomp: not applied"* ]]
    [[ $(cat "$BATS_TEST_TMPDIR/shared/made") == made ]]
}

@test "oci: network, ipc and uts namespaces given by path are joined; a path that is no such namespace is refused" {
    # a network namespace of the test's own, with a veth end to recognise it
    local ns=cell-oci-test-$$
    ip netns add "$ns"
    ip -n "$ns" link add cellveth0 type veth peer name cellveth1
    config '["sh", "-c", "cat /proc/net/dev > /shared/netdev; hostname > /shared/host"]' "
for n in c['linux']['namespaces']:
    if n['type'] == 'network': n['path'] = '/run/netns/$ns'
    if n['type'] == 'uts': n['path'] = '/proc/self/ns/uts'"
    run_cell run --bundle "$BUNDLE" j1
    expect_status 0
    grep -q cellveth0 "$BATS_TEST_TMPDIR/shared/netdev"
    # the joined uts namespace keeps its hostname (the host's here): not renamed
    [[ $(cat "$BATS_TEST_TMPDIR/shared/host") == "$(hostname)" ]]

    config '["true"]' "
for n in c['linux']['namespaces']:
    if n['type'] == 'network': n['path'] = '/etc/hostname'"
    run_cell run --bundle "$BUNDLE" j2
    expect_status 125
    expect_err "network namespace /etc/hostname: not a namespace"
    config '["true"]' "
for n in c['linux']['namespaces']:
    if n['type'] == 'network': n['path'] = '/proc/self/ns/ipc'"
    run_cell run --bundle "$BUNDLE" j3
    expect_status 125
    expect_err "network namespace /proc/self/ns/ipc: a namespace of another kind"
    ip netns del "$ns"
}

@test "oci: pid and cgroup namespaces given by path are joined (a pod's shared pid namespace)" {
    # the pod's first container, its pid and cgroup namespaces to share
    config '["sleep", "1000"]'
    oci create pod1 >/dev/null 2>&1
    oci start pod1
    local pid
    pid=$(oci state pod1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
    [[ $pid -gt 0 ]]
    config '["sh", "-c", "cat /proc/[0-9]*/cmdline | tr \"\\\\0\" \" \" > /shared/procs; cat /proc/self/cgroup > /shared/cg"]' "
for n in c['linux']['namespaces']:
    if n['type'] in ('pid', 'cgroup'): n['path'] = '/proc/$pid/ns/' + n['type']"
    run_cell run --bundle "$BUNDLE" pod2
    expect_status 0
    # the second sees the first's processes, and its cgroups from the first's root
    grep -q "sleep 1000" "$BATS_TEST_TMPDIR/shared/procs" || { cat "$BATS_TEST_TMPDIR/shared/procs"; false; }
    grep -q "^0::/\.\./" "$BATS_TEST_TMPDIR/shared/cg" || { cat "$BATS_TEST_TMPDIR/shared/cg"; false; }
    # a container of its own sees only its own
    config '["sh", "-c", "cat /proc/[0-9]*/cmdline | tr \"\\\\0\" \" \" > /shared/procs"]'
    run_cell run --bundle "$BUNDLE" solo
    expect_status 0
    ! grep -q "sleep 1000" "$BATS_TEST_TMPDIR/shared/procs"
    oci delete --force pod1
    # a pid namespace whose init has exited cannot be joined (kept by a bind mount)
    local dead=$BATS_TEST_TMPDIR/dead-pidns
    touch "$dead"
    unshare --pid="$dead" --fork true
    config '["echo", "never"]' "
for n in c['linux']['namespaces']:
    if n['type'] == 'pid': n['path'] = '$dead'"
    run_cell run --bundle "$BUNDLE" pod3
    umount "$dead"
    expect_status 125
    expect_err "join the pid namespace $dead: its init has exited"
    [[ $output != *never* ]]
    config '["true"]' "c['linux']['namespaces'].append({'type': 'user'})
for n in c['linux']['namespaces']:
    if n['type'] == 'pid': n['path'] = '/proc/self/ns/pid'"
    run_cell run --bundle "$BUNDLE" pod5
    expect_status 125
    expect_err "a pid namespace given by path cannot be joined from a new user namespace"
}

@test "oci: a user namespace given by path is joined (a pod's), with the pod's pid namespace; mappings with it are refused" {
    # the pod: a container with a user namespace of its own mapping
    local world
    world=$(world_tmpdir)
    cp -a "$BUNDLE" "$world/bundle"
    BUNDLE=$world/bundle SHARED=$world/shared
    mkdir -m 1777 "$SHARED"
    mkdir "$BUNDLE"/rootfs/{proc,dev,sys,tmp,shared}
    config '["sleep", "1000"]' 'c["linux"]["namespaces"].append({"type": "user"})' \
        'c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 231072, "size": 65536}]' \
        'c["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 231072, "size": 65536}]'
    oci create upod >/dev/null 2>&1
    oci start upod
    local pid
    pid=$(oci state upod | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
    # the second joins its user and pid namespaces: the same ids, the pod's processes
    config '["sh", "-c", "cat /proc/self/uid_map; touch /shared/joined; cat /proc/[0-9]*/cmdline | tr \"\\\\0\" \" \""]' "
c['linux']['namespaces'].append({'type': 'user', 'path': '/proc/$pid/ns/user'})
for n in c['linux']['namespaces']:
    if n['type'] == 'pid': n['path'] = '/proc/$pid/ns/pid'"
    run_cell run --bundle "$BUNDLE" ujoin
    expect_status 0
    [[ $(echo $output) == *"0 231072 65536"* && $output == *"sleep 1000"* ]] || { show; false; }
    [[ $(stat -c '%u:%g' "$SHARED/joined") == 231072:231072 ]]
    # its own user namespace is the pod's (not a new one, not the host's)
    config '["sh", "-c", "readlink /proc/self/ns/user"]' "
c['linux']['namespaces'].append({'type': 'user', 'path': '/proc/$pid/ns/user'})"
    run_cell run --bundle "$BUNDLE" ujoin2
    expect_status 0
    [[ $output == "$(readlink /proc/$pid/ns/user)" ]] || { show; false; }
    # create/start/exec in it too
    config '["sleep", "1000"]' "c['linux']['namespaces'].append({'type': 'user', 'path': '/proc/$pid/ns/user'})"
    oci create ujoin3 >/dev/null 2>&1
    oci start ujoin3
    run oci exec ujoin3 cat /proc/self/uid_map
    [[ $status -eq 0 && $(echo $output) == "0 231072 65536" ]] || { echo "$output"; false; }
    oci delete --force ujoin3
    oci delete --force upod
    # mappings with a joined user namespace are refused
    config '["true"]' "c['linux']['namespaces'].append({'type': 'user', 'path': '/proc/self/ns/user'})" \
        'c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 231072, "size": 1}]' \
        'c["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 231072, "size": 1}]'
    run_cell run --bundle "$BUNDLE" ujoin4
    expect_status 125
    expect_err "linux.uidMappings: given with a user namespace to join (/proc/self/ns/user), which has its own"
}

@test "oci: a mount namespace given by path is entered: what was mounted there is the container's to bind" {
    # a mount namespace of the test's own, kept by a bind mount, with a tmpfs only it has
    local keep=$BATS_TEST_TMPDIR/mntns dir=$BATS_TEST_TMPDIR/only-in-ns
    mkdir -p "$dir"
    touch "$keep"
    mount --bind "$keep" "$keep" && mount --make-private "$keep"
    unshare --mount="$keep" --propagation private sh -c "mount -t tmpfs only-in-ns '$dir' && echo inside > '$dir/marker'"
    [[ ! -e $dir/marker ]]
    config '["cat", "/from-ns/marker"]' "
for n in c['linux']['namespaces']:
    if n['type'] == 'mount': n['path'] = '$keep'
c['mounts'].append({'destination': '/from-ns', 'type': 'bind', 'source': '$dir', 'options': ['rbind', 'ro']})"
    run_cell run --bundle "$BUNDLE" m1
    local status_was=$status out=$output
    # the namespace is as it was: its root not moved, its tmpfs still there
    nsenter --mount="$keep" cat "$dir/marker" >"$BATS_TEST_TMPDIR/after"
    umount "$keep"
    umount "$keep" 2>/dev/null || true
    [[ $status_was -eq 0 && $out == inside ]] || { echo "$status_was $out"; false; }
    [[ $(cat "$BATS_TEST_TMPDIR/after") == inside ]]
    # without the namespace the bind finds only the empty directory
    config '["cat", "/from-ns/marker"]' "
c['mounts'].append({'destination': '/from-ns', 'type': 'bind', 'source': '$dir', 'options': ['rbind', 'ro']})"
    run_cell run --bundle "$BUNDLE" m2
    [[ $status -ne 0 ]]
}

@test "oci: uidMappings and gidMappings: the container's ids are the host's ids the config names" {
    # the container's root is a host id without rights: the bundle and the
    # shared directory sit where any id may reach them
    local world
    world=$(world_tmpdir)
    cp -a "$BUNDLE" "$world/bundle"
    BUNDLE=$world/bundle SHARED=$world/shared
    mkdir -m 1777 "$SHARED"
    # the mount points, as an image has them (the container's root cannot make them)
    mkdir "$BUNDLE"/rootfs/{proc,dev,sys,tmp,shared}
    config '["sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; touch /shared/by-root; id -u"]' \
        'c["linux"]["namespaces"].append({"type": "user"})' \
        'c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 231072, "size": 1000}, {"containerID": 1000, "hostID": 300000, "size": 10}]' \
        'c["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 241072, "size": 65536}]'
    run oci run c40
    [[ $status -eq 0 ]] || { echo "$output"; false; }
    # the kernel has the ranges as given (printed from inside)
    [[ $(echo "$output" | awk 'NR<=3 {print $1, $2, $3}' | tr '\n' ' ') == "0 231072 1000 1000 300000 10 0 241072 65536 " ]] ||
        { echo "$output"; false; }
    [[ ${lines[3]} == 0 ]]
    # what the container's root made belongs to the mapped host ids
    [[ $(stat -c '%u:%g' "$SHARED/by-root") == 231072:241072 ]]
    # an exec joins the container's user namespace too: its root is 231072 there
    config '["sleep", "1000"]' 'c["linux"]["namespaces"].append({"type": "user"})' \
        'c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 231072, "size": 1000}]' \
        'c["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 241072, "size": 1000}]'
    oci create c43 >/dev/null 2>&1
    oci start c43
    run oci exec c43 sh -c 'cat /proc/self/uid_map; touch /shared/by-exec'
    [[ $status -eq 0 && $(echo $output) == "0 231072 1000" ]] || { echo "$output"; false; }
    [[ $(stat -c '%u:%g' "$SHARED/by-exec") == 231072:241072 ]]
    oci delete --force c43
    # a process.user outside the ranges cannot be had
    config '["id", "-u"]' 'c["linux"]["namespaces"].append({"type": "user"})' \
        'c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 231072, "size": 1000}]' \
        'c["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 231072, "size": 1000}]' \
        'c["process"]["user"] = {"uid": 5000, "gid": 5000}'
    run oci run c41
    [[ $status -ne 0 && $output == *"process.user.uid: 5000 is not in linux.uidMappings"* ]] || { echo "$output"; false; }
    # overlapping ranges: refused before anything is made
    config '["true"]' 'c["linux"]["namespaces"].append({"type": "user"})' \
        'c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 231072, "size": 1000}, {"containerID": 1000, "hostID": 231500, "size": 10}]' \
        'c["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 231072, "size": 1000}]'
    run oci create c42
    [[ $status -ne 0 && $output == *"linux.uidMappings[1]: its hostID range overlaps that of linux.uidMappings[0]"* ]] ||
        { echo "$output"; false; }
    [[ ! -e $CELL_ROOT/run/oci/c42 ]]
}

@test "oci: a cgroup mount shows the container its own cgroup (cgroup namespace), read-only" {
    config '["sh", "-c", "cat /sys/fs/cgroup/cgroup.procs > /shared/procs; (mkdir /sys/fs/cgroup/x) 2>/shared/mkdir; sleep 1000"]' \
        'c["mounts"].append({"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "ro"]})'
    oci create cg1 >/dev/null 2>&1
    oci start cg1
    wait_until 10 test -s "$BATS_TEST_TMPDIR/shared/mkdir"
    # only the container's own processes (pids of its namespace), and no way to change it
    [[ $(sort -n "$BATS_TEST_TMPDIR/shared/procs" | head -1) == 1 ]]
    ! grep -qx "$$" "$BATS_TEST_TMPDIR/shared/procs"
    grep -q "Read-only file system" "$BATS_TEST_TMPDIR/shared/mkdir"
    oci delete --force cg1
}
