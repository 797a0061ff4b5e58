#!/usr/bin/python3
"""psycopg2 cases for objpool's PostgreSQL tests: what a pool must never
change about a login or a session.

    pg_cases.py auth --dsn DSN --count N
        N rounds of: connect with the right password (must work), with a
        wrong one and with none (each must fail with the server's error).
    pg_cases.py refused --dsn DSN --count N
        N connects that must each fail (a NOLOGIN role, say).
    pg_cases.py state --dsn DSN --count N
        N rounds of, for each kind of session state: one connection sets it
        and closes without undoing it (autocommit off where a transaction
        is the state), the next connection must not see it. The role in
        DSN must be a superuser (SET ROLE) and table leak_t must exist.
    pg_cases.py mixed --dsn DSN --count N
        N rounds of four connects with different start-ups (u_trust and
        postgres, database postgres and template1, sslmode prefer and
        disable): current_user and current_database must be the asked ones.
    pg_cases.py revoke --dsn DSN --count N
        N connects as u_trust (each must work), then ALTER ROLE u_trust
        NOLOGIN (as postgres): N connects must each fail; then LOGIN again:
        one must work. (VALID UNTIL binds password logins only: trust
        ignores it.)
    pg_cases.py expire --dsn DSN --count N
        N connects of u_md5 with pw1, then ALTER ROLE u_md5 VALID UNTIL a
        past date: N connects must each fail; then VALID UNTIL infinity.
    pg_cases.py rotate --dsn DSN --user U --count N
        N connects of U with pw1, then ALTER ROLE U PASSWORD 'pw2' (as
        postgres) and one connect with pw2 (must work); then N rounds of
        pw1 (must fail) and pw2 (must work); the password is set back.
    pg_cases.py reload --dsn DSN --count N
        TimeZone changed by ALTER SYSTEM and pg_reload_conf() (as postgres),
        once while the sessions sit idle, once while one is in use; after
        each, N connects of u_trust: the TimeZone the server reported must
        be the server's own (SHOW timezone). Set back at the end.
    pg_cases.py threads --dsn DSN --count N
        8 threads, each N connects rotating over u_trust, postgres, u_md5
        (pw1) and u_clear (pw1), each running SELECT current_user and a
        value unique to the thread and round: both must be its own.
    pg_cases.py near --dsn DSN --count N
        8 threads of u_trust, each N connects rotating over dbname postgres
        and template1 and application_name near_a and near_b: the database,
        the application_name and a value unique to the round its own.
    pg_cases.py stress --dsn DSN --count N [--seed S]
        8 threads, each N connects with a random role, database and
        application_name, then random session state left behind (a custom
        setting, temp table, PREPARE, LISTEN, advisory lock, search_path,
        open transaction, WITH HOLD cursor) and random early closes (before
        any query, with a result half read): every answer its own, no
        earlier client's state visible.
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


# (what the first connection runs, the query the next one runs, the answer
# a fresh session gives it); "tx" marks a state left in a transaction
STATES = [
    ("SET work_mem = '7MB'", "SHOW work_mem", "4MB"),
    ("SELECT set_config('search_path', 'pg_catalog', false)", "SHOW search_path", '"$user", public'),
    ("SET ROLE u_trust", "SELECT current_user::text", "postgres"),
    ("CREATE TEMP TABLE t_leak (x int)", "SELECT to_regclass('pg_temp.t_leak') IS NULL", True),
    ("PREPARE leak_stmt AS SELECT 1", "SELECT count(*) FROM pg_prepared_statements", 0),
    ("LISTEN leak_ch", "SELECT count(*) FROM pg_listening_channels()", 0),
    ("SELECT pg_advisory_lock(4242)",
     "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()", 0),
    ("tx:INSERT INTO leak_t VALUES (1)", "SELECT count(*) FROM leak_t", 0),
    ("tx:SELECT 1 / 0", "SELECT 42", 42),
    ("DECLARE leak_c CURSOR WITH HOLD FOR SELECT 1", "SELECT count(*) FROM pg_cursors", 0),
    ("SET application_name = 'leaky'", "SHOW application_name", ""),
]


def leave_state(dsn, sql):
    conn = psycopg2.connect(dsn)
    conn.autocommit = not sql.startswith("tx:")
    try:
        conn.cursor().execute(sql[3:] if sql.startswith("tx:") else sql)
    except psycopg2.DataError:
        pass  # 1 / 0: the transaction is left failed
    conn.close()


def state(a, c):
    for i in range(a.count):
        for set_sql, check_sql, fresh in STATES:
            try:
                leave_state(a.dsn, set_sql)
                conn = psycopg2.connect(a.dsn)
                conn.autocommit = True
                cur = conn.cursor()
                cur.execute(check_sql)
                got = cur.fetchone()[0]
                conn.close()
            except psycopg2.Error as e:
                c.err("round %d, after %s: %s" % (i, set_sql, str(e).strip()))
                continue
            if got == fresh:
                c.ok += 1
            else:
                c.bad("round %d: after %r the next session's %r gave %r, a fresh one %r"
                      % (i, set_sql, check_sql, got, fresh))


def mixed(a, c):
    kinds = [("u_trust", "postgres", ""), ("postgres", "postgres", ""),
             ("u_trust", "template1", ""), ("u_trust", "postgres", " sslmode=disable")]
    for i in range(a.count):
        for user, db, extra in kinds:
            dsn = "%s user=%s dbname=%s%s" % (a.dsn, user, db, extra)
            try:
                conn = psycopg2.connect(dsn)
                cur = conn.cursor()
                cur.execute("SELECT current_user::text, current_database()::text")
                got = cur.fetchone()
                conn.close()
            except psycopg2.Error as e:
                c.err("round %d, %s: %s" % (i, dsn, str(e).strip()))
                continue
            if got == (user, db):
                c.ok += 1
            else:
                c.bad("round %d: %s got %r" % (i, dsn, got))


def admin(dsn, sql):
    conn = psycopg2.connect(dsn + " user=postgres")
    conn.autocommit = True
    conn.cursor().execute(sql)
    conn.close()


def revoke(a, c):
    user = a.dsn + " user=u_trust"
    for i in range(a.count):
        try:
            query(user)
            c.ok += 1
        except psycopg2.Error as e:
            c.err("before: %s" % str(e).strip())
    admin(a.dsn, "ALTER ROLE u_trust NOLOGIN")
    for i in range(a.count):
        must_fail(c, user, i, "u_trust after NOLOGIN")
    admin(a.dsn, "ALTER ROLE u_trust LOGIN")
    try:
        query(user)
        c.ok += 1
    except psycopg2.Error as e:
        c.err("after LOGIN again: %s" % str(e).strip())


def expire(a, c):
    user = a.dsn + " user=u_md5 password=pw1"
    for i in range(a.count):
        try:
            query(user)
            c.ok += 1
        except psycopg2.Error as e:
            c.err("before: %s" % str(e).strip())
    admin(a.dsn, "ALTER ROLE u_md5 VALID UNTIL '2001-01-01'")
    try:
        for i in range(a.count):
            must_fail(c, user, i, "u_md5 after VALID UNTIL 2001")
    finally:
        admin(a.dsn, "ALTER ROLE u_md5 VALID UNTIL 'infinity'")


def rotate(a, c):
    user = "%s user=%s" % (a.dsn, a.user)

    def works(pw, what):
        try:
            query(user + " password=" + pw)
            c.ok += 1
        except psycopg2.Error as e:
            c.bad("%s: %s" % (what, str(e).strip()))

    for i in range(a.count):
        works("pw1", "round %d, pw1 before the change" % i)
    admin(a.dsn, "SET password_encryption = 'md5'; ALTER ROLE %s PASSWORD 'pw2'" % a.user)
    try:
        works("pw2", "the first login with pw2")
        for i in range(a.count):
            must_fail(c, user + " password=pw1", i, "the old password")
            works("pw2", "round %d, pw2" % i)
    finally:
        admin(a.dsn, "SET password_encryption = 'md5'; ALTER ROLE %s PASSWORD 'pw1'" % a.user)


def reload(a, c):
    user = a.dsn + " user=u_trust"

    def check(what):
        for i in range(a.count):
            try:
                conn = psycopg2.connect(user)
                cur = conn.cursor()
                cur.execute("SHOW timezone")
                real = cur.fetchone()[0]
                said = conn.get_parameter_status("TimeZone")
                conn.close()
            except psycopg2.Error as e:
                c.err("%s, round %d: %s" % (what, i, str(e).strip()))
                continue
            if real == said:
                c.ok += 1
            else:
                c.bad("%s, round %d: the server has %s, reported %s" % (what, i, real, said))

    def set_tz(tz):
        admin(a.dsn, "ALTER SYSTEM SET timezone = '%s'" % tz)
        admin(a.dsn, "SELECT pg_reload_conf()")
        time.sleep(0.5)

    try:
        check("before")
        set_tz("Asia/Tokyo")
        check("after a reload while idle")
        conn = psycopg2.connect(user)
        conn.autocommit = True
        set_tz("Europe/Paris")
        conn.cursor().execute("SELECT 1")
        conn.close()
        check("after a reload while in use")
    finally:
        admin(a.dsn, "ALTER SYSTEM RESET timezone")
        admin(a.dsn, "SELECT pg_reload_conf()")


def threads(a, c):
    users = [("u_trust", ""), ("postgres", ""), ("u_md5", " password=pw1"), ("u_clear", " password=pw1")]
    lock = threading.Lock()

    def worker(t):
        for i in range(a.count):
            user, extra = users[(t + i) % len(users)]
            try:
                conn = psycopg2.connect("%s user=%s%s" % (a.dsn, user, extra))
                cur = conn.cursor()
                cur.execute("SELECT current_user::text, %s::int", (t * 100000 + i,))
                got = cur.fetchone()
                conn.close()
            except psycopg2.Error as e:
                with lock:
                    c.err("thread %d round %d: %s" % (t, i, str(e).strip()))
                continue
            with lock:
                if got == (user, t * 100000 + i):
                    c.ok += 1
                else:
                    c.bad("thread %d round %d as %s: got %r" % (t, i, user, got))

    ts = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


def near(a, c):
    """8 workers of one user rotating over start-ups that differ only in the
    database or in application_name: each answer names the worker's own."""
    kinds = [("postgres", ""), ("template1", ""), ("postgres", "near_a"), ("postgres", "near_b")]
    dsn = a.dsn.replace("dbname=postgres", "")
    lock = threading.Lock()

    def worker(t):
        for i in range(a.count):
            db, app = kinds[(t + i) % len(kinds)]
            try:
                conn = psycopg2.connect("%s dbname=%s application_name='%s'" % (dsn, db, app))
                cur = conn.cursor()
                cur.execute("SELECT current_database()::text, current_setting('application_name'), %s::int",
                            (t * 100000 + i,))
                got = cur.fetchone()
                conn.close()
            except psycopg2.Error as e:
                with lock:
                    c.err("thread %d round %d: %s" % (t, i, str(e).strip()))
                continue
            with lock:
                if got == (db, app, t * 100000 + i):
                    c.ok += 1
                else:
                    c.bad("thread %d round %d as %s/%s: got %r" % (t, i, db, app, got))

    ts = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


