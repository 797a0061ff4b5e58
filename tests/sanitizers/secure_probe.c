/* secure_probe: how the library behaves in a setuid/setgid (AT_SECURE)
 * process, for tests/config/hardening.bats.
 *
 *   secure_probe LIBRARY PORT
 *
 * The loader ignores LD_PRELOAD paths in an AT_SECURE process, so the
 * probe dlopen()s the library itself (its constructor then reads the
 * OBJPOOL_* variables as it would under LD_PRELOAD), and makes two
 * connect/close cycles to 127.0.0.1:PORT through the library's connect and
 * close.  Prints "at_secure=0|1 secure_getenv=set|unset cycles=N"; whether
 * the library pooled and reported is for the test to see (report file,
 * server accept count). */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: secure_probe LIBRARY PORT\n");
        return 2;
    }
    unsigned long secure = getauxval(AT_SECURE);
    const char *v = secure_getenv("OBJPOOL_POOLS");
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "secure_probe: dlopen: %s\n", dlerror());
        return 1;
    }
    int (*lib_connect)(int, const struct sockaddr *, socklen_t) =
        (int (*)(int, const struct sockaddr *, socklen_t))dlsym(lib, "connect");
    int (*lib_close)(int) = (int (*)(int))dlsym(lib, "close");
    if (!lib_connect || !lib_close) {
        fprintf(stderr, "secure_probe: the library has no connect/close\n");
        return 1;
    }
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[2]))};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int cycles = 0;
    for (int i = 0; i < 2; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0 || lib_connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
            perror("secure_probe: connect");
            return 1;
        }
        lib_close(fd);
        cycles++;
    }
    printf("at_secure=%lu secure_getenv=%s cycles=%d\n", secure, v ? "set" : "unset", cycles);
    return 0;
}
