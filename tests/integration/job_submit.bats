# job_submit.bats - jobs handed to celld: `cell job submit`, and `cell job
# status|logs|wait|rm`. celld runs them with the same code as `cell job run`
# (the lifecycle, the timeout and TTL rules, the teardown report) and keeps
# a record per job in <data>/jobs/<id>/; these tests look at what a user
# sees: ids, states, exit codes, output, artifacts, events, records removed
# (and a second removal refused), a busy id refused, a running job stopped
# by rm --force and by `cell down`, a killed runner recorded as such with
# nothing left behind, env secrets from celld's environment never written
# anywhere, and the OCI backend through celld.

load helpers
load job_helpers

setup() {
    _common_setup
    JOBS=$BATS_TEST_TMPDIR/jobs
    RECORDS=$CELL_ROOT/data/jobs
    mkdir -p "$JOBS"
}

teardown() {
    local failed=0 left
    # every job has ended (none is still running under celld)
    if [[ -d $RECORDS ]] && grep -lq '"state": "running"' "$RECORDS"/*/job.json 2>/dev/null; then
        echo "residue: a job still running:"
        grep -l '"state": "running"' "$RECORDS"/*/job.json
        failed=1
    fi
    celld_stop || failed=1
    # the runners' private directories and locks are gone; the records are
    # the test's to remove
    jobs_dir_teardown || failed=1
    rm -rf "$RECORDS"
    rmdir "$CELL_ROOT/data" 2>/dev/null || true
    _residue_teardown || failed=1
    return "$failed"
}

# c ARGS...: cell with this test's root (tracked: its celld is this test's)
c() {
    (tracked "$CELL" --root "$CELL_ROOT" "$@")
}

# record ID EXPR: python EXPR on `r`, the record of job ID (JSON out)
record() {
    c job status "$1" --json | python3 -c '
import json, sys
r = json.load(sys.stdin)
v = eval(sys.argv[1])
print(json.dumps(v) if isinstance(v, (dict, list, bool)) or v is None else v)' "$2"
}

# sleeper ID: a job that ends with 143 on SIGTERM (its own trap)
sleeper() {
    doc "$1" '{"apiVersion":"cellos.io/v1","kind":"ExecutionCell","spec":{"id":"'"$1"'",
      "lifetime":{"ttlSeconds":120},
      "run":{"argv":["/bin/sh","-c","trap \"echo got TERM; exit 143\" TERM; echo ready; sleep 100 & wait"],"workingDirectory":"/w"}}}'
}

# job_output_has ID TEXT: the job's output holds TEXT already
job_output_has() {
    grep -qF -- "$2" "$RECORDS/$1/output.log" 2>/dev/null
}

@test "job submit: celld runs the job; status, logs, wait, artifacts, events, report; rm, and rm again is an error" {
    run_cell job submit "$REPO/examples/jobs/hello.json"
    expect_status 0
    [[ $output == hello ]] || { show; false; }
    run_cell job wait hello
    expect_status 0
    run_cell job status
    expect_status 0
    [[ ${lines[0]} == "ID"*"STATE"*"EXIT"*"SUBMITTED"*"ENDED" ]] || { show; false; }
    [[ ${lines[1]} =~ ^hello\ +succeeded\ +0\ + ]] || { show; false; }
    run_cell job logs hello
    expect_status 0
    [[ $output == "hello from a job" ]] || { show; false; }
    [[ $(record hello 'r["state"]') == succeeded && $(record hello 'r["exitCode"]') == 0 ]]
    [[ $(record hello 'r["report"]["residue"]') == "[]" ]]
    [[ $(record hello 'r["report"]["outcome"]') == succeeded ]]
    # the artifact in the record's export/, the events in order
    [[ $(cat "$RECORDS/hello/export/hello/report") == report ]]
    [[ $(python3 -c 'import json,sys; print(" ".join(json.loads(l)["type"].split(".")[-1] for l in open(sys.argv[1])))' \
        "$RECORDS/hello/events.jsonl") == "started completed destroyed" ]]
    cmp "$REPO/examples/jobs/hello.json" "$RECORDS/hello/document.json"
    [[ $(stat -c %a "$RECORDS/hello") == 700 && $(stat -c %a "$RECORDS/hello/job.json") == 600 ]]

    run_cell job rm hello
    expect_status 0
    [[ ! -e $RECORDS/hello ]]
    run_cell -1 job rm hello
    expect_err 'no job "hello" (cell job status lists them)'
    run_cell -1 job status hello
    expect_err 'no job "hello"'
    run_cell -1 job logs hello
    expect_err 'no job "hello"'
    run_cell job status
    [[ ${#lines[@]} -eq 1 ]] || { show; false; }
}

@test "job submit: --wait exits with the job's status; --export-dir is taken from the submitter's directory" {
    doc three '{"apiVersion":"cellos.io/v1","kind":"ExecutionCell","spec":{"id":"three",
      "lifetime":{"ttlSeconds":60},
      "run":{"argv":["/bin/sh","-c","echo out > /w/a.txt; echo failing >&2; exit 3"],"workingDirectory":"/w"},
      "export":{"artifacts":[{"name":"a","path":"/w/a.txt"}]}}}'
    cd "$BATS_TEST_TMPDIR"
    run_cell -3 job submit --wait "$JOBS/three.json" --export-dir out
    [[ $(cat "$BATS_TEST_TMPDIR/out/three/a") == out ]]
    [[ $(record three 'r["exportDir"]') == "$BATS_TEST_TMPDIR/out" ]]
    [[ $(record three 'r["state"]') == failed && $(record three 'r["exitCode"]') == 3 ]]
    run_cell job logs three
    expect_out failing
    run_cell -3 job wait three # an ended job: at once
    c job rm three
}

@test "job submit: timeoutMs and ttlSeconds kill the cell as with job run: states timeout and ttl, exit 124" {
    run_cell -124 job submit --wait "$REPO/examples/jobs/timeout.json"
    expect_err "cell timeout: timed out (run.timeoutMs): killed"
    [[ $(record timeout 'r["state"]') == timeout && $(record timeout 'r["report"]["residue"]') == "[]" ]]
    doc ttl '{"apiVersion":"cellos.io/v1","kind":"ExecutionCell","spec":{"id":"ttl",
      "lifetime":{"ttlSeconds":1},"run":{"argv":["/bin/sleep","30"],"timeoutMs":60000}}}'
    run_cell -124 job submit --wait "$JOBS/ttl.json"
    expect_err "cell ttl: its TTL (lifetime.ttlSeconds) expired: killed"
    [[ $(record ttl 'r["state"]') == ttl && $(record ttl 'r["exitCode"]') == 124 ]]
    c job rm timeout
    c job rm ttl
}

