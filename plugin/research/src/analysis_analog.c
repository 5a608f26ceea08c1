/* analysis_analog.c - an analysis through the paper's analog channel: master and two delayed
 * slaves synchronise for CM_ANALYSIS_SYNC_SECONDS (recorded for the figures), then the image,
 * reshaped like MATLAB's img(:), rides on the master's mask and each slave recovers it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis_internal.h"
#include "chaosmask/research/sync.h"

/* MATLAB's reshape(img, [], 1): column-major, rows fastest, then columns, then channels. */
static size_t matlab_index(const cm_analysis *a, size_t j)
{
    size_t y = j % a->height, rest = j / a->height, x = rest % a->width, c = rest / a->width;
    return (y * a->width + x) * a->channels + c;
}

/* Position j of the column vector that holds raster sample k (the inverse of matlab_index). */
static size_t matlab_position(const cm_analysis *a, size_t k)
{
    size_t c = k % a->channels, px = k / a->channels, x = px % a->width, y = px / a->width;
    return (c * a->width + x) * a->height + y;
}

static unsigned quantise(double v, double peak)
{
    double r = floor(v + 0.5);
    return (unsigned)(r < 0 ? 0 : (r > peak ? peak : r));
}

typedef struct analog_run {
    double *cipher, *recovered, *mask; /* n, 2n and n */
    double sync_error[2];
    double lo, span; /* the cipher image is (F - lo) / span scaled to [0, peak] */
} analog_run;

static void analog_run_free(analog_run *r)
{
    free(r->cipher);
    free(r->recovered);
    free(r->mask);
}

/* The mask scales with the peak so the image is the same small ripple on it at any depth. */
static void analog_config(cm_sync_config *cfg, unsigned bits)
{
    cm_sync_default_config(cfg);
    double scale = (double)((1u << bits) - 1) / 255.0;
    for (int k = 0; k < 3; k++)
        cfg->eta[k] *= scale;
}

static void record_trace(cm_analog_trace *trace, const cm_sync *s)
{
    size_t m = trace->n++;
    double z[3];
    cm_sync_master(s, 0, z);
    trace->t[m] = s->t;
    for (int k = 0; k < 3; k++)
        trace->z[k][m] = z[k];
    for (unsigned sl = 0; sl < 2; sl++) {
        trace->err[sl][m] = cm_sync_error_norm(s, sl);
        for (int k = 0; k < 3; k++)
            trace->theta_hat[sl][k][m] = s->s[sl].theta_hat[k];
        trace->dhat[sl][m] = s->s[sl].dhat;
    }
}

/* The synchronisation preamble, recorded into trace. */
static void synchronise(cm_sync *s, const cm_sync_config *cfg, cm_analog_trace *trace,
                        analog_run *out)
{
    uint64_t pre = (uint64_t)llround(CM_ANALYSIS_SYNC_SECONDS / cfg->dt);
    uint64_t every = pre / CM_ANALYSIS_TRACE_MAX + 1;
    trace->n = 0;
    for (uint64_t i = 0; i < pre; i++) {
        if (i % every == 0 && trace->n < CM_ANALYSIS_TRACE_MAX)
            record_trace(trace, s);
        cm_sync_step(s);
    }
    for (unsigned sl = 0; sl < 2; sl++) {
        memcpy(trace->theta_true[sl], cfg->slave[sl].theta, sizeof trace->theta_true[sl]);
        out->sync_error[sl] = cm_sync_error_norm(s, sl);
    }
}

static int analog_simulate(const cm_analysis *a, analog_run *out, cm_analog_trace *trace)
{
    size_t n = cm_raster_bytes(&a->plain) / (a->bits / 8u);
    cm_sync_config cfg;
    analog_config(&cfg, a->bits);
    size_t hl = cm_sync_history_len(&cfg);
    double(*hist)[3] = malloc(hl * sizeof *hist);
    double *msg = malloc(n * sizeof *msg);
    out->cipher = malloc(n * sizeof(double));
    out->recovered = malloc(2 * n * sizeof(double));
    out->mask = malloc(n * sizeof(double));
    cm_sync s;
    if (hist == NULL || msg == NULL || out->cipher == NULL || out->recovered == NULL ||
        out->mask == NULL || cm_sync_init(&s, &cfg, hist, hl) != 0) {
        free(hist);
        free(msg);
        return -1;
    }
    synchronise(&s, &cfg, trace, out);
    for (size_t j = 0; j < n; j++)
        msg[j] = (double)cm_raster_get(&a->plain, matlab_index(a, j));
    int rc = cm_analog_run(&s, out->cipher, out->recovered, out->mask, msg, n);
    free(hist);
    free(msg);
    return rc;
}

