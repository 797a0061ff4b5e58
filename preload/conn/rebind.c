/* rebind.c - the GOT slots of a deep-bound library pointed at objpool's
 * interposers: which slots, whether the library already holds a libc
 * address objpool could not reach, and the stores.
 *
 * RTLD_DEEPBIND binds a library's imports in its own dependencies first,
 * so its close() is libc's, not objpool's. The loader records each such
 * binding in a GOT slot (an R_*_JUMP_SLOT for a call through the PLT, an
 * R_*_GLOB_DAT for an address taken or a call without PLT); writing
 * objpool's address there gives the library what it would have had
 * without the flag, for objpool's names only: everything else keeps its
 * deep binding. docs/design.md says when this is sound and when not.
 */
#include "rebind.h"

#include "../base/real.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>

#if defined(__x86_64__)
#define R_SLOT_JUMP R_X86_64_JUMP_SLOT
#define R_SLOT_GLOB R_X86_64_GLOB_DAT
#elif defined(__aarch64__)
#define R_SLOT_JUMP R_AARCH64_JUMP_SLOT
#define R_SLOT_GLOB R_AARCH64_GLOB_DAT
#endif

/* ELF32_R_SYM or ELF64_R_SYM, ... for the native class (link.h's ElfW
 * names types only). */
#define RB_CAT2(a, b, c) a##b##c
#define RB_CAT(a, b, c) RB_CAT2(a, b, c)
#define ELFW(x) RB_CAT(ELF, __ELF_NATIVE_CLASS, _##x)

/* Past these a load is left as it is (and says so): a plan is bounded. */
#define RB_MAX_EXPORTS 160
#define RB_MAX_SLOTS 4096
#define RB_MAX_SCAN ((size_t)64 << 20) /* writable bytes checked per object */

int rebind_supported(void)
{
#ifdef R_SLOT_JUMP
    return 1;
#else
    return 0;
#endif
}

/* ---- the dynamic section ---------------------------------------------------- */

/* glibc relocates the pointers of a writable .dynamic in place; a
 * read-only one (the vdso, some architectures) keeps them relative. */
const void *rb_dyn_ptr(const struct link_map *l, ElfW(Addr) v)
{
    return (const void *)(v < l->l_addr ? l->l_addr + v : v);
}

/* The number of dynamic symbols: DT_HASH says it; with only DT_GNU_HASH it
 * is one past the last symbol of the longest-indexed chain. */
size_t rb_dyn_nsyms(const ElfW(Word) *hash, const uint32_t *gnu)
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

void rb_dyn_read(const struct link_map *l, struct rb_dyn *d)
{
    memset(d, 0, sizeof *d);
    d->syment = sizeof(ElfW(Sym));
    for (const ElfW(Dyn) *e = l->l_ld; e && e->d_tag != DT_NULL; e++) {
        switch (e->d_tag) {
        case DT_STRTAB: d->strtab = rb_dyn_ptr(l, e->d_un.d_ptr); break;
        case DT_SYMTAB: d->symtab = rb_dyn_ptr(l, e->d_un.d_ptr); break;
        case DT_HASH: d->hash = rb_dyn_ptr(l, e->d_un.d_ptr); break;
        case DT_GNU_HASH: d->gnu = rb_dyn_ptr(l, e->d_un.d_ptr); break;
        case DT_STRSZ: d->strsz = e->d_un.d_val; break;
        case DT_SYMENT: d->syment = e->d_un.d_val; break;
        case DT_JMPREL: d->rel[0] = rb_dyn_ptr(l, e->d_un.d_ptr); break;
        case DT_PLTRELSZ: d->relsz[0] = e->d_un.d_val; break;
        case DT_PLTREL: d->relent[0] = e->d_un.d_val == DT_RELA ? sizeof(ElfW(Rela)) : sizeof(ElfW(Rel)); break;
        case DT_RELA: d->rel[1] = rb_dyn_ptr(l, e->d_un.d_ptr); break;
        case DT_RELASZ: d->relsz[1] = e->d_un.d_val; break;
        case DT_RELAENT: d->relent[1] = e->d_un.d_val; break;
        case DT_REL: d->rel[2] = rb_dyn_ptr(l, e->d_un.d_ptr); break;
        case DT_RELSZ: d->relsz[2] = e->d_un.d_val; break;
        case DT_RELENT: d->relent[2] = e->d_un.d_val; break;
        }
    }
    if (!d->strtab || !d->symtab || d->syment < sizeof(ElfW(Sym)))
        d->symtab = NULL;
}

