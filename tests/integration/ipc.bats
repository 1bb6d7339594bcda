# ipc.bats - cell messaging (include/cell/ipc.h) between cells, through
# examples/pingpong: celld starts pingpong-server by socket activation on a
# seqpacket --listen socket, client cells exchange numbered requests with it
# over the socket and the shared-memory ring, `cell logs` shows them; a
# second server on the same socket directory is refused; a stream --listen
# socket gets the error saying to use --listen-type seqpacket; a server
# killed mid-stream makes the client fail with an error instead of hanging.

load helpers

# the example's binaries, next to the cell under test (build/ or build-asan/)
PINGPONG=${PINGPONG:-$(dirname "$CELL")/examples/pingpong}

setup() {
    _common_setup
    [[ -x $PINGPONG/pingpong-server && -x $PINGPONG/pingpong-client ]] || {
        echo "pingpong not found in $PINGPONG (build it first)"
        return 1
    }
}

teardown() {
    # under `make asan`: no sanitizer report in the server's log either
    celld_teardown "$CELL_ROOT/data/logs/pingpong.log"
}

# c ARGS...: `cell --root $CELL_ROOT ARGS...`, tracked (in a subshell: tracked execs)
c() {
    (tracked "$CELL" --root "$CELL_ROOT" "$@")
}

field_of() {
    "$CELL" --root "$CELL_ROOT" status --json "$1" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)[0][sys.argv[1]])' "$2"
}

logs_have() {
    "$CELL" --root "$CELL_ROOT" logs pingpong | grep -qF -- "$1"
}

# log_count PATTERN: how many lines of the server's log match (grep -E)
log_count() {
    "$CELL" --root "$CELL_ROOT" logs pingpong | grep -cE -- "$1"
}

# Under `make asan` the examples are sanitized too; a cell gets only the
# environment it is given, and LeakSanitizer cannot work inside a cell (the
# seccomp profile refuses ptrace): pass the sanitizer options in.
sanitizer_env() {
    SAN_ENV=()
    [[ -n ${ASAN_OPTIONS:-} ]] && SAN_ENV+=(--env "ASAN_OPTIONS=$ASAN_OPTIONS")
    [[ -n ${UBSAN_OPTIONS:-} ]] && SAN_ENV+=(--env "UBSAN_OPTIONS=$UBSAN_OPTIONS")
    return 0
}

# serve [CELL RUN OPTIONS...]: declare the server; started by its first client
serve() {
    sanitizer_env
    run --separate-stderr c run -d --name pingpong --listen "$@" "${SAN_ENV[@]}" --bind "$PINGPONG:/opt/pingpong" \
        -- /opt/pingpong/pingpong-server
    expect_status 0
}

# the options of a client cell: the binaries and the socket directory
CLIENT_OPTS=()
client_opts() {
    sanitizer_env
    CLIENT_OPTS=(--bind "$PINGPONG:/opt/pingpong" --bind "$CELL_ROOT/run/sockets:/run/cell-sockets"
        --env CELL_SOCKET_DIR=/run/cell-sockets "${SAN_ENV[@]}")
}

# the workload of the running server cell (its init's child)
server_pid() {
    pgrep -P "$(field_of pingpong pid)" -x pingpong-server
}

