/* sys.c - the exported syscall(): a trampoline in assembly.
 *
 * Programs call libc's syscall() by number to get a system call without
 * libc's wrapper: libuv closes every stream with syscall(SYS_close, fd)
 * (close() is a cancellation point). Every number objpool does not route
 * must reach libc's syscall exactly as the program made the call: every
 * argument register, the stack argument, the variadic register count,
 * errno. So the export is not C: it looks the number up in a table of one
 * byte per number and jumps - to libc's syscall (sys_next) for a zero
 * byte, to sys_routed (sysroute.c) for the rest. Both are jumps: each sees
 * the caller's own frame, so sys_routed's seventh parameter is exactly the
 * sixth argument the program passed (8(%rsp) on x86-64, x6 on aarch64),
 * and no variadic argument is ever read in C.
 *
 * The table is all zero until init has set pooling up (sys_setup): until
 * then, and in a process without pools, every number passes. */
#include <sys/syscall.h>

#include "../base/raw.h"
#include "../base/real.h"
#include "../conn/conn.h"
#include "sys.h"

/* One byte per system call number below SYS_ROUTE_MAX (the assembly
 * compares with the literal 511: keep them equal). */
#define SYS_ROUTE_MAX 512
unsigned char sys_route[SYS_ROUTE_MAX] __attribute__((visibility("hidden")));

/* libc's syscall once init resolved it; objpool's raw one before that (a
 * routed call cannot happen then: the table is still all zero). */
long (*sys_next)(long, ...) __attribute__((visibility("hidden"))) = raw_syscall;

#if defined(__x86_64__)
__asm__(".text\n"
        ".globl syscall\n"
        ".type syscall, @function\n"
        "syscall:\n"
        "  .cfi_startproc\n"
        "  endbr64\n"
        "  cmp $511, %rdi\n" /* unsigned: a negative number passes too */
        "  ja 1f\n"
        "  lea sys_route(%rip), %r11\n" /* r11: scratch, carries no argument */
        "  cmpb $0, (%r11,%rdi)\n"
        "  jne sys_routed\n"
        "1:\n"
        "  jmp *sys_next(%rip)\n"
        "  .cfi_endproc\n"
        ".size syscall, .-syscall\n");
#elif defined(__aarch64__)
__asm__(".text\n"
        ".globl syscall\n"
        ".type syscall, %function\n"
        "syscall:\n"
        "  .cfi_startproc\n"
        "  hint #34\n" /* bti c: a landing pad where BTI is on, a no-op elsewhere */
        "  cmp x0, #511\n"
        "  b.hi 1f\n"
        "  adrp x16, sys_route\n" /* x16: the intra-procedure scratch register */
        "  add x16, x16, :lo12:sys_route\n"
        "  ldrb w16, [x16, x0]\n"
        "  cbz w16, 1f\n"
        "  b sys_routed\n"
        "1:\n"
        "  adrp x16, sys_next\n"
        "  ldr x16, [x16, :lo12:sys_next]\n"
        "  br x16\n"
        "  .cfi_endproc\n"
        ".size syscall, .-syscall\n");
#else
#error "objpool: the syscall trampoline has no assembly for this architecture (x86-64 and aarch64 only)"
#endif

/* Route one number. */
static void route(long nr)
{
    if (nr >= 0 && nr < SYS_ROUTE_MAX)
        sys_route[nr] = 1;
}

/* At init, in every process, after real_resolve(): libc's syscall (or,
 * without one, still raw_syscall) becomes the next one. */
void sys_resolve(void)
{
    sys_next = real.syscall;
}

/* Once pooling is on: the numbers whose interposers own objects are
 * routed. socket, connect and the epoll calls matter only to connection
 * pools. */
void sys_setup(void)
{
    static const long fd_calls[] = {
        SYS_close, SYS_close_range, SYS_read, SYS_write, SYS_readv, SYS_writev,
        SYS_recvfrom, SYS_sendto, SYS_recvmsg, SYS_sendmsg, SYS_shutdown, SYS_sendfile,
        SYS_splice, SYS_sendmmsg, SYS_recvmmsg, SYS_dup, SYS_dup3, SYS_fcntl,
#ifdef SYS_dup2
        SYS_dup2,
#endif
    };
    static const long conn_calls[] = {
        SYS_socket, SYS_connect, SYS_epoll_ctl, SYS_epoll_create1,
#ifdef SYS_epoll_create
        SYS_epoll_create,
#endif
    };
    for (size_t i = 0; i < sizeof fd_calls / sizeof *fd_calls; i++)
        route(fd_calls[i]);
    if (conn_ntargets)
        for (size_t i = 0; i < sizeof conn_calls / sizeof *conn_calls; i++)
            route(conn_calls[i]);
}
