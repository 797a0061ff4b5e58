#!/usr/bin/env bats
# TCP pooling: reuse, each discard reason, non-blocking clients, IPv6 and
# host names, threads, shutdown, max_size, idle_timeout, bad configuration,
# byte-identical pass-through
#
# Core TCP pooling behaviour of libobjpool.so, exercised with the real
# tagserver / tagclient tools over loopback.

load ../helpers

setup() {
    require_lib
}

pool_for() { echo "tcp://127.0.0.1:$1?proto=line"; } # the tag server speaks a line protocol

# --- 1. basic reuse ----------------------------------------------------------

@test "1000 cycles to a pooled target reuse one connection" {
    start_tagserver
    run_pooled "$(pool_for "$PORT")" "$TOOLS/tagclient" --port "$PORT" --cycles 1000
    assert_client_clean 1000
    expect_num "$(accepts)" -le 2 "server accepts"
    expect_num "$(client_field conn_ids)" -le 2 "distinct server connections seen"
    expect_num "$(json_field "$REPORT" "$(pool_for "$PORT")" hits)" -ge 998 "report hits"
    assert_equal "$stderr" ""
}

@test "a target that is not configured is not pooled and not reported" {
    start_tagserver
    local target_port=$PORT target_count=$COUNT_FILE
    start_tagserver            # a different port, configured but never used
    run_pooled "$(pool_for "$PORT")" "$TOOLS/tagclient" --port "$target_port" --cycles 1000
    assert_client_clean 1000
    assert_equal "$(accepts "$target_count")" 1000
    assert_equal "$(client_field conn_ids)" 1000
    if [[ -f "$REPORT" ]] && grep -q ":$target_port\\b" "$REPORT"; then
        fail "report mentions unconfigured port $target_port"
    fi
    # no pooled activity at all: nothing is printed anywhere
    [[ ! -s "$REPORT" ]] || fail "report written for a process with no pooled activity"
    assert_equal "$stderr" ""
}

# --- 2. abandoned requests ---------------------------------------------------------

@test "abandoned request: its reply never reaches the next user" {
    start_tagserver
    run_pooled "$(pool_for "$PORT")" "$TOOLS/tagclient" --port "$PORT" --cycles 200 --mode abandon
    assert_client_clean 200
    expect_num "$(json_field "$REPORT" "$(pool_for "$PORT")" discarded.abandoned_request)" \
        -ge 1 "discarded.abandoned_request"
}

# --- 3. connections that must not be parked --------------------------------------

@test "unread reply bytes: discarded as unread_data" {
    start_tagserver --mode extra
    run_pooled "$(pool_for "$PORT")" "$TOOLS/tagclient" --port "$PORT" --cycles 20 --mode unread
    assert_client_clean 20
    assert_equal "$(accepts)" 20
    expect_num "$(json_field "$REPORT" "$(pool_for "$PORT")" discarded.unread_data)" \
        -ge 19 "discarded.unread_data"
}

@test "server closes after each reply: discarded as stale_eof" {
    start_tagserver --mode close
    run_pooled "$(pool_for "$PORT")" "$TOOLS/tagclient" --port "$PORT" --cycles 20
    assert_client_clean 20
    assert_equal "$(accepts)" 20
    expect_num "$(json_field "$REPORT" "$(pool_for "$PORT")" discarded.stale_eof)" \
        -ge 19 "discarded.stale_eof"
}

@test "server half-closes after each reply: discarded as stale_eof" {
    start_tagserver --mode halfclose
    run_pooled "$(pool_for "$PORT")" "$TOOLS/tagclient" --port "$PORT" --cycles 20
    assert_client_clean 20
    assert_equal "$(accepts)" 20
    expect_num "$(json_field "$REPORT" "$(pool_for "$PORT")" discarded.stale_eof)" \
        -ge 19 "discarded.stale_eof"
}

# --- 4. non-blocking sockets -----------------------------------------------------------

@test "non-blocking connect/send/recv clients are pooled" {
    start_tagserver
    run_pooled "$(pool_for "$PORT")" "$TOOLS/tagclient" --port "$PORT" --cycles 200 --mode nonblock
    assert_client_clean 200
    expect_num "$(json_field "$REPORT" "$(pool_for "$PORT")" hits)" -ge 198 "report hits"
    expect_num "$(accepts)" -le 2 "server accepts"
}

# --- 5. address families and names -------------------------------------------------------

@test "IPv6 target tcp://[::1]:PORT is pooled" {
    start_tagserver --host ::1 || skip "cannot listen on [::1] here (no IPv6 loopback)"
    run_pooled "tcp://[::1]:$PORT?proto=line" "$TOOLS/tagclient" --host ::1 --port "$PORT" --cycles 100
    assert_client_clean 100
    expect_num "$(accepts)" -le 2 "server accepts"
    expect_num "$(json_field "$REPORT" ":$PORT" hits)" -ge 98 "report hits"
}

@test "hostname target tcp://localhost:PORT is pooled" {
    # the IPv4 lookup: `getent hosts` asks for IPv6 first, and Debian's
    # /etc/hosts names localhost on ::1 too
    getent ahostsv4 localhost | grep -q '^127\.0\.0\.1 ' || skip "localhost does not resolve to 127.0.0.1 here"
    start_tagserver --host 127.0.0.1
    run_pooled "tcp://localhost:$PORT?proto=line" "$TOOLS/tagclient" --host localhost --port "$PORT" --cycles 100
    assert_client_clean 100
    expect_num "$(accepts)" -le 2 "server accepts"
    expect_num "$(json_field "$REPORT" ":$PORT" hits)" -ge 98 "report hits"
}

