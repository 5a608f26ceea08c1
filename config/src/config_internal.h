/* config_internal.h - helpers shared by the config/ sources: error messages, path joining,
 * and who may own what config/ reads.  Not installed, not part of the API. */
#ifndef CHAOSMASK_CONFIG_INTERNAL_H
#define CHAOSMASK_CONFIG_INTERNAL_H

#include <stddef.h>
#include <sys/types.h>

#include "chaosmask/config.h"

/* The bytes of config/chaosmask.ini, NUL-terminated; generated at build time. */
extern const char cm_config_embedded_ini[];

/* Formats err->msg (when err is not NULL) and returns code. */
int cfg_fail(cm_error *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* 1 when a file or directory owned by uid may hold keys or configuration: ours or root's
 * (a key ring or config file someone else owns could have been planted). */
int cfg_owner_trusted(uid_t uid);

/* out = dir + "/" + name (no doubled slash); 0, or -1 when it does not fit in outsz. */
int cfg_path_join(char *out, size_t outsz, const char *dir, const char *name);

#endif
