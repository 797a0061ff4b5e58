/* slab.h - fixed-size blocks from mmap'd slabs: the state a kind or a
 * protocol keeps per object beyond its record's fixed area (a recorded
 * start-up answer: a few KiB per connection), for the pools that need it
 * only, so that no record grows for them.
 *
 * Never malloc: chunks are mmap'd, carved front to back on demand, and
 * never unmapped (a block freed goes back to its slab's free list).
 * slab_alloc takes a mutex, like record_alloc, and never runs where a
 * signal handler may be (adoption, at connect); slab_free is a lock-free
 * push, so it may run wherever a record is freed, a signal handler
 * included. Only the allocator pops, under the mutex, so the pop cannot
 * suffer ABA. Blocks are 16-byte aligned and handed out zeroed. */
#ifndef OBJPOOL_SLAB_H
#define OBJPOOL_SLAB_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

struct slab_block;

struct slab {
    size_t size;                       /* block size, a multiple of 16 */
    size_t chunk_bytes;                /* bytes per mapped chunk */
    pthread_mutex_t lock;              /* allocation only */
    _Atomic(struct slab_block *) free; /* freed blocks */
    char *next, *end;                  /* the current chunk's uncarved rest */
    _Atomic size_t in_use;             /* blocks handed out and not freed */
    size_t mapped;                     /* chunks mapped so far */
    struct slab *all_next;             /* every slab, for fork */
};

/* Blocks of `size` bytes (at most SLAB_MAX_BLOCK). 0, or -1 for a size
 * out of range. Runs at start-up (it registers the slab for fork). */
#define SLAB_MAX_BLOCK (1u << 20)
int slab_init(struct slab *s, size_t size);
/* A zeroed block, or NULL if no memory could be mapped. */
void *slab_alloc(struct slab *s);
/* Give a block of this slab back; NULL is ignored. */
void slab_free(struct slab *s, void *p);

/* fork: hold every slab's lock across it; the child re-initialises them
 * (it has one thread). Called with the record arena's (core/registry.c). */
void slab_lock_all(void);
void slab_unlock_all(void);
void slab_reinit_all(void);
#endif
