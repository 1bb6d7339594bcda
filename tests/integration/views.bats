# views.bats - the read views: `cell list`, `cell show`, `cell fields`,
# `cell status --view` and `cell volume list|show`. The states are made by
# hand (no `cell apply`): a declared-only cell (Lua), a pending one (a
# runtime directory whose applied.json hashes are not the desired ones), an
# orphaned one (a runtime directory, no Lua), an unmanaged one (cell run -d),
# a declared volume not on disk and an orphaned volume directory. Checked:
# each view's default columns, -o, -T, -H, --json types, errors (exit 2 for
# usage, 1 for a name that is nowhere), and that nothing starts celld.

load helpers

setup() {
    _common_setup
    mkdir -p "$CELL_ROOT/etc"
}

teardown() {
    celld_teardown
}

# spec FILE: the desired state file $CELL_ROOT/etc/FILE from stdin
spec() {
    cat >"$CELL_ROOT/etc/$1"
}

# header: the first line of the last output, its columns one space apart
header() {
    tr -s ' ' <<<"${lines[0]}"
}

# col NAME FIELD: FIELD of cell NAME's row in the last -T output (with header)
col() {
    python3 -c '
import sys
rows = [l.split("\t") for l in sys.stdin.read().splitlines()]
head = rows[0]
for r in rows[1:]:
    if r[0] == sys.argv[1]:
        print(r[head.index(sys.argv[2])])' "$1" "$2" <<<"$output"
}

# world: web (declared only), db (pending: applied.json with other hashes),
# gone (orphaned), manual (unmanaged, running under celld); volume data
# declared (not on disk), volume old on disk only.
world() {
    spec cells.lua <<'EOF'
volume("data", { mode = "0750" })
cell("web", {
  supervise = { cmd = "sleep 1000" },
  create = { reserved_ports = "80,443", rlimit_nofile = 4096, profile = "medium" },
  limits = { memory = "64M", pids = 100 },
  mounts = { volume("data", { target = "/srv/data" }) },
  healthcheck = "true",
})
cell("db", { autostart = false, depends_on = { "web" }, supervise = { cmd = "sleep 1000" } })
apply("web", { exec("true") })
EOF
    mkdir -p "$CELL_ROOT/data/cells/db" "$CELL_ROOT/data/cells/gone" "$CELL_ROOT/data/volumes/old"
    chmod 0700 "$CELL_ROOT/data/volumes/old"
    echo '{"hashes": {"service": "x", "policy": "y", "manifest": "z", "apply": "w"}, "applied_at": "2024-05-01T10:00:00Z"}' \
        >"$CELL_ROOT/data/cells/db/applied.json"
    run_cell run -d --name manual -- sleep 1000
    expect_status 0
}

