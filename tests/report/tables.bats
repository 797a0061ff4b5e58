#!/usr/bin/env bats
# the text tables (the exit report's and `objpool report`'s) read right at
# any size: every figure under its header, apart from its neighbour
#
# The text tables read right at any size (issue 16 item 6): the exit
# report's and `objpool report`'s. A figure wider than its header used to
# run into its neighbour (`idle 1` and `saved 1545.4ms` printed as
# `11545.4ms`). tests/py/columns.py reads a table by columns, as a person
# does: every figure ends under its header's end, two columns or more
# after its neighbour.

load ../helpers

OBJPOOL="$REPO_ROOT/scripts/objpool"
N=1100000 # hits, parked: seven digits, wider than "hits" and "parked"

setup() {
    require_lib
    [[ -x "$TOOLS/filecheck" ]] || fail "test tool not built: $TOOLS/filecheck (run make tools)"
    require_tool
    # a target of 140 characters, wider than any column
    DIR="$BATS_TEST_TMPDIR/$(printf 'a%.0s' {1..60})/$(printf 'b%.0s' {1..60})"
    mkdir -p "$DIR"
    F="$DIR/app.conf"
    echo 'key = value' >"$F"
}

# cycle_file FORMAT OUT: N fopen/fgets/fclose cycles of $F under the
# preload, the report in FORMAT written to OUT.
cycle_file() {
    run --separate-stderr timeout "$OBJPOOL_TEST_TIMEOUT" env LD_PRELOAD="$LIB" \
        OBJPOOL_POOLS="file://$F" OBJPOOL_REPORT_FORMAT="$1" OBJPOOL_REPORT="$2" \
        "$TOOLS/filecheck" cycle "$F" "$N"
    show_run
    assert_success
    assert_output --partial "cycles=$N ok=$N"
}

# field ROW HEAD: HEAD's figure in a row printed by columns.py
field() {
    printf '%s\n' "$1" | tr ' ' '\n' | grep "^$2=" | cut -d= -f2-
}

@test "exit report, text: a million hits, seconds saved and a 140-character target each stand under their header" {
    cycle_file text "$BATS_TEST_TMPDIR/report.txt"
    cat "$BATS_TEST_TMPDIR/report.txt"
    run /usr/bin/env python3 "$REPO_ROOT/tests/py/columns.py" "$BATS_TEST_TMPDIR/report.txt" "file://$F"
    echo "$output"
    assert_success
    local row=$output
    assert_equal "$(field "$row" acquired)" "$N"
    assert_equal "$(($(field "$row" hits) + $(field "$row" misses)))" "$N"
    expect_num "$(field "$row" hits)" -ge 1000000 "hits"
    expect_num "$(field "$row" parked)" -ge 1000000 "parked"
    assert_equal "$(field "$row" idle)" 1
    # hits x the mean open time, in the unit that keeps it short: which one
    # depends on the machine (the open is timed), the figure does not
    local mean
    mean=$(sed -n 's/.*mean create \([0-9.]*\) us.*/\1/p' "$BATS_TEST_TMPDIR/report.txt")
    expect_num "$mean" -gt 0 "mean create"
    assert_duration "$(field "$row" saved)" "$(awk -v h="$(field "$row" hits)" -v m="$mean" 'BEGIN { print h * m / 1000 }')" \
        "$(field "$row" hits | awk '{ print $1 * 0.05 / 1000 }')" saved
}

@test "objpool report, text: real and twelve-digit counts, a 27-hour saving, long and short targets: every figure apart" {
    local rep="$BATS_TEST_TMPDIR/report.json" t=tcp://127.0.0.1:6379
    cycle_file json "$rep"
    printf '{"pid":9,"program":"big","event":"exit","wall_s":1.0,"pools":[{"target":"%s","address":"127.0.0.1","kind":"tcp","acquired":123456789012,"hits":123456789000,"misses":12,"create_failures":0,"released":123456789012,"parked":123456789000,"discarded":{"full":99999999},"discarded_total":99999999,"idle":1,"peak_idle":1000,"peak_leased":1,"hit_ratio":0.9999,"mean_create_us":70.0,"saved_ms":98765432.1,"stale_reuse_errors":0,"prewarmed":0,"prewarm_failed":0}]}\n' \
        "$t" >>"$rep"
    run --separate-stderr "$OBJPOOL" report "$rep"
    show_run
    assert_success
    printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/table.txt"
    run /usr/bin/env python3 "$REPO_ROOT/tests/py/columns.py" "$BATS_TEST_TMPDIR/table.txt" "file://$F" "$t" total
    echo "$output"
    assert_success
    local file big total
    file=$(printf '%s\n' "$output" | grep "^file://")
    big=$(printf '%s\n' "$output" | grep "^tcp://")
    total=$(printf '%s\n' "$output" | grep "^total ")
    assert_equal "$(field "$file" hits)" "$(json_field "$rep" "file://$F" hits)"
    assert_equal "$(field "$big" acquired)" 123456789012
    assert_equal "$(field "$big" discard)" 99999999
    assert_equal "$(field "$big" saved)" 27.4h
    assert_equal "$(field "$total" procs)" 2
    assert_equal "$(field "$total" acquired)" $((123456789012 + N))
}
