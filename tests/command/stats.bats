#!/usr/bin/env bats
# live stats (`OBJPOOL_STATS`, `objpool stats`): a running client's counters
# read from outside, gone processes' files removed, a fork child's own file,
# the directory's checks, no system call added
#
# Live stats (OBJPOOL_STATS, objpool stats): a running pooled client's
# counters read from outside while it runs, the files of gone processes
# removed by the command, a fork child's own file, the directory's checks,
# and no system call added when it is off or on the pooled path.

load ../helpers

CMD="$REPO_ROOT/scripts/objpool"

setup() {
    require_lib
    require_tool
    SD="$BATS_TEST_TMPDIR/live"
    CLIENTS=()
}

teardown() {
    local p
    for p in "${CLIENTS[@]}"; do
        kill -KILL "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    stop_servers
    stop_all_tagservers
}

# start_client CYCLES [SLEEP_MS]: a pooled tagclient in the background with
# live stats in $SD; CLIENT is its pid (the preload's process: env execs).
# OBJPOOL_STATS is $STATS_VALUE when that is set (empty: the library's
# default directory, which the caller points $SD at), else $SD.
start_client() {
    env LD_PRELOAD="$LIB" OBJPOOL_POOLS="tcp://127.0.0.1:$PORT?proto=line" OBJPOOL_REPORT=none \
        OBJPOOL_STATS="${STATS_VALUE-$SD}" "$TOOLS/tagclient" --port "$PORT" --cycles "$1" \
        --sleep-ms "${2:-2}" >"$BATS_TEST_TMPDIR/client.out" 2>"$BATS_TEST_TMPDIR/client.err" &
    CLIENT=$!
    CLIENTS+=("$CLIENT")
    local i
    for ((i = 0; i < 100; i++)); do
        [[ -s "$SD/$CLIENT.stats" ]] && return 0
        sleep 0.05
    done
    fail "no $SD/$CLIENT.stats: $(cat "$BATS_TEST_TMPDIR/client.err")"
}

# live_hits PID: the hits of the pool in `objpool stats --json PID`
live_hits() {
    "$CMD" stats --dir "$SD" --json "$1" >"$BATS_TEST_TMPDIR/live.json" || return 1
    json_field "$BATS_TEST_TMPDIR/live.json" ":$PORT" hits
}

# hits_above PID N: waits until the live hits of PID exceed N (a slow
# machine takes longer, a hung one fails after 20 s) and prints them
hits_above() {
    local h=0 i
    for ((i = 0; i < 400; i++)); do
        h=$(live_hits "$1") || return 1
        if ((h > $2)); then
            echo "$h"
            return 0
        fi
        sleep 0.05
    done
    echo "$h"
}

@test "stats: a running client's hits grow between two reads; SIGKILL, and its file is gone" {
    start_tagserver
    start_client 100000
    local h1 h2
    h1=$(hits_above "$CLIENT" 0)
    h2=$(hits_above "$CLIENT" "$h1")
    expect_num "$h1" -gt 0 "hits at the first read"
    expect_num "$h2" -gt "$h1" "hits at the second read"
    # the table names the process and the target
    run "$CMD" stats --dir "$SD" "$CLIENT"
    assert_success
    assert_output --partial "pid $CLIENT tagclient"
    assert_output --partial "tcp://127.0.0.1:$PORT"
    # modes: the directory 0700, the file 0600
    assert_equal "$(stat -c %a "$SD")" 700
    assert_equal "$(stat -c %a "$SD/$CLIENT.stats")" 600
    kill -KILL "$CLIENT"
    wait "$CLIENT" 2>/dev/null || true
    [[ -f "$SD/$CLIENT.stats" ]] || fail "the library removed the file (only the command does)"
    run "$CMD" stats --dir "$SD"
    assert_success
    [[ "$output" != *"pid $CLIENT "* ]] || fail "a killed process listed: $output"
    [[ ! -e "$SD/$CLIENT.stats" ]] || fail "the file of a killed process is left"
    run "$CMD" stats --dir "$SD" "$CLIENT"
    assert_equal "$status" 1
}

@test "stats: --json is the report's schema with event live; --prometheus is strict (our parser and promtool) and says the same" {
    start_tagserver
    start_client 100000
    hits_above "$CLIENT" 0 >/dev/null
    kill -STOP "$CLIENT" # the numbers hold still between the two reads
    "$CMD" stats --dir "$SD" --json >"$BATS_TEST_TMPDIR/live.json"
    "$CMD" stats --dir "$SD" --prometheus >"$BATS_TEST_TMPDIR/live.prom"
    kill -CONT "$CLIENT"
    run "$OBJPOOL_PY" -c '
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1])]
assert len(objs) == 1, objs
o = objs[0]
assert o["event"] == "live" and o["pid"] == int(sys.argv[2]) and o["program"] == "tagclient", o
p = o["pools"][0]
for k in ("target", "kind", "proto", "acquired", "hits", "misses", "discarded", "idle", "hit_ratio", "mean_create_us"):
    assert k in p, k
