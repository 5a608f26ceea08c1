/*
 * orthanc_plugin.c - libChaosMaskOrthanc.so: the ChaosMask storage area for Orthanc (1.9.0 or
 * later), against OrthancCPlugin.h only.  Orthanc's storage callbacks are forwarded to the
 * storage area (orthanc_storage.h); this file reads the settings, opens the key ring and the
 * audit log, and refuses to let Orthanc start when any of them is missing or unsafe: an
 * Orthanc that meant to encrypt must never store plaintext silently.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <orthanc/OrthancCPlugin.h>

#include "chaosmask/app.h"
#include "chaosmask/app_ops.h"
#include "orthanc_settings.h"
#include "orthanc_storage.h"

#ifndef CHAOSMASK_VERSION
#define CHAOSMASK_VERSION CM_VERSION_STRING
#endif

static OrthancPluginContext *orthanc;
static cm_app app;
static cmo_storage storage;

static void plugin_log(void (*sink)(OrthancPluginContext *, const char *), const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void plugin_log(void (*sink)(OrthancPluginContext *, const char *), const char *fmt, ...)
{
    char line[CM_ERRMAX + 256];
    va_list ap;
    va_start(ap, fmt);
    int n = snprintf(line, sizeof line, "ChaosMask: ");
    vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    sink(orthanc, line);
}

/* What Orthanc is told about a failure; the message itself goes to its log. */
static OrthancPluginErrorCode orthanc_error(const cm_error *e)
{
    switch (cm_outcome_of(e->code)) {
    case CM_OUT_AUTH:
        return OrthancPluginErrorCode_CorruptedFile;
    case CM_OUT_INPUT:
    case CM_OUT_REENCODED:
    case CM_OUT_IDENTITY:
        return OrthancPluginErrorCode_BadFileFormat;
    default:
        return OrthancPluginErrorCode_StorageAreaPlugin;
    }
}

static OrthancPluginErrorCode on_create(const char *uuid, const void *content, int64_t size,
                                        OrthancPluginContentType type)
{
    cm_error e = {0, ""};
    if (size < 0 || cmo_storage_create(&storage, uuid, (uint32_t)type, content, (size_t)size, &e) != 0) {
        plugin_log(OrthancPluginLogError, "attachment %s (content type %d) not stored: %s", uuid, (int)type, e.msg);
        return orthanc_error(&e);
    }
    return OrthancPluginErrorCode_Success;
}

static uint8_t *orthanc_alloc(void *self, uint64_t size)
{
    OrthancPluginMemoryBuffer64 *target = self;
    if (OrthancPluginCreateMemoryBuffer64(orthanc, target, size) != OrthancPluginErrorCode_Success)
        return NULL;
    return target->data != NULL ? target->data : (uint8_t *)target; /* size 0: any non-NULL pointer */
}

static OrthancPluginErrorCode on_read_whole(OrthancPluginMemoryBuffer64 *target, const char *uuid,
                                            OrthancPluginContentType type)
{
    cm_error e = {0, ""};
    cmo_sink sink = {orthanc_alloc, target};
    if (cmo_storage_read(&storage, uuid, (uint32_t)type, &sink, &e) != 0) {
        plugin_log(OrthancPluginLogError, "attachment %s (content type %d) refused: %s", uuid, (int)type, e.msg);
        return orthanc_error(&e);
    }
    return OrthancPluginErrorCode_Success;
}

static OrthancPluginErrorCode on_read_range(OrthancPluginMemoryBuffer64 *target, const char *uuid,
                                            OrthancPluginContentType type, uint64_t start)
{
    cm_error e = {0, ""};
    if (cmo_storage_read_range(&storage, uuid, (uint32_t)type, start, target->data, (size_t)target->size, &e) != 0) {
        plugin_log(OrthancPluginLogError, "attachment %s (content type %d) range refused: %s", uuid, (int)type, e.msg);
        return orthanc_error(&e);
    }
    return OrthancPluginErrorCode_Success;
}

static OrthancPluginErrorCode on_remove(const char *uuid, OrthancPluginContentType type)
{
    cm_error e = {0, ""};
    if (cmo_storage_remove(&storage, uuid, (uint32_t)type, &e) != 0) {
        plugin_log(OrthancPluginLogError, "attachment %s not removed: %s", uuid, e.msg);
        return orthanc_error(&e);
    }
    return OrthancPluginErrorCode_Success;
}

/* The directory Orthanc resolves relative paths against: its configuration directory, or the
 * directory of its configuration file; absolute.  "" when it cannot be told. */
static void orthanc_config_dir(char dir[CM_PATH_MAX])
{
    char *path = OrthancPluginGetConfigurationPath(orthanc);
    char parent[CM_PATH_MAX] = ".";
    struct stat st;
    dir[0] = '\0';
    if (path != NULL && path[0] != '\0') {
        snprintf(parent, sizeof parent, "%s", path);
        char *slash = strrchr(parent, '/');
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
            ; /* a configuration directory */
        else if (slash == NULL)
            snprintf(parent, sizeof parent, ".");
        else
            slash[slash == parent ? 1 : 0] = '\0'; /* "/orthanc.json" -> "/" */
    }
    char *real = realpath(parent, NULL);
    if (real != NULL)
        snprintf(dir, CM_PATH_MAX, "%s", real);
    free(real);
    if (path != NULL)
        OrthancPluginFreeString(orthanc, path);
}

