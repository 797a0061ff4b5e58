#!/usr/bin/python3
"""An event loop's connect, against redis-server, for objpool's tests.

    epoll_ping.py --port P --count N [--edge] [--wait SEC] [--max-errors N]

One epoll instance for the whole run, as an event loop keeps.  Each cycle:
a non-blocking socket, registered for EPOLLIN|EPOLLOUT (|EPOLLET with
--edge) BEFORE connect, connect (0 or EINPROGRESS), wait for EPOLLOUT,
SO_ERROR must be 0, send PING, wait for EPOLLIN, read "+PONG\\r\\n", close
(without unregistering: the close removes the registration).  Each wait
gives up after --wait seconds (default 2).  An EPOLLHUP or EPOLLERR before
the answer, a registration error (EEXIST), a wrong answer or a timeout is
an error of that cycle.  The run stops after --max-errors errors (default
5), so a broken library fails in seconds, not in count * wait.

Prints "cycles=N ok=N mismatches=0 errors=N eexist=N timeouts=N hups=N
max_ms=N" on stdout; the first errors go to stderr.  Exit 2 on any error.
"""
import argparse
import errno
import select
import socket
import sys
import time


class CycleError(Exception):
    """One cycle failed; `kind` names the counter it adds to."""

    def __init__(self, kind, msg):
        super().__init__(msg)
        self.kind = kind


def wait_for(ep, fd, want, deadline):
    """Wait until fd reports one of `want`; EPOLLHUP/EPOLLERR first fails."""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise CycleError("timeouts", "no %s within the wait" % ("EPOLLOUT" if want == select.EPOLLOUT else "EPOLLIN"))
        for efd, ev in ep.poll(left):
            if efd != fd:
                continue
            if ev & want:
                return ev
            if ev & (select.EPOLLHUP | select.EPOLLERR):
                raise CycleError("hups", "events 0x%x (hang-up/error) while waiting for 0x%x" % (ev, want))


def read_answer(s, ep, fd, edge, deadline):
    """Read up to "\\r\\n"; with edge triggering, drain until EAGAIN first."""
    data = b""
    while not data.endswith(b"\r\n"):
        wait_for(ep, fd, select.EPOLLIN, deadline)
        while True:
            try:
                chunk = s.recv(4096)
            except BlockingIOError:
                break
            if not chunk:
                raise CycleError("hups", "EOF after %r" % data)
            data += chunk
            if not edge and data.endswith(b"\r\n"):
                break
    return data


def cycle(ep, addr, edge, wait):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    fd = s.fileno()
    deadline = time.monotonic() + wait
    try:
        mask = select.EPOLLIN | select.EPOLLOUT | (select.EPOLLET if edge else 0)
        try:
            ep.register(fd, mask)
        except OSError as e:
            raise CycleError("eexist" if e.errno == errno.EEXIST else "errors",
                             "epoll register fd %d: %s" % (fd, e))
        rc = s.connect_ex(addr)
        if rc not in (0, errno.EINPROGRESS):
            raise CycleError("errors", "connect: %s" % errno.errorcode.get(rc, rc))
        wait_for(ep, fd, select.EPOLLOUT, deadline)
        err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            raise CycleError("errors", "SO_ERROR %s" % errno.errorcode.get(err, err))
        s.send(b"PING\r\n")
        got = read_answer(s, ep, fd, edge, deadline)
        if got != b"+PONG\r\n":
            raise CycleError("errors", "answer %r" % got)
    finally:
        s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--edge", action="store_true")
    ap.add_argument("--wait", type=float, default=2.0)
    ap.add_argument("--max-errors", type=int, default=5)
    a = ap.parse_args()
    ep = select.epoll()
    counts = {"ok": 0, "errors": 0, "eexist": 0, "timeouts": 0, "hups": 0}
    max_ms = 0.0
    shown = 0
    for i in range(a.count):
        t0 = time.monotonic()
        try:
            cycle(ep, ("127.0.0.1", a.port), a.edge, a.wait)
            counts["ok"] += 1
        except (CycleError, OSError) as e:
            kind = e.kind if isinstance(e, CycleError) else "errors"
            counts[kind] += 1
            if kind != "errors":
                counts["errors"] += 1
            if shown < 5:
                shown += 1
                print("ERROR cycle %d: %s: %s" % (i, kind, e), file=sys.stderr)
        max_ms = max(max_ms, (time.monotonic() - t0) * 1000)
        if counts["errors"] >= a.max_errors:
            print("stopped after %d errors, at cycle %d" % (counts["errors"], i), file=sys.stderr)
            break
    print("cycles=%d ok=%d mismatches=0 errors=%d eexist=%d timeouts=%d hups=%d max_ms=%d"
          % (a.count, counts["ok"], counts["errors"], counts["eexist"], counts["timeouts"],
             counts["hups"], max_ms))
    return 2 if counts["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