assert p["acquired"] == p["hits"] + p["misses"] and p["hits"] > 0, p
assert p["proto"] == "line" and p["kind"] == "tcp", p
print("ok")' "$BATS_TEST_TMPDIR/live.json" "$CLIENT"
    assert_success
    assert_output "ok"
    run "$OBJPOOL_PY" "$REPO_ROOT/tests/py/prom_check.py" "$BATS_TEST_TMPDIR/live.prom" "$BATS_TEST_TMPDIR/live.json"
    assert_success
    assert_output --partial "ok: "
    promtool_ok "$BATS_TEST_TMPDIR/live.prom"
}

@test "stats: a forked child has its own file, with its own pid and its own counts" {
    start_tagserver
    cat >"$BATS_TEST_TMPDIR/forker.py" <<'EOF'
import os, socket, sys, time
port = int(sys.argv[1])
def rounds(n, tag):
    for i in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"REQ %s%d\n" % (tag, i))
        f = s.makefile("rb")
        assert f.readline().startswith(b"REP %s%d " % (tag, i))
        f.close()
        s.close()
rounds(20, b"p")
pid = os.fork()
if pid == 0:
    rounds(50, b"c")
    print("child", os.getpid(), flush=True)
    time.sleep(30)
    os._exit(0)
print("parent", os.getpid(), flush=True)
time.sleep(30)
EOF
    env LD_PRELOAD="$LIB" OBJPOOL_POOLS="tcp://127.0.0.1:$PORT?proto=line" OBJPOOL_REPORT=none \
        OBJPOOL_STATS="$SD" "$OBJPOOL_PY" "$BATS_TEST_TMPDIR/forker.py" "$PORT" >"$BATS_TEST_TMPDIR/fork.out" &
    CLIENTS+=($!)
    local i parent child
    for ((i = 0; i < 200; i++)); do
        grep -q child "$BATS_TEST_TMPDIR/fork.out" && grep -q parent "$BATS_TEST_TMPDIR/fork.out" && break
        sleep 0.05
    done
    parent=$(awk '$1 == "parent" {print $2}' "$BATS_TEST_TMPDIR/fork.out")
    child=$(awk '$1 == "child" {print $2}' "$BATS_TEST_TMPDIR/fork.out")
    CLIENTS+=("$child")
    [[ -n "$parent" && -n "$child" ]] || fail "forker output: $(cat "$BATS_TEST_TMPDIR/fork.out")"
    [[ -f "$SD/$parent.stats" && -f "$SD/$child.stats" ]] || fail "files: $(ls "$SD")"
    "$CMD" stats --dir "$SD" --json "$child" >"$BATS_TEST_TMPDIR/child.json"
    "$CMD" stats --dir "$SD" --json "$parent" >"$BATS_TEST_TMPDIR/parent.json"
    run "$OBJPOOL_PY" -c '
import json, sys
c = json.loads(open(sys.argv[1]).read()); p = json.loads(open(sys.argv[2]).read())
assert c["pid"] == int(sys.argv[3]) and c["ppid"] == int(sys.argv[4]), c
cp, pp = c["pools"][0], p["pools"][0]
# the child counts only its own 50 rounds; the parent only its 20
assert cp["acquired"] == 50, cp
assert pp["acquired"] == 20 and pp["hits"] == 19, pp
print("ok")' "$BATS_TEST_TMPDIR/child.json" "$BATS_TEST_TMPDIR/parent.json" "$child" "$parent"
    assert_success
    assert_output "ok"
}

