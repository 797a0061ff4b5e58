#!/usr/bin/env bats
# the coverage matrix, short: every real client of tests/coverage/clients.tsv
# (Python, Perl, Ruby, PHP, Node), 50 operations each on a new connection,
# plain and under objpool, against redis-server, memcached and nginx, keeps
# the verdicts of tests/coverage/expected.tsv with every value right; planted
# regressions (a pooled client refused, a refused one pooled, a crossed
# value, server counts that disagree, a README table that disagrees) fail it
#
# The runner is tests/coverage/run (`make coverage` runs it in full, n=200);
# a client is a line of clients.tsv, a script in clients/ and a verdict in
# expected.tsv.

load ../helpers

COV="$REPO_ROOT/tests/coverage"

# One short run for the whole file (about 40 s); the tests read its results.
setup_file() {
    export COV_OUT="$BATS_FILE_TMPDIR/coverage"
    [[ -n "${OBJPOOL_SANITIZER_RUNTIME:-}" ]] && return 0
    local c
    for c in ruby perl php node npm redis-server memcached nginx; do
        command -v "$c" >/dev/null 2>&1 || [[ -x /usr/sbin/$c ]] || return 0
    done
    local rc=0
    OBJPOOL_LIB="$LIB" "$COV/run" --short --out "$COV_OUT" >"$BATS_FILE_TMPDIR/run.out" 2>&1 || rc=$?
    echo "$rc" >"$BATS_FILE_TMPDIR/run.rc"
}

# require_run: skip unless setup_file ran the matrix (it needs five
# runtimes and three servers; a sanitizer stage cannot host them all).
require_run() {
    sanitizer_cannot "the coverage matrix preloads into ruby, perl, php and node; the unsanitized suite runs it"
    require_cmd ruby perl php node npm redis-server memcached nginx
    [[ -f "$BATS_FILE_TMPDIR/run.rc" ]] || fail "the short run did not run"
    RESULTS="$COV_OUT/results.tsv"
}

# planted FIELD-EDIT: a copy of expected.tsv with one line's verdict changed
# (sed expression); sets PLANTED.
planted() {
    PLANTED="$BATS_TEST_TMPDIR/expected.tsv"
    sed "$1" "$COV/expected.tsv" >"$PLANTED"
    ! cmp -s "$PLANTED" "$COV/expected.tsv" || fail "the planted edit changed nothing: $1"
}

# refused_row: a copy of the short run's results in which the first client
# expected.tsv calls pooled was refused instead: no hit, every connection a
# miss the server saw, each discarded half_closed (a regression as the
# matrix would measure it, whatever today's clients do). Sets PLANTED_NAME
# and PLANTED_RESULTS.
refused_row() {
    PLANTED_NAME=$(awk -F'\t' '!/^#/ && $2 == "pooled" {print $1; exit}' "$COV/expected.tsv")
    [[ -n $PLANTED_NAME ]] || fail "no pooled client in expected.tsv"
    PLANTED_RESULTS=$BATS_TEST_TMPDIR/results.tsv
    # fields: name language server n plain pooled conns_plain conns_pooled acquired hits reasons
    awk -F'\t' -v OFS='\t' -v c="$PLANTED_NAME" \
        '$1 == c {$8 = $9; $10 = 0; $11 = "half_closed:" $9} 1' "$RESULTS" >"$PLANTED_RESULTS"
    ! cmp -s "$PLANTED_RESULTS" "$RESULTS" || fail "the planted row changed nothing"
}

@test "coverage: short run, every client's values right, every verdict as expected.tsv says" {
    require_run
    run cat "$BATS_FILE_TMPDIR/run.out"
    echo "$output"
    assert_equal "$(cat "$BATS_FILE_TMPDIR/run.rc")" 0
    assert_output --partial "every value right, every verdict as expected.tsv says"
    # every client measured, and the JSON file has them all
    run "$OBJPOOL_PY" -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["clients"]))' \
        "$COV_OUT/results.json"
    assert_equal "$output" "$(grep -vc '^#' "$COV/expected.tsv")"
}

