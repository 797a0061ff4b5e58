#!/usr/bin/perl
# Redis->new, SET, GET, quit per op (libredis-perl: QUIT, then close
# without reading +OK); prints "ok=N mismatches=N errors=N".
use strict;
use warnings;
use Redis;
my ($port, $count) = @ARGV;
my ($ok, $bad, $err) = (0, 0, 0);
for my $i (0 .. $count - 1) {
    my $r = eval {
        my $c = Redis->new(server => "127.0.0.1:$port", reconnect => 0);
        $c->set("gb:$i", "value-$i-" . ("x" x ($i % 50)));
        my $v = $c->get("gb:$i");
        $c->quit;
        $v;
    };
    if (!defined $r) { $err++; print STDERR "error: $@" if $@; next; }
    if ($r eq "value-$i-" . ("x" x ($i % 50))) { $ok++ } else { $bad++ }
}
print "ok=$ok mismatches=$bad errors=$err\n";
exit($bad ? 1 : $err ? 2 : 0);
