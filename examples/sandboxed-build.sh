#!/bin/sh
# sandboxed-build.sh - run a build (or any command) on a source tree in a
# cell: the tree is the only writable place besides /tmp, there is no
# network, and memory, processes and time are limited. Nothing the build does
# can reach the rest of the host.
# Usage: examples/sandboxed-build.sh SRC_DIR [CMD...]   (default CMD: make)
set -eu
CELL=${CELL:-$(dirname "$0")/../build/cell}
SRC=$(cd "${1:?usage: sandboxed-build.sh SRC_DIR [CMD...]}" && pwd)
shift
[ $# -gt 0 ] || set -- make
exec "$CELL" run --name build --bind "$SRC:/src:rw" --cwd /src \
    --memory 2G --pids 512 --timeout 3600 --rlimit core=0 -- "$@"
