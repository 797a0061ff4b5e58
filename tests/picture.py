#!/usr/bin/env python3
# picture.py - docs/design.md's picture of preload/ checked against the tree,
# so that it cannot drift from the code.
#
#   picture.py [ROOT]      ROOT: the repository (default: this file's parent's)
#
# The picture is the first code block of design.md's "## The house"; the
# call chains are the code blocks after it in that section. Checked:
#   - design.md opens with the house: "## The house" is its first section;
#   - every file of preload/ is named ("match.c", "spec.h") in its top
#     folder's entry of the picture; a header goes with the .c file of its
#     stem; a file of a subfolder (conn/proto/) is named in the entry of
#     the folder above it;
#   - every file name the picture writes ("registry.c") exists there;
#   - every function a call chain names ("reg_claim", "lease_close(fd, ...)")
#     is defined (or #defined) in preload/, and every path ("conn/acquire.c")
#     exists.
# Prints one line per broken rule, exit 1 if any.
import glob
import os
import re
import sys

IDENT = r"[a-z_][a-z0-9_]*"


def house_blocks(text):
    """(picture, [chain blocks]) of the "## The house" section, and whether
    it is the document's first section."""
    sections = re.split(r"^## ", text, flags=re.M)
    first = sections[1] if len(sections) > 1 else ""
    house = next((s for s in sections[1:] if s.startswith("The house")), None)
    if house is None:
        return None, [], False
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", house, flags=re.M | re.S)
    return (blocks[0] if blocks else None), blocks[1:], first.startswith("The house")


def entries(picture):
    """{folder: the picture's text for it}: an entry starts at a line whose
    first word (after an optional layer number and '|') is FOLDER/."""
    out, cur = {}, None
    for line in picture.splitlines():
        m = re.match(r"\s*(?:\d+\s+)?(?:\|\s+)?([a-z]+)/\s(.*)", line)
        if m and os.path.isdir(os.path.join(ROOT, "preload", m.group(1))):
            cur = m.group(1)
            out[cur] = out.get(cur, "") + " " + m.group(2)
        elif cur:
            out[cur] += " " + line
    return out


def named(text, name):
    """Whether the entry names the file: "name.c", not a word like it."""
    return re.search(r"(?<![\w/.])%s(?![\w/])" % re.escape(name), text) is not None


def defined(name, sources):
    """Whether one of sources (texts) defines or declares the function (or a
    macro) NAME: at the start of a line, after its type and attributes."""
    pat = re.compile(r"^(?:[A-Za-z_][\w \t\*(),]*[\s\*)])?%s\s*\(|^#\s*define\s+%s\b" % (name, name), re.M)
    return any(pat.search(s) for s in sources)


def calls(text):
    """The functions a chain's text names, with their offsets: "name(" not
    reached through a member ("->release(", "real.close"), and snake_case
    words (the chains also name calls without their arguments)."""
    found = {}
    for m in re.finditer(r"(?<![\w.>])(%s)\(" % IDENT, text):
        found.setdefault(m.group(1), m.start())
    for m in re.finditer(r"(?<![\w.>/])(%s_%s)(?![\w(/.])" % (IDENT, IDENT), text):
        found.setdefault(m.group(1), m.start())
    return found


def read(path):
    return open(path, encoding="utf-8").read() if os.path.exists(path) else ""


def check():
    errors = []
    path = os.path.join(ROOT, "docs", "design.md")
    picture, chains, first = house_blocks(open(path, encoding="utf-8").read())
    if picture is None:
        return ["docs/design.md: no picture (a code block under '## The house')"]
    if not first:
        errors.append("docs/design.md: does not open with the picture ('## The house' first)")
    ent = entries(picture)
    pre = os.path.join(ROOT, "preload")
    for top in sorted(os.listdir(pre)):
        if not os.path.isdir(os.path.join(pre, top)):
            continue
        if top not in ent:
            errors.append("docs/design.md: the picture has no entry for preload/%s/" % top)
            continue
        files = []
        for dirpath, _, names in os.walk(os.path.join(pre, top)):
            files += [os.path.join(dirpath, n) for n in names if n.endswith((".c", ".h"))]
        stems_c = {os.path.splitext(f)[0] for f in files if f.endswith(".c")}
        for f in sorted(files):
            rel = os.path.relpath(f, pre)
            if f.endswith(".h") and os.path.splitext(f)[0] in stems_c:
                continue  # the header of a .c file goes with it
            if not named(ent[top], os.path.basename(f)):
                errors.append("docs/design.md: preload/%s is not in the picture (%s/)" % (rel, top))
        basenames = {os.path.basename(f) for f in files}
        for name in sorted(set(re.findall(r"(?<![\w/.])(\w+\.[ch])\b", ent[top]))):
            if name not in basenames:
                errors.append("docs/design.md: the picture names %s in %s/, which has no such file" % (name, top))
    sources = [open(f, encoding="utf-8").read() for f in
               glob.glob(os.path.join(pre, "**", "*.[ch]"), recursive=True)]
    for block in chains:
        for name in sorted(calls(block)):
            if not defined(name, sources):
                errors.append("docs/design.md: a call chain names %s(), which preload/ does not define" % name)
        for rel in sorted(set(re.findall(r"\b([a-z]+(?:/[a-z]+)*/\w+\.[ch])\b", block))):
            if not os.path.exists(os.path.join(pre, rel)):
                errors.append("docs/design.md: a call chain names %s, which does not exist" % rel)
        # a line that names a function and then a file: the file (or its
        # header) is where that function lives
        for line in block.splitlines():
            path = re.search(r"\b([a-z]+/\w+\.c)\b", line)
            if not path:
                continue
            named_calls = [(off, n) for n, off in calls(line[:path.start()]).items()]
            if not named_calls:
                continue
            name = min(named_calls)[1]
            c = os.path.join(pre, path.group(1))
            if defined(name, [read(c), read(c[:-2] + ".h")]) or not defined(name, sources):
                continue
            errors.append("docs/design.md: a call chain puts %s() in %s, which does not define it"
                          % (name, path.group(1)))
    return errors


if __name__ == "__main__":
    ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    errs = check()
    for e in errs:
        print(e)
    sys.exit(1 if errs else 0)
