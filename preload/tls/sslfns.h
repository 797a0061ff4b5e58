/* sslfns.h - the libssl (and a few libcrypto) functions session
 * resumption calls, found as tls/ossl.c finds the rest: OpenSSL 3's, in
 * the program's own libraries, never linked. */
#ifndef OBJPOOL_SSLFNS_H
#define OBJPOOL_SSLFNS_H

#include <stdint.h>

struct ssl_fns {
    int (*is_server)(const void *);
    int (*in_before)(const void *);
    void *(*get_session)(const void *);
    void *(*get1_session)(void *);
    int (*set_session)(void *, void *);
    int (*get_verify_mode)(const void *);
    int (*get_verify_depth)(const void *);
    void *(*get_verify_callback)(const void *);
    void *(*ctx_get_verify_callback)(const void *);
    void *(*get_certificate)(const void *);
    void *(*ctx_get_client_cert_cb)(void *);
    uint64_t (*get_options)(const void *);
    long (*ctrl)(void *, int, long, void *);
    long (*ctx_ctrl)(void *, int, long, void *);
    int (*ct_is_enabled)(const void *);
    int (*get_fd)(const void *);
    int (*get_rfd)(const void *);
    int (*get_wfd)(const void *);
    const char *(*get_servername)(const void *, int);
    void *(*get0_param)(void *);
    void *(*get_ssl_ctx)(const void *);
    void *(*ctx_get_cert_store)(const void *);
    void *(*store_get0_param)(void *);
    void *(*store_get_verify_cb)(const void *);
    void *(*store_hook[10])(const void *); /* X509_STORE_get_verify, _check_issued, ... */
    char *(*param_get0_host)(void *, int);
    char *(*param_get1_ip_asc)(void *);
    unsigned long (*param_get_flags)(const void *);
    unsigned (*param_get_hostflags)(const void *);
    int (*param_get_depth)(const void *);
    int (*param_get_auth_level)(const void *);
    uint32_t (*param_get_inh_flags)(const void *);
    long (*param_get_time)(const void *);
    int (*get_security_level)(const void *);
    void (*crypto_free)(void *, const char *, int);
    int (*x509_digest)(const void *, const void *, unsigned char *, unsigned *);
    int (*crl_digest)(const void *, const void *, unsigned char *, unsigned *);
    const void *(*sha1)(void);
    void *(*get_ex_data)(const void *, int);
    void *(*ctx_get_ex_data)(const void *, int);
    int (*ctx_set_ex_data)(void *, int, void *);
    int (*set_ex_data)(void *, int, void *);
    int (*session_reused)(const void *);
    int (*is_init_finished)(const void *);
    long (*get_verify_result)(const void *);
    void *(*session_dup)(const void *);
    void (*session_free)(void *);
    int (*session_is_resumable)(const void *);
    int (*session_get_protocol)(const void *);
    long (*session_get_time)(const void *);
    long (*session_get_timeout)(const void *);
    int (*session_set_max_early)(void *, uint32_t);
};

extern struct ssl_fns S __attribute__((visibility("hidden")));

/* Find them all; 1 if every one was found. Call once (resume.c's once). */
int sslfns_resolve(void);
#endif
