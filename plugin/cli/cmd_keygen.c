/* chaosmask keygen, chaosmask keys - create site keys, list them, choose the active one. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "chaosmask/app_json.h"
#include "chaosmask/chaosmask.h"
#include "cli.h"

enum { OPT_ID = 'i', OPT_ACTIVATE = 'a' };

static int audit_key_event(cm_app *app, const char *event, const char *id, int code, const char *message)
{
    cm_audit *audit;
    cm_error err = {0, ""};
    cm_audit_event ev = cm_audit_event_init(event);
    ev.key_id = id;
    ev.code = code;
    ev.message = message;
    ev.file = cm_app_keyring_dir(app);
    if (cm_app_audit(app, &audit, &err) != 0 || cm_audit_write(audit, &ev, &err) != 0) {
        cm_app_report(app, NULL, &err);
        return cm_outcome_of(err.code);
    }
    return 0;
}

static int run_keygen(cm_app *app, cm_cmdline *cl)
{
    int rc = cm_cl_no_args(app, cl);
    if (rc != 0)
        return rc;
    const char *id = cm_cl_value(cl, OPT_ID), *dir = cm_app_keyring_dir(app);
    cm_error err = {0, ""};
    if (id != NULL && cm_keyid_check(id, &err) != 0) {
        cm_app_report(app, NULL, &err);
        return CM_OUT_USAGE;
    }
    char made[CM_KEYID_MAX];
    int is_active = 0;
    rc = cm_keys_generate(dir, id, cm_cl_flag(cl, OPT_ACTIVATE), made, &is_active, &err);
    int arc = audit_key_event(app, "keygen", rc == 0 ? made : id, rc, rc ? err.msg : NULL);
    if (rc != 0) {
        cm_app_report(app, NULL, &err);
        return cm_outcome_of(rc);
    }
    cm_cl_result(app, "created key %s in %s/%s.key%s", made, dir, made, is_active ? " (active)" : "");
    return arc;
}

static const cm_optdef KEYGEN_OPTIONS[] = {
    {"id", OPT_ID, "ID", "the new key's id: letters, digits, '.', '_', '-', at most 63 (default k<UTC time>)"},
    {"activate", OPT_ACTIVATE, NULL, "make the new key active: new objects use it (rotation)"},
    CM_OPT_END,
};

const cm_command cm_cmd_keygen = {
    "keygen",
    "create a site key in a key ring (the first key becomes active)",
    "[--id ID] [--activate]",
    "Creates a 256-bit site key from the system's random generator in DIR/ID.key (mode 0600;\n"
    "the key ring directory is created with mode 0700). The first key of a ring becomes the\n"
    "active key, used for new objects; --activate makes the new key active (rotation). Older\n"
    "keys stay for decryption. An existing key is never overwritten. Audited.",
    KEYGEN_OPTIONS,
    CM_X(CM_OUT_CONFIG),
    run_keygen,
};

/* ---- keys list | activate ---- */

/* A fingerprint that says which key a file holds without revealing anything of it:
 * HMAC-SHA256(key, "ChaosMask key fingerprint"), first 8 bytes in hex. */
static void fingerprint(const uint8_t key[CM_KEYBYTES], char out[17])
{
    static const char label[] = "ChaosMask key fingerprint";
    uint8_t mac[32];
    unsigned len = sizeof mac;
    HMAC(EVP_sha256(), key, CM_KEYBYTES, (const uint8_t *)label, sizeof label - 1, mac, &len);
    for (int i = 0; i < 8; i++)
        snprintf(out + 2 * i, 3, "%02x", mac[i]);
    cm_memzero(mac, sizeof mac);
}

