/* internal.h - what the parser's files share (config.h is its face):
 * options.c the per-pool options, config.c specs, globals and the
 * environment, file.c OBJPOOL_CONFIG files, resolve.c host names. */
#ifndef OBJPOOL_CONFIG_INTERNAL_H
#define OBJPOOL_CONFIG_INTERNAL_H

#include "../base/log.h"
#include "../base/real.h"
#include "config.h"

/* options.c */
int parse_uint(const char *s, uint64_t max, uint64_t *out);
void default_opts(struct pool_opts *o, unsigned max_size);
/* Set option `key`; NULL on success (*id_out names it), else why not. */
const char *set_opt(struct pool_opts *o, const char *key, const char *val, int *id_out);

/* config.c */
void config_warn(const char *source, const char *token, const char *why);
/* The offset of the first byte that is not text (a control byte or invalid
 * UTF-8), or -1. */
long bad_text_at(const char *s);
void bad_byte_token(char *buf, size_t size, unsigned char c, long at);
int apply_kv(struct config *cfg, const char *source, struct pool_opts *o, char *kv, int is_default);
void add_spec(struct config *cfg, const char *source, const char *url, char **kvs, int nkv,
              const struct pool_opts *defaults);
char *trim(char *s);
void set_global(struct config *cfg, const char *source, const char *name, const char *val);

/* file.c */
void parse_file(struct config *cfg, const char *path, int max_size_from_env);
#endif
