/* rawsys.h - a system call made in assembly, past libc and past every
 * preload: what a static binary, Go or io_uring does. objpool interposes
 * libc's syscall() (it routes close, the I/O family and more), so a test
 * of a call objpool can never see must not use syscall().
 */
#ifndef OBJPOOL_TEST_RAWSYS_H
#define OBJPOOL_TEST_RAWSYS_H

#include <errno.h>

static inline long rawsys(long nr, long a, long b, long c)
{
    long r;
#if defined(__x86_64__)
    __asm__ volatile("syscall" : "=a"(r) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
#elif defined(__aarch64__)
    register long x8 __asm__("x8") = nr, x0 __asm__("x0") = a, x1 __asm__("x1") = b, x2 __asm__("x2") = c;
    __asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
    r = x0;
#else
#error "rawsys.h: x86-64 and aarch64 only"
#endif
    if (r < 0 && r > -4096) {
        errno = (int)-r;
        return -1;
    }
    return r;
}
#endif
