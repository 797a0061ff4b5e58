#!/usr/bin/python3
"""A raw MySQL protocol client: the HandshakeResponse split at every byte.

    my_raw.py --unix PATH | --tcp PORT  --user U --password PW --db DB
              [--wrong] [--pipeline] [--half]

For every split point k of the HandshakeResponse41 (mysql_native_password,
no TLS, no connection attributes), one connection reads the server's
greeting and every later answer in reads of 1 to 7 bytes (with a MSG_PEEK
before each), writes the response as two send() calls cut at k, runs
SELECT k * 2, CONNECTION_ID(), USER(), checks the value, that the thread
id the greeting gave is CONNECTION_ID() and the account, and ends with
COM_QUIT and close: the byte stream a driver sends,
cut where a kernel may cut it. Under objpool most of these connections
are reused ones, so the replay's comparison and serving meet every split.
--wrong: after each, the same cut with a wrong password, which must be
refused (an AuthSwitchRequest on the way followed, as drivers do).
--pipeline: after the login, two COM_QUERY in one write before either
answer is read (MariaDB answers them in turn), both answers checked.
--half: each connection ends with a COM_QUERY cut short (a different cut
each time) and close, no COM_QUIT: such a session must never serve the
next connection, whose answers are checked.

Prints "ops=N ok=N mismatches=N errors=N"; exit 1 on any mismatch, 2 on
any error.
"""
import argparse
import hashlib
import socket
import struct
import sys

CAPS = (0x1 | 0x8 | 0x200 | 0x2000 | 0x8000 | 0x80000)  # long password, with db, 4.1, transactions,
#                                                          secure connection, plugin auth
UTF8MB4 = 45


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

    def packet(self):
        head = self.take(4)
        n = head[0] | head[1] << 8 | head[2] << 16
        return head[3], self.take(n)


def packet(seq, body):
    return struct.pack("<I", len(body))[:3] + bytes([seq]) + body


def native(password, scramble):
    h1 = hashlib.sha1(password.encode()).digest()
    h2 = hashlib.sha1(scramble + hashlib.sha1(h1).digest()).digest()
    return bytes(a ^ b for a, b in zip(h1, h2))


def greeting(body):
    """(thread id, 20-byte scramble, plugin) of a protocol 10 greeting."""
    if body[0] != 10:
        raise ValueError("greeting of protocol %d" % body[0])
    at = body.index(b"\0", 1) + 1
    tid = struct.unpack("<I", body[at:at + 4])[0]
    s1 = body[at + 4:at + 12]
    at += 13 + 2 + 1 + 2 + 2
    alen = body[at]
    at += 11
    n2 = max(13, alen - 8)
    s2 = body[at:at + n2 - 1]  # the scramble's rest, its NUL left out
    plugin = body[at + n2:body.index(b"\0", at + n2)]
    return tid, s1 + s2, plugin


def response(a, scramble, password):
    auth = native(password, scramble)
    body = (struct.pack("<IIB", CAPS, 1 << 24, UTF8MB4) + b"\0" * 23 + a.user.encode() + b"\0" +
            bytes([len(auth)]) + auth + a.db.encode() + b"\0" + b"mysql_native_password\0")
    return packet(1, body)


def lenenc(b, at):
    c = b[at]
    if c < 0xfb:
        return c, at + 1
    if c == 0xfb:
        return None, at + 1
    w = {0xfc: 2, 0xfd: 3, 0xfe: 8}[c]
    return int.from_bytes(b[at + 1:at + 1 + w], "little"), at + 1 + w


def query(s, r, sql):
    """The one row of a text query's result, as strings."""
    s.sendall(packet(0, b"\x03" + sql.encode()))
    return read_result(r)


def read_result(r):
    """The one row of the next text result, as strings."""
    _, first = r.packet()
    if first[0] == 0xff:
        raise ValueError("server error: %r" % first)
    ncols, _ = lenenc(first, 0)
    for _ in range(ncols):
        r.packet()
    _, eof = r.packet()
    if eof[0] != 0xfe:
        raise ValueError("no EOF after the column definitions: %r" % eof)
    rows = []
    while True:
        _, p = r.packet()
        if p[0] == 0xfe and len(p) < 9:
            break
        row, at = [], 0
        for _ in range(ncols):
            n, at = lenenc(p, at)
            row.append(None if n is None else p[at:at + n].decode())
            at += n or 0
        rows.append(row)
    if len(rows) != 1:
        raise ValueError("%d rows" % len(rows))
    return rows[0]


