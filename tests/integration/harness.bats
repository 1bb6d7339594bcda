#!/usr/bin/env bats
# harness.bats - the residue check itself: it claims what a test's cells
# leave behind, and never a process that is not the test's (the machine
# running the suite, a CI harness say, has processes of its own, and pids
# are reused).
load helpers

@test "residue check: a process that is not the test's is never claimed, even with a recorded pid" {
    # A stranger in its own pid namespace, started without the test's marker,
    # whose pid (and whose namespace init's pid) looks like a `cell run` of
    # this test, as after pid reuse.
    unshare --pid --fork /bin/sleep 300 3>&- &
    local stranger=$! inner
    wait_until 10 pgrep -P "$stranger" >/dev/null
    inner=$(pgrep -P "$stranger")
    echo "$stranger" >>"$CELL_TEST_PIDS"
    echo "$inner" >>"$CELL_TEST_PIDS"
    run _new_processes
    # the init of a pid namespace ignores SIGTERM from outside: SIGKILL it
    kill -KILL "$inner"
    wait "$stranger" || :
    [[ -z $output ]] || {
        echo "claimed a stranger: $output"
        return 1
    }
}

@test "residue check: a cell left running is claimed" {
    start_cell "$BATS_TEST_TMPDIR/out" run -- /bin/sleep 300
    wait_until 10 _cell_has_sleep
    run _new_processes
    [[ $output == *"/bin/sleep 300"* ]] || {
        echo "did not claim the cell's workload: $output"
        return 1
    }
    kill -TERM "$CELL_PID"
    wait "$CELL_PID" || :
}

_cell_has_sleep() { _new_processes | grep -q '/bin/sleep 300'; }
