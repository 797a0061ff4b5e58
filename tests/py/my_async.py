#!/usr/bin/python3
"""aiomysql (asyncio: non-blocking sockets, epoll) per query, for objpool's
MySQL/MariaDB tests.

    my_async.py (--unix SOCK | --host H --port P) --user U --password PW
                --db DB --count N [--tasks T]

T tasks of one event loop (default 8), each N operations: operation i
opens a new aiomysql connection (a non-blocking connect, the greeting read
when epoll says it is readable), runs SELECT v * 2, CONNECTION_ID() with a
value unique to the task and operation, checks the answer and that the
greeting's thread id is CONNECTION_ID(), and closes it (ensure_closed:
COM_QUIT, then close). The tasks' connects, logins and queries interleave
on the one thread, so a replayed login must make its socket readable
with real bytes, as a fresh one would.

Prints "ops=N ok=N mismatches=N errors=N elapsed_us=N" on stdout.
Exit 1 on any mismatch, else 2 on any error, else 0.
"""
import argparse
import asyncio
import sys
import time

import aiomysql
import pymysql


class Counts:
    ok = mismatches = errors = 0


async def once(a, v, c):
    kw = dict(user=a.user, password=a.password, db=a.db, connect_timeout=10)
    if a.unix:
        kw["unix_socket"] = a.unix
    else:
        kw["host"], kw["port"] = a.host, a.port
    conn = await aiomysql.connect(**kw)
    try:
        cur = await conn.cursor()
        await cur.execute("SELECT %s * 2, CONNECTION_ID()", (v,))
        got, tid = await cur.fetchone()
        await cur.close()
    finally:
        await conn.ensure_closed()
    if got == 2 * v and tid == conn.server_thread_id[0]:
        c.ok += 1
    else:
        c.mismatches += 1
        print("MISMATCH value %d: got %r, CONNECTION_ID() %r, the greeting's thread id %r"
              % (v, got, tid, conn.server_thread_id[0]), file=sys.stderr)


async def task(a, t, c):
    for i in range(a.count):
        try:
            await asyncio.wait_for(once(a, t * 100000 + i, c), 30)
        except (pymysql.MySQLError, OSError, asyncio.TimeoutError) as e:
            c.errors += 1
            if c.errors <= 5:
                print("ERROR task %d op %d: %s: %s" % (t, i, type(e).__name__, e), file=sys.stderr)


async def run(a, c):
    await asyncio.gather(*(task(a, t, c) for t in range(a.tasks)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--unix")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=3306)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", default="")
    ap.add_argument("--db")
    ap.add_argument("--count", type=int, default=50)
    ap.add_argument("--tasks", type=int, default=8)
    a = ap.parse_args()
    c = Counts()
    t0 = time.monotonic()
    asyncio.run(run(a, c))
    elapsed = int((time.monotonic() - t0) * 1e6)
    print("ops=%d ok=%d mismatches=%d errors=%d elapsed_us=%d"
          % (a.count * a.tasks, c.ok, c.mismatches, c.errors, elapsed))
    if c.mismatches:
        sys.exit(1)
    if c.errors:
        sys.exit(2)


if __name__ == "__main__":
    main()
