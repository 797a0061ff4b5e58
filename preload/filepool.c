/* filepool.c - file pooling (design §4): fopen/open of configured paths.
 *
 * What is pooled. A file target (file:///PATH, fnmatch globs allowed)
 * matches the path the program opens, made absolute against the working
 * directory at open time and cleaned lexically ("//", "/./"; a path with
 * ".." is not pooled: resolving it needs the file system). One generic pool
 * serves each (path, FILE or raw fd, open flags that matter): a FILE cannot
 * stand in for a raw fd, and a read-only object cannot stand in for a
 * writable one. Those pools (a "key" each) are made lazily on the first
 * open of a path; the report sums them per target.
 *
 * Idle objects. The FILE (with its buffer) or the raw fd is kept. It was
 * reset when parked: pending output flushed, every buffered byte dropped,
 * the kernel offset at 0, EOF and error cleared. So the program's first
 * read after a hit goes to the kernel and sees the file's current content.
 * (rewind() alone is not enough: when the whole file fitted in the buffer,
 * glibc's seek only moves the buffer pointer and reads nothing.)
 *
 * Where the fd lives. An object gets one fd of its own when first parked,
 * its "home": a high number with FD_CLOEXEC (design §5), kept until the
 * object is destroyed. While idle, the object's record sits at home. A hit
 * dups home to the lowest free number (what open() would return; FD_CLOEXEC
 * as the program asked) and leaves home open, guarded by a second record
 * (l->home, state IDLE, in no pool): the program cannot close it or dup2
 * over it unnoticed, close_range skips it and a forked child closes its
 * copy. A release then only closes the program's number. One dup per hit
 * and one close per release, instead of a dup and a close each way: on this
 * path syscalls are the whole cost (bench/files.sh).
 *
 * A hit must also pass validation: stat(path) still names the parked
 * object's file (st_dev, st_ino), unless validate=none.
 *
 * Release (fclose or close of a lease): parked unless shared (dup, fork,
 * spawn), the FILE was made wide or given the program's buffer or buffering
 * mode, the program set state we cannot undo (F_SETFL, locks), an error was
 * seen, or the pool is full.
 */
#include "filepool.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "inherit.h"
#include "init.h"
#include "log.h"
#include "real.h"
#include "reasons.h"

int file_ntargets;

/* glibc's FILE flag bits (libio/libio.h; not in the installed headers, and
 * unchanged since glibc 2.1). _flags2's CLOEXEC bit is what "e" sets;
 * freopen reads it, so a hit makes it follow the mode asked for. */
#define IO_USER_BUF 0x0001   /* the program's buffer (setvbuf with buf) */
#define IO_UNBUFFERED 0x0002 /* setvbuf(_IONBF) */
#define IO_ERR_SEEN 0x0020
#define IO_IN_BACKUP 0x0100  /* ungetc past the buffer start */
#define IO_LINE_BUF 0x0200   /* setvbuf(_IOLBF) */
#define IO_USER_LOCK 0x8000  /* __fsetlocking(FSETLOCKING_BYCALLER) */
#define IO_FLAGS2_CLOEXEC 64

/* Open flags a pooled object may carry. Everything else (O_PATH,
 * O_DIRECTORY, O_TMPFILE, O_EXCL, O_NOFOLLOW, O_NONBLOCK, O_DIRECT, O_SYNC,
 * O_NOATIME, ...) passes through unpooled: either the open itself is the
 * point (O_EXCL, O_NOFOLLOW's check) or the flag changes how the object
 * behaves and we would have to key and restore it. */
#define KEY_FLAGS (O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND)
#define IGNORED_FLAGS (O_CLOEXEC | O_LARGEFILE | O_NOCTTY)
/* Status flags the program could change with F_SETFL. */
#define STATUS_FLAGS (O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME)

#define MAX_KEYS_PER_TARGET 256

/* One pool: a path, a kind of object and its flags. `t` comes first, so a
 * lease's l->target (set to &key->t) is the key itself; every generic code
 * path (the graveyard, dup2 over a lease) finds the right pool through
 * l->target->pool. */
struct fkey {
    struct target t;
    struct fkey *next;
    struct target *parent;
    uint64_t hash;
    int is_stream; /* FILE (fopen) or raw fd (open) */
    int flags;     /* KEY_FLAGS part of the open flags */
    size_t map_len;
    size_t plen;
    char path[];
};

