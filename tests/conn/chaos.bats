#!/usr/bin/env bats
# the chaos mix: chaosd's delays, split replies, closes and resets against a
# client that abandons, reads partly, shuts down, forks and uses every I/O
# family, for line, redis, http, memcache and opaque: no foreign reply,
# reuse, no more errors than without objpool; and the mix catching opaque
# without a probe
#
# The chaos mix (issue 14, item 6), short version: tests/chaos-run per
# protocol, chaosd delaying, splitting, closing and resetting, the chaos
# client abandoning, reading partly, shutting down, forking, and using every
# I/O family. Under the preload: no foreign reply, reuse happened, no more
# program-visible errors than without objpool (tests/chaos-run says why the
# margin). `make stress` runs the same at 10^6 requests.

load ../helpers

chaos_run() {
    [[ -x "$TOOLS/chaosd" && -x "$TOOLS/chaos" ]] || fail "chaosd/chaos not built (run make tools)"
    run --separate-stderr timeout 300 env CHAOS_LIB="$LIB" CHAOS_TOOLS="$TOOLS" "$REPO_ROOT/tests/chaos-run" "$@"
    show_run
}

@test "stress: chaos mix, proto=line: no foreign reply, reuse, errors as without objpool" {
    chaos_run --requests 2000 --protos line
    assert_success
    assert_output --partial "chaos: line ok (foreign=0"
}

@test "stress: chaos mix, proto=redis: no foreign reply, reuse, errors as without objpool" {
    chaos_run --requests 2000 --protos redis
    assert_success
    assert_output --partial "chaos: redis ok (foreign=0"
}

@test "stress: chaos mix, proto=http: no foreign reply, reuse, errors as without objpool" {
    chaos_run --requests 2000 --protos http
    assert_success
    assert_output --partial "chaos: http ok (foreign=0"
}

@test "stress: chaos mix, proto=memcache: no foreign reply, reuse, errors as without objpool" {
    chaos_run --requests 2000 --protos memcache
    assert_success
    assert_output --partial "chaos: memcache ok (foreign=0"
}

@test "stress: chaos mix, proto=opaque with a probe on every reuse: no foreign reply" {
    chaos_run --requests 2000 --protos opaque
    assert_success
    assert_output --partial "chaos: opaque ok (foreign=0"
}

# The mix can fail: proto=opaque without a probe parks a connection whose
# split reply was read only in part with its rest still in flight (README,
# "proto=opaque"); the next user gets that rest, and the mix must see it.
@test "stress: the chaos mix catches foreign replies (proto=opaque without a probe)" {
    chaos_run --requests 2000 --protos opaque --opaque-spec proto=opaque
    assert_failure
    assert_output --partial "chaos: opaque FAILED: foreign="
    refute_output --partial "no reuse"
}
