#!/usr/bin/python3
"""objpool benchmark tables (run by bench/run.sh, which starts the servers).

Every timed figure is the median of BENCH_RUNS (default 5, at least 3) runs, the
contenders alternating within each round; first with client, server (and
proxy) pinned to CPU 0 with taskset, then unpinned.  MET/MISSED is judged
on the pinned figure (design.md section 9: unpinned, a cross-CPU wake-up
costs more than the request itself), the unpinned one is shown beside it.
Instruction counts (valgrind --tool=callgrind) and memory are exact and
measured once.
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


SERVERS = [p for p in (pid(n) for n in ("ECHOD", "NGINX", "HAPROXY", "REDIS", "NUTCRACKER")) if p]


def set_server_cpus(cpus):
    for p in SERVERS:
        try:
            for tid in os.listdir("/proc/%d/task" % p):
                os.sched_setaffinity(int(tid), cpus)
        except OSError:
            pass


run_seq = 0


def run(cmd, pinned, pool=None, extra_env=None, preload=None):
    """Run a client; return its stdout.  pool: OBJPOOL_POOLS with the preload."""
    global run_seq
    run_seq += 1
    env = dict(os.environ)
    for k in ("LD_PRELOAD", "OBJPOOL_POOLS", "OBJPOOL_CONFIG"):
        env.pop(k, None)
    if pool is not None or preload:
        env["LD_PRELOAD"] = LIB
        env["OBJPOOL_REPORT"] = os.path.join(DIR, "report.%d.json" % run_seq)
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
    pool = "tcp://127.0.0.1:%d" % p
    loop = [os.path.join(BIN, "reqloop"), "--port", str(p), "--requests", str(n)]
    r = timed_contenders([
        ("new connection per request, without objpool",
         lambda pin: field(run(loop + ["--mode", "new"], pin), "us_per_req")),
        ("new connection per request, with objpool",
         lambda pin: field(run(loop + ["--mode", "new"], pin, pool=pool), "us_per_req")),
        ("one persistent connection (the limit)",
         lambda pin: field(run(loop + ["--mode", "persistent"], pin), "us_per_req")),
    ])
    names = list(r)
    w, o, lim = (r[k] for k in names)
    rows = [[k, fmt(v["pinned"], 2), fmt(v["unpinned"], 2)] for k, v in r.items()]
    print_table("Table 1: C request/reply loop on loopback (bench/reqloop + bench/echod, %d requests of 32 bytes)" % n,
                "us per request, median of %d alternating runs" % RUNS,
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
         lambda pin: per(run(cli + ["--url", url, "--mode", "requests"], pin, pool=pool))),
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
                "us per request (median of %d alternating runs) and throughput as a fraction of requests.Session" % RUNS,
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
         lambda pin: per(run(cli + ["--port", str(rp), "--mode", "perop"], pin, pool=pool))),
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
                "us per SET+GET pair (median of %d alternating runs) and throughput as a fraction of the reused client" % RUNS,
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
            f.write("pool %s max_size=1100\n" % target)
        configs.append(("%d configured target%s" % (count, "s" if count > 1 else ""), path, 0))
    configs.append(("1 target, 1000 idle objects", configs[0][1], 1000))
    loop = lambda idle, n_: [os.path.join(BIN, "reqloop"), "--port", str(p), "--requests", str(n_),
                             "--idle", str(idle)]
    # timed: OBJPOOL_CONFIG instead of OBJPOOL_POOLS
    contenders = [(name, lambda pin, path=path, idle=idle: field(
        run(loop(idle, n), pin, preload=True, extra_env={"OBJPOOL_CONFIG": path}), "us_per_req"))
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
                "whole program, (Ir(3000)-Ir(1000))/2000) and ratios to 1 target; MET/MISSED judged on instructions"
                % RUNS,
                ["configuration", "pinned us", "unpinned us", "instr", "pinned", "unpinned", "instr",
                 "target", "result"], rows)
    RESULTS["tables"].append({"table": 5, "name": "scale", "rows": js})


# --- table 6 ------------------------------------------------------------------

def table_memory():
    p = port("ECHOD")
    rss = os.path.join(BIN, "rss")
    pool = "tcp://127.0.0.1:%d" % p

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
    return {"cpu": cpu, "cpus": NCPU, "memory": mem, "kernel": platform.release(),
            "debian": debian, "python": platform.python_version(),
            "date": time.strftime("%Y-%m-%d %H:%M:%S %z")}


def main():
    t0 = time.time()
    m = machine()
    RESULTS["machine"] = m
    RESULTS["runs"] = RUNS
    print("objpool benchmarks on %s (%d CPUs, %s), kernel %s, Debian %s, Python %s, %s"
          % (m["cpu"], m["cpus"], m["memory"], m["kernel"], m["debian"], m["python"], m["date"]))
    print("medians of %d alternating runs; pinned = client and server(s) on CPU 0 (taskset); "
          "MET/MISSED judged on the pinned figure" % RUNS)
    data = []
    failed = False
    for name, fn in (("C request/reply", table_c_loop), ("requests.get", table_requests),
                     ("redis-py client per op", table_redis), (None, table_passthrough),
                     (None, table_scale), (None, table_memory)):
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
    with open(os.path.join(OUT, "results.json"), "w") as f:
        json.dump(RESULTS, f, indent=1)
    print("\nresults: %s (%.0f s)" % (os.path.join(OUT, "results.json"), time.time() - t0))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
