# oci_backend.bats - cell writing bundles for other OCI runtimes: `cell
# bundle DIR [run options] -- CMD` gives a bundle that the real runc runs
# (`runc run --bundle DIR ID`, its state under the test's directory), and
# the probe (bound at /probe, as cell's own tests do) finds the same
# isolation under runc as under cell: no network, a read-only root, no
# capabilities, the seccomp profile, its own pid namespace; positive
# controls under runc show the probe would notice. `cell run --backend oci
# --oci-runtime runc` runs the same end to end: the exit status passes
# through, --timeout and signals are cell's, and nothing is left (runc
# state, the temporary bundle, cgroups; the residue check does cgroups,
# processes and mounts). cell itself runs a bundle cell wrote. gVisor's
# runsc, through `--backend oci --oci-runtime runsc`, keeps the same promises.

load helpers

setup() {
    _common_setup
    command -v runc >/dev/null || skip "runc is not installed (make deps-bench installs it)"
    RUNC_ROOT=$BATS_TEST_TMPDIR/runc
    BUNDLES=0
}

teardown() {
    local failed=0 id
    # runc removes a container when `runc run` ends; one left is residue
    if [[ -d $RUNC_ROOT ]]; then
        for id in $(runc --root "$RUNC_ROOT" list -q 2>/dev/null); do
            echo "residue: runc container $id"
            runc --root "$RUNC_ROOT" delete --force "$id" >/dev/null 2>&1 || true
            failed=1
        done
    fi
    # what `cell run --bundle` keeps while a container exists
    rm -rf "$CELL_ROOT/run/oci"
    rmdir "$CELL_ROOT/run" 2>/dev/null || true
    _residue_teardown || failed=1
    return "$failed"
}

