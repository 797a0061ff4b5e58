#!/usr/bin/env bats
# file pooling (strace-counted opens, edits in place, rename, /proc,
# fortified and LFS builds, lowest fd, python, write modes)
#
# File pooling (issue 4): fopen/open of configured paths reuse the FILE or
# fd, and a reuse is indistinguishable from a fresh open.

load ../helpers

setup() {
    require_lib
    [[ -x "$TOOLS/filecheck" ]] || fail "test tool not built: $TOOLS/filecheck (run make tools)"
    DIR="$BATS_TEST_TMPDIR/files"
    mkdir -p "$DIR"
    F="$DIR/app.conf"
    printf 'key = value-one\nother = 2\n' >"$F"
}

pool() { echo "file://$1"; }

# --- 1. reuse ------------------------------------------------------------------

@test "1000 fopen/fgets/fclose cycles open the file at most twice and hit >= 998 times" {
    require_cmd strace
    local log="$BATS_TEST_TMPDIR/strace.log"
    run_pooled "$(pool "$F")" strace -f -qq -o "$log" -e trace=open,openat,openat2 \
        "$TOOLS/filecheck" cycle "$F" 1000
    assert_success
    assert_output --partial "cycles=1000 ok=1000"
    local opens
    opens=$(grep -c -F "\"$F\"" "$log" || true)
    expect_num "$opens" -le 2 "openat calls of $F under strace"
    expect_num "$(json_field "$REPORT" "$(pool "$F")" hits)" -ge 998 "report hits"
    grep -q '"kind":"file"' "$REPORT" || fail "report row is not of kind file"
}

@test "raw open/read/close cycles are pooled too, and relative paths resolve against the cwd" {
    cd "$DIR"
    run_pooled "$(pool "$F")" "$TOOLS/filecheck" cycle app.conf 500 --api open
    assert_success
    assert_output --partial "cycles=500 ok=500"
    expect_num "$(json_field "$REPORT" "$(pool "$F")" hits)" -ge 498 "report hits"
    run_pooled "$(pool "$F")" "$TOOLS/filecheck" cycle ./app.conf 200 --api openat
    assert_success
    expect_num "$(json_field "$REPORT" "$(pool "$F")" hits)" -ge 198 "report hits (openat, ./)"
}

# --- 2. content edited in place --------------------------------------------------

@test "content edited in place (same size, same mtime) is read fresh" {
    run_pooled "$(pool "$F")" "$TOOLS/filecheck" edit "$F" 30
    assert_success
    assert_output --partial "rounds=30 failures=0"
    expect_num "$(json_field "$REPORT" "$(pool "$F")" hits)" -ge 29 "report hits"
    # and through raw fds
    run_pooled "$(pool "$F")" "$TOOLS/filecheck" edit "$F" 30 --api open
    assert_success
    expect_num "$(json_field "$REPORT" "$(pool "$F")" hits)" -ge 29 "report hits (open)"
}

# --- 3. file replaced by rename ----------------------------------------------------

@test "a file replaced by rename is re-opened; the old content is never returned" {
    run_pooled "$(pool "$F")" "$TOOLS/filecheck" rename "$F" 20
    assert_success
    assert_output --partial "rounds=20 failures=0"
    expect_num "$(json_field "$REPORT" "$(pool "$F")" discarded.changed_on_disk)" -ge 20 \
        "discarded.changed_on_disk"
    expect_num "$(json_field "$REPORT" "$(pool "$F")" hits)" -ge 20 "report hits"
    run_pooled "$(pool "$F")" "$TOOLS/filecheck" rename "$F" 20 --api open
    assert_success
    expect_num "$(json_field "$REPORT" "$(pool "$F")" discarded.changed_on_disk)" -ge 20 \
        "discarded.changed_on_disk (open)"
}

