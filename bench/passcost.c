/* passcost.c - loops of calls on objects objpool does not pool, for counting
 * instructions per call with valgrind --tool=callgrind
 * --toggle-collect=bench_loop (only bench_loop and what it calls is counted).
 *
 * Usage: passcost OP N      OP: close read write connect fopen
 *
 * Per-iteration set-up uses raw syscall(2), which objpool does not
 * interpose: it costs the same with and without the preload, so the
 * difference between two runs is the preload's cost per call.
 *   close    syscall(SYS_dup, fd) then close() of the copy
 *   read     read() of 1 byte from /dev/zero
 *   write    write() of 1 byte to /dev/null
 *   connect  syscall(SYS_socket) then connect() of a TCP socket to a
 *            loopback port nothing listens on (ECONNREFUSED) and
 *            syscall(SYS_close)   (PASSCOST_PORT, default 9)
 *   fopen    fopen("/dev/null", "r") and fclose()
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
static struct sockaddr_in g_sa;

__attribute__((noinline)) void bench_loop(const char *op, long n);
__attribute__((noinline)) void bench_loop(const char *op, long n)
{
    char c = 'x';
    if (!strcmp(op, "close")) {
        for (long i = 0; i < n; i++)
            close((int)syscall(SYS_dup, g_null));
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
            int fd = (int)syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
            if (connect(fd, (struct sockaddr *)&g_sa, sizeof g_sa) == 0)
                abort();
            syscall(SYS_close, fd);
        }
    } else if (!strcmp(op, "fopen")) {
        for (long i = 0; i < n; i++) {
            FILE *f = fopen("/dev/null", "r");
            if (!f)
                abort();
            fclose(f);
        }
    } else {
        fprintf(stderr, "passcost: unknown op %s\n", op);
        exit(2);
    }
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: passcost close|read|write|connect|fopen N\n");
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
