/* slab.c - fixed-size blocks from mmap'd chunks (see slab.h). */
#include "slab.h"

#include <string.h>
#include <sys/mman.h>

struct slab_block {
    struct slab_block *next;
};

/* Every slab, for the fork handlers: pushed at start-up, never removed. */
static _Atomic(struct slab *) all_slabs;

/* At least 64 KiB per chunk, at least 8 blocks: a pool's connections share
 * a few mappings instead of one each. */
#define SLAB_MIN_CHUNK (64u << 10)

int slab_init(struct slab *s, size_t size)
{
    if (size == 0 || size > SLAB_MAX_BLOCK)
        return -1;
    memset(s, 0, sizeof *s);
    s->size = (size + 15) & ~(size_t)15;
    s->chunk_bytes = s->size * 8 > SLAB_MIN_CHUNK ? s->size * 8 : SLAB_MIN_CHUNK;
    pthread_mutex_init(&s->lock, NULL);
    struct slab *old = atomic_load(&all_slabs);
    do
        s->all_next = old;
    while (!atomic_compare_exchange_weak(&all_slabs, &old, s));
    return 0;
}

/* Carve one block from the current chunk, mapping a new one when it is
 * used up. Under the slab's lock. */
static void *carve(struct slab *s)
{
    if ((size_t)(s->end - s->next) < s->size) {
        void *chunk = mmap(NULL, s->chunk_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (chunk == MAP_FAILED)
            return NULL;
        s->next = chunk;
        s->end = (char *)chunk + s->chunk_bytes;
        s->mapped++;
    }
    void *p = s->next;
    s->next += s->size;
    return p;
}

void *slab_alloc(struct slab *s)
{
    pthread_mutex_lock(&s->lock);
    struct slab_block *b = atomic_load(&s->free);
    while (b && !atomic_compare_exchange_weak(&s->free, &b, b->next))
        ;
    void *p = b ? (void *)b : carve(s);
    pthread_mutex_unlock(&s->lock);
    if (!p)
        return NULL;
    memset(p, 0, s->size); /* a fresh chunk is zero; a freed block is not */
    atomic_fetch_add_explicit(&s->in_use, 1, memory_order_relaxed);
    return p;
}

void slab_free(struct slab *s, void *p)
{
    if (!p)
        return;
    struct slab_block *b = p;
    struct slab_block *old = atomic_load(&s->free);
    do
        b->next = old;
    while (!atomic_compare_exchange_weak(&s->free, &old, b));
    atomic_fetch_sub_explicit(&s->in_use, 1, memory_order_relaxed);
}

void slab_lock_all(void)
{
    for (struct slab *s = atomic_load(&all_slabs); s; s = s->all_next)
        pthread_mutex_lock(&s->lock);
}

void slab_unlock_all(void)
{
    for (struct slab *s = atomic_load(&all_slabs); s; s = s->all_next)
        pthread_mutex_unlock(&s->lock);
}

void slab_reinit_all(void)
{
    for (struct slab *s = atomic_load(&all_slabs); s; s = s->all_next)
        pthread_mutex_init(&s->lock, NULL);
}
