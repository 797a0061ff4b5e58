# mk/pgfuzz.mk - the PostgreSQL replay's ParameterStatus framer fuzzed alone
# (tests/fuzz/pg_params.c with preload/conn/pgparams.c): `make fuzz-pg`,
# and part of `make fuzz`.
PG_FUZZ = $(BUILD)/fuzz/pg_params
FUZZ_PG_SECONDS ?= 20

.PHONY: fuzz-pg
$(PG_FUZZ): tests/fuzz/pg_params.c preload/conn/pgparams.c preload/conn/pgrec.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -Ipreload/core -o $@ tests/fuzz/pg_params.c preload/conn/pgparams.c

fuzz-pg: $(PG_FUZZ)
	@mkdir -p $(PG_FUZZ).corpus
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 $(PG_FUZZ) -max_total_time=$(FUZZ_PG_SECONDS) \
	    -timeout=10 -max_len=4096 -artifact_prefix=$(BUILD)/fuzz/ $(PG_FUZZ).corpus
fuzz: fuzz-pg
