#!/usr/bin/python3
# bench.py - the objpool benchmark tables, run by bench/run.sh (which starts the
# servers); each table is a module of its own in bench/tables/.
#
# Every timed figure is the median of BENCH_RUNS (default 5, at least 3) runs, the
# contenders alternating within each round; first with client, server (and
# proxy) pinned to CPU 0 with taskset, then unpinned.  MET/MISSED is judged
# on the pinned figure (design.md section 9: unpinned, a cross-CPU wake-up
# costs more than the request itself), the unpinned one is shown beside it.
# Instruction counts (valgrind --tool=callgrind) and memory are exact and
# measured once.  Tables 8 (what a user would see: each workload against the
# in-process fix a developer would make) and 9 (the protocol layer: parser ns
# per exchange, syscalls per pooled cycle) are pinned only.  Every pooled run's
# report is read back: a pooled figure whose runs were not hits is flagged.
import json
import os
import platform
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from tables.common import NCPU, OUT, RESULTS, RUNS, T8_RUNS  # noqa: E402
from tables.chart import chart  # noqa: E402
from tables.t1_c_loop import table_c_loop  # noqa: E402
from tables.t2_requests import table_requests  # noqa: E402
from tables.t3_redis import table_redis  # noqa: E402
from tables.t4_passthrough import table_passthrough  # noqa: E402
from tables.t5_scale import table_scale  # noqa: E402
from tables.t6_memory import table_memory  # noqa: E402
from tables.t7_files import table_files  # noqa: E402
from tables.t8_user import table_user  # noqa: E402
from tables.t9_proto import table_proto  # noqa: E402


def loadavg():
    try:
        return " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        return "?"


def machine():
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    debian = ""
    try:
        debian = open("/etc/debian_version").read().strip()
    except OSError:
        pass
    mem = ""
    try:
        mem = open("/proc/meminfo").readline().split(":")[1].strip()
    except OSError:
        pass
    return {"cpu": cpu, "cpus": NCPU, "memory": mem, "kernel": platform.release(), "loadavg_start": loadavg(),
            "nproc": len(os.sched_getaffinity(0)),
            "debian": debian, "python": platform.python_version(),
            "date": time.strftime("%Y-%m-%d %H:%M:%S %z")}


def main():
    t0 = time.time()
    m = machine()
    RESULTS["machine"] = m
    RESULTS["runs"] = RUNS
    print("objpool benchmarks on %s (nproc %d, %s), kernel %s, Debian %s, Python %s, %s"
          % (m["cpu"], m["nproc"], m["memory"], m["kernel"], m["debian"], m["python"], m["date"]))
    print("medians of %d alternating runs (table 8: best of %d); pinned = client and server(s) on CPU 0 "
          "(taskset); MET/MISSED judged on the pinned figure" % (RUNS, T8_RUNS))
    print("load average at the start: %s (a shared machine: every timed figure is noisy)" % loadavg())
    data = []
    failed = False
    # BENCH_ONLY=table_user,table_proto runs only those (while working on one)
    only = [t for t in os.environ.get("BENCH_ONLY", "").split(",") if t]
    for name, fn in (("C request/reply", table_c_loop), ("requests.get", table_requests),
                     ("redis-py client per op", table_redis), (None, table_passthrough),
                     (None, table_scale), (None, table_memory), (None, table_files),
                     (None, table_user), (None, table_proto)):
        if only and fn.__name__ not in only:
            continue
        try:
            d = fn()
        except Exception as e:  # noqa: BLE001 - report and go on with the other tables
            failed = True
            print("\n!! %s failed: %s" % (fn.__name__, e))
            continue
        if name and d:
            data.append((name, d))
    if data:
        chart(data)
    RESULTS["seconds"] = round(time.time() - t0, 1)
    RESULTS["loadavg_end"] = loadavg()
    print("\nload average at the end: %s" % RESULTS["loadavg_end"])
    with open(os.path.join(OUT, "results.json"), "w") as f:
        json.dump(RESULTS, f, indent=1)
    print("\nresults: %s (%.0f s)" % (os.path.join(OUT, "results.json"), time.time() - t0))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
