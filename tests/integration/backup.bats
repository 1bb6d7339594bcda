# backup.bats - volumes, backups and system reset (cellman through `cell`):
# volume create/remove (--yes, refused while a running cell mounts it),
# byte-identical backup round trips of a volume and of a cell's layer,
# archives never overwritten, restore/delete needing --yes, restore refused
# while the cell runs, --from held to the backups directory, crafted
# archives refused without writing outside or touching the target, and
# `system reset` removing cells, volumes, logs and events but not backups.

load helpers

setup() {
    _common_setup
    DATA=$CELL_ROOT/data
    VOLUMES=$DATA/volumes
    BACKUPS=$DATA/backups
}

teardown() {
    celld_teardown
}

# c ARGS...: `cell --root $CELL_ROOT ARGS...`, tracked (in a subshell: tracked execs)
c() {
    (tracked "$CELL" --root "$CELL_ROOT" "$@")
}

# tree_listing DIR: every entry (type, mode, owner, size, mtime to the ns,
# symlink target, link count; directories without size) and every file's
# sha256, in a stable order
tree_listing() {
    (
        cd "$1" || exit 1
        find . -type d -printf '%p %y %m %U:%G %T@ %n\n' -o -printf '%p %y %m %U:%G %s %T@ %l %n\n' | LC_ALL=C sort
        find . -type f -exec sha256sum {} + | LC_ALL=C sort
    )
}

# fill_tree DIR: files, subdirectories, an empty one, symlinks, a hard
# link, odd modes and owners, a fifo, an extended attribute, old mtimes
fill_tree() {
    local d=$1
    mkdir -p "$d/sub/deep" "$d/empty" "$d/odd name"
    printf 'hello\n' >"$d/a"
    head -c 300000 /dev/urandom >"$d/sub/big"
    printf 'deep\n' >"$d/sub/deep/f"
    printf 'spaced\n' >"$d/odd name/f g"
    ln "$d/a" "$d/hard"
    ln -s sub/deep/f "$d/rel"
    ln -s /etc/hostname "$d/abs"
    mkfifo "$d/fifo"
    chmod 0600 "$d/a"
    chmod 0751 "$d/sub"
    chmod 2770 "$d/empty"
    chmod 4755 "$d/sub/deep/f"
    chown 1234:5678 "$d/sub/big" "$d/empty"
    python3 -c 'import os, sys; os.setxattr(sys.argv[1], "user.note", b"kept")' "$d/sub/big"
    touch -h -d '2001-02-03 04:05:06.789' "$d/rel" "$d/sub/deep/f" "$d/sub/deep"
    touch -d '1999-12-31 23:59:59' "$d/empty"
}

# craft ARCHIVE KIND: a hostile (or, for "good", a fine) tar.gz made with python
craft() {
    python3 - "$1" "$2" "$BATS_TEST_TMPDIR" <<'PY'
import io, sys, tarfile
out, kind, tmp = sys.argv[1:4]
def add(t, name, data=None, **kw):
    ti = tarfile.TarInfo(name)
    for k, v in kw.items():
        setattr(ti, k, v)
    if data is None:
        t.addfile(ti)
    else:
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
with tarfile.open(out, "w:gz") as t:
    add(t, ".", type=tarfile.DIRTYPE, mode=0o755)
    add(t, "fine", b"fine\n")
    if kind == "dotdot":
        add(t, "../evil", b"evil\n")
    elif kind == "dotdot-inside":
        add(t, "sub/../../evil", b"evil\n")
    elif kind == "absolute":
        add(t, tmp + "/abs-evil", b"evil\n")
    elif kind == "symlink-escape":
        add(t, "l", type=tarfile.SYMTYPE, linkname="../../outside")
        add(t, "l/x", b"evil\n")
    elif kind == "through-symlink":
        add(t, "sub", type=tarfile.DIRTYPE, mode=0o755)
        add(t, "l", type=tarfile.SYMTYPE, linkname="sub")
        add(t, "l/x", b"evil\n")
    elif kind == "hardlink-passwd":
        add(t, "h", type=tarfile.LNKTYPE, linkname="/etc/passwd")
    elif kind == "hardlink-up":
        add(t, "h", type=tarfile.LNKTYPE, linkname="../../../../../../etc/passwd")
    elif kind == "device":
        add(t, "null", type=tarfile.CHRTYPE, devmajor=1, devminor=3)
PY
}

