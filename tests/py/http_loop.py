#!/usr/bin/python3
"""HTTP client loop for objpool's real-world tests and benchmarks.

    http_loop.py --url http://127.0.0.1:PORT --count N
                 [--mode requests|httpclient|session|urllib|headget] [--files K]
                 [--dump FILE] [--allow-errors]

Request i fetches  URL/f/<i % K>  (files written by gen_files(): file k is
deterministic, sizes from 1 byte to ~200 KB) and checks the body against the
expected bytes, so a reply delivered to the wrong request is a mismatch.

Modes:
  requests    requests.get() per request (no Session): a new connection each
              time, closed when the implicit Session is closed
  httpclient  http.client.HTTPConnection per request, request, read, close
  session     one requests.Session for the whole loop (the persistent limit)
  urllib      urllib.request.urlopen() per request (it asks for
              "Connection: close")
  headget     http.client per request: a HEAD (its Content-Length must be
              the file's size, its body empty), closed, then a GET on a new
              connection; a response whose body was mistaken for the HEAD's
              would be a mismatch

--dump FILE writes one line per response: index, status, headers (sorted;
without Date, and without the hop-by-hop Connection and Keep-Alive, which
describe the connection: nginx says "Connection: close" on the last request
keepalive_requests allows on a connection) and the body's sha256, to compare
a pooled run with a plain one.

Prints "requests=N ok=N mismatches=N errors=N elapsed_us=N" on stdout.
Exit 1 on any mismatch, else 2 on any error (unless --allow-errors), else 0.
"""
import argparse
import hashlib
import http.client
import sys
import time
import urllib.parse
import urllib.request

import requests

SIZES = [1, 17, 100, 512, 1000, 1460, 2048, 4095, 4096, 8191, 10000, 16384,
         30000, 65535, 65536, 100000, 131072, 150001, 200000, 3]


def file_body(k):
    """Deterministic content of file k (also used by the tests to write it)."""
    size = SIZES[k % len(SIZES)]
    head = ("file %d size %d\n" % (k, size)).encode()
    pat = bytes((k * 7 + j) % 251 for j in range(251))
    body = (head + pat * (size // 251 + 1))[:size]
    return body


def gen_files(directory, count):
    import os
    os.makedirs(directory, exist_ok=True)
    for k in range(count):
        with open(os.path.join(directory, str(k)), "wb") as f:
            f.write(file_body(k))


def head_check(u, path, size):
    """HEAD path on its own connection: 200, Content-Length size, no body."""
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    try:
        conn.request("HEAD", path)
        r = conn.getresponse()
        body = r.read()
        if r.status != 200 or r.getheader("Content-Length") != str(size) or body:
            raise ValueError("HEAD %s: status %s, Content-Length %s, %d body bytes"
                             % (path, r.status, r.getheader("Content-Length"), len(body)))
    finally:
        conn.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url")
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--mode", default="requests",
                    choices=["requests", "httpclient", "session", "urllib", "headget"])
    ap.add_argument("--files", type=int, default=20)
    ap.add_argument("--path", default="/f/",
                    help="URL path prefix (default /f/)")
    ap.add_argument("--dump")
    ap.add_argument("--allow-errors", action="store_true")
    ap.add_argument("--gen-files", metavar="DIR",
                    help="write the K test files into DIR and exit")
    a = ap.parse_args()
    if a.gen_files:
        gen_files(a.gen_files, a.files)
        return 0

    base = a.url.rstrip("/")
    u = urllib.parse.urlsplit(base)
    expected = [file_body(k) for k in range(a.files)]
    dump = open(a.dump, "w") if a.dump else None
    session = requests.Session() if a.mode == "session" else None
    ok = mismatches = errors = 0
    t0 = time.perf_counter()
    for i in range(a.count):
        k = i % a.files
        path = "%s%d" % (a.path, k)
        try:
            if a.mode in ("httpclient", "headget"):
                if a.mode == "headget":
                    head_check(u, path, len(expected[k]))
                conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
                conn.request("GET", path)
                r = conn.getresponse()
                status, headers, body = r.status, r.getheaders(), r.read()
                conn.close()
            elif a.mode == "urllib":
                with urllib.request.urlopen(base + path, timeout=10) as r:
                    status, headers, body = r.status, list(r.headers.items()), r.read()
            else:
                getter = session.get if session else requests.get
                r = getter(base + path, timeout=10)
                status, headers, body = r.status_code, list(r.headers.items()), r.content
        except Exception as e:  # noqa: BLE001 - every failure is counted
            errors += 1
            if errors <= 5:
                print("ERROR request %d %s: %s: %s" % (i, path, type(e).__name__, e),
                      file=sys.stderr)
            continue
        if status != 200 or body != expected[k]:
            mismatches += 1
            if mismatches <= 5:
                print("MISMATCH request %d %s: status %s, %d bytes, expected %d"
                      % (i, path, status, len(body), len(expected[k])), file=sys.stderr)
        else:
            ok += 1
        if dump:
            hdrs = sorted((n.lower(), v) for n, v in headers 
                          if n.lower() not in ("date", "connection", "keep-alive"))
            dump.write("%d %s %r %s\n" % (i, status, hdrs, hashlib.sha256(body).hexdigest()))
    elapsed = time.perf_counter() - t0
    if session:
        session.close()
    if dump:
        dump.close()
    print("requests=%d ok=%d mismatches=%d errors=%d elapsed_us=%d"
          % (a.count, ok, mismatches, errors, elapsed * 1e6))
    if mismatches:
        return 1
    if errors and not a.allow_errors:
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
