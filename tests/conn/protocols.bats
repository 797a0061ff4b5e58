#!/usr/bin/env bats
# the protocol layer against real servers: redis-py SELECT loops keep every
# key in its database, AUTH/ACL users never leak (NOAUTH every time),
# MULTI/WATCH/SUBSCRIBE/SETNAME/HELLO 3/TRACKING never reach the next
# client, pipelined and partly read replies never cross (tag server, HTTP
# chunked streams, memcached multi-get), HEAD/GET, `Connection: close`, TLS
# never parked, urllib × 4000 without an error, check probes on TCP
#
# The protocol layer against real servers: a connection is parked only when
# its protocol proves every response was read whole and the session holds no
# state the next user could inherit.  redis-server (SELECT, AUTH, ACL users,
# MULTI, WATCH, SUBSCRIBE, CLIENT SETNAME, HELLO 3, CLIENT TRACKING), the
# tag server (a pipelined pair read half), HTTP (a response read up to its
# headers, HEAD, Connection: close, a pipelined pair, urllib), memcached
# (noreply, meta commands, a multi-get read half), TLS and the check= probe.
# Where reuse must still happen a test asserts it, and where nothing may be
# parked the report must say why, so none passes by pooling nothing.  The
# clients are tests/py/redis_proto.py, http_proto.py (also the
# test's own HTTP server), memcache_proto.py, http_loop.py, redis_loop.py and
# tests/tools/tagclient.

load ../helpers

setup() {
    require_lib
}

# --- redis --------------------------------------------------------------------------

RPROTO="$PY/redis_proto.py"

# redis_conns_pw PASSWORD: total_connections_received, asked with a password.
redis_conns_pw() {
    "$OBJPOOL_PY" "$RPROTO" stat total_connections_received --port "$REDIS_PORT" --password "$1"
}

# assert_redis_reuse BEFORE AFTER MAX: fewer than MAX server connections
# between BEFORE and AFTER (AFTER's own query not counted).
assert_redis_reuse() {
    expect_num "$(($2 - $1 - 1))" -lt "$3" "redis total_connections_received growth"
}

# select_loop PROTO: on a new server, 200 x (db=1 client SETs k1_i, db=0
# client SETs k0_i), with ?proto=PROTO (auto: the spec says nothing, auto
# being the default).
select_loop() {
    redis_up
    local t spec before after
    t=$(pool_for "$REDIS_PORT")
    spec=$t
    [[ $1 == auto ]] || spec="$t?proto=$1"
    before=$(redis_conns)
    run_pooled "$spec" "$OBJPOOL_PY" "$RPROTO" select-loop --port "$REDIS_PORT" --count 200
    assert_loop_clean 400
    after=$(redis_conns)
    run_plain "$OBJPOOL_PY" "$RPROTO" check-dbs --port "$REDIS_PORT" --count 200
    assert_success
    assert_output --partial "db0 keys=200 missing=0 foreign=0"
    assert_output --partial "db1 keys=200 missing=0 foreign=0"
    assert_redis_reuse "$before" "$after" 40
    expect_num "$(json_field "$REPORT" "$t" hits)" -ge 360 "report hits"
    expect_num "$(json_field "$REPORT" "$t" discarded.reset_failed)" -eq 0 "discarded.reset_failed"
    assert_equal "$(json_text "$REPORT" "$t" proto)" redis
}

@test "redis-py SELECT (proto auto): 200 x (db=1 client SETs, db=0 client SETs): each key in its own database, connections reused" {
    select_loop auto
}

@test "redis-py SELECT (proto=redis): each key in its own database, connections reused" {
    select_loop redis
}

@test "redis requirepass: 200 x (client with the password SETs/GETs, client without it GETs): every one gets NOAUTH, connections reused" {
    redis_up --requirepass s3cret
    local t before after
    t=$(pool_for "$REDIS_PORT")
    before=$(redis_conns_pw s3cret)
    run_pooled "$t" "$OBJPOOL_PY" "$RPROTO" auth-loop --port "$REDIS_PORT" --count 200 --password s3cret
    assert_loop_clean 400
    after=$(redis_conns_pw s3cret)
    assert_redis_reuse "$before" "$after" 40
    expect_num "$(json_field "$REPORT" "$t" hits)" -ge 360 "report hits"
    expect_num "$(json_field "$REPORT" "$t" discarded.reset_failed)" -eq 0 "discarded.reset_failed"
}

