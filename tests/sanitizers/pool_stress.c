/* pool_stress: drives the pool core (preload/pool.c) hard enough that the
 * sanitizers and valgrind see every path that allocates or frees: the lease
 * set and the idle ring growing, shrinking max_size under load, expiry,
 * clear, free.  Objects are malloc'd, so a use of a destroyed object is a
 * heap use-after-free; the pool's own tables come from mmap (see
 * asan_mmap.h for how ASan is made to see those).
 *
 *   pool_stress [--threads N] [--rounds N]
 *
 * Exit 0 and "pool_stress: ok ..." when every check holds. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "objpool.h"

#define MAGIC 0x6f626a706f6f6cull
#define HELD 48 /* objects one thread holds at once: > 32 grows the lease set */

struct obj {
    uint64_t magic;
    atomic_int users; /* 1 while leased: two holders at once is a pool bug */
    char payload[40];
};

static atomic_long created, destroyed, failures;

static void *make(void *user, void *arg)
{
    (void)user;
    (void)arg;
    struct obj *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->magic = MAGIC;
    atomic_fetch_add(&created, 1);
    return o;
}

static void destroy(void *user, void *p)
{
    (void)user;
    struct obj *o = p;
    if (o->magic != MAGIC || atomic_load(&o->users) != 0)
        atomic_fetch_add(&failures, 1);
    o->magic = 0;
    free(o);
    atomic_fetch_add(&destroyed, 1);
}

static int validate(void *user, void *p, void *arg)
{
    (void)user;
    (void)arg;
    struct obj *o = p;
    if (o->magic != MAGIC)
        atomic_fetch_add(&failures, 1);
    return (o->payload[0] & 7) == 7 ? OBJPOOL_DISCARD_INVALID : 0; /* some fail */
}

static int reset(void *user, void *p, void *arg)
{
    (void)user;
    (void)arg;
    memset(((struct obj *)p)->payload + 1, 0, sizeof ((struct obj *)p)->payload - 1);
    return 0;
}

struct worker {
    objpool_t *pool;
    int rounds;
    unsigned seed;
};

static void use(struct obj *o, unsigned *seed)
{
    if (atomic_fetch_add(&o->users, 1) != 0 || o->magic != MAGIC)
        atomic_fetch_add(&failures, 1);
    o->payload[0] = (char)rand_r(seed);
}

static void unuse(struct obj *o)
{
    atomic_fetch_sub(&o->users, 1);
}

static void *work(void *arg)
{
    struct worker *w = arg;
    struct obj *held[HELD];
    for (int r = 0; r < w->rounds; r++) {
        int n = 1 + rand_r(&w->seed) % HELD;
        int got = 0;
        for (int i = 0; i < n; i++) {
            struct obj *o = objpool_acquire(w->pool);
            if (!o)
                continue;
            use(o, &w->seed);
            held[got++] = o;
        }
        for (int i = 0; i < got; i++) {
            unuse(held[i]);
            int what = rand_r(&w->seed) % 10;
            int rc = what == 0 ? objpool_discard(w->pool, held[i], OBJPOOL_DISCARD_BROKEN)
                               : objpool_release(w->pool, held[i]);
            if (rc == OBJPOOL_ENOTLEASED)
                atomic_fetch_add(&failures, 1);
        }
        if (rand_r(&w->seed) % 50 == 0)
            objpool_set_max_size(w->pool, (size_t)(rand_r(&w->seed) % 40));
        if (rand_r(&w->seed) % 80 == 0)
            objpool_evict_expired(w->pool);
        if (rand_r(&w->seed) % 200 == 0)
            objpool_clear(w->pool);
        if (rand_r(&w->seed) % 20 == 0) {
            objpool_stats_t st;
            objpool_get_stats(w->pool, &st);
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int threads = 8, rounds = 400;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--threads"))
            threads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--rounds"))
            rounds = atoi(argv[i + 1]);
    }
    if (threads < 1 || threads > 64 || rounds < 1) {
        fprintf(stderr, "usage: pool_stress [--threads 1..64] [--rounds N]\n");
        return 2;
    }

    for (int order = 0; order < 2; order++) {
        objpool_t *p = objpool_new(make, destroy, validate, reset, NULL, 24);
        if (!p) {
            perror("objpool_new");
            return 1;
        }
        objpool_set_order(p, order ? OBJPOOL_FIFO : OBJPOOL_LIFO);
        objpool_set_idle_timeout_ms(p, 1);
        objpool_set_max_lifetime_ms(p, 50);
        /* pre-warm past the first ring size, so the idle ring grows */
        objpool_set_max_size(p, 200);
        for (int i = 0; i < 100; i++) {
            void *o = make(NULL, NULL);
            if (o)
                objpool_add_idle(p, o);
        }
        objpool_set_max_size(p, 24);

        pthread_t tid[64];
        struct worker w[64];
        for (int i = 0; i < threads; i++) {
            w[i] = (struct worker){p, rounds, (unsigned)(i * 7919 + order + 1)};
            if (pthread_create(&tid[i], NULL, work, &w[i]) != 0) {
                perror("pthread_create");
                return 1;
            }
        }
        for (int i = 0; i < threads; i++)
            pthread_join(tid[i], NULL);

        /* a double and a foreign release are refused, not corrupting */
        struct obj *o = objpool_acquire(p);
        if (o) {
            objpool_release(p, o);
            if (objpool_release(p, o) != OBJPOOL_ENOTLEASED)
                atomic_fetch_add(&failures, 1);
        }
        struct obj foreign = {.magic = MAGIC};
        if (objpool_release(p, &foreign) != OBJPOOL_ENOTLEASED)
            atomic_fetch_add(&failures, 1);

        objpool_stats_t st;
        objpool_get_stats(p, &st);
        if (st.leased != 0)
            atomic_fetch_add(&failures, 1);
        objpool_free(p);
    }

    long c = atomic_load(&created), d = atomic_load(&destroyed), f = atomic_load(&failures);
    printf("pool_stress: %s threads=%d rounds=%d created=%ld destroyed=%ld failures=%ld\n",
           f || c != d ? "FAIL" : "ok", threads, rounds, c, d, f);
    return f || c != d ? 1 : 0;
}
