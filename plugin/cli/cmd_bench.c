/* chaosmask bench - engine throughput for every profile, one thread and all cores (frames in
 * parallel on the application's worker pool), with OpenSSL's AES-256-GCM measured in the same
 * run as the yardstick. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "chaosmask/app_pool.h"
#include "chaosmask/chaosmask.h"
#include "cli.h"

#define FRAME_BYTES ((size_t)512 * 512 * 2) /* a 512x512 16-bit frame */


static int aes_gcm_once(uint8_t *out, const uint8_t *in, size_t len, const uint8_t key[32])
{
    uint8_t iv[12] = {0}, tag[16];
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int ok = ctx != NULL && EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, iv) == 1, outl = 0;
    for (size_t off = 0; ok && off < len; off += (size_t)1 << 30) {
        int n = len - off > ((size_t)1 << 30) ? 1 << 30 : (int)(len - off);
        ok = EVP_EncryptUpdate(ctx, out + off, &outl, in + off, n) == 1;
    }
    ok = ok && EVP_EncryptFinal_ex(ctx, out, &outl) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, tag) == 1;
    EVP_CIPHER_CTX_free(ctx);
    return ok ? 0 : -1;
}

typedef struct bench_run {
    uint8_t *plain, *cipher, *back, *segment_tags;
    size_t len;
    uint8_t key[CM_KEYBYTES], nonce[CM_NONCEBYTES], tag[CM_TAGBYTES];
    unsigned repeat;
} bench_run;

typedef enum { OP_AES, OP_KEYSTREAM, OP_ENCRYPT, OP_DECRYPT } bench_op;

/* Best of `repeat` runs, in MB/s (10^6 bytes per second); negative on failure.  pool NULL:
 * the caller's thread alone. */
static double measure(bench_run *b, bench_op op, int profile, cm_pool *pool)
{
    double best = 0;
    cm_params p = {profile, 2, FRAME_BYTES, cm_pool_executor(pool)};
    for (unsigned r = 0; r < b->repeat; r++) {
        int rc = 0;
        double t0 = cm_app_seconds();
        switch (op) {
        case OP_AES: rc = aes_gcm_once(b->cipher, b->plain, b->len, b->key); break;
        case OP_KEYSTREAM: {
            cm_object obj;
            rc = cm_object_init(&obj, CM_PROFILE_LORENZ, b->key, b->nonce, NULL, 0);
            for (size_t off = 0, seg = 0; rc == 0 && off < b->len; off += FRAME_BYTES, seg++)
                rc = cm_lorenz_keystream(&obj, (uint32_t)seg, b->cipher + off,
                                         b->len - off < FRAME_BYTES ? b->len - off : FRAME_BYTES);
            cm_object_wipe(&obj);
            break;
        }
        case OP_ENCRYPT:
            rc = cm_seal(b->cipher, b->segment_tags, b->tag, b->plain, b->len, &p, b->key, b->nonce, NULL, 0);
            break;
        case OP_DECRYPT:
            rc = cm_open(b->back, b->cipher, b->len, b->segment_tags, b->tag, &p, b->key, b->nonce, NULL, 0);
            break;
        }
        double dt = cm_app_seconds() - t0;
        if (rc == 0 && op == OP_DECRYPT && memcmp(b->back, b->plain, b->len) != 0)
            rc = -1; /* checked outside the clock */
        if (rc != 0)
            return -1;
        double mbs = (double)b->len / dt / 1e6;
        if (mbs > best)
            best = mbs;
    }
    return best;
}

static void report(int json, const char *profile, const char *op, unsigned threads, size_t bytes,
                   double mbs, double aes)
{
    if (json)
        printf("{\"profile\": \"%s\", \"op\": \"%s\", \"threads\": %u, \"bytes\": %zu, \"mb_per_s\": %.1f, "
               "\"aes_256_gcm_mb_per_s\": %.1f, \"ratio\": %.3f}\n",
               profile, op, threads, bytes, mbs, aes, mbs / aes);
    else
        printf("%-20s %-9s %7u %10.1f %10.3f\n", profile, op, threads, mbs, mbs / aes);
    fflush(stdout);
}

typedef struct bench_row {
    const char *profile, *op;
    unsigned threads;
    double mbs;
} bench_row;

enum { MAX_ROWS = 16 };

/* Every profile, encrypt and decrypt, on one thread and on the pool; -1 when one failed. */
static int bench_profiles(bench_run *b, cm_pool *pool, bench_row *rows, size_t *nrows, const char **failed)
{
    const unsigned pool_threads = cm_pool_threads(pool);
    rows[(*nrows)++] = (bench_row){"lorenz", "keystream", 1, measure(b, OP_KEYSTREAM, CM_PROFILE_LORENZ, NULL)};
    for (int profile = CM_PROFILE_LORENZ; profile <= CM_PROFILE_AES_256_GCM; profile++) {
        for (int t = 0; t < 2; t++) {
            /* the multi-thread figure is the pool's: as many threads as could be started */
            unsigned threads = t == 0 ? 1 : pool_threads;
            if (t == 1 && pool_threads == 1)
                break;
            cm_pool *use = t == 0 ? NULL : pool;
            double enc = measure(b, OP_ENCRYPT, profile, use);
            double dec = enc > 0 ? measure(b, OP_DECRYPT, profile, use) : -1;
            if (enc <= 0 || dec <= 0) {
                *failed = cm_profile_name(profile);
                return -1;
            }
            rows[(*nrows)++] = (bench_row){cm_profile_name(profile), "encrypt", threads, enc};
            rows[(*nrows)++] = (bench_row){cm_profile_name(profile), "decrypt", threads, dec};
        }
    }
    return 0;
}

