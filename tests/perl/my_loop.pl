#!/usr/bin/perl
# Perl DBI with DBD::mysql (Debian's, on libmariadb) per query, for
# objpool's MySQL/MariaDB tests.
#
#     perl my_loop.pl DSN USER PASSWORD COUNT [ALT_DSN]
#
# ALT_DSN: odd operations connect with it instead (another database: each
# connect then differs from the one before; the thread id is not checked).
# DSN: a DBI data source, e.g. "DBI:mysql:database=db1;mysql_socket=S" or
# "DBI:mysql:database=db1;host=127.0.0.1;port=P". Operation i:
# DBI->connect, SELECT ? * 2 with i (a placeholder the driver fills in: a
# text query), compare (and mysql_thread_id, the greeting's, against
# CONNECTION_ID()), disconnect (COM_QUIT). Prints "ops=N
# ok=N mismatches=N errors=N" on stdout; exit 1 on a mismatch, 2 on an
# error, else 0.
use strict;
use warnings;
use DBI;

my ($dsn1, $user, $pw, $count, $alt) = @ARGV;
my ($ok, $mismatches, $errors) = (0, 0, 0);
for my $i (0 .. $count - 1) {
    my $dsn = defined $alt && $i % 2 ? $alt : $dsn1;
    my ($want) = $dsn =~ /database=(\w+)/;
    my $got = eval {
        my $dbh = DBI->connect($dsn, $user, $pw, { RaiseError => 1, PrintError => 0 });
        my ($v, $tid, $in) = $dbh->selectrow_array('SELECT ? * 2, CONNECTION_ID(), DATABASE()', undef, $i);
        my $greeted = $dbh->{mysql_thread_id};
        $dbh->disconnect;
        # a login that went to a fresh connection keeps the greeting's thread id
        $in ne $want ? "$v in $in, not $want"
          : (defined $alt || $tid == $greeted) ? $v
          : "$v (CONNECTION_ID() $tid, the greeting's thread id $greeted)";
    };
    if (!defined $got) {
        $errors++;
        print STDERR "ERROR op $i: $@" if $errors <= 5;
    } elsif ($got eq 2 * $i) {
        $ok++;
    } else {
        $mismatches++;
        print STDERR "MISMATCH op $i: $got\n";
    }
}
print "ops=$count ok=$ok mismatches=$mismatches errors=$errors\n";
exit($mismatches ? 1 : $errors ? 2 : 0);