@test "redis ACL: 200 x (alice client, default client): ACL WHOAMI always names the client's own user, connections reused" {
    redis_up
    run_plain "$OBJPOOL_PY" "$RPROTO" acl-setup --port "$REDIS_PORT"
    assert_success
    local t before after
    t=$(pool_for "$REDIS_PORT")
    before=$(redis_conns)
    run_pooled "$t" "$OBJPOOL_PY" "$RPROTO" acl-loop --port "$REDIS_PORT" --count 200
    assert_loop_clean 400
    after=$(redis_conns)
    assert_redis_reuse "$before" "$after" 40
    expect_num "$(json_field "$REPORT" "$t" hits)" -ge 360 "report hits"
}

@test "redis session state (SELECT, MULTI, WATCH, HELLO 3, TRACKING, SUBSCRIBE, PSUBSCRIBE, SETNAME, HELLO SETNAME): the next client gets a fresh session; RESET-able ones reuse the connection" {
    redis_up
    local t
    t=$(pool_for "$REDIS_PORT")
    run_pooled "$t" "$OBJPOOL_PY" "$RPROTO" session --port "$REDIS_PORT" --rounds 10
    # 10 rounds x 9 states: every next client saw a fresh session (no name) ...
    assert_loop_clean 90
    # ... and after SELECT, MULTI, WATCH, HELLO 3, TRACKING, CLIENT SETNAME
    # and HELLO 3 SETNAME it was the same server connection, reset (CLIENT
    # ID equal): RESET clears the name
    assert_equal "$(client_field reused)" 70
    # SUBSCRIBE and PSUBSCRIBE cannot be followed: their connections were destroyed
    expect_num "$(json_field "$REPORT" "$t" discarded.session_state)" -ge 20 "discarded.session_state"
    expect_num "$(json_field "$REPORT" "$t" discarded.reset_failed)" -eq 0 "discarded.reset_failed"
    assert_equal "$(json_text "$REPORT" "$t" proto)" redis
}

# --- the tag server: a pipelined pair read half -------------------------------------------

@test "tagserver, proto=line: a pipelined pair with one reply read is never reused; 1000 cycles, no foreign reply, the clean cycles reuse" {
    start_tagserver --delay-second-ms 20
    local t="tcp://127.0.0.1:$PORT"
    run_pooled "$t?proto=line" "$TOOLS/tagclient" --port "$PORT" --cycles 1000 --mode pipeline
    assert_client_clean 1000
    # 250 pipelined cycles: each one's connection is destroyed, the 750
    # clean ones reuse what the cycle before them parked
    expect_num "$(json_field "$REPORT" "$t" discarded.incomplete_response)" -eq 250 \
        "discarded.incomplete_response"
    expect_num "$(json_field "$REPORT" "$t" hits)" -ge 740 "report hits"
    expect_num "$(accepts)" -le 260 "server accepts"
    assert_equal "$(json_text "$REPORT" "$t" proto)" line
}

@test "tagserver, proto=auto: the tag protocol is unknown, nothing is parked; 1000 cycles, no foreign reply" {
    start_tagserver --delay-second-ms 20
    local t="tcp://127.0.0.1:$PORT"
    run_pooled "$t" "$TOOLS/tagclient" --port "$PORT" --cycles 1000 --mode pipeline
    assert_client_clean 1000
    assert_equal "$(json_field "$REPORT" "$t" hits)" 0
    # at least the 750 clean cycles' connections: byte-level clean, unknown protocol
    expect_num "$(json_field "$REPORT" "$t" discarded.unknown_protocol)" -ge 750 \
        "discarded.unknown_protocol"
    assert_equal "$(accepts)" 1000
}

# --- HTTP --------------------------------------------------------------------------

HPROTO="$PY/http_proto.py"

# start_httpd: tests/py/http_proto.py's server -> HTTPD_PORT, HTTPD_COUNT
# (the file holding its connection count); stopped by teardown.
start_httpd() {
    local dir="$BATS_TEST_TMPDIR/httpd" i
    mkdir -p "$dir"
    "$OBJPOOL_PY" "$HPROTO" serve --port-file "$dir/port" --count-file "$dir/count" \
        >"$dir/log" 2>&1 3>&- </dev/null &
    SERVERS_STARTED+=("$!")
    for ((i = 0; i < 100; i++)); do
        if [[ -s $dir/port ]]; then
            HTTPD_PORT=$(<"$dir/port")
            HTTPD_COUNT=$dir/count
            return 0
        fi
        sleep 0.05
    done
    fail "http_proto.py serve did not start: $(cat "$dir/log")"
}

