/* filepool.h - pooled files: fopen/open of configured paths.
 * The acquire/release rules are shared/design.md §4; filepool.c says how,
 * docs/files.md says what users get. */
#ifndef OBJPOOL_FILEPOOL_H
#define OBJPOOL_FILEPOOL_H

#include <stdio.h>
#include <sys/types.h>

#include "config.h"
#include "objpool.h"
#include "registry.h"

/* Number of file:// targets; 0 makes every file interposer a load and a
 * jump to the real function. */
extern int file_ntargets __attribute__((visibility("hidden")));

int filepool_setup(struct config *cfg);

/* Which real function a pass-through or a miss must call: the program's
 * own entry point, so fortify checks and 64-bit variants behave as without
 * objpool. */
enum open_variant {
    OV_OPEN, OV_OPEN64, OV_OPENAT, OV_OPENAT64, OV_OPEN_2, OV_OPEN64_2, OV_OPENAT_2, OV_OPENAT64_2
};

/* fopen/fopen64 (is64) of any path: a hit, a miss adopted as a lease, or
 * the plain real call. errno as the real call leaves it. */
FILE *filepool_fopen(const char *path, const char *mode, int is64);
/* the open family: same, for raw fds. `mode` is only passed on. */
int filepool_open(enum open_variant v, int dirfd, const char *path, int flags, mode_t mode);
/* fclose(fp) where the registry has a record `l` at fp's fd number. */
int filepool_fclose(FILE *fp, struct lease *l);
/* The program closes a file lease (close() of its fd) whose slot the
 * caller has claimed. */
int filepool_close(int fd, struct lease *l);
/* glibc is about to close fd behind our back (freopen, fclose of a FILE
 * that is not the lease's own, fcloseall): forget the lease there. */
void filepool_detach(int fd, struct lease *l);
/* fcloseall(): drop every idle FILE and forget every FILE lease. */
void filepool_before_fcloseall(void);
/* The program changed state on a file lease that a reuse cannot undo
 * (fcntl F_SETFL, record locks, leases; flock). */
void filepool_note_fcntl(struct lease *l, int cmd);

/* The report: a file target is served by one pool per (path, kind, mode);
 * these sum or visit them. */
void filepool_get_stats(struct target *t, objpool_stats_t *out);
void filepool_evict_expired(struct target *t);
void filepool_reset_stats(struct target *t);
#endif
