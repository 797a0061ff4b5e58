# mk/command.mk - the `objpool` command: its C helper, the man pages with
# the version written in, install/uninstall, and the configuration parser's
# fuzz target.
#
#   make                                  also builds build/objpool-tool, build/man/*
#   make install PREFIX=/usr/local DESTDIR=
#   make uninstall PREFIX=/usr/local DESTDIR=
#   make fuzz FUZZ_SECONDS=60             libFuzzer on preload/config/ (clang)
#
# Packagers set PKGLIBDIR (where libobjpool.so and the helper go; Debian:
# /usr/lib/<multiarch>/objpool) and SYSCONFDIR (the system configuration
# file's directory, /etc); install writes both into the installed script.

PREFIX      ?= /usr/local
DESTDIR     ?=
BINDIR      ?= $(PREFIX)/bin
PKGLIBDIR   ?= $(PREFIX)/lib/objpool
SYSCONFDIR  ?= /etc
MAN1DIR     ?= $(PREFIX)/share/man/man1
MAN5DIR     ?= $(PREFIX)/share/man/man5
EXAMPLEDIR  ?= $(PREFIX)/share/doc/objpool/examples
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
INSTALL     ?= install

CMD_TOOL     = $(BUILD)/objpool-tool
CMD_EXAMPLES = redis.conf http.conf files.conf everything.conf
CMD_MAN      = $(BUILD)/man/objpool.1 $(BUILD)/man/objpool.conf.5
# the library directory as seen from the installed script
CMD_RELLIBDIR = $(shell realpath -m --relative-to=$(BINDIR) $(PKGLIBDIR))

# The helper reads JSON reports with jansson (libjansson-dev); the preload
# library never links it.
JSON_CFLAGS := $(shell pkg-config --cflags jansson 2>/dev/null)
JSON_LIBS   := $(shell pkg-config --libs jansson 2>/dev/null || echo -ljansson)

.PHONY: install uninstall install-command uninstall-command fuzz fuzz-build man

all: $(CMD_TOOL) man
# tests/run builds `tools`: the command's tests need the helper too
tools: $(CMD_TOOL)
man: $(CMD_MAN)

# Links the library's own parser objects, unchanged: one parser for both.
CONFIG_OBJ = $(patsubst preload/%.c,$(BUILD)/obj/%.o,$(wildcard preload/config/*.c)) $(BUILD)/obj/base/log.o $(BUILD)/obj/base/real.o $(BUILD)/obj/base/raw.o $(BUILD)/obj/base/proto_id.o $(BUILD)/obj/core/reasons.o $(BUILD)/obj/core/pool.o $(BUILD)/obj/core/pool_sets.o $(BUILD)/obj/core/pool_admin.o
# The helper's own sources: one file per subcommand (scripts/tool/tool.h).
CMD_TOOL_SRC = $(sort $(wildcard scripts/tool/*.c))
$(CMD_TOOL): $(CMD_TOOL_SRC) scripts/tool/tool.h $(CONFIG_OBJ) $(PRELOAD_HDR)
	@$(call need_header,jansson.h,libjansson-dev)
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(JSON_CFLAGS) $(LDFLAGS) -o $@ \
	    $(CMD_TOOL_SRC) $(CONFIG_OBJ) $(JSON_LIBS)

# The pages in man/ name their source "objpool" on the .TH line; the built
# ones say "objpool VERSION". A page whose .TH line lacks it fails the build.
$(BUILD)/man/%: man/% VERSION
	@mkdir -p $(dir $@)
	sed '1s/ "objpool" / "objpool $(OBJPOOL_VERSION)" /' $< >$@.tmp
	@grep -q '^\.TH .* "objpool $(OBJPOOL_VERSION)" ' $@.tmp || \
	    { echo "$<: line 1 must be .TH ... \"objpool\" ..." >&2; rm -f $@.tmp; exit 1; }
	mv -f $@.tmp $@

install: install-command
uninstall: uninstall-command

# The installed script finds the library and the helper at the path install
# writes into it (relative to itself first, so that a DESTDIR copy works,
# then absolute); the version and the system configuration file are
# written in the same way. The build fails if a line was not replaced.
install-command: $(BUILD)/libobjpool.so $(CMD_TOOL) $(CMD_MAN)
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(PKGLIBDIR) $(DESTDIR)$(MAN1DIR) $(DESTDIR)$(MAN5DIR) \
	    $(DESTDIR)$(EXAMPLEDIR) $(DESTDIR)$(COMPLETIONDIR)
	$(INSTALL) -m 0644 $(BUILD)/libobjpool.so $(DESTDIR)$(PKGLIBDIR)/libobjpool.so
	$(INSTALL) -m 0755 $(CMD_TOOL) $(DESTDIR)$(PKGLIBDIR)/objpool-tool
	sed -e 's|^OBJPOOL_VERSION=$$|OBJPOOL_VERSION=$(OBJPOOL_VERSION)|' \
	    -e 's|^OBJPOOL_INSTALLED_LIBDIR=$$|OBJPOOL_INSTALLED_LIBDIR=$(PKGLIBDIR)|' \
	    -e 's|^OBJPOOL_INSTALLED_RELLIBDIR=$$|OBJPOOL_INSTALLED_RELLIBDIR=$(CMD_RELLIBDIR)|' \
	    -e 's|^OBJPOOL_SYSTEM_CONFIG=.*|OBJPOOL_SYSTEM_CONFIG=$(SYSCONFDIR)/objpool.conf|' \
	    scripts/objpool >$(DESTDIR)$(BINDIR)/objpool.tmp
	@test "$$(grep -c -e '^OBJPOOL_VERSION=.' -e '^OBJPOOL_INSTALLED_LIBDIR=.' \
	    -e '^OBJPOOL_INSTALLED_RELLIBDIR=.' $(DESTDIR)$(BINDIR)/objpool.tmp)" = 3 || \
	    { echo "install: scripts/objpool: an OBJPOOL_ line was not written in" >&2; exit 1; }
	chmod 0755 $(DESTDIR)$(BINDIR)/objpool.tmp
	mv -f $(DESTDIR)$(BINDIR)/objpool.tmp $(DESTDIR)$(BINDIR)/objpool
	$(INSTALL) -m 0644 $(BUILD)/man/objpool.1 $(DESTDIR)$(MAN1DIR)/objpool.1
	$(INSTALL) -m 0644 $(BUILD)/man/objpool.conf.5 $(DESTDIR)$(MAN5DIR)/objpool.conf.5
	$(INSTALL) -m 0644 $(addprefix config/,$(CMD_EXAMPLES)) $(DESTDIR)$(EXAMPLEDIR)/
	$(INSTALL) -m 0644 completion/objpool.bash $(DESTDIR)$(COMPLETIONDIR)/objpool

# Removes exactly what install-command installed, then the directories that
# are ours alone if they are empty.
uninstall-command:
	rm -f $(DESTDIR)$(BINDIR)/objpool $(DESTDIR)$(MAN1DIR)/objpool.1 $(DESTDIR)$(MAN5DIR)/objpool.conf.5
	rm -f $(DESTDIR)$(PKGLIBDIR)/libobjpool.so $(DESTDIR)$(PKGLIBDIR)/objpool-tool
	rm -f $(addprefix $(DESTDIR)$(EXAMPLEDIR)/,$(CMD_EXAMPLES)) $(DESTDIR)$(COMPLETIONDIR)/objpool
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
CONFIG_SRC = $(wildcard preload/config/*.c) preload/base/log.c preload/base/proto_id.c preload/base/real.c preload/base/raw.c
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
