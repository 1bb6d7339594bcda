#!/usr/bin/env python3
# console-socket.py PATH - an OCI console socket for the tests: listen on PATH,
# take the terminal master a runtime sends (SCM_RIGHTS), print all that the
# container writes to it until it closes (10 s at most).
import array, os, socket, sys, time
path = sys.argv[1]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path); srv.listen(1)
print("ready", flush=True)
conn, _ = srv.accept()
fds = array.array("i")
msg, anc, flags, addr = conn.recvmsg(64, socket.CMSG_LEN(fds.itemsize))
for level, typ, data in anc:
    fds.frombytes(data[:fds.itemsize])
master = fds[0]
out = b""
deadline = time.time() + 10
while time.time() < deadline:
    try:
        b = os.read(master, 4096)
    except OSError:
        break
    if not b:
        break
    out += b
sys.stdout.write(out.decode(errors="replace"))