@test "ipc: celld starts the server on the first connection; client cells exchange requests over socket and ring" {
    serve --listen-type seqpacket
    [[ $(field_of pingpong state) == waiting ]]
    [[ -S $CELL_ROOT/run/sockets/pingpong.sock ]]
    client_opts
    # two clients at once: one in the background, one in the foreground
    start_cell "$BATS_TEST_TMPDIR/other" run --name other "${CLIENT_OPTS[@]}" \
        -- /opt/pingpong/pingpong-client --count 50 --window 4 --ring --ring-count 200
    local other=$CELL_PID
    run_cell run --name client "${CLIENT_OPTS[@]}" -- /opt/pingpong/pingpong-client --count 20 --ring
    expect_status 0
    expect_out "pingpong-client: 20 answers over the socket and 20 over the ring: all matched"
    [[ $(grep -c '^socket: ping [0-9]* -> pong [0-9]*$' <<<"$output") -eq 20 ]] || { show; false; }
    [[ $(grep -c '^ring: ping [0-9]* -> pong [0-9]*$' <<<"$output") -eq 20 ]] || { show; false; }
    expect_out "socket: ping 20 -> pong 20"
    expect_out "ring: ping 20 -> pong 20"
    local status_other=0
    wait "$other" || status_other=$?
    [[ $status_other -eq 0 ]] || { cat "$BATS_TEST_TMPDIR/other" "$BATS_TEST_TMPDIR/other.err"; false; }
    grep -qx "pingpong-client: 50 answers over the socket and 200 over the ring: all matched" \
        "$BATS_TEST_TMPDIR/other"
    [[ $(field_of pingpong state) == running ]]
    # the server printed every request: cell logs shows them, per connection
    wait_until 10 eval '[[ $(log_count "stdout: ring #[12]: ping [0-9]+ -> pong [0-9]+$") -eq 220 ]]' ||
        { c logs pingpong; false; }
    [[ $(log_count 'stdout: socket #[12]: ping [0-9]+ -> pong [0-9]+$') -eq 70 ]] || { c logs pingpong; false; }
    [[ $(log_count 'stdout: socket #[12]: switched to the ring$') -eq 2 ]] || { c logs pingpong; false; }
    logs_have "stdout: socket #1: ping 1 -> pong 1"
    logs_have "stdout: socket #2: ping 1 -> pong 1"
    # SIGTERM: the server stops cleanly (exit 0)
    run --separate-stderr c stop pingpong
    expect_status 0
    [[ $(field_of pingpong exit_code) == 0 ]]
    wait_until 10 logs_have "pingpong-server: SIGTERM: stopping"
    c rm pingpong
    [[ ! -e $CELL_ROOT/run/sockets/pingpong.sock ]]
}

