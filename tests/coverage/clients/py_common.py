"""The contract every coverage client keeps (tests/coverage/clients.tsv):
argv PORT N TAG; operation i uses a new connection; every value is checked;
"ok=N" on stdout and exit 0, or a line naming the wrong value and exit 1."""
import sys


def args():
    return int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]


def key(tag, i):
    return "cov:%s:%d" % (tag, i)


def value(tag, i):
    return "%s-%d-%s" % (tag, i, "x" * (i % 13))


def path(i):
    return "/f/cov%d.txt" % (i % 10)


def body(i):
    return ("coverage file %d\n" % (i % 10)) * (i % 10 + 1)


def check(i, want, got):
    if want != got:
        sys.stderr.write("wrong value at op %d: expected %r, got %r\n" % (i, want, got))
        sys.exit(1)


def done(n):
    print("ok=%d" % n)
