# HTTPS per request with Perl's IO::Socket::SSL (a new connection and SSL
# context each), verifying peer and host name against a CA file:
# tests/tls/trust_store.bats and bench/tls.sh.
#   perl tls_clients.pl HOST PORT CAFILE N   -> "ok=N failed=N secs=S"
use strict;
use warnings;
use IO::Socket::SSL;
use Time::HiRes qw(time);
my ($host, $port, $cafile, $n) = @ARGV;
my ($ok, $failed) = (0, 0);
my $t0 = time;
for (1 .. $n) {
    my $s = IO::Socket::SSL->new(
        PeerHost => $host, PeerPort => $port, SSL_ca_file => $cafile,
        SSL_verify_mode => SSL_VERIFY_PEER, SSL_verifycn_scheme => 'http',
        SSL_verifycn_name => 'localhost', SSL_hostname => 'localhost');
    if (!$s) {
        $failed++;
        print STDERR "$SSL_ERROR\n" if $failed == 1;
        next;
    }
    print $s "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    my $data = do { local $/; <$s> } // '';
    close $s;
    if ($data =~ /^HTTP\/1\.1 200/ && $data =~ /ok\n\z/) { $ok++ } else { $failed++ }
}
printf("ok=%d failed=%d secs=%.6f\n", $ok, $failed, time - $t0);
