#!/usr/bin/env bats
# nginx, redis, memcached with real Python clients; server idle-close,
# keepalive_requests, restarts
#
# Real-world clients through libobjpool.so: nginx, redis-server and memcached
# started by the tests (own configs in temp dirs, free loopback ports), driven
# by real client libraries run by Debian's /usr/bin/python3: requests,
# http.client, redis-py (sync and redis.asyncio) and pymemcache.  The client
# programs are in tests/py/; the server start/stop functions in
# bench/servers.bash (shared with `make bench`), loaded by tests/helpers.bash.
# Nothing here measures time.

load ../helpers

setup() {
    require_lib
}

# --- HTTP -------------------------------------------------------------------------

@test "requests.get() x1000 without a Session: <= 2 nginx connections, responses identical to an unpooled run" {
    nginx_up
    run_plain "$OBJPOOL_PY" "$PY/http_loop.py" --url "$URL" --count 1000 --mode requests \
        --dump "$BATS_TEST_TMPDIR/plain.dump"
    assert_loop_clean 1000
    # the check below can fail: unpooled, every request is its own connection
    expect_num "$(nginx_connections "$NG")" -ge 1000 "unpooled nginx connections"

    reset_access_log
    run_pooled "$(pool_for "$NGINX_PORT")" "$OBJPOOL_PY" "$PY/http_loop.py" --url "$URL" \
        --count 1000 --mode requests --dump "$BATS_TEST_TMPDIR/pooled.dump"
    assert_loop_clean 1000
    assert_equal "$(nginx_requests "$NG")" 1000
    expect_num "$(nginx_connections "$NG")" -le 2 "nginx connections"
    expect_num "$(json_field "$REPORT" "$(pool_for "$NGINX_PORT")" hits)" -ge 998 "report hits"
    cmp "$BATS_TEST_TMPDIR/plain.dump" "$BATS_TEST_TMPDIR/pooled.dump"
}

@test "nginx: 500 http.client and 500 requests.get() connections per request each use <= 2 connections" {
    nginx_up
    local mode
    for mode in httpclient requests; do
        reset_access_log
        run_pooled "$(pool_for "$NGINX_PORT")" "$OBJPOOL_PY" "$PY/http_loop.py" --url "$URL" \
            --count 500 --mode "$mode"
        assert_loop_clean 500
        assert_equal "$(nginx_requests "$NG")" 500
        expect_num "$(nginx_connections "$NG")" -le 2 "$mode: distinct nginx connections"
    done
}

@test "nginx keepalive_requests 50: 1000 requests.get() calls, zero client errors" {
    nginx_up "keepalive_requests 50;"
    # max_uses=50 retires each connection after nginx's last request on it:
    # nginx's close follows that response at once, and a close that lands
    # after objpool's reuse check would reach the client as an error.
    run_pooled "$(pool_for "$NGINX_PORT")?max_uses=50" "$OBJPOOL_PY" "$PY/http_loop.py" --url "$URL" \
        --count 1000 --mode requests
    assert_loop_clean 1000
    assert_equal "$(nginx_requests "$NG")" 1000
    # nginx did close every 50th request's connection, and objpool saw it
    local conns
    conns=$(nginx_connections "$NG")
    expect_num "$conns" -ge 20 "nginx connections"
    expect_num "$conns" -le 40 "nginx connections"
    expect_num "$(json_field "$REPORT" "$(pool_for "$NGINX_PORT")" discarded_total)" -ge 19 \
        "connections closed by nginx that were discarded"
    expect_num "$(json_field "$REPORT" "$(pool_for "$NGINX_PORT")" discarded.max_uses)" -ge 19 \
        "connections retired by max_uses"
    expect_num "$(json_field "$REPORT" "$(pool_for "$NGINX_PORT")" stale_reuse_errors)" -eq 0 \
        "stale_reuse_errors"
}

# --- redis ------------------------------------------------------------------------

@test "redis-py: a new redis.Redis() per command, 2000 SET/GET pairs: <= 2 new server connections" {
    redis_up
    local before after
    before=$(redis_conns)
    run_pooled "$(pool_for "$REDIS_PORT")" "$OBJPOOL_PY" "$PY/redis_loop.py" \
        --port "$REDIS_PORT" --count 2000 --mode perop
    assert_loop_clean 2000
    after=$(redis_conns)
    # after-before counts redis_conns' own connection too
    expect_num "$((after - before - 1))" -le 2 "total_connections_received growth"
    expect_num "$(json_field "$REPORT" "$(pool_for "$REDIS_PORT")" hits)" -ge 3998 "report hits"
}

@test "redis.asyncio: 500 operations, each command on a new client: pooled, all values correct" {
    redis_up
    local before after
    before=$(redis_conns)
    run_pooled "$(pool_for "$REDIS_PORT")" "$OBJPOOL_PY" "$PY/redis_loop.py" \
        --port "$REDIS_PORT" --count 500 --mode async
    assert_loop_clean 500
    after=$(redis_conns)
    expect_num "$((after - before - 1))" -le 2 "total_connections_received growth"
    expect_num "$(json_field "$REPORT" "$(pool_for "$REDIS_PORT")" hits)" -ge 998 "report hits"
}

