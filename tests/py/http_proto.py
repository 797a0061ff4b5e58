#!/usr/bin/python3
"""An HTTP/1.1 server and its clients for objpool's protocol tests.

    http_proto.py serve --port-file F --count-file C [--delay-ms D]
        a keep-alive HTTP/1.1 server on a free loopback port (written to F);
        C holds the number of connections accepted.  Paths (TAG is any word):
          /stream/TAG  chunked, three chunks, D ms apart (the headers leave
                       first, on their own)
          /full/TAG    "full TAG\\n" with a Content-Length
          /close/TAG   the same with "Connection: close", yet the server
                       keeps the connection open and serves what follows:
                       only the header says it must not be reused
          /delay/TAG   like /full/, answered 20 ms late
    http_proto.py CLIENT --port P --count N     (clients; each request is a
        new connection, closed after it)
          headers-only  odd requests GET /stream/ on a raw socket, read the
                        status line and headers only and close; even ones
                        read a whole /stream/ response with http.client
          pipeline      odd requests write GET /full/ and GET /delay/ in one
                        send, read the first response only and close; even
                        ones GET /full/ with http.client
          close         GET /close/ with http.client
          full          GET /full/ with http.client
          tls           (--cafile F) a TLS connection per request (python's
                        ssl, certificate verified), GET /tls/<i>, whose body
                        must be "tls /tls/<i>\\n"; closed without close_notify
Every response's body names its request, so a response that reached the
wrong request is a mismatch.  Clients print
"requests=N ok=N mismatches=N errors=N"; exit 1 on a mismatch, else 2 on an
error, else 0.
"""
import argparse
import http.client
import http.server
import os
import socket
import ssl
import sys
import threading
import time


# --- server ---------------------------------------------------------------------------


def write_atomic(path, text):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def stream_chunks(tag):
    return [("part %d of %s\n" % (j, tag)).encode() for j in (1, 2, 3)]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    delay = 0.0015
    lock = threading.Lock()
    conns = 0
    count_file = None

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with Handler.lock:
            Handler.conns += 1
            write_atomic(Handler.count_file, "%d\n" % Handler.conns)

    def log_message(self, *args):
        pass

    def handle(self):
        try:
            super().handle()
        except OSError:
            pass  # the client closed in the middle of a response

    def do_HEAD(self):
        self.do_GET(head=True)

    def do_GET(self, head=False):
        parts = self.path.strip("/").split("/")
        kind, tag = parts[0], "/".join(parts[1:])
        if kind == "stream":
            return self.stream(tag)
        if kind == "delay":
            time.sleep(0.02)
        body = ("full %s\n" % tag).encode()
        self.send_response(200 if kind in ("full", "close", "delay") else 404)
        self.send_header("Content-Length", str(len(body)))
        if kind == "close":
            self.send_header("Connection", "close")
        self.end_headers()
        if not head:
            self.wfile.write(body)
        self.close_connection = False  # serve on, whatever the header said

    def stream(self, tag):
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("X-Tag", tag)
        self.end_headers()
        for chunk in stream_chunks(tag):
            time.sleep(self.delay)
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        time.sleep(self.delay)
        self.wfile.write(b"0\r\n\r\n")


def serve(a):
    Handler.delay = a.delay_ms / 1000.0
    Handler.count_file = a.count_file
    write_atomic(a.count_file, "0\n")
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.handle_error = lambda *args: None
    write_atomic(a.port_file, "%d\n" % srv.server_address[1])
    srv.serve_forever()


# --- clients ------------------------------------------------------------------------------


class Counts:
    requests = ok = mismatches = errors = 0

    def check(self, i, got, want):
        if got == want:
            self.ok += 1
        else:
            self.mismatches += 1
            if self.mismatches <= 5:
                print("MISMATCH request %d: expected %r got %r" % (i, want, got), file=sys.stderr)

    def error(self, i, e):
        self.errors += 1
        if self.errors <= 5:
            print("ERROR request %d: %s: %s" % (i, type(e).__name__, e), file=sys.stderr)


def get(a, path):
    """http.client on a new connection: (status, body, headers)."""
    conn = http.client.HTTPConnection("127.0.0.1", a.port, timeout=5)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.read(), r
    finally:
        conn.close()


