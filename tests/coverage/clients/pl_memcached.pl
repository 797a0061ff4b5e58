# Cache::Memcached: a new object per operation, set then get, then
# disconnect_all (the module caches sockets process-wide until then).
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use CovCommon;
use Cache::Memcached;

my ($port, $n, $tag) = cov_args();
for my $i (0 .. $n - 1) {
    my $m = Cache::Memcached->new({servers => ["127.0.0.1:$port"]});
    $m->set(cov_key($tag, $i), cov_value($tag, $i)) or die "set failed at op $i\n";
    cov_check($i, cov_value($tag, $i), $m->get(cov_key($tag, $i)));
    $m->disconnect_all;
}
cov_done($n);
