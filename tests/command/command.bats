#!/usr/bin/env bats
# `objpool run/env/check/report`, the config file search, Prometheus output,
# config examples, every bad-input class, unix sockets, prewarm, check
# probes, install/uninstall, man pages against the code's tables, completion
#
# The `objpool` command (scripts/objpool, build/objpool-tool): run, env,
# check, report (table and Prometheus), help, the configuration file search,
# the config/ examples, bad input, install, man pages against the code's
# tables, bash completion, fuzz seeds.

load ../helpers

OBJPOOL="$REPO_ROOT/scripts/objpool"
# The library `objpool run` finds next to itself in the build tree. It is
# $LIB in a normal run; the sanitizer stages point $LIB at their own build,
# which the command does not use.
CMD_LIB="$REPO_ROOT/build/libobjpool.so"
PY=/usr/bin/python3

setup() {
    require_lib
    [[ -x "$REPO_ROOT/build/objpool-tool" ]] || fail "helper not built: build/objpool-tool (run make)"
    EXTRA_PIDS=()
}

teardown() {
    local pid
    for pid in "${EXTRA_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    stop_all_tagservers
}

# needs_tool SUBCOMMAND: check, report and stats run build/objpool-tool
needs_tool() {
    case ${1:-} in check | report | stats) require_tool ;; esac
}

# run_cmd ARGS...: run the objpool command; sets status, output, stderr.
run_cmd() {
    needs_tool "${1:-}"
    run --separate-stderr timeout "$OBJPOOL_TEST_TIMEOUT" "$OBJPOOL" "$@"
    show_run
}

# run_cmd_status STATUS ARGS...: run_cmd expecting STATUS (127 needs saying)
run_cmd_status() {
    local st=$1
    shift
    needs_tool "${1:-}"
    run "-$st" --separate-stderr timeout "$OBJPOOL_TEST_TIMEOUT" "$OBJPOOL" "$@"
    show_run
}

# every line of $1 fits an 80-column terminal
assert_fits() {
    local long
    long=$(printf '%s\n' "$1" | awk 'length($0) > 80' | head -n 3)
    [[ -z "$long" ]] || fail "lines longer than 80 columns: $long"
}

# assert_one_config_line SOURCE TOKEN WHY: $stderr is exactly one line
# objpool[PID]: config: SOURCE: TOKEN: WHY (WHY may be a prefix)
assert_one_config_line() {
    local n
    n=$(printf '%s\n' "$stderr" | grep -c '^objpool\[[0-9]*\]: config: ')
    assert_equal "$n" 1
    local line
    line=$(printf '%s\n' "$stderr" | grep '^objpool\[[0-9]*\]: config: ')
    [[ "$line" == "objpool["*"]: config: $1: $2: $3"* ]] ||
        fail "expected 'config: $1: $2: $3...', got: $line"
}

# --- help, version, errors ----------------------------------------------------

@test "--help of the command and of each subcommand: exit 0, fits 80 columns" {
    local args
    for args in "--help" "run --help" "env --help" "check --help" "report --help" "stats --help" "help"; do
        # shellcheck disable=SC2086
        run_cmd $args
        assert_success
        assert_fits "$output"
        assert_output --partial "Usage: objpool"
        assert_equal "$stderr" ""
    done
    run_cmd --help
    assert_output --partial "objpool run -p tcp://127.0.0.1:6379 -- "
    run_cmd --version
    assert_success
    assert_output "objpool $(<"$REPO_ROOT/VERSION")"
}

@test "usage errors go to stderr with exit 2" {
    run_cmd frobnicate
    assert_equal "$status" 2
    assert_equal "$output" ""
    [[ "$stderr" == *"unknown command 'frobnicate'"* ]] || fail "stderr: $stderr"
    run_cmd run --bogus -- true
    assert_equal "$status" 2
    [[ "$stderr" == *"unknown option: --bogus"* ]] || fail "stderr: $stderr"
    run_cmd run -p
    assert_equal "$status" 2
    run_cmd run -p tcp://127.0.0.1:1
    assert_equal "$status" 2
    [[ "$stderr" == *"no COMMAND given"* ]] || fail "stderr: $stderr"
    run_cmd check --bogus
    assert_equal "$status" 2
    [[ "$stderr" == *"unknown option: --bogus"* ]] || fail "stderr: $stderr"
    run_cmd report
    assert_equal "$status" 2
    run_cmd report --bogus x.json
    assert_equal "$status" 2
    [[ "$stderr" == *"unknown option: --bogus"* ]] || fail "stderr: $stderr"
    run_cmd env -p tcp://127.0.0.1:1 extra
    assert_equal "$status" 2
    [[ "$stderr" == *"unexpected argument: extra"* ]] || fail "stderr: $stderr"
    run_cmd run --docker -- true
    assert_equal "$status" 2
    [[ "$stderr" == *"unknown option: --docker"* ]] || fail "stderr: $stderr"
}

# --- run ------------------------------------------------------------------------

@test "run: exits with the command's status" {
    run_cmd run -p tcp://127.0.0.1:9 -- sh -c 'exit 7'
    assert_equal "$status" 7
    run_cmd run -p tcp://127.0.0.1:9 -- true
    assert_equal "$status" 0
    run_cmd run -p tcp://127.0.0.1:9 -- sh -c 'kill -TERM $$'
    assert_equal "$status" 143
}

@test "run: 127 for a missing command, 126 for one that cannot run" {
    run_cmd_status 127 run -p tcp://127.0.0.1:9 -- no-such-command-objpool
    [[ "$stderr" == *"no-such-command-objpool: command not found"* ]] || fail "stderr: $stderr"
    run_cmd_status 127 run -p tcp://127.0.0.1:9 -- ./no/such/file
    [[ "$stderr" == *"./no/such/file: No such file or directory"* ]] || fail "stderr: $stderr"
    printf '#!/bin/sh\necho hi\n' >"$BATS_TEST_TMPDIR/noexec"
    chmod 0644 "$BATS_TEST_TMPDIR/noexec"
    run_cmd run -p tcp://127.0.0.1:9 -- "$BATS_TEST_TMPDIR/noexec"
    assert_equal "$status" 126
    run_cmd run -p tcp://127.0.0.1:9 -- "$BATS_TEST_TMPDIR"
    assert_equal "$status" 126
}

@test "run: refuses setuid and setgid programs with a clear message" {
    local f
    for mode in 4755 2755; do
        f="$BATS_TEST_TMPDIR/suid$mode"
        cp "$(type -P true)" "$f"
        chmod "$mode" "$f"
        run_cmd run -p tcp://127.0.0.1:9 -- "$f"
        assert_equal "$status" 126
        [[ "$stderr" == *"is setuid/setgid"*"ignores LD_PRELOAD"* ]] || fail "stderr: $stderr"
    done
    # found through PATH too
    PATH="$BATS_TEST_TMPDIR:$PATH" run_cmd run -p tcp://127.0.0.1:9 -- suid4755
    assert_equal "$status" 126
}

