# t9_proto.py - table 9: the protocol layer: parser ns per exchange, syscalls per pooled cycle.
from tables.common import *  # noqa: F401,F403 - the shared runner, figures and RESULTS


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
