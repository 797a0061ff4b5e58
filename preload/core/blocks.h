/* blocks.h - fixed 4 KiB blocks of per-connection state (a recorded
 * PostgreSQL start-up), from mmap'd chunks, never malloc: safe to call in
 * an interposer. block_alloc answers NULL when no block can be had (the
 * chunk limit, mmap failing, or another thread or a signal handler inside
 * the allocator at that instant): the caller then does without, which for
 * a pool means not reusing that connection. Blocks are zeroed. */
#ifndef OBJPOOL_BLOCKS_H
#define OBJPOOL_BLOCKS_H

#define BLOCK_SIZE 4096

void *block_alloc(void);
/* Give a block back (NULL is ignored). */
void block_free(void *block);
#endif