/* Symbol i's name, or NULL when it lies outside the string table. */
const char *rb_sym_name(const struct rb_dyn *d, const ElfW(Sym) *s)
{
    return s->st_name < d->strsz ? d->strtab + s->st_name : NULL;
}

const ElfW(Sym) *rb_sym(const struct rb_dyn *d, size_t i)
{
    return (const ElfW(Sym) *)((const char *)d->symtab + i * d->syment);
}

/* ---- objpool's own exports ----------------------------------------------- */

struct rb_export {
    const char *name;
    ElfW(Addr) self, libc;
};
static struct rb_export exports[RB_MAX_EXPORTS];
static size_t nexports;
static ElfW(Addr) libc_sorted[RB_MAX_EXPORTS]; /* for the pointer scan */
static pthread_once_t exports_once = PTHREAD_ONCE_INIT;

static int addr_cmp(const void *a, const void *b)
{
    ElfW(Addr) x = *(const ElfW(Addr) *)a, y = *(const ElfW(Addr) *)b;
    return x < y ? -1 : x > y;
}

/* The names objpool's dynamic symbol table defines for the program (the
 * interposers, dlopen and dlmopen among them), each with objpool's address
 * and libc's (the next definition, what a deep binding reached). Read
 * from the table itself, so that a new interposer is re-bound too. */
static void load_exports(void)
{
    Dl_info info;
    struct link_map *self = NULL;
    if (!dladdr1((void *)load_exports, &info, (void **)&self, RTLD_DL_LINKMAP) || !self)
        return;
    struct rb_dyn d;
    rb_dyn_read(self, &d);
    if (!d.symtab)
        return;
    size_t n = rb_dyn_nsyms(d.hash, d.gnu);
    for (size_t i = 1; i < n && nexports < RB_MAX_EXPORTS; i++) {
        const ElfW(Sym) *s = rb_sym(&d, i);
        const char *name = rb_sym_name(&d, s);
        if (s->st_shndx == SHN_UNDEF || ELFW(ST_TYPE)(s->st_info) != STT_FUNC || !name ||
            ELFW(ST_VISIBILITY)(s->st_other) != STV_DEFAULT)
            continue;
        void *libc = real_next(name);
        if (!libc)
            continue;
        exports[nexports].name = name;
        exports[nexports].self = self->l_addr + s->st_value;
        exports[nexports].libc = (ElfW(Addr))libc;
        libc_sorted[nexports] = (ElfW(Addr))libc;
        nexports++;
    }
    qsort(libc_sorted, nexports, sizeof *libc_sorted, addr_cmp);
}

static const struct rb_export *export_named(const char *name)
{
    for (size_t i = 0; i < nexports; i++)
        if (exports[i].name[0] == name[0] && !strcmp(exports[i].name, name))
            return &exports[i];
    return NULL;
}

/* Whether v is libc's address of one of objpool's names, and which. */
static const char *libc_name_of(ElfW(Addr) v)
{
    if (!nexports || v < libc_sorted[0] || v > libc_sorted[nexports - 1])
        return NULL;
    if (!bsearch(&v, libc_sorted, nexports, sizeof v, addr_cmp))
        return NULL;
    for (size_t i = 0; i < nexports; i++)
        if (exports[i].libc == v)
            return exports[i].name;
    return NULL;
}

/* ---- the plan ------------------------------------------------------------------ */

/* An object's mapped range and its RELRO pages, as the loader protected
 * them: from the start of the region's first page to the start of the page
 * its end falls in (glibc's _dl_protect_relro rounds both down). */
struct rb_layout {
    ElfW(Addr) lo, hi, relro_lo, relro_hi;
};

