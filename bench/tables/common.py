# common.py - what every bench table shares: the environment bench/run.sh
# exports (ports, pids, paths), the runner that reads each pooled run's
# report back, the medians of alternating runs, the table printer, the
# callgrind and strace counters, and RESULTS (build/bench/results.json).
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.environ["ROOT"]
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"))
LIB = os.environ["LIB"]
OUT = os.environ["BENCH_OUT"]
DIR = os.environ["BENCH_DIR"]
RUNS = max(3, int(os.environ.get("BENCH_RUNS", "5")))
# table 8 takes the best of more runs: its rows compare figures a few percent apart
T8_RUNS = max(3, int(os.environ.get("BENCH_T8_RUNS", str(2 * RUNS - 1))))
PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
NCPU = os.cpu_count() or 1
ALL_CPUS = set(range(NCPU))
BIN = os.path.join(BUILD, "bench")
TESTPY = os.path.join(ROOT, "tests", "py")


def port(name):
    v = os.environ.get(name + "_PORT", "")
    return int(v) if v else None


def pid(name):
    v = os.environ.get(name + "_PID", "")
    return int(v) if v else None


SERVERS = [p for p in (pid(n) for n in ("ECHOD", "NGINX", "HAPROXY", "REDIS", "NUTCRACKER", "MEMCACHED"))
           if p]
# echod speaks a line protocol (a 32-byte line, echoed): proto=auto does not
# detect it, proto=line parks it
ECHO_OPTS = "proto=line"


def set_server_cpus(cpus):
    for p in SERVERS:
        try:
            for tid in os.listdir("/proc/%d/task" % p):
                os.sched_setaffinity(int(tid), cpus)
        except OSError:
            pass


run_seq = 0
# hit ratio of every pooled run, by the key its table gave: a pooled figure
# is believable only if its runs reused connections
HITS = {}


def report_hits(path):
    """(hits, acquired) summed over every pool of every report line."""
    hits = acquired = 0
    try:
        lines = open(path).read().splitlines()
    except OSError:
        return 0, 0
    for line in lines:
        if line.strip():
            for pool in json.loads(line).get("pools", []):
                hits += pool.get("hits", 0)
                acquired += pool.get("acquired", 0)
    return hits, acquired


def hit_note(key):
    """The worst hit ratio of a table's pooled runs.  A run that does not
    pool is near 0; table 5's 1000 idle objects are 1000 misses of 6200."""
    v = HITS.get(key)
    if not v:
        return "no pooled run"
    worst = min(v)
    return "pooled runs: worst hit ratio %.1f%%%s" % (100 * worst, "" if worst >= 0.5 else "  !! NOT POOLING")


def run(cmd, pinned, pool=None, extra_env=None, preload=None, hits=None):
    """Run a client; return its stdout.  pool: OBJPOOL_POOLS with the preload.
    hits: a key of HITS to add this run's hit ratio to."""
    global run_seq
    run_seq += 1
    env = dict(os.environ)
    for k in ("LD_PRELOAD", "OBJPOOL_POOLS", "OBJPOOL_CONFIG"):
        env.pop(k, None)
    report = os.path.join(DIR, "report.%d.json" % run_seq)
    if pool is not None or preload:
        env["LD_PRELOAD"] = LIB
        env["OBJPOOL_REPORT"] = report
        env["OBJPOOL_REPORT_FORMAT"] = "json"
        if pool is not None:
            env["OBJPOOL_POOLS"] = pool
    env.update(extra_env or {})
    if pinned:
        cmd = ["taskset", "-c", "0"] + cmd
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=600)
    if p.returncode != 0:
        raise RuntimeError("%s failed (%d): %s %s" % (" ".join(cmd), p.returncode,
                                                      p.stdout[-500:], p.stderr[-1000:]))
    if hits:
        h, a = report_hits(report)
        HITS.setdefault(hits, []).append(h / a if a else 0.0)
    return p.stdout


def field(out, name):
    m = re.findall(r"\b%s=([0-9.]+)" % name, out)
    if not m:
        raise RuntimeError("no %s= in %r" % (name, out))
    return float(m[-1])


def fmt(v, nd=1):
    if v is None:
        return "-"
    return ("%%.%df" % nd) % v


def judge(value, op, target):
    if value is None:
        return "n/a"
    ok = value >= target if op == ">=" else value <= target
    return "MET" if ok else "MISSED"


