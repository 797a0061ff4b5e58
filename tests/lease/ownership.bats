#!/usr/bin/env bats
# one owner: dup family, dup2 onto idle fds, SCM_RIGHTS, fork,
# vfork/posix_spawn/system/popen, exec reports, close_range/closefrom/close
# loops, closes objpool never saw, a signal handler closing leases, racing
# threads, jemalloc in both orders
#
# Ownership hazards (issue 3): a pooled connection is never owned by two
# parties, and no reply meant for one user ever reaches the next.
#
# Each test runs one case of build/tests/hazard (tests/tools/hazard.c) or
# build/tests/stress against a tagserver that is a pooled target. The tools
# check the replies themselves (a reply with someone else's tag prints
# MISMATCH and exits 1); the tests here check the report and the server's
# connection count.

load ../helpers

setup() {
    require_lib
    [[ -x "$TOOLS/hazard" && -x "$TOOLS/stress" ]] || fail "hazard/stress not built (run make tools)"
}

pool_for() { echo "tcp://127.0.0.1:$1?proto=line"; } # the tag server speaks a line protocol

# hazard CASE [ARGS...]: run one hazard case, pooled, against $PORT.
hazard() {
    local c=$1
    shift
    run_pooled "$(pool_for "$PORT")" "$TOOLS/hazard" "$c" --port "$PORT" "$@"
}

# field FIELD: FIELD of the pooled target, summed over every report line.
field() {
    json_field "$REPORT" "$(pool_for "$PORT")" "$1"
}

# out_field NAME: NAME=value from the tool's stdout (the last one).
out_field() {
    local v
    v=$(printf '%s\n' "$output" | grep -o "\b$1=[0-9-]*" | tail -n 1 | cut -d= -f2)
    [[ -n "$v" ]] || { echo "out_field: no $1= in output: $output" >&2; return 1; }
    echo "$v"
}

# pid_report PID FIELD [EVENT]: FIELD of the pooled target summed over the
# report lines of process PID (only those with "event":EVENT if given);
# `lines` as FIELD counts those lines.
pid_report() {
    "$OBJPOOL_PY" - "$REPORT" "$(pool_for "$PORT")" "$@" <<'EOF'
import json, sys
path, target, pid, field = sys.argv[1:5]
target = target.split("?", 1)[0]  # the pool spec's target, without its options
event = sys.argv[5] if len(sys.argv) > 5 else None
total = lines = 0
for line in open(path):
    if not line.strip():
        continue
    o = json.loads(line)
    if str(o.get("pid")) != pid or (event and o.get("event") != event):
        continue
    lines += 1
    for p in o.get("pools", []):
        if p.get("target") != target:
            continue
        v = p
        for part in field.split("."):
            v = v.get(part, 0) if isinstance(v, dict) else 0
        total += v if field != "lines" else 0
print(lines if field == "lines" else total)
EOF
}

# report_pids: the pids that wrote report lines, sorted, space separated.
report_pids() {
    "$OBJPOOL_PY" -c '
import json, sys
print(" ".join(sorted({str(json.loads(l)["pid"]) for l in open(sys.argv[1]) if l.strip()})))' "$REPORT"
}

assert_tool_clean() {
    assert_equal "$status" 0
    if [[ "$stderr" == *MISMATCH* || "$stderr" == *FAIL* ]]; then
        fail "tool reported a broken rule: $stderr"
    fi
}

# A lease that was copied is closed: never parked, counted as shared, and
# the next connect is a new server connection.
assert_shared_not_parked() {
    assert_tool_clean
    assert_equal "$(field parked)" 0
    assert_equal "$(field discarded.shared)" 1
    assert_equal "$(field hits)" 0
    assert_equal "$(field misses)" 2
    assert_equal "$(accepts)" 2
}

# --- 1. dup, dup2, dup3, F_DUPFD, F_DUPFD_CLOEXEC -------------------------------

@test "dup of a lease: shared, closing the original does not park it" {
    start_tagserver
    hazard dup
    assert_shared_not_parked
}

