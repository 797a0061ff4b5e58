/* libdlsealed.c - libdlplug's connect, in a library linked with full RELRO
 * (-z now) whose constructor seals its read-only relocations with mseal(2)
 * (as a hardened loader may): objpool cannot write its GOT and must leave
 * it deep-bound, saying so. dlsealed_ok() says whether the kernel sealed. */
#include <arpa/inet.h>
#include <link.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_mseal
#define SYS_mseal 462
#endif

int dlplug_connect(int port);
int dlsealed_ok(void);

static int sealed;

/* The entry of this library (the one whose range holds `sealed`): seal
 * its RELRO pages, as the loader protected them. */
static int seal_mine(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    ElfW(Addr) me = (ElfW(Addr))arg, lo = 0, hi = 0;
    int mine = 0;
    long page = sysconf(_SC_PAGESIZE);
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        ElfW(Addr) a = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && me >= a && me < a + ph->p_memsz)
            mine = 1;
        if (ph->p_type == PT_GNU_RELRO) {
            lo = a & ~(ElfW(Addr))(page - 1);
            hi = (a + ph->p_memsz) & ~(ElfW(Addr))(page - 1);
        }
    }
    if (!mine)
        return 0;
    if (hi > lo)
        sealed = syscall(SYS_mseal, (void *)lo, (size_t)(hi - lo), 0UL) == 0;
    return 1;
}

__attribute__((constructor)) static void seal(void)
{
    dl_iterate_phdr(seal_mine, &sealed);
}

int dlsealed_ok(void)
{
    return sealed;
}

/* Connect to 127.0.0.1:port and close; 0 on success, else -1. */
int dlplug_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int rc = connect(fd, (struct sockaddr *)&a, sizeof a);
    close(fd);
    return rc;
}
