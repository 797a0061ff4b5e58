#!/usr/bin/env bats
# libraries loaded with RTLD_DEEPBIND: re-bound and pooled (lazy, full
# RELRO, `-fno-plt`, nested loads, 4 threads at once), left deep-bound and
# named when a constructor kept `&close` or the GOT is sealed,
# `deepbind=warn`, dlopen's caller kept (the program's RUNPATH and
# `$ORIGIN`), `php -m` unchanged, php-memcached, PHP
# sockets and phpredis pooled
#
# Libraries loaded with RTLD_DEEPBIND (issue 26 item 3): after such a load,
# objpool points the GOT slots of the added objects that import its names
# at its interposers (conn/deepbind.c, conn/rebind.c). The test libraries
# are tests/tools/dl/ (built by mk/dl.mk), driven by dlcheck; the PHP
# clients are tests/php/. The tag server counts the connections it
# accepted: one for a whole run means the library's connects were pooled.

load ../helpers
source "$REPO_ROOT/bench/servers.bash"

PHP_DIR="$REPO_ROOT/tests/php"
DL="$TOOLS/dl"

setup() {
    require_lib
    [[ -x "$TOOLS/dlcheck" && -f "$DL/libdlsaved.so" ]] || fail "dlcheck not built (run make tools)"
    # the sanitizer runtimes refuse RTLD_DEEPBIND (the process aborts
    # before objpool runs), and intercept dlopen
    sanitizer_cannot "the sanitizer runtimes refuse RTLD_DEEPBIND"
}

teardown() {
    stop_servers
    stop_all_tagservers
}

pool_for() { echo "tcp://127.0.0.1:$1?proto=line"; } # the tag server speaks a line protocol

field() { json_field "$REPORT" "$(pool_for "$PORT")" "$1"; }

# out_field NAME: NAME=value (the last one) from the program's stdout.
out_field() {
    local v
    v=$(printf '%s\n' "$output" | grep -o "\b$1=[^ ]*" | tail -n 1 | cut -d= -f2)
    [[ -n "$v" ]] || { echo "out_field: no $1= in output: $output" >&2; return 1; }
    echo "$v"
}

# objpool_lines TEXT: objpool's lines on stderr that contain TEXT.
objpool_lines() { printf '%s\n' "$stderr" | grep -F 'objpool[' | grep -cF -- "$1" || true; }

# assert_pooled N: N connects made, one server connection, N-1 hits.
assert_pooled() {
    assert_equal "$status" 0
    assert_equal "$(out_field connects)" "$1"
    assert_equal "$(accepts)" 1
    assert_equal "$(field acquired)" "$1"
    assert_equal "$(field hits)" $(($1 - 1))
}

# assert_bypassed N: N connects made, N server connections, no report.
assert_bypassed() {
    assert_equal "$status" 0
    assert_equal "$(out_field connects)" "$1"
    assert_equal "$(accepts)" "$1"
    [[ ! -s "$REPORT" ]] || fail "objpool saw the library's connects: $(cat "$REPORT")"
}

@test "RTLD_DEEPBIND library that connects and closes, loaded 5 times: pooled (4 hits, the server accepts 1), one info line per load" {
    start_tagserver
    run_pooled "$(pool_for "$PORT")" OBJPOOL_LOG=info "$TOOLS/dlcheck" cycle "$DL/libdlplug.so" 5 "$PORT"
    assert_pooled 5
    [[ "$output" != *dlerror=* ]] || fail "dlerror() has something to say after a successful dlopen: $output"
    assert_equal "$(objpool_lines "]: dlopen(libdlplug.so, RTLD_DEEPBIND): libdlplug.so: 3 GOT slots re-bound to objpool (")" 5
    assert_equal "$(objpool_lines "bypass")" 0
    # at the default log level, nothing is said
    run_pooled "$(pool_for "$PORT")" "$TOOLS/dlcheck" cycle "$DL/libdlplug.so" 2 "$PORT"
    assert_equal "$status" 0
    assert_equal "$stderr" ""
}