def stress(a, c):
    """8 workers, each N rounds of a random start-up (four roles, two
    databases, an application_name), random session state left behind and
    random early closes; every answer must be the round's own and no state
    of an earlier client visible."""
    import random
    users = [("u_trust", ""), ("postgres", ""), ("u_md5", " password=pw1"), ("u_clear", " password=pw1")]
    dsn = a.dsn.replace("dbname=postgres", "")
    leave = ["SET stress.v = 'leak'", "CREATE TEMP TABLE stress_t (x int)", "PREPARE stress_p AS SELECT 1",
             "LISTEN stress_ch", "SELECT pg_advisory_lock(4242)", "SET search_path = pg_catalog",
             "BEGIN", "DECLARE stress_c CURSOR WITH HOLD FOR SELECT generate_series(1, 1000)"]
    check = ("SELECT current_user::text, current_database()::text, current_setting('application_name'), "
             "%s::int, coalesce(current_setting('stress.v', true), ''), to_regclass('pg_temp.stress_t') IS NULL, "
             "(SELECT count(*) FROM pg_prepared_statements), (SELECT count(*) FROM pg_listening_channels()), "
             "(SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()), "
             "current_setting('search_path'), (SELECT count(*) FROM pg_cursors)")
    lock = threading.Lock()

    def worker(t):
        rnd = random.Random(a.seed * 100 + t)
        for i in range(a.count):
            user, extra = rnd.choice(users)
            db = rnd.choice(["postgres", "template1"])
            app = rnd.choice(["", "stress_a", "stress_b"])
            tag = t * 100000 + i
            try:
                conn = psycopg2.connect("%s dbname=%s user=%s application_name='%s'%s" % (dsn, db, user, app, extra))
                conn.autocommit = True
                how = rnd.random()
                if how < 0.1:  # an early close: nothing asked
                    conn.close()
                    with lock:
                        c.ok += 1
                    continue
                cur = conn.cursor()
                cur.execute(check, (tag,))
                got = cur.fetchone()
                # template1 grants no TEMP to the other roles
                can = [q for q in leave if db == "postgres" or user == "postgres" or "TEMP" not in q]
                for sql in rnd.sample(can, rnd.randint(0, 3)):
                    cur.execute(sql)
                if how < 0.3:  # an early close: a result half read
                    cur.execute("SELECT generate_series(1, 5000)")
                    cur.fetchmany(3)
                conn.close()
            except psycopg2.Error as e:
                with lock:
                    c.err("thread %d round %d: %s" % (t, i, str(e).strip()))
                continue
            want = (user, db, app, tag, "", True, 0, 0, 0, '"$user", public', 0)
            with lock:
                if got == want:
                    c.ok += 1
                else:
                    c.bad("thread %d round %d as %s/%s/%s: got %r" % (t, i, user, db, app, got))

    ts = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


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
    ap.add_argument("case", choices=["auth", "refused", "state", "mixed", "revoke", "expire", "rotate", "reload", "threads", "near", "stress", "cancel"])
    ap.add_argument("--dsn", required=True)
    ap.add_argument("--count", type=int, default=10)
    ap.add_argument("--user", default="u_md5")
    ap.add_argument("--seed", type=int, default=1)
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
