#!/usr/bin/env bats
# goodbyes kept from the server (Redis QUIT, memcached quit, HTTP
# Connection: close, clean half-closes): urllib, PHP file_get_contents, LWP,
# Node http.get({agent: false}), Perl Redis->quit, Node socket.end()
# (redis-server, a line server), php-memcached, 300 connections each, the
# server seeing at most 2 % of them; +OK then EOF through read, poll, select
# and edge-triggered epoll; what the stub answers
#
# Goodbyes (issue 27): real clients that end every connection politely,
# against real servers. Each run makes 300 connections, one per request;
# objpool keeps the goodbye from the server (Redis QUIT becomes PING and the
# program reads +OK; memcached quit is swallowed; HTTP's Connection: close
# token is renamed) or takes a clean half-close, parks the connection and
# hands the program a stub that gives EOF at once. The server must see at
# most 2 % as many connections as requests, every body or value right.
# The clients are in tests/conn/goodbye/. Every test but three fails against the
# library before goodbyes (the HTTP/1.0, half-close-with-a-reply-unread and
# requirepass tests guard what must not change).

load ../helpers

GB="$BATS_TEST_DIRNAME/goodbye"
N=300
MAX_CONNS=6 # 2 % of N

setup() {
    require_lib
}

# assert_gb_clean: the client exited 0 with N ok, no mismatch, no error.
assert_gb_clean() {
    assert_equal "$status" 0
    assert_equal "$(client_field ok)" "$N"
    assert_equal "$(client_field mismatches)" 0
    assert_equal "$(client_field errors)" 0
}

# --- HTTP: Connection: close --------------------------------------------------

@test "urllib.request.urlopen x300 (Connection: close): nginx sees <= 6 connections, bodies right" {
    nginx_up
    run_pooled "$(pool_for "$NGINX_PORT")" "$OBJPOOL_PY" "$PY/http_loop.py" --url "$URL" \
        --count "$N" --mode urllib
    assert_loop_clean "$N"
    assert_equal "$(nginx_requests "$NG")" "$N"
    expect_num "$(nginx_connections "$NG")" -le "$MAX_CONNS" "nginx connections"
    expect_num "$(json_field "$REPORT" "$(pool_for "$NGINX_PORT")" discarded.stale_eof)" -eq 0 "stale_eof"
}

@test "PHP file_get_contents x300 (HTTP/1.1, Connection: close): nginx sees <= 6 connections, bodies right" {
    require_cmd php
    sanitizer_cannot "the sanitizer runtimes refuse PHP's RTLD_DEEPBIND loads"
    nginx_up
    run_pooled "$(pool_for "$NGINX_PORT")" php "$GB/http_get.php" "$URL" "$N" "$NG/www"
    assert_gb_clean
    assert_equal "$(nginx_requests "$NG")" "$N"
    expect_num "$(nginx_connections "$NG")" -le "$MAX_CONNS" "nginx connections"
}

@test "Perl LWP::UserAgent x300 (Connection: TE, close): nginx sees <= 6 connections, bodies right" {
    perl -MLWP::UserAgent -e1 2>/dev/null || skip "no libwww-perl"
    nginx_up
    run_pooled "$(pool_for "$NGINX_PORT")" perl "$GB/lwp_get.pl" "$URL" "$N" "$NG/www"
    assert_gb_clean
    assert_equal "$(nginx_requests "$NG")" "$N"
    expect_num "$(nginx_connections "$NG")" -le "$MAX_CONNS" "nginx connections"
}

@test "Node http.get({agent: false}) x300 (Connection: close, then SHUT_WR): nginx sees <= 6 connections" {
    require_cmd node
    nginx_up
    run_pooled "$(pool_for "$NGINX_PORT")" OBJPOOL_LOG=debug node "$GB/http_get.js" "$URL" "$N" "$NG/www"
    assert_gb_clean
    assert_equal "$(nginx_requests "$NG")" "$N"
    expect_num "$(nginx_connections "$NG")" -le "$MAX_CONNS" "nginx connections"
    # the request was rewritten and the program was given the stub
    [[ "$stderr" == *"goodbye (renamed) kept from the server"* ]]
    [[ "$stderr" == *"the program holds a stub now"* ]]
}

