/* interpose.h - what the thin interposer files share. */
#ifndef OBJPOOL_INTERPOSE_H
#define OBJPOOL_INTERPOSE_H

#include <errno.h>

#include "init.h"
#include "real.h"
#include "registry.h"
#include "sockpool.h"

/* The only symbols the shared object exports. */
#define OBJPOOL_EXPORT __attribute__((visibility("default")))

#define likely(x) __builtin_expect(!!(x), 1)

/* After a program I/O call on a lease: account for it, errno untouched. */
static inline void io_done(struct lease *l, int is_write, int flags, ssize_t n)
{
    int err = errno;
    sockpool_io_end(l, is_write, flags, n, err);
    errno = err;
}
#endif
