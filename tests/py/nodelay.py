#!/usr/bin/python3
"""TCP_NODELAY on reused connections, against a tagserver, for objpool's tests.

    nodelay.py --port P

Five cycles, each a new socket: connect, read TCP_NODELAY, one REQ/REP
exchange (the reply names the server's connection id), close.

  miss      no option set (the first connection: nothing to reuse)
  default   no option set
  explicit0 setsockopt(TCP_NODELAY, 0) before connect
  default2  no option set again (after a user that asked for 0)
  explicit1 setsockopt(TCP_NODELAY, 1) before connect

Prints one "NAME nodelay=V conn=ID" line per cycle on stdout.  Exit 1 on a
wrong reply.
"""
import argparse
import socket
import sys

CYCLES = [("miss", None), ("default", None), ("explicit0", 0), ("default2", None), ("explicit1", 1)]


def exchange(s, tag):
    s.sendall(b"REQ %s\n" % tag.encode())
    data = b""
    while not data.endswith(b"\n"):
        chunk = s.recv(4096)
        if not chunk:
            raise OSError("EOF after %r" % data)
        data += chunk
    want = b"REP %s " % tag.encode()
    if not data.startswith(want) or data.count(b"\n") != 1:
        print("MISMATCH expected %r got %r" % (want, data), file=sys.stderr)
        sys.exit(1)
    return int(data[len(want):])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    a = ap.parse_args()
    for name, opt in CYCLES:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if opt is not None:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, opt)
        s.connect(("127.0.0.1", a.port))
        nodelay = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        conn = exchange(s, name)
        s.close()
        print("%s nodelay=%d conn=%d" % (name, 1 if nodelay else 0, conn))
    return 0


if __name__ == "__main__":
    sys.exit(main())