@test "HTTP: a chunked response read up to its headers is never reused; 1000 requests, every response the request's own" {
    start_httpd
    local t
    t=$(pool_for "$HTTPD_PORT")
    run_pooled "$t" "$OBJPOOL_PY" "$HPROTO" headers-only --port "$HTTPD_PORT" --count 1000
    assert_loop_clean 1000
    # the 500 half-read responses: destroyed (their rest still coming, or
    # already there). A client's read can take in the whole streamed body
    # when its chunks all arrived before it: that response was read whole
    # and its connection is rightly parked, so "about 500", never more.
    local incomplete unread
    incomplete=$(json_field "$REPORT" "$t" discarded.incomplete_response)
    unread=$(json_field "$REPORT" "$t" discarded.unread_data)
    expect_num "$((incomplete + unread))" -le 500 "half-read responses destroyed"
    expect_num "$((incomplete + unread))" -ge 480 "half-read responses destroyed"
    expect_num "$incomplete" -ge 1 "discarded.incomplete_response"
    # each one reused the connection the whole-read response before it left
    expect_num "$(json_field "$REPORT" "$t" hits)" -ge 490 "report hits"
    expect_num "$(accepts "$HTTPD_COUNT")" -le 510 "server connections"
    assert_equal "$(json_text "$REPORT" "$t" proto)" http
}

@test "HTTP: HEAD then GET against nginx, 500 times: every response right, <= 2 nginx connections" {
    nginx_up
    local t
    t=$(pool_for "$NGINX_PORT")
    run_pooled "$t" "$OBJPOOL_PY" "$PY/http_loop.py" --url "$URL" --count 500 --mode headget
    assert_loop_clean 500
    assert_equal "$(nginx_requests "$NG")" 1000
    expect_num "$(nginx_connections "$NG")" -le 2 "nginx connections"
    expect_num "$(json_field "$REPORT" "$t" hits)" -ge 998 "report hits"
    assert_equal "$(json_text "$REPORT" "$t" proto)" http
}

@test "HTTP: responses saying Connection: close are never parked, though the server keeps the connection open" {
    start_httpd
    local t
    t=$(pool_for "$HTTPD_PORT")
    # the same server without the header: its connections are reused
    run_pooled "$t" "$OBJPOOL_PY" "$HPROTO" full --port "$HTTPD_PORT" --count 200
    assert_loop_clean 200
    expect_num "$(json_field "$REPORT" "$t" hits)" -ge 198 "report hits without Connection: close"
    local before now
    before=$(accepts "$HTTPD_COUNT")
    run_pooled "$t" "$OBJPOOL_PY" "$HPROTO" close --port "$HTTPD_PORT" --count 200
    assert_loop_clean 200
    assert_equal "$(json_field "$REPORT" "$t" hits)" 0
    assert_equal "$(json_field "$REPORT" "$t" parked)" 0
    now=$(accepts "$HTTPD_COUNT")
    assert_equal "$((now - before))" 200
}

@test "HTTP: a pipelined pair with one response read is never reused; 400 requests, every response the request's own" {
    start_httpd
    local t
    t=$(pool_for "$HTTPD_PORT")
    run_pooled "$t" "$OBJPOOL_PY" "$HPROTO" pipeline --port "$HTTPD_PORT" --count 400
    assert_loop_clean 400
    # the second response is 20 ms late: nothing unread at close, only the
    # protocol knows it is owed
    assert_equal "$(json_field "$REPORT" "$t" discarded.incomplete_response)" 200
    expect_num "$(json_field "$REPORT" "$t" hits)" -ge 190 "report hits"
}

@test "urllib.request.urlopen() x4000 against nginx (keepalive on): zero errors; its Connection: close is honoured" {
    nginx_up
    local t
    t=$(pool_for "$NGINX_PORT")
    run_pooled "$t" "$OBJPOOL_PY" "$PY/http_loop.py" --url "$URL" --count 4000 --mode urllib
    assert_loop_clean 4000
    assert_equal "$(nginx_requests "$NG")" 4000
    assert_equal "$(json_field "$REPORT" "$t" stale_reuse_errors)" 0
    assert_equal "$(json_field "$REPORT" "$t" hits)" 0
    assert_equal "$(json_text "$REPORT" "$t" proto)" http
}

# --- memcached ---------------------------------------------------------------------

MPROTO="$PY/memcache_proto.py"

