/* config_internal.h - helpers shared by the config/ sources: error messages, path joining,
 * durable (atomic) file replacement.  Not installed, not part of the API. */
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

/* Writes data to DIR/NAME durably and atomically: a temporary file in DIR (mode `mode`),
 * write, fsync, rename over NAME (or, with no_replace, a rename that fails when NAME exists),
 * fsync DIR.  Returns 0, CM_CFG_EEXIST (no_replace and NAME exists; err names the file),
 * CM_CFG_ENOENT or CM_CFG_EIO.  Nothing is left behind on failure. */
int cfg_write_atomic(const char *dir, const char *name, const void *data, size_t len, mode_t mode,
                     int no_replace, cm_error *err);

/* fsync() of a directory, so that a rename or a new entry in it is durable. */
int cfg_fsync_dir(const char *dir, cm_error *err);

#endif
