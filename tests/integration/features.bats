# features.bats - options of `cell run` that change what a cell looks like:
# --rootfs (a directory as the read-only root, with /proc, /dev and /tmp
# supplied by the sandbox), --userns as root (uid mapping to host 100000+),
# --tmpfs (a private writable directory) and --cpus (CFS quota on the v1 cpu
# hierarchy, with the workload actually throttled). Each test has a positive
# or negative control, so a broken implementation fails it.

load helpers

# ---- --rootfs ----------------------------------------------------------------

# make_rootfs DIR: a minimal root: only the static probe and a marker file.
make_rootfs() {
    mkdir -p "$1"
    cp "$PROBE" "$1/probe"
    chmod 0755 "$1/probe"
    echo rootfs-marker >"$1/marker"
}

@test "--rootfs: a directory becomes the read-only root" {
    local root=$BATS_TEST_TMPDIR/rootfs
    make_rootfs "$root"

    run_cell run --rootfs "$root" -- /probe whoami
    expect_status 0
    expect_out "uid=0 gid=0"

    # the rootfs' own file is there (positive control for the reads below)
    run_cell run --rootfs "$root" -- /probe read /marker
    expect_escaped
    expect_out "ESCAPED: read 14 bytes from /marker"

    # ... and it is read-only: no new file, no change to an existing one
    run_cell run --rootfs "$root" -- /probe write /newfile
    expect_blocked
    expect_out "BLOCKED: write /newfile (Read-only file system)"
    [[ ! -e $root/newfile ]] || { echo "/newfile appeared in the rootfs"; false; }

    run_cell run --rootfs "$root" -- /probe write /marker
    expect_blocked
    expect_out "BLOCKED: write /marker (Read-only file system)"
    [[ $(cat "$root/marker") == rootfs-marker ]] || { echo "marker changed: $(cat "$root/marker")"; false; }

    # the host's system directories are not there
    run_cell run --rootfs "$root" -- /probe read /usr/bin/env
    expect_blocked
    expect_out "BLOCKED: read /usr/bin/env (No such file or directory)"
    run_cell run --rootfs "$root" -- /probe read /etc/passwd
    expect_blocked
    expect_out "BLOCKED: read /etc/passwd (No such file or directory)"
    # a host command cannot even be found
    run_cell -127 run --rootfs "$root" -- /usr/bin/env

    # positive control: without --rootfs the same paths are the host's
    run_probe -- read /usr/bin/env
    expect_escaped
    run_probe -- read /marker
    expect_blocked
    expect_out "BLOCKED: read /marker (No such file or directory)"
}

@test "--rootfs: /proc, /dev and /tmp are provided even when the rootfs lacks them" {
    local root=$BATS_TEST_TMPDIR/rootfs
    make_rootfs "$root"
    [[ ! -e $root/proc && ! -e $root/dev && ! -e $root/tmp ]]

    # a procfs of the cell's own pid namespace
    run_cell run --rootfs "$root" -- /probe read /proc/self/status
    expect_escaped
    expect_out "ESCAPED: read "
    run_cell run --rootfs "$root" -- /probe pids $$
    expect_blocked
    expect_out "BLOCKED: see host pid $$ in /proc"

    # /dev/null and /dev/zero are devices (a regular file could not even be
    # created on the read-only root, and would not read as endless zeros)
    run_cell run --rootfs "$root" -- /probe write /dev/null
    expect_escaped
    expect_out "ESCAPED: write /dev/null"
    run_cell run --rootfs "$root" -- /probe read /dev/zero
    expect_escaped
    expect_out "ESCAPED: read 4096 bytes from /dev/zero"

    # /tmp is writable
    run_cell run --rootfs "$root" -- /probe write /tmp/file
    expect_escaped
    expect_out "ESCAPED: write /tmp/file"

    # and providing them did not write into the rootfs directory
    local entries
    entries=$(cd "$root" && find . -mindepth 1 | sort | tr '\n' ' ')
    [[ $entries == "./marker ./probe " ]] || { echo "rootfs now holds: $entries"; false; }
}

# ---- --layer ---------------------------------------------------------------------

@test "--layer: the layer's files show on the root, which stays read-only" {
    local root=$BATS_TEST_TMPDIR/rootfs layer=$BATS_TEST_TMPDIR/layer
    make_rootfs "$root"
    mkdir -p "$layer/upper/srv"
    echo layered >"$layer/upper/srv/page"

    # on a rootfs: the rootfs's own file and the layer's file are both there
    run_cell run --rootfs "$root" --layer "$layer" -- /probe read /srv/page
    expect_escaped
    expect_out "ESCAPED: read 8 bytes from /srv/page"
    run_cell run --rootfs "$root" --layer "$layer" -- /probe read /marker
    expect_escaped

    # the cell can change neither: the root is read-only as without a layer
    run_cell run --rootfs "$root" --layer "$layer" -- /probe write /srv/page
    expect_blocked
    expect_out "(Read-only file system)"
    run_cell run --rootfs "$root" --layer "$layer" -- /probe write /newfile
    expect_blocked
    [[ $(cat "$layer/upper/srv/page") == layered && ! -e $layer/upper/newfile && ! -e $root/newfile ]]
    # nothing was written into the rootfs
    [[ $(cd "$root" && find . -mindepth 1 | sort | tr '\n' ' ') == "./marker ./probe " ]]

    # on the host's system directories: the layer's file, and the host's /usr
    local plain=$BATS_TEST_TMPDIR/plain
    mkdir -p "$plain/upper/srv"
    echo layered >"$plain/upper/srv/page"
    run_probe --layer "$plain" -- read /srv/page
    expect_escaped
    run_probe --layer "$plain" -- read /usr/bin/env
    expect_escaped
    run_probe --layer "$plain" -- write /srv/new
    expect_blocked
    [[ ! -e $plain/upper/srv/new ]]
}

