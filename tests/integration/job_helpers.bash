# job_helpers.bash - what the tests of cell's jobs share (job.bats and its
# symlinks job_oci.bats, job_runsc.bats; job_nats.bats; job_submit.bats):
# their documents, the check that no job left its private directory or
# lock, and a search of a process's memory for a secret's value.
# shellcheck shell=bash

# doc NAME JSON: the document $JOBS/NAME.json
doc() {
    printf '%s\n' "$2" >"$JOBS/$1.json"
}

# jobs_dir_teardown: the private directories and lock files of every job
# (<run>/jobs/) are gone; then the empty directories go. Fails, saying what
# is left, otherwise.
jobs_dir_teardown() {
    local left
    left=$(ls -A "$CELL_ROOT/run/jobs" 2>/dev/null)
    rmdir "$CELL_ROOT/run/jobs" "$CELL_ROOT/run" 2>/dev/null || true
    if [[ -n $left ]]; then
        echo "residue: in $CELL_ROOT/run/jobs: $left"
        return 1
    fi
}

# memory_holding PID VALUE: the readable mappings of process PID that hold
# VALUE, one a line, or "clean". Huge anonymous mappings (a sanitizer's
# shadow memory, terabytes reserved) are left out: a process's own heap and
# stack are small, and named.
memory_holding() {
    python3 - "$1" "$2" <<'PY'
import sys
pid, value = sys.argv[1], sys.argv[2].encode()
found = []
with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
    for line in maps:
        addr, perms = line.split()[:2]
        if "r" not in perms:
            continue
        lo, hi = (int(x, 16) for x in addr.split("-"))
        if hi - lo > 256 << 20 and "[" not in line:
            continue
        step = 1 << 20 # in pieces, with an overlap for a value across two
        for at in range(lo, hi, step):
            try:
                mem.seek(at)
                if value in mem.read(min(step + len(value), hi - at)):
                    found.append(line.strip())
                    break
            except OSError:
                break
print("\n".join(found) if found else "clean")
PY
}
