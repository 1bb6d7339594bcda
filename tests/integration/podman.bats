# podman.bats - the real podman driving cell as its OCI runtime (podman
# --runtime build/cell): run --rm, run -d then stop and rm, a failing command's
# status, and the container's isolation as cell gives it. podman keeps all of
# its state under the test's directory (--root, --runroot, --tmpdir, vfs
# storage, a busybox image made with podman import; cell's --root through
# --runtime-flag); the host's flags are
# those ENVIRONMENT.md says this machine needs (ulimits within its hard limits).
# Most tests choose cell's own seccomp profile with the run.cell.profile
# annotation (podman always sends its own profile, which the annotation
# replaces); one runs without it, under podman's own profile (and one given
# with --security-opt seccomp=FILE), compiled and applied by cell.

load helpers

setup() {
    _common_setup
    command -v podman >/dev/null || skip "podman is not installed (make deps-test installs it)"
    PM=$BATS_TEST_TMPDIR/podman
    mkdir -p "$PM/rootfs/bin" "$PM/tmp"
    cp /bin/busybox "$PM/rootfs/bin/"
    for a in sh echo cat ls id hostname sleep touch; do ln -s busybox "$PM/rootfs/bin/$a"; done
    tar -C "$PM/rootfs" -cf "$PM/rootfs.tar" .
    pm import "$PM/rootfs.tar" localhost/cell-bb:1 >/dev/null
}

teardown() {
    pm rm --all --force >/dev/null 2>&1 || true
    # podman's storage: vfs layers only, under the test's directory
    local failed=0
    no_cell_state || failed=1
    rm -rf "$PM"
    _residue_teardown || failed=1
    return "$failed"
}

pm() {
    (tracked podman --root "$PM/root" --runroot "$PM/runroot" --tmpdir "$PM/tmp" --storage-driver vfs \
        --cgroup-manager cgroupfs --events-backend file --runtime "$CELL" "$@")
}

# podman runs its cleanup (cell delete) without --runtime-flag, so cell keeps
# these containers' state where it does by default, /run/cell/oci: the test
# checks that none of its own containers (their ids from --cidfile) is left
no_cell_state() {
    local cid id
    for cid in "$PM"/cid.*; do
        [[ -e $cid ]] || continue
        id=$(cat "$cid")
        # podman's cleanup may still be on its way
        wait_until 10 test ! -e "/run/cell/oci/$id" || { echo "residue: /run/cell/oci/$id"; return 1; }
    done
}

# pmrun ARGS...: podman run, its container id kept for no_cell_state
pmrun() {
    pm run --cidfile "$PM/cid.$RANDOM$RANDOM" "$@"
}

# the flags every run needs here
RUN_FLAGS=(--network none --annotation run.cell.profile=high --ulimit nofile=20000:20000 --ulimit nproc=1000:1000)

@test "podman: run --rm prints the program's output, through cell" {
    run pmrun --rm "${RUN_FLAGS[@]}" localhost/cell-bb:1 sh -c 'echo hello from podman; id'
    [[ $status -eq 0 ]] || { echo "$output"; false; }
    [[ $output == *"hello from podman"* && $output == *"uid=0 gid=0"* ]]
    # cell's state for it is gone again
    no_cell_state
}

@test "podman: run -t gives the program a terminal (cell create --console-socket)" {
    run pmrun --rm -t "${RUN_FLAGS[@]}" localhost/cell-bb:1 sh -c 'tty; echo with-tty'
    [[ $status -eq 0 && $output == *"/dev/pts/0"* && $output == *"with-tty"* ]] || { echo "$output"; false; }
}

@test "podman: a failing program's exit status comes through" {
    run pmrun --rm "${RUN_FLAGS[@]}" localhost/cell-bb:1 sh -c 'exit 42'
    [[ $status -eq 42 ]] || { echo "$output"; false; }
}

