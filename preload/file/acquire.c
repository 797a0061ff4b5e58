/* acquire.c - the fopen and open families on a configured path: a hit
 * hands out an idle object (file.c's file_reset), a miss is the real call,
 * adopted as a lease. One path serves both families. */
#include "internal.h"

#include <errno.h>
#include <sys/stat.h>

#include "../base/clock.h"
#include "../base/log.h"
#include "../base/real.h"
#include "../base/state.h"

/* One open the program made: which real call, with what arguments. */
struct open_call {
    int is_stream, is64; /* the fopen family; fopen64 */
    enum open_variant v; /* the open family's entry point */
    int dirfd;
    const char *path;
    const char *mode; /* fopen */
    int flags;        /* open */
    mode_t perm;      /* open, passed on only */
    FILE *fp;         /* what the fopen family returned */
};

/* The program's own entry point, so fortify checks and 64-bit variants
 * behave as without objpool. The fd made, or -1. */
static int open_real(struct open_call *c)
{
    if (c->is_stream) {
        c->fp = c->is64 ? real.fopen64(c->path, c->mode) : real.fopen(c->path, c->mode);
        return c->fp ? fileno(c->fp) : -1;
    }
    switch (c->v) {
    case OV_OPEN: return real.open(c->path, c->flags, c->perm);
    case OV_OPEN64: return real.open64(c->path, c->flags, c->perm);
    case OV_OPENAT: return real.openat(c->dirfd, c->path, c->flags, c->perm);
    case OV_OPENAT64: return real.openat64(c->dirfd, c->path, c->flags, c->perm);
    case OV_OPEN_2: return real.open_2(c->path, c->flags);
    case OV_OPEN64_2: return real.open64_2(c->path, c->flags);
    case OV_OPENAT_2: return real.openat_2(c->dirfd, c->path, c->flags);
    case OV_OPENAT64_2: return real.openat64_2(c->dirfd, c->path, c->flags);
    }
    errno = EINVAL;
    return -1;
}

/* A new object from the real call becomes a lease (counted as a miss). */
static void adopt(struct fkey *k, int fd, FILE *fp, int flags, uint64_t create_ns, unsigned gen)
{
    struct stat st;
    if ((unsigned)fd >= reg_nslots || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
        return; /* only regular files (and /proc, /sys files, which are): a FIFO or device is its own thing */
    struct record *old = reg_get(fd);
    if (old) /* a record left at this number by a close objpool did not see */
        lease_forget(fd, old, 0, 1);
    struct record *l = lease_new(fd, KIND_FILE, &k->t);
    if (!l)
        return;
    l->dev = st.st_dev;
    l->ino = st.st_ino;
    file_rec(l)->fp = fp;
    file_rec(l)->open_flags = flags & KEY_FLAGS;
    l->status_flags = flags & STATUS_FLAGS;
    /* the report's create time and time saved are per configured target */
    lease_adopt(l, gen, create_ns, k->parent);
}

/* A hit, or the real call adopted as a lease. Returns the fd the program
 * gets (c->fp for the fopen family), or -1 with the real call's errno. */
static int acquire(struct fkey *k, struct open_call *c, int flags)
{
    int saved = errno;
    unsigned gen;
    struct hit_ctx h = {(flags & O_CLOEXEC) != 0};
    struct record *l = lease_reuse(k->t.pool, &h, &gen);
    if (l) {
        log_debug("open %s: reused, fd %d", k->path, l->fd);
        c->fp = file_rec(l)->fp;
        errno = saved;
        return l->fd;
    }
    uint64_t t0 = now_ns();
    int fd = open_real(c);
    int err = errno;
    if (fd >= 0) {
        adopt(k, fd, c->fp, flags, now_ns() - t0, gen);
        log_debug("open %s: new, fd %d", k->path, fd);
    } else {
        lease_create_failed(k->t.pool);
    }
    errno = err;
    return fd;
}

/* The open, pooled when its path is configured; `stream_flags` is the
 * key's flags (-1: never pooled). */
static int open_pooled(struct open_call *c, int flags, int key_flags)
{
    int saved = errno;
    if (flags < 0 || !guard_enter())
        return open_real(c);
    struct fkey *k = file_lookup(c->dirfd, c->path, c->is_stream, key_flags);
    errno = saved;
    int fd = k ? acquire(k, c, flags) : open_real(c);
    guard_leave();
    return fd;
}

FILE *filepool_fopen(const char *path, const char *mode, int is64)
{
    struct open_call c = {.is_stream = 1, .is64 = is64, .dirfd = AT_FDCWD, .path = path, .mode = mode};
    int flags = path && mode ? mode_flags(mode) : -1;
    open_pooled(&c, flags, flags & ~O_CLOEXEC);
    return c.fp;
}

int filepool_open(enum open_variant v, int dirfd, const char *path, int flags, mode_t mode)
{
    struct open_call c = {.v = v, .dirfd = dirfd, .path = path, .flags = flags, .perm = mode};
    int poolable = path && !(flags & ~(KEY_FLAGS | IGNORED_FLAGS));
    return open_pooled(&c, poolable ? flags : -1, flags & ~IGNORED_FLAGS);
}