@test "4 threads loading one full-RELRO deep-bound library 50 times each, calling it meanwhile: no crash, every connect made, nearly all pooled" {
    start_tagserver
    run_pooled "$(pool_for "$PORT")" "$TOOLS/dlcheck" threads "$DL/libdlnow.so" 4 50 "$PORT"
    assert_equal "$status" 0
    assert_equal "$(out_field connects)" 200
    # a thread whose dlopen found the library loaded by another, before that
    # one re-bound it, may make its connect unseen: bounds, not equalities
    expect_num "$(field hits)" -ge 150 "report hits"
    expect_num "$(accepts)" -le 50 "server accepts"
}

@test "RTLD_DEEPBIND library linked with full RELRO (BIND_NOW: its whole GOT read-only): re-bound and pooled, and its GOT read-only again" {
    run readelf -d "$DL/libdlnow.so"
    [[ "$output" == *BIND_NOW* ]] || fail "libdlnow.so is not BIND_NOW: $output"
    start_tagserver
    run_pooled "$(pool_for "$PORT")" OBJPOOL_LOG=info "$TOOLS/dlcheck" cycle "$DL/libdlnow.so" 4 "$PORT"
    assert_pooled 4
    assert_equal "$(objpool_lines "libdlnow.so: 3 GOT slots re-bound")" 4
    [[ "$output" == *"relro=r--p "* ]] || fail "its RELRO is not read-only after the re-binding: $output"
}

@test "RTLD_DEEPBIND library built with -fno-plt (its calls go through GLOB_DAT slots): re-bound and pooled" {
    run readelf -rW "$DL/libdlnoplt.so"
    [[ "$output" == *GLOB_DAT*connect* && "$output" != *JUMP_SLOT*connect* ]] || fail "libdlnoplt.so calls connect through a PLT: $output"
    start_tagserver
    run_pooled "$(pool_for "$PORT")" OBJPOOL_LOG=info "$TOOLS/dlcheck" cycle "$DL/libdlnoplt.so" 3 "$PORT"
    assert_pooled 3
    assert_equal "$(objpool_lines "libdlnoplt.so: 3 GOT slots re-bound")" 3
}

@test "RTLD_DEEPBIND library bound lazily (RTLD_LAZY, its PLT slots not yet resolved): its calls reach objpool from the first one on, and the loader never takes them back" {
    run readelf -d "$DL/libdlplug.so"
    [[ "$output" != *BIND_NOW* ]] || fail "libdlplug.so is BIND_NOW: $output"
    start_tagserver
    run_pooled "$(pool_for "$PORT")" "$TOOLS/dlcheck" lazy "$DL/libdlplug.so" 20 "$PORT"
    assert_pooled 20
}

@test "nested load: a deep-bound library that dlopens another with RTLD_DEEPBIND: its dlopen is re-bound, so the inner load is seen and pooled" {
    start_tagserver
    run_pooled "$(pool_for "$PORT")" OBJPOOL_LOG=info "$TOOLS/dlcheck" nest "$DL/libdlnest.so" "$DL/libdlplug.so" 3 "$PORT"
    assert_pooled 3
    assert_equal "$(objpool_lines "dlopen(libdlnest.so, RTLD_DEEPBIND): libdlnest.so: 1 GOT slots re-bound to objpool (dlopen)")" 3
    assert_equal "$(objpool_lines "dlopen(libdlplug.so, RTLD_DEEPBIND): libdlplug.so: 3 GOT slots re-bound")" 3
}

@test "a library whose constructor kept &close: left deep-bound, named once in the warning however often it is loaded, works unchanged" {
    start_tagserver
    run_pooled "$(pool_for "$PORT")" "$TOOLS/dlcheck" cycle "$DL/libdlsaved.so" 3 "$PORT"
    assert_bypassed 3
    assert_equal "$(objpool_lines "]: dlopen(libdlsaved.so, RTLD_DEEPBIND): its calls bypass objpool: libdlsaved.so: it holds libc's address of close (a pointer taken while it loaded)")" 1
    assert_equal "$(printf '%s\n' "$stderr" | grep -c .)" 1
}

