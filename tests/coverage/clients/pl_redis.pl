# Redis.pm: a new Redis object per operation, SET then GET, dropped at the
# end of the loop body (Redis.pm closes the socket; no QUIT).
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use CovCommon;
use Redis;

my ($port, $n, $tag) = cov_args();
for my $i (0 .. $n - 1) {
    my $r = Redis->new(server => "127.0.0.1:$port", reconnect => 0);
    $r->set(cov_key($tag, $i), cov_value($tag, $i));
    cov_check($i, cov_value($tag, $i), $r->get(cov_key($tag, $i)));
}
cov_done($n);
