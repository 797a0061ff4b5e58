#!/usr/bin/env bats
# the trust-store pool (`tls-ca://`) against nginx with CAs made by openssl:
# requests.get per request opens and parses the bundle once (strace), every
# request verified; wrong-host and unknown-CA certificates fail every time;
# a bundle renamed over or rewritten in place decides the next handshake;
# one context's private CA never trusted by another; CRLs; default paths;
# Ruby net/http, Perl IO::Socket::SSL, curl unchanged; threads; `resume=on`:
# TLS 1.3 and 1.2 sessions resumed (nginx's `$ssl_session_reused`), a wrong
# host at the same address fails between resumed connections, a CA removed
# from the bundle stops resumption, a verify callback or a client
# certificate never resumes, TCP_NODELAY on resumed sockets
#
# The trust-store pool (tls-ca:// targets, preload/tls/): a CA bundle parsed
# once per process, its certificates given to every context that loads it
# again; nginx serves HTTPS with certificates of CAs made here with openssl
# (bench/tls_pki.bash). Every client verifies the peer and its host name.

load ../helpers
source "$REPO_ROOT/bench/tls_pki.bash"

setup() {
    require_lib
    require_cmd openssl
    require_cmd nginx
    D="$BATS_TEST_TMPDIR/pki"
    make_tls_pki "$D" || fail "could not make the test CAs with openssl"
    start_nginx_tls "$D" || fail "nginx did not start with TLS"
    CA="tls-ca://$D/bundle.pem"
    GOOD="https://localhost:$TLS_GOOD_PORT/"
    CLIENT="$REPO_ROOT/tests/py/tls_client.py"
}

# field NAME: a NAME=value of the client's summary line in $output.
field() { printf '%s\n' "$output" | grep -o "\b$1=[^ ]*" | tail -n 1 | cut -d= -f2; }

@test "tls-ca: requests.get per request: the CA bundle is opened and parsed once, every request verified" {
    require_py requests
    require_cmd strace
    local trace="$BATS_TEST_TMPDIR/trace"
    run_pooled "$CA" strace -f -qq -e trace=open,openat -o "$trace" \
        "$OBJPOOL_PY" "$CLIENT" requests "$GOOD" "$D/bundle.pem" 12
    assert_equal "$status" 0
    assert_equal "$(field ok)" 12
    assert_equal "$(json_field "$REPORT" "$CA" misses)" 1
    assert_equal "$(json_field "$REPORT" "$CA" hits)" 11
    assert_equal "$(grep -c "\"$D/bundle.pem\"" "$trace")" 1
    # without objpool: one open (one parse) per request
    run_plain strace -f -qq -e trace=open,openat -o "$trace.plain" \
        "$OBJPOOL_PY" "$CLIENT" requests "$GOOD" "$D/bundle.pem" 3
    assert_equal "$(grep -c "\"$D/bundle.pem\"" "$trace.plain")" 3
}

@test "tls-ca: a certificate for the wrong host fails every time, with the bundle reused" {
    require_py requests
    run_pooled "$CA" "$OBJPOOL_PY" "$CLIENT" requests "https://localhost:$TLS_WRONG_PORT/" "$D/bundle.pem" 8
    assert_equal "$(field ok)" 0
    assert_equal "$(field hostname_failed)" 8
    assert_equal "$(json_field "$REPORT" "$CA" hits)" 7
    # and a certificate of a CA the bundle does not hold fails too
    run_pooled "$CA" "$OBJPOOL_PY" "$CLIENT" requests "https://localhost:$TLS_PRIVATE_PORT/" "$D/bundle.pem" 4
    assert_equal "$(field ok)" 0
    assert_equal "$(field verify_failed)" 4
    assert_equal "$(json_field "$REPORT" "$CA" hits)" 3
}

@test "tls-ca: a bundle replaced on disk (renamed over, then rewritten in place) is read again and decides" {
    require_py requests
    cp "$D/bundle.pem" "$D/live.pem"
    run_pooled "tls-ca://$D/live.pem" "$OBJPOOL_PY" "$CLIENT" replaced "$GOOD" "$D/live.pem" \
        "$D/bundle.pem" "$D/system.pem"
    # with CA 1, without it (the server's CA gone: refused), with it again
    assert_equal "$(field steps)" "ok,failed,ok"
    assert_equal "$(json_field "$REPORT" "tls-ca://$D/live.pem" misses)" 3
    assert_equal "$(json_field "$REPORT" "tls-ca://$D/live.pem" discarded.changed_on_disk)" 2
}

