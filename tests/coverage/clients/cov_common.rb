# The contract of every coverage client, for the Ruby ones (see py_common.py):
# argv PORT N TAG; "ok=N" and exit 0, or the wrong value named and exit 1.
module Cov
  module_function

  def args = [Integer(ARGV[0]), Integer(ARGV[1]), ARGV[2]]
  def key(tag, i) = "cov:#{tag}:#{i}"
  def value(tag, i) = "#{tag}-#{i}-#{'x' * (i % 13)}"
  def path(i) = "/f/cov#{i % 10}.txt"
  def body(i) = "coverage file #{i % 10}\n" * (i % 10 + 1)

  def check(i, want, got)
    return if want == got
    warn "wrong value at op #{i}: expected #{want.inspect}, got #{got.inspect}"
    exit 1
  end

  def done(n) = puts("ok=#{n}")
end
