# Shared helpers for objpool's bats tests.  Each suite (tests/LAYER/NAME.bats)
# does
#     load ../helpers
# It gets setup/teardown from here; a file that defines its own teardown()
# must call stop_all_tagservers and stop_servers in it.  The real servers'
# start/stop functions (nginx, redis-server, memcached, ...) come from
# bench/servers.bash, shared with `make bench`.

bats_require_minimum_version 1.5.0

# tests/ is where this file is, whichever folder the suite that loads it is in
TESTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(dirname "$TESTS_DIR")"
# shellcheck source=../bench/servers.bash
source "$REPO_ROOT/bench/servers.bash"
# The Python client programs (run with Debian's python3, $OBJPOOL_PY).
PY="$TESTS_DIR/py"
# OBJPOOL_LIB is used as an LD_PRELOAD value: the library, optionally after
# a sanitizer runtime ("RUNTIME:LIBRARY", see tests/sanitizers/run).
LIB="${OBJPOOL_LIB:-$REPO_ROOT/build/libobjpool.so}"
TOOLS="${OBJPOOL_TOOLS:-$REPO_ROOT/build/tests}"
# Every client run is bounded in time so a hung library fails a test
# instead of hanging the suite.
OBJPOOL_TEST_TIMEOUT="${OBJPOOL_TEST_TIMEOUT:-120}"

# --- bats-support / bats-assert ----------------------------------------
# Debian installs them under /usr/lib/bats/<name>/load.bash.
_objpool_load_lib() {
    local name=$1 dir dirs=()
    IFS=: read -r -a dirs <<<"${BATS_LIB_PATH:-}"
    dirs+=(/usr/lib/bats /usr/local/lib/bats /usr/lib/node_modules /opt/homebrew/lib)
    for dir in "${dirs[@]}"; do
        if [[ -n "$dir" && -f "$dir/$name/load.bash" ]]; then
            load "$dir/$name/load.bash"
            return 0
        fi
    done
    return 1
}

if _objpool_load_lib bats-support && _objpool_load_lib bats-assert; then
    HAVE_BATS_ASSERT=1
else
    # Minimal stand-ins for the few assertions these tests use, so a
    # machine without bats-assert still runs (and fails) tests properly.
    HAVE_BATS_ASSERT=0
    fail() { printf '%s\n' "$*" >&2; return 1; }
    assert_equal() {
        [[ "$1" == "$2" ]] || fail "assert_equal: expected '$2', actual '$1'"
    }
    assert_success() {
        [[ "$status" -eq 0 ]] || fail "assert_success: status $status, output: $output"
    }
    assert_failure() {
        [[ "$status" -ne 0 ]] || fail "assert_failure: status 0, output: $output"
    }
    assert_output() {
        if [[ "$1" == --partial ]]; then
            [[ "$output" == *"$2"* ]] || fail "assert_output: '$2' not in: $output"
        else
            [[ "$output" == "$1" ]] || fail "assert_output: expected '$1', actual '$output'"
        fi
    }
    refute_output() {
        if [[ "$1" == --partial ]]; then
            [[ "$output" != *"$2"* ]] || fail "refute_output: '$2' found in: $output"
        else
            [[ -z "$output" ]] || fail "refute_output: unexpected output: $output"
        fi
    }
fi

# --- generic ---------------------------------------------------------------

# require_cmd CMD...: skip the test, with the reason, if a command is missing.
require_cmd() {
    local c
    for c in "$@"; do
        if ! command -v "$c" >/dev/null 2>&1 && [[ ! -x "/usr/sbin/$c" && ! -x "/sbin/$c" ]]; then
            skip "required command '$c' is not installed"
        fi
    done
}

# promtool_ok FILE: Prometheus' own checker takes FILE (`promtool check
# metrics`: the format and its lint of names, help and types). tests/run
# fetches promtool from Debian's prometheus package when it is missing.
promtool_ok() {
    require_cmd promtool
    run promtool check metrics <"$1"
    echo "# promtool: $output"
    assert_success
    assert_output ""
}

