# t4_passthrough.py - table 4: the pass-through cost, instructions per call (callgrind).
from tables.common import *  # noqa: F401,F403 - the shared runner, figures and RESULTS


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
