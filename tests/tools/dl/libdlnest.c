/* libdlnest.c - a library that loads another with RTLD_DEEPBIND itself (as
 * a plugin host inside a plugin does): loaded deep-bound, its own dlopen is
 * libc's, so objpool sees the nested load only once it re-bound it. */
#include <dlfcn.h>

int dlnest_connect(const char *path, int port);

/* dlopen(path) deep-bound, its dlplug_connect(port), dlclose: 0 or -1. */
int dlnest_connect(const char *path, int port)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_DEEPBIND);
    if (!h)
        return -1;
    int (*conn)(int) = (int (*)(int))dlsym(h, "dlplug_connect");
    int rc = conn ? conn(port) : -1;
    dlclose(h);
    return rc;
}
