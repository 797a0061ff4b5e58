#!/usr/bin/env bats
# a private MariaDB 10.11 server (Unix socket and TCP, mysql_native_password,
# ed25519 and unix_socket accounts) with pymysql, mysqlclient, aiomysql,
# PHP mysqli and PDO, Perl DBI, node mysql2 and mysql: 2 % as many server
# connections as queries, every result right, session state never
# crossing, wrong/missing/changed passwords, mixed accounts and near
# matches, KILL of idle connections, wait_timeout, a server restart
#
# MySQL/MariaDB through libobjpool.so (issue 29): a private MariaDB server
# started by the tests (mariadb-install-db once per file as the mysql user,
# a copy of it per test; bench/servers.bash start_mariadb), reached over its
# Unix socket and over TCP, no TLS (but for the test that asks for it),
# with password accounts (u_native and u_other: mysql_native_password;
# u_ed: ed25519, where the server switches the client to client_ed25519)
# and two databases (db1, db2). Clients: pymysql programs
# (tests/py/my_loop.py, my_cases.py, my_raw.py by hand; PyNaCl for ed25519),
# mysqlclient (my_loop.py --driver mysqldb), aiomysql (my_async.py), PHP
# mysqli and PDO (tests/php/my_loop.php, mysqlnd), Perl DBI with DBD::mysql
# (tests/perl/my_loop.pl, libmariadb), node mysql2 (npm, in build/node) and
# Debian's node-mysql (tests/node/my_loop.js); administration (KILL, ALTER
# USER, the server's Connections counter, the checks a third connection
# makes) goes through Debian's mariadb client, never under the preload.
#
# A reused session is a recorded login replayed: the recorded greeting with
# its scramble (and any auth switch) served, the program's HandshakeResponse
# compared byte for byte with the recorded one, the session reset when it
# was parked (COM_RESET_CONNECTION, the recorded database and character
# set). What must never change: every result, every refused login, the
# account and database each program asked for, no session state reaching
# the next client, no more errors than without objpool when the server
# kills a connection or restarts.

load ../helpers

setup_file() {
    MY_TEMPLATE=$(mktemp -d /tmp/objpool-my.XXXXXX)
    chmod 0755 "$MY_TEMPLATE"
    export MY_TEMPLATE
    if [[ -x $(sbin mariadbd) ]]; then
        start_mariadb "$MY_TEMPLATE" && stop_mariadb
    fi
}

teardown_file() {
    [[ -n ${MY_TEMPLATE:-} && $MY_TEMPLATE == /tmp/objpool-my.* ]] && rm -rf "$MY_TEMPLATE"
}

setup() {
    require_lib
    require_py pymysql
    require_cmd mariadb
    [[ -d $MY_TEMPLATE/data/mysql && ! -e $MY_TEMPLATE/users-missing ]] ||
        skip "no MariaDB data directory (install mariadb-server): $(tail -5 "$MY_TEMPLATE/install.log" 2>/dev/null)"
    MYD=$(mktemp -d /tmp/objpool-my.XXXXXX)
    chmod 0755 "$MYD"
    cp -a "$MY_TEMPLATE/data" "$MYD/data"
    start_mariadb "$MYD" || fail "mariadbd did not start: $(tail -5 "$MYD/mariadb.log")"
    UNIX_POOL="unix://$MARIADB_SOCK"
    TCP_POOL="tcp://127.0.0.1:$MARIADB_PORT"
    BOTH="$TCP_POOL;$UNIX_POOL"
    UNIX_ARGS=(--unix "$MARIADB_SOCK")
    TCP_ARGS=(--host 127.0.0.1 --port "$MARIADB_PORT")
}

teardown() {
    stop_mariadb
    stop_servers
    stop_all_tagservers
    [[ -n ${MYD:-} && $MYD == /tmp/objpool-my.* ]] && rm -rf "$MYD"
}

# my_run POOL [my_loop.py args...]: my_loop.py as u_native (pw1) in db1,
# per query, under the preload.
my_run() {
    local pool=$1
    shift
    run_pooled "$pool" "$OBJPOOL_PY" "$PY/my_loop.py" --user u_native --password pw1 --db db1 "$@"
}

# my_case CASE TRANSPORT [my_cases.py args...]: my_cases.py CASE over the
# Unix socket (TRANSPORT unix) or TCP (tcp), both targets pooled (MY_POOLS:
# those pools instead).
my_case() {
    local c=$1 t=$2
    shift 2
    local where=("${UNIX_ARGS[@]}")
    [[ $t == tcp ]] && where=("${TCP_ARGS[@]}")
    run_pooled "${MY_POOLS:-$BOTH}" "$OBJPOOL_PY" "$PY/my_cases.py" "$c" "${where[@]}" --admin-sock "$MARIADB_SOCK" "$@"
}

# pool_of TRANSPORT: the pool spec of that transport
pool_of() {
    if [[ $1 == tcp ]]; then echo "$TCP_POOL"; else echo "$UNIX_POOL"; fi
}

# assert_cases_clean: a my_cases.py run exited 0, every check right
assert_cases_clean() {
    assert_equal "$status" 0
    expect_num "$(client_field ops)" -gt 0 "checks made"
    assert_equal "$(client_field ok)" "$(client_field ops)"
    assert_equal "$(client_field mismatches)" 0
    assert_equal "$(client_field errors)" 0
}

# assert_mysql POOL: the report names the pool's protocol mysql
assert_mysql() {
    assert_equal "$(json_text "$REPORT" "$1" proto)" mysql
}

# assert_few_connections BEFORE QUERIES: the server's Connections counter
# grew by at most 2 % of QUERIES since BEFORE (this reading's own included).
assert_few_connections() {
    local made=$(($(mariadb_connections) - $1))
    expect_num "$made" -le $(($2 / 50)) "server connections for $2 queries"
}

