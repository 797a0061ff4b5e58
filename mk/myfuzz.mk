# mk/myfuzz.mk - the MySQL handshake replay fuzzed (tests/fuzz/my_replay.c
# with myreplay.c, myswitch.c, myreset.c, secret.c and the parser):
# `make fuzz-my`, and part of `make fuzz`. The parser's own fuzzer
# (tests/fuzz/proto_mysql.c) is one of mk/proto.mk's. The replay harness is
# also built as a deterministic test (build/tests/my_replay_test: every
# piece size, every split at every byte, every changed byte, both
# handshakes, the fresh connection made and failed), run by
# tests/conn/parsers.bats.
MY_REPLAY_FUZZ = $(BUILD)/fuzz/my_replay
MY_REPLAY_TEST = $(BUILD)/tests/my_replay_test
MY_REPLAY_SRC = preload/conn/myreplay.c preload/conn/myswitch.c preload/conn/myreset.c preload/conn/secret.c \
                preload/conn/proto/mysql.c preload/conn/proto/mysql_answer.c
FUZZ_MY_SECONDS ?= 20

.PHONY: fuzz-my
all: $(MY_REPLAY_TEST)
$(MY_REPLAY_TEST): tests/fuzz/my_replay.c $(MY_REPLAY_SRC) $(PRELOAD_HDR)
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -DMY_REPLAY_MAIN -Ipreload/core -o $@ tests/fuzz/my_replay.c $(MY_REPLAY_SRC)

$(MY_REPLAY_FUZZ): tests/fuzz/my_replay.c $(MY_REPLAY_SRC) $(PRELOAD_HDR)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -Ipreload/core -o $@ tests/fuzz/my_replay.c $(MY_REPLAY_SRC)

fuzz-my: $(MY_REPLAY_FUZZ)
	@mkdir -p $(MY_REPLAY_FUZZ).corpus
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 $(MY_REPLAY_FUZZ) -max_total_time=$(FUZZ_MY_SECONDS) \
	    -timeout=10 -max_len=4096 -artifact_prefix=$(BUILD)/fuzz/ $(MY_REPLAY_FUZZ).corpus
fuzz: fuzz-my
