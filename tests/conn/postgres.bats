#!/usr/bin/env bats
# a private PostgreSQL 15 cluster (Unix socket and TCP; trust, md5,
# cleartext, scram-sha-256, NOLOGIN roles) with psycopg2, PHP and
# node-postgres: 2 % as many backends as queries, every result right,
# differing start-ups, wrong/missing/changed passwords, NOLOGIN, cancel,
# session state, pg_terminate_backend, a server restart
#
# PostgreSQL through libobjpool.so: a private cluster started by the tests
# (initdb once per file as the postgres user, a copy of it per test;
# bench/servers.bash start_postgres), reached over its Unix socket and over
# TCP (libpq's default sslmode=prefer: an SSLRequest answered 'N'), with
# trust (u_trust), md5 (u_md5), scram-sha-256 (u_scram) and a NOLOGIN role;
# clients are psycopg2 programs (tests/py/pg_loop.py, pg_cases.py), PHP
# pg_connect (tests/php/pg_loop.php) and node-postgres (tests/node/pg_loop.js,
# the npm module pg in build/node).
#
# Sessions whose start-up the server admitted without a credential (trust)
# or with a cleartext or md5 password are reused: the start-up recorded,
# replayed (conn/pgreplay.c; a password compared by its keyed hash), the
# session reset and the role's login right checked at every reuse
# (conn/pgreset.c); a differing start-up gets a fresh connection
# (conn/pgfresh.c). SCRAM sessions only with auth=process.
# What must never change: every result, every refused login, every cancel,
# no session state reaching the next client.

load ../helpers

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

# assert_few_backends BEFORE QUERIES: the server forked at most 2 % as many
# backends as there were queries since BEFORE (postgres_logins).
assert_few_backends() {
    local forked=$(($(postgres_logins) - $1))
    expect_num "$forked" -le $(($2 / 50)) "backends forked for $2 queries"
}

@test "psycopg2 per query, 200 each over the Unix socket and TCP (SSLRequest answered N), trust (proto auto): every result right, at most 2 % as many backends as queries" {
    local before
    before=$(postgres_logins)
    pg_run "$UNIX_POOL" "$UNIX_DSN user=u_trust" --count 200
    assert_loop_clean 200
    assert_few_backends "$before" 200
    assert_equal "$(json_text "$REPORT" "$UNIX_POOL" proto)" postgres
    expect_num "$(json_field "$REPORT" "$UNIX_POOL" postgres.replayed)" -ge 196 "replayed"
    assert_equal "$(json_field "$REPORT" "$UNIX_POOL" postgres.startup_mismatch)" 0

    before=$(postgres_logins)
    pg_run "$TCP_POOL" "$TCP_DSN user=u_trust" --count 200
    assert_loop_clean 200
    assert_few_backends "$before" 200
    assert_equal "$(json_text "$REPORT" "$TCP_POOL" proto)" postgres
    expect_num "$(json_field "$REPORT" "$TCP_POOL" postgres.replayed)" -ge 196 "replayed"
    assert_equal "$(json_field "$REPORT" "$TCP_POOL" discarded.unknown_protocol)" 0
}

@test "md5 (TCP) and cleartext password (Unix) per query, 100 each: every result right, at most 2 % as many backends; scram-sha-256 never reused (auth_unverifiable)" {
    local before
    before=$(postgres_logins)
    pg_run "$TCP_POOL" "$TCP_DSN user=u_md5" --password pw1 --count 100
    assert_loop_clean 100
    assert_few_backends "$before" 100
    expect_num "$(json_field "$REPORT" "$TCP_POOL" postgres.replayed)" -ge 98 "replayed"

    before=$(postgres_logins)
    pg_run "$UNIX_POOL" "$UNIX_DSN user=u_clear" --password pw1 --count 100
    assert_loop_clean 100
    assert_few_backends "$before" 100

    pg_run "$UNIX_POOL?proto=postgres" "$UNIX_DSN user=u_scram" --password pw1 --count 20
    assert_loop_clean 20
    assert_equal "$(json_field "$REPORT" "$UNIX_POOL" hits)" 0
    assert_equal "$(json_field "$REPORT" "$UNIX_POOL" postgres.auth_unverifiable)" 20
}