@test "pymysql per query, 200 each over the Unix socket and TCP (proto auto): every result right, Connections grows by at most 2 % of the queries, proto mysql, >= 98 % replayed" {
    local before
    before=$(mariadb_connections)
    my_run "$UNIX_POOL" "${UNIX_ARGS[@]}" --count 200
    assert_loop_clean 200
    assert_few_connections "$before" 200
    assert_mysql "$UNIX_POOL"
    expect_num "$(json_field "$REPORT" "$UNIX_POOL" mysql.replayed)" -ge 196 "replayed"
    assert_equal "$(json_field "$REPORT" "$UNIX_POOL" mysql.startup_mismatch)" 0
    assert_equal "$(json_field "$REPORT" "$UNIX_POOL" discarded.unknown_protocol)" 0

    before=$(mariadb_connections)
    my_run "$TCP_POOL" "${TCP_ARGS[@]}" --count 200
    assert_loop_clean 200
    assert_few_connections "$before" 200
    assert_mysql "$TCP_POOL"
    expect_num "$(json_field "$REPORT" "$TCP_POOL" mysql.replayed)" -ge 196 "replayed"
    assert_equal "$(json_field "$REPORT" "$TCP_POOL" mysql.startup_mismatch)" 0
    assert_equal "$(json_field "$REPORT" "$TCP_POOL" discarded.unknown_protocol)" 0
}

@test "PHP mysqli per query (mysqlnd, deep-bound and re-bound), 200 each over the Unix socket and TCP: every result right, Connections grows by at most 2 % of the queries, proto mysql, >= 98 % replayed" {
    sanitizer_cannot "the sanitizer runtimes refuse RTLD_DEEPBIND"
    require_cmd php
    php -m 2>/dev/null | grep -qix mysqli || skip "php has no mysqli extension (install php-mysql)"
    local before
    before=$(mariadb_connections)
    run_pooled "$UNIX_POOL" php "$REPO_ROOT/tests/php/my_loop.php" mysqli localhost 0 "$MARIADB_SOCK" \
        u_native pw1 db1 200
    assert_loop_clean 200
    assert_few_connections "$before" 200
    assert_mysql "$UNIX_POOL"
    expect_num "$(json_field "$REPORT" "$UNIX_POOL" mysql.replayed)" -ge 196 "replayed"

    before=$(mariadb_connections)
    run_pooled "$TCP_POOL" php "$REPO_ROOT/tests/php/my_loop.php" mysqli 127.0.0.1 "$MARIADB_PORT" - \
        u_native pw1 db1 200
    assert_loop_clean 200
    assert_few_connections "$before" 200
    assert_mysql "$TCP_POOL"
    expect_num "$(json_field "$REPORT" "$TCP_POOL" mysql.replayed)" -ge 196 "replayed"
}

@test "PHP PDO (pdo_mysql) per query, 100 each over the Unix socket and TCP: every result right, reused (>= 95 % replayed)" {
    sanitizer_cannot "the sanitizer runtimes refuse RTLD_DEEPBIND"
    require_cmd php
    php -m 2>/dev/null | grep -qix pdo_mysql || skip "php has no pdo_mysql extension (install php-mysql)"
    run_pooled "$UNIX_POOL" php "$REPO_ROOT/tests/php/my_loop.php" pdo localhost 0 "$MARIADB_SOCK" \
        u_other pw2 db2 100
    assert_loop_clean 100
    assert_mysql "$UNIX_POOL"
    expect_num "$(json_field "$REPORT" "$UNIX_POOL" mysql.replayed)" -ge 95 "replayed"

    run_pooled "$TCP_POOL" php "$REPO_ROOT/tests/php/my_loop.php" pdo 127.0.0.1 "$MARIADB_PORT" - \
        u_other pw2 db2 100
    assert_loop_clean 100
    assert_mysql "$TCP_POOL"
    expect_num "$(json_field "$REPORT" "$TCP_POOL" mysql.replayed)" -ge 95 "replayed"
}

@test "PHP prepared statements per query (the binary protocol): mysqli_prepare left open, closed by mysqli_stmt_close (COM_STMT_CLOSE, never answered), PDO with native prepares, 100 each over the Unix socket and TCP: every result right, >= 95 % replayed" {
    sanitizer_cannot "the sanitizer runtimes refuse RTLD_DEEPBIND"
    require_cmd php
    php -m 2>/dev/null | grep -qix pdo_mysql || skip "php has no pdo_mysql extension (install php-mysql)"
    local api
    for api in mysqli-stmt mysqli-stmt-close pdo-native; do
        run_pooled "$UNIX_POOL" php "$REPO_ROOT/tests/php/my_loop.php" "$api" localhost 0 "$MARIADB_SOCK" \
            u_native pw1 db1 100
        assert_loop_clean 100
        assert_mysql "$UNIX_POOL"
        expect_num "$(json_field "$REPORT" "$UNIX_POOL" mysql.replayed)" -ge 95 "$api: replayed"
        run_pooled "$TCP_POOL" php "$REPO_ROOT/tests/php/my_loop.php" "$api" 127.0.0.1 "$MARIADB_PORT" - \
            u_native pw1 db1 100
        assert_loop_clean 100
        expect_num "$(json_field "$REPORT" "$TCP_POOL" mysql.replayed)" -ge 95 "$api: replayed"
    done
}

@test "queries and rows of more than 16 MB (several packets each way), 5 rounds on reused connections, Unix and TCP: every answer right" {
    local t
    for t in unix tcp; do
        my_case big "$t" --count 5
        assert_cases_clean
        assert_equal "$(client_field ok)" 5
        assert_mysql "$(pool_of "$t")"
        expect_num "$(json_field "$REPORT" "$(pool_of "$t")" mysql.replayed)" -ge 4 "replayed"
    done
}

