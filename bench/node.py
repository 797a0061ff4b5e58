#!/usr/bin/env python3
# node.py - the Node table of `make bench`.
"""The Node table of `make bench` (bench/run.sh runs it after bench.py).

Node per-op redis clients (tests/node/redis_loop.js) against redis-server,
pinned to CPU 0 with the server (taskset), contenders alternating, the
median of BENCH_RUNS runs each: a net.Socket per operation and a node-redis
createClient per operation, each without and with objpool, against one
shared node-redis client (what a program that keeps its client would do).
With it, the cost of objpool's syscall() for everyone else
(valgrind --tool=callgrind, bench/passcost.c): a number it passes on and a
routed number on an fd it does not own, with and without the preload.
Writes BENCH_OUT/node.json. Needs node and build/node/node_modules/redis
(tests/run installs it); says so and writes nothing without them.
"""
import json
import os
import re
import shutil
import statistics
import subprocess
import sys

ROOT = os.environ["ROOT"]
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"))
LIB = os.environ["LIB"]
OUT = os.environ["BENCH_OUT"]
DIR = os.environ["BENCH_DIR"]
REDIS_PORT = os.environ.get("REDIS_PORT", "")
REDIS_PID = os.environ.get("REDIS_PID", "")
RUNS = max(3, int(os.environ.get("BENCH_RUNS", "5")))
COUNT = int(os.environ.get("BENCH_NODE_OPS", "500"))
NODE_PATH = os.path.join(ROOT, "build", "node", "node_modules")
LOOP = os.path.join(ROOT, "tests", "node", "redis_loop.js")
seq = 0


def run(args, pooled):
    """One pinned run of redis_loop.js: (us per op, hit ratio or None)."""
    global seq
    seq += 1
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "OBJPOOL_POOLS", "OBJPOOL_CONFIG")}
    env["NODE_PATH"] = NODE_PATH
    report = os.path.join(DIR, "node.report.%d.json" % seq)
    if os.path.exists(report):
        os.unlink(report)  # a report appends: this run's lines only
    if pooled:
        env.update(LD_PRELOAD=LIB, OBJPOOL_POOLS="tcp://127.0.0.1:%s" % REDIS_PORT,
                   OBJPOOL_REPORT=report, OBJPOOL_REPORT_FORMAT="json")
    cmd = ["taskset", "-c", "0", "node", LOOP, "--port", REDIS_PORT, "--count", str(COUNT)] + args
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
    m = re.search(r"ok=(\d+) mismatches=0 errors=0 elapsed_us=(\d+)", p.stdout)
    if p.returncode != 0 or not m or int(m.group(1)) != COUNT:
        raise RuntimeError("%s: %s %s" % (" ".join(cmd), p.stdout[-300:], p.stderr[-500:]))
    hits = None
    if pooled:
        h = a = 0
        for line in open(report):
            for pool in json.loads(line).get("pools", []):
                h += pool["hits"]
                a += pool["acquired"]
        hits = h / a if a else 0.0
    return int(m.group(2)) / COUNT, hits


def pass_cost():
    """Instructions per call of syscall() without and with the preload."""
    vg = shutil.which("valgrind")
    pc = os.path.join(BUILD, "bench", "passcost")
    if not vg or not os.path.exists(pc):
        return []

    def ir(op, n, pooled):
        env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "OBJPOOL_POOLS")}
        if pooled:
            env.update(LD_PRELOAD=LIB, OBJPOOL_POOLS="tcp://127.0.0.1:%s" % (REDIS_PORT or "9"))
        out = os.path.join(DIR, "node.cg.out")
        p = subprocess.run([vg, "--tool=callgrind", "--toggle-collect=bench_loop", "--callgrind-out-file=" + out,
                            pc, op, str(n)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        return int(re.search(r"Collected : (\d+)", p.stderr).group(1))

    rows = []
    for op, label in (("syscall", "syscall(SYS_getppid): passed on"),
                      ("sysread", "syscall(SYS_read): routed, fd not objpool's")):
        per = [(ir(op, 11000, pooled) - ir(op, 1000, pooled)) / 10000.0 for pooled in (False, True)]
        rows.append({"call": label, "without": per[0], "with": per[1], "added": per[1] - per[0]})
    return rows


def table(title, note, head, rows):
    print()
    print("== %s ==" % title)
    print(note)
    w = [max(len(str(r[i])) for r in [head] + rows) for i in range(len(head))]
    for r in [head, ["-" * x for x in w]] + rows:
        print("  ".join(str(c).ljust(w[i]) if i == 0 else str(c).rjust(w[i]) for i, c in enumerate(r)))
    sys.stdout.flush()


def main():
    if not shutil.which("node") or not REDIS_PORT:
        print("\nNode table: no node or no redis-server; skipped")
        return
    if not os.path.exists(os.path.join(NODE_PATH, "redis", "package.json")):
        print("\nNode table: no build/node/node_modules/redis (tests/run installs it); skipped")
        return
    if REDIS_PID:  # the server on CPU 0 with the client (every thread)
        subprocess.run(["taskset", "-a", "-p", "-c", "0", REDIS_PID], stdout=subprocess.DEVNULL)
    contenders = [
        ("net.Socket per op, without objpool", ["--mode", "net"], False),
        ("net.Socket per op, objpool", ["--mode", "net"], True),
        ("node-redis createClient per op, without objpool", ["--mode", "redis"], False),
        ("node-redis createClient per op, objpool", ["--mode", "redis"], True),
        ("node-redis per op, no SETINFO, without objpool", ["--mode", "redis", "--no-client-info"], False),
        ("node-redis per op, no SETINFO, objpool", ["--mode", "redis", "--no-client-info"], True),
        ("one shared node-redis client (the limit)", ["--mode", "shared"], False),
    ]
    us = {c[0]: [] for c in contenders}
    hits = {c[0]: [] for c in contenders}
    for _ in range(RUNS):
        for name, args, pooled in contenders:
            u, h = run(args, pooled)
            us[name].append(u)
            if h is not None:
                hits[name].append(h)
    lim = statistics.median(us[contenders[-1][0]])
    rows, js = [], []
    for name, _, pooled in contenders:
        m = statistics.median(us[name])
        h = statistics.median(hits[name]) if hits[name] else None
        rows.append([name, "%.1f" % m, "%.3f" % (lim / m), "-" if h is None else "%.3f" % h])
        js.append({"contender": name, "us_per_op": m, "of_shared": lim / m, "hit_ratio": h, "runs": us[name]})
    table("Node table: per-op redis clients, pinned (client and redis-server on CPU 0)",
          "%d operations (SET + GET) a run, median of %d runs; 'of shared' = shared client's us / this us"
          % (COUNT, RUNS), ["contender", "us/op", "of shared", "hit ratio"], rows)
    cost = pass_cost()
    if cost:
        table("syscall() for everyone else (valgrind --tool=callgrind, bench/passcost.c)",
              "instructions per call inside the loop, a pool configured, (Ir(11000) - Ir(1000)) / 10000",
              ["call", "without", "with preload", "added"],
              [[c["call"], "%.1f" % c["without"], "%.1f" % c["with"], "%+.1f" % c["added"]] for c in cost])
    with open(os.path.join(OUT, "node.json"), "w") as f:
        json.dump({"node": js, "syscall_cost": cost, "ops": COUNT, "runs": RUNS}, f, indent=1)


if __name__ == "__main__":
    main()
