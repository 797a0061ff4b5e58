/* asan_mmap.h - force-included (-include) into the ASan build only.
 *
 * The pool core and the registry take their memory from mmap, not malloc
 * (the preload runs inside async-signal-safe libc calls).  ASan does not
 * track mmap'd memory: after munmap an access is a plain SEGV at best, and
 * silently reads someone else's data once the address range is mapped
 * again.  In the ASan build, munmap() therefore poisons the range and keeps
 * it mapped (its addresses are never reused), so a use after "free" of a
 * pool table is reported as `use-after-poison` with both stacks' context.
 * The pool tables grow by doubling, so the memory kept is bounded by about
 * twice the peak.  Release builds are untouched.
 */
#ifndef OBJPOOL_ASAN_MMAP_H
#define OBJPOOL_ASAN_MMAP_H

#include <sanitizer/asan_interface.h>
#include <stddef.h>
#include <sys/mman.h>

static inline int objpool_asan_munmap(void *addr, size_t len)
{
    ASAN_POISON_MEMORY_REGION(addr, len);
    return 0;
}
#define munmap(addr, len) objpool_asan_munmap((addr), (len))

#endif
