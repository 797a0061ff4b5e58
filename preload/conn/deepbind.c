/* deepbind.c - libraries loaded with RTLD_DEEPBIND, whose calls would
 * bypass objpool: re-bound to it, or named in one line.
 *
 * RTLD_DEEPBIND binds a library's symbols in its own dependencies (libc
 * among them) before the global scope, where the preload is: its connect
 * and close reach libc directly, so nothing it connects is ever pooled.
 * PHP loads every extension this way (php-memcached's libmemcached,
 * sockets.so). After such a load, with connection pools configured, the
 * objects it added get objpool's names re-bound in their GOT (rebind.c):
 * what they would have had without the flag, for those names only. A
 * load that cannot be re-bound soundly (a library took libc's address of
 * one of them before objpool could look, its GOT is sealed, another
 * namespace, `set deepbind warn`) is left as it was, and objpool says
 * once for each such library that connects that its calls bypass it.
 */
#include "conn.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <elf.h>
#include <link.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>

#include "../base/hash.h"
#include "../base/log.h"
#include "../base/state.h"
#include "rebind.h"

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
    struct rb_dyn d;
    rb_dyn_read(l, &d);
    if (!d.symtab)
        return 0;
    size_t n = rb_dyn_nsyms(d.hash, d.gnu);
    for (size_t i = 1; i < n && i < (1u << 22); i++) {
        const ElfW(Sym) *s = rb_sym(&d, i);
        if (s->st_shndx == SHN_UNDEF && s->st_name + sizeof "connect" <= d.strsz &&
            !memcmp(d.strtab + s->st_name, "connect", sizeof "connect"))
            return 1;
    }
    return 0;
}

/* ---- the objects one load added --------------------------------------------- */

#define DL_MAX_ADDED 256

struct dl_scan {
    struct link_map *top;        /* the object the program asked for */
    const struct link_map *self; /* objpool */
    unsigned long long before;   /* the loader's count before the call */
    struct rb_obj objs[DL_MAX_ADDED];
    size_t n;
    int found;                   /* one of them imports connect */
    int too_many;
};

static const char *base_name(const char *path)
{
    const char *b = path ? strrchr(path, '/') : NULL;
    return b ? b + 1 : path ? path : "";
}

/* libc and the loader keep their own bindings: they are what objpool
 * calls. */
static int is_libc(const struct link_map *l)
{
    const char *b = base_name(l->l_name);
    return !strncmp(b, "libc.so", 7) || !strncmp(b, "ld-linux", 8) || !strncmp(b, "ld.so", 5) ||
           !strncmp(b, "ld64.so", 7);
}

/* Note the objects this load added (skipping objpool, libc, the loader). */
static void collect_added(struct dl_scan *s, unsigned long long added)
{
    struct link_map *l = s->top;
    while (l->l_next)
        l = l->l_next;
    for (; l && added; l = l->l_prev, added--) {
        if (l == s->self || is_libc(l))
            continue;
        if (s->n == DL_MAX_ADDED) {
            s->too_many = 1;
            break;
        }
        s->objs[s->n++].map = l;
        if (imports_connect(l))
            s->found = 1;
    }
}

/* The program headers of an entry, kept for the object it is. */
static void note_phdr(struct dl_scan *s, const struct dl_phdr_info *info)
{
    for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
        if (info->dlpi_phdr[i].p_type != PT_DYNAMIC)
            continue;
        ElfW(Addr) dyn = info->dlpi_addr + info->dlpi_phdr[i].p_vaddr;
        for (size_t k = 0; k < s->n; k++)
            if ((ElfW(Addr))s->objs[k].map->l_ld == dyn) {
                s->objs[k].phdr = info->dlpi_phdr;
                s->objs[k].phnum = info->dlpi_phnum;
            }
    }
}

/* Called by dl_iterate_phdr, so under the loader's lock: no object can
 * come or go while the list is walked. A load appends its objects to the
 * end of its namespace's list (the one the program asked for first, then
 * what it needs), so the objects this call added are the last ones there,
 * as many as the loader's count grew by. Every entry is then visited for
 * the program headers of those objects. */