@test "HTTP: the server sees the renamed token, never close; its response says keep-alive" {
    nginx_up
    # a response header nginx would have sent as "Connection: close"
    run_pooled "$(pool_for "$NGINX_PORT")" "$OBJPOOL_PY" -c '
import socket, sys
for i in range(3):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.sendall(b"GET /f/0 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        data += d
    s.close()
    print(data.split(b"\r\n\r\n")[0].decode().replace("\r\n", " | "))
' "$NGINX_PORT"
    assert_equal "$status" 0
    [[ "$output" == *"Connection: keep-alive"* ]]
    expect_num "$(nginx_connections "$NG")" -le 1 "nginx connections"
}

@test "HTTP/1.0 without keep-alive is left alone: the server closes, not pooled, bodies right" {
    nginx_up
    run_pooled "$(pool_for "$NGINX_PORT")" "$OBJPOOL_PY" -c '
import socket, sys
for i in range(20):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.sendall(b"GET /f/1 HTTP/1.0\r\nHost: x\r\n\r\n")
    data = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        data += d
    s.close()
    assert data.endswith(open(sys.argv[2] + "/1", "rb").read())
print("done")
' "$NGINX_PORT" "$NG/www"
    assert_equal "$status" 0
    assert_equal "$output" done
    assert_equal "$(nginx_connections "$NG")" 20
    assert_equal "$(json_field "$REPORT" "$(pool_for "$NGINX_PORT")" discarded.stale_eof)" 20
}

# --- Redis QUIT ---------------------------------------------------------------

@test "Perl Redis->quit per op x300: redis-server sees <= 6 connections, values right" {
    perl -MRedis -e1 2>/dev/null || skip "no libredis-perl"
    redis_up
    local before
    before=$(redis_conns)
    run_pooled "$(pool_for "$REDIS_PORT")" perl "$GB/redis_quit.pl" "$REDIS_PORT" "$N"
    assert_gb_clean
    expect_num "$(($(redis_conns) - before))" -le "$MAX_CONNS" "redis connections"
    expect_num "$(json_field "$REPORT" "$(pool_for "$REDIS_PORT")" discarded.abandoned_request)" -eq 0 "abandoned_request"
}

@test "Redis QUIT whose +OK is read: the program reads +OK then EOF, through blocking read, poll and epoll" {
    redis_up
    run_pooled "$(pool_for "$REDIS_PORT")" "$OBJPOOL_PY" -c '
import select, socket, sys
port = int(sys.argv[1])
for mode in ["block", "poll", "epoll_et"] * 20:
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"*1\r\n$4\r\nPING\r\n"); assert s.recv(100) == b"+PONG\r\n"
    s.sendall(b"*1\r\n$4\r\nQUIT\r\n")
    if mode == "poll":
        p = select.poll(); p.register(s, select.POLLIN)
        assert p.poll(2000), "no readiness for +OK"
    elif mode == "epoll_et":
        s.setblocking(False)
        e = select.epoll(); e.register(s.fileno(), select.EPOLLIN | select.EPOLLET | select.EPOLLRDHUP)
        assert e.poll(2), "no readiness for +OK"
    assert s.recv(100) == b"+OK\r\n", mode
    if mode == "poll":
        assert p.poll(2000)[0][1] & select.POLLIN, "no readiness for EOF"
    elif mode == "epoll_et":
        ev = e.poll(2)
        assert ev and ev[0][1] & select.EPOLLIN, "no EOF event"
        e.close()
    assert s.recv(100) == b"", mode
    s.close()
print("done")
' "$REDIS_PORT"
    assert_equal "$status" 0
    assert_equal "$output" done
    expect_num "$(json_field "$REPORT" "$(pool_for "$REDIS_PORT")" parked)" -eq 60 "parked"
}