# under_runc [CELL RUN OPTIONS...] -- PROBE ARGS...: `cell bundle` with the
# probe bound at /probe, then `runc run` of it, as bats' run (stdout and
# stderr apart). Sets BUNDLE and ID.
under_runc() {
    local opts=()
    while [[ $# -gt 0 && $1 != -- ]]; do
        opts+=("$1")
        shift
    done
    shift
    BUNDLES=$((BUNDLES + 1))
    BUNDLE=$BATS_TEST_TMPDIR/bundle.$BUNDLES
    ID=cell-test-$$-$BUNDLES
    "$CELL" bundle "$BUNDLE" --bind "$PROBE:/probe" "${opts[@]}" -- /probe "$@" || return 1
    run --separate-stderr tracked runc --root "$RUNC_ROOT" run --bundle "$BUNDLE" "$ID"
    # its cgroups are runc's to remove (named after the id)
    [[ -z $(find /sys/fs/cgroup -maxdepth 8 -type d -name "$ID" 2>/dev/null) ]] || {
        echo "residue: cgroups of $ID"
        return 1
    }
}

# under_both EXPECT [CELL RUN OPTIONS...] -- PROBE ARGS...: the probe in a
# cell and under runc; EXPECT (expect_blocked, expect_escaped) of each
under_both() {
    local expect=$1
    shift
    run_probe "$@"
    "$expect" || { echo "(under cell)"; return 1; }
    under_runc "$@"
    "$expect" || { echo "(under runc)"; return 1; }
}

@test "bundle: cell bundle writes a bundle runc runs, prints nothing, never overwrites" {
    run_cell bundle "$BATS_TEST_TMPDIR/b" --hostname web --env GREETING=hello -- /bin/sh -c 'echo "$GREETING from $(hostname)"'
    expect_status 0
    [[ -z $output && -z $stderr ]] || { show; false; }
    [[ -f $BATS_TEST_TMPDIR/b/config.json && -d $BATS_TEST_TMPDIR/b/rootfs/usr ]]
    python3 - "$BATS_TEST_TMPDIR/b/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
assert c["root"] == {"path": "rootfs", "readonly": True}, c["root"]
assert c["process"]["env"][-1] == "GREETING=hello", c["process"]["env"]
assert c["linux"]["seccomp"]["defaultAction"] == "SCMP_ACT_ERRNO"
assert c["annotations"]["run.cell.profile"] == "high"
PY
    run --separate-stderr tracked runc --root "$RUNC_ROOT" run --bundle "$BATS_TEST_TMPDIR/b" "cell-test-$$"
    expect_status 0
    [[ $output == "hello from web" ]] || { show; false; }

    # never over an existing bundle, and nothing changed
    local before
    before=$(md5sum <"$BATS_TEST_TMPDIR/b/config.json")
    run_cell bundle "$BATS_TEST_TMPDIR/b" -- /bin/true
    expect_status 1
    expect_one_error_line
    expect_err "config.json is there already (never overwritten)"
    [[ $(md5sum <"$BATS_TEST_TMPDIR/b/config.json") == "$before" ]]

    # what a bundle cannot say, named
    run_cell bundle "$BATS_TEST_TMPDIR/c" --timeout 5 -- /bin/true
    expect_status 1
    expect_one_error_line
    expect_err "--timeout"
    [[ ! -e $BATS_TEST_TMPDIR/c ]]
}

@test "runc: no network, as under cell (positive control: --net host)" {
    local port
    port=$(free_port)
    start_listener "$port"
    under_both expect_blocked -- net 127.0.0.1 "$port"
    under_runc --net host -- net 127.0.0.1 "$port"
    expect_escaped
    expect_out "ESCAPED: connect to 127.0.0.1 port $port"
}

@test "runc: a read-only root, /etc and /dev, as under cell (positive control: a rw bind)" {
    local name=cell-probe-$$-$RANDOM dir=$BATS_TEST_TMPDIR/data
    mkdir -p "$dir"
    for path in "/$name" "/etc/$name" "/usr/$name" "/dev/$name"; do
        under_both expect_blocked -- write "$path"
    done
    [[ ! -e /$name && ! -e /etc/$name && ! -e /usr/$name ]]
    under_runc --bind "$dir:/data:rw" -- write /data/rw-file
    expect_escaped
    [[ $(cat "$dir/rw-file") == cell-probe ]]
    # /tmp is the container's own
    under_runc -- write "/tmp/$name"
    expect_escaped
    [[ ! -e /tmp/$name ]]
}

@test "runc: no capabilities, as under cell (positive control: --cap-add)" {
    under_both expect_blocked -- caps
    expect_out "CapEff:	0000000000000000"
    expect_out "CapBnd:	0000000000000000"
    under_runc --cap-add CAP_NET_RAW -- caps
    expect_escaped
    expect_out "ESCAPED: holds capability cap_net_raw"
    # another uid keeps its capability through exec (ambient), as in cell
    under_runc --user 1000:1000 --cap-add CAP_NET_RAW -- caps cap_net_raw
    expect_blocked
    expect_out "CapAmb:	0000000000002000"
}

@test "runc: the seccomp profile, as under cell (positive controls: medium, low)" {
    under_both expect_blocked -- keyctl
    expect_out "BLOCKED: add_key"
    under_both expect_blocked -- sysv
    expect_out "BLOCKED: shmget"
    under_both expect_blocked -- userns
    under_both expect_blocked --profile medium -- keyctl
    under_both expect_escaped --profile medium -- sysv
    under_both expect_escaped --profile low -- keyctl
}

@test "runc: its own pid namespace, as under cell" {
    under_both expect_blocked -- pids $$
    local n
    n=$(sed -n 's/^visible pids: //p' <<<"$output")
    [[ -n $n && $n -ge 1 && $n -lt 10 ]] || { echo "visible pids: '$n'"; show; false; }
}

@test "runc: a --rootfs bundle: the image is the root, read-only" {
    local image=$BATS_TEST_TMPDIR/image
    mkdir -p "$image/bin" "$image/etc"
    cp /bin/busybox "$image/bin/"
    ln -s busybox "$image/bin/sh"
    echo image >"$image/etc/marker"
    under_runc --rootfs "$image" -- write /etc/cell-probe
    expect_blocked
    [[ ! -e $image/etc/cell-probe ]]
    python3 -c 'import json,sys; c = json.load(open(sys.argv[1])); assert c["root"]["path"] == sys.argv[2]' \
        "$BUNDLE/config.json" "$image"
    [[ ! -e $BUNDLE/rootfs ]]
    under_runc --rootfs "$image" -- read /etc/marker
    expect_escaped
    expect_out "ESCAPED: read 6 bytes from /etc/marker"
}

@test "backend: cell run --backend oci passes the exit status through and leaves nothing" {
    run_cell -7 run --backend oci --oci-runtime runc --bind "$PROBE:/probe" -- /probe exit 7
    run_cell run --backend oci --oci-runtime runc --bind "$PROBE:/probe" --hostname oci-web -- /probe hostname
    expect_status 0
    [[ $output == oci-web ]] || { show; false; }
    # the isolation is cell's: its profile, no network
    run_cell run --backend oci --bind "$PROBE:/probe" -- /probe keyctl
    expect_blocked
    run_cell run --backend=oci --oci-runtime=runc --bind "$PROBE:/probe" --profile low -- /probe keyctl
    expect_escaped
    # a limit through runc, in cgroups named as cell's (the residue check
    # finds cell.NAME.PID): the memory limit kills the probe
    run_cell run --backend oci --name oom --memory 32M --bind "$PROBE:/probe" -- /probe memory 256
    [[ $status -eq 137 ]] || { show; false; }
    # the command's own --backend words stay its own
    run_cell run --backend oci -- /bin/echo --backend oci
    expect_status 0
    [[ $output == "--backend oci" ]] || { show; false; }
    # nothing of the bundles or runc's state under --root
    [[ -z $(find "$CELL_ROOT" -mindepth 1 -not -type d) ]] || { find "$CELL_ROOT"; false; }
    [[ -z $(find "$CELL_ROOT" -name 'cell-oci.*') ]] || { find "$CELL_ROOT"; false; }
}

@test "backend: --timeout is cell's (124), signals reach the container, nothing left" {
    run_cell run --backend oci --bind "$PROBE:/probe" --timeout 1 -- /probe sleep 30
    expect_status 124
    expect_err "timed out after 1s: killed"

    local out=$BATS_TEST_TMPDIR/out status=0
    start_cell "$out" run --backend oci --bind "$PROBE:/probe" -- /probe signal
    wait_until 20 grep -q '^ready$' "$out" || { cat "$out" "$out.err"; false; }
    kill -TERM "$CELL_PID"
    wait "$CELL_PID" || status=$?
    [[ $status -eq 42 ]] || { echo "status $status"; cat "$out" "$out.err"; false; }
    grep -q '^got SIGTERM$' "$out" || { cat "$out"; false; }
    [[ -z $(find "$CELL_ROOT" -name 'cell-oci.*') ]] || { find "$CELL_ROOT"; false; }
}

@test "backend: a bad runtime or what a bundle cannot say: one error line, 125, nothing left" {
    run_cell run --backend oci --oci-runtime nosuch -- /bin/true
    expect_status 125
    expect_one_error_line
    expect_err "--oci-runtime \"nosuch\": runc, crun, runsc or the path of a runtime"
    run_cell run --backend oci --oci-runtime "$BATS_TEST_TMPDIR/none" -- /bin/true
    expect_status 125
    expect_err "--oci-runtime $BATS_TEST_TMPDIR/none"
    run_cell run --oci-runtime runc -- /bin/true
    expect_status 125
    expect_err "--oci-runtime needs --backend oci"
    run_cell run --backend vm -- /bin/true
    expect_status 125
    expect_err "--backend \"vm\": cell (the default) or oci"
    run_cell run --backend oci --preserve-fd 3 -- /bin/true 3</dev/null
    expect_status 125
    expect_one_error_line
    expect_err "--preserve-fd"
    [[ -z $(find "$CELL_ROOT" -name 'cell-oci.*') ]] || { find "$CELL_ROOT"; false; }
}

@test "bundle: cell itself runs a bundle cell wrote, /dev read-only" {
    local dir=$BATS_TEST_TMPDIR/self
    "$CELL" bundle "$dir" --bind "$PROBE:/probe" -- /probe write /dev/cell-probe
    run_cell run --bundle "$dir" "cell-test-self-$$"
    expect_blocked
    expect_out "BLOCKED: write /dev/cell-probe (Read-only file system)"
}

@test "backend: rootless (uid 65534), runc in its rootless mode, the same user namespace as cell's" {
    local world
    world=$(world_tmpdir)
    mkdir -p "$world/root"
    chown "$NOBODY:$NOBODY" "$world/root"
    run --separate-stderr tracked setpriv --reuid "$NOBODY" --regid "$NOBODY" --clear-groups \
        "$CELL" --root "$world/root" run --backend oci --bind "$PROBE:/probe" -- /probe whoami
    expect_status 0
    expect_out "uid=0 gid=0"
    run --separate-stderr tracked setpriv --reuid "$NOBODY" --regid "$NOBODY" --clear-groups \
        "$CELL" --root "$world/root" run --backend oci --bind "$PROBE:/probe" -- /probe keyctl
    expect_blocked
    [[ -z $(find "$world/root" -mindepth 1 -not -type d) ]] || { find "$world/root"; false; }
}

# ---- gVisor: cell run --backend oci --oci-runtime runsc ------------------------

# under_runsc [CELL RUN OPTIONS...] -- PROBE ARGS...: the probe in gVisor,
# through cell's OCI backend, as bats' run
under_runsc() {
    local opts=()
    while [[ $# -gt 0 && $1 != -- ]]; do
        opts+=("$1")
        shift
    done
    shift
    run --separate-stderr tracked "$CELL" --root "$CELL_ROOT" run --backend oci --oci-runtime runsc \
        --bind "$PROBE:/probe" "${opts[@]}" -- /probe "$@"
}

@test "runsc: gVisor runs cell's bundle with cell's isolation: no network, read-only root, no capabilities, the profile" {
    command -v runsc >/dev/null || skip "runsc is not installed (make deps-test installs it)"
    # the exit status passes through, and it is gVisor's kernel answering
    run_cell -7 run --backend oci --oci-runtime runsc --bind "$PROBE:/probe" -- /probe exit 7
    run_cell run --backend oci --oci-runtime runsc -- /bin/cat /proc/version
    expect_status 0
    [[ $output != "$(cat /proc/version)" ]] || { show; false; }
    # the default devices are there (runsc makes them: /dev is not read-only for it)
    run_cell run --backend oci --oci-runtime runsc -- /bin/sh -c 'echo x >/dev/null && head -c 3 /dev/zero | od -An -tx1'
    expect_status 0
    [[ $output == " 00 00 00" ]] || { show; false; }
    # no network (gVisor's own stack, loopback only); control: --net host
    local port
    port=$(free_port)
    start_listener "$port"
    under_runsc -- net 127.0.0.1 "$port"
    expect_blocked
    under_runsc --net host -- net 127.0.0.1 "$port"
    expect_escaped
    # a read-only root and /etc; control: a rw bind
    local name=cell-probe-$$-$RANDOM dir=$BATS_TEST_TMPDIR/data
    mkdir -p "$dir"
    for path in "/$name" "/etc/$name" "/usr/$name"; do
        under_runsc -- write "$path"
        expect_blocked
    done
    [[ ! -e /$name && ! -e /etc/$name && ! -e /usr/$name ]]
    under_runsc --bind "$dir:/data:rw" -- write /data/rw-file
    expect_escaped
    [[ $(cat "$dir/rw-file") == cell-probe ]]
    # no capabilities; control: --cap-add (not CAP_NET_RAW, which runsc
    # takes away unless started with --net-raw)
    under_runsc -- caps
    expect_blocked
    under_runsc --cap-add CAP_CHOWN -- caps
    expect_escaped
    # cell's seccomp profile inside the sandbox (--oci-seccomp); control: medium allows System V IPC
    under_runsc -- sysv
    expect_blocked
    under_runsc --profile medium -- sysv
    expect_escaped
    # nothing of the bundle or runsc's state under --root
    [[ -z $(find "$CELL_ROOT" -name 'cell-oci.*') ]] || { find "$CELL_ROOT"; false; }
}
