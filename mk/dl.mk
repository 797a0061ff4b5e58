# mk/dl.mk - the dlopen test programs (tests/interpose/eventloops.bats, RTLD_DEEPBIND):
# two small libraries, one that calls connect and one that does not, and
# dlcheck, linked with RUNPATH $ORIGIN/dl so that a bare library name is
# found only through its caller's RUNPATH.
#
#   make tools      also builds build/tests/dlcheck, build/tests/dl/*.so

DL_PLUGS = $(BUILD)/tests/dl/libdlplug.so $(BUILD)/tests/dl/libdlquiet.so
DL_CHECK = $(BUILD)/tests/dlcheck

tools: $(DL_PLUGS) $(DL_CHECK)

$(BUILD)/tests/dl/%.so: tests/tools/dl/%.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE -fPIC -shared $(WARN) $(CFLAGS) -o $@ $<

$(DL_CHECK): tests/tools/dl/dlcheck.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -Wl,--enable-new-dtags,-rpath,'$$ORIGIN/dl' \
	    -o $@ $< -ldl