# sanitizer_cannot WHY: under a sanitizer stage (tests/sanitizers/run sets
# OBJPOOL_SANITIZER to the stage and OBJPOOL_SANITIZER_RUNTIME to the
# runtime it preloads: none for tsan, whose runtime lives in the test
# programs), skip a test the sanitizer runtime itself cannot host, with the
# reason; the unsanitized suite runs it. tests/run does not count such a
# skip as a CI failure.
sanitizer_cannot() {
    if [[ -n "${OBJPOOL_SANITIZER_RUNTIME:-}" || "${OBJPOOL_SANITIZER:-}" == tsan ]]; then
        skip "sanitizer stage: $*"
    fi
}

# under_sanitizer: true in a sanitizer stage, for a test that leaves out
# only the part a sanitizer runtime cannot host (PHP's RTLD_DEEPBIND loads).
under_sanitizer() {
    [[ -n "${OBJPOOL_SANITIZER_RUNTIME:-}" || "${OBJPOOL_SANITIZER:-}" == tsan ]]
}

# tsan_cannot WHY: skip under the TSan stage only: TSan runs only the
# instrumented test programs (the library takes its __tsan_* symbols from
# them), so a client such as python3 cannot load the TSan library.
tsan_cannot() {
    if [[ "${OBJPOOL_SANITIZER:-}" == tsan ]]; then
        skip "sanitizer stage: $*"
    fi
}

# chroot_cannot WHY: in the fresh-root stage (.ci/fresh runs the suite in a
# bare Debian chroot and sets OBJPOOL_CHROOT), skip a test that a chroot
# cannot host, with the reason; tests/run counts such a skip as a CI
# failure anywhere else. Keep each use narrow: the one thing a chroot lacks.
chroot_cannot() {
    if [[ -n "${OBJPOOL_CHROOT:-}" ]]; then
        skip "chroot: $*"
    fi
}

# require_tool: build/objpool-tool (the command's check/report/stats) is
# built; it needs libjansson-dev, and where that is missing (tests/run not
# root) the test skips saying so. Built or not, a missing tool otherwise fails.
require_tool() {
    [[ -x "$REPO_ROOT/build/objpool-tool" ]] && return 0
    if ! printf '#include <jansson.h>\n' | "${CC:-cc}" -E -x c - >/dev/null 2>&1; then
        skip "build/objpool-tool is not built: libjansson-dev is not installed"
    fi
    fail "build/objpool-tool is not built (run make)"
}

# require_lib: the preload library and the test tools must be built.
# (Fails rather than skips: a missing library is a broken build.)
require_lib() {
    [[ -f "${LIB##*:}" ]] || fail "preload library not built: $LIB (run make)"
    local t
    for t in tagserver tagclient passthru; do
        [[ -x "$TOOLS/$t" ]] || fail "test tool not built: $TOOLS/$t (run make tools)"
    done
}

