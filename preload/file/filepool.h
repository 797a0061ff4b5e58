/* filepool.h - pooled files: the fopen and open families of configured
 * paths; what the interposers call. docs/files.md says what users get.
 *
 * What is pooled. A file target (file:///PATH, fnmatch globs allowed)
 * matches the path the program opens, made absolute against the working
 * directory at open time and cleaned lexically ("//", "/./"; a path with
 * ".." is not pooled: resolving it needs the file system). One generic pool
 * serves each (path, FILE or raw fd, open flags that matter): a FILE cannot
 * stand in for a raw fd, and a read-only object cannot stand in for a
 * writable one. Those pools (a "key" each) are made lazily on the first
 * open of a path; the report sums them per target.
 *
 * Idle objects. The FILE (with its buffer) or the raw fd is kept. It was
 * reset when parked: pending output flushed, every buffered byte dropped,
 * the kernel offset at 0, EOF and error cleared. So the program's first
 * read after a hit goes to the kernel and sees the file's current content.
 * (rewind() alone is not enough: when the whole file fitted in the buffer,
 * glibc's seek only moves the buffer pointer and reads nothing.)
 *
 * Where the fd lives. An object gets one fd of its own when first parked,
 * its "home": a high number with FD_CLOEXEC (docs/design.md, "Who owns
 * which fd"), kept until the
 * object is destroyed. While idle, the object's record sits at home. A hit
 * dups home to the lowest free number (what open() would return; FD_CLOEXEC
 * as the program asked) and leaves home open, guarded by a second record
 * (l->home, state IDLE, in no pool): the program cannot close it or dup2
 * over it unnoticed, close_range skips it and a forked child closes its
 * copy. A release then only closes the program's number. One dup per hit
 * and one close per release, instead of a dup and a close each way: on this
 * path syscalls are the whole cost (bench/files.sh).
 *
 * A hit must also pass validation: stat(path) still names the parked
 * object's file (st_dev, st_ino), unless validate=none.
 *
 * Release (fclose or close of a lease): parked unless shared (dup, fork,
 * spawn), the FILE was made wide or given the program's buffer or buffering
 * mode, the program set state we cannot undo (F_SETFL, locks), an error was
 * seen, or the pool is full.
 */
#ifndef OBJPOOL_FILEPOOL_H
#define OBJPOOL_FILEPOOL_H

#include <stdio.h>
#include <sys/types.h>

#include "../base/spec.h"
#include "../core/registry.h"

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
int filepool_fclose(FILE *fp, struct record *l);
/* glibc is about to close fd behind our back (freopen, fclose of a FILE
 * that is not the lease's own, fcloseall): forget the lease there. */
void filepool_detach(int fd, struct record *l);
/* fcloseall(): drop every idle FILE and forget every FILE lease. */
void filepool_before_fcloseall(void);
/* The program changed state on a file lease that a reuse cannot undo
 * (fcntl F_SETFL, record locks, leases; flock). */
void filepool_note_fcntl(struct record *l, int cmd);
#endif
