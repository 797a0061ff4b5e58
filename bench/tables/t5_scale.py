# t5_scale.py - table 5: scale: idle objects and pools against the cost per call.
from tables.common import *  # noqa: F401,F403 - the shared runner, figures and RESULTS


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