def login(s, r, a, cut, password):
    """The greeting read, the response sent cut at `cut`, an AuthSwitchRequest
    followed (mysql_native_password over its scramble): the greeting's thread
    id, or None if the server refused the login."""
    seq, body = r.packet()
    tid, scramble, plugin = greeting(body)
    if seq != 0 or plugin != b"mysql_native_password":
        raise ValueError("greeting seq %d, plugin %r" % (seq, plugin))
    msg = response(a, scramble, password)
    s.send(msg[:cut])
    s.send(msg[cut:])
    seq, ans = r.packet()
    if ans[0] == 0xfe:  # an AuthSwitchRequest: plugin name, then its scramble
        name_end = ans.index(b"\0", 1)
        if ans[1:name_end] != b"mysql_native_password":
            raise ValueError("switched to %r" % ans[1:name_end])
        s.sendall(packet(seq + 1, native(password, ans[name_end + 1:name_end + 21])))
        seq, ans = r.packet()
    if ans[0] == 0xff:
        return None
    if ans[0] != 0:
        raise ValueError("login answered seq %d %r" % (seq, ans[:60]))
    return tid


def one(a, cut, step, password):
    """One connection, its response cut at `cut`: True if the login was
    refused (a wrong password) or every answer is right (the right one)."""
    s = socket.socket(socket.AF_UNIX if a.unix else socket.AF_INET, socket.SOCK_STREAM)
    s.connect(a.unix if a.unix else ("127.0.0.1", a.tcp))
    r = Reader(s, step)
    try:
        tid = login(s, r, a, cut, password)
        if tid is None and password != a.password:
            return True
        if tid is None:
            raise ValueError("the right password refused")
        if a.pipeline:  # two queries in one write, before either answer is read
            s.sendall(packet(0, b"\x03SELECT 7") + packet(0, b"\x03SELECT %d" % cut))
            first, second = read_result(r), read_result(r)
            if first != ["7"] or second != [str(cut)]:
                raise ValueError("pipelined answers %r, %r" % (first, second))
        got = query(s, r, "SELECT %d * 2, CONNECTION_ID(), USER()" % cut)
        if a.half:  # a command cut short, then close: the server waits for the rest
            half = packet(0, b"\x03SELECT 'half written', %d" % cut)
            s.send(half[:1 + cut % (len(half) - 1)])
        else:
            s.send(packet(0, b"\x01"))  # COM_QUIT, whole: a goodbye
    finally:
        s.close()
    want = [str(2 * cut), str(tid)]
    if password != a.password:
        print("MISMATCH cut %d: a wrong password admitted, as %r" % (cut, got), file=sys.stderr)
        return False
    if got[:2] != want or not got[2].startswith(a.user + "@"):
        print("MISMATCH cut %d: got %r, want %r and %s@..." % (cut, got, want, a.user), file=sys.stderr)
        return False
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--unix")
    ap.add_argument("--tcp", type=int)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--wrong", action="store_true")
    ap.add_argument("--pipeline", action="store_true")
    ap.add_argument("--half", action="store_true")
    a = ap.parse_args()
    tries = [(cut, a.password) for cut in range(1, len(response(a, b"\0" * 20, a.password)))]
    if a.wrong:
        tries = [t for cut, _ in tries for t in ((cut, a.password), (cut, a.password[::-1] + "x"))]
    ok = mismatches = errors = 0
    for step, (cut, password) in enumerate(tries):
        try:
            if one(a, cut, step, password):
                ok += 1
            else:
                mismatches += 1
        except (OSError, EOFError, ValueError) as e:
            errors += 1
            if errors <= 5:
                print("ERROR response cut %d, %s password: %s: %s" % (cut, "the right" if password == a.password
                                                                      else "a wrong", type(e).__name__, e),
                      file=sys.stderr)
    print("ops=%d ok=%d mismatches=%d errors=%d" % (len(tries), ok, mismatches, errors))
    sys.exit(1 if mismatches else 2 if errors else 0)


if __name__ == "__main__":
    main()
