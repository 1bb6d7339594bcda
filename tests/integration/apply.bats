# apply.bats - `cell apply`: the desired state in $CELL_ROOT/etc/*.lua made
# real. A dry run exits 2 when there are changes, an apply 0, the next dry
# run 0; a one-field change restarts exactly the cells it touches; a policy
# change waits for --restart-changed; depends_on orders the starts; actions
# run inside the cell's filesystem view and persist in its layer; a failing
# action fails the apply (1), keeps its cell down and skips its dependents;
# a Lua error changes nothing; cells no longer declared are stopped.

load helpers

setup() {
    _common_setup
    mkdir -p "$CELL_ROOT/etc"
}

teardown() {
    celld_teardown
}

c() {
    (tracked "$CELL" --root "$CELL_ROOT" "$@")
}

# spec FILE: the desired state file $CELL_ROOT/etc/FILE from stdin
spec() {
    cat >"$CELL_ROOT/etc/$1"
}

pid_of() {
    "$CELL" --root "$CELL_ROOT" status --json "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["pid"])'
}

state_of() {
    "$CELL" --root "$CELL_ROOT" status --json "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["state"])'
}

# row TABLE CELL: the report line of CELL in [TABLE] of the last output
row() {
    awk -v t="[$1]" -v c="$2" '$0 == t {on = 1; next} /^\[/ {on = 0} on && $1 == c' <<<"$output"
}

two_cells() {
    spec cells.lua <<'EOF'
volume("data", { mode = "0750" })
cell("db", { supervise = { cmd = "sleep 1000" } })
cell("web", {
  depends_on = { "db" },
  supervise = { cmd = "sleep 1000" },
  mounts = { volume("data", { target = "/data", mode = "rw" }) },
})
cell("spare", { autostart = false, supervise = { cmd = "sleep 1000" } })
EOF
}

@test "apply: dry run 2, apply 0, dry run 0; cells, volume and runtime directories are there" {
    two_cells
    run_cell apply --dry-run
    expect_status 2
    expect_out "APPLY REPORT (DRY-RUN)"
    [[ $(row CELL db) == "db "*YES*NONE*start*YES ]] || { echo "$output"; false; }
    [[ $(row VOLUME data) == "data "*0750*YES ]] || { echo "$output"; false; }
    # a dry run changes nothing, and does not even start celld
    [[ ! -e $CELL_ROOT/data/volumes/data && ! -e $CELL_ROOT/data/cells/db && ! -S $CELL_ROOT/run/celld.sock ]]

    run_cell apply
    expect_status 0
    expect_out "APPLY REPORT (APPLY)"
    [[ $(state_of db) == running && $(state_of web) == running && $(state_of spare) == exited ]]
    [[ $(stat -c %a "$CELL_ROOT/data/volumes/data") == 750 ]]
    [[ -f $CELL_ROOT/data/cells/web/applied.json && -d $CELL_ROOT/data/cells/web/upper ]]

    run_cell apply --dry-run
    expect_status 0
    expect_out "nothing to change"
    [[ $(row CELL web) == "web "*NO*NONE*NO*NO*NO*NO*-*YES ]] || { echo "$output"; false; }
}

@test "apply: a one-field change restarts exactly the cell it touches" {
    two_cells
    run_cell apply
    expect_status 0
    local db web
    db=$(pid_of db)
    web=$(pid_of web)

    sed -i 's/cell("web", {/cell("web", { env = { MODE = "new" },/' "$CELL_ROOT/etc/cells.lua"
    run_cell apply --dry-run
    expect_status 2
    [[ $(row CELL web) == "web "*YES*SVC*restart* || $(row CELL web) == "web "*YES*restart* ]] || { echo "$output"; false; }
    [[ $(row CELL db) == "db "*NO*-* ]] || { echo "$output"; false; }

    run_cell apply
    expect_status 0
    [[ $(pid_of db) == "$db" ]] || { echo "db was restarted"; false; }
    [[ $(pid_of web) != "$web" && $(state_of web) == running ]] || { echo "web was not restarted"; false; }
    # the new declaration is what runs
    c exec web -- /bin/sh -c 'echo $MODE' | grep -qx new
}

@test "apply: a policy change waits for --restart-changed" {
    two_cells
    run_cell apply
    expect_status 0
    local db
    db=$(pid_of db)
    sed -i 's/cell("db", {/cell("db", { create = { profile = "medium" },/' "$CELL_ROOT/etc/cells.lua"

    run_cell apply
    expect_status 0
    [[ $(row CELL db) == "db "*YES*kept* ]] || { echo "$output"; false; }
    [[ $(pid_of db) == "$db" ]]
    # still pending: the change is not in effect
    run_cell apply --dry-run
    expect_status 2

    run_cell apply --restart-changed
    expect_status 0
    [[ $(row CELL db) == "db "*YES*restart* ]] || { echo "$output"; false; }
    [[ $(pid_of db) != "$db" && $(state_of db) == running ]]
    run_cell apply --dry-run
    expect_status 0
}