@test "validate=none skips the stat (documented: only for files never replaced)" {
    require_cmd strace
    local log="$BATS_TEST_TMPDIR/strace.log"
    run_pooled "$(pool "$F")?validate=none" strace -f -qq -o "$log" -e trace=stat,newfstatat,statx \
        "$TOOLS/filecheck" cycle "$F" 100
    assert_success
    expect_num "$(json_field "$REPORT" "$(pool "$F")" hits)" -ge 99 "report hits"
    local stats
    stats=$(grep -c -F "\"$F\"" "$log" || true)
    expect_num "$stats" -le 1 "stat calls of $F with validate=none"
}

# --- 4. /proc ------------------------------------------------------------------------

@test "/proc/self/stat read through a pooled FILE gives a new snapshot each time" {
    run_pooled "$(pool /proc/self/stat)" "$TOOLS/filecheck" proc /proc/self/stat
    assert_success
    [[ "${lines[0]}" == differ ]] || fail "the second read returned the first snapshot: $output"
    expect_num "$(json_field "$REPORT" "$(pool /proc/self/stat)" hits)" -ge 2 "report hits"
}

# --- 5. fortified and large-file builds -------------------------------------------------

@test "programs built with _FORTIFY_SOURCE=2 (__open_2) and _FILE_OFFSET_BITS=64 (open64, fopen64) are pooled" {
    require_cmd nm
    # sanitizer builds compile the tools without fortification; the check of
    # which entry point they call is for the normal build
    if [[ -z "${OBJPOOL_SANITIZER_RUNTIME:-}" ]]; then
        nm -D "$TOOLS/file_fortify" | grep -q ' U __open_2' || fail "file_fortify does not call __open_2"
    fi
    nm -D "$TOOLS/file_lfs" | grep -q ' U open64' || fail "file_lfs does not call open64"
    nm -D "$TOOLS/file_lfs" | grep -q ' U fopen64' || fail "file_lfs does not call fopen64"
    run_pooled "$(pool "$F")" "$TOOLS/file_fortify" cycle "$F" 100 --api open
    assert_success
    expect_num "$(json_field "$REPORT" "$(pool "$F")" hits)" -ge 99 "hits (__open_2)"
    run_pooled "$(pool "$F")" "$TOOLS/file_lfs" cycle "$F" 100 --api open
    assert_success
    expect_num "$(json_field "$REPORT" "$(pool "$F")" hits)" -ge 99 "hits (open64)"
    run_pooled "$(pool "$F")" "$TOOLS/file_lfs" cycle "$F" 100 --api fopen
    assert_success
    expect_num "$(json_field "$REPORT" "$(pool "$F")" hits)" -ge 99 "hits (fopen64)"
}

# --- 6. fd numbers and flags ----------------------------------------------------------------

@test "a hit gets the lowest free fd (close(0); open(pooled) == 0), FD_CLOEXEC as asked, offset 0" {
    run_pooled "$(pool "$F")" "$TOOLS/filecheck" lowfd "$F"
    assert_success
    assert_output --partial "failures=0"
    expect_num "$(json_field "$REPORT" "$(pool "$F")" hits)" -ge 4 "report hits"
}

@test "a FILE given a user buffer or made wide is not parked; a reused FILE looks fresh" {
    run_pooled "$(pool "$F")" "$TOOLS/filecheck" stream "$F"
    assert_success
    assert_output --partial "failures=0"
    expect_num "$(json_field "$REPORT" "$(pool "$F")" discarded.unpoolable)" -ge 2 "discarded.unpoolable"
    expect_num "$(json_field "$REPORT" "$(pool "$F")" hits)" -ge 1 "report hits"
}

@test "a lease shared by dup or fork is never parked" {
    run_pooled "$(pool "$F")" "$TOOLS/filecheck" shared "$F"
    assert_success
    assert_output --partial "failures=0"
    expect_num "$(json_field "$REPORT" "$(pool "$F")" discarded.shared)" -ge 3 "discarded.shared"
    assert_equal "$(json_field "$REPORT" "$(pool "$F")" parked)" 0
}