@test "tls-ca: a context that adds a private CA does not make another context trust it" {
    run_pooled "$CA" "$OBJPOOL_PY" "$CLIENT" isolation "$TLS_PRIVATE_PORT" "$D/bundle.pem" "$D/ca2.pem"
    # context 1 (bundle + CA 2) connects; contexts 2 and 3 (bundle) do not
    assert_equal "$(field steps)" "ok,failed,failed"
    assert_equal "$(json_field "$REPORT" "$CA" hits)" 2
}

@test "tls-ca: the CRLs of a bundle come with its parse: a revoked certificate fails every time, a clean CRL passes" {
    make_tls_crls "$D" || fail "openssl ca could not make the CRLs"
    run_pooled "tls-ca://$D/crl-ok.pem" "$OBJPOOL_PY" "$CLIENT" crl "$TLS_GOOD_PORT" "$D/crl-ok.pem" 4
    assert_equal "$(field ok)" 4
    assert_equal "$(json_field "$REPORT" "tls-ca://$D/crl-ok.pem" hits)" 3
    run_pooled "tls-ca://$D/crl-revoked.pem" "$OBJPOOL_PY" "$CLIENT" crl "$TLS_GOOD_PORT" "$D/crl-revoked.pem" 4
    assert_equal "$(field verify_failed)" 4
    assert_equal "$(json_field "$REPORT" "tls-ca://$D/crl-revoked.pem" hits)" 3
}

@test "tls-ca: the default paths (SSL_CERT_FILE, ssl.create_default_context) are served too" {
    run_pooled "$CA" SSL_CERT_FILE="$D/bundle.pem" "$OBJPOOL_PY" "$CLIENT" default 127.0.0.1 "$TLS_GOOD_PORT" 6
    assert_equal "$(field ok)" 6
    assert_equal "$(json_field "$REPORT" "$CA" hits)" 5
    run_pooled "$CA" SSL_CERT_FILE="$D/system.pem" "$OBJPOOL_PY" "$CLIENT" default 127.0.0.1 "$TLS_GOOD_PORT" 2
    assert_equal "$(field verify_failed)" 2
}

@test "tls-ca: Ruby net/http, HTTPS per request: works unchanged, the bundle parsed once" {
    require_cmd ruby
    ruby -ropenssl -e 1 2>/dev/null || skip "ruby has no openssl extension"
    run_pooled "$CA" ruby "$REPO_ROOT/tests/tls_clients.rb" localhost "$TLS_GOOD_PORT" "$D/bundle.pem" 8
    assert_equal "$(field ok)" 8
    assert_equal "$(json_field "$REPORT" "$CA" hits)" 7
    run_pooled "$CA" ruby "$REPO_ROOT/tests/tls_clients.rb" localhost "$TLS_WRONG_PORT" "$D/bundle.pem" 3
    assert_equal "$(field failed)" 3
}

@test "tls-ca: Perl IO::Socket::SSL, HTTPS per request: works unchanged, the bundle parsed once" {
    perl -MIO::Socket::SSL -e 1 2>/dev/null || skip "no IO::Socket::SSL (libio-socket-ssl-perl)"
    run_pooled "$CA" perl "$REPO_ROOT/tests/tls_clients.pl" 127.0.0.1 "$TLS_GOOD_PORT" "$D/bundle.pem" 8
    assert_equal "$(field ok)" 8
    assert_equal "$(json_field "$REPORT" "$CA" hits)" 7
    run_pooled "$CA" perl "$REPO_ROOT/tests/tls_clients.pl" 127.0.0.1 "$TLS_WRONG_PORT" "$D/bundle.pem" 3
    assert_equal "$(field failed)" 3
}

@test "tls-ca: the curl command (one request per process) is unaffected: same output, same verdicts" {
    require_cmd curl
    sanitizer_cannot "curl hangs with the ASan runtime preloaded, without objpool too"
    run_plain curl -sS --cacert "$D/bundle.pem" "$GOOD"
    local plain=$output
    run_pooled "$CA" curl -sS --cacert "$D/bundle.pem" "$GOOD"
    assert_equal "$status" 0
    assert_equal "$output" "$plain"
    assert_equal "$(json_field "$REPORT" "$CA" misses)" 1
    assert_equal "$(json_field "$REPORT" "$CA" hits)" 0
    run_pooled "$CA" curl -sS --cacert "$D/bundle.pem" "https://localhost:$TLS_WRONG_PORT/"
    assert_equal "$status" 60
}

@test "tls-ca: a bundle no target names, and no tls-ca target at all: loads pass through" {
    require_py requests
    # another file: loaded by OpenSSL itself, not counted
    run_pooled "$CA" "$OBJPOOL_PY" "$CLIENT" requests "$GOOD" "$D/ca1.pem" 3
    assert_equal "$(field ok)" 3
    run json_field "$REPORT" "$CA" acquired
    assert_failure
    # no tls-ca target: the loads are OpenSSL's own
    run_pooled "tcp://127.0.0.1:$TLS_GOOD_PORT" "$OBJPOOL_PY" "$CLIENT" requests "$GOOD" "$D/bundle.pem" 3
    assert_equal "$(field ok)" 3
}