@test "Redis QUIT where PING would be refused (requirepass, no AUTH): the program still reads +OK then EOF; nothing parked" {
    redis_up --requirepass s3cret
    run_pooled "$(pool_for "$REDIS_PORT")" "$OBJPOOL_PY" -c '
import socket, sys
port = int(sys.argv[1])
for i in range(20):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"*1\r\n$4\r\nQUIT\r\n")
    if i % 2:
        assert s.recv(100) == b"+OK\r\n"
        assert s.recv(100) == b""
    s.close()  # even ones: closed with the reply unread, as Perl does
print("done")
' "$REDIS_PORT"
    assert_equal "$status" 0
    assert_equal "$output" done
    # the stand-in PING got -NOAUTH: never parked, or discarded at reuse
    expect_num "$(json_field "$REPORT" "$(pool_for "$REDIS_PORT")" hits)" -eq 0 "hits"
}

# --- half-closes (Node net socket.end()) ---------------------------------------

@test "Node net socket.end() per op x300 against redis-server: the loop never waits for EOF, <= 6 connections" {
    require_cmd node
    redis_up
    local before
    before=$(redis_conns)
    run_pooled "$(pool_for "$REDIS_PORT")" node "$GB/net_end.js" redis "$REDIS_PORT" "$N" 1000
    assert_gb_clean
    assert_equal "$(client_field slow)" 0
    expect_num "$(($(redis_conns) - before))" -le "$MAX_CONNS" "redis connections"
    expect_num "$(json_field "$REPORT" "$(pool_for "$REDIS_PORT")" discarded.half_closed)" -eq 0 "half_closed"
}

@test "Node net socket.end() per op x300 against a line server: the loop never waits for EOF, <= 6 connections" {
    require_cmd node
    start_tagserver
    run_pooled "$(pool_for "$PORT")?proto=line" node "$GB/net_end.js" line "$PORT" "$N" 1000
    assert_gb_clean
    assert_equal "$(client_field slow)" 0
    expect_num "$(accepts)" -le "$MAX_CONNS" "line server connections"
}

@test "the stub after a clean SHUT_WR: select, poll (RDHUP) and read see EOF at once; EPIPE; and what getsockopt, getpeername, setsockopt(TCP_NODELAY) answer" {
    start_tagserver
    run_pooled "$(pool_for "$PORT")?proto=line" "$OBJPOOL_PY" -c '
import errno, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"REQ a\n"); assert s.recv(100).startswith(b"REP a ")
s.shutdown(socket.SHUT_WR)
import select
print("select", select.select([s], [], [], 2)[0] == [s])
p = select.poll(); p.register(s, select.POLLIN | select.POLLRDHUP)
print("poll", bool(p.poll(2000)[0][1] & select.POLLRDHUP))
print("read", s.recv(100))
print("SO_ERROR", s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))
print("SO_TYPE", s.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE) == socket.SOCK_STREAM)
print("SO_DOMAIN", s.getsockopt(socket.SOL_SOCKET, socket.SO_DOMAIN) == socket.AF_UNIX)
try:
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1); print("nodelay ok")
except OSError as e:
    print("nodelay", errno.errorcode[e.errno])
try:
    print("peer", repr(s.getpeername()))
except OSError as e:
    print("peer", errno.errorcode[e.errno])
try:
    s.send(b"x"); print("send ok")
except OSError as e:
    print("send", errno.errorcode[e.errno])
s.close()
' "$PORT"
    assert_equal "$status" 0
    assert_line "select True"
    assert_line "poll True"
    assert_line "read b''"
    assert_line "SO_ERROR 0"
    assert_line "SO_TYPE True"
    assert_line "SO_DOMAIN True"
    assert_line "nodelay ENOTSUP" # EOPNOTSUPP, the same number on Linux
    assert_line "peer ''" # an unnamed AF_UNIX peer
    assert_line "send EPIPE"
    expect_num "$(json_field "$REPORT" "$(pool_for "$PORT")" parked)" -eq 1 "parked"
}

@test "a half-close with a reply unread is real: the lease is half_closed, not parked" {
    start_tagserver
    run_pooled "$(pool_for "$PORT")?proto=line" "$OBJPOOL_PY" -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"REQ a\n")
