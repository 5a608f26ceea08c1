/*
 * metrics.h - the statistics that judge an image cipher (DESIGN §3.3, the paper's Table 1):
 * histogram and histogram variance, chi-square uniformity, Shannon entropy (global and Wu et
 * al. 2013 local), Pearson correlation of two images, adjacent-pixel correlation, NPCR/UACI
 * with Wu et al. 2011 critical values, PSNR.
 *
 * Images are caller-owned views (cm_image): row-major, channels interleaved (gray = 1,
 * RGB = 3, RGBA = 4), samples of 8 bits (one byte) or 16 bits (two bytes, little-endian, the
 * word order of the engine's word buffers).  Every multi-channel statistic pools the samples
 * of all channels; pixel neighbourhoods are always same-channel.  F = 2^bits - 1 is the peak.
 *
 * No allocation, no I/O, no globals.  Functions that need a histogram take a caller buffer of
 * CM_HIST_BINS(bits) entries.  Results that are undefined (correlation of a constant image)
 * are NaN; PSNR of identical images is +infinity (print "inf").
 */
#ifndef CHAOSMASK_RESEARCH_METRICS_H
#define CHAOSMASK_RESEARCH_METRICS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CM_HIST_BINS(bits) ((size_t)1 << (bits))
#define CM_METRICS_ALPHA 0.05 /* significance level of every randomness test we print */

/* Wu et al. 2013 local entropy: k non-overlapping blocks of T_B pixels (44 x 44). */
#define CM_LOCAL_ENTROPY_BLOCKS 30u
#define CM_LOCAL_ENTROPY_SIDE 44u
/* Wu et al. 2013, Table (k = 30, T_B = 1936, alpha = 0.05), 8-bit images only. */
#define CM_LOCAL_ENTROPY_LOW 7.901901305
#define CM_LOCAL_ENTROPY_HIGH 7.903037329

typedef struct cm_image {
    const uint8_t *data; /* width * height * channels samples, see above */
    size_t width, height;
    unsigned channels;   /* 1..4 */
    unsigned bits;       /* 8 or 16 */
} cm_image;

/* 0 when the view is usable (non-NULL data, non-zero size, channels 1..4, bits 8 or 16). */
int cm_image_check(const cm_image *img);
size_t cm_image_samples(const cm_image *img);         /* width * height * channels */
size_t cm_image_bytes(const cm_image *img);           /* samples * bits / 8 */
unsigned cm_image_sample(const cm_image *img, size_t i); /* sample i in storage order */
/* 0 when a and b have the same geometry and depth. */
int cm_image_same_shape(const cm_image *a, const cm_image *b);

/* ---- histogram statistics ---- */

/* hist[v] = number of samples of value v, all channels pooled; hist has CM_HIST_BINS(bits). */
void cm_histogram(uint64_t *hist, const cm_image *img);
/* Population variance of the bin counts (Zhang's histogram variance, the paper's "Histogram"
 * columns): (1/n) sum (h_v - mean)^2.  Flat histogram -> 0. */
double cm_hist_variance(const uint64_t *hist, size_t nbins);
/* Pearson chi-square against the uniform distribution: sum (h_v - e)^2 / e, e = total/nbins. */
double cm_hist_chi2(const uint64_t *hist, size_t nbins);
/* Critical chi-square value for nbins - 1 degrees of freedom at 1 - alpha (Wilson-Hilferty;
 * 293.25 for 256 bins at alpha 0.05). */
double cm_chi2_critical(size_t nbins, double alpha);
/* Shannon entropy in bits: -sum p log2 p.  Uniform over 2^B bins -> B. */
double cm_hist_entropy(const uint64_t *hist, size_t nbins);

/* Global Shannon entropy of an image (hist is scratch of CM_HIST_BINS(bits) entries). */
double cm_entropy(uint64_t *hist, const cm_image *img);
/* Local Shannon entropy (Wu et al. 2013): the mean entropy of up to `blocks` non-overlapping
 * side x side pixel blocks chosen by a seeded shuffle of the block grid, each channel of a
 * block counted as one block.  *used receives the number of blocks averaged (0 when the image
 * is smaller than one block: the result is then NaN). */
double cm_local_entropy(uint64_t *hist, const cm_image *img, unsigned blocks, unsigned side,
                        uint64_t seed, unsigned *used);

/* ---- correlation ---- */

/* Pearson correlation of the samples of two same-shaped images (NaN if either is constant
 * or the shapes differ). */
double cm_correlation(const cm_image *a, const cm_image *b);

typedef enum { CM_ADJ_HORIZONTAL = 0, CM_ADJ_VERTICAL = 1, CM_ADJ_DIAGONAL = 2 } cm_adjacent_dir;
/* Pearson correlation of every pair (pixel, right / lower / lower-right neighbour), same
 * channel, all pairs of the image (no sampling: the result is deterministic). */
double cm_adjacent_correlation(const cm_image *img, cm_adjacent_dir dir);

/* ---- differential attack ---- */

/* NPCR and UACI in percent between two same-shaped images (the ciphers of two plaintexts one
 * pixel apart).  Returns 0, or -1 when the shapes differ. */
int cm_npcr_uaci(double *npcr, double *uaci, const cm_image *a, const cm_image *b);

/* Wu, Noonan, Agaian (2011), for `samples` cipher samples of `bits` bits at level alpha, in
 * percent: NPCR passes when npcr >= *npcr_min; UACI passes when uaci_low <= uaci <= uaci_high.
 * Wu writes Phi^-1(alpha) for the upper-tail quantile (1.645 at 0.05), used here as such. */
void cm_wu_critical(double *npcr_min, double *uaci_low, double *uaci_high, size_t samples,
                    unsigned bits, double alpha);

/* ---- fidelity ---- */

/* Mean squared error of two same-shaped images (NaN on shape mismatch). */
double cm_mse(const cm_image *a, const cm_image *b);
/* 10 log10(F^2 / MSE) in dB; +infinity when identical, NaN on shape mismatch. */
double cm_psnr(const cm_image *a, const cm_image *b);

/* ---- helpers ---- */

/* Inverse of the standard normal CDF (Acklam's rational approximation refined by one Halley
 * step; |error| < 1e-15 on (0, 1)).  NaN outside (0, 1). */
double cm_normal_quantile(double p);

#ifdef __cplusplus
}
#endif
#endif
