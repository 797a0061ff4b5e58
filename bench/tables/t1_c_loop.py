# t1_c_loop.py - table 1: the C request/reply loop on loopback (bench/reqloop, bench/echod).
from tables.common import *  # noqa: F401,F403 - the shared runner, figures and RESULTS


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
