# metrics.bats - Prometheus metrics of the supervised cells: celld's
# --metrics ADDR:PORT serves GET /metrics over HTTP, `cell stats -P` prints the
# same text, promtool finds nothing wrong with either, and the values are the
# cells' own (running, restarts, memory, processes, health, start time, OOM
# kills). Also the errors: a bad or busy --metrics address, an unknown cell.

load helpers

# promtool comes from Debian's prometheus package, extracted by
# scripts/ensure-promtool (make check runs it) into build/tools.
PROMTOOL=${PROMTOOL:-$(command -v promtool || echo "$REPO/build/tools/promtool")}

setup() {
    _common_setup
    [[ -x $PROMTOOL ]] || {
        echo "promtool not found at $PROMTOOL: run scripts/ensure-promtool build (make check does)"
        return 1
    }
}

teardown() {
    celld_teardown "$BATS_TEST_TMPDIR/celld.out"
}

# c ARGS...: `cell --root $CELL_ROOT ARGS...`, tracked
c() {
    (tracked "$CELL" --root "$CELL_ROOT" "$@")
}

# start_celld ADDR: celld for this root with --metrics ADDR, started by hand
# (marked and tracked like a cell run); returns once it answers /metrics.
start_celld() {
    (tracked "$(dirname "$CELL")/celld" --root "$CELL_ROOT" --metrics "$1") \
        >"$BATS_TEST_TMPDIR/celld.out" 2>&1 </dev/null 3>&- &
    track_pid $!
    wait_until 20 curl -sf -o /dev/null "http://$1/metrics"
}

# value TEXT METRIC CELL: the sample of METRIC for cell CELL in TEXT (or "").
value() {
    awk -v k="$2{cell=\"$3\"}" '$1 == k { print $2 }' <<<"$1"
}

# promtool_clean FILE: promtool check metrics finds no problem in FILE.
promtool_clean() {
    run "$PROMTOOL" check metrics <"$1"
    if [[ $status -ne 0 || -n $output ]]; then
        echo "promtool check metrics: status $status"
        echo "$output"
        cat "$1"
        return 1
    fi
}

scrape() {
    curl -sSf "http://$ADDR/metrics"
}

# the metrics say cell $1's $2 is $3
metric_is() {
    [[ $(value "$(scrape)" "$2" "$1") == "$3" ]]
}

# a cell that fails once, then runs: one restart
declare_flaky() {
    local d
    d=$(world_tmpdir)
    c run -d --name flaky --bind "$d:/state:rw" --restart-delay 100ms -- \
        /bin/sh -c 'if [ -e /state/ran ]; then exec sleep 1000; fi; touch /state/ran; exit 1'
}

@test "metrics: celld --metrics serves every cell at GET /metrics, and promtool finds no problem" {
    ADDR=127.0.0.1:$(free_port)
    local before now
    before=$(date +%s)
    start_celld "$ADDR"
    c run -d --name web -- /bin/sh -c 'exec sleep 1000'
    declare_flaky
    wait_until 20 metric_is flaky cell_restarts_total 1
    wait_until 20 metric_is flaky cell_up 1

    curl -sSf -D "$BATS_TEST_TMPDIR/headers" -o "$BATS_TEST_TMPDIR/metrics" "http://$ADDR/metrics"
    grep -qi '^content-type: text/plain; version=0.0.4' "$BATS_TEST_TMPDIR/headers" ||
        { cat "$BATS_TEST_TMPDIR/headers"; false; }
    promtool_clean "$BATS_TEST_TMPDIR/metrics"
    local m
    m=$(cat "$BATS_TEST_TMPDIR/metrics")
    now=$(date +%s)
    # one family each, HELP and TYPE first
    for f in cell_up:gauge cell_restarts_total:counter cell_cpu_seconds_total:counter cell_memory_bytes:gauge \
        cell_processes:gauge cell_start_time_seconds:gauge cell_oom_kills_total:counter; do
        [[ $(grep -c "^# TYPE ${f%%:*} ${f#*:}\$" <<<"$m") -eq 1 ]] || { echo "no TYPE line for $f"; echo "$m"; false; }
    done
    [[ $(value "$m" cell_up web) == 1 && $(value "$m" cell_up flaky) == 1 ]] || { echo "$m"; false; }
    [[ $(value "$m" cell_restarts_total web) == 0 && $(value "$m" cell_restarts_total flaky) == 1 ]] ||
        { echo "$m"; false; }
    [[ $(value "$m" cell_memory_bytes web) -gt 0 && $(value "$m" cell_processes web) -ge 1 ]] || { echo "$m"; false; }
    [[ $(value "$m" cell_oom_kills_total web) == 0 ]] || { echo "$m"; false; }
    python3 -c 'import sys; b, s, n = map(float, sys.argv[1:]); assert b - 1 <= s <= n + 1, (b, s, n)' \
        "$before" "$(value "$m" cell_start_time_seconds web)" "$now"
    python3 -c 'import sys; assert float(sys.argv[1]) >= 0' "$(value "$m" cell_cpu_seconds_total web)"
    # without --health a cell has no health sample
    [[ -z $(value "$m" cell_health_status web) ]] || { echo "$m"; false; }

    # a stopped cell: down, no usage samples, its counters kept
    c stop web
    m=$(scrape)
    [[ $(value "$m" cell_up web) == 0 && $(value "$m" cell_restarts_total web) == 0 ]] || { echo "$m"; false; }
    [[ -z $(value "$m" cell_memory_bytes web) && -z $(value "$m" cell_start_time_seconds web) ]] ||
        { echo "$m"; false; }

    # other paths and methods; celld is still one thread after serving HTTP
    [[ $(curl -s -o /dev/null -w '%{http_code}' "http://$ADDR/") == 404 ]]
    [[ $(curl -s -o /dev/null -w '%{http_code}' "http://$ADDR/metricsx") == 404 ]]
    [[ $(curl -s -o /dev/null -w '%{http_code}' -X POST "http://$ADDR/metrics") == 405 ]]
    local pid
    pid=$(pgrep -f "celld --root $CELL_ROOT" | head -n 1)
    [[ $(awk '/^Threads:/ { print $2 }' "/proc/$pid/status") == 1 ]] || { grep Threads "/proc/$pid/status"; false; }
    # and it serves its control socket as before
    run --separate-stderr c status web
    expect_status 0
}

