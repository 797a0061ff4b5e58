#!/usr/bin/env python3
# suites.py - the README's table of test suites, made from the suites
# themselves so that it cannot drift: one row per tests/*/*.bats (and
# tests/*.bats), in folder order, saying what the suite's opening comment
# says (its first paragraph, after the #! line).
#
#   suites.py [--write] [ROOT]   ROOT: the repository (default: this file's parent's)
#
# Without --write, checks that README.md's table (between the two marker
# lines below) is the one the suites make: exit 1 and a diff if not. With
# --write, writes it in.
import difflib
import glob
import os
import sys

BEGIN = "<!-- suites: made by tests/suites.py --write from each suite's opening comment -->"
END = "<!-- end of suites -->"


def opening(path):
    """The first paragraph of the suite's opening comment, on one line."""
    words = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f):
            line = line.rstrip("\n")
            if n == 0 and line.startswith("#!"):
                continue
            if not line.startswith("#") or not line[1:].strip():
                break
            words.append(line[1:].strip())
    return " ".join(words).replace("|", "\\|")


def suites(root):
    tests = os.path.join(root, "tests")
    paths = glob.glob(os.path.join(tests, "*.bats")) + glob.glob(os.path.join(tests, "*", "*.bats"))
    return sorted(os.path.relpath(p, tests) for p in paths)


def table(root):
    rows = [BEGIN, "| suite | what it proves |", "| --- | --- |"]
    for rel in suites(root):
        text = opening(os.path.join(root, "tests", rel))
        rows.append("| `%s` | %s |" % (rel, text or "(no opening comment)"))
    rows.append(END)
    return rows


def main(argv):
    write = "--write" in argv
    args = [a for a in argv if a != "--write"]
    root = args[0] if args else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    readme = os.path.join(root, "README.md")
    lines = open(readme, encoding="utf-8").read().split("\n")
    if BEGIN not in lines or END not in lines:
        print("README.md: no suites table (the lines %s ... %s)" % (BEGIN, END))
        return 1
    a, b = lines.index(BEGIN), lines.index(END)
    want = table(root)
    missing = [rel for rel in suites(root) if not opening(os.path.join(root, "tests", rel))]
    for rel in missing:
        print("tests/%s: no opening comment to say what the suite proves" % rel)
    if lines[a:b + 1] == want:
        return 1 if missing else 0
    if write:
        lines[a:b + 1] = want
        with open(readme, "w", encoding="utf-8") as f:
            f.write("\n".join(lines))
        return 1 if missing else 0
    print("README.md: the suites table is not the one the suites make (run tests/suites.py --write):")
    sys.stdout.writelines(difflib.unified_diff([l + "\n" for l in lines[a:b + 1]], [l + "\n" for l in want],
                                               "README.md", "the suites"))
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
