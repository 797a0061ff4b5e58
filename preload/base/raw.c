/* raw.c - raw_syscall: a system call by number that never leaves objpool.
 *
 * Written in assembly, as glibc's own syscall() is: the number and six
 * arguments are moved into the kernel's registers whether or not the
 * caller passed them (the kernel reads only what the call takes; a slot
 * never passed holds whatever was there, as with glibc's), and C never
 * reads a variadic argument that was not given. On x86-64 the sixth
 * argument is the caller's stack slot at 8(%rsp); on aarch64 all are in
 * x1-x6. A result in [-4095, -1] is an error: raw_syscall_error sets errno. */
#include "raw.h"

#include <errno.h>

long raw_syscall_error(long neg)
{
    errno = (int)-neg;
    return -1;
}

#if defined(__x86_64__)
__asm__(".text\n"
        ".globl raw_syscall\n"
        ".hidden raw_syscall\n"
        ".type raw_syscall, @function\n"
        "raw_syscall:\n"
        "  .cfi_startproc\n"
        "  mov %rdi, %rax\n"
        "  mov %rsi, %rdi\n"
        "  mov %rdx, %rsi\n"
        "  mov %rcx, %rdx\n"
        "  mov %r8, %r10\n"
        "  mov %r9, %r8\n"
        "  mov 8(%rsp), %r9\n"
        "  syscall\n"
        "  cmp $-4095, %rax\n"
        "  jae 1f\n"
        "  ret\n"
        "1:\n"
        "  mov %rax, %rdi\n"
        "  jmp raw_syscall_error\n"
        "  .cfi_endproc\n"
        ".size raw_syscall, .-raw_syscall\n");
#elif defined(__aarch64__)
__asm__(".text\n"
        ".globl raw_syscall\n"
        ".hidden raw_syscall\n"
        ".type raw_syscall, %function\n"
        "raw_syscall:\n"
        "  .cfi_startproc\n"
        "  mov x8, x0\n"
        "  mov x0, x1\n"
        "  mov x1, x2\n"
        "  mov x2, x3\n"
        "  mov x3, x4\n"
        "  mov x4, x5\n"
        "  mov x5, x6\n"
        "  svc #0\n"
        "  cmn x0, #4095\n"
        "  b.cs 1f\n"
        "  ret\n"
        "1:\n"
        "  b raw_syscall_error\n"
        "  .cfi_endproc\n"
        ".size raw_syscall, .-raw_syscall\n");
#else
#error "objpool: raw_syscall has no assembly for this architecture (x86-64 and aarch64 only)"
#endif
