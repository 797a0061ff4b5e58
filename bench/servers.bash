# Start/stop the real servers objpool's real-world tests and benchmarks use.
# Sourced by tests/conn/real_servers.bats and bench/run.sh.  Every server runs as the
# current user, in its own directory, on a free loopback port.
#
#   start_nginx DIR [extra http-block directives]   -> NGINX_PORT, NGINX_PID
#       serves DIR/www at /f/ (http_loop.py --gen-files writes it) and logs
#       "$connection $connection_requests $status $request" to DIR/access.log
#   start_redis DIR [redis-server options]          -> REDIS_PORT, REDIS_PID
#       (REDIS_WANT_PORT=N: use port N, e.g. to restart a server)
#   start_memcached DIR                             -> MEMCACHED_PORT, MEMCACHED_PID
#   start_haproxy DIR BACKEND_PORT                  -> HAPROXY_PORT, HAPROXY_PID
#   start_nutcracker DIR REDIS_PORT                 -> NUTCRACKER_PORT, NUTCRACKER_PID
#   stop_servers                                    stops every server started here
# A start_* function returns 1, with the server's log on stderr, when the
# server does not come up; the caller decides whether to skip or fail.
# SERVER_WRAP (e.g. "taskset -c 0") prefixes every server command.

SERVERS_STARTED=()
SERVER_WRAP=${SERVER_WRAP:-}
SYS_PY=/usr/bin/python3
[[ -x $SYS_PY ]] || SYS_PY=python3

sbin() {
    local c=$1
    if command -v "$c" >/dev/null 2>&1; then command -v "$c"
    elif [[ -x /usr/sbin/$c ]]; then echo "/usr/sbin/$c"
    else echo "/sbin/$c"; fi
}

# free_port: a loopback TCP port nobody listens on right now.
free_port() {
    "$SYS_PY" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_port PORT PID LOG: up to 10 s for PORT to accept; 1 if PID died.
wait_port() {
    local port=$1 pid=$2 log=$3 i
    for ((i = 0; i < 200; i++)); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    echo "server (pid $pid) did not listen on port $port; log:" >&2
    cat "$log" >&2 2>/dev/null
    return 1
}

# _start NAME DIR PORT LOG CMD...: run CMD in the background (3 closed so a
# bats run is not held open), remember it, wait for its port.
_start() {
    local name=$1 dir=$2 port=$3 log=$4
    shift 4
    # shellcheck disable=SC2086
    $SERVER_WRAP "$@" >>"$log" 2>&1 3>&- </dev/null &
    local pid=$!
    SERVERS_STARTED+=("$pid")
    printf -v "${name}_PID" '%s' "$pid"
    printf -v "${name}_PORT" '%s' "$port"
    wait_port "$port" "$pid" "$log"
}

# _retry FUNC ARGS...: FUNC picks a free port itself; retry twice if another
# process took the port between free_port and bind.
_retry() {
    local i
    for i in 1 2 3; do
        "$@" && return 0
    done
    return 1
}

start_nginx() { _retry _start_nginx "$@"; }
_start_nginx() {
    local dir=$1 extra=${2:-} port
    port=$(free_port) || return 1
    mkdir -p "$dir/tmp" "$dir/www"
    cat >"$dir/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
    log_format conn '\$connection \$connection_requests \$status \$request';
    access_log $dir/access.log conn;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    default_type application/octet-stream;
    keepalive_timeout 75s;
    $extra
    server {
        listen 127.0.0.1:$port;
        location /f/ { alias $dir/www/; }
    }
}
CONF
    _start NGINX "$dir" "$port" "$dir/nginx.out" \
        "$(sbin nginx)" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log"
}

# nginx_connections DIR: distinct connection serials in DIR/access.log.
nginx_connections() {
    awk '{print $1}' "$1/access.log" | sort -u | wc -l
}
# nginx_requests DIR: requests logged.
nginx_requests() {
    wc -l <"$1/access.log"
}

start_redis() { _retry _start_redis "$@"; }
_start_redis() {
    local dir=$1 port=${REDIS_WANT_PORT:-}
    shift
    [[ -n $port ]] || port=$(free_port) || return 1
    mkdir -p "$dir"
    _start REDIS "$dir" "$port" "$dir/redis.out" \
        "$(sbin redis-server)" --port "$port" --bind 127.0.0.1 --dir "$dir" \
        --save '' --appendonly no --daemonize no --logfile "$dir/redis.log" "$@"
}

