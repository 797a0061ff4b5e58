# pymemcache: a new Client per operation, set then get, close().
from pymemcache.client.base import Client
from py_common import args, key, value, check, done

port, n, tag = args()
for i in range(n):
    c = Client(("127.0.0.1", port))
    c.set(key(tag, i), value(tag, i))
    check(i, value(tag, i).encode(), c.get(key(tag, i)))
    c.close()
done(n)