@test "a library whose GOT is sealed (mseal): left deep-bound, named in the warning, works unchanged" {
    start_tagserver
    run_pooled "$(pool_for "$PORT")" "$TOOLS/dlcheck" cycle "$DL/libdlsealed.so" 2 "$PORT"
    [[ "$output" == *sealed=1* ]] || skip "the kernel has no mseal(2): $output"
    assert_bypassed 2
    assert_equal "$(objpool_lines "]: dlopen(libdlsealed.so, RTLD_DEEPBIND): its calls bypass objpool: libdlsealed.so: its GOT cannot be written: Operation not permitted")" 1
}

@test "deepbind=warn (OBJPOOL_DEEPBIND or set deepbind in the file): the library's connects bypass objpool and it says so once however often it is loaded; silent for one that makes no connection, and without pools" {
    start_tagserver
    run_pooled "$(pool_for "$PORT")" OBJPOOL_DEEPBIND=warn "$TOOLS/dlcheck" cycle "$DL/libdlplug.so" 3 "$PORT"
    assert_bypassed 3
    assert_equal "$(objpool_lines "]: dlopen(libdlplug.so, RTLD_DEEPBIND): its calls bypass objpool")" 1
    assert_equal "$(printf '%s\n' "$stderr" | grep -c .)" 1

    printf 'set deepbind warn\n' >"$BATS_TEST_TMPDIR/objpool.conf"
    run_pooled "$(pool_for "$PORT")" OBJPOOL_CONFIG="$BATS_TEST_TMPDIR/objpool.conf" \
        "$TOOLS/dlcheck" cycle "$DL/libdlplug.so" 2 "$PORT"
    assert_equal "$status" 0
    assert_equal "$(objpool_lines "its calls bypass objpool")" 1
    assert_equal "$(accepts)" 5

    run_pooled "$(pool_for "$PORT")" OBJPOOL_DEEPBIND=warn "$TOOLS/dlcheck" cycle "$DL/libdlquiet.so" 2
    assert_equal "$status" 0
    assert_equal "$stderr" ""
    run --separate-stderr env LD_PRELOAD="$LIB" "$TOOLS/dlcheck" cycle "$DL/libdlplug.so" 2 "$PORT"
    assert_equal "$status" 0
    assert_equal "$(out_field connects)" 2
    assert_equal "$stderr" ""
    assert_equal "$(accepts)" 7
}

@test "objpool check shows deepbind and where it came from; a bad value is an error" {
    printf 'pool tcp://127.0.0.1:6379\nset deepbind warn\n' >"$BATS_TEST_TMPDIR/objpool.conf"
    run "$REPO_ROOT/scripts/objpool" check -f "$BATS_TEST_TMPDIR/objpool.conf"
    assert_equal "$status" 0
    [[ "$output" == *"deepbind       warn"*"file set line"* ]] || fail "deepbind not shown: $output"
    OBJPOOL_DEEPBIND=rebind run "$REPO_ROOT/scripts/objpool" check -f "$BATS_TEST_TMPDIR/objpool.conf"
    [[ "$output" == *"deepbind       rebind"*"OBJPOOL_DEEPBIND"* ]] || fail "OBJPOOL_DEEPBIND not shown: $output"
    printf 'pool tcp://127.0.0.1:6379\nset deepbind strip\n' >"$BATS_TEST_TMPDIR/bad.conf"
    run "$REPO_ROOT/scripts/objpool" check -f "$BATS_TEST_TMPDIR/bad.conf"
    [[ "$status" -ne 0 ]] || fail "a bad deepbind value was accepted"
    [[ "$output$stderr" == *"strip: not rebind or warn"* ]] || fail "no error for deepbind strip: $output"
}

@test "dlopen and dlmopen through objpool, pools or not: a bare name is found by the program's RUNPATH, \$ORIGIN is the program's" {
    local how pools
    # the real dlopen takes its caller from its return address: were objpool
    # the caller, neither the RUNPATH nor $ORIGIN (build/tests) would find
    # dl/libdlquiet.so, and the load would fail
    for pools in "" "tcp://127.0.0.1:9"; do
        for how in bare "bare deepbind" origin "origin deepbind" "dlmopen deepbind"; do
            # shellcheck disable=SC2086
            run --separate-stderr env LD_PRELOAD="$LIB" OBJPOOL_POOLS="$pools" "$TOOLS/dlcheck" $how
            echo "# pools='$pools' $how: $output $stderr"
            assert_equal "$status" 0
            assert_equal "$output" "loaded=ok"
        done
    done
}

