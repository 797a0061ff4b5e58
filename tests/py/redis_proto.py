#!/usr/bin/python3
"""Redis session-state clients for objpool's protocol tests (tests/conn/protocols.bats).

Each "client" is a new connection, closed after use, so that under objpool
every client after the first may be handed the connection the one before it
left: whatever session state that one set (a database, a login, a
transaction, a subscription, RESP3, tracking) must not reach the next.

    redis_proto.py select-loop --port P --count N
        N times: a redis.Redis(db=1) client SETs k1_<i>, then a
        redis.Redis(db=0) client SETs k0_<i>; each client its own pool,
        disconnected after use.
    redis_proto.py check-dbs --port P --count N
        (run without objpool) database 0 holds exactly k0_0..k0_<N-1> and
        database 1 exactly k1_0..k1_<N-1>.
    redis_proto.py auth-loop --port P --count N --password PW
        N times: a client with the password SETs and GETs a key, then a
        client without it GETs and must get NOAUTH.
    redis_proto.py acl-setup --port P    (without objpool) creates user alice
    redis_proto.py acl-loop --port P --count N
        N times: an alice client (ACL WHOAMI must say alice) SETs and GETs,
        then a default client (ACL WHOAMI must say default).
    redis_proto.py session --port P --rounds R
        raw sockets: for each state in STATES a client sets it and closes;
        the next client's CLIENT INFO must show a fresh session (db=0, no
        name, multi=-1, sub=0 psub=0, resp=2, no t/P/x/d flag) and its
        commands (SET, GET, MULTI/SET/EXEC) must work.  For the states RESET
        clears, the next client must also be on the same server connection
        (CLIENT ID): the connection was reset and reused, not replaced.
    redis_proto.py stat --port P [--password PW] FIELD   an INFO field

The loops print "clients=N ok=N mismatches=N errors=N" (session also
"reused=N"); exit 1 on any mismatch, else 2 on any error, else 0.
"""
import argparse
import socket
import sys

import redis


class Counts:
    clients = ok = mismatches = errors = reused = 0

    def good(self):
        self.ok += 1

    def bad(self, msg):
        self.mismatches += 1
        if self.mismatches <= 10:
            print("MISMATCH " + msg, file=sys.stderr)

    def error(self, msg):
        self.errors += 1
        if self.errors <= 10:
            print("ERROR " + msg, file=sys.stderr)

    def summary(self, extra=""):
        print("clients=%d ok=%d mismatches=%d errors=%d%s"
              % (self.clients, self.ok, self.mismatches, self.errors, extra))
        if self.mismatches:
            return 1
        return 2 if self.errors else 0


def client(a, **kw):
    """A redis.Redis with its own connection pool (the caller disconnects it)."""
    return redis.Redis(host=a.host, port=a.port, socket_timeout=5, **kw)


def done(r):
    r.connection_pool.disconnect()


# --- select-loop / check-dbs ------------------------------------------------------


def select_loop(a, c):
    for i in range(a.count):
        for db in (1, 0):
            c.clients += 1
            r = client(a, db=db)
            try:
                if r.set("k%d_%d" % (db, i), "v%d" % i) is True:
                    c.good()
                else:
                    c.bad("db %d SET k%d_%d did not return OK" % (db, db, i))
            except redis.RedisError as e:
                c.error("db %d op %d: %s: %s" % (db, i, type(e).__name__, e))
            finally:
                done(r)


def check_dbs(a):
    bad = 0
    for db in (0, 1):
        r = client(a, db=db)
        got = set(k.decode() for k in r.keys("*"))
        done(r)
        want = set("k%d_%d" % (db, i) for i in range(a.count))
        missing, extra = want - got, got - want
        print("db%d keys=%d missing=%d foreign=%d" % (db, len(got), len(missing), len(extra)))
        if missing or extra:
            bad += 1
            print("db%d: missing %s; foreign %s" % (db, sorted(missing)[:5], sorted(extra)[:5]),
                  file=sys.stderr)
    return 1 if bad else 0


# --- auth-loop / acl-loop ---------------------------------------------------------


def is_noauth(e):
    return isinstance(e, redis.AuthenticationError) and (
        "Authentication required" in str(e) or "NOAUTH" in str(e))