struct ftarget {
    struct target *t;
    const char *base; /* last component of the pattern */
    int base_glob;
    _Atomic(struct fkey *) keys; /* published under keys_lock, read lock-free */
    unsigned nkeys;
};

static struct ftarget *ftargets;
static pthread_mutex_t keys_lock = PTHREAD_MUTEX_INITIALIZER;

/* What a hit needs to know about the open it serves. */
struct hit_ctx {
    int cloexec;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t hash_str(const char *s, size_t n, uint64_t h)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
    return h;
}

/* ---- modes ------------------------------------------------------------- */

/* fopen's mode string as open flags; -1 if objpool does not pool it.
 * Accepted: r w a, "+", and the no-ops "b" and "e" (O_CLOEXEC). Refused:
 * "x" (the exclusive create is the point), "m" (glibc maps the file),
 * "c" (sets a FILE flag a later user would inherit), ",ccs=" (wide). */
static int mode_flags(const char *mode)
{
    int fl;
    switch (*mode) {
    case 'r': fl = O_RDONLY; break;
    case 'w': fl = O_WRONLY | O_CREAT | O_TRUNC; break;
    case 'a': fl = O_WRONLY | O_CREAT | O_APPEND; break;
    default: return -1;
    }
    for (const char *p = mode + 1; *p; p++) {
        switch (*p) {
        case '+': fl = (fl & ~O_ACCMODE) | O_RDWR; break;
        case 'b': break;
        case 'e': fl |= O_CLOEXEC; break;
        default: return -1;
        }
    }
    return fl;
}

/* The modes= bits an open with these flags needs. */
static int needed_modes(int flags)
{
    switch (flags & O_ACCMODE) {
    case O_RDONLY:
        return flags & (O_TRUNC | O_APPEND) ? -1 : MODE_READ;
    case O_WRONLY:
        return flags & O_APPEND ? MODE_APPEND : MODE_WRITE;
    case O_RDWR:
        return MODE_RW | (flags & O_APPEND ? MODE_APPEND : 0) | (flags & O_TRUNC ? MODE_WRITE : 0);
    }
    return -1;
}

/* ---- paths -------------------------------------------------------------- */

/* The absolute, lexically clean form of `path` in out[PATH_MAX]; its
 * length, or -1 when it is not poolable (too long, "..", no cwd, a
 * trailing slash). Works in place: cleaning only ever shortens. */
static int resolve_path(const char *path, char *out)
{
    size_t n = 0, m = strlen(path);
    if (!m || path[m - 1] == '/')
        return -1;
    if (path[0] != '/') {
        if (!getcwd(out, PATH_MAX))
            return -1;
        n = strlen(out);
        out[n++] = '/';
    }
    if (n + m + 1 > PATH_MAX)
        return -1;
    memcpy(out + n, path, m + 1);
    size_t o = 0;
    const char *p = out;
    while (*p) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *e = p;
        while (*e && *e != '/')
            e++;
        size_t len = (size_t)(e - p);
        if (len == 1 && p[0] == '.') {
            p = e;
            continue;
        }
        if (len == 2 && p[0] == '.' && p[1] == '.')
            return -1;
        out[o++] = '/';
        memmove(out + o, p, len);
        o += len;
        p = e;
    }
    if (!o)
        return -1;
    out[o] = '\0';
    return (int)o;
}

/* Cheap first test: could any target's last component match this one?
 * Keeps getcwd and fnmatch off the path of files nobody configured. */
static int base_may_match(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    for (int i = 0; i < file_ntargets; i++) {
        const struct ftarget *ft = &ftargets[i];
        if (ft->base_glob ? fnmatch(ft->base, base, FNM_PERIOD) == 0 : strcmp(ft->base, base) == 0)
            return 1;
    }
    return 0;
}

static struct ftarget *match_target(const char *abs)
{
    for (int i = 0; i < file_ntargets; i++) {
        struct ftarget *ft = &ftargets[i];
        const char *pat = ft->t->spec->path;
        if (ft->t->has_glob ? fnmatch(pat, abs, FNM_PATHNAME | FNM_PERIOD) == 0 : strcmp(pat, abs) == 0)
            return &ftargets[i];
    }
    return NULL;
}

