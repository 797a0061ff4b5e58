#!/usr/bin/python3
"""What redis-py >= 5 (and node-redis, go-redis 9, Jedis 5, Lettuce) does on
every connect, one connection per operation, for tests/conn/redis_clients.bats.

    redis_setinfo.py loop --port P --count N
        N times: connect, CLIENT SETINFO LIB-NAME redis-py and CLIENT SETINFO
        LIB-VER 5.0.1 (each reply read; an error, Redis < 7.2, ignored as
        redis-py does), SET k_<i> v, GET it back, close. Prints
        "clients=N ok=N mismatches=N errors=N setinfo_ok=N setinfo_err=N".
    redis_setinfo.py names --port P --count N
        N times: connect; CLIENT GETNAME must be nil (no earlier user's
        name); every other client then sets CLIENT SETNAME user_<i> (and
        must read it back); SET/GET; close. Prints the same counts.

Exit 1 on a mismatch, 2 on an error, else 0.
"""
import argparse
import os
import socket
import sys
import time


class Conn:
    """A raw RESP2 connection: commands out, one reply in."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.f = self.s.makefile("rb")

    def cmd(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.s.sendall(out)
        return self.reply()

    def reply(self):
        line = self.f.readline()
        if not line.endswith(b"\r\n"):
            raise EOFError("connection closed mid-reply: %r" % line)
        t, rest = line[:1], line[1:-2]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            return RuntimeError(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.f.read(n + 2)
            return data[:-2]
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self.reply() for _ in range(n)]
        raise ValueError("unexpected reply %r" % line)

    def close(self):
        self.f.close()
        self.s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["loop", "names"])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--count", type=int, default=200)
    a = ap.parse_args()
    run = "%d.%d" % (os.getpid(), time.monotonic_ns())
    ok = mismatches = errors = si_ok = si_err = 0

    def bad(msg):
        nonlocal mismatches
        mismatches += 1
        if mismatches <= 10:
            print("MISMATCH " + msg, file=sys.stderr)

    for i in range(a.count):
        try:
            c = Conn(a.port)
            try:
                if a.what == "loop":
                    for field, val in (("LIB-NAME", "redis-py"), ("LIB-VER", "5.0.1")):
                        r = c.cmd("CLIENT", "SETINFO", field, val)
                        if isinstance(r, RuntimeError):
                            si_err += 1
                        elif r == "OK":
                            si_ok += 1
                        else:
                            bad("op %d: SETINFO %s answered %r" % (i, field, r))
                            continue
                else:
                    name = c.cmd("CLIENT", "GETNAME")
                    if name is not None:
                        bad("op %d: CLIENT GETNAME is %r: an earlier user's name" % (i, name))
                        continue
                    if i % 2 == 0:
                        if c.cmd("CLIENT", "SETNAME", "user_%d" % i) != "OK":
                            bad("op %d: SETNAME failed" % i)
                            continue
                        if c.cmd("CLIENT", "GETNAME") != b"user_%d" % i:
                            bad("op %d: its own name not read back" % i)
                            continue
                key, val = "setinfo_%s_%d" % (run, i), "%s-%d" % (run, i)
                if c.cmd("SET", key, val) != "OK":
                    bad("op %d: SET failed" % i)
                    continue
                got = c.cmd("GET", key)
                if got != val.encode():
                    bad("op %d: GET %s answered %r, not %r" % (i, key, got, val))
                    continue
                ok += 1
            finally:
                c.close()
        except (OSError, EOFError, ValueError) as e:
            errors += 1
            if errors <= 10:
                print("ERROR op %d: %s: %s" % (i, type(e).__name__, e), file=sys.stderr)
    print("clients=%d ok=%d mismatches=%d errors=%d setinfo_ok=%d setinfo_err=%d"
          % (a.count, ok, mismatches, errors, si_ok, si_err))
    return 1 if mismatches else 2 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
