#!/usr/bin/env bats
# report/log files: no symlinks followed, 0600; no pooling under AT_SECURE
#
# Hardening (issue 7): the report and log files are never opened through a
# symbolic link and are created 0600; an AT_SECURE (setuid/setgid) process
# gets no pooling and no report; hostile, overlong configuration values are
# refused with a message that names the reason.

load ../helpers

setup() {
    require_lib
}

pool_for() { echo "tcp://127.0.0.1:$1?proto=line"; } # the tag server speaks a line protocol

PROBE_DIR() { echo "$TOOLS/../sanitizers"; }

@test "a report path that is a symbolic link is not followed" {
    start_tagserver
    local victim="$BATS_TEST_TMPDIR/victim" link="$BATS_TEST_TMPDIR/report.json"
    echo original >"$victim"
    ln -s "$victim" "$link"
    run --separate-stderr timeout "$OBJPOOL_TEST_TIMEOUT" env LD_PRELOAD="$LIB" \
        OBJPOOL_POOLS="$(pool_for "$PORT")" OBJPOOL_REPORT="$link" OBJPOOL_REPORT_FORMAT=json \
        "$TOOLS/tagclient" --port "$PORT" --cycles 5
    REPORT='' show_run
    assert_client_clean 5
    assert_equal "$(cat "$victim")" original
    [[ -L "$link" ]] || fail "the symbolic link was replaced"
    [[ "$stderr" == *"report: $link: "* ]] || fail "no message about the refused report file: $stderr"
}

@test "a log file path that is a symbolic link is not followed" {
    start_tagserver
    local victim="$BATS_TEST_TMPDIR/victim" link="$BATS_TEST_TMPDIR/objpool.log"
    echo original >"$victim"
    ln -s "$victim" "$link"
    run --separate-stderr timeout "$OBJPOOL_TEST_TIMEOUT" env LD_PRELOAD="$LIB" \
        OBJPOOL_POOLS="$(pool_for "$PORT")" OBJPOOL_LOG_FILE="$link" OBJPOOL_LOG=debug \
        OBJPOOL_REPORT=none "$TOOLS/tagclient" --port "$PORT" --cycles 5
    REPORT='' show_run
    assert_client_clean 5
    assert_equal "$(cat "$victim")" original
    [[ "$stderr" == *"log: $link: cannot open"* ]] || fail "no message about the refused log file: $stderr"
}

@test "the report and log files are created 0600, even with umask 000, and appended to" {
    start_tagserver
    local report="$BATS_TEST_TMPDIR/report.json" log="$BATS_TEST_TMPDIR/objpool.log" i
    for i in 1 2; do
        run --separate-stderr timeout "$OBJPOOL_TEST_TIMEOUT" sh -c 'umask 000; exec "$@"' sh env \
            LD_PRELOAD="$LIB" OBJPOOL_POOLS="$(pool_for "$PORT")" OBJPOOL_REPORT="$report" \
            OBJPOOL_REPORT_FORMAT=json OBJPOOL_LOG_FILE="$log" OBJPOOL_LOG=info \
            "$TOOLS/tagclient" --port "$PORT" --cycles 5
        REPORT=$report show_run
        assert_client_clean 5
    done
    assert_equal "$(stat -c %a "$report")" 600
    assert_equal "$(stat -c %a "$log")" 600
    assert_equal "$(wc -l <"$report")" 2
    assert_equal "$(json_field "$report" "$(pool_for "$PORT")" acquired)" 10
}

