/* ossl.h - the OpenSSL 3 functions the trust-store pool calls, found at run
 * time in the program's own libcrypto (objpool never links OpenSSL and
 * needs none of its headers: the objects are opaque pointers here, the
 * few constants are ABI-stable since 3.0). */
#ifndef OBJPOOL_OSSL_H
#define OBJPOOL_OSSL_H

/* Constants of OpenSSL 3's ABI (x509_vfy.h, x509.h). */
#define OSSL_LU_X509 1          /* X509_LU_X509 */
#define OSSL_LU_CRL 2           /* X509_LU_CRL */
#define OSSL_L_FILE_LOAD 1      /* X509_L_FILE_LOAD */
#define OSSL_L_ADD_DIR 2        /* X509_L_ADD_DIR */
#define OSSL_L_ADD_STORE 3      /* X509_L_ADD_STORE */
#define OSSL_FILETYPE_DEFAULT 3 /* X509_FILETYPE_DEFAULT */
#define OSSL_EX_INDEX_SSL 0     /* CRYPTO_EX_INDEX_SSL */
#define OSSL_EX_INDEX_SSL_CTX 1 /* CRYPTO_EX_INDEX_SSL_CTX */
#define OSSL_EX_INDEX_STORE 4   /* CRYPTO_EX_INDEX_X509_STORE */

struct ossl_fns {
    /* the functions objpool interposes, as the program's libcrypto has them */
    int (*load_file)(void *st, const char *file);
    int (*load_file_ex)(void *st, const char *file, void *libctx, const char *propq);
    int (*load_locations)(void *st, const char *file, const char *dir);
    int (*load_locations_ex)(void *st, const char *file, const char *dir, void *libctx, const char *propq);
    int (*set_default_paths)(void *st);
    int (*set_default_paths_ex)(void *st, void *libctx, const char *propq);
    /* what the pool needs besides (pooling is on only if all were found) */
    int (*load_path)(void *st, const char *dir);
    void *(*store_new)(void);
    void (*store_free)(void *st);
    void *(*store_get0_objects)(void *st);
    int (*store_add_cert)(void *st, void *x509);
    int (*store_add_crl)(void *st, void *crl);
    int (*store_lock)(void *st);
    int (*store_unlock)(void *st);
    void *(*object_new)(void);
    void (*object_free)(void *obj);
    int (*object_set1_x509)(void *obj, void *x);
    int (*object_set1_crl)(void *obj, void *c);
    int (*sk_push)(void *sk, const void *p);
    void *(*store_add_lookup)(void *st, void *method);
    void *(*lookup_file)(void);
    void *(*lookup_hash_dir)(void);
    void *(*lookup_store)(void);
    int (*lookup_ctrl)(void *lk, int cmd, const char *argc, long argl, char **ret);
    int (*lookup_ctrl_ex)(void *lk, int cmd, const char *argc, long argl, char **ret, void *libctx,
                          const char *propq);
    int (*sk_num)(const void *sk);
    void *(*sk_value)(const void *sk, int i);
    int (*object_type)(const void *obj);
    void *(*object_x509)(const void *obj);
    void *(*object_crl)(const void *obj);
    int (*x509_up_ref)(void *x);
    void (*x509_free)(void *x);
    int (*crl_up_ref)(void *c);
    void (*crl_free)(void *c);
    const char *(*default_cert_file)(void);
    const char *(*default_cert_file_env)(void);
    int (*get_ex_new_index)(int class_index, long argl, void *argp, void *new_fn, void *dup_fn,
                            void (*free_fn)(void *parent, void *ptr, void *ad, int idx, long argl, void *argp));
    int (*store_set_ex_data)(void *st, int idx, void *data);
    void *(*store_get_ex_data)(const void *st, int idx);
    int (*err_set_mark)(void);
    int (*err_pop_to_mark)(void);
    void (*err_clear_error)(void);
};

extern struct ossl_fns ossl __attribute__((visibility("hidden")));

/* Resolve every function once (thread-safe; later calls return at once).
 * Returns 1 if the whole set was found in an OpenSSL 3 libcrypto (the pool
 * may work), 0 if not (then only the interposed functions that were found
 * are set, for passing calls through). */
int ossl_resolve(void);
/* One more name, found as the set above is (NULL if absent), and one the
 * program calls through objpool (*ok = 0 if not OpenSSL 3's). */
void *ossl_find(const char *name);
void *ossl_find_real(const char *name, int *ok);
#endif
