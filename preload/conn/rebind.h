/* rebind.h - pointing the GOT slots of deep-bound libraries at objpool
 * (rebind.c), for deepbind.c, which decides when. */
#ifndef OBJPOOL_CONN_REBIND_H
#define OBJPOOL_CONN_REBIND_H

#include <link.h>
#include <stddef.h>
#include <stdint.h>

/* What an object's dynamic section says (rb_dyn_read). rel[0] is its PLT
 * relocations (DT_JMPREL), rel[1] DT_RELA, rel[2] DT_REL. */
struct rb_dyn {
    const char *strtab;
    const void *symtab;
    const ElfW(Word) *hash;
    const uint32_t *gnu;
    size_t strsz, syment;
    const void *rel[3];
    size_t relsz[3], relent[3];
};
void rb_dyn_read(const struct link_map *l, struct rb_dyn *d);
const void *rb_dyn_ptr(const struct link_map *l, ElfW(Addr) v);
size_t rb_dyn_nsyms(const ElfW(Word) *hash, const uint32_t *gnu);
const ElfW(Sym) *rb_sym(const struct rb_dyn *d, size_t i);
const char *rb_sym_name(const struct rb_dyn *d, const ElfW(Sym) *s);

/* One object a load added, as dl_iterate_phdr showed it. */
struct rb_obj {
    struct link_map *map;
    const ElfW(Phdr) *phdr;
    ElfW(Half) phnum;
};

/* One GOT slot to write: where, what it held when looked at, what it
 * gets, whether its page is read-only (RELRO), and whose it is. */
struct rb_slot {
    ElfW(Addr) *where;
    ElfW(Addr) old, libc, to;
    int ro;
    int obj;
    const char *name;
};

/* The slots of one load, or why it is left as it is. */
struct rb_plan {
    struct rb_slot *slots;
    size_t n, cap;
    int refused_obj;    /* the object that made the plan impossible, or -1 */
    const char *why;    /* what it holds, or why its slots cannot be written */
    const char *what;   /* the name it holds a libc address of, or NULL */
};

/* Plan the re-binding of objs[0..n): every R_*_JUMP_SLOT and R_*_GLOB_DAT
 * slot of an import objpool exports that binds to libc. `top` is the
 * handle the load returned. 0 when the plan can be carried out, -1 with
 * refused_obj and why set when the load must stay as it is. */
int rebind_plan(struct rb_plan *p, void *top, const struct rb_obj *objs, size_t n);
/* Write the plan's slots (called under the loader's lock, see
 * deepbind.c): 0, or -1 with errno and nothing written. */
int rebind_apply(struct rb_plan *p);
void rebind_free(struct rb_plan *p);
/* Whether the architecture has the relocation types this knows. */
int rebind_supported(void);
#endif
