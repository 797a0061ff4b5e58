#!/usr/bin/env bash
# objpool benchmarks: `make bench` runs this.  Starts the servers (echod,
# nginx, HAProxy, redis-server, nutcracker, memcached) on free loopback
# ports in a temp dir, runs bench/bench.py (tables 1-9, one module each in
# bench/tables/, among them `make bench-files` as table 7 and bench/ports.sh's
# network namespaces in table 8; build/bench/results.json, chart).  Stops every server on exit.
# BENCH_RUNS=N (default 5) runs per contender.
set -u
cd "$(dirname "$0")/.." || exit 2
ROOT=$PWD
BUILD=${BUILD:-build}
MAKE=${MAKE:-make}
OUT="$ROOT/$BUILD/bench"
mkdir -p "$OUT"
source bench/servers.bash

DIR=$(mktemp -d "${TMPDIR:-/tmp}/objpool-bench.XXXXXX")
ECHOD_PID=
cleanup() {
    [[ -n $ECHOD_PID ]] && stop_server "$ECHOD_PID"
    stop_servers
    rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

need=(nginx redis-server haproxy nutcracker memcached valgrind taskset strace php)
for c in "${need[@]}"; do
    if ! command -v "$c" >/dev/null 2>&1 && [[ ! -x /usr/sbin/$c ]]; then
        echo "bench: $c is not installed; tables needing it will say so" >&2
    fi
done

# Servers start pinned to CPU 0; bench.py moves them (every thread) between
# CPU 0 and all CPUs for the pinned and unpinned halves.
SERVER_WRAP="taskset -c 0"

mkdir -p "$DIR/echod"
$SERVER_WRAP "$BUILD/bench/echod" --port-file "$DIR/echod/port" >"$DIR/echod/log" 2>&1 3>&- &
ECHOD_PID=$!
for ((i = 0; i < 100; i++)); do
    [[ -s $DIR/echod/port ]] && break
    sleep 0.05
done
ECHOD_PORT=$(<"$DIR/echod/port") || { echo "bench: echod did not start" >&2; exit 1; }

NGINX_PORT= HAPROXY_PORT= REDIS_PORT= NUTCRACKER_PORT= MEMCACHED_PORT=
NGINX_PID= HAPROXY_PID= REDIS_PID= NUTCRACKER_PID= MEMCACHED_PID=
# keepalive_requests: the ideal pool of table 8 keeps one connection for
# every request of every run
if start_nginx "$DIR/nginx" "keepalive_requests 1000000;"; then
    "$SYS_PY" tests/py/http_loop.py --gen-files "$DIR/nginx/www" --files 1
    start_haproxy "$DIR/haproxy" "$NGINX_PORT" || HAPROXY_PORT=
else
    NGINX_PORT=
fi
if start_redis "$DIR/redis"; then
    if command -v nutcracker >/dev/null 2>&1 || [[ -x /usr/sbin/nutcracker ]]; then
        start_nutcracker "$DIR/nutcracker" "$REDIS_PORT" || NUTCRACKER_PORT=
    fi
else
    REDIS_PORT=
fi
start_memcached "$DIR/memcached" || MEMCACHED_PORT=

export ROOT BUILD LIB="$ROOT/$BUILD/libobjpool.so" BENCH_OUT="$OUT" BENCH_DIR="$DIR" \
    ECHOD_PORT ECHOD_PID NGINX_PORT NGINX_PID HAPROXY_PORT HAPROXY_PID \
    REDIS_PORT REDIS_PID NUTCRACKER_PORT NUTCRACKER_PID MEMCACHED_PORT MEMCACHED_PID MAKE
"$SYS_PY" bench/bench.py
rc=$?
# HTTPS per request, side by side (the trust-store pool): its own nginx, CAs
bench/tls.sh || echo "bench: bench/tls.sh failed" >&2
# PostgreSQL (its own servers: a private cluster and PgBouncer)
BUILD="$BUILD" bench/postgres.sh || echo "bench: the PostgreSQL table failed" >&2
# MySQL/MariaDB (its own private server; a network namespace pair as root)
BUILD="$BUILD" bench/mysql.sh || echo "bench: the MySQL table failed" >&2
# The Node table (bench/node.py): per-op Node redis clients, and syscall()'s
# cost for everyone else.
"$SYS_PY" bench/node.py || echo "bench: the Node table failed" >&2
# the goodbye table (urllib.request per request against one kept-alive
# connection), a module of its own
"$SYS_PY" bench/goodbye.py || rc=1
# php-memcached per op (new Memcached(), quit and half-close at destruction)
# without and with objpool against new Memcached('persistent_id')
"$SYS_PY" bench/phpmemc.py || echo "bench: the php-memcached table failed" >&2
exit "$rc"
