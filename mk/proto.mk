# mk/proto.mk - the protocol parsers' unit tests and fuzz targets.
#
#   make                       build/tests/proto/NAME_test for each tests/proto/NAME_test.c
#   make fuzz-proto            libFuzzer on each parser (tests/fuzz/proto_NAME.c)
#
# The parsers (preload/conn/proto/NAME.c) import nothing of objpool but
# proto.h, so each test and each fuzz target links its parser alone.
PROTO_HDR       = preload/conn/proto/proto.h preload/base/proto_id.h
PROTO_TEST_SRC  = $(wildcard tests/proto/*_test.c)
PROTO_TESTS     = $(PROTO_TEST_SRC:tests/proto/%.c=$(BUILD)/tests/proto/%)
PROTO_FUZZ_SRC  = $(wildcard tests/fuzz/proto_*.c)
PROTO_FUZZ      = $(PROTO_FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)

.PHONY: fuzz-proto
all: $(PROTO_TESTS)
tools: $(PROTO_TESTS)

# A parser is NAME.c, with NAME_PART.c files beside it when it is large.
proto_files = preload/conn/proto/$(1).c $(wildcard preload/conn/proto/$(1)_*.c)
proto_deps = $(call proto_files,$(1)) $(wildcard preload/conn/proto/$(1)_*.h tests/fuzz/proto_*.h)

.SECONDEXPANSION:
$(BUILD)/tests/proto/%_test: tests/proto/%_test.c $$(call proto_deps,$$*) $(PROTO_HDR) tests/proto/harness.h
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -Ipreload/conn/proto -o $@ $< $(call proto_files,$*)

$(BUILD)/fuzz/proto_%: tests/fuzz/proto_%.c $$(call proto_deps,$$*) $(PROTO_HDR)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -Ipreload/conn/proto -o $@ $< $(call proto_files,$*)

# Each parser gets FUZZ_PROTO_SECONDS; a crash leaves build/fuzz/crash-*.
FUZZ_PROTO_SECONDS ?= 20
fuzz-proto: $(PROTO_FUZZ)
	@set -e; for f in $(PROTO_FUZZ); do \
	    mkdir -p $$f.corpus; \
	    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
	    $$f -max_total_time=$(FUZZ_PROTO_SECONDS) -timeout=10 -max_len=4096 \
	        -artifact_prefix=$(BUILD)/fuzz/ $$f.corpus; \
	done
fuzz: fuzz-proto
