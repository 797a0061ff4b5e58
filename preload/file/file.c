/* file.c - the file kind: the generic pool's callbacks for a key (destroy,
 * validate by stat, the hit's dup of home), fcloseall, the report's view of
 * a target (the sum of its keys), and the kind's table of operations. */
#include "internal.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/log.h"
#include "../base/real.h"
#include "../core/reasons.h"

/* The pool destroys an idle object (its FILE or fd, at home), or the
 * record of a lease whose object is closed already (then only home is
 * left to close). */
void file_destroy(void *user, void *obj)
{
    (void)user;
    struct record *l = obj;
    struct record *g = file_rec(l)->home;
    record_make_busy(l);
    if (!(atomic_load(&l->flags) & LF_GONE) && l->fd >= 0) {
        /* idle, at home: the FILE or fd we hold; the number is given up
         * and closed as one step (reg_close_high) */
        if (file_rec(l)->fp) {
            reg_high_enter();
            reg_claim(l->fd, l);
            real.fclose(file_rec(l)->fp); /* closes l->fd (its _fileno) inside glibc */
            reg_high_leave();
        } else {
            reg_close_high(l->fd, l);
        }
    } else if (g) {
        /* a lease the program closed (or glibc did): only home is left */
        record_make_busy(g);
        if (g->fd >= 0)
            reg_close_high(g->fd, g);
    }
    log_debug("discard fd %d of %s", l->fd, ((struct fkey *)l->target)->path);
    if (g)
        record_free(g);
    record_free(l);
}

/* Validation takes the object BUSY (its fd number is ours alone from here)
 * and keeps it BUSY for the reset; on failure it goes back to IDLE so that
 * destroy takes it like any idle object. */
int file_validate(void *user, void *obj, void *arg)
{
    struct fkey *k = user;
    struct record *l = obj;
    (void)arg;
    record_make_busy(l);
    if (atomic_load(&l->flags) & LF_GONE) {
        /* replaced by a dup2 that could not move it away: not ours now */
        atomic_store(&l->state, STATE_IDLE);
        return REASON_NOT_SAME_FILE;
    }
    if (k->t.spec->opts.validate) {
        /* a rename or delete+create gives the path a new inode: the parked
         * object holds the old file, which a fresh open would not see */
        struct stat st;
        if (stat(k->path, &st) < 0 || st.st_dev != l->dev || st.st_ino != l->ino) {
            atomic_store(&l->state, STATE_IDLE);
            return REASON_CHANGED_ON_DISK;
        }
    }
    return 0;
}

/* The hit: a dup of home at the lowest free number, as a fresh open would
 * have given, with FD_CLOEXEC as asked; home stays open under its guard.
 * The FILE itself was reset when it was parked. */
int file_reset(void *user, void *obj, void *arg)
{
    (void)user;
    struct record *l = obj;
    const struct hit_ctx *c = arg;
    struct record *g = file_rec(l)->home;
    int home = l->fd;
    int fd = real.fcntl(home, c->cloexec ? F_DUPFD_CLOEXEC : F_DUPFD, 0);
    if (fd < 0)
        goto fail;
    if ((unsigned)fd >= reg_nslots || ((file_rec(l)->open_flags & O_TRUNC) && ftruncate(fd, 0) < 0)) {
        real.close(fd);
        goto fail;
    }
    /* release stores: each publishes what was written before it (the
     * registry readers pair them with acquire loads); no full fence needed
     * on this path */
    g->fd = home;
    atomic_store_explicit(&g->state, STATE_IDLE, memory_order_release);
    reg_set(home, g);
    if (file_rec(l)->fp)
        stream_set_fd(file_rec(l)->fp, fd, c->cloexec);
    l->fd = fd;
    l->status_flags = file_rec(l)->open_flags & STATUS_FLAGS;
    atomic_store_explicit(&l->flags, LF_REUSED, memory_order_relaxed);
    atomic_store_explicit(&l->state, STATE_LEASED, memory_order_release);
    reg_set(fd, l);
    return 0;
fail:
    atomic_store(&l->state, STATE_IDLE);
    return REASON_ERROR;
}

/* fcloseall(): glibc closes every FILE behind our back. */
static void detach_stream(int fd, struct record *l, void *ctx)
{
    (void)ctx;
    if (l->kind == KIND_FILE && file_rec(l)->fp && atomic_load(&l->state) == STATE_LEASED)
        lease_forget(fd, l, REASON_UNPOOLABLE, 1);
}

void filepool_before_fcloseall(void)
{
    if (!ftargets || !reg_nslots)
        return;
    /* idle FILEs are ours: close them properly before glibc frees them */
    for (int i = 0; i < file_ntargets; i++)
        for (struct fkey *k = atomic_load(&ftargets[i].keys); k; k = k->next)
            if (k->is_stream)
                objpool_clear(k->t.pool);
    reg_foreach(detach_stream, NULL);
}


/* The report: a file target is served by one pool per key; these sum or
 * visit them. */

static struct ftarget *ftarget_of(struct target *t)
{
    for (int i = 0; i < file_ntargets; i++)
        if (ftargets[i].t == t)
            return &ftargets[i];
    return NULL;
}

static void file_stats(struct target *t, objpool_stats_t *out)
{
    memset(out, 0, sizeof *out);
    struct ftarget *ft = ftarget_of(t);
    if (!ft)
        return;
    for (struct fkey *k = atomic_load(&ft->keys); k; k = k->next) {
        objpool_stats_t s;
        objpool_get_stats(k->t.pool, &s);
        out->acquired += s.acquired;
        out->hits += s.hits;
        out->misses += s.misses;
        out->create_failures += s.create_failures;
        out->released += s.released;
        out->parked += s.parked;
        out->bad_releases += s.bad_releases;
        for (int r = 0; r < OBJPOOL_DISCARD_MAX; r++)
            out->discarded[r] += s.discarded[r];
        out->create_ns_total += s.create_ns_total;
        out->idle += s.idle;
        out->leased += s.leased;
        /* the sum of the keys' peaks: an upper bound of the target's peak */
        out->peak_idle += s.peak_idle;
        out->peak_leased += s.peak_leased;
    }
}

static void file_evict(struct target *t)
{
    struct ftarget *ft = ftarget_of(t);
    if (!ft)
        return;
    for (struct fkey *k = atomic_load(&ft->keys); k; k = k->next)
        objpool_evict_expired(k->t.pool);
}

static void file_reset_stats(struct target *t)
{
    struct ftarget *ft = ftarget_of(t);
    if (!ft)
        return;
    for (struct fkey *k = atomic_load(&ft->keys); k; k = k->next)
        objpool_reset_stats(k->t.pool);
}


const struct kind_ops file_ops = {
    .name = "file",
    .release = file_release,
    .fcntl = filepool_note_fcntl_op,
    .replaced_reason = REASON_NOT_SAME_FILE,
    .detached_reason = REASON_UNPOOLABLE,
    .stats = file_stats,
    .evict_expired = file_evict,
    .reset_stats = file_reset_stats,
};
