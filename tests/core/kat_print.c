/* kat_print - prints the engine's known-answer vectors, for every engine format: for each
 * profile, word width and layout, the key, nonce, context and input it used, then the cipher
 * (hex, or its SHA-256 for long inputs), the segment tags (format 2 on) and the object tag;
 * the raw Lorenz keystream and parameters of one object; sub-keys.  Format 1's lines come
 * first and carry no prefix, exactly as format 1 printed them; later formats' lines start
 * with "format=N".  testdata/kat/engine.txt holds the expected output; every build
 * (gcc/clang, -O0/-O3, sanitizers, baseline ISA) must print exactly that. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chaosmask/chaosmask.h"
#include "internal.h" /* oneshot_seal: the one-shot API of a given format */

static void hex(const char *label, const uint8_t *p, size_t n)
{
    printf(" %s=", label);
    for (size_t i = 0; i < n; i++)
        printf("%02x", p[i]);
}

static void sha256(const uint8_t *p, size_t n, uint8_t out[32])
{
    unsigned int ol = 32;
    if (EVP_Digest(p, n, out, &ol, EVP_sha256(), NULL) != 1)
        exit(2);
}

/* A fixed, irregular input pattern (no dependency on any RNG). */
static void fill_input(uint8_t *p, size_t n, unsigned seed)
{
    uint32_t s = 0x9e3779b9u * (seed + 1);
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        p[i] = (uint8_t)(s >> 11);
    }
}

static void print_prefix(unsigned version)
{
    if (version > 1)
        printf("format=%u ", version);
}

static int print_oneshot_vectors(unsigned version)
{
    static const size_t lengths[][2] = {
        /* total length, frame bytes */
        {8, 0},        /* one word of every width */
        {776, 0},      /* three blocks, the last partial */
        {1024, 512},   /* two frames of exact blocks */
        {70000, 20000} /* four frames, the last shorter */
    };
    static const unsigned widths[] = {1, 2, 4, 8};
    int vector = 0;
    for (int profile = CM_PROFILE_LORENZ; profile <= CM_PROFILE_AES_256_GCM; profile++) {
        for (size_t wi = 0; wi < sizeof widths / sizeof widths[0]; wi++) {
            for (size_t li = 0; li < sizeof lengths / sizeof lengths[0]; li++, vector++) {
                uint8_t key[CM_KEYBYTES], nonce[CM_NONCEBYTES], tag[CM_TAGBYTES], digest[32], st[4 * CM_SEGTAGBYTES];
                for (unsigned i = 0; i < CM_KEYBYTES; i++)
                    key[i] = (uint8_t)(i + 17 * vector);
                for (unsigned i = 0; i < CM_NONCEBYTES; i++)
                    nonce[i] = (uint8_t)(0xa0 + i * 3 + vector);
                char context[64];
                snprintf(context, sizeof context, "1.2.826.0.1.3680043.2.1143.%d", vector);
                size_t len = lengths[li][0];
                uint8_t *in = malloc(len), *out = malloc(len);
                if (in == NULL || out == NULL)
                    return 2;
                fill_input(in, len, (unsigned)vector);
                cm_params params = {profile, widths[wi], lengths[li][1], NULL};
                const size_t nframes = cm_frame_count(len, &params);
                if (nframes * CM_SEGTAGBYTES > sizeof st)
                    return 2;
                int rc = oneshot_seal(version, out, st, tag, in, len, &params, key, nonce, (const uint8_t *)context,
                                      strlen(context));
                print_prefix(version);
                printf("vector=%d profile=%s width=%u len=%zu frame=%zu rc=%d", vector,
                       cm_profile_name(profile), widths[wi], len, lengths[li][1], rc);
                hex("key", key, sizeof key);
                hex("nonce", nonce, sizeof nonce);
                printf(" context=%s", context);
                sha256(in, len, digest);
                hex("input_sha256", digest, 32);
                if (len <= 1024) {
                    hex("input", in, len);
                    hex("cipher", out, len);
                } else {
                    sha256(out, len, digest);
                    hex("cipher_sha256", digest, 32);
                }
                if (version > 1) /* format 1's lines predate them; its object tags cover them */
                    hex("segment_tags", st, nframes * CM_SEGTAGBYTES);
                hex("tag", tag, sizeof tag);
                printf("\n");
                free(in);
                free(out);
            }
        }
    }
    return 0;
}

/* The raw Lorenz keystream of segment 0 and 7 of one object, and its parameters. */
static int print_keystream_vectors(unsigned version)
{
    cm_object obj;
    uint8_t key[CM_KEYBYTES] = {1}, nonce[CM_NONCEBYTES] = {2}, ks[4096], digest[32];
    if (cm_object_init_version(&obj, version, CM_PROFILE_LORENZ, key, nonce, NULL, 0) != CM_OK)
        return 2;
    for (uint32_t seg = 0; seg < 8; seg += 7) {
        if (cm_lorenz_keystream(&obj, seg, ks, sizeof ks) != CM_OK)
            return 2;
        print_prefix(version);
        printf("keystream segment=%u", seg);
        hex("first64", ks, 64);
        sha256(ks, sizeof ks, digest);
        hex("sha256_4096", digest, 32);
        printf("\n");
    }
    print_prefix(version);
    printf("object sigma=%.17g rho=%.17g beta=%.17g eta=%.17g,%.17g,%.17g preamble=%u\n", obj.sigma,
           obj.rho, obj.beta, obj.eta[0], obj.eta[1], obj.eta[2], obj.preamble_steps);
    cm_object_wipe(&obj);
    return 0;
}

/* Sub-keys of one object: two labels, the shortest and the longest output. */
static int print_subkey_vectors(unsigned version)
{
    static const char *const labels[] = {"patient", "ChaosMask DICOM attribute digest"};
    static const size_t sizes[] = {1, 32, CM_MAX_SUBKEYBYTES};
    cm_object obj;
    uint8_t key[CM_KEYBYTES] = {3}, nonce[CM_NONCEBYTES] = {4}, sub[CM_MAX_SUBKEYBYTES];
    if (cm_object_init_version(&obj, version, CM_PROFILE_LORENZ_CHACHA20, key, nonce, (const uint8_t *)"1.2.3", 5) !=
        CM_OK)
        return 2;
    for (size_t l = 0; l < sizeof labels / sizeof labels[0]; l++) {
        for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
            if (cm_object_subkey(&obj, labels[l], sub, sizes[z]) != CM_OK)
                return 2;
            printf("format=%u subkey label=\"%s\" len=%zu", version, labels[l], sizes[z]);
            hex("key", sub, sizes[z]);
            printf("\n");
        }
    }
    cm_object_wipe(&obj);
    return 0;
}

int main(void)
{
    for (unsigned version = CM_FORMAT_VERSION_MIN; version <= CM_FORMAT_VERSION; version++)
        if (print_oneshot_vectors(version) != 0 || print_keystream_vectors(version) != 0)
            return 2;
    for (unsigned version = CM_FORMAT_VERSION_MIN; version <= CM_FORMAT_VERSION; version++)
        if (print_subkey_vectors(version) != 0)
            return 2;
    return 0;
}
