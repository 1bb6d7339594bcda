# rootless.bats - cell run by an unprivileged user (uid 65534 via setpriv):
# it works through a user namespace, stays isolated, and warns about limits
# it cannot apply.

load helpers

setup() {
    # the common setup, then a cell root the unprivileged user can write
    # (BATS_TEST_TMPDIR sits in a directory only root can enter)
    local d
    _common_setup || return 1
    d=$(world_tmpdir)
    export WORLD=$d
    export CELL_ROOT=$d/root
    mkdir -p "$CELL_ROOT"
    chown "$NOBODY:$NOBODY" "$CELL_ROOT"

    # the binaries must be usable by the unprivileged user
    setpriv --reuid "$NOBODY" --regid "$NOBODY" --clear-groups test -x "$CELL" || {
        echo "$CELL is not executable by uid $NOBODY (check directory permissions)"
        return 1
    }
    setpriv --reuid "$NOBODY" --regid "$NOBODY" --clear-groups test -r "$PROBE" || {
        echo "$PROBE is not readable by uid $NOBODY (check directory permissions)"
        return 1
    }
}

# run_rootless ARGS...: `cell --root $CELL_ROOT ARGS...` as uid/gid 65534, no groups.
run_rootless() {
    run --separate-stderr tracked setpriv --reuid "$NOBODY" --regid "$NOBODY" --clear-groups \
        "$CELL" --root "$CELL_ROOT" "$@"
}

# run_rootless_probe [OPTS...] -- PROBE ARGS...
run_rootless_probe() {
    probe_with run_rootless "$@"
}

@test "rootless: runs /bin/true" {
    run_rootless run -- /bin/true
    expect_status 0
    [[ -z $stderr ]] || { show; false; }
    run_rootless run -- /bin/false
    expect_status 1
}

@test "rootless: the user is root inside (mapped)" {
    run_rootless run -- id -u
    expect_status 0
    [[ $output == 0 ]] || { show; false; }
}

@test "rootless: files written to a rw bind belong to the caller on the host" {
    local dir=$WORLD/data
    mkdir -p "$dir"
    chown "$NOBODY:$NOBODY" "$dir"
    run_rootless_probe --bind "$dir:/data:rw" -- write /data/file
    expect_escaped
    [[ $(stat -c %u "$dir/file") == "$NOBODY" ]] || { stat "$dir/file"; false; }
}

@test "rootless: cannot write under /usr" {
    local name=cell-probe-$$-$RANDOM
    run_rootless_probe -- write "/usr/$name"
    expect_blocked
    [[ ! -e /usr/$name ]]
}

@test "rootless: cannot mount" {
    run_rootless_probe -- mount
    expect_blocked
    run_rootless_probe -- mount /usr
    expect_blocked
}

@test "rootless: cannot reach the host over the network" {
    local port
    port=$(free_port)
    start_listener "$port"
    run_rootless_probe -- net 127.0.0.1 "$port"
    expect_blocked
    # positive control
    run_rootless_probe --net host -- net 127.0.0.1 "$port"
    expect_escaped
}

@test "rootless: cannot see host pids" {
    run_rootless_probe -- pids $$
    expect_blocked
}

@test "rootless: has no capabilities" {
    run_rootless_probe -- caps
    expect_blocked
    expect_out "CapEff:	0000000000000000"
}

@test "rootless: --memory prints a warning naming --memory and still runs" {
    run_rootless_probe --memory 64M -- exit 0
    expect_status 0
    expect_err "warning:"
    expect_err "--memory"
    local line
    for line in "${stderr_lines[@]}"; do
        [[ $line == *warning:* && $line == *--memory* ]] && return 0
    done
    echo "no single warning line names --memory"
    show
    false
}

@test "rootless: --group and a group other than 0 are refused before start, naming why" {
    run_rootless run --group 5 -- /bin/true
    expect_status 125
    expect_one_error_line
    expect_err "--group"
    expect_err "setgroups"

    run_rootless run --user 0:5 -- /bin/true
    expect_status 125
    expect_one_error_line
    expect_err "--user 0:5"

    # control: 0:0 is what a rootless cell is, and it runs
    run_rootless run --user 0:0 -- /bin/true
    expect_status 0
}

@test "rootless: the caller's supplementary groups stay, unmapped (as documented)" {
    # a caller with groups keeps them: the kernel denies setgroups in its namespace
    run --separate-stderr tracked setpriv --reuid "$NOBODY" --regid "$NOBODY" --groups 4242 \
        "$CELL" --root "$CELL_ROOT" run -- /bin/cat /proc/self/status
    expect_status 0
    local groups
    groups=$(awk '/^Groups:/ {print $2}' <<<"$output")
    [[ $groups == 65534 ]] || { echo "Groups: '$groups'"; show; false; }
}
