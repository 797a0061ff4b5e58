#!/usr/bin/env bash
# bench/tls.sh - HTTPS per request, side by side (`make bench-tls`; also run
# by `make bench` after its tables): nginx with a certificate of a CA made
# here (bench/tls_pki.bash), the clients verifying against the system bundle
# plus that CA, as a program that names its bundle does.
#
#   requests.get per request, without objpool   a new context and bundle parse each
#   requests.get per request, with objpool      tls-ca:// the bundle: parsed once
#   ... and resume=on                            sessions resumed too (TLS 1.3, 1.2)
#   one requests.Session                        the reference: one context, kept-alive
#   Ruby net/http, Perl IO::Socket::SSL         per request, without and with
#   curl, one request per process               without and with (unaffected)
#
# Pinned: nginx on CPU 0, the client on CPU 1. Each cell is the best of
# BENCH_RUNS (default 3) runs of BENCH_TLS_N (default 40) requests; per
# request in ms. Writes $BUILD/bench/tls.json too.
set -u
cd "$(dirname "$0")/.." || exit 2
ROOT=$PWD
BUILD=${BUILD:-build}
LIB="$ROOT/$BUILD/libobjpool.so"
RUNS=${BENCH_RUNS:-3}
N=${BENCH_TLS_N:-40}
OUT="$ROOT/$BUILD/bench"
mkdir -p "$OUT"
source bench/servers.bash
source bench/tls_pki.bash

DIR=$(mktemp -d "${TMPDIR:-/tmp}/objpool-bench-tls.XXXXXX")
trap 'stop_servers; rm -rf "$DIR"' EXIT
trap 'exit 130' INT TERM

for c in nginx openssl taskset; do
    command -v "$c" >/dev/null 2>&1 || [[ -x /usr/sbin/$c ]] || { echo "bench-tls: $c is not installed" >&2; exit 1; }
done
make_tls_pki "$DIR" || { echo "bench-tls: openssl could not make the CAs" >&2; exit 1; }
SERVER_WRAP="taskset -c 0"
start_nginx_tls "$DIR" || { echo "bench-tls: nginx did not start" >&2; exit 1; }
URL="https://localhost:$TLS_GOOD_PORT/"
CA="tls-ca://$DIR/bundle.pem"
CPU="taskset -c 1"

# best SECS-per-request (ms) of RUNS runs of CMD (its summary line has
# ok=N and secs=S); "failed" if a run did not get N answers.
best() {
    local n=$1 best="" out ok secs ms i
    shift
    for ((i = 0; i < RUNS; i++)); do
        out=$(OBJPOOL_REPORT=none "$@" 2>/dev/null | tail -n 1)
        ok=$(grep -o 'ok=[0-9]*' <<<"$out" | cut -d= -f2)
        secs=$(grep -o 'secs=[0-9.]*' <<<"$out" | cut -d= -f2)
        [[ $ok == "$n" && -n $secs ]] || { echo failed; return; }
        ms=$(awk -v s="$secs" -v n="$n" 'BEGIN { printf "%.3f", s * 1000 / n }')
        if [[ -z $best ]] || awk -v a="$ms" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$ms; fi
    done
    echo "$best"
}

# curl: one process per request, timed here.
curl_loop() {
    local t0 t1 i ok=0
    t0=$(date +%s.%N)
    for ((i = 0; i < N; i++)); do
        "$@" curl -s --cacert "$DIR/bundle.pem" "$URL" | grep -q '^ok$' && ok=$((ok + 1))
    done
    t1=$(date +%s.%N)
    echo "ok=$ok secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')"
}