# assert_duration TEXT MS [ERR_MS] [WHAT]: TEXT is what the reports'
# fmt_duration (preload/base/log.c) prints for MS milliseconds, give or take
# its own rounding and ERR_MS: "%.1fms" below a second, "%.2fs" below a
# minute, "%.1fm" below an hour, else "%.1fh". A measured time's unit
# depends on the machine's speed (1.1 million hits of a 10 us open saved
# 11.00s, of a 59 us one under ASan 1.1m), so a test checks the figure
# against what it measures, never one unit.
assert_duration() {
    local text=$1 ms=$2 err=${3:-0} what=${4:-duration} why
    why=$(awk -v t="$text" -v ms="$ms" -v err="$err" 'BEGIN {
        if (t ~ /^[0-9]+\.[0-9]ms$/)           { f = 1;       lo = 0;       hi = 1000;    half = 0.05 }
        else if (t ~ /^[0-9]+\.[0-9][0-9]s$/)  { f = 1000;    lo = 1000;    hi = 60000;   half = 5 }
        else if (t ~ /^[0-9]+\.[0-9]m$/)       { f = 60000;   lo = 60000;   hi = 3600000; half = 3000 }
        else if (t ~ /^[0-9]+\.[0-9]h$/)       { f = 3600000; lo = 3600000; hi = -1;      half = 180000 }
        else { print "not a duration fmt_duration prints"; exit }
        v = t; sub(/[a-z]+$/, "", v); v *= f
        if (v < lo - half || (hi > 0 && v > hi + half)) { print "the unit does not fit the figure"; exit }
        d = v - ms; if (d < 0) d = -d
        if (d > half + err) printf "%s is %.3f ms, expected %.3f ms (+- %.3f)", t, v, ms, half + err
    }')
    [[ -z "$why" ]] || fail "$what: $text: $why"
}

# expect_num NUMBER OP NUMBER [WHAT]: numeric comparison with a readable
# failure message, e.g.  expect_num "$(accepts)" -le 2 "server accepts"
expect_num() {
    local a=$1 op=$2 b=$3 what=${4:-value}
    if ! [[ "$a" =~ ^-?[0-9]+(\.[0-9]+)?$ ]]; then
        fail "$what: not a number: '$a'"
        return 1
    fi
    if ! awk -v a="$a" -v b="$b" -v op="$op" 'BEGIN {
            if (op == "-eq") exit !(a == b); if (op == "-ne") exit !(a != b);
            if (op == "-lt") exit !(a <  b); if (op == "-le") exit !(a <= b);
            if (op == "-gt") exit !(a >  b); if (op == "-ge") exit !(a >= b);
            exit 2 }'; then
        fail "$what: expected $a $op $b"
        return 1
    fi
}

# --- tagserver -------------------------------------------------------------

SERVER_PIDS=()
SERVER_SEQ=0

# start_tagserver [tagserver args...]
# Starts a tagserver in the background (port 0 unless --port is given),
# waits up to 5 s for its port file, and sets PORT, SERVER_PID, SERVER_DIR
# and COUNT_FILE.  Returns 1 (with the server log on stderr) if it does
# not come up, so callers can `start_tagserver ... || skip "..."`.
start_tagserver() {
    SERVER_SEQ=$((SERVER_SEQ + 1))
    SERVER_DIR="$BATS_TEST_TMPDIR/server$SERVER_SEQ"
    mkdir -p "$SERVER_DIR"
    COUNT_FILE="$SERVER_DIR/count"
    "$TOOLS/tagserver" --port-file "$SERVER_DIR/port" --count-file "$COUNT_FILE" \
        "$@" >"$SERVER_DIR/log" 2>&1 3>&- &
    SERVER_PID=$!
    SERVER_PIDS+=("$SERVER_PID")
    local i
    for ((i = 0; i < 100; i++)); do
        if [[ -s "$SERVER_DIR/port" ]]; then
            PORT=$(<"$SERVER_DIR/port")
            return 0
        fi
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            break
        fi
        sleep 0.05
    done
    echo "tagserver $* did not start: $(cat "$SERVER_DIR/log")" >&2
    return 1
}