static void layout(const struct rb_obj *o, ElfW(Addr) page, struct rb_layout *y)
{
    ElfW(Addr) base = o->map->l_addr;
    memset(y, 0, sizeof *y);
    y->lo = UINTPTR_MAX;
    for (ElfW(Half) i = 0; i < o->phnum; i++) {
        const ElfW(Phdr) *ph = &o->phdr[i];
        if (ph->p_type == PT_LOAD) {
            if (base + ph->p_vaddr < y->lo)
                y->lo = base + ph->p_vaddr;
            if (base + ph->p_vaddr + ph->p_memsz > y->hi)
                y->hi = base + ph->p_vaddr + ph->p_memsz;
        } else if (ph->p_type == PT_GNU_RELRO) {
            y->relro_lo = (base + ph->p_vaddr) & ~(page - 1);
            y->relro_hi = (base + ph->p_vaddr + ph->p_memsz) & ~(page - 1);
        }
    }
}

static int plan_add(struct rb_plan *p, const struct rb_slot *s)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        struct rb_slot *n = cap <= RB_MAX_SLOTS ? realloc(p->slots, cap * sizeof *n) : NULL;
        if (!n)
            return -1;
        p->slots = n;
        p->cap = cap;
    }
    p->slots[p->n++] = *s;
    return 0;
}

/* What an import not yet bound (a lazy PLT slot still at its stub) will
 * bind to: what the loaded object's own scope gives first, the order a
 * deep binding searches. */
static ElfW(Addr) lazy_target(void *top, const char *name)
{
    return (ElfW(Addr))dlsym(top, name);
}

/* One relocation: a JUMP_SLOT or GLOB_DAT of an import objpool exports
 * whose slot holds libc's address (or, lazily, will) goes in the plan. */
static int plan_reloc(struct rb_plan *p, void *top, const struct rb_obj *o, int idx,
                      const struct rb_dyn *d, const struct rb_layout *y, const ElfW(Rel) *r)
{
    unsigned type = (unsigned)ELFW(R_TYPE)(r->r_info);
#ifdef R_SLOT_JUMP
    if (type != R_SLOT_JUMP && type != R_SLOT_GLOB)
        return 0;
#else
    (void)type;
    return 0;
#endif
    const ElfW(Sym) *s = rb_sym(d, ELFW(R_SYM)(r->r_info));
    const char *name = rb_sym_name(d, s);
    const struct rb_export *e = name && s->st_shndx == SHN_UNDEF ? export_named(name) : NULL;
    if (!e)
        return 0;
    ElfW(Addr) *where = (ElfW(Addr) *)(o->map->l_addr + r->r_offset);
    if ((ElfW(Addr))where < y->lo || (ElfW(Addr))where + sizeof *where > y->hi)
        return 0;
    ElfW(Addr) cur = __atomic_load_n(where, __ATOMIC_RELAXED);
    if (cur == e->self)
        return 0; /* objpool's already (bound through the global scope) */
    if (cur != e->libc && !(cur >= y->lo && cur < y->hi && lazy_target(top, name) == e->libc))
        return 0; /* it binds elsewhere: a library of its own defines the name */
    struct rb_slot slot = {where, cur, e->libc, e->self, 0, idx, e->name};
    slot.ro = (ElfW(Addr))where >= y->relro_lo && (ElfW(Addr))where < y->relro_hi;
    if (plan_add(p, &slot) < 0) {
        p->refused_obj = idx;
        p->why = "too many GOT slots to re-bind";
        return -1;
    }
    return 0;
}

static int plan_obj(struct rb_plan *p, void *top, const struct rb_obj *o, int idx, ElfW(Addr) page)
{
    struct rb_dyn d;
    struct rb_layout y;
    rb_dyn_read(o->map, &d);
    layout(o, page, &y);
    if (!d.symtab)
        return 0;
    for (int t = 0; t < 3; t++) {
        size_t ent = d.relent[t];
        if (!d.rel[t] || ent < sizeof(ElfW(Rel)))
            continue;
        for (size_t off = 0; off + ent <= d.relsz[t]; off += ent)
            if (plan_reloc(p, top, o, idx, &d, &y, (const ElfW(Rel) *)((const char *)d.rel[t] + off)) < 0)
                return -1;
    }
    return 0;
}

/* ---- addresses the library took ---------------------------------------------- */

static int is_planned_slot(const struct rb_plan *p, const ElfW(Addr) *w)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->slots[i].where == w)
            return 1;
    return 0;
}