PRE=(env LD_PRELOAD="$LIB" OBJPOOL_POOLS="$CA")
PY_CLIENT=(/usr/bin/python3 tests/py/tls_client.py)
declare -A R
R[py_without]=$(best "$N" $CPU "${PY_CLIENT[@]}" requests "$URL" "$DIR/bundle.pem" "$N")
R[py_with]=$(best "$N" "${PRE[@]}" $CPU "${PY_CLIENT[@]}" requests "$URL" "$DIR/bundle.pem" "$N")
R[py_resume]=$(best "$N" env LD_PRELOAD="$LIB" OBJPOOL_POOLS="$CA?resume=on" $CPU "${PY_CLIENT[@]}" requests "$URL" "$DIR/bundle.pem" "$N")
R[py_without12]=$(best "$N" $CPU "${PY_CLIENT[@]}" requests "https://localhost:$TLS_GOOD12_PORT/" "$DIR/bundle.pem" "$N")
R[py_resume12]=$(best "$N" env LD_PRELOAD="$LIB" OBJPOOL_POOLS="$CA?resume=on" $CPU "${PY_CLIENT[@]}" requests "https://localhost:$TLS_GOOD12_PORT/" "$DIR/bundle.pem" "$N")
R[py_session]=$(best "$N" $CPU "${PY_CLIENT[@]}" session "$URL" "$DIR/bundle.pem" "$N")
if command -v ruby >/dev/null; then
    R[rb_without]=$(best "$N" $CPU ruby tests/tls_clients.rb localhost "$TLS_GOOD_PORT" "$DIR/bundle.pem" "$N")
    R[rb_with]=$(best "$N" "${PRE[@]}" $CPU ruby tests/tls_clients.rb localhost "$TLS_GOOD_PORT" "$DIR/bundle.pem" "$N")
fi
if perl -MIO::Socket::SSL -e 1 2>/dev/null; then
    R[pl_without]=$(best "$N" $CPU perl tests/tls_clients.pl 127.0.0.1 "$TLS_GOOD_PORT" "$DIR/bundle.pem" "$N")
    R[pl_with]=$(best "$N" "${PRE[@]}" $CPU perl tests/tls_clients.pl 127.0.0.1 "$TLS_GOOD_PORT" "$DIR/bundle.pem" "$N")
fi
if command -v curl >/dev/null; then
    R[curl_without]=$(best "$N" curl_loop $CPU)
    R[curl_with]=$(best "$N" curl_loop "${PRE[@]}" $CPU)
fi

ratio() { awk -v a="${1:-}" -v b="${2:-}" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.1fx", a / b; else print "-" }'; }
echo
echo "== HTTPS per request, verified, ECDSA P-256 (bench/tls.sh; nginx on CPU 0, client on CPU 1; ms per request, best of $RUNS x $N) =="
printf '%-38s %12s %12s %12s\n' "client (TLS 1.3 unless said)" "without" "objpool" "speed-up"
printf '%-38s %12s %12s %12s\n' "Python requests.get per request" "${R[py_without]}" "${R[py_with]}" "$(ratio "${R[py_without]}" "${R[py_with]}")"
printf '%-38s %12s %12s %12s\n' "  ... tls-ca resume=on (TLS 1.3)" "${R[py_without]}" "${R[py_resume]}" "$(ratio "${R[py_without]}" "${R[py_resume]}")"
printf '%-38s %12s %12s %12s\n' "  ... tls-ca resume=on (TLS 1.2)" "${R[py_without12]}" "${R[py_resume12]}" "$(ratio "${R[py_without12]}" "${R[py_resume12]}")"
printf '%-38s %12s %12s %12s\n' "Python one requests.Session (ref.)" "${R[py_session]}" "-" "-"
printf '%-38s %12s %12s %12s\n' "Ruby net/http per request" "${R[rb_without]:--}" "${R[rb_with]:--}" "$(ratio "${R[rb_without]:-}" "${R[rb_with]:-}")"
printf '%-38s %12s %12s %12s\n' "Perl IO::Socket::SSL per request" "${R[pl_without]:--}" "${R[pl_with]:--}" "$(ratio "${R[pl_without]:-}" "${R[pl_with]:-}")"
printf '%-38s %12s %12s %12s\n' "curl, one request per process" "${R[curl_without]:--}" "${R[curl_with]:--}" "$(ratio "${R[curl_without]:-}" "${R[curl_with]:-}")"
speed=$(awk -v a="${R[py_without]}" -v b="${R[py_with]}" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) print a / b; else print 0 }')
verdict=$(awk -v s="$speed" 'BEGIN { print (s >= 5 ? "met" : "NOT met") }')
echo "target: requests.get per request with objpool (tls-ca, TLS 1.3) at least 5x faster than without: $verdict ($(ratio "${R[py_without]}" "${R[py_with]}"))"
{
    printf '{"table":"tls","unit":"ms per request","runs":%d,"requests":%d' "$RUNS" "$N"
    for k in "${!R[@]}"; do printf ',"%s":"%s"' "$k" "${R[$k]}"; done
    printf ',"target":"requests.get speed-up >= 5","result":"%s"}\n' "$verdict"
} >"$OUT/tls.json"