def read_head(sock):
    """Status line and headers (and whatever came with them)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        got = sock.recv(65536)
        if not got:
            raise EOFError("EOF in the headers: %r" % buf)
        buf += got
    head, rest = buf.split(b"\r\n\r\n", 1)
    return head.decode("latin-1").split("\r\n"), rest


def header(lines, name):
    for line in lines[1:]:
        k, _, v = line.partition(":")
        if k.strip().lower() == name.lower():
            return v.strip()
    return None


def headers_only(a, i, tag):
    """GET /stream/TAG, read the status line and headers, close."""
    s = socket.create_connection(("127.0.0.1", a.port), timeout=5)
    try:
        s.sendall(b"GET /stream/%s HTTP/1.1\r\nHost: t\r\n\r\n" % tag.encode())
        lines, _ = read_head(s)
        return (lines[0], header(lines, "X-Tag"))
    finally:
        s.close()


def first_of_pipeline(a, i, tag):
    """GET /full/TAG and GET /delay/TAG-second in one write; read the first only."""
    s = socket.create_connection(("127.0.0.1", a.port), timeout=5)
    try:
        s.sendall(b"GET /full/%s HTTP/1.1\r\nHost: t\r\n\r\n"
                  b"GET /delay/%s-second HTTP/1.1\r\nHost: t\r\n\r\n" % (tag.encode(), tag.encode()))
        lines, body = read_head(s)
        n = int(header(lines, "Content-Length"))
        while len(body) < n:
            got = s.recv(n - len(body))
            if not got:
                raise EOFError("EOF in the body")
            body += got
        return body
    finally:
        s.close()


def tls_get(a, ctx, i):
    raw = socket.create_connection(("127.0.0.1", a.port), timeout=5)
    s = ctx.wrap_socket(raw, server_hostname="localhost")
    try:
        s.sendall(b"GET /tls/%d HTTP/1.1\r\nHost: localhost\r\n\r\n" % i)
        lines, body = read_head(s)
        n = int(header(lines, "Content-Length"))
        while len(body) < n:
            got = s.recv(n - len(body))
            if not got:
                raise EOFError("EOF in the body")
            body += got
        return lines[0], body
    finally:
        s.close()  # no unwrap(): no close_notify, the TLS session is simply dropped


def one(a, c, i, ctx):
    tag = "%d-%d" % (os.getpid(), i)
    odd = i % 2 == 1
    if a.what == "headers-only" and odd:
        c.check(i, headers_only(a, i, tag), ("HTTP/1.1 200 OK", tag))
    elif a.what == "headers-only":
        status, body, _ = get(a, "/stream/" + tag)
        c.check(i, (status, body), (200, b"".join(stream_chunks(tag))))
    elif a.what == "pipeline" and odd:
        c.check(i, first_of_pipeline(a, i, tag), ("full %s\n" % tag).encode())
    elif a.what in ("pipeline", "full", "close"):
        kind = "close" if a.what == "close" else "full"
        status, body, _ = get(a, "/%s/%s" % (kind, tag))
        c.check(i, (status, body), (200, ("full %s\n" % tag).encode()))
    elif a.what == "tls":
        c.check(i, tls_get(a, ctx, i), ("HTTP/1.1 200 OK", b"tls /tls/%d\n" % i))


def clients(a):
    ctx = None
    if a.what == "tls":
        ctx = ssl.create_default_context(cafile=a.cafile)
    c = Counts()
    for i in range(a.count):
        c.requests += 1
        try:
            one(a, c, i, ctx)
        except (OSError, EOFError, ValueError, TypeError, http.client.HTTPException) as e:
            c.error(i, e)
    print("requests=%d ok=%d mismatches=%d errors=%d" % (c.requests, c.ok, c.mismatches, c.errors))
    if c.mismatches:
        return 1
    return 2 if c.errors else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["serve", "headers-only", "pipeline", "close", "full", "tls"])
    ap.add_argument("--port", type=int)
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--port-file")
    ap.add_argument("--count-file")
    ap.add_argument("--delay-ms", type=float, default=1.5)
    ap.add_argument("--cafile")
    a = ap.parse_args()
    if a.what == "serve":
        serve(a)
        return 0
    return clients(a)


if __name__ == "__main__":
    sys.exit(main())
