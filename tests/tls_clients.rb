# HTTPS per request with Ruby's net/http (a new connection and SSL context
# each), verifying against a CA file: tests/tls/trust_store.bats and bench/tls.sh.
#   ruby tls_clients.rb HOST PORT CAFILE N   -> "ok=N failed=N secs=S"
require "net/http"
require "openssl"
host, port, cafile, n = ARGV[0], ARGV[1].to_i, ARGV[2], ARGV[3].to_i
ok = failed = 0
t0 = Process.clock_gettime(Process::CLOCK_MONOTONIC)
n.times do
  begin
    http = Net::HTTP.new(host, port)
    http.use_ssl = true
    http.verify_mode = OpenSSL::SSL::VERIFY_PEER
    http.ca_file = cafile
    res = http.start { |h| h.get("/") }
    if res.code == "200" && res.body == "ok\n" then ok += 1 else failed += 1 end
  rescue StandardError => e
    failed += 1
    STDERR.puts e.message if failed == 1
  end
end
printf("ok=%d failed=%d secs=%.6f\n", ok, failed, Process.clock_gettime(Process::CLOCK_MONOTONIC) - t0)
