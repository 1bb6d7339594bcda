# cli.bats - the command line itself: version and help output.

load helpers

@test "cell --version prints the version, and the OCI runtime spec's (as runc does)" {
    run_cell --version
    expect_status 0
    expect_out "0.1.0"
    [[ ${lines[1]} == "spec: 1.2.0"* ]] || { show; false; }
}

@test "cell help lists the commands" {
    run_cell help
    expect_status 0
    expect_out "run"
    expect_out "help"
}

@test "cell help run describes the run options" {
    run_cell help run
    expect_status 0
    local opt
    for opt in --name --rootfs --bind --tmpfs --net --userns --user --group --hostname --cap-add \
        --profile --memory --pids --cpus --rlimit --env --env-clear --cwd --preserve-fd --timeout --tty; do
        expect_out "$opt" || return 1
    done
}

@test "cell run --help describes the run options" {
    run_cell run --help
    expect_status 0
    local opt
    for opt in --bind --memory --profile --timeout; do
        expect_out "$opt" || return 1
    done
    [[ -z $stderr ]] || { show; false; }
}
