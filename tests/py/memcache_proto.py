#!/usr/bin/python3
"""memcached clients for objpool's protocol tests (tests/conn/protocols.bats).

Each client is a new connection, closed after use.

    memcache_proto.py mix --port P --rounds R --tag T
        R rounds of six clients: pymemcache get of a missing key, set then
        get of a present key, a noreply set (nothing is read back), a
        get_many of two present keys and a missing one, and a raw socket
        doing meta commands: ms, mg of a hit and of a miss, mn.
    memcache_proto.py check-noreply --port P --rounds R --tag T
        (without objpool) every noreply set of a mix run landed.
    memcache_proto.py partial --port P --count N --tag T
        N times: a raw client sends "get a b c" and reads only the first
        line ("VALUE a ...") before it closes; then a pymemcache client
        gets its own key and must get its own value.

Values name their key and the run, so a reply that reached the wrong
client is a mismatch.  Prints "clients=N ok=N mismatches=N errors=N"; exit 1
on a mismatch, else 2 on an error, else 0.
"""
import argparse
import socket
import sys

from pymemcache.client.base import Client


class Counts:
    clients = ok = mismatches = errors = 0

    def check(self, what, got, want):
        if got == want:
            self.ok += 1
        else:
            self.mismatches += 1
            if self.mismatches <= 5:
                print("MISMATCH %s: expected %r got %r" % (what, want, got), file=sys.stderr)

    def error(self, what, e):
        self.errors += 1
        if self.errors <= 5:
            print("ERROR %s: %s: %s" % (what, type(e).__name__, e), file=sys.stderr)


def val(a, key):
    return ("%s=%s." % (key, a.tag)).encode() * 3


def with_client(a, fn):
    c = Client(("127.0.0.1", a.port), timeout=5, connect_timeout=5)
    try:
        return fn(c)
    finally:
        c.close()


class Raw:
    """A raw connection reading replies line by line."""

    def __init__(self, a):
        self.sock = socket.create_connection(("127.0.0.1", a.port), timeout=5)
        self.buf = b""

    def line(self):
        while b"\r\n" not in self.buf:
            got = self.sock.recv(65536)
            if not got:
                raise EOFError("EOF in a reply")
            self.buf += got
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def data(self, n):
        while len(self.buf) < n + 2:
            got = self.sock.recv(65536)
            if not got:
                raise EOFError("EOF in a value")
            self.buf += got
        d, self.buf = self.buf[:n], self.buf[n + 2:]
        return d

    def close(self):
        self.sock.close()


def meta(a, i):
    """ms, mg hit, mg miss, mn on one raw connection: the replies, as read."""
    r = Raw(a)
    try:
        key, v = "%s_meta_%d" % (a.tag, i), val(a, "meta%d" % i)
        r.sock.sendall(b"ms %s %d T0\r\n%s\r\n" % (key.encode(), len(v), v))
        out = [r.line()]
        r.sock.sendall(b"mg %s v\r\n" % key.encode())
        head = r.line()
        out += [head, r.data(int(head.split()[1])) if head.startswith(b"VA ") else None]
        r.sock.sendall(b"mg %s_meta_missing_%d v\r\n" % (a.tag.encode(), i))
        out.append(r.line())
        r.sock.sendall(b"mn\r\n")
        out.append(r.line())
        return out, [b"HD", b"VA %d" % len(v), v, b"EN", b"MN"]
    finally:
        r.close()


def mix_round(a, c, i):
    k, nk, miss = "%s_k_%d" % (a.tag, i), "%s_nr_%d" % (a.tag, i), "%s_miss_%d" % (a.tag, i)
    prev = "%s_k_%d" % (a.tag, max(i - 1, 0))
    steps = [
        ("get missing", lambda: with_client(a, lambda m: m.get(miss)), None),
        ("set", lambda: with_client(a, lambda m: m.set(k, val(a, k), noreply=False)), True),
        ("noreply set", lambda: with_client(a, lambda m: m.set(nk, val(a, nk), noreply=True)), True),
        ("get present", lambda: with_client(a, lambda m: m.get(k)), val(a, k)),
        ("get_many", lambda: with_client(a, lambda m: m.get_many([k, prev, miss])),
         {k: val(a, k), prev: val(a, prev)}),
    ]
    for name, fn, want in steps:
        c.clients += 1
        try:
            c.check("round %d %s" % (i, name), fn(), want)
        except Exception as e:  # noqa: BLE001 - every failure is counted
            c.error("round %d %s" % (i, name), e)
    c.clients += 1
    try:
        got, want = meta(a, i)
        c.check("round %d meta" % i, got, want)
    except (OSError, EOFError, ValueError, IndexError) as e:
        c.error("round %d meta" % i, e)


def check_noreply(a):
    bad = 0
    m = Client(("127.0.0.1", a.port), timeout=5)
    for i in range(a.rounds):
        nk = "%s_nr_%d" % (a.tag, i)
        if m.get(nk) != val(a, nk):
            bad += 1
    m.close()
    print("noreply_missing=%d" % bad)
    return 1 if bad else 0


def first_line_only(a, keys):
    """get KEYS on a raw socket; read the reply byte by byte up to its first line."""
    s = socket.create_connection(("127.0.0.1", a.port), timeout=5)
    try:
        s.sendall(b"get %s\r\n" % b" ".join(k.encode() for k in keys))
        line = b""
        while not line.endswith(b"\r\n"):
            got = s.recv(1)
            if not got:
                raise EOFError("EOF in the first line")
            line += got
        return line
    finally:
        s.close()


def partial(a, c):
    keys = ["%s_p%s" % (a.tag, x) for x in "abc"]
    big = {keys[0]: val(a, keys[0]), keys[1]: val(a, keys[1]) * 100, keys[2]: val(a, keys[2]) * 1000}
    with_client(a, lambda m: m.set_many(big, noreply=False))
    for i in range(a.count):
        c.clients += 3
        own = "%s_own_%d" % (a.tag, i)
        try:
            with_client(a, lambda m: m.set(own, val(a, own), noreply=False))
            line = first_line_only(a, keys)
            c.check("op %d first line" % i, line.split()[:2], [b"VALUE", keys[0].encode()])
            c.check("op %d next get" % i, with_client(a, lambda m: m.get(own)), val(a, own))
        except Exception as e:  # noqa: BLE001 - every failure is counted
            c.error("op %d" % i, e)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["mix", "check-noreply", "partial"])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--rounds", type=int, default=50)
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--tag", default="objpool")
    a = ap.parse_args()
    if a.what == "check-noreply":
        return check_noreply(a)
    c = Counts()
    if a.what == "mix":
        for i in range(a.rounds):
            mix_round(a, c, i)
    else:
        partial(a, c)
    print("clients=%d ok=%d mismatches=%d errors=%d" % (c.clients, c.ok, c.mismatches, c.errors))
    if c.mismatches:
        return 1
    return 2 if c.errors else 0


if __name__ == "__main__":
    sys.exit(main())
