#!/usr/bin/python3
"""objpool benchmark tables (run by bench/run.sh, which starts the servers).

Every timed figure is the median of BENCH_RUNS (default 5, at least 3) runs, the
contenders alternating within each round; first with client, server (and
proxy) pinned to CPU 0 with taskset, then unpinned.  MET/MISSED is judged
on the pinned figure (design.md section 9: unpinned, a cross-CPU wake-up
costs more than the request itself), the unpinned one is shown beside it.
Instruction counts (valgrind --tool=callgrind) and memory are exact and
measured once.  Tables 8 (what a user would see: each workload against the
in-process fix a developer would make) and 9 (the protocol layer: parser ns
per exchange, syscalls per pooled cycle) are pinned only.  Every pooled run's
report is read back: a pooled figure whose runs were not hits is flagged.
"""
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


# --- table 1 ------------------------------------------------------------------

def table_c_loop():
    p = port("ECHOD")
    n = int(os.environ.get("BENCH_C_REQUESTS", "5000"))
    pool = "tcp://127.0.0.1:%d?%s" % (p, ECHO_OPTS)
    loop = [os.path.join(BIN, "reqloop"), "--port", str(p), "--requests", str(n)]
    r = timed_contenders([
        ("new connection per request, without objpool",
         lambda pin: field(run(loop + ["--mode", "new"], pin), "us_per_req")),
        ("new connection per request, with objpool",
         lambda pin: field(run(loop + ["--mode", "new"], pin, pool=pool, hits="t1"), "us_per_req")),
        ("one persistent connection (the limit)",
         lambda pin: field(run(loop + ["--mode", "persistent"], pin), "us_per_req")),
    ])
    names = list(r)
    w, o, lim = (r[k] for k in names)
    rows = [[k, fmt(v["pinned"], 2), fmt(v["unpinned"], 2)] for k, v in r.items()]
    print_table("Table 1: C request/reply loop on loopback (bench/reqloop + bench/echod, %d requests of 32 bytes)" % n,
                "us per request, median of %d alternating runs; pool %s; %s" % (RUNS, pool, hit_note("t1")),
                ["contender", "pinned us", "unpinned us"], rows)
    rr, js = ratio_rows([
        ("objpool speed-up (without / objpool)", w["pinned"] / o["pinned"], w["unpinned"] / o["unpinned"],
         ">=", 2.5, ""),
        ("objpool / persistent (cost over the limit)", o["pinned"] / lim["pinned"],
         o["unpinned"] / lim["unpinned"], "<=", 1.6, ""),
        ("without / persistent", w["pinned"] / lim["pinned"], w["unpinned"] / lim["unpinned"], None, None,
         "before any code: 68.9/14.4 = 4.78"),
    ])
    print_table("Table 1 ratios", None, ["ratio", "pinned", "unpinned", "target", "result"], rr)
    RESULTS["tables"].append({"table": 1, "name": "C request/reply loop", "unit": "us/request",
                              "requests": n, "contenders": r, "ratios": js})
    RESULTS["t1_objpool_us"] = o["pinned"]
    return {"without": lim["pinned"] / w["pinned"], "objpool": lim["pinned"] / o["pinned"], "limit": 1.0}


# --- table 2 ------------------------------------------------------------------

