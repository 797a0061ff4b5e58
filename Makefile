# objpool build. `make` builds the preload, the core library and the test tools.
CC      ?= cc
CFLAGS  ?= -O2 -g
WARN     = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
BASEFLAGS = -std=gnu11 -fPIC -fvisibility=hidden -D_GNU_SOURCE $(WARN)
LDHARDEN = -Wl,-z,relro,-z,now -Wl,-z,noexecstack
BUILD   ?= build
# The one version number: every artefact (the .pc file, the man pages, the
# command, the Debian package) takes it from ./VERSION.
OBJPOOL_VERSION := $(shell cat VERSION)

# preload/ in layers, one folder each (docs/design.md draws them):
# base/ core/ lease/ conn/ file/ config/ report/ interpose/
PRELOAD_SRC = $(sort $(wildcard preload/*/*.c preload/*/*/*.c))
PRELOAD_OBJ = $(PRELOAD_SRC:preload/%.c=$(BUILD)/obj/%.o)
PRELOAD_HDR = $(sort $(wildcard preload/*/*.h preload/*/*/*.h))

TOOL_SRC = $(wildcard tests/tools/*.c)
TOOLS    = $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tests/%)

.PHONY: all test demo clean bench tools

# $(call need_header,HEADER,PACKAGE) as a recipe's first line: a target
# that needs a library beyond libc stops with one line that names the
# Debian package when the compiler cannot find its header, instead of
# with the compiler's error (`make test` as root installs it first).
need_header = printf '\#include <%s>\n' '$(1)' | $(CC) -E -x c - >/dev/null 2>&1 || \
	{ echo "objpool: $@ needs $(1): apt-get install $(2) (or run make test as root)" >&2; exit 1; }
all: $(BUILD)/libobjpool.so tools

$(BUILD)/obj/%.o: preload/%.c $(PRELOAD_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/libobjpool.so: $(PRELOAD_OBJ)
	$(CC) -shared $(CFLAGS) $(LDHARDEN) -o $@ $^ -ldl -lpthread

tools: $(TOOLS)
$(BUILD)/tests/%: tests/tools/%.c tests/tools/tool.h
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -o $@ $< -lpthread
# A tool too long for one file keeps its parts in a folder of its own,
# included by the tool's file (one program, one compiler run).
$(BUILD)/tests/hazard: $(wildcard tests/tools/hazard/*.c)
$(BUILD)/tests/tagclient: $(wildcard tests/tools/tagclient/*.c)

# tests/run installs the Debian packages the build and the tests need
# (as root, with apt-get) before it builds anything, then builds `all`
# and runs the suite; so `test` has no prerequisites of its own.
test:
	tests/run --build

# The demo runs the preload and two test programs: it builds those alone,
# which need nothing beyond gcc, make and libc (build-essential).
DEMO_NEEDS = $(BUILD)/libobjpool.so $(BUILD)/tests/tagserver $(BUILD)/tests/tagclient
demo: $(DEMO_NEEDS)
	BUILD=$(BUILD) scripts/demo.sh

clean:
	rm -rf $(BUILD)

# Each concern adds its own targets in mk/NAME.mk (core library, command,
# benchmarks, hardening): `all:` lines there add to the default build.
-include mk/*.mk
