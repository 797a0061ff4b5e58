/* conn.h - pooled connections (TCP and Unix stream sockets): what the
 * interposers call. The rules are in docs/design.md ("Connections"). */
#ifndef OBJPOOL_CONN_H
#define OBJPOOL_CONN_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "../base/spec.h"
#include "../core/registry.h"

/* Number of connection targets; 0 makes socket()/connect() pass through. */
extern int conn_ntargets __attribute__((visibility("hidden")));

/* connect()'s quick reject, one byte for each value of the two bytes that
 * follow sa_family in a socket address: sin_port/sin6_port (as stored, in
 * network order) for TCP targets, the first two bytes of sun_path for Unix
 * targets. A zero entry proves no target can match, whatever the family;
 * a non-zero one only sends the call on to the full match. All zero when no
 * pool is configured. 64 KiB of .bss: pages never written stay the shared
 * zero page. */
extern uint8_t conn_key_map[65536] __attribute__((visibility("hidden")));

/* May this address (at least 4 bytes) name a configured target? */
static inline int conn_addr_maybe(const struct sockaddr *a)
{
    uint16_t key;
    __builtin_memcpy(&key, (const char *)a + 2, sizeof key);
    return conn_key_map[key];
}

int conn_setup(struct config *cfg);
/* The target for this address, or NULL: the pass-through test of connect. */
struct target *conn_match(const struct sockaddr *addr, socklen_t len);
int conn_connect(int fd, struct target *t, const struct sockaddr *addr, socklen_t len);
int conn_shutdown(int fd, struct record *r, int how);
/* The program copied fd (dup family, F_DUPFD, SCM_RIGHTS): the socket
 * there may have another reference now, so it is never swapped out or
 * recycled. Any fd; a no-op when no connection pool exists. */
void conn_note_copy(int fd);
/* A socket option the program set on fd (any fd). */
void conn_note_option(int fd, int level, int optname);
void conn_prewarm(void);
/* epoll_ctl while connection pools exist: the real call, recorded for the
 * swap and the park (conn/epoll.c). */
struct epoll_event;
int conn_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev);
/* The program made the epoll instance epfd (any way objpool sees): a
 * parked connection is taken out of it (conn/epoll.c). */
void conn_epoll_created(int epfd);
/* fd names a new object now: forget its epoll records. */
void conn_epoll_forget(int fd);
/* socket() while TCP pools exist: hand out a recycled spare socket when one
 * fits, else the real call. */
int conn_socket(int domain, int type, int protocol);
/* dlopen/dlmopen with RTLD_DEEPBIND while connection pools exist
 * (deepbind.c): the loader's count of objects loaded, taken before the
 * call; after it, warn (once for each library) if the load added an
 * object that may connect, since its calls bypass objpool. `call` names
 * the function, `file` what the program asked for, `handle` its result. */
unsigned long long conn_dl_adds(void);
void conn_dl_loaded(const char *call, const char *file, void *handle, unsigned long long before);
#endif