@test "redis timeout 1: a client sleeping 1.5 s between operations sees no error; the report counts the stale discards" {
    redis_up --timeout 1
    # redis closes a client idle for 2 changes of time()'s second: starting at
    # .7 s past a second, the connection idle from x.7 to x+2.2 is closed
    # (the server's cron runs every 100 ms) and the one idle from x+2.2 to
    # x+3.7 is not: ops 2 and 4 find their pooled connection closed.
    run_pooled "$(pool_for "$REDIS_PORT")" "$OBJPOOL_PY" "$PY/redis_loop.py" \
        --port "$REDIS_PORT" --count 5 --sleep 1.5 --align 0.7 --mode perop
    assert_loop_clean 5
    local t
    t=$(pool_for "$REDIS_PORT")
    expect_num "$(json_field "$REPORT" "$t" discarded.stale_eof)" -ge 2 "discarded.stale_eof"
    expect_num "$(json_field "$REPORT" "$t" stale_reuse_errors)" -eq 0 "stale_reuse_errors"
    expect_num "$(json_field "$REPORT" "$t" hits)" -ge 7 "report hits"
}

@test "redis timeout 1, pool idle_timeout=1s: a client sleeping 1.5 s sees no error; the report counts expired discards" {
    redis_up --timeout 1
    run_pooled "$(pool_for "$REDIS_PORT")?idle_timeout=1s" "$OBJPOOL_PY" "$PY/redis_loop.py" \
        --port "$REDIS_PORT" --count 3 --sleep 1.5 --mode perop
    assert_loop_clean 3
    local t
    t=$(pool_for "$REDIS_PORT")
    expect_num "$(json_field "$REPORT" "$t" discarded.expired)" -ge 2 "discarded.expired"
    expect_num "$(json_field "$REPORT" "$t" stale_reuse_errors)" -eq 0 "stale_reuse_errors"
}

# restart_mid_run MODE: runs redis_loop.py (400 ops) with or without the
# preload, restarting redis-server (same port) after op 200; sets ERRORS.
restart_mid_run() {
    local mode=$1 pause="$BATS_TEST_TMPDIR/pause.$1"
    mkdir -p "$pause"
    local cmd=("$OBJPOOL_PY" "$PY/redis_loop.py" --port "$REDIS_PORT" --count 400 --mode perop
        --pause-at 200 --pause-dir "$pause" --allow-errors)
    (
        local i
        for ((i = 0; i < 600; i++)); do
            [[ -e $pause/paused ]] && break
            sleep 0.05
        done
        stop_server "$REDIS_PID"
        REDIS_WANT_PORT=$REDIS_PORT start_redis "$RD.$mode" >/dev/null 2>&1
        echo "$REDIS_PID" >"$pause/pid"
        touch "$pause/resume"
    ) 3>&- &
    local helper=$!
    if [[ $mode == pooled ]]; then
        run_pooled "$(pool_for "$REDIS_PORT")" "${cmd[@]}"
    else
        run_plain "${cmd[@]}"
    fi
    wait "$helper"
    [[ -s $pause/pid ]] || fail "redis-server was not restarted"
    SERVERS_STARTED+=("$(<"$pause/pid")")
    REDIS_PID=$(<"$pause/pid")
    assert_equal "$status" 0
    assert_equal "$(client_field mismatches)" 0
    assert_equal "$(client_field ok)" "$((400 - $(client_field errors)))"
    ERRORS=$(client_field errors)
}

@test "redis-server restarted in the middle of a run: no more client errors than without objpool" {
    redis_up
    restart_mid_run plain
    local plain=$ERRORS
    restart_mid_run pooled
    local t
    t=$(pool_for "$REDIS_PORT")
    expect_num "$ERRORS" -le "$plain" "client errors with objpool (without: $plain)"
    # the pooled connection to the old server was found dead and dropped
    expect_num "$(json_field "$REPORT" "$t" discarded.stale_eof)" -ge 1 "discarded.stale_eof"
    expect_num "$(json_field "$REPORT" "$t" hits)" -ge 790 "report hits"
}

# --- memcached --------------------------------------------------------------------

@test "pymemcache: a new Client per operation against memcached, 1000 set/get pairs: pooled, values correct" {
    require_cmd memcached
    require_py pymemcache
    start_memcached "$BATS_TEST_TMPDIR/memcached" || fail "memcached did not start"
    local before after
    before=$(memcached_stat "$MEMCACHED_PORT" total_connections)
    run_pooled "$(pool_for "$MEMCACHED_PORT")" "$OBJPOOL_PY" "$PY/memcache_loop.py" \
        --port "$MEMCACHED_PORT" --count 1000 --mode perop
    assert_loop_clean 1000
    after=$(memcached_stat "$MEMCACHED_PORT" total_connections)
    expect_num "$((after - before - 1))" -le 2 "memcached total_connections growth"
    expect_num "$(json_field "$REPORT" "$(pool_for "$MEMCACHED_PORT")" hits)" -ge 1998 "report hits"
}
