/* passcost.c - loops of calls on objects objpool does not pool, for counting
 * instructions per call with valgrind --tool=callgrind
 * --toggle-collect=bench_loop (only bench_loop and what it calls is counted).
 *
 * Usage: passcost OP N      OP: close read write connect fopen syscall sysread
 *
 * Per-iteration set-up uses a system call made here in assembly (rawsys),
 * which no preload can see (objpool routes some numbers of libc's
 * syscall() now): it costs the same with and without the preload, so the
 * difference between two runs is the preload's cost per call.
 *   close    rawsys(SYS_dup, fd) then close() of the copy
 *   read     read() of 1 byte from /dev/zero
 *   write    write() of 1 byte to /dev/null
 *   connect  rawsys(SYS_socket) then connect() of a TCP socket to a
 *            loopback port nothing listens on (ECONNREFUSED) and
 *            rawsys(SYS_close)   (PASSCOST_PORT, default 9)
 *   fopen    fopen("/dev/null", "r") and fclose()
 *   syscall  syscall(SYS_getppid): a number objpool's syscall() passes on
 *   sysread  syscall(SYS_read) of 1 byte from /dev/zero: a routed number
 *            on an fd objpool does not own
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static int g_zero, g_null;

/* A system call with up to three arguments, past every library. */
static long rawsys(long nr, long a, long b, long c)
{
    long r;
#if defined(__x86_64__)
    __asm__ volatile("syscall" : "=a"(r) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
#elif defined(__aarch64__)
    register long x8 __asm__("x8") = nr, x0 __asm__("x0") = a, x1 __asm__("x1") = b, x2 __asm__("x2") = c;
    __asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
    r = x0;
#else
    r = syscall(nr, a, b, c);
#endif
    return r;
}
static struct sockaddr_in g_sa;

__attribute__((noinline)) void bench_loop(const char *op, long n);
__attribute__((noinline)) void bench_loop(const char *op, long n)
{
    char c = 'x';
    if (!strcmp(op, "close")) {
        for (long i = 0; i < n; i++)
            close((int)rawsys(SYS_dup, g_null, 0, 0));
    } else if (!strcmp(op, "read")) {
        for (long i = 0; i < n; i++)
            if (read(g_zero, &c, 1) != 1)
                abort();
    } else if (!strcmp(op, "write")) {
        for (long i = 0; i < n; i++)
            if (write(g_null, &c, 1) != 1)
                abort();
    } else if (!strcmp(op, "connect")) {
        for (long i = 0; i < n; i++) {
            int fd = (int)rawsys(SYS_socket, AF_INET, SOCK_STREAM, 0);
            if (connect(fd, (struct sockaddr *)&g_sa, sizeof g_sa) == 0)
                abort();
            rawsys(SYS_close, fd, 0, 0);
        }
    } else if (!strcmp(op, "fopen")) {
        for (long i = 0; i < n; i++) {
            FILE *f = fopen("/dev/null", "r");
            if (!f)
                abort();
            fclose(f);
        }
    } else if (!strcmp(op, "syscall")) {
        for (long i = 0; i < n; i++)
            if (syscall(SYS_getppid) < 0)
                abort();
    } else if (!strcmp(op, "sysread")) {
        for (long i = 0; i < n; i++)
            if (syscall(SYS_read, g_zero, &c, 1) != 1)
                abort();
    } else {
        fprintf(stderr, "passcost: unknown op %s\n", op);
        exit(2);
    }
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: passcost close|read|write|connect|fopen|syscall|sysread N\n");
        return 2;
    }
    g_zero = open("/dev/zero", O_RDONLY);
    g_null = open("/dev/null", O_WRONLY);
    g_sa.sin_family = AF_INET;
    g_sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const char *p = getenv("PASSCOST_PORT");
    g_sa.sin_port = htons((unsigned short)(p ? atoi(p) : 9));
    bench_loop(argv[1], atol(argv[2]));
    return 0;
}
