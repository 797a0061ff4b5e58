# t3_redis.py - table 3: a redis-py client per operation (and nutcracker, the proxy).
from tables.common import *  # noqa: F401,F403 - the shared runner, figures and RESULTS


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
