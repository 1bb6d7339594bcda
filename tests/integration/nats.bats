# nats.bats - celld's events in NATS JetStream (--events-nats): a real
# nats-server -js on a loopback port of the test's own, and a real JetStream
# subscriber (build/tests/cell-nats-sub, libnats) reading the stream
# CELL_EVENTS. Covers the subjects and the events in them, NATS unreachable at
# start (with and without --events-nats-required), NATS without JetStream,
# and NATS going away and coming back while celld supervises.

load helpers

NATS_SUB=${NATS_SUB:-$REPO/build/tests/cell-nats-sub}

setup() {
    _common_setup
    [[ -x $NATS_SUB ]] || {
        echo "$NATS_SUB not found: build with libnats-dev installed"
        return 1
    }
    command -v nats-server >/dev/null || {
        echo "nats-server is not installed (Debian package nats-server)"
        return 1
    }
    NATS_STORE=$BATS_TEST_TMPDIR/nats-store
    NATS_LOG=$BATS_TEST_TMPDIR/nats.log
    CELLD_LOG=$CELL_ROOT/data/logs/celld.log
}

# As celld.bats: record celld's pid for the residue check, `cell down`, no
# sanitizer report, celld's own files removed; then nats-server is stopped
# and its store removed.
teardown() {
    local failed=0
    celld_stop "$CELLD_LOG" || failed=1
    stop_nats
    rm -rf "$NATS_STORE" "$NATS_LOG"
    _residue_teardown || failed=1
    return "$failed"
}

c() {
    (tracked "$CELL" --root "$CELL_ROOT" "$@")
}

field_of() {
    "$CELL" --root "$CELL_ROOT" status --json "$1" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)[0][sys.argv[1]])' "$2"
}

state_is() {
    [[ $(field_of "$1" state) == "$2" ]]
}

# in_nats: what the subscriber reads from the stream, into $BATS_TEST_TMPDIR/nats.out
in_nats() {
    "$NATS_SUB" "$NATS_URL" >"$BATS_TEST_TMPDIR/nats.out"
}

# nats_has PATTERN: the stream holds a message whose line matches (grep -E)
nats_has() {
    in_nats && grep -qE "$1" "$BATS_TEST_TMPDIR/nats.out"
}

@test "nats: every event goes to cell.events.NAME.TYPE in the stream CELL_EVENTS, with its id as Nats-Msg-Id" {
    start_nats
    export CELL_CELLD_ARGS="--events-nats $NATS_URL --events-nats-required"
    c run -d --name web.1 --restart-delay 10ms --crash-limit 2 -- /bin/sh -c 'exit 4'
    wait_until 20 state_is web.1 failed
    c run -d --name svc -- /bin/sleep 1000
    c stop svc
    c rm svc web.1
    wait_until 20 nats_has $'^cell\\.events\\.web%2E1\\.removed\t'
    wait_until 20 nats_has $'^cell\\.events\\.svc\\.removed\t'

    # a second celld finds the stream there, and its ids are new ones
    c down
    c run -d --name again -- /bin/sleep 1000
    c rm again
    wait_until 20 nats_has $'^cell\\.events\\.again\\.removed\t'

    python3 - "$BATS_TEST_TMPDIR/nats.out" "$CELL_ROOT/data/events.jsonl" <<'PY'
import json, sys
msgs = []
for line in open(sys.argv[1]):
    subject, msg_id, ctype, data = line.rstrip("\n").split("\t", 3)
    msgs.append((subject, msg_id, ctype, json.loads(data)))
kept = [json.loads(l) for l in open(sys.argv[2])]
# every event celld emitted (both runs), in order, and nothing else
assert [m[3] for m in msgs] == kept, (len(msgs), len(kept))
assert len({e["id"] for e in kept}) == len(kept), "ids repeat"
for subject, msg_id, ctype, e in msgs:
    assert e["specversion"] == "1.0" and e["type"].startswith("cell.") and e["source"] and e["time"], e
    assert subject == "cell.events.%s.%s" % (e["subject"].replace(".", "%2E"), e["type"][5:]), (subject, e)
    assert msg_id == e["id"], (msg_id, e["id"])
    assert ctype == "application/cloudevents+json", ctype
    assert e["data"]["cell"] == e["subject"], e
def of(name):
    return [e for _, _, _, e in msgs if e["subject"] == name]
web = of("web.1")
assert [e["type"] for e in web] == ["cell.started", "cell.exited", "cell.restarting", "cell.started",
                                    "cell.exited", "cell.removed"], [e["type"] for e in web]
started = [e["data"]["pid"] for e in web if e["type"] == "cell.started"]
exited = [e["data"] for e in web if e["type"] == "cell.exited"]
assert all(p > 0 for p in started) and [d["pid"] for d in exited] == started, (started, exited)
assert all(d["exit_code"] == 4 and "signal" not in d for d in exited), exited
assert [e["data"]["restarts"] for e in web if e["type"] == "cell.restarting"] == [1]
svc = of("svc")
assert [e["type"] for e in svc] == ["cell.started", "cell.exited", "cell.stopped", "cell.removed"], svc
assert svc[1]["data"]["pid"] == svc[0]["data"]["pid"] > 0, svc
assert svc[1]["data"]["signal"] == 15 and svc[1]["data"]["exit_code"] == 143, svc[1]
again = of("again")
assert [e["type"] for e in again] == ["cell.started", "cell.exited", "cell.stopped", "cell.removed"], again
assert again[0]["id"].split("-")[:2] != web[0]["id"].split("-")[:2], (again[0]["id"], web[0]["id"])
print("ok", len(msgs), "messages")
PY
}

