/* match.c - which opens are pooled: fopen modes and open flags, the
 * program's path made absolute and clean, the configured patterns, and the
 * keys (one generic pool per path, kind of object and flags), made lazily
 * on a path's first open and published lock-free. */
#include "internal.h"

#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../base/hash.h"

struct ftarget *ftargets;
int file_ntargets;
static pthread_mutex_t keys_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- modes ------------------------------------------------------------- */

/* fopen's mode string as open flags; -1 if objpool does not pool it.
 * Accepted: r w a, "+", and the no-ops "b" and "e" (O_CLOEXEC). Refused:
 * "x" (the exclusive create is the point), "m" (glibc maps the file),
 * "c" (sets a FILE flag a later user would inherit), ",ccs=" (wide). */
int mode_flags(const char *mode)
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
    k->t.ops = &file_ops;
    k->t.ctr = ft->t->ctr; /* the configured target's counters (and its slot) */
    k->t.pool = lease_pool_new(&k->t, file_destroy, file_validate, file_reset, k);
    if (!k->t.pool) {
        munmap(k, bytes);
        return NULL;
    }
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

/* The key for this open (internal.h). */
struct fkey *file_lookup(int dirfd, const char *path, int is_stream, int flags)
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
    uint64_t h = hash_bytes(HASH_SEED ^ (uint64_t)(flags * 2 + is_stream), abs, (size_t)len);
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
        t->ops = &file_ops;
        const char *slash = strrchr(t->spec->path, '/');
        ft->base = slash ? slash + 1 : t->spec->path;
        ft->base_glob = strpbrk(ft->base, "*?[") != NULL;
        atomic_store(&ft->keys, NULL);
    }
    pthread_atfork(keys_prepare, keys_parent, keys_child);
    file_ntargets = n; /* last: from here the interposers look */
    return 0;
}

