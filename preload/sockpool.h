/* sockpool.h - pooled connections: TCP and Unix stream sockets.
 * The acquire/release rules are shared/design.md §3; sockpool.c says how. */
#ifndef OBJPOOL_SOCKPOOL_H
#define OBJPOOL_SOCKPOOL_H

#include <sys/socket.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "registry.h"

extern int sock_ntargets __attribute__((visibility("hidden")));

/* connect()'s quick reject, one byte for each value of the two bytes that
 * follow sa_family in a socket address: sin_port/sin6_port (as stored, in
 * network order) for TCP targets, the first two bytes of sun_path for Unix
 * targets. A zero entry proves no target can match, whatever the family;
 * a non-zero one only sends the call on to the full match. All zero when no
 * pool is configured. 64 KiB of .bss: pages never written stay the shared
 * zero page. */
extern uint8_t sock_port_map[65536] __attribute__((visibility("hidden")));

/* May this address (at least 4 bytes) name a configured target? */
static inline int sockpool_addr_maybe(const struct sockaddr *a)
{
    uint16_t key;
    __builtin_memcpy(&key, (const char *)a + 2, sizeof key);
    return sock_port_map[key];
}

int sockpool_setup(struct config *cfg);
/* The target for this address, or NULL: the pass-through test of connect. */
struct target *sockpool_match(const struct sockaddr *addr, socklen_t len);
int sockpool_connect(int fd, struct target *t, const struct sockaddr *addr, socklen_t len);
/* The program closes a lease whose slot the caller has claimed. */
int sockpool_close(int fd, struct lease *l);
int sockpool_shutdown(int fd, struct lease *l, int how);
/* The program copied fd (dup family, F_DUPFD, SCM_RIGHTS): the socket
 * there may have another reference now, so it is never swapped out or
 * recycled. Any fd; a no-op when no TCP pool exists. */
void sockpool_note_copy(int fd);
/* A socket option the program set on fd (any fd). */
void sockpool_note_option(int fd, int level, int optname);
/* Around every program I/O call on a lease. io_begin returns 1 when the
 * call must not reach the kernel (*result and errno are set). */
int sockpool_io_begin(struct lease *l, int is_write, int flags, ssize_t *result);
void sockpool_io_end(struct lease *l, int is_write, int flags, ssize_t n, int err);
/* Discard a lease closed where no lock may be taken (signal handler). */
void sockpool_close_unlocked(int fd, struct lease *l, int *rc);
void sockpool_prewarm(void);
/* socket() while TCP pools exist: hand out a recycled spare socket when one
 * fits, else the real call. */
int sockpool_socket(int domain, int type, int protocol);
/* A forked child: forget the spare list (its fds are closed with the idle ones). */
void sockpool_after_fork_child(void);
#endif
