# mk/dl.mk - the dlopen test programs (tests/interpose/eventloops.bats, RTLD_DEEPBIND):
# small libraries (one that calls connect, one that does not, one that keeps
# &close, one that loads another, full-RELRO and sealed ones), and
# dlcheck, linked with RUNPATH $ORIGIN/dl so that a bare library name is
# found only through its caller's RUNPATH.
#
#   make tools      also builds build/tests/dlcheck, build/tests/dl/*.so

DL_PLUGS = $(BUILD)/tests/dl/libdlplug.so $(BUILD)/tests/dl/libdlquiet.so \
           $(BUILD)/tests/dl/libdlsaved.so $(BUILD)/tests/dl/libdlnest.so \
           $(BUILD)/tests/dl/libdlnow.so $(BUILD)/tests/dl/libdlsealed.so \
           $(BUILD)/tests/dl/libdlnoplt.so
DL_CHECK = $(BUILD)/tests/dlcheck

tools: $(DL_PLUGS) $(DL_CHECK)

$(BUILD)/tests/dl/%.so: tests/tools/dl/%.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE -fPIC -shared $(WARN) $(CFLAGS) -o $@ $<

# libdlplug again, linked with full RELRO: its whole GOT is read-only
$(BUILD)/tests/dl/libdlnow.so: tests/tools/dl/libdlplug.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE -fPIC -shared $(WARN) $(CFLAGS) -Wl,-z,relro,-z,now -o $@ $<

# libdlplug again, without PLT: every call goes through a GLOB_DAT slot
$(BUILD)/tests/dl/libdlnoplt.so: tests/tools/dl/libdlplug.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE -fPIC -fno-plt -shared $(WARN) $(CFLAGS) -o $@ $<

$(BUILD)/tests/dl/libdlsealed.so: tests/tools/dl/libdlsealed.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE -fPIC -shared $(WARN) $(CFLAGS) -Wl,-z,relro,-z,now -o $@ $<

$(DL_CHECK): tests/tools/dl/dlcheck.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -Wl,--enable-new-dtags,-rpath,'$$ORIGIN/dl' \
	    -o $@ $< -ldl -lpthread
