# job.bats - `cell job run FILE.json`: CellOS ExecutionCell documents run to
# completion natively. Every example of examples/jobs; the job's environment
# byte for byte (from inside and from the host's /proc/PID/environ);
# secrets as variables and as files (present inside, absent from every
# output, event and report file, gone after the teardown); timeoutMs and
# ttlSeconds outcomes; artifacts exported and a link escape refused; one
# job per id at a time; bad documents; the residue check empty after every
# job and reporting a deliberately leaked cgroup; a killed runner's
# leftovers cleared by the next run of its id.

load helpers
load job_helpers

# job_oci.bats is this file under another name (a symlink): the same tests
# with --backend oci, runc running the bundle cell writes
BACKEND=()
if [[ $(basename "$BATS_TEST_FILENAME") == job_oci.bats ]]; then
    BACKEND=(--backend oci --oci-runtime runc)
elif [[ $(basename "$BATS_TEST_FILENAME") == job_runsc.bats ]]; then
    BACKEND=(--backend oci --oci-runtime runsc)
fi

# A workload that ends with 143 on SIGTERM on both backends (under an OCI
# runtime the workload is the container's pid 1, to which the kernel does
# not deliver a signal it has no handler for)
SLEEP_ARGV='"/bin/sh","-c","trap \"exit 143\" TERM; sleep 60 & wait"'
# What runc adds to the environment of a container that has no HOME
OCI_ENV_EXTRA=""
if [[ ${#BACKEND[@]} -gt 0 ]]; then
    OCI_ENV_EXTRA='HOME=/root\0'
fi

# skip_oci WHY: this test is of cell's own sandbox
skip_oci() {
    if [[ ${#BACKEND[@]} -gt 0 ]]; then
        skip "$1"
    fi
}

# skip_runsc WHY: what this test looks at is inside gVisor's sandbox, or
# gVisor does it its own way (job_runsc.bats, another symlink)
skip_runsc() {
    if [[ ${BACKEND[*]} == *runsc* ]]; then
        skip "runsc: $1"
    fi
}

setup() {
    _common_setup
    JOBS=$BATS_TEST_TMPDIR/jobs
    EXPORT=$BATS_TEST_TMPDIR/export
    EVENTS=$BATS_TEST_TMPDIR/events.jsonl
    mkdir -p "$JOBS"
}

teardown() {
    local failed=0
    jobs_dir_teardown || failed=1
    _residue_teardown || failed=1
    return "$failed"
}

# run_job [-N] FILE [OPTIONS...]: cell job run FILE with --export-dir,
# --events and --report (stdout: the job's output, then the report)
run_job() {
    local flags=()
    if [[ ${1:-} =~ ^-[0-9]+$ ]]; then
        flags=("$1")
        shift
    fi
    run_cell "${flags[@]}" job run "${BACKEND[@]}" "$@" --export-dir "$EXPORT" --events "$EVENTS" --report
}

# report EXPR: python EXPR on the report `r` that ends stdout (JSON out)
report() {
    python3 - "$output" "$1" <<'PY'
import json, sys
out, expr = sys.argv[1], sys.argv[2]
i = out.rfind("\n{\n")
r = json.loads(out[i + 1:] if i >= 0 else out)
v = eval(expr)
print(json.dumps(v) if isinstance(v, (dict, list, bool)) or v is None else v)
PY
}

# events EXPR: python EXPR on `e`, the list of events in $EVENTS
events() {
    python3 - "$EVENTS" "$1" <<'PY'
import json, sys
e = [json.loads(l) for l in open(sys.argv[1])] if __import__("os").path.exists(sys.argv[1]) else []
v = eval(sys.argv[2])
print(json.dumps(v) if isinstance(v, (dict, list, bool)) or v is None else v)
PY
}

# has_cgroup NAME PID: cell NAME of the runner PID has its cgroups (it runs)
has_cgroup() {
    [[ -n $(cell_cgroups "$1" "$2") ]]
}

# job_sleeping ID PID: the SLEEP_ARGV workload of job ID (runner PID) has
# set its trap and started its sleep
job_sleeping() {
    local d p
    for d in $(cell_cgroups "$1" "$2"); do
        for p in $(cat "$d/cgroup.procs" 2>/dev/null); do
            [[ $(cat "/proc/$p/comm" 2>/dev/null) == sleep ]] && return 0
        done
    done
    return 1
}

# expect_no_residue: the report's residue check found nothing, and the
# job's private directory is gone
expect_no_residue() {
    local residue
    residue=$(report 'r["residue"]')
    if [[ $residue != "[]" ]]; then
        echo "the report's residue check found: $residue"
        show
        return 1
    fi
}

@test "job: every example of examples/jobs runs, leaving nothing" {
    local f id status_expected order='^\["started", ("completed", )?"destroyed"\]$'
    for f in "$REPO"/examples/jobs/*.json; do
        id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["spec"]["id"])' "$f")
        # every secret it names, through the env broker
        for key in $(python3 -c 'import json,sys
print(" ".join(json.load(open(sys.argv[1]))["spec"].get("authority", {}).get("secretRefs", [])))' "$f"); do
            export "CELL_SECRET_$key=example-value-of-$key"
        done
        rm -f "$EVENTS"
        # a document whose egress rules name hosts would resolve them through
        # DNS, off the machine: egress has its own test below (addresses only)
        if python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["spec"].get("authority", {}).get("egressRules") else 1)' "$f"; then
            continue
        fi
        run_job "$f"
        status_expected=0
        [[ $id == timeout ]] && status_expected=124
        expect_status "$status_expected"
        expect_no_residue
        [[ $(report 'r["specId"]') == "$id" ]]
        [[ $(events '[x["type"].split(".")[-1] for x in e]') =~ $order ]]
        [[ $(events 'e[-1]["data"]["report"]["residue"]') == "[]" ]]
    done
}

@test "job: hello: output passed through, artifact exported, CloudEvents in order" {
    run_job "$REPO/examples/jobs/hello.json"
    expect_status 0
    [[ ${lines[0]} == "hello from a job" ]] || { show; false; }
    [[ $(cat "$EXPORT/hello/report") == report ]]
    [[ $(report 'r["outcome"], r["exitCode"], r["correlation"]') == "('succeeded', 0, 'example-hello')" ]]
    [[ $(report '[a["name"] for a in r["artifacts"]["exported"]]') == '["report"]' ]]
    expect_no_residue
    # three events: ids unique, one runId, CloudEvents 1.0 fields
    [[ $(events '[x["type"] for x in e]') == '["io.cellos.cell.lifecycle.v1.started", "io.cellos.cell.command.v1.completed", "io.cellos.cell.lifecycle.v1.destroyed"]' ]]
    [[ $(events 'len({x["id"] for x in e}), len({x["data"]["runId"] for x in e})') == "(3, 1)" ]]
    [[ $(events 'all(x["specversion"] == "1.0" and x["source"] == "cell/job" and x["datacontenttype"] == "application/json"
        and __import__("re").fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", x["time"]) is not None
        and x["data"]["cellId"] == "hello" and x["data"]["specId"] == "hello" and x["data"]["correlation"] == "example-hello"
        for x in e)') == true ]]
    [[ $(events 'e[1]["data"]["outcome"], e[1]["data"]["exitCode"]') == "('succeeded', 0)" ]]
    [[ $(events 'e[2]["data"]["report"]["runId"] == e[0]["data"]["runId"]') == true ]]
    # a second run: a new runId
    local first
    first=$(report 'r["runId"]')
    run_job "$REPO/examples/jobs/hello.json"
    expect_status 0
    [[ $(report 'r["runId"]') != "$first" ]]
}

@test "job: the environment is exactly the secrets, byte for byte, seen from inside and from the host" {
    export CELL_SECRET_A_KEY='va lue=1' CELL_SECRET_EMPTY=''
    doc environ '{"apiVersion":"cellos.io/v1","kind":"ExecutionCell","spec":{"id":"environ",
      "authority":{"secretRefs":["A_KEY","EMPTY"]},"lifetime":{"ttlSeconds":60},
      "run":{"argv":["/bin/cat","/proc/self/environ"]}}}'
    run_cell job run "${BACKEND[@]}" "$JOBS/environ.json"
    expect_status 0
    printf "A_KEY=va lue=1\\0EMPTY=\\0$OCI_ENV_EXTRA" >"$BATS_TEST_TMPDIR/expected"
    (tracked "$CELL" --root "$CELL_ROOT" job run "${BACKEND[@]}" "$JOBS/environ.json") >"$BATS_TEST_TMPDIR/environ"
    if [[ ${BACKEND[*]} == *runsc* ]]; then # gVisor passes the variables on in an order of its own
        diff <(tr '\0' '\n' <"$BATS_TEST_TMPDIR/expected" | sort) <(tr '\0' '\n' <"$BATS_TEST_TMPDIR/environ" | sort)
    else
        cmp "$BATS_TEST_TMPDIR/expected" "$BATS_TEST_TMPDIR/environ"
    fi
    skip_runsc "the workload's processes are gVisor's, not the host's: only the inside was compared"

    # the running workload's /proc/PID/environ, read from the host
    doc sleeper '{"apiVersion":"cellos.io/v1","kind":"ExecutionCell","spec":{"id":"sleeper",
      "authority":{"secretRefs":["A_KEY","EMPTY"]},"lifetime":{"ttlSeconds":60},
      "run":{"argv":['"$SLEEP_ARGV"']}}}'
    start_cell "$BATS_TEST_TMPDIR/sleeper.out" job run "${BACKEND[@]}" "$JOBS/sleeper.json"
    local pid=""
    find_sleep() {
        local d p
        for d in $(cell_cgroups sleeper "$CELL_PID"); do
            for p in $(cat "$d/cgroup.procs" 2>/dev/null); do
                # the workload itself (sleep has the environment sh made)
                [[ $(cat "/proc/$p/comm" 2>/dev/null) == sh ]] && pid=$p && return 0
            done
        done
        return 1
    }
    wait_until 10 job_sleeping sleeper "$CELL_PID"
    find_sleep
    cmp "$BATS_TEST_TMPDIR/expected" "/proc/$pid/environ"
    kill -TERM "$CELL_PID" # passed on to the job
    wait "$CELL_PID" || [[ $? -eq 143 ]]
}

@test "job: secrets in the environment: present inside, absent from every log, event and report; gone after" {
    local value hash
    value="env-secret-$RANDOM$RANDOM-value"
    hash=$(printf '%s' "$value" | sha256sum | cut -d' ' -f1)
    export CELL_SECRET_TOKEN=$value
    doc envsecret '{"apiVersion":"cellos.io/v1","kind":"ExecutionCell","spec":{"id":"envsecret",
      "authority":{"secretRefs":["TOKEN"]},"lifetime":{"ttlSeconds":60},
      "run":{"argv":["/bin/sh","-c","printf %s \"$TOKEN\" | sha256sum; echo to stderr >&2"],"secretDelivery":"env"}}}'
    run_job "$JOBS/envsecret.json"
    expect_status 0
    [[ ${lines[0]} == "$hash  -" ]] || { show; false; }
    expect_no_residue
    printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/stdout.log"
    printf '%s\n' "$stderr" >"$BATS_TEST_TMPDIR/stderr.log"
    # with --debug too: nothing cell says names the value
    run_cell --debug job run "${BACKEND[@]}" "$JOBS/envsecret.json" --events "$EVENTS" --report
    expect_status 0
    printf '%s\n' "$output" "$stderr" >"$BATS_TEST_TMPDIR/debug.log"
    [[ -s $EVENTS ]]
    run grep -rlF -e "$value" "$BATS_TEST_TMPDIR"
    [[ $status -eq 1 ]] || { echo "the secret's value is in: $output"; false; }
}

@test "job: while a job runs, its cleanup keeper holds no copy of an env secret (its memory is searched)" {
    skip_oci "the keeper is cell's sandbox's; under --backend oci the runtime holds the container"
    # a sanitizer runtime keeps its own copy of the process's environment
    # (read from /proc/self/environ at start), which no program can wipe
    if grep -qa __asan_init "$CELL"; then
        skip "cell is built with AddressSanitizer, whose runtime copies the environment"
    fi
    local value
    value="keeper-secret-$RANDOM$RANDOM-value"
    export CELL_SECRET_TOKEN=$value
    doc keep '{"apiVersion":"cellos.io/v1","kind":"ExecutionCell","spec":{"id":"keep",
      "authority":{"secretRefs":["TOKEN"]},"lifetime":{"ttlSeconds":60},
      "run":{"argv":['"$SLEEP_ARGV"'],"secretDelivery":"env"}}}'
    "$CELL" --root "$CELL_ROOT" job run "$JOBS/keep.json" --export-dir "$EXPORT" >/dev/null 2>&1 &
    local runner=$! keeper=""
    echo "$runner" >>"$BATS_TEST_TMPDIR/.host-pids"
    # the keeper: the runner's child that is in the runner's own cgroup (the cell's init is in the cell's)
    wait_until 20 bash -c "for c in \$(cat /proc/$runner/task/*/children); do
        [[ \$(cat /proc/\$c/cgroup) == \$(cat /proc/$runner/cgroup) ]] && exit 0; done; exit 1"
    for c in $(cat /proc/"$runner"/task/*/children); do
        [[ $(cat /proc/"$c"/cgroup) == $(cat /proc/"$runner"/cgroup) ]] && keeper=$c
    done
    [[ -n $keeper ]]
    # every readable mapping of the keeper, searched for the value
    run memory_holding "$keeper" "$value"
    kill -TERM "$runner"
    wait "$runner" || [[ $? -eq 143 ]]
    [[ $output == clean ]] || { echo "the keeper holds the value in: $output"; false; }
}

@test "job: while a job runs, its runner holds no copy of a secret it delivered (its memory is searched)" {
    skip_runsc "the workload runs in gVisor's kernel: the test cannot see when it runs"
    local value
    value="runner-secret-$RANDOM$RANDOM-value"
    mkdir -p "$BATS_TEST_TMPDIR/secrets"
    printf '%s' "$value" >"$BATS_TEST_TMPDIR/secrets/TOKEN" # the file broker: not in cell's environment
    doc hold '{"apiVersion":"cellos.io/v1","kind":"ExecutionCell","spec":{"id":"hold",
      "authority":{"secretRefs":["TOKEN"]},"lifetime":{"ttlSeconds":60},
      "run":{"argv":['"$SLEEP_ARGV"'],"secretDelivery":"env"}}}'
    start_cell "$BATS_TEST_TMPDIR/hold.out" job run "${BACKEND[@]}" "$JOBS/hold.json" \
        --secrets-dir "$BATS_TEST_TMPDIR/secrets"
    wait_until 10 job_sleeping hold "$CELL_PID"
    run memory_holding "$CELL_PID" "$value"
    kill -TERM "$CELL_PID"
    wait "$CELL_PID" || [[ $? -eq 143 ]]
    [[ $output == clean ]] || { echo "the runner holds the value in: $output"; false; }
}

@test "job: secrets as files: /run/secrets/KEY mode 0400 on a read-only private tmpfs; gone after the teardown" {
    skip_runsc "runsc 20221219 answers every statx with EINVAL on this kernel (runsc do ls fails too)"
    local value hash private
    value="file-secret-$RANDOM$RANDOM-value"
    hash=$(printf '%s' "$value" | sha256sum | cut -d' ' -f1)
    mkdir -p "$BATS_TEST_TMPDIR/secrets"
    printf '%s' "$value" >"$BATS_TEST_TMPDIR/secrets/TOKEN"
    for delivery in runtimeBroker runtimeLeasedBroker; do
        doc files '{"apiVersion":"cellos.io/v1","kind":"ExecutionCell","spec":{"id":"files",
          "authority":{"secretRefs":["TOKEN"]},"lifetime":{"ttlSeconds":60},
          "run":{"argv":["/bin/sh","-c","stat -c \"%a %u %s\" /run/secrets/TOKEN; sha256sum < /run/secrets/TOKEN; grep -c \" /run/secrets \" /proc/self/mountinfo; touch /run/secrets/x 2>/dev/null && echo WRITABLE; wc -c < /proc/$$/environ"],
          "secretDelivery":"'"$delivery"'"}}}'
        run_job "$JOBS/files.json" --secrets-dir "$BATS_TEST_TMPDIR/secrets"
        expect_status 0
        [[ ${lines[0]} == "400 0 ${#value}" ]] || { show; false; }
        [[ ${lines[1]} == "$hash  -" ]] || { show; false; }
        [[ ${lines[2]} == 1 ]] || { show; false; }
        # an empty environment (but for runc's HOME)
        [[ ${lines[3]} == "$(printf "$OCI_ENV_EXTRA" | wc -c)" ]] || { show; false; }
        refute_out WRITABLE
        expect_no_residue
        printf '%s\n' "$output" "$stderr" >"$BATS_TEST_TMPDIR/$delivery.log"
    done

    # while it runs: a tmpfs in the private 0700 directory, read-only on the
    # host's side too; afterwards no mount, no file, no directory
    doc files-wait '{"apiVersion":"cellos.io/v1","kind":"ExecutionCell","spec":{"id":"files-wait",
      "authority":{"secretRefs":["TOKEN"]},"lifetime":{"ttlSeconds":60},
      "run":{"argv":['"$SLEEP_ARGV"'],"secretDelivery":"runtimeBroker"}}}'
    start_cell "$BATS_TEST_TMPDIR/wait.out" job run "${BACKEND[@]}" "$JOBS/files-wait.json" --secrets-dir "$BATS_TEST_TMPDIR/secrets" \
        --events "$EVENTS"
    private=$CELL_ROOT/run/jobs/files-wait
    wait_until 10 job_sleeping files-wait "$CELL_PID"
    grep " $private/secrets " /proc/self/mountinfo | grep -q " ro,.* tmpfs "
    [[ $(stat -c %a "$private") == 700 && $(stat -c %a "$private/secrets/TOKEN") == 400 ]]
    kill -TERM "$CELL_PID"
    wait "$CELL_PID" || [[ $? -eq 143 ]]
    ! grep -q "$private" /proc/self/mountinfo
    [[ ! -e $private ]]
    # the value: only in the secrets directory it came from
    run grep -rlF -e "$value" "$BATS_TEST_TMPDIR" --exclude-dir=secrets
    [[ $status -eq 1 ]] || { echo "the secret's value is in: $output"; false; }
}

@test "job: a missing secret is an error naming its key, never another's value; nothing is started" {
    export CELL_SECRET_PRESENT="present-$RANDOM$RANDOM"
    unset CELL_SECRET_ABSENT
    doc missing '{"apiVersion":"cellos.io/v1","kind":"ExecutionCell","spec":{"id":"missing",
      "authority":{"secretRefs":["PRESENT","ABSENT"]},"lifetime":{"ttlSeconds":60},
      "run":{"argv":["/bin/true"],"workingDirectory":"/w"}}}'
    run_job -125 "$JOBS/missing.json"
    expect_err "job missing: secrets: the env broker: ABSENT: not found"
    [[ $stderr != *"$CELL_SECRET_PRESENT"* && $output != *"$CELL_SECRET_PRESENT"* ]]
    [[ ! -e $EVENTS ]]
    expect_no_residue
    [[ $(report 'r["outcome"], r["exitCode"]') == "('failed', 125)" ]]

    mkdir -p "$BATS_TEST_TMPDIR/empty"
    run_job -125 "$JOBS/missing.json" --secrets-dir "$BATS_TEST_TMPDIR/empty"
    expect_err "job missing: secrets: the file broker: PRESENT: not found: $BATS_TEST_TMPDIR/empty/PRESENT"
}

@test "job: timeoutMs kills the whole cell: outcome timeout, exit 124" {
    doc slow '{"apiVersion":"cellos.io/v1","kind":"ExecutionCell","spec":{"id":"slow",
      "lifetime":{"ttlSeconds":60},"run":{"argv":["/bin/sh","-c","sleep 60 & sleep 60"],"timeoutMs":300}}}'
    run_job -124 "$JOBS/slow.json"
    expect_err "cell slow: timed out after 300ms (run.timeoutMs): killed"
    [[ $(report 'r["outcome"], r["exitCode"]') == "('timeout', 124)" ]]
    [[ $(report 'r["durationsMs"]["run"] >= 300') == true ]] # not before its time
    [[ $(events 'e[1]["data"]["outcome"], e[1]["data"]["exitCode"]') == "('timeout', 124)" ]]
    expect_no_residue
}

@test "job: ttlSeconds kills the whole cell: outcome ttl, exit 124, even before timeoutMs" {
    doc ttl '{"apiVersion":"cellos.io/v1","kind":"ExecutionCell","spec":{"id":"ttl",
      "lifetime":{"ttlSeconds":1},"run":{"argv":["/bin/sh","-c","sleep 60 & sleep 60"],"timeoutMs":60000}}}'
    run_job -124 "$JOBS/ttl.json"
    expect_err "cell ttl: its TTL of 1s (lifetime.ttlSeconds) expired: killed"
    [[ $(report 'r["outcome"], r["exitCode"]') == "('ttl', 124)" ]]
    [[ $(events '[x["data"].get("outcome") for x in e]') == '[null, "ttl", "ttl"]' ]]
    expect_no_residue
}

@test "job: artifacts are exported; a link escape is refused while the others still export" {
    doc artifacts '{"apiVersion":"cellos.io/v1","kind":"ExecutionCell","spec":{"id":"artifacts",
      "lifetime":{"ttlSeconds":60},
      "run":{"argv":["/bin/sh","-c","cd /job && echo good > good.txt && ln -s /etc/passwd out.txt && ln -s ../../../etc/passwd up.txt && ln -s /job/good.txt abs.txt && mkdir d && ln -s d/../good.txt rel.txt && mkfifo fifo"],
             "workingDirectory":"/job"},
      "export":{"artifacts":[{"name":"good","path":"/job/good.txt"},{"name":"escape","path":"/job/out.txt"},
        {"name":"up","path":"/job/up.txt"},{"name":"abs","path":"/job/abs.txt"},{"name":"rel","path":"/job/rel.txt"},
        {"name":"fifo","path":"/job/fifo"},{"name":"outside","path":"/etc/hostname"}]}}}'
    run_job "$JOBS/artifacts.json"
    expect_status 0 # the job itself succeeded
    expect_err "cell artifacts: artifact escape: /job/out.txt is a link to /etc/passwd, outside the working directory /job: refused"
    expect_err "cell artifacts: artifact up: /job/up.txt is a link to ../../../etc/passwd, outside the working directory /job: refused"
    if [[ ${BACKEND[*]} == *runsc* ]]; then # gVisor keeps a named pipe to itself
        expect_err "cell artifacts: artifact fifo: /job/fifo: No such file or directory"
    else
        expect_err "cell artifacts: artifact fifo: /job/fifo is not a regular file"
    fi
    expect_err "cell artifacts: artifact outside: /etc/hostname is not in the working directory /job"
    for a in good abs rel; do
        [[ $(cat "$EXPORT/artifacts/$a") == good ]]
    done
    [[ ! -e $EXPORT/artifacts/escape && ! -e $EXPORT/artifacts/up && ! -e $EXPORT/artifacts/fifo ]]
    [[ $(ls -A "$EXPORT/artifacts" | sort | tr '\n' ' ') == "abs good rel " ]]
    [[ $(report '[a["name"] for a in r["artifacts"]["errors"]]') == '["escape", "up", "fifo", "outside"]' ]]
    expect_no_residue
}

@test "job: egressRules: the listed address and port answer from inside; another port and another host do not" {
    skip_runsc "egress rules are refused under runsc (its own test)"
    command -v nft >/dev/null || skip "nftables is needed"
    local outside=cell-job-egress-$$
    ip netns add "$outside"
    ip -n "$outside" link set lo up
    ip -n "$outside" addr add 198.51.100.1/32 dev lo
    ip -n "$outside" addr add 198.51.100.2/32 dev lo
    ip netns exec "$outside" python3 -c '
import socket, threading, time
def serve(addr, port):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port)); s.listen(8)
    while True:
        c, _ = s.accept(); c.sendall(b"hello from %s:%d\n" % (addr.encode(), port)); c.close()
for a, p in (("198.51.100.1", 8081), ("198.51.100.1", 8082), ("198.51.100.2", 8081)):
    threading.Thread(target=serve, args=(a, p), daemon=True).start()
time.sleep(120)' &
    local server=$!
    echo "$server" >>"$BATS_TEST_TMPDIR/.host-pids"
    wait_until 10 ip netns exec "$outside" python3 -c 'import socket; socket.create_connection(("198.51.100.2", 8081), 1)'
    doc egress '{"apiVersion":"cellos.io/v1","kind":"ExecutionCell","spec":{"id":"egress",
      "authority":{"egressRules":[{"host":"198.51.100.1","port":8081}]},"lifetime":{"ttlSeconds":60},
      "run":{"argv":["/bin/bash","-c","for t in 198.51.100.1/8081 198.51.100.1/8082 198.51.100.2/8081; do timeout 2 bash -c \"exec 3<>/dev/tcp/$t && cat <&3\" 2>/dev/null || echo blocked $t; done"]}}}'
    run_job "$JOBS/egress.json" --egress-netns "$outside"
    local rc=$status out=$output
    kill "$server"
    wait "$server" 2>/dev/null || true
    [[ -z $(ip -n "$outside" -o link show | grep ' cj') ]] || { ip -n "$outside" link; false; }
    ip netns del "$outside"
    output=$out
    [[ $rc -eq 0 && $out == *"hello from 198.51.100.1:8081"* && $out == *"blocked 198.51.100.1/8082"* &&
        $out == *"blocked 198.51.100.2/8081"* ]] || { echo "$out"; false; }
    expect_no_residue
}

@test "job: two jobs with the same id cannot run at once; the second is refused naming it" {
    skip_runsc "the workload runs in gVisor's kernel: the test cannot see when it runs"
    doc same '{"apiVersion":"cellos.io/v1","kind":"ExecutionCell","spec":{"id":"same",
      "lifetime":{"ttlSeconds":60},"run":{"argv":['"$SLEEP_ARGV"'],"workingDirectory":"/w"}}}'
    start_cell "$BATS_TEST_TMPDIR/first.out" job run "${BACKEND[@]}" "$JOBS/same.json"
    wait_until 10 job_sleeping same "$CELL_PID"
    run_job -125 "$JOBS/same.json"
    expect_err "job same: lock: another job with the id \"same\" is running"
    [[ ! -e $EVENTS ]]
    # the first goes on, and ends as asked
    kill -0 "$CELL_PID"
    kill -TERM "$CELL_PID"
    wait "$CELL_PID" || [[ $? -eq 143 ]]
    # then the id is free again
    doc same '{"apiVersion":"cellos.io/v1","kind":"ExecutionCell","spec":{"id":"same",
      "lifetime":{"ttlSeconds":60},"run":{"argv":["/bin/true"]}}}'
    run_job "$JOBS/same.json"
    expect_status 0
    expect_no_residue
}

@test "job: bad documents are refused with the parser's error (exit 125), nothing made" {
    doc typo '{"apiVersion":"cellos.io/v1","kind":"ExecutionCell","spec":{"id":"typo",
      "lifetime":{"ttlSeconds":60},"run":{"argv":["/bin/true"],"timeoutMS":5}}}'
    run_job -125 "$JOBS/typo.json"
    expect_one_error_line
    expect_err "typo.json: spec.run.timeoutMS: unknown key"
    run_job -125 "$REPO/examples/jobs/invalid/zero-ttl.json"
    expect_err "spec.lifetime.ttlSeconds: 0"
    run_job -125 "$JOBS/nonexistent.json"
    expect_err "nonexistent.json: open: No such file or directory"
    [[ ! -e $EVENTS && ! -e $EXPORT && ! -e $CELL_ROOT/run/jobs ]]
}

@test "job: a command that is not there exits 127, as cell run does; the teardown still leaves nothing" {
    skip_runsc "runsc starts its sandbox, then exits 128 for a command it cannot start"
    doc nf '{"apiVersion":"cellos.io/v1","kind":"ExecutionCell","spec":{"id":"nf",
      "lifetime":{"ttlSeconds":60},"run":{"argv":["/no/such/command"]}}}'
    if [[ ${#BACKEND[@]} -gt 0 ]]; then # the runtime's words; it did not start the container
        run_job -125 "$JOBS/nf.json"
        expect_err 'stat /no/such/command: no such file or directory'
        expect_err "job nf: run: $(command -v runc) did not start the container (exit 1; its own error is above)"
        [[ $(events '[x["type"].split(".")[-1] for x in e]') == '["started", "destroyed"]' ]]
        # a runtime that fails before it makes anything: the same, not the workload's status
        run_job -125 "$JOBS/nf.json" --oci-runtime /bin/false
        expect_err "job nf: run: /bin/false did not start the container (exit 1; its own error is above)"
    else
        run_job -127 "$JOBS/nf.json"
        expect_err 'job nf: run: cell nf: command "/no/such/command" not found in the cell'
        [[ $(events '[x["type"].split(".")[-1] for x in e]') == '["started", "destroyed"]' ]]
    fi
    [[ $(events 'e[-1]["data"]["report"]["residue"]') == "[]" ]]
}

@test "job: the residue check reports a deliberately leaked cgroup (test hook)" {
    skip_oci "the test hook is in cell's sandbox; the runtime removes its own cgroups"
    doc leak '{"apiVersion":"cellos.io/v1","kind":"ExecutionCell","spec":{"id":"leak",
      "lifetime":{"ttlSeconds":60},"run":{"argv":["/bin/true"]}}}'
    CELL_JOB_TEST_LEAK=cgroup run_job "$JOBS/leak.json"
    expect_status 0
    local dir
    dir=$(report '[x["what"] for x in r["residue"] if x["kind"] == "cgroup"][0]')
    # clean the leak up before anything can fail
    rmdir "$dir/leak" "$dir"
    [[ $dir == /sys/fs/cgroup/*/cell.leak.* ]]
    expect_err "cell leak: error: left behind: cgroup $dir"
    [[ $(events 'e[-1]["data"]["report"]["residue"][0]["what"]') == "$dir" ]]
}

@test "job: the residue check reports a network namespace kept alive from outside, and the egress table in it" {
    skip_runsc "egress rules are refused under runsc, and its sandbox has its own network stack"
    command -v nft >/dev/null || skip "nftables is needed"
    local outside=cell-job-keep-$$ keep=$BATS_TEST_TMPDIR/netns pid=""
    ip netns add "$outside"
    doc keepns '{"apiVersion":"cellos.io/v1","kind":"ExecutionCell","spec":{"id":"keepns",
      "authority":{"egressRules":[{"host":"198.51.100.1","port":8081}]},"lifetime":{"ttlSeconds":60},
      "run":{"argv":['"$SLEEP_ARGV"']}}}'
    start_cell "$BATS_TEST_TMPDIR/keepns.out" job run "${BACKEND[@]}" "$JOBS/keepns.json" --egress-netns "$outside" \
        --report
    wait_until 10 job_sleeping keepns "$CELL_PID"
    local d p
    for d in $(cell_cgroups keepns "$CELL_PID"); do
        for p in $(cat "$d/cgroup.procs"); do
            [[ $(cat "/proc/$p/comm" 2>/dev/null) == sleep ]] && pid=$p
        done
    done
    # the test keeps the cell's network namespace: a bind mount of it
    touch "$keep"
    mount --bind "/proc/$pid/ns/net" "$keep"
    kill -TERM "$CELL_PID"
    wait "$CELL_PID" || true
    local ino
    ino=$(stat -L -c %i "$keep")
    output=$(cat "$BATS_TEST_TMPDIR/keepns.out")
    umount "$keep"
    ip netns del "$outside"
    [[ $(report '[x["what"] for x in r["residue"] if x["kind"] == "network-namespace"]') == \
        "[\"net:[$ino]: mounted at $keep\"]" ]] || { echo "$output"; false; }
    [[ $(report '[x["what"] for x in r["residue"] if x["kind"] == "nftables"]') == \
        "[\"table inet cell_egress in net:[$ino]\"]" ]] || { echo "$output"; false; }
}

# start_killed_job: the job "killed" (a working directory, a secret file),
# its runner $CELL_PID, once its workload runs
start_killed_job() {
    mkdir -p "$BATS_TEST_TMPDIR/secrets"
    printf 'v' >"$BATS_TEST_TMPDIR/secrets/TOKEN"
    doc killed '{"apiVersion":"cellos.io/v1","kind":"ExecutionCell","spec":{"id":"killed",
      "authority":{"secretRefs":["TOKEN"]},"lifetime":{"ttlSeconds":60},
      "run":{"argv":['"$SLEEP_ARGV"'],"workingDirectory":"/w","secretDelivery":"runtimeBroker"}}}'
    start_cell "$BATS_TEST_TMPDIR/killed.out" job run "${BACKEND[@]}" "$JOBS/killed.json" \
        --secrets-dir "$BATS_TEST_TMPDIR/secrets"
    wait_until 10 job_sleeping killed "$CELL_PID"
}