@test "run: sets the environment from the options, keeps argv[0]" {
    local show='printf "%s|%s|%s|%s|%s|%s|%s\n" "$0" "$OBJPOOL_POOLS" "$OBJPOOL_CONFIG" "$OBJPOOL_REPORT" "${OBJPOOL_REPORT_FORMAT:-}" "${OBJPOOL_LOG:-}" "$LD_PRELOAD"'
    cd "$BATS_TEST_TMPDIR"
    cp "$REPO_ROOT/config/redis.conf" rel.conf
    OBJPOOL_POOLS="tcp://127.0.0.1:1" run_cmd run -f rel.conf -p tcp://127.0.0.1:2 \
        --pool=unix:///tmp/x.sock -r /tmp/r.%p --json -v -- sh -c "$show"
    assert_success
    assert_equal "$output" \
        "sh|tcp://127.0.0.1:1;tcp://127.0.0.1:2;unix:///tmp/x.sock|$BATS_TEST_TMPDIR/rel.conf|/tmp/r.%p|json|info|$CMD_LIB"
    run_cmd run -q -p tcp://127.0.0.1:2 -- sh -c "$show"
    [[ "$output" == *"||error|"* ]] || fail "-q: $output"
    run_cmd run -v -v -p tcp://127.0.0.1:2 -- sh -c "$show"
    [[ "$output" == *"|debug|"* ]] || fail "-v -v: $output"
    run_cmd run -f no-such.conf -- true
    assert_equal "$status" 2
    [[ "$stderr" == *"no-such.conf: configuration file is not readable"* ]] || fail "stderr: $stderr"
}

@test "run: pools a client, the report goes where -r says" {
    start_tagserver
    local rep="$BATS_TEST_TMPDIR/rep.json"
    run_cmd run -p "tcp://127.0.0.1:$PORT?proto=line" -r "$rep" --json -- "$TOOLS/tagclient" --port "$PORT" --cycles 300
    assert_client_clean 300
    expect_num "$(accepts)" -le 2 "server accepts"
    expect_num "$(json_field "$rep" "tcp://127.0.0.1:$PORT" hits)" -ge 298 "hits"
    assert_equal "$stderr" ""
}

@test "run: a pre-existing LD_PRELOAD entry is kept, after objpool, and still works" {
    require_cmd cc
    local so="$BATS_TEST_TMPDIR/libmark.so" mark="$BATS_TEST_TMPDIR/marks"
    cat >"$BATS_TEST_TMPDIR/mark.c" <<'EOF'
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
__attribute__((constructor)) static void mark(void)
{
    const char *f = getenv("MARK_FILE");
    int fd = f ? open(f, O_WRONLY | O_CREAT | O_APPEND, 0600) : -1;
    if (fd >= 0) {
        write(fd, program_invocation_short_name, strlen(program_invocation_short_name));
        write(fd, "\n", 1);
        close(fd);
    }
}
EOF
    cc -shared -fPIC -o "$so" "$BATS_TEST_TMPDIR/mark.c"
    start_tagserver
    local rep="$BATS_TEST_TMPDIR/rep.json"
    MARK_FILE=$mark LD_PRELOAD=$so run_cmd run -p "tcp://127.0.0.1:$PORT?proto=line" -r "$rep" --json -- \
        sh -c 'printf "%s\n" "$LD_PRELOAD" >"$MARK_FILE.env"; exec "$0" "$@"' \
        "$TOOLS/tagclient" --port "$PORT" --cycles 100
    assert_client_clean 100
    assert_equal "$(cat "$mark.env")" "$CMD_LIB $so"
    # the marker library still loads, in sh and in tagclient
    assert_equal "$(grep -cx tagclient "$mark")" 1
    assert_equal "$(grep -cx sh "$mark")" 1
    expect_num "$(json_field "$rep" "tcp://127.0.0.1:$PORT" hits)" -ge 98 "hits"
    # nested runs do not add the library twice
    run_cmd run -p tcp://127.0.0.1:9 -- "$OBJPOOL" run -p tcp://127.0.0.1:9 -- sh -c 'echo "$LD_PRELOAD"'
    assert_equal "$output" "$CMD_LIB"
}

# --- check: the config/ examples ------------------------------------------------

