#!/usr/bin/env bash
# bench/mysql.sh - MySQL/MariaDB, side by side in one run (make bench-mysql,
# and a table of make bench): wall microseconds per query of pymysql
#   1. connect + SELECT + close per query, without objpool
#   2. the same with objpool (proto=auto: detected as mysql)
#   3. the same with objpool and PAUSE_US (5000) between queries, not
#      timed: the reset objpool sends at park has its answer back before
#      the program connects again, as in a program that does other work
#      between queries
#   4. one persistent connection, SELECT only: the limit of any pool
# over three paths to a private MariaDB (Debian's; user u_native,
# mysql_native_password):
#   a. its Unix socket (and again with a nice 19 busy loop on each CPU, so
#      that the VM never halts one: waking one costs more than the round trip)
#   b. TCP loopback
#   c. TCP over a veth pair between two network namespaces (bench/netns.bash),
#      the server restarted in the server namespace, 1 ms added to every
#      packet the server namespace sends (so one round trip costs 1 ms more):
#      `tc qdisc ... netem delay 1ms` on the server's end of the pair, or,
#      on kernels built without netem, an NFQUEUE rule and bench/delayq.c
#      doing the same; the caption says which. Needs root; skipped otherwise.
# The row where round trips dominate is (c): a fresh connection costs the
# TCP handshake, the greeting, the login and pymysql's SET autocommit=0
# before the query; a reuse must cost at most one more. Its last column
# counts the round trips a row adds to the persistent one: (its us - the
# persistent row's us) / the pair's TCP connect us.
# Client pinned to CPU 1, server (and delayq) to CPU 0 when there are two
# CPUs. Cases run in turn PASSES times, each keeps its best pass. The last
# column is the server's Connections counter grown per query (the counter's
# own reads excluded): 1.00 without objpool, near 0 when the pool reuses.
# Prints a Markdown table, also written to $BUILD/bench/mysql.md.
set -u
cd "$(dirname "$0")/.." || exit 2
ROOT=$PWD
BUILD=${BUILD:-build}
LIB=${OBJPOOL_LIB:-$ROOT/$BUILD/libobjpool.so}
COUNT=${COUNT:-300}
PASSES=${PASSES:-3}
PAUSE_US=${PAUSE_US:-5000}
source bench/servers.bash
source bench/netns.bash
[[ -f $LIB ]] || { echo "bench-mysql: $LIB is not built (make)" >&2; exit 2; }
"$SYS_PY" -c 'import pymysql' 2>/dev/null || { echo "bench-mysql: no pymysql (python3-pymysql)" >&2; exit 2; }
declare -F start_mariadb >/dev/null || { echo "bench-mysql: bench/servers.bash has no start_mariadb" >&2; exit 2; }
PIN_C=() PIN_S=()
if command -v taskset >/dev/null 2>&1 && (($(nproc) >= 2)); then
    PIN_C=(taskset -c 1) PIN_S=(taskset -c 0)
fi
SERVER_WRAP="${PIN_S[*]}"
USER_ARGS=(--user u_native --password pw1 --database db1)

DIR=$(mktemp -d /tmp/objpool-my-bench.XXXXXX) || exit 2
chmod 0755 "$DIR"
NS_PID= DELAYQ_PID= SPIN=()
cleanup() {
    spin_stop
    [[ -n $DELAYQ_PID ]] && stop_server "$DELAYQ_PID"
    [[ -n $NS_PID ]] && stop_server "$NS_PID"
    stop_mariadb
    stop_servers
    netns_down
    rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_mariadb "$DIR/my" || { echo "bench-mysql: mariadb did not start" >&2; exit 1; }

# loop PREFIX... -- ARGS...: one pass of bench/my_loop.py; prints
# microseconds per query, or "fail" (also after 300 s: pymysql's defaults
# never time a read out).
loop() {
    local pre=() out
    while [[ $1 != -- ]]; do pre+=("$1"); shift; done
    shift
    out=$(timeout 300 "${pre[@]}" "${PIN_C[@]}" "$SYS_PY" bench/my_loop.py "${USER_ARGS[@]}" --count "$COUNT" "$@") ||
        { echo fail; return; }
    [[ $out == *" ok=$COUNT "* ]] || { echo fail; return; }
    echo $((${out##*elapsed_us=} / COUNT))
}

# connections: the server's Connections counter, read over its socket by a
# client that is not preloaded (the read itself counts one).
connections() { mariadb_connections; }

# bench_path COL POOL_URL PREFIX... -- TARGET_ARGS...: the rows of one
# path, PASSES times; sets BEST[row,COL] and CONN[row,COL].
ROWS=(0 1 2 3)
declare -A BEST CONN
bench_path() {
    local col=$1 url=$2 pre=() p i r c0 c1 grown=(0 0 0 0)
    shift 2
    while [[ $1 != -- ]]; do pre+=("$1"); shift; done
    shift
    local envs=(env LD_PRELOAD="$LIB" OBJPOOL_POOLS="$url" OBJPOOL_REPORT="$DIR/report.$col.%p.json"
        OBJPOOL_REPORT_FORMAT=json)
    for ((p = 0; p < PASSES; p++)); do
        for i in "${ROWS[@]}"; do
            c0=$(connections)
            case $i in
            0) r=$(loop "${pre[@]}" env -- "$@" --mode perop) ;;
            1) r=$(loop "${pre[@]}" "${envs[@]}" -- "$@" --mode perop) ;;
            2) r=$(loop "${pre[@]}" "${envs[@]}" -- "$@" --mode perop --pause-us "$PAUSE_US") ;;
            3) r=$(loop "${pre[@]}" env -- "$@" --mode persistent) ;;
            esac
            c1=$(connections)
            grown[i]=$((grown[i] + c1 - c0 - 1))
            local b=${BEST[$i,$col]:-}
            if [[ ! $r =~ ^[0-9]+$ ]]; then
                BEST[$i,$col]=$r
            elif [[ ! $b =~ ^[0-9]+$ || $r -lt $b ]]; then
                BEST[$i,$col]=$r
            fi
        done
    done
    for i in "${ROWS[@]}"; do
        CONN[$i,$col]=$("$SYS_PY" -c "print('%.3f' % (${grown[i]} / ($COUNT * $PASSES)))")
    done
}

