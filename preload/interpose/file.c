/* file.c - the fopen and open families, fclose, and the few calls
 * that would close or pin a pooled file behind objpool's back (freopen,
 * fcloseall, flock).
 *
 * With no file:// target (file_ntargets == 0) each opener is a load and a
 * jump to the real function; fclose is a bounds check and an atomic load
 * (the registry lookup every fd interposer makes). file/ does the rest.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/file.h>
#include <unistd.h>

#include "../file/filepool.h"
#include "interpose.h"

/* glibc's fortified entry points (what -D_FORTIFY_SOURCE builds call);
 * their headers declare them only inside fortify wrappers. */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);

/* The mode argument exists only when the flags say so (as glibc reads it). */
#define MODE_ARG(flags, mode)                      \
    do {                                           \
        if (__OPEN_NEEDS_MODE(flags)) {            \
            va_list ap_;                           \
            va_start(ap_, flags);                  \
            mode = (mode_t)va_arg(ap_, int);       \
            va_end(ap_);                           \
        }                                          \
    } while (0)

OBJPOOL_EXPORT FILE *fopen(const char *path, const char *mode)
{
    if (likely(file_ntargets == 0))
        return real.fopen(path, mode);
    return filepool_fopen(path, mode, 0);
}

OBJPOOL_EXPORT FILE *fopen64(const char *path, const char *mode)
{
    if (likely(file_ntargets == 0))
        return real.fopen64(path, mode);
    return filepool_fopen(path, mode, 1);
}

OBJPOOL_EXPORT int fclose(FILE *fp)
{
    /* fmemopen/fopencookie streams have _fileno -1: never a slot */
    struct record *l = reg_get(fp->_fileno);
    if (likely(!l))
        return real.fclose(fp);
    return filepool_fclose(fp, l);
}

OBJPOOL_EXPORT int open(const char *path, int flags, ...)
{
    mode_t mode = 0;
    MODE_ARG(flags, mode);
    if (likely(file_ntargets == 0))
        return real.open(path, flags, mode);
    return filepool_open(OV_OPEN, AT_FDCWD, path, flags, mode);
}

OBJPOOL_EXPORT int open64(const char *path, int flags, ...)
{
    mode_t mode = 0;
    MODE_ARG(flags, mode);
    if (likely(file_ntargets == 0))
        return real.open64(path, flags, mode);
    return filepool_open(OV_OPEN64, AT_FDCWD, path, flags, mode);
}

OBJPOOL_EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
    mode_t mode = 0;
    MODE_ARG(flags, mode);
    if (likely(file_ntargets == 0))
        return real.openat(dirfd, path, flags, mode);
    return filepool_open(OV_OPENAT, dirfd, path, flags, mode);
}

OBJPOOL_EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
    mode_t mode = 0;
    MODE_ARG(flags, mode);
    if (likely(file_ntargets == 0))
        return real.openat64(dirfd, path, flags, mode);
    return filepool_open(OV_OPENAT64, dirfd, path, flags, mode);
}

OBJPOOL_EXPORT int __open_2(const char *path, int flags)
{
    if (likely(file_ntargets == 0))
        return real.open_2(path, flags);
    return filepool_open(OV_OPEN_2, AT_FDCWD, path, flags, 0);
}

OBJPOOL_EXPORT int __open64_2(const char *path, int flags)
{
    if (likely(file_ntargets == 0))
        return real.open64_2(path, flags);
    return filepool_open(OV_OPEN64_2, AT_FDCWD, path, flags, 0);
}

OBJPOOL_EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
    if (likely(file_ntargets == 0))
        return real.openat_2(dirfd, path, flags);
    return filepool_open(OV_OPENAT_2, dirfd, path, flags, 0);
}

OBJPOOL_EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
    if (likely(file_ntargets == 0))
        return real.openat64_2(dirfd, path, flags);
    return filepool_open(OV_OPENAT64_2, dirfd, path, flags, 0);
}

/* ---- calls that close a FILE's fd inside glibc ----------------------- */
static void detach_stream(FILE *fp)
{
    struct record *l = fp ? reg_get(fp->_fileno) : NULL;
    if (l) {
        int saved = errno;
        filepool_detach(fp->_fileno, l); /* glibc closes the fd itself */
        errno = saved;
    }
}

OBJPOOL_EXPORT FILE *freopen(const char *path, const char *mode, FILE *fp)
{
    detach_stream(fp);
    return real.freopen(path, mode, fp);
}

OBJPOOL_EXPORT FILE *freopen64(const char *path, const char *mode, FILE *fp)
{
    detach_stream(fp);
    return real.freopen64(path, mode, fp);
}

OBJPOOL_EXPORT int fcloseall(void)
{
    if (file_ntargets && guard_enter()) {
        int saved = errno;
        filepool_before_fcloseall();
        guard_leave();
        errno = saved;
    }
    return real.fcloseall();
}

/* flock: a lock held by the open file description would outlive the
 * program's close if the object were parked. */
OBJPOOL_EXPORT int flock(int fd, int op)
{
    struct record *l = reg_get(fd);
    if (l) {
        if (record_is_ours(l)) {
            errno = EBADF; /* an idle object's number is closed, as far as the program knows */
            return -1;
        }
        if (l->ops && l->ops->fcntl)
            l->ops->fcntl(l, F_SETLK, 0); /* a lock: as fcntl(F_SETLK) would be */
    }
    return real.flock(fd, op);
}
