/* dl.c - dlopen and dlmopen. Each is a jump to the real one unless
 * connection pools are configured and the program asks for RTLD_DEEPBIND:
 * such a library's calls would reach libc without objpool, and
 * conn/deepbind.c re-binds them to objpool, or says why it cannot. A
 * deep-bound library's own dlopen is re-bound too, so its nested loads
 * come here as well. */
#include <dlfcn.h>
#include <errno.h>
#include <string.h>

#include "../conn/conn.h"
#include "interpose.h"

/* The real dlopen takes its caller from its return address, and objpool
 * is the caller of a call it makes and watches. That is harmless only for
 * a path with a '/' and no '$': then glibc neither searches the caller's
 * RUNPATH nor expands $ORIGIN against it (what remains is the DT_RPATH of
 * the caller's own loaders, inherited by the new object's dependencies,
 * which modern links no longer write). A bare name or a '$' is passed
 * through unwatched. PHP, the reason for all this, gives full paths. */
static int watched(const char *file, int mode)
{
    return (mode & RTLD_DEEPBIND) && file && strchr(file, '/') && !strchr(file, '$');
}

static __attribute__((noinline)) void *dlopen_watched(const char *file, int mode)
{
    int saved = errno;
    unsigned long long before = conn_dl_adds();
    errno = saved;
    void *h = real.dlopen(file, mode);
    int err = errno;
    conn_dl_loaded("dlopen", file, h, before);
    errno = err;
    return h;
}

static __attribute__((noinline)) void *dlmopen_watched(Lmid_t ns, const char *file, int mode)
{
    int saved = errno;
    unsigned long long before = conn_dl_adds();
    errno = saved;
    void *h = real.dlmopen(ns, file, mode);
    int err = errno;
    conn_dl_loaded("dlmopen", file, h, before);
    errno = err;
    return h;
}

/* RTLD_DEEPBIND with pools: watch the load if that is harmless, else jump
 * on as the pass-through does. */
static __attribute__((noinline)) TAIL_CALLER void *dlopen_deepbind(const char *file, int mode)
{
    if (!watched(file, mode))
        TAIL_CALL return real.dlopen(file, mode);
    return dlopen_watched(file, mode);
}

static __attribute__((noinline)) TAIL_CALLER void *dlmopen_deepbind(Lmid_t ns, const char *file, int mode)
{
    if (!watched(file, mode))
        TAIL_CALL return real.dlmopen(ns, file, mode);
    return dlmopen_watched(ns, file, mode);
}

OBJPOOL_EXPORT TAIL_CALLER void *dlopen(const char *file, int mode)
{
    if (likely(conn_ntargets == 0 || !(mode & RTLD_DEEPBIND)))
        TAIL_CALL return real.dlopen(file, mode);
    TAIL_CALL return dlopen_deepbind(file, mode);
}

OBJPOOL_EXPORT TAIL_CALLER void *dlmopen(Lmid_t ns, const char *file, int mode)
{
    if (likely(conn_ntargets == 0 || !(mode & RTLD_DEEPBIND)))
        TAIL_CALL return real.dlmopen(ns, file, mode);
    TAIL_CALL return dlmopen_deepbind(ns, file, mode);
}
