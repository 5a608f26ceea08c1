/*
 * app_keys.h - the key ring as the programs use it: a key provider with a small cache for
 * dicom/ (the service must not re-read key files for every retrieval), and the only code that
 * writes keys (keygen, activation), through the one atomic writer.
 *
 * Cache: at most CM_KEYS_CACHE keys, each kept for CM_KEYS_TTL seconds after it was read
 * (then read again, so a replaced or removed key file is noticed within that time); the
 * active id likewise.  Cached keys live in memory that is locked against swapping where the
 * system allows it and excluded from core dumps; they are wiped on close.  Thread-safe.
 * A forked child inherits its parent's cache, and its own copy ages the same way.
 */
#ifndef CHAOSMASK_APP_KEYS_H
#define CHAOSMASK_APP_KEYS_H

#include <stdint.h>

#include "chaosmask/chaosmask.h"
#include "chaosmask/config.h"
#include "chaosmask/dicom.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CM_KEYS_CACHE 16
#define CM_KEYS_TTL 60

typedef struct cm_keys cm_keys;

/* Opens the key ring dir (checked as cm_keyring_open does).  0 or a CM_CFG_ code. */
int cm_keys_open(cm_keys **out, const char *dir, cm_error *err);
void cm_keys_close(cm_keys *keys); /* wipes every cached key; NULL ok */
/* In a child after fork(): locks the key cache in memory again (memory locks are not
 * inherited; the mapping stays out of core dumps).  NULL ok. */
void cm_keys_relock(cm_keys *keys);
const char *cm_keys_dir(const cm_keys *keys);

/* The id of the key for new objects; CM_CFG_EUNKNOWNKEY with advice when the ring has none. */
int cm_keys_active(cm_keys *keys, char id[CM_KEYID_MAX], cm_error *err);
/* Key `id` (NULL: the active key, whose id goes to id_out when not NULL).  0 or a CM_CFG_
 * code: EUNKNOWNKEY names where it looked and what the ring holds; EMODE a key file that is
 * not 0600, and so on.  The caller wipes key. */
int cm_keys_get(cm_keys *keys, const char *id, uint8_t key[CM_KEYBYTES], char id_out[CM_KEYID_MAX],
                cm_error *err);
/* The provider dicom/ calls; valid while keys is open. */
cm_key_provider cm_keys_provider(cm_keys *keys);

/* Creates dir (0700) if missing (not its parents); id NULL -> "k" + UTC date-time like
 * k20261124T120501Z (-2, -3... if taken); a fresh random key written atomically as DIR/ID.key
 * (64 hex characters and a newline, mode 0600), never overwriting one (CM_CFG_EEXIST).  The
 * first key of a ring becomes active, or any key when make_active.  id_out and is_active may
 * be NULL.  0 or a CM_CFG_ code (CM_CFG_EIO when a file cannot be written). */
int cm_keys_generate(const char *dir, const char *id_or_null, int make_active, char id_out[CM_KEYID_MAX],
                     int *is_active, cm_error *err);
/* Makes an existing, readable key active (DIR/active written atomically). */
int cm_keys_set_active(const char *dir, const char *id, cm_error *err);

#ifdef __cplusplus
}
#endif
#endif
