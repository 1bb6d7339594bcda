# containerd.bats - the real containerd (the Kubernetes node runtime) running
# containers on cell: a private containerd started by the test (its own
# config, sockets, root and state under the test's directory), a busybox
# image imported with ctr, and `ctr run --runc-binary build/cell`, which goes
# through containerd-shim-runc-v2 calling cell as it calls runc (--root,
# --log FILE --log-format json, create/start/delete). Everything the test
# started is stopped and removed again, /run/containerd's directories too
# when the test made them (the shim gives cell --root
# /run/containerd/runc/default, so its state is there meanwhile).

load helpers

setup() {
    _common_setup
    command -v containerd >/dev/null && command -v podman >/dev/null ||
        skip "containerd and podman are not installed (make deps-test installs them)"
    CD=$BATS_TEST_TMPDIR/containerd
    mkdir -p "$CD/rootfs/bin" "$CD/pm"
    [[ -e /run/containerd ]] && RUN_CONTAINERD_WAS_THERE=1 || RUN_CONTAINERD_WAS_THERE=0
    # ctr's containers have cgroupsPath /default/ID: the "default" parents
    # cell makes (and leaves, as runc does) go in teardown when new
    CGROUP_PARENTS_NEW=()
    local d
    for d in /sys/fs/cgroup/unified /sys/fs/cgroup /sys/fs/cgroup/{memory,pids,cpu,devices,blkio}; do
        [[ -d $d && ! -e $d/default ]] && CGROUP_PARENTS_NEW+=("$d/default")
    done
    cat >"$CD/config.toml" <<EOF
version = 2
root = "$CD/root"
state = "$CD/state"
[grpc]
  address = "$CD/containerd.sock"
[ttrpc]
  address = "$CD/containerd-ttrpc.sock"
[debug]
  address = "$CD/debug.sock"
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  disable = true
EOF
    containerd --config "$CD/config.toml" >"$CD/log" 2>&1 &
    CD_PID=$!
    echo "$CD_PID" >>"$BATS_TEST_TMPDIR/.host-pids"
    wait_until 20 ctr -a "$CD/containerd.sock" version
    # a busybox image: made with podman (a private store), saved as an OCI archive
    cp /bin/busybox "$CD/rootfs/bin/"
    for a in sh echo cat hostname sleep id; do ln -s busybox "$CD/rootfs/bin/$a"; done
    tar -C "$CD/rootfs" -cf "$CD/rootfs.tar" .
    local pm=(podman --root "$CD/pm/root" --runroot "$CD/pm/runroot" --tmpdir "$CD/pm" --storage-driver vfs)
    "${pm[@]}" import "$CD/rootfs.tar" localhost/cell-bb:1 >/dev/null
    "${pm[@]}" save --format oci-archive -o "$CD/image.tar" localhost/cell-bb:1 >/dev/null 2>&1
    ctr -a "$CD/containerd.sock" images import --base-name localhost/cell-bb "$CD/image.tar" >/dev/null
}

teardown() {
    local id
    for id in $(c containers ls -q 2>/dev/null); do
        c tasks kill -s KILL "$id" >/dev/null 2>&1 || true
        c tasks delete -f "$id" >/dev/null 2>&1 || true
        c containers rm "$id" >/dev/null 2>&1 || true
    done
    if [[ -n ${CD_PID:-} ]]; then
        kill "$CD_PID" 2>/dev/null || true
        wait "$CD_PID" 2>/dev/null || true
    fi
    rm -rf "$CD"
    local d
    for d in "${CGROUP_PARENTS_NEW[@]}"; do
        [[ ! -d $d ]] || rmdir "$d" || { echo "residue: $d is not empty"; return 1; }
    done
    # containerd's shared directories and cell's state directory in them,
    # when this test made them (and they are empty)
    if [[ ${RUN_CONTAINERD_WAS_THERE:-1} == 0 ]]; then
        rmdir "$STATE" /run/containerd/runc/default/run /run/containerd/fifo /run/containerd/s \
            /run/containerd/runc/default /run/containerd/runc /run/containerd 2>/dev/null || true
        [[ ! -e /run/containerd ]] || { echo "residue: /run/containerd:"; find /run/containerd; return 1; }
    fi
    _residue_teardown
}

c() {
    (tracked ctr -a "$CD/containerd.sock" "$@")
}

# cell as the shim's runtime. The shim calls it with --root
# /run/containerd/runc/NAMESPACE whatever ctr's --runc-root says (containerd
# 1.6), so cell keeps these containers' state in STATE
RUNC=(--runc-binary "$CELL")
STATE=/run/containerd/runc/default/run/oci

@test "containerd: ctr run --rm runs the program on cell and passes its status through" {
    run c run "${RUNC[@]}" --rm localhost/cell-bb:1 t1 sh -c 'echo hello from containerd; hostname'
    [[ $status -eq 0 && $output == *"hello from containerd"* ]] || { echo "$output"; cat "$CD/log"; false; }
    run c run "${RUNC[@]}" --rm localhost/cell-bb:1 t2 sh -c 'exit 7'
    [[ $status -eq 7 ]] || { echo "$output"; false; }
    # cell's state for them is gone
    [[ ! -e $STATE/t1 && ! -e $STATE/t2 ]]
}

@test "containerd: a task started detached: exec in it, kill it, delete it" {
    c run "${RUNC[@]}" -d localhost/cell-bb:1 t3 sleep 1000
    [[ $(c tasks ls | awk '$1 == "t3" {print $3}') == RUNNING ]]
    # its cgroups are where containerd said (cgroupsPath /default/t3)
    local pid
    pid=$(c tasks ls | awk '$1 == "t3" {print $2}')
    grep -q '^0::/default/t3$' "/proc/$pid/cgroup" || { cat "/proc/$pid/cgroup"; false; }
    run c tasks exec --exec-id e1 t3 sh -c 'echo exec in containerd; exit 4'
    [[ $status -eq 4 && $output == *"exec in containerd"* ]] || { echo "$output"; false; }
    c tasks kill -s KILL t3
    wait_until 20 bash -c "ctr -a '$CD/containerd.sock' tasks ls | awk '\$1 == \"t3\" {print \$3}' | grep -q STOPPED"
    c tasks delete t3 >/dev/null
    "$CELL" --root /run/containerd/runc/default state t3 | grep -q '"status": "stopped"' ||
        [[ ! -e $STATE/t3 ]]
    c containers rm t3
    [[ ! -e $STATE/t3 ]]
}
