#!/usr/bin/env bats
# a recycled socket is indistinguishable from a new one
#
# Socket recycling: the throwaway socket of a reused connect() is kept and
# handed to the next socket(). It must look exactly like a new socket.
load ../helpers

setup() {
    start_tagserver
}

teardown() {
    stop_tagserver
}

@test "a recycled socket is a new socket: lowest fd, the flags asked for, no earlier option, unconnected" {
    run_pooled "tcp://127.0.0.1:$PORT?proto=line" "$TOOLS/spare" --port "$PORT"
    assert_success
    assert_output --partial "spare: ok"
    refute_output --partial "FAIL"
    # the pool really was used, so the checks ran against recycled sockets
    expect_num "$(json_field "$REPORT" ":$PORT" hits)" -ge 8 "hits"
}

@test "socket recycling is really exercised: strace shows fewer socket() calls than connects" {
    require_cmd strace
    local log="$BATS_TEST_TMPDIR/strace.log"
    run_pooled "tcp://127.0.0.1:$PORT?proto=line" strace -f -e trace=socket -o "$log" \
        "$TOOLS/tagclient" --port "$PORT" --cycles 200
    assert_success
    local sockets
    sockets=$(grep -c 'socket(AF_INET, SOCK_STREAM' "$log")
    # 200 socket() calls by the program; most are served from spares
    expect_num "$sockets" -le 20 "real socket() system calls"
}