@test "ALTER ROLE ... PASSWORD: after one login with the new password the old one fails every time, md5 and cleartext, TCP and Unix" {
    local dsn user pool
    for user in u_md5 u_clear; do
        for dsn in "$TCP_DSN" "$UNIX_DSN"; do
            run_pooled "$TCP_POOL;$UNIX_POOL" "$OBJPOOL_PY" "$PY/pg_cases.py" rotate --dsn "$dsn" \
                --user "$user" --count 10
            assert_equal "$status" 0
            assert_equal "$(client_field ok)" 31
            pool=$UNIX_POOL
            [[ $dsn == "$TCP_DSN" ]] && pool=$TCP_POOL
            # reuse happened, and the old password met recorded new ones
            expect_num "$(json_field "$REPORT" "$pool" postgres.replayed)" -ge 5 "replayed"
            expect_num "$(json_field "$REPORT" "$pool" postgres.auth_mismatch)" -ge 5 "auth_mismatch"
        done
    done
}

@test "proto=postgres (explicit) over TCP: reused; start-ups that differ (user, database, sslmode) each get their own session" {
    pg_run "$TCP_POOL?proto=postgres" "$TCP_DSN user=u_trust" --count 50
    assert_loop_clean 50
    assert_equal "$(json_text "$REPORT" "$TCP_POOL" proto)" postgres
    expect_num "$(json_field "$REPORT" "$TCP_POOL" hits)" -ge 49 "hits"

    run_pooled "$TCP_POOL;$UNIX_POOL" "$OBJPOOL_PY" "$PY/pg_cases.py" mixed --dsn "$TCP_DSN" --count 20
    assert_equal "$status" 0
    assert_equal "$(client_field ok)" 80
    expect_num "$(json_field "$REPORT" "$TCP_POOL" postgres.startup_mismatch)" -ge 1 "startup_mismatch"
    expect_num "$(json_field "$REPORT" "$TCP_POOL" hits)" -ge 1 "hits"
}

