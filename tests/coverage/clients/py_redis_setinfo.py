# redis-py as redis-py 5 connects: a new redis.Redis() per operation whose
# connection, once up, sends CLIENT SETINFO LIB-NAME and LIB-VER (an error
# reply ignored, as redis-py 5 does against a server without SETINFO),
# then SET and GET, close().
import redis
from py_common import args, key, value, check, done


def setinfo_on_connect(conn):
    conn.on_connect()
    for field, val in (("LIB-NAME", "redis-py"), ("LIB-VER", "5.0.1")):
        conn.send_command("CLIENT", "SETINFO", field, val)
        try:
            conn.read_response()
        except redis.ResponseError as e:
            # redis-py 4's read_response keeps the error in a local of the
            # frame its traceback holds: a cycle that keeps the connection
            # open until the garbage collector runs. redis-py 5 breaks it
            # (`del response`); so does this, or the row would measure
            # redis-py 4's leak instead of redis-py 5's connect.
            e.__traceback__ = None


port, n, tag = args()
for i in range(n):
    r = redis.Redis(host="127.0.0.1", port=port, redis_connect_func=setinfo_on_connect)
    r.set(key(tag, i), value(tag, i))
    check(i, value(tag, i).encode(), r.get(key(tag, i)))
    r.close()
done(n)