@test "tls-ca: threads loading the bundle at once each get the whole of it" {
    tsan_cannot "python3 is not built with TSan, so it cannot load the TSan build of the library"
    run_pooled "$CA" "$OBJPOOL_PY" - "$D/bundle.pem" <<'PY'
import ssl, sys, threading
counts = []
def work():
    for _ in range(5):
        c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        c.load_verify_locations(sys.argv[1])
        counts.append(c.cert_store_stats()["x509_ca"])
ts = [threading.Thread(target=work) for _ in range(4)]
[t.start() for t in ts]
[t.join() for t in ts]
print("sizes=%s" % ",".join(sorted(set(map(str, counts)))), "n=%d" % len(counts))
PY
    local n
    n=$(grep -c 'BEGIN CERTIFICATE' "$D/bundle.pem")
    assert_equal "$(field sizes)" "$n"
    assert_equal "$(field n)" 20
    assert_equal "$(json_field "$REPORT" "$CA" acquired)" 20
    assert_equal "$(json_field "$REPORT" "$CA" misses)" 1
}

@test "tls-ca: objpool check shows a CA bundle target and refuses options and relative paths" {
    run env OBJPOOL_POOLS="$CA" "$REPO_ROOT/scripts/objpool" check
    assert_success
    assert_output --partial "parsed once, again when it changes on disk"
    assert_output --partial "resume           off"
    run env OBJPOOL_POOLS="$CA?resume=on" "$REPO_ROOT/scripts/objpool" check
    assert_success
    assert_output --partial "resume           on"
    run env OBJPOOL_POOLS="$CA?max_size=3" "$REPO_ROOT/scripts/objpool" check
    assert_failure
    assert_output --partial "a tls-ca:// target takes only resume=on or resume=off"
    run env OBJPOOL_POOLS="tls-ca://bundle.pem" "$REPO_ROOT/scripts/objpool" check
    assert_failure
    assert_output --partial "expected tls-ca:///ABSOLUTE/PATH"
}

# --- session resumption (resume=on) -------------------------------------------

# resumed PORT / full PORT: requests nginx served on a resumed session, on a
# full handshake (its tls.log: "PORT PROTOCOL r|.")
resumed() { grep -c "^$1 .* r$" "$D/tls.log" || true; }
full() { grep -c "^$1 .* \.$" "$D/tls.log" || true; }

@test "resume: requests.get per request resumes TLS 1.3 and TLS 1.2 sessions, every request verified" {
    require_py requests
    local port
    for port in "$TLS_GOOD_PORT" "$TLS_GOOD12_PORT"; do
        : >"$D/tls.log"
        run_pooled "$CA?resume=on" "$OBJPOOL_PY" "$CLIENT" requests "https://localhost:$port/" "$D/bundle.pem" 10
        assert_equal "$(field ok)" 10
        assert_equal "$(full "$port")" 1
        assert_equal "$(resumed "$port")" 9
        assert_equal "$(json_field "$REPORT" "$CA" sessions.resumed)" 9
    done
    # resume=off (the default): no session offered
    : >"$D/tls.log"
    run_pooled "$CA" "$OBJPOOL_PY" "$CLIENT" requests "$GOOD" "$D/bundle.pem" 4
    assert_equal "$(full "$TLS_GOOD_PORT")" 4
}

@test "resume: a certificate for the wrong host fails every time, between resumed ones to the same address" {
    : >"$D/tls.log"
    run_pooled "$CA?resume=on" "$OBJPOOL_PY" "$CLIENT" hostswitch "$TLS_GOOD_PORT" "$D/bundle.pem" 5
    assert_equal "$(field steps)" "ok,failed,ok,failed,ok,failed,ok,failed,ok,failed"
    assert_equal "$(field hostname_failed)" 5
    assert_equal "$(resumed "$TLS_GOOD_PORT")" 4
    # and the wrong host's own server: never a session kept, never one offered
    run_pooled "$CA?resume=on" "$OBJPOOL_PY" "$CLIENT" requests "https://localhost:$TLS_WRONG_PORT/" "$D/bundle.pem" 5
    assert_equal "$(field hostname_failed)" 5
    assert_equal "$(json_field "$REPORT" "$CA" sessions.stored)" 0
    assert_equal "$(json_field "$REPORT" "$CA" sessions.offered)" 0
}

