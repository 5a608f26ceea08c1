/* metrics.c - image-cipher statistics (see metrics.h).  Not in the keystream path, so libm
 * is fine here; every sum runs in double with the means taken first (two passes), so the
 * results on hand-computed images are exact. */
#include "chaosmask/research/metrics.h"

#include <math.h>
#include <string.h>

#include "splitmix.h"

int cm_image_check(const cm_image *img)
{
    if (img == NULL || img->data == NULL || img->width == 0 || img->height == 0)
        return -1;
    if (img->channels < 1 || img->channels > 4 || (img->bits != 8 && img->bits != 16))
        return -1;
    if (img->width > ((size_t)1 << 20) || img->height > ((size_t)1 << 20))
        return -1;
    return 0;
}

size_t cm_image_samples(const cm_image *img)
{
    return img->width * img->height * img->channels;
}

size_t cm_image_bytes(const cm_image *img)
{
    return cm_image_samples(img) * (img->bits / 8u);
}

unsigned cm_image_sample(const cm_image *img, size_t i)
{
    if (img->bits == 8)
        return img->data[i];
    return (unsigned)img->data[2 * i] | ((unsigned)img->data[2 * i + 1] << 8);
}

int cm_image_same_shape(const cm_image *a, const cm_image *b)
{
    if (cm_image_check(a) != 0 || cm_image_check(b) != 0)
        return -1;
    if (a->width != b->width || a->height != b->height || a->channels != b->channels ||
        a->bits != b->bits)
        return -1;
    return 0;
}

/* ---- histogram statistics ---- */

void cm_histogram(uint64_t *hist, const cm_image *img)
{
    size_t n = cm_image_samples(img);
    memset(hist, 0, CM_HIST_BINS(img->bits) * sizeof hist[0]);
    if (img->bits == 8) {
        for (size_t i = 0; i < n; i++)
            hist[img->data[i]]++;
        return;
    }
    for (size_t i = 0; i < n; i++)
        hist[cm_image_sample(img, i)]++;
}

static double hist_total(const uint64_t *hist, size_t nbins)
{
    double total = 0.0;
    for (size_t v = 0; v < nbins; v++)
        total += (double)hist[v];
    return total;
}

double cm_hist_variance(const uint64_t *hist, size_t nbins)
{
    double mean = hist_total(hist, nbins) / (double)nbins, acc = 0.0;
    for (size_t v = 0; v < nbins; v++) {
        double d = (double)hist[v] - mean;
        acc += d * d;
    }
    return acc / (double)nbins;
}

double cm_hist_chi2(const uint64_t *hist, size_t nbins)
{
    double expected = hist_total(hist, nbins) / (double)nbins, acc = 0.0;
    if (expected <= 0.0)
        return NAN;
    for (size_t v = 0; v < nbins; v++) {
        double d = (double)hist[v] - expected;
        acc += d * d / expected;
    }
    return acc;
}

double cm_chi2_critical(size_t nbins, double alpha)
{
    double df = (double)nbins - 1.0, z = cm_normal_quantile(1.0 - alpha);
    double a = 2.0 / (9.0 * df), c = 1.0 - a + z * sqrt(a);
    return df * c * c * c;
}

double cm_hist_entropy(const uint64_t *hist, size_t nbins)
{
    double total = hist_total(hist, nbins), h = 0.0;
    if (total <= 0.0)
        return NAN;
    for (size_t v = 0; v < nbins; v++) {
        if (hist[v] == 0)
            continue;
        double p = (double)hist[v] / total;
        h -= p * log2(p);
    }
    return h;
}

double cm_entropy(uint64_t *hist, const cm_image *img)
{
    cm_histogram(hist, img);
    return cm_hist_entropy(hist, CM_HIST_BINS(img->bits));
}

static double block_entropy(uint64_t *hist, const cm_image *img, size_t bx, size_t by,
                            unsigned side, unsigned channel)
{
    size_t nbins = CM_HIST_BINS(img->bits);
    memset(hist, 0, nbins * sizeof hist[0]);
    for (size_t y = by; y < by + side; y++)
        for (size_t x = bx; x < bx + side; x++)
            hist[cm_image_sample(img, (y * img->width + x) * img->channels + channel)]++;
    return cm_hist_entropy(hist, nbins);
}

double cm_local_entropy(uint64_t *hist, const cm_image *img, unsigned blocks, unsigned side,
                        uint64_t seed, unsigned *used)
{
    *used = 0;
    if (side == 0 || img->width < side || img->height < side || blocks == 0)
        return NAN;
    size_t gx = img->width / side, gy = img->height / side, ncells = gx * gy;
    unsigned take = blocks < ncells ? blocks : (unsigned)ncells;
    /* Partial Fisher-Yates over cell indices without an index array: draw `take` distinct
     * cells by rejection (ncells >= take, and take is small). */
    size_t chosen[64];
    if (take > 64)
        take = 64;
    uint64_t state = seed;
    unsigned got = 0;
    double acc = 0.0;
    while (got < take) {
        size_t cell = (size_t)(cm_splitmix64(&state) % ncells);
        int dup = 0;
        for (unsigned j = 0; j < got; j++)
            dup |= chosen[j] == cell;
        if (dup)
            continue;
        chosen[got++] = cell;
        size_t bx = (cell % gx) * side, by = (cell / gx) * side;
        for (unsigned c = 0; c < img->channels; c++)
            acc += block_entropy(hist, img, bx, by, side, c);
    }
    *used = got;
    return acc / ((double)got * (double)img->channels);
}

/* ---- correlation ---- */

