/* test_metrics.c - the image statistics on images whose values are known by hand (constant,
 * checkerboard, ramp, identical, complementary), Wu et al.'s critical values, and two
 * independent random images that must land inside Wu's intervals. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chaosmask/research/metrics.h"
#include "../check.h"

#define CHECK_NEAR(a, b, tol)                                                               \
    do {                                                                                    \
        double near_a_ = (a), near_b_ = (b);                                                \
        if (!(fabs(near_a_ - near_b_) <= (tol))) {                                          \
            fprintf(stderr, "%s:%d: check failed: %s ~ %s (%.15g vs %.15g, tol %g)\n",      \
                    __FILE__, __LINE__, #a, #b, near_a_, near_b_, (double)(tol));          \
            exit(1);                                                                        \
        }                                                                                   \
    } while (0)

static uint64_t hist[65536];

static uint64_t rng_state = 0x5eed;
static uint64_t rng(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void put16(uint8_t *p, size_t i, unsigned v)
{
    p[2 * i] = (uint8_t)(v & 0xff);
    p[2 * i + 1] = (uint8_t)(v >> 8);
}

static void test_constant(void)
{
    uint8_t px[16 * 16];
    memset(px, 77, sizeof px);
    cm_image img = {px, 16, 16, 1, 8};
    cm_histogram(hist, &img);
    CHECK_EQ_INT(hist[77], 256);
    CHECK_EQ_INT(hist[76], 0);
    /* mean count 1; (256-1)^2 + 255 * 1 over 256 bins = 255 */
    CHECK_NEAR(cm_hist_variance(hist, 256), 255.0, 0.0);
    CHECK_NEAR(cm_hist_chi2(hist, 256), 65280.0, 1e-9);
    CHECK_NEAR(cm_entropy(hist, &img), 0.0, 0.0);
    CHECK(isnan(cm_adjacent_correlation(&img, CM_ADJ_HORIZONTAL)));
    CHECK(isnan(cm_correlation(&img, &img)));
    CHECK(isinf(cm_psnr(&img, &img)) && cm_psnr(&img, &img) > 0);
    printf("constant: histogram, variance 255, chi2 65280, entropy 0, correlation NaN, PSNR inf\n");
}

static void test_checkerboard(void)
{
    uint8_t a[8 * 8], b[8 * 8];
    for (size_t y = 0; y < 8; y++)
        for (size_t x = 0; x < 8; x++) {
            a[y * 8 + x] = ((x + y) & 1) ? 255 : 0;
            b[y * 8 + x] = (uint8_t)(255 - a[y * 8 + x]);
        }
    cm_image A = {a, 8, 8, 1, 8}, B = {b, 8, 8, 1, 8};
    CHECK_NEAR(cm_entropy(hist, &A), 1.0, 0.0);
    CHECK_NEAR(cm_hist_variance(hist, 256), (2 * (32.0 - 0.25) * (32.0 - 0.25) + 254 * 0.0625) / 256, 1e-9);
    CHECK_NEAR(cm_adjacent_correlation(&A, CM_ADJ_HORIZONTAL), -1.0, 1e-15);
    CHECK_NEAR(cm_adjacent_correlation(&A, CM_ADJ_VERTICAL), -1.0, 1e-15);
    CHECK_NEAR(cm_adjacent_correlation(&A, CM_ADJ_DIAGONAL), 1.0, 1e-15);
    double npcr, uaci;
    CHECK_EQ_INT(cm_npcr_uaci(&npcr, &uaci, &A, &B), 0);
    CHECK_NEAR(npcr, 100.0, 0.0);
    CHECK_NEAR(uaci, 100.0, 0.0);
    CHECK_NEAR(cm_correlation(&A, &B), -1.0, 1e-15);
    CHECK_NEAR(cm_psnr(&A, &B), 0.0, 1e-12); /* MSE = 255^2 */
    /* RGB checkerboard, the three channels equal: same structure, pooled */
    uint8_t rgb[8 * 8 * 3];
    for (size_t i = 0; i < 64; i++)
        rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = a[i];
    cm_image C = {rgb, 8, 8, 3, 8};
    CHECK_NEAR(cm_adjacent_correlation(&C, CM_ADJ_HORIZONTAL), -1.0, 1e-15);
    CHECK_NEAR(cm_adjacent_correlation(&C, CM_ADJ_DIAGONAL), 1.0, 1e-15);
    CHECK_NEAR(cm_entropy(hist, &C), 1.0, 0.0);
    printf("checkerboard: entropy 1, adjacent H/V/D -1/-1/+1, NPCR/UACI vs complement 100/100\n");
}