# run_killed_job_again: the same id, a job that ends at once (as run_job)
run_killed_job_again() {
    doc killed '{"apiVersion":"cellos.io/v1","kind":"ExecutionCell","spec":{"id":"killed",
      "authority":{"secretRefs":["TOKEN"]},"lifetime":{"ttlSeconds":60},
      "run":{"argv":["/bin/true"],"workingDirectory":"/w","secretDelivery":"runtimeBroker"}}}'
    run_job "$JOBS/killed.json" --secrets-dir "$BATS_TEST_TMPDIR/secrets"
}

# gone PATH: nothing of PATH is left, mounted or not
gone() {
    ! grep -q " $1[/ ]" /proc/self/mountinfo && [[ ! -e $1 ]]
}

@test "job: a runner killed outright: its sweeper removes what it left at once (mounts, directories, lock, container)" {
    skip_runsc "the workload runs in gVisor's kernel: the test cannot see when it runs"
    start_killed_job
    grep -q " $CELL_ROOT/run/jobs/killed/" /proc/self/mountinfo
    kill -KILL "$CELL_PID"
    wait "$CELL_PID" || true
    wait_until 10 gone "$CELL_ROOT/run/jobs/killed"
    wait_until 10 bash -c "[[ ! -e $CELL_ROOT/run/jobs/killed.lock ]]"
    # the next run of the id finds nothing to clear
    run_killed_job_again
    expect_status 0
    [[ $stderr != *"was left by an earlier run"* ]] || { show; false; }
    expect_no_residue
}

