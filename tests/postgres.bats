#!/usr/bin/env bats
# PostgreSQL through libobjpool.so: a private cluster started by the tests
# (initdb once per file as the postgres user, a copy of it per test;
# bench/servers.bash start_postgres), reached over its Unix socket and over
# TCP (libpq's default sslmode=prefer: an SSLRequest answered 'N'), with
# trust (u_trust), md5 (u_md5), scram-sha-256 (u_scram) and a NOLOGIN role;
# clients are psycopg2 programs (tests/py/pg_loop.py, pg_cases.py).
#
# The protocol is parsed and detected (preload/conn/proto/postgres.c), but
# the start-up replay is not built yet: a PostgreSQL connection is never
# parked. What these tests pin down now is that objpool recognises the
# protocol and changes nothing a client or the server sees: every result,
# every refused login, every cancel as without it.

load helpers

setup_file() {
    PG_TEMPLATE=$(mktemp -d /tmp/objpool-pg.XXXXXX)
    chmod 0755 "$PG_TEMPLATE"
    export PG_TEMPLATE
    if compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null; then
        start_postgres "$PG_TEMPLATE" && stop_postgres
    fi
}

teardown_file() {
    [[ -n ${PG_TEMPLATE:-} && $PG_TEMPLATE == /tmp/objpool-pg.* ]] && rm -rf "$PG_TEMPLATE"
}

setup() {
    require_lib
    require_py psycopg2
    [[ -f $PG_TEMPLATE/data/PG_VERSION ]] || skip "no PostgreSQL cluster (install postgresql)"
    PGD=$(mktemp -d /tmp/objpool-pg.XXXXXX)
    chmod 0755 "$PGD"
    cp -a "$PG_TEMPLATE/data" "$PGD/data"
    start_postgres "$PGD" || fail "postgres did not start: $(tail -5 "$PGD/postgres.log")"
    UNIX_POOL="unix://$PGD/.s.PGSQL.$POSTGRES_PORT"
    TCP_POOL="tcp://127.0.0.1:$POSTGRES_PORT"
    UNIX_DSN="host=$PGD port=$POSTGRES_PORT dbname=postgres"
    TCP_DSN="host=127.0.0.1 port=$POSTGRES_PORT dbname=postgres"
}

teardown() {
    stop_postgres
    stop_servers
    stop_all_tagservers
    [[ -n ${PGD:-} && $PGD == /tmp/objpool-pg.* ]] && rm -rf "$PGD"
}

# pg_run POOL DSN [args...]: pg_loop.py per query under the preload.
pg_run() {
    local pool=$1 dsn=$2
    shift 2
    run_pooled "$pool" "$OBJPOOL_PY" "$PY/pg_loop.py" --dsn "$dsn" "$@"
}

@test "psycopg2 per query, Unix socket trust and TCP md5 (proto auto): 200 results right each, detected as postgres, never parked yet" {
    pg_run "$UNIX_POOL" "$UNIX_DSN user=u_trust" --count 200
    assert_loop_clean 200
    assert_equal "$(json_text "$REPORT" "$UNIX_POOL" proto)" postgres
    assert_equal "$(json_field "$REPORT" "$UNIX_POOL" parked)" 0
    assert_equal "$(json_field "$REPORT" "$UNIX_POOL" discarded_total)" 200
    # libpq's Terminate is the last write of each session
    assert_equal "$(json_field "$REPORT" "$UNIX_POOL" discarded.abandoned_request)" 200

    pg_run "$TCP_POOL" "$TCP_DSN user=u_md5" --password pw1 --count 200
    assert_loop_clean 200
    assert_equal "$(json_text "$REPORT" "$TCP_POOL" proto)" postgres
    assert_equal "$(json_field "$REPORT" "$TCP_POOL" parked)" 0
    assert_equal "$(json_field "$REPORT" "$TCP_POOL" discarded.unknown_protocol)" 0
}

@test "proto=postgres (explicit), TCP trust and Unix scram-sha-256: results right, never parked" {
    pg_run "$TCP_POOL?proto=postgres" "$TCP_DSN user=u_trust" --count 50
    assert_loop_clean 50
    assert_equal "$(json_text "$REPORT" "$TCP_POOL" proto)" postgres
    assert_equal "$(json_field "$REPORT" "$TCP_POOL" parked)" 0

    pg_run "$UNIX_POOL?proto=postgres" "$UNIX_DSN user=u_scram" --password pw1 --count 20
    assert_loop_clean 20
    assert_equal "$(json_field "$REPORT" "$UNIX_POOL" parked)" 0
}

