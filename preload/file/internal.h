/* internal.h - what the files of the file kind share (filepool.h is what
 * the interposers see): the keys (one generic pool per path, kind of
 * object and open flags), path matching (match.c), glibc's FILE internals
 * (stream.c), acquire (acquire.c), release (release.c), the kind's table,
 * callbacks and report side (file.c). */
#ifndef OBJPOOL_FILE_INTERNAL_H
#define OBJPOOL_FILE_INTERNAL_H

#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include "../lease/lease.h"
#include "filepool.h"

/* Open flags a pooled object may carry. Everything else (O_PATH,
 * O_DIRECTORY, O_TMPFILE, O_EXCL, O_NOFOLLOW, O_NONBLOCK, O_DIRECT, O_SYNC,
 * O_NOATIME, ...) passes through unpooled: either the open itself is the
 * point (O_EXCL, O_NOFOLLOW's check) or the flag changes how the object
 * behaves and we would have to key and restore it. */
#define KEY_FLAGS (O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND)
#define IGNORED_FLAGS (O_CLOEXEC | O_LARGEFILE | O_NOCTTY)
/* Status flags the program could change with F_SETFL. */
#define STATUS_FLAGS (O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME)

#define MAX_KEYS_PER_TARGET 256

/* ---- the file's own state, which only file/ reads: struct file_rec in the
 * record's area (core/registry.h) ---- */
#define LF_UNBUFFERED LF_KIND(0) /* FILE: program changed buffering/orientation */

struct file_rec {
    FILE *fp;            /* the FILE the program holds, if any */
    int open_flags;      /* the flags it was opened with */
    struct record *home; /* guards the object's own high fd while leased */
};
_Static_assert(sizeof(struct file_rec) <= RECORD_AREA_SIZE, "a file's state fits its record's area");

static inline struct file_rec *file_rec(struct record *r)
{
    return (struct file_rec *)(void *)r->area;
}

/* One pool: a path, a kind of object and its flags. `t` comes first, so a
 * lease's l->target (set to &key->t) is the key itself; every generic code
 * path (the graveyard, dup2 over a lease) finds the right pool through
 * l->target->pool. */
struct fkey {
    struct target t;
    struct fkey *next;
    struct target *parent;
    uint64_t hash;
    int is_stream; /* FILE (fopen) or raw fd (open) */
    int flags;     /* KEY_FLAGS part of the open flags */
    size_t map_len;
    size_t plen;
    char path[];
};

struct ftarget {
    struct target *t;
    const char *base; /* last component of the pattern */
    int base_glob;
    _Atomic(struct fkey *) keys; /* published under keys_lock, read lock-free */
    unsigned nkeys;
};

extern struct ftarget *ftargets;

/* What a hit needs to know about the open it serves. */
struct hit_ctx {
    int cloexec;
};

/* match.c */
/* fopen's mode string as open flags; -1 if objpool does not pool it. */
int mode_flags(const char *mode);
/* The key for this open, made on first use; NULL when the path is not
 * configured, the mode is not allowed or the target has too many paths. */
struct fkey *file_lookup(int dirfd, const char *path, int is_stream, int flags);

/* stream.c */
/* Make a FILE look freshly opened; 0 on success. */
int stream_reset(FILE *fp);
/* Why a FILE may not be parked (wide, the program's buffer or buffering, an error), or 0. */
int stream_reason(FILE *fp);
/* Point a parked or reused FILE at fd, with FD_CLOEXEC as the mode asked. */
void stream_set_fd(FILE *fp, int fd, int cloexec);
void stream_set_fileno(FILE *fp, int fd);

/* file.c: the generic pool's callbacks for a key */
void file_destroy(void *user, void *obj);
int file_validate(void *user, void *obj, void *arg);
int file_reset(void *user, void *obj, void *arg);
extern const struct kind_ops file_ops;

/* release.c */
int file_release(struct record *r, int fd, FILE *fp);
/* The guard of a leased object's home number is dormant (fd -1, in no
 * slot) while the object itself sits at home. */
void home_dormant(struct record *g);
void filepool_note_fcntl_op(struct record *l, int cmd, long arg);
#endif