@test "job submit: an id is taken while its job runs and until its record is removed; rm of a running job is refused" {
    sleeper busy
    run_cell job submit "$JOBS/busy.json"
    expect_status 0
    wait_until 10 job_output_has busy ready
    run_cell -125 job submit "$JOBS/busy.json"
    expect_err "job busy: a job with this id was submitted already (see cell job status busy; cell job rm busy removes it once it has ended)"
    [[ $(record busy 'r["state"]') == running ]]
    run_cell -1 job rm busy
    expect_err "job busy: it is running: wait for it (cell job wait busy), or stop it and remove it with cell job rm --force busy"
    [[ -d $RECORDS/busy ]]
    # --force: SIGTERM passed on to the job, which ends as it chooses
    run_cell job rm --force busy
    expect_status 0
    [[ ! -e $RECORDS/busy ]]
    # the id is free again
    doc busy '{"apiVersion":"cellos.io/v1","kind":"ExecutionCell","spec":{"id":"busy",
      "lifetime":{"ttlSeconds":60},"run":{"argv":["/bin/true"]}}}'
    run_cell job submit --wait "$JOBS/busy.json"
    expect_status 0
    c job rm busy
}

@test "job submit: cell down stops running jobs (SIGTERM passed on; killed after the grace) and records how they ended" {
    sleeper polite
    doc stubborn '{"apiVersion":"cellos.io/v1","kind":"ExecutionCell","spec":{"id":"stubborn",
      "lifetime":{"ttlSeconds":120},
      "run":{"argv":["/bin/sh","-c","trap \"echo ignoring TERM\" TERM; echo ready; while :; do sleep 1; done"]}}}'
    c job submit "$JOBS/polite.json"
    c job submit "$JOBS/stubborn.json"
    wait_until 10 job_output_has polite ready
    wait_until 10 job_output_has stubborn ready
    run_cell down
    expect_status 0
    # both ended before celld did
    [[ $(record polite 'r["state"]') == failed && $(record polite 'r["exitCode"]') == 143 ]]
    [[ $(record stubborn 'r["state"]') == failed && $(record stubborn 'r["exitCode"]') == 137 ]]
    [[ $(record stubborn 'r["report"]["residue"]') == "[]" ]]
    job_output_has polite "got TERM"
    job_output_has stubborn "ignoring TERM"
    c job rm polite
    c job rm stubborn
}

