# examples.bats - the desired-state examples in examples/ (web, app,
# bluegreen) work as their README says: each copied into $CELL_ROOT/etc with
# free ports, a dry run finds changes (2), `cell apply` makes them (0), the
# page answers on the loopback address, the next dry run finds nothing (0);
# app's db starts before app and app turns healthy; switching blue/green
# moves the page to the other port. `make demo` (scripts/demo) runs and
# leaves nothing behind. Teardown: `cell down` and the residue check.

load helpers

setup() {
    _common_setup
    command -v curl >/dev/null || skip "curl is not installed"
    busybox httpd --help >/dev/null 2>&1 || skip "busybox (with httpd) is not installed"
}

teardown() {
    celld_teardown
}

c() {
    (tracked "$CELL" --root "$CELL_ROOT" "$@")
}

# use_example NAME PORT...: examples/NAME into $CELL_ROOT/etc, each of its
# fixed ports 18080, 18081, ... (in order) replaced by a free one. Sets
# PORTS (the new ones, in the same order).
use_example() {
    local name=$1 fixed p
    shift
    mkdir -p "$CELL_ROOT/etc"
    cp -r "$REPO/examples/$name/." "$CELL_ROOT/etc/"
    PORTS=()
    for fixed in "$@"; do
        grep -q "$fixed" "$CELL_ROOT"/etc/*.lua || { echo "examples/$name does not use port $fixed"; return 1; }
        p=$(free_port)
        sed -i "s/$fixed/$p/g" "$CELL_ROOT"/etc/*.lua
        PORTS+=("$p")
    done
}

# page PORT [PATH]: what 127.0.0.1:PORT/PATH answers (fails when nothing does)
page() {
    curl -fsS --max-time 2 "http://127.0.0.1:$1/${2:-}"
}

# serves PORT TEXT [PATH]: the page at PORT contains TEXT
serves() {
    [[ $(page "$1" "${3:-}" 2>/dev/null) == *"$2"* ]]
}

# refused PORT: nothing listens on 127.0.0.1:PORT
refused() {
    ! (exec 9<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

field_of() {
    "$CELL" --root "$CELL_ROOT" status --json "$1" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)[0][sys.argv[1]])' "$2"
}

field_is() {
    [[ $(field_of "$1" "$2") == "$3" ]]
}

# started_order: the cells celld started, in the order of its events
started_order() {
    python3 -c '
import json, sys
print(" ".join(e["subject"] for e in map(json.loads, open(sys.argv[1])) if e["type"] == "cell.started"))' \
        "$CELL_ROOT/data/events.jsonl"
}

# apply_converges: dry run 2, apply 0, dry run 0 (nothing to change)
apply_converges() {
    run_cell apply --dry-run
    expect_status 2 || return 1
    expect_out "APPLY REPORT (DRY-RUN)" || return 1
    run_cell apply
    expect_status 0 || return 1
    expect_out "APPLY REPORT (APPLY)" || return 1
    run_cell apply --dry-run
    expect_status 0 || return 1
    expect_out "nothing to change" || return 1
}

@test "examples/web: apply serves the rendered page from the volume; idempotent" {
    use_example web 18080
    local port=${PORTS[0]}
    apply_converges
    wait_until 20 serves "$port" "hello from a cell" || { page "$port"; c logs web; false; }
    # the template's tokens are filled in: its own and the built-in ones
    run page "$port"
    [[ $output == *"cell <b>web</b> on 127.0.0.1:$port"* ]] || { echo "$output"; false; }
    [[ $output != *"{{"* ]] || { echo "$output"; false; }
    wait_until 20 serves "$port" "Disallow" robots.txt
    # the content is in the volume on the host
    grep -q "hello from a cell" "$CELL_ROOT/data/volumes/www/index.html"
    [[ $(stat -c %a "$CELL_ROOT/data/volumes/www") == 755 ]]
    field_is web state running
}

@test "examples/app: db starts before app; app reaches db and turns healthy" {
    use_example app 18081 18082
    local db=${PORTS[0]} app=${PORTS[1]}
    apply_converges
    [[ $(started_order) == "db app" ]] || { echo "started in order: $(started_order)"; false; }
    wait_until 20 serves "$db" "db ok"
    wait_until 20 serves "$app" "app ok; db says: db ok" cgi-bin/status || { page "$app" cgi-bin/status; false; }
    # the healthcheck runs every 10 s (celld's default interval): bounded wait
    wait_until 40 field_is app health healthy || { c status; false; }
    wait_until 40 field_is db health healthy || { c status; false; }

    # db down: app still answers, but says so
    c stop db
    wait_until 20 serves "$app" "db unreachable" cgi-bin/status
}

@test "examples/bluegreen: the live color serves; switching moves it to the other port" {
    use_example bluegreen 18083 18084
    local blue=${PORTS[0]} green=${PORTS[1]}
    apply_converges
    wait_until 20 serves "$blue" "<h1>blue</h1>"
    refused "$green"
    field_is blue state running
    [[ $(field_of green state) != running ]]

    # the switch: green goes live
    sed -i 's/^local live = "blue"/local live = "green"/' "$CELL_ROOT/etc/bluegreen.lua"
    grep -q '^local live = "green"' "$CELL_ROOT/etc/bluegreen.lua"
    apply_converges
    wait_until 20 serves "$green" "<h1>green</h1>"
    wait_until 20 refused "$blue"
    field_is green state running
    [[ $(field_of blue state) != running ]]
    # blue stays declared and set up, ready to switch back
    [[ -f $CELL_ROOT/data/cells/blue/applied.json ]]

    # and back
    sed -i 's/^local live = "green"/local live = "blue"/' "$CELL_ROOT/etc/bluegreen.lua"
    apply_converges
    wait_until 20 serves "$blue" "<h1>blue</h1>"
    wait_until 20 refused "$green"
}

@test "make demo (scripts/demo): applies examples/web, prints the page, leaves nothing" {
    local tmp=$BATS_TEST_TMPDIR/demo-tmp
    mkdir -p "$tmp"
    run --separate-stderr env TMPDIR="$tmp" CELL_TEST_ID="$CELL_TEST_ID" "$REPO/scripts/demo" "$CELL"
    expect_status 0
    expect_out "hello from a cell"
    expect_out "cell status"
    expect_out "nothing to change"
    # the temporary root is gone, and with it everything it held
    [[ -z $(ls -A "$tmp") ]] || { ls -laR "$tmp"; false; }
}
