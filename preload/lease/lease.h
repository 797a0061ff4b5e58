/* lease.h - the lease lifecycle, one for every kind of object.
 *
 * A kind (connections, files) fills a struct kind_ops, the way Redis' C
 * gives each connection type a ConnectionType table: what a release, an
 * I/O call and an fcntl mean for it, and how the report reads its pools.
 * Records and targets point at their kind's table; this layer calls
 * through it and never asks which kind it holds. What is the same for every
 * kind lives here once: reuse an idle object or adopt the new one,
 * the program's close (with its lock-free path for a signal handler),
 * discarding, forgetting a record whose object was closed behind us, and
 * the graveyard's accounting.
 */
#ifndef OBJPOOL_LEASE_H
#define OBJPOOL_LEASE_H

#include <stdio.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "../base/spec.h"
#include "../core/objpool.h"
#include "../core/registry.h"

/* The bytes of one program I/O call: a buffer, or an iovec array. */
struct msghdr;
struct io_data {
    const void *buf;
    const struct iovec *iov;
    int iovcnt;
    size_t len;            /* buf's size */
    const struct msghdr *msg; /* recvmsg/sendmsg: the header, else NULL */
};
#define IO_BUF(b, n) ((struct io_data){(b), NULL, 0, (n), NULL})
#define IO_IOV(v, n) ((struct io_data){NULL, (v), (n), 0, NULL})
#define IO_MSG(m) ((struct io_data){NULL, (m) ? (m)->msg_iov : NULL, (m) ? (int)(m)->msg_iovlen : 0, 0, (m)})

struct kind_ops {
    const char *name; /* "tcp", "unix", "file": the report's kind */
    /* The program closes a lease whose slot the caller claimed (by fclose
     * when fp is not NULL): park it or destroy it. Returns what close (or
     * fclose) returns, errno as it leaves it. */
    int (*release)(struct record *r, int fd, FILE *fp);
    /* Around a program I/O call on a lease (the lease layer checked that it
     * is one). io_begin returns 1 when the call must not reach the kernel
     * (*result and errno set). NULL: nothing to do. */
    int (*io_begin)(struct record *r, int fd, int is_write, int flags, const struct io_data *d, ssize_t *result);
    void (*io_end)(struct record *r, int is_write, int flags, ssize_t n, int err, const struct io_data *d);
    /* A successful fcntl the program made on a lease. */
    void (*fcntl)(struct record *r, int cmd, long arg);
    /* The reason counted when the number is found to name another object
     * (a close objpool never saw, dup2 over it), and when glibc closes the
     * object behind objpool's back (freopen, fclose of an fdopen'd FILE). */
    int replaced_reason;
    int detached_reason;
    /* The report: a target's counters, its expiry, its reset. */
    void (*stats)(struct target *t, objpool_stats_t *out);
    void (*evict_expired)(struct target *t);
    void (*reset_stats)(struct target *t);
    /* Optional: what else the report says of a target, as JSON members
     * (",\"name\":..."), and as one line of text; "" for nothing. */
    void (*report_more)(struct target *t, int json, char *buf, size_t size);
};

/* A generic pool for a target, with its options; the preload creates
 * objects itself (the real connect or open), never through the pool. */
objpool_t *lease_pool_new(struct target *t, objpool_destroy_fn destroy, objpool_validate_fn validate,
                          objpool_reset_fn reset, void *user);

/* Acquire: an idle object the pool validates and reset()s with ctx, or
 * NULL (then make the object and lease_adopt it). *gen is the fork
 * generation to pass to lease_adopt. */
struct record *lease_reuse(objpool_t *pool, void *ctx, unsigned *gen);
/* A new object, made by the real call, becomes a lease at r->fd (a miss).
 * create_ns > 0: it was timed, and counts for `timing`'s create time. */
void lease_adopt(struct record *r, unsigned gen, uint64_t create_ns, struct target *timing);
void lease_create_failed(objpool_t *pool);
/* The object of a lease made by lease_adopt, closed already, never came to
 * be (a connect refused after it was adopted): its miss becomes a create
 * failure and the record is freed. */
void lease_adopt_failed(struct record *r);
/* A record for a new lease of target t at fd. NULL if the arena is spent. */
struct record *lease_new(int fd, int kind, struct target *t);

/* The program's close (fp: its fclose) of a lease at fd. */
int lease_close(int fd, struct record *r, FILE *fp);
/* Destroy a lease whose object is closed already, counting why. */
void lease_discard(struct record *r, int reason);
/* The object at fd was (or is about to be) closed without objpool: forget
 * the lease there, counted as `reason` (0: its kind's replaced_reason).
 * `inside`: the caller holds the guard already. */
void lease_forget(int fd, struct record *r, int reason, int inside);
/* After a park: age out idle objects (objpool starts no thread for it). */
void lease_after_park(struct target *t);
/* Account for records closed on the lock-free path. */
void bury_graveyard(void);

/* Around every program I/O call on a record (see kind_ops). */
int lease_io_begin(struct record *r, int fd, int is_write, int flags, const struct io_data *d, ssize_t *result);
void lease_io_end(struct record *r, int is_write, int flags, ssize_t n, const struct io_data *d);
#endif
