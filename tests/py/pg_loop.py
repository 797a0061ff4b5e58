#!/usr/bin/python3
"""psycopg2 client loop for objpool's PostgreSQL tests and benchmarks.

    pg_loop.py --dsn DSN --count N [--mode perop|reused] [--password PW]
               [--kill-others DSN2] [--pause-at I --pause-dir D] [--allow-errors]

Operation i runs SELECT %s * 2 with i and checks the answer. perop opens a
new psycopg2 connection for every operation and closes it (libpq's
PQfinish: Terminate, then close); reused keeps one connection (the
persistent limit). --password is added to the DSN. --kill-others: before
each operation, a connection to DSN2 (a superuser) terminates every other
idle backend of the server (pg_terminate_backend), as an administrator or
idle_session_timeout would. --pause-at I: before operation I, create
D/paused and wait (up to 60 s) for D/resume, so a test can restart the
server in the middle of a run.

Prints "ops=N ok=N mismatches=N errors=N elapsed_us=N" on stdout.
Exit 1 on any mismatch, else 2 on any error (unless --allow-errors), else 0.
"""
import argparse
import os
import sys
import time

import psycopg2


KILL = ("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE pid <> pg_backend_pid() AND backend_type = 'client backend' AND state = 'idle'")


def kill_others(dsn):
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    conn.cursor().execute(KILL)
    conn.close()


def wait_resume(d):
    open(os.path.join(d, "paused"), "w").close()
    deadline = time.monotonic() + 60
    while not os.path.exists(os.path.join(d, "resume")):
        if time.monotonic() > deadline:
            sys.exit("pg_loop: no resume file after 60 s")
        time.sleep(0.01)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dsn", required=True)
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--mode", default="perop", choices=["perop", "reused"])
    ap.add_argument("--password")
    ap.add_argument("--kill-others")
    ap.add_argument("--pause-at", type=int, default=-1)
    ap.add_argument("--pause-dir")
    ap.add_argument("--allow-errors", action="store_true")
    a = ap.parse_args()
    dsn = a.dsn + (" password=%s" % a.password if a.password else "")
    ok = mismatches = errors = 0
    conn = None
    t0 = time.monotonic()
    for i in range(a.count):
        if i == a.pause_at:
            wait_resume(a.pause_dir)
        try:
            if a.kill_others:
                kill_others(a.kill_others)
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
