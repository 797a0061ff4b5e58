"""man_tables.py - the man pages list every pool option and every discard
reason the code has, and no other.

    man_tables.py REPO_ROOT

The code's lists are read from the source text, so that this follows the
code when it changes:
  options  the strings of opt_names[] in preload/config/options.c (the key table);
  reasons  report_reasons[] in preload/core/reasons.c (what the report writes),
           each constant named through reasons.c's preload_reason_names[]
           or preload/core/pool.c's discard_names[].
The pages' lists: the tags (the line after each .TP) of
  objpool.conf.5, section POOL OPTIONS, and objpool.1, DISCARD REASONS.
Prints every difference, both ways; exit 1 if there is one.
"""
import re
import sys


def read(root, path):
    with open("%s/%s" % (root, path), encoding="utf-8") as f:
        return f.read()


def block(text, pattern, what):
    m = re.search(pattern + r"\s*=\s*\{(.*?)\};", text, re.S)
    if not m:
        sys.exit("man_tables: cannot find %s in the source" % what)
    return re.sub(r"/\*.*?\*/", "", m.group(1), flags=re.S)


def code_options(root):
    body = block(read(root, "preload/config/options.c"), r"opt_names\[[A-Z_]*\]", "opt_names[]")
    return re.findall(r'"([a-z_0-9]+)"', body)


def code_reasons(root):
    report = read(root, "preload/core/reasons.c")
    names = dict(re.findall(r"\[\s*(REASON_[A-Z_0-9]+)\s*-\s*OBJPOOL_DISCARD_USER\s*\]\s*=\s*\"([a-z_0-9]+)\"",
                            block(report, r"preload_reason_names\[[A-Z_ -]*\]", "preload_reason_names[]")))
    names.update(re.findall(r"\[\s*(OBJPOOL_DISCARD_[A-Z_0-9]+)\s*\]\s*=\s*\"([a-z_0-9]+)\"",
                            block(read(root, "preload/core/pool.c"), r"discard_names\[[A-Z_]*\]", "discard_names[]")))
    out = []
    for const in re.findall(r"[A-Z][A-Z_0-9]+", block(report, r"report_reasons\[\]", "report_reasons[]")):
        if const not in names:
            sys.exit("man_tables: report_reasons[] has %s, which no name table names" % const)
        out.append(names[const])
    return out


def man_tags(root, page, section):
    lines = read(root, page).splitlines()
    try:
        start = lines.index('.SH "%s"' % section) if '.SH "%s"' % section in lines else lines.index(".SH " + section)
    except ValueError:
        sys.exit("man_tables: %s has no section %s" % (page, section))
    tags = []
    for i in range(start + 1, len(lines)):
        if lines[i].startswith(".SH"):
            break
        if lines[i] == ".TP" and i + 1 < len(lines):
            words = lines[i + 1].split()
            if len(words) < 2 or words[0] not in (".B", ".BR", ".BI"):
                sys.exit("man_tables: %s: a tag that is not .B NAME: %r" % (page, lines[i + 1]))
            tags.append(words[1])
    return tags


def compare(what, code, page, man):
    bad = 0
    for name in code:
        if name not in man:
            print("man_tables: %s %s is in the code but not in %s" % (what, name, page))
            bad = 1
    for name in man:
        if name not in code:
            print("man_tables: %s %s is in %s but not in the code" % (what, name, page))
            bad = 1
    return bad


def main():
    root = sys.argv[1]
    options, reasons = code_options(root), code_reasons(root)
    if len(options) < 5 or len(reasons) < 5:
        sys.exit("man_tables: read too few names from the code: %r %r" % (options, reasons))
    bad = compare("option", options, "man/objpool.conf.5", man_tags(root, "man/objpool.conf.5", "POOL OPTIONS"))
    bad |= compare("reason", reasons, "man/objpool.1", man_tags(root, "man/objpool.1", "DISCARD REASONS"))
    if bad:
        sys.exit(1)
    print("ok: %d options, %d reasons" % (len(options), len(reasons)))


main()
