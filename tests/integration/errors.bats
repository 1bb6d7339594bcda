# errors.bats - bad input: each mistake gives exactly one clear stderr line
# naming the offending value, a non-zero exit, and leaves nothing behind
# (teardown checks cgroups, processes, mounts and files).

load helpers

# expect_error VALUE: non-zero exit, one "cell: ..." line on stderr naming VALUE,
# nothing on stdout.
expect_error() {
    if [[ $status -eq 0 ]]; then
        echo "expected a non-zero exit"
        show
        return 1
    fi
    expect_one_error_line || return 1
    expect_err "$1" || return 1
    if [[ -n $output ]]; then
        echo "expected nothing on stdout"
        show
        return 1
    fi
}

@test "unknown flag" {
    run_cell run --bogus -- /bin/true
    expect_error "--bogus"
}

@test "malformed size" {
    run_cell run --memory 64Q -- /bin/true
    expect_error "64Q"
}

@test "missing rootfs" {
    run_cell run --rootfs /nonexistent -- /bin/true
    expect_error "/nonexistent"
}

@test "non-absolute bind target" {
    run_cell run --bind /tmp:relative -- /bin/true
    expect_error "relative"
}

@test "missing bind source" {
    run_cell run --bind /nonexistent-src:/data -- /bin/true
    expect_error "/nonexistent-src"
}

@test "unknown profile" {
    run_cell run --profile extreme -- /bin/true
    expect_error "extreme"
}

@test "unknown capability" {
    run_cell run --cap-add CAP_FLY -- /bin/true
    expect_error "CAP_FLY"
}

@test "malformed rlimit" {
    run_cell run --rlimit bogus=1 -- /bin/true
    expect_error "bogus"
}

@test "limit above the hard limit" {
    run_cell run --rlimit nofile=1024:99999999 -- /bin/true
    expect_status 125
    expect_error "nofile"
}

@test "invalid cell name" {
    run_cell run --name 'bad/name' -- /bin/true
    expect_error "bad/name"
}

@test "missing command" {
    run_cell run --
    expect_error "command"
    run_cell run
    expect_error "command"
}

@test "unknown command" {
    run_cell frobnicate
    expect_error "frobnicate"
}

@test "command not found inside the cell" {
    run_cell -127 run -- /no-such-binary
    expect_status 127
    expect_error "/no-such-binary"
}

@test "a setup failure inside the cell names the path, exits 125, and leaves no cgroup" {
    # /usr is read-only inside, so a mount point under it cannot be made;
    # with limits, so the cgroups made while init set up must go again
    run_cell -125 run --memory 64M --pids 50 --bind "$BATS_TEST_TMPDIR:/usr/cell-test-newdir" -- /bin/true
    expect_error "create directory /usr/cell-test-newdir: Read-only file system"
    [[ $stderr != *"Read-only file system: Read-only file system"* ]] || { show; false; }
    [[ ! -e /usr/cell-test-newdir ]]
}

@test "every cell run option error is one line naming the option" {
    local groups=() fds=() i
    for i in $(seq 1 33); do groups+=(--group "$i"); done
    for i in $(seq 3 19); do fds+=(--preserve-fd "$i"); done

    run_cell run --memory
    expect_error 'option "--memory" needs a value'
    run_cell run --env CELL_TEST_SURELY_UNSET_VARIABLE -- /bin/true
    expect_error "--env CELL_TEST_SURELY_UNSET_VARIABLE: not set"
    run_cell run --tmpfs scratch -- /bin/true
    expect_error '--tmpfs "scratch": not an absolute path'
    run_cell run "${groups[@]}" -- /bin/true
    expect_error "--group: at most 32 groups"
    run_cell run --pids 0 -- /bin/true
    expect_error "--pids 0"
    run_cell run "${fds[@]}" -- /bin/true
    expect_error "--preserve-fd: at most 16"
    run_cell run --timeout 0 -- /bin/true
    expect_error "--timeout 0"
    run_cell run --timeout soon -- /bin/true
    expect_error "soon"
    run_cell run --cpus 0 -- /bin/true
    expect_error "--cpus"
    run_cell run --user nobody -- /bin/true
    expect_error "nobody"
    run_cell run --net bridge -- /bin/true
    expect_error "bridge"
    run_cell run -d --listen --listen-type tcp -- /bin/true
    expect_error '--listen-type "tcp": give stream (the default) or seqpacket'
    run_cell run -d --listen-type seqpacket -- /bin/true
    expect_error "--listen-type: only with --listen"
    run_cell run --listen --listen-type seqpacket -- /bin/true
    expect_error "--listen: only for a supervised cell (add -d)"
}

@test "global and help errors are one line naming what was wrong" {
    run --separate-stderr tracked "$CELL" --root relative/dir run -- /bin/true
    expect_error '--root "relative/dir": not an absolute path'
    run --separate-stderr tracked "$CELL" --bogus
    expect_error '"--bogus"'
    run --separate-stderr tracked "$CELL" help bogus
    expect_error 'help: unknown command "bogus"'
}
