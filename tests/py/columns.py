#!/usr/bin/env python3
"""columns.py FILE TARGET... - read a text table (the exit report's, or
`objpool report`'s) the way a person does: by columns.

The header is the first line whose first word is "target". Each TARGET's row
is the line that starts with it where the header's "target" starts (or, when
the target fills that line alone, the line after it). Every figure of a row
must end in the column where its header ends (right-aligned under it) and
start at least two columns after the end of what is left of it, so no two
figures can run together. Prints one line per target: TARGET then HEAD=VALUE
for each column; exits 1 naming the first figure out of place.
"""
import re
import sys


def tokens(line):
    return [(m.start(), m.end(), m.group()) for m in re.finditer(r"\S+", line)]


def fail(msg):
    print("columns.py: " + msg, file=sys.stderr)
    sys.exit(1)


def main():
    if len(sys.argv) < 3:
        fail("usage: columns.py FILE TARGET...")
    lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
    head_i = next((i for i, l in enumerate(lines) if l.split()[:1] == ["target"]), None)
    if head_i is None:
        fail("no header line (first word 'target')")
    head = tokens(lines[head_i])
    col0 = head[0][0]
    for target in sys.argv[2:]:
        row_i = next((i for i in range(head_i + 1, len(lines))
                      if lines[i][col0:].startswith(target + " ") or lines[i][col0:] == target), None)
        if row_i is None:
            fail("no row for %r" % target)
        row = tokens(lines[row_i])
        if len(row) == 1:  # the target alone on its line: the figures follow
            row = tokens(lines[row_i + 1])
            left = col0
        else:
            left = row[0][1]
            row = row[1:]
        if len(row) != len(head) - 1:
            fail("row of %r has %d figures for %d columns: %r"
                 % (target, len(row), len(head) - 1, [t[2] for t in row]))
        fields = []
        for (start, end, text), (_, hend, htext) in zip(row, head[1:]):
            if end != hend:
                fail("%r: %s figure %r ends in column %d, its header in %d"
                     % (target, htext, text, end, hend))
            if start < left + 2:
                fail("%r: %s figure %r starts %d column(s) after its neighbour"
                     % (target, htext, text, start - left))
            left = end
            fields.append("%s=%s" % (htext, text))
        print(target, " ".join(fields))


main()
