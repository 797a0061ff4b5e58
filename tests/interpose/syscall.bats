#!/usr/bin/env bats
# syscall() interposed, and what it is for: Node (libuv) closes every
# stream with syscall(SYS_close, fd), so until objpool routed that number a
# Node program's connections were never parked (not_same_socket). Node
# clients per operation against a real redis-server; the exactness of
# every number objpool does not own (tests/tools/sysexact.c); epoll
# interest registered through io_uring, as libuv >= 1.50 does it
# (tests/tools/uring_epoll.c).

load ../helpers

setup() {
    require_lib
}

NODE_DIR="$REPO_ROOT/build/node/node_modules"

# require_node [MODULE...]: node, and the npm modules tests/run installed.
require_node() {
    require_cmd node
    local m
    for m in "$@"; do
        [[ -f "$NODE_DIR/$m/package.json" ]] ||
            skip "npm module $m is not in build/node (tests/run installs it with npm)"
    done
}

# node_loop MODE COUNT [args...]: tests/node/redis_loop.js, pooled, against $REDIS_PORT.
node_loop() {
    local mode=$1 count=$2
    shift 2
    run_pooled "$(pool_for "$REDIS_PORT")" NODE_PATH="$NODE_DIR" node \
        "$TESTS_DIR/node/redis_loop.js" --port "$REDIS_PORT" --count "$count" --mode "$mode" "$@"
}

@test "syscall(): 0-6 arguments, bad numbers, bad fds, every routed number on fds objpool does not own: same results and errno with the preload" {
    [[ -x "$TOOLS/sysexact" ]] || fail "test tool not built: $TOOLS/sysexact"
    redis_up
    run_plain "$TOOLS/sysexact" --port "$REDIS_PORT"
    assert_success
    local plain=$output
    [[ $(grep -c 'rc=' <<<"$plain") -ge 150 ]] || fail "sysexact printed too little"
    run_pooled "$(pool_for "$REDIS_PORT")" "$TOOLS/sysexact" --port "$REDIS_PORT"
    assert_success
    diff <(printf '%s\n' "$plain") <(printf '%s\n' "$output")
    # and it was objpool's syscall() that answered
    run_pooled "$(pool_for "$REDIS_PORT")" "$TOOLS/sysexact" --where
    assert_output "$(readlink -f "${LIB##*:}")"
}

@test "syscall() only, x200 PINGs on new connections to redis (write/read, sendto/recvfrom, writev/readv, sendmsg/recvmsg, close): observed I/O, pooled" {
    [[ -x "$TOOLS/sysexact" ]] || fail "test tool not built: $TOOLS/sysexact"
    redis_up
    run_pooled "$(pool_for "$REDIS_PORT")" "$TOOLS/sysexact" --lease "$REDIS_PORT" 200
    assert_success
    assert_output "pings=200 ok=200"
    expect_num "$(json_field "$REPORT" "$(pool_for "$REDIS_PORT")" hits)" -ge 190 "report hits"
    assert_equal "$(json_field "$REPORT" "$(pool_for "$REDIS_PORT")" discarded.unobserved_io)" 0
}

@test "Node: a net.Socket per operation, destroy() after the reply, x200 against redis-server: >= 95% hits, every value right" {
    require_node
    redis_up
    local before
    before=$(redis_conns)
    node_loop net 200
    assert_loop_clean 200
    expect_num "$(json_field "$REPORT" "$(pool_for "$REDIS_PORT")" hits)" -ge 190 "report hits"
    expect_num "$(($(redis_conns) - before))" -le 10 "redis connections"
}

@test "Node: node-redis createClient per operation (CLIENT SETINFO on connect), disconnect(), x200: >= 95% hits, every value right" {
    require_node redis
    redis_up
    node_loop redis 200
    assert_loop_clean 200
    expect_num "$(json_field "$REPORT" "$(pool_for "$REDIS_PORT")" hits)" -ge 190 "report hits"
}

@test "Node: node-redis createClient per operation without client info, disconnect(), x200: >= 95% hits, every value right" {
    require_node redis
    redis_up
    node_loop redis 200 --no-client-info
    assert_loop_clean 200
    expect_num "$(json_field "$REPORT" "$(pool_for "$REDIS_PORT")" hits)" -ge 190 "report hits"
}

@test "epoll interest registered through io_uring (libuv >= 1.50): a parked connection delivers no event to the program's epoll set" {
    [[ -x "$TOOLS/uring_epoll" ]] || fail "test tool not built: $TOOLS/uring_epoll"
    redis_up
    run_pooled "$(pool_for "$REDIS_PORT")" "$TOOLS/uring_epoll" "$REDIS_PORT"
    [[ $status -ne 77 ]] || skip "${output#skip: }"
    assert_success
    assert_output --partial "registered=1 pong=1 "
    # the connection was parked (the server could still kill it), and its
    # hang-up did not reach the program
    assert_output --partial " killed=1 parked_events=0"
}