/* Pearson correlation of n pairs produced by an index function; two passes for accuracy. */
typedef struct pair_walk {
    const cm_image *a, *b;
    size_t dx, dy; /* neighbour offset inside one image (a == b), or 0,0 for two images */
} pair_walk;

static double pearson(const pair_walk *w)
{
    const cm_image *a = w->a, *b = w->b;
    size_t W = a->width, H = a->height, C = a->channels;
    double sx = 0.0, sy = 0.0, n = 0.0;
    for (size_t y = 0; y + w->dy < H; y++)
        for (size_t x = 0; x + w->dx < W; x++)
            for (size_t c = 0; c < C; c++) {
                sx += cm_image_sample(a, (y * W + x) * C + c);
                sy += cm_image_sample(b, ((y + w->dy) * W + x + w->dx) * C + c);
                n += 1.0;
            }
    if (n < 2.0)
        return NAN;
    double mx = sx / n, my = sy / n, sxx = 0.0, syy = 0.0, sxy = 0.0;
    for (size_t y = 0; y + w->dy < H; y++)
        for (size_t x = 0; x + w->dx < W; x++)
            for (size_t c = 0; c < C; c++) {
                double u = cm_image_sample(a, (y * W + x) * C + c) - mx;
                double v = cm_image_sample(b, ((y + w->dy) * W + x + w->dx) * C + c) - my;
                sxx += u * u;
                syy += v * v;
                sxy += u * v;
            }
    if (sxx <= 0.0 || syy <= 0.0)
        return NAN;
    return sxy / sqrt(sxx * syy);
}

double cm_correlation(const cm_image *a, const cm_image *b)
{
    if (cm_image_same_shape(a, b) != 0)
        return NAN;
    pair_walk w = {a, b, 0, 0};
    return pearson(&w);
}

double cm_adjacent_correlation(const cm_image *img, cm_adjacent_dir dir)
{
    if (cm_image_check(img) != 0)
        return NAN;
    pair_walk w = {img, img, dir == CM_ADJ_VERTICAL ? 0u : 1u, dir == CM_ADJ_HORIZONTAL ? 0u : 1u};
    return pearson(&w);
}

/* ---- differential attack ---- */

int cm_npcr_uaci(double *npcr, double *uaci, const cm_image *a, const cm_image *b)
{
    if (cm_image_same_shape(a, b) != 0)
        return -1;
    size_t n = cm_image_samples(a);
    double changed = 0.0, absdiff = 0.0, peak = (double)(CM_HIST_BINS(a->bits) - 1);
    for (size_t i = 0; i < n; i++) {
        unsigned u = cm_image_sample(a, i), v = cm_image_sample(b, i);
        changed += u != v;
        absdiff += u > v ? u - v : v - u;
    }
    *npcr = 100.0 * changed / (double)n;
    *uaci = 100.0 * absdiff / (peak * (double)n);
    return 0;
}

void cm_wu_critical(double *npcr_min, double *uaci_low, double *uaci_high, size_t samples,
                    unsigned bits, double alpha)
{
    double F = (double)(CM_HIST_BINS(bits) - 1), L = (double)samples;
    double z1 = cm_normal_quantile(1.0 - alpha);       /* Wu's Phi^-1(alpha), upper tail */
    double z2 = cm_normal_quantile(1.0 - alpha / 2.0); /* Wu's Phi^-1(alpha/2) */
    *npcr_min = 100.0 * (F - z1 * sqrt(F / L)) / (F + 1.0);
    double mu = (F + 2.0) / (3.0 * F + 3.0);
    double var = (F + 2.0) * (F * F + 2.0 * F + 3.0) / (18.0 * (F + 1.0) * (F + 1.0) * L * F);
    *uaci_low = 100.0 * (mu - z2 * sqrt(var));
    *uaci_high = 100.0 * (mu + z2 * sqrt(var));
}

/* ---- fidelity ---- */

double cm_mse(const cm_image *a, const cm_image *b)
{
    if (cm_image_same_shape(a, b) != 0)
        return NAN;
    size_t n = cm_image_samples(a);
    double acc = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)cm_image_sample(a, i) - (double)cm_image_sample(b, i);
        acc += d * d;
    }
    return acc / (double)n;
}

double cm_psnr(const cm_image *a, const cm_image *b)
{
    double mse = cm_mse(a, b);
    if (isnan(mse))
        return NAN;
    if (mse == 0.0)
        return INFINITY;
    double peak = (double)(CM_HIST_BINS(a->bits) - 1);
    return 10.0 * log10(peak * peak / mse);
}

/* ---- helpers ---- */

double cm_normal_quantile(double p)
{
    static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                               -2.759285104469687e+02, 1.383577518672690e+02,
                               -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                               -1.556989798598866e+02, 6.680131188771972e+01,
                               -1.328068155288572e+01};
    static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                               -2.400758277161838e+00, -2.549732539343734e+00,
                               4.374664141464968e+00, 2.938163982698783e+00};
    static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                               2.445134137142996e+00, 3.754408661907416e+00};
    const double plow = 0.02425;
    if (!(p > 0.0 && p < 1.0))
        return NAN;
    double x;
    if (p < plow) {
        double q = sqrt(-2.0 * log(p));
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
    } else if (p <= 1.0 - plow) {
        double q = p - 0.5, r = q * q;
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0);
    } else {
        double q = sqrt(-2.0 * log(1.0 - p));
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
    }
    /* One Halley step against the exact CDF brings the error to machine precision. */
    double e = 0.5 * erfc(-x / sqrt(2.0)) - p;
    double u = e * 2.5066282746310002 * exp(x * x / 2.0);
    return x - u / (1.0 + x * u / 2.0);
}
