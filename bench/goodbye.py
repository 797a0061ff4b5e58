#!/usr/bin/python3
# goodbye.py - the goodbye table of make bench (run by bench/run.sh).
"""The goodbye table: urllib.request per request (it asks
for Connection: close) without and with objpool, against http.client on one
kept-alive connection (the floor no per-request client can beat), side by
side against nginx, the client pinned to one CPU and nginx to another.

Run by bench/run.sh after bench.py (NGINX_PORT, LIB, BENCH_OUT, BENCH_DIR
from its environment); alone:
    NGINX_PORT=N LIB=build/libobjpool.so bench/goodbye.py
Every figure is the median of BENCH_RUNS (default 5, at least 3) runs of
GOODBYE_REQUESTS (default 2000) requests for a 1-byte file. Writes
$BENCH_OUT/goodbye.json and prints a Markdown table.
"""
import json
import os
import statistics
import subprocess
import sys

RUNS = max(3, int(os.environ.get("BENCH_RUNS", "5")))
N = int(os.environ.get("GOODBYE_REQUESTS", "2000"))
PORT = os.environ.get("NGINX_PORT")
LIB = os.environ.get("LIB", "build/libobjpool.so")
OUT = os.environ.get("BENCH_OUT", "build/bench")

# The client loop: one request per iteration, its body read whole; prints
# the mean microseconds per request.
LOOP = r'''
import http.client, sys, time, urllib.request
mode, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
url = "http://127.0.0.1:%d/f/0" % port
conn = http.client.HTTPConnection("127.0.0.1", port) if mode == "keepalive" else None
def one():
    if conn:
        conn.request("GET", "/f/0")
        return conn.getresponse().read()
    with urllib.request.urlopen(url) as r:
        return r.read()
for _ in range(50):
    one()
t = time.perf_counter()
for _ in range(n):
    assert len(one()) == 1
print("%.2f" % ((time.perf_counter() - t) * 1e6 / n))
'''

CONTENDERS = [
    ("urllib.request per request, without objpool", "urllib", False),
    ("urllib.request per request, with objpool", "urllib", True),
    ("http.client, one kept-alive connection", "keepalive", False),
]


def run(mode, pooled):
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    if pooled:
        env["LD_PRELOAD"] = os.path.abspath(LIB)
        env["OBJPOOL_POOLS"] = "tcp://127.0.0.1:%s" % PORT
        env["OBJPOOL_REPORT"] = "/dev/null"
    cmd = ["taskset", "-c", "1", sys.executable, "-c", LOOP, mode, PORT, str(N)]
    return float(subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout)


def pin_server():
    """nginx (master and workers, every thread) on CPU 0, the client on 1."""
    pid = os.environ.get("NGINX_PID")
    if not pid:
        return
    kids = subprocess.run(["pgrep", "-P", pid], capture_output=True, text=True).stdout.split()
    for p in [pid] + kids:
        subprocess.run(["taskset", "-a", "-cp", "0", p], capture_output=True)


def main():
    if not PORT:
        print("goodbye table: no nginx (NGINX_PORT unset): skipped")
        return 0
    pin_server()
    # the runs interleaved, so a neighbour's load falls on every contender
    times = [[] for _ in CONTENDERS]
    for _ in range(RUNS):
        for i, (_, mode, pooled) in enumerate(CONTENDERS):
            times[i].append(run(mode, pooled))
    rows = [{"contender": c[0], "us_per_request": statistics.median(t), "runs": t}
            for c, t in zip(CONTENDERS, times)]
    floor = rows[2]["us_per_request"]
    print("\n### Goodbyes: urllib.request (Connection: close) per request, %d requests, median of %d runs"
          % (N, RUNS))
    print("\n| contender | µs per request | × kept-alive http.client |")
    print("| --- | --- | --- |")
    for r in rows:
        print("| %s | %.1f | %.2f |" % (r["contender"], r["us_per_request"], r["us_per_request"] / floor))
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "goodbye.json"), "w") as f:
        json.dump({"requests": N, "runs": RUNS, "rows": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
