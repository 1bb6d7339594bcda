# job_nats.bats - `cell job run --events-nats URL`: a job's CloudEvents in
# NATS JetStream. A real nats-server -js on a loopback port of the test's own
# (its store in the test's temp dir), read back with a real JetStream
# subscriber (tests/cell-nats-sub, libnats) from the stream CELL_JOBS.
# Covers the three subjects and their events (the same as --events writes),
# the stream made once and then used as it is, a job id with '.', NATS not
# there or without JetStream (exit 125, nothing run), secrets never in NATS,
# and the publisher (cell-job-nats): no environment, events still published
# when the job is interrupted, gone with cell.

load helpers
load job_helpers

NATS_SUB=${NATS_SUB:-$(dirname "$PROBE")/cell-nats-sub}

setup() {
    _common_setup
    [[ -x $NATS_SUB && -x $(dirname "$CELL")/cell-job-nats ]] || {
        echo "$NATS_SUB or cell-job-nats next to $CELL not found: build with libnats-dev installed"
        return 1
    }
    command -v nats-server >/dev/null || {
        echo "nats-server is not installed (Debian package nats-server)"
        return 1
    }
    JOBS=$BATS_TEST_TMPDIR/jobs
    EXPORT=$BATS_TEST_TMPDIR/export
    EVENTS=$BATS_TEST_TMPDIR/events.jsonl
    NATS_STORE=$BATS_TEST_TMPDIR/nats-store
    NATS_LOG=$BATS_TEST_TMPDIR/nats.log
    NATS_OUT=$BATS_TEST_TMPDIR/nats.out
    mkdir -p "$JOBS"
}

# Our nats-server stopped (by pid) and its store removed; no publisher of
# this test's URL left (it runs with an empty environment, so the residue
# check cannot tell it is ours); the jobs' directories gone; the residue check.
teardown() {
    local failed=0 left
    stop_nats
    rm -rf "$NATS_STORE" "$NATS_LOG"
    if [[ -n ${NATS_URL:-} ]] && left=$(pgrep -a -f "^cell-job-nats $NATS_URL "); then
        echo "residue: publisher processes left: $left"
        failed=1
    fi
    jobs_dir_teardown || failed=1
    _residue_teardown || failed=1
    return "$failed"
}

# in_nats: the stream CELL_JOBS as the subscriber reads it, one line per
# message ("SUBJECT<TAB>Nats-Msg-Id<TAB>Content-Type<TAB>EVENT"), into $NATS_OUT
in_nats() {
    "$NATS_SUB" "$NATS_URL" CELL_JOBS 'cell.jobs.>' >"$NATS_OUT"
}

# check_nats PYTHON: run PYTHON with `msgs`, the messages in $NATS_OUT as
# (subject, msg_id, content_type, event) tuples, and `kept`, the events in
# $EVENTS (none when it is not there)
check_nats() {
    python3 - "$NATS_OUT" "$EVENTS" "$1" <<'PY'
import json, os, sys
msgs = []
for line in open(sys.argv[1]):
    subject, msg_id, ctype, data = line.rstrip("\n").split("\t", 3)
    msgs.append((subject, msg_id, ctype, json.loads(data)))
kept = [json.loads(l) for l in open(sys.argv[2])] if os.path.exists(sys.argv[2]) else []
exec(sys.argv[3])
PY
}

# run_never_job: a job that echoes, run with --events-nats $NATS_URL, which
# is expected to refuse it (exit 125, one error line)
run_never_job() {
    doc never '{"apiVersion":"cellos.io/v1","kind":"ExecutionCell","spec":{"id":"never","lifetime":{"ttlSeconds":60},
      "run":{"argv":["/bin/sh","-c","echo the job ran"]}}}'
    run_cell job run "$JOBS/never.json" --events-nats "$NATS_URL" --events "$EVENTS" --export-dir "$EXPORT"
    expect_status 125
    expect_one_error_line
}

# expect_nothing_ran: no job output, no events file, no export, nothing
# under the root
expect_nothing_ran() {
    [[ -z $output ]] || { show; false; }
    [[ ! -e $EVENTS && ! -e $EXPORT ]]
    [[ -z $(ls -A "$CELL_ROOT") ]] || { ls -AR "$CELL_ROOT"; false; }
}