@test "job: what a killed runner and its killed sweeper left is removed by the next run of its id" {
    skip_oci "a container whose runner and sweeper were both killed runs on: only cell's own cells die with their keeper"
    start_killed_job
    local c sweeper=""
    for c in $(cat /proc/"$CELL_PID"/task/*/children); do
        [[ $(cat /proc/"$c"/comm 2>/dev/null) == cell-job-sweep ]] && sweeper=$c
    done
    [[ -n $sweeper ]]
    kill -KILL "$sweeper"
    kill -KILL "$CELL_PID"
    wait "$CELL_PID" || true
    grep -q " $CELL_ROOT/run/jobs/killed/" /proc/self/mountinfo # left behind
    run_killed_job_again
    expect_status 0
    expect_err "cell killed: warning: $CELL_ROOT/run/jobs/killed was left by an earlier run of this job"
    expect_no_residue
    ! grep -q " $CELL_ROOT/run/jobs/killed" /proc/self/mountinfo
}

@test "job: --help, and usage errors exit 2" {
    run_cell job run --help
    expect_status 0
    expect_out "usage: cell job run FILE.json"
    expect_out "--secrets-dir DIR"
    run_cell help job
    expect_status 0
    expect_out "--export-dir DIR"
    run_cell -2 job
    expect_err "give a subcommand"
    run_cell -2 job run
    expect_err "give the document"
    run_cell -2 job run "$JOBS/x.json" --frobnicate
    expect_err "unknown option \"--frobnicate\""
    run_cell -2 job run "$JOBS/x.json" --events
    expect_err "--events needs a value"
    run_cell -2 job frobnicate "$JOBS/x.json"
    expect_err "unknown subcommand \"frobnicate\""
    run_cell -2 job run "$JOBS/x.json" --backend vm
    expect_err "--backend \"vm\": native (cell's own sandbox, the default) or oci"
    run_cell -2 job run "$JOBS/x.json" --oci-runtime runc
    expect_err "--oci-runtime needs --backend oci"
    run_cell -125 job run "$JOBS/x.json" --backend oci --oci-runtime nosuch
    expect_err "--oci-runtime \"nosuch\": runc, crun, runsc or the path of a runtime"
}

@test "job: runsc runs a job too (output, artifact, nothing left); egress rules under runsc are refused" {
    if [[ ${#BACKEND[@]} -eq 0 ]]; then
        skip "job_oci.bats runs this"
    fi
    command -v runsc >/dev/null || skip "runsc is not installed"
    run_job "$REPO/examples/jobs/hello.json" --oci-runtime runsc
    expect_status 0
    expect_out "hello from a job"
    [[ $(cat "$EXPORT/hello/report") == report ]]
    expect_no_residue
    doc out '{"apiVersion":"cellos.io/v1","kind":"ExecutionCell","spec":{"id":"out",
      "authority":{"egressRules":[{"host":"127.0.0.1","port":1}]},"lifetime":{"ttlSeconds":60},
      "run":{"argv":["/bin/true"]}}}'
    run_job -125 "$JOBS/out.json" --oci-runtime runsc
    expect_err "egress rules with --oci-runtime runsc: gVisor's own network stack would not see cell's nftables rules"
    expect_no_residue
}