@test "dup2 of a lease: shared, closing the original does not park it" {
    start_tagserver
    hazard dup2
    assert_shared_not_parked
}

@test "dup3 of a lease: shared, closing the original does not park it" {
    start_tagserver
    hazard dup3
    assert_shared_not_parked
}

@test "fcntl(F_DUPFD) of a lease: shared, closing the original does not park it" {
    start_tagserver
    hazard dupfd
    assert_shared_not_parked
}

@test "fcntl(F_DUPFD_CLOEXEC) of a lease: shared, closing the original does not park it" {
    start_tagserver
    hazard dupfd-cloexec
    assert_shared_not_parked
}

@test "dup of a lease, copy closed first: the original is still not parked" {
    start_tagserver
    hazard dup-copy-first
    assert_shared_not_parked
}

@test "dup2 of a lease, copy closed first: the original is still not parked" {
    start_tagserver
    hazard dup2-copy-first
    assert_shared_not_parked
}

@test "dup3 of a lease, copy closed first: the original is still not parked" {
    start_tagserver
    hazard dup3-copy-first
    assert_shared_not_parked
}

@test "F_DUPFD of a lease, copy closed first: the original is still not parked" {
    start_tagserver
    hazard dupfd-copy-first
    assert_shared_not_parked
}

@test "F_DUPFD_CLOEXEC of a lease, copy closed first: the original is still not parked" {
    start_tagserver
    hazard dupfd-cloexec-copy-first
    assert_shared_not_parked
}

# --- 2. dup2/dup3 onto objpool's idle fd number ----------------------------------

assert_dup_onto_idle() {
    assert_tool_clean
    # the pipe works through that number, the program's close closes it,
    # and the connects before and after it talk correctly (checked by the
    # tool); the idle connection was moved (hit) or destroyed (miss)
    assert_equal "$(field acquired)" 3
    assert_equal "$(field discarded.not_same_socket)" 0
    expect_num "$(accepts)" -le 2 "server accepts"
    expect_num "$(field hits)" -ge 1 "hits after the dup"
}

@test "dup2(pipe, idle fd): the pipe gets the number, pooling keeps working" {
    start_tagserver
    hazard dup2-idle
    assert_dup_onto_idle
}

@test "dup3(pipe, idle fd, O_CLOEXEC): the pipe gets the number, pooling keeps working" {
    start_tagserver
    hazard dup3-idle
    assert_dup_onto_idle
}

@test "close/read/write/fcntl/dup of an idle fd number: EBADF, the connection stays pooled" {
    start_tagserver
    hazard idle-ebadf
    assert_tool_clean
    assert_equal "$(field hits)" 1
    assert_equal "$(accepts)" 1
}

# --- 3. SCM_RIGHTS ----------------------------------------------------------------

@test "sendmsg(SCM_RIGHTS) of a lease: shared, not parked" {
    start_tagserver
    hazard scm-rights
    assert_shared_not_parked
}

# --- 4. fork ------------------------------------------------------------------------

@test "fork: the shared lease is never reused, child replies never reach the parent, child reports its own work" {
    start_tagserver
    hazard fork
    assert_tool_clean
    local pid child cycles
    pid=$(out_field pid)
    child=$(out_field child_pid)
    cycles=$(out_field parent_cycles)
    # parent: a, the parked b, d, the loop; a (shared) is discarded, never parked
    assert_equal "$(pid_report "$pid" acquired)" $((3 + cycles))
    assert_equal "$(pid_report "$pid" discarded.shared)" 1
    # child: one line, its own pid, only its own two connects (miss, hit)
    assert_equal "$(pid_report "$child" lines)" 1
    assert_equal "$(pid_report "$child" acquired)" 2
    assert_equal "$(pid_report "$child" misses)" 1
    assert_equal "$(pid_report "$child" hits)" 1
    assert_equal "$(pid_report "$child" discarded.shared)" 0
    # nothing of the parent's pools is left in the child to discard
    assert_equal "$(pid_report "$child" discarded_total)" 0
    assert_equal "$(report_pids)" "$(printf '%s\n' "$pid" "$child" | sort | tr '\n' ' ' | sed 's/ $//')"
}

