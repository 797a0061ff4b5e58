#!/usr/bin/python3
"""pymemcache client loop for objpool's real-world tests.

    memcache_loop.py --port P --count N [--mode perop|reused] [--allow-errors]

Operation i sets key "<tag>_<i>" to a value unique to the run and i with a
new pymemcache Client (closed after use), then gets it with another new
Client and checks the value.  --mode reused uses one Client throughout.

Prints "ops=N ok=N mismatches=N errors=N elapsed_us=N" on stdout.
Exit 1 on any mismatch, else 2 on any error (unless --allow-errors), else 0.
"""
import argparse
import os
import sys
import time

from pymemcache.client.base import Client


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--mode", default="perop", choices=["perop", "reused"])
    ap.add_argument("--tag", default="objpool")
    ap.add_argument("--allow-errors", action="store_true")
    a = ap.parse_args()
    run = "%d.%d" % (os.getpid(), time.time_ns())
    server = (a.host, a.port)
    reused = Client(server, timeout=10, connect_timeout=10) if a.mode == "reused" else None
    ok = mismatches = errors = 0
    t0 = time.perf_counter()
    for i in range(a.count):
        key = "%s_%d" % (a.tag, i)
        val = (("%s-%d-" % (run, i)) * (1 + i % 9)).encode()
        try:
            if reused:
                reused.set(key, val, noreply=False)
                got = reused.get(key)
            else:
                c = Client(server, timeout=10, connect_timeout=10)
                try:
                    c.set(key, val, noreply=False)
                finally:
                    c.close()
                c = Client(server, timeout=10, connect_timeout=10)
                try:
                    got = c.get(key)
                finally:
                    c.close()
        except Exception as e:  # noqa: BLE001 - every failure is counted
            errors += 1
            if errors <= 5:
                print("ERROR op %d: %s: %s" % (i, type(e).__name__, e), file=sys.stderr)
            continue
        if got == val:
            ok += 1
        else:
            mismatches += 1
            if mismatches <= 5:
                print("MISMATCH op %d: expected %r got %r" % (i, val, got), file=sys.stderr)
    elapsed = time.perf_counter() - t0
    print("ops=%d ok=%d mismatches=%d errors=%d elapsed_us=%d"
          % (a.count, ok, mismatches, errors, elapsed * 1e6))
    if mismatches:
        return 1
    if errors and not a.allow_errors:
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