# every path under the test's temp dir (CELL_ROOT is inside it), but bats'
# own files of `run`
all_paths() {
    find "$BATS_TEST_TMPDIR" ! -name 'separate-stderr-*' | LC_ALL=C sort
}

@test "volume: create, remove needs --yes, names and modes are checked" {
    run --separate-stderr c volume create v --mode 0750
    expect_status 0
    expect_out "created volume v"
    [[ $(stat -c %a "$VOLUMES/v") == 750 ]]

    run --separate-stderr c volume create v
    expect_status 1
    expect_one_error_line
    expect_err "volume create v: it already exists"

    run --separate-stderr c volume create ../x
    expect_status 2
    expect_err "not a valid name"
    run --separate-stderr c volume create w --mode 0999
    expect_status 2
    expect_err '--mode "0999": not an octal file mode'
    [[ ! -e $VOLUMES/w ]]

    echo data >"$VOLUMES/v/file"
    run --separate-stderr c volume remove v
    expect_status 2
    expect_one_error_line
    expect_err "add --yes"
    [[ -f $VOLUMES/v/file ]]

    run --separate-stderr c volume remove v --yes
    expect_status 0
    expect_out "removed volume v"
    [[ ! -e $VOLUMES/v ]]

    run --separate-stderr c volume remove v --yes
    expect_status 1
    expect_err "volume remove v: no such volume"
}

@test "volume: list and show a created volume" {
    c volume create v --mode 0750 >/dev/null
    run --separate-stderr c volume list
    if [[ $stderr == *"not built yet"* ]]; then
        skip "cell volume list (views.c) is not built yet"
    fi
    expect_status 0
    printf '%s\n' "${lines[@]}" | grep -Eq '^v +.*0750' || { show; false; }
    run --separate-stderr c volume show v
    expect_status 0
    expect_out "$VOLUMES/v"
}

@test "volume: remove is refused while a running cell mounts it" {
    c volume create v >/dev/null
    echo kept >"$VOLUMES/v/file"
    c run -d --name x --bind "$VOLUMES/v:/data:rw" -- /bin/sleep 1000 >/dev/null
    run --separate-stderr c volume remove v --yes
    expect_status 1
    expect_one_error_line
    expect_err "volume remove v: mounted by the running cell x (cell stop x first)"
    [[ $(cat "$VOLUMES/v/file") == kept ]]

    c stop x >/dev/null
    run --separate-stderr c volume remove v --yes
    expect_status 0
    [[ ! -e $VOLUMES/v ]]
}

@test "backup: a volume's round trip is byte-identical" {
    c volume create v --mode 0705 >/dev/null
    fill_tree "$VOLUMES/v"
    touch -d '2002-02-02 02:02:02.5' "$VOLUMES/v"
    local before archive
    before=$(tree_listing "$VOLUMES/v")

    run --separate-stderr c backup create --volume v
    expect_status 0
    archive=$output
    [[ $archive =~ ^$BACKUPS/volumes/v_[0-9]{14}(-[0-9]+)?\.tar\.gz$ ]] || { show; false; }
    [[ -f $archive ]]
    [[ $(tree_listing "$VOLUMES/v") == "$before" ]] # a backup changes nothing

    # damage it: remove, add, change
    rm -rf "$VOLUMES/v/sub" "$VOLUMES/v/hard"
    echo new >"$VOLUMES/v/new"
    chmod 0777 "$VOLUMES/v/a" "$VOLUMES/v"

    run --separate-stderr c backup restore v --volume --latest --yes
    expect_status 0
    expect_out "restored volume v"
    diff <(echo "$before") <(tree_listing "$VOLUMES/v")
    [[ $(stat -c %i "$VOLUMES/v/a") == $(stat -c %i "$VOLUMES/v/hard") ]]
    [[ $(python3 -c 'import os, sys; print(os.getxattr(sys.argv[1], "user.note").decode())' "$VOLUMES/v/sub/big") == kept ]]
    # nothing left beside it
    [[ -z $(find "$VOLUMES" -mindepth 1 -maxdepth 1 ! -name v) ]]

    # the same through `cell volume backup`
    run --separate-stderr c volume backup restore v --from "$(basename "$archive")" --yes
    expect_status 0
    diff <(echo "$before") <(tree_listing "$VOLUMES/v")
}

