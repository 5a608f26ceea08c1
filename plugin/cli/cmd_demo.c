/* chaosmask demo - the engine on its own: make a key ring if there is none, encrypt a
 * generated 16-bit CT-like series with the configured profile, decrypt it, prove the round
 * trip is bit-exact, and print the throughput. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/evp.h>

#include "chaosmask/app_pool.h"
#include "chaosmask/chaosmask.h"
#include "cli.h"


/* A CT-like phantom: an elliptic body with two round organs on air, 12-bit values in 16 bits. */
static void ct_phantom(uint8_t *buf, unsigned side, unsigned frames)
{
    for (unsigned f = 0; f < frames; f++)
        for (unsigned y = 0; y < side; y++)
            for (unsigned x = 0; x < side; x++) {
                double u = (2.0 * x - side) / side, v = (2.0 * y - side) / side;
                double du = u - 0.3, dv = v + 0.1 * f / frames, eu = u + 0.35;
                uint16_t hu = 24; /* air */
                if (u * u / 0.8 + v * v / 0.6 < 1)
                    hu = (uint16_t)(1040 + (x * 7 + y * 3) % 17); /* soft tissue with texture */
                if (du * du + dv * dv < 0.04)
                    hu = 1400; /* contrast-filled organ */
                if (eu * eu + v * v < 0.02)
                    hu = 2400; /* bone */
                memcpy(buf + 2 * (((size_t)f * side + y) * side + x), &hu, 2);
            }
}