def expect_noauth(a, c, i):
    c.clients += 1
    r = client(a)
    try:
        got = r.get("auth_%d" % i)
        c.bad("op %d: a client without the password read %r (no NOAUTH)" % (i, got))
    except redis.RedisError as e:
        if is_noauth(e):
            c.good()
        else:
            c.error("op %d: no-password client: %s: %s" % (i, type(e).__name__, e))
    finally:
        done(r)


def authed_set_get(a, c, i, **kw):
    c.clients += 1
    r = client(a, **kw)
    key, val = "auth_%d" % i, "value-%d" % i
    try:
        r.set(key, val)
        got = r.get(key)
        if got == val.encode():
            c.good()
        else:
            c.bad("op %d: GET %s returned %r" % (i, key, got))
    except redis.RedisError as e:
        c.error("op %d: authenticated client: %s: %s" % (i, type(e).__name__, e))
    finally:
        done(r)


def auth_loop(a, c):
    for i in range(a.count):
        authed_set_get(a, c, i, password=a.password)
        expect_noauth(a, c, i)


def whoami(a, c, i, want, **kw):
    c.clients += 1
    r = client(a, **kw)
    try:
        got = r.execute_command("ACL", "WHOAMI")
        got = got.decode() if isinstance(got, bytes) else got
        if got != want:
            c.bad("op %d: ACL WHOAMI is %r, expected %r" % (i, got, want))
            return
        r.set("acl_%s_%d" % (want, i), i)
        if r.get("acl_%s_%d" % (want, i)) == str(i).encode():
            c.good()
        else:
            c.bad("op %d: %s: GET after SET returned the wrong value" % (i, want))
    except redis.RedisError as e:
        c.error("op %d: %s client: %s: %s" % (i, want, type(e).__name__, e))
    finally:
        done(r)


def acl_setup(a):
    r = client(a)
    r.execute_command("ACL", "SETUSER", "alice", "on", ">pw", "~*", "&*", "+@all")
    done(r)
    return 0


def acl_loop(a, c):
    for i in range(a.count):
        whoami(a, c, i, "alice", username="alice", password="pw")
        whoami(a, c, i, "default")


# --- session: raw RESP2/RESP3 ---------------------------------------------------------


class RespError(Exception):
    pass


class Raw:
    """One connection; cmd() sends a command and returns its one reply."""

    def __init__(self, a):
        self.sock = socket.create_connection((a.host, a.port), timeout=5)
        self.f = self.sock.makefile("rb")

    def send(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for x in args:
            x = x if isinstance(x, bytes) else str(x).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(x), x))
        self.sock.sendall(b"".join(out))

    def cmd(self, *args):
        self.send(*args)
        return self.reply()

    def reply(self):
        line = self.f.readline()
        if not line.endswith(b"\r\n"):
            raise EOFError("connection closed in a reply: %r" % line)
        t, rest = line[:1], line[1:-2]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            return RespError(rest.decode())
        if t in (b":", b"("):
            return int(rest)
        if t in (b"$", b"=", b"!"):
            n = int(rest)
            if n < 0:
                return None
            data = self.f.read(n + 2)[:-2]
            if t == b"=":
                return data[4:]  # "txt:" / "mkd:"
            return RespError(data.decode()) if t == b"!" else data
        if t in (b"*", b"~", b">"):
            n = int(rest)
            return None if n < 0 else [self.reply() for _ in range(n)]
        if t == b"%":
            return [(self.reply(), self.reply()) for _ in range(int(rest))]
        if t == b"|":
            [(self.reply(), self.reply()) for _ in range(int(rest))]
            return self.reply()
        if t == b"_":
            return None
        if t == b"#":
            return rest == b"t"
        if t == b",":
            return float(rest)
        raise ValueError("not RESP: %r" % line)

    def close(self):
        self.f.close()
        self.sock.close()


# name, commands, reply check, cleared by RESET (so the connection is reused)
STATES = [
    ("select 5", [("SELECT", 5)], "OK", True),
    ("multi without exec", [("MULTI",)], "OK", True),
    ("watch", [("WATCH", "watched")], "OK", True),
    ("hello 3", [("HELLO", 3)], list, True),
    ("client tracking on", [("CLIENT", "TRACKING", "on")], "OK", True),
    ("subscribe", [("SUBSCRIBE", "ch")], list, False),
    ("psubscribe", [("PSUBSCRIBE", "ch*")], list, False),
    ("client setname", [("CLIENT", "SETNAME", "foo")], "OK", True),
    ("hello 3 setname", [("HELLO", 3, "SETNAME", "bar")], list, True),
]