@test "backup: a cell's layer round trip, into a cell without a runtime directory" {
    local upper=$DATA/cells/web/upper before
    mkdir -p "$upper"
    fill_tree "$upper"
    before=$(tree_listing "$upper")
    run --separate-stderr c backup create web
    expect_status 0
    [[ $output == "$BACKUPS/cells/web_"*.tar.gz ]] || { show; false; }

    rm -rf "$DATA/cells/web"
    run --separate-stderr c backup restore web --latest --yes
    expect_status 0
    diff <(echo "$before") <(tree_listing "$upper")

    # a cell with no layer has nothing to back up, and nothing is left behind
    run --separate-stderr c backup create nolayer
    expect_status 1
    expect_one_error_line
    expect_err "backup create nolayer: cell nolayer has no writable layer"
    [[ -z $(find "$BACKUPS" -name 'nolayer*' -o -name '.*.tar.gz.*') ]]
}

@test "backup: archives are never overwritten, list is oldest first" {
    c volume create v >/dev/null
    echo one >"$VOLUMES/v/f"
    # decoys under the names of this second and the next ones
    mkdir -p "$BACKUPS/volumes"
    local now i decoys=()
    now=$(date -u +%s)
    for i in 0 1 2 3 4 5 6 7 8 9; do
        decoys+=("$BACKUPS/volumes/v_$(date -u -d "@$((now + i))" +%Y%m%d%H%M%S).tar.gz")
        echo decoy >"${decoys[-1]}"
    done

    local first second
    first=$(c backup create --volume v)
    echo two >"$VOLUMES/v/f"
    second=$(c backup create --volume v)
    [[ -f $first && -f $second && $first != "$second" ]] || { echo "$first / $second"; false; }
    for i in "${decoys[@]}"; do
        [[ $(cat "$i") == decoy ]] || { echo "overwritten: $i"; false; }
    done
    # no temporary file is left
    [[ -z $(find "$BACKUPS" -name '.*') ]]

    rm -f "${decoys[@]}"
    run --separate-stderr c backup list --volume v
    expect_status 0
    [[ ${#lines[@]} -eq 3 ]] || { show; false; }
    [[ ${lines[0]} == ARCHIVE* ]]
    [[ ${lines[1]} == "$(basename "$first") "* ]] || { show; false; }
    [[ ${lines[2]} == "$(basename "$second") "* ]] || { show; false; }

    # restore the older one: its content
    c backup restore --volume v --from "$(basename "$first")" --yes >/dev/null
    [[ $(cat "$VOLUMES/v/f") == one ]]
}

@test "backup: restore and delete need --yes" {
    c volume create v >/dev/null
    echo original >"$VOLUMES/v/f"
    local archive
    archive=$(c backup create --volume v)
    echo changed >"$VOLUMES/v/f"

    run --separate-stderr c backup restore --volume v --latest
    expect_status 2
    expect_one_error_line
    expect_err "add --yes"
    [[ $(cat "$VOLUMES/v/f") == changed ]]

    run --separate-stderr c backup restore --volume v
    expect_status 2
    expect_err "which archive?"

    run --separate-stderr c backup delete --volume v --latest
    expect_status 2
    expect_one_error_line
    expect_err "this deletes $archive: add --yes"
    [[ -f $archive ]]

    run --separate-stderr c backup delete --volume v --from "$archive" --yes
    expect_status 0
    [[ ! -e $archive ]]

    run --separate-stderr c backup restore --volume v --latest --yes
    expect_status 1
    expect_err "--latest: no backups of volume v"
    [[ $(cat "$VOLUMES/v/f") == changed ]]
}

@test "backup: restore is refused while the cell runs or a running cell mounts the volume" {
    mkdir -p "$DATA/cells/web/upper"
    echo original >"$DATA/cells/web/upper/f"
    c volume create v >/dev/null
    echo original >"$VOLUMES/v/f"
    c backup create web >/dev/null
    c backup create --volume v >/dev/null
    echo changed | tee "$DATA/cells/web/upper/f" >"$VOLUMES/v/f"
    c run -d --name web --bind "$VOLUMES/v:/data:rw" -- /bin/sleep 1000 >/dev/null

    run --separate-stderr c backup restore web --latest --yes
    expect_status 1
    expect_one_error_line
    expect_err "backup restore web: the cell is running (cell stop web first)"
    [[ $(cat "$DATA/cells/web/upper/f") == changed ]]

    run --separate-stderr c backup restore --volume v --latest --yes
    expect_status 1
    expect_one_error_line
    expect_err "backup restore volume v: in use by the running cell web (cell stop web first)"
    [[ $(cat "$VOLUMES/v/f") == changed ]]

    c stop web >/dev/null
    run --separate-stderr c backup restore web --latest --yes
    expect_status 0
    run --separate-stderr c backup restore --volume v --latest --yes
    expect_status 0
    [[ $(cat "$DATA/cells/web/upper/f") == original && $(cat "$VOLUMES/v/f") == original ]]
}

@test "backup: --from must be an archive inside the backups directory" {
    c volume create v >/dev/null
    echo original >"$VOLUMES/v/f"
    local archive name
    archive=$(c backup create --volume v)
    name=$(basename "$archive")
    cp "$archive" "$BATS_TEST_TMPDIR/$name"

    run --separate-stderr c backup restore --volume v --from "$BATS_TEST_TMPDIR/$name" --yes
    expect_status 1
    expect_one_error_line
    expect_err "not in the volumes' backups directory"

    # a symlink in the backups directory leading outside
    ln -s "$BATS_TEST_TMPDIR/$name" "$BACKUPS/volumes/v_20000101000000.tar.gz"
    run --separate-stderr c backup restore --volume v --from v_20000101000000.tar.gz --yes
    expect_status 1
    expect_err "not in the volumes' backups directory"
    rm "$BACKUPS/volumes/v_20000101000000.tar.gz"

    # a relative path climbing out, and one into the other kind's directory
    run --separate-stderr c backup restore --volume v --from "$BACKUPS/volumes/../../../../$name" --yes
    expect_status 1
    expect_err "not in the volumes' backups directory"
    run --separate-stderr c backup restore v --from "$name" --yes
    expect_status 1
    expect_err "that is a volume's backup (add --volume)"

    # not an archive name
    cp "$archive" "$BACKUPS/volumes/other.tar.gz"
    run --separate-stderr c backup restore --volume v --from other.tar.gz --yes
    expect_status 1
    expect_err "not a backup file"
    [[ $(cat "$VOLUMES/v/f") == original ]]
}

@test "backup: crafted archives are refused, nothing is written outside, the target stays" {
    c volume create v >/dev/null
    fill_tree "$VOLUMES/v"
    mkdir -p "$BACKUPS/volumes"
    local before paths passwd links kind n=0 archive
    before=$(tree_listing "$VOLUMES/v")
    passwd=$(sha256sum </etc/passwd)
    links=$(stat -c %h /etc/passwd)
    declare -A expect=(
        [dotdot]='entry "../evil" refused: it goes up'
        [dotdot-inside]='entry "sub/../../evil" refused: it goes up'
        [absolute]="refused: it is an absolute path"
        [symlink-escape]='entry "l" refused: it is a symlink out of the tree'
        [through-symlink]='entry "l/x" refused: it goes through the symlink "l"'
        [hardlink-passwd]='entry "h" refused: it is a hard link to "/etc/passwd"'
        [hardlink-up]='entry "h" refused: it is a hard link'
        [device]='entry "null" refused: it is a device node'
    )
    for kind in "${!expect[@]}"; do
        archive=$BACKUPS/volumes/v_2000010100000$((n++)).tar.gz
        craft "$archive" "$kind"
        paths=$(all_paths)
        run --separate-stderr c backup restore --volume v --from "$archive" --yes
        expect_status 1 || { echo "kind $kind"; false; }
        expect_one_error_line
        expect_err "${expect[$kind]}" || { echo "kind $kind"; false; }
        expect_err "(nothing was changed)"
        diff <(echo "$paths") <(all_paths) || { echo "kind $kind wrote something"; false; }
        diff <(echo "$before") <(tree_listing "$VOLUMES/v") || { echo "kind $kind changed the volume"; false; }
    done
    [[ ! -e $BATS_TEST_TMPDIR/abs-evil && ! -e $DATA/evil && ! -e $VOLUMES/evil && ! -e $DATA/outside ]]
    [[ $(sha256sum </etc/passwd) == "$passwd" && $(stat -c %h /etc/passwd) == "$links" ]]

    # the same checks let a well-made archive through
    craft "$BACKUPS/volumes/v_20000102000000.tar.gz" good
    run --separate-stderr c backup restore --volume v --from v_20000102000000.tar.gz --yes
    expect_status 0
    [[ $(cat "$VOLUMES/v/fine") == fine ]]
}

@test "system reset: refused without --yes; with it removes cells, volumes, logs, events, keeps backups" {
    c volume create v >/dev/null
    echo data >"$VOLUMES/v/f"
    c backup create --volume v >/dev/null
    mkdir -p "$CELL_ROOT/etc"
    echo '-- desired state' >"$CELL_ROOT/etc/cells.lua"
    c run -d --name x --bind "$VOLUMES/v:/data:rw" -- /bin/sleep 1000 >/dev/null
    c run -d --name y -- /bin/sh -c 'echo hello; exec sleep 1000' >/dev/null
    wait_until 10 test -s "$DATA/logs/y.log"

    run --separate-stderr c system reset
    expect_status 2
    expect_one_error_line
    expect_err "would stop every cell and celld, and remove 2 cells, 1 volume, the logs and the events"
    expect_err "add --yes"
    [[ -f $VOLUMES/v/f && -f $DATA/cells/x.json ]]
    [[ $(c status --json x | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["state"])') == running ]]

    run --separate-stderr c system reset --yes
    expect_status 0
    expect_out "stopped every cell and celld"
    expect_out "removed 2 cells (declarations and runtime directories) from $DATA/cells"
    expect_out "removed 1 volume from $VOLUMES"
    expect_out "removed the logs in $DATA/logs"
    expect_out "removed the events in $DATA/events.jsonl"
    expect_out "kept 1 backup in $BACKUPS"
    expect_out "kept the desired state in $CELL_ROOT/etc"

    [[ -z $(find "$DATA/cells" "$VOLUMES" -mindepth 1) ]]
    [[ ! -e $DATA/logs && ! -e $DATA/events.jsonl ]]
    [[ -n $(find "$BACKUPS/volumes" -name 'v_*.tar.gz') && -f $CELL_ROOT/etc/cells.lua ]]
    wait_until 10 eval '! pgrep -f "celld --root $CELL_ROOT" >/dev/null'
    [[ ! -S $CELL_ROOT/run/celld.sock ]]

    # and on an empty host it is a no-op
    run --separate-stderr c system reset --yes
    expect_status 0
    expect_out "removed 0 cells"
}
