/* ossl.c - finding the program's OpenSSL 3 at run time.
 *
 * Every name is looked up with its version, OPENSSL_3.0.0, so a libcrypto
 * of another ABI (1.1) is never called with 3.0's arguments. First after
 * objpool in the global scope (RTLD_NEXT); then in a libcrypto.so.3
 * already loaded but out of that scope: Python loads its _ssl module, and
 * with it libssl and libcrypto, RTLD_LOCAL, where RTLD_NEXT does not look
 * (libssl's own calls still reach objpool's exports, which come first).
 * RTLD_NOLOAD: objpool never loads OpenSSL into a program that did not. */
#include "ossl.h"

#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../base/real.h"

struct ossl_fns ossl;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int complete;

#define OSSL_VERSION "OPENSSL_3.0.0"

static void *find(const char *name)
{
    static const char *const libs[] = {"libcrypto.so.3", "libssl.so.3"};
    void *p = dlvsym(RTLD_NEXT, name, OSSL_VERSION);
    for (unsigned i = 0; !p && i < sizeof libs / sizeof *libs; i++) {
        void *h = real.dlopen ? real.dlopen(libs[i], RTLD_LAZY | RTLD_NOLOAD) : NULL;
        p = h ? dlvsym(h, name, OSSL_VERSION) : NULL; /* the handle is kept: never dlclose'd */
    }
    return p;
}

/* The names of the objects loaded now, but objpool's own (copied out: no
 * dlopen runs inside dl_iterate_phdr's lock). */
struct scan {
    uintptr_t self;
    int n;
    char names[32][256];
};

static int scan_one(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct scan *s = arg;
    (void)size;
    if (s->n < 32 && info->dlpi_name && info->dlpi_name[0] && info->dlpi_addr != s->self &&
        strlen(info->dlpi_name) < sizeof s->names[0])
        strcpy(s->names[s->n++], info->dlpi_name);
    return 0;
}

/* NAME in any object loaded now but objpool, in load order (an OpenSSL of
 * another version, in the global scope or loaded RTLD_LOCAL), or NULL. */
static void *find_anywhere(const char *name)
{
    static struct scan s; /* under `scan_lock`: 8 KiB kept off the stack */
    static pthread_mutex_t scan_lock = PTHREAD_MUTEX_INITIALIZER;
    Dl_info me;
    void *p = NULL;
    if (!real.dlopen || !dladdr((void *)find_anywhere, &me))
        return NULL;
    pthread_mutex_lock(&scan_lock);
    s.self = (uintptr_t)me.dli_fbase;
    s.n = 0;
    dl_iterate_phdr(scan_one, &s);
    for (int i = 0; i < s.n && !p; i++) {
        void *h = real.dlopen(s.names[i], RTLD_LAZY | RTLD_NOLOAD);
        p = h ? dlsym(h, name) : NULL;
    }
    pthread_mutex_unlock(&scan_lock);
    return p;
}

/* An interposed function: the version-3 one, or else whatever another
 * object defines under that name (another ABI: passed through, never
 * pooled). */
static void *find_real(const char *name, int *ok)
{
    void *p = find(name);
    if (p)
        return p;
    *ok = 0;
    return find_anywhere(name);
}

void *ossl_find(const char *name)
{
    return find(name);
}

void *ossl_find_real(const char *name, int *ok)
{
    return find_real(name, ok);
}


#define NEED(field, name)                                       \
    do {                                                        \
        *(void **)&ossl.field = find(name);                     \
        if (!ossl.field)                                        \
            ok = 0;                                             \
    } while (0)
#define REAL(field, name) (*(void **)&ossl.field = find_real(name, &ok))

static void resolve_once(void)
{
    int ok = 1;
    REAL(load_file, "X509_STORE_load_file");
    REAL(load_file_ex, "X509_STORE_load_file_ex");
    REAL(load_locations, "X509_STORE_load_locations");
    REAL(load_locations_ex, "X509_STORE_load_locations_ex");
    REAL(set_default_paths, "X509_STORE_set_default_paths");
    REAL(set_default_paths_ex, "X509_STORE_set_default_paths_ex");
    NEED(load_path, "X509_STORE_load_path");
    NEED(store_new, "X509_STORE_new");
    NEED(store_free, "X509_STORE_free");
    NEED(store_get0_objects, "X509_STORE_get0_objects");
    NEED(store_add_cert, "X509_STORE_add_cert");
    NEED(store_add_crl, "X509_STORE_add_crl");
    NEED(store_lock, "X509_STORE_lock");
    NEED(store_unlock, "X509_STORE_unlock");
    NEED(object_new, "X509_OBJECT_new");
    NEED(object_free, "X509_OBJECT_free");
    NEED(object_set1_x509, "X509_OBJECT_set1_X509");
    NEED(object_set1_crl, "X509_OBJECT_set1_X509_CRL");
    NEED(sk_push, "OPENSSL_sk_push");
    NEED(store_add_lookup, "X509_STORE_add_lookup");
    NEED(lookup_file, "X509_LOOKUP_file");
    NEED(lookup_hash_dir, "X509_LOOKUP_hash_dir");
    NEED(lookup_store, "X509_LOOKUP_store");
    NEED(lookup_ctrl, "X509_LOOKUP_ctrl");
    NEED(lookup_ctrl_ex, "X509_LOOKUP_ctrl_ex");
    NEED(sk_num, "OPENSSL_sk_num");
    NEED(sk_value, "OPENSSL_sk_value");
    NEED(object_type, "X509_OBJECT_get_type");
    NEED(object_x509, "X509_OBJECT_get0_X509");
    NEED(object_crl, "X509_OBJECT_get0_X509_CRL");
    NEED(x509_up_ref, "X509_up_ref");
    NEED(x509_free, "X509_free");
    NEED(crl_up_ref, "X509_CRL_up_ref");
    NEED(crl_free, "X509_CRL_free");
    NEED(default_cert_file, "X509_get_default_cert_file");
    NEED(default_cert_file_env, "X509_get_default_cert_file_env");
    NEED(get_ex_new_index, "CRYPTO_get_ex_new_index");
    NEED(store_set_ex_data, "X509_STORE_set_ex_data");
    NEED(store_get_ex_data, "X509_STORE_get_ex_data");
    NEED(err_set_mark, "ERR_set_mark");
    NEED(err_pop_to_mark, "ERR_pop_to_mark");
    NEED(err_clear_error, "ERR_clear_error");
    complete = ok;
}

int ossl_resolve(void)
{
    pthread_once(&once, resolve_once);
    return complete;
}
