/* chaosmask demo - the main job before the service exists: make a key ring if there is none,
 * encrypt a generated 16-bit CT-like series with the configured profile, decrypt it, prove the
 * round trip is bit-exact, and print the throughput. */
#include <getopt.h>
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

static void demo_help(FILE *f)
{
    fprintf(f, "usage: chaosmask demo [--frames N] [--keyring DIR] [--config FILE]\n\n"
               "Creates a key ring with one key if DIR has no key yet, encrypts a generated 512x512\n"
               "16-bit CT-like series of N frames (default 64) with the configured profile and thread\n"
               "count, decrypts it, checks the result is bit-exact (byte comparison and SHA-256) and\n"
               "prints the throughput.\n"
               "Exit codes: 0 bit-exact, 1 round trip not exact, 2 bad command line, 3 key ring\n"
               "error, 7 internal error.\n");
}

int cmd_demo(cm_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"frames", required_argument, NULL, 'f'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    uint64_t frames = 64;
    int c;
    if (cm_cli_exact_options(cli, argc, argv, opts) != 0)
        return CM_EXIT_USAGE;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (cm_cli_parse_size(optarg, &frames) != 0 || frames < 1 || frames > 4096) {
                cm_cli_error(cli, "--frames '%s' must be 1..4096", optarg);
                return CM_EXIT_USAGE;
            }
            break;
        case 'h': demo_help(stdout); return CM_EXIT_OK;
        default: demo_help(stderr); return CM_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        cm_cli_error(cli, "unexpected argument '%s'", argv[optind]);
        return CM_EXIT_USAGE;
    }
    cm_config cfg;
    int rc = cm_cli_load_config(cli, &cfg);
    if (rc != 0)
        return rc;
    const char *dir = cm_cli_keyring_dir(cli, &cfg);
    cm_keyring kr;
    cm_error err = {{0}};
    struct stat st;
    if (stat(dir, &st) != 0 || (cm_keyring_open(&kr, dir, &err) == 0 && kr.active_id[0] == '\0')) {
        char id[CM_KEYID_MAX];
        if (cm_keyring_generate(dir, NULL, 1, id, NULL, &err) != 0) {
            cm_cli_error(cli, "%s", err.msg);
            return CM_EXIT_CONFIG;
        }
        printf("key ring %s: created key %s (active)\n", dir, id);
    }
    uint8_t key[CM_KEYBYTES], nonce[CM_NONCEBYTES], tag[CM_TAGBYTES];
    char key_id[CM_KEYID_MAX];
    if ((rc = cm_cli_open_keyring(cli, &cfg, &kr)) != 0 || (rc = cm_cli_load_key(cli, &kr, NULL, key, key_id)) != 0)
        return rc;
    const unsigned side = 512;
    const size_t frame_bytes = (size_t)side * side * 2, len = frame_bytes * frames;
    cm_pool *pool = NULL;
    uint8_t *plain = malloc(len), *buf = malloc(len);
    uint8_t *segment_tags = malloc((size_t)frames * CM_SEGTAGBYTES);
    if (plain == NULL || buf == NULL || segment_tags == NULL || cm_pool_create(&pool, cm_cli_threads(&cfg)) != 0 ||
        cm_random(nonce, sizeof nonce) != 0) {
        free(plain), free(buf), free(segment_tags);
        cm_pool_destroy(pool);
        cm_memzero(key, sizeof key);
        cm_cli_error(cli, "cannot allocate %zu bytes twice and a worker pool", len);
        return CM_EXIT_INTERNAL;
    }
    ct_phantom(plain, side, (unsigned)frames);
    memcpy(buf, plain, len);
    const unsigned threads = cm_pool_threads(pool);
    cm_params p = {cfg.profile, 2, frame_bytes, cm_pool_executor(pool)};
    static const uint8_t uid[] = "2.25.1234567890.demo";
    printf("image: %ux%u 16-bit CT-like phantom, %u frames, %zu bytes\n", side, side, (unsigned)frames, len);
    printf("profile %s, key %s, %u threads\n", cm_profile_name(cfg.profile), key_id, threads);

    double t0 = cm_cli_seconds();
    int e = cm_seal(buf, segment_tags, tag, buf, len, &p, key, nonce, uid, sizeof uid - 1);
    double t_enc = cm_cli_seconds() - t0;
    size_t same = 0;
    for (size_t i = 0; e == CM_OK && i < len; i++)
        same += buf[i] == plain[i];
    t0 = cm_cli_seconds();
    if (e == CM_OK)
        e = cm_open(buf, buf, len, segment_tags, tag, &p, key, nonce, uid, sizeof uid - 1);
    double t_dec = cm_cli_seconds() - t0;
    cm_memzero(key, sizeof key);
    cm_pool_destroy(pool);
    free(segment_tags);
    if (e != CM_OK) {
        cm_cli_error(cli, "%s", cm_strerror(e));
        free(plain), free(buf);
        return e == CM_EAUTH ? CM_EXIT_AUTH : CM_EXIT_INTERNAL;
    }
    char h1[65], h2[65];
    sha256_hex(plain, len, h1);
    sha256_hex(buf, len, h2);
    int exact = memcmp(plain, buf, len) == 0;
    printf("encrypted: %.2f %% of bytes changed\n", 100.0 * (double)(len - same) / (double)len);
    printf("sha256 original:  %s\nsha256 recovered: %s\n", h1, h2);
    printf("round trip: %s\n", exact ? "bit-exact" : "MISMATCH");
    printf("throughput: encrypt %.0f MB/s, decrypt (verify + unmask) %.0f MB/s\n",
           (double)len / t_enc / 1e6, (double)len / t_dec / 1e6);
    free(plain);
    free(buf);
    return exact ? CM_EXIT_OK : CM_EXIT_FAIL;
}