@test "Perl DBI with DBD::mysql (libmariadb) per query, proto=mysql, 100 each over the Unix socket and TCP: every result right, reused (>= 95 % replayed)" {
    perl -MDBD::mysql -e 1 2>/dev/null || skip "no DBD::mysql (install libdbd-mysql-perl)"
    run_pooled "$UNIX_POOL?proto=mysql" perl "$REPO_ROOT/tests/perl/my_loop.pl" \
        "DBI:mysql:database=db1;mysql_socket=$MARIADB_SOCK" u_native pw1 100
    assert_loop_clean 100
    assert_mysql "$UNIX_POOL"
    expect_num "$(json_field "$REPORT" "$UNIX_POOL" mysql.replayed)" -ge 95 "replayed"

    run_pooled "$TCP_POOL?proto=mysql" perl "$REPO_ROOT/tests/perl/my_loop.pl" \
        "DBI:mysql:database=db1;host=127.0.0.1;port=$MARIADB_PORT" u_native pw1 100
    assert_loop_clean 100
    assert_mysql "$TCP_POOL"
    expect_num "$(json_field "$REPORT" "$TCP_POOL" mysql.replayed)" -ge 95 "replayed"
}

@test "mysqlclient (MySQLdb, on libmariadb) per query, 100 each over the Unix socket and TCP, mysql_native_password and ed25519: every result right, >= 95 % replayed" {
    require_py MySQLdb
    my_run "$UNIX_POOL" "${UNIX_ARGS[@]}" --driver mysqldb --count 100
    assert_loop_clean 100
    assert_mysql "$UNIX_POOL"
    expect_num "$(json_field "$REPORT" "$UNIX_POOL" mysql.replayed)" -ge 95 "replayed"
    my_run "$TCP_POOL" "${TCP_ARGS[@]}" --driver mysqldb --user u_ed --password pw3 --count 100
    assert_loop_clean 100
    assert_mysql "$TCP_POOL"
    expect_num "$(json_field "$REPORT" "$TCP_POOL" mysql.replayed)" -ge 95 "replayed"
}

@test "aiomysql (asyncio, non-blocking sockets): 8 tasks of one event loop, 50 connects each, over the Unix socket and TCP: every answer the task's own, >= 90 % replayed" {
    require_py aiomysql
    local t pool
    for t in unix tcp; do
        pool=$(pool_of "$t")
        if [[ $t == tcp ]]; then
            run_pooled "$pool" "$OBJPOOL_PY" "$PY/my_async.py" "${TCP_ARGS[@]}" --user u_native --password pw1 \
                --db db1 --count 50
        else
            run_pooled "$pool" "$OBJPOOL_PY" "$PY/my_async.py" "${UNIX_ARGS[@]}" --user u_native --password pw1 \
                --db db1 --count 50
        fi
        assert_loop_clean 400
        assert_mysql "$pool"
        expect_num "$(json_field "$REPORT" "$pool" mysql.replayed)" -ge 360 "replayed"
    done
}

# node_my MODULE MODE COUNT TRANSPORT [my_loop.js args...]:
# tests/node/my_loop.js (MODULE mysql: Debian's node-mysql, mysqljs;
# mysql2: the npm module tests/run installs into build/node) as u_native in
# db1 under the preload.
node_my() {
    local module=$1 mode=$2 count=$3 transport=$4 where=(--socket "$MARIADB_SOCK")
    [[ $transport == tcp ]] && where=(--host 127.0.0.1 --port "$MARIADB_PORT")
    shift 4
    run_pooled "$(pool_of "$transport")" NODE_PATH="$NODE_MYSQL_PATH" node "$TESTS_DIR/node/my_loop.js" \
        --module "$module" "${where[@]}" --user u_native --password pw1 --database db1 --count "$count" \
        --mode "$mode" --end-wait 1000 "$@"
}

NODE_MYSQL_PATH="$REPO_ROOT/build/node/node_modules:/usr/share/nodejs"

# require_node_mysql MODULE
require_node_mysql() {
    require_cmd node
    NODE_PATH=$NODE_MYSQL_PATH node -e "require('$1')" 2>/dev/null ||
        skip "no node module $1 (node-mysql: apt-get install node-mysql; mysql2: tests/run installs it)"
}

# mysqljs's end() writes COM_QUIT and waits for the server's close (no
# half-close of its own): my_loop.js counts an end() still waiting after
# 1 s in end_waits (and destroys the socket), so a wait fails the test
# instead of hanging it.
@test "node mysql2 per query, 20 each over the Unix socket and TCP: every result right, end() finishes (COM_QUIT answered by a close, as the server's own), >= 90 % replayed" {
    require_node_mysql mysql2
    local t
    for t in unix tcp; do
        node_my mysql2 query 20 "$t"
        assert_loop_clean 20
        assert_equal "$(client_field end_waits)" 0
        assert_mysql "$(pool_of "$t")"
        expect_num "$(json_field "$REPORT" "$(pool_of "$t")" mysql.replayed)" -ge 18 "replayed"
    done
}

# mysqljs asks for no CLIENT_PLUGIN_AUTH, so it could not follow the
# AuthSwitchRequest a differing connect needs: the README says its
# handshakes are never recorded (auth_unverifiable), so it is never reused
# and fails nowhere it would not fail alone.
@test "node mysql (mysqljs: no CLIENT_PLUGIN_AUTH) per query, 20 each over the Unix socket and TCP: every result right, end() finishes, never recorded nor reused (auth_unverifiable)" {
    require_node_mysql mysql
    local t
    for t in unix tcp; do
        node_my mysql query 20 "$t"
        assert_loop_clean 20
        assert_equal "$(client_field end_waits)" 0
        assert_mysql "$(pool_of "$t")"
        assert_equal "$(json_field "$REPORT" "$(pool_of "$t")" hits)" 0
        assert_equal "$(json_field "$REPORT" "$(pool_of "$t")" mysql.auth_unverifiable)" 20
    done
}