s.shutdown(socket.SHUT_WR)
assert s.recv(100).startswith(b"REP a ")
s.close()
' "$PORT"
    assert_equal "$status" 0
    expect_num "$(json_field "$REPORT" "$(pool_for "$PORT")" discarded.half_closed)" -eq 1 "half_closed"
}

# --- memcached quit -----------------------------------------------------------

@test "php-memcached new Memcached() + quit per op x300: memcached sees <= 6 connections, values right" {
    require_cmd memcached
    php -m 2>/dev/null | grep -qix memcached || skip "no php-memcached"
    sanitizer_cannot "the sanitizer runtimes refuse PHP's RTLD_DEEPBIND loads"
    start_memcached "$BATS_TEST_TMPDIR/memcached" || fail "memcached did not start"
    local before
    before=$(memcached_stat "$MEMCACHED_PORT" total_connections)
    run_pooled "$(pool_for "$MEMCACHED_PORT")" php "$GB/memcached_quit.php" "$MEMCACHED_PORT" "$N"
    assert_gb_clean
    # one of them is memcached_stat's own
    expect_num "$(($(memcached_stat "$MEMCACHED_PORT" total_connections) - before - 1))" -le "$MAX_CONNS" \
        "memcached connections"
}

@test "memcached text quit on a clean lease: swallowed, the program reads EOF, the connection parks" {
    require_cmd memcached
    start_memcached "$BATS_TEST_TMPDIR/memcached" || fail "memcached did not start"
    run_pooled "$(pool_for "$MEMCACHED_PORT")" "$OBJPOOL_PY" -c '
import socket, sys
for i in range(50):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.sendall(b"set k%d 0 0 1\r\nx\r\n" % i); assert s.recv(100) == b"STORED\r\n"
    s.sendall(b"quit\r\n")
    assert s.recv(100) == b""
    s.close()
print("done")
' "$MEMCACHED_PORT"
    assert_equal "$status" 0
    assert_equal "$output" done
    expect_num "$(json_field "$REPORT" "$(pool_for "$MEMCACHED_PORT")" parked)" -eq 50 "parked"
}

@test "memcached binary QUIT (answered from a NOOP, its opaque echoed) and QUITQ: the program reads what memcached would send, then EOF; parked" {
    require_cmd memcached
    start_memcached "$BATS_TEST_TMPDIR/memcached" || fail "memcached did not start"
    run_pooled "$(pool_for "$MEMCACHED_PORT")" "$OBJPOOL_PY" -c '
import socket, struct, sys
def req(op, opaque):
    return struct.pack(">BBHBBHIIQ", 0x80, op, 0, 0, 0, 0, 0, opaque, 0)
def recv_all(s, n):
    b = b""
    while len(b) < n:
        d = s.recv(n - len(b))
        if not d:
            break
        b += d
    return b
for i in range(40):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.sendall(req(0x0a, 7)); assert recv_all(s, 24) == struct.pack(">BBHBBHIIQ", 0x81, 0x0a, 0, 0, 0, 0, 0, 7, 0)
    if i % 2:
        s.sendall(req(0x17, 9))
    else:
        s.sendall(req(0x07, 0x12345678 + i))
        r = recv_all(s, 24)
        assert r == struct.pack(">BBHBBHIIQ", 0x81, 0x07, 0, 0, 0, 0, 0, 0x12345678 + i, 0), r
    assert s.recv(100) == b""
    s.close()
print("done")
' "$MEMCACHED_PORT"
    assert_equal "$status" 0
    assert_equal "$output" done
    expect_num "$(json_field "$REPORT" "$(pool_for "$MEMCACHED_PORT")" parked)" -eq 40 "parked"
}

@test "shutdown=pass: goodbyes and half-closes reach the server as written" {
    redis_up
    run_pooled "$(pool_for "$REDIS_PORT")?shutdown=pass" "$OBJPOOL_PY" -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"*1\r\n$4\r\nQUIT\r\n")
assert s.recv(100) == b"+OK\r\n"
assert s.recv(100) == b""
s.close()
print("done")
' "$REDIS_PORT"
    assert_equal "$status" 0
    expect_num "$(json_field "$REPORT" "$(pool_for "$REDIS_PORT")" parked)" -eq 0 "parked"
}
