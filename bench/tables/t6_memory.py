# t6_memory.py - table 6: memory, and 6b: memory by mapping.
from tables.common import *  # noqa: F401,F403 - the shared runner, figures and RESULTS


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
