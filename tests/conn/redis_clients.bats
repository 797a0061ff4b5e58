#!/usr/bin/env bats
# modern Redis clients, a connection per operation: CLIENT SETINFO on every
# connect (an error on Redis < 7.2) pooled, CLIENT SETNAME reset (the next
# GETNAME nil) or, where RESET is refused, never parked
#
# Modern Redis clients (issue 26 item 4): redis-py >= 5, node-redis,
# go-redis 9, Jedis 5 and Lettuce send CLIENT SETINFO LIB-NAME/LIB-VER on
# every connect; some name their connections (CLIENT SETNAME). One
# connection per operation against the installed redis-server, each
# client tests/py/redis_setinfo.py (raw RESP, as those libraries write it).

load ../helpers
source "$REPO_ROOT/bench/servers.bash"

SETINFO="$REPO_ROOT/tests/py/redis_setinfo.py"

setup() {
    require_lib
    require_cmd redis-server
}

teardown() {
    stop_servers
}

# redis_at_least MAJOR MINOR: the installed redis-server is that or newer.
redis_at_least() {
    local v
    v=$(redis-server --version | grep -o 'v=[0-9.]*' | cut -d= -f2)
    [[ "$(printf '%s\n%s\n' "$1.$2" "$v" | sort -V | head -n 1)" == "$1.$2" ]]
}

@test "a redis-py-5-style client (CLIENT SETINFO LIB-NAME and LIB-VER on every connect, an error before Redis 7.2), a connection per op: pooled (>= 95% hits), values right" {
    start_redis "$BATS_TEST_TMPDIR/redis" || fail "redis-server did not start"
    local t="tcp://127.0.0.1:$REDIS_PORT" before after
    before=$(redis_stat "$REDIS_PORT" total_connections_received)
    run_pooled "$t" "$OBJPOOL_PY" "$SETINFO" loop --port "$REDIS_PORT" --count 500
    assert_loop_clean 500
    if redis_at_least 7 2; then
        assert_equal "$(client_field setinfo_ok)" 1000
    else
        # the installed server predates SETINFO: each one's error reply was
        # read like any other reply, and the connection parked
        assert_equal "$(client_field setinfo_err)" 1000
    fi
    expect_num "$(json_field "$REPORT" "$t" hits)" -ge 475 "report hits"
    expect_num "$(json_field "$REPORT" "$t" discarded.session_state)" -eq 0 "discarded.session_state"
    after=$(redis_stat "$REDIS_PORT" total_connections_received)
    expect_num $((after - before)) -le 26 "server connections"
}

@test "CLIENT SETNAME by every other client, a connection per op: reset with RESET and reused; the next user's CLIENT GETNAME is nil" {
    start_redis "$BATS_TEST_TMPDIR/redis" || fail "redis-server did not start"
    local t="tcp://127.0.0.1:$REDIS_PORT"
    run_pooled "$t" "$OBJPOOL_PY" "$SETINFO" names --port "$REDIS_PORT" --count 200
    assert_loop_clean 200
    expect_num "$(json_field "$REPORT" "$t" hits)" -ge 190 "report hits"
    expect_num "$(json_field "$REPORT" "$t" discarded.session_state)" -eq 0 "discarded.session_state"
    expect_num "$(json_field "$REPORT" "$t" discarded.reset_failed)" -eq 0 "discarded.reset_failed"
}

@test "CLIENT SETNAME on a server that refuses RESET (renamed away): a named connection is never parked; the next user's CLIENT GETNAME is nil" {
    start_redis "$BATS_TEST_TMPDIR/redis" --rename-command RESET '""' || fail "redis-server did not start"
    local t="tcp://127.0.0.1:$REDIS_PORT"
    run_pooled "$t" "$OBJPOOL_PY" "$SETINFO" names --port "$REDIS_PORT" --count 100
    assert_loop_clean 100
    # the first named connection's RESET is refused (one reset_failed, and
    # a warning); every later named one is destroyed at once
    expect_num "$(json_field "$REPORT" "$t" discarded.reset_failed)" -eq 1 "discarded.reset_failed"
    expect_num "$(json_field "$REPORT" "$t" discarded.session_state)" -ge 45 "discarded.session_state"
    [[ "$stderr" == *"the server refused the session reset"* ]] || fail "no warning: $stderr"
}
