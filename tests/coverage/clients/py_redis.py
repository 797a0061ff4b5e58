# redis-py: a new redis.Redis() per operation, SET then GET, close().
import redis
from py_common import args, key, value, check, done

port, n, tag = args()
for i in range(n):
    r = redis.Redis(host="127.0.0.1", port=port)
    r.set(key(tag, i), value(tag, i))
    check(i, value(tag, i).encode(), r.get(key(tag, i)))
    r.close()
done(n)
