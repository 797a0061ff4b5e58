# requests: requests.get() per operation (a Session of its own each time).
import requests
from py_common import args, path, body, check, done

port, n, tag = args()
for i in range(n):
    r = requests.get("http://127.0.0.1:%d%s" % (port, path(i)))
    check(i, (200, body(i)), (r.status_code, r.text))
done(n)