@test "check: every config/ example parses; output fits a terminal" {
    local f n
    for f in "$REPO_ROOT"/config/*.conf; do
        run_cmd check -f "$f"
        assert_success
        assert_fits "$output"
        assert_equal "$stderr" ""
        n=$(grep -c '^pool ' "$f")
        assert_equal "$(printf '%s\n' "$output" | grep -c '^pool ')" "$n"
        assert_output --partial "ok: $n pool"
    done
    for f in redis http files everything; do
        [[ -f "$REPO_ROOT/config/$f.conf" ]] || fail "missing example config/$f.conf"
    done
}

@test "check: output fits a terminal also for a config file deep in the tree" {
    # a path that fits a line alone (as CI's clone does) but not after a
    # pool's URL on the header line
    local deep="$BATS_TEST_TMPDIR/etc/objpool"
    mkdir -p "$deep"
    cp "$REPO_ROOT/config/everything.conf" "$deep/"
    run_cmd check -f "$deep/everything.conf"
    assert_success
    assert_fits "$output"
    assert_output --partial "from $deep/everything.conf:"
}

# value_of POOL OPTION: "value origin" of OPTION in the block of POOL in $output
value_of() {
    printf '%s\n' "$output" | awk -v pool="pool $1 " -v opt="$2" '
        index($0, pool) == 1 { inpool = 1; next }
        /^pool / { inpool = 0 }
        inpool && $1 == opt { $1 = ""; sub(/^ +/, ""); gsub(/ +/, " "); print; exit }'
}

@test "check: config/redis.conf values and where they came from" {
    run_cmd check -f "$REPO_ROOT/config/redis.conf"
    assert_success
    assert_equal "$(value_of unix:///run/redis/redis.sock address)" "/run/redis/redis.sock"
    assert_equal "$(value_of unix:///run/redis/redis.sock max_size)" "8 file default line"
    assert_equal "$(value_of unix:///run/redis/redis.sock idle_timeout)" "240000ms file default line"
    assert_equal "$(value_of unix:///run/redis/redis.sock check)" 'PING\r\n pool line'
    assert_equal "$(value_of unix:///run/redis/redis.sock expect)" '+PONG\r\n pool line'
    assert_equal "$(value_of unix:///run/redis/redis.sock check_delay)" "5000ms pool line"
    assert_equal "$(value_of unix:///run/redis/redis.sock connect_timeout)" "1000ms default"
    assert_equal "$(value_of tcp://127.0.0.1:6379 address)" "127.0.0.1:6379"
    assert_equal "$(value_of tcp://127.0.0.1:6379 prewarm)" "2 pool line"
    assert_equal "$(value_of tcp://127.0.0.1:6379 connect_timeout)" "500ms pool line"
    assert_equal "$(value_of tcp://127.0.0.1:6379 order)" "lifo default"
    # every option is listed for every pool
    local opt
    for opt in max_size idle_timeout max_lifetime prewarm connect_timeout order check expect \
        check_delay validate modes shutdown; do
        [[ -n "$(value_of tcp://127.0.0.1:6379 "$opt")" ]] || fail "option $opt not shown"
    done
}

@test "check: config/http.conf, config/files.conf, config/everything.conf values" {
    run_cmd check -f "$REPO_ROOT/config/http.conf"
    assert_success
    assert_equal "$(value_of tcp://127.0.0.1:8080 idle_timeout)" "4000ms file default line"
    assert_equal "$(value_of tcp://127.0.0.1:8080 max_lifetime)" "600000ms file default line"
    assert_equal "$(value_of tcp://localhost:8081 max_size)" "32 pool line"
    [[ "$(value_of tcp://localhost:8081 address)" == *"127.0.0.1:8081"* ]] || fail "localhost not resolved"
    assert_equal "$(value_of 'tcp://[::1]:8082' address)" "[::1]:8082"
    [[ "$output" == *"report_format  json"*"file set line"* ]] || fail "set report_format not shown"

    run_cmd check -f "$REPO_ROOT/config/files.conf"
    assert_success
    assert_equal "$(value_of file:///proc/meminfo validate)" "none pool line"
    assert_equal "$(value_of file:///etc/hosts validate)" "stat default"
    assert_equal "$(value_of 'file:///var/tmp/*.log' modes)" "r,a pool line"
    assert_equal "$(value_of 'file:///var/tmp/*.log' path)" "/var/tmp/*.log (pattern)"

    run_cmd check -f "$REPO_ROOT/config/everything.conf"
    assert_success
    assert_equal "$(value_of 'tcp://[::1]:11211' order)" "fifo pool line"
    assert_equal "$(value_of 'tcp://[::1]:11211' shutdown)" "pass pool line"
    assert_equal "$(value_of file:///etc/hosts max_size)" "2 file default line"
    assert_equal "$(value_of file:///etc/hosts modes)" "r pool line"
    [[ "$output" == *"log_file       /tmp/objpool.log"*"file set line"* ]] || fail "log_file not shown"
}

@test "check: the environment beats the file, -p and OBJPOOL_POOLS are env pools" {
    OBJPOOL_REPORT_FORMAT=text OBJPOOL_MAX_SIZE=3 OBJPOOL_POOLS='tcp://127.0.0.1:7001?prewarm=1' \
        run_cmd check -f "$REPO_ROOT/config/http.conf" -p 'tcp://127.0.0.1:7002?order=fifo'
    assert_success
    [[ "$output" == *"report_format  text"*"OBJPOOL_REPORT_FORMAT"* ]] || fail "env did not win"
    assert_equal "$(value_of tcp://127.0.0.1:7001 prewarm)" "1 env OBJPOOL_POOLS"
    assert_equal "$(value_of tcp://127.0.0.1:7001 max_size)" "3 env OBJPOOL_MAX_SIZE"
    assert_equal "$(value_of tcp://127.0.0.1:7002 order)" "fifo env OBJPOOL_POOLS"
    assert_equal "$(value_of tcp://127.0.0.1:7002 idle_timeout)" "0ms default"
    assert_equal "$(value_of tcp://127.0.0.1:8080 max_size)" "3 env OBJPOOL_MAX_SIZE"
    [[ "$output" == *"(tcp, OBJPOOL_POOLS:2)"* ]] || fail "-p source not OBJPOOL_POOLS:2"
    # OBJPOOL_CONFIG is read when there is no -f
    OBJPOOL_CONFIG="$REPO_ROOT/config/files.conf" run_cmd check
    assert_success
    assert_output --partial "pool file:///proc/meminfo"
    # nothing configured: an error that says what to do
    run_cmd check
    assert_failure
    [[ "$stderr" == *"no pools configured"* ]] || fail "stderr: $stderr"
}

# --- bad input: one line naming file, line, token and why ----------------------

# bad_line LINE: a config file whose line 2 is LINE; sets CONF
bad_line() {
    CONF="$BATS_TEST_TMPDIR/bad$RANDOM.conf"
    printf '# line 1 is fine\n%s\npool tcp://127.0.0.1:7003\n' "$1" >"$CONF"
}

@test "bad input: unknown key" {
    bad_line 'pool tcp://127.0.0.1:7004 max_sise=3'
    run_cmd check -f "$CONF"
    assert_equal "$status" 1
    assert_one_config_line "$CONF:2" "max_sise=3" "unknown key"
}

@test "bad input: bad number" {
    bad_line 'default max_size=lots prewarm=x'
    run_cmd check -f "$CONF"
    assert_equal "$status" 1
    assert_one_config_line "$CONF:2" "max_size=lots" "not a number"
    bad_line 'pool tcp://127.0.0.1:7004 prewarm=1001'
    run_cmd check -f "$CONF"
    assert_equal "$status" 1
    assert_one_config_line "$CONF:2" "prewarm=1001" "not a number from 0 to 1000"
}

@test "bad input: bad duration" {
    bad_line 'pool tcp://127.0.0.1:7004 idle_timeout=5y'
    run_cmd check -f "$CONF"
    assert_equal "$status" 1
    assert_one_config_line "$CONF:2" "idle_timeout=5y" "bad duration"
}

@test "bad input: port out of range" {
    bad_line 'pool tcp://127.0.0.1:65536'
    run_cmd check -f "$CONF"
    assert_equal "$status" 1
    assert_one_config_line "$CONF:2" "tcp://127.0.0.1:65536" "port must be a number from 1 to 65535"
    run_cmd check -p 'tcp://127.0.0.1:0'
    assert_equal "$status" 1
    assert_one_config_line "OBJPOOL_POOLS:1" "tcp://127.0.0.1:0" "port must be"
}

@test "bad input: unknown scheme" {
    bad_line 'pool http://127.0.0.1:80'
    run_cmd check -f "$CONF"
    assert_equal "$status" 1
    assert_one_config_line "$CONF:2" "http://127.0.0.1:80" "unknown scheme"
}

@test "bad input: unresolvable host is a warning and that pool is skipped" {
    bad_line 'pool tcp://no-such-host.invalid:6379'
    run_cmd check -f "$CONF"
    assert_success
    assert_one_config_line "$CONF:2" "no-such-host.invalid" "host name does not resolve; this pool is skipped"
    assert_equal "$(value_of tcp://no-such-host.invalid:6379 address)" "(none: this pool is skipped)"
    assert_output --partial "ok: 2 pools (1 skipped"
    # the library: the other pool still pools
    start_tagserver
    printf 'pool tcp://no-such-host.invalid:6379\npool tcp://127.0.0.1:%s proto=line\n' "$PORT" >"$CONF"
    run_cmd run -f "$CONF" -r none -- "$TOOLS/tagclient" --port "$PORT" --cycles 50
    assert_client_clean 50
    expect_num "$(accepts)" -le 2 "server accepts"
    assert_one_config_line "$CONF:1" "no-such-host.invalid" "host name does not resolve"
    # no pool left at all: check fails, naming why
    run_cmd check -p tcp://no-such-host.invalid:6379
    assert_equal "$status" 1
    [[ "$stderr" == *"no pool is left once host names are resolved"* ]] || fail "stderr: $stderr"
    [[ "$output" != *"ok:"* ]] || fail "an ok line for no pool: $output"
}

@test "bad input: overlong line" {
    bad_line "pool tcp://127.0.0.1:7004 check=$(printf 'A%.0s' {1..5000})"
    run_cmd check -f "$CONF"
    assert_equal "$status" 1
    assert_one_config_line "$CONF:2" "line of 5032 bytes" "line longer than 4096 bytes"
}

@test "bad input: bytes that are not text" {
    local bad hex
    for hex in 01 7f ff c3 ed; do
        # \xed\xa0\x80 would be a UTF-16 surrogate: not text either
        bad=$(printf "\\x$hex")
        [[ $hex == ed ]] && bad=$'\xed\xa0\x80'
        bad_line "pool tcp://127.0.0.1:7004 check=X${bad}Y"
        run_cmd check -f "$CONF"
        assert_equal "$status" 1
        assert_one_config_line "$CONF:2" "byte 0x$hex at column 34" "bytes that are not text"
    done
    printf 'pool tcp://127.0.0.1:7004\npool tcp://1\0002:7\n' >"$CONF"
    run_cmd check -f "$CONF"
    assert_equal "$status" 1
    assert_one_config_line "$CONF:2" "byte 0x00 at column 13" "bytes that are not text"
    # UTF-8 is text
    bad_line 'pool file:///tmp/café'
    run_cmd check -f "$CONF"
    assert_success
    run_cmd check -p $'tcp://127.0.0.1:7004?check=a\001'
    assert_equal "$status" 1
    assert_one_config_line "OBJPOOL_POOLS:1" "byte 0x01 at column 29" "bytes that are not text"
}

@test "bad input: the library prints the same line and runs the program unpooled" {
    start_tagserver
    bad_line "pool tcp://127.0.0.1:$PORT idle_timeout=soon"
    run_cmd check -f "$CONF"
    assert_equal "$status" 1
    local from_check=${stderr#*]}
    from_check=$(printf '%s\n' "$from_check" | head -n 1)
    run_cmd run -f "$CONF" -- "$TOOLS/tagclient" --port "$PORT" --cycles 40
    assert_client_clean 40
    assert_equal "$(accepts)" 40
    assert_one_config_line "$CONF:2" "idle_timeout=soon" "bad duration"
    assert_equal "${stderr#*]}" "$from_check"
}

# --- unix://, prewarm, check probe ---------------------------------------------------

start_redis() {
    require_cmd redis-server redis-cli
    "$PY" -c 'import redis' 2>/dev/null || skip "python3-redis is not installed"
    REDIS_DIR="$BATS_TEST_TMPDIR/redis"
    mkdir -p "$REDIS_DIR"
    REDIS_SOCK="$REDIS_DIR/redis.sock"
    cat >"$REDIS_DIR/redis.conf" <<EOF
port 0
unixsocket $REDIS_SOCK
unixsocketperm 700
dir $REDIS_DIR
save ""
appendonly no
daemonize no
logfile $REDIS_DIR/redis.log
EOF
    redis-server "$REDIS_DIR/redis.conf" 3>&- &
    EXTRA_PIDS+=($!)
    local i
    for ((i = 0; i < 100; i++)); do
        redis-cli -s "$REDIS_SOCK" ping 2>/dev/null | grep -q PONG && return 0
        sleep 0.05
    done
    fail "redis-server did not start: $(cat "$REDIS_DIR/redis.log")"
}

@test "unix://: a redis client making a new connection per operation uses <= 2 connections" {
    start_redis
    local before
    before=$(redis-cli -s "$REDIS_SOCK" info stats | tr -d '\r' | awk -F: '$1 == "total_connections_received" {print $2}')
    cat >"$BATS_TEST_TMPDIR/client.py" <<'EOF'
import sys, redis
path, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    r = redis.Redis(unix_socket_path=path)   # a new client for each operation
    r.set("key%d" % i, i)
    assert int(r.get("key%d" % i)) == i
    r.close()
print("done", n)
EOF
    local rep="$BATS_TEST_TMPDIR/rep.json"
    run_cmd run -p "unix://$REDIS_SOCK" -r "$rep" --json -- "$PY" "$BATS_TEST_TMPDIR/client.py" "$REDIS_SOCK" 100
    assert_success
    assert_output "done 100"
    local total
    total=$(redis-cli -s "$REDIS_SOCK" info stats | tr -d '\r' | awk -F: '$1 == "total_connections_received" {print $2}')
    # the startup ping, the INFO before, and the client's connections
    expect_num "$((total - before))" -le 2 "total_connections_received (client and this INFO)"
    expect_num "$(json_field "$rep" "unix://$REDIS_SOCK" hits)" -ge 98 "hits"
    assert_equal "$(json_field "$rep" "unix://$REDIS_SOCK" acquired)" 100
}

@test "prewarm: the first request is a hit" {
    start_tagserver
    local rep="$BATS_TEST_TMPDIR/rep.json" t="tcp://127.0.0.1:$PORT"
    run_cmd run -p "$t?proto=line&prewarm=2" -r "$rep" --json -- "$TOOLS/tagclient" --port "$PORT" --cycles 1
    assert_client_clean 1
    assert_equal "$(json_field "$rep" "$t" hits)" 1
    assert_equal "$(json_field "$rep" "$t" misses)" 0
    assert_equal "$(json_field "$rep" "$t" prewarmed)" 2
    assert_equal "$(accepts)" 2
    # the same over unix://
    start_tagserver --unix "$BATS_TEST_TMPDIR/tag.sock"
    rep="$BATS_TEST_TMPDIR/rep2.json"
    run_cmd run -p "unix://$BATS_TEST_TMPDIR/tag.sock?prewarm=1" -r "$rep" --json -- \
        "$TOOLS/tagclient" --unix "$BATS_TEST_TMPDIR/tag.sock" --port 0 --cycles 1
    assert_client_clean 1
    assert_equal "$(json_field "$rep" "unix://$BATS_TEST_TMPDIR/tag.sock" hits)" 1
    assert_equal "$(json_field "$rep" "unix://$BATS_TEST_TMPDIR/tag.sock" prewarmed)" 1
}

# A server on a unix socket: GET answers the server generation the
# connection was accepted under; PING answers +PONG while that generation is
# current, else -ERR (a replaced server that answers differently). Creating
# the file SOCK.next starts a new generation.
start_genserver() {
    GEN_SOCK="$BATS_TEST_TMPDIR/gen.sock"
    cat >"$BATS_TEST_TMPDIR/genserver.py" <<'EOF'
import os, socket, sys, threading
path = sys.argv[1]
def gen():
    return 2 if os.path.exists(path + ".next") else 1
def serve(c):
    mine, buf = gen(), b""
    while True:
        d = c.recv(4096)
        if not d:
            break
        buf += d
        while b"\r\n" in buf:
            line, buf = buf.split(b"\r\n", 1)
            if line == b"PING":
                c.sendall(b"+PONG\r\n" if gen() == mine else b"-ERR replaced\r\n")
            elif line == b"GET":
                c.sendall(b"+gen%d\r\n" % mine)
            else:
                c.sendall(b"-ERR unknown\r\n")
    c.close()
s = socket.socket(socket.AF_UNIX)
s.bind(path)
s.listen(16)
open(path + ".ready", "w").close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
    "$PY" "$BATS_TEST_TMPDIR/genserver.py" "$GEN_SOCK" 3>&- &
    EXTRA_PIDS+=($!)
    local i
    for ((i = 0; i < 100; i++)); do
        [[ -e "$GEN_SOCK.ready" ]] && return 0
        sleep 0.05
    done
    fail "genserver did not start"
}

gen_client() {
    cat >"$BATS_TEST_TMPDIR/genclient.py" <<'EOF'
import os, socket, sys
path, switch_after = sys.argv[1], int(sys.argv[2])
def get():
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.sendall(b"GET\r\n")
    r = b""
    while not r.endswith(b"\r\n"):
        d = s.recv(100)
        if not d:
            break
        r += d
    s.close()
    return r.decode().strip()
out = []
for i in range(4):
    if i == switch_after:
        open(path + ".next", "w").close()
    out.append(get())
print(" ".join(out))
EOF
    echo "$BATS_TEST_TMPDIR/genclient.py"
}

@test "check probe: a connection to a replaced server is discarded as check_failed" {
    require_cmd "$PY"
    start_genserver
    local client rep="$BATS_TEST_TMPDIR/rep.json" t="unix://$GEN_SOCK"
    client=$(gen_client)
    # the server stays: every reuse passes the probe
    run_cmd run -p "$t?check=PING\\r\\n&expect=+PONG\\r\\n&check_delay=0ms" -r "$rep" --json -- \
        "$PY" "$client" "$GEN_SOCK" 99
    assert_success
    assert_output "+gen1 +gen1 +gen1 +gen1"
    assert_equal "$(json_field "$rep" "$t" hits)" 3
    assert_equal "$(json_field "$rep" "$t" discarded.check_failed)" 0
    # replaced after the first request: the idle connection answers -ERR to
    # the probe, is discarded, and the request goes to the new server
    rep="$BATS_TEST_TMPDIR/rep2.json"
    run_cmd run -p "$t?check=PING\\r\\n&expect=+PONG\\r\\n&check_delay=0ms" -r "$rep" --json -- \
        "$PY" "$client" "$GEN_SOCK" 1
    assert_success
    assert_output "+gen1 +gen2 +gen2 +gen2"
    assert_equal "$(json_field "$rep" "$t" discarded.check_failed)" 1
    assert_equal "$(json_field "$rep" "$t" hits)" 2
    # without the probe the old connection is reused (the test above matters)
    rm -f "$GEN_SOCK.next"
    run_cmd run -p "$t?proto=line" -r none -- "$PY" "$client" "$GEN_SOCK" 1
    assert_output "+gen1 +gen1 +gen1 +gen1"
}

@test "check probe: check_delay skips the probe on a connection idle for less" {
    require_cmd "$PY"
    start_genserver
    local client rep="$BATS_TEST_TMPDIR/rep.json" t="unix://$GEN_SOCK"
    client=$(gen_client)
    run_cmd run -p "$t?check=PING\\r\\n&expect=+PONG\\r\\n&check_delay=1m" -r "$rep" --json -- \
        "$PY" "$client" "$GEN_SOCK" 1
    assert_success
    assert_output "+gen1 +gen1 +gen1 +gen1"
    assert_equal "$(json_field "$rep" "$t" discarded.check_failed)" 0
}

# --- report -------------------------------------------------------------------------

# pool_json TARGET ACQ HITS MISSES FULL CHECKFAIL SAVED
pool_json() {
    printf '{"target":"%s","address":"127.0.0.1","kind":"tcp","acquired":%s,"hits":%s,"misses":%s,"create_failures":0,"released":%s,"parked":%s,"discarded":{"full":%s,"check_failed":%s},"discarded_total":%s,"idle":1,"peak_idle":%s,"peak_leased":1,"hit_ratio":0.5,"mean_create_us":70.0,"saved_ms":%s,"stale_reuse_errors":1,"prewarmed":0,"prewarm_failed":0}' \
        "$1" "$2" "$3" "$4" "$2" "$3" "$5" "$6" "$(($5 + $6))" "$5" "$7"
}

@test "report: sums three processes' JSON lines per target and in total" {
    local a=tcp://127.0.0.1:6379 b=unix:///run/redis/redis.sock
    {
        printf '{"pid":1,"program":"x","event":"exit","wall_s":1.0,"pools":[%s,%s]}\n' \
            "$(pool_json $a 10 9 1 0 0 0.5)" "$(pool_json $b 4 2 2 1 1 0.25)"
        printf '{"pid":2,"program":"y","event":"exec","wall_s":2.0,"pools":[%s]}\n' \
            "$(pool_json $a 100 90 10 3 0 5.0)"
    } >"$BATS_TEST_TMPDIR/r1.json"
    printf '\n{"pid":3, "program":"z", "event":"exit", "wall_s":0.5, "pools":[%s, %s]}\n' \
        "$(pool_json $b 6 6 0 0 2 1.25)" "$(pool_json $a 90 81 9 1 0 2.5)" >"$BATS_TEST_TMPDIR/r2.json"
    run_cmd report "$BATS_TEST_TMPDIR/r1.json" "$BATS_TEST_TMPDIR/r2.json"
    assert_success
    assert_fits "$output"
    assert_equal "$stderr" ""
    # target procs acquired hits misses hit% discard saved
    [[ "$output" == *"3 report lines"* ]] || fail "line count"
    local row
    row=$(printf '%s\n' "$output" | grep "^$a " | tr -s ' ')
    assert_equal "$row" "$a 3 200 180 20 90.0 4 8.0ms"
    row=$(printf '%s\n' "$output" | grep -A1 "^$b" | tail -n 1 | tr -s ' ')
    [[ "$(printf '%s\n' "$output" | grep -c "^$b")" == 1 ]] || fail "no row for $b"
    row=$(printf '%s\n' "$output" | awk -v b="$b" 'index($0, b) == 1 { getline; print }' | tr -s ' ')
    assert_equal "$row" " 2 10 8 2 80.0 4 1.5ms"
    row=$(printf '%s\n' "$output" | grep "^total " | tr -s ' ')
    assert_equal "$row" "total 3 210 188 22 89.5 8 9.5ms"
    [[ "$output" == *"discarded: full 4"$'\n'* ]] || fail "reasons for $a (zero counts are left out)"
    [[ "$output" == *"discarded: full 1, check_failed 3"* ]] || fail "reasons for $b"
    [[ "$output" == *"stale reuse errors 3, peak idle 3"* ]] || fail "stale/peak for $a"
}

@test "report: sums real reports of three pooled processes" {
    start_tagserver
    local rep="$BATS_TEST_TMPDIR/all.json" t="tcp://127.0.0.1:$PORT" cycles
    for cycles in 50 100 150; do
        run_cmd run -p "$t?proto=line" -r "$rep" --json -- "$TOOLS/tagclient" --port "$PORT" --cycles "$cycles"
        assert_client_clean "$cycles"
    done
    assert_equal "$(wc -l <"$rep")" 3
    run_cmd report "$rep"
    assert_success
    local row
    row=$(printf '%s\n' "$output" | grep "^$t " | tr -s ' ')
    local hits misses disc
    hits=$(json_field "$rep" "$t" hits)
    misses=$(json_field "$rep" "$t" misses)
    disc=$(json_field "$rep" "$t" discarded_total)
    [[ "$row" == "$t 3 300 $hits $misses "*" $disc "* ]] || fail "row '$row', expected hits $hits misses $misses"
    assert_equal "$hits" $((300 - misses))
}

@test "report: a line that is not a report is named on stderr, exit 1" {
    printf '{"pid":1,"pools":[]}\nnot json\n{"pid":2}\n' >"$BATS_TEST_TMPDIR/bad.json"
    run_cmd report "$BATS_TEST_TMPDIR/bad.json" "$BATS_TEST_TMPDIR/missing.json"
    assert_equal "$status" 1
    [[ "$stderr" == *"bad.json:2: not JSON"* ]] || fail "stderr: $stderr"
    [[ "$stderr" == *"bad.json:3: not an objpool JSON report"* ]] || fail "stderr: $stderr"
    [[ "$stderr" == *"missing.json: No such file"* ]] || fail "stderr: $stderr"
}

@test "report: strict JSON (jansson): NaN, single quotes, trailing commas, raw tabs, repeated keys, text after are not reports" {
    {
        printf '{"pid":1,"pools":[],"x":NaN}\n'
        printf "{'pid':1,'pools':[]}\n"
        printf '{"pid":1,"pools":[1,]}\n'
        printf '{"pid":1,"pools":[],"x":"a\tb"}\n'
        printf '{"pid":1,"pools":[],"pid":2}\n'
        printf '{"pid":1,"pools":[]} trailing\n'
        printf '{"pid":1,"program":"caf\xe9","pools":[%s]}\n' "$(pool_json tcp://127.0.0.1:1 5 4 1 0 0 0.5)"
    } >"$BATS_TEST_TMPDIR/strict.json"
    run_cmd report "$BATS_TEST_TMPDIR/strict.json"
    assert_equal "$status" 1
    local n
    for n in 1 2 3 4 5; do
        [[ "$stderr" == *"strict.json:$n: not JSON"* ]] || fail "line $n taken: $stderr"
    done
    [[ "$stderr" == *"strict.json:6: text after the JSON object"* ]] || fail "stderr: $stderr"
    # a program name that is not UTF-8 (the library writes its bytes) is still a report
    [[ "$stderr" != *"strict.json:7"* ]] || fail "stderr: $stderr"
    [[ "$output" == *"1 report line"* ]] || fail "output: $output"
}

@test "the helper reads reports with jansson; the preload library links no JSON library" {
    require_cmd readelf
    run readelf -d "$REPO_ROOT/build/objpool-tool"
    [[ "$output" == *"Shared library: [libjansson.so"* ]] || fail "objpool-tool does not link jansson: $output"
    run readelf -d "$CMD_LIB"
    assert_success
    [[ "$output" != *json* ]] || fail "libobjpool.so links a JSON library: $output"
}

# --- report --prometheus ----------------------------------------------------------------

# prom_reports FILE: real reports of two programs (one named with a quote
# and a backslash) on one target, and hand-written ones whose target holds
# a quote, a backslash and a newline, and whose program is not UTF-8
prom_reports() {
    start_tagserver
    local t="tcp://127.0.0.1:$PORT" odd="$BATS_TEST_TMPDIR/tag\"cli\\ent" cycles
    cp "$TOOLS/tagclient" "$odd"
    for cycles in 40 60; do
        run_cmd run -p "$t?proto=line" -r "$1" --json -- "$TOOLS/tagclient" --port "$PORT" --cycles "$cycles"
        assert_client_clean "$cycles"
    done
    run_cmd run -p "$t?proto=line&max_size=0" -r "$1" --json -- "$odd" --port "$PORT" --cycles 30
    assert_client_clean 30
    printf '{"pid":7,"program":"x\xffy","event":"exit","wall_s":1.0,"pools":[%s]}\n' \
        "$(pool_json 'tcp://a\"b\\c\nd:1' 10 9 1 2 1 0.75)" >>"$1"
    printf '{"pid":8,"program":"z","event":"exit","wall_s":1.0,"pools":[]}\n' >>"$1"
}

@test "report --prometheus: the strict format (our parser and promtool), and every series equals the JSON reports' sums" {
    local rep="$BATS_TEST_TMPDIR/all.json" prom="$BATS_TEST_TMPDIR/objpool.prom"
    prom_reports "$rep"
    run_cmd report --prometheus "$rep"
    assert_success
    assert_equal "$stderr" ""
    printf '%s\n' "$output" >"$prom"
    run "$PY" "$REPO_ROOT/tests/py/prom_check.py" "$prom" "$rep"
    assert_success
    assert_output --partial "ok: "
    promtool_ok "$prom"
    # the escapes, as the exposition format writes them
    local odd='program="tag\"cli\\ent"' tgt='target="tcp://a\"b\\c\nd:1"'
    grep -qF "objpool_hits_total{target=\"tcp://127.0.0.1:$PORT\",$odd} " "$prom" || fail "no escaped program label"
    grep -qF "objpool_discarded_total{$tgt,program=\"x"$'\xef\xbf\xbd'"y\",reason=\"full\"} 2" "$prom" ||
        fail "no escaped target label / U+FFFD"
    # max_size=0: the odd client's connections were discarded as full
    expect_num "$(grep -F "objpool_discarded_total{target=\"tcp://127.0.0.1:$PORT\",$odd,reason=\"full\"}" "$prom" |
        awk '{print $2}')" -ge 29 "full discards of the odd program"
    # a report without pools: families, no samples
    run_cmd report --prometheus <(printf '{"pid":1,"pools":[]}\n')
    assert_success
    [[ "$output" == *"# TYPE objpool_hits_total counter"* ]] || fail "output: $output"
    [[ "$(printf '%s\n' "$output" | grep -vc '^#')" == 0 ]] || fail "samples without pools: $output"
}

# --- install, the configuration file search ----------------------------------------------

# install_cmd DEST: make install into DESTDIR=DEST, PREFIX=/usr/local, the
# system configuration file under DEST/etc (the real /etc is not touched)
install_cmd() {
    require_cmd make
    run make -s -C "$REPO_ROOT" install DESTDIR="$1" PREFIX=/usr/local SYSCONFDIR="$1/etc"
    show_run
    assert_success
}

@test "make install into a DESTDIR; objpool run works from there; uninstall removes it" {
    local dest="$BATS_TEST_TMPDIR/dest" prefix=/usr/local
    mkdir -p "$dest$prefix/bin" "$dest$prefix/build"
    echo keep >"$dest$prefix/bin/other"
    # a decoy where the command once guessed: the installed one must not look there
    cp "$CMD_LIB" "$dest$prefix/build/libobjpool.so"
    install_cmd "$dest"
    local f
    for f in bin/objpool lib/objpool/libobjpool.so lib/objpool/objpool-tool share/man/man1/objpool.1 \
        share/man/man5/objpool.conf.5 share/bash-completion/completions/objpool \
        share/doc/objpool/examples/redis.conf share/doc/objpool/examples/http.conf \
        share/doc/objpool/examples/files.conf share/doc/objpool/examples/everything.conf; do
        [[ -f "$dest$prefix/$f" ]] || fail "not installed: $prefix/$f"
    done
    [[ -x "$dest$prefix/bin/objpool" ]] || fail "objpool not executable"
    grep -qx "OBJPOOL_INSTALLED_LIBDIR=$prefix/lib/objpool" "$dest$prefix/bin/objpool" ||
        fail "installed libdir not written into the script"
    grep -qx "OBJPOOL_SYSTEM_CONFIG=$dest/etc/objpool.conf" "$dest$prefix/bin/objpool" ||
        fail "system configuration file not written into the script"
    run "$dest$prefix/bin/objpool" --version
    assert_output "objpool $(<"$REPO_ROOT/VERSION")"
    head -n 1 "$dest$prefix/share/man/man5/objpool.conf.5" | grep -qF "\"objpool $(<"$REPO_ROOT/VERSION")\"" ||
        fail "installed objpool.conf.5 does not carry the version"

    start_tagserver
    local rep="$BATS_TEST_TMPDIR/rep.json"
    run --separate-stderr timeout "$OBJPOOL_TEST_TIMEOUT" "$dest$prefix/bin/objpool" run \
        -p "tcp://127.0.0.1:$PORT?proto=line" -r "$rep" --json -- \
        sh -c 'echo "$LD_PRELOAD" >"$0.env"; exec "$@"' "$rep" "$TOOLS/tagclient" --port "$PORT" --cycles 100
    show_run
    assert_client_clean 100
    assert_equal "$(cat "$rep.env")" "$dest$prefix/lib/objpool/libobjpool.so"
    expect_num "$(json_field "$rep" "tcp://127.0.0.1:$PORT" hits)" -ge 98 "hits"
    run "$dest$prefix/bin/objpool" check -f "$dest$prefix/share/doc/objpool/examples/redis.conf"
    assert_success
    MANWIDTH=80 run man -l "$dest$prefix/share/man/man1/objpool.1"
    assert_success

    run make -s -C "$REPO_ROOT" uninstall DESTDIR="$dest" PREFIX="$prefix"
    show_run
    assert_success
    assert_equal "$(cd "$dest" && find . -type f | sort)" \
        "$(printf '%s\n' ./usr/local/bin/other ./usr/local/build/libobjpool.so)"
    [[ ! -e "$dest$prefix/lib/objpool" ]] || fail "lib/objpool left behind"
}

@test "no configuration given: the user's file, else the system's; -f, -p, OBJPOOL_CONFIG, OBJPOOL_POOLS turn the search off" {
    local dest="$BATS_TEST_TMPDIR/dest" home="$BATS_TEST_TMPDIR/home" xdg="$BATS_TEST_TMPDIR/xdg"
    install_cmd "$dest"
    local cmd="$dest/usr/local/bin/objpool" sys="$dest/etc/objpool.conf"
    local user="$home/.config/objpool/objpool.conf" show='printf "%s|%s\n" "${OBJPOOL_CONFIG:-}" "${OBJPOOL_POOLS:-}"'
    mkdir -p "$home" "$dest/etc"
    # nothing anywhere: run warns, naming both files; check fails, naming them
    HOME=$home XDG_CONFIG_HOME='' run --separate-stderr "$cmd" run -- sh -c "$show"
    assert_output "|"
    [[ "$stderr" == *"no pools configured"*"$user or $sys"* ]] || fail "stderr: $stderr"
    HOME=$home run --separate-stderr "$cmd" check
    assert_equal "$status" 1
    [[ "$output" == *"looked for $user"$'\n'"  looked for $sys"* ]] || fail "check: $output"

    # the system's file: run passes it on, and the library pools with it
    start_tagserver
    printf 'pool tcp://127.0.0.1:%s proto=line\n' "$PORT" >"$sys"
    local rep="$BATS_TEST_TMPDIR/rep.json"
    HOME=$home run --separate-stderr timeout "$OBJPOOL_TEST_TIMEOUT" "$cmd" run -r "$rep" --json -- \
        "$TOOLS/tagclient" --port "$PORT" --cycles 50
    show_run
    assert_client_clean 50
    expect_num "$(json_field "$rep" "tcp://127.0.0.1:$PORT" hits)" -ge 48 "hits"
    assert_equal "$stderr" ""
    HOME=$home run "$cmd" check
    assert_success
    [[ $'\n'"$output"$'\n' == *$'\n'"config file: $sys"$'\n'* ]] || fail "check: $output"
    HOME=$home run "$cmd" env
    [[ $'\n'"$output"$'\n' == *$'\n'"OBJPOOL_CONFIG=$sys"$'\n'* ]] || fail "env: $output"

    # the user's file beats it; XDG_CONFIG_HOME beats ~/.config unless relative
    mkdir -p "$(dirname "$user")" "$xdg/objpool"
    echo "pool tcp://127.0.0.1:1" >"$user"
    HOME=$home run "$cmd" run -- sh -c "$show"
    assert_output "$user|"
    echo "pool tcp://127.0.0.1:2" >"$xdg/objpool/objpool.conf"
    HOME=$home XDG_CONFIG_HOME=$xdg run "$cmd" run -- sh -c "$show"
    assert_output "$xdg/objpool/objpool.conf|"
    HOME=$home XDG_CONFIG_HOME=relative/dir run "$cmd" run -- sh -c "$show"
    assert_output "$user|"

    # anything given turns the search off
    HOME=$home run "$cmd" run -p tcp://127.0.0.1:3 -- sh -c "$show"
    assert_output "|tcp://127.0.0.1:3"
    HOME=$home run "$cmd" run -f "$sys" -- sh -c "$show"
    assert_output "$sys|"
    HOME=$home OBJPOOL_CONFIG=$sys run "$cmd" run -- sh -c "$show"
    assert_output "$sys|"
    HOME=$home OBJPOOL_POOLS=tcp://127.0.0.1:4 run "$cmd" run -- sh -c "$show"
    assert_output "|tcp://127.0.0.1:4"
    HOME=$home run "$cmd" check -p tcp://127.0.0.1:5
    assert_success
    [[ "$output" == *"config file: (none: use -f FILE or OBJPOOL_CONFIG)"* ]] || fail "check -p: $output"

    # a file that is there but cannot be read is an error, not passed over
    rm "$user"
    mkdir "$user"
    HOME=$home run --separate-stderr "$cmd" run -- true
    assert_equal "$status" 2
    [[ "$stderr" == *"$user: configuration file is not readable"* ]] || fail "stderr: $stderr"
}

# --- env ------------------------------------------------------------------------------

# env_and_run NAME ARGS...: `objpool env ARGS` into NAME.lines, and the
# environment `objpool run ARGS` gives a program into NAME.env0
env_and_run() {
    local name=$1
    shift
    run_cmd env "$@"
    assert_success
    printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/$name.lines"
    local opts=("$@") i
    for i in "${!opts[@]}"; do
        [[ "${opts[i]}" == --docker ]] && unset 'opts[i]'
    done
    run_cmd run "${opts[@]}" -- sh -c 'env -0 >"$0"' "$BATS_TEST_TMPDIR/$name.env0"
    assert_success
}

@test "env: each line is a systemd Environment= assignment of exactly what run sets" {
    local rep="$BATS_TEST_TMPDIR/a b\"c\\d=%p.json"
    OBJPOOL_MAX_SIZE=7 env_and_run sd -p 'tcp://127.0.0.1:9?max_size=4&prewarm=0' \
        -p unix:///tmp/x.sock -r "$rep" --json -v
    local lines="$BATS_TEST_TMPDIR/sd.lines"
    assert_equal "$(grep -c '^LD_PRELOAD=' "$lines")" 1
    grep -qxF "LD_PRELOAD=$CMD_LIB" "$lines" || fail "LD_PRELOAD is not the library alone: $(cat "$lines")"
    # quoted where systemd needs it, % doubled, plain where it does not
    grep -qxF "\"OBJPOOL_REPORT=$BATS_TEST_TMPDIR/a b\\\"c\\\\d=%%p.json\"" "$lines" ||
        fail "report line: $(grep REPORT "$lines")"
    grep -qxF "\"OBJPOOL_POOLS=tcp://127.0.0.1:9?max_size=4&prewarm=0;unix:///tmp/x.sock\"" "$lines" ||
        fail "pools line: $(grep POOLS "$lines")"
    grep -qxF "OBJPOOL_REPORT_FORMAT=json" "$lines" || fail "format line"
    grep -qxF "OBJPOOL_MAX_SIZE=7" "$lines" || fail "an inherited OBJPOOL_ variable is left out"
    run "$PY" "$REPO_ROOT/tests/py/env_lines.py" systemd "$lines" "$BATS_TEST_TMPDIR/sd.env0"
    assert_success
    assert_output --partial "ok: "
}

@test "env: systemd-analyze verify takes every line without a warning" {
    require_cmd systemd-analyze
    local unit="$BATS_TEST_TMPDIR/objpool-test.service"
    run_cmd env -p 'tcp://127.0.0.1:9?max_size=4' -r "$BATS_TEST_TMPDIR/a b\"c\\d=%p.json" --json
    assert_success
    { echo "[Service]"; printf 'Environment=%s\n' "${lines[@]}"; echo "ExecStart=/bin/true"; } >"$unit"
    run systemd-analyze verify "$unit"
    [[ "$output" != *"objpool-test.service:"* ]] || fail "systemd warns: $output"
    # the control: systemd-analyze does warn about a bad assignment
    echo 'Environment=A=bad"quote' >>"$unit"
    run systemd-analyze verify "$unit"
    [[ "$output" == *"objpool-test.service:"* ]] || fail "systemd-analyze did not see a bad line: $output"
}

@test "env --docker: plain lines, exactly what run sets; a newline in a value is refused" {
    local rep="$BATS_TEST_TMPDIR/a b\"c\\d=%p.json"
    env_and_run dk --docker -p 'tcp://127.0.0.1:9?max_size=4' -r "$rep" -q
    local lines="$BATS_TEST_TMPDIR/dk.lines"
    grep -qxF "OBJPOOL_REPORT=$rep" "$lines" || fail "report line: $(grep REPORT "$lines")"
    run "$PY" "$REPO_ROOT/tests/py/env_lines.py" docker "$lines" "$BATS_TEST_TMPDIR/dk.env0"
    assert_success
    assert_output --partial "ok: "
    OBJPOOL_LOG_FILE=$'/tmp/a\nb' run_cmd env --docker -p tcp://127.0.0.1:9
    assert_equal "$status" 2
    [[ "$stderr" == *"OBJPOOL_LOG_FILE holds a newline"* ]] || fail "stderr: $stderr"
}

# --- man pages, completion, fuzz seeds ------------------------------------------------

@test "man pages: render cleanly; objpool.1 names every command and variable, objpool.conf.5 every key and setting" {
    require_cmd man groff
    local page
    for page in objpool.1 objpool.conf.5 objpool.3; do
        run groff -man -Tutf8 -ww -z "$REPO_ROOT/build/man/$page"
        assert_success
        assert_equal "$output" ""
    done
    MANWIDTH=80 run man -l "$REPO_ROOT/build/man/objpool.1"
    assert_success
    local text=$output word words
    words="$(cat "$REPO_ROOT"/preload/config/*.c | grep -o '"OBJPOOL_[A-Z_]*"' | tr -d '"' | sort -u)"
    words+=" run env check report --prometheus --docker stderr json Environment="
    words+=" stale_reuse_errors prewarmed setuid LD_PRELOAD unix:// tcp:// file:// objpool.conf(5)"
    words+=" objpool_hits_total objpool_discarded_total objpool_idle /etc/objpool.conf ~/.config/objpool/objpool.conf"
    for word in $words; do
        [[ "$text" == *"$word"* ]] || fail "objpool(1) does not mention $word"
    done
    MANWIDTH=80 run man -l "$REPO_ROOT/build/man/objpool.conf.5"
    assert_success
    text=$output
    words=$(sed -n '/opt_names\[OPT_COUNT\] = {/,/};/p' "$REPO_ROOT/preload/config/options.c" | grep -o '"[a-z_]*"' | tr -d '"')
    words+=" report report_format log log_file max_size deepbind pool default set OBJPOOL_CONFIG OBJPOOL_POOLS"
    for word in $words; do
        [[ "$text" == *"$word"* ]] || fail "objpool.conf(5) does not mention $word"
    done
}

# Read from the code's own tables (tests/py/man_tables.py), both ways. The
# protocol layer's option (proto) and reasons (incomplete_response,
# session_state, tls, unknown_protocol) are documented ahead of the code:
# until it has them, this test names exactly those.
@test "man pages list every pool option and every discard reason the code has, and no other" {
    run "$PY" "$REPO_ROOT/tests/py/man_tables.py" "$REPO_ROOT"
    assert_success
    assert_output --partial "ok: "
}

@test "bash completion: commands, each command's options, files, a command line after run" {
    local script="$BATS_TEST_TMPDIR/complete.sh"
    mkdir -p "$BATS_TEST_TMPDIR/dir"
    touch "$BATS_TEST_TMPDIR/dir/redis.conf" "$BATS_TEST_TMPDIR/dir/report.json"
    cat >"$script" <<'EOF'
source "$1"
cd "$2"
complete -p objpool
# c WORDS...: the completions of the last word, sorted, on one line
c() {
    COMP_WORDS=("$@")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMPREPLY=()
    _objpool
    printf '%s\n' "${COMPREPLY[@]}" | LC_ALL=C sort -u | tr '\n' ' '
    echo
}
c objpool ''
c objpool r
c objpool run --j
c objpool run -p ''
c objpool run -f dir/red
c objpool env --d
c objpool check -
c objpool report --p
c objpool report dir/rep
c objpool run -p tcp://h:1 -- objpool-no-such-prefi
c objpool run -p tcp://h:1 -- bas
c objpool run -r ''
c objpool stats --w
c objpool run --st
EOF
    run bash "$script" "$REPO_ROOT/completion/objpool.bash" "$BATS_TEST_TMPDIR"
    assert_success
    assert_equal "${lines[0]}" "complete -F _objpool objpool"
    assert_equal "${lines[1]}" "--help --version check env report run stats "
    assert_equal "${lines[2]}" "report run "
    assert_equal "${lines[3]}" "--json "
    assert_equal "${lines[4]}" "file:// tcp:// unix:// "
    assert_equal "${lines[5]}" "dir/redis.conf "
    assert_equal "${lines[6]}" "--docker "
    assert_equal "${lines[7]}" "--file --help --pool -f -h -p "
    assert_equal "${lines[8]}" "--prometheus "
    assert_equal "${lines[9]}" "dir/report.json "
    assert_equal "${lines[10]}" " "
    [[ " ${lines[11]} " == *" bash "* ]] || fail "no command completed after run --: ${lines[11]}"
    [[ "${lines[12]}" == *"dir "*"none "*"stderr "* ]] || fail "-r: ${lines[12]}"
    assert_equal "${lines[13]}" "--watch --watch= "
    assert_equal "${lines[14]}" "--stats --stats= "
}

@test "fuzz seeds: the parser survives every seed (no crash, errors counted)" {
    local f
    for f in "$REPO_ROOT"/tests/fuzz/corpus/*; do
        run --separate-stderr timeout 20 "$REPO_ROOT/build/objpool-tool" check -f "$f"
        [[ $status -le 1 ]] || fail "objpool-tool check -f $f: status $status: $stderr"
    done
    [[ -f "$REPO_ROOT/tests/fuzz/config.dict" ]] || fail "no fuzz dictionary"
}