static void test_ramp_8bit(void)
{
    /* 256 x 4, value = column: every level exactly 4 times */
    static uint8_t a[256 * 4], b[256 * 4];
    for (size_t y = 0; y < 4; y++)
        for (size_t x = 0; x < 256; x++) {
            a[y * 256 + x] = (uint8_t)x;
            b[y * 256 + x] = (uint8_t)(255 - x);
        }
    cm_image A = {a, 256, 4, 1, 8}, B = {b, 256, 4, 1, 8};
    CHECK_NEAR(cm_entropy(hist, &A), 8.0, 0.0);
    CHECK_NEAR(cm_hist_variance(hist, 256), 0.0, 0.0);
    CHECK_NEAR(cm_hist_chi2(hist, 256), 0.0, 0.0);
    CHECK_NEAR(cm_adjacent_correlation(&A, CM_ADJ_HORIZONTAL), 1.0, 1e-14);
    CHECK_NEAR(cm_adjacent_correlation(&A, CM_ADJ_VERTICAL), 1.0, 1e-14);
    CHECK_NEAR(cm_adjacent_correlation(&A, CM_ADJ_DIAGONAL), 1.0, 1e-14);
    double npcr, uaci;
    /* identical */
    CHECK_EQ_INT(cm_npcr_uaci(&npcr, &uaci, &A, &A), 0);
    CHECK_NEAR(npcr, 0.0, 0.0);
    CHECK_NEAR(uaci, 0.0, 0.0);
    CHECK_NEAR(cm_correlation(&A, &A), 1.0, 1e-15);
    CHECK(isinf(cm_psnr(&A, &A)));
    /* complementary: |2x - 255| are the odd numbers 1..255 twice: mean 128; squares mean 21845 */
    CHECK_EQ_INT(cm_npcr_uaci(&npcr, &uaci, &A, &B), 0);
    CHECK_NEAR(npcr, 100.0, 0.0);
    CHECK_NEAR(uaci, 100.0 * 128.0 / 255.0, 1e-12);
    CHECK_NEAR(cm_mse(&A, &B), 21845.0, 0.0);
    CHECK_NEAR(cm_psnr(&A, &B), 10.0 * log10(65025.0 / 21845.0), 1e-12);
    CHECK_NEAR(cm_correlation(&A, &B), -1.0, 1e-15);
    /* one pixel off by one: MSE = 1/1024 */
    memcpy(b, a, sizeof a);
    b[5] = (uint8_t)(a[5] + 1);
    CHECK_NEAR(cm_psnr(&A, &B), 10.0 * log10(65025.0 * 1024.0), 1e-12);
    CHECK_EQ_INT(cm_npcr_uaci(&npcr, &uaci, &A, &B), 0);
    CHECK_NEAR(npcr, 100.0 / 1024.0, 1e-15);
    CHECK_NEAR(uaci, 100.0 / (255.0 * 1024.0), 1e-15);
    printf("ramp 8-bit: entropy 8, identical (NPCR 0, PSNR inf), complementary (UACI 50.196, MSE 21845)\n");
}

static void test_ramp_16bit_and_local(void)
{
    /* 256 x 256, value = y * 256 + x: every 16-bit level once */
    static uint8_t a[256 * 256 * 2], b[256 * 256 * 2];
    for (size_t i = 0; i < 65536; i++) {
        put16(a, i, (unsigned)i);
        put16(b, i, 65535u - (unsigned)i);
    }
    cm_image A = {a, 256, 256, 1, 16}, B = {b, 256, 256, 1, 16};
    CHECK_NEAR(cm_entropy(hist, &A), 16.0, 0.0);
    CHECK_EQ_INT(cm_image_sample(&A, 300), 300);
    double npcr, uaci;
    CHECK_EQ_INT(cm_npcr_uaci(&npcr, &uaci, &A, &B), 0);
    CHECK_NEAR(npcr, 100.0, 0.0);
    CHECK_NEAR(uaci, 100.0 * 32768.0 / 65535.0, 1e-12);
    CHECK(cm_npcr_uaci(&npcr, &uaci, &A, &(cm_image){a, 128, 512, 1, 16}) != 0);
    /* local entropy of an 8-bit horizontal ramp: each 44 x 44 block holds 44 levels 44 times */
    static uint8_t r[264 * 132];
    for (size_t y = 0; y < 132; y++)
        for (size_t x = 0; x < 264; x++)
            r[y * 264 + x] = (uint8_t)x;
    cm_image R = {r, 264, 132, 1, 8};
    unsigned used = 0;
    CHECK_NEAR(cm_local_entropy(hist, &R, 30, 44, 1, &used), log2(44.0), 1e-12);
    CHECK_EQ_INT(used, 18); /* 6 x 3 cells, fewer than 30 */
    cm_image tiny = {r, 10, 10, 1, 8};
    CHECK(isnan(cm_local_entropy(hist, &tiny, 30, 44, 1, &used)) && used == 0);
    printf("ramp 16-bit: entropy 16, UACI vs complement 50.0008; local entropy of a ramp = log2(44)\n");
}

