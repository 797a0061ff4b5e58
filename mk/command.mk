# mk/command.mk - the `objpool` command: its C helper, install/uninstall,
# and the configuration parser's fuzz target.
#
#   make                                  also builds build/objpool-tool
#   make install PREFIX=/usr/local DESTDIR=
#   make uninstall PREFIX=/usr/local DESTDIR=
#   make fuzz FUZZ_SECONDS=60             libFuzzer on preload/config/ (clang)

PREFIX      ?= /usr/local
DESTDIR     ?=
BINDIR      ?= $(PREFIX)/bin
PKGLIBDIR   ?= $(PREFIX)/lib/objpool
MAN1DIR     ?= $(PREFIX)/share/man/man1
EXAMPLEDIR  ?= $(PREFIX)/share/doc/objpool/examples
INSTALL     ?= install

CMD_TOOL     = $(BUILD)/objpool-tool
CMD_EXAMPLES = redis.conf http.conf files.conf everything.conf

.PHONY: install uninstall install-command uninstall-command fuzz fuzz-build

all: $(CMD_TOOL)
# tests/run builds `tools`: the command's tests need the helper too
tools: $(CMD_TOOL)

# Links the library's own parser objects, unchanged: one parser for both.
CONFIG_OBJ = $(patsubst preload/%.c,$(BUILD)/obj/%.o,$(wildcard preload/config/*.c)) $(BUILD)/obj/base/log.o $(BUILD)/obj/base/proto_id.o
$(CMD_TOOL): scripts/objpool-tool.c $(CONFIG_OBJ) $(PRELOAD_HDR)
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -o $@ scripts/objpool-tool.c \
	    $(CONFIG_OBJ)

install: install-command
uninstall: uninstall-command

# The installed script finds the library and the helper at ../lib/objpool
# relative to itself; the absolute PKGLIBDIR is written in as a fallback.
install-command: $(BUILD)/libobjpool.so $(CMD_TOOL)
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(PKGLIBDIR) $(DESTDIR)$(MAN1DIR) $(DESTDIR)$(EXAMPLEDIR)
	$(INSTALL) -m 0644 $(BUILD)/libobjpool.so $(DESTDIR)$(PKGLIBDIR)/libobjpool.so
	$(INSTALL) -m 0755 $(CMD_TOOL) $(DESTDIR)$(PKGLIBDIR)/objpool-tool
	sed 's|^OBJPOOL_INSTALLED_LIBDIR=.*|OBJPOOL_INSTALLED_LIBDIR=$(PKGLIBDIR)|' scripts/objpool \
	    > $(DESTDIR)$(BINDIR)/objpool.tmp
	chmod 0755 $(DESTDIR)$(BINDIR)/objpool.tmp
	mv -f $(DESTDIR)$(BINDIR)/objpool.tmp $(DESTDIR)$(BINDIR)/objpool
	$(INSTALL) -m 0644 man/objpool.1 $(DESTDIR)$(MAN1DIR)/objpool.1
	$(INSTALL) -m 0644 $(addprefix config/,$(CMD_EXAMPLES)) $(DESTDIR)$(EXAMPLEDIR)/

# Removes exactly what install-command installed, then the directories that
# are ours alone if they are empty.
uninstall-command:
	rm -f $(DESTDIR)$(BINDIR)/objpool $(DESTDIR)$(MAN1DIR)/objpool.1
	rm -f $(DESTDIR)$(PKGLIBDIR)/libobjpool.so $(DESTDIR)$(PKGLIBDIR)/objpool-tool
	rm -f $(addprefix $(DESTDIR)$(EXAMPLEDIR)/,$(CMD_EXAMPLES))
	-rmdir $(DESTDIR)$(EXAMPLEDIR) $(DESTDIR)$(PREFIX)/share/doc/objpool $(DESTDIR)$(PKGLIBDIR) 2>/dev/null

# ---- fuzzing -----------------------------------------------------------
# Needs clang and its runtime (Debian: clang, libclang-rt-14-dev). The
# parser is compiled here with the sanitizers, from the unchanged sources.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_FLAGS    = -std=gnu11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
                -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_BIN      = $(BUILD)/fuzz/config_fuzz

fuzz-build: $(FUZZ_BIN)
CONFIG_SRC = $(wildcard preload/config/*.c) preload/base/log.c preload/base/proto_id.c
$(FUZZ_BIN): tests/fuzz/config_fuzz.c $(CONFIG_SRC) $(PRELOAD_HDR)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ tests/fuzz/config_fuzz.c $(CONFIG_SRC)

# New inputs go to build/fuzz/corpus; the seeds in tests/fuzz/corpus are
# only read. A crash leaves build/fuzz/crash-* and fails the target.
fuzz: $(FUZZ_BIN)
	@mkdir -p $(BUILD)/fuzz/corpus
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
	$(FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) -timeout=10 -max_len=8192 \
	    -dict=tests/fuzz/config.dict -artifact_prefix=$(BUILD)/fuzz/ -print_final_stats=1 \
	    $(BUILD)/fuzz/corpus tests/fuzz/corpus