@test "job nats: started, completed, destroyed go to cell.jobs.ID.TYPE in the stream CELL_JOBS, as --events has them" {
    start_nats
    run_cell job run "$REPO/examples/jobs/hello.json" --events-nats "$NATS_URL" --events "$EVENTS" \
        --export-dir "$EXPORT"
    expect_status 0
    [[ ${lines[0]} == "hello from a job" ]] || { show; false; }
    [[ -z $stderr ]] || { show; false; }

    # a second job finds the stream there and uses it as it is
    doc fails '{"apiVersion":"cellos.io/v1","kind":"ExecutionCell","spec":{"id":"fails","lifetime":{"ttlSeconds":60},
      "run":{"argv":["/bin/sh","-c","echo about to fail; exit 3"]}}}'
    run_cell job run "$JOBS/fails.json" --events-nats "$NATS_URL" --events "$EVENTS" --export-dir "$EXPORT"
    expect_status 3
    [[ ${lines[0]} == "about to fail" ]] || { show; false; }

    # cell waited for every acknowledgement: all of it is there already
    in_nats
    check_nats '
subjects = [m[0] for m in msgs]
assert subjects == ["cell.jobs.hello.started", "cell.jobs.hello.completed", "cell.jobs.hello.destroyed",
                    "cell.jobs.fails.started", "cell.jobs.fails.completed", "cell.jobs.fails.destroyed"], subjects
# the very events --events wrote, in order, each with its id as Nats-Msg-Id
assert [m[3] for m in msgs] == kept, (len(msgs), len(kept))
for subject, msg_id, ctype, e in msgs:
    assert msg_id == e["id"], (msg_id, e["id"])
    assert ctype == "application/cloudevents+json", ctype
    assert e["specversion"] == "1.0" and e["source"] == "cell/job", e
    job, word = subject.split(".")[2:]
    assert e["type"] == {"started": "io.cellos.cell.lifecycle.v1.started",
                         "completed": "io.cellos.cell.command.v1.completed",
                         "destroyed": "io.cellos.cell.lifecycle.v1.destroyed"}[word], (subject, e["type"])
    assert e["data"]["specId"] == e["data"]["cellId"] == job, (subject, e["data"])
    if word != "started":
        assert (e["data"]["outcome"], e["data"]["exitCode"]) == \
            {"hello": ("succeeded", 0), "fails": ("failed", 3)}[job], (subject, e["data"])
    if word == "destroyed":
        assert e["data"]["report"]["residue"] == [], e["data"]["report"]
assert len({m[1] for m in msgs}) == 6, "ids repeat"
'
}

@test "job nats: a job id with '.' goes to its subject with the '.' as %2E" {
    start_nats
    doc dotted '{"apiVersion":"cellos.io/v1","kind":"ExecutionCell","spec":{"id":"build.v1.2","lifetime":{"ttlSeconds":60},
      "run":{"argv":["/bin/true"]}}}'
    run_cell job run "$JOBS/dotted.json" --events-nats "$NATS_URL" --export-dir "$EXPORT"
    expect_status 0
    in_nats
    check_nats '
subjects = [m[0] for m in msgs]
assert subjects == ["cell.jobs.build%2Ev1%2E2.started", "cell.jobs.build%2Ev1%2E2.completed",
                    "cell.jobs.build%2Ev1%2E2.destroyed"], subjects
assert all(m[3]["data"]["specId"] == "build.v1.2" for m in msgs), msgs
'
}

@test "job nats: nothing listening at the URL: exit 125, one error naming the URL, and nothing run or left" {
    NATS_PORT=$(free_port)
    NATS_URL=nats://127.0.0.1:$NATS_PORT
    run_never_job
    expect_err "cell: job never: --events-nats $NATS_URL: connect: No server available"
    expect_err "(is nats-server running there, with -js?)"
    expect_nothing_ran
}

@test "job nats: a NATS without JetStream: exit 125, the error says to start it with -js; nothing run" {
    start_nats --no-js
    run_never_job
    expect_err "cell: job never: --events-nats $NATS_URL: stream CELL_JOBS: no answer from JetStream (start nats-server with -js)"
    expect_nothing_ran
}

