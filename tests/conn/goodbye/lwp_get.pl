#!/usr/bin/perl
# LWP::UserAgent->get per request, a new agent each time (it sends
# "Connection: TE, close"); prints "ok=N mismatches=N errors=N".
use strict;
use warnings;
use LWP::UserAgent;
my ($url, $count, $www) = @ARGV;
my ($ok, $bad, $err) = (0, 0, 0);
for my $i (0 .. $count - 1) {
    my $k = $i % 20;
    my $ua = LWP::UserAgent->new(keep_alive => 0, timeout => 10);
    my $r = $ua->get("$url/f/$k");
    if (!$r->is_success) { $err++; next; }
    open(my $fh, '<:raw', "$www/$k") or die;
    local $/;
    my $want = <$fh>;
    close $fh;
    if ($r->content eq $want) { $ok++ } else { $bad++ }
}
print "ok=$ok mismatches=$bad errors=$err\n";
exit($bad ? 1 : $err ? 2 : 0);