@test "ipc: a second server on the same socket directory is refused, naming the first" {
    local dir out=$BATS_TEST_TMPDIR/first first
    dir=$(world_tmpdir)
    (
        export CELL_SOCKET_DIR=$dir
        tracked "$PINGPONG/pingpong-server"
    ) >"$out" 2>&1 </dev/null &
    first=$!
    track_pid "$first"
    wait_until 10 test -S "$dir/pingpong.sock"
    run --separate-stderr env CELL_SOCKET_DIR="$dir" "$PINGPONG/pingpong-server"
    expect_status 1
    expect_err "pingpong-server: ipc pingpong: another server (pid $first) holds $dir/pingpong.sock: stop it first"
    [[ ${#stderr_lines[@]} -eq 1 ]] || { show; false; }
    # the first one still serves, and its socket is still there
    run --separate-stderr env CELL_SOCKET_DIR="$dir" "$PINGPONG/pingpong-client" --count 3 --ring
    expect_status 0
    expect_out "all matched"
    # SIGTERM: exit 0, the socket and its lock removed
    kill -TERM "$first"
    local rc=0
    wait "$first" || rc=$?
    [[ $rc -eq 0 ]] || { cat "$out"; false; }
    grep -q "SIGTERM: stopping" "$out"
    [[ ! -e $dir/pingpong.sock && ! -e $dir/pingpong.lock ]]
}

@test "ipc: a stream --listen socket: client and server both say to use --listen-type seqpacket" {
    serve
    client_opts
    # a seqpacket client cannot connect to a stream socket
    run_cell run --name client "${CLIENT_OPTS[@]}" -- /opt/pingpong/pingpong-client
    expect_status 1
    expect_err "pingpong-client: ipc pingpong: /run/cell-sockets/pingpong.sock is a stream socket (start the cell with --listen-type seqpacket)"
    [[ -z $output && ${#stderr_lines[@]} -eq 1 ]] || { show; false; }
    # a stream client starts the server, whose cell_listen refuses the socket
    python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.close()' "$CELL_ROOT/run/sockets/pingpong.sock"
    wait_until 10 logs_have "stderr: pingpong-server: ipc pingpong: the activation socket is a stream socket: start the cell with --listen-type seqpacket"
}

@test "ipc: a server killed mid-stream makes the client fail with an error, over the socket and over the ring" {
    serve --listen-type seqpacket
    client_opts
    local out=$BATS_TEST_TMPDIR/client rc
    # over the socket: killed after a few answers
    start_cell "$out" run --name client "${CLIENT_OPTS[@]}" -- /opt/pingpong/pingpong-client --count 100000 --delay 20
    wait_until 20 logs_have "socket #1: ping 5 -> pong 5"
    kill -KILL "$(server_pid)"
    rc=0
    wait "$CELL_PID" || rc=$?
    [[ $rc -eq 1 ]] || { echo "client exited $rc"; cat "$out" "$out.err"; false; }
    grep -q "^pingpong-client: socket: the server hung up ([0-9]* of 100000 answers came)$" "$out.err" ||
        { cat "$out.err"; false; }
    # answers came before the kill (the server logs an answer as it sends
    # it, so the last one it logged may not have reached the client)
    grep -q "^socket: ping 1 -> pong 1$" "$out" || { cat "$out"; false; }
    # over the ring: celld starts a new server (on-failure; the client waits
    # in the backlog meanwhile); kill it too
    start_cell "$out" run --name client "${CLIENT_OPTS[@]}" \
        -- /opt/pingpong/pingpong-client --count 1 --ring --ring-count 100000 --delay 20
    wait_until 20 logs_have "ring #1: ping 5 -> pong 5"
    kill -KILL "$(server_pid)"
    rc=0
    wait "$CELL_PID" || rc=$?
    [[ $rc -eq 1 ]] || { echo "client exited $rc"; cat "$out" "$out.err"; false; }
    grep -q "^pingpong-client: ring: ipc ring: the peer is gone (its connection hung up): Broken pipe ([0-9]* of 100000 answers came)$" \
        "$out.err" || { cat "$out.err"; false; }
    grep -q "^ring: ping 1 -> pong 1$" "$out" || { cat "$out"; false; }
}

@test "ipc: an installed libcell builds a messaging program with pkg-config (cell/ipc.h, cell.pc)" {
    local dest=$BATS_TEST_TMPDIR/dest pc
    DESTDIR=$dest meson install -C "$REPO/build" --no-rebuild --quiet >/dev/null
    pc=$(dirname "$(find "$dest" -name cell.pc | head -1)")
    [[ -f $pc/cell.pc && -f $(find "$dest" -path '*/include/cell/ipc.h' | head -1) ]]
    cat >"$BATS_TEST_TMPDIR/hello.c" <<'C'
#include <cell/ipc.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int argc, char **argv)
{
    struct cell_ipc_server *s;
    struct cell_ipc_conn *c;
    struct cell_ipc_listen_opts o = {.socket_dir = argv[1]};
    struct cell_ipc_msg m;
    struct cell_err e = {0};
    if (argc < 2 || cell_listen("hello", &o, &s, &e) < 0)
        return fprintf(stderr, "%s\n", e.msg), 1;
    if (fork() == 0) {
        if (cell_ipc_accept(s, &c, &e) < 0 || cell_ipc_recv(c, &m, &e) != 1 ||
            cell_ipc_respond(c, m.id, "world", 5, &e) < 0)
            _exit(1);
        _exit(0);
    }
    uint32_t id;
    if (cell_connect("hello", argv[1], &c, &e) < 0 || cell_ipc_request(c, "hello", 5, &id, &e) < 0 ||
        cell_ipc_recv(c, &m, &e) != 1)
        return fprintf(stderr, "%s\n", e.msg), 1;
    printf("%.*s\n", (int)m.len, (const char *)m.data);
    wait(NULL);
    cell_ipc_server_close(s);
    return 0;
}
C
    # shellcheck disable=SC2046
    cc -o "$BATS_TEST_TMPDIR/hello" "$BATS_TEST_TMPDIR/hello.c" \
        $(PKG_CONFIG_PATH=$pc PKG_CONFIG_SYSROOT_DIR=$dest pkg-config --cflags --libs --static cell)
    mkdir "$BATS_TEST_TMPDIR/sockets"
    run "$BATS_TEST_TMPDIR/hello" "$BATS_TEST_TMPDIR/sockets"
    [[ $status -eq 0 && $output == world ]] || { echo "$output"; false; }
    [[ -z $(ls -A "$BATS_TEST_TMPDIR/sockets") ]]
}
