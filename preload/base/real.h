/* real.h - the libc functions objpool interposes (listed once, in
 * base/real_list.h), resolved once with dlsym(RTLD_NEXT). Inside objpool
 * every call of one of these goes through `real`, never back through an
 * exported interposer. Until resolution the
 * system-call functions and fopen/fclose/freopen point at shims (raw system
 * calls, or a lookup on first use), so they are never NULL; closefrom,
 * vfork, posix_spawn[p], system, popen and the exec family have no shim
 * and are NULL until real_resolve() ran (the exec and spawn interposers
 * run after start-up; system, popen and closefrom test). dlopen and
 * dlmopen start at shims that resolve them on first use. */
#ifndef OBJPOOL_REAL_H
#define OBJPOOL_REAL_H

#include <dlfcn.h>
#include <spawn.h>
#include <stdarg.h>
#include <time.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "real_list.h"

/* One member per line of base/real_list.h. */
#define REAL_MEMBER(name, symbol, ret, params, shim) ret(*name) params;
struct real_fns {
    REAL_FUNCTIONS(REAL_MEMBER)
};
#undef REAL_MEMBER

extern struct real_fns real __attribute__((visibility("hidden")));

void real_resolve(void);
/* dlsym(RTLD_NEXT, name), for code that reads a symbol by name. */
void *real_next(const char *name);

/* Raw system calls for the window before real_resolve() has run, and for
 * objpool's own internal use where a libc wrapper might be interposed by
 * someone else too. */
int raw_close(int fd);
#endif
