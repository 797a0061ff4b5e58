#!/usr/bin/env python3
# phpmemc.py - the php-memcached table of `make bench` (run by bench/run.sh).
"""The php-memcached table: a PHP program that makes `new Memcached()`,
addServer, set and get for every operation (libmemcached sends `quit` and
half-closes the connection when the object is destroyed), without and with
objpool, against `new Memcached('persistent_id')` (PHP's own persistent
connection, kept by the PHP process: the limit), side by side against one
memcached, the client and the server (every thread) pinned to CPU 0.

Run by bench/run.sh after bench.py (MEMCACHED_PORT, MEMCACHED_PID, LIB,
BENCH_OUT, BENCH_DIR from its environment); alone:
    MEMCACHED_PORT=N LIB=build/libobjpool.so bench/phpmemc.py
Every figure is the median of BENCH_RUNS (default 5, at least 3) runs,
contenders interleaved, of BENCH_PHPMEMC_OPS (default 500) operations; per
row also memcached's `total_connections` growth over a run and, with
objpool, its hits and acquisitions (OBJPOOL_REPORT_FORMAT=json).
Writes BENCH_OUT/phpmemc.json and prints a table; says so and writes
nothing without php, its memcached extension or a memcached.
"""
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile

RUNS = max(3, int(os.environ.get("BENCH_RUNS", "5")))
COUNT = int(os.environ.get("BENCH_PHPMEMC_OPS", "500"))
PORT = os.environ.get("MEMCACHED_PORT", "")
PID = os.environ.get("MEMCACHED_PID", "")
LIB = os.path.abspath(os.environ.get("LIB", "build/libobjpool.so"))
OUT = os.environ.get("BENCH_OUT", "build/bench")
DIR = os.environ.get("BENCH_DIR") or tempfile.mkdtemp(prefix="objpool-phpmemc.")
seq = 0

# The PHP loop: operation i sets key "phpmemc_<i>" to a value unique to the
# run and reads it back; every value must come back right. "new" destroys
# the object at the end of each operation (unset: libmemcached's quit and
# half-close), "persistent" asks PHP for its persistent connection and adds
# the server only the first time. Prints ok=N bad=N us=N (the loop alone).
LOOP = r'''<?php
[$_, $port, $count, $how] = $argv;
$run = getmypid() . "." . hrtime(true);
$ok = $bad = 0;
$t0 = hrtime(true);
for ($i = 0; $i < (int)$count; $i++) {
    $m = $how === "persistent" ? new Memcached("objpool_bench") : new Memcached();
    if ($how !== "persistent" || !$m->getServerList())
        $m->addServer("127.0.0.1", (int)$port);
    $v = "$run-$i";
    if ($m->set("phpmemc_$i", $v) && $m->get("phpmemc_$i") === $v)
        $ok++;
    else
        $bad++;
    unset($m);
}
printf("ok=%d bad=%d us=%d\n", $ok, $bad, (hrtime(true) - $t0) / 1000);
'''

CONTENDERS = [
    ("new Memcached() per op, without objpool", "new", False),
    ("new Memcached() per op, objpool", "new", True),
    ("new Memcached('persistent_id') (the limit)", "persistent", False),
]


def total_connections():
    """memcached's total_connections, asked over a connection of our own
    (which it counts: the caller subtracts it)."""
    with socket.create_connection(("127.0.0.1", int(PORT)), timeout=10) as s:
        s.sendall(b"stats\r\n")
        buf = b""
        while not buf.endswith(b"END\r\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    m = re.search(rb"STAT total_connections (\d+)", buf)
    return int(m.group(1))


def run(script, how, pooled):
    """One pinned run: (us per op, server connections made, hits, acquired)."""
    global seq
    seq += 1
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "OBJPOOL_POOLS", "OBJPOOL_CONFIG")}
    report = os.path.join(DIR, "phpmemc.report.%d.json" % seq)
    if os.path.exists(report):
        os.unlink(report)  # a report appends: this run's lines only
    if pooled:
        env.update(LD_PRELOAD=LIB, OBJPOOL_POOLS="tcp://127.0.0.1:%s" % PORT,
                   OBJPOOL_REPORT=report, OBJPOOL_REPORT_FORMAT="json")
    before = total_connections()
    cmd = ["taskset", "-c", "0", "php", script, PORT, str(COUNT), how]
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
    m = re.search(r"ok=(\d+) bad=0 us=(\d+)", p.stdout)
    if p.returncode != 0 or not m or int(m.group(1)) != COUNT:
        raise RuntimeError("%s: %s %s" % (" ".join(cmd), p.stdout[-300:], p.stderr[-500:]))
    made = total_connections() - before - 1  # the second stats connection
    hits = acquired = None
    if pooled:
        hits = acquired = 0
        for line in open(report):
            for pool in json.loads(line).get("pools", []):
                hits += pool["hits"]
                acquired += pool["acquired"]
    return int(m.group(2)) / COUNT, made, hits, acquired


def usable():
    """Why the table cannot run here, or None."""
    if not PORT:
        return "no memcached (MEMCACHED_PORT unset)"
    if not shutil.which("php") or not shutil.which("taskset"):
        return "no php or no taskset"
    mods = subprocess.run(["php", "-m"], stdout=subprocess.PIPE, text=True).stdout.split()
    if "memcached" not in mods:
        return "php has no memcached extension (php-memcached)"
    return None


def main():
    why = usable()
    if why:
        print("\nphp-memcached table: %s; skipped" % why)
        return 0
    if PID:  # the server on CPU 0 with the client (every thread)
        subprocess.run(["taskset", "-a", "-p", "-c", "0", PID], stdout=subprocess.DEVNULL)
    script = os.path.join(DIR, "phpmemc_loop.php")
    with open(script, "w") as f:
        f.write(LOOP)
    res = {c[0]: [] for c in CONTENDERS}
    for _ in range(RUNS):  # interleaved: a neighbour's load falls on every contender
        for name, how, pooled in CONTENDERS:
            res[name].append(run(script, how, pooled))
    rows = []
    for name, _, pooled in CONTENDERS:
        r = res[name]
        rows.append({"contender": name, "us_per_op": statistics.median(x[0] for x in r),
                     "runs": [x[0] for x in r],
                     "server_connections": statistics.median(x[1] for x in r),
                     "hits": statistics.median(x[2] for x in r) if pooled else None,
                     "acquired": statistics.median(x[3] for x in r) if pooled else None})
    print("\n== php-memcached per op against new Memcached('persistent_id'), pinned (CPU 0) ==")
    print("%d operations (new + addServer + set + get) a run, median of %d interleaved runs" % (COUNT, RUNS))
    print("| contender | µs per op | memcached total_connections growth | objpool hits / acquired |")
    print("| --- | --- | --- | --- |")
    for r in rows:
        h = "-" if r["hits"] is None else "%d / %d" % (r["hits"], r["acquired"])
        print("| %s | %.1f | %d | %s |" % (r["contender"], r["us_per_op"], r["server_connections"], h))
    sys.stdout.flush()
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "phpmemc.json"), "w") as f:
        json.dump({"ops": COUNT, "runs": RUNS, "rows": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