@test "errno: pass-through calls leave it alone, failures report the real error" {
    run_pooled "$(pool "$DIR")/app.conf*" "$TOOLS/filecheck" errno "$F"
    assert_success
    assert_output --partial "failures=0"
}

# --- 7. python ---------------------------------------------------------------------------------

@test "python3 reading a pooled file with open() in a loop is pooled and sees edits" {
    [[ -x /usr/bin/python3 ]] || skip "/usr/bin/python3 is not installed"
    run_pooled "$(pool "$F")" /usr/bin/python3 - "$F" <<'EOF'
import os, sys
path = sys.argv[1]
bad = 0
expect = open(path).read()
for i in range(300):
    if i % 50 == 49:
        # edit in place through a writable fd (never pooled by default),
        # keeping size and mtime
        st = os.stat(path)
        new = ("%d" % i).rjust(len(expect) - 1, "x") + "\n"
        with open(path, "r+") as w:
            w.write(new)
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
        expect = new
    with open(path) as f:
        got = f.read()
    if got != expect:
        bad += 1
        print("round %d: read %r, expected %r" % (i, got, expect))
print("bad=%d" % bad)
sys.exit(1 if bad else 0)
EOF
    assert_success
    assert_output --partial "bad=0"
    expect_num "$(json_field "$REPORT" "$(pool "$F")" hits)" -ge 290 "report hits"
}

# --- 8. write modes -------------------------------------------------------------------------------

@test "write modes are never pooled unless modes= allows them" {
    local m
    for m in w a r+ open-w; do
        run_pooled "$(pool "$F")" "$TOOLS/filecheck" write "$F" 20 "$m"
        assert_success
        # the one read-only fopen at the end is the only pooled open
        assert_equal "$(json_field "$REPORT" "$(pool "$F")" acquired)" 1
        assert_equal "$(json_field "$REPORT" "$(pool "$F")" hits)" 0
    done
}

@test "modes=w pools \"w\" and truncates on every reuse; modes=a pools \"a\"" {
    run_pooled "$(pool "$F")?modes=w" "$TOOLS/filecheck" write "$F" 20 w
    assert_success
    assert_output "size=8 first=line 19"
    expect_num "$(json_field "$REPORT" "$(pool "$F")" hits)" -ge 19 "hits (w)"
    run_pooled "$(pool "$F")?modes=w" "$TOOLS/filecheck" write "$F" 20 open-w
    assert_success
    assert_output "size=8 first=line 19"
    expect_num "$(json_field "$REPORT" "$(pool "$F")" hits)" -ge 19 "hits (open-w)"
    rm -f "$F"
    run_pooled "$(pool "$F")?modes=a" "$TOOLS/filecheck" write "$F" 20 a
    assert_success
    assert_output "size=150 first=line 0"
    expect_num "$(json_field "$REPORT" "$(pool "$F")" hits)" -ge 19 "hits (a)"
}

# --- configuration -----------------------------------------------------------------------------------

@test "globs match by fnmatch; other files are not pooled and not reported" {
    printf 'a\n' >"$DIR/a.json"
    printf 'b\n' >"$DIR/b.json"
    printf 'c\n' >"$DIR/c.txt"
    local p
    p="$(pool "$DIR")/*.json"
    run_pooled "$p" sh -c "'$TOOLS/filecheck' cycle '$DIR/a.json' 50 && '$TOOLS/filecheck' cycle '$DIR/b.json' 50 --api open && '$TOOLS/filecheck' cycle '$DIR/c.txt' 50"
    assert_success
    # two processes pooled, one per json file; c.txt never
    expect_num "$(json_field "$REPORT" "$p" hits)" -ge 98 "hits over both json files"
    assert_equal "$(json_field "$REPORT" "$p" acquired)" 100
}

@test "no file target: nothing is reported and reads work" {
    run_pooled "tcp://127.0.0.1:9" "$TOOLS/filecheck" cycle "$F" 100
    assert_success
    [[ ! -s "$REPORT" ]] || fail "report written without pooled activity"
}