@test "node mysql (mysqljs, no CLIENT_PLUGIN_AUTH: it cannot follow a switch) and mysql2: a wrong password after a right one fails every time, at once (never a session, never a hang), 5 rounds, Unix and TCP" {
    require_node_mysql mysql
    require_node_mysql mysql2
    local t module
    for module in mysql2 mysql; do
        for t in unix tcp; do
            node_my "$module" auth 5 "$t" --connect-wait 3000
            assert_loop_clean 5
            assert_equal "$(client_field hangs)" 0
            assert_mysql "$(pool_of "$t")"
        done
    done
}

@test "node mysql2: what one connection left (user variable, sql_mode, temporary table) is not visible to the next, and the sql_mode its handshake asked for (CLIENT_IGNORE_SPACE) is, Unix and TCP" {
    require_node_mysql mysql2
    local t
    for t in unix tcp; do
        node_my mysql2 state 20 "$t"
        assert_loop_clean 20
        assert_mysql "$(pool_of "$t")"
        expect_num "$(json_field "$REPORT" "$(pool_of "$t")" mysql.replayed)" -ge 18 "replayed"
    done
}

# alternating CLIENT...: a per-query client whose odd connects ask for db2
# (each connect differs from the one before): every answer right and in
# its own database, the mismatches handed to fresh connections (switched).
# (ALT_COUNT: connects, 20 unless set.)
alternating() {
    local n=${ALT_COUNT:-20}
    run_pooled "$BOTH" "$@"
    assert_loop_clean "$n"
    expect_num "$(json_field "$REPORT" "${POOL_USED}" mysql.switched)" -ge $((n / 2 - 2)) "switched"
}

@test "a connect that differs from the one before (odd ones ask for db2), 20 each (mysql2 10): pymysql, mysqlclient, PHP mysqli and PDO (mysqlnd), Perl DBI (libmariadb) and node mysql2 re-authenticate on a fresh connection (AuthSwitchRequest): every result right, in its own database" {
    require_py MySQLdb
    require_cmd php perl
    require_node_mysql mysql
    require_node_mysql mysql2
    POOL_USED=$UNIX_POOL
    alternating "$OBJPOOL_PY" "$PY/my_loop.py" "${UNIX_ARGS[@]}" --user u_native --password pw1 --db db1 \
        --count 20 --alt-db db2
    alternating "$OBJPOOL_PY" "$PY/my_loop.py" "${UNIX_ARGS[@]}" --driver mysqldb --user u_native --password pw1 \
        --db db1 --count 20 --alt-db db2
    # PHP under a sanitizer stage: its runtime refuses RTLD_DEEPBIND loads
    under_sanitizer || alternating php "$REPO_ROOT/tests/php/my_loop.php" mysqli localhost 0 "$MARIADB_SOCK" \
        u_native pw1 db1 20 db2
    alternating perl "$REPO_ROOT/tests/perl/my_loop.pl" "DBI:mysql:database=db1;mysql_socket=$MARIADB_SOCK" \
        u_native pw1 20 "DBI:mysql:database=db2;mysql_socket=$MARIADB_SOCK"
    POOL_USED=$TCP_POOL
    under_sanitizer || alternating php "$REPO_ROOT/tests/php/my_loop.php" pdo 127.0.0.1 "$MARIADB_PORT" - \
        u_native pw1 db1 20 db2
    ALT_COUNT=10 alternating NODE_PATH="$NODE_MYSQL_PATH" node "$TESTS_DIR/node/my_loop.js" --module mysql2 \
        --host 127.0.0.1 --port "$MARIADB_PORT" --user u_native --password pw1 --database db1 --count 10 \
        --alt-database db2 --end-wait 1000 --connect-wait 3000
    assert_equal "$(client_field end_waits)" 0
}

# mysqljs asks for no CLIENT_PLUGIN_AUTH, so it would not follow an
# AuthSwitchRequest: issue 29 lets that one connect fail (and the key's
# idle sessions go); it must fail at once, as a refused connect does.
@test "node mysql (mysqljs: no CLIENT_PLUGIN_AUTH) alternating databases, 10 connects, Unix and TCP: a connect objpool cannot hand to a fresh connection fails at once, never hangs; every answer it gets right" {
    require_node_mysql mysql
    local t
    for t in unix tcp; do
        node_my mysql query 10 "$t" --alt-database db2 --connect-wait 3000
        assert_equal "$(client_field mismatches)" 0
        assert_equal "$(client_field hangs)" 0
        expect_num "$(client_field ok)" -ge 5 "connects that worked"
        assert_mysql "$(pool_of "$t")"
    done
}

@test "pymysql on one connection kept (the persistent limit) and proto=mysql: every result right, one server connection" {
    local before
    before=$(mariadb_connections)
    my_run "$UNIX_POOL?proto=mysql" "${UNIX_ARGS[@]}" --count 300 --mode reused
    assert_loop_clean 300
    assert_mysql "$UNIX_POOL"
    expect_num $(($(mariadb_connections) - before)) -le 2 "server connections"
}

@test "session state never crosses to the next client (user variable, sql_mode, session variables, isolation level, USE with and without a database, temporary tables, open transaction, autocommit off, GET_LOCK, PREPARE, LOCK TABLES, HANDLER, SET NAMES, LAST_INSERT_ID, COM_INIT_DB, CLIENT_IGNORE_SPACE and CLIENT_INTERACTIVE asked for in the handshake, LOAD DATA LOCAL INFILE, a close without COM_QUIT, a multi-statement result left unread, an unbuffered result half read), Unix and TCP" {
    local t
    for t in unix tcp; do
        my_case state "$t" --count 3
        assert_cases_clean
        assert_mysql "$(pool_of "$t")"
        # 3 rounds x 24 kinds x 2 connects: most of them reuses
        expect_num "$(json_field "$REPORT" "$(pool_of "$t")" mysql.replayed)" -ge 48 "replayed"
    done
}

