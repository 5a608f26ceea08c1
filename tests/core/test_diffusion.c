/* One changed word changes the whole cipher (lorenz profiles).  Two 512x512 plaintexts one
 * pixel apart, same key and nonce, at 48 positions (first, last, block borders, the last
 * block, random ones).  Wu et al.'s (2011) tests at alpha = 0.05 reject 5 % of ideal ciphers
 * by construction, so one position failing proves nothing; what must hold is the
 * distribution of an ideal cipher: mean NPCR and UACI within 2 single-trial standard errors of
 * the ideal values, no position more than 5 sigma below the ideal NPCR (a diffusion hole), and a Wu
 * pass rate of at least 85 %. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "chaosmask/chaosmask.h"
#include "check.h"

enum { SIDE = 512, PIXELS = SIDE * SIDE, TRIALS = 48 };

int main(void)
{
    uint8_t key[CM_KEYBYTES] = {7, 7, 7}, nonce[CM_NONCEBYTES] = {1, 2, 3}, tag[CM_TAGBYTES];
    uint8_t segment_tag[CM_SEGTAGBYTES]; /* one frame */
    size_t positions[TRIALS] = {0, 1, 255, 256, 511, 512, PIXELS / 2, PIXELS - 513, PIXELS - 512,
                                PIXELS - 300, PIXELS - 2, PIXELS - 1};
    uint32_t s = 12345;
    for (int k = 12; k < TRIALS; k++) {
        s = s * 1664525u + 1013904223u;
        positions[k] = s % PIXELS;
    }
    for (int profile = CM_PROFILE_LORENZ; profile <= CM_PROFILE_LORENZ_CHACHA20; profile++) {
        for (unsigned w = 1; w <= 2; w++) {
            const size_t len = (size_t)PIXELS * w;
            const double levels = w == 1 ? 256.0 : 65536.0, maxv = levels - 1;
            /* ideal values for independent uniform ciphers */
            const double npcr_ideal = 100 * (1 - 1 / levels), uaci_ideal = 100 * (levels + 1) / (3 * levels);
            const double npcr_se = 100 * sqrt((1 - 1 / levels) / levels / PIXELS);
            const double uaci_se = 100 * sqrt(1.0 / 18.0 / PIXELS); /* sd of |a-b|/max ~ sqrt(1/18) */
            uint8_t *p1 = malloc(len), *p2 = malloc(len), *c1 = malloc(len), *c2 = malloc(len);
            CHECK(p1 && p2 && c1 && c2);
            for (size_t i = 0; i < len; i++) /* a smooth image: neighbours are alike */
                p1[i] = (uint8_t)((i / w) % SIDE / 2 + (i / w) / SIDE / 4);
            cm_params par = {profile, w, 0, NULL};
            CHECK_EQ_INT(cm_seal(c1, segment_tag, tag, p1, len, &par, key, nonce, NULL, 0), CM_OK);
            double npcr_sum = 0, uaci_sum = 0, npcr_min = 100;
            int wu_pass = 0;
            for (int k = 0; k < TRIALS; k++) {
                memcpy(p2, p1, len);
                p2[positions[k] * w] ^= 1;
                CHECK_EQ_INT(cm_seal(c2, segment_tag, tag, p2, len, &par, key, nonce, NULL, 0), CM_OK);
                double changed = 0, intensity = 0;
                for (size_t i = 0; i < PIXELS; i++) {
                    unsigned a = c1[i * w], b = c2[i * w];
                    if (w == 2) {
                        a |= (unsigned)c1[i * w + 1] << 8;
                        b |= (unsigned)c2[i * w + 1] << 8;
                    }
                    changed += a != b;
                    intensity += fabs((double)a - (double)b) / maxv;
                }
                double npcr = 100 * changed / PIXELS, uaci = 100 * intensity / PIXELS;
                npcr_sum += npcr;
                uaci_sum += uaci;
                npcr_min = fmin(npcr_min, npcr);
                /* Wu et al. 2011, 512x512 8-bit, alpha 0.05 */
                if (w == 1 && npcr >= 99.5893 && uaci >= 33.3730 && uaci <= 33.5541)
                    wu_pass++;
                if (k < 12)
                    printf("%s %2u-bit pixel %6zu: NPCR %.4f %% UACI %.4f %%\n", cm_profile_name(profile),
                           8 * w, positions[k], npcr, uaci);
            }
            double npcr_mean = npcr_sum / TRIALS, uaci_mean = uaci_sum / TRIALS;
            printf("%s %u-bit over %d positions: mean NPCR %.4f (ideal %.4f) mean UACI %.4f (ideal %.4f) "
                   "min NPCR %.4f",
                   cm_profile_name(profile), 8 * w, TRIALS, npcr_mean, npcr_ideal, uaci_mean, uaci_ideal, npcr_min);
            if (w == 1)
                printf(" Wu pass %d/%d", wu_pass, TRIALS);
            printf("\n");
            /* trials share c1, so their means are given two single-trial standard errors */
            CHECK(fabs(npcr_mean - npcr_ideal) < 2 * npcr_se);
            CHECK(fabs(uaci_mean - uaci_ideal) < 2 * uaci_se);
            CHECK(npcr_min > npcr_ideal - 5 * npcr_se);
            if (w == 1)
                CHECK(wu_pass >= TRIALS * 85 / 100);
            free(p1);
            free(p2);
            free(c1);
            free(c2);
        }
    }
    return 0;
}
