"""HTTPS clients for tests/tls/trust_store.bats and bench/tls.sh, each verifying.

  tls_client.py requests URL CAFILE N        N x requests.get(URL, verify=CAFILE)
  tls_client.py session URL CAFILE N         N x GET on one requests.Session
  tls_client.py default HOST PORT N          N x ssl.create_default_context()
                                             (the default paths: SSL_CERT_FILE)
  tls_client.py crl PORT CAFILE N            N x a context from CAFILE (with its
                                             CRLs) checking the leaf's revocation
  tls_client.py isolation PORT CAFILE PRIVATE_CA
        context 1 loads CAFILE and adds PRIVATE_CA; context 2 loads CAFILE
        only; each connects to PORT (a server certified by PRIVATE_CA)
  tls_client.py hostswitch PORT CAFILE N     N x (a context checking localhost:
                                             ok; one checking wrong.example, same
                                             address: must fail)
  tls_client.py removed URL CAFILE BAD_BUNDLE N   N x requests.get; CAFILE
                                             replaced by BAD_BUNDLE; N more
  tls_client.py nodelay PORT CAFILE N        N x a context, connect, handshake:
                                             prints nodelay=V,V,... after each
  tls_client.py clientcert PORT CAFILE CERT KEY N   N x a context presenting CERT
  tls_client.py replaced URL CAFILE GOOD_BUNDLE BAD_BUNDLE
        GET; CAFILE replaced by BAD_BUNDLE (rename over it); GET;
        rewritten in place with GOOD_BUNDLE; GET

Prints one summary line: ok=N failed=N verify_failed=N hostname_failed=N
(and for isolation/replaced, one word per step: ok or failed), secs=S.
"""
import os
import shutil
import socket
import ssl
import sys
import time


class Tally:
    def __init__(self):
        self.ok = self.failed = self.verify = self.hostname = 0
        self.steps = []

    def outcome(self, fn):
        try:
            fn()
            self.ok += 1
            self.steps.append("ok")
        except Exception as e:  # every failure counted by kind
            text = repr(e)
            self.failed += 1
            self.steps.append("failed")
            if "CERTIFICATE_VERIFY_FAILED" in text:
                self.verify += 1
            if "match" in text or "Hostname mismatch" in text or "doesn't match" in text:
                self.hostname += 1

    def line(self, secs):
        print("ok=%d failed=%d verify_failed=%d hostname_failed=%d steps=%s secs=%.6f"
              % (self.ok, self.failed, self.verify, self.hostname, ",".join(self.steps) or "-", secs))


def get_requests(url, cafile):
    import requests
    r = requests.get(url, verify=cafile, timeout=10)
    assert r.status_code == 200 and r.text == "ok\n", r.text


def raw_get(ctx, host, port, server_name):
    with socket.create_connection((host, port), timeout=10) as s:
        with ctx.wrap_socket(s, server_hostname=server_name) as t:
            t.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                chunk = t.recv(4096)
                if not chunk:
                    break
                data += chunk
    assert data.startswith(b"HTTP/1.1 200") and data.endswith(b"ok\n"), data


def main():
    mode = sys.argv[1]
    t = Tally()
    start = time.perf_counter()
    if mode == "requests":
        url, cafile, n = sys.argv[2], sys.argv[3], int(sys.argv[4])
        for _ in range(n):
            t.outcome(lambda: get_requests(url, cafile))
    elif mode == "session":
        import requests
        url, cafile, n = sys.argv[2], sys.argv[3], int(sys.argv[4])
        s = requests.Session()

        def one():
            r = s.get(url, verify=cafile, timeout=10)
            assert r.status_code == 200 and r.text == "ok\n"
        for _ in range(n):
            t.outcome(one)
    elif mode == "default":
        host, port, n = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
        for _ in range(n):
            t.outcome(lambda: raw_get(ssl.create_default_context(), host, port, "localhost"))
    elif mode == "crl":
        port, cafile, n = int(sys.argv[2]), sys.argv[3], int(sys.argv[4])

        def one():
            c = ssl.create_default_context(cafile=cafile)
            c.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
            raw_get(c, "127.0.0.1", port, "localhost")
        for _ in range(n):
            t.outcome(one)
    elif mode == "isolation":
        port, cafile, private = int(sys.argv[2]), sys.argv[3], sys.argv[4]
        c1 = ssl.create_default_context(cafile=cafile)
        c1.load_verify_locations(cafile=private)
        t.outcome(lambda: raw_get(c1, "127.0.0.1", port, "localhost"))
        c2 = ssl.create_default_context(cafile=cafile)
        t.outcome(lambda: raw_get(c2, "127.0.0.1", port, "localhost"))
        c3 = ssl.create_default_context(cafile=cafile)
        t.outcome(lambda: raw_get(c3, "127.0.0.1", port, "localhost"))
    elif mode == "hostswitch":
        port, cafile, n = int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
        for _ in range(n):
            t.outcome(lambda: raw_get(ssl.create_default_context(cafile=cafile), "127.0.0.1", port, "localhost"))
            t.outcome(lambda: raw_get(ssl.create_default_context(cafile=cafile), "127.0.0.1", port, "wrong.example"))
    elif mode == "removed":
        url, cafile, bad, n = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
        for _ in range(n):
            t.outcome(lambda: get_requests(url, cafile))
        shutil.copyfile(bad, cafile + ".new")
        os.rename(cafile + ".new", cafile)
        for _ in range(n):
            t.outcome(lambda: get_requests(url, cafile))
    elif mode == "nodelay":
        port, cafile, n = int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
        seen = []

        def one():
            c = ssl.create_default_context(cafile=cafile)
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                with c.wrap_socket(s, server_hostname="localhost") as tls:
                    seen.append(str(tls.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)))
                    tls.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    while tls.recv(4096):
                        pass
        for _ in range(n):
            t.outcome(one)
        print("nodelay=" + ",".join(seen))
    elif mode == "clientcert":
        port, cafile, cert, key, n = int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6])

        def one():
            c = ssl.create_default_context(cafile=cafile)
            c.load_cert_chain(cert, key)
            raw_get(c, "127.0.0.1", port, "localhost")
        for _ in range(n):
            t.outcome(one)
    elif mode == "replaced":
        url, cafile, good, bad = sys.argv[2:6]
        t.outcome(lambda: get_requests(url, cafile))
        shutil.copyfile(bad, cafile + ".new")
        os.rename(cafile + ".new", cafile)
        t.outcome(lambda: get_requests(url, cafile))
        with open(cafile, "r+b") as f:  # the same inode, new contents
            f.truncate(0)
            f.write(open(good, "rb").read())
        t.outcome(lambda: get_requests(url, cafile))
    else:
        sys.exit("tls_client.py: unknown mode " + mode)
    t.line(time.perf_counter() - start)


if __name__ == "__main__":
    main()