# --- 6. threads ---------------------------------------------------------------------------

@test "8 threads x 500 cycles share one pool without cross-talk" {
    start_tagserver
    run_pooled "$(pool_for "$PORT")" "$TOOLS/tagclient" --port "$PORT" --cycles 500 --threads 8
    assert_client_clean 4000
    expect_num "$(accepts)" -le 16 "server accepts"
    expect_num "$(json_field "$REPORT" "$(pool_for "$PORT")" hits)" -gt 0 "report hits"
}

# --- 7. shutdown ----------------------------------------------------------------------------

@test "shutdown(SHUT_RDWR) after a complete exchange still pools" {
    start_tagserver
    run_pooled "$(pool_for "$PORT")" "$TOOLS/tagclient" --port "$PORT" --cycles 100 --mode shutrdwr
    assert_client_clean 100
    expect_num "$(accepts)" -le 2 "server accepts"
}

@test "shutdown(SHUT_WR) half-closed connections are discarded as half_closed" {
    start_tagserver
    run_pooled "$(pool_for "$PORT")" "$TOOLS/tagclient" --port "$PORT" --cycles 20 --mode shutwr
    assert_client_clean 20
    assert_equal "$(accepts)" 20
    assert_equal "$(json_field "$REPORT" "$(pool_for "$PORT")" discarded.half_closed)" 20
}

# --- 8. max_size -------------------------------------------------------------------------------

@test "max_size=2: of 4 connections released together 2 park, 2 are discarded as full" {
    start_tagserver
    run_pooled "$(pool_for "$PORT")&max_size=2" "$TOOLS/tagclient" --port "$PORT" --cycles 1 --hold 4
    assert_client_clean 4
    assert_equal "$(accepts)" 4
    assert_equal "$(json_field "$REPORT" ":$PORT" parked)" 2
    assert_equal "$(json_field "$REPORT" ":$PORT" discarded.full)" 2
}

# --- 9. idle timeout ------------------------------------------------------------------------------

@test "idle_timeout=100ms: connections idle 300 ms are not reused" {
    start_tagserver
    run_pooled "$(pool_for "$PORT")&idle_timeout=100ms" \
        "$TOOLS/tagclient" --port "$PORT" --cycles 3 --sleep-ms 300
    assert_client_clean 3
    assert_equal "$(accepts)" 3
    expect_num "$(json_field "$REPORT" ":$PORT" discarded.expired)" -ge 2 "discarded.expired"
}

# --- 10. nginx --------------------------------------------------------------------------------------
# Placeholder: the nginx upstream test is written separately, in another .bats file.

# --- 11. bad configuration ----------------------------------------------------------------------------

# bad_config_cmd CONFIG TOKEN CMD...: with OBJPOOL_POOLS=CONFIG, CMD's
# stderr is exactly one "objpool[..." line naming TOKEN, and its stdout and
# exit status are the same as without the preload.
bad_config_cmd() {
    local config=$1 token=$2
    shift 2
    run_plain "$@"
    local base_status=$status base_out=$output
    run --separate-stderr timeout "$OBJPOOL_TEST_TIMEOUT" env \
        LD_PRELOAD="$LIB" OBJPOOL_POOLS="$config" "$@"
    REPORT='' show_run
    assert_equal "$status" "$base_status"
    assert_equal "$output" "$base_out"
    [[ "$(printf '%s\n' "$stderr" | grep -c '^objpool\[')" == 1 ]] ||
        fail "expected one objpool[ line on stderr for $*, got: $stderr"
    [[ "$(printf '%s\n' "$stderr" | wc -l)" == 1 ]] ||
        fail "unexpected extra stderr for $*: $stderr"
    [[ "$stderr" == *"$token"* ]] ||
        fail "stderr does not name the bad token '$token': $stderr"
}

# bad_config CONFIG TOKEN: bad_config_cmd for tagclient against a live
# server and for a shell.
bad_config() {
    start_tagserver
    bad_config_cmd "$1" "$2" "$TOOLS/tagclient" --port "$PORT" --cycles 5
    bad_config_cmd "$1" "$2" sh -c 'echo hi; exit 3'
}

@test "bad config: port out of range" {
    bad_config 'tcp://127.0.0.1:99999' 99999
}

@test "bad config: unknown option" {
    bad_config 'tcp://127.0.0.1:80?bogus=1' bogus
}

@test "bad config: non-numeric max_size" {
    bad_config 'tcp://127.0.0.1:80?max_size=abc' abc
}

@test "bad config: bad idle_timeout unit" {
    bad_config 'tcp://127.0.0.1:80?idle_timeout=5parsecs' 5parsecs
}

@test "bad config: garbage" {
    bad_config 'garbage' garbage
}

# --- 12. unrelated I/O is untouched ---------------------------------------------------------------------

@test "passthru: unrelated file/socket work is byte-identical under the preload" {
    run_plain "$TOOLS/passthru"
    assert_equal "$status" 0
    local base=$output
    start_tagserver   # a live, configured, but unrelated pool target
    run --separate-stderr timeout "$OBJPOOL_TEST_TIMEOUT" env LD_PRELOAD="$LIB" \
        OBJPOOL_POOLS="$(pool_for "$PORT")" "$TOOLS/passthru"
    REPORT='' show_run
    assert_equal "$status" 0
    assert_equal "$output" "$base"
    assert_equal "$stderr" ""
}