@test "md5 over TCP and Unix: 30 rounds of (right password, wrong password, none): the wrong and the missing one fail every time" {
    local dsn
    for dsn in "$TCP_DSN" "$UNIX_DSN"; do
        run_pooled "$TCP_POOL;$UNIX_POOL" "$OBJPOOL_PY" "$PY/pg_cases.py" auth \
            --dsn "$dsn user=u_md5" --count 30
        assert_equal "$status" 0
        assert_equal "$(client_field ok)" 90
    done
}

@test "a NOLOGIN role gets no session, after u_trust sessions on the same target" {
    pg_run "$UNIX_POOL" "$UNIX_DSN user=u_trust" --count 5
    assert_loop_clean 5
    run_pooled "$UNIX_POOL" "$OBJPOOL_PY" "$PY/pg_cases.py" refused \
        --dsn "$UNIX_DSN user=u_nologin" --count 20
    assert_equal "$status" 0
    assert_equal "$(client_field ok)" 20
}

@test "conn.cancel() of pg_sleep(5) on each of 10 connections cancels its own query within 2 s" {
    run_pooled "$TCP_POOL" "$OBJPOOL_PY" "$PY/pg_cases.py" cancel --dsn "$TCP_DSN user=u_trust" \
        --count 10
    assert_equal "$status" 0
    assert_equal "$(client_field ok)" 10
}

@test "session state never crosses to the next client (SET, set_config, SET ROLE, temp table, PREPARE, LISTEN, advisory lock, open and failed transaction, WITH HOLD cursor, application_name), Unix and TCP" {
    "$(compgen -G '/usr/lib/postgresql/*/bin' | sort -V | tail -n 1)/psql" -X -q -h "$PGD" \
        -p "$POSTGRES_PORT" -U postgres -d postgres -c 'CREATE TABLE leak_t (x int)'
    local dsn
    for dsn in "$UNIX_DSN" "$TCP_DSN"; do
        run_pooled "$TCP_POOL;$UNIX_POOL" "$OBJPOOL_PY" "$PY/pg_cases.py" state \
            --dsn "$dsn user=postgres" --count 5
        assert_equal "$status" 0
        assert_equal "$(client_field ok)" 55
    done
}

@test "pg_terminate_backend of every idle backend before each query: no more errors than without objpool (none)" {
    run_plain "$OBJPOOL_PY" "$PY/pg_loop.py" --dsn "$TCP_DSN user=u_trust" --count 100 \
        --kill-others "$TCP_DSN user=postgres"
    assert_loop_clean 100
    pg_run "$UNIX_POOL" "$UNIX_DSN user=u_trust" --count 100 --kill-others "$UNIX_DSN user=postgres"
    assert_loop_clean 100
    pg_run "$TCP_POOL" "$TCP_DSN user=u_trust" --count 100 --kill-others "$TCP_DSN user=postgres"
    assert_loop_clean 100
}

@test "a server restart in the middle of a per-query run: no more errors than without objpool (none), Unix and TCP" {
    local pool dsn pause out
    for pool in "$UNIX_POOL" "$TCP_POOL"; do
        dsn=$UNIX_DSN
        [[ $pool == tcp:* ]] && dsn=$TCP_DSN
        pause="$BATS_TEST_TMPDIR/pause.${pool%%:*}"
        out="$BATS_TEST_TMPDIR/out.${pool%%:*}"
        mkdir -p "$pause"
        LD_PRELOAD="$LIB" OBJPOOL_POOLS="$pool" OBJPOOL_REPORT=none timeout 120 \
            "$OBJPOOL_PY" "$PY/pg_loop.py" --dsn "$dsn user=u_trust" --count 100 --pause-at 50 \
            --pause-dir "$pause" >"$out" 2>&1 &
        local client=$!
        for ((i = 0; i < 600; i++)); do
            [[ -f $pause/paused ]] && break
            sleep 0.05
        done
        stop_postgres
        POSTGRES_WANT_PORT=$POSTGRES_PORT start_postgres "$PGD" || fail "postgres did not restart"
        touch "$pause/resume"
        wait "$client" || fail "client failed: $(cat "$out")"
        output=$(cat "$out")
        status=0
        assert_loop_clean 100
    done
}