# --- 5. vfork, posix_spawn, posix_spawnp, system, popen --------------------------------

# The child inherits the lease (no FD_CLOEXEC) and writes a request on it
# after the parent closed it and connected again.
assert_spawn_shared() {
    assert_tool_clean
    assert_shared_not_parked
    # only the parent did pooled work: one report line, counted once
    assert_equal "$(report_pids)" "$(out_field pid)"
    assert_equal "$(field acquired)" 2
}

# The lease has FD_CLOEXEC: the child never gets it, so it stays poolable.
assert_spawn_cloexec() {
    assert_tool_clean
    assert_equal "$(field discarded.shared)" 0
    assert_equal "$(field parked)" 1
    assert_equal "$(field hits)" 1
    assert_equal "$(field acquired)" 2
    assert_equal "$(accepts)" 1
    assert_equal "$(report_pids)" "$(out_field pid)"
}

@test "vfork+exec: an inherited lease is shared, not parked" {
    start_tagserver
    hazard vfork
    assert_spawn_shared
}

@test "vfork+exec: a SOCK_CLOEXEC lease is shared too (the child may clear FD_CLOEXEC before exec)" {
    start_tagserver
    hazard vfork --cloexec
    assert_spawn_shared
}

@test "posix_spawn: an inherited lease is shared, not parked" {
    start_tagserver
    hazard posix_spawn
    assert_spawn_shared
}

@test "posix_spawn: a SOCK_CLOEXEC lease stays poolable" {
    start_tagserver
    hazard posix_spawn --cloexec
    assert_spawn_cloexec
}

@test "posix_spawnp: an inherited lease is shared, not parked" {
    start_tagserver
    hazard posix_spawnp
    assert_spawn_shared
}

@test "posix_spawnp: a SOCK_CLOEXEC lease stays poolable" {
    start_tagserver
    hazard posix_spawnp --cloexec
    assert_spawn_cloexec
}

@test "system: an inherited lease is shared, not parked" {
    start_tagserver
    hazard system
    assert_spawn_shared
}

@test "system: a SOCK_CLOEXEC lease stays poolable" {
    start_tagserver
    hazard system --cloexec
    assert_spawn_cloexec
}

@test "popen: an inherited lease is shared, not parked" {
    start_tagserver
    hazard popen
    assert_spawn_shared
}

@test "popen: a SOCK_CLOEXEC lease stays poolable" {
    start_tagserver
    hazard popen --cloexec
    assert_spawn_cloexec
}

# --- 6. exec ---------------------------------------------------------------------------

# Two pooled cycles (miss, hit), then exec /bin/true: the report line is
# written before the image is replaced, with "event":"exec", once.
assert_exec_report() {
    assert_equal "$status" 0
    local pid
    pid=$(out_field pid)
    assert_equal "$(pid_report "$pid" lines exec)" 1
    assert_equal "$(pid_report "$pid" lines)" 1
    assert_equal "$(pid_report "$pid" hits exec)" 1
    assert_equal "$(pid_report "$pid" acquired exec)" 2
}

@test "execv: the report is written before the image is replaced" {
    start_tagserver
    hazard exec-execv
    assert_exec_report
}

@test "execve: the report is written before the image is replaced" {
    start_tagserver
    hazard exec-execve
    assert_exec_report
}

@test "execvp: the report is written before the image is replaced" {
    start_tagserver
    hazard exec-execvp
    assert_exec_report
}

@test "execvpe: the report is written before the image is replaced" {
    start_tagserver
    hazard exec-execvpe
    assert_exec_report
}

@test "execl: the report is written before the image is replaced" {
    start_tagserver
    hazard exec-execl
    assert_exec_report
}

@test "execlp: the report is written before the image is replaced" {
    start_tagserver
    hazard exec-execlp
    assert_exec_report
}

