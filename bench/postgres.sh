#!/usr/bin/env bash
# bench/postgres.sh - PostgreSQL, side by side in one run (make bench-postgres,
# and the last table of make bench): wall microseconds per
# psycopg2 connect + SELECT + close, over TCP to a private cluster:
#   1. without objpool
#   2. with objpool (proto=auto: detected as postgres)
#   3. through PgBouncer (Debian's package; session pooling, its own
#      connect per query from the client, its server connections kept)
#   4. one persistent connection, SELECT only: the limit of any pool
# Client pinned to CPU 1, servers to CPU 0 (taskset) when there are two
# CPUs. The cases run in turn PASSES times, each keeps its best pass.
# Prints a Markdown table, also written to $BUILD/bench/postgres.md.
#
# objpool keeps the session and replays its start-up (README, PostgreSQL):
# it must beat PgBouncer, which adds a hop objpool does not.
set -u
cd "$(dirname "$0")/.." || exit 2
ROOT=$PWD
BUILD=${BUILD:-build}
LIB=${OBJPOOL_LIB:-$ROOT/$BUILD/libobjpool.so}
COUNT=${COUNT:-300}
PASSES=${PASSES:-3}
source bench/servers.bash
[[ -f $LIB ]] || { echo "bench-postgres: $LIB is not built (make)" >&2; exit 2; }
"$SYS_PY" -c 'import psycopg2' 2>/dev/null || { echo "bench-postgres: no psycopg2" >&2; exit 2; }
PIN_C=() PIN_S=()
if command -v taskset >/dev/null 2>&1 && (($(nproc) >= 2)); then
    PIN_C=(taskset -c 1) PIN_S=(taskset -c 0)
fi
SERVER_WRAP="${PIN_S[*]}"

DIR=$(mktemp -d /tmp/objpool-pg-bench.XXXXXX) || exit 2
chmod 0755 "$DIR"
cleanup() {
    stop_postgres
    stop_servers
    rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_postgres "$DIR/pg" || { echo "bench-postgres: postgres did not start" >&2; exit 1; }

BOUNCER_PORT=
if command -v pgbouncer >/dev/null 2>&1 || [[ -x /usr/sbin/pgbouncer ]]; then
    mkdir -p "$DIR/bouncer"
    BOUNCER_PORT=$(free_port)
    cat >"$DIR/bouncer/pgbouncer.ini" <<INI
[databases]
postgres = host=127.0.0.1 port=$POSTGRES_PORT dbname=postgres
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BOUNCER_PORT
unix_socket_dir =
auth_type = trust
auth_file = $DIR/bouncer/users.txt
pool_mode = session
max_client_conn = 100
default_pool_size = 4
logfile = $DIR/bouncer/pgbouncer.log
INI
    echo '"u_trust" ""' >"$DIR/bouncer/users.txt"
    as=()
    if [[ $EUID == 0 ]]; then
        chown -R postgres "$DIR/bouncer" 2>/dev/null || chown -R nobody "$DIR/bouncer"
        u=$(stat -c %U "$DIR/bouncer")
        as=(setpriv --reuid="$u" --regid="$(id -g "$u")" --clear-groups --)
    fi
    _start BOUNCER "$DIR/bouncer" "$BOUNCER_PORT" "$DIR/bouncer/out.log" \
        "${as[@]}" "$(sbin pgbouncer)" "$DIR/bouncer/pgbouncer.ini" || BOUNCER_PORT=
fi

DSN="host=127.0.0.1 dbname=postgres user=u_trust"
# run NAME PORT MODE [env...]: one pass; prints microseconds per operation.
run() {
    local port=$1 mode=$2 out
    shift 2
    out=$(env "$@" "${PIN_C[@]}" "$SYS_PY" tests/py/pg_loop.py --dsn "$DSN port=$port" \
        --count "$COUNT" --mode "$mode") || { echo fail; return; }
    local us=${out##*elapsed_us=}
    [[ $out == *" ok=$COUNT "* ]] || { echo fail; return; }
    echo $((us / COUNT))
}

names=("without objpool" "with objpool" "through PgBouncer" "one persistent connection")
declare -a best=(0 0 0 0)
for ((p = 0; p < PASSES; p++)); do
    r=()
    r[0]=$(run "$POSTGRES_PORT" perop)
    r[1]=$(run "$POSTGRES_PORT" perop LD_PRELOAD="$LIB" OBJPOOL_POOLS="tcp://127.0.0.1:$POSTGRES_PORT" OBJPOOL_REPORT=none)
    r[2]=-
    [[ -n $BOUNCER_PORT ]] && r[2]=$(run "$BOUNCER_PORT" perop)
    r[3]=$(run "$POSTGRES_PORT" reused)
    for i in 0 1 2 3; do
        [[ ${r[$i]} =~ ^[0-9]+$ ]] || { best[$i]=${r[$i]}; continue; }
        [[ ${best[$i]} =~ ^[0-9]+$ && ${best[$i]} != 0 && ${best[$i]} -le ${r[$i]} ]] || best[$i]=${r[$i]}
    done
done

mkdir -p "$BUILD/bench"
{
    echo "| psycopg2, TCP, trust, $COUNT operations, best of $PASSES | µs per operation | vs. without |"
    echo "| --- | --- | --- |"
    for i in 0 1 2 3; do
        ratio=-
        [[ ${best[$i]} =~ ^[0-9]+$ && ${best[0]} =~ ^[0-9]+$ ]] &&
            ratio=$("$SYS_PY" -c "print('%.2f' % (${best[0]} / max(1, ${best[$i]})))")
        echo "| ${names[$i]} | ${best[$i]} | ${ratio}x |"
    done
} | tee "$BUILD/bench/postgres.md"