static void test_critical_values(void)
{
    CHECK_NEAR(cm_normal_quantile(0.975), 1.959963984540054, 1e-13);
    CHECK_NEAR(cm_normal_quantile(0.05), -1.6448536269514729, 1e-13);
    CHECK_NEAR(cm_normal_quantile(1e-10), -6.361340902404056, 1e-9);
    CHECK(isnan(cm_normal_quantile(0.0)) && isnan(cm_normal_quantile(1.0)));
    double nmin, ulo, uhi;
    cm_wu_critical(&nmin, &ulo, &uhi, 512 * 512, 8, 0.05);
    /* Wu, Noonan, Agaian 2011, Table: 512 x 512, alpha 0.05 */
    CHECK_NEAR(nmin, 99.5893, 0.00005);
    CHECK_NEAR(ulo, 33.3730, 0.00005);
    CHECK_NEAR(uhi, 33.5541, 0.00005);
    cm_wu_critical(&nmin, &ulo, &uhi, 256 * 256, 8, 0.05);
    CHECK_NEAR(nmin, 99.5693, 0.00005);
    CHECK_NEAR(ulo, 33.2824, 0.00005);
    CHECK_NEAR(uhi, 33.6447, 0.00005);
    CHECK_NEAR(cm_chi2_critical(256, 0.05), 293.2478, 0.05);
    printf("critical values: NPCR* 99.5893, UACI* [33.3730, 33.5541] (512^2), chi2(255) 293.25\n");
}

static void test_random_images(void)
{
    static uint8_t a[300 * 300 * 3], b[300 * 300 * 3];
    for (size_t i = 0; i < sizeof a; i++) {
        a[i] = (uint8_t)(rng() >> 56);
        b[i] = (uint8_t)(rng() >> 56);
    }
    cm_image A = {a, 300, 300, 3, 8}, B = {b, 300, 300, 3, 8};
    double npcr, uaci, nmin, ulo, uhi;
    CHECK_EQ_INT(cm_npcr_uaci(&npcr, &uaci, &A, &B), 0);
    cm_wu_critical(&nmin, &ulo, &uhi, cm_image_samples(&A), 8, 0.05);
    printf("random RGB 300x300: NPCR %.4f (>= %.4f), UACI %.4f in [%.4f, %.4f]\n", npcr, nmin,
           uaci, ulo, uhi);
    CHECK(npcr >= nmin);
    CHECK(uaci >= ulo && uaci <= uhi);
    double h = cm_entropy(hist, &A);
    CHECK(h > 7.997 && h < 8.0);
    CHECK(cm_hist_chi2(hist, 256) < cm_chi2_critical(256, 0.05));
    CHECK(fabs(cm_adjacent_correlation(&A, CM_ADJ_HORIZONTAL)) < 0.01);
    CHECK(fabs(cm_adjacent_correlation(&A, CM_ADJ_VERTICAL)) < 0.01);
    CHECK(fabs(cm_adjacent_correlation(&A, CM_ADJ_DIAGONAL)) < 0.01);
    unsigned used;
    double hl = cm_local_entropy(hist, &A, 30, 44, 7, &used);
    CHECK_EQ_INT(used, 30);
    printf("random RGB 300x300: entropy %.6f, local entropy %.6f\n", h, hl);
    CHECK(hl > 7.89 && hl < 7.92);

    /* 16-bit gray 512 x 512 */
    static uint8_t c[512 * 512 * 2], d[512 * 512 * 2];
    for (size_t i = 0; i < 512 * 512; i++) {
        put16(c, i, (unsigned)(rng() >> 48));
        put16(d, i, (unsigned)(rng() >> 48));
    }
    cm_image C = {c, 512, 512, 1, 16}, D = {d, 512, 512, 1, 16};
    CHECK_EQ_INT(cm_npcr_uaci(&npcr, &uaci, &C, &D), 0);
    cm_wu_critical(&nmin, &ulo, &uhi, 512 * 512, 16, 0.05);
    printf("random 16-bit 512x512: NPCR %.5f (>= %.5f), UACI %.4f in [%.4f, %.4f]\n", npcr, nmin,
           uaci, ulo, uhi);
    CHECK(npcr >= nmin);
    CHECK(uaci >= ulo && uaci <= uhi);
}

int main(void)
{
    test_constant();
    test_checkerboard();
    test_ramp_8bit();
    test_ramp_16bit_and_local();
    test_critical_values();
    test_random_images();
    printf("all metrics checks passed\n");
    return 0;
}