@test "a wrong and a missing password after a right one fail every time (30 rounds), mysql_native_password and ed25519 (an auth switch), Unix and TCP" {
    require_py nacl
    local t account
    for account in "u_native pw1" "u_ed pw3"; do
        for t in unix tcp; do
            my_case auth "$t" --user "${account% *}" --password "${account#* }" --count 30
            assert_cases_clean
            assert_equal "$(client_field ok)" 90
            assert_mysql "$(pool_of "$t")"
            # the wrong ones met a replayed greeting
            expect_num "$(json_field "$REPORT" "$(pool_of "$t")" mysql.startup_mismatch)" -ge 30 "startup_mismatch"
        done
    done
}

@test "an auth switch to client_ed25519 (the ed25519 account), pymysql (PyNaCl) and Perl DBI (libmariadb) per query, 100 each, Unix and TCP: every result right, >= 95 % replayed" {
    require_py nacl
    my_run "$UNIX_POOL" "${UNIX_ARGS[@]}" --user u_ed --password pw3 --count 100
    assert_loop_clean 100
    assert_mysql "$UNIX_POOL"
    expect_num "$(json_field "$REPORT" "$UNIX_POOL" mysql.replayed)" -ge 95 "replayed"
    my_run "$TCP_POOL" "${TCP_ARGS[@]}" --user u_ed --password pw3 --count 100
    assert_loop_clean 100
    assert_mysql "$TCP_POOL"
    expect_num "$(json_field "$REPORT" "$TCP_POOL" mysql.replayed)" -ge 95 "replayed"

    perl -MDBD::mysql -e 1 2>/dev/null || skip "no DBD::mysql (install libdbd-mysql-perl)"
    run_pooled "$UNIX_POOL" perl "$REPO_ROOT/tests/perl/my_loop.pl" \
        "DBI:mysql:database=db1;mysql_socket=$MARIADB_SOCK" u_ed pw3 100
    assert_loop_clean 100
    expect_num "$(json_field "$REPORT" "$UNIX_POOL" mysql.replayed)" -ge 95 "replayed"
    run_pooled "$TCP_POOL" perl "$REPO_ROOT/tests/perl/my_loop.pl" \
        "DBI:mysql:database=db1;host=127.0.0.1;port=$MARIADB_PORT" u_ed pw3 100
    assert_loop_clean 100
    expect_num "$(json_field "$REPORT" "$TCP_POOL" mysql.replayed)" -ge 95 "replayed"
}

@test "ALTER USER ... IDENTIFIED BY: after one login with the new password the old one fails every time, Unix and TCP" {
    local t
    for t in unix tcp; do
        my_case rotate "$t" --how alter --count 10
        assert_cases_clean
        assert_equal "$(client_field ok)" 31
        assert_mysql "$(pool_of "$t")"
        expect_num "$(json_field "$REPORT" "$(pool_of "$t")" mysql.replayed)" -ge 5 "replayed"
        expect_num "$(json_field "$REPORT" "$(pool_of "$t")" mysql.auth_mismatch)" -ge 1 "auth_mismatch"
    done
}

@test "SET PASSWORD FOR: after one login with the new password the old one fails every time, Unix and TCP" {
    local t
    for t in unix tcp; do
        my_case rotate "$t" --how set --count 10
        assert_cases_clean
        assert_equal "$(client_field ok)" 31
        assert_mysql "$(pool_of "$t")"
        expect_num "$(json_field "$REPORT" "$(pool_of "$t")" mysql.auth_mismatch)" -ge 1 "auth_mismatch"
    done
}

@test "unix_socket authentication over the Unix socket: a session recorded for the effective uid of nobody (MariaDB's nobody, identified via unix_socket) is never replayed to the same process as root, which the server refuses, 10 rounds each" {
    [[ $EUID == 0 ]] || skip "needs root (the process changes its effective uid)"
    mariadb_sql "CREATE USER nobody@localhost IDENTIFIED VIA unix_socket; GRANT ALL ON db1.* TO nobody@localhost"
    MY_POOLS=$UNIX_POOL my_case peer unix --count 10
    assert_cases_clean
    assert_equal "$(client_field ok)" 20
    assert_mysql "$UNIX_POOL"
    expect_num "$(json_field "$REPORT" "$UNIX_POOL" mysql.replayed)" -ge 8 "replayed"
}

@test "ACCOUNT LOCK while sessions sit in the pool: once the pool's max_lifetime (2 s here) has passed, every connect is refused (the window the README names), Unix and TCP" {
    local t
    for t in unix tcp; do
        MY_POOLS="$TCP_POOL?max_lifetime=2s;$UNIX_POOL?max_lifetime=2s" my_case lock "$t" --count 10 --wait 2.5
        assert_cases_clean
        assert_equal "$(client_field ok)" 21
        assert_mysql "$(pool_of "$t")"
        expect_num "$(json_field "$REPORT" "$(pool_of "$t")" mysql.replayed)" -ge 5 "replayed"
    done
}

@test "mixed accounts and databases in one process (u_native and u_other; db1, db2, none), 20 rounds, Unix and TCP: every result right, each client in its own USER() and DATABASE(), a greeting's thread id that is not the session's names no live session" {
    tsan_cannot "python3 is not built with TSan, so it cannot load the TSan build of the library"
    local t
    for t in unix tcp; do
        my_case mixed "$t" --count 20
        assert_cases_clean
        assert_equal "$(client_field ok)" 100
        assert_mysql "$(pool_of "$t")"
        expect_num "$(json_field "$REPORT" "$(pool_of "$t")" mysql.startup_mismatch)" -ge 1 "startup_mismatch"
    done
}

@test "a connect that differs in one thing from the recorded one (database, a connection attribute, character set latin1 or cp1251, the FOUND_ROWS capability) never gets a near match, Unix and TCP" {
    local t
    for t in unix tcp; do
        my_case near "$t" --count 10
        assert_cases_clean
        assert_equal "$(client_field ok)" 60
        assert_mysql "$(pool_of "$t")"
        expect_num "$(json_field "$REPORT" "$(pool_of "$t")" mysql.startup_mismatch)" -ge 10 "startup_mismatch"
    done
}

