# mk/hardening.mk - sanitizers, valgrind and static checks (issue 7).
#
#   make asan          library + every test program with AddressSanitizer (clang),
#                      pool_stress, then the whole bats suite against them
#   make ubsan         the same with UndefinedBehaviorSanitizer
#   make tsan          ThreadSanitizer: pool_stress and the threaded bats tests
#   make valgrind      memcheck over pool_stress and the C test programs, with the preload
#   make check-static  cppcheck, clang-tidy, -Werror builds with gcc and clang, and
#                      the shape of the tree (check-house: tests/layers.py, ...)
#   make hardening     all of the above
#
# Each sanitizer builds into its own tree (build/asan, build/ubsan, ...);
# tests/sanitizers/run does the work, docs/hardening.md says why it is done
# that way.  Needs clang and libclang-rt-14-dev (the sanitizer runtimes).

SAN_CC        ?= clang
CPPCHECK      ?= cppcheck
CLANG_TIDY    ?= clang-tidy
STATIC_SRC     = $(PRELOAD_SRC) $(TOOL_SRC) $(wildcard tests/sanitizers/*.c tests/unit/*.c \
                 examples/*.c scripts/tool/*.c tests/fuzz/*.c)
SAN_TOOLS      = $(BUILD)/sanitizers/pool_stress $(BUILD)/sanitizers/secure_probe

.PHONY: asan ubsan tsan valgrind check-static cppcheck clang-tidy check-build-gcc \
        check-build-clang hardening sanitizer-tools

asan ubsan tsan valgrind:
	SAN_CC=$(SAN_CC) tests/sanitizers/run $@

hardening: check-static asan ubsan tsan valgrind

# The pool core's stress program and the AT_SECURE probe; tests/run builds
# `tools`, and tests/config/hardening.bats needs the probe.
sanitizer-tools: $(SAN_TOOLS)
tools: $(SAN_TOOLS)
$(BUILD)/sanitizers/pool_stress: tests/sanitizers/pool_stress.c $(CORE_SRC) $(CORE_DEPS)
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -Ipreload/core -o $@ \
	    tests/sanitizers/pool_stress.c $(CORE_SRC) -lpthread
$(BUILD)/sanitizers/secure_probe: tests/sanitizers/secure_probe.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -o $@ $< -ldl

check-static: cppcheck clang-tidy check-build-gcc check-build-clang check-house

# The shape of the tree, from the source text: preload/'s layers and file
# rules, the same file rules for the command's helper, the benches and the
# test tools, docs/design.md's picture and the README's suites table
# (tests/house/layering.bats runs them too, and plants a violation for each).
PYTHON ?= python3
.PHONY: check-house
check-house:
	$(PYTHON) tests/layers.py preload
	$(PYTHON) tests/house.py .
	$(PYTHON) tests/picture.py .
	$(PYTHON) tests/suites.py .

# Findings that are not bugs are answered, with the reason, in
# .cppcheck-suppressions; inline suppressions are not used.
cppcheck:
	$(CPPCHECK) --quiet --error-exitcode=1 --std=c11 --platform=unix64 \
	    --enable=warning,style,performance,portability \
	    --suppressions-list=.cppcheck-suppressions \
	    -D_GNU_SOURCE -D__x86_64__ -D__linux__ "-DElfW(type)=Elf64_##type" -Ipreload/core \
	    $(STATIC_SRC)

# The checks and the reasons for each one left out are in .clang-tidy.
clang-tidy:
	$(CLANG_TIDY) --quiet $(STATIC_SRC) -- -std=gnu11 -D_GNU_SOURCE -Ipreload/core -fvisibility=hidden

# The whole tree, warning-free at -Wall -Wextra -Werror (WARN) with each compiler.
check-build-gcc:
	$(MAKE) -s BUILD=build/check-gcc CC=gcc CFLAGS='-O2 -g' all sanitizer-tools
check-build-clang:
	$(MAKE) -s BUILD=build/check-clang CC=clang CFLAGS='-O2 -g' all sanitizer-tools
