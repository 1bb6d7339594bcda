#!/bin/sh
# busybox-rootfs.sh - make a tiny root filesystem from a static busybox and
# run a shell script in a cell on it: no image, no package manager.
# Usage: examples/busybox-rootfs.sh [DIR]   (needs busybox-static; CELL= to pick cell)
set -eu
CELL=${CELL:-$(dirname "$0")/../build/cell}
if [ $# -gt 0 ]; then
    ROOT=$1
else
    ROOT=$(mktemp -d /tmp/cell-busybox.XXXXXX)
    trap 'rm -rf "$ROOT"' EXIT
fi
BUSYBOX=$(command -v busybox) || { echo "busybox-rootfs: install busybox-static" >&2; exit 2; }
if ldd "$BUSYBOX" >/dev/null 2>&1; then
    echo "busybox-rootfs: $BUSYBOX is dynamically linked; install busybox-static" >&2
    exit 2
fi

# the rootfs: busybox and its applets; /proc, /dev and /tmp come from cell
mkdir -p "$ROOT/bin"
cp "$BUSYBOX" "$ROOT/bin/busybox"
for applet in sh ls cat echo id hostname ps wc tr; do
    ln -sf busybox "$ROOT/bin/$applet"
done

# read-only root, no network, at most 16 processes, 32 MiB, 10 seconds
"$CELL" run --rootfs "$ROOT" --name tiny --memory 32M --pids 16 --timeout 10 \
    --env-clear --env PATH=/bin -- /bin/sh -c '
        echo "hello from $(hostname), running as $(id -u)"
        echo "root holds: $(ls / | tr "\n" " ")"
        echo "processes I can see: $(ps -o pid= | wc -l)"
        (echo x > /bin/new) 2>/dev/null || echo "and / is read-only"'
