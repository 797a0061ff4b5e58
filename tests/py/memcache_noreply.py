#!/usr/bin/python3
"""pymemcache with its default no_delay=False, for objpool's tests.

    memcache_noreply.py --port P --count N [--deadline SEC]

Operation i: a new pymemcache Client, set(key_i, value_i, noreply=True),
then get(key_i) on the same client (two small writes in a row, the first
with no answer: the pattern Nagle's algorithm delays on a connection that is
past its quick-ACK start), check the value, close.  The loop stops at
--deadline seconds (default 10), so a run that is too slow ends there with
ok < count instead of running on.

Prints "ops=N ok=N mismatches=N errors=N elapsed_ms=N" on stdout.
Exit 1 on any mismatch, else 2 on any error or a missed deadline, else 0.
"""
import argparse
import os
import sys
import time

from pymemcache.client.base import Client


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--count", type=int, default=500)
    ap.add_argument("--deadline", type=float, default=10.0)
    a = ap.parse_args()
    run = "%d.%d" % (os.getpid(), time.time_ns())
    ok = mismatches = errors = 0
    t0 = time.monotonic()
    for i in range(a.count):
        if time.monotonic() - t0 > a.deadline:
            print("deadline of %.1f s reached after %d operations" % (a.deadline, i), file=sys.stderr)
            break
        key = "nagle_%d" % i
        val = ("%s-%d" % (run, i)).encode()
        c = Client(("127.0.0.1", a.port), timeout=10, connect_timeout=10)
        try:
            c.set(key, val, noreply=True)
            got = c.get(key)
        except Exception as e:  # noqa: BLE001 - every failure is counted
            errors += 1
            if errors <= 5:
                print("ERROR op %d: %s: %s" % (i, type(e).__name__, e), file=sys.stderr)
            continue
        finally:
            c.close()
        if got == val:
            ok += 1
        else:
            mismatches += 1
            if mismatches <= 5:
                print("MISMATCH op %d: expected %r got %r" % (i, val, got), file=sys.stderr)
    elapsed = time.monotonic() - t0
    print("ops=%d ok=%d mismatches=%d errors=%d elapsed_ms=%d"
          % (a.count, ok, mismatches, errors, elapsed * 1000))
    if mismatches:
        return 1
    return 2 if errors or ok != a.count else 0


if __name__ == "__main__":
    sys.exit(main())
