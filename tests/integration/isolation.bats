# isolation.bats - by default every breakout attempt of the probe is blocked;
# where a flag legitimately opens a door, a positive control shows the probe
# would notice (so these tests can fail).

load helpers

@test "cannot see host pids" {
    run_probe -- pids $$
    expect_blocked
    # A fresh pid namespace: only the cell's own few processes are visible.
    local n
    n=$(sed -n 's/^visible pids: //p' <<<"$output")
    [[ -n $n && $n -ge 1 && $n -lt 10 ]] || { echo "visible pids: '$n'"; show; false; }
}

@test "cannot write under /usr" {
    local name=cell-probe-$$-$RANDOM
    run_probe -- write "/usr/$name"
    expect_blocked
    [[ ! -e /usr/$name ]]
}

@test "cannot write a read-only bind, can write a rw bind (positive control)" {
    local dir=$BATS_TEST_TMPDIR/data
    mkdir -p "$dir"

    run_probe --bind "$dir:/data" -- write /data/ro-file
    expect_blocked
    [[ ! -e $dir/ro-file ]]

    run_probe --bind "$dir:/data:rw" -- write /data/rw-file
    expect_escaped
    [[ -f $dir/rw-file ]]
    [[ $(cat "$dir/rw-file") == cell-probe ]]
}

@test "can write /tmp inside, and it is not the host's /tmp" {
    local name=cell-probe-$$-$RANDOM
    run_probe -- write "/tmp/$name"
    expect_escaped # writable: /tmp is the cell's own tmpfs
    [[ ! -e /tmp/$name ]]
}

@test "cannot reach the host over the network" {
    local port
    port=$(free_port)
    start_listener "$port"

    run_probe -- net 127.0.0.1 "$port"
    expect_blocked

    # positive control: with the host's network the listener is reachable
    run_probe --net host -- net 127.0.0.1 "$port"
    expect_escaped
    expect_out "ESCAPED: connect to 127.0.0.1 port $port"

    kill "$LISTENER_PID"
    wait "$LISTENER_PID" || true
}

@test "cannot mount" {
    run_probe -- mount
    expect_blocked
    expect_out "BLOCKED: mount a tmpfs on /tmp"

    # positive control: with CAP_SYS_ADMIN and the low profile, mount works
    # (inside the cell's own mount namespace)
    run_probe --profile low --cap-add CAP_SYS_ADMIN -- mount
    expect_escaped
    expect_out "ESCAPED: mount a tmpfs on /tmp"
}

@test "cannot create a user namespace under high" {
    run_probe -- userns
    expect_blocked
    expect_out "BLOCKED: clone(CLONE_NEWUSER)"
    expect_out "BLOCKED: unshare(CLONE_NEWUSER)"
}

@test "cannot create a user namespace under medium" {
    run_probe --profile medium -- userns
    expect_blocked
}

@test "can create a user namespace under low (positive control)" {
    run_probe --profile low -- userns
    expect_escaped
    expect_out "ESCAPED: unshare(CLONE_NEWUSER)"
}

@test "cannot ptrace" {
    run_probe -- ptrace
    expect_blocked
    expect_out "BLOCKED: ptrace(PTRACE_ATTACH) a child"
    expect_out "BLOCKED: ptrace(PTRACE_SEIZE) a child"

    run_probe --profile medium -- ptrace
    expect_blocked

    # positive control: the low profile lets a process trace its own child
    run_probe --profile low -- ptrace
    expect_escaped
}

@test "cannot load a module" {
    for profile in high medium low; do
        run_probe --profile "$profile" -- module
        expect_blocked
        expect_out "BLOCKED: finit_module"
        expect_out "BLOCKED: init_module"
    done
}

@test "cannot use keyctl" {
    run_probe -- keyctl
    expect_blocked
    expect_out "BLOCKED: add_key"

    run_probe --profile medium -- keyctl
    expect_blocked

    # positive control: the low profile allows the kernel keyring
    run_probe --profile low -- keyctl
    expect_escaped
}

@test "cannot use bpf" {
    run_probe -- bpf
    expect_blocked
    expect_out "BLOCKED: bpf(BPF_MAP_CREATE)"

    run_probe --profile medium --cap-add CAP_BPF -- bpf
    expect_blocked

    # positive control: low profile plus CAP_BPF creates a map
    run_probe --profile low --cap-add CAP_BPF -- bpf
    expect_escaped
}

@test "cannot mknod" {
    run_probe -- mknod /tmp/null
    expect_blocked
    expect_out "BLOCKED: mknod character device /tmp/null"

    # positive control: CAP_MKNOD under the low profile creates the node
    run_probe --profile low --cap-add CAP_MKNOD -- mknod /tmp/null
    expect_escaped
}

@test "has no capabilities and cannot raise one" {
    run_probe -- caps
    expect_blocked
    expect_out "CapEff:	0000000000000000"
    expect_out "CapPrm:	0000000000000000"
    expect_out "CapAmb:	0000000000000000"
    expect_out "BLOCKED: capset to raise every capability"

    # positive control: an added capability shows up (and is reported
    # unless the probe is told to expect it)
    run_probe --cap-add CAP_NET_RAW -- caps
    expect_escaped
    expect_out "ESCAPED: holds capability cap_net_raw"

    run_probe --cap-add CAP_NET_RAW -- caps cap_net_raw
    expect_blocked
    expect_out "effective: cap_net_raw"
    expect_out "CapEff:	0000000000002000"
}