@test "metrics: cell stats -P prints what GET /metrics serves; CELL_CELLD_ARGS passes --metrics" {
    ADDR=127.0.0.1:$(free_port)
    # the CLI starts celld itself, with the options in CELL_CELLD_ARGS
    CELL_CELLD_ARGS="--metrics $ADDR" c run -d --name web -- /bin/sleep 1000
    declare_flaky
    wait_until 20 metric_is flaky cell_restarts_total 1
    wait_until 20 metric_is flaky cell_up 1

    run --separate-stderr c stats -P
    expect_status 0
    echo "$output" >"$BATS_TEST_TMPDIR/stats"
    promtool_clean "$BATS_TEST_TMPDIR/stats"
    scrape >"$BATS_TEST_TMPDIR/http"
    # the same lines, but for usage that moves between the two reads
    diff <(grep -v -e '^cell_cpu_seconds_total{' -e '^cell_memory_bytes{' "$BATS_TEST_TMPDIR/stats") \
        <(grep -v -e '^cell_cpu_seconds_total{' -e '^cell_memory_bytes{' "$BATS_TEST_TMPDIR/http")
    [[ $(grep -c '^cell_memory_bytes{' "$BATS_TEST_TMPDIR/stats") -eq 2 ]]
    m=$(cat "$BATS_TEST_TMPDIR/stats")
    [[ $(value "$m" cell_up web) == 1 && $(value "$m" cell_restarts_total flaky) == 1 ]] || { echo "$m"; false; }

    # NAMEs pick cells
    run --separate-stderr c stats -P flaky
    expect_status 0
    [[ -n $(value "$output" cell_up flaky) && -z $(value "$output" cell_up web) ]] || { show; false; }

    # the table: a header and one line per cell
    run --separate-stderr c stats
    expect_status 0
    [[ ${lines[0]} == NAME* && ${#lines[@]} -eq 3 ]] || { show; false; }
    [[ $output == *$'\n'"web "*" 1 "* ]] || { show; false; }
}

@test "metrics: cell_health_status is 1 for a healthy cell and 0 for an unhealthy one" {
    ADDR=127.0.0.1:$(free_port)
    start_celld "$ADDR"
    c run -d --name good --health true --health-interval 200ms -- /bin/sleep 1000
    c run -d --name bad --health false --health-interval 200ms --health-retries 1 --restart never -- /bin/sleep 1000
    wait_until 20 metric_is good cell_health_status 1
    wait_until 20 metric_is bad cell_health_status 0
    scrape >"$BATS_TEST_TMPDIR/metrics"
    promtool_clean "$BATS_TEST_TMPDIR/metrics"
}

@test "metrics: OOM kills count in cell_oom_kills_total, over every instance" {
    ADDR=127.0.0.1:$(free_port)
    start_celld "$ADDR"
    c run -d --name hog --memory 32M --restart never --bind "$PROBE:/probe" -- /probe memory 512
    wait_until 30 metric_is hog cell_up 0
    [[ $(value "$(scrape)" cell_oom_kills_total hog) == 1 ]] || { scrape; false; }
    # restarted after each kill: the count goes on across instances
    c run -d --name hogs --memory 32M --restart always --restart-delay 100ms --crash-limit 100 \
        --bind "$PROBE:/probe" -- /probe memory 512
    wait_until 60 eval '[[ $(value "$(scrape)" cell_oom_kills_total hogs) -ge 2 ]]'
    # control: a cell under its limit is never OOM-killed
    c run -d --name small --memory 32M --bind "$PROBE:/probe" -- /bin/sh -c '/probe memory 4; exec sleep 1000' # the probe exits 1: it got all it asked for
    wait_until 20 metric_is small cell_up 1
    scrape >"$BATS_TEST_TMPDIR/metrics"
    promtool_clean "$BATS_TEST_TMPDIR/metrics"
    [[ $(value "$(cat "$BATS_TEST_TMPDIR/metrics")" cell_oom_kills_total small) == 0 ]]
    c stop hogs
}

@test "metrics: a bad --metrics address is refused, naming the option and the address" {
    run --separate-stderr "$(dirname "$CELL")/celld" --root "$CELL_ROOT" --metrics localhost:9100
    expect_status 2
    [[ $stderr == *'--metrics "localhost:9100": expected ADDR:PORT'* ]] || { show; false; }
    for bad in 127.0.0.1 127.0.0.1:0 127.0.0.1:65536 127.0.0.1:x :9100 ::1:9100 '[::1]' 1.2.3:9100; do
        run --separate-stderr "$(dirname "$CELL")/celld" --root "$CELL_ROOT" --metrics "$bad"
        expect_status 2
        expect_err "--metrics \"$bad\""
    done
    # an address this host does not have
    run --separate-stderr "$(dirname "$CELL")/celld" --root "$CELL_ROOT" --metrics 192.0.2.1:9100
    expect_status 1
    expect_err "celld: --metrics 192.0.2.1:9100: cannot listen there: Cannot assign requested address"
    # nothing left behind: no socket, no lock
    [[ -z $(find "$CELL_ROOT" -mindepth 1 ! -type d) ]]
}

@test "metrics: a --metrics port in use stops celld with a clear error, also when the CLI starts it" {
    local port
    port=$(free_port)
    start_listener "$port"
    run --separate-stderr "$(dirname "$CELL")/celld" --root "$CELL_ROOT" --metrics "127.0.0.1:$port"
    expect_status 1
    expect_err "celld: --metrics 127.0.0.1:$port: cannot listen there: Address already in use"
    [[ ! -e $CELL_ROOT/run/celld.sock && ! -e $CELL_ROOT/run/celld.lock ]]

    # started by the CLI: the command fails and says why
    CELL_CELLD_ARGS="--metrics 127.0.0.1:$port" run --separate-stderr c run -d --name web -- /bin/sleep 1000
    expect_status 125
    expect_one_error_line
    expect_err "cell: celld did not start: --metrics 127.0.0.1:$port: cannot listen there: Address already in use"
    ! pgrep -f "celld --root $CELL_ROOT" >/dev/null
}

@test "metrics: cell stats names unknown cells, and works without celld" {
    # no celld: no cells, and every family still says what it is
    run --separate-stderr c stats -P
    expect_status 0
    echo "$output" >"$BATS_TEST_TMPDIR/empty"
    promtool_clean "$BATS_TEST_TMPDIR/empty"
    [[ $(grep -c '^# TYPE ' "$BATS_TEST_TMPDIR/empty") -eq 8 && $(grep -vc '^#' "$BATS_TEST_TMPDIR/empty") -eq 0 ]] ||
        { cat "$BATS_TEST_TMPDIR/empty"; false; }
    run --separate-stderr c stats nosuch
    expect_status 1
    expect_one_error_line
    expect_err "no celld serves"

    c run -d --name web -- /bin/sleep 1000
    run --separate-stderr c stats -P web nosuch
    expect_status 1
    expect_one_error_line
    expect_err "cell nosuch: no such cell"
    [[ -z $output ]] || { show; false; }
    run --separate-stderr c stats --bogus
    expect_status 2
    expect_err 'stats: unknown option "--bogus"'
}
