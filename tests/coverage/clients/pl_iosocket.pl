# IO::Socket::INET, raw: a socket per operation speaking RESP to Redis
# (SET then GET), closed with close().
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use CovCommon;
use IO::Socket::INET;

sub resp { join "", "*" . @_ . "\r\n", map { "\$" . length($_) . "\r\n$_\r\n" } @_ }

my ($port, $n, $tag) = cov_args();
for my $i (0 .. $n - 1) {
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $port, Proto => "tcp")
        or die "connect: $!\n";
    my ($k, $v) = (cov_key($tag, $i), cov_value($tag, $i));
    print $s resp("SET", $k, $v);
    cov_check($i, "+OK\r\n", scalar <$s>);
    print $s resp("GET", $k);
    cov_check($i, "\$" . length($v) . "\r\n", scalar <$s>);
    cov_check($i, "$v\r\n", scalar <$s>);
    close $s;
}
cov_done($n);
