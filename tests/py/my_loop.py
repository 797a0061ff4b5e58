#!/usr/bin/python3
"""pymysql client loop for objpool's MySQL/MariaDB tests and benchmarks.

    my_loop.py (--unix SOCK | --host H --port P) --user U [--password PW]
               [--db DB] --count N [--mode perop|reused] [--ssl-ca CERT]
               [--kill-idle ADMIN_SOCK] [--driver pymysql|mysqldb] [--alt-db DB2]
               [--pause-at I --pause-dir D] [--sleep S] [--allow-errors]

Operation i runs SELECT %s * 2, CONNECTION_ID(), DATABASE() with i and checks the
answer, and that the thread id the server's greeting gave is the session's
CONNECTION_ID() (a replayed greeting must name the real thread, so that
KILL reaches it). perop opens a
new pymysql connection for every operation (pymysql's defaults: utf8mb4,
autocommit off, i.e. SET AUTOCOMMIT = 0 after the login) and closes it
(COM_QUIT, then close); reused keeps one connection (the persistent
limit). --ssl-ca: TLS (the server's certificate checked against CERT).
--kill-idle: before each operation, Debian's mariadb client, run
without the preload as root over the Unix socket ADMIN_SOCK, KILLs every
idle (Sleep) connection of another user than root, as an administrator or
wait_timeout would. --pause-at I: before operation I, create D/paused and
wait (up to 60 s) for D/resume, so a test can restart the server in the
middle of a run. --sleep S: S seconds between operations.

--driver mysqldb: mysqlclient (MySQLdb, the C driver on libmariadb)
instead of pymysql, the rest alike. --alt-db DB2: odd operations connect to
DB2 instead (each connect then differs from the one before); DATABASE() is
checked, the thread id is not (a login that went to a fresh connection
keeps the greeting's).

Prints "ops=N ok=N mismatches=N errors=N elapsed_us=N" on stdout.
Exit 1 on any mismatch, else 2 on any error (unless --allow-errors), else 0.
"""
import argparse
import os
import subprocess
import sys
import time

import pymysql

IDLE = ("SELECT GROUP_CONCAT(CONCAT('KILL ', id) SEPARATOR ';') FROM information_schema.processlist "
        "WHERE command = 'Sleep' AND user NOT IN ('root', 'system user') AND id <> CONNECTION_ID()")


def admin_sql(sock, sql):
    """SQL run as root by the mariadb client, never under the preload."""
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    out = subprocess.run(["mariadb", "--no-defaults", "--protocol=socket", "-S", sock, "-u", "root",
                          "-N", "-B", "-e", sql], env=env, check=True, capture_output=True, text=True)
    return out.stdout.strip()


def kill_idle(sock):
    kills = admin_sql(sock, IDLE)
    if kills and kills != "NULL":
        try:
            admin_sql(sock, kills)
        except subprocess.CalledProcessError:
            pass  # one of them ended on its own meanwhile


def wait_resume(d):
    open(os.path.join(d, "paused"), "w").close()
    deadline = time.monotonic() + 60
    while not os.path.exists(os.path.join(d, "resume")):
        if time.monotonic() > deadline:
            sys.exit("my_loop: no resume file after 60 s")
        time.sleep(0.01)


def connect_mysqldb(a, db):
    """mysqlclient (MySQLdb, on libmariadb): its connect, autocommit off."""
    import MySQLdb
    kw = dict(user=a.user, passwd=a.password or "", connect_timeout=10)
    if db:
        kw["db"] = db
    if a.unix:
        kw["unix_socket"] = a.unix
    else:
        kw["host"], kw["port"] = a.host, a.port
    return MySQLdb.connect(**kw)


def connect_args(a):
    kw = dict(user=a.user, password=a.password or "", database=a.db,
              connect_timeout=10, read_timeout=30, write_timeout=30)
    if a.ssl_ca:
        kw["ssl_ca"] = a.ssl_ca  # TLS asked for (CLIENT_SSL), the certificate checked
    if a.unix:
        kw["unix_socket"] = a.unix
    else:
        kw["host"], kw["port"] = a.host, a.port
    return kw


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--unix")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=3306)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password")
    ap.add_argument("--db")
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--mode", default="perop", choices=["perop", "reused"])
    ap.add_argument("--ssl-ca")
    ap.add_argument("--kill-idle")
    ap.add_argument("--sleep", type=float, default=0)
    ap.add_argument("--pause-at", type=int, default=-1)
    ap.add_argument("--pause-dir")
    ap.add_argument("--allow-errors", action="store_true")
    ap.add_argument("--driver", default="pymysql", choices=["pymysql", "mysqldb"])
    ap.add_argument("--alt-db")
    a = ap.parse_args()
    kw = connect_args(a)
    errs = (pymysql.MySQLError, OSError)
    if a.driver == "mysqldb":
        import MySQLdb
        errs = (MySQLdb.MySQLError, OSError)
    ok = mismatches = errors = 0
    conn = None
    t0 = time.monotonic()
    for i in range(a.count):
        if i == a.pause_at:
            wait_resume(a.pause_dir)
        if a.sleep and i:
            time.sleep(a.sleep)
        try:
            if a.kill_idle:
                kill_idle(a.kill_idle)
            db = a.alt_db if a.alt_db and i % 2 else a.db
            if conn is None:
                kw["database"] = db
                conn = connect_mysqldb(a, db) if a.driver == "mysqldb" else pymysql.connect(**kw)
            cur = conn.cursor()
            cur.execute("SELECT %s * 2, CONNECTION_ID(), DATABASE()", (i,))
            got, tid, in_db = cur.fetchone()
            # a login that went to a fresh connection keeps the greeting's thread id
            if got == 2 * i and in_db == db and (a.alt_db or tid == conn.thread_id()):
                ok += 1
            else:
                mismatches += 1
                print("MISMATCH op %d: got %r in %r, CONNECTION_ID() %r, the greeting's thread id %r"
                      % (i, got, in_db, tid, conn.thread_id()), file=sys.stderr)
            cur.close()
        except errs as e:
            errors += 1
            if errors <= 5:
                print("ERROR op %d: %s: %s" % (i, type(e).__name__, str(e).strip()), file=sys.stderr)
            if conn is not None:
                try:
                    conn.close()
                except errs:
                    pass
            conn = None
        if a.mode == "perop" and conn is not None:
            try:
                conn.close()
            except errs as e:
                errors += 1
                print("ERROR op %d: close: %s" % (i, e), file=sys.stderr)
            conn = None
    elapsed = int((time.monotonic() - t0) * 1e6)
    print("ops=%d ok=%d mismatches=%d errors=%d elapsed_us=%d" % (a.count, ok, mismatches, errors, elapsed))
    if mismatches:
        sys.exit(1)
    if errors and not a.allow_errors:
        sys.exit(2)


if __name__ == "__main__":
    main()