@test "md5 and cleartext over TCP and Unix: 30 rounds of (right password, wrong password, none): the wrong and the missing one fail every time, the right one works" {
    local dsn user pool
    for user in u_md5 u_clear; do
        for dsn in "$TCP_DSN" "$UNIX_DSN"; do
            run_pooled "$TCP_POOL;$UNIX_POOL" "$OBJPOOL_PY" "$PY/pg_cases.py" auth \
                --dsn "$dsn user=$user" --count 30
            assert_equal "$status" 0
            assert_equal "$(client_field ok)" 90
            pool=$UNIX_POOL
            [[ $dsn == "$TCP_DSN" ]] && pool=$TCP_POOL
            expect_num "$(json_field "$REPORT" "$pool" postgres.auth_mismatch)" -ge 25 "auth_mismatch"
        done
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

@test "conn.cancel() of pg_sleep(5) on each of 10 connections, reused ones among them, cancels its own query within 2 s" {
    run_pooled "$TCP_POOL" "$OBJPOOL_PY" "$PY/pg_cases.py" cancel --dsn "$TCP_DSN user=u_trust" \
        --count 10
    assert_equal "$status" 0
    assert_equal "$(client_field ok)" 10
    expect_num "$(json_field "$REPORT" "$TCP_POOL" postgres.replayed)" -ge 5 "replayed"
}

@test "a role made NOLOGIN while its sessions sit in the pool gets no session, Unix and TCP" {
    local dsn pool
    for dsn in "$UNIX_DSN" "$TCP_DSN"; do
        run_pooled "$TCP_POOL;$UNIX_POOL" "$OBJPOOL_PY" "$PY/pg_cases.py" revoke --dsn "$dsn" --count 10
        assert_equal "$status" 0
        assert_equal "$(client_field ok)" 21
        pool=$UNIX_POOL
        [[ $dsn == "$TCP_DSN" ]] && pool=$TCP_POOL
        expect_num "$(json_field "$REPORT" "$pool" postgres.replayed)" -ge 8 "replayed"
    done
}

@test "a password role whose VALID UNTIL passed while its sessions sit in the pool gets no session, Unix and TCP" {
    local dsn pool
    for dsn in "$UNIX_DSN" "$TCP_DSN"; do
        run_pooled "$TCP_POOL;$UNIX_POOL" "$OBJPOOL_PY" "$PY/pg_cases.py" expire --dsn "$dsn" --count 10
        assert_equal "$status" 0
        assert_equal "$(client_field ok)" 20
        pool=$UNIX_POOL
        [[ $dsn == "$TCP_DSN" ]] && pool=$TCP_POOL
        expect_num "$(json_field "$REPORT" "$pool" postgres.replayed)" -ge 8 "replayed"
    done
}

@test "a configuration reload (TimeZone) while sessions sit idle and while one is in use: every program is told the server's own value, no error" {
    local dsn
    for dsn in "$TCP_DSN" "$UNIX_DSN"; do
        run_pooled "$TCP_POOL;$UNIX_POOL" "$OBJPOOL_PY" "$PY/pg_cases.py" reload --dsn "$dsn" --count 5
        assert_equal "$status" 0
        assert_equal "$(client_field ok)" 15
    done
}

# rotating CASE DSN_EXTRA: pg_cases.py CASE (8 workers x 100 connects whose
# start-ups rotate) over TCP and the Unix socket: every answer the worker's
# own, and most start-ups replayed. The most recently parked session is
# mostly another start-up's: an idle one with the program's exact start-up
# takes its place (the mismatched one parked again), never a near match
# (measured 700 to 730 replayed of 800; 4 to 15 when every mismatch was fresh).
rotating() {
    local dsn pool
    for dsn in "$TCP_DSN" "$UNIX_DSN"; do
        run_pooled "$TCP_POOL;$UNIX_POOL" "$OBJPOOL_PY" "$PY/pg_cases.py" "$1" --dsn "$dsn$2" --count 100
        assert_equal "$status" 0
        assert_equal "$(client_field ok)" 800
        pool=$UNIX_POOL
        [[ $dsn == "$TCP_DSN" ]] && pool=$TCP_POOL
        expect_num "$(json_field "$REPORT" "$pool" postgres.startup_mismatch)" -ge 400 "startup_mismatch"
        expect_num "$(json_field "$REPORT" "$pool" postgres.replayed)" -ge 500 "replayed"
    done
}

# (Python workers: the TSan stage runs only instrumented C programs, so its
# name keeps out of that stage's filter.)
@test "8 concurrent workers of one process, 100 connects each rotating over four roles (trust, superuser, md5, cleartext), Unix and TCP: every answer the worker's own, most sessions reused" {
    rotating threads ""
}

@test "8 concurrent workers of one user rotating over database and application_name, Unix and TCP: a near match never served, exact ones reused" {
    rotating near " user=u_trust"
}

@test "stress: 8 psycopg2 workers x 150 connects, random role, database and application_name, random session state and early closes, Unix and TCP: 0 crossed values" {
    local dsn pool
    for dsn in "$TCP_DSN" "$UNIX_DSN"; do
        run_pooled "$TCP_POOL;$UNIX_POOL" "$OBJPOOL_PY" "$PY/pg_cases.py" stress --dsn "$dsn" --count 150 --seed 7
        assert_equal "$status" 0
        assert_equal "$(client_field ok)" 1200
        pool=$UNIX_POOL
        [[ $dsn == "$TCP_DSN" ]] && pool=$TCP_POOL
        expect_num "$(json_field "$REPORT" "$pool" postgres.replayed)" -ge 100 "replayed"
    done
}

@test "session state never crosses to the next client (SET, set_config, SET ROLE, temp table, PREPARE, LISTEN, advisory lock, open and failed transaction, WITH HOLD cursor, application_name), Unix and TCP" {
    "$(compgen -G '/usr/lib/postgresql/*/bin' | sort -V | tail -n 1)/psql" -X -q -h "$PGD" \
        -p "$POSTGRES_PORT" -U postgres -d postgres -c 'CREATE TABLE leak_t (x int)'
    local dsn pool
    for dsn in "$UNIX_DSN" "$TCP_DSN"; do
        run_pooled "$TCP_POOL;$UNIX_POOL" "$OBJPOOL_PY" "$PY/pg_cases.py" state \
            --dsn "$dsn user=postgres" --count 5
        assert_equal "$status" 0
        assert_equal "$(client_field ok)" 55
        pool=$UNIX_POOL
        [[ $dsn == "$TCP_DSN" ]] && pool=$TCP_POOL
        expect_num "$(json_field "$REPORT" "$pool" postgres.replayed)" -ge 50 "replayed"
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

@test "auth=process reuses scram-sha-256 sessions, and then admits a wrong password on reuse (why it is not the default)" {
    local before
    before=$(postgres_logins)
    pg_run "$UNIX_POOL?auth=process" "$UNIX_DSN user=u_scram" --password pw1 --count 100
    assert_loop_clean 100
    assert_few_backends "$before" 100
    assert_equal "$(json_field "$REPORT" "$UNIX_POOL" postgres.auth_unverifiable)" 0
    # the unsafety the README names: a reused session, whatever the password
    run_pooled "$UNIX_POOL?auth=process" "$OBJPOOL_PY" -c "
import psycopg2, sys
dsn = sys.argv[1]
psycopg2.connect(dsn + ' password=pw1').close()
c = psycopg2.connect(dsn + ' password=wrong')
print('admitted')
c.close()" "$UNIX_DSN user=u_scram"
    assert_equal "$status" 0
    assert_output admitted
    # auth=strict (the default) never reuses them: the wrong one is refused
    run_pooled "$UNIX_POOL" "$OBJPOOL_PY" "$PY/pg_cases.py" auth --dsn "$UNIX_DSN user=u_scram" --count 5
    assert_equal "$status" 0
    assert_equal "$(client_field ok)" 15
}

@test "objpool check: a proto=postgres pool's max_lifetime is 30 s unless set; auth= is strict unless set" {
    OBJPOOL_POOLS="$TCP_POOL?proto=postgres;$UNIX_POOL?proto=postgres&max_lifetime=2m&auth=process" \
        run --separate-stderr "$REPO_ROOT/scripts/objpool" check
    assert_success
    [[ $output =~ max_lifetime\ +30000ms ]] || fail "no 30 s default: $output"
    [[ $output =~ max_lifetime\ +120000ms ]] || fail "the set max_lifetime lost: $output"
    [[ $output =~ auth\ +strict ]] || fail "no auth strict: $output"
    [[ $output =~ auth\ +process ]] || fail "no auth process: $output"
}

@test "the replay state machine alone (tests/fuzz/pg_replay.c as a unit test): a recorded start-up fed and replayed split at every byte, read in every piece size and after MSG_PEEK, every changed byte sent to a fresh connection at its place" {
    [[ -x "$TOOLS/pg_replay_test" ]] || fail "not built: $TOOLS/pg_replay_test (run make)"
    run "$TOOLS/pg_replay_test"
    assert_success
    assert_output --partial "runs ok"
}

@test "the replay meets the start-up split at every byte (and the SSLRequest, over TCP), answers read in 1-7 byte pieces after a MSG_PEEK: every session right" {
    run_pooled "$UNIX_POOL" "$OBJPOOL_PY" "$PY/pg_raw.py" --unix "$PGD/.s.PGSQL.$POSTGRES_PORT" --user u_trust
    assert_equal "$status" 0
    local n
    n=$(client_field ops)
    assert_equal "$(client_field ok)" "$n"
    expect_num "$(json_field "$REPORT" "$UNIX_POOL" postgres.replayed)" -ge $((n - 2)) "replayed"

    run_pooled "$TCP_POOL" "$OBJPOOL_PY" "$PY/pg_raw.py" --tcp "$POSTGRES_PORT" --user postgres --ssl
    assert_equal "$status" 0
    n=$(client_field ops)
    assert_equal "$(client_field ok)" "$n"
    expect_num "$(json_field "$REPORT" "$TCP_POOL" postgres.replayed)" -ge $((n - 2)) "replayed"
}

@test "PHP pg_connect per query (its pgsql extension deep-bound, re-bound), md5 over TCP and trust over the Unix socket: 100 results right each, at most 2 % as many backends" {
    sanitizer_cannot "the sanitizer runtimes refuse RTLD_DEEPBIND"
    require_cmd php
    php -m 2>/dev/null | grep -qix pgsql || skip "php has no pgsql extension (install php-pgsql)"
    local before
    before=$(postgres_logins)
    run_pooled "$TCP_POOL" php "$REPO_ROOT/tests/php/pg_loop.php" "$TCP_DSN user=u_md5 password=pw1" 100
    assert_loop_clean 100
    assert_few_backends "$before" 100
    expect_num "$(json_field "$REPORT" "$TCP_POOL" postgres.replayed)" -ge 98 "replayed"

    before=$(postgres_logins)
    run_pooled "$UNIX_POOL" php "$REPO_ROOT/tests/php/pg_loop.php" "$UNIX_DSN user=u_trust" 100
    assert_loop_clean 100
    assert_few_backends "$before" 100
}

@test "a custom placeholder setting (SET myapp.x) never passes its value on; the reused session knows the name (README: what DISCARD ALL leaves)" {
    run_pooled "$UNIX_POOL" "$OBJPOOL_PY" -c "
import psycopg2, sys
dsn = sys.argv[1]
c = psycopg2.connect(dsn); c.autocommit = True
c.cursor().execute(\"SET myapp.x = 'secret'\"); c.close()
c = psycopg2.connect(dsn); cur = c.cursor()
cur.execute(\"SELECT current_setting('myapp.x', true)\")
print(repr(cur.fetchone()[0])); c.close()" "$UNIX_DSN user=u_trust"
    assert_equal "$status" 0
    # a fresh session answers None; the reused one '' (never 'secret')
    assert_output "''"
    assert_equal "$(json_field "$REPORT" "$UNIX_POOL" postgres.replayed)" 1
}

NODE_DIR="$REPO_ROOT/build/node/node_modules"

# node_pg HOST USER COUNT [args...]: tests/node/pg_loop.js (node-postgres,
# installed into build/node by tests/run), pooled on both targets.
node_pg() {
    local host=$1 user=$2 count=$3
    shift 3
    run_pooled "$TCP_POOL;$UNIX_POOL" NODE_PATH="$NODE_DIR" node "$TESTS_DIR/node/pg_loop.js" \
        --host "$host" --port "$POSTGRES_PORT" --user "$user" --count "$count" "$@"
}

require_node_pg() {
    require_cmd node
    [[ -f $NODE_DIR/pg/package.json ]] || skip "npm module pg is not in build/node (tests/run installs it)"
}

# node-postgres's end() writes Terminate, half-closes (shutdown SHUT_WR) and
# waits through epoll for the server's close: the Terminate is swallowed
# (pgreplay.c), the half-close parks the session and hands the program a
# stub that reads EOF (goodbye.c). pg_loop.js counts an end() still waiting
# after 2 s in end_waits (and destroys the socket), so a wait fails the
# test instead of hanging it.
@test "node-postgres: a Client per query (extended and simple query, end()), 200 each, Unix and TCP, trust and md5: every result right, end() finishes, at most 2 % as many backends as queries" {
    require_node_pg
    local host user pool before
    for host in "$PGD" 127.0.0.1; do
        pool=$UNIX_POOL
        [[ $host == 127.0.0.1 ]] && pool=$TCP_POOL
        for user in u_trust u_md5; do
            before=$(postgres_logins)
            node_pg "$host" "$user" 200 --password pw1 --end-wait 2000
            assert_loop_clean 200
            assert_equal "$(client_field end_waits)" 0
            assert_few_backends "$before" 200
            expect_num "$(json_field "$REPORT" "$pool" postgres.replayed)" -ge 196 "replayed"
            assert_equal "$(json_field "$REPORT" "$pool" discarded.half_closed)" 0
        done
    done
}

@test "node-postgres: what one Client sets (SET, search_path, temp table, named prepared statement) is not visible to the next, Unix and TCP" {
    require_node_pg
    local host pool
    for host in "$PGD" 127.0.0.1; do
        pool=$UNIX_POOL
        [[ $host == 127.0.0.1 ]] && pool=$TCP_POOL
        node_pg "$host" u_trust 50 --mode state --end-wait 2000
        assert_loop_clean 50
        assert_equal "$(client_field end_waits)" 0
        expect_num "$(json_field "$REPORT" "$pool" postgres.replayed)" -ge 45 "replayed"
    done
}