@test "podman: run -d, exec (-t too), stop and rm; nothing is left" {
    local id
    id=$(pmrun -d "${RUN_FLAGS[@]}" localhost/cell-bb:1 sleep 1000 2>/dev/null)
    [[ -n $id ]]
    [[ $(pm inspect --format '{{.State.Status}}' "$id") == running ]]
    # cell knows it as an OCI container
    env -u CELL_ROOT "$CELL" state "$id" | grep -q '"status": "running"'
    # its cgroups are where podman said (cgroupsPath), so podman stats reads them
    local pid
    pid=$(pm inspect --format '{{.State.Pid}}' "$id")
    grep -q "^0::/libpod_parent/libpod-$id\$" "/proc/$pid/cgroup" || { cat "/proc/$pid/cgroup"; false; }
    run pm stats --no-stream --format '{{.ID}} {{.PIDs}}' "$id"
    [[ $status -eq 0 && $output == "${id:0:12} "[1-9]* ]] || { echo "$output"; false; }
    # podman exec: through cell exec --process
    run pm exec "$id" sh -c 'echo exec ok; exit 3'
    [[ $status -eq 3 && $output == *"exec ok"* ]] || { echo "$output"; false; }
    # podman exec -t: a terminal (cell exec --tty --console-socket)
    run pm exec -t "$id" sh -c 'tty; echo exec-tty'
    [[ $status -eq 0 && $output == *"/dev/pts/"* && $output == *"exec-tty"* ]] || { echo "$output"; false; }
    pm stop -t 5 "$id" >/dev/null
    [[ $(pm inspect --format '{{.State.Status}}' "$id") == exited ]]
    pm rm "$id" >/dev/null
    run env -u CELL_ROOT "$CELL" state "$id"
    [[ $status -eq 1 && $output == *"does not exist"* ]]
}

@test "podman: the container is isolated as cell promises: no network, read-only /proc/sys, no capabilities to mount" {
    run pmrun --rm "${RUN_FLAGS[@]}" localhost/cell-bb:1 sh -c \
        'ls /sys/class/net; (echo 1 > /proc/sys/kernel/domainname) 2>&1; mount -t tmpfs x /tmp 2>&1; echo done'
    [[ $status -eq 0 ]] || { echo "$output"; false; }
    [[ $output == *"lo"* && $output != *"eth"* ]]
    [[ $output == *"Read-only file system"* ]]
    [[ $output == *"done"* && $output != *"mounted"* ]]
    [[ $output == *"denied"* || $output == *"not permitted"* ]]
}

@test "podman: without run.cell.profile, podman's own seccomp profile is applied (and --security-opt seccomp=FILE)" {
    local flags=(--network none --ulimit nofile=20000:20000 --ulimit nproc=1000:1000)
    run pmrun --rm "${flags[@]}" localhost/cell-bb:1 sh -c 'echo under podman profile; id; mkdir -p /x/d && echo made'
    [[ $status -eq 0 ]] || { echo "$output"; false; }
    [[ $output == *"under podman profile"* && $output == *"uid=0 gid=0"* && $output == *"made"* ]]
    # a profile of one's own: mkdir denied, the rest allowed
    cat >"$PM/seccomp.json" <<'JSON'
{"defaultAction": "SCMP_ACT_ALLOW",
 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}
JSON
    run pmrun --rm "${flags[@]}" --security-opt seccomp="$PM/seccomp.json" localhost/cell-bb:1 sh -c \
        'mkdir -p /x/d 2>&1; echo after'
    [[ $status -eq 0 ]] || { echo "$output"; false; }
    [[ $output == *"Operation not permitted"* && $output == *"after"* ]]
    no_cell_state
}

@test "podman: --device gives the container that device (linux.devices and its rule); without it the node is denied" {
    # /dev/kmsg opened for writing: only the device list decides (nothing is written)
    run pmrun --rm "${RUN_FLAGS[@]}" --device /dev/kmsg:/dev/kmsg:w localhost/cell-bb:1 sh -c \
        'ls -l /dev/kmsg; (: >/dev/kmsg) && echo opened'
    [[ $status -eq 0 && $output == *"opened"* ]] || { echo "$output"; false; }
    # without --device: bound in by hand, the cgroup still says no
    run pmrun --rm "${RUN_FLAGS[@]}" -v /dev/kmsg:/host-kmsg localhost/cell-bb:1 sh -c \
        '(: >/host-kmsg) 2>&1 || echo denied'
    [[ $status -eq 0 && $output == *"denied"* && $output != *"opened"* ]] || { echo "$output"; false; }
    no_cell_state
}