# --- PHP: every extension is loaded with RTLD_DEEPBIND --------------------------------

@test "php -m: the same output with and without the preload (pools configured, every extension re-bound)" {
    require_cmd php
    run_plain php -m
    assert_equal "$status" 0
    local plain=$output
    run_pooled "tcp://127.0.0.1:9" OBJPOOL_LOG=info php -m
    assert_equal "$status" 0
    assert_equal "$output" "$plain"
    [[ "$stderr" == *"RTLD_DEEPBIND): "*"GOT slots re-bound to objpool"* ]] || fail "nothing re-bound: $stderr"
    assert_equal "$(objpool_lines "bypass")" 0
}

@test "php-memcached, a new Memcached per operation: its connections reach objpool and are pooled (its quit and half-close are a goodbye); results right" {
    require_cmd php memcached
    php -r 'exit(class_exists("Memcached") ? 0 : 1);' || skip "php has no memcached extension (php-memcached)"
    start_memcached "$BATS_TEST_TMPDIR/memcached" || fail "memcached did not start"
    PORT=$MEMCACHED_PORT
    run_pooled "tcp://127.0.0.1:$PORT" php "$PHP_DIR/memcached_loop.php" "$PORT" 50
    assert_equal "$status" 0
    assert_equal "$(out_field ok)" 50
    assert_equal "$(out_field mismatches)" 0
    assert_equal "$(out_field errors)" 0
    assert_equal "$(objpool_lines "bypass")" 0
    assert_equal "$(json_field "$REPORT" "tcp://127.0.0.1:$PORT" acquired)" 50
    expect_num "$(json_field "$REPORT" "tcp://127.0.0.1:$PORT" hits)" -ge 45 "hits"
}

@test "phpredis, a new Redis per operation (connect, set, get, close) against redis-server: pooled (>= 95% hits), values right, its own setsockopt re-bound" {
    require_cmd php redis-server
    php -r 'exit(class_exists("Redis") ? 0 : 1);' || skip "php has no redis extension (php-redis)"
    start_redis "$BATS_TEST_TMPDIR/redis" || fail "redis-server did not start"
    local before
    before=$(redis_stat "$REDIS_PORT" total_connections_received)
    run_pooled "tcp://127.0.0.1:$REDIS_PORT" OBJPOOL_LOG=info php "$PHP_DIR/redis_loop.php" "$REDIS_PORT" 200
    assert_equal "$status" 0
    assert_equal "$(out_field ok)" 200
    assert_equal "$(out_field mismatches)" 0
    [[ "$stderr" == *"dlopen(redis.so, RTLD_DEEPBIND): redis.so: "*"re-bound"* ]] || fail "redis.so not re-bound: $stderr"
    local hits
    hits=$(json_field "$REPORT" "tcp://127.0.0.1:$REDIS_PORT" hits)
    ((hits >= 190)) || fail "hits $hits of 200"
    local after
    after=$(redis_stat "$REDIS_PORT" total_connections_received)
    ((after - before <= 11)) || fail "redis-server accepted $((after - before)) connections"
}

@test "PHP's sockets extension (socket_connect ... socket_close per operation) against redis-server: pooled (>= 95% hits), values right" {
    require_cmd php redis-server
    php -r 'exit(function_exists("socket_create") ? 0 : 1);' || skip "php has no sockets extension"
    start_redis "$BATS_TEST_TMPDIR/redis" || fail "redis-server did not start"
    local before after hits
    before=$(redis_stat "$REDIS_PORT" total_connections_received)
    run_pooled "tcp://127.0.0.1:$REDIS_PORT" php "$PHP_DIR/sockets_loop.php" "$REDIS_PORT" 200
    assert_equal "$status" 0
    assert_equal "$(out_field ok)" 200
    assert_equal "$(out_field mismatches)" 0
    hits=$(json_field "$REPORT" "tcp://127.0.0.1:$REDIS_PORT" hits)
    ((hits >= 190)) || fail "hits $hits of 200"
    after=$(redis_stat "$REDIS_PORT" total_connections_received)
    ((after - before <= 11)) || fail "redis-server accepted $((after - before)) connections"
}
