#!/usr/bin/env python3
# house.py - the library's file rules (tests/layers.py) applied to the code
# around it: the command's helper (scripts/tool/), the benchmarks (bench/,
# bench/tables/) and the C test tools (tests/tools/). Each file opens with a
# comment that says what it owns ("/* NAME - ..." in C, "# NAME - ..." in
# Python, after an optional #! line) and none is longer than MAX_LINES.
#
#   house.py [ROOT]      ROOT: the repository (default: this file's parent's)
#
# Prints one line per broken rule, exit 1 if any. tests/house/layering.bats runs
# it, on the tree and on copies with a planted violation; so does
# `make check-static`.
import glob
import os
import re
import sys

MAX_LINES = 500
# the folders under the rules, and the files each holds
GLOBS = ["scripts/tool/*.c", "scripts/tool/*.h",
         "bench/*.c", "bench/*.py", "bench/tables/*.py",
         "tests/tools/*.c", "tests/tools/*.h", "tests/tools/*/*.c", "tests/tools/*/*.h"]


def opening_ok(path, text):
    """Whether the file opens with its own name and what it owns."""
    name = re.escape(os.path.basename(path))
    if path.endswith(".py"):
        if text.startswith("#!"):
            text = text.split("\n", 1)[1] if "\n" in text else ""
        return re.match(r"# %s - \S" % name, text) is not None
    return re.match(r"/\* %s - \S" % name, text) is not None


def check(root):
    errors = []
    files = sorted(set(f for g in GLOBS for f in glob.glob(os.path.join(root, g))))
    if not files:
        errors.append("%s: no files to check: not the repository?" % root)
    for path in files:
        rel = os.path.relpath(path, root)
        text = open(path, encoding="utf-8").read()
        n = len(text.splitlines())
        if n > MAX_LINES:
            errors.append("%s: %d lines (at most %d)" % (rel, n, MAX_LINES))
        if not opening_ok(path, text):
            lead = "#" if path.endswith(".py") else "/*"
            errors.append("%s: does not open with '%s %s - <what it owns>'" %
                          (rel, lead, os.path.basename(path)))
    return errors


if __name__ == "__main__":
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    errs = check(root)
    for e in errs:
        print(e)
    sys.exit(1 if errs else 0)
