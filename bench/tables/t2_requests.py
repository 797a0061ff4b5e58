# t2_requests.py - table 2: a requests.get() loop against nginx (and HAProxy, the proxy).
from tables.common import *  # noqa: F401,F403 - the shared runner, figures and RESULTS


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