def print_table(title, note, head, rows):
    print()
    print("== %s ==" % title)
    if note:
        print(note)
    widths = [max(len(str(r[i])) for r in [head] + rows) for i in range(len(head))]
    line = lambda r: "  ".join(str(c).ljust(widths[i]) if i == 0 else str(c).rjust(widths[i])
                               for i, c in enumerate(r))
    print(line(head))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print(line(r))
    sys.stdout.flush()


def timed_contenders(contenders):
    """contenders: list of (name, fn(pinned) -> microseconds per unit).
    Returns {name: {"pinned": median, "unpinned": median, "runs": {...}}}."""
    res = {name: {"pinned": [], "unpinned": []} for name, _ in contenders}
    for pinned in (True, False):
        set_server_cpus({0} if pinned else ALL_CPUS)
        key = "pinned" if pinned else "unpinned"
        for _ in range(RUNS):
            for name, fn in contenders:
                res[name][key].append(fn(pinned))
    set_server_cpus({0})
    out = {}
    for name, _ in contenders:
        out[name] = {"pinned": statistics.median(res[name]["pinned"]),
                     "unpinned": statistics.median(res[name]["unpinned"]),
                     "runs_pinned": res[name]["pinned"],
                     "runs_unpinned": res[name]["unpinned"]}
    return out


def timed_pinned(contenders):
    """Pinned only (table 8), the contenders alternating: {name: {"pinned":
    best, "median": median, "runs_pinned": [...]}}.  The best run, as
    bench-files does: on a shared machine noise only ever adds time, and
    these rows compare figures a few percent apart."""
    res = {name: [] for name, _ in contenders}
    set_server_cpus({0})
    for _ in range(T8_RUNS):
        for name, fn in contenders:
            res[name].append(fn(True))
    return {name: {"pinned": min(v), "median": statistics.median(v), "runs_pinned": v}
            for name, v in res.items()}


RESULTS = {"tables": []}


def ratio_rows(ratios):
    """ratios: list of (label, pinned, unpinned, op, target, note)."""
    rows, js = [], []
    for label, p, u, op, target, note in ratios:
        verdict = judge(p, op, target) if op else ""
        rows.append([label, fmt(p, 3), fmt(u, 3), ("%s %g" % (op, target)) if op else note, verdict])
        js.append({"ratio": label, "pinned": p, "unpinned": u,
                   "target": ("%s %g" % (op, target)) if op else None, "result": verdict or None,
                   "note": note or None})
    return rows, js


def callgrind_ir(cmd, pool=None, config=None, toggle=None, extra_env=None):
    global run_seq
    run_seq += 1
    outf = os.path.join(DIR, "callgrind.%d.out" % run_seq)
    vg = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + outf]
    if toggle:
        vg.append("--toggle-collect=" + toggle)
    env_extra = dict(extra_env or {})
    preload = pool is not None or config is not None
    if config is not None:
        env_extra["OBJPOOL_CONFIG"] = config
    run(vg + cmd, False, pool=pool, extra_env=env_extra, preload=preload)
    with open(outf) as f:
        for line in f:
            if line.startswith("totals:") or line.startswith("summary:"):
                return int(line.split()[1])
    raise RuntimeError("no totals in " + outf)


def per_call_ir(cmd_for_n, n1, n2, **kw):
    """Instructions per iteration: (Ir(n2) - Ir(n1)) / (n2 - n1), so one-time
    costs (start-up, lazy binding, first-call set-up) cancel out."""
    a = callgrind_ir(cmd_for_n(n1), **kw)
    b = callgrind_ir(cmd_for_n(n2), **kw)
    return (b - a) / (n2 - n1)


def strace_counts(cmd, extra_env):
    """{syscall: calls} of cmd under strace -c -f."""
    global run_seq
    run_seq += 1
    outf = os.path.join(DIR, "strace.%d" % run_seq)
    st = ["strace", "-f", "-c", "-o", outf]
    for k, v in extra_env.items():
        st += ["-E", "%s=%s" % (k, v)]
    run(st + cmd, False)
    counts = {}
    for line in open(outf):
        f = line.split()
        if len(f) >= 5 and f[0][0].isdigit() and f[-1] != "total":
            counts[f[-1]] = int(f[3])
    return counts
