# The coverage matrix (issue 26): `make coverage` runs every real client of
# tests/coverage/clients.tsv (Python, Perl, Ruby, PHP, Node) against real
# redis-server, memcached and nginx, 200 operations each, plain and under
# objpool, prints the table, writes build/coverage/results.{tsv,json} and
# checks the verdicts against tests/coverage/expected.tsv. tests/coverage/coverage.bats
# runs the short version (50 operations) in `make test`.
.PHONY: coverage
coverage: $(BUILD)/libobjpool.so
	OBJPOOL_LIB=$(abspath $(BUILD)/libobjpool.so) tests/coverage/run --out $(BUILD)/coverage
