/* chaosmask keystream - raw keystream to stdout, for external randomness batteries
 * (ent, dieharder, rngtest). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chaosmask/chaosmask.h"
#include "cli.h"

#define KEYSTREAM_SEGMENT ((size_t)16 << 20)

enum { OPT_BYTES = 'b', OPT_PROFILE = 'p', OPT_NONCE = 'n' };

/* Writes total bytes of the profile's stream for obj to stdout, 16 MiB segments 0, 1, 2... */
static int write_stream(cm_app *app, const cm_object *obj, int profile, uint64_t total)
{
    uint8_t *buf = calloc(1, KEYSTREAM_SEGMENT), tag[CM_SEGTAGBYTES];
    if (buf == NULL) {
        cm_app_say(app, "out of memory");
        return CM_OUT_INTERNAL;
    }
    int rc = CM_OUT_OK;
    for (uint32_t seg = 0; total > 0; seg++) {
        size_t n = total < KEYSTREAM_SEGMENT ? (size_t)total : KEYSTREAM_SEGMENT;
        int e;
        if (profile == CM_PROFILE_LORENZ) {
            e = cm_lorenz_keystream(obj, seg, buf, n);
        } else {
            memset(buf, 0, n);
            e = cm_segment_seal(obj, seg, 1, buf, buf, n, tag);
        }
        if (e != CM_OK) {
            cm_app_say(app, "%s", cm_strerror(e));
            rc = CM_OUT_INTERNAL;
            break;
        }
        if (fwrite(buf, 1, n, stdout) != n) { /* a reader that stops early (head) needs no message */
            rc = CM_OUT_IO;
            break;
        }
        total -= n;
    }
    if (rc == CM_OUT_OK && fflush(stdout) != 0)
        rc = CM_OUT_IO;
    free(buf);
    return rc;
}

static int run_keystream(cm_app *app, cm_cmdline *cl)
{
    uint64_t total = 0;
    const char *bytes = cm_cl_value(cl, OPT_BYTES), *nonce_hex = cm_cl_value(cl, OPT_NONCE);
    int rc = cm_cl_no_args(app, cl), profile = CM_PROFILE_LORENZ;
    if (rc != 0)
        return rc;
    if (bytes == NULL) {
        cm_app_say(app, "--bytes N is required (see chaosmask help keystream)");
        return CM_OUT_USAGE;
    }
    if ((rc = cm_cl_size(app, "--bytes", bytes, 0, UINT64_MAX, &total)) != 0)
        return rc;
    if (cm_cl_value(cl, OPT_PROFILE) != NULL && (rc = cm_cl_profile(app, cl, OPT_PROFILE, &profile)) != 0)
        return rc;
    uint8_t nonce[CM_NONCEBYTES], key[CM_KEYBYTES];
    if (nonce_hex != NULL ? cm_parse_hex(nonce_hex, nonce, sizeof nonce) != 0 : cm_random(nonce, sizeof nonce) != 0) {
        cm_app_say(app, nonce_hex ? "--nonce needs exactly 32 hex digits" : "the random generator failed");
        return nonce_hex ? CM_OUT_USAGE : CM_OUT_INTERNAL;
    }
    cm_keys *keys;
    cm_error err = {0, ""};
    if (cm_app_keys(app, &keys, &err) != 0 || cm_keys_get(keys, NULL, key, NULL, &err) != 0) {
        cm_app_report(app, NULL, &err);
        return cm_outcome_of(err.code);
    }
    cm_object obj;
    rc = cm_object_init(&obj, profile, key, nonce, NULL, 0);
    cm_memzero(key, sizeof key);
    if (rc != CM_OK) {
        cm_app_say(app, "%s", cm_strerror(rc));
        return CM_OUT_INTERNAL;
    }
    rc = write_stream(app, &obj, profile, total);
    cm_object_wipe(&obj);
    return rc;
}

static const cm_optdef KEYSTREAM_OPTIONS[] = {
    {"bytes", OPT_BYTES, "N", "how many bytes (K, M, G suffixes allowed); required"},
    {"profile", OPT_PROFILE, "P", "lorenz (default here), lorenz-chacha20 or aes-256-gcm"},
    {"nonce", OPT_NONCE, "HEX", "32 hex digits (default: random), to reproduce a stream"},
    CM_OPT_END,
};

const cm_command cm_cmd_keystream = {
    "keystream",
    "write raw keystream to stdout (for randomness batteries)",
    "--bytes N [--profile P] [--nonce HEX]",
    "Writes N bytes to standard output, derived from the key ring's active key and a nonce:\n"
    "  lorenz            the raw Lorenz keystream words the masking adds\n"
    "  lorenz-chacha20,  the cipher of an all-zero input (what an attacker sees of a\n"
    "  aes-256-gcm       constant image)\n"
    "The stream is cut into 16 MiB segments 0, 1, 2... as an object's frames are.\n"
    "Example: chaosmask keystream --profile lorenz --bytes 64M | ent",
    KEYSTREAM_OPTIONS,
    CM_X(CM_OUT_CONFIG) | CM_X(CM_OUT_IO) | CM_X(CM_OUT_INTERNAL),
    run_keystream,
};
