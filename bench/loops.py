#!/usr/bin/python3
# loops.py - the client loops of bench.py's table 8 ("what a user
# would see"): the code a developer writes, and the in-process fix they would
# make instead, timed by the same loop so only the connection handling differs.
#
#     loops.py http  --port P --count N --how get|ideal|floor
#     loops.py redis --port P --count N --how perop|pool|ideal
#     loops.py memcache --port P --count N --how perop|reused [--max-seconds S]
#
# http      requests.get() of nginx's /f/0 (a 1-byte file), no Session.
#           get    as written: a new connection per call
#           ideal  the same requests.get(), with urllib3's connection creation
#                  patched to hand back one socket connected before the loop,
#                  whose close() keeps it: an in-process pool that costs
#                  nothing, the most any connection pool can give requests.get
#           floor  ideal, after the program's own socket work that a pool
#                  below the program cannot take away: the name resolved, a
#                  socket object and a kernel socket made, its options and
#                  timeout set, then closed unconnected (what urllib3's
#                  create_connection does before connect()): the most a pool
#                  below the program (objpool) can give requests.get
# redis     a SET then a GET of the same key, each with a new redis.Redis()
#           perop  redis.Redis(host, port): a new connection per command
#           pool   redis.Redis(connection_pool=POOL), one ConnectionPool shared
#                  by all: the fix a developer would make
#           ideal  redis.Redis(host, port) with Connection._connect patched to
#                  hand back one socket connected before the loop (kept on
#                  close): what a free connection pool leaves of perop
# memcache  pymemcache with its default options (no_delay=False, noreply=True
#           for set): a new Client per operation, a set then a get
#           perop   Client(server) per operation, closed after it
#           reused  one Client throughout (the limit)
#           The get of a noreply set on another connection may come back
#           empty (memcached may run the get first: the keys are unique to the
#           run, so it is empty, not an older value); counted as "late", not an
#           error. A wrong value is an error.
#
# --max-seconds S stops early once S seconds have passed (a Nagle stall costs
# 40 ms per operation; the figure per operation stays valid).
# Prints "ops=N errors=N late=N elapsed_us=N us_per_op=X". Exit 1 on an error.
import argparse
import os
import socket
import sys
import time


class KeptSocket(socket.socket):
    """A connected socket whose close() and shutdown() keep it open: every
    client object that closes it leaves it to the next one."""

    def close(self):
        pass

    def shutdown(self, how):
        pass


def kept_socket(host, port):
    s = socket.create_connection((host, port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return KeptSocket(s.family, s.type, s.proto, fileno=s.detach())


def program_socket(uc, address, timeout, socket_options):
    """What urllib3's create_connection does before connect(), which a pool
    below the program meets as the program's calls: the host checked for
    IDNA, resolved, a socket made, its options and timeout set.  Closed
    unconnected: the floor's pool hands back the kept socket instead."""
    host, port = address
    host.encode("idna")
    af, st, pr, _, _ = socket.getaddrinfo(host, port, uc.allowed_gai_family(), socket.SOCK_STREAM)[0]
    s = socket.socket(af, st, pr)
    uc._set_socket_options(s, socket_options)
    s.settimeout(timeout if isinstance(timeout, (int, float)) else None)
    s.close()


def http_loop(a, deadline):
    import requests
    if a.how in ("ideal", "floor"):
        import urllib3.util.connection as uc
        kept = kept_socket(a.host, a.port)
        floor = a.how == "floor"

        def create_connection(address, timeout=None, source_address=None, socket_options=None):
            if floor:
                program_socket(uc, address, timeout, socket_options)
            kept.settimeout(timeout if isinstance(timeout, (int, float)) else None)
            return kept
        uc.create_connection = create_connection
    url = "http://%s:%d/f/0" % (a.host, a.port)
    want = open(os.path.join(a.www, "0"), "rb").read() if a.www else None
    done = errors = 0
    for _ in range(a.count):
        r = requests.get(url, timeout=10)
        if r.status_code != 200 or (want is not None and r.content != want):
            errors += 1
        done += 1
        if deadline and time.perf_counter() > deadline:
            break
    return done, errors, 0


def redis_loop(a, deadline):
    import redis
    run = "%d.%d" % (os.getpid(), time.time_ns())
    if a.how == "ideal":
        kept = kept_socket(a.host, a.port)

        def _connect(self):
            kept.settimeout(self.socket_timeout)
            return kept
        redis.connection.Connection._connect = _connect
    shared = redis.ConnectionPool(host=a.host, port=a.port) if a.how == "pool" else None
    new = (lambda: redis.Redis(connection_pool=shared)) if shared else \
        (lambda: redis.Redis(host=a.host, port=a.port))
    done = errors = 0
    for i in range(a.count):
        key, val = "loops:%d" % i, ("%s-%d" % (run, i)).encode()
        new().set(key, val)
        if new().get(key) != val:
            errors += 1
        done += 1
        if deadline and time.perf_counter() > deadline:
            break
    return done, errors, 0


def memcache_loop(a, deadline):
    from pymemcache.client.base import Client
    server = (a.host, a.port)
    run = "%d.%d" % (os.getpid(), time.time_ns())
    reused = Client(server) if a.how == "reused" else None
    done = errors = late = 0
    for i in range(a.count):
        key, val = "loops_%s_%d" % (run, i), ("%s-%d" % (run, i)).encode()
        if reused:
            reused.set(key, val)
            got = reused.get(key)
        else:
            c = Client(server)
            c.set(key, val)
            c.close()
            c = Client(server)
            got = c.get(key)
            c.close()
        if got is None:
            late += 1
        elif got != val:
            errors += 1
        done += 1
        if deadline and time.perf_counter() > deadline:
            break
    return done, errors, late


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("client", choices=["http", "redis", "memcache"])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--how", required=True)
    ap.add_argument("--www", help="nginx's document root, to check bodies")
    ap.add_argument("--max-seconds", type=float, default=0)
    a = ap.parse_args()
    loops = {"http": (http_loop, ("get", "ideal", "floor")), "redis": (redis_loop, ("perop", "pool", "ideal")),
             "memcache": (memcache_loop, ("perop", "reused"))}
    fn, hows = loops[a.client]
    if a.how not in hows:
        ap.error("%s: --how is one of %s" % (a.client, ", ".join(hows)))
    t0 = time.perf_counter()
    done, errors, late = fn(a, t0 + a.max_seconds if a.max_seconds else 0)
    us = (time.perf_counter() - t0) * 1e6
    print("ops=%d errors=%d late=%d elapsed_us=%d us_per_op=%.3f"
          % (done, errors, late, us, us / max(done, 1)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