@test "job submit: a runner killed by SIGKILL is recorded as such, and what it left is cleared" {
    sleeper victim
    c job submit "$JOBS/victim.json"
    wait_until 10 job_output_has victim ready
    local runner
    runner=$(record victim 'r["pid"]')
    [[ $runner -gt 1 ]]
    grep -q " $CELL_ROOT/run/jobs/victim/" /proc/self/mountinfo # it has its mounts
    kill -KILL "$runner"
    run_cell -125 job wait victim
    expect_err "job victim: its runner was killed by signal 9 before the job's end was recorded"
    [[ $(record victim 'r["state"]') == failed ]]
    # the runner's sweeper (or celld) clears its mounts and directories
    wait_until 10 bash -c "! grep -q ' $CELL_ROOT/run/jobs/victim' /proc/self/mountinfo"
    wait_until 10 bash -c "[[ ! -e $CELL_ROOT/run/jobs/victim && ! -e $CELL_ROOT/run/jobs/victim.lock ]]"
    c job rm victim
}

@test "job submit: env secrets come from celld's environment and are written nowhere: record, output, events, celld's log" {
    local value hash
    value="submitted-secret-$RANDOM$RANDOM"
    hash=$(printf '%s' "$value" | sha256sum | cut -d' ' -f1)
    doc secret '{"apiVersion":"cellos.io/v1","kind":"ExecutionCell","spec":{"id":"secret",
      "authority":{"secretRefs":["TOKEN"]},"lifetime":{"ttlSeconds":60},
      "run":{"argv":["/bin/sh","-c","printf %s \"$TOKEN\" | sha256sum"],"secretDelivery":"env"}}}'
    # the first submit starts celld, which inherits this environment
    CELL_SECRET_TOKEN=$value run_cell job submit --wait "$JOBS/secret.json"
    expect_status 0
    run_cell job logs secret
    [[ $output == "$hash  -" ]] || { show; false; }
    run grep -rlF -e "$value" "$CELL_ROOT/data" "$CELL_ROOT/run"
    [[ $status -eq 1 ]] || { echo "the secret's value is in: $output"; false; }
    # a missing secret: the job fails, naming the key
    doc missing '{"apiVersion":"cellos.io/v1","kind":"ExecutionCell","spec":{"id":"missing",
      "authority":{"secretRefs":["NOT_SET_ANYWHERE"]},"lifetime":{"ttlSeconds":60},"run":{"argv":["/bin/true"]}}}'
    run_cell -125 job submit --wait "$JOBS/missing.json"
    expect_err "NOT_SET_ANYWHERE: not found"
    [[ $(record missing 'r["state"]') == failed ]]
    c job rm secret
    c job rm missing
}

@test "job submit: a bad document is refused before celld (exit 125, the parser's error), and nothing is recorded" {
    doc typo '{"apiVersion":"cellos.io/v1","kind":"ExecutionCell","spec":{"id":"typo",
      "lifetime":{"ttlSeconds":60},"run":{"argv":["/bin/true"],"timeoutMS":5}}}'
    run_cell -125 job submit "$JOBS/typo.json"
    expect_one_error_line
    expect_err "typo.json: spec.run.timeoutMS: unknown key"
    [[ ! -e $RECORDS ]]
    run_cell -2 job submit "$JOBS/typo.json" --report
    expect_err "a submitted job's events and report are in its record"
    run_cell -2 job submit
    expect_err "give the document"
    printf '{"apiVersion":"cellos.io/v1"}\0' >"$JOBS/nul.json"
    run_cell -125 job submit "$JOBS/nul.json"
    expect_err "job $JOBS/nul.json: it holds a NUL byte (a JSON document holds none)"
    run_cell -2 job status a b
    expect_err "one job at a time"
    for verb in logs wait rm; do
        run_cell -2 job "$verb"
        expect_err "job $verb: give the job's id: cell job $verb "
    done
    run_cell -1 job status ../etc
    expect_err 'no job "../etc"'
}

@test "job submit: an unreadable record is reported, listed as such, and removed by rm" {
    run_cell job submit --wait "$REPO/examples/jobs/minimal.json"
    expect_status 0
    printf 'not json' >"$RECORDS/t/job.json"
    run_cell -1 job status t
    expect_err "job t: $RECORDS/t/job.json: "
    expect_err "(remove it with cell job rm t)"
    run_cell job status
    [[ ${lines[1]} =~ ^t\ +unreadable ]] || { show; false; }
    run_cell job rm t
    expect_status 0
    expect_err "job t: warning: its record $RECORDS/t/job.json cannot be read; removing it"
    [[ ! -e $RECORDS/t ]]
    run_cell -1 job rm t
    expect_err 'no job "t"'
}

@test "job submit: --backend oci runs the job through celld with runc, the same way" {
    run_cell job submit --wait "$REPO/examples/jobs/hello.json" --backend oci --oci-runtime runc
    expect_status 0
    [[ $(record hello 'r["backend"]') == */runc ]]
    [[ $(record hello 'r["report"]["residue"]') == "[]" ]]
    run_cell job logs hello
    expect_out "hello from a job"
    c job rm hello
}