# On a VM, waking a halted virtual CPU costs more than a Unix socket round
# trip: the "awake" column runs the Unix case again with a busy loop at
# nice 19 on each CPU, so that neither halts (the loops take what the
# client and the server leave idle).
spin_start() {
    local c
    ((${#PIN_C[@]})) || return 1
    for c in 0 1; do
        taskset -c "$c" nice -n 19 sh -c 'while :; do :; done' &
        SPIN+=($!)
    done
}
spin_stop() {
    local p
    for p in "${SPIN[@]}"; do
        kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
    done
    SPIN=()
}

bench_path unix "unix://$MARIADB_SOCK" -- --socket "$MARIADB_SOCK"
bench_path tcp "tcp://127.0.0.1:$MARIADB_PORT" -- --host 127.0.0.1 --port "$MARIADB_PORT"
if spin_start; then
    bench_path awake "unix://$MARIADB_SOCK" -- --socket "$MARIADB_SOCK"
    spin_stop
fi

# The network namespace pair: the same data directory served by a server
# started in the server namespace (port 3306: nothing else lives there).
NET_NOTE= RTT=-
net_up() {
    netns_up || { NET_NOTE="skipped: $NETNS_WHY"; return 1; }
    # widen the client's ephemeral ports (netns.bash keeps 1000): every
    # connection without objpool leaves one in TIME_WAIT for 60 s
    "$NETNS_IP" netns exec "$NETNS_C" sh -c 'echo "10000 60999" >/proc/sys/net/ipv4/ip_local_port_range'
    mariadb_sql "CREATE USER u_native@'$NETNS_CADDR' IDENTIFIED VIA mysql_native_password USING PASSWORD('pw1');
GRANT ALL ON db1.* TO u_native@'$NETNS_CADDR';" || { NET_NOTE="skipped: CREATE USER failed"; return 1; }
    stop_mariadb
    MARIADB_PID=
    local u=() i
    [[ $EUID == 0 ]] && { u=(--user=mysql); id mysql >/dev/null 2>&1 || u=(--user=nobody); }
    MARIADB_SOCK=$DIR/my/ns.sock
    "$NETNS_IP" netns exec "$NETNS_S" "${PIN_S[@]}" "$(sbin mariadbd)" --no-defaults "${u[@]}" \
        --datadir="$DIR/my/data" --socket="$MARIADB_SOCK" --port=3306 --bind-address="$NETNS_SADDR" \
        --pid-file="$DIR/my/ns.pid" --skip-name-resolve --skip-ssl --skip-log-bin \
        --innodb-flush-log-at-trx-commit=0 --max-connections=500 --max-connect-errors=1000000 \
        "${MARIADB_OPTS[@]}" >"$DIR/my/ns.log" 2>&1 3>&- </dev/null &
    NS_PID=$!
    for ((i = 0; i < 200; i++)); do
        mariadb_sql "SELECT 1" >/dev/null 2>&1 && break
        kill -0 "$NS_PID" 2>/dev/null || break
        sleep 0.05
    done
    mariadb_sql "SELECT 1" >/dev/null 2>&1 || { NET_NOTE="skipped: mariadbd did not start in the namespace"; return 1; }
    local dev=${NETNS_VETH}s err
    if err=$("$NETNS_IP" netns exec "$NETNS_S" tc qdisc add dev "$dev" root netem delay 1ms 2>&1); then
        NET_NOTE="1 ms added by tc netem on the server's end of the veth pair"
    elif [[ -x $BUILD/bench/delayq ]] && command -v iptables >/dev/null 2>&1; then
        rm -f "$DIR/delayq.ready"
        "$NETNS_IP" netns exec "$NETNS_S" "${PIN_S[@]}" "$BUILD/bench/delayq" --queue 29 --delay-us 1000 \
            --ready-file "$DIR/delayq.ready" >"$DIR/delayq.log" 2>&1 3>&- </dev/null &
        DELAYQ_PID=$!
        for ((i = 0; i < 100; i++)); do
            [[ -e $DIR/delayq.ready ]] && break
            sleep 0.05
        done
        [[ -e $DIR/delayq.ready ]] || { NET_NOTE="skipped: delayq: $(cat "$DIR/delayq.log")"; return 1; }
        "$NETNS_IP" netns exec "$NETNS_S" iptables -A OUTPUT -o "$dev" -j NFQUEUE --queue-num 29 ||
            { NET_NOTE="skipped: iptables NFQUEUE failed"; return 1; }
        NET_NOTE="1 ms added to every packet the server's namespace sends (this kernel has no netem: tc said \"${err//$'\n'/ }\"; an NFQUEUE rule and bench/delayq instead)"
    else
        NET_NOTE="skipped: no netem (${err//$'\n'/ }) and no iptables for bench/delayq"
        return 1
    fi
    RTT=$(netns_client "${PIN_C[@]}" "$SYS_PY" bench/my_loop.py --host "$NETNS_SADDR" --port 3306 \
        --user x --mode rtt) || RTT=-
}
if net_up; then
    bench_path net "tcp://$NETNS_SADDR:3306" "$NETNS_IP" netns exec "$NETNS_C" -- \
        --host "$NETNS_SADDR" --port 3306
fi

# objpool's own reports, summed: the pooled rows' hits and replays
REPORTS=$("$SYS_PY" - "$DIR" <<'PY'
import glob, json, sys
out = []
for col, name in (("unix", "Unix"), ("awake", "Unix awake"), ("tcp", "TCP"), ("net", "veth")):
    t = {"hits": 0, "acquired": 0, "replayed": 0}
    disc = {}
    for f in glob.glob("%s/report.%s.*.json" % (sys.argv[1], col)):
        for line in open(f):
            if not line.strip():
                continue
            for p in json.loads(line).get("pools", []):
                t["hits"] += p.get("hits", 0)
                t["acquired"] += p.get("acquired", 0)
                t["replayed"] += p.get("mysql", {}).get("replayed", 0)
                for k, v in p.get("discarded", {}).items():
                    if isinstance(v, int) and v:
                        disc[k] = disc.get(k, 0) + v
    if t["acquired"]:
        out.append("%s %d hits of %d, %d replayed%s" % (name, t["hits"], t["acquired"], t["replayed"],
                   "".join(", discarded %s %d" % kv for kv in sorted(disc.items()))))
print("; ".join(out) or "no report")
PY
)

cell() { [[ -n ${BEST[$1,$2]:-} ]] && echo "${BEST[$1,$2]}" || echo -; }
ratio() {
    local a=${BEST[0,net]:-} b=${BEST[$1,net]:-}
    [[ $a =~ ^[0-9]+$ && $b =~ ^[0-9]+$ ]] || { echo -; return; }
    "$SYS_PY" -c "print('%.2fx' % ($a / max(1, $b)))"
}
# round trips the row adds to the persistent one over the pair
trips() {
    local a=${BEST[$1,net]:-} b=${BEST[3,net]:-}
    [[ $a =~ ^[0-9]+$ && $b =~ ^[0-9]+$ && $RTT =~ ^[0-9]+$ ]] || { echo -; return; }
    "$SYS_PY" -c "print('%.1f' % (($a - $b) / max(1, $RTT)))"
}
names=("connect per query, without objpool" "connect per query, with objpool"
    "connect per query, with objpool, $((PAUSE_US / 1000)) ms between queries (not timed)" "one persistent connection")
mkdir -p "$BUILD/bench"
{
    echo "| pymysql, SELECT, $COUNT queries, best of $PASSES | Unix socket µs | Unix, CPUs kept awake µs | TCP loopback µs | veth +1 ms µs | veth: vs. without | Connections per query (Unix / TCP / veth) | veth: round trips beyond the persistent row |"
    echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
    for i in "${ROWS[@]}"; do
        echo "| ${names[$i]} | $(cell "$i" unix) | $(cell "$i" awake) | $(cell "$i" tcp) | $(cell "$i" net) | $(ratio "$i") |" \
            "${CONN[$i,unix]:--} / ${CONN[$i,tcp]:--} / ${CONN[$i,net]:--} | $(trips "$i") |"
    done
    echo
    echo "veth: $NET_NOTE; TCP connect (one round trip) over it: ${RTT} µs."
    echo "objpool's reports: $REPORTS."
} | tee "$BUILD/bench/mysql.md"
