# bench/netns.bash - the port-exhaustion setup, shared by bench/ports.sh
# (table 8's last row) and tests/conn/ports.bats: a client network namespace
# whose ephemeral port range holds 1000 ports, a server namespace, and a
# veth pair between them (198.18.0.1 client, 198.18.0.2 server; 198.18.0.0/15
# is the benchmarking range, RFC 2544). Names are unique per run; nothing is
# touched outside the two namespaces, and deleting them removes the pair.
#
#   netns_up            -> NETNS_C, NETNS_S (names), NETNS_SADDR; 1 with
#                          NETNS_WHY (the reason) when they cannot be made
#   netns_tagserver DIR -> NETNS_PORT, NETNS_SERVER_PID, NETNS_COUNT (a
#                          tagserver in the server namespace, port 0)
#   netns_client [VAR=value...] CMD...   runs CMD in the client namespace
#   netns_down          kills the server, deletes both namespaces (safe to
#                       call twice, or after a netns_up that failed half-way)
#
# The client closes first, so each closed connection leaves its 4-tuple in
# TIME_WAIT for 60 s; tcp_tw_reuse is off in the client namespace (veth is not
# loopback, so the default would not reuse them either): after about 1000
# connections to the one server address and port, connect() fails with
# EADDRNOTAVAIL.

NETNS_IP=$(command -v ip 2>/dev/null || echo /usr/sbin/ip)
NETNS_C= NETNS_S= NETNS_VETH= NETNS_SERVER_PID=
NETNS_SADDR=198.18.0.2
NETNS_CADDR=198.18.0.1
NETNS_PORTS="40000 40999"

netns_up() {
    NETNS_WHY=
    if [[ $(id -u) != 0 ]]; then
        NETNS_WHY="needs root to create network namespaces (ip netns add)"
        return 1
    fi
    if [[ ! -x $NETNS_IP ]]; then
        NETNS_WHY="ip (iproute2) is not installed"
        return 1
    fi
    local id
    id=$(printf '%x%04x' "$$" "$RANDOM")
    NETNS_C=objpool-c-$id NETNS_S=objpool-s-$id NETNS_VETH=op$id
    local err
    if ! err=$("$NETNS_IP" netns add "$NETNS_C" 2>&1); then
        NETNS_WHY="ip netns add failed: $err"
        NETNS_C=
        return 1
    fi
    if ! err=$(_netns_build 2>&1); then
        NETNS_WHY="setting up the namespaces failed: $err"
        return 1
    fi
}

# The server namespace, the veth pair, addresses, and the client's sysctls.
_netns_build() {
    set -e
    "$NETNS_IP" netns add "$NETNS_S"
    "$NETNS_IP" link add "${NETNS_VETH}c" type veth peer name "${NETNS_VETH}s"
    "$NETNS_IP" link set "${NETNS_VETH}c" netns "$NETNS_C"
    "$NETNS_IP" link set "${NETNS_VETH}s" netns "$NETNS_S"
    "$NETNS_IP" -n "$NETNS_C" addr add "$NETNS_CADDR/30" dev "${NETNS_VETH}c"
    "$NETNS_IP" -n "$NETNS_S" addr add "$NETNS_SADDR/30" dev "${NETNS_VETH}s"
    local ns
    for ns in "$NETNS_C" "$NETNS_S"; do
        "$NETNS_IP" -n "$ns" link set lo up
    done
    "$NETNS_IP" -n "$NETNS_C" link set "${NETNS_VETH}c" up
    "$NETNS_IP" -n "$NETNS_S" link set "${NETNS_VETH}s" up
    "$NETNS_IP" netns exec "$NETNS_C" sh -c "
        echo '$NETNS_PORTS' >/proc/sys/net/ipv4/ip_local_port_range &&
        echo 0 >/proc/sys/net/ipv4/tcp_tw_reuse"
    [[ $("$NETNS_IP" netns exec "$NETNS_C" cat /proc/sys/net/ipv4/ip_local_port_range) == "${NETNS_PORTS/ /$'\t'}" ]]
}

# netns_tagserver DIR [tagserver args...]: TOOLS must name the test tools.
netns_tagserver() {
    local dir=$1 i
    shift
    mkdir -p "$dir"
    NETNS_COUNT=$dir/count
    "$NETNS_IP" netns exec "$NETNS_S" "$TOOLS/tagserver" --host "$NETNS_SADDR" --port 0 \
        --port-file "$dir/port" --count-file "$NETNS_COUNT" "$@" >"$dir/log" 2>&1 3>&- </dev/null &
    NETNS_SERVER_PID=$!
    for ((i = 0; i < 100; i++)); do
        if [[ -s $dir/port ]]; then
            NETNS_PORT=$(<"$dir/port")
            return 0
        fi
        kill -0 "$NETNS_SERVER_PID" 2>/dev/null || break
        sleep 0.05
    done
    echo "tagserver in $NETNS_S did not start: $(cat "$dir/log")" >&2
    return 1
}

netns_client() {
    "$NETNS_IP" netns exec "$NETNS_C" env "$@"
}

netns_down() {
    local ns i pid=$NETNS_SERVER_PID
    if [[ -n $pid ]] && kill -TERM "$pid" 2>/dev/null; then
        for ((i = 0; i < 60; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.05
        done
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    fi
    NETNS_SERVER_PID=
    for ns in "$NETNS_C" "$NETNS_S"; do
        [[ -n $ns ]] && "$NETNS_IP" netns del "$ns" 2>/dev/null
    done
    # a pair made but not yet moved into the namespaces is still here
    [[ -n $NETNS_VETH ]] && "$NETNS_IP" link del "${NETNS_VETH}c" 2>/dev/null
    NETNS_C= NETNS_S= NETNS_VETH=
    return 0
}
