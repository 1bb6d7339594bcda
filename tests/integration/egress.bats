# egress.bats - `cell run --egress HOST:PORT` (and a job's egressRules): the
# cell gets a veth link out of its own network namespace and nftables rules
# there allowing exactly the listed address and port. The "outside" is a
# network namespace the test makes (a named one: --egress-netns), with two
# addresses on its loopback and a server on two ports, so no packet leaves
# the machine. From inside, the allowed pair answers; another port and
# another host do not; the cell cannot change its rules; and nothing is left
# (the link, the outside namespace once the test removes it).

load helpers

setup() {
    _common_setup
    command -v nft >/dev/null && command -v ip >/dev/null || skip "nftables and iproute2 are needed"
    OUTSIDE=cell-egress-$$
    ip netns add "$OUTSIDE"
    ip -n "$OUTSIDE" link set lo up
    ip -n "$OUTSIDE" addr add 198.51.100.1/32 dev lo
    ip -n "$OUTSIDE" addr add 198.51.100.2/32 dev lo
    # a server on 198.51.100.1:8081 and :8082 and 198.51.100.2:8081
    ip netns exec "$OUTSIDE" python3 -c '
import socket, threading, time
def serve(addr, port):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port)); s.listen(8)
    while True:
        c, _ = s.accept(); c.sendall(b"hello from %s:%d\n" % (addr.encode(), port)); c.close()
for a, p in (("198.51.100.1", 8081), ("198.51.100.1", 8082), ("198.51.100.2", 8081)):
    threading.Thread(target=serve, args=(a, p), daemon=True).start()
time.sleep(600)' &
    SERVER=$!
    echo "$SERVER" >>"$BATS_TEST_TMPDIR/.host-pids"
    wait_until 10 ip netns exec "$OUTSIDE" python3 -c 'import socket; socket.create_connection(("198.51.100.2", 8081), 1)'
}

teardown() {
    local failed=0
    kill "$SERVER" 2>/dev/null || true
    wait "$SERVER" 2>/dev/null || true
    # the link is the cell's: gone with it (its host end was in OUTSIDE)
    if ip -n "$OUTSIDE" -o link show 2>/dev/null | grep -q ' cj'; then
        echo "residue: a link in $OUTSIDE"
        failed=1
    fi
    ip netns del "$OUTSIDE" 2>/dev/null || true
    if ip -o link show | grep -q ' cj[0-9a-f]*h'; then
        echo "residue: a cell link in the host's namespace"
        failed=1
    fi
    _residue_teardown || failed=1
    return "$failed"
}

# probe T...: inside the cell, try each ADDR/PORT; "open ..." or "blocked ..."
PROBE_SH='for t in "$@"; do if timeout 2 bash -c "exec 3<>/dev/tcp/$t && cat <&3" 2>/dev/null; then :; else echo "blocked $t"; fi; done'

@test "egress: only the listed address and port answer from inside; another port and another host do not" {
    run_cell run --egress 198.51.100.1:8081 --egress-netns "$OUTSIDE" -- /bin/bash -c "$PROBE_SH" probe \
        198.51.100.1/8081 198.51.100.1/8082 198.51.100.2/8081
    expect_status 0
    [[ ${lines[0]} == "hello from 198.51.100.1:8081" ]] || { show; false; }
    [[ $output == *"blocked 198.51.100.1/8082"* && $output == *"blocked 198.51.100.2/8081"* ]] || { show; false; }
    # positive control: allowing the other two, they answer
    run_cell run --egress 198.51.100.1:8082 --egress 198.51.100.2:8081 --egress-netns "$OUTSIDE" -- \
        /bin/bash -c "$PROBE_SH" probe 198.51.100.1/8082 198.51.100.2/8081 198.51.100.1/8081
    expect_status 0
    [[ $output == *"hello from 198.51.100.1:8082"* && $output == *"hello from 198.51.100.2:8081"* &&
        $output == *"blocked 198.51.100.1/8081"* ]] || { show; false; }
    # without --egress: no link at all
    run_cell run -- /bin/bash -c "$PROBE_SH" probe 198.51.100.1/8081
    [[ $output == "blocked 198.51.100.1/8081" ]] || { show; false; }
}

@test "egress: the cell cannot change its rules or its link, and reaches nothing inbound" {
    run_cell run --egress 198.51.100.1:8081 --egress-netns "$OUTSIDE" -- /bin/sh -c \
        'nft flush ruleset 2>&1 || echo no-nft; ip link set eth0 down 2>&1 || echo no-ip; ip route add 198.51.100.0/24 dev eth0 2>&1 || echo no-route'
    [[ $output == *no-nft* && $output == *no-ip* && $output == *no-route* ]] || { show; false; }
    # inbound: the outside cannot connect into the cell, even to a listener
    local shared=$BATS_TEST_TMPDIR/shared
    mkdir -p "$shared"
    "$CELL" --root "$CELL_ROOT" run --egress 198.51.100.1:8081 --egress-netns "$OUTSIDE" --bind "$shared:/shared:rw" \
        -- /bin/bash -c '
        ip -4 -o addr show eth0 | awk "{print \$4}" | cut -d/ -f1 >/shared/addr.tmp && mv /shared/addr.tmp /shared/addr
        exec python3 -c "
import socket
s = socket.socket(); s.bind((\"0.0.0.0\", 9090)); s.listen(1); s.settimeout(6)
try:
    s.accept(); print(\"ACCEPTED\")
except OSError:
    print(\"nothing came in\")"' >"$shared/out" 2>&1 &
    local cell=$!
    echo "$cell" >>"$BATS_TEST_TMPDIR/.host-pids"
    wait_until 20 test -s "$shared/addr"
    local addr
    addr=$(cat "$shared/addr")
    run ip netns exec "$OUTSIDE" python3 -c 'import socket, sys; socket.create_connection((sys.argv[1], 9090), 2); print("connected")' "$addr"
    [[ $status -ne 0 && $output != *connected* ]] || { echo "$output"; false; }
    wait "$cell"
    grep -q "nothing came in" "$shared/out" || { cat "$shared/out"; false; }
}

@test "egress: bad rules, --net host, and a name that does not resolve are refused with nothing left" {
    run_cell run --egress 198.51.100.1:8081 --net host -- /bin/true
    expect_status 125
    expect_err "--egress: only for a cell with a network of its own (not with --net host)"
    run_cell run --egress-netns "$OUTSIDE" -- /bin/true
    expect_status 125
    expect_err "--egress-netns: only with --egress"
    run_cell run --egress no-such-host.invalid:80 -- /bin/true
    expect_status 125
    expect_err "\"no-such-host.invalid\" does not resolve"
    run_cell run --egress 198.51.100.1:8081 --egress-netns no-such-netns-$$ -- /bin/true
    expect_status 125
    expect_err "egress: move the host end"
}