# (Python workers: the TSan stage runs only instrumented C programs, so its
# name keeps out of that stage's filter, [Tt]hread|[Rr]acing.)
@test "8 concurrent workers of one process, 50 connects each rotating over accounts and databases, Unix and TCP: every answer the worker's own" {
    local t
    for t in unix tcp; do
        my_case threads "$t" --count 50
        assert_cases_clean
        assert_equal "$(client_field ok)" 400
        assert_mysql "$(pool_of "$t")"
    done
}

@test "fork() with sessions parked: parent and child 50 connects each at once, every answer its own, Unix and TCP" {
    local t
    for t in unix tcp; do
        my_case forked "$t" --count 50
        assert_cases_clean
        assert_equal "$(client_field ok)" 101
        assert_mysql "$(pool_of "$t")"
        expect_num "$(json_field "$REPORT" "$(pool_of "$t")" mysql.replayed)" -ge 90 "replayed"
    done
}

@test "PHP mysqli_change_user (COM_CHANGE_USER to u_other in db2) on every other connection, 100 each, Unix and TCP: every next connection is u_native's in db1 again, every result right" {
    sanitizer_cannot "the sanitizer runtimes refuse RTLD_DEEPBIND"
    require_cmd php
    php -m 2>/dev/null | grep -qix mysqli || skip "php has no mysqli extension (install php-mysql)"
    run_pooled "$UNIX_POOL" php "$REPO_ROOT/tests/php/my_loop.php" mysqli-change-user localhost 0 \
        "$MARIADB_SOCK" u_native pw1 db1 100
    assert_loop_clean 100
    assert_mysql "$UNIX_POOL"
    expect_num "$(json_field "$REPORT" "$UNIX_POOL" mysql.replayed)" -ge 25 "replayed"
    run_pooled "$TCP_POOL" php "$REPO_ROOT/tests/php/my_loop.php" mysqli-change-user 127.0.0.1 \
        "$MARIADB_PORT" - u_native pw1 db1 100
    assert_loop_clean 100
    assert_mysql "$TCP_POOL"
    expect_num "$(json_field "$REPORT" "$TCP_POOL" mysql.replayed)" -ge 25 "replayed"
}

@test "PHP mysqli_multi_query (COM_SET_OPTION: multi-statements on, left on) on every other connection, 100 each, Unix and TCP: every next session has them off, as a fresh one (a two-statement query fails, 1064)" {
    sanitizer_cannot "the sanitizer runtimes refuse RTLD_DEEPBIND"
    require_cmd php
    php -m 2>/dev/null | grep -qix mysqli || skip "php has no mysqli extension (install php-mysql)"
    run_pooled "$UNIX_POOL" php "$REPO_ROOT/tests/php/my_loop.php" mysqli-multi localhost 0 "$MARIADB_SOCK" \
        u_native pw1 db1 100
    assert_loop_clean 100
    assert_mysql "$UNIX_POOL"
    expect_num "$(json_field "$REPORT" "$UNIX_POOL" mysql.replayed)" -ge 90 "replayed"
    run_pooled "$TCP_POOL" php "$REPO_ROOT/tests/php/my_loop.php" mysqli-multi 127.0.0.1 "$MARIADB_PORT" - \
        u_native pw1 db1 100
    assert_loop_clean 100
    expect_num "$(json_field "$REPORT" "$TCP_POOL" mysql.replayed)" -ge 90 "replayed"
}

@test "PHP server-side cursors (COM_STMT_FETCH, one row of 100 read, the cursor left open at close) on every other connection, 100 each, Unix and TCP: every result right; the cursor's sessions never parked, the others reused" {
    sanitizer_cannot "the sanitizer runtimes refuse RTLD_DEEPBIND"
    require_cmd php
    php -m 2>/dev/null | grep -qix mysqli || skip "php has no mysqli extension (install php-mysql)"
    local t pool
    for t in unix tcp; do
        pool=$(pool_of "$t")
        if [[ $t == tcp ]]; then
            run_pooled "$pool" php "$REPO_ROOT/tests/php/my_loop.php" mysqli-cursor 127.0.0.1 "$MARIADB_PORT" - \
                u_native pw1 db1 100
        else
            run_pooled "$pool" php "$REPO_ROOT/tests/php/my_loop.php" mysqli-cursor localhost 0 "$MARIADB_SOCK" \
                u_native pw1 db1 100
        fi
        assert_loop_clean 100
        assert_mysql "$pool"
        expect_num "$(json_field "$REPORT" "$pool" parked)" -le 50 "parked"
        expect_num "$(json_field "$REPORT" "$pool" mysql.replayed)" -ge 45 "replayed"
    done
}

@test "objpool check: a proto=mysql pool's max_lifetime is 30 s unless set, a proto=auto one's 60 s (the window the README names)" {
    require_tool
    # the command of the tree the library under test was built in (this
    # tree's, unless OBJPOOL_LIB names another's)
    local cmd
    cmd="$(dirname "$(dirname "${LIB##*:}")")/scripts/objpool"
    [[ -x $cmd ]] || cmd=$REPO_ROOT/scripts/objpool
    OBJPOOL_POOLS="$TCP_POOL?proto=mysql;$UNIX_POOL?proto=mysql&max_lifetime=2m;tcp://127.0.0.1:1" \
        run --separate-stderr "$cmd" check
    assert_success
    [[ $output =~ max_lifetime\ +30000ms ]] || fail "no 30 s default: $output"
    [[ $output =~ max_lifetime\ +120000ms ]] || fail "the set max_lifetime lost: $output"
    [[ $output =~ max_lifetime\ +60000ms ]] || fail "no 60 s default for proto=auto: $output"
    [[ $output =~ proto\ +mysql ]] || fail "no proto mysql: $output"
}