@test "execle: the report is written before the image is replaced" {
    start_tagserver
    hazard exec-execle
    assert_exec_report
}

@test "fexecve: the report is written before the image is replaced" {
    start_tagserver
    hazard exec-fexecve
    assert_exec_report
}

@test "failed execv: work before and after it is counted exactly once" {
    start_tagserver
    hazard exec-fail
    assert_tool_clean
    local pid
    pid=$(out_field pid)
    # 2 cycles (miss, hit), failed exec, 3 cycles (hits)
    assert_equal "$(pid_report "$pid" hits)" 4
    assert_equal "$(pid_report "$pid" misses)" 1
    assert_equal "$(pid_report "$pid" acquired)" 5
    assert_equal "$(pid_report "$pid" lines exit)" 1
}

# --- 7. close_range, closefrom, close loops ------------------------------------------------

assert_close_all_kept_pool() {
    assert_tool_clean
    # the idle connection survived; the lease in range was closed as
    # close() would (parked) or kept open with FD_CLOEXEC
    assert_equal "$(accepts)" 2
    assert_equal "$(field discarded.error)" 0
    assert_equal "$(field discarded.not_same_socket)" 0
    expect_num "$(field hits)" -ge 1 "hits after closing everything"
}

@test "close_range(3, ~0U, 0): the program's fds close, idle fds survive, pooling works after" {
    start_tagserver
    hazard close-range
    assert_close_all_kept_pool
}

@test "close_range(3, ~0U, CLOSE_RANGE_CLOEXEC): fds get FD_CLOEXEC and stay open" {
    start_tagserver
    hazard close-range-cloexec
    assert_close_all_kept_pool
}

@test "closefrom(3): the program's fds close, idle fds survive, pooling works after" {
    start_tagserver
    hazard closefrom
    assert_close_all_kept_pool
}

@test "close() of every fd from 3 to RLIMIT_NOFILE: pooling works after" {
    start_tagserver
    hazard close-loop
    assert_close_all_kept_pool
}

# --- 8. a close objpool never saw -----------------------------------------------------------

@test "raw SYS_close of a lease, number reused by a file: close() closes the file, nothing parked" {
    start_tagserver
    hazard rawclose-file
    assert_tool_clean
    assert_equal "$(field discarded.not_same_socket)" 1
    assert_equal "$(field parked)" 0
    assert_equal "$(field hits)" 0
    assert_equal "$(accepts)" 2
}

@test "raw SYS_close of a lease, number reused by another server's socket: never parked as the pooled target" {
    start_tagserver
    local other_port=$PORT other_count=$COUNT_FILE
    start_tagserver
    hazard rawclose-socket --port2 "$other_port"
    assert_tool_clean
    assert_equal "$(field discarded.not_same_socket)" 1
    assert_equal "$(field parked)" 0
    assert_equal "$(field hits)" 0
    # the pooled server saw both of its connections, the other server one
    assert_equal "$(accepts)" 2
    assert_equal "$(accepts "$other_count")" 1
}

# --- 9. a signal handler closes a lease ----------------------------------------------------

@test "SIGALRM every 50us closes a lease while the main thread is inside objpool: no deadlock, no cross-talk" {
    start_tagserver
    OBJPOOL_TEST_TIMEOUT=60 hazard signal --cycles 2000
    assert_tool_clean
    [[ "$status" != 124 ]] || fail "timed out (deadlock?)"
    expect_num "$(out_field handler_closes)" -gt 0 "leases closed by the handler"
    # counts add up: every acquire was released or is still idle/leased
    expect_num "$(field acquired)" -eq "$(( $(field hits) + $(field misses) ))" "acquired = hits + misses"
}

# --- 10. threads racing ------------------------------------------------------------------------

