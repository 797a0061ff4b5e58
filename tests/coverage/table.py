#!/usr/bin/python3
"""The coverage matrix's tables and checks (tests/coverage/run calls these).

    table.py report REPORT.json PORT        acquired<TAB>hits<TAB>reasons of one run
    table.py text RESULTS.tsv               the aligned table
    table.py json RESULTS.tsv               the same as JSON
    table.py check RESULTS.tsv EXPECTED.tsv [CLIENTS.tsv]
                                            verdicts against the expected ones
    table.py markdown RESULTS.tsv CLIENTS.tsv EXPECTED.tsv   the README's table
    table.py update-readme RESULTS.tsv CLIENTS.tsv EXPECTED.tsv README.md
                                            markdown's table, between the README's markers
    table.py check-readme README.md EXPECTED.tsv CLIENTS.tsv
                                            the README's table says what EXPECTED.tsv says

A verdict is `pooled` when hits >= 90% of acquired, else `refused(REASON)`:
REASON the discard reason that counted most, `unseen` when objpool saw no
connection at all (no report), `none` when it saw some but discarded none.
"""
import json
import sys

POOLED_SHARE = 0.9
FIELDS = ["name", "language", "server", "n", "plain", "pooled", "conns_plain",
          "conns_pooled", "acquired", "hits", "reasons", "note"]
README_BEGIN = "<!-- coverage table: tests/coverage/run --markdown"
README_END = "<!-- end of coverage table -->"


def tsv_rows(path):
    """The non-comment lines of a TAB-separated file, as lists of fields."""
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.strip() and not line.startswith("#"):
                yield line.split("\t")


def report(path, port):
    """Sum one run's JSON report lines (one per process) for the pool on PORT."""
    acquired = hits = 0
    reasons = {}
    try:
        lines = open(path).read().splitlines()
    except OSError:
        lines = []
    for line in lines:
        if not line.strip():
            continue
        for pool in json.loads(line).get("pools", []):
            if not str(pool.get("target", "")).endswith(":" + port):
                continue
            acquired += pool["acquired"]
            hits += pool["hits"]
            for why, count in pool.get("discarded", {}).items():
                if count:
                    reasons[why] = reasons.get(why, 0) + count
    text = ",".join("%s:%d" % kv for kv in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))
    print("%d\t%d\t%s" % (acquired, hits, text or "-"))


def results(path):
    rows = []
    for f in tsv_rows(path):
        f += [""] * (len(FIELDS) - len(f))
        row = dict(zip(FIELDS, f))
        row["acquired"] = int(row["acquired"] or 0)
        row["hits"] = int(row["hits"] or 0)
        row["values_right"] = row["plain"] == "ok" and row["pooled"] == "ok"
        row["verdict"] = verdict(row)
        rows.append(row)
    return rows


def verdict(row):
    if row["acquired"] == 0:
        return "refused(unseen)"
    if row["hits"] >= POOLED_SHARE * row["acquired"]:
        return "pooled"
    reasons = row["reasons"]
    return "refused(%s)" % (reasons.split(",")[0].split(":")[0] if reasons not in ("", "-") else "none")


def values_text(row):
    if row["values_right"]:
        return "right"
    return "WRONG"


