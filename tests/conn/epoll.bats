#!/usr/bin/env bats
# epoll sets read from `/proc/self/fdinfo`: registrations move with a hit
# and leave at park; overflow cases
#
# epoll registrations and the swap (conn/epoll.c): a registration made
# before connect follows the pooled connection, a parked connection leaves
# the program's epoll sets, a registration objpool cannot record makes the
# connect real and the lease unparkable, and a registered fresh socket is
# never recycled.  tests/py/epoll_cases.py reads the kernel's own list of
# each epoll set (/proc/self/fdinfo) and says what broke; the bounds here
# check that the pool really served the cycles it claims.
load ../helpers

setup() {
    require_lib
    start_tagserver
}

teardown() {
    stop_all_tagservers
}

# conn_of NAME: the server connection of that cycle.
conn_of() { printf '%s\n' "$output" | awk -v n="$1" '$1 == n { sub("conn=", "", $2); print $2 }'; }

@test "epoll: registrations follow the swap and leave with the park; unrecordable ones make a real connect and an unparked lease" {
    local pool="tcp://127.0.0.1:$PORT?proto=line"
    run_pooled "$pool" "$OBJPOOL_PY" "$REPO_ROOT/tests/py/epoll_cases.py" --port "$PORT"
    [[ "$stderr" != *FAIL* ]] || fail "a broken rule: $stderr"
    assert_equal "$status" 0
    local first
    first=$(conn_of first)
    assert_equal "$(conn_of hit)" "$first"
    assert_equal "$(conn_of mod)" "$first"
    assert_equal "$(conn_of late)" "$first"
    # first and last are pooled misses; overflow is a plain connect
    assert_equal "$(json_field "$REPORT" ":$PORT" misses)" 2
    assert_equal "$(json_field "$REPORT" ":$PORT" hits)" 6
    assert_equal "$(json_field "$REPORT" ":$PORT" discarded.shared)" 1
    assert_equal "$(accepts)" 3
}