static int read_orthanc_settings(cmo_settings *set, cm_error *err)
{
    char dir[CM_PATH_MAX];
    orthanc_config_dir(dir);
    char *json = OrthancPluginGetConfiguration(orthanc);
    int rc = cmo_settings_parse(set, json, dir, err);
    if (json != NULL)
        OrthancPluginFreeString(orthanc, json);
    return rc;
}

/* The ChaosMask configuration: ChaosMask.Config, else the installed file.  The embedded
 * default (relative paths against Orthanc's working directory) is never used here. */
static int load_chaosmask_config(const cmo_settings *set, cm_error *err)
{
    const char *path = set->config_path[0] ? set->config_path : cm_app_installed_config();
    struct stat st;
    if (!set->config_path[0] && stat(path, &st) != 0)
        return cm_fail(err, CM_CFG_ENOENT, "no ChaosMask configuration: %s does not exist and \"%s\": {\"Config\": "
                       "...} is not set in Orthanc's configuration", path, CMO_SECTION);
    int rc = cm_config_load_file(&app.cfg, path, err);
    if (rc != 0)
        return rc;
    app.cfg_loaded = 1;
    app.keyring_dir = set->keyring_dir[0] ? set->keyring_dir : NULL;
    return 0;
}

/* The active key must be readable now (mode, format), not at the first store. */
static int check_key_ring(cm_keys **keys, char id[CM_KEYID_MAX], cm_error *err)
{
    uint8_t key[CM_KEYBYTES];
    int rc = cm_app_keys(&app, keys, err);
    if (rc == 0)
        rc = cm_keys_get(*keys, NULL, key, id, err);
    cm_memzero(key, sizeof key);
    return rc;
}

static int start(cm_error *err)
{
    cmo_settings set;
    cm_keys *keys = NULL;
    cm_audit *audit = NULL;
    char id[CM_KEYID_MAX] = "";
    int profile = 0;
    if (read_orthanc_settings(&set, err) != 0 || load_chaosmask_config(&set, err) != 0)
        return err->code;
    if (set.storage_compression)
        return cm_fail(err, CM_APP_EUSAGE, "\"StorageCompression\" is true: Orthanc compresses a file before the "
                       "storage area sees it, so its pixels could not be masked; set it to false");
    profile = app.cfg.profile;
    if (set.profile[0] && cm_app_parse_profile(set.profile, &profile, err) != 0)
        return err->code;
    if (check_key_ring(&keys, id, err) != 0 || cm_app_audit(&app, &audit, err) != 0)
        return err->code;
    cm_dicom_limits lim = cm_app_limits(&app);
    int policy = app.cfg.identity_policy == CM_IDENTITY_ALLOW ? CM_DICOM_IDENTITY_ALLOW : CM_DICOM_IDENTITY_REFUSE;
    if (cmo_storage_init(&storage, set.storage_dir, profile, keys, audit, &lim, policy, err) != 0)
        return err->code;
    plugin_log(OrthancPluginLogWarning, "storage area %s; profile %s; key ring %s (active key %s); audit log %s; "
               "configuration %s", storage.dir, cm_profile_name(profile), cm_keys_dir(keys), id,
               app.cfg.audit_path[0] ? app.cfg.audit_path : "(none)", app.cfg.source);
    if (set.storage_cache_mb > 0)
        plugin_log(OrthancPluginLogWarning, "MaximumStorageCacheSize is %lld MB: recently used DICOM files are kept "
                   "decrypted in Orthanc's memory (set it to 0 to keep none)", set.storage_cache_mb);
    return 0;
}

ORTHANC_PLUGINS_API int32_t OrthancPluginInitialize(OrthancPluginContext *context)
{
    orthanc = context;
    if (OrthancPluginCheckVersionAdvanced(context, 1, 9, 0) == 0) {
        plugin_log(OrthancPluginLogError, "Orthanc %s is too old: the storage area needs 1.9.0 or later",
                   context->orthancVersion);
        return -1;
    }
    OrthancPluginSetDescription(context, "ChaosMask: DICOM pixel data masked at rest, every other attachment sealed");
    cm_app_init(&app, "chaosmask-orthanc");
    cm_error e = {0, ""};
    if (start(&e) != 0) {
        plugin_log(OrthancPluginLogError, "refusing to start: %s", e.msg[0] ? e.msg : "failed");
        cm_app_close(&app);
        return -1;
    }
    OrthancPluginRegisterStorageArea2(context, on_create, on_read_whole, on_read_range, on_remove);
    return 0;
}

ORTHANC_PLUGINS_API void OrthancPluginFinalize(void)
{
    cm_app_close(&app);
}

ORTHANC_PLUGINS_API const char *OrthancPluginGetName(void)
{
    return "chaosmask";
}

ORTHANC_PLUGINS_API const char *OrthancPluginGetVersion(void)
{
    return CHAOSMASK_VERSION;
}
