# HTTP::Tiny: a new HTTP::Tiny per operation, one GET (its defaults).
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use CovCommon;
use HTTP::Tiny;

my ($port, $n, $tag) = cov_args();
for my $i (0 .. $n - 1) {
    my $res = HTTP::Tiny->new->get("http://127.0.0.1:$port" . cov_path($i));
    cov_check($i, "200 " . cov_body($i), "$res->{status} $res->{content}");
}
cov_done($n);
