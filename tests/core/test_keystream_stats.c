/* The raw `lorenz` keystream over 16 MiB: byte chi-square p-value in [0.001, 0.999], serial
 * correlation of successive bytes |r| < 0.001 (as `ent` computes it), Shannon entropy
 * >= 7.9999 bits/byte; and flipping one key bit or one nonce bit changes 49..51 % of the
 * keystream bits over 1 MiB. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "chaosmask/chaosmask.h"
#include "check.h"

enum { STATS_BYTES = 16 << 20, AVALANCHE_BYTES = 1 << 20 };

/* Upper tail of chi-square with k degrees of freedom (Wilson-Hilferty; error < 1e-4 at k=255). */
static double chi2_upper_p(double x, double k)
{
    double z = (cbrt(x / k) - (1.0 - 2.0 / (9.0 * k))) / sqrt(2.0 / (9.0 * k));
    return 0.5 * erfc(z / sqrt(2.0));
}

static void keystream(uint8_t *out, size_t len, const uint8_t *key, const uint8_t *nonce)
{
    cm_object obj;
    CHECK_EQ_INT(cm_object_init(&obj, CM_PROFILE_LORENZ, key, nonce, NULL, 0), CM_OK);
    CHECK_EQ_INT(cm_lorenz_keystream(&obj, 0, out, len), CM_OK);
    cm_object_wipe(&obj);
}

static double changed_bits_fraction(const uint8_t *a, const uint8_t *b, size_t n)
{
    uint64_t bits = 0;
    for (size_t i = 0; i < n; i++)
        bits += (uint64_t)__builtin_popcount((unsigned)(a[i] ^ b[i]));
    return (double)bits / (8.0 * (double)n);
}

int main(void)
{
    uint8_t key[CM_KEYBYTES], nonce[CM_NONCEBYTES];
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (uint8_t)(0x5c ^ (i * 29));
    for (size_t i = 0; i < sizeof nonce; i++)
        nonce[i] = (uint8_t)(0xc3 + i * 11);
    uint8_t *ks = malloc(STATS_BYTES), *ks2 = malloc(AVALANCHE_BYTES);
    CHECK(ks && ks2);
    keystream(ks, STATS_BYTES, key, nonce);

    uint64_t hist[256] = {0};
    double sx = 0, sxx = 0, sxy = 0;
    for (size_t i = 0; i < STATS_BYTES; i++) {
        hist[ks[i]]++;
        double x = ks[i], y = ks[(i + 1) % STATS_BYTES];
        sx += x;
        sxx += x * x;
        sxy += x * y;
    }
    const double n = STATS_BYTES, expected = n / 256.0;
    double chi2 = 0, entropy = 0;
    for (int v = 0; v < 256; v++) {
        double d = (double)hist[v] - expected, p = (double)hist[v] / n;
        chi2 += d * d / expected;
        if (p > 0)
            entropy -= p * log2(p);
    }
    double pvalue = chi2_upper_p(chi2, 255.0);
    double r = (n * sxy - sx * sx) / (n * sxx - sx * sx); /* ent's circular serial correlation */
    printf("keystream 16 MiB: chi2=%.2f p=%.4f serial_r=%.6f entropy=%.6f bits/byte\n", chi2, pvalue, r, entropy);
    CHECK(pvalue >= 0.001 && pvalue <= 0.999);
    CHECK(fabs(r) < 0.001);
    CHECK(entropy >= 7.9999);

    const int key_bits[] = {0, 7, 100, 255}, nonce_bits[] = {0, 64, 127};
    for (size_t i = 0; i < sizeof key_bits / sizeof key_bits[0]; i++) {
        uint8_t k2[CM_KEYBYTES];
        memcpy(k2, key, sizeof k2);
        k2[key_bits[i] / 8] ^= (uint8_t)(1u << (key_bits[i] % 8));
        keystream(ks2, AVALANCHE_BYTES, k2, nonce);
        double f = changed_bits_fraction(ks, ks2, AVALANCHE_BYTES);
        printf("key bit %d flipped: %.4f %% of keystream bits changed\n", key_bits[i], 100 * f);
        CHECK(f >= 0.49 && f <= 0.51);
    }
    for (size_t i = 0; i < sizeof nonce_bits / sizeof nonce_bits[0]; i++) {
        uint8_t n2[CM_NONCEBYTES];
        memcpy(n2, nonce, sizeof n2);
        n2[nonce_bits[i] / 8] ^= (uint8_t)(1u << (nonce_bits[i] % 8));
        keystream(ks2, AVALANCHE_BYTES, key, n2);
        double f = changed_bits_fraction(ks, ks2, AVALANCHE_BYTES);
        printf("nonce bit %d flipped: %.4f %% of keystream bits changed\n", nonce_bits[i], 100 * f);
        CHECK(f >= 0.49 && f <= 0.51);
    }
    free(ks);
    free(ks2);
    return 0;
}