static void print_key_row(cm_app *app, cm_keys *keys, const char *id, const char *active, int json)
{
    uint8_t key[CM_KEYBYTES];
    cm_error err = {0, ""};
    char fp[17] = "", created[32] = "", path[CM_PATH_MAX];
    int rc = cm_keys_get(keys, id, key, NULL, &err);
    if (rc == 0)
        fingerprint(key, fp);
    cm_memzero(key, sizeof key);
    struct stat st;
    snprintf(path, sizeof path, "%s/%s.key", cm_keys_dir(keys), id);
    struct tm tm;
    if (stat(path, &st) == 0 && gmtime_r(&st.st_mtime, &tm) != NULL)
        strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm);
    int is_active = strcmp(id, active) == 0;
    if (json) {
        cm_json j;
        cm_json_init(&j);
        cm_json_object_begin(&j, NULL);
        cm_json_str(&j, "id", id);
        cm_json_str(&j, "created", created);
        cm_json_bool(&j, "active", is_active);
        cm_json_str(&j, "fingerprint", rc == 0 ? fp : NULL);
        cm_json_str(&j, "error", rc == 0 ? NULL : err.msg);
        cm_json_object_end(&j);
        printf("%s\n", cm_json_text(&j));
        cm_json_free(&j);
    } else {
        printf("%-24s %-20s %-6s %s\n", id, created, is_active ? "yes" : "", rc == 0 ? fp : err.msg);
    }
    (void)app;
}

static int keys_list(cm_app *app, cm_keys *keys, int json)
{
    char active[CM_KEYID_MAX] = "";
    cm_error err = {0, ""};
    size_t total = 0;
    if (cm_keyring_list(cm_keys_dir(keys), NULL, 0, &total, &err) != 0) {
        cm_app_report(app, NULL, &err);
        return cm_outcome_of(err.code);
    }
    char (*ids)[CM_KEYID_MAX] = calloc(total ? total : 1, sizeof *ids);
    if (ids == NULL || cm_keyring_list(cm_keys_dir(keys), ids, total, &total, &err) != 0) {
        free(ids);
        cm_app_say(app, "cannot list the key ring");
        return CM_OUT_INTERNAL;
    }
    (void)cm_keys_active(keys, active, &err);
    if (!json)
        printf("%-24s %-20s %-6s %s\n", "id", "created", "active", "fingerprint");
    for (size_t i = 0; i < total; i++)
        print_key_row(app, keys, ids[i], active, json);
    free(ids);
    return CM_OUT_OK;
}

static int keys_activate(cm_app *app, const char *id)
{
    cm_error err = {0, ""};
    int rc = cm_keys_set_active(cm_app_keyring_dir(app), id, &err);
    int arc = audit_key_event(app, "key-activate", id, rc, rc ? err.msg : NULL);
    if (rc != 0) {
        cm_app_report(app, NULL, &err);
        return cm_outcome_of(rc);
    }
    cm_cl_result(app, "key %s is now active: new objects use it", id);
    return arc;
}

enum { OPT_JSON = 'j' };

static int run_keys(cm_app *app, cm_cmdline *cl)
{
    if (cl->argc >= 1 && strcmp(cl->argv[0], "activate") == 0 && cl->argc == 2)
        return keys_activate(app, cl->argv[1]);
    if (cl->argc != 1 || strcmp(cl->argv[0], "list") != 0) {
        cm_app_say(app, "expected 'list' or 'activate ID' (see chaosmask help keys)");
        return CM_OUT_USAGE;
    }
    cm_keys *keys;
    cm_error err = {0, ""};
    if (cm_app_keys(app, &keys, &err) != 0) {
        cm_app_report(app, NULL, &err);
        return cm_outcome_of(err.code);
    }
    return keys_list(app, keys, cm_cl_flag(cl, OPT_JSON));
}

static const cm_optdef KEYS_OPTIONS[] = {
    {"json", OPT_JSON, NULL, "list: one JSON object per key"},
    CM_OPT_END,
};

const cm_command cm_cmd_keys = {
    "keys",
    "list the keys of the key ring, or choose the active one",
    "list [--json]\nactivate ID",
    "list: every key of the ring with its creation time, whether it is active (used for new\n"
    "objects) and a fingerprint (HMAC-SHA256 of a fixed label under the key, 8 bytes) that tells\n"
    "keys apart and reveals nothing of them. activate ID: make an existing key active again\n"
    "(audited). To retire a key: `chaosmask migrate rekey` the archive, check that `chaosmask\n"
    "migrate scan` counts no object under it, then remove its file.",
    KEYS_OPTIONS,
    CM_X(CM_OUT_CONFIG) | CM_X(CM_OUT_INTERNAL),
    run_keys,
};
