# LWP::UserAgent: a new user agent per operation, one GET (LWP's defaults).
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use CovCommon;
use LWP::UserAgent;

my ($port, $n, $tag) = cov_args();
for my $i (0 .. $n - 1) {
    my $ua = LWP::UserAgent->new;
    my $res = $ua->get("http://127.0.0.1:$port" . cov_path($i));
    cov_check($i, "200 " . cov_body($i), $res->code . " " . $res->content);
}
cov_done($n);