/* A word of the object's writable data (RELRO included: it was writable
 * while the constructors ran) that holds libc's address of one of
 * objpool's names, and is not one of the slots about to be written, is a
 * pointer the library took: through it, it would keep calling libc while
 * its other calls reached objpool. Pointers it keeps on the heap are not
 * seen (docs/design.md). */
static int took_pointer(struct rb_plan *p, const struct rb_obj *o, int idx)
{
    size_t scanned = 0;
    for (ElfW(Half) i = 0; i < o->phnum; i++) {
        const ElfW(Phdr) *ph = &o->phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W))
            continue;
        ElfW(Addr) a = (o->map->l_addr + ph->p_vaddr + sizeof(ElfW(Addr)) - 1) & ~(sizeof(ElfW(Addr)) - 1);
        ElfW(Addr) end = o->map->l_addr + ph->p_vaddr + ph->p_memsz;
        if (!a || end <= a)
            continue; /* nothing mapped there */
        if ((scanned += ph->p_memsz) > RB_MAX_SCAN) {
            p->refused_obj = idx;
            p->why = "too much writable data to check for pointers it took";
            return 1;
        }
        for (const ElfW(Addr) *w = (const ElfW(Addr) *)a; (ElfW(Addr))(w + 1) <= end; w++) {
            const char *name = libc_name_of(*w);
            if (name && !is_planned_slot(p, w)) {
                p->refused_obj = idx;
                p->why = "it holds libc's address of";
                p->what = name;
                return 1;
            }
        }
    }
    return 0;
}

int rebind_plan(struct rb_plan *p, void *top, const struct rb_obj *objs, size_t n)
{
    memset(p, 0, sizeof *p);
    p->refused_obj = -1;
    pthread_once(&exports_once, load_exports);
    ElfW(Addr) page = getauxval(AT_PAGESZ);
    if (!page)
        page = 4096;
    for (size_t i = 0; i < n; i++)
        if (plan_obj(p, top, &objs[i], (int)i, page) < 0)
            return -1;
    for (size_t i = 0; i < n; i++)
        if (took_pointer(p, &objs[i], (int)i))
            return -1;
    return 0;
}

void rebind_free(struct rb_plan *p)
{
    free(p->slots);
    p->slots = NULL;
    p->n = p->cap = 0;
}

/* ---- the stores -------------------------------------------------------------- */

/* One slot: a RELRO page is made writable for this store only and read-only
 * again (what the loader left it). The store is one aligned word, so a
 * thread calling through the slot meanwhile jumps to the old target or to
 * the new one, both valid. */
static int store(const struct rb_slot *s, ElfW(Addr) v, ElfW(Addr) page)
{
    void *pg = (void *)((ElfW(Addr))s->where & ~(page - 1));
    if (s->ro && mprotect(pg, page, PROT_READ | PROT_WRITE) < 0)
        return -1;
    __atomic_store_n(s->where, v, __ATOMIC_RELEASE);
    if (s->ro)
        (void)mprotect(pg, page, PROT_READ); /* it was made writable: it can be made read-only */
    return 0;
}

int rebind_apply(struct rb_plan *p)
{
    ElfW(Addr) page = getauxval(AT_PAGESZ);
    if (!page)
        page = 4096;
    /* first ask, changing nothing, whether each read-only page may be
     * changed at all (a sealed mapping refuses any mprotect) */
    for (size_t i = 0; i < p->n; i++) {
        void *pg = (void *)((ElfW(Addr))p->slots[i].where & ~(page - 1));
        if (p->slots[i].ro && mprotect(pg, page, PROT_READ) < 0) {
            p->refused_obj = p->slots[i].obj;
            return -1;
        }
    }
    for (size_t i = 0; i < p->n; i++) {
        struct rb_slot *s = &p->slots[i];
        ElfW(Addr) cur = __atomic_load_n(s->where, __ATOMIC_ACQUIRE);
        if (cur != s->old && cur != s->libc) {
            s->to = 0; /* changed since it was looked at: not ours to write */
            continue;
        }
        if (store(s, s->to, page) < 0) {
            int err = errno;
            p->refused_obj = s->obj;
            while (i-- > 0)
                if (p->slots[i].to)
                    store(&p->slots[i], p->slots[i].old, page);
            errno = err;
            return -1;
        }
    }
    return 0;
}