@test "8 threads x 2000 cycles, early closes, abandoned requests, partial reads, hand-offs, server random closes: no mismatch" {
    start_tagserver --random-close 5
    run_pooled "$(pool_for "$PORT")" "$TOOLS/stress" --port "$PORT" --threads 8 --cycles 2000
    assert_tool_clean
    assert_equal "$(out_field mismatches)" 0
    assert_equal "$(out_field cycles)" 16000
    # the hazards were exercised and pooling happened
    expect_num "$(field hits)" -gt 1000 "hits"
    expect_num "$(field discarded.abandoned_request)" -gt 0 "abandoned requests discarded"
    expect_num "$(field discarded.unread_data)" -gt 0 "partial reads discarded"
    expect_num "$(field discarded.stale_eof)" -gt 0 "server closes discarded"
}

# --- 11. jemalloc ----------------------------------------------------------------------------------

JEMALLOC=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2

require_jemalloc() {
    if [[ ! -f "$JEMALLOC" ]]; then
        JEMALLOC=$(ldconfig -p 2>/dev/null | awk '/libjemalloc\.so\.2/ {print $NF; exit}')
    fi
    [[ -n "$JEMALLOC" && -f "$JEMALLOC" ]] || skip "libjemalloc.so.2 is not installed (package libjemalloc2)"
}

# run_with_preload "LD_PRELOAD value" CMD...: like run_pooled with another
# LD_PRELOAD list.
run_with_preload() {
    local preload=$1
    shift
    RUN_SEQ=$((RUN_SEQ + 1))
    REPORT="$BATS_TEST_TMPDIR/report.$RUN_SEQ.json"
    run --separate-stderr timeout "$OBJPOOL_TEST_TIMEOUT" env \
        LD_PRELOAD="$preload" OBJPOOL_POOLS="$(pool_for "$PORT")" \
        OBJPOOL_REPORT_FORMAT=json OBJPOOL_REPORT="$REPORT" "$@"
    show_run
}

# jemalloc ahead of objpool. Under a sanitizer build (LIB is then
# "RUNTIME:build/SAN/libobjpool.so") the sanitizer's runtime must still come
# first of all, or the program dies before main.
jemalloc_first() {
    echo "${OBJPOOL_SANITIZER_RUNTIME:+$OBJPOOL_SANITIZER_RUNTIME }$JEMALLOC ${LIB##*:}"
}

jemalloc_tagclient() {
    start_tagserver
    run_with_preload "$1" "$TOOLS/tagclient" --port "$PORT" --cycles 1000
    assert_client_clean 1000
    expect_num "$(field hits)" -ge 998 "report hits"
    expect_num "$(accepts)" -le 2 "server accepts"
}

jemalloc_fork() {
    start_tagserver
    run_with_preload "$1" "$TOOLS/hazard" fork --port "$PORT"
    assert_tool_clean
    assert_equal "$(pid_report "$(out_field child_pid)" acquired)" 2
    assert_equal "$(pid_report "$(out_field pid)" discarded.shared)" 1
}

jemalloc_threads() {
    start_tagserver --random-close 5
    run_with_preload "$1" "$TOOLS/stress" --port "$PORT" --threads 8 --cycles 500
    assert_tool_clean
    assert_equal "$(out_field mismatches)" 0
    expect_num "$(field hits)" -gt 0 "hits"
}

@test "jemalloc first: 1000 tagclient cycles are pooled" {
    require_jemalloc
    jemalloc_tagclient "$(jemalloc_first)"
}

@test "jemalloc first: fork case" {
    require_jemalloc
    jemalloc_fork "$(jemalloc_first)"
}

@test "jemalloc first: racing threads" {
    require_jemalloc
    jemalloc_threads "$(jemalloc_first)"
}

@test "objpool first, jemalloc second: 1000 tagclient cycles are pooled" {
    require_jemalloc
    jemalloc_tagclient "$LIB $JEMALLOC"
}

@test "objpool first, jemalloc second: fork case" {
    require_jemalloc
    jemalloc_fork "$LIB $JEMALLOC"
}

@test "objpool first, jemalloc second: racing threads" {
    require_jemalloc
    jemalloc_threads "$LIB $JEMALLOC"
}
