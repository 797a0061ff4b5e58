/* config.h - the configuration parser: OBJPOOL_POOLS, OBJPOOL_CONFIG files
 * and the globals, into the types of base/spec.h. One parser serves the
 * library, `objpool check` and the fuzzer. */
#ifndef OBJPOOL_CONFIG_H
#define OBJPOOL_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "../base/spec.h"

/* Read OBJPOOL_* (with secure_getenv) and OBJPOOL_CONFIG into cfg. Errors
 * are printed, one line each, and counted in cfg->errors. `file` overrides
 * OBJPOOL_CONFIG when not NULL. */
void config_load(struct config *cfg, const char *file, const char *extra_pools);
/* Resolve host names into targets. 0 on success. */
int config_resolve(struct config *cfg);
void config_free(struct config *cfg);

const char *opt_name(int id);
/* Print the effective value of an option into buf (for `objpool check`). */
void opt_format(const struct pool_opts *o, int id, char *buf, size_t size);
int parse_duration_ms(const char *s, uint64_t *out);

/* The one error format: objpool[pid]: config: SOURCE: TOKEN: WHY */
void config_error(struct config *cfg, const char *source, const char *token, const char *why);
#endif
