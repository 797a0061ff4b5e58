#!/usr/bin/python3
"""pymysql cases for objpool's MySQL/MariaDB tests: what a pool must never
change about a login or a session.

    my_cases.py CASE (--unix SOCK | --host H --port P) --admin-sock SOCK
                [--user U --password PW --db DB] --count N

    auth     N rounds of: connect with the right password (must work), with
             a wrong one and with none (each must fail: never a session).
    state    N rounds of, for each kind of session state (STATES below):
             client 1 connects, sets it and closes without undoing it;
             client 2 connects with the same user and database and must
             not see it; where a lock or a transaction is the state, a third
             connection, without the preload, must be able to take the lock
             (or the row). At the end no row client 1 left uncommitted is
             there. Client 1 may also leave a result behind: a second
             result set of a multi-statement unread, or an unbuffered
             result half read (client 2 must get its own answer).
    rotate   N connects with pw1, then (as root, without the preload) the
             password changed to pw9 (--how alter: ALTER USER; set: SET
             PASSWORD), one connect with pw9 (must work), then N rounds of
             pw1 (must fail) and pw9 (must work); the password is set back.
    mixed    N rounds of five connects: u_native and u_other, db1, db2 and
             none: USER(), DATABASE() and a value unique to the round must
             be the asked ones. A thread id the greeting gave that is not
             the session's CONNECTION_ID() (the login went to a fresh
             connection) must name no live session (as root, without the
             preload): a KILL by it would reach another's.
    near     N rounds of six connects of one user that differ in one thing
             each (database; connection attribute program_name; character
             set latin1 or cp1251; the FOUND_ROWS capability): each must get its own
             (DATABASE(), @@character_set_client, the affected-rows count
             FOUND_ROWS decides), never a near match; the greeting's
             thread id checked as mixed does.
    threads  8 threads of one process, each N connects rotating as mixed
             does: every answer the thread's own.
    lock     N connects (each must work), then (as root, without the
             preload) ALTER USER ... ACCOUNT LOCK, --wait S seconds (the
             pool's max_lifetime and more: the window the README names),
             then N connects that must each fail; UNLOCK, one must work.
    peer     (as root, Unix socket, MariaDB's nobody identified via
             unix_socket) N connects with the effective uid and gid of
             nobody (each must work), then N as root (each refused).
    big      N rounds of: a query of more than 16 MB (several packets) and
             a row of more than 16 MB read, on one connection, closed.
    forked   N connects, then fork(): parent and child N connects each,
             at once, every answer its own; the child's verdict checked.
    killquery  N rounds of: connect, SELECT SLEEP(5), and from another
             thread after 0.3 s (as root, without the preload) KILL QUERY
             with the thread id the server's greeting gave: the query must
             end interrupted (1317) within 2 s, the session still usable
             and its CONNECTION_ID() that thread id.

--user/--password/--db: the account auth, state and rotate use (default
u_native, pw1, db1). Prints "ops=N ok=N mismatches=N errors=N" on stdout,
ops being the checks made; exits 1 on any mismatch (a login admitted that
must not be, state seen by the next client, a wrong answer), 2 on any other
error.
"""
import argparse
import os
import subprocess
import sys
import threading
import time

import pymysql
import pymysql.cursors
from pymysql.constants import CLIENT


class Counts:
    def __init__(self):
        self.ops = self.ok = self.mismatches = self.errors = 0
        self.lock = threading.Lock()

    def good(self):
        with self.lock:
            self.ops += 1
            self.ok += 1

    def bad(self, what):
        with self.lock:
            self.ops += 1
            self.mismatches += 1
            if self.mismatches <= 8:
                print("MISMATCH %s" % what, file=sys.stderr)

    def err(self, what):
        with self.lock:
            self.ops += 1
            self.errors += 1
            if self.errors <= 8:
                print("ERROR %s" % what, file=sys.stderr)

    def check(self, got, want, what):
        if got == want:
            self.good()
        else:
            self.bad("%s: got %r, want %r" % (what, got, want))