@test "setgid (AT_SECURE): secure_getenv hides OBJPOOL_*, so no pooling and no report file" {
    local probe
    probe="$(PROBE_DIR)/secure_probe"
    [[ -x "$probe" ]] || fail "not built: $probe (make tools)"
    [[ $(id -u) == 0 ]] || skip "needs root to make a setgid program of another group"
    start_tagserver
    # Root running a setuid-root program does not get AT_SECURE; a program
    # setgid to a group root is not in does.
    local sg="$BATS_TEST_TMPDIR/secure_probe" group
    group=$(getent group nogroup >/dev/null && echo nogroup || echo nobody)
    cp "$probe" "$sg"
    chgrp "$group" "$sg" && chmod g+s "$sg" || skip "cannot make a setgid program here"
    local report="$BATS_TEST_TMPDIR/secure.json" lib=${LIB##*:}

    run --separate-stderr timeout "$OBJPOOL_TEST_TIMEOUT" env OBJPOOL_POOLS="$(pool_for "$PORT")" \
        OBJPOOL_REPORT="$report" OBJPOOL_REPORT_FORMAT=json OBJPOOL_LOG=debug "$sg" "$lib" "$PORT"
    REPORT='' show_run
    [[ "$output" == *"at_secure=1"* ]] ||
        skip "the setgid bit gave no AT_SECURE here (nosuid mount?): $output"
    assert_equal "$status" 0
    assert_output --partial "secure_getenv=unset cycles=2"
    [[ ! -e "$report" ]] || fail "an AT_SECURE process wrote a report: $(cat "$report")"
    [[ "$stderr" != *"objpool["* ]] || fail "the library spoke in an AT_SECURE process: $stderr"
    expect_num "$(accepts)" -eq 2 "server accepts (no pooling)"

    # The same program, not setgid: pooled (one accept more), and reported.
    run --separate-stderr timeout "$OBJPOOL_TEST_TIMEOUT" env OBJPOOL_POOLS="$(pool_for "$PORT")" \
        OBJPOOL_REPORT="$report" OBJPOOL_REPORT_FORMAT=json "$probe" "$lib" "$PORT"
    REPORT=$report show_run
    assert_equal "$status" 0
    assert_output --partial "at_secure=0 secure_getenv=set cycles=2"
    assert_equal "$(json_field "$report" "$(pool_for "$PORT")" hits)" 1
    expect_num "$(accepts)" -eq 3 "server accepts"
}

# refused CONFIG WHY [VAR=value...]: the value is refused with one message
# naming WHY, and /bin/echo runs unpooled, with its own output.
refused() {
    local config=$1 why=$2
    shift 2
    run --separate-stderr timeout "$OBJPOOL_TEST_TIMEOUT" env LD_PRELOAD="$LIB" \
        OBJPOOL_POOLS="$config" "$@" /bin/echo hello
    REPORT='' show_run
    assert_equal "$status" 0
    assert_equal "$output" hello
    [[ "$stderr" == *"$why"* ]] || fail "stderr does not say '$why': ${stderr:0:600}"
    (( ${#stderr} < 1024 )) || fail "the message is longer than a log line (${#stderr} bytes)"
}

long() { head -c "$1" /dev/zero | tr '\0' "${2:-a}"; }

@test "hostile input: overlong target, host, socket path and option values are refused with a reason" {
    refused "tcp://$(long 2000):80" "target too long"
    refused "tcp://$(long 300):80" "host name too long"
    refused "tcp://[$(long 300 1)]:80" "bad host"
    refused "unix:///$(long 200)" "socket path too long"
    refused "tcp://127.0.0.1:80?check=$(long 300 x)" "at most 256 bytes"
    refused "tcp://127.0.0.1:80?check=$(long 5000 x)" "value too long"
    refused "tcp://127.0.0.1:80?idle_timeout=$(long 100 9)s" "bad duration"
    refused "tcp://127.0.0.1:80?modes=$(long 100 r)" "not a list"
    refused "tcp://127.0.0.1:80" "bad report destination" OBJPOOL_REPORT="/tmp/$(long 2000)"
    refused "tcp://127.0.0.1:80" "bad log file" OBJPOOL_LOG_FILE="/tmp/$(long 2000)"
}

@test "hostile input: a report path that %p expansion makes too long is refused, nothing is written" {
    start_tagserver
    local dir="$BATS_TEST_TMPDIR/rep" many
    mkdir "$dir"
    many=$(printf '%%p%.0s' {1..400})
    run --separate-stderr timeout "$OBJPOOL_TEST_TIMEOUT" env LD_PRELOAD="$LIB" \
        OBJPOOL_POOLS="$(pool_for "$PORT")" OBJPOOL_REPORT="$dir/$many" \
        "$TOOLS/tagclient" --port "$PORT" --cycles 3
    REPORT='' show_run
    assert_client_clean 3
    assert_equal "$(ls -A "$dir")" ""
    [[ "$stderr" == *"too long once %p is expanded"* ]] || fail "no message: $stderr"
}
