#!/usr/bin/env python3
"""The shape of preload/, checked from the source text (tests/house/layering.bats).

THE RULE, written once: preload/ is in layers, one folder each; a file may
include headers of its own folder or of a lower layer, never of a folder
beside it or above it. The protocol parsers (conn/proto/) include nothing of
objpool outside their own folder but the protocol ids (base/proto_id.h). Every source file opens with a comment that
says what it owns ("/* NAME - ..."), and none is longer than MAX_LINES.
The interposed functions are listed once, in base/real_list.h: every
exported function is named there, and only base/real.c calls dlsym or makes
a raw system call (everything else goes through `real`).

    layers.py [PRELOAD]               check the rules above
    layers.py --interposed [PRELOAD]  print the symbols real_list.h lists
"""
import os
import re
import sys

LAYERS = {
    "base": 1,       # process state, real functions, log, clock, config types
    "core": 2,       # the registry, the generic pool, the discard reasons
    "lease": 3,      # the lease lifecycle, fork and spawn
    "conn": 4,       # the object kinds, with config and report beside them
    "file": 4,
    "tls": 4,        # the trust-store pool (CA bundles parsed once)
    "config": 4,
    "report": 4,
    "interpose": 5,  # the exported interposers, init
}
SEALED = {"conn/proto": {"base/proto_id.h"}}  # folders that include only their own headers and these
MAX_LINES = 500
REAL_LIST = "base/real_list.h"
REAL_ONLY = "base/real.c"  # the one file that may call dlsym or syscall(SYS_...)
BYPASS = re.compile(r"\b(dlsym|syscall)\s*\(\s*(RTLD_NEXT|SYS_)")
EXPORT = re.compile(r"(?<!#define )OBJPOOL_EXPORT\s[^;{(]*?\b(\w+)\s*\(")


def interposed(root):
    """The symbols base/real_list.h names: X(name, "symbol", ...), VIA(symbol, name) and OSSL(symbol)."""
    text = re.sub(r"/\*.*?\*/", "", open(os.path.join(root, REAL_LIST), encoding="utf-8").read(), flags=re.S)
    return (set(re.findall(r'\bX\(\s*\w+,\s*"(\w+)"', text)) | set(re.findall(r"\bVIA\(\s*(\w+),", text)) |
            set(re.findall(r"\bOSSL\(\s*(\w+)\s*\)", text)))


if len(sys.argv) > 1 and sys.argv[1] == "--interposed":
    print("\n".join(sorted(interposed(sys.argv[2] if len(sys.argv) > 2 else "preload"))))
    sys.exit(0)
root = sys.argv[1] if len(sys.argv) > 1 else "preload"
errors = []
listed = interposed(root)
for dirpath, _, files in os.walk(root):
    rel_dir = os.path.relpath(dirpath, root)
    if rel_dir == ".":
        if any(f.endswith((".c", ".h")) for f in files):
            errors.append("%s: source files directly in preload/: each belongs to a layer folder" % root)
        continue
    top = rel_dir.split(os.sep)[0]
    if top not in LAYERS:
        errors.append("%s: folder not in the layer table" % rel_dir)
        continue
    for name in sorted(files):
        if not name.endswith((".c", ".h")):
            continue
        path = os.path.join(dirpath, name)
        text = open(path, encoding="utf-8").read()
        lines = text.splitlines()
        if len(lines) > MAX_LINES:
            errors.append("%s: %d lines (at most %d)" % (path, len(lines), MAX_LINES))
        rel = os.path.relpath(path, root)
        code = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
        if rel != REAL_ONLY and BYPASS.search(code):
            errors.append("%s: calls %s( directly: only %s does, the rest goes through `real`" %
                          (path, BYPASS.search(code).group(1), REAL_ONLY))
        for fn in EXPORT.findall(code):
            if fn not in listed:
                errors.append("%s: exports %s, which %s does not list" % (path, fn, REAL_LIST))
        stem = os.path.splitext(name)[0]
        if not re.match(r"/\* %s\.[ch] - \S" % re.escape(stem), text):
            errors.append("%s: does not open with '/* %s - <what it owns>'" % (path, name))
        for n, line in enumerate(lines, 1):
            m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
            if not m:
                continue
            inc = m.group(1)
            target = os.path.normpath(os.path.join(dirpath, inc))
            if not os.path.exists(target):
                errors.append("%s:%d: %s does not exist" % (path, n, inc))
                continue
            tdir = os.path.relpath(os.path.dirname(target), root)
            if rel_dir in SEALED:
                if tdir != rel_dir and os.path.relpath(target, root) not in SEALED[rel_dir]:
                    errors.append("%s:%d: %s: %s includes only its own headers and %s" % (path, n, inc, rel_dir, ", ".join(sorted(SEALED[rel_dir]))))
                continue
            if tdir == rel_dir or tdir.startswith(rel_dir + os.sep):
                continue
            ttop = tdir.split(os.sep)[0]
            if ttop not in LAYERS:
                errors.append("%s:%d: %s is outside the layers" % (path, n, inc))
            elif LAYERS[ttop] >= LAYERS[top]:
                errors.append("%s:%d: %s (layer %d) includes %s (layer %d): only lower layers" %
                              (path, n, rel_dir, LAYERS[top], tdir, LAYERS[ttop]))
for e in errors:
    print(e)
sys.exit(1 if errors else 0)
