#!/usr/bin/python3
"""A connection handed to a subprocess with pass_fds, for objpool's tests.

    passfds.py --port P [--cycles N]

The parent connects to a tagserver and does one exchange (conn A), starts
a child with subprocess.Popen(pass_fds=(fd,)) - Python sockets are
non-inheritable, so only pass_fds gives the child its copy - and closes its
own copy.  While the child holds A, the parent makes --cycles connections
(default 20), one exchange each: none may be A.  Then the child sends a
request on A and must get its own reply, naming A; the parent's connection
open meanwhile must still answer the parent.

Prints "pid=N a=ID reused=N child_reply=ok|..." on stdout; a broken rule is
printed as "FAIL ..." or "MISMATCH ..." on stderr, exit 1.
"""
import argparse
import os
import socket
import subprocess
import sys

CHILD = r"""
import socket, sys
s = socket.socket(fileno=int(sys.argv[1]))
s.setblocking(True)  # the parent's timeout left O_NONBLOCK on the shared file
sys.stdin.readline()
s.sendall(b"REQ child\n")
data = b""
while not data.endswith(b"\n"):
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
print(data.decode().strip(), flush=True)
sys.stdin.read()
"""

failed = False


def fail(msg):
    global failed
    failed = True
    print("FAIL %s" % msg, file=sys.stderr)


def exchange(s, tag):
    s.sendall(b"REQ %s\n" % tag.encode())
    data = b""
    while not data.endswith(b"\n"):
        chunk = s.recv(4096)
        if not chunk:
            fail("EOF on %s after %r" % (tag, data))
            return -1
        data += chunk
    want = b"REP %s " % tag.encode()
    if not data.startswith(want) or data.count(b"\n") != 1:
        print("MISMATCH expected %r got %r" % (want, data), file=sys.stderr)
        sys.exit(1)
    return int(data[len(want):])


def connect(port):
    return socket.create_connection(("127.0.0.1", port), timeout=10)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--cycles", type=int, default=20)
    a = ap.parse_args()
    s = connect(a.port)
    conn_a = exchange(s, "before-spawn")
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(s.fileno())],
                             pass_fds=(s.fileno(),), stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    s.close()
    reused = 0
    for i in range(a.cycles):
        d = connect(a.port)
        if exchange(d, "parent-%d" % i) == conn_a:
            reused += 1
            fail("cycle %d: the connection the child holds (conn %d) was handed to the parent" % (i, conn_a))
        d.close()
    d = connect(a.port)
    conn_d = exchange(d, "parent-held")
    child.stdin.write("go\n")
    child.stdin.flush()
    reply = child.stdout.readline().strip()
    if reply != "REP child %d" % conn_a:
        fail("the child's reply on its connection: %r, expected 'REP child %d'" % (reply, conn_a))
    if exchange(d, "parent-after-child") != conn_d:
        fail("the parent's open connection changed")
    child.stdin.close()
    if child.wait(timeout=10) != 0:
        fail("child exit status %d" % child.returncode)
    print("pid=%d a=%d reused=%d child_reply=%s" % (
        os.getpid(), conn_a, reused, "ok" if reply == "REP child %d" % conn_a else "bad"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
