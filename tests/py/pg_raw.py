#!/usr/bin/python3
"""A raw PostgreSQL protocol client: the start-up split at every byte.

    pg_raw.py --unix PATH | --tcp PORT  --user U [--ssl]

For every split point k of the StartupMessage (and, with --ssl, of the
SSLRequest before it), one connection writes the message as two send()
calls cut at k, reads the answer in reads of 1 to 7 bytes (with a
MSG_PEEK before each), runs SELECT 1 and SELECT current_user, checks both,
and ends with Terminate and close: the same byte stream libpq sends, cut
where a kernel may cut it. Under objpool most of these connections are
reused ones, so the replay's comparison and serving meet every split.

Prints "ops=N ok=N mismatches=N errors=N"; exit 1 on any mismatch or error.
"""
import argparse
import socket
import struct
import sys


def startup(user):
    body = struct.pack("!I", 0x00030000) + b"user\0" + user.encode() + b"\0database\0postgres\0\0"
    return struct.pack("!I", len(body) + 4) + body


SSLREQ = struct.pack("!II", 8, 80877103)


class Reader:
    def __init__(self, s, step):
        self.s, self.buf, self.step = s, b"", step

    def fill(self, n):
        while len(self.buf) < n:
            k = 1 + (self.step % 7)
            self.step += 1
            peek = self.s.recv(k, socket.MSG_PEEK)
            got = self.s.recv(k)
            if not got:
                raise EOFError("EOF")
            if not got.startswith(peek[:len(got)]) and not peek.startswith(got):
                raise ValueError("MSG_PEEK %r, then read %r" % (peek, got))
            self.buf += got

    def take(self, n):
        self.fill(n)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def message(self):
        head = self.take(5)
        return head[:1], self.take(struct.unpack("!I", head[1:])[0] - 4)


def until_ready(r):
    msgs = []
    while True:
        t, body = r.message()
        msgs.append((t, body))
        if t == b"E":
            raise ValueError("server error: %r" % body)
        if t == b"Z":
            return msgs


def query(s, r, sql):
    s.sendall(b"Q" + struct.pack("!I", len(sql) + 5) + sql.encode() + b"\0")
    rows = [b for t, b in until_ready(r) if t == b"D"]
    # one row, one column: Int16 1, Int32 len, value
    return rows[0][6:].decode() if len(rows) == 1 else None


def one(a, ssl_cut, cut, step):
    s = socket.socket(socket.AF_UNIX if a.unix else socket.AF_INET, socket.SOCK_STREAM)
    s.connect(a.unix if a.unix else ("127.0.0.1", a.tcp))
    r = Reader(s, step)
    try:
        if a.ssl:
            s.send(SSLREQ[:ssl_cut])
            s.send(SSLREQ[ssl_cut:])
            if r.take(1) != b"N":
                raise ValueError("SSLRequest not answered N")
        msg = startup(a.user)
        s.send(msg[:cut])
        s.send(msg[cut:])
        msgs = until_ready(r)
        if msgs[0] != (b"R", struct.pack("!I", 0)) or msgs[-1] != (b"Z", b"I"):
            raise ValueError("start-up answer %r" % msgs[:1])
        if not any(t == b"K" for t, _ in msgs):
            raise ValueError("no BackendKeyData")
        if query(s, r, "SELECT 1") != "1" or query(s, r, "SELECT current_user") != a.user:
            raise ValueError("wrong answer")
        s.send(b"X\0\0\0\4")
    finally:
        s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--unix")
    ap.add_argument("--tcp", type=int)
    ap.add_argument("--user", required=True)
    ap.add_argument("--ssl", action="store_true")
    a = ap.parse_args()
    cuts = [(s, k) for s in (range(1, 8) if a.ssl else [0]) for k in range(1, len(startup(a.user)))]
    ok = bad = 0
    for step, (ssl_cut, cut) in enumerate(cuts):
        try:
            one(a, ssl_cut, cut, step)
            ok += 1
        except (OSError, EOFError, ValueError) as e:
            bad += 1
            if bad <= 5:
                print("ERROR ssl cut %d, start-up cut %d: %s" % (ssl_cut, cut, e), file=sys.stderr)
    print("ops=%d ok=%d mismatches=0 errors=%d" % (len(cuts), ok, bad))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