@test "resume: a CA removed from the bundle stops the resumption of the sessions it verified" {
    require_py requests
    cp "$D/bundle.pem" "$D/live.pem"
    : >"$D/tls.log"
    run_pooled "tls-ca://$D/live.pem?resume=on" "$OBJPOOL_PY" "$CLIENT" removed "$GOOD" "$D/live.pem" "$D/system.pem" 4
    assert_equal "$(field steps)" "ok,ok,ok,ok,failed,failed,failed,failed"
    assert_equal "$(field verify_failed)" 4
    assert_equal "$(resumed "$TLS_GOOD_PORT")" 3
}

@test "resume: a program with a verify callback (Ruby's OpenSSL) never resumes" {
    require_cmd ruby
    ruby -ropenssl -e 1 2>/dev/null || skip "ruby has no openssl extension"
    : >"$D/tls.log"
    run_pooled "$CA?resume=on" ruby "$REPO_ROOT/tests/tls_clients.rb" localhost "$TLS_GOOD_PORT" "$D/bundle.pem" 6
    assert_equal "$(field ok)" 6
    assert_equal "$(resumed "$TLS_GOOD_PORT")" 0
    assert_equal "$(json_field "$REPORT" "$CA" sessions.refused.verify_callback)" 6
    assert_equal "$(json_field "$REPORT" "$CA" hits)" 5
}

@test "resume: Perl's IO::Socket::SSL (a verify callback too) never resumes" {
    perl -MIO::Socket::SSL -e 1 2>/dev/null || skip "no IO::Socket::SSL (libio-socket-ssl-perl)"
    : >"$D/tls.log"
    run_pooled "$CA?resume=on" perl "$REPO_ROOT/tests/tls_clients.pl" 127.0.0.1 "$TLS_GOOD_PORT" "$D/bundle.pem" 5
    assert_equal "$(field ok)" 5
    assert_equal "$(resumed "$TLS_GOOD_PORT")" 0
    assert_equal "$(json_field "$REPORT" "$CA" sessions.refused.verify_callback)" 5
}

@test "resume: a program presenting a client certificate never resumes" {
    : >"$D/tls.log"
    run_pooled "$CA?resume=on" "$OBJPOOL_PY" "$CLIENT" clientcert "$TLS_GOOD_PORT" "$D/bundle.pem" \
        "$D/private.pem" "$D/private.key" 4
    assert_equal "$(field ok)" 4
    assert_equal "$(resumed "$TLS_GOOD_PORT")" 0
    assert_equal "$(json_field "$REPORT" "$CA" sessions.refused.client_cert)" 4
}

@test "resume: a resumed socket gets TCP_NODELAY; a full handshake's socket is left as the program made it" {
    : >"$D/tls.log"
    run_pooled "$CA?resume=on" "$OBJPOOL_PY" "$CLIENT" nodelay "$TLS_GOOD12_PORT" "$D/bundle.pem" 3
    assert_equal "$(field ok)" 3
    assert_equal "$(field nodelay)" "0,1,1"
    assert_equal "$(resumed "$TLS_GOOD12_PORT")" 2
}

@test "resume: a forked child forgets the parent's sessions; threads resuming at once all verify" {
    tsan_cannot "python3 is not built with TSan, so it cannot load the TSan build of the library"
    : >"$D/tls.log"
    run_pooled "$CA?resume=on" "$OBJPOOL_PY" - "$D/bundle.pem" "$TLS_GOOD12_PORT" <<'PY'
import os, socket, ssl, sys, threading
cafile, port = sys.argv[1], int(sys.argv[2])
def get():
    c = ssl.create_default_context(cafile=cafile)
    with socket.create_connection(("127.0.0.1", port)) as s, c.wrap_socket(s, server_hostname="localhost") as t:
        t.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        while t.recv(4096):
            pass
        return t.session_reused
get()  # full: a session kept
pid = os.fork()
if pid == 0:
    os._exit(0 if get() is False else 1)  # the child: a full handshake
_, st = os.waitpid(pid, 0)
print("child_full=%d" % (os.waitstatus_to_exitcode(st) == 0))
print("parent_resumed=%d" % get())
res = []
def work():
    for _ in range(5):
        res.append(get())
ts = [threading.Thread(target=work) for _ in range(4)]
[t.start() for t in ts]
[t.join() for t in ts]
print("threads_done=%d" % len(res))
PY
    assert_equal "$status" 0
    assert_equal "$(field child_full)" 1
    assert_equal "$(field parent_resumed)" 1
    assert_equal "$(field threads_done)" 20
    # 23 requests served, all verified (a failed one raises), most resumed
    assert_equal "$(wc -l <"$D/tls.log")" 23
    expect_num "$(resumed "$TLS_GOOD12_PORT")" -ge 15 "resumed handshakes"
}