static int bench_alloc(bench_run *b)
{
    const cm_params layout = {CM_PROFILE_LORENZ, 2, FRAME_BYTES, NULL};
    b->plain = malloc(b->len);
    b->cipher = malloc(b->len + 16);
    b->back = malloc(b->len);
    b->segment_tags = malloc(cm_frame_count(b->len, &layout) * CM_SEGTAGBYTES);
    if (b->plain == NULL || b->cipher == NULL || b->back == NULL || b->segment_tags == NULL ||
        cm_random(b->key, sizeof b->key) != 0 || cm_random(b->nonce, sizeof b->nonce) != 0)
        return -1;
    /* a CT-like ramp, and every page touched before any clock starts */
    for (size_t i = 0; i < b->len / 2; i++) {
        uint16_t v = (uint16_t)((i % 512) * 4 + (i / 512) % 512);
        memcpy(b->plain + 2 * i, &v, 2);
    }
    memset(b->cipher, 0, b->len + 16);
    memset(b->back, 0, b->len);
    return 0;
}

static void bench_free(bench_run *b)
{
    free(b->plain);
    free(b->cipher);
    free(b->back);
    free(b->segment_tags);
    cm_memzero(b->key, sizeof b->key);
}

/* The yardstick is measured first and again last, and the better figure is used: a machine
 * whose speed drifts during the run cannot flatter the ratios. */
static int bench(cm_app *app, bench_run *b, cm_pool *pool, int json)
{
    bench_row rows[MAX_ROWS];
    size_t nrows = 0;
    const char *failed = NULL;
    double aes = measure(b, OP_AES, 0, NULL);
    if (aes <= 0) {
        cm_app_say(app, "OpenSSL AES-256-GCM failed");
        return CM_OUT_INTERNAL;
    }
    if (bench_profiles(b, pool, rows, &nrows, &failed) != 0) {
        cm_app_say(app, "%s failed or did not round-trip", failed);
        return CM_OUT_CHECK;
    }
    double aes_again = measure(b, OP_AES, 0, NULL);
    if (aes_again > aes)
        aes = aes_again;
    if (!json)
        printf("%zu bytes of 16-bit words in 512x512 frames, best of %u runs, %u cores\n"
               "%-20s %-9s %7s %10s %10s\n",
               b->len, b->repeat, cm_pool_cpu_count(), "profile", "op", "threads", "MB/s", "ratio");
    report(json, "aes-256-gcm(openssl)", "encrypt", 1, b->len, aes, aes);
    for (size_t i = 0; i < nrows; i++)
        report(json, rows[i].profile, rows[i].op, rows[i].threads, b->len, rows[i].mbs, aes);
    return CM_OUT_OK;
}

enum { OPT_JSON = 'j', OPT_BYTES = 'b', OPT_REPEAT = 'r' };

static int run_bench(cm_app *app, cm_cmdline *cl)
{
    uint64_t bytes = (uint64_t)64 << 20, repeat = 3;
    int rc = cm_cl_no_args(app, cl);
    if (rc == 0 && cm_cl_value(cl, OPT_BYTES) != NULL)
        rc = cm_cl_size(app, "--bytes", cm_cl_value(cl, OPT_BYTES), 2, (uint64_t)1 << 36, &bytes);
    if (rc == 0 && bytes % 2 != 0) {
        cm_app_say(app, "--bytes must be even (16-bit words)");
        rc = CM_OUT_USAGE;
    }
    if (rc == 0 && cm_cl_value(cl, OPT_REPEAT) != NULL)
        rc = cm_cl_size(app, "--repeat", cm_cl_value(cl, OPT_REPEAT), 1, 100, &repeat);
    if (rc != 0)
        return rc;
    bench_run b = {.len = (size_t)bytes, .repeat = (unsigned)repeat};
    cm_pool *pool = NULL;
    cm_error err = {0, ""};
    app->cfg.threads = 0; /* the multi-thread figure is for every core */
    if (bench_alloc(&b) != 0 || cm_app_pool(app, &pool, &err) != 0) {
        cm_app_say(app, "cannot allocate %zu bytes three times and a worker pool", b.len);
        bench_free(&b);
        return CM_OUT_INTERNAL;
    }
    rc = bench(app, &b, pool, cm_cl_flag(cl, OPT_JSON));
    bench_free(&b);
    return rc;
}

static const cm_optdef BENCH_OPTIONS[] = {
    {"json", OPT_JSON, NULL, "one JSON object per line"},
    {"bytes", OPT_BYTES, "N", "bytes per run (default 64M; K, M, G suffixes)"},
    {"repeat", OPT_REPEAT, "R", "runs per figure, the best counts (default 3)"},
    CM_OPT_END,
};

const cm_command cm_cmd_bench = {
    "bench",
    "measure engine throughput against OpenSSL AES-256-GCM",
    "[--json] [--bytes N] [--repeat R]",
    "Encrypts and decrypts N bytes of 16-bit words in 512x512 frames with every profile, on one\n"
    "thread and on all cores (frames in parallel on the worker pool), and measures OpenSSL's\n"
    "AES-256-GCM on the same buffer in the same run, first and last (the better of the two is\n"
    "the yardstick); each figure is the best of R runs. MB/s are 10^6 bytes per second; ratio =\n"
    "figure / 1-thread AES-256-GCM. Every decryption is compared with the original (outside the\n"
    "timing).",
    BENCH_OPTIONS,
    CM_X(CM_OUT_CHECK) | CM_X(CM_OUT_INTERNAL),
    run_bench,
};