def table_requests():
    np_, hp = port("NGINX"), port("HAPROXY")
    if not np_:
        print("\n== Table 2: requests.get loop == skipped: nginx did not start")
        return None
    n = int(os.environ.get("BENCH_HTTP_REQUESTS", "1000"))
    url = "http://127.0.0.1:%d" % np_
    pool = "tcp://127.0.0.1:%d" % np_
    cli = [PY, os.path.join(TESTPY, "http_loop.py"), "--count", str(n), "--files", "1"]
    per = lambda out: field(out, "elapsed_us") / n
    contenders = [
        ("requests.get(), without objpool", lambda pin: per(run(cli + ["--url", url, "--mode", "requests"], pin))),
        ("requests.get(), with objpool",
         lambda pin: per(run(cli + ["--url", url, "--mode", "requests"], pin, pool=pool, hits="t2"))),
        ("requests.Session (the limit)", lambda pin: per(run(cli + ["--url", url, "--mode", "session"], pin))),
    ]
    if hp:
        contenders.append(("requests.get() through HAProxy (http-reuse always)",
                           lambda pin: per(run(cli + ["--url", "http://127.0.0.1:%d" % hp, "--mode", "requests"], pin))))
    r = timed_contenders(contenders)
    names = list(r)
    lim = r[names[2]]
    rows = [[k, fmt(v["pinned"], 1), fmt(v["unpinned"], 1),
             fmt(lim["pinned"] / v["pinned"], 3), fmt(lim["unpinned"] / v["unpinned"], 3)] for k, v in r.items()]
    print_table("Table 2: requests.get() loop against nginx (%d requests, 1-byte file)" % n,
                "us per request (median of %d alternating runs) and throughput as a fraction of requests.Session; %s"
                % (RUNS, hit_note("t2")),
                ["contender", "pinned us", "unpinned us", "of Session pinned", "unpinned"], rows)
    o = r[names[1]]
    ratios = [("objpool / Session throughput", lim["pinned"] / o["pinned"], lim["unpinned"] / o["unpinned"],
               ">=", 0.88, "")]
    w = r[names[0]]
    ratios.append(("without / Session", lim["pinned"] / w["pinned"], lim["unpinned"] / w["unpinned"], None, None,
                   "before: 0.73"))
    if hp:
        h = r[names[3]]
        ratios.append(("HAProxy / Session", lim["pinned"] / h["pinned"], lim["unpinned"] / h["unpinned"], None, None,
                       "before: 0.58"))
    rr, js = ratio_rows(ratios)
    print_table("Table 2 ratios", "(ceiling 0.895)", ["ratio", "pinned", "unpinned", "target", "result"], rr)
    RESULTS["tables"].append({"table": 2, "name": "requests.get loop", "unit": "us/request",
                              "requests": n, "contenders": r, "ratios": js})
    # table 8 repeats this comparison from these runs, by their best
    RESULTS["t2_session"] = {"without": min(w["runs_pinned"]), "objpool": min(o["runs_pinned"]),
                             "session": min(lim["runs_pinned"])}
    chart = {"without": lim["pinned"] / w["pinned"], "objpool": lim["pinned"] / o["pinned"], "limit": 1.0}
    if hp:
        chart["proxy"] = lim["pinned"] / r[names[3]]["pinned"]
    return chart


# --- table 3 ------------------------------------------------------------------

def table_redis():
    rp, tp = port("REDIS"), port("NUTCRACKER")
    if not rp:
        print("\n== Table 3: redis-py == skipped: redis-server did not start")
        return None
    n = int(os.environ.get("BENCH_REDIS_OPS", "1000"))
    pool = "tcp://127.0.0.1:%d" % rp
    cli = [PY, os.path.join(TESTPY, "redis_loop.py"), "--count", str(n), "--tag", "bench"]
    per = lambda out: field(out, "elapsed_us") / n
    contenders = [
        ("redis.Redis() per command, without objpool",
         lambda pin: per(run(cli + ["--port", str(rp), "--mode", "perop"], pin))),
        ("redis.Redis() per command, with objpool",
         lambda pin: per(run(cli + ["--port", str(rp), "--mode", "perop"], pin, pool=pool, hits="t3"))),
        ("one reused redis.Redis() (the limit)",
         lambda pin: per(run(cli + ["--port", str(rp), "--mode", "reused"], pin))),
    ]
    if tp:
        contenders.append(("redis.Redis() per command through nutcracker",
                           lambda pin: per(run(cli + ["--port", str(tp), "--mode", "perop"], pin))))
    r = timed_contenders(contenders)
    names = list(r)
    lim = r[names[2]]
    rows = [[k, fmt(v["pinned"], 1), fmt(v["unpinned"], 1),
             fmt(lim["pinned"] / v["pinned"], 3), fmt(lim["unpinned"] / v["unpinned"], 3)] for k, v in r.items()]
    print_table("Table 3: redis-py, %d SET+GET pairs (a new client for every command except in the limit)" % n,
                "us per SET+GET pair (median of %d alternating runs) and throughput as a fraction of the reused "
                "client; %s" % (RUNS, hit_note("t3")),
                ["contender", "pinned us", "unpinned us", "of reused pinned", "unpinned"], rows)
    o, w = r[names[1]], r[names[0]]
    ratios = [("objpool / reused client throughput", lim["pinned"] / o["pinned"],
               lim["unpinned"] / o["unpinned"], ">=", 0.35, ""),
              ("without / reused client", lim["pinned"] / w["pinned"], lim["unpinned"] / w["unpinned"],
               None, None, "before: 0.14")]
    if tp:
        t = r[names[3]]
        ratios.append(("nutcracker / reused client", lim["pinned"] / t["pinned"],
                       lim["unpinned"] / t["unpinned"], None, None, ""))
    rr, js = ratio_rows(ratios)
    print_table("Table 3 ratios", "(ceiling 0.375)", ["ratio", "pinned", "unpinned", "target", "result"], rr)
    RESULTS["tables"].append({"table": 3, "name": "redis-py client per operation", "unit": "us/SET+GET",
                              "ops": n, "contenders": r, "ratios": js})
    chart = {"without": lim["pinned"] / w["pinned"], "objpool": lim["pinned"] / o["pinned"], "limit": 1.0}
    if tp:
        chart["proxy"] = lim["pinned"] / r[names[3]]["pinned"]
    return chart


