# Benchmarks (issue 6).  `make bench` builds the preload, the benchmark
# programs and the test tools the benchmark runs (tagserver, tagclient,
# filebench), then runs bench/run.sh: tables on stdout,
# build/bench/results.json, and build/bench/bench.png when gnuplot is
# installed.  Never part of `make test`.
#
# bench/protocost.c links the protocol parsers (preload/conn/proto/) alone,
# as their unit tests do (mk/proto.mk); every other bench/NAME.c is one
# program of its own.
BENCH_SRC   = $(filter-out bench/protocost.c,$(wildcard bench/*.c))
BENCH_BINS  = $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%) $(BUILD)/bench/protocost
BENCH_TOOLS = $(BUILD)/tests/tagserver $(BUILD)/tests/tagclient $(BUILD)/tests/filebench
PROTO_PARSERS = $(filter-out %/detect.c %/proto.c,$(wildcard preload/conn/proto/*.c))

.PHONY: bench bench-tools
bench-tools: $(BENCH_BINS)

$(BUILD)/bench/%: bench/%.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -o $@ $<

$(BUILD)/bench/protocost: bench/protocost.c $(PROTO_PARSERS) $(wildcard preload/conn/proto/*.h) preload/base/proto_id.h
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -Ipreload/conn/proto -o $@ bench/protocost.c $(PROTO_PARSERS)

bench: $(BUILD)/libobjpool.so bench-tools $(BENCH_TOOLS)
	BUILD=$(BUILD) MAKE="$(MAKE)" bench/run.sh