def admin_sql(a, sql):
    """SQL run as root by Debian's mariadb client, never under the preload."""
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    out = subprocess.run(["mariadb", "--no-defaults", "--protocol=socket", "-S", a.admin_sock,
                          "-u", "root", "-N", "-B", "-e", sql], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        return "ERR:" + out.stderr.strip()
    return out.stdout.strip()


def connect(a, user=None, password=None, db="", **kw):
    """A pymysql connection to the target, as the case's account unless told."""
    args = dict(user=user or a.user, password=a.password if password is None else password,
                database=a.db if db == "" else db, connect_timeout=10, read_timeout=30)
    if a.unix:
        args["unix_socket"] = a.unix
    else:
        args["host"], args["port"] = a.host, a.port
    args.update(kw)
    return pymysql.connect(**args)


def one_row(conn, sql, args=None):
    """The first row (one value alone) of SQL, or ERR<code> for a server error."""
    cur = conn.cursor()
    try:
        cur.execute(sql, args)
    except pymysql.err.MySQLError as e:
        if e.args and isinstance(e.args[0], int) and e.args[0] < 2000:  # a server error
            return "ERR%d" % e.args[0]
        raise
    except UnicodeDecodeError:
        return "UNDECODABLE"
    row = cur.fetchone()
    cur.close()
    return row[0] if row is not None and len(row) == 1 else row


def closed(conn):
    try:
        conn.close()
    except pymysql.err.Error:
        pass


def login(a, password):
    """Connect and ask who we are: a session proves the login was admitted."""
    conn = connect(a, password=password)
    try:
        return one_row(conn, "SELECT CURRENT_USER()")
    finally:
        closed(conn)


def must_fail(a, c, password, what):
    try:
        who = login(a, password)
        c.bad("%s: admitted as %s" % (what, who))
    except (pymysql.MySQLError, OSError):
        c.good()


def works(a, c, password, what):
    try:
        login(a, password)
        c.good()
    except (pymysql.MySQLError, OSError) as e:
        c.bad("%s: refused: %s" % (what, e))


def auth(a, c):
    for i in range(a.count):
        works(a, c, a.password, "round %d: the right password" % i)
        must_fail(a, c, "wrong", "round %d: a wrong password" % i)
        must_fail(a, c, "", "round %d: no password" % i)


# name, what client 1 runs, client 2's check and the answer a fresh session
# gives, and an optional check without the preload (SQL, answer); "tx"
# marks client 1 with autocommit off (pymysql's default), "nodb" both
# clients without a database
STATES = [
    ("user variable", ["SET @leak = 42"], "SELECT @leak IS NULL", 1, None),
    ("sql_mode", ["SET SESSION sql_mode = 'ANSI_QUOTES,NO_BACKSLASH_ESCAPES'"],
     "SELECT @@session.sql_mode = @@global.sql_mode", 1, None),
    ("session variables", ["SET SESSION time_zone = '+05:00', SESSION group_concat_max_len = 7, "
                           "SESSION wait_timeout = 77"],
     "SELECT @@session.time_zone = @@global.time_zone AND @@session.group_concat_max_len = "
     "@@global.group_concat_max_len AND @@session.wait_timeout = @@global.wait_timeout", 1, None),
    ("isolation level", ["SET SESSION TRANSACTION ISOLATION LEVEL SERIALIZABLE"],
     "SELECT @@session.tx_isolation = @@global.tx_isolation", 1, None),
    ("USE", ["USE db2"], "SELECT DATABASE()", "db1", None),
    ("nodb:USE", ["USE db2"], "SELECT DATABASE()", None, None),
    ("temporary table", ["CREATE TEMPORARY TABLE tmp_leak (x INT)"], "SELECT COUNT(*) FROM tmp_leak",
     "ERR1146", None),
    ("temporary table shadowing t", ["CREATE TEMPORARY TABLE t (x INT)"],
     "SELECT COUNT(*) FROM t WHERE x = 1", 1, None),
    ("tx:open transaction", ["INSERT INTO t VALUES (99)"],
     "SELECT @@in_transaction, (SELECT COUNT(*) FROM t WHERE x = 99)", (0, 0),
     ("SET SESSION innodb_lock_wait_timeout = 2; SELECT COUNT(*) FROM db1.t WHERE x = 99 FOR UPDATE",
      "0")),
    ("autocommit off", ["SET autocommit = 0", "INSERT INTO t VALUES (98)"],
     "SELECT @@autocommit, @@in_transaction, (SELECT COUNT(*) FROM t WHERE x = 98)", (1, 0, 0),
     ("SET SESSION innodb_lock_wait_timeout = 2; SELECT COUNT(*) FROM db1.t WHERE x = 98 FOR UPDATE",
      "0")),
    ("GET_LOCK", ["SELECT GET_LOCK('leak_lock', 0)"],
     "SELECT IS_FREE_LOCK('leak_lock'), GET_LOCK('leak_lock', 0), RELEASE_LOCK('leak_lock')", (1, 1, 1),
     ("SELECT GET_LOCK('leak_lock', 0)", "1")),
    ("PREPARE", ["PREPARE leak_stmt FROM 'SELECT 1'"], "EXECUTE leak_stmt", "ERR1243", None),
    ("LOCK TABLES", ["LOCK TABLES t WRITE"], "SELECT COUNT(*) FROM db2.t", 1,
     ("SET SESSION lock_wait_timeout = 2; SELECT COUNT(*) FROM db1.t WHERE x = 1", "1")),
    ("HANDLER", ["HANDLER t OPEN"], "HANDLER t READ FIRST", "ERR1109", None),
    ("SET NAMES", ["SET NAMES latin1"],
     "SELECT CONCAT_WS(',', @@character_set_client, @@character_set_connection, "
     "@@character_set_results, 'é')", "utf8mb4,utf8mb4,utf8mb4,é", None),
    ("LAST_INSERT_ID", ["SELECT LAST_INSERT_ID(77)"], "SELECT LAST_INSERT_ID()", 0, None),
    ("initdb:COM_INIT_DB (pymysql select_db)", [], "SELECT DATABASE()", "db1", None),
    # nothing set: what the handshake's own capabilities give a session
    # (IGNORE_SPACE in sql_mode, the interactive wait_timeout) must be there
    # on a reused one as on a fresh one
    ("ignorespace:CLIENT_IGNORE_SPACE in the handshake", [],
     "SELECT @@session.sql_mode LIKE '%IGNORE_SPACE%'", 1, None),
    ("ignorespace:CLIENT_IGNORE_SPACE in the handshake, COUNT (*) with a space", [],
     "SELECT COUNT (*) FROM t WHERE x = 1", 1, None),
    ("interactive:CLIENT_INTERACTIVE in the handshake (wait_timeout is interactive_timeout)", [],
     "SELECT @@session.wait_timeout = @@global.interactive_timeout", 1, None),
    ("infile:LOAD DATA LOCAL INFILE into a temporary table", ["CREATE TEMPORARY TABLE li (x INT)", "LOCAL"],
     "SELECT COUNT(*) FROM li", "ERR1146", None),
    ("noquit:a user variable, the socket closed without COM_QUIT", ["SET @leak_nq = 1"],
     "SELECT @leak_nq IS NULL", 1, None),
    ("multi:a second result set left unread", ["SELECT 111; SELECT 222"], "SELECT 333", 333, None),
    ("unbuffered:a result half read", ["SELECT seq FROM seq_1_to_200000"], "SELECT 333", 333, None),
]


def leave_state(a, name, db, sets):
    """Client 1: connect, leave the state behind, close (COM_QUIT)."""
    kw = dict(db=db, autocommit=not name.startswith("tx:"))
    if name.startswith("multi:"):
        kw["client_flag"] = CLIENT.MULTI_STATEMENTS
    kw.update(caps_of(name))
    if name.startswith("unbuffered:"):
        kw["cursorclass"] = pymysql.cursors.SSCursor
    conn = connect(a, **kw)
    if name.startswith("initdb:"):
        conn.select_db("db2")
    for sql in sets:
        if sql == "LOCAL":
            sql = "LOAD DATA LOCAL INFILE '%s' INTO TABLE li" % local_file()
        cur = conn.cursor()
        cur.execute(sql)  # a multi-statement's first result read, the rest left
        if name.startswith("unbuffered:"):
            cur.fetchone()  # one row of many read, the rest left on the wire
            closed(conn)
            cur.connection = None  # (pymysql would read on at garbage collection)
            cur._result.unbuffered_active = False
            return
    if name.startswith("noquit:"):
        conn._force_close()  # close(2) alone, no COM_QUIT
        return
    closed(conn)


# the capabilities a case's two clients ask for in their handshake
CAPS = {"ignorespace": CLIENT.IGNORE_SPACE, "interactive": CLIENT.INTERACTIVE}


def caps_of(name):
    kind = name.split(":", 1)[0]
    if kind == "infile":
        return {"local_infile": True}  # CLIENT_LOCAL_FILES
    flag = CAPS.get(kind)
    return {"client_flag": flag} if flag else {}


def local_file():
    """A three-line file for LOAD DATA LOCAL INFILE, made once."""
    import tempfile
    global INFILE
    if INFILE is None:
        fd, INFILE = tempfile.mkstemp(prefix="objpool-my-infile.")
        os.write(fd, b"1\n2\n3\n")
        os.close(fd)
    return INFILE


INFILE = None


def state_round(a, c, i, name, sets, check, fresh, unpooled):
    db = None if name.startswith("nodb:") else ""
    what = "round %d, %s" % (i, name)
    kw = caps_of(name)
    try:
        leave_state(a, name, db, sets)
        if kw:  # a handshake unlike the others': the first met a near match (a fresh connection, not kept)
            leave_state(a, name, db, sets)
        conn = connect(a, db=db, autocommit=True, **kw)
        got = one_row(conn, check)
        closed(conn)
    except (pymysql.MySQLError, OSError) as e:
        c.err("%s: %s: %s" % (what, type(e).__name__, e))
        return
    c.check(got, fresh, "%s: client 2's %r" % (what, check))
    if unpooled:
        c.check(admin_sql(a, unpooled[0]), unpooled[1], "%s: without the preload, %r" % (what, unpooled[0]))


def state(a, c):
    try:
        for i in range(a.count):
            for case in STATES:
                state_round(a, c, i, *case)
    finally:
        if INFILE:
            os.unlink(INFILE)
    c.check(admin_sql(a, "SELECT COUNT(*) FROM db1.t WHERE x IN (98, 99)"), "0",
            "rows left uncommitted, seen without the preload at the end")


def rotate(a, c):
    for i in range(a.count):
        works(a, c, "pw1", "round %d, pw1 before the change" % i)
    hosts = ("localhost", "127.0.0.1")
    if a.how == "alter":
        change = "; ".join("ALTER USER %s@'%s' IDENTIFIED BY '%%s'" % (a.user, h) for h in hosts)
    else:
        change = "; ".join("SET PASSWORD FOR %s@'%s' = PASSWORD('%%s')" % (a.user, h) for h in hosts)
    out = admin_sql(a, change.replace("%s", "pw9"))
    if out.startswith("ERR:"):
        c.err("changing the password: %s" % out)
        return
    try:
        works(a, c, "pw9", "the first login with pw9")
        for i in range(a.count):
            must_fail(a, c, "pw1", "round %d: the old password" % i)
            works(a, c, "pw9", "round %d, pw9" % i)
    finally:
        admin_sql(a, change.replace("%s", "pw1"))


KINDS = [("u_native", "pw1", "db1"), ("u_native", "pw1", "db2"), ("u_other", "pw2", "db1"),
         ("u_other", "pw2", "db2"), ("u_native", "pw1", None)]


def stale_gone(a, c, tid, cid, what):
    """The thread id a program was greeted with, when it is not its session's
    (a replayed greeting whose login went to a fresh connection), must name
    no live session: else the program's KILL could reach another's."""
    if tid == cid:
        return
    deadline = time.monotonic() + 2
    while True:
        n = admin_sql(a, "SELECT COUNT(*) FROM information_schema.processlist WHERE id = %d" % tid)
        if n == "0":
            return
        if time.monotonic() > deadline:
            c.bad("%s: greeted as thread %d, in session %d; thread %d still lives" % (what, tid, cid, tid))
            return
        time.sleep(0.05)


def mixed_one(a, c, user, pw, db, v, what, check_tid=False):
    try:
        conn = connect(a, user=user, password=pw, db=db)
        got = one_row(conn, "SELECT SUBSTRING_INDEX(USER(), '@', 1), DATABASE(), %s * 2, CONNECTION_ID()", (v,))
        tid = conn.thread_id()
        closed(conn)
    except (pymysql.MySQLError, OSError) as e:
        c.err("%s: %s: %s" % (what, type(e).__name__, e))
        return
    c.check(got[:3], (user, db, 2 * v), what)
    if check_tid:
        stale_gone(a, c, tid, got[3], what)


def mixed(a, c):
    for i in range(a.count):
        for user, pw, db in KINDS:
            mixed_one(a, c, user, pw, db, i, "round %d, %s/%s" % (i, user, db), check_tid=True)


def threads(a, c):
    def worker(t):
        for i in range(a.count):
            user, pw, db = KINDS[(t + i) % len(KINDS)]
            mixed_one(a, c, user, pw, db, t * 100000 + i, "thread %d round %d, %s/%s" % (t, i, user, db))
    ts = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


# database, connect options, and what the session must then answer:
# DATABASE(), @@character_set_client, rows UPDATE ... SET x = x reports
NEAR = [("db1", {}, ("db1", "utf8mb4"), 0),
        ("db2", {}, ("db2", "utf8mb4"), 0),
        ("db1", {"program_name": "near_b"}, ("db1", "utf8mb4"), 0),
        ("db1", {"charset": "latin1"}, ("db1", "latin1"), 0),
        ("db1", {"charset": "cp1251"}, ("db1", "cp1251"), 0),
        ("db1", {"client_flag": CLIENT.FOUND_ROWS}, ("db1", "utf8mb4"), 1)]


def near(a, c):
    for i in range(a.count):
        for db, kw, want, rows in NEAR:
            what = "round %d, %s %r" % (i, db, kw)
            try:
                conn = connect(a, db=db, autocommit=True, **kw)
                got = one_row(conn, "SELECT DATABASE(), @@character_set_client, CONNECTION_ID()")
                cur = conn.cursor()
                n = cur.execute("UPDATE t SET x = x LIMIT 1")
                tid = conn.thread_id()
                closed(conn)
            except (pymysql.MySQLError, OSError) as e:
                c.err("%s: %s: %s" % (what, type(e).__name__, e))
                continue
            c.check((got[:2], n), (want, rows), what)
            stale_gone(a, c, tid, got[2], what)


def lock(a, c):
    for i in range(a.count):
        works(a, c, a.password, "round %d, before ACCOUNT LOCK" % i)
    hosts = ("localhost", "127.0.0.1")
    how = "ALTER USER " + ", ".join("%s@'%s'" % (a.user, h) for h in hosts) + " ACCOUNT %s"
    out = admin_sql(a, how % "LOCK")
    if out.startswith("ERR:"):
        c.err("locking the account: %s" % out)
        return
    try:
        time.sleep(a.wait)
        for i in range(a.count):
            must_fail(a, c, a.password, "round %d: the locked account, %.1f s after the lock" % (i, a.wait))
    finally:
        admin_sql(a, how % "UNLOCK")
    works(a, c, a.password, "after ACCOUNT UNLOCK")


BIG = 17 * 1024 * 1024  # more than one packet's 16 MB - 1


def big(a, c):
    """N rounds of: a connection sends a query of more than 16 MB (several
    packets) and reads a row of more than 16 MB, then closes; the next
    round's connection (a reused one) must answer right."""
    for i in range(a.count):
        what = "round %d" % i
        try:
            conn = connect(a, max_allowed_packet=64 * 1024 * 1024, read_timeout=60)
            n = one_row(conn, "SELECT LENGTH(%s)", ("q" * (BIG + i),))
            row = one_row(conn, "SELECT REPEAT('r', %d), %d * 2" % (BIG + i, i))
            closed(conn)
        except (pymysql.MySQLError, OSError) as e:
            c.err("%s: %s: %s" % (what, type(e).__name__, e))
            continue
        c.check((n, len(row[0]), row[0][:1], row[0][-1:], row[1]), (BIG + i, BIG + i, "r", "r", 2 * i), what)


def forked(a, c):
    """N connects, then a fork: parent and child each N more at once, each
    answer its own (a parked session is never used by both)."""
    for i in range(a.count):
        mixed_one(a, c, a.user, a.password, a.db, i, "before the fork, op %d" % i)
    pid = os.fork()
    who = "child" if pid == 0 else "parent"
    base = 500000 if pid == 0 else 600000
    for i in range(a.count):
        mixed_one(a, c, a.user, a.password, a.db, base + i, "%s, op %d" % (who, i))
    if pid == 0:
        sys.stdout.flush()
        os._exit(10 + min(c.mismatches, 9) if c.mismatches else (20 if c.errors else 0))
    _, st = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(st)
    if code:
        c.bad("the child exited %d (10+: mismatches, 20: errors)" % code)
    else:
        c.good()


def peer(a, c):
    """unix_socket authentication (the MariaDB account named after the OS
    user the server sees connect): N connects with the effective uid and
    gid of nobody, as MariaDB's nobody (each must work), then N as root
    with the same handshake (each must be refused: the server would see
    root)."""
    import pwd
    pw = pwd.getpwnam("nobody")

    def who():
        conn = connect(a, user="nobody", password="")
        try:
            return one_row(conn, "SELECT CURRENT_USER()")
        finally:
            closed(conn)

    os.setegid(pw.pw_gid)
    os.seteuid(pw.pw_uid)
    try:
        for i in range(a.count):
            try:
                c.check(who(), "nobody@localhost", "round %d, as nobody" % i)
            except (pymysql.MySQLError, OSError) as e:
                c.bad("round %d, as nobody: refused: %s" % (i, e))
    finally:
        os.seteuid(0)
        os.setegid(0)
    for i in range(a.count):
        try:
            c.bad("round %d, as root: admitted as %s" % (i, who()))
        except (pymysql.MySQLError, OSError):
            c.good()


def admin_process(a):
    """Debian's mariadb client as root, without the preload, reading SQL from
    a pipe: started before any pooled connection, so that no fork happens
    while one is leased (objpool destroys a session a child could share)."""
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    return subprocess.Popen(["mariadb", "--no-defaults", "--protocol=socket", "-S", a.admin_sock, "-u", "root",
                             "-N", "-B", "--force"], env=env, stdin=subprocess.PIPE, text=True)


def killquery(a, c):
    admin = admin_process(a)

    def kill(tid):
        admin.stdin.write("KILL QUERY %d;\n" % tid)
        admin.stdin.flush()

    for i in range(a.count):
        what = "round %d" % i
        try:
            conn = connect(a)
            tid = conn.thread_id()
            timer = threading.Timer(0.3, kill, (tid,))
            timer.start()
            t0 = time.monotonic()
            got = one_row(conn, "SELECT SLEEP(5)")
            took = time.monotonic() - t0
            timer.join()
            after = one_row(conn, "SELECT CONNECTION_ID()")
            closed(conn)
        except (pymysql.MySQLError, OSError) as e:
            c.err("%s: %s: %s" % (what, type(e).__name__, e))
            continue
        c.check((got, took < 2, after), ("ERR1317", True, tid),
                "%s: SLEEP(5) killed by KILL QUERY %d (the greeting's thread id), in %.2f s" % (what, tid, took))
    admin.stdin.close()
    admin.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("case", choices=["auth", "state", "rotate", "mixed", "near", "threads", "killquery",
                                       "lock", "forked", "big", "peer"])
    ap.add_argument("--unix")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=3306)
    ap.add_argument("--admin-sock", required=True)
    ap.add_argument("--user", default="u_native")
    ap.add_argument("--password", default="pw1")
    ap.add_argument("--db", default="db1")
    ap.add_argument("--how", default="alter", choices=["alter", "set"])
    ap.add_argument("--count", type=int, default=10)
    ap.add_argument("--wait", type=float, default=0)
    a = ap.parse_args()
    c = Counts()
    globals()[a.case](a, c)
    print("ops=%d ok=%d mismatches=%d errors=%d" % (c.ops, c.ok, c.mismatches, c.errors))
    if c.mismatches:
        sys.exit(1)
    if c.errors:
        sys.exit(2)


if __name__ == "__main__":
    main()