# --- callgrind ------------------------------------------------------------------

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


def table_passthrough():
    if not shutil.which("valgrind"):
        print("\n== Table 4: pass-through cost == skipped: valgrind is not installed")
        return
    # pooling active: one configured target (echod), none of the calls touch it
    pool = "tcp://127.0.0.1:%d" % port("ECHOD")
    n1, n2 = 1000, 3000
    rows, js = [], []
    # the fopen loop also has to fclose: two interposed calls per iteration,
    # so its budget is twice the per-call +10
    for op, label, calls in (("close", "close", 1), ("read", "read", 1), ("write", "write", 1),
                             ("connect", "connect", 1), ("fopen", "fopen + fclose (2 calls)", 2)):
        cmd = lambda n, op=op: [os.path.join(BIN, "passcost"), op, str(n)]
        without = per_call_ir(cmd, n1, n2, toggle="bench_loop")
        with_ = per_call_ir(cmd, n1, n2, toggle="bench_loop", pool=pool)
        d = with_ - without
        limit = 10 * calls
        v = judge(d, "<=", limit)
        rows.append([label, fmt(without, 1), fmt(with_, 1), "%+.1f" % d, "<= +%d" % limit, v])
        js.append({"call": label, "without": without, "with": with_, "added": d,
                   "target": "<= +%d" % limit, "result": v})
    print_table("Table 4: pass-through cost on objects that are not pooled (valgrind --tool=callgrind)",
                "instructions per call inside the loop (incl. libc and the preload), (Ir(%d) - Ir(%d)) / %d; "
                "a pool is configured, the calls never touch it" % (n2, n1, n2 - n1),
                ["call", "without", "with preload", "added", "target", "result"], rows)
    RESULTS["tables"].append({"table": 4, "name": "pass-through cost", "unit": "instructions/call",
                              "rows": js})


# --- table 5 ------------------------------------------------------------------

