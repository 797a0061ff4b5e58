#!/usr/bin/env bash
# bench/ports.sh - the port-exhaustion row of bench.py's table 8: REQUESTS
# (default 5000) requests, each on a new connection (tests/tools/tagclient,
# SO_LINGER off: the client's close leaves TIME_WAIT), from a client network
# namespace with a 1000-port ephemeral range to a tagserver in a server
# namespace (bench/netns.bash), once without objpool and once with it
# (OBJPOOL_POOLS=tcp://198.18.0.2:PORT?proto=line), each in namespaces of its
# own. Client and server pinned to CPU 0.
#
# Prints one line per case:
#   case=without ok=N errors=N accepts=N us=N error="first error message"
#   case=objpool ok=N errors=N accepts=N us=N error=""
# or "skipped=REASON" (exit 0) when the namespaces cannot be made.
set -u
cd "$(dirname "$0")/.." || exit 2
BUILD=${BUILD:-build}
LIB=${LIB:-$PWD/$BUILD/libobjpool.so}
TOOLS=${TOOLS:-$PWD/$BUILD/tests}
REQUESTS=${REQUESTS:-5000}
source bench/netns.bash

DIR=$(mktemp -d "${TMPDIR:-/tmp}/objpool-ports.XXXXXX") || exit 2
trap 'netns_down; rm -rf "$DIR"' EXIT
trap 'exit 130' INT TERM

one() { # case
    local name=$1 pre=()
    netns_up || { echo "skipped=$NETNS_WHY"; exit 0; }
    netns_tagserver "$DIR/$name" || exit 1
    [[ $name == objpool ]] && pre=(LD_PRELOAD="$LIB" OBJPOOL_POOLS="tcp://$NETNS_SADDR:$NETNS_PORT?proto=line"
        OBJPOOL_REPORT=none)
    local t0 t1 out
    t0=$(date +%s%N)
    out=$(netns_client "${pre[@]}" taskset -c 0 "$TOOLS/tagclient" --host "$NETNS_SADDR" \
        --port "$NETNS_PORT" --cycles "$REQUESTS" --allow-errors 2>"$DIR/$name.err")
    t1=$(date +%s%N)
    local ok errors first
    ok=$(grep -o '\bok=[0-9]*' <<<"$out" | cut -d= -f2)
    errors=$(grep -o '\berrors=[0-9]*' <<<"$out" | cut -d= -f2)
    first=$(grep -m1 '^ERROR' "$DIR/$name.err" | sed 's/^ERROR [^:]*: //; s/"//g')
    sleep 0.1 # the server's last accept
    printf 'case=%s ok=%s errors=%s accepts=%s us=%d error="%s"\n' "$name" "${ok:-0}" \
        "${errors:-0}" "$(<"$NETNS_COUNT")" $(((t1 - t0) / 1000)) "$first"
    netns_down
}

taskset -p -c 0 $$ >/dev/null # the server inherits it
one without
one objpool