/* The channel carries real numbers; as an image the cipher is F scaled to [0, peak] over its
 * range (MATLAB's imshow(F, [])).  Each slave's recovery is rounded and clamped to an image. */
static int quantise_images(cm_analysis *a, analog_run *r0, double peak)
{
    size_t n = a->width * a->height * a->channels;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t j = 0; j < n; j++) {
        lo = fmin(lo, r0->cipher[j]);
        hi = fmax(hi, r0->cipher[j]);
    }
    r0->lo = lo;
    r0->span = hi > lo ? hi - lo : 1.0;
    for (unsigned sl = 0; sl < 2; sl++) {
        a->analog_sync_error[sl] = r0->sync_error[sl];
        a->analog_max_abs_error[sl] = 0.0;
    }
    cm_raster rec2;
    if (cm_raster_alloc(&rec2, a->width, a->height, a->channels, a->bits) != 0)
        return CM_RESEARCH_EINTERNAL;
    for (size_t j = 0; j < n; j++) {
        size_t k = matlab_index(a, j);
        double m = (double)cm_raster_get(&a->plain, k);
        cm_raster_set(&a->cipher, k, quantise((r0->cipher[j] - lo) / r0->span * peak, peak));
        cm_raster_set(&a->recovered, k, quantise(r0->recovered[j], peak));
        cm_raster_set(&rec2, k, quantise(r0->recovered[n + j], peak));
        for (unsigned sl = 0; sl < 2; sl++)
            a->analog_max_abs_error[sl] = fmax(a->analog_max_abs_error[sl],
                                               fabs(r0->recovered[sl * n + j] - m));
    }
    cm_image P = cm_raster_view(&a->plain), R1 = cm_raster_view(&a->recovered);
    cm_image R2 = cm_raster_view(&rec2);
    a->analog_psnr_slave[0] = cm_psnr(&P, &R1);
    a->analog_psnr_slave[1] = cm_psnr(&P, &R2);
    cm_raster_free(&rec2);
    return 0;
}

/* The one-pixel ciphers: the mask does not depend on the message, so the transmitted signal
 * differs from the plain image's in the changed sample alone.  cipher_1px uses the cipher's
 * scale. */
static int one_sample_trials(cm_analysis *a, const analog_run *r0, double peak)
{
    analysis_trial_positions(a);
    for (int i = 0; i < 3; i++) {
        size_t k = a->trials[i].index, j = matlab_position(a, k);
        double m1 = (double)(cm_raster_get(&a->plain, k) ^ 1u);
        cm_raster c1;
        if (cm_raster_alloc(&c1, a->width, a->height, a->channels, a->bits) != 0)
            return CM_RESEARCH_EINTERNAL;
        memcpy(c1.data, a->cipher.data, cm_raster_bytes(&c1));
        cm_raster_set(&c1, k, quantise((m1 + r0->mask[j] - r0->lo) / r0->span * peak, peak));
        analysis_set_trial(a, i, &c1);
        if (i == 2) {
            cm_raster_free(&a->cipher_1px);
            a->cipher_1px = c1;
        } else {
            cm_raster_free(&c1);
        }
    }
    return 0;
}

int analysis_run_analog(cm_analysis *a, char *err, size_t errlen)
{
    double peak = (double)((1u << a->bits) - 1);
    analog_run r0 = {0};
    a->trace = calloc(1, sizeof *a->trace);
    if (a->trace == NULL || analog_simulate(a, &r0, a->trace) != 0) {
        analog_run_free(&r0);
        snprintf(err, errlen, "out of memory");
        return CM_RESEARCH_EINTERNAL;
    }
    cm_sync_config cfg;
    analog_config(&cfg, a->bits);
    a->analog_eta = cfg.eta[0];
    int rc = quantise_images(a, &r0, peak);
    if (rc == 0)
        rc = analysis_statistics(a);
    if (rc == 0)
        rc = one_sample_trials(a, &r0, peak);
    analog_run_free(&r0);
    /* Key sensitivity is a property of the digital key schedule; not defined here. */
    a->key_npcr = a->key_uaci = NAN;
    if (rc != 0) {
        snprintf(err, errlen, "out of memory");
        return CM_RESEARCH_EINTERNAL;
    }
    return 0;
}
