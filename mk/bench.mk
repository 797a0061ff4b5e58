# Benchmarks (issue 6).  `make bench` builds the preload and the benchmark
# programs, then runs bench/run.sh: tables on stdout, build/bench/results.json,
# and build/bench/bench.png when gnuplot is installed.  Never part of `make test`.
BENCH_SRC  = $(wildcard bench/*.c)
BENCH_BINS = $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

.PHONY: bench bench-tools
bench-tools: $(BENCH_BINS)

$(BUILD)/bench/%: bench/%.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -o $@ $<

bench: $(BUILD)/libobjpool.so bench-tools
	BUILD=$(BUILD) MAKE="$(MAKE)" bench/run.sh
