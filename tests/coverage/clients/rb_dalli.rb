# Dalli: a new Dalli::Client per operation, set then get, close.
require_relative "cov_common"
require "dalli"

port, n, tag = Cov.args
n.times do |i|
  m = Dalli::Client.new("127.0.0.1:#{port}", raw: true)
  m.set(Cov.key(tag, i), Cov.value(tag, i))
  Cov.check(i, Cov.value(tag, i), m.get(Cov.key(tag, i)))
  m.close
end
Cov.done(n)