# redis_stat PORT FIELD: an INFO field, read by a client that is not preloaded.
redis_stat() {
    "$SYS_PY" - "$1" "$2" <<'PY'
import sys, redis
print(redis.Redis(host="127.0.0.1", port=int(sys.argv[1])).info()[sys.argv[2]])
PY
}

start_memcached() { _retry _start_memcached "$@"; }
_start_memcached() {
    local dir=$1 port user=()
    port=$(free_port) || return 1
    mkdir -p "$dir"
    [[ $(id -u) == 0 ]] && user=(-u root)
    _start MEMCACHED "$dir" "$port" "$dir/memcached.out" \
        "$(sbin memcached)" "${user[@]}" -l 127.0.0.1 -p "$port" -U 0 -m 64 -c 1024
}

# memcached_stat PORT FIELD
memcached_stat() {
    "$SYS_PY" - "$1" "$2" <<'PY'
import sys
from pymemcache.client.base import Client
c = Client(("127.0.0.1", int(sys.argv[1])))
print(c.stats()[sys.argv[2].encode()])
c.close()
PY
}

start_haproxy() { _retry _start_haproxy "$@"; }
_start_haproxy() {
    local dir=$1 backend=$2 port
    port=$(free_port) || return 1
    mkdir -p "$dir"
    cat >"$dir/haproxy.cfg" <<CONF
global
    maxconn 1024
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    timeout http-keep-alive 30s
frontend fe
    bind 127.0.0.1:$port
    default_backend be
backend be
    http-reuse always
    server s1 127.0.0.1:$backend
CONF
    _start HAPROXY "$dir" "$port" "$dir/haproxy.out" \
        "$(sbin haproxy)" -db -f "$dir/haproxy.cfg"
}

start_nutcracker() { _retry _start_nutcracker "$@"; }
_start_nutcracker() {
    local dir=$1 backend=$2 port
    port=$(free_port) || return 1
    mkdir -p "$dir"
    cat >"$dir/nutcracker.yml" <<CONF
bench:
  listen: 127.0.0.1:$port
  redis: true
  hash: fnv1a_64
  distribution: ketama
  auto_eject_hosts: false
  server_connections: 1
  servers:
    - 127.0.0.1:$backend:1
CONF
    _start NUTCRACKER "$dir" "$port" "$dir/nutcracker.out" \
        "$(sbin nutcracker)" -c "$dir/nutcracker.yml" -o "$dir/nutcracker.log" \
        -p "$dir/nutcracker.pid" -s "$(free_port)"
}

