"""prom_check.py - a strict reader of Prometheus' text exposition format
(0.0.4), and the check that `objpool report --prometheus` says what the
JSON reports say.

    prom_check.py PROM_FILE JSON_FILE...

Fails, naming the line, on anything the format or node_exporter's textfile
collector does not take: bytes that are not UTF-8, no final newline, a
sample before its family's TYPE line or without a HELP line, a family in
two pieces, a second HELP or TYPE, a bad metric or label name, a label
escape other than \\ \" \n, a repeated series, a bad value, a timestamp.
Also Prometheus' naming conventions: the objpool_ prefix, counters (and
only counters) end in _total. Then it sums the JSON reports per target and
program and requires exactly those series with exactly those values.
Prints "ok: N series".
"""
import json
import math
import re
import sys

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}
FLOAT = re.compile(r"[+-]?(Inf|NaN|(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)")


def die(lineno, why, line=""):
    sys.exit("prom_check: line %d: %s: %r" % (lineno, why, line))


def parse_labels(text, lineno, line):
    """text starts after '{'; returns (labels, rest after '}')."""
    labels, i = {}, 0
    while True:
        if text[i:i + 1] == "}":
            return labels, text[i + 1:]
        m = LABEL.match(text, i)
        if not m or text[m.end():m.end() + 2] != '="':
            die(lineno, "bad label", line)
        name, i = m.group(0), m.end() + 2
        if name.startswith("__") or name in labels:
            die(lineno, "reserved or repeated label " + name, line)
        value = []
        while True:
            if i >= len(text):
                die(lineno, "unterminated label value", line)
            c = text[i]
            if c == '"':
                i += 1
                break
            if c == "\\":
                esc = text[i + 1:i + 2]
                if esc not in ('\\', '"', 'n'):
                    die(lineno, "bad escape \\" + esc, line)
                value.append("\n" if esc == "n" else esc)
                i += 2
            elif c == "\n":
                die(lineno, "raw newline in a label value", line)
            else:
                value.append(c)
                i += 1
        labels[name] = "".join(value)
        if text[i:i + 1] == ",":
            i += 1
        elif text[i:i + 1] != "}":
            die(lineno, "expected , or } after a label", line)


def parse(data):
    """Returns {(name, frozenset(labels)): value} and {family: type}."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        sys.exit("prom_check: not UTF-8: %s" % e)
    if not text.endswith("\n"):
        sys.exit("prom_check: the last line has no newline")
    series, types, helps, done, current = {}, {}, set(), set(), None
    for lineno, line in enumerate(text[:-1].split("\n"), 1):
        if not line.strip():
            continue
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                fam = parts[2]
                if not NAME.fullmatch(fam):
                    die(lineno, "bad metric name", line)
                if fam in done or (current and fam != current and fam in types):
                    die(lineno, "family in two pieces", line)
                if current and fam != current:
                    done.add(current)
                current = fam
                if parts[1] == "TYPE":
                    if fam in types or len(parts) != 4 or parts[3] not in TYPES:
                        die(lineno, "second or bad TYPE", line)
                    types[fam] = parts[3]
                else:
                    if fam in helps:
                        die(lineno, "second HELP", line)
                    if re.search(r"\\[^\\n]", parts[3] if len(parts) == 4 else ""):
                        die(lineno, "bad escape in HELP", line)
                    helps.add(fam)
            continue
        m = NAME.match(line)
        if not m:
            die(lineno, "bad metric name", line)
        name, rest = m.group(0), line[m.end():]
        labels = {}
        if rest.startswith("{"):
            labels, rest = parse_labels(rest[1:], lineno, line)
        fields = rest.split()
        if not rest.startswith(" ") or len(fields) != 1:
            die(lineno, "expected one value (no timestamp)", line)
        if not FLOAT.fullmatch(fields[0]):
            die(lineno, "bad value", line)
        if name != current or name not in types:
            die(lineno, "sample outside its family, or before its TYPE", line)
        if name not in helps:
            die(lineno, "family without HELP", line)
        key = (name, frozenset(labels.items()))
        if key in series:
            die(lineno, "repeated series", line)
        series[key] = float(fields[0])
    return series, types


def conventions(types):
    for fam, typ in types.items():
        if not fam.startswith("objpool_"):
            sys.exit("prom_check: %s lacks the objpool_ prefix" % fam)
        if (typ == "counter") != fam.endswith("_total"):
            sys.exit("prom_check: %s is a %s: only counters end in _total" % (fam, typ))


# metric name -> (JSON field, how rows combine, scale)
SUMMED = {
    "objpool_acquired_total": "acquired", "objpool_hits_total": "hits",
    "objpool_misses_total": "misses", "objpool_create_failures_total": "create_failures",
    "objpool_released_total": "released", "objpool_parked_total": "parked",
    "objpool_stale_reuse_errors_total": "stale_reuse_errors",
    "objpool_prewarmed_total": "prewarmed", "objpool_prewarm_failures_total": "prewarm_failed",
    "objpool_idle": "idle",
}
PEAKS = {"objpool_peak_idle": "peak_idle", "objpool_peak_leased": "peak_leased"}


def expected(paths):
    rows, order = {}, []
    for path in paths:
        with open(path, "rb") as f:
            for line_id, raw in enumerate(f):
                if not raw.strip():
                    continue
                rep = json.loads(raw.decode("utf-8", "replace"))
                program = rep.get("program", "")
                seen = set()
                for p in rep["pools"]:
                    key = (p["target"], program)
                    row = rows.setdefault(key, {"reports": 0, "reasons": {}})
                    if key not in order:
                        order.append(key)
                    if key not in seen:
                        row["reports"] += 1
                        seen.add(key)
                    for fam, field in SUMMED.items():
                        row[fam] = row.get(fam, 0) + p.get(field, 0)
                    for fam, field in PEAKS.items():
                        row[fam] = max(row.get(fam, 0), p.get(field, 0))
                    row["saved"] = row.get("saved", 0) + p.get("saved_ms", 0)
                    for reason, n in p.get("discarded", {}).items():
                        row["reasons"][reason] = row["reasons"].get(reason, 0) + n
    want = {}
    for (target, program), row in rows.items():
        labels = {"target": target, "program": program}
        def put(name, value, **extra):
            want[(name, frozenset(dict(labels, **extra).items()))] = float(value)
        put("objpool_reports_total", row["reports"])
        for fam in list(SUMMED) + list(PEAKS):
            put(fam, row[fam])
        put("objpool_saved_seconds_total", row["saved"] / 1000.0)
        for reason, n in row["reasons"].items():
            put("objpool_discarded_total", n, reason=reason)
    return want


def main():
    with open(sys.argv[1], "rb") as f:
        series, types = parse(f.read())
    conventions(types)
    want = expected(sys.argv[2:])
    missing = [k for k in want if k not in series]
    extra = [k for k in series if k not in want]
    wrong = [k for k in want if k in series and not math.isclose(series[k], want[k], rel_tol=1e-6, abs_tol=1e-6)]
    for what, keys in (("missing", missing), ("not in the reports", extra), ("wrong value", wrong)):
        for k in keys[:10]:
            print("prom_check: %s: %s %s = %s (reports: %s)" % (what, k[0], dict(k[1]), series.get(k), want.get(k)))
    if missing or extra or wrong:
        sys.exit(1)
    print("ok: %d series" % len(series))


main()
