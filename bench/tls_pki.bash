# bench/tls_pki.bash - the TLS fixtures tests/tls/trust_store.bats and bench/tls.sh share:
# certificate authorities made with openssl, and nginx serving HTTPS with
# their certificates.  Sourced after bench/servers.bash.
#
#   make_tls_pki DIR   DIR/ca1.pem, DIR/ca2.pem (two CAs, keys beside them);
#                      DIR/good.pem (CA 1, for localhost and 127.0.0.1),
#                      DIR/wrong.pem (CA 1, for wrong.example only),
#                      DIR/private.pem (CA 2, for localhost and 127.0.0.1);
#                      DIR/bundle.pem = the system bundle + CA 1,
#                      DIR/system.pem = the system bundle alone (no CA 1)
#   make_tls_crls DIR  DIR/crl-ok.pem = bundle + CA 1's empty CRL,
#                      DIR/crl-revoked.pem = bundle + a CRL revoking good.pem
#   start_nginx_tls DIR   nginx with one HTTPS server per certificate (TLS
#                      1.2 and 1.3, tickets and a session cache):
#                      TLS_GOOD_PORT, TLS_WRONG_PORT, TLS_PRIVATE_PORT, and
#                      TLS_GOOD12_PORT (good.pem, TLS 1.2 only)
#                      (each answers "ok" to any GET), logging
#                      "PORT PROTOCOL REUSED" (r: a resumed session, .: a
#                      full handshake) per request to DIR/tls.log

TLS_SYSTEM_BUNDLE=${TLS_SYSTEM_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}

_tls_ca() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$1/$2.key" -out "$1/$2.pem" -subj "/CN=objpool test $2" -days 3 \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
        >/dev/null 2>&1
}

# _tls_leaf DIR NAME CA SAN
_tls_leaf() {
    local d=$1
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$d/$2.key" -out "$d/$2.csr" -subj "/CN=objpool test $2" >/dev/null 2>&1 || return 1
    printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$4" >"$d/$2.ext"
    openssl x509 -req -in "$d/$2.csr" -CA "$d/$3.pem" -CAkey "$d/$3.key" -CAcreateserial \
        -out "$d/$2.pem" -days 2 -extfile "$d/$2.ext" >/dev/null 2>&1
}

make_tls_pki() {
    local d=$1
    mkdir -p "$d"
    _tls_ca "$d" ca1 && _tls_ca "$d" ca2 &&
        _tls_leaf "$d" good ca1 "DNS:localhost,IP:127.0.0.1" &&
        _tls_leaf "$d" wrong ca1 "DNS:wrong.example" &&
        _tls_leaf "$d" private ca2 "DNS:localhost,IP:127.0.0.1" || return 1
    cat "$TLS_SYSTEM_BUNDLE" >"$d/system.pem" 2>/dev/null || : >"$d/system.pem"
    cat "$d/system.pem" "$d/ca1.pem" >"$d/bundle.pem"
}

make_tls_crls() {
    local d=$1
    : >"$d/index.txt"
    echo 01 >"$d/crlnumber"
    printf '[ca]\ndefault_ca = ca1\n[ca1]\ndatabase = %s/index.txt\ncrlnumber = %s/crlnumber\ndefault_md = sha256\ndefault_crl_days = 2\n' \
        "$d" "$d" >"$d/ca.cnf"
    openssl ca -batch -config "$d/ca.cnf" -keyfile "$d/ca1.key" -cert "$d/ca1.pem" -gencrl \
        -out "$d/empty.crl" >/dev/null 2>&1 &&
        openssl ca -batch -config "$d/ca.cnf" -keyfile "$d/ca1.key" -cert "$d/ca1.pem" \
            -revoke "$d/good.pem" >/dev/null 2>&1 &&
        openssl ca -batch -config "$d/ca.cnf" -keyfile "$d/ca1.key" -cert "$d/ca1.pem" -gencrl \
            -out "$d/revoked.crl" >/dev/null 2>&1 || return 1
    cat "$d/bundle.pem" "$d/empty.crl" >"$d/crl-ok.pem"
    cat "$d/bundle.pem" "$d/revoked.crl" >"$d/crl-revoked.pem"
}

start_nginx_tls() {
    local d=$1 srv="log_format tls '\$server_port \$ssl_protocol \$ssl_session_reused';
        " name port
    TLS_GOOD_PORT=$(free_port) || return 1
    TLS_WRONG_PORT=$(free_port) || return 1
    TLS_PRIVATE_PORT=$(free_port) || return 1
    TLS_GOOD12_PORT=$(free_port) || return 1
    for name in good wrong private good12; do
        local protocols="TLSv1.2 TLSv1.3" cert=$name
        case $name in
        good) port=$TLS_GOOD_PORT ;;
        wrong) port=$TLS_WRONG_PORT ;;
        private) port=$TLS_PRIVATE_PORT ;;
        good12) port=$TLS_GOOD12_PORT protocols=TLSv1.2 cert=good ;;
        esac
        srv+="server { listen 127.0.0.1:$port ssl; ssl_certificate $d/$cert.pem; ssl_protocols $protocols;
            ssl_session_cache shared:tls$port:1m;
            ssl_certificate_key $d/$cert.key; access_log $d/tls.log tls;
            location / { return 200 \"ok\\n\"; } }
        "
    done
    start_nginx "$d/nginx" "$srv" || return 1
    for port in "$TLS_GOOD_PORT" "$TLS_WRONG_PORT" "$TLS_PRIVATE_PORT" "$TLS_GOOD12_PORT"; do
        wait_port "$port" "$NGINX_PID" "$d/nginx/error.log" || return 1
    done
}