# stop_server PID: SIGTERM, SIGKILL after 3 s.
stop_server() {
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 60; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

stop_servers() {
    local pid
    for pid in "${SERVERS_STARTED[@]}"; do
        stop_server "$pid"
    done
    SERVERS_STARTED=()
}

# start_postgres DIR: a private PostgreSQL cluster in DIR (a new directory
# every user can traverse, made by the caller), run as the postgres user
# (nobody without one) when root, listening on 127.0.0.1:PORT and on the
# Unix socket DIR/.s.PGSQL.PORT, every connection logged (log_connections).
# POSTGRES_WANT_PORT: that port (a restart). Roles: u_trust (trust),
# u_md5 (md5, password pw1), u_clear (password, i.e. cleartext, pw1),
# u_scram (scram-sha-256, pw1), u_nologin (NOLOGIN); pg_hba lists them for
# both local and 127.0.0.1. Sets POSTGRES_PID, POSTGRES_PORT, PG_DIR.
start_postgres() { _retry _start_postgres "$@"; }
_start_postgres() {
    local dir=$1 port=${POSTGRES_WANT_PORT:-} bin as=() u
    bin=$(compgen -G '/usr/lib/postgresql/*/bin' | sort -V | tail -n 1)
    [[ -n $bin ]] || return 1
    [[ -n $port ]] || port=$(free_port) || return 1
    if [[ $EUID == 0 ]]; then
        u=postgres
        id "$u" >/dev/null 2>&1 || u=nobody
        as=(setpriv --reuid="$u" --regid="$(id -g "$u")" --clear-groups --)
    fi
    PG_DIR=$dir
    mkdir -p "$dir"
    [[ $EUID == 0 ]] && chown "$u" "$dir" # the server writes its socket there
    if [[ ! -f $dir/data/PG_VERSION ]]; then
        mkdir -p "$dir/data"
        [[ $EUID == 0 ]] && chown -R "$u" "$dir"
        chmod 0700 "$dir/data"
        "${as[@]}" "$bin/initdb" -N -A trust -U postgres -D "$dir/data" >"$dir/initdb.log" 2>&1 ||
            return 1
        cat >"$dir/data/pg_hba.conf" <<HBA
local all u_md5 md5
local all u_clear password
local all u_scram scram-sha-256
local all all trust
host all u_md5 127.0.0.1/32 md5
host all u_clear 127.0.0.1/32 password
host all u_scram 127.0.0.1/32 scram-sha-256
host all all 127.0.0.1/32 trust
HBA
        touch "$dir/roles-missing"
    fi
    _start POSTGRES "$dir" "$port" "$dir/postgres.log" "${as[@]}" "$bin/postgres" -D "$dir/data" \
        -p "$port" -c listen_addresses=127.0.0.1 -c unix_socket_directories="$dir" \
        -c fsync=off -c log_connections=on -c max_connections=200 || return 1
    local i
    for ((i = 0; i < 200; i++)); do # listening is not accepting sessions yet
        "$bin/pg_isready" -q -h "$dir" -p "$port" && break
        sleep 0.05
    done
    [[ -f $dir/roles-missing ]] || return 0
    "$bin/psql" -X -q -h "$dir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 <<'SQL' || { stop_postgres; return 1; }
SET password_encryption = 'md5';
CREATE ROLE u_trust LOGIN;
CREATE ROLE u_md5 LOGIN PASSWORD 'pw1';
CREATE ROLE u_clear LOGIN PASSWORD 'pw1';
SET password_encryption = 'scram-sha-256';
CREATE ROLE u_scram LOGIN PASSWORD 'pw1';
CREATE ROLE u_nologin NOLOGIN;
GRANT ALL ON SCHEMA public TO PUBLIC;
SQL
    rm -f "$dir/roles-missing"
}

# postgres_logins: the backends the server forked so far (its log's
# "connection authorized" lines).
postgres_logins() {
    grep -c 'connection authorized' "$PG_DIR/postgres.log" || true
}

# stop_postgres: a fast shutdown (SIGINT: sessions ended, no wait for
# clients), SIGKILL after 5 s.
stop_postgres() {
    local i
    [[ -n ${POSTGRES_PID:-} ]] || return 0
    kill -INT "$POSTGRES_PID" 2>/dev/null || return 0
    for ((i = 0; i < 100; i++)); do
        kill -0 "$POSTGRES_PID" 2>/dev/null || break
        sleep 0.05
    done
    kill -KILL "$POSTGRES_PID" 2>/dev/null || true
    wait "$POSTGRES_PID" 2>/dev/null || true
}

# start_mariadb DIR: a private MariaDB server (Debian's mariadbd) in DIR (a
# new directory every user can traverse, made by the caller), run as the
# mysql user (nobody without one) when root, listening on 127.0.0.1:PORT and
# on the Unix socket DIR/mysqld.sock, no TLS, skip-name-resolve. The data
# directory DIR/data is made once (mariadb-install-db) unless it is there (a
# copy of a template). MARIADB_WANT_PORT: that port (a restart). Accounts:
# root@localhost without a password (the Unix socket only: the tests'
# administrator); u_native (mysql_native_password, pw1), u_other (pw2) and
# u_ed (MariaDB's ed25519: the server switches the client to
# client_ed25519, pw3), each from localhost (the socket) and 127.0.0.1,
# with every right on databases db1 and db2 (table t, one row: 1 in db1, 2
# in db2). Sets MARIADB_PID, MARIADB_PORT, MARIADB_SOCK, MY_DIR.
# interactive_timeout differs from wait_timeout, so that a session of a
# client that says CLIENT_INTERACTIVE shows it; max_allowed_packet is 64M,
# so that a query or a row may span several 16 MB packets.
# MARIADB_EXTRA_ARGS (an array): more mariadbd options, last (e.g. a TLS
# certificate and key, which turn TLS on).
MARIADB_OPTS=(--innodb-log-file-size=4M --innodb-buffer-pool-size=32M
    --innodb-data-file-path=ibdata1:4M:autoextend)
MARIADB_EXTRA_ARGS=()
start_mariadb() { _retry _start_mariadb "$@"; }
_start_mariadb() {
    local dir=$1 port=${MARIADB_WANT_PORT:-} bin as=() u i
    bin=$(sbin mariadbd)
    [[ -x $bin ]] || return 1
    [[ -n $port ]] || port=$(free_port) || return 1
    if [[ $EUID == 0 ]]; then
        u=mysql
        id "$u" >/dev/null 2>&1 || u=nobody
        as=(--user="$u")
    fi
    MY_DIR=$dir
    MARIADB_SOCK=$dir/mysqld.sock
    mkdir -p "$dir"
    [[ $EUID == 0 ]] && chown "$u" "$dir" # the server writes its socket there
    if [[ ! -d $dir/data/mysql ]]; then
        mariadb-install-db --no-defaults --datadir="$dir/data" "${as[@]}" \
            --auth-root-authentication-method=normal --skip-test-db --skip-name-resolve \
            "${MARIADB_OPTS[@]}" >"$dir/install.log" 2>&1 || return 1
        touch "$dir/users-missing"
    fi
    _start MARIADB "$dir" "$port" "$dir/mariadb.log" "$bin" --no-defaults "${as[@]}" \
        --datadir="$dir/data" --socket="$MARIADB_SOCK" --port="$port" --bind-address=127.0.0.1 \
        --pid-file="$dir/mariadbd.pid" --skip-name-resolve --skip-ssl --skip-log-bin \
        --innodb-flush-log-at-trx-commit=0 --max-connections=500 --interactive-timeout=3600 \
        --max-allowed-packet=64M \
        "${MARIADB_OPTS[@]}" \
        "${MARIADB_EXTRA_ARGS[@]}" || return 1
    for ((i = 0; i < 200; i++)); do # listening is not accepting sessions yet
        mariadb_sql "SELECT 1" >/dev/null 2>&1 && break
        kill -0 "$MARIADB_PID" 2>/dev/null || return 1
        sleep 0.05
    done
    [[ -f $dir/users-missing ]] || return 0
    mariadb_sql "DELETE FROM mysql.global_priv WHERE User = 'root' AND Host <> 'localhost';
FLUSH PRIVILEGES;
CREATE DATABASE db1; CREATE DATABASE db2;
CREATE TABLE db1.t (x INT) ENGINE=InnoDB; INSERT INTO db1.t VALUES (1);
CREATE TABLE db2.t (x INT) ENGINE=InnoDB; INSERT INTO db2.t VALUES (2);
CREATE USER u_native@localhost IDENTIFIED VIA mysql_native_password USING PASSWORD('pw1');
CREATE USER u_native@'127.0.0.1' IDENTIFIED VIA mysql_native_password USING PASSWORD('pw1');
CREATE USER u_other@localhost IDENTIFIED VIA mysql_native_password USING PASSWORD('pw2');
CREATE USER u_other@'127.0.0.1' IDENTIFIED VIA mysql_native_password USING PASSWORD('pw2');
INSTALL SONAME 'auth_ed25519';
CREATE USER u_ed@localhost IDENTIFIED VIA ed25519 USING PASSWORD('pw3');
CREATE USER u_ed@'127.0.0.1' IDENTIFIED VIA ed25519 USING PASSWORD('pw3');
GRANT ALL ON db1.* TO u_native@localhost, u_native@'127.0.0.1', u_other@localhost, u_other@'127.0.0.1',
    u_ed@localhost, u_ed@'127.0.0.1';
GRANT ALL ON db2.* TO u_native@localhost, u_native@'127.0.0.1', u_other@localhost, u_other@'127.0.0.1',
    u_ed@localhost, u_ed@'127.0.0.1';" \
        >>"$dir/install.log" 2>&1 || { stop_mariadb; return 1; }
    rm -f "$dir/users-missing"
}

# mariadb_sql SQL: run SQL as root over the Unix socket with Debian's
# mariadb client, never under the preload; tab-separated rows, no header.
mariadb_sql() {
    env -u LD_PRELOAD mariadb --no-defaults --protocol=socket -S "$MARIADB_SOCK" -u root -N -B \
        -e "$1"
}

# mariadb_connections: the server's Connections counter (every connection
# attempt so far, this query's own included).
mariadb_connections() {
    mariadb_sql "SHOW GLOBAL STATUS LIKE 'Connections'" | awk '{print $2}'
}

# stop_mariadb: SIGTERM (the server ends every session and shuts down),
# SIGKILL after 10 s.
stop_mariadb() {
    local i
    [[ -n ${MARIADB_PID:-} ]] || return 0
    kill -TERM "$MARIADB_PID" 2>/dev/null || return 0
    for ((i = 0; i < 200; i++)); do
        kill -0 "$MARIADB_PID" 2>/dev/null || break
        sleep 0.05
    done
    kill -KILL "$MARIADB_PID" 2>/dev/null || true
    wait "$MARIADB_PID" 2>/dev/null || true
}
