#!/usr/bin/env bats
# port exhaustion: 5000 requests, each on a new connection, from a 1000-port
# range in a network namespace: without objpool they fail after ~1000
# (EADDRNOTAVAIL), with it all succeed on <= 2 connections
#
# Port exhaustion (the benchmark's table 8 row, bench/ports.sh): 5000
# requests, each on a new connection, from a client network namespace with
# a 1000-port ephemeral range to a tagserver in a server namespace over a
# veth pair (bench/netns.bash; 198.18.0.0/15 addresses, names unique per
# run, both namespaces deleted in teardown, on failure too). The client
# closes first and does not set SO_LINGER, so every closed connection holds
# its port in TIME_WAIT: without objpool connect() runs out of ports near
# 1000; with objpool every request succeeds. Needs root and `ip netns`;
# where the namespaces cannot be made the tests skip, with the reason.

load ../helpers
source "$REPO_ROOT/bench/netns.bash"

CYCLES=5000

setup() {
    require_lib
    netns_up || skip "$NETNS_WHY"
    netns_tagserver "$BATS_TEST_TMPDIR/server" || fail "tagserver did not start in $NETNS_S"
}

teardown() {
    netns_down
    stop_all_tagservers
    stop_servers
}

# cycles in the client namespace; extra VAR=value first
ns_tagclient() {
    RUN_SEQ=$((RUN_SEQ + 1))
    REPORT="$BATS_TEST_TMPDIR/report.$RUN_SEQ.json"
    run --separate-stderr timeout "$OBJPOOL_TEST_TIMEOUT" "$NETNS_IP" netns exec "$NETNS_C" env \
        OBJPOOL_REPORT_FORMAT=json OBJPOOL_REPORT="$REPORT" "$@" "$TOOLS/tagclient" \
        --host "$NETNS_SADDR" --port "$NETNS_PORT" --cycles "$CYCLES" --allow-errors
    show_run
}

@test "netns: without objpool, 5000 new connections from 1000 ports fail after ~1000 with EADDRNOTAVAIL" {
    ns_tagclient
    assert_equal "$status" 0
    local ok errors
    ok=$(client_field ok)
    errors=$(client_field errors)
    # each of the 1000 ports once (the namespace is ours: nothing else
    # holds one), then TIME_WAIT holds them all
    expect_num "$ok" -ge 900 "connections that got a port"
    expect_num "$ok" -le 1000 "connections that got a port"
    assert_equal "$((ok + errors))" "$CYCLES"
    assert_equal "$(client_field mismatches)" 0
    [[ $stderr == *"connect: Cannot assign requested address"* ]] ||
        fail "the failures are not EADDRNOTAVAIL: ${stderr:0:500}"
    assert_equal "$(accepts "$NETNS_COUNT")" "$ok"
}

@test "netns: with objpool (?proto=line), all 5000 requests succeed on <= 2 connections" {
    local pool="tcp://$NETNS_SADDR:$NETNS_PORT?proto=line"
    ns_tagclient LD_PRELOAD="$LIB" OBJPOOL_POOLS="$pool"
    assert_client_clean "$CYCLES"
    expect_num "$(accepts "$NETNS_COUNT")" -le 2 "server connections"
    expect_num "$(json_field "$REPORT" "$pool" hits)" -ge $((CYCLES - 2)) "report hits"
    assert_equal "$(json_field "$REPORT" "$pool" create_failures)" 0
}
