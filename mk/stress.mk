# mk/stress.mk - the long runs (issue 3 item 10, issue 14 item 6). Not part
# of `make test` (tests/conn/chaos.bats runs a short chaos mix there).
#
#   make stress [STRESS_REQUESTS=1000000] [STRESS_THREADS=8] [STRESS_SEED=1]
#               [STRESS_CHAOS_THREADS=4]
#
# `make stress` is both runs below: stress-chaos and stress-threads.
#
# stress-chaos: tests/chaos-run, the chaos mix (build/tests/chaosd delays,
# splits, closes and resets; build/tests/chaos abandons, reads partly, shuts
# down, forks, and writes and reads with every I/O family) for line, redis,
# http, memcache and opaque (with its probe), STRESS_REQUESTS split evenly
# over the five, each run without and with objpool: fails on a foreign
# reply, on no reuse, or on more errors with objpool than without.
#
# stress-threads:
# Starts a tagserver that drops 5 % of requests (--random-close 5), runs
# build/tests/stress under the preload until the threads together have sent
# STRESS_REQUESTS requests (early closes, abandoned requests, partial reads,
# lease hand-offs between threads), and fails on any mismatched reply. The
# JSON report is printed at the end.

STRESS_REQUESTS ?= 1000000
STRESS_THREADS  ?= 8
STRESS_SEED     ?= 1

STRESS_CHAOS_THREADS ?= 4

.PHONY: stress stress-chaos stress-threads
stress: stress-chaos stress-threads

stress-chaos: $(BUILD)/libobjpool.so $(BUILD)/tests/chaosd $(BUILD)/tests/chaos
	BUILD=$(BUILD) tests/chaos-run --requests $$(($(STRESS_REQUESTS) / 5)) \
	    --threads $(STRESS_CHAOS_THREADS) --seed $(STRESS_SEED)

stress-threads: $(BUILD)/libobjpool.so $(BUILD)/tests/stress $(BUILD)/tests/tagserver
	@set -u; dir=$$(mktemp -d); \
	$(BUILD)/tests/tagserver --port-file $$dir/port --count-file $$dir/count \
	    --random-close 5 --seed $(STRESS_SEED) >$$dir/server.log 2>&1 & spid=$$!; \
	trap 'kill $$spid 2>/dev/null; wait $$spid 2>/dev/null; rm -rf $$dir' EXIT; \
	for i in $$(seq 100); do [ -s $$dir/port ] && break; sleep 0.05; done; \
	[ -s $$dir/port ] || { echo "stress: tagserver did not start: $$(cat $$dir/server.log)"; exit 1; }; \
	port=$$(cat $$dir/port); \
	echo "stress: $(STRESS_THREADS) threads, >= $(STRESS_REQUESTS) requests to tcp://127.0.0.1:$$port"; \
	LD_PRELOAD=$(abspath $(BUILD)/libobjpool.so) OBJPOOL_POOLS="tcp://127.0.0.1:$$port?proto=line" \
	    OBJPOOL_REPORT=$$dir/report.json OBJPOOL_REPORT_FORMAT=json \
	    $(BUILD)/tests/stress --port $$port --threads $(STRESS_THREADS) \
	    --requests $(STRESS_REQUESTS) --seed $(STRESS_SEED); rc=$$?; \
	echo "stress: server accepted $$(cat $$dir/count) connections"; \
	cat $$dir/report.json 2>/dev/null; \
	if [ $$rc -ne 0 ]; then echo "stress: FAILED (exit $$rc)"; exit 1; fi; \
	echo "stress: passed"

# The dup2/dup3/close_range race test alone (it is part of make test too).
.PHONY: race
race: all
	bats --filter 'close_range race' tests/interpose/faults.bats
