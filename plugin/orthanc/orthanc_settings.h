/*
 * orthanc_settings.h - what the plugin reads from Orthanc's own configuration (JSON): the
 * "ChaosMask" section and the Orthanc settings the storage area depends on.
 *
 *   "StorageDirectory": where the storage area keeps its files ["OrthancStorage"]
 *   "StorageCompression": must be false (Orthanc compresses before the storage area sees a
 *                         file, so nothing could be masked)
 *   "MaximumStorageCacheSize": read to tell the administrator about plaintext kept in memory
 *   "ChaosMask": {
 *       "Config":  the ChaosMask configuration file [the installed /etc/chaosmask/chaosmask.ini]
 *       "KeyRing": the key ring directory [the configuration's [keyring] dir]
 *       "Profile": lorenz-chacha20 | aes-256-gcm | lorenz [the configuration's [engine] profile]
 *   }
 * Relative paths resolve against the directory of Orthanc's configuration, as Orthanc does.
 * An unknown key inside "ChaosMask" or a value of the wrong type is an error naming it.
 */
#ifndef CHAOSMASK_ORTHANC_SETTINGS_H
#define CHAOSMASK_ORTHANC_SETTINGS_H

#include "chaosmask/config.h"
#include "chaosmask/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CMO_SECTION "ChaosMask"

typedef struct cmo_settings {
    char config_path[CM_PATH_MAX];  /* "" = the installed configuration */
    char keyring_dir[CM_PATH_MAX];  /* "" = the configuration's */
    char profile[32];               /* "" = the configuration's */
    char storage_dir[CM_PATH_MAX];  /* absolute */
    int storage_compression;        /* StorageCompression */
    long long storage_cache_mb;     /* MaximumStorageCacheSize; Orthanc's default 128 when absent */
    int has_section;                /* a "ChaosMask" section is present */
} cmo_settings;

/* Parses Orthanc's configuration (json, as OrthancPluginGetConfiguration returns it);
 * config_dir is the directory relative paths resolve against.  0 or CM_APP_EUSAGE. */
int cmo_settings_parse(cmo_settings *out, const char *json, const char *config_dir, cm_error *err);

#ifdef __cplusplus
}
#endif
#endif
