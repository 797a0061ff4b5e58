/* release.c - the program closes a file lease (fclose, or close of its fd):
 * park it at its home number unless it was shared, made unpoolable or
 * replaced; else the real close, counted. */
#include "internal.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/log.h"
#include "../base/real.h"
#include "../base/state.h"
#include "../core/reasons.h"

void home_dormant(struct record *g)
{
    g->fd = -1;
    atomic_store_explicit(&g->state, STATE_IDLE, memory_order_release);
}

/* kind_ops.fcntl: state of the open file a reuse cannot undo. */
void filepool_note_fcntl_op(struct record *l, int cmd, long arg)
{
    (void)arg;
    filepool_note_fcntl(l, cmd);
}

void filepool_note_fcntl(struct record *l, int cmd)
{
    switch (cmd) {
    case F_GETFD: case F_SETFD: case F_GETFL: case F_GETLK: case F_OFD_GETLK:
    case F_DUPFD: case F_DUPFD_CLOEXEC: /* dup marks it shared already */
    case F_GETOWN: case F_GETSIG: case F_GETLEASE: case F_GET_SEALS:
        return;
    }
    /* F_SETFL, record and OFD locks, leases, notify, owner, seals...: state
     * of the open file a later user would inherit, or (locks) state whose
     * release is tied to the close */
    atomic_fetch_or(&l->flags, LF_UNOBSERVED);
}

void filepool_detach(int fd, struct record *l)
{
    lease_forget(fd, l, l->ops ? l->ops->detached_reason : 0, 0);
}

/* 0 if the lease may be parked as far as flags tell, else why not. */
static int flag_reason(const struct record *l)
{
    int f = atomic_load(&l->flags);
    if (f & LF_SHARED)
        return REASON_SHARED;
    if (f & (LF_UNOBSERVED | LF_UNBUFFERED))
        return REASON_UNPOOLABLE;
    return 0;
}

/* Park lease l, whose program number fd is claimed: the object goes home
 * (made now on its first park) and fd is closed. 0, or -1 if it cannot. */
static int park(struct record *l, int fd)
{
    struct fkey *k = (struct fkey *)l->target;
    struct record *g = file_rec(l)->home;
    int home;
    if (!g) {
        g = record_alloc();
        if (!g)
            return -1;
        g->kind = KIND_FILE;
        g->target = l->target;
        home_dormant(g);
        /* the object's first home: made and registered as one step (a
         * program dup2 onto the band waits for it) */
        atomic_store_explicit(&l->state, STATE_IDLE, memory_order_release);
        reg_high_enter();
        home = reg_move_high(fd);
        if (home >= 0) {
            if (file_rec(l)->fp)
                stream_set_fileno(file_rec(l)->fp, home);
            l->fd = home;
            reg_set(home, l);
        }
        reg_high_leave();
        if (home < 0) {
            atomic_store(&l->state, STATE_LEASED);
            record_free(g);
            return -1;
        }
        file_rec(l)->home = g;
    } else {
        record_make_busy(g); /* a dup2 onto home may be moving it right now */
        home = g->fd;
        if (file_rec(l)->fp)
            stream_set_fileno(file_rec(l)->fp, home);
        l->fd = home;
        atomic_store_explicit(&l->state, STATE_IDLE, memory_order_release);
        reg_set(home, l); /* replaces the guard */
        home_dormant(g);
    }
    real.close(fd);
    int r = objpool_release(k->t.pool, l); /* may still destroy: full, max_lifetime */
    log_debug("close fd %d of %s: %s", fd, k->path, r == OBJPOOL_PARKED ? "parked" : "pool full or too old, closed");
    lease_after_park(&k->t);
    return 0;
}

/* fclose of the FILE on a record's fd: the lease's own FILE is released
 * (lease_close); any other FILE there (fdopen) is closed by glibc behind
 * our back, so the lease is forgotten first. */
int filepool_fclose(FILE *fp, struct record *l)
{
    int fd = fp->_fileno;
    if (l->kind == KIND_INTERNAL)
        return real.fclose(fp);
    if (atomic_load(&l->state) != STATE_LEASED) {
        /* the FILE of an idle object: fclose of an already closed FILE */
        errno = EBADF;
        return EOF;
    }
    if (file_rec(l)->fp != fp) {
        filepool_detach(fd, l);
        return real.fclose(fp);
    }
    return lease_close(fd, l, fp);
}

/* Why a lease closed by fclose cannot be parked, or 0 after the FILE was
 * reset. */
static int fclose_reason(struct record *l, FILE *fp)
{
    int reason = flag_reason(l);
    if (!reason)
        reason = stream_reason(fp);
    if (!reason && stream_reset(fp) < 0)
        reason = REASON_ERROR;
    return reason;
}

/* Why a lease closed by close() cannot be parked, or 0 after its offset
 * went back to 0. */
static int close_reason(struct record *l, int fd)
{
    /* close(fileno(fp)) under the program's FILE: the FILE stays the
     * program's (its fclose will find no lease here) */
    if (file_rec(l)->fp)
        return REASON_UNPOOLABLE;
    int reason = flag_reason(l);
    if (reason)
        return reason;
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_dev != l->dev || st.st_ino != l->ino)
        return REASON_NOT_SAME_FILE; /* closed behind us, number reused */
    return lseek(fd, 0, SEEK_SET) != 0 ? REASON_ERROR : 0;
}

/* kind_ops.release */
int file_release(struct record *l, int fd, FILE *fp)
{
    int saved = errno;
    int reason = fp ? fclose_reason(l, fp) : close_reason(l, fd);
    if (!reason) {
        if (park(l, fd) == 0) {
            errno = saved;
            return 0;
        }
        reason = REASON_ERROR;
    }
    int rc = fp ? real.fclose(fp) : real.close(fd);
    int err = errno;
    lease_discard(l, reason);
    errno = err;
    return rc;
}