@test "KILL QUERY with the connection id the greeting gave (10 rounds, reused sessions among them), Unix and TCP: SELECT SLEEP(5) interrupted within 2 s, CONNECTION_ID() that id" {
    local t
    for t in unix tcp; do
        my_case killquery "$t" --count 10
        assert_cases_clean
        assert_equal "$(client_field ok)" 10
        assert_mysql "$(pool_of "$t")"
        expect_num "$(json_field "$REPORT" "$(pool_of "$t")" mysql.replayed)" -ge 5 "replayed"
    done
}

@test "a client that asks for TLS (CLIENT_SSL: pymysql with ssl_ca), 20 per query over TCP and the Unix socket: every result right, never recorded nor reused; plain clients of the same server still are" {
    require_cmd openssl
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$MYD/key.pem" -out "$MYD/cert.pem" -days 2 \
        -subj /CN=localhost 2>/dev/null || fail "openssl could not make a certificate"
    chmod 0644 "$MYD/key.pem"
    stop_mariadb
    MARIADB_EXTRA_ARGS=(--ssl-cert="$MYD/cert.pem" --ssl-key="$MYD/key.pem")
    MARIADB_WANT_PORT=$MARIADB_PORT start_mariadb "$MYD" || fail "mariadbd did not start with TLS"
    assert_equal "$(mariadb_sql "SELECT @@have_ssl")" YES
    my_run "$TCP_POOL" "${TCP_ARGS[@]}" --ssl-ca "$MYD/cert.pem" --count 20
    assert_loop_clean 20
    assert_mysql "$TCP_POOL"
    assert_equal "$(json_field "$REPORT" "$TCP_POOL" mysql.replayed)" 0
    assert_equal "$(json_field "$REPORT" "$TCP_POOL" hits)" 0
    assert_equal "$(json_field "$REPORT" "$TCP_POOL" mysql.auth_unverifiable)" 20
    my_run "$UNIX_POOL" "${UNIX_ARGS[@]}" --ssl-ca "$MYD/cert.pem" --count 20
    assert_loop_clean 20
    assert_equal "$(json_field "$REPORT" "$UNIX_POOL" hits)" 0
    assert_equal "$(json_field "$REPORT" "$UNIX_POOL" mysql.auth_unverifiable)" 20
    my_run "$TCP_POOL" "${TCP_ARGS[@]}" --count 50
    assert_loop_clean 50
    expect_num "$(json_field "$REPORT" "$TCP_POOL" mysql.replayed)" -ge 49 "replayed without TLS"
}

@test "the HandshakeResponse split at every byte, every answer read in 1-7 byte pieces after a MSG_PEEK (tests/py/my_raw.py), Unix and TCP: every session right and replayed (also with two queries pipelined in one write); a wrong password at every split refused" {
    local n
    run_pooled "$UNIX_POOL" "$OBJPOOL_PY" "$PY/my_raw.py" --unix "$MARIADB_SOCK" --user u_native --password pw1 --db db1
    assert_equal "$status" 0
    n=$(client_field ops)
    assert_equal "$(client_field ok)" "$n"
    assert_mysql "$UNIX_POOL"
    expect_num "$(json_field "$REPORT" "$UNIX_POOL" mysql.replayed)" -ge $((n - 2)) "replayed"

    run_pooled "$TCP_POOL" "$OBJPOOL_PY" "$PY/my_raw.py" --tcp "$MARIADB_PORT" --user u_other --password pw2 --db db2
    assert_equal "$status" 0
    n=$(client_field ops)
    assert_equal "$(client_field ok)" "$n"
    assert_mysql "$TCP_POOL"
    expect_num "$(json_field "$REPORT" "$TCP_POOL" mysql.replayed)" -ge $((n - 2)) "replayed"

    run_pooled "$BOTH" "$OBJPOOL_PY" "$PY/my_raw.py" --unix "$MARIADB_SOCK" --user u_native --password pw1 --db db1 \
        --pipeline
    assert_equal "$status" 0
    n=$(client_field ops)
    assert_equal "$(client_field ok)" "$n"
    expect_num "$(json_field "$REPORT" "$UNIX_POOL" mysql.replayed)" -ge $((n - 2)) "replayed (pipelined)"

    run_pooled "$BOTH" "$OBJPOOL_PY" "$PY/my_raw.py" --unix "$MARIADB_SOCK" --user u_native --password pw1 --db db1 --wrong
    assert_equal "$status" 0
    assert_equal "$(client_field ok)" "$(client_field ops)"
    run_pooled "$BOTH" "$OBJPOOL_PY" "$PY/my_raw.py" --tcp "$MARIADB_PORT" --user u_native --password pw1 --db db1 --wrong
    assert_equal "$status" 0
    assert_equal "$(client_field ok)" "$(client_field ops)"
    expect_num "$(json_field "$REPORT" "$TCP_POOL" mysql.startup_mismatch)" -ge 45 "startup_mismatch"
}

@test "a COM_QUERY cut short at every length, then close (no COM_QUIT), Unix and TCP: such a session is never parked, every next connection right" {
    local t pool
    for t in unix tcp; do
        pool=$(pool_of "$t")
        if [[ $t == tcp ]]; then
            run_pooled "$pool" "$OBJPOOL_PY" "$PY/my_raw.py" --tcp "$MARIADB_PORT" --user u_native --password pw1 \
                --db db1 --half
        else
            run_pooled "$pool" "$OBJPOOL_PY" "$PY/my_raw.py" --unix "$MARIADB_SOCK" --user u_native --password pw1 \
                --db db1 --half
        fi
        assert_equal "$status" 0
        assert_equal "$(client_field ok)" "$(client_field ops)"
        assert_mysql "$pool"
        assert_equal "$(json_field "$REPORT" "$pool" parked)" 0
    done
}

