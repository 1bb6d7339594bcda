# limits.bats - resource limits: memory (OOM kill reported), pids, rlimits,
# and the cgroup files that hold the limits while a cell runs.

load helpers

# cgroup_dir CONTROLLER NAME PID: where cell NAME (run by PID) must have its
# leaf in a v1 hierarchy: under our current cgroup in that hierarchy.
cgroup_dir() {
    local ctrl=$1 path
    path=$(awk -F: -v c="$ctrl" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' /proc/self/cgroup)
    path=${path%/}
    echo "/sys/fs/cgroup/$ctrl$path/cell.$2.$3"
}

# cgroup_v2_dir NAME PID: the leaf in the v2 (unified) hierarchy.
cgroup_v2_dir() {
    local path
    path=$(awk -F: '$1 == "0" { print $3 }' /proc/self/cgroup)
    path=${path%/}
    echo "/sys/fs/cgroup/unified$path/cell.$1.$2"
}

@test "memory limit: exceeding it kills the cell with 137 and says out of memory" {
    run_probe --memory 64M -- memory 512
    expect_status 137
    expect_err "cell cell: killed: out of memory (limit 64M)"
    # it got killed before reaching the limit
    local last
    last=$(sed -n 's/^allocated \([0-9]*\) MB$/\1/p' <<<"$output" | tail -1)
    [[ -z $last || $last -lt 64 ]] || { echo "allocated $last MB under a 64M limit"; show; false; }
    refute_out "ESCAPED"
}

@test "memory limit: staying under it runs normally (positive control)" {
    run_probe --memory 64M -- memory 16
    expect_escaped
    expect_out "ESCAPED: allocated and touched all 16 MB"
    [[ $stderr != *"out of memory"* ]] || { show; false; }
}

@test "pids limit: a fork bomb is contained and the cell exits normally" {
    run_probe --pids 20 -- forks 200
    expect_blocked
    expect_out "BLOCKED: fork 200 processes"
    local n
    n=$(sed -n 's/^forked \([0-9]*\) of 200$/\1/p' <<<"$output")
    [[ -n $n && $n -lt 20 ]] || { echo "forked '$n' under --pids 20"; show; false; }

    # positive control: under the limit every fork succeeds
    run_probe --pids 50 -- forks 10
    expect_escaped
    expect_out "forked 10 of 10"
}

@test "nofile rlimit caps open files" {
    run_probe --rlimit nofile=64 -- nofile 1000
    expect_blocked
    expect_out "highest fd 63)"
    expect_out "(Too many open files)"

    # positive control: a higher limit lets the probe open them all
    run_probe --rlimit nofile=1024 -- nofile 500
    expect_escaped
    expect_out "opened 500 files"
}

@test "rlimit soft and hard values both apply" {
    run_cell run --rlimit nofile=100:200 -- /bin/sh -c 'ulimit -Sn; ulimit -Hn'
    expect_status 0
    [[ $output == $'100\n200' ]] || { show; false; }
}

@test "a hard rlimit above the host's hard limit fails before start with 125" {
    [[ $(ulimit -Hn) -lt 99999999 ]]
    local marker=$BATS_TEST_TMPDIR/started
    run_cell run --rlimit nofile=1024:99999999 --bind "$BATS_TEST_TMPDIR:/out:rw" -- /bin/sh -c 'touch /out/started'
    expect_status 125
    expect_err "nofile"
    expect_one_error_line
    [[ ! -e $marker ]] || { echo "the workload ran"; false; }
}

@test "cgroup files hold the limits while the cell runs" {
    local name=lim$$ pid
    start_cell "$BATS_TEST_TMPDIR/out" run --name "$name" --memory 64M --pids 20 --cpus 0.5 -- sleep 30
    pid=$CELL_PID

    local mem pids cpu v2
    mem=$(cgroup_dir memory "$name" "$pid")
    pids=$(cgroup_dir pids "$name" "$pid")
    cpu=$(cgroup_dir cpu "$name" "$pid")
    v2=$(cgroup_v2_dir "$name" "$pid")
    wait_until 10 test -e "$mem/memory.limit_in_bytes" -a -e "$pids/pids.max" -a -e "$cpu/cpu.cfs_quota_us" || {
        echo "cgroup dirs of cell.$name.$pid not where expected; found:"
        cell_cgroups "$name"
        cat "$BATS_TEST_TMPDIR/out.err"
        false
    }
    [[ -d $v2 ]] || { echo "no v2 leaf at $v2; found:"; cell_cgroups "$name"; false; }

    [[ $(cat "$mem/memory.limit_in_bytes") == 67108864 ]] || { echo "memory.limit_in_bytes: $(cat "$mem/memory.limit_in_bytes")"; false; }
    [[ $(cat "$pids/pids.max") == 20 ]] || { echo "pids.max: $(cat "$pids/pids.max")"; false; }
    local quota period
    quota=$(cat "$cpu/cpu.cfs_quota_us")
    period=$(cat "$cpu/cpu.cfs_period_us")
    [[ $((quota * 2)) -eq $period ]] || { echo "cpu.cfs_quota_us=$quota cpu.cfs_period_us=$period (want half)"; false; }

    # the workload is inside them
    local procs
    procs=$(find "$mem" -name cgroup.procs -exec cat {} + 2>/dev/null || true)
    [[ -n $procs ]] || { echo "no process in $mem"; false; }

    kill -TERM "$pid"
    wait "$pid" || true
    wait_until 10 test -z "$(cell_cgroups "$name" "$pid")" || { echo "cgroups left:"; cell_cgroups "$name"; false; }
}