# stop_tagserver [PID]: SIGTERM, then SIGKILL after 2 s.
stop_tagserver() {
    local pid=${1:-${SERVER_PID:-}} i
    [[ -n "$pid" ]] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 40; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

stop_all_tagservers() {
    local pid
    for pid in "${SERVER_PIDS[@]}"; do
        stop_tagserver "$pid"
    done
    SERVER_PIDS=()
}

# accepts [COUNT_FILE]: number of connections the server accepted.  Waits
# for the count to settle (the client's connect() can complete before the
# server's accept() has run).
accepts() {
    local f=${1:-$COUNT_FILE} prev cur i
    prev=$(<"$f")
    for ((i = 0; i < 40; i++)); do
        sleep 0.05
        cur=$(<"$f")
        [[ "$cur" == "$prev" ]] && break
        prev=$cur
    done
    echo "$prev"
}

# --- running clients ---------------------------------------------------------

RUN_SEQ=0

# run_plain CMD...: run without the preload; sets status, output, stderr.
run_plain() {
    run --separate-stderr timeout "$OBJPOOL_TEST_TIMEOUT" "$@"
    show_run
}

# run_pooled POOLS [VAR=value...] CMD...: run CMD with LD_PRELOAD=$LIB,
# OBJPOOL_POOLS=POOLS and a JSON report in $REPORT (a fresh file).
# Sets status, output (stdout), stderr.
run_pooled() {
    local pools=$1
    shift
    RUN_SEQ=$((RUN_SEQ + 1))
    REPORT="$BATS_TEST_TMPDIR/report.$RUN_SEQ.json"
    run --separate-stderr timeout "$OBJPOOL_TEST_TIMEOUT" env \
        LD_PRELOAD="$LIB" OBJPOOL_POOLS="$pools" \
        OBJPOOL_REPORT_FORMAT=json OBJPOOL_REPORT="$REPORT" "$@"
    show_run
}

# Echo the last run's results; bats shows this only when a test fails.
show_run() {
    echo "# status=$status"
    echo "# stdout: ${output:0:2000}"
    echo "# stderr: ${stderr:0:2000}"
    if [[ -n "${REPORT:-}" && -f "$REPORT" ]]; then
        echo "# report ($REPORT):"
        head -c 4000 "$REPORT"
    fi
}

# client_field NAME: a NAME=value field of tagclient's summary line in $output.
client_field() {
    local v
    v=$(printf '%s\n' "$output" | grep -o "\b$1=[0-9]*" | tail -n 1 | cut -d= -f2)
    if [[ -z "$v" ]]; then
        echo "client_field: no $1= in client output: $output" >&2
        return 1
    fi
    echo "$v"
}

# assert_client_clean CYCLES: the client exited 0 and did CYCLES cycles
# with no mismatch and no error.
assert_client_clean() {
    assert_equal "$status" 0
    assert_equal "$(client_field cycles)" "$1"
    assert_equal "$(client_field mismatches)" 0
    assert_equal "$(client_field errors)" 0
    assert_equal "$(client_field ok)" "$1"
}

# --- JSON report ---------------------------------------------------------------

if [[ -x /usr/bin/python3 ]]; then
    OBJPOOL_PY=/usr/bin/python3
else
    OBJPOOL_PY=python3
fi

# json_field FILE TARGET FIELD   (TARGET may be a pool spec with ?options)
# Prints FIELD (dotted path, e.g. discarded.full) of the pool whose target
# is TARGET, summed over every report line (one line per process).  TARGET
# ":PORT" matches any target ending in ":PORT".  Fails, naming the targets
# present, if no pool matches; fails on a line that is not JSON.
json_field() {
    "$OBJPOOL_PY" - "$@" <<'EOF'
import json, sys
path, target, field = sys.argv[1:4]
target = target.split("?", 1)[0]  # a pool spec names its target before its options
try:
    lines = open(path).read().splitlines()
except OSError as e:
    sys.exit("json_field: cannot read report %s: %s" % (path, e))
total, found, seen = 0, False, []
for n, line in enumerate(lines, 1):
    if not line.strip():
        continue
    try:
        obj = json.loads(line)
    except ValueError as e:
        sys.exit("json_field: %s line %d is not JSON (%s): %r" % (path, n, e, line[:200]))
    for pool in obj.get("pools", []):
        t = str(pool.get("target"))
        seen.append(t)
        if not (t == target or (target.startswith(":") and t.endswith(target))):
            continue
        v = pool
        for part in field.split("."):
            if not isinstance(v, dict) or part not in v:
                sys.exit("json_field: pool %s has no field %s: %s" % (t, field, json.dumps(pool)))
            v = v[part]
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            sys.exit("json_field: %s.%s is not a number: %r" % (t, field, v))
        total += v
        found = True
if not found:
    sys.exit("json_field: no pool %s in %s (targets: %s)" % (target, path, ", ".join(seen) or "none"))
print(int(total) if float(total).is_integer() else total)
EOF
}

# json_text FILE TARGET FIELD: like json_field, for a string field (e.g.
# proto) of the pool whose target is TARGET; one line per report line that
# has that pool.  Fails if no pool matches or the field is missing.
json_text() {
    "$OBJPOOL_PY" - "$@" <<'EOF'
import json, sys
path, target, field = sys.argv[1:4]
try:
    lines = open(path).read().splitlines()
except OSError as e:
    sys.exit("json_text: cannot read report %s: %s" % (path, e))
found, seen = False, []
for line in lines:
    if not line.strip():
        continue
    for pool in json.loads(line).get("pools", []):
        t = str(pool.get("target"))
        seen.append(t)
        if not (t == target or (target.startswith(":") and t.endswith(target))):
            continue
        v = pool
        for part in field.split("."):
            if not isinstance(v, dict) or part not in v:
                sys.exit("json_text: pool %s has no field %s: %s" % (t, field, json.dumps(pool)))
            v = v[part]
        print(v)
        found = True
if not found:
    sys.exit("json_text: no pool %s in %s (targets: %s)" % (target, path, ", ".join(seen) or "none"))
EOF
}

# --- real servers (bench/servers.bash) and their Python clients ---------------

# require_py MODULE...: skip unless Debian's python3 can import them.
require_py() {
    local m
    for m in "$@"; do
        "$OBJPOOL_PY" -c "import $m" 2>/dev/null ||
            skip "$OBJPOOL_PY cannot import $m (install python3-$m)"
    done
}

pool_for() { echo "tcp://127.0.0.1:$1"; }

# nginx_up [extra http directives]: nginx serving the http_loop.py files.
nginx_up() {
    require_cmd nginx
    require_py requests
    NG="$BATS_TEST_TMPDIR/nginx"
    start_nginx "$NG" "${1:-}" || fail "nginx did not start"
    "$OBJPOOL_PY" "$PY/http_loop.py" --gen-files "$NG/www"
    URL="http://127.0.0.1:$NGINX_PORT"
}

# reset_access_log: start counting connections afresh (nginx reopens nothing;
# truncating keeps its O_APPEND descriptor valid).
reset_access_log() { : >"$NG/access.log"; }

redis_up() {
    require_cmd redis-server
    require_py redis
    RD="$BATS_TEST_TMPDIR/redis"
    start_redis "$RD" "$@" || fail "redis-server did not start"
}

redis_conns() { redis_stat "$REDIS_PORT" total_connections_received; }

# assert_loop_clean N: a tests/py client exited 0 with N ok, no error/mismatch.
assert_loop_clean() {
    assert_equal "$status" 0
    assert_equal "$(client_field ok)" "$1"
    assert_equal "$(client_field mismatches)" 0
    assert_equal "$(client_field errors)" 0
}

teardown() {
    stop_servers
    stop_all_tagservers
}

# every_unit_case_has_a_test: each case the unit program $UNIT lists
# (--list) is run by a `run_unit CASE` line of the calling suite, so a case
# added to the C program cannot go untested.
every_unit_case_has_a_test() {
    [[ -x "$UNIT" ]] || fail "unit tests not built: $UNIT (run make)"
    local c missing=()
    for c in $("$UNIT" --list); do
        grep -q "run_unit $c\$" "$BATS_TEST_FILENAME" || missing+=("$c")
    done
    assert_equal "${missing[*]}" ""
}
