/* live.h - live statistics of a running process (OBJPOOL_STATS): the
 * layout of DIR/PID.stats, a small MAP_SHARED file in which every pool of
 * the process keeps its counters, and the calls that set it up. The
 * `objpool stats` command (scripts/tool/stats.c) reads the same layout.
 *
 * The file: one header page, then LIVE_SLOTS fixed slots. A slot is a
 * pool's counter block (objpool_stats_t, written by the pool under its
 * lock, bracketed by `seq`: odd while writing), or a configured target's
 * own counters (struct target_counters: relaxed atomics), or both (a
 * connection target, whose pool is the target's). A file target has one
 * target slot and one pool slot per path; readers sum slots by `target`. */
#ifndef OBJPOOL_LIVE_H
#define OBJPOOL_LIVE_H

#include <stdint.h>

#include "../base/spec.h"
#include "../core/objpool.h"

#define LIVE_MAGIC "OBJPOOL\x01"
#define LIVE_VERSION 1u
#define LIVE_SLOTS 128u
#define LIVE_HEADER_SIZE 4096u
#define LIVE_PROGRAM_MAX 256

/* slot flags: what the slot holds (set last, with release order) */
#define LIVE_SLOT_POOL 0x1u   /* st and seq are a pool's counters */
#define LIVE_SLOT_TARGET 0x2u /* tc are a configured target's counters */

struct live_header {
    char magic[8];
    uint32_t version;
    uint32_t header_size;      /* LIVE_HEADER_SIZE */
    uint32_t slot_size;        /* sizeof(struct live_slot) */
    uint32_t nslots;           /* LIVE_SLOTS */
    int32_t pid;
    int32_t ppid;
    uint64_t start_ticks;      /* field 22 of /proc/PID/stat: tells a reused pid apart */
    uint64_t start_realtime_ns;
    uint32_t used;             /* slots handed out (may exceed nslots: then overflow) */
    uint32_t overflow;         /* a pool found no slot: the numbers are partial */
    char program[LIVE_PROGRAM_MAX];
};

struct live_slot {
    uint64_t seq;              /* the pool's sequence word (objpool_set_stats_area) */
    uint32_t flags;            /* LIVE_SLOT_* */
    uint32_t kind;             /* enum pool_kind */
    int32_t family;            /* AF_INET, AF_INET6, AF_UNIX; 0 for files */
    int32_t proto;             /* configured enum proto_id */
    char target[MAX_URL + 1];  /* the pool spec's URL: the report's "target" */
    char address[64];          /* the numeric address, or empty (files: the spec's path) */
    objpool_stats_t st;
    struct target_counters tc;
};

#define LIVE_FILE_SIZE (LIVE_HEADER_SIZE + LIVE_SLOTS * sizeof(struct live_slot))

/* At init, after the configuration is resolved and before any pool exists
 * (registers its fork handler first, so that a child has its own file
 * before any other handler counts anything). Nothing when OBJPOOL_STATS is
 * unset; one error line and no live stats when the directory is refused. */
void live_setup(void);
/* A new pool of target t (a configured one, or a file key's copy): its
 * counters move into a slot of the mapping. */
void live_attach_pool(struct objpool *p, struct target *t);
#endif