@test "cannot read /proc/kcore" {
    run_probe -- read /proc/kcore
    expect_blocked
}

@test "masked /proc files that exist on the host read as empty inside" {
    local f checked=0
    for f in /proc/kallsyms /proc/keys /proc/timer_list /proc/sched_debug /proc/kcore; do
        [[ -e $f ]] || continue
        run_probe -- read "$f"
        expect_blocked
        checked=$((checked + 1))
    done
    [[ $checked -gt 0 ]] || skip "none of the masked /proc files exists on this host"
    # positive control: the host itself reads /proc/kallsyms
    if [[ -e /proc/kallsyms ]]; then
        [[ -n $(head -c 64 /proc/kallsyms) ]]
    fi
}

@test "cannot write to the cell's root directory or /etc" {
    local name=cell-probe-$$-$RANDOM
    run_probe -- write "/$name"
    expect_blocked
    run_probe -- write "/etc/$name"
    expect_blocked
    [[ ! -e /$name && ! -e /etc/$name ]]
}

@test "cannot write /proc/sys" {
    run_probe -- write /proc/sys/kernel/hostname
    expect_blocked
    expect_out "BLOCKED: write /proc/sys/kernel/hostname"
}

@test "cannot use an fd the parent had open" {
    exec 5</etc/hostname
    run_probe -- fd 5
    expect_blocked
    expect_out "BLOCKED: fd 5 is open"

    # positive control: --preserve-fd passes it in
    run_probe --preserve-fd 5 -- fd 5
    exec 5<&-
    expect_escaped
    expect_out "ESCAPED: fd 5 is open (/etc/hostname)"
}

@test "environment is exactly the declared set" {
    export CELL_TEST_SECRET=leaked
    run_probe -- env
    expect_status 0
    local want
    want=$'HOME=/tmp\nPATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
    [[ $(sort <<<"$output") == "$want" ]] || { echo "want:"; echo "$want"; show; false; }

    # positive controls: --env K=V and --env K (copied from the host) add to it
    run_probe --env FOO=bar --env CELL_TEST_SECRET -- env
    expect_status 0
    want=$'CELL_TEST_SECRET=leaked\nFOO=bar\nHOME=/tmp\nPATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
    [[ $(sort <<<"$output") == "$want" ]] || { echo "want:"; echo "$want"; show; false; }

    # --env-clear drops the defaults
    run_probe --env-clear --env ONLY=this -- env
    expect_status 0
    [[ $output == "ONLY=this" ]] || { show; false; }
}

@test "setuid binary gives no privilege" {
    local dir=$BATS_TEST_TMPDIR/suid
    mkdir -p "$dir"
    cp "$PROBE" "$dir/suid-probe"
    chown 0:0 "$dir/suid-probe"
    chmod 4755 "$dir/suid-probe"
    [[ -u $dir/suid-probe ]]

    run_cell run --user 1000 --bind "$dir/suid-probe:/suid-probe" -- /suid-probe euid
    expect_blocked
    expect_out "ruid=1000 euid=1000"

    # control: --user really changes the uid (and only that)
    run_probe --user 1000:1000 -- whoami
    expect_status 0
    expect_out "uid=1000 gid=1000 groups="
}

@test "no supplementary groups unless asked" {
    run_probe --user 1000:1000 -- whoami
    expect_status 0
    [[ $output == "uid=1000 gid=1000 groups=" ]] || { show; false; }

    run_probe --user 1000:1000 --group 27 --group 44 -- whoami
    expect_status 0
    [[ $output == "uid=1000 gid=1000 groups=27,44" ]] || { show; false; }
}

@test "no SysV IPC under high" {
    run_probe -- sysv
    expect_blocked
    expect_out "BLOCKED: shmget"
    expect_out "BLOCKED: semget"
    expect_out "BLOCKED: msgget"

    # positive control: the medium denylist allows SysV IPC (in the cell's
    # own IPC namespace)
    run_probe --profile medium -- sysv
    expect_escaped
    expect_out "ESCAPED: shmget"
}

@test "no raw sockets" {
    run_probe -- raw
    expect_blocked
    expect_out "BLOCKED: socket(AF_PACKET, SOCK_RAW)"
    expect_out "BLOCKED: socket(AF_INET, SOCK_RAW)"

    # even with the capability, high and medium refuse raw sockets
    run_probe --cap-add CAP_NET_RAW -- raw
    expect_blocked
    run_probe --profile medium --cap-add CAP_NET_RAW -- raw
    expect_blocked

    # positive control: low profile plus CAP_NET_RAW opens one
    run_probe --profile low --cap-add CAP_NET_RAW -- raw
    expect_escaped
}

@test "a cell's hostname does not change the host's" {
    local before
    before=$(hostname)
    run_probe --hostname changed-by-cell -- hostname
    expect_status 0
    [[ $output == changed-by-cell ]]
    [[ $(hostname) == "$before" ]]
}

@test "the default /etc is minimal: the host's passwd and hosts, no shadow" {
    run_cell run -- /bin/sh -c 'cat /etc/passwd; echo ==; cat /etc/hosts; echo ==; ls /etc'
    expect_status 0
    [[ $output == "$(cat /etc/passwd)"$'\n'==$'\n'"$(cat /etc/hosts)"$'\n'==* ]] || { show; false; }
    refute_out "shadow"
    refute_out "sudoers"
    run_cell run -- /bin/cat /etc/shadow
    expect_status 1
    expect_err "No such file or directory"
}
