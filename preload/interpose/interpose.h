/* interpose.h - what the thin interposer files share: the layers below
 * them, the export marker, and the one body of an I/O call on a lease. */
#ifndef OBJPOOL_INTERPOSE_H
#define OBJPOOL_INTERPOSE_H

#include <errno.h>

#include "../base/export.h"
#include "../base/real.h"
#include "../base/state.h"
#include "../core/registry.h"
#include "../lease/lease.h"

/* Give core/band.c the lease layer's part of close, dup and fcntl
 * (interpose/fd.c); init, before the registry exists. */
void fd_hooks_install(void);

/* A program I/O call on a lease: lease_io_begin may answer it without the
 * kernel (after a deferred shutdown, or EBADF on objpool's own number);
 * otherwise the real call runs and lease_io_end accounts for what moved
 * (the bytes, for the protocol layer), errno untouched. */
#define IO_ON_LEASE(r, is_write, flags, data, call)                  \
    do {                                                             \
        ssize_t res_;                                                \
        struct io_data d_ = (data);                                  \
        if (lease_io_begin((r), fd, (is_write), (flags), &d_, &res_)) \
            return res_;                                             \
        res_ = (call);                                               \
        lease_io_end((r), (is_write), (flags), res_, &d_);           \
        return res_;                                                 \
    } while (0)
#endif