@test "KILL of every idle connection before each query: no more errors than without objpool, Unix and TCP" {
    run_plain "$OBJPOOL_PY" "$PY/my_loop.py" --user u_native --password pw1 --db db1 "${TCP_ARGS[@]}" \
        --count 60 --kill-idle "$MARIADB_SOCK" --allow-errors
    local plain
    plain=$(client_field errors)
    assert_equal "$(client_field mismatches)" 0
    my_run "$UNIX_POOL" "${UNIX_ARGS[@]}" --count 60 --kill-idle "$MARIADB_SOCK" --allow-errors
    assert_equal "$(client_field mismatches)" 0
    expect_num "$(client_field errors)" -le "$plain" "errors with objpool (Unix)"
    assert_mysql "$UNIX_POOL"
    my_run "$TCP_POOL" "${TCP_ARGS[@]}" --count 60 --kill-idle "$MARIADB_SOCK" --allow-errors
    assert_equal "$(client_field mismatches)" 0
    expect_num "$(client_field errors)" -le "$plain" "errors with objpool (TCP)"
    assert_mysql "$TCP_POOL"
}

@test "the server's wait_timeout (1 s) ends the parked sessions between queries (1.5 s apart): no more errors than without objpool, Unix and TCP" {
    mariadb_sql "SET GLOBAL wait_timeout = 1"
    run_plain "$OBJPOOL_PY" "$PY/my_loop.py" --user u_native --password pw1 --db db1 "${TCP_ARGS[@]}" \
        --count 4 --sleep 1.5 --allow-errors
    local plain
    plain=$(client_field errors)
    my_run "$UNIX_POOL" "${UNIX_ARGS[@]}" --count 4 --sleep 1.5 --allow-errors
    assert_equal "$(client_field mismatches)" 0
    expect_num "$(client_field errors)" -le "$plain" "errors with objpool (Unix)"
    assert_mysql "$UNIX_POOL"
    my_run "$TCP_POOL" "${TCP_ARGS[@]}" --count 4 --sleep 1.5 --allow-errors
    assert_equal "$(client_field mismatches)" 0
    expect_num "$(client_field errors)" -le "$plain" "errors with objpool (TCP)"
    assert_mysql "$TCP_POOL"
}

# paused_run POOL ACTION [my_loop.py args...]: my_loop.py (100 per query, a
# pause before the 51st) under the preload with POOL, or without it (POOL
# "-"); at the pause ACTION runs, then the loop goes on. Sets status,
# output, stderr and REPORT as run_pooled does.
paused_run() {
    local pool=$1 action=$2 pre=() i
    shift 2
    RUN_SEQ=$((RUN_SEQ + 1))
    local pause="$BATS_TEST_TMPDIR/pause.$RUN_SEQ" out="$BATS_TEST_TMPDIR/out.$RUN_SEQ"
    REPORT="$BATS_TEST_TMPDIR/report.$RUN_SEQ.json"
    mkdir -p "$pause"
    [[ $pool == - ]] || pre=(LD_PRELOAD="$LIB" OBJPOOL_POOLS="$pool" OBJPOOL_REPORT_FORMAT=json
        OBJPOOL_REPORT="$REPORT")
    env "${pre[@]}" timeout "$OBJPOOL_TEST_TIMEOUT" "$OBJPOOL_PY" "$PY/my_loop.py" --user u_native \
        --password pw1 --db db1 --count 100 --pause-at 50 --pause-dir "$pause" --allow-errors "$@" \
        >"$out" 2>"$out.err" &
    local client=$!
    for ((i = 0; i < 600; i++)); do
        [[ -f $pause/paused ]] && break
        sleep 0.05
    done
    [[ -f $pause/paused ]] || echo "# the client never paused" >&2
    "$action"
    touch "$pause/resume"
    status=0
    wait "$client" || status=$?
    output=$(cat "$out")
    stderr=$(cat "$out.err")
    show_run
}

# kill_idle: KILL every idle (Sleep) connection but root's
kill_idle() {
    local kills
    kills=$(mariadb_sql "SELECT GROUP_CONCAT(CONCAT('KILL ', id) SEPARATOR ';') FROM
        information_schema.processlist WHERE command = 'Sleep' AND user NOT IN ('root', 'system user')")
    echo "# killed: $kills"
    [[ $kills == NULL ]] || mariadb_sql "$kills" || true
}

restart_mariadb() {
    stop_mariadb
    MARIADB_WANT_PORT=$MARIADB_PORT start_mariadb "$MYD" || fail "mariadbd did not restart"
}

# compare_paused ACTION: the paused run without objpool, then with it over
# the Unix socket and TCP: no mismatch, no more errors with objpool.
compare_paused() {
    paused_run - "$1" "${TCP_ARGS[@]}"
    assert_equal "$status" 0
    assert_equal "$(client_field mismatches)" 0
    local plain
    plain=$(client_field errors)
    paused_run "$UNIX_POOL" "$1" "${UNIX_ARGS[@]}"
    assert_equal "$status" 0
    expect_num "$(client_field ok)" -ge $((100 - plain)) "ok with objpool (Unix)"
    expect_num "$(client_field errors)" -le "$plain" "errors with objpool (Unix)"
    assert_mysql "$UNIX_POOL"
    expect_num "$(json_field "$REPORT" "$UNIX_POOL" mysql.replayed)" -ge 90 "replayed (Unix)"
    paused_run "$TCP_POOL" "$1" "${TCP_ARGS[@]}"
    assert_equal "$status" 0
    expect_num "$(client_field ok)" -ge $((100 - plain)) "ok with objpool (TCP)"
    expect_num "$(client_field errors)" -le "$plain" "errors with objpool (TCP)"
    assert_mysql "$TCP_POOL"
    expect_num "$(json_field "$REPORT" "$TCP_POOL" mysql.replayed)" -ge 90 "replayed (TCP)"
}

@test "KILL of the idle pooled connections from an administrator while a per-query run is paused: no more errors than without objpool, Unix and TCP" {
    compare_paused kill_idle
}

@test "a server restart in the middle of a per-query run: no more errors than without objpool, Unix and TCP" {
    compare_paused restart_mariadb
}
