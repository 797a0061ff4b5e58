#!/usr/bin/python3
"""redis-py client loop for objpool's real-world tests and benchmarks.

    redis_loop.py --port P --count N [--mode perop|reused|async]
                  [--sleep SEC] [--align FRAC] [--tag T] [--pause-at I --pause-dir D]
                  [--allow-errors]

Operation i is a SET of key "<tag>:<i>" to a value unique to the run and i,
then a GET of the same key; the GET must return the value.

Modes:
  perop   a new redis.Redis() for every command (SET and GET each get their
          own client), dropped right after use: redis-py's Connection.__del__
          shuts the socket down (SHUT_RDWR) and closes it
  reused  one redis.Redis() for the whole loop (the persistent limit)
  async   redis.asyncio: a new client per command, `await client.close()`

--sleep SEC sleeps between operations.  --align FRAC waits, before the first
operation, until the wall clock's fraction of a second is FRAC (redis-server's
idle `timeout` counts whole seconds of time(), so aligning makes a test that
sleeps 1.5 s between operations see the server close exactly every other idle
connection instead of at random).  --pause-at I: before operation I,
create D/paused and wait (up to 60 s) for D/resume to exist, so a test can
restart the server in the middle of a run.

Prints "ops=N ok=N mismatches=N errors=N elapsed_us=N" on stdout.
Exit 1 on any mismatch, else 2 on any error (unless --allow-errors), else 0.
"""
import argparse
import os
import sys
import time

import redis


def value_for(run, i):
    return ("%s-%d-" % (run, i)) * (1 + i % 7)


def wait_resume(a):
    open(os.path.join(a.pause_dir, "paused"), "w").close()
    deadline = time.monotonic() + 60
    while not os.path.exists(os.path.join(a.pause_dir, "resume")):
        if time.monotonic() > deadline:
            sys.exit("redis_loop: no resume file after 60 s")
        time.sleep(0.01)


class Counts:
    ok = mismatches = errors = 0


def check(c, i, got, want):
    if got is not None and got.decode() == want:
        c.ok += 1
    else:
        c.mismatches += 1
        if c.mismatches <= 5:
            print("MISMATCH op %d: expected %r got %r" % (i, want, got), file=sys.stderr)


def error(c, i, e):
    c.errors += 1
    if c.errors <= 5:
        print("ERROR op %d: %s: %s" % (i, type(e).__name__, e), file=sys.stderr)


def run_sync(a, c, run):
    reused = redis.Redis(host=a.host, port=a.port) if a.mode == "reused" else None
    for i in range(a.count):
        if a.pause_at is not None and i == a.pause_at:
            wait_resume(a)
        elif i and a.sleep:
            time.sleep(a.sleep)
        key, val = "%s:%d" % (a.tag, i), value_for(run, i)
        try:
            if reused:
                reused.set(key, val)
                got = reused.get(key)
            else:
                redis.Redis(host=a.host, port=a.port).set(key, val)
                got = redis.Redis(host=a.host, port=a.port).get(key)
        except redis.RedisError as e:
            error(c, i, e)
            continue
        check(c, i, got, val)


async def run_async(a, c, run):
    import asyncio
    import redis.asyncio as aredis
    for i in range(a.count):
        if a.pause_at is not None and i == a.pause_at:
            wait_resume(a)
        elif i and a.sleep:
            await asyncio.sleep(a.sleep)
        key, val = "%s:%d" % (a.tag, i), value_for(run, i)
        try:
            r = aredis.Redis(host=a.host, port=a.port)
            try:
                await r.set(key, val)
            finally:
                await r.close()
            r = aredis.Redis(host=a.host, port=a.port)
            try:
                got = await r.get(key)
            finally:
                await r.close()
        except redis.RedisError as e:
            error(c, i, e)
            continue
        check(c, i, got, val)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--mode", default="perop", choices=["perop", "reused", "async"])
    ap.add_argument("--sleep", type=float, default=0)
    ap.add_argument("--align", type=float)
    ap.add_argument("--tag", default="objpool")
    ap.add_argument("--pause-at", type=int)
    ap.add_argument("--pause-dir")
    ap.add_argument("--allow-errors", action="store_true")
    a = ap.parse_args()
    run = "%d.%d" % (os.getpid(), time.time_ns())
    c = Counts()
    if a.align is not None:
        time.sleep((a.align - time.time() % 1) % 1)
    t0 = time.perf_counter()
    if a.mode == "async":
        import asyncio
        asyncio.run(run_async(a, c, run))
    else:
        run_sync(a, c, run)
    elapsed = time.perf_counter() - t0
    print("ops=%d ok=%d mismatches=%d errors=%d elapsed_us=%d"
          % (a.count, c.ok, c.mismatches, c.errors, elapsed * 1e6))
    if c.mismatches:
        return 1
    if c.errors and not a.allow_errors:
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