@test "stats: a directory that is a symbolic link, or not 0700, is refused with one line; the program runs on" {
    start_tagserver
    mkdir -p "$BATS_TEST_TMPDIR/real"
    chmod 700 "$BATS_TEST_TMPDIR/real"
    ln -s "$BATS_TEST_TMPDIR/real" "$BATS_TEST_TMPDIR/link"
    run_pooled "tcp://127.0.0.1:$PORT?proto=line" OBJPOOL_STATS="$BATS_TEST_TMPDIR/link" \
        "$TOOLS/tagclient" --port "$PORT" --cycles 20
    assert_client_clean 20
    assert_equal "$(grep -c . <<<"$stderr")" 1
    [[ "$stderr" == "objpool["*"]: stats: $BATS_TEST_TMPDIR/link: a symbolic link or not a directory; no live stats" ]] ||
        fail "stderr: $stderr"
    assert_equal "$(ls -A "$BATS_TEST_TMPDIR/real")" ""
    mkdir -p "$BATS_TEST_TMPDIR/open"
    chmod 755 "$BATS_TEST_TMPDIR/open"
    run_pooled "tcp://127.0.0.1:$PORT?proto=line" OBJPOOL_STATS="$BATS_TEST_TMPDIR/open" \
        "$TOOLS/tagclient" --port "$PORT" --cycles 20
    assert_client_clean 20
    assert_equal "$(grep -c . <<<"$stderr")" 1
    [[ "$stderr" == *"stats: $BATS_TEST_TMPDIR/open: its mode is not 0700; no live stats" ]] || fail "stderr: $stderr"
    assert_equal "$(ls -A "$BATS_TEST_TMPDIR/open")" ""
    # a missing directory is made, 0700
    run_pooled "tcp://127.0.0.1:$PORT?proto=line" OBJPOOL_STATS="$BATS_TEST_TMPDIR/new" \
        "$TOOLS/tagclient" --port "$PORT" --cycles 20
    assert_client_clean 20
    assert_equal "$stderr" ""
    assert_equal "$(stat -c %a "$BATS_TEST_TMPDIR/new")" 700
}

# calls CYCLES [VAR=value]: the system calls a pooled tagclient makes (strace -f -c)
calls() {
    local cycles=$1
    shift
    env LD_PRELOAD="$LIB" OBJPOOL_POOLS="tcp://127.0.0.1:$PORT?proto=line" OBJPOOL_REPORT=none "$@" \
        strace -f -c -o "$BATS_TEST_TMPDIR/strace.$cycles" "$TOOLS/tagclient" --port "$PORT" --cycles "$cycles" >/dev/null
    awk '$NF == "total" {print $(NF-2) ~ /^[0-9]+$/ && $(NF-1) ~ /^[0-9]+$/ ? $(NF-2) : $(NF-1)}' "$BATS_TEST_TMPDIR/strace.$cycles"
}

@test "stats: off, no file and no system call; on, the pooled loop makes no more system calls than without" {
    require_cmd strace
    start_tagserver
    local off50 off500 on50 on500
    off50=$(calls 50)
    off500=$(calls 500)
    on50=$(calls 50 OBJPOOL_STATS="$SD")
    on500=$(calls 500 OBJPOOL_STATS="$SD")
    echo "# off: $off50 $off500, on: $on50 $on500"
    expect_num "$off500" -gt "$off50" "the count grows with the cycles"
    # start-up costs a fixed number of calls; the 450 more cycles cost the same either way
    expect_num "$((on500 - on50))" -eq "$((off500 - off50))" "calls of 450 pooled cycles, with stats vs without"
    expect_num "$on50" -gt "$off50" "set-up calls with stats"
    # unset: nothing created, and no call names a .stats file or the directory
    env LD_PRELOAD="$LIB" OBJPOOL_POOLS="tcp://127.0.0.1:$PORT?proto=line" OBJPOOL_REPORT=none \
        XDG_RUNTIME_DIR="$BATS_TEST_TMPDIR/xdg" strace -f -o "$BATS_TEST_TMPDIR/trace" \
        "$TOOLS/tagclient" --port "$PORT" --cycles 20 >/dev/null
    [[ ! -e "$BATS_TEST_TMPDIR/xdg" ]] || fail "a directory was made with OBJPOOL_STATS unset"
    # (a sanitizer runtime makes its own report directories: only objpool's count)
    run grep -E '\.stats|xdg|mkdir\(.*objpool|ftruncate' "$BATS_TEST_TMPDIR/trace"
    assert_failure
    # the pass-through path (no pools): nothing at all
    env LD_PRELOAD="$LIB" OBJPOOL_STATS="$SD.none" strace -f -o "$BATS_TEST_TMPDIR/trace2" \
        "$TOOLS/tagclient" --port "$PORT" --cycles 20 >/dev/null
    [[ ! -e "$SD.none" ]] || fail "live stats without pools"
}

@test "stats: objpool run --stats=DIR sets OBJPOOL_STATS; env prints it" {
    run "$CMD" env --stats="$SD" -p tcp://127.0.0.1:9
    assert_success
    assert_output --partial "OBJPOOL_STATS=$SD"
    run "$CMD" env --stats -p tcp://127.0.0.1:9
    assert_success
    assert_output --partial "OBJPOOL_STATS="
    run "$CMD" stats --bogus
    assert_equal "$status" 2
}

