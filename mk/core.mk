# mk/core.mk - the pool core as a C library (libobjpool-core), its
# pkg-config file, man page, example and unit tests.
#
#   make                          build/libobjpool-core.{a,so}, build/objpool.pc,
#                                 build/examples/pool_buffers, build/tests/unit/*
#   make install-core   PREFIX=/usr/local DESTDIR=
#   make uninstall-core PREFIX=/usr/local DESTDIR=
#
# The same preload/core/pool*.c the preload links; for the shared library it is
# compiled with -DOBJPOOL_BUILD_SHARED so that only the objpool_* API is
# exported (BASEFLAGS has -fvisibility=hidden).

PREFIX      ?= /usr/local
DESTDIR     ?=
INSTALL     ?= install
AR          ?= ar
LIBDIR      ?= $(PREFIX)/lib
INCLUDEDIR  ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
MAN3DIR     ?= $(PREFIX)/share/man/man3

CORE_VERSION = $(OBJPOOL_VERSION)
CORE_SOMAJOR = 0
CORE_A       = $(BUILD)/libobjpool-core.a
CORE_SO      = $(BUILD)/libobjpool-core.so
CORE_PC      = $(BUILD)/objpool.pc
CORE_HDR     = preload/core/objpool.h
CORE_EXAMPLES = $(BUILD)/examples/pool_buffers
CORE_UNIT_SRC = $(wildcard tests/unit/core_*.c)
CORE_UNIT     = $(CORE_UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%)

.PHONY: core install-core uninstall-core

core: $(CORE_A) $(CORE_SO) $(CORE_PC) $(CORE_EXAMPLES) $(CORE_UNIT) $(BUILD)/man/objpool.3
all: core
# tests/run builds `tools`; the core's tests need their programs too
tools: $(CORE_EXAMPLES) $(CORE_UNIT)

# the generic pool: pool.c and the files beside it that share its insides
CORE_SRC     = preload/core/pool.c preload/core/pool_sets.c preload/core/pool_admin.c
CORE_DEPS    = $(CORE_HDR) preload/core/pool_internal.h preload/base/clock.h
CORE_OBJ     = $(CORE_SRC:preload/core/%.c=$(BUILD)/core/%.o)
CORE_SHOBJ   = $(CORE_SRC:preload/core/%.c=$(BUILD)/core/%.shared.o)

$(BUILD)/core/%.o: preload/core/%.c $(CORE_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/core/%.shared.o: preload/core/%.c $(CORE_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(CFLAGS) -DOBJPOOL_BUILD_SHARED -c $< -o $@

$(CORE_A): $(CORE_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

$(CORE_SO): $(CORE_SHOBJ)
	$(CC) -shared $(CFLAGS) $(LDHARDEN) -Wl,-soname,libobjpool-core.so.$(CORE_SOMAJOR) \
	    -o $@ $^ -lpthread

# libdir/includedir are written relative to ${prefix} when they lie under
# it, so pkg-config's sysroot and prefix handling work on the result.
$(CORE_PC): mk/core.mk VERSION
	@mkdir -p $(dir $@)
	printf '%s\n' \
	    'prefix=$(PREFIX)' \
	    'exec_prefix=$${prefix}' \
	    'libdir=$(patsubst $(PREFIX)%,$${exec_prefix}%,$(LIBDIR))' \
	    'includedir=$(patsubst $(PREFIX)%,$${prefix}%,$(INCLUDEDIR))' \
	    '' \
	    'Name: objpool' \
	    'Description: Generic object pool for C (acquire/release, validation, expiry, scoped borrow)' \
	    'Version: $(CORE_VERSION)' \
	    'Libs: -L$${libdir} -lobjpool-core' \
	    'Libs.private: -lpthread' \
	    'Cflags: -I$${includedir}' > $@.tmp
	mv -f $@.tmp $@

# The .pc holds PREFIX: rebuild it when PREFIX differs from the last build.
CORE_PC_STAMP = $(BUILD)/core/prefix.$(subst /,_,$(PREFIX)$(LIBDIR)$(INCLUDEDIR))
$(CORE_PC): $(CORE_PC_STAMP)
$(CORE_PC_STAMP):
	@mkdir -p $(dir $@)
	@rm -f $(BUILD)/core/prefix.*
	@touch $@

# Programs that use the library link the static archive: they run from the
# build tree without LD_LIBRARY_PATH.
$(BUILD)/examples/%: examples/%.c $(CORE_HDR) $(CORE_A)
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -Ipreload/core -o $@ $< $(CORE_A) -lpthread

$(BUILD)/tests/unit/%: tests/unit/%.c $(CORE_HDR) $(CORE_A)
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -Ipreload/core -o $@ $< $(CORE_A) -lpthread

install: install-core
uninstall: uninstall-core

install-core: $(CORE_A) $(CORE_SO) $(CORE_PC) $(BUILD)/man/objpool.3
	$(INSTALL) -d $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(MAN3DIR)
	$(INSTALL) -m 0644 $(CORE_HDR) $(DESTDIR)$(INCLUDEDIR)/objpool.h
	$(INSTALL) -m 0644 $(CORE_A) $(DESTDIR)$(LIBDIR)/libobjpool-core.a
	$(INSTALL) -m 0755 $(CORE_SO) $(DESTDIR)$(LIBDIR)/libobjpool-core.so.$(CORE_SOMAJOR)
	ln -sf libobjpool-core.so.$(CORE_SOMAJOR) $(DESTDIR)$(LIBDIR)/libobjpool-core.so
	$(INSTALL) -m 0644 $(CORE_PC) $(DESTDIR)$(PKGCONFIGDIR)/objpool.pc
	$(INSTALL) -m 0644 $(BUILD)/man/objpool.3 $(DESTDIR)$(MAN3DIR)/objpool.3

# Removes exactly what install-core installed (the directories are shared).
uninstall-core:
	rm -f $(DESTDIR)$(INCLUDEDIR)/objpool.h
	rm -f $(DESTDIR)$(LIBDIR)/libobjpool-core.a $(DESTDIR)$(LIBDIR)/libobjpool-core.so \
	    $(DESTDIR)$(LIBDIR)/libobjpool-core.so.$(CORE_SOMAJOR)
	rm -f $(DESTDIR)$(PKGCONFIGDIR)/objpool.pc $(DESTDIR)$(MAN3DIR)/objpool.3

# The preload's slab allocator (preload/core/slab.c) on its own: tests/core/slab.bats.
SLAB_UNIT = $(BUILD)/tests/unit/slab_test
$(SLAB_UNIT): tests/unit/slab_test.c preload/core/slab.c preload/core/slab.h
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -Ipreload/core -o $@ tests/unit/slab_test.c preload/core/slab.c -lpthread
core tools: $(SLAB_UNIT)