/* ---- keys (one generic pool each) --------------------------------------- */

static void *never_create(void *user, void *arg)
{
    (void)user;
    (void)arg;
    errno = ENOSYS; /* the preload creates through the real fopen/open itself */
    return NULL;
}

static int real_close(int fd)
{
    return real.close ? real.close(fd) : raw_close(fd);
}

/* The guard of a leased object's home number is dormant (fd -1, in no
 * slot) while the object itself sits at home. */
static void home_dormant(struct lease *g)
{
    g->fd = -1;
    atomic_store_explicit(&g->state, STATE_IDLE, memory_order_release);
}

static void file_destroy(void *user, void *obj)
{
    (void)user;
    struct lease *l = obj;
    struct lease *g = l->home;
    lease_take_idle(l);
    if (!(atomic_load(&l->flags) & LF_GONE) && l->fd >= 0) {
        /* idle, at home: the FILE or fd we hold */
        reg_claim(l->fd, l);
        if (l->fp)
            real.fclose(l->fp); /* closes l->fd (its _fileno) inside glibc */
        else
            real_close(l->fd);
    } else if (g) {
        /* a lease the program closed (or glibc did): only home is left */
        lease_take_idle(g);
        if (g->fd >= 0 && reg_claim(g->fd, g))
            real_close(g->fd);
    }
    log_debug("discard fd %d of %s", l->fd, ((struct fkey *)l->target)->path);
    if (g)
        lease_free(g);
    lease_free(l);
}

/* Validation takes the object BUSY (its fd number is ours alone from here)
 * and keeps it BUSY for the reset; on failure it goes back to IDLE so that
 * destroy takes it like any idle object. */