memcached_up() {
    require_cmd memcached
    require_py pymemcache
    start_memcached "$BATS_TEST_TMPDIR/memcached" || fail "memcached did not start"
}

@test "memcached: 100 rounds of get miss/hit, get_many, noreply set, meta ms/mg/mn, a client each: all values right, <= 5 connections" {
    memcached_up
    local t before after
    t=$(pool_for "$MEMCACHED_PORT")
    before=$(memcached_stat "$MEMCACHED_PORT" total_connections)
    run_pooled "$t" "$OBJPOOL_PY" "$MPROTO" mix --port "$MEMCACHED_PORT" --rounds 100 --tag mix
    assert_loop_clean 600
    after=$(memcached_stat "$MEMCACHED_PORT" total_connections)
    # 600 clients; a noreply set owes no reply, so its connection is reused too
    expect_num "$((after - before - 1))" -le 5 "memcached total_connections growth"
    expect_num "$(json_field "$REPORT" "$t" hits)" -ge 590 "report hits"
    run_plain "$OBJPOOL_PY" "$MPROTO" check-noreply --port "$MEMCACHED_PORT" --rounds 100 --tag mix
    assert_success
    assert_equal "$(json_text "$REPORT" "$t" proto)" memcache
}

@test "memcached: 'get a b c' read up to its first VALUE line is never reused; the next client's get returns its own value" {
    memcached_up
    local t
    t=$(pool_for "$MEMCACHED_PORT")
    run_pooled "$t" "$OBJPOOL_PY" "$MPROTO" partial --port "$MEMCACHED_PORT" --count 200 --tag part
    # per op: the first line checked, the next client's own value checked
    assert_loop_clean 400
    # memcached sends the whole reply at once: what the client left is
    # unread data, or, if not all there yet, an incomplete response
    local incomplete unread
    incomplete=$(json_field "$REPORT" "$t" discarded.incomplete_response)
    unread=$(json_field "$REPORT" "$t" discarded.unread_data)
    assert_equal "$((incomplete + unread))" 200
    # the set and the half-read get before it reused
    expect_num "$(json_field "$REPORT" "$t" hits)" -ge 390 "report hits"
}

# --- TLS --------------------------------------------------------------------------

@test "TLS (nginx ssl): 50 requests, a TLS connection each: all succeed, none parked (discarded.tls)" {
    require_cmd openssl
    local dir="$BATS_TEST_TMPDIR/tls" tls_port
    mkdir -p "$dir"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$dir/key.pem" -out "$dir/cert.pem" -days 2 -subj /CN=localhost \
        -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null ||
        fail "openssl req failed"
    tls_port=$(free_port)
    nginx_up "server {
        listen 127.0.0.1:$tls_port ssl;
        ssl_certificate $dir/cert.pem;
        ssl_certificate_key $dir/key.pem;
        location / { return 200 \"tls \$request_uri\\n\"; }
    }"
    wait_port "$tls_port" "$NGINX_PID" "$NG/error.log" || fail "nginx is not listening on $tls_port"
    local t
    t=$(pool_for "$tls_port")
    run_pooled "$t" "$OBJPOOL_PY" "$HPROTO" tls --port "$tls_port" --count 50 --cafile "$dir/cert.pem"
    assert_loop_clean 50
    assert_equal "$(json_field "$REPORT" "$t" hits)" 0
    assert_equal "$(json_field "$REPORT" "$t" discarded.tls)" 50
    assert_equal "$(nginx_requests "$NG")" 50
    assert_equal "$(nginx_connections "$NG")" 50
}

# --- the check= probe --------------------------------------------------------------------

@test "redis-py with check=PING/expect=+PONG: 1000 ops, a new client per command: <= 3 connections, no unobserved_io" {
    redis_up
    local t before after
    t=$(pool_for "$REDIS_PORT")
    before=$(redis_conns)
    run_pooled "$t?check=PING\\r\\n&expect=+PONG\\r\\n" "$OBJPOOL_PY" "$PY/redis_loop.py" \
        --port "$REDIS_PORT" --count 1000 --mode perop
    assert_loop_clean 1000
    after=$(redis_conns)
    expect_num "$((after - before - 1))" -le 3 "redis total_connections_received growth"
    assert_equal "$(json_field "$REPORT" "$t" discarded.unobserved_io)" 0
    assert_equal "$(json_field "$REPORT" "$t" discarded.check_failed)" 0
    expect_num "$(json_field "$REPORT" "$t" hits)" -ge 1997 "report hits"
}
