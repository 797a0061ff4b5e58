# t8_user.py - table 8: what a user would see, each workload against the in-process fix.
from tables.common import *  # noqa: F401,F403 - the shared runner, figures and RESULTS


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