@test "job nats: secrets, in the environment or as files, never reach NATS: not in a message, not in its store" {
    local env_value file_value
    env_value="nats-env-secret-$RANDOM$RANDOM-value"
    file_value="nats-file-secret-$RANDOM$RANDOM-value"
    export CELL_SECRET_TOKEN=$env_value
    mkdir -p "$BATS_TEST_TMPDIR/secrets"
    printf '%s' "$file_value" >"$BATS_TEST_TMPDIR/secrets/TOKEN"
    start_nats
    doc envsecret '{"apiVersion":"cellos.io/v1","kind":"ExecutionCell","spec":{"id":"envsecret",
      "authority":{"secretRefs":["TOKEN"]},"lifetime":{"ttlSeconds":60},
      "run":{"argv":["/bin/sh","-c","printf %s \"$TOKEN\" | sha256sum"],"secretDelivery":"env"}}}'
    doc filesecret '{"apiVersion":"cellos.io/v1","kind":"ExecutionCell","spec":{"id":"filesecret",
      "authority":{"secretRefs":["TOKEN"]},"lifetime":{"ttlSeconds":60},
      "run":{"argv":["/bin/sh","-c","sha256sum < /run/secrets/TOKEN"],"secretDelivery":"runtimeBroker"}}}'
    run_cell job run "$JOBS/envsecret.json" --events-nats "$NATS_URL" --export-dir "$EXPORT"
    expect_status 0
    # the job had the value: the events below are about a job that used it
    [[ ${lines[0]} == "$(printf '%s' "$env_value" | sha256sum)" ]] || { show; false; }
    run_cell job run "$JOBS/filesecret.json" --events-nats "$NATS_URL" --secrets-dir "$BATS_TEST_TMPDIR/secrets" \
        --export-dir "$EXPORT"
    expect_status 0
    [[ ${lines[0]} == "$(printf '%s' "$file_value" | sha256sum)" ]] || { show; false; }

    in_nats
    [[ $(cut -f1 "$NATS_OUT" | tr '\n' ' ') == "cell.jobs.envsecret.started cell.jobs.envsecret.completed \
cell.jobs.envsecret.destroyed cell.jobs.filesecret.started cell.jobs.filesecret.completed \
cell.jobs.filesecret.destroyed " ]] || { cat "$NATS_OUT"; false; }
    run grep -rlaF -e "$env_value" -e "$file_value" "$NATS_OUT" "$NATS_STORE"
    [[ $status -eq 1 ]] || { echo "a secret's value is in: $output"; false; }
}

@test "job nats: the publisher has no environment, outlives an interrupt to finish the events, and goes with cell" {
    local value pub=""
    value="nats-env-secret-$RANDOM$RANDOM-value"
    export CELL_SECRET_TOKEN=$value
    start_nats
    doc sleeper '{"apiVersion":"cellos.io/v1","kind":"ExecutionCell","spec":{"id":"sleeper",
      "authority":{"secretRefs":["TOKEN"]},"lifetime":{"ttlSeconds":60},
      "run":{"argv":["/bin/sleep","60"]}}}'
    start_cell "$BATS_TEST_TMPDIR/sleeper.out" job run "$JOBS/sleeper.json" --events-nats "$NATS_URL"
    find_publisher() {
        pub=$(pgrep -P "$CELL_PID" -x cell-job-nats)
    }
    wait_until 20 find_publisher
    # cell's environment holds the env broker's secret; the publisher's is empty
    [[ ! -s /proc/$pub/environ ]] || { tr '\0' '\n' <"/proc/$pub/environ"; false; }
    # the workload runs (its sleep is in the cell's cgroup)
    sleep_runs() {
        local d p
        for d in $(cell_cgroups sleeper "$CELL_PID"); do
            for p in $(cat "$d/cgroup.procs" 2>/dev/null); do
                [[ $(cat "/proc/$p/comm" 2>/dev/null) == sleep ]] && return 0
            done
        done
        return 1
    }
    wait_until 20 sleep_runs
    # a Ctrl-C at a terminal reaches both: cell passes it on to the job, the
    # publisher ignores it and still publishes completed and destroyed
    kill -INT "$CELL_PID" "$pub"
    local status=0
    wait "$CELL_PID" || status=$?
    [[ $status -eq 130 ]] || { echo "cell exited $status"; cat "$BATS_TEST_TMPDIR/sleeper.out"*; false; }
    # cell waited for it: the publisher is gone (not a zombie: reaped)
    [[ ! -e /proc/$pub ]] || [[ $(cat "/proc/$pub/comm" 2>/dev/null) != cell-job-nats ]]
    in_nats
    [[ $(cut -f1 "$NATS_OUT" | tr '\n' ' ') == "cell.jobs.sleeper.started cell.jobs.sleeper.completed \
cell.jobs.sleeper.destroyed " ]] || { cat "$NATS_OUT"; false; }
    check_nats '
done = msgs[1][3]["data"]
assert done["exitCode"] == 130, done
assert msgs[2][3]["data"]["report"]["residue"] == [], msgs[2][3]["data"]["report"]
'
    if grep -qF -e "$value" "$NATS_OUT"; then
        echo "the secret's value is in NATS"
        false
    fi
}
