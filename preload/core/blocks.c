/* blocks.c - the 4 KiB block allocator of blocks.h.
 *
 * Chunks of BLOCKS_PER_CHUNK blocks are mmap'd as needed, at most BLOCK_CHUNKS
 * of them, and never unmapped: a freed block goes on a free list linked
 * through its first bytes. One flag guards the list; an allocation that
 * finds it taken (another thread, or a signal handler that interrupted the
 * holder) gets NULL rather than wait. A free never takes it: the block is
 * pushed on a lock-free stack, which the next allocation moves to the list
 * whole (an exchange, so no ABA). No caller can deadlock. A forked child
 * inherits the chunks and the lists as they were. */
#include "blocks.h"

#include <stdatomic.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>

#define BLOCKS_PER_CHUNK 16
#define BLOCK_CHUNKS 256 /* 4096 blocks, 16 MiB at most */

struct free_block {
    struct free_block *next;
};

static atomic_flag block_lock = ATOMIC_FLAG_INIT;
static struct free_block *free_list;
static _Atomic(struct free_block *) freed; /* given back, not yet on free_list */
static unsigned nchunks;

/* A new chunk's blocks onto the free list (the lock held). */
static int grow(void)
{
    if (nchunks >= BLOCK_CHUNKS)
        return -1;
    char *c = mmap(NULL, (size_t)BLOCK_SIZE * BLOCKS_PER_CHUNK, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (c == MAP_FAILED)
        return -1;
    nchunks++;
    for (int i = BLOCKS_PER_CHUNK - 1; i >= 0; i--) {
        struct free_block *b = (struct free_block *)(void *)(c + (size_t)i * BLOCK_SIZE);
        b->next = free_list;
        free_list = b;
    }
    return 0;
}

void *block_alloc(void)
{
    if (atomic_flag_test_and_set_explicit(&block_lock, memory_order_acquire))
        return NULL;
    struct free_block *f = atomic_exchange_explicit(&freed, NULL, memory_order_acquire);
    while (f) {
        struct free_block *next = f->next;
        f->next = free_list;
        free_list = f;
        f = next;
    }
    struct free_block *b = NULL;
    if (free_list || grow() == 0) {
        b = free_list;
        free_list = b->next;
    }
    atomic_flag_clear_explicit(&block_lock, memory_order_release);
    if (b)
        memset(b, 0, BLOCK_SIZE);
    return b;
}

void block_free(void *block)
{
    if (!block)
        return;
    struct free_block *b = block;
    struct free_block *head = atomic_load_explicit(&freed, memory_order_relaxed);
    do
        b->next = head;
    while (!atomic_compare_exchange_weak_explicit(&freed, &head, b, memory_order_release, memory_order_relaxed));
}