@test "views: cell list shows every cell with its state; each view has its default columns" {
    world
    run_cell list
    expect_status 0
    [[ $(header) == "NAME STATE RUNNING PID HEALTH RESTARTS AGE AUTOSTART RESERVED_PORTS CHANGES" ]] || { show; false; }
    # declared first, in declaration order, then the others by name
    [[ ${#lines[@]} -eq 5 ]] || { show; false; }
    [[ $(tr -s ' ' <<<"${lines[1]}") == "web declared NO - - - - YES 80,443 service,policy,apply,run" ]] || { show; false; }
    [[ $(tr -s ' ' <<<"${lines[2]}") == "db pending NO - - - - NO - service,policy,apply" ]] || { show; false; }
    [[ $(tr -s ' ' <<<"${lines[3]}") == "gone orphaned NO - - - - - - -" ]] || { show; false; }
    [[ $(tr -s ' ' <<<"${lines[4]}") == "manual unmanaged YES "[0-9]*" none 0 "*" - - -" ]] || { show; false; }
    # the columns are aligned: every line has STATE at the same offset
    [[ ${lines[1]:8:8} == "declared" && ${lines[4]:8:9} == "unmanaged" ]] || { show; false; }

    run_cell list --view compact
    expect_status 0
    [[ $(header) == "NAME STATE RUNNING PID HEALTH RESTARTS AGE AUTOSTART RESERVED_PORTS" ]] || { show; false; }

    run_cell list --view desired
    expect_status 0
    [[ $(header) == "NAME STATE AUTOSTART PROFILE RESERVED_PORTS DEPENDS_ON SUPERVISE_CMD" ]] || { show; false; }
    [[ $(tr -s ' ' <<<"${lines[1]}") == "web declared YES medium 80,443 - sleep 1000" ]] || { show; false; }
    [[ $(tr -s ' ' <<<"${lines[2]}") == "db pending NO high - web sleep 1000" ]] || { show; false; }

    run_cell list --view=runtime
    expect_status 0
    [[ $(header) == "NAME STATE RUNNING PID PROCS CPU MEMORY AGE HEALTH RESTARTS ROOT" ]] || { show; false; }
}

@test "views: -o picks and orders the columns; -T is tab-separated with a lowercase header; -H drops it" {
    world
    run_cell list -o state,name
    expect_status 0
    [[ $(header) == "STATE NAME" && $(tr -s ' ' <<<"${lines[1]}") == "declared web" ]] || { show; false; }

    run_cell list -T -o name,state,autostart,reserved_ports,depends_on --view desired
    expect_status 0
    [[ ${lines[0]} == $'name\tstate\tautostart\treserved_ports\tdepends_on' ]] || { show; false; }
    [[ ${lines[1]} == $'web\tdeclared\tYES\t80,443\t-' ]] || { show; false; }
    [[ ${lines[2]} == $'db\tpending\tNO\t-\tweb' ]] || { show; false; }

    run_cell list -T -H -o name
    expect_status 0
    [[ $output == $'web\ndb\ngone\nmanual' ]] || { show; false; }

    run_cell list -H -o name,state db web
    expect_status 0
    [[ ${#lines[@]} -eq 2 && $(tr -s ' ' <<<"${lines[0]}") == "db pending" && ${lines[1]} == "web"* ]] || { show; false; }

    # -T values are the table's: humanised, YES/NO, - for absent
    run_cell list -T -o name,running,memory,age,cpu --view runtime
    expect_status 0
    [[ $(col manual running) == YES && $(col manual memory) =~ ^[0-9.]+[BKMG]$ ]] || { show; false; }
    [[ $(col manual age) =~ ^[0-9]+[smhd] && $(col manual cpu) =~ ^[0-9] && $(col web memory) == - ]] || { show; false; }
}

@test "views: --json is an array of typed objects with the selected fields" {
    world
    run_cell list --json
    expect_status 0
    python3 - "$output" <<'PY'
import json, sys
rows = {r["name"]: r for r in json.loads(sys.argv[1])}
assert list(rows) == ["web", "db", "gone", "manual"], rows
web, db, gone, manual = rows["web"], rows["db"], rows["gone"], rows["manual"]
assert list(web) == ["name", "state", "running", "pid", "health", "restarts", "age", "autostart",
                     "reserved_ports", "changes"], web
assert web["running"] is False and web["pid"] is None and web["autostart"] is True, web
assert web["reserved_ports"] == [80, 443] and web["changes"] == ["service", "policy", "apply", "run"], web
assert db["autostart"] is False and db["changes"] == ["service", "policy", "apply"], db
assert gone["state"] == "orphaned" and gone["autostart"] is None and gone["changes"] is None, gone
assert manual["running"] is True and isinstance(manual["pid"], int) and manual["pid"] > 0, manual
assert isinstance(manual["restarts"], int) and isinstance(manual["age"], int), manual
PY

    run_cell list --json --view runtime -o name,cpu,memory,procs,root manual
    expect_status 0
    python3 - "$output" <<'PY'
import json, sys
[m] = json.loads(sys.argv[1])
assert list(m) == ["name", "cpu", "memory", "procs", "root"], m
assert isinstance(m["cpu"], (int, float)) and isinstance(m["memory"], int) and m["memory"] > 0, m
assert isinstance(m["procs"], int) and m["root"] is None, m
PY

    run_cell list --json --view desired -o name,limits,depends_on,volume_mounts,rlimit_nofile,apply_present,declared_at
    expect_status 0
    python3 - "$output" <<'PY'
import json, sys
rows = {r["name"]: r for r in json.loads(sys.argv[1])}
web, db = rows["web"], rows["db"]
assert web["limits"] == {"memory": "64M", "pids": 100}, web
assert web["volume_mounts"] == [{"volume": "data", "target": "/srv/data", "mode": "rw"}], web
assert web["rlimit_nofile"] == "4096" and web["apply_present"] is True, web
assert web["declared_at"] == "cells.lua:2" and web["depends_on"] == [], web
assert db["depends_on"] == ["web"] and db["apply_present"] is False and db["limits"] is None, db
PY

    run_cell list --json -T
    expect_status 2
    expect_err "list: --json and -T/-H conflict"
}

@test "views: a field outside the view, an unknown field or view is a usage error (2)" {
    world
    run_cell list --view desired -o name,cpu
    expect_status 2
    expect_one_error_line
    expect_err 'list: field "cpu" is not in the desired view (its fields: name,state,'
    expect_err '; cell fields lists them all)'
    [[ -z $output ]] || { show; false; }

    run_cell list -o name,nosuch
    expect_status 2
    expect_one_error_line
    expect_err 'list: -o: unknown field "nosuch" (cell fields lists them)'

    run_cell list --view wide
    expect_status 2
    expect_err 'list: unknown view "wide" (views: compact, desired, runtime, merged)'

    run_cell show web --view compact -o changes
    expect_status 2
    expect_err 'show: field "changes" is not in the compact view'

    run_cell list --bogus
    expect_status 2
    expect_err 'list: unknown option "--bogus"'
}

@test "views: cell list NAME restricts; a name that is nowhere fails (1)" {
    world
    run_cell list -T -H -o name manual gone
    expect_status 0
    [[ $output == $'manual\ngone' ]] || { show; false; }

    run_cell list web nosuch
    expect_status 1
    expect_one_error_line
    expect_err "list: cell nosuch: not declared, applied or supervised (cell list shows them)"
    [[ -z $output ]] || { show; false; }
}

@test "views: cell fields lists every field with its views; --view only that view's" {
    run_cell fields
    expect_status 0
    [[ $(header) == "FIELD VIEWS DESCRIPTION" ]] || { show; false; }
    local f
    for f in name state running pid procs cpu memory age health restarts root layer autostart profile \
        reserved_ports rlimit_nofile rlimit_as rlimit_core limits depends_on healthcheck supervise_cmd \
        supervise_run_as volume_mounts apply_present applied_at declared_at changes; do
        grep -qE "^$f +[a-z,]+ " <<<"$output" || { echo "field $f missing"; show; false; }
    done
    grep -qE "^cpu +runtime,merged " <<<"$output" || { show; false; }
    grep -qE "^changes +merged " <<<"$output" || { show; false; }

    run_cell fields --view desired -T
    expect_status 0
    [[ ${lines[0]} == $'field\tviews\tdefault\tdescription' ]] || { show; false; }
    grep -q $'^supervise_cmd\tdesired,merged\tYES\t' <<<"$output" || { show; false; }
    grep -q $'^rlimit_core\tdesired,merged\tNO\t' <<<"$output" || { show; false; }
    ! grep -q $'^cpu\t' <<<"$output" || { show; false; }

    run_cell fields --volume --json
    expect_status 0
    python3 - "$output" <<'PY'
import json, sys
names = [f["field"] for f in json.loads(sys.argv[1])]
assert names == ["name", "state", "mode", "mode_on_disk", "present", "path", "mounted_by", "declared_at"], names
PY
}

@test "views: cell show NAME prints every field of the view; one that is nowhere is absent (1)" {
    world
    run_cell show web
    expect_status 0
    [[ ${lines[0]} == "name:"*" web" ]] || { show; false; }
    expect_out "state:            declared"
    expect_out "declared_at:      cells.lua:2"
    expect_out "volume_mounts:    data:/srv/data:rw"
    expect_out "limits:           memory=64M,pids=100"
    expect_out "layer:            $CELL_ROOT/data/cells/web"
    [[ ${#lines[@]} -eq $("$CELL" fields -H | wc -l) ]] || { show; false; }

    run_cell show db --view desired -T
    expect_status 0
    [[ ${lines[0]} == $'name\tdb' ]] || { show; false; }
    expect_out $'state\tpending'
    expect_out $'depends_on\tweb'

    run_cell show db --json -o name,applied_at,changes
    expect_status 0
    python3 - "$output" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
assert d == {"name": "db", "applied_at": "2024-05-01T10:00:00Z", "changes": ["service", "policy", "apply"]}, d
PY

    run_cell show manual --view runtime -T -o run_state,health
    expect_status 0
    [[ $output == $'run_state\trunning\nhealth\tnone' ]] || { show; false; }

    run_cell show nosuch
    expect_status 1
    expect_one_error_line
    expect_err "show: cell nosuch: not declared, applied or supervised (cell list shows them)"
    expect_out "state:            absent"

    run_cell show
    expect_status 2
    expect_err "show: which cell? (cell show NAME)"
}

@test "views: cell status --view lists only the cells celld supervises" {
    world
    run_cell status --view runtime -T -o name,state,running
    expect_status 0
    [[ $output == $'name\tstate\trunning\nmanual\tunmanaged\tYES' ]] || { show; false; }

    run_cell status --view desired -H -o name manual
    expect_status 0
    [[ $output == manual ]] || { show; false; }

    run_cell status --view runtime web
    expect_status 1
    expect_err "status: cell web: not supervised by celld (cell list shows every cell)"

    run_cell status --view compact -o cpu
    expect_status 2
    expect_err 'status: field "cpu" is not in the compact view'
}

@test "views: without celld the views show the desired and applied state, and do not start celld" {
    spec cells.lua <<'EOF'
cell("web", { supervise = { cmd = "sleep 1000" } })
EOF
    run_cell list -T -o name,state,running,pid
    expect_status 0
    [[ $output == $'name\tstate\trunning\tpid\nweb\tdeclared\tNO\t-' ]] || { show; false; }
    run_cell status --view runtime
    expect_status 0
    [[ ${#lines[@]} -eq 1 && $(header) == "NAME STATE RUNNING PID PROCS CPU MEMORY AGE HEALTH RESTARTS ROOT" ]] ||
        { show; false; }
    [[ ! -S $CELL_ROOT/run/celld.sock ]]

    # no desired-state directory at all: only what is on disk
    rm -rf "${CELL_ROOT:?}/etc"
    mkdir -p "$CELL_ROOT/data/cells/left"
    run_cell list -T -H -o name,state
    expect_status 0
    [[ $output == $'left\torphaned' ]] || { show; false; }
}

@test "views: a Lua error is fatal and printed as the loader says" {
    spec bad.lua <<'EOF'
cell("bad", { supervise = { cmd = "true" }, create = { reserved_ports = "80,x" } })
EOF
    run_cell list
    expect_status 1
    expect_one_error_line
    expect_err 'bad.lua:1: cell "bad": create.reserved_ports: "80,x" is not a list of ports'
}

@test "views: cell volume list and show: a declared volume and an orphaned directory" {
    world
    run_cell volume list
    expect_status 0
    [[ $(header) == "NAME STATE MODE MODE_ON_DISK MOUNTED_BY" ]] || { show; false; }
    [[ $(tr -s ' ' <<<"${lines[1]}") == "data pending 0750 - web" ]] || { show; false; }
    [[ $(tr -s ' ' <<<"${lines[2]}") == "old orphaned - 0700 -" ]] || { show; false; }

    run_cell volume list --view runtime -T
    expect_status 0
    [[ ${lines[0]} == $'name\tstate\tpresent\tmode_on_disk\tpath' ]] || { show; false; }
    [[ ${lines[1]} == $'data\tpending\tNO\t-\t'"$CELL_ROOT/data/volumes/data" ]] || { show; false; }
    [[ ${lines[2]} == $'old\torphaned\tYES\t0700\t'"$CELL_ROOT/data/volumes/old" ]] || { show; false; }

    run_cell volume list --view compact -o path
    expect_status 2
    expect_err 'volume list: field "path" is not in the compact view (its fields: name,state,mode,mounted_by; cell fields --volume lists them all)'

    run_cell volume show data --json
    expect_status 0
    python3 - "$output" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
assert d["name"] == "data" and d["state"] == "pending" and d["mode"] == "0750", d
assert d["present"] is False and d["mode_on_disk"] is None and d["mounted_by"] == ["web"], d
assert d["declared_at"] == "cells.lua:1", d
PY

    # on disk with the declared mode: managed
    mkdir -p "$CELL_ROOT/data/volumes/data"
    chmod 0750 "$CELL_ROOT/data/volumes/data"
    run_cell volume show data
    expect_status 0
    expect_out "state:        managed"
    expect_out "mode_on_disk: 0750"

    run_cell volume show nosuch
    expect_status 1
    expect_one_error_line
    expect_err "volume show: volume nosuch: neither declared nor on disk (cell volume list shows them)"
    expect_out "state:        absent"
}

# Needs `cell apply` (apply.c): after an apply, the views agree with it.
@test "views (after cell apply): applied cells are managed or parked, with no changes" {
    spec cells.lua <<'EOF'
cell("web", { supervise = { cmd = "sleep 1000" } })
cell("spare", { autostart = false, supervise = { cmd = "sleep 1000" } })
EOF
    run_cell apply
    expect_status 0
    run_cell list -T -o name,state,running,changes,applied_at
    expect_status 0
    [[ ${lines[1]} == $'web\tmanaged\tYES\t-\t'* && ${lines[1]} != *$'\t-' ]] || { show; false; }
    [[ ${lines[2]} == $'spare\tparked\tNO\t-\t'* ]] || { show; false; }
}
