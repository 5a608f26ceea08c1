/* analysis_stats.c - the statistics every mode measures on its plain, cipher and recovered
 * images, the one-sample trials, and the verdicts against the digital targets. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis_internal.h"
#include "chaosmask/chaosmask.h"
#include "chaosmask/research/metrics.h"
#include "splitmix.h"

/* Plot i of a: the histogram hist of image img folded into at most 256 bins over the image's
 * display window, so a 12-bit image fills the chart instead of its first sixteenth. */
static void hist_plot(cm_analysis *a, int i, const uint64_t *hist, const cm_raster *img)
{
    cm_window w = cm_raster_window(img);
    uint64_t width = (uint64_t)w.hi - w.lo + 1;
    size_t nb = width < 256 ? (size_t)width : 256;
    memset(a->hist_plot[i], 0, sizeof a->hist_plot[i]);
    for (uint64_t v = w.lo; v <= w.hi; v++)
        a->hist_plot[i][(v - w.lo) * nb / width] += (double)hist[v];
    a->hist_bins[i] = nb;
    a->hist_window[i] = w;
}

/* Entropy, histogram variance and the plotted histogram of each image; chi-square of the
 * cipher; local entropy of the cipher.  hist is scratch of CM_HIST_BINS(bits). */
static void histogram_statistics(cm_analysis *a, uint64_t *hist)
{
    cm_image P = cm_raster_view(&a->plain), C = cm_raster_view(&a->cipher);
    cm_image R = cm_raster_view(&a->recovered);
    size_t nb = CM_HIST_BINS(a->bits);
    a->entropy_plain = cm_entropy(hist, &P);
    a->hist_var_plain = cm_hist_variance(hist, nb);
    hist_plot(a, 0, hist, &a->plain);
    a->entropy_cipher = cm_entropy(hist, &C);
    a->hist_var_cipher = cm_hist_variance(hist, nb);
    a->chi2_cipher = cm_hist_chi2(hist, nb);
    a->chi2_critical = cm_chi2_critical(nb, CM_METRICS_ALPHA);
    hist_plot(a, 1, hist, &a->cipher);
    a->entropy_recovered = cm_entropy(hist, &R);
    a->hist_var_recovered = cm_hist_variance(hist, nb);
    hist_plot(a, 2, hist, &a->recovered);
    unsigned used;
    a->local_entropy_cipher = cm_local_entropy(hist, &C, CM_LOCAL_ENTROPY_BLOCKS,
                                               CM_LOCAL_ENTROPY_SIDE, 2013, &used);
    int wu_local = a->bits == 8 && used == CM_LOCAL_ENTROPY_BLOCKS;
    a->local_entropy_low = wu_local ? CM_LOCAL_ENTROPY_LOW : NAN;
    a->local_entropy_high = wu_local ? CM_LOCAL_ENTROPY_HIGH : NAN;
}

int analysis_statistics(cm_analysis *a)
{
    uint64_t *hist = malloc(CM_HIST_BINS(a->bits) * sizeof *hist);
    if (hist == NULL)
        return CM_RESEARCH_EINTERNAL;
    histogram_statistics(a, hist);
    free(hist);

    cm_image P = cm_raster_view(&a->plain), C = cm_raster_view(&a->cipher);
    cm_image R = cm_raster_view(&a->recovered);
    a->correlation_recovered = cm_correlation(&P, &R);
    a->mse_recovered = cm_mse(&P, &R);
    a->psnr_recovered = cm_psnr(&P, &R);
    a->lossless = memcmp(a->plain.data, a->recovered.data, cm_raster_bytes(&a->plain)) == 0;
    for (int d = 0; d < 3; d++) {
        a->adj_plain[d] = cm_adjacent_correlation(&P, (cm_adjacent_dir)d);
        a->adj_cipher[d] = cm_adjacent_correlation(&C, (cm_adjacent_dir)d);
    }
    cm_wu_critical(&a->npcr_critical, &a->uaci_low, &a->uaci_high, cm_image_samples(&C), a->bits,
                   CM_METRICS_ALPHA);
    (void)cm_npcr_uaci(&a->npcr_plain_cipher, &a->uaci_plain_cipher, &P, &C);
    return 0;
}

void analysis_set_trial(cm_analysis *a, int i, const cm_raster *c1)
{
    cm_image C = cm_raster_view(&a->cipher), D = cm_raster_view(c1);
    cm_npcr_trial *t = &a->trials[i];
    (void)cm_npcr_uaci(&t->npcr, &t->uaci, &C, &D);
    t->npcr_pass = t->npcr >= a->npcr_critical;
    t->uaci_pass = t->uaci >= a->uaci_low && t->uaci <= a->uaci_high;
}

void analysis_trial_positions(cm_analysis *a)
{
    size_t n = a->width * a->height * a->channels;
    uint64_t seed = 0x1b2c3d4e5f ^ (uint64_t)n;
    static const char *const where[3] = {"first", "last", "random"};
    a->trials[0].index = 0;
    a->trials[1].index = n - 1;
    a->trials[2].index = (size_t)(cm_splitmix64(&seed) % n);
    for (int i = 0; i < 3; i++)
        a->trials[i].where = where[i];
}

int cm_analysis_diffusion_target(const cm_analysis *a)
{
    return a->mode != CM_ANALYSIS_MODE_ANALOG && a->mode != CM_PROFILE_AES_256_GCM;
}

int cm_analysis_diffusion_exempt(const cm_analysis *a)
{
    return a->mode != CM_ANALYSIS_MODE_ANALOG && !cm_analysis_diffusion_target(a);
}

cm_verdict cm_analysis_trial_verdict(const cm_analysis *a, int i, int uaci)
{
    if (cm_analysis_diffusion_exempt(a))
        return CM_VERDICT_EXEMPT;
    int pass = uaci ? a->trials[i].uaci_pass : a->trials[i].npcr_pass;
    return pass ? CM_VERDICT_PASS : CM_VERDICT_FAIL;
}

int cm_analysis_chi2_pass(const cm_analysis *a)
{
    return a->chi2_cipher <= a->chi2_critical; /* NaN (no samples) is a miss */
}

int cm_analysis_targets_pass(const cm_analysis *a, char *why, size_t whylen)
{
    char buf[512] = "";
    size_t len = 0;
#define FAIL(...) (len += (size_t)snprintf(buf + len, len < sizeof buf ? sizeof buf - len : 0, __VA_ARGS__))
    if (!a->lossless || !isinf(a->psnr_recovered))
        FAIL("recovery not exact; ");
    if (!(a->correlation_recovered > 0.99999999) && !(a->lossless && isnan(a->correlation_recovered)))
        FAIL("correlation %.6f; ", a->correlation_recovered);
    if (a->bits == 8 && !(a->entropy_cipher >= 7.997))
        FAIL("entropy %.4f < 7.997; ", a->entropy_cipher);
    for (int i = 0; i < 3 && cm_analysis_diffusion_target(a); i++)
        if (!a->trials[i].npcr_pass || !a->trials[i].uaci_pass)
            FAIL("NPCR/UACI fail at %s pixel; ", a->trials[i].where);
    for (int d = 0; d < 3; d++)
        if (!(fabs(a->adj_cipher[d]) < 0.01))
            FAIL("adjacent correlation %c %.4f; ", "hvd"[d], a->adj_cipher[d]);
    if (!cm_analysis_chi2_pass(a))
        FAIL("chi-square %.1f > %.1f; ", a->chi2_cipher, a->chi2_critical);
#undef FAIL
    if (why != NULL)
        snprintf(why, whylen, "%s", len == 0 ? "all targets met" : buf);
    return len == 0;
}
