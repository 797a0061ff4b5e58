/* libdlplug.c - a library that calls connect itself (as libmemcached does):
 * loaded with RTLD_DEEPBIND, its connect binds to libc, not to objpool. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

int dlplug_connect(int port);

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