@test "--layer: a missing or relative layer is refused before anything runs" {
    run_cell run --layer "$BATS_TEST_TMPDIR/nope" -- /bin/true
    expect_status 125
    expect_err "layer $BATS_TEST_TMPDIR/nope: No such file or directory"
    run_cell run --layer relative -- /bin/true
    expect_status 125
    expect_err 'layer "relative" is not an absolute path'
    mkdir -p "$BATS_TEST_TMPDIR/a,b"
    run_cell run --layer "$BATS_TEST_TMPDIR/a,b" -- /bin/true
    expect_status 125
    expect_err "may not hold ',' or ':'"
}

# ---- --userns as root --------------------------------------------------------

@test "--userns as root: uid 0 inside is host uid 100000" {
    local world dir
    world=$(world_tmpdir)
    dir=$world/data
    mkdir "$dir"
    chmod 0777 "$dir"

    run_probe --userns -- whoami
    expect_status 0
    expect_out "uid=0 gid=0"

    run_cell run --userns -- cat /proc/self/uid_map /proc/self/gid_map
    expect_status 0
    [[ $(awk '{ print $1, $2, $3 }' <<<"$output" | sort -u) == "0 100000 65536" ]] || {
        echo "unexpected uid/gid maps"
        show
        false
    }

    # a file written to a rw bind belongs to the mapped ids on the host
    run_probe --userns --bind "$dir:/data:rw" -- write /data/as-root
    expect_escaped
    expect_out "ESCAPED: write /data/as-root"
    [[ $(stat -c %u:%g "$dir/as-root") == 100000:100000 ]] || { stat "$dir/as-root"; false; }

    run_probe --userns --user 1000 -- whoami
    expect_status 0
    expect_out "uid=1000 gid=1000"
    run_probe --userns --user 1000 --bind "$dir:/data:rw" -- write /data/as-1000
    expect_escaped
    [[ $(stat -c %u:%g "$dir/as-1000") == 101000:101000 ]] || { stat "$dir/as-1000"; false; }

    # control: without --userns, cell uid 0 is host uid 0
    run_probe --bind "$dir:/data:rw" -- write /data/no-userns
    expect_escaped
    [[ $(stat -c %u:%g "$dir/no-userns") == 0:0 ]] || { stat "$dir/no-userns"; false; }
}

@test "--userns as root: the cell's root cannot write a directory owned by host root" {
    local world dir
    world=$(world_tmpdir)
    dir=$world/rootonly
    mkdir "$dir"
    chmod 0755 "$dir"

    # uid 0 inside is 100000 outside: "other" for a root-owned 0755 directory
    run_probe --userns --bind "$dir:/data:rw" -- write /data/file
    expect_blocked
    expect_out "BLOCKED: write /data/file (Permission denied)"
    [[ ! -e $dir/file ]]

    # control: without --userns the cell's uid 0 owns it and can write
    run_probe --bind "$dir:/data:rw" -- write /data/file
    expect_escaped
    [[ -f $dir/file ]]
}

# ---- --tmpfs -------------------------------------------------------------------

@test "--tmpfs DST gives a private writable directory" {
    local name=cell-probe-$$-$RANDOM

    # a new directory that exists nowhere on the host
    run_probe --tmpfs /scratch -- write "/scratch/$name"
    expect_escaped
    expect_out "ESCAPED: write /scratch/$name"
    [[ ! -e /scratch ]] || { echo "/scratch appeared on the host"; false; }

    # private to that cell: a new cell's tmpfs starts empty
    run_probe --tmpfs /scratch -- read "/scratch/$name"
    expect_blocked
    expect_out "(No such file or directory)"

    # the same path without --tmpfs: the root is read-only
    run_probe -- write "/scratch/$name"
    expect_blocked

    # over a read-only host directory: writable inside, nothing on the host
    run_probe --tmpfs /usr/local -- write "/usr/local/$name"
    expect_escaped
    expect_out "ESCAPED: write /usr/local/$name"
    [[ ! -e /usr/local/$name ]] || {
        rm -f "/usr/local/$name"
        echo "the write reached the host's /usr/local"
        false
    }

    # control: without --tmpfs, /usr/local is the host's, read-only
    run_probe -- write "/usr/local/$name"
    expect_blocked
    expect_out "BLOCKED: write /usr/local/$name (Read-only file system)"
    [[ ! -e /usr/local/$name ]]
}