@test "stats: a file target's paths (a pool each) are summed into one row, as the report does" {
    mkdir -p "$BATS_TEST_TMPDIR/data"
    echo a >"$BATS_TEST_TMPDIR/data/a.txt"
    echo b >"$BATS_TEST_TMPDIR/data/b.txt"
    cat >"$BATS_TEST_TMPDIR/reader.py" <<'PY'
import os, sys, time
d = sys.argv[1]
for i in range(40):
    with open(os.path.join(d, "a.txt" if i % 2 else "b.txt")) as f:
        f.read()
print("done", flush=True)
time.sleep(30)
PY
    env LD_PRELOAD="$LIB" OBJPOOL_POOLS="file://$BATS_TEST_TMPDIR/data/*.txt" OBJPOOL_REPORT=none \
        OBJPOOL_STATS="$SD" "$OBJPOOL_PY" "$BATS_TEST_TMPDIR/reader.py" "$BATS_TEST_TMPDIR/data" \
        >"$BATS_TEST_TMPDIR/reader.out" &
    local pid=$! i
    CLIENTS+=("$pid")
    for ((i = 0; i < 200; i++)); do
        grep -q done "$BATS_TEST_TMPDIR/reader.out" && break
        sleep 0.05
    done
    "$CMD" stats --dir "$SD" --json "$pid" >"$BATS_TEST_TMPDIR/live.json"
    cat "$BATS_TEST_TMPDIR/live.json"
    assert_equal "$(json_field "$BATS_TEST_TMPDIR/live.json" "file://$BATS_TEST_TMPDIR/data/*.txt" acquired)" 40
    assert_equal "$(json_field "$BATS_TEST_TMPDIR/live.json" "file://$BATS_TEST_TMPDIR/data/*.txt" hits)" 38
    run "$OBJPOOL_PY" -c 'import json,sys; o=json.loads(open(sys.argv[1]).read()); assert len(o["pools"]) == 1, o; print("ok")' \
        "$BATS_TEST_TMPDIR/live.json"
    assert_output "ok"
}

# The default directory (OBJPOOL_STATS set empty, objpool run --stats):
# $XDG_RUNTIME_DIR/objpool; without it /run/user/UID/objpool when logind
# made /run/user/UID; on a machine without either (a container, root on a
# server) /tmp/objpool-UID, as tmux does. The command looks in the same
# place. Before the fallback, such a machine got "cannot create it" and no
# live stats at all.
@test "stats: the default directory: XDG_RUNTIME_DIR, else /run/user/UID, else /tmp/objpool-UID; the command finds each" {
    start_tagserver
    local xdg="$BATS_TEST_TMPDIR/xdg"
    mkdir -m 0700 "$xdg"
    XDG_RUNTIME_DIR=$xdg SD="$xdg/objpool" STATS_VALUE= start_client 100000
    run env XDG_RUNTIME_DIR="$xdg" OBJPOOL_STATS= "$CMD" stats "$CLIENT"
    assert_success
    assert_output --partial "pid $CLIENT tagclient"
    assert_equal "$(stat -c %a "$xdg/objpool")" 700
    kill -KILL "$CLIENT"

    # a user with no /run/user/UID: the tmux-like fallback under /tmp
    [[ $(id -u) == 0 ]] || skip "needs root to run as another user (setpriv)"
    require_cmd setpriv
    local uid
    uid=$(id -u nobody)
    [[ ! -e /run/user/$uid ]] || skip "/run/user/$uid exists here"
    local tmpd="/tmp/objpool-$uid" out="$BATS_TEST_TMPDIR/nobody" tree
    rm -rf "$tmpd"
    mkdir -m 0777 "$out"
    # nobody may not reach the checkout (a clone under a 0700 mktemp
    # directory): the command, the library and the client are copied into a
    # build tree of the same shape that everyone can read
    tree=$(mktemp -d /tmp/objpool-tree.XXXXXX)
    chmod 0755 "$tree"
    mkdir -p "$tree/scripts" "$tree/build/tests"
    cp "$CMD" "$tree/scripts/objpool"
    cp "$REPO_ROOT/VERSION" "$tree/VERSION"
    # $LIB may be a list (a sanitizer stage puts its runtime, under /usr,
    # first): only the last entry, ours, is copied
    local preload="$tree/build/libobjpool.so"
    [[ $LIB == *:* ]] && preload="${LIB%:*}:$preload"
    cp "${LIB##*:}" "$tree/build/libobjpool.so"
    cp "$REPO_ROOT/build/objpool-tool" "$tree/build/"
    cp "$TOOLS/tagclient" "$tree/build/tests/"
    setpriv --reuid="$uid" --regid="$(id -g nobody)" --clear-groups \
        env -u XDG_RUNTIME_DIR LD_PRELOAD="$preload" OBJPOOL_POOLS="tcp://127.0.0.1:$PORT?proto=line" \
        OBJPOOL_REPORT=none OBJPOOL_STATS= "$tree/build/tests/tagclient" --port "$PORT" --cycles 100000 \
        --sleep-ms 2 >"$out/client.out" 2>"$out/client.err" &
    CLIENT=$!
    CLIENTS+=("$CLIENT")
    local i
    for ((i = 0; i < 100; i++)); do
        [[ -s "$tmpd/$CLIENT.stats" ]] && break
        sleep 0.05
    done
    [[ -s "$tmpd/$CLIENT.stats" ]] || { rm -rf "$tmpd" "$tree"; fail "no $tmpd/$CLIENT.stats: $(cat "$out/client.err")"; }
    [[ ! -s "$out/client.err" ]] || { rm -rf "$tmpd" "$tree"; fail "an error line: $(cat "$out/client.err")"; }
    local mode owner
    mode=$(stat -c %a "$tmpd")
    owner=$(stat -c %u "$tmpd")
    run setpriv --reuid="$uid" --regid="$(id -g nobody)" --clear-groups \
        env -u XDG_RUNTIME_DIR OBJPOOL_STATS= "$tree/scripts/objpool" stats "$CLIENT"
    kill -KILL "$CLIENT"
    wait "$CLIENT" 2>/dev/null || true
    rm -rf "$tmpd" "$tree"
    assert_success
    assert_output --partial "pid $CLIENT tagclient"
    assert_equal "$mode" 700
    assert_equal "$owner" "$uid"
}

