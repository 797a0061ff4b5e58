# mk/pgfuzz.mk - the PostgreSQL replay's ParameterStatus framer fuzzed alone
# (tests/fuzz/pg_params.c with preload/conn/pgparams.c), and the replay
# state machine (tests/fuzz/pg_replay.c with pgreplay.c, pgparams.c and the
# parser): `make fuzz-pg`, and part of `make fuzz`. The replay harness is
# also built as a deterministic test (build/tests/pg_replay_test: every
# split at every byte, every changed byte), run by tests/conn/postgres.bats.
PG_FUZZ = $(BUILD)/fuzz/pg_params
FUZZ_PG_SECONDS ?= 20

PG_REPLAY_FUZZ = $(BUILD)/fuzz/pg_replay
PG_REPLAY_TEST = $(BUILD)/tests/pg_replay_test
PG_REPLAY_SRC = preload/conn/pgreplay.c preload/conn/pgparams.c preload/conn/secret.c preload/conn/proto/postgres.c

.PHONY: fuzz-pg
all: $(PG_REPLAY_TEST)
$(PG_REPLAY_TEST): tests/fuzz/pg_replay.c $(PG_REPLAY_SRC) $(PRELOAD_HDR)
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -DPG_REPLAY_MAIN -Ipreload/core -o $@ tests/fuzz/pg_replay.c $(PG_REPLAY_SRC)

$(PG_REPLAY_FUZZ): tests/fuzz/pg_replay.c $(PG_REPLAY_SRC) $(PRELOAD_HDR)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -Ipreload/core -o $@ tests/fuzz/pg_replay.c $(PG_REPLAY_SRC)

$(PG_FUZZ): tests/fuzz/pg_params.c preload/conn/pgparams.c preload/conn/pgrec.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -Ipreload/core -o $@ tests/fuzz/pg_params.c preload/conn/pgparams.c

fuzz-pg: $(PG_FUZZ) $(PG_REPLAY_FUZZ)
	@mkdir -p $(PG_FUZZ).corpus $(PG_REPLAY_FUZZ).corpus
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 $(PG_FUZZ) -max_total_time=$(FUZZ_PG_SECONDS) \
	    -timeout=10 -max_len=4096 -artifact_prefix=$(BUILD)/fuzz/ $(PG_FUZZ).corpus
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 $(PG_REPLAY_FUZZ) -max_total_time=$(FUZZ_PG_SECONDS) \
	    -timeout=10 -max_len=4096 -artifact_prefix=$(BUILD)/fuzz/ $(PG_REPLAY_FUZZ).corpus
fuzz: fuzz-pg
