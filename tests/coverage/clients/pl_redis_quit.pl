# Redis.pm as its synopsis ends: a new Redis object per operation, SET then
# GET, then $r->quit (sends QUIT, then closes).
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
    $r->quit;
}
cov_done($n);
