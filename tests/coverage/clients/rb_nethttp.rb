# net/http: Net::HTTP.get_response per operation (a session of its own).
require_relative "cov_common"
require "net/http"

port, n, _tag = Cov.args
n.times do |i|
  res = Net::HTTP.get_response(URI("http://127.0.0.1:#{port}#{Cov.path(i)}"))
  Cov.check(i, "200 #{Cov.body(i)}", "#{res.code} #{res.body}")
end
Cov.done(n)
