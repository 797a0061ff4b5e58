#!/usr/bin/env bash
# make demo: the main job, on the test server that ships in this repo (no
# server to install). A legacy client that opens a new TCP connection per
# request runs 2000 cycles without and with objpool; we print both wall
# times, how many connections the server accepted each time, and the report.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$here/build}
cycles=${CYCLES:-2000}
tmp=$(mktemp -d)
server_pid=
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

start_server() {
    rm -f "$tmp/port" "$tmp/count"
    "$build/tests/tagserver" --port 0 --port-file "$tmp/port" --count-file "$tmp/count" &
    server_pid=$!
    for _ in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
    port=$(cat "$tmp/port")
}
stop_server() {
    kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=
}
now() { date +%s.%N; }

echo "objpool demo: $cycles request/reply cycles, a new connection per request"
echo

start_server
t0=$(now)
"$build/tests/tagclient" --port "$port" --cycles "$cycles" >"$tmp/plain.out"
t1=$(now)
plain_accepts=$(cat "$tmp/count")
stop_server

start_server
t2=$(now)
LD_PRELOAD="$build/libobjpool.so${LD_PRELOAD:+:$LD_PRELOAD}" \
OBJPOOL_POOLS="tcp://127.0.0.1:$port?proto=line" OBJPOOL_REPORT="$tmp/report.txt" \
    "$build/tests/tagclient" --port "$port" --cycles "$cycles" >"$tmp/pooled.out"
t3=$(now)
pooled_accepts=$(cat "$tmp/count")
stop_server

awk -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" -v pa="$plain_accepts" -v qa="$pooled_accepts" 'BEGIN {
    plain = b - a; pooled = d - c
    printf "  %-16s %9s %12s\n", "", "wall time", "connections"
    printf "  %-16s %8.3fs %12d\n", "without objpool", plain, pa
    printf "  %-16s %8.3fs %12d\n", "with objpool", pooled, qa
    printf "\n  %.1fx faster, %d connections instead of %d\n", plain / pooled, qa, pa
}'
echo
echo "client output without: $(cat "$tmp/plain.out")"
echo "client output with:    $(cat "$tmp/pooled.out")"
echo
echo "objpool's exit report (OBJPOOL_REPORT; stderr by default):"
cat "$tmp/report.txt"