@test "coverage: a client that was pooled and is no longer fails the check" {
    require_run
    # plant: the short run's results say a client expected.tsv calls pooled
    # was refused (no hit, every connection discarded half_closed)
    refused_row
    run "$COV/run" --check "$PLANTED_RESULTS"
    echo "$output"
    assert_failure
    assert_output --partial "$PLANTED_NAME: was pooled, now refused(half_closed)"
}

@test "coverage: a client newly pooled that expected.tsv says refused fails: update expected.tsv" {
    require_run
    local name
    name=$(awk -F'\t' '!/^#/ && $2 == "pooled" {print $1; exit}' "$COV/expected.tsv")
    [[ -n $name ]] || fail "no pooled client in expected.tsv"
    planted "s/^$name\tpooled/$name\trefused(unseen)/"
    run "$COV/run" --check "$RESULTS" --expected "$PLANTED"
    echo "$output"
    assert_failure
    assert_output --partial "$name: newly pooled"
    assert_output --partial "update expected.tsv"
}

@test "coverage: a refused client's other reason fails the check: update expected.tsv" {
    require_run
    # plant: that refused row, and an expected.tsv naming another reason
    refused_row
    planted "s/^$PLANTED_NAME\tpooled/$PLANTED_NAME\trefused(full)/"
    run "$COV/run" --check "$PLANTED_RESULTS" --expected "$PLANTED"
    echo "$output"
    assert_failure
    assert_output --partial "$PLANTED_NAME: refused(half_closed), expected.tsv says refused(full): update expected.tsv"
}

@test "coverage: a row whose server counts disagree with the client or the report fails" {
    require_run
    local name edited=$BATS_TEST_TMPDIR/results.tsv
    name=$(awk -F'\t' '!/^#/ && $2 == "pooled" {print $1; exit}' "$COV/expected.tsv")
    # fields: name language server n plain pooled conns_plain conns_pooled ...
    # a client that reused its own connection: 1 server connection plain
    awk -F'\t' -v OFS='\t' -v c="$name" '$1 == c {$7 = 1} 1' "$RESULTS" >"$edited"
    run "$COV/run" --check "$edited"
    assert_failure
    assert_output --partial "$name: 1 connections for 50 operations without objpool"
    # a report that claims hits the server never saw
    awk -F'\t' -v OFS='\t' -v c="$name" '$1 == c {$8 = $4} 1' "$RESULTS" >"$edited"
    run "$COV/run" --check "$edited"
    assert_failure
    assert_output --partial "$name: the server saw 50 connections under objpool, the report"
}

@test "coverage: a client that gets a crossed value fails the run, pooled or not" {
    require_run
    # A planted client: redis-py per operation, but operation 3 reads
    # operation 2's key, as a crossed connection would hand it.
    local dir=$BATS_TEST_TMPDIR
    cat >"$dir/crossed.py" <<EOF
import sys
sys.path.insert(0, "$COV/clients")
import redis
from py_common import args, key, value, check, done
port, n, tag = args()
for i in range(n):
    r = redis.Redis(host="127.0.0.1", port=port)
    r.set(key(tag, i), value(tag, i))
    check(i, value(tag, i).encode(), r.get(key(tag, i - (i == 3))))
    r.close()
done(n)
EOF
    printf 'crossed\tPython\tredis\t/usr/bin/python3 %s\tplanted\n' "$dir/crossed.py" >"$dir/clients.tsv"
    printf 'crossed\tpooled\n' >"$dir/expected.tsv"
    run "$COV/run" --n 10 --clients "$dir/clients.tsv" --expected "$dir/expected.tsv" --out "$dir/out"
    echo "$output"
    assert_failure
    assert_output --partial "crossed: a value came back wrong"
    assert_output --partial "wrong value at op 3"
}

@test "coverage: the README's table says what expected.tsv says" {
    run "$COV/run" --check-readme
    echo "$output"
    assert_success
    # and a README that claims another verdict fails
    sed 's/| `pooled` |/| `refused(unseen)` |/' "$REPO_ROOT/README.md" >"$BATS_TEST_TMPDIR/README.md"
    run "$COV/run" --check-readme "$BATS_TEST_TMPDIR/README.md"
    assert_failure
    assert_output --partial "regenerate the README table"
}
