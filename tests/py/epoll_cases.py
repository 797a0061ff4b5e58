#!/usr/bin/python3
"""The epoll registrations objpool moves and takes back, against a tagserver.

    epoll_cases.py --port P

The kernel lists an epoll set's registrations in /proc/self/fdinfo/EPFD
("tfd: FD events: MASK ... ino: INODE"), so each check reads what is
really registered, not what the program is told.  Cycles, each a new
socket, one REQ/REP exchange (the reply names the server's connection):

  first     no epoll: the first connection (a miss), parked at close
  hit       registered before connect: after it the registration names the
            connection's inode (not the fresh socket's) and reports EPOLLOUT;
            after close the epoll set is empty
  mod       registered, then modified (EPOLLET added) before connect: the
            moved registration has the modified mask
  plain     never registered: its fresh socket is recycled (the next
            socket() has its inode)
  unreg     registered and unregistered before connect: its fresh socket
            is not recycled
  overflow  registered in three epoll sets (more than objpool records):
            a real connect (a new connection), all three report EPOLLOUT
  after     no epoll: the first connection again (overflow's was no lease)
  late      a hit, then registered in three epoll sets: never parked (the
            sets are empty after close: the real close removed it)
  last      a new connection (late's was not parked)

Prints "NAME conn=ID" per cycle on stdout; a broken rule prints a FAIL line
on stderr and the exit status is 1.
"""
import argparse
import os
import re
import select
import socket
import sys

FAILS = []


def check(cond, what):
    if not cond:
        FAILS.append(what)
        print("FAIL %s" % what, file=sys.stderr)


def registrations(ep):
    """{tfd: (events, inode)} of an epoll set, as the kernel lists them."""
    out = {}
    with open("/proc/self/fdinfo/%d" % ep.fileno()) as f:
        for line in f:
            if not line.startswith("tfd:"):
                continue
            m = re.match(r"tfd:\s*(\d+)\s+events:\s*([0-9a-f]+).*\bino:([0-9a-f]+)", line)
            out[int(m.group(1))] = (int(m.group(2), 16), int(m.group(3), 16))
    return out


def ino(s):
    return os.fstat(s.fileno()).st_ino


def exchange(s, tag):
    s.sendall(b"REQ %s\n" % tag.encode())
    data = b""
    while not data.endswith(b"\n"):
        chunk = s.recv(4096)
        if not chunk:
            raise OSError("EOF after %r" % data)
        data += chunk
    want = b"REP %s " % tag.encode()
    check(data.startswith(want), "%s: reply %r" % (tag, data))
    return int(data[len(want):])


def writable(ep, fd):
    """Does ep report EPOLLOUT for fd within a second?"""
    for efd, ev in ep.poll(1.0):
        if efd == fd and ev & select.EPOLLOUT:
            return True
    return False


def connect(s, port):
    s.connect(("127.0.0.1", port))


def moved_cycle(name, ep, port, register):
    """A registered socket: the registration must follow the connection."""
    s = socket.socket()
    fd = s.fileno()
    register(fd)
    fresh = ino(s)
    connect(s, port)
    regs = registrations(ep)
    check(fd in regs, "%s: fd %d not registered after connect: %r" % (name, fd, regs))
    events, target = regs.get(fd, (0, 0))
    check(target == ino(s), "%s: registration names inode %d, the socket is %d" % (name, target, ino(s)))
    check(target != fresh, "%s: registration still names the fresh socket" % name)
    check(writable(ep, fd), "%s: no EPOLLOUT after connect" % name)
    conn = exchange(s, name)
    s.close()
    check(not registrations(ep), "%s: epoll set not empty after close: %r" % (name, registrations(ep)))
    return conn, events


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    port = ap.parse_args().port
    ep = select.epoll()

    s = socket.socket()
    connect(s, port)
    first = exchange(s, "first")
    s.close()
    print("first conn=%d" % first)

    conn, _ = moved_cycle("hit", ep, port, lambda fd: ep.register(fd, select.EPOLLIN | select.EPOLLOUT))
    check(conn == first, "hit: connection %d, want %d (a hit)" % (conn, first))
    print("hit conn=%d" % conn)

    def reg_mod(fd):
        ep.register(fd, select.EPOLLIN)
        ep.modify(fd, select.EPOLLIN | select.EPOLLOUT | select.EPOLLET)

    conn, events = moved_cycle("mod", ep, port, reg_mod)
    check(events & select.EPOLLET and events & select.EPOLLOUT, "mod: moved mask 0x%x lacks the MOD" % events)
    check(conn == first, "mod: connection %d, want %d (a hit)" % (conn, first))
    print("mod conn=%d" % conn)

    s = socket.socket()
    fresh = ino(s)
    connect(s, port)
    conn = exchange(s, "plain")
    s.close()
    s = socket.socket()
    check(ino(s) == fresh, "plain: a never-registered fresh socket was not recycled")
    print("plain conn=%d" % conn)
    fresh = ino(s)
    ep.register(s.fileno(), select.EPOLLIN)
    ep.unregister(s.fileno())
    connect(s, port)
    conn = exchange(s, "unreg")
    s.close()
    s = socket.socket()
    check(ino(s) != fresh, "unreg: a once-registered fresh socket was recycled")
    s.close()
    print("unreg conn=%d" % conn)

    eps = [select.epoll() for _ in range(3)]
    s = socket.socket()
    fd = s.fileno()
    for e in eps:
        e.register(fd, select.EPOLLIN | select.EPOLLOUT)
    connect(s, port)
    for i, e in enumerate(eps):
        check(registrations(e).get(fd, (0, 0))[1] == ino(s), "overflow: set %d lost the socket" % i)
        check(writable(e, fd), "overflow: set %d: no EPOLLOUT" % i)
    conn = exchange(s, "overflow")
    check(conn != first, "overflow: a registration objpool cannot move, yet a hit")
    s.close()
    print("overflow conn=%d" % conn)
    overflow = conn

    s = socket.socket()
    connect(s, port)
    conn = exchange(s, "after")
    s.close()
    check(conn == first, "after: connection %d, want %d" % (conn, first))
    check(conn != overflow, "after: the overflow connection was parked")
    print("after conn=%d" % conn)

    s = socket.socket()
    connect(s, port)
    fd = s.fileno()
    for e in eps:
        e.register(fd, select.EPOLLIN)
    conn = exchange(s, "late")
    check(conn == first, "late: connection %d, want %d" % (conn, first))
    s.close()
    for i, e in enumerate(eps):
        check(not registrations(e), "late: set %d still holds the connection" % i)
    print("late conn=%d" % conn)

    s = socket.socket()
    connect(s, port)
    conn = exchange(s, "last")
    s.close()
    check(conn not in (first, overflow), "last: connection %d: late's was parked" % conn)
    print("last conn=%d" % conn)
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