static int scan_added(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct dl_scan *s = arg;
    if (size < offsetof(struct dl_phdr_info, dlpi_adds) + sizeof info->dlpi_adds)
        return 1;
    if (s->top) {
        collect_added(s, info->dlpi_adds - s->before);
        s->top = NULL; /* collected: the rest of the walk finds headers */
    }
    note_phdr(s, info);
    return 0;
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

/* ---- re-binding ------------------------------------------------------------- */

/* The stores run inside dl_iterate_phdr, under the loader's lock: two
 * threads re-binding at once (the same library loaded twice) take turns,
 * so one never makes read-only a page the other is writing. */
static int apply_locked(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)info;
    (void)size;
    struct rb_plan *p = arg;
    p->why = rebind_apply(p) < 0 ? strerror(errno) : NULL;
    return 1;
}

/* One line per library re-bound, at OBJPOOL_LOG=info. */
static void say_rebound(const char *call, const char *file, const struct dl_scan *s, const struct rb_plan *p)
{
    for (size_t k = 0; k < s->n; k++) {
        char names[256];
        size_t len = 0, count = 0;
        names[0] = '\0';
        for (size_t i = 0; i < p->n; i++) {
            if (p->slots[i].obj != (int)k || !p->slots[i].to)
                continue;
            count++;
            if (len + strlen(p->slots[i].name) + 2 < sizeof names)
                len += fmt_buf(names + len, sizeof names - len, "%s%s", len ? " " : "", p->slots[i].name);
        }
        if (count)
            log_msg(LOG_INFO, "%s(%s, RTLD_DEEPBIND): %s: %zu GOT slots re-bound to objpool (%s)", call,
                    base_name(file), base_name(s->objs[k].map->l_name), count, names);
    }
}

/* Point the added objects' imports of objpool's names at objpool; NULL
 * when done, else why not (and *who names the library). */
static const char *rebind(struct dl_scan *s, void *handle, const char *call, const char *file,
                          const char **who, char *why, size_t whysize)
{
    Lmid_t ns = LM_ID_BASE;
    if (cfg.deepbind == DEEPBIND_WARN)
        return "";
    if (!rebind_supported() || s->too_many || dlinfo(handle, RTLD_DI_LMID, &ns) != 0 || ns != LM_ID_BASE)
        return "";
    for (size_t k = 0; k < s->n; k++)
        if (!s->objs[k].phdr)
            return "";
    struct rb_plan p;
    int rc = rebind_plan(&p, handle, s->objs, s->n);
    if (rc == 0 && p.n)
        dl_iterate_phdr(apply_locked, &p);
    if (rc < 0 || (p.n && p.why)) {
        *who = p.refused_obj >= 0 ? base_name(s->objs[p.refused_obj].map->l_name) : base_name(file);
        if (rc < 0 && p.what)
            fmt_buf(why, whysize, "%s %s (a pointer taken while it loaded)", p.why, p.what);
        else if (rc < 0)
            fmt_buf(why, whysize, "%s", p.why ? p.why : "?");
        else
            fmt_buf(why, whysize, "its GOT cannot be written: %s", p.why);
        rebind_free(&p);
        return why;
    }
    say_rebound(call, file, s, &p);
    rebind_free(&p);
    return NULL;
}

void conn_dl_loaded(const char *call, const char *file, void *handle, unsigned long long before)
{
    struct dl_scan *s = calloc(1, sizeof *s);
    if (!s)
        return;
    s->before = before;
    if (!handle || dlinfo(handle, RTLD_DI_LINKMAP, &s->top) != 0 || !s->top) {
        free(s);
        return;
    }
    s->self = self_map();
    dl_iterate_phdr(scan_added, s);
    const char *who = base_name(file);
    char why[160];
    const char *fail = rebind(s, handle, call, file, &who, why, sizeof why);
    if (fail && s->found && first_time(who)) {
        if (*fail)
            log_msg(LOG_WARN, "%s(%s, RTLD_DEEPBIND): its calls bypass objpool: %s: %s", call, base_name(file),
                    who, fail);
        else
            log_msg(LOG_WARN, "%s(%s, RTLD_DEEPBIND): its calls bypass objpool", call, base_name(file));
    }
    free(s);
    /* the load succeeded, so dlerror() had nothing to say: a lookup of
     * ours that failed must not make it say something */
    (void)dlerror();
}