@test "nats: NATS unreachable at start: celld warns, supervises, and publishes once NATS is there" {
    NATS_PORT=$(free_port)
    NATS_URL=nats://127.0.0.1:$NATS_PORT
    export CELL_CELLD_ARGS="--events-nats $NATS_URL"
    run --separate-stderr c run -d --name w -- /bin/sleep 1000
    expect_status 0
    state_is w running
    wait_until 10 grep -q "celld: events: NATS at $NATS_URL is unreachable: celld goes on without it" "$CELLD_LOG"
    run --separate-stderr c stop w
    expect_status 0
    # the events waited in the queue: they arrive once NATS is up
    start_nats
    wait_until 20 nats_has $'^cell\\.events\\.w\\.stopped\t'
    grep -q "NATS at $NATS_URL is reachable (again)" "$CELLD_LOG"
    [[ $(cut -f1 "$BATS_TEST_TMPDIR/nats.out" | tr '\n' ' ') == \
        "cell.events.w.started cell.events.w.exited cell.events.w.stopped " ]] || { cat "$BATS_TEST_TMPDIR/nats.out"; false; }
}

@test "nats: --events-nats-required and NATS unreachable: the command fails with the reason; nothing is left" {
    local port
    port=$(free_port)
    export CELL_CELLD_ARGS="--events-nats nats://127.0.0.1:$port --events-nats-required"
    run --separate-stderr c run -d --name w -- /bin/sleep 1000
    [[ $status -ne 0 ]] || { show; false; }
    expect_one_error_line
    expect_err "cell: celld did not start: events: cannot reach NATS at nats://127.0.0.1:$port: "
    expect_err "--events-nats-required was given: start nats-server with JetStream there (nats-server -js), or leave out --events-nats-required"
    wait_until 10 eval '! pgrep -f "celld --root $CELL_ROOT" >/dev/null' # its NATS publisher may be on its way out
    [[ ! -e $CELL_ROOT/run/celld.sock && ! -e $CELL_ROOT/run/celld.lock ]]
    # and there is still no celld: status says so, without starting one
    run --separate-stderr c status w
    expect_status 1
    expect_err "no celld serves"
}

@test "nats: --events-nats-required and a NATS without JetStream: the command fails and says to use -js" {
    start_nats --no-js
    export CELL_CELLD_ARGS="--events-nats $NATS_URL --events-nats-required"
    run --separate-stderr c run -d --name w -- /bin/sleep 1000
    [[ $status -ne 0 ]] || { show; false; }
    expect_one_error_line
    expect_err "cell: celld did not start: events: NATS at $NATS_URL has no JetStream"
    expect_err "start nats-server with -js"
    wait_until 10 eval '! pgrep -f "celld --root $CELL_ROOT" >/dev/null' # its NATS publisher may be on its way out
    [[ ! -e $CELL_ROOT/run/celld.sock && ! -e $CELL_ROOT/run/celld.lock ]]
}

@test "nats: NATS killed while celld runs: one warning, cells still supervised, events resume when it is back" {
    start_nats
    export CELL_CELLD_ARGS="--events-nats $NATS_URL"
    c run -d --name tick --restart-delay 50ms --restart-max-delay 50ms --crash-limit 1000 --crash-window 10ms \
        -- /bin/sh -c 'sleep 0.1; exit 1'
    wait_until 20 nats_has $'^cell\\.events\\.tick\\.restarting\t'

    stop_nats KILL
    local before
    before=$(field_of tick restarts)
    # celld goes on: the cell keeps being restarted, status answers, new cells start
    wait_until 30 eval '[[ $(field_of tick restarts) -ge $((before + 10)) ]]'
    run --separate-stderr c run -d --name other -- /bin/sleep 1000
    expect_status 0
    state_is other running
    wait_until 10 grep -q "celld: events: lost NATS at $NATS_URL: celld keeps supervising" "$CELLD_LOG"
    [[ $(grep -c "lost NATS" "$CELLD_LOG") -eq 1 ]] || { cat "$CELLD_LOG"; false; }

    # back on the same port and store: what happened meanwhile arrives
    start_nats
    wait_until 20 grep -q "NATS at $NATS_URL is reachable (again)" "$CELLD_LOG"
    wait_until 20 nats_has $'^cell\\.events\\.other\\.started\t'
    c rm tick other
    wait_until 20 nats_has $'^cell\\.events\\.tick\\.removed\t'
    wait_until 20 nats_has $'^cell\\.events\\.other\\.removed\t'
    local restarting
    restarting=$(grep -c $'^cell\\.events\\.tick\\.restarting\t' "$BATS_TEST_TMPDIR/nats.out")
    [[ $restarting -ge $((before + 10)) ]] || { echo "restarting events in NATS: $restarting"; false; }
    # every event once: what was in flight when NATS died was sent again
    # (maybe out of order), and JetStream dropped what it already had
    python3 - "$BATS_TEST_TMPDIR/nats.out" "$CELL_ROOT/data/events.jsonl" <<'PY'
import json, sys
ids = [l.split("\t")[1] for l in open(sys.argv[1])]
kept = [json.loads(l)["id"] for l in open(sys.argv[2])]
assert len(set(ids)) == len(ids), "duplicates in the stream"
assert sorted(ids) == sorted(kept), (len(ids), len(kept), set(kept) - set(ids))
PY
    [[ $(grep -c "lost NATS" "$CELLD_LOG") -eq 1 ]]
}