def text(path):
    head = ["client", "language", "server", "n", "values", "verdict", "conns plain",
            "conns objpool", "acquired", "hits", "discarded (reason:count)"]
    body = [[r["name"], r["language"], r["server"], r["n"], values_text(r), r["verdict"],
             r["conns_plain"], r["conns_pooled"], str(r["acquired"]), str(r["hits"]),
             r["reasons"]] for r in results(path)]
    widths = [max(len(x[i]) for x in [head] + body) for i in range(len(head))]
    for line in [head] + body:
        print("  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip())
    for r in results(path):
        for run in ("plain", "pooled"):
            if r[run] != "ok":
                print("%s (%s run): %s" % (r["name"], run, r[run]))
        if r["note"]:
            print("%s: %s" % (r["name"], r["note"]))


def as_json(path):
    out = []
    for r in results(path):
        r = dict(r)
        for k in ("n", "conns_plain", "conns_pooled"):
            r[k] = int(r[k]) if r[k].lstrip("-").isdigit() else None
        r["reasons"] = {k: int(v) for k, v in
                        (p.split(":") for p in r["reasons"].split(",") if ":" in p)}
        out.append(r)
    print(json.dumps({"clients": out}, indent=1))


def expected(path):
    return {f[0]: f[1] for f in tsv_rows(path)}


def server_disagrees(r):
    """What the server counted must agree with the client and the report:
    plain, a connection per operation (else the client reuses its own and
    the row proves nothing); pooled, no more connections than the report's
    misses (else the report counts hits the server never saw)."""
    out = []
    n, plain, pooled = (int(r[k]) if r[k].lstrip("-").isdigit() else -1
                        for k in ("n", "conns_plain", "conns_pooled"))
    if plain < n:
        out.append("%s: %d connections for %d operations without objpool: not a new "
                   "connection per operation" % (r["name"], plain, n))
    if r["verdict"] == "pooled" and pooled > r["acquired"] - r["hits"]:
        out.append("%s: the server saw %d connections under objpool, the report %d misses"
                   % (r["name"], pooled, r["acquired"] - r["hits"]))
    return out


def check(path, expected_path, clients_path=None):
    """Every value right, the server's counts in agreement, every verdict
    the one expected.tsv names; with CLIENTS.tsv (a full run), every client
    measured and in expected.tsv."""
    want = expected(expected_path)
    failures = []
    if clients_path:
        names = [f[0] for f in tsv_rows(clients_path)]
        measured = {r["name"] for r in results(path)}
        failures += ["%s: in clients.tsv, not measured" % n for n in names if n not in measured]
        failures += ["%s: in expected.tsv, not in clients.tsv: remove it" % n
                     for n in want if n not in names]
    for r in results(path):
        name, got = r["name"], r["verdict"]
        if not r["values_right"]:
            failures.append("%s: a value came back wrong or the client failed "
                            "(plain: %s; objpool: %s)" % (name, r["plain"], r["pooled"]))
            continue
        failures += server_disagrees(r)
        exp = want.get(name)
        if exp is None:
            failures.append("%s: not in expected.tsv (measured %s): add it" % (name, got))
        elif exp == "pooled" and got != "pooled":
            failures.append("%s: was pooled, now %s (hits %d of %d acquired): a regression"
                            % (name, got, r["hits"], r["acquired"]))
        elif got == "pooled" and exp != "pooled":
            failures.append("%s: newly pooled (hits %d of %d acquired), expected.tsv says %s: "
                            "update expected.tsv" % (name, r["hits"], r["acquired"], exp))
        elif got != exp:
            failures.append("%s: %s, expected.tsv says %s: update expected.tsv"
                            % (name, got, exp))
    for f in failures:
        print("coverage: FAIL " + f)
    if failures:
        sys.exit(1)
    print("coverage: every value right, every verdict as expected.tsv says")


def update_readme(path, clients_path, expected_path, readme_path):
    """Put markdown()'s table between the README's markers (a full run's)."""
    import contextlib
    import io
    missing = [f[0] for f in tsv_rows(clients_path)
               if f[0] not in {r["name"] for r in results(path)}]
    if missing:
        sys.exit("coverage: %s lacks %s: the README takes a full run's table"
                 % (path, ", ".join(missing)))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        markdown(path, clients_path, expected_path)
    text_ = open(readme_path).read()
    start = text_.find(README_BEGIN)
    end = text_.find(README_END)
    if start < 0 or end < start:
        sys.exit("coverage: no coverage table markers in %s" % readme_path)
    text_ = text_[:start] + out.getvalue().rstrip("\n") + text_[end + len(README_END):]
    with open(readme_path, "w") as f:
        f.write(text_)
    print("coverage: the table of %s is in %s" % (path, readme_path))


def markdown(path, clients_path, expected_path):
    what = {f[0]: f[4] if len(f) > 4 else "" for f in tsv_rows(clients_path)}
    why = {f[0]: f[2] if len(f) > 2 else "" for f in tsv_rows(expected_path)}
    rows = results(path)
    n = rows[0]["n"] if rows else "?"
    print(README_BEGIN + " (n=%s) -->" % n)
    print("| client | language | server | verdict | server connections without / with objpool"
          " | hits / acquired | discarded (reason, count) | why |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        reasons = ", ".join("`%s` %s" % tuple(p.split(":")) for p in r["reasons"].split(",")
                            if ":" in p) or "none"
        if r["acquired"] == 0:
            reasons = "no report"
        verdict_md = r["verdict"] if r["values_right"] else "WRONG VALUES"
        print("| %s | %s | %s | %s | %s / %s | %d / %d | %s | %s |" % (
            what.get(r["name"]) or r["name"], r["language"], r["server"],
            "`%s`" % verdict_md, r["conns_plain"], r["conns_pooled"], r["hits"],
            r["acquired"], reasons, why.get(r["name"], "")))
    print(README_END)


def readme_rows(readme_path):
    """(client words, verdict) of each row of the README's coverage table."""
    text_ = open(readme_path).read()
    start = text_.find(README_BEGIN)
    end = text_.find(README_END)
    if start < 0 or end < start:
        sys.exit("coverage: no coverage table in %s (markers %r ... %r)"
                 % (readme_path, README_BEGIN, README_END))
    rows = []
    for line in text_[start:end].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 4 or cells[0] in ("client", "---"):
            continue
        rows.append((cells[0], cells[3].strip("`")))
    return rows


def check_readme(readme_path, expected_path, clients_path):
    """The README's table names each client of expected.tsv with its verdict."""
    want = expected(expected_path)
    words = {f[4]: f[0] for f in tsv_rows(clients_path) if len(f) > 4}
    seen, failures = set(), []
    for cell, got in readme_rows(readme_path):
        name = words.get(cell, cell)
        seen.add(name)
        if name not in want:
            failures.append("README row %r: no such client in expected.tsv" % cell)
        elif want[name] != got:
            failures.append("README says %s is %s, expected.tsv says %s: regenerate the "
                            "README table (tests/coverage/run --markdown)" % (name, got, want[name]))
    for name in sorted(set(want) - seen):
        failures.append("README table lacks %s (expected.tsv has it)" % name)
    for f in failures:
        print("coverage: FAIL " + f)
    if failures:
        sys.exit(1)
    print("coverage: the README table says what expected.tsv says")


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "report" and len(argv) == 4:
        report(argv[2], argv[3])
    elif cmd == "text" and len(argv) == 3:
        text(argv[2])
    elif cmd == "json" and len(argv) == 3:
        as_json(argv[2])
    elif cmd == "check" and len(argv) in (4, 5):
        check(*argv[2:])
    elif cmd == "markdown" and len(argv) == 5:
        markdown(argv[2], argv[3], argv[4])
    elif cmd == "update-readme" and len(argv) == 6:
        update_readme(*argv[2:])
    elif cmd == "check-readme" and len(argv) == 5:
        check_readme(argv[2], argv[3], argv[4])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
