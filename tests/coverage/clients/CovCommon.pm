# The contract of every coverage client, for the Perl ones (see py_common.py):
# argv PORT N TAG; "ok=N" and exit 0, or the wrong value named and exit 1.
package CovCommon;
use strict;
use warnings;
use Exporter 'import';
our @EXPORT = qw(cov_args cov_key cov_value cov_path cov_body cov_check cov_done);

sub cov_args  { return (int($ARGV[0]), int($ARGV[1]), $ARGV[2]) }
sub cov_key   { my ($tag, $i) = @_; return "cov:$tag:$i" }
sub cov_value { my ($tag, $i) = @_; return "$tag-$i-" . ("x" x ($i % 13)) }
sub cov_path  { my ($i) = @_; return "/f/cov" . ($i % 10) . ".txt" }
sub cov_body  { my ($i) = @_; return ("coverage file " . ($i % 10) . "\n") x ($i % 10 + 1) }

sub cov_check {
    my ($i, $want, $got) = @_;
    $got = "(undef)" unless defined $got;
    return if $want eq $got;
    print STDERR "wrong value at op $i: expected '$want', got '$got'\n";
    exit 1;
}

sub cov_done { print "ok=$_[0]\n" }
1;
