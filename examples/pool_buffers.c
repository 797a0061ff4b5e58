/* pool_buffers.c - pool expensive work buffers with libobjpool-core.
 *
 * Each "compressor" owns a 256 KiB work area (the size of zlib's deflate
 * state at level 9) that is costly to allocate and fault in. Requests borrow
 * one from the pool, use it, and give it back; a request that fails marks
 * its compressor broken so it is destroyed instead of reused.
 *
 *   cc pool_buffers.c $(pkg-config --cflags --libs objpool) -o pool_buffers
 */
#include <objpool.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WORK_SIZE (256 * 1024)

struct compressor {
    unsigned char *work;
    unsigned long uses;
};

static void *compressor_new(void *user, void *arg)
{
    (void)user;
    (void)arg;
    struct compressor *c = malloc(sizeof *c);
    if (!c)
        return NULL;
    c->work = malloc(WORK_SIZE);
    if (!c->work) {
        free(c);
        return NULL;
    }
    memset(c->work, 0, WORK_SIZE); /* the expensive part: fault in every page */
    c->uses = 0;
    return c;
}

static void compressor_free(void *user, void *obj)
{
    (void)user;
    struct compressor *c = obj;
    free(c->work);
    free(c);
}

/* Reuse: wipe the first page of state left by the previous request. */
static int compressor_reset(void *user, void *obj, void *arg)
{
    (void)user;
    (void)arg;
    struct compressor *c = obj;
    memset(c->work, 0, 4096);
    return 0;
}

/* A fake request: "compress" n bytes; every 50th one fails. */
static int handle_request(struct compressor *c, int n)
{
    c->uses++;
    for (int i = 0; i < n; i++)
        c->work[i % WORK_SIZE] ^= (unsigned char)i;
    return n % 50 == 49 ? -1 : 0;
}

int main(void)
{
    objpool_t *pool = objpool_new(compressor_new, compressor_free, NULL, compressor_reset, NULL, 4);
    if (!pool) {
        perror("objpool_new");
        return 1;
    }
    for (int n = 0; n < 1000; n++) {
        OBJPOOL_BORROW(pool, struct compressor *, c) {
            if (handle_request(c, 1000 + n) < 0) {
                objpool_borrow_broken(c); /* destroyed, not parked */
                break;
            }
        }
    }

    /* Explicit acquire/release, and a burst wider than max_size. */
    struct compressor *burst[8];
    for (int i = 0; i < 8; i++)
        burst[i] = objpool_acquire(pool);
    for (int i = 0; i < 8; i++)
        if (burst[i])
            objpool_release(pool, burst[i]); /* 4 parked, 4 destroyed (full) */

    objpool_stats_t st;
    objpool_get_stats(pool, &st);
    printf("acquired %llu hits %llu misses %llu released %llu parked %llu\n",
           (unsigned long long)st.acquired, (unsigned long long)st.hits,
           (unsigned long long)st.misses, (unsigned long long)st.released,
           (unsigned long long)st.parked);
    for (int r = 0; r < OBJPOOL_DISCARD_MAX; r++)
        if (st.discarded[r])
            printf("discarded %s %llu\n", objpool_discard_name(r),
                   (unsigned long long)st.discarded[r]);
    printf("idle %zu peak_idle %zu peak_leased %zu\n", st.idle, st.peak_idle, st.peak_leased);
    objpool_free(pool);
    return 0;
}
