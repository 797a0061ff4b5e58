# http.client: a new HTTPConnection per operation, one GET, close().
import http.client
from py_common import args, path, body, check, done

port, n, tag = args()
for i in range(n):
    c = http.client.HTTPConnection("127.0.0.1", port)
    c.request("GET", path(i))
    r = c.getresponse()
    check(i, (200, body(i)), (r.status, r.read().decode()))
    c.close()
done(n)
