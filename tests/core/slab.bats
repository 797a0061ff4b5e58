#!/usr/bin/env bats
# the slab behind per-connection state beyond a record: sizes, zeroed and
# aligned blocks, chunks mapped on demand, 8 threads × 50k, frees from a
# signal handler, fork
#
# The slab allocator (preload/core/slab.c): the mmap'd blocks a kind or a
# protocol keeps per connection beyond its record's area. Each case is one
# run of build/tests/unit/slab_test CASE.

load ../helpers

UNIT="${OBJPOOL_TOOLS:-$REPO_ROOT/build/tests}/unit/slab_test"

run_unit() {
    [[ -x "$UNIT" ]] || fail "unit tests not built: $UNIT (run make)"
    run --separate-stderr timeout "$OBJPOOL_TEST_TIMEOUT" "$UNIT" "$1"
    show_run
    assert_success
    assert_output --partial "$1: ok"
}

@test "slab: sizes out of range are refused, blocks are rounded to 16 bytes" {
    run_unit sizes
}

@test "slab: blocks are distinct, aligned and zeroed, a freed block is reused zeroed" {
    run_unit zeroed
}

@test "slab: chunks are mapped as needed, blocks never overlap, freed blocks serve the next round" {
    run_unit chunks
}

@test "slab: 8 threads x 50000 rounds: no block handed to two threads" {
    run_unit threads
}

@test "slab: a signal handler frees blocks while its thread allocates" {
    run_unit signal_free
}

@test "slab: fork: locks held across it, the child starts unlocked" {
    run_unit fork_locks
}

@test "slab: every case of slab_test has a @test here" {
    every_unit_case_has_a_test
}
