# urllib.request.urlopen() per operation.
import urllib.request
from py_common import args, path, body, check, done

port, n, tag = args()
for i in range(n):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path(i))) as r:
        check(i, (200, body(i)), (r.status, r.read().decode()))
done(n)