def table_scale():
    p = port("ECHOD")
    target = "tcp://127.0.0.1:%d" % p
    n = int(os.environ.get("BENCH_C_REQUESTS", "5000"))
    configs = []
    for count in (1, 100, 10000):
        path = os.path.join(DIR, "targets.%d.conf" % count)
        with open(path, "w") as f:
            # the real target last: a linear search would pay for the others
            for i in range(count - 1):
                f.write("pool tcp://127.0.%d.%d:%d\n" % (2 + i // 250, 1 + i % 250, 1000 + i % 50000))
            f.write("pool %s max_size=1100 %s\n" % (target, ECHO_OPTS))
        configs.append(("%d configured target%s" % (count, "s" if count > 1 else ""), path, 0))
    configs.append(("1 target, 1000 idle objects", configs[0][1], 1000))
    loop = lambda idle, n_: [os.path.join(BIN, "reqloop"), "--port", str(p), "--requests", str(n_),
                             "--idle", str(idle)]
    # timed: OBJPOOL_CONFIG instead of OBJPOOL_POOLS
    contenders = [(name, lambda pin, path=path, idle=idle: field(
        run(loop(idle, n), pin, preload=True, extra_env={"OBJPOOL_CONFIG": path}, hits="t5"), "us_per_req"))
        for name, path, idle in configs]
    r = timed_contenders(contenders)
    base = r[configs[0][0]]
    ir = {}
    if shutil.which("valgrind"):
        for name, path, idle in configs:
            ir[name] = per_call_ir(lambda n_, idle=idle: loop(idle, n_) + ["--warmup", "0"], 1000, 3000,
                                   config=path)
    rows, js = [], []
    for name, _, _ in configs:
        v = r[name]
        rp, ru = v["pinned"] / base["pinned"], v["unpinned"] / base["unpinned"]
        i = ir.get(name)
        ri = i / ir[configs[0][0]] if i is not None else None
        verdict = judge(ri if ri is not None else rp, "<=", 1.10)
        rows.append([name, fmt(v["pinned"], 2), fmt(v["unpinned"], 2), fmt(i, 0), fmt(rp, 3), fmt(ru, 3),
                     fmt(ri, 3), "<= 1.10", verdict])
        js.append({"config": name, "pinned_us": v["pinned"], "unpinned_us": v["unpinned"],
                   "instructions_per_cycle": i, "ratio_pinned": rp, "ratio_unpinned": ru,
                   "ratio_instructions": ri, "target": "<= 1.10", "result": verdict,
                   "runs_pinned": v["runs_pinned"], "runs_unpinned": v["runs_unpinned"]})
    print_table("Table 5: scale: one acquire+request+release cycle with objpool (bench/reqloop --mode new, %d cycles)" % n,
                "us per cycle (median of %d alternating runs), user-space instructions per cycle (callgrind, "
                "whole program, (Ir(3000)-Ir(1000))/2000) and ratios to 1 target; MET/MISSED judged on instructions; %s"
                % (RUNS, hit_note("t5")),
                ["configuration", "pinned us", "unpinned us", "instr", "pinned", "unpinned", "instr",
                 "target", "result"], rows)
    RESULTS["tables"].append({"table": 5, "name": "scale", "rows": js})


# --- table 6 ------------------------------------------------------------------

def table_memory():
    p = port("ECHOD")
    rss = os.path.join(BIN, "rss")
    pool = "tcp://127.0.0.1:%d?%s" % (p, ECHO_OPTS)

    def meas(args, pooled, shared):
        vals = []
        for _ in range(RUNS):
            holder = None
            if shared:
                env = dict(os.environ)
                for k in ("LD_PRELOAD", "OBJPOOL_POOLS", "OBJPOOL_CONFIG"):
                    env.pop(k, None)
                if pooled:
                    env.update(LD_PRELOAD=LIB, OBJPOOL_POOLS=pool, OBJPOOL_REPORT=os.devnull)
                holder = subprocess.Popen([rss, "--hold"] + args, env=env, stdout=subprocess.PIPE, text=True)
                holder.stdout.readline()  # measured and holding
            try:
                vals.append(field(run([rss] + args, False, pool=pool if pooled else None), "private_kib"))
            finally:
                if holder:
                    holder.kill()
                    holder.wait()
        return statistics.median(vals)

    rows = []
    for label, args, shared in (
            ("alone, no connection", [], False),
            ("alone, one connection (pooled with the preload)", [str(p)], False),
            ("second instance, no connection", [], True),
            ("second instance, one connection", [str(p)], True)):
        without, with_ = meas(args, False, shared), meas(args, True, shared)
        rows.append([label, fmt(without, 0), fmt(with_, 0), "%+.0f" % (with_ - without), "<= +64",
                     judge(with_ - without, "<=", 64)])
    print_table("Table 6: memory: private RSS (Private_Clean + Private_Dirty, /proc/self/smaps_rollup) of bench/rss",
                "KiB, median of %d runs; with the preload one pool is configured.  'second instance': another "
                "copy of the same program (with/without the preload alike) is alive, so pages of the program and "
                "its libraries are shared, as on a host running many pooled processes" % RUNS,
                ["program", "without KiB", "with KiB", "added", "target", "result"], rows)
    RESULTS["tables"].append({"table": 6, "name": "memory", "unit": "KiB",
                              "rows": [{"case": r[0], "without": float(r[1]), "with": float(r[2]),
                                        "added": float(r[3]), "target": r[4], "result": r[5]} for r in rows]})
    table_memory_maps(rss, p, pool)


def smaps_private(pid):
    """Private KiB of each mapping of a process, by what it maps: a file
    and its permissions, '[heap]', '[stack]', or the anonymous mapping right
    after a file's last one (its .bss), named after that file."""
    out, last_end, last_name = {}, None, None
    with open("/proc/%d/smaps" % pid) as f:
        cur = None
        for line in f:
            head = line.split()
            if len(head) >= 5 and "-" in head[0] and ":" in head[3]:
                start, end = (int(x, 16) for x in head[0].split("-"))
                path = head[5] if len(head) > 5 else ""
                if path:
                    cur = "%s %s" % (os.path.basename(path), head[1])
                    last_name = os.path.basename(path)
                elif last_end == start and last_name:
                    cur = "%s .bss (anonymous)" % last_name
                else:
                    cur = "other anonymous"
                    last_name = None
                last_end = end
                continue
            if head and head[0] in ("Private_Clean:", "Private_Dirty:"):
                out[cur] = out.get(cur, 0) + int(head[1])
    return out


def table_memory_maps(rss, p, pool):
    """Table 6b: where the added pages of a process alone go, by mapping."""
    def maps(pooled):
        env = dict(os.environ)
        for k in ("LD_PRELOAD", "OBJPOOL_POOLS", "OBJPOOL_CONFIG"):
            env.pop(k, None)
        if pooled:
            env.update(LD_PRELOAD=LIB, OBJPOOL_POOLS=pool, OBJPOOL_REPORT=os.devnull)
        proc = subprocess.Popen([rss, "--hold", str(p)], env=env, stdout=subprocess.PIPE, text=True)
        try:
            proc.stdout.readline()
            return smaps_private(proc.pid)
        finally:
            proc.kill()
            proc.wait()
    without, with_ = maps(False), maps(True)
    names = sorted(set(without) | set(with_), key=lambda k: -(with_.get(k, 0) - without.get(k, 0)))
    rows = [[k, str(without.get(k, 0)), str(with_.get(k, 0)), "%+d" % (with_.get(k, 0) - without.get(k, 0))]
            for k in names if with_.get(k, 0) != without.get(k, 0)]
    tw, to = sum(without.values()), sum(with_.values())
    rows.append(["all", str(tw), str(to), "%+d" % (to - tw)])
    print_table("Table 6b: memory by mapping: bench/rss alone with one connection (/proc/PID/smaps)",
                "Private_Clean + Private_Dirty KiB of each mapping, one run; a file's '.bss (anonymous)' is "
                "the zero-filled mapping right after it.  The library's own file pages are private only "
                "while no other process maps them (table 6, 'second instance')",
                ["mapping", "without KiB", "with KiB", "added"], rows)
    RESULTS["tables"].append({"table": "6b", "name": "memory by mapping", "unit": "KiB",
                              "without": without, "with": with_})


# --- table 7 -------------------------------------------------------------------

def table_files():
    """bench/files.sh (make bench-files), its output as it prints it."""
    print()
    print("== Table 7: files (make bench-files) ==")
    sys.stdout.flush()
    make = os.environ.get("MAKE", "make")
    p = subprocess.run(make.split() + ["--no-print-directory", "-C", ROOT, "bench-files",
                                       "BUILD=" + os.environ.get("BUILD", "build")],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
    text = "\n".join(l for l in p.stdout.splitlines() if not l.startswith(("BUILD=", "make")))
    print(text)
    RESULTS["tables"].append({"table": 7, "name": "files", "output": text})
    if p.returncode != 0:
        raise RuntimeError("make bench-files failed (%d)" % p.returncode)


# --- table 8 -------------------------------------------------------------------

LOOPS = os.path.join(ROOT, "bench", "loops.py")
T8 = []  # rows of table 8


def t8_row(what, without, objpool, ref, refname, refdesc, target, hits_key, note=""):
    """refname: the reference in a few words (refdesc says it in full, under
    the table).  target: (kind, op, value): kind "ref" judges objpool /
    reference throughput (reference time / objpool time), "speedup" judges
    without / objpool; None: no target set."""
    share = ref / objpool if ref and objpool else None
    speed = without / objpool if without and objpool else None
    verdict, tgt = "", "none set"
    if target:
        kind, op, val = target
        verdict = judge(share if kind == "ref" else speed, op, val)
        tgt = "%s %s %g" % ("objpool/ref" if kind == "ref" else "speed-up", op, val)
    T8.append({"what": what, "reference": refname, "reference_is": refdesc, "without_us": without,
               "objpool_us": objpool, "reference_us": ref, "objpool_of_reference": share, "speedup": speed,
               "target": tgt, "result": verdict or None, "hits": hit_note(hits_key) if hits_key else None,
               "note": note or None})


def t8_http():
    np_ = port("NGINX")
    if not np_:
        print("\n(table 8: nginx did not start: no HTTP rows)")
        return
    n = int(os.environ.get("BENCH_HTTP_REQUESTS", "1000"))
    pool = "tcp://127.0.0.1:%d" % np_
    cli = [PY, LOOPS, "http", "--port", str(np_), "--count", str(n),
           "--www", os.path.join(DIR, "nginx", "www")]
    per = lambda out: field(out, "us_per_op")
    r = timed_pinned([
        ("without", lambda pin: per(run(cli + ["--how", "get"], pin))),
        ("objpool", lambda pin: per(run(cli + ["--how", "get"], pin, pool=pool, hits="t8http"))),
        ("ref", lambda pin: per(run(cli + ["--how", "ideal"], pin))),
        ("floor", lambda pin: per(run(cli + ["--how", "floor"], pin))),
    ])
    t8_row("requests.get(), nginx, 1 byte", r["without"]["pinned"], r["objpool"]["pinned"],
           r["ref"]["pinned"], "ideal in-process pool",
           "the same requests.get() loop with urllib3's create_connection handing back one socket connected "
           "before the loop, whose close() keeps it: a pool that costs nothing", ("ref", ">=", 0.97), "t8http")
    floor_of_ideal = r["ref"]["pinned"] / r["floor"]["pinned"]
    t8_row("requests.get(), nginx, 1 byte", r["without"]["pinned"], r["objpool"]["pinned"],
           r["floor"]["pinned"], "floor below the program",
           "the ideal pool after the program's own socket work (name resolved, socket object and kernel "
           "socket made, options and timeout set, closed unconnected: what urllib3 does before connect()), "
           "which a pool below the program receives as calls and cannot take away: the most objpool can reach",
           None, "t8http",
           "the floor runs at %.3f of the ideal: the ceiling of objpool/ideal, whatever objpool costs"
           % floor_of_ideal)
    s = RESULTS.get("t2_session")
    if s:
        t8_row("requests.get() (table 2)", s["without"], s["objpool"], s["session"], "requests.Session",
               "one requests.Session for the whole loop (the old row: table 2's pinned runs, here by their "
               "best)",
               ("ref", ">=", 0.88), "t2")


def t8_redis():
    rp = port("REDIS")
    if not rp:
        print("\n(table 8: redis-server did not start: no redis rows)")
        return
    n = int(os.environ.get("BENCH_REDIS_OPS", "1000"))
    pool = "tcp://127.0.0.1:%d" % rp
    cli = [PY, LOOPS, "redis", "--port", str(rp), "--count", str(n)]
    per = lambda out: field(out, "us_per_op")
    r = timed_pinned([
        ("without", lambda pin: per(run(cli + ["--how", "perop"], pin))),
        ("objpool", lambda pin: per(run(cli + ["--how", "perop"], pin, pool=pool, hits="t8redis"))),
        ("ref", lambda pin: per(run(cli + ["--how", "pool"], pin))),
        ("ideal", lambda pin: per(run(cli + ["--how", "ideal"], pin))),
    ])
    what = "redis-py Redis() per command"
    t8_row(what, r["without"]["pinned"], r["objpool"]["pinned"], r["ref"]["pinned"], "shared ConnectionPool",
           "redis.Redis(connection_pool=POOL) per command, one ConnectionPool shared by all: the fix a "
           "developer would make (us per SET+GET pair)", None, "t8redis")
    t8_row(what, r["without"]["pinned"], r["objpool"]["pinned"], r["ideal"]["pinned"], "ideal socket reuse",
           "redis.Redis(host, port) per command with Connection._connect handing back one connected socket: "
           "what a pool that costs nothing leaves (redis-py building its client objects)", None, "t8redis")


def t8_memcache():
    mp = port("MEMCACHED")
    if not mp:
        print("\n(table 8: memcached did not start: no pymemcache row)")
        return
    n = int(os.environ.get("BENCH_MEMCACHE_OPS", "1000"))
    secs = os.environ.get("BENCH_MEMCACHE_SECONDS", "1")
    pool = "tcp://127.0.0.1:%d" % mp
    cli = [PY, LOOPS, "memcache", "--port", str(mp), "--count", str(n), "--max-seconds", secs]
    per = lambda out: field(out, "us_per_op")
    r = timed_pinned([
        ("without", lambda pin: per(run(cli + ["--how", "perop"], pin))),
        ("objpool", lambda pin: per(run(cli + ["--how", "perop"], pin, pool=pool, hits="t8mc"))),
        ("ref", lambda pin: per(run(cli + ["--how", "reused"], pin))),
    ])
    t8_row("pymemcache defaults, Client per op", r["without"]["pinned"], r["objpool"]["pinned"],
           r["ref"]["pinned"], "one reused Client",
           "one pymemcache Client for the whole loop, same defaults (no_delay=False, set with noreply); "
           "us per set+get", ("speedup", ">=", 1.0), "t8mc",
           "each run stops after %s s (a Nagle stall costs about 40 ms per operation)" % secs)


def t8_phpredis():
    rp = port("REDIS")
    php = shutil.which("php")
    if not rp or not php:
        print("\n(table 8: %s: no phpredis row)" % ("php is not installed" if rp else "no redis-server"))
        return
    if "redis" not in subprocess.run([php, "-m"], stdout=subprocess.PIPE, text=True).stdout.split():
        print("\n(table 8: php-redis is not installed: no phpredis row)")
        return
    n = int(os.environ.get("BENCH_PHP_OPS", "2000"))
    pool = "tcp://127.0.0.1:%d" % rp
    cli = lambda how: [php, os.path.join(ROOT, "bench", "phpredis_loop.php"), str(rp), str(n), how]
    per = lambda out: field(out, "us_per_op")
    r = timed_pinned([
        ("without", lambda pin: per(run(cli("new"), pin))),
        ("objpool", lambda pin: per(run(cli("new"), pin, pool=pool, hits="t8php"))),
        ("ref", lambda pin: per(run(cli("pconnect"), pin))),
    ])
    t8_row("phpredis connect/get/close", r["without"]["pinned"], r["objpool"]["pinned"], r["ref"]["pinned"],
           "pconnect()", "new Redis(); pconnect(); get(): phpredis's own persistent connection, kept by the "
           "PHP process (the workload: new Redis(); connect(); get(); close() per request)", None, "t8php")


def t8_ports():
    env = dict(os.environ, REQUESTS=os.environ.get("BENCH_PORT_REQUESTS", "5000"))
    p = subprocess.run([os.path.join(ROOT, "bench", "ports.sh")], env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=300)
    out = p.stdout
    if p.returncode != 0 or "skipped=" in out:
        why = out.split("skipped=", 1)[1].strip() if "skipped=" in out else p.stderr.strip()[-300:]
        print("\n(table 8: port exhaustion row skipped: %s)" % why)
        T8.append({"what": "port exhaustion", "skipped": why})
        return
    cases = {}
    for line in out.splitlines():
        d = dict(re.findall(r'(\w+)=("[^"]*"|\S*)', line))
        cases[d["case"]] = {k: v.strip('"') for k, v in d.items()}
    n = int(env["REQUESTS"])
    w, o = cases["without"], cases["objpool"]
    ok = int(o["ok"]) == n and int(o["errors"]) == 0
    T8.append({"what": "%d connections, 1000 ports" % n,
               "without": "%s/%d ok" % (w["ok"], n), "objpool": "%s/%d ok" % (o["ok"], n),
               "reference": "-", "target": "objpool all ok", "result": "MET" if ok else "MISSED",
               "cases": cases,
               "note": "%d requests, each on a new connection (tagclient, SO_LINGER off), from a network namespace "
                       "whose ephemeral range holds 1000 ports, to a tagserver in another over veth; without "
                       "objpool: %s ok, then \"%s\"; with objpool: %s ok, %s server connection(s)%s"
                       % (n, w["ok"], w["error"] or "no error", o["ok"], o["accepts"],
                          "" if int(w["ok"]) < n else "  !! without objpool did not run out of ports")})


def table_user():
    for fn in (t8_http, t8_redis, t8_memcache, t8_phpredis, t8_ports):
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - report and go on with the other rows
            print("\n!! %s failed: %s" % (fn.__name__, e))
            T8.append({"what": fn.__name__, "failed": str(e)})
    rows = []
    for t in T8:
        if "skipped" in t or "failed" in t:
            rows.append([t["what"], "-", "-", "-", "-", "-", "-", "-", "skipped" if "skipped" in t else "FAILED"])
        elif "cases" in t:
            rows.append([t["what"], "-", t["without"], t["objpool"], "-", "-", "-", t["target"], t["result"]])
        else:
            rows.append([t["what"], t["reference"], fmt(t["without_us"], 1), fmt(t["objpool_us"], 1),
                         fmt(t["reference_us"], 1), fmt(t["objpool_of_reference"], 3), fmt(t["speedup"], 2),
                         t["target"], t["result"] or "-"])
    print_table("Table 8: what a user would see: each workload as written, without and with objpool, against "
                "the in-process fix a developer would make (the reference)",
                "us per operation, best of %d alternating runs, pinned (client and servers on CPU 0); "
                "objpool/ref = reference us / objpool us (objpool's throughput as a share of the reference's); "
                "speed-up = without / objpool" % T8_RUNS,
                ["workload", "reference", "without", "objpool", "reference", "objpool/ref", "speed-up",
                 "target", "result"], rows)
    seen = set()
    for t in T8:
        if t.get("reference_is") and t["reference"] not in seen:
            seen.add(t["reference"])
            print("  %s: %s" % (t["reference"], t["reference_is"]))
    for t in T8:
        extra = [x for x in (t.get("hits"), t.get("note")) if x]
        line = "  %s: %s" % (t["what"], "; ".join(extra))
        if extra and line not in seen:
            seen.add(line)
            print(line)
    RESULTS["tables"].append({"table": 8, "name": "what a user would see", "unit": "us/operation",
                              "rows": T8})


# --- table 9 -------------------------------------------------------------------

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


def table_proto():
    rows, js = [], []
    cycle_us = RESULTS.get("t1_objpool_us")
    out = run([os.path.join(BIN, "protocost")], True)
    for line in out.splitlines():
        d = dict((k, v.strip('"')) for k, v in re.findall(r'(\w+)=("[^"]*"|\S+)', line))
        ns = float(d["ns"])
        share = ns / (cycle_us * 1000) if cycle_us else None
        rows.append([d["proto"], d["exchange"], "%s / %s" % (d["out"], d["in"]), fmt(ns, 1),
                     ("%.1f%%" % (100 * share)) if share is not None else "-"])
        js.append({"proto": d["proto"], "exchange": d["exchange"], "bytes_out": int(d["out"]),
                   "bytes_in": int(d["in"]), "ns": ns, "share_of_pooled_cycle": share})
    print_table("Table 9a: the protocol layer: ns per request/response exchange of each parser (bench/protocost)",
                "out() of the request, in() of the response, verdict() (must be CLEAN), state kept as on a pooled "
                "connection; best of 5 rounds of 200000, pinned; share of one pooled C cycle (table 1, %s us)"
                % fmt(cycle_us, 2),
                ["proto", "exchange", "bytes out / in", "ns", "of a pooled cycle"], rows)
    RESULTS["tables"].append({"table": "9a", "name": "parser cost", "unit": "ns/exchange", "rows": js})

    if not shutil.which("strace"):
        print("\n== Table 9b: syscalls per cycle == skipped: strace is not installed")
        return
    p = port("ECHOD")
    n1, n2 = 1000, 3000
    loop = lambda n: [os.path.join(BIN, "reqloop"), "--port", str(p), "--requests", str(n),
                      "--warmup", "0", "--mode", "new"]
    pool_env = {"LD_PRELOAD": LIB, "OBJPOOL_POOLS": "tcp://127.0.0.1:%d?%s" % (p, ECHO_OPTS),
                "OBJPOOL_REPORT": "none"}
    per = {}
    for key, env in (("without", {}), ("objpool", pool_env)):
        a, b = strace_counts(loop(n1), env), strace_counts(loop(n2), env)
        per[key] = {k: (b.get(k, 0) - a.get(k, 0)) / (n2 - n1) for k in set(a) | set(b)}
        per[key] = {k: v for k, v in per[key].items() if abs(v) >= 0.005}
    names = sorted(set(per["without"]) | set(per["objpool"]),
                   key=lambda k: (-per["objpool"].get(k, 0), k))
    rows = [[k, fmt(per["without"].get(k, 0), 2), fmt(per["objpool"].get(k, 0), 2)] for k in names]
    tw, to = sum(per["without"].values()), sum(per["objpool"].values())
    own = lambda d: d.get("read", 0) + d.get("write", 0)
    rows.append(["all, per cycle", fmt(tw, 2), fmt(to, 2)])
    rows.append(["minus the program's own read and write", fmt(tw - own(per["without"]), 2),
                 fmt(to - own(per["objpool"]), 2)])
    print_table("Table 9b: syscalls per request cycle of bench/reqloop --mode new (strace -c -f)",
                "calls per cycle = (calls(%d cycles) - calls(%d cycles)) / %d, so start-up cancels out; pooled: "
                "tcp://127.0.0.1:PORT?%s" % (n2, n1, n2 - n1, ECHO_OPTS),
                ["syscall", "without objpool", "with objpool"], rows)
    RESULTS["tables"].append({"table": "9b", "name": "syscalls per cycle", "without": per["without"],
                              "objpool": per["objpool"], "total_without": tw, "total_objpool": to,
                              "besides_read_write_without": tw - own(per["without"]),
                              "besides_read_write_objpool": to - own(per["objpool"])})


# --- chart -------------------------------------------------------------------

def chart(data):
    dat = os.path.join(OUT, "bench.dat")
    order = ["without", "objpool", "limit", "proxy"]
    labels = {"without": "without objpool", "objpool": "with objpool",
              "limit": "persistent / Session / reused client (limit)", "proxy": "proxy (HAProxy / nutcracker)"}
    with open(dat, "w") as f:
        f.write("workload " + " ".join('"%s"' % labels[k] for k in order) + "\n")
        for wl, d in data:
            f.write('"%s" ' % wl + " ".join(("%.4f" % d[k]) if k in d else "-" for k in order) + "\n")
    RESULTS["chart_data"] = {wl: d for wl, d in data}
    if not shutil.which("gnuplot"):
        print("\n(gnuplot not installed: no chart)")
        return
    png = os.path.join(OUT, "bench.png")
    script = """
set terminal pngcairo size 900,480 font ",10" noenhanced
set output '%s'
set title "objpool: throughput as a fraction of the persistent-connection limit (pinned, higher is better)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set datafile missing '-'
set yrange [0:1.1]
set xrange [-0.6:2.6]
set grid ytics
set key below horizontal
set ylabel "fraction of the limit"
plot for [i=2:5] '%s' using i:xtic(1) title columnhead(i)
""" % (png, dat)
    try:
        subprocess.run(["gnuplot"], input=script, text=True, check=True, capture_output=True)
    except subprocess.CalledProcessError as e:
        # pngcairo may be missing (gnuplot-nox has it; fall back to png)
        script = script.replace("pngcairo", "png")
        subprocess.run(["gnuplot"], input=script, text=True, check=False)
    if os.path.exists(png):
        print("\nchart: %s" % png)


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