static int file_validate(void *user, void *obj, void *arg)
{
    struct fkey *k = user;
    struct lease *l = obj;
    (void)arg;
    lease_take_idle(l);
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
static int file_reset(void *user, void *obj, void *arg)
{
    (void)user;
    struct lease *l = obj;
    const struct hit_ctx *c = arg;
    struct lease *g = l->home;
    int home = l->fd;
    int fd = real.fcntl(home, c->cloexec ? F_DUPFD_CLOEXEC : F_DUPFD, 0);
    if (fd < 0)
        goto fail;
    if ((unsigned)fd >= reg_nslots || ((l->open_flags & O_TRUNC) && ftruncate(fd, 0) < 0)) {
        real_close(fd);
        goto fail;
    }
    /* release stores: each publishes what was written before it (the
     * registry readers pair them with acquire loads); no full fence needed
     * on this path */
    g->fd = home;
    atomic_store_explicit(&g->state, STATE_IDLE, memory_order_release);
    reg_set(home, g);
    if (l->fp) {
        l->fp->_fileno = fd;
        if (c->cloexec)
            l->fp->_flags2 |= IO_FLAGS2_CLOEXEC;
        else
            l->fp->_flags2 &= ~IO_FLAGS2_CLOEXEC;
    }
    l->fd = fd;
    l->status_flags = l->open_flags & STATUS_FLAGS;
    atomic_store_explicit(&l->flags, LF_REUSED, memory_order_relaxed);
    atomic_store_explicit(&l->state, STATE_LEASED, memory_order_release);
    reg_set(fd, l);
    return 0;
fail:
    atomic_store(&l->state, STATE_IDLE);
    return REASON_ERROR;
}

/* fork: a key being made on another thread must not leave the lock held. */
static void keys_prepare(void)
{
    pthread_mutex_lock(&keys_lock);
}
static void keys_parent(void)
{
    pthread_mutex_unlock(&keys_lock);
}
static void keys_child(void)
{
    pthread_mutex_init(&keys_lock, NULL);
}

static struct fkey *key_new(struct ftarget *ft, const char *abs, size_t len, int is_stream, int flags,
                            uint64_t h)
{
    size_t bytes = sizeof(struct fkey) + len + 1;
    struct fkey *k = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (k == MAP_FAILED)
        return NULL;
    const struct pool_opts *o = &ft->t->spec->opts;
    k->t.spec = ft->t->spec;
    k->t.has_glob = ft->t->has_glob;
    memcpy(k->t.label, ft->t->label, sizeof k->t.label);
    k->parent = ft->t;
    k->hash = h;
    k->is_stream = is_stream;
    k->flags = flags;
    k->map_len = bytes;
    k->plen = len;
    memcpy(k->path, abs, len + 1);
    k->t.pool = objpool_new(never_create, file_destroy, file_validate, file_reset, k, o->max_size);
    if (!k->t.pool) {
        munmap(k, bytes);
        return NULL;
    }
    objpool_set_idle_timeout_ms(k->t.pool, o->idle_timeout_ms);
    objpool_set_max_lifetime_ms(k->t.pool, o->max_lifetime_ms);
    objpool_set_order(k->t.pool, o->order);
    pools_register(k->t.pool);
    return k;
}

static struct fkey *key_find(struct ftarget *ft, const char *abs, size_t len, int is_stream, int flags,
                             uint64_t h)
{
    for (struct fkey *k = atomic_load_explicit(&ft->keys, memory_order_acquire); k; k = k->next)
        if (k->hash == h && k->is_stream == is_stream && k->flags == flags && k->plen == len &&
            !memcmp(k->path, abs, len))
            return k;
    return NULL;
}

/* The key for this open, made on first use; NULL when the path is not
 * configured, the mode is not allowed or the target has too many paths. */
static struct fkey *lookup(int dirfd, const char *path, int is_stream, int flags)
{
    if (path[0] != '/' && dirfd != AT_FDCWD)
        return NULL; /* relative to another directory: not resolved (docs/files.md) */
    if (!base_may_match(path))
        return NULL;
    char abs[PATH_MAX];
    int len = resolve_path(path, abs);
    if (len < 0)
        return NULL;
    struct ftarget *ft = match_target(abs);
    if (!ft)
        return NULL;
    int need = needed_modes(flags);
    if (need < 0 || (need & ~ft->t->spec->opts.modes))
        return NULL;
    flags &= KEY_FLAGS;
    uint64_t h = hash_str(abs, (size_t)len, 0xcbf29ce484222325ull ^ (uint64_t)(flags * 2 + is_stream));
    struct fkey *k = key_find(ft, abs, (size_t)len, is_stream, flags, h);
    if (k)
        return k;
    pthread_mutex_lock(&keys_lock);
    k = key_find(ft, abs, (size_t)len, is_stream, flags, h);
    if (!k && ft->nkeys < MAX_KEYS_PER_TARGET) {
        k = key_new(ft, abs, (size_t)len, is_stream, flags, h);
        if (k) {
            k->next = atomic_load_explicit(&ft->keys, memory_order_relaxed);
            atomic_store_explicit(&ft->keys, k, memory_order_release);
            ft->nkeys++;
        }
    }
    pthread_mutex_unlock(&keys_lock);
    return k;
}

int filepool_setup(struct config *c)
{
    int n = 0;
    for (int i = 0; i < c->ntargets; i++)
        if (c->targets[i].spec->kind == POOL_FILE)
            n++;
    if (!n)
        return 0;
    ftargets = mmap(NULL, (size_t)n * sizeof *ftargets, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (ftargets == MAP_FAILED) {
        ftargets = NULL;
        return -1;
    }
    int j = 0;
    for (int i = 0; i < c->ntargets; i++) {
        struct target *t = &c->targets[i];
        if (t->spec->kind != POOL_FILE)
            continue;
        struct ftarget *ft = &ftargets[j++];
        ft->t = t;
        const char *slash = strrchr(t->spec->path, '/');
        ft->base = slash ? slash + 1 : t->spec->path;
        ft->base_glob = strpbrk(ft->base, "*?[") != NULL;
        atomic_store(&ft->keys, NULL);
    }
    pthread_atfork(keys_prepare, keys_parent, keys_child);
    file_ntargets = n; /* last: from here the interposers look */
    return 0;
}

/* ---- acquire ------------------------------------------------------------ */

static void detach(int fd, struct lease *l, int inside);

/* A new object from the real call becomes a lease (counted as a miss). */
static void adopt(struct fkey *k, int fd, FILE *fp, int flags, uint64_t create_ns, unsigned gen)
{
    struct stat st;
    if ((unsigned)fd >= reg_nslots || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
        return; /* only regular files (and /proc, /sys files, which are): a FIFO or device is its own thing */
    struct lease *old = reg_get(fd);
    if (old) {
        /* a record left at this number by a close objpool did not see */
        detach(fd, old, 1);
    }
    struct lease *l = lease_alloc();
    if (!l)
        return;
    l->fd = fd;
    l->kind = KIND_FILE;
    l->target = &k->t;
    l->dev = st.st_dev;
    l->ino = st.st_ino;
    l->fp = fp;
    l->open_flags = flags & KEY_FLAGS;
    l->status_flags = flags & STATUS_FLAGS;
    atomic_store(&l->state, STATE_LEASED);
    if (atomic_load(&fork_gen) != gen)
        atomic_fetch_or(&l->flags, LF_SHARED); /* a child may hold a copy made before we looked */
    reg_set(fd, l);
    objpool_adopt(k->t.pool, l, create_ns);
}

/* The report's "mean create" and "saved" come from the target's timing of
 * real opens (as for connects). */
static void note_create_time(struct fkey *k, uint64_t ns)
{
    atomic_fetch_add_explicit(&k->parent->connect_ns, ns, memory_order_relaxed);
    atomic_fetch_add_explicit(&k->parent->connect_timed, 1, memory_order_relaxed);
}

static FILE *real_fopen(int is64, const char *path, const char *mode)
{
    return is64 ? real.fopen64(path, mode) : real.fopen(path, mode);
}

FILE *filepool_fopen(const char *path, const char *mode, int is64)
{
    int saved = errno;
    int flags = path && mode ? mode_flags(mode) : -1;
    if (flags < 0 || !guard_enter())
        return real_fopen(is64, path, mode);
    struct fkey *k = lookup(AT_FDCWD, path, 1, flags & ~O_CLOEXEC);
    if (!k) {
        guard_leave();
        errno = saved;
        return real_fopen(is64, path, mode);
    }
    bury_graveyard();
    unsigned gen = atomic_load(&fork_gen);
    struct hit_ctx c = {(flags & O_CLOEXEC) != 0};
    struct lease *l = objpool_try_acquire(k->t.pool, &c);
    if (l) {
        if (atomic_load(&fork_gen) != gen)
            atomic_fetch_or(&l->flags, LF_SHARED); /* a fork overlapped the hit */
        log_debug("fopen %s: reused, fd %d", k->path, l->fd);
        guard_leave();
        errno = saved;
        return l->fp;
    }
    uint64_t t0 = now_ns();
    FILE *fp = real_fopen(is64, path, mode);
    int err = errno;
    if (fp) {
        uint64_t ns = now_ns() - t0;
        note_create_time(k, ns);
        adopt(k, fileno(fp), fp, flags, ns, gen);
        log_debug("fopen %s: new, fd %d", k->path, fileno(fp));
    } else {
        objpool_note_create_failure(k->t.pool);
    }
    guard_leave();
    errno = err;
    return fp;
}

static int call_real_open(enum open_variant v, int dirfd, const char *path, int flags, mode_t mode)
{
    switch (v) {
    case OV_OPEN: return real.open(path, flags, mode);
    case OV_OPEN64: return real.open64(path, flags, mode);
    case OV_OPENAT: return real.openat(dirfd, path, flags, mode);
    case OV_OPENAT64: return real.openat64(dirfd, path, flags, mode);
    case OV_OPEN_2: return real.open_2(path, flags);
    case OV_OPEN64_2: return real.open64_2(path, flags);
    case OV_OPENAT_2: return real.openat_2(dirfd, path, flags);
    case OV_OPENAT64_2: return real.openat64_2(dirfd, path, flags);
    }
    errno = EINVAL;
    return -1;
}

int filepool_open(enum open_variant v, int dirfd, const char *path, int flags, mode_t mode)
{
    int saved = errno;
    if (!path || (flags & ~(KEY_FLAGS | IGNORED_FLAGS)) || !guard_enter())
        return call_real_open(v, dirfd, path, flags, mode);
    struct fkey *k = lookup(dirfd, path, 0, flags & ~IGNORED_FLAGS);
    if (!k) {
        guard_leave();
        errno = saved;
        return call_real_open(v, dirfd, path, flags, mode);
    }
    bury_graveyard();
    unsigned gen = atomic_load(&fork_gen);
    struct hit_ctx c = {(flags & O_CLOEXEC) != 0};
    struct lease *l = objpool_try_acquire(k->t.pool, &c);
    if (l) {
        if (atomic_load(&fork_gen) != gen)
            atomic_fetch_or(&l->flags, LF_SHARED);
        log_debug("open %s: reused, fd %d", k->path, l->fd);
        guard_leave();
        errno = saved;
        return l->fd;
    }
    uint64_t t0 = now_ns();
    int fd = call_real_open(v, dirfd, path, flags, mode);
    int err = errno;
    if (fd >= 0) {
        uint64_t ns = now_ns() - t0;
        note_create_time(k, ns);
        adopt(k, fd, NULL, flags, ns, gen);
        log_debug("open %s: new, fd %d", k->path, fd);
    } else {
        objpool_note_create_failure(k->t.pool);
    }
    guard_leave();
    errno = err;
    return fd;
}

/* ---- release ------------------------------------------------------------ */

void filepool_note_fcntl(struct lease *l, int cmd)
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

/* Forget a lease whose fd glibc (or the kernel) closes without us. The
 * caller is inside objpool already (`inside`) or not. */
static void detach(int fd, struct lease *l, int inside)
{
    if (l->kind == KIND_INTERNAL || atomic_load(&l->state) != STATE_LEASED || !reg_claim(fd, l))
        return;
    atomic_fetch_or(&l->flags, LF_GONE);
    int reason = l->kind == KIND_FILE ? REASON_UNPOOLABLE : REASON_NOT_SAME_SOCKET;
    if (inside) {
        objpool_discard(l->target->pool, l, reason);
    } else if (guard_enter()) {
        objpool_discard(l->target->pool, l, reason);
        guard_leave();
    } else {
        graveyard_push(l); /* a signal handler inside objpool: no locks */
    }
}

void filepool_detach(int fd, struct lease *l)
{
    detach(fd, l, 0);
}

/* 0 if the lease may be parked as far as flags tell, else why not. */
static int flag_reason(const struct lease *l)
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
static int park(struct lease *l, int fd)
{
    struct fkey *k = (struct fkey *)l->target;
    struct lease *g = l->home;
    int home;
    if (!g) {
        g = lease_alloc();
        if (!g)
            return -1;
        home = reg_move_high(fd);
        if (home < 0) {
            lease_free(g);
            return -1;
        }
        g->kind = KIND_FILE;
        g->target = l->target;
        home_dormant(g);
        l->home = g;
    } else {
        lease_take_idle(g); /* a dup2 onto home may be moving it right now */
        home = g->fd;
    }
    if (l->fp)
        l->fp->_fileno = home;
    l->fd = home;
    atomic_store_explicit(&l->state, STATE_IDLE, memory_order_release);
    reg_set(home, l); /* replaces the guard */
    home_dormant(g);
    real_close(fd);
    int r = objpool_release(k->t.pool, l); /* may still destroy: full, max_lifetime */
    log_debug("close fd %d of %s: %s", fd, k->path, r == OBJPOOL_PARKED ? "parked" : "pool full or too old, closed");
    const struct pool_opts *o = &k->t.spec->opts;
    if (o->idle_timeout_ms || o->max_lifetime_ms)
        objpool_evict_expired(k->t.pool);
    return 0;
}

/* Make a FILE look freshly opened: nothing buffered, offset 0, no EOF or
 * error, no orientation. 0 on success. */
static int reset_stream(FILE *fp)
{
    if (fp->_IO_write_ptr > fp->_IO_write_base && fflush(fp) != 0)
        return -1; /* pending output could not be written: fclose must report it */
    /* Drop unread input without the lseek(SEEK_CUR) fflush would make to
     * give those bytes back to the kernel: we seek to 0 next anyway. */
    if (!(fp->_flags & IO_IN_BACKUP))
        fp->_IO_read_ptr = fp->_IO_read_end;
    /* fflush forgets glibc's cached offset; without it the seek below finds
     * offset 0 still in the buffer and reads nothing from the kernel */
    if (fflush(fp) != 0 || fseeko(fp, 0, SEEK_SET) != 0)
        return -1; /* fseeko also clears EOF; a stream with an error is never parked */
    if (fp->_mode < 0)
        fp->_mode = 0; /* a fresh FILE has no orientation yet (fwide(fp, 0) == 0) */
    return 0;
}

static int stream_reason(FILE *fp)
{
    if (fwide(fp, 0) > 0)
        return REASON_UNPOOLABLE; /* wide: its conversion state would carry over */
    if (fp->_flags & (IO_USER_BUF | IO_UNBUFFERED | IO_LINE_BUF | IO_USER_LOCK))
        return REASON_UNPOOLABLE; /* the program's buffer (may be freed) or buffering choice */
    if (fp->_flags & IO_ERR_SEEN)
        return REASON_ERROR;
    return 0;
}

int filepool_fclose(FILE *fp, struct lease *l)
{
    int fd = fp->_fileno;
    if (l->kind == KIND_INTERNAL)
        return real.fclose(fp);
    if (atomic_load(&l->state) != STATE_LEASED) {
        /* the FILE of an idle object: fclose of an already closed FILE */
        errno = EBADF;
        return EOF;
    }
    if (l->fp != fp) {
        /* a FILE on a lease's fd that is not the lease's own (fdopen):
         * glibc's fclose closes the fd without our close() seeing it */
        filepool_detach(fd, l);
        return real.fclose(fp);
    }
    if (!reg_claim(fd, l))
        return real.fclose(fp); /* another thread's close won it */
    int saved = errno;
    if (!guard_enter()) {
        int rc = real.fclose(fp);
        int err = errno;
        atomic_fetch_or(&l->flags, LF_GONE);
        graveyard_push(l);
        errno = err;
        return rc;
    }
    bury_graveyard();
    int reason = flag_reason(l);
    if (!reason)
        reason = stream_reason(fp);
    if (!reason && reset_stream(fp) < 0)
        reason = REASON_ERROR;
    if (!reason) {
        if (park(l, fd) == 0) {
            guard_leave();
            errno = saved;
            return 0;
        }
        reason = REASON_ERROR;
    }
    int rc = real.fclose(fp);
    int err = errno;
    atomic_fetch_or(&l->flags, LF_GONE);
    log_debug("fclose fd %d: not parked: %s", fd, reason_name(reason));
    objpool_discard(l->target->pool, l, reason);
    guard_leave();
    errno = err;
    return rc;
}

int filepool_close(int fd, struct lease *l)
{
    int saved = errno;
    bury_graveyard();
    int reason = 0;
    if (l->fp) {
        /* close(fileno(fp)) under the program's FILE: the FILE stays the
         * program's (its fclose will find no lease here) */
        reason = REASON_UNPOOLABLE;
    }
    if (!reason)
        reason = flag_reason(l);
    if (!reason) {
        struct stat st;
        if (fstat(fd, &st) < 0 || st.st_dev != l->dev || st.st_ino != l->ino)
            reason = REASON_NOT_SAME_SOCKET; /* closed behind us, number reused */
    }
    if (!reason && lseek(fd, 0, SEEK_SET) != 0)
        reason = REASON_ERROR;
    if (!reason) {
        if (park(l, fd) == 0) {
            errno = saved;
            return 0;
        }
        reason = REASON_ERROR;
    }
    int rc = real_close(fd);
    int err = errno;
    atomic_fetch_or(&l->flags, LF_GONE);
    log_debug("close fd %d: not parked: %s", fd, reason_name(reason));
    objpool_discard(l->target->pool, l, reason);
    errno = err;
    return rc;
}

/* ---- fcloseall ------------------------------------------------------------ */

static void detach_stream(int fd, struct lease *l, void *ctx)
{
    (void)ctx;
    if (l->kind == KIND_FILE && l->fp && atomic_load(&l->state) == STATE_LEASED)
        detach(fd, l, 1);
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

/* ---- the report ----------------------------------------------------------- */

static struct ftarget *ftarget_of(struct target *t)
{
    for (int i = 0; i < file_ntargets; i++)
        if (ftargets[i].t == t)
            return &ftargets[i];
    return NULL;
}

void filepool_get_stats(struct target *t, objpool_stats_t *out)
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

void filepool_evict_expired(struct target *t)
{
    struct ftarget *ft = ftarget_of(t);
    if (!ft)
        return;
    for (struct fkey *k = atomic_load(&ft->keys); k; k = k->next)
        objpool_evict_expired(k->t.pool);
}

void filepool_reset_stats(struct target *t)
{
    struct ftarget *ft = ftarget_of(t);
    if (!ft)
        return;
    for (struct fkey *k = atomic_load(&ft->keys); k; k = k->next)
        objpool_reset_stats(k->t.pool);
}
