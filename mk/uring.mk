# tests/tools/uring_epoll registers epoll interest through io_uring, as
# libuv >= 1.50 does: it links liburing when pkg-config finds it, and is
# built without it otherwise (it then exits 77 and its test skips).
URING_LIBS := $(shell pkg-config --libs liburing 2>/dev/null)
URING_DEF  := $(if $(URING_LIBS),-DHAVE_LIBURING)
$(BUILD)/tests/uring_epoll: tests/tools/uring_epoll.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(URING_DEF) -o $@ $< $(URING_LIBS)