@test "apply: depends_on orders the starts, whatever the declaration order" {
    spec a.lua <<'EOF'
cell("front", { depends_on = { "middle" }, supervise = { cmd = "sleep 1000" } })
cell("middle", { depends_on = { "back" }, supervise = { cmd = "sleep 1000" } })
cell("back", { supervise = { cmd = "sleep 1000" } })
EOF
    run_cell apply
    expect_status 0
    local order
    order=$(python3 -c '
import json, sys
print(" ".join(e["subject"] for e in map(json.loads, open(sys.argv[1])) if e["type"] == "cell.started"))' \
        "$CELL_ROOT/data/events.jsonl")
    [[ $order == "back middle front" ]] || { echo "started in order: $order"; false; }
    # the report lists them in that order too
    [[ $(grep -E '^(back|middle|front) ' <<<"$output" | awk '{print $1}' | tr '\n' ' ') == "back middle front " ]]
}

@test "apply: autostart off stays down; turning it on starts the cell" {
    two_cells
    run_cell apply
    expect_status 0
    [[ $(state_of spare) == exited ]]
    sed -i 's/autostart = false/autostart = true/' "$CELL_ROOT/etc/cells.lua"
    run_cell apply
    expect_status 0
    [[ $(row CELL spare) == "spare "*start*YES ]] || { echo "$output"; false; }
    [[ $(state_of spare) == running ]]
    sed -i 's/autostart = true/autostart = false/' "$CELL_ROOT/etc/cells.lua"
    run_cell apply
    expect_status 0
    [[ $(state_of spare) == exited ]]
    # a new declaration is not the end of the cell
    grep -q '"type":"cell.redeclared".*"subject":"spare"' "$CELL_ROOT/data/events.jsonl"
    ! grep -q '"type":"cell.removed"' "$CELL_ROOT/data/events.jsonl"
}

@test "apply: a cell no longer declared is stopped and forgotten; its layer stays" {
    two_cells
    run_cell apply
    expect_status 0
    echo kept >"$CELL_ROOT/data/cells/db/upper/note"
    sed -i '/cell("db"/d; s/depends_on = { "db" },//' "$CELL_ROOT/etc/cells.lua"
    run_cell apply --dry-run
    expect_status 2
    [[ $(row CELL db) == "db "*YES*stop+forget* ]] || { echo "$output"; false; }
    run_cell apply
    expect_status 0
    run_cell status db
    expect_status 1
    [[ $(cat "$CELL_ROOT/data/cells/db/upper/note") == kept ]]
    # and once forgotten, it is no longer a change
    run_cell apply --dry-run
    expect_status 0
}

@test "apply: a Lua error names the file and line, and nothing changes" {
    two_cells
    spec zz-bad.lua <<'EOF'
cell("bad", {
  supervise = { cmd = "true" },
  create = { reserved_ports = "80,x" },
})
EOF
    run_cell apply
    expect_status 1
    expect_err 'zz-bad.lua:1: cell "bad": create.reserved_ports: "80,x" is not a list of ports'
    expect_err "nothing was changed"
    [[ ! -e $CELL_ROOT/data/cells && ! -e $CELL_ROOT/data/volumes && ! -S $CELL_ROOT/run/celld.sock ]]

    run_cell apply nosuch
    expect_status 1

    # no desired-state directory at all
    rm -r "$CELL_ROOT/etc"
    run_cell apply
    expect_status 1
    expect_err "apply: no desired state: $CELL_ROOT/etc does not exist (write *.lua files there, or give --config DIR)"
}

@test "apply: only the named cells; an unknown name is an error" {
    two_cells
    run_cell apply db
    expect_status 0
    [[ $(state_of db) == running ]]
    [[ ! -e $CELL_ROOT/data/cells/web ]]
    rm "$CELL_ROOT/etc/cells.lua"
    two_cells
    run_cell apply nosuch
    expect_status 1
    expect_err "apply: cell nosuch: not declared"
    run_cell apply --all db
    expect_status 2
    expect_err "--all or NAMEs, not both"
}

@test "apply: actions run in the cell's view, persist in its layer, and rerun only on change" {
    echo "hello {{cell_name}} on {{port}}" >"$CELL_ROOT/etc/page.in"
    spec web.lua <<'EOF'
volume("www", { mode = "0755" })
cell("web", {
  supervise = { cmd = "sleep 1000" },
  mounts = { volume("www", { target = "/srv", mode = "rw" }) },
})
apply("web", {
  dir("/opt/app", { mode = "0750" }),
  file("/opt/app/config", "answer=42\n"),
  line("/etc/hosts", "10.1.2.3 db.internal"),
  symlink("/opt/app/config", "/opt/app/current"),
  template("page.in", "/srv/index.html", { tokens = { port = "8080" } }),
  exec("echo ran >> /opt/app/runs; ls /srv > /opt/app/seen"),
})
EOF
    run_cell apply
    expect_status 0
    [[ $(row APPLY web) == "web "*PENDING*6*YES ]] || { echo "$output"; false; }
    expect_out "changed"
    # the running cell sees what the actions made, read-only
    [[ $(c exec web -- cat /opt/app/config) == "answer=42" ]]
    [[ $(c exec web -- readlink /opt/app/current) == /opt/app/config ]]
    c exec web -- grep -qx "10.1.2.3 db.internal" /etc/hosts
    [[ $(c exec web -- cat /opt/app/seen) == index.html ]]
    [[ $(stat -c %a "$CELL_ROOT/data/cells/web/upper/opt/app") == 750 ]]
    # the template went into the volume, the layer holds the rest
    [[ $(cat "$CELL_ROOT/data/volumes/www/index.html") == "hello web on 8080" ]]
    [[ -f $CELL_ROOT/data/cells/web/upper/opt/app/config ]]
    # nothing reached the host's /etc/hosts or /opt
    ! grep -q db.internal /etc/hosts
    [[ ! -e /opt/app/config ]]

    # unchanged: the actions do not run again
    run_cell apply
    expect_status 0
    [[ $(c exec web -- cat /opt/app/runs) == ran ]]
    # --force runs them again
    run_cell apply --force
    expect_status 0
    [[ $(c exec web -- cat /opt/app/runs | wc -l) == 2 ]]
    # a changed source file is a change
    echo "bye {{cell_name}}" >"$CELL_ROOT/etc/page.in"
    run_cell apply --dry-run
    expect_status 2
    run_cell apply
    expect_status 0
    [[ $(cat "$CELL_ROOT/data/volumes/www/index.html") == "bye web" ]]
    # restarts keep the layer
    c restart web >/dev/null
    [[ $(c exec web -- cat /opt/app/config) == "answer=42" ]]
}

@test "apply: a failing action fails the apply, keeps the cell down and skips its dependents" {
    spec app.lua <<'EOF'
cell("base", { supervise = { cmd = "sleep 1000" } })
cell("top", { depends_on = { "base" }, supervise = { cmd = "sleep 1000" } })
cell("other", { supervise = { cmd = "sleep 1000" } })
apply("base", { file("/ok", "1\n"), exec("echo broken >&2; exit 3"), file("/never", "x") })
EOF
    run_cell apply
    expect_status 1
    expect_err "exec"
    expect_err "broken"
    [[ $(row CELL base) == *FAILED* && $(row CELL top) == *SKIPPED* ]] || { echo "$output"; false; }
    [[ $(row ACTIONS base) == *FAILED* || $output == *"FAILED"* ]]
    [[ $(state_of other) == running ]]
    run_cell status base
    expect_status 1
    [[ ! -e $CELL_ROOT/data/cells/base/upper/never && ! -e $CELL_ROOT/data/cells/base/applied.json ]]
    # still pending for the next apply
    run_cell apply --dry-run
    expect_status 2
}

@test "apply: --silent prints nothing; cell up applies first" {
    two_cells
    run_cell apply --silent --dry-run
    expect_status 2
    [[ -z $output ]]
    run_cell up
    expect_status 0
    [[ $(state_of db) == running && $(state_of web) == running ]]
    run_cell apply --silent
    expect_status 0
    [[ -z $output ]]
}

@test "apply: actions fill a volume the cell mounts read-only; the cell cannot write it" {
    spec ro.lua <<'EOF2'
volume("content", { mode = "0755" })
cell("reader", {
  supervise = { cmd = "sleep 1000" },
  mounts = { volume("content", { target = "/srv", mode = "ro" }) },
})
apply("reader", { file("/srv/page", "filled by apply\n") })
EOF2
    run_cell apply
    expect_status 0
    [[ $(c exec reader -- cat /srv/page) == "filled by apply" ]]
    run c exec reader -- /bin/sh -c 'echo x > /srv/page'
    [[ $status -ne 0 && $output == *"Read-only file system"* ]]
    [[ $(cat "$CELL_ROOT/data/volumes/content/page") == "filled by apply" ]]
}

@test "apply: actions cannot reach the host through links, /proc or the old root" {
    local marker=cell-apply-escape-$$-$RANDOM
    spec esc.lua <<EOF2
cell("esc", { supervise = { cmd = "sleep 1000" } })
apply("esc", {
  symlink("/../../../../../tmp", "/up"),
  file("/up/$marker", "x\n"),
  exec("for p in /proc/1/root/tmp /proc/self/root/tmp /.oldroot/tmp; do echo y > \$p/$marker.2 2>/dev/null; done; true"),
  exec("test ! -e /.oldroot && grep -qx cellman /proc/1/comm"),
})
EOF2
    run_cell apply
    expect_status 0
    # what the actions wrote stayed in the cell's own /tmp (its layer) ...
    [[ ! -e /tmp/$marker && ! -e /tmp/$marker.2 ]]
    # ... and the actions saw a pid namespace of their own, without the host's root
    [[ $(row ACTIONS esc) != *FAILED* ]]
    run_cell apply --force
    expect_status 0
    [[ ! -e /tmp/$marker && ! -e /tmp/$marker.2 ]]
}