# --watch redraws until interrupted; a process with more pools than the
# file's 128 slots is shown, and said to be, partial.
@test "stats: --watch=0.3 redraws the table; a process with 130 pools is marked partial in the table and the JSON" {
    local pools="" i
    for ((i = 1; i <= 130; i++)); do pools+="tcp://127.0.0.1:$((20000 + i));"; done
    mkdir -m 0700 "$SD"
    env LD_PRELOAD="$LIB" OBJPOOL_POOLS="$pools" OBJPOOL_REPORT=none OBJPOOL_STATS="$SD" \
        sleep 30 2>"$BATS_TEST_TMPDIR/client.err" &
    CLIENT=$!
    CLIENTS+=("$CLIENT")
    for ((i = 0; i < 100; i++)); do
        [[ -s "$SD/$CLIENT.stats" ]] && break
        sleep 0.05
    done
    # three tables drawn, however long a draw takes on this machine (a
    # hung --watch fails after 20 s)
    "$CMD" stats --dir "$SD" --watch=0.3 "$CLIENT" >"$BATS_TEST_TMPDIR/watch.out" 2>&1 &
    local watch=$! draws=0
    for ((i = 0; i < 400; i++)); do
        draws=$(grep -c "pid $CLIENT sleep" "$BATS_TEST_TMPDIR/watch.out" || true)
        ((draws >= 3)) && break
        sleep 0.05
    done
    kill "$watch" 2>/dev/null
    wait "$watch" 2>/dev/null || true
    output=$(<"$BATS_TEST_TMPDIR/watch.out")
    expect_num "$draws" -ge 3 "tables drawn by --watch=0.3"
    assert_output --partial "partial: the file's slots ran out"
    "$CMD" stats --dir "$SD" --json "$CLIENT" >"$BATS_TEST_TMPDIR/live.json"
    run "$OBJPOOL_PY" -c 'import json,sys; o=json.loads(open(sys.argv[1]).readline()); print(len(o["pools"]), o["partial"])' "$BATS_TEST_TMPDIR/live.json"
    assert_output "128 True"
}

@test "stats: before any process made the directory: 'no live process in DIR', exit 0 (with a pid that is not there: 1); a directory that is a file is an error" {
    run --separate-stderr "$CMD" stats --dir "$SD"
    assert_success
    assert_output "no live process in $SD"
    assert_equal "$stderr" ""
    run --separate-stderr "$CMD" stats --dir "$SD" --json
    assert_success
    assert_output ""
    run --separate-stderr "$CMD" stats --dir "$SD" 12345
    assert_failure 1
    run --separate-stderr "$CMD" stats --dir /etc/passwd
    assert_failure 1
    [[ "$stderr" == *"stats: /etc/passwd: Not a directory"* ]] || fail "stderr: $stderr"
}
