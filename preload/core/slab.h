/* slab.h - fixed 4 KiB blocks of per-connection state (a recorded
 * PostgreSQL start-up), from mmap'd chunks, never malloc: safe to call in
 * an interposer. slab_alloc answers NULL when no block can be had (the
 * chunk limit, mmap failing, or another thread or a signal handler inside
 * the allocator at that instant): the caller then does without, which for
 * a pool means not reusing that connection. Blocks are zeroed. */
#ifndef OBJPOOL_SLAB_H
#define OBJPOOL_SLAB_H

#define SLAB_BLOCK 4096

void *slab_alloc(void);
/* Give a block back (NULL is ignored). */
void slab_free(void *block);
#endif