# ---- --cpus ------------------------------------------------------------------------

# cpu_cgroup_dir NAME PID: where cell NAME (run by PID) must have its v1 cpu
# leaf: under our own cgroup in the cpu hierarchy.
cpu_cgroup_dir() {
    local path
    path=$(awk -F: '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == "cpu") print $3 }' /proc/self/cgroup)
    path=${path%/}
    echo "/sys/fs/cgroup/cpu$path/cell.$1.$2"
}

# throttled DIR: cpu.stat in DIR reports nr_throttled > 0.
throttled() {
    local n
    n=$(awk '$1 == "nr_throttled" { print $2 }' "$1/cpu.stat" 2>/dev/null)
    [[ -n $n && $n -gt 0 ]]
}

@test "--cpus limits CPU time" {
    if [[ $(stat -fc %T /sys/fs/cgroup/cpu 2>/dev/null) != cgroupfs ]] ||
        [[ ! -e /sys/fs/cgroup/cpu/cpu.cfs_quota_us ]] ||
        ! awk -F: '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == "cpu") f = 1 } END { exit !f }' /proc/self/cgroup; then
        skip "/sys/fs/cgroup/cpu is not a cgroup v1 cpu hierarchy (this test checks the v1 path)"
    fi

    local name=cpus$$-$RANDOM pid dir
    start_cell "$BATS_TEST_TMPDIR/out" run --name "$name" --cpus 0.2 --timeout 300 \
        -- /bin/sh -c 'while :; do :; done'
    pid=$CELL_PID
    dir=$(cpu_cgroup_dir "$name" "$pid")

    wait_until 10 test -e "$dir/cpu.stat" || {
        echo "no cpu cgroup at $dir; found:"
        cell_cgroups "$name"
        cat "$BATS_TEST_TMPDIR/out.err"
        false
    }
    [[ $(cat "$dir/cpu.cfs_quota_us") == 20000 ]] || { echo "cpu.cfs_quota_us: $(cat "$dir/cpu.cfs_quota_us")"; false; }
    [[ $(cat "$dir/cpu.cfs_period_us") == 100000 ]] || { echo "cpu.cfs_period_us: $(cat "$dir/cpu.cfs_period_us")"; false; }

    # the busy loop is in that cgroup and gets throttled
    wait_until 10 test -n "$(cat "$dir/tasks" 2>/dev/null)" || { echo "no task in $dir"; false; }
    wait_until 30 throttled "$dir" || {
        echo "never throttled:"
        cat "$dir/cpu.stat"
        cat "$BATS_TEST_TMPDIR/out.err"
        false
    }
    local throttled_time
    throttled_time=$(awk '$1 == "throttled_time" { print $2 }' "$dir/cpu.stat")
    [[ $throttled_time -gt 0 ]] || { cat "$dir/cpu.stat"; false; }

    # stop it: TERM to `cell run` is forwarded, the shell dies of it
    kill -TERM "$pid"
    local status=0
    wait "$pid" || status=$?
    [[ $status -eq 143 ]] || { echo "cell run exited $status after SIGTERM (want 143)"; cat "$BATS_TEST_TMPDIR/out.err"; false; }
    if kill -0 "$pid" 2>/dev/null; then echo "cell run ($pid) still alive"; false; fi
    wait_until 10 test -z "$(cell_cgroups "$name" "$pid")" || { echo "cgroups left:"; cell_cgroups "$name"; false; }
}

@test "examples/busybox-rootfs.sh runs a cell on a one-binary root" {
    command -v busybox >/dev/null && ! ldd "$(command -v busybox)" >/dev/null 2>&1 ||
        skip "busybox-static is not installed"
    run --separate-stderr tracked env CELL="$CELL" "$REPO/examples/busybox-rootfs.sh" "$BATS_TEST_TMPDIR/rootfs"
    expect_status 0
    expect_out "hello from tiny, running as 0"
    expect_out "root holds: bin dev proc tmp"
    expect_out "and / is read-only"
    [[ ! -e $BATS_TEST_TMPDIR/rootfs/bin/new ]]
}

@test "examples/sandboxed-build.sh builds in the tree, and only there" {
    local src=$BATS_TEST_TMPDIR/src
    mkdir -p "$src"
    printf 'all:\n\t@echo built in $$(pwd); touch out\n\t@touch /usr/escaped 2>/dev/null || echo no-write-outside\n' >"$src/Makefile"
    command -v make >/dev/null || skip "make is not installed"
    run --separate-stderr tracked env CELL="$CELL" "$REPO/examples/sandboxed-build.sh" "$src"
    expect_status 0
    expect_out "built in /src"
    expect_out "no-write-outside"
    [[ -f $src/out && ! -e /usr/escaped ]]
}