static void sha256_hex(const uint8_t *p, size_t n, char out[65])
{
    uint8_t d[32];
    unsigned int len = 32;
    EVP_Digest(p, n, d, &len, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* The ring's active key; a ring is created (with one active key) when there is none. */
static int demo_key(cm_app *app, uint8_t key[CM_KEYBYTES], char id[CM_KEYID_MAX])
{
    const char *dir = cm_app_keyring_dir(app);
    cm_keyring kr;
    cm_error err = {0, ""};
    struct stat st;
    if (stat(dir, &st) != 0 || (cm_keyring_open(&kr, dir, &err) == 0 && kr.active_id[0] == '\0')) {
        if (cm_keys_generate(dir, NULL, 1, id, NULL, &err) != 0) {
            cm_app_report(app, NULL, &err);
            return cm_outcome_of(err.code);
        }
        printf("key ring %s: created key %s (active)\n", dir, id);
    }
    cm_keys *keys;
    if (cm_app_keys(app, &keys, &err) != 0 || cm_keys_get(keys, NULL, key, id, &err) != 0) {
        cm_app_report(app, NULL, &err);
        return cm_outcome_of(err.code);
    }
    return 0;
}

typedef struct demo_buffers {
    uint8_t *plain, *buf, *segment_tags;
    size_t len, frame_bytes;
} demo_buffers;

/* Seal, open, compare; prints what it measured.  An exit code. */
static int round_trip(cm_app *app, const demo_buffers *d, const cm_params *p, const uint8_t key[CM_KEYBYTES])
{
    uint8_t nonce[CM_NONCEBYTES], tag[CM_TAGBYTES];
    static const uint8_t uid[] = "2.25.1234567890.demo";
    if (cm_random(nonce, sizeof nonce) != 0)
        return CM_OUT_INTERNAL;
    double t0 = cm_app_seconds();
    int e = cm_seal(d->buf, d->segment_tags, tag, d->buf, d->len, p, key, nonce, uid, sizeof uid - 1);
    double t_enc = cm_app_seconds() - t0;
    size_t same = 0;
    for (size_t i = 0; e == CM_OK && i < d->len; i++)
        same += d->buf[i] == d->plain[i];
    t0 = cm_app_seconds();
    if (e == CM_OK)
        e = cm_open(d->buf, d->buf, d->len, d->segment_tags, tag, p, key, nonce, uid, sizeof uid - 1);
    double t_dec = cm_app_seconds() - t0;
    if (e != CM_OK) {
        cm_app_say(app, "%s", cm_strerror(e));
        return cm_outcome_of(e);
    }
    char h1[65], h2[65];
    sha256_hex(d->plain, d->len, h1);
    sha256_hex(d->buf, d->len, h2);
    int exact = memcmp(d->plain, d->buf, d->len) == 0;
    printf("encrypted: %.2f %% of bytes changed\n", 100.0 * (double)(d->len - same) / (double)d->len);
    printf("sha256 original:  %s\nsha256 recovered: %s\n", h1, h2);
    printf("round trip: %s\n", exact ? "bit-exact" : "MISMATCH");
    printf("throughput: encrypt %.0f MB/s, decrypt (verify + unmask) %.0f MB/s\n",
           (double)d->len / t_enc / 1e6, (double)d->len / t_dec / 1e6);
    return exact ? CM_OUT_OK : CM_OUT_CHECK;
}

enum { OPT_FRAMES = 'f' };

static int run_demo(cm_app *app, cm_cmdline *cl)
{
    uint64_t frames = 64;
    int rc = cm_cl_no_args(app, cl);
    if (rc == 0 && cm_cl_value(cl, OPT_FRAMES) != NULL)
        rc = cm_cl_size(app, "--frames", cm_cl_value(cl, OPT_FRAMES), 1, 4096, &frames);
    uint8_t key[CM_KEYBYTES];
    char key_id[CM_KEYID_MAX];
    if (rc != 0 || (rc = demo_key(app, key, key_id)) != 0)
        return rc;
    const unsigned side = 512;
    demo_buffers d = {NULL, NULL, NULL, (size_t)side * side * 2 * frames, (size_t)side * side * 2};
    d.plain = malloc(d.len);
    d.buf = malloc(d.len);
    d.segment_tags = malloc((size_t)frames * CM_SEGTAGBYTES);
    cm_pool *pool = NULL;
    cm_error err = {0, ""};
    if (d.plain == NULL || d.buf == NULL || d.segment_tags == NULL || cm_app_pool(app, &pool, &err) != 0) {
        cm_app_say(app, "cannot allocate %zu bytes twice and a worker pool", d.len);
        rc = CM_OUT_INTERNAL;
    } else {
        ct_phantom(d.plain, side, (unsigned)frames);
        memcpy(d.buf, d.plain, d.len);
        cm_params p = {app->cfg.profile, 2, d.frame_bytes, cm_pool_executor(pool)};
        printf("image: %ux%u 16-bit CT-like phantom, %u frames, %zu bytes\n", side, side, (unsigned)frames, d.len);
        printf("profile %s, key %s, %u threads\n", cm_profile_name(p.profile), key_id, cm_pool_threads(pool));
        rc = round_trip(app, &d, &p, key);
    }
    cm_memzero(key, sizeof key);
    free(d.plain);
    free(d.buf);
    free(d.segment_tags);
    return rc;
}

static const cm_optdef DEMO_OPTIONS[] = {
    {"frames", OPT_FRAMES, "N", "frames of 512x512 16-bit (default 64, at most 4096)"},
    CM_OPT_END,
};

const cm_command cm_cmd_demo = {
    "demo",
    "encrypt and decrypt a generated 16-bit image series, check it, print throughput",
    "[--frames N]",
    "Creates a key ring with one key if the ring has no key yet, encrypts a generated 512x512\n"
    "16-bit CT-like series of N frames with the configured profile and thread count, decrypts it,\n"
    "checks the result is bit-exact (byte comparison and SHA-256) and prints the throughput.",
    DEMO_OPTIONS,
    CM_X(CM_OUT_CHECK) | CM_X(CM_OUT_CONFIG) | CM_X(CM_OUT_AUTH) | CM_X(CM_OUT_INTERNAL),
    run_demo,
};
