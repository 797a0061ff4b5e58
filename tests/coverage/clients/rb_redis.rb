# redis-rb: a new Redis per operation, SET then GET, close.
require_relative "cov_common"
require "redis"

port, n, tag = Cov.args
n.times do |i|
  r = Redis.new(host: "127.0.0.1", port: port)
  r.set(Cov.key(tag, i), Cov.value(tag, i))
  Cov.check(i, Cov.value(tag, i), r.get(Cov.key(tag, i)))
  r.close
end
Cov.done(n)