FRESH = {"db": "0", "name": "", "multi": "-1", "sub": "0", "psub": "0", "ssub": "0", "resp": "2"}


def set_state(a, c, name, cmds, want):
    """A client sets the state and closes; returns its CLIENT ID or None."""
    c.clients += 1
    r = Raw(a)
    try:
        cid = r.cmd("CLIENT", "ID")
        for cmd in cmds:
            got = r.cmd(*cmd)
            if not (isinstance(got, want) if isinstance(want, type) else got == want):
                c.error("%s: %s answered %r (the state client itself got a used session?)"
                        % (name, " ".join(map(str, cmd)), got))
                return None
        return cid
    finally:
        r.close()


def info_fields(text):
    return dict(kv.split("=", 1) for kv in text.split() if "=" in kv)


def check_fresh(a, c, name, cid, reusable, rnd):
    """The next client: a fresh session, and its commands work."""
    c.clients += 1
    r = Raw(a)
    try:
        info = r.cmd("CLIENT", "INFO")
        if not isinstance(info, (bytes, str)) or not str(info).strip():
            c.bad("after %s: CLIENT INFO answered %r" % (name, info))
            return
        info = info.decode() if isinstance(info, bytes) else info
        f = info_fields(info)
        wrong = ["%s=%s" % (k, f[k]) for k, v in FRESH.items() if k in f and f[k] != v]
        wrong += ["flag %s" % x for x in "tPxd" if x in f.get("flags", "")]
        if wrong:
            c.bad("after %s: the next session has %s (CLIENT INFO: %s)" % (name, ", ".join(wrong), info.strip()))
            return
        key, val = "fresh_%d_%s" % (rnd, name.replace(" ", "_")), "v%d" % rnd
        if r.cmd("SET", key, val) != "OK" or r.cmd("GET", key) != val.encode():
            c.bad("after %s: SET/GET did not work" % name)
            return
        if r.cmd("MULTI") != "OK" or r.cmd("SET", key, "x") != "QUEUED":
            c.bad("after %s: MULTI/SET did not work" % name)
            return
        ex = r.cmd("EXEC")
        if ex != ["OK"]:
            c.bad("after %s: EXEC answered %r (a WATCH left over?)" % (name, ex))
            return
        if reusable and cid is not None:
            if int(f.get("id", -1)) == cid:
                c.reused += 1
            else:
                c.bad("after %s: not reused: the next client is on connection %s, not %d"
                      % (name, f.get("id"), cid))
                return
        c.good()
    except (OSError, EOFError, ValueError) as e:
        c.error("after %s: %s: %s" % (name, type(e).__name__, e))
    finally:
        r.close()


def session(a, c):
    side = Raw(a)  # held all along: it modifies the watched key
    for rnd in range(a.rounds):
        for name, cmds, want, reusable in STATES:
            try:
                cid = set_state(a, c, name, cmds, want)
            except (OSError, EOFError, ValueError) as e:
                c.error("%s: %s: %s" % (name, type(e).__name__, e))
                cid = None
            if name == "watch":
                side.cmd("SET", "watched", rnd)
            check_fresh(a, c, name, cid, reusable, rnd)
    side.close()


def stat(a):
    r = client(a, password=a.password)
    print(r.info()[a.field])
    done(r)
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["select-loop", "check-dbs", "auth-loop", "acl-setup",
                                     "acl-loop", "session", "stat"])
    ap.add_argument("field", nargs="?")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--password")
    a = ap.parse_args()
    if a.what == "check-dbs":
        return check_dbs(a)
    if a.what == "acl-setup":
        return acl_setup(a)
    if a.what == "stat":
        return stat(a)
    c = Counts()
    if a.what == "select-loop":
        select_loop(a, c)
    elif a.what == "auth-loop":
        auth_loop(a, c)
    elif a.what == "acl-loop":
        acl_loop(a, c)
    else:
        session(a, c)
        return c.summary(" reused=%d" % c.reused)
    return c.summary()


if __name__ == "__main__":
    sys.exit(main())
