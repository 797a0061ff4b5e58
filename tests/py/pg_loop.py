#!/usr/bin/python3
"""psycopg2 client loop for objpool's PostgreSQL tests and benchmarks.

    pg_loop.py --dsn DSN --count N [--mode perop|reused] [--password PW]
               [--allow-errors]

Operation i runs SELECT %s * 2 with i and checks the answer. perop opens a
new psycopg2 connection for every operation and closes it (libpq's
PQfinish: Terminate, then close); reused keeps one connection (the
persistent limit). --password is added to the DSN.

Prints "ops=N ok=N mismatches=N errors=N elapsed_us=N" on stdout.
Exit 1 on any mismatch, else 2 on any error (unless --allow-errors), else 0.
"""
import argparse
import sys
import time

import psycopg2


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dsn", required=True)
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--mode", default="perop", choices=["perop", "reused"])
    ap.add_argument("--password")
    ap.add_argument("--allow-errors", action="store_true")
    a = ap.parse_args()
    dsn = a.dsn + (" password=%s" % a.password if a.password else "")
    ok = mismatches = errors = 0
    conn = None
    t0 = time.monotonic()
    for i in range(a.count):
        try:
            if conn is None:
                conn = psycopg2.connect(dsn)
                conn.autocommit = True
            cur = conn.cursor()
            cur.execute("SELECT %s * 2", (i,))
            got = cur.fetchone()[0]
            if got == 2 * i:
                ok += 1
            else:
                mismatches += 1
                print("MISMATCH op %d: got %r" % (i, got), file=sys.stderr)
            cur.close()
        except psycopg2.Error as e:
            errors += 1
            if errors <= 5:
                print("ERROR op %d: %s" % (i, str(e).strip()), file=sys.stderr)
            conn = None
        if a.mode == "perop" and conn is not None:
            conn.close()
            conn = None
    elapsed = int((time.monotonic() - t0) * 1e6)
    print("ops=%d ok=%d mismatches=%d errors=%d elapsed_us=%d" % (a.count, ok, mismatches, errors, elapsed))
    if mismatches:
        sys.exit(1)
    if errors and not a.allow_errors:
        sys.exit(2)


if __name__ == "__main__":
    main()
