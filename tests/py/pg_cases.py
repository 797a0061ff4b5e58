#!/usr/bin/python3
"""psycopg2 cases for objpool's PostgreSQL tests: what a pool must never
change about a login or a session.

    pg_cases.py auth --dsn DSN --count N
        N rounds of: connect with the right password (must work), with a
        wrong one and with none (each must fail with the server's error).
    pg_cases.py refused --dsn DSN --count N
        N connects that must each fail (a NOLOGIN role, say).
    pg_cases.py cancel --dsn DSN --count N
        N rounds of: connect, run pg_sleep(5), cancel it from another
        thread after 0.2 s; the query must fail as canceled, within 2 s.

DSN has no password; auth appends password=pw1 / password=wrong.
Prints "ops=N ok=N mismatches=N errors=N" on stdout; exits 1 on any
mismatch (a login admitted that must not be, a cancel that missed),
2 on any other error.
"""
import argparse
import sys
import threading
import time

import psycopg2
import psycopg2.errors


class Counts:
    ok = mismatches = errors = 0

    def bad(self, what):
        self.mismatches += 1
        if self.mismatches <= 5:
            print("MISMATCH %s" % what, file=sys.stderr)

    def err(self, what):
        self.errors += 1
        if self.errors <= 5:
            print("ERROR %s" % what, file=sys.stderr)


def query(dsn):
    conn = psycopg2.connect(dsn)
    try:
        cur = conn.cursor()
        cur.execute("SELECT current_user")
        return cur.fetchone()[0]
    finally:
        conn.close()


def must_fail(c, dsn, i, what):
    try:
        user = query(dsn)
        c.bad("round %d: %s admitted as %s" % (i, what, user))
    except psycopg2.OperationalError:
        c.ok += 1


def auth(a, c):
    for i in range(a.count):
        try:
            query(a.dsn + " password=pw1")
            c.ok += 1
        except psycopg2.Error as e:
            c.err("round %d: right password: %s" % (i, str(e).strip()))
        must_fail(c, a.dsn + " password=wrong", i, "wrong password")
        must_fail(c, a.dsn, i, "no password")


def refused(a, c):
    for i in range(a.count):
        must_fail(c, a.dsn, i, "refused role")


def cancel(a, c):
    for i in range(a.count):
        conn = psycopg2.connect(a.dsn)
        t = threading.Timer(0.2, conn.cancel)
        t0 = time.monotonic()
        t.start()
        try:
            conn.cursor().execute("SELECT pg_sleep(5)")
            c.bad("round %d: pg_sleep(5) was not canceled" % i)
        except psycopg2.errors.QueryCanceled:
            if time.monotonic() - t0 < 2:
                c.ok += 1
            else:
                c.bad("round %d: canceled late" % i)
        except psycopg2.Error as e:
            c.err("round %d: %s" % (i, str(e).strip()))
        t.join()
        conn.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("case", choices=["auth", "refused", "cancel"])
    ap.add_argument("--dsn", required=True)
    ap.add_argument("--count", type=int, default=10)
    a = ap.parse_args()
    c = Counts()
    globals()[a.case](a, c)
    print("ops=%d ok=%d mismatches=%d errors=%d" % (a.count, c.ok, c.mismatches, c.errors))
    if c.mismatches:
        sys.exit(1)
    if c.errors:
        sys.exit(2)


if __name__ == "__main__":
    main()
