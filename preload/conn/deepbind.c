/* deepbind.c - libraries loaded with RTLD_DEEPBIND, whose calls bypass
 * objpool, and the one line that says so.
 *
 * RTLD_DEEPBIND binds a library's symbols in its own dependencies (libc
 * among them) before the global scope, where the preload is: its connect
 * and close reach libc directly, so nothing it connects is ever pooled, and
 * nothing would say so. PHP loads every extension this way (php-memcached's
 * libmemcached, sockets.so). Making those calls reach objpool would mean
 * rewriting the library's relocations behind the loader's back (its GOT,
 * read-only after RELRO, possibly in use by another thread, possibly
 * rebound later by lazy binding): not something to do to an unmodified
 * program. objpool says instead, once for each such library, that its
 * calls bypass it.
 */
#include "conn.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>

#include "../base/hash.h"
#include "../base/log.h"

/* ---- the loader's count of objects ever loaded ----------------------------- */

static int first_adds(struct dl_phdr_info *info, size_t size, void *arg)
{
    if (size >= offsetof(struct dl_phdr_info, dlpi_adds) + sizeof info->dlpi_adds)
        *(unsigned long long *)arg = info->dlpi_adds;
    return 1; /* the count is the same in every entry: one is enough */
}

unsigned long long conn_dl_adds(void)
{
    unsigned long long adds = 0;
    dl_iterate_phdr(first_adds, &adds);
    return adds;
}

/* ---- does an object call connect? ------------------------------------------- */

/* glibc relocates the pointers of a writable .dynamic in place; a
 * read-only one (the vdso, some architectures) keeps them relative. */
static const void *dyn_ptr(const struct link_map *l, ElfW(Addr) v)
{
    return (const void *)(v < l->l_addr ? l->l_addr + v : v);
}

/* The number of dynamic symbols: DT_HASH says it; with only DT_GNU_HASH it
 * is one past the last symbol of the longest-indexed chain. */
static size_t dyn_nsyms(const ElfW(Word) *hash, const uint32_t *gnu)
{
    if (hash)
        return hash[1];
    if (!gnu)
        return 0;
    uint32_t nbuckets = gnu[0], symoffset = gnu[1], bloom = gnu[2];
    const uint32_t *buckets = (const uint32_t *)((const ElfW(Addr) *)(gnu + 4) + bloom);
    const uint32_t *chain = buckets + nbuckets;
    uint32_t last = 0;
    for (uint32_t i = 0; i < nbuckets; i++)
        if (buckets[i] > last)
            last = buckets[i];
    if (last < symoffset)
        return symoffset;
    while (!(chain[last - symoffset] & 1))
        last++;
    return (size_t)last + 1;
}

/* The heuristic: an object may connect if it imports the symbol
 * "connect", i.e. an undefined entry of that name in its dynamic symbol
 * table (its dynamic string table holds the name, and a symbol uses it).
 * That is what a library whose own code calls connect() carries, and what
 * RTLD_DEEPBIND binds to libc. The string table alone is not enough:
 * the linker shares a name's bytes with the tail of a longer one
 * ("memcached_connect"), and a string may belong to no import. Calls
 * made through another library (a client library's own dependency on
 * libcurl, say) show in that library, which this load brought in too. */
static int imports_connect(const struct link_map *l)
{
    const char *strtab = NULL;
    const ElfW(Sym) *symtab = NULL;
    const ElfW(Word) *hash = NULL;
    const uint32_t *gnu = NULL;
    size_t strsz = 0, syment = sizeof(ElfW(Sym));
    for (const ElfW(Dyn) *d = l->l_ld; d && d->d_tag != DT_NULL; d++) {
        switch (d->d_tag) {
        case DT_STRTAB: strtab = dyn_ptr(l, d->d_un.d_ptr); break;
        case DT_SYMTAB: symtab = dyn_ptr(l, d->d_un.d_ptr); break;
        case DT_HASH: hash = dyn_ptr(l, d->d_un.d_ptr); break;
        case DT_GNU_HASH: gnu = dyn_ptr(l, d->d_un.d_ptr); break;
        case DT_STRSZ: strsz = d->d_un.d_val; break;
        case DT_SYMENT: syment = d->d_un.d_val; break;
        }
    }
    if (!strtab || !symtab || syment < sizeof(ElfW(Sym)))
        return 0;
    size_t n = dyn_nsyms(hash, gnu);
    for (size_t i = 1; i < n && i < (1u << 22); i++) {
        const ElfW(Sym) *s = (const ElfW(Sym) *)((const char *)symtab + i * syment);
        if (s->st_shndx == SHN_UNDEF && s->st_name + sizeof "connect" <= strsz &&
            !memcmp(strtab + s->st_name, "connect", sizeof "connect"))
            return 1;
    }
    return 0;
}

/* ---- the objects one load added --------------------------------------------- */

struct dl_scan {
    struct link_map *top;        /* the object the program asked for */
    const struct link_map *self; /* objpool */
    unsigned long long before;   /* the loader's count before the call */
    int found;
};

static int is_libc(const struct link_map *l)
{
    const char *name = l->l_name ? l->l_name : "";
    const char *base = strrchr(name, '/');
    return !strncmp(base ? base + 1 : name, "libc.so", 7);
}

/* Called by dl_iterate_phdr, so under the loader's lock: no object can
 * come or go while the list is walked. A load appends its objects to the
 * end of its namespace's list (the one the program asked for first, then
 * what it needs), so the objects this call added are the last ones there,
 * as many as the loader's count grew by. */
static int scan_added(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct dl_scan *s = arg;
    if (size < offsetof(struct dl_phdr_info, dlpi_adds) + sizeof info->dlpi_adds)
        return 1;
    unsigned long long added = info->dlpi_adds - s->before;
    struct link_map *l = s->top;
    while (l->l_next)
        l = l->l_next;
    for (; l && added; l = l->l_prev, added--)
        if (l != s->self && !is_libc(l) && imports_connect(l)) {
            s->found = 1;
            break;
        }
    return 1;
}

/* objpool's own link map, found outside the loader's lock. */
static const struct link_map *self_map(void)
{
    Dl_info info;
    void *map = NULL;
    if (!dladdr1((void *)self_map, &info, &map, RTLD_DL_LINKMAP))
        return NULL;
    return map;
}

/* Once for each library name (the table is small; past it, every such
 * load is reported). */
static int first_time(const char *name)
{
    static _Atomic uint64_t seen[32];
    uint64_t h = hash_bytes(HASH_SEED, name, strlen(name)) | 1;
    for (size_t i = 0; i < sizeof seen / sizeof *seen; i++) {
        uint64_t v = atomic_load(&seen[i]);
        if (v == h)
            return 0;
        if (!v && atomic_compare_exchange_strong(&seen[i], &v, h))
            return 1;
        if (v == h)
            return 0; /* another thread took the slot for this name */
    }
    return 1;
}

void conn_dl_loaded(const char *call, const char *file, void *handle, unsigned long long before)
{
    struct dl_scan s = {NULL, NULL, before, 0};
    if (!handle || dlinfo(handle, RTLD_DI_LINKMAP, &s.top) != 0 || !s.top)
        return;
    s.self = self_map();
    dl_iterate_phdr(scan_added, &s);
    if (!s.found)
        return;
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    if (first_time(base))
        log_msg(LOG_WARN, "%s(%s, RTLD_DEEPBIND): its calls bypass objpool", call, base);
}
