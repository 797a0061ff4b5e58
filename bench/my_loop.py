#!/usr/bin/python3
# my_loop.py - the pymysql client of bench/mysql.sh (the MySQL/MariaDB table).
"""

    my_loop.py (--socket PATH | --host H --port P) --user U --password PW
               [--database DB] --count N --mode perop|persistent|connections|rtt
               [--pause-us N]

perop: for each query, pymysql.connect() with its defaults (so the connect
also sends SET autocommit=0, as every pymysql program's does), SELECT i * 2,
close() (COM_QUIT, then close), then --pause-us microseconds of sleep that
are not timed. persistent: one connection for every query,
the limit of any pool. Both check each answer and print
"ops=N ok=N elapsed_us=N". connections: print the server's Connections
counter (this connection counts itself). rtt: the median time of 20 TCP
connect()s to the server, each one round trip (SYN, SYN-ACK), in us.
"""
import argparse
import socket
import statistics
import sys
import time

import pymysql


def connect(a):
    kw = dict(user=a.user, password=a.password, database=a.database)
    if a.socket:
        return pymysql.connect(unix_socket=a.socket, **kw)
    return pymysql.connect(host=a.host, port=a.port, **kw)


def query(conn, i):
    cur = conn.cursor()
    cur.execute("SELECT %s * 2", (i,))
    ok = cur.fetchone()[0] == 2 * i
    cur.close()
    return ok


def rtt(a):
    times = []
    for _ in range(20):
        s = socket.socket()
        t = time.monotonic()
        s.connect((a.host, a.port))
        times.append(time.monotonic() - t)
        s.close()
        time.sleep(0.01)
    return int(statistics.median(times) * 1e6)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=3306)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", default="")
    ap.add_argument("--database")
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--mode", default="perop", choices=["perop", "persistent", "connections", "rtt"])
    ap.add_argument("--pause-us", type=int, default=0)
    a = ap.parse_args()
    if a.mode == "rtt":
        print(rtt(a))
        return 0
    if a.mode == "connections":
        conn = connect(a)
        cur = conn.cursor()
        cur.execute("SHOW GLOBAL STATUS LIKE 'Connections'")
        print(cur.fetchone()[1])
        conn.close()
        return 0
    ok = errors = 0
    conn = connect(a) if a.mode == "persistent" else None
    paused = 0.0
    t0 = time.monotonic()
    for i in range(a.count):
        try:
            if a.mode == "perop":
                conn = connect(a)
            ok += query(conn, i)
            if a.mode == "perop":
                conn.close()
        except pymysql.MySQLError as e:
            errors += 1
            print("error op %d: %s" % (i, e), file=sys.stderr)
        if a.pause_us:
            p0 = time.monotonic()
            time.sleep(a.pause_us / 1e6)
            paused += time.monotonic() - p0
    elapsed = int((time.monotonic() - t0 - paused) * 1e6)
    if conn is not None and a.mode == "persistent":
        conn.close()
    print("ops=%d ok=%d errors=%d elapsed_us=%d" % (a.count, ok, errors, elapsed))
    return 0 if ok == a.count else 1


if __name__ == "__main__":
    sys.exit(main())
