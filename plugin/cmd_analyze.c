/* cmd_analyze.c - `chaosmask analyze IMAGE --out DIR [--profile P | --analog] [--json]`: one
 * image through one masking mode, every statistic of the paper's Table 1 and more, the images
 * that let anyone recompute them, figures and a report.  Also the analysis runner that
 * `chaosmask paper` reuses (analysis.h). */
#define _POSIX_C_SOURCE 200809L
#include "analysis.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "chaosmask/chaosmask.h"
#include "chaosmask/metrics.h"
#include "cli.h"
#include "figures.h"
#include "outfile.h"
#ifdef CHAOSMASK_HAVE_DICOM
#include "chaosmask/dicom.h"
#endif

/* The demo key and nonce: fixed so that cipher.png and cipher_1px.png share key and nonce (as
 * NPCR/UACI require) and a rerun reproduces every file.  Never a production key. */
static const uint8_t demo_key[CM_KEYBYTES] = "ChaosMask analyze demo key 2024";
static const uint8_t demo_nonce[CM_NONCEBYTES] = "analyze nonce 1";
static const char demo_context[] = "chaosmask analyze";

const char *cm_fmt_num(char *buf, size_t n, double v, int decimals)
{
    if (isnan(v))
        snprintf(buf, n, "nan");
    else if (isinf(v))
        snprintf(buf, n, v > 0 ? "inf" : "-inf");
    else
        snprintf(buf, n, "%.*f", decimals, v);
    return buf;
}


int cm_mkdir_p(const char *dir, char *err, size_t errlen)
{
    char buf[4096];
    if (dir[0] == '\0') {
        snprintf(err, errlen, "the output directory is empty");
        return -1;
    }
    if (snprintf(buf, sizeof buf, "%s", dir) >= (int)sizeof buf) {
        snprintf(err, errlen, "%s: path too long", dir);
        return -1;
    }
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "%s: cannot create directory: %s", buf, strerror(errno));
            return -1;
        }
        *p = c;
        if (c == '\0')
            break;
    }
    return 0;
}

/* ---- statistics common to every mode ---- */

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void hist_plot(double out[256], const uint64_t *hist, unsigned bits)
{
    memset(out, 0, 256 * sizeof(double));
    size_t nb = CM_HIST_BINS(bits);
    for (size_t v = 0; v < nb; v++)
        out[bits == 16 ? v >> 8 : v] += (double)hist[v];
}

static int compute_statistics(cm_analysis *a)
{
    cm_image P = cm_raster_view(&a->plain), C = cm_raster_view(&a->cipher);
    cm_image R = cm_raster_view(&a->recovered);
    size_t nb = CM_HIST_BINS(a->bits);
    uint64_t *hist = malloc(nb * sizeof *hist);
    if (hist == NULL)
        return -1;
    a->entropy_plain = cm_entropy(hist, &P);
    a->hist_var_plain = cm_hist_variance(hist, nb);
    hist_plot(a->hist_plot[0], hist, a->bits);
    a->entropy_cipher = cm_entropy(hist, &C);
    a->hist_var_cipher = cm_hist_variance(hist, nb);
    a->chi2_cipher = cm_hist_chi2(hist, nb);
    a->chi2_critical = cm_chi2_critical(nb, CM_METRICS_ALPHA);
    hist_plot(a->hist_plot[1], hist, a->bits);
    a->entropy_recovered = cm_entropy(hist, &R);
    a->hist_var_recovered = cm_hist_variance(hist, nb);
    hist_plot(a->hist_plot[2], hist, a->bits);
    unsigned used;
    a->local_entropy_cipher = cm_local_entropy(hist, &C, CM_LOCAL_ENTROPY_BLOCKS,
                                               CM_LOCAL_ENTROPY_SIDE, 2013, &used);
    int wu_local = a->bits == 8 && used == CM_LOCAL_ENTROPY_BLOCKS;
    a->local_entropy_low = wu_local ? CM_LOCAL_ENTROPY_LOW : NAN;
    a->local_entropy_high = wu_local ? CM_LOCAL_ENTROPY_HIGH : NAN;
    free(hist);

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

static void set_trial(cm_analysis *a, int i, const cm_raster *c1)
{
    cm_image C = cm_raster_view(&a->cipher), D = cm_raster_view(c1);
    cm_npcr_trial *t = &a->trials[i];
    (void)cm_npcr_uaci(&t->npcr, &t->uaci, &C, &D);
    t->npcr_pass = t->npcr >= a->npcr_critical;
    t->uaci_pass = t->uaci >= a->uaci_low && t->uaci <= a->uaci_high;
}

static void trial_positions(cm_analysis *a)
{
    size_t n = a->width * a->height * a->channels;
    uint64_t seed = 0x1b2c3d4e5f ^ (uint64_t)n;
    static const char *const where[3] = {"first", "last", "random"};
    a->trials[0].index = 0;
    a->trials[1].index = n - 1;
    a->trials[2].index = (size_t)(splitmix(&seed) % n);
    for (int i = 0; i < 3; i++)
        a->trials[i].where = where[i];
}

/* ---- digital profiles ---- */

/* The image is one frame, so one segment tag. */
static int seal_image(cm_raster *out, const cm_raster *in, int profile, const uint8_t *key,
                      uint8_t segment_tag[CM_SEGTAGBYTES], uint8_t tag[CM_TAGBYTES])
{
    cm_params p = {profile, in->bits / 8u, 0, NULL};
    return cm_seal(out->data, segment_tag, tag, in->data, cm_raster_bytes(in), &p, key, demo_nonce,
                   (const uint8_t *)demo_context, sizeof demo_context - 1);
}

static int run_digital(cm_analysis *a, char *err, size_t errlen)
{
    uint8_t tag[CM_TAGBYTES], tag1[CM_TAGBYTES], st[CM_SEGTAGBYTES], st1[CM_SEGTAGBYTES];
    cm_raster alt, plain1;
    int rc = seal_image(&a->cipher, &a->plain, a->mode, demo_key, st, tag);
    if (rc == 0) {
        cm_params p = {a->mode, a->bits / 8u, 0, NULL};
        rc = cm_open(a->recovered.data, a->cipher.data, cm_raster_bytes(&a->cipher), st, tag, &p,
                     demo_key, demo_nonce, (const uint8_t *)demo_context, sizeof demo_context - 1);
    }
    if (rc != 0) {
        snprintf(err, errlen, "engine: %s", cm_strerror(rc));
        return rc == CM_EAUTH ? CM_EXIT_AUTH : CM_EXIT_INTERNAL;
    }
    if (compute_statistics(a) != 0 ||
        cm_raster_alloc(&alt, a->width, a->height, a->channels, a->bits) != 0 ||
        cm_raster_alloc(&plain1, a->width, a->height, a->channels, a->bits) != 0) {
        snprintf(err, errlen, "out of memory");
        return CM_EXIT_INTERNAL;
    }
    trial_positions(a);
    for (int i = 0; i < 3 && rc == 0; i++) {
        memcpy(plain1.data, a->plain.data, cm_raster_bytes(&plain1));
        size_t k = a->trials[i].index;
        cm_raster_set(&plain1, k, cm_raster_get(&plain1, k) ^ 1u);
        rc = seal_image(i == 2 ? &a->cipher_1px : &alt, &plain1, a->mode, demo_key, st1, tag1);
        if (rc == 0)
            set_trial(a, i, i == 2 ? &a->cipher_1px : &alt);
    }
    /* key sensitivity: the same plaintext under a key one bit away */
    uint8_t key2[CM_KEYBYTES];
    memcpy(key2, demo_key, sizeof key2);
    key2[CM_KEYBYTES - 1] ^= 1u;
    if (rc == 0 && (rc = seal_image(&alt, &a->plain, a->mode, key2, st1, tag1)) == 0) {
        cm_image C = cm_raster_view(&a->cipher), K = cm_raster_view(&alt);
        (void)cm_npcr_uaci(&a->key_npcr, &a->key_uaci, &C, &K);
    }
    cm_raster_free(&alt);
    cm_raster_free(&plain1);
    if (rc != 0) {
        snprintf(err, errlen, "engine: %s", cm_strerror(rc));
        return CM_EXIT_INTERNAL;
    }
    return 0;
}

/* ---- the analog channel ---- */

/* MATLAB's reshape(img, [], 1): column-major, rows fastest, then columns, then channels. */
static size_t matlab_index(const cm_analysis *a, size_t j)
{
    size_t y = j % a->height, rest = j / a->height, x = rest % a->width, c = rest / a->width;
    return (y * a->width + x) * a->channels + c;
}

typedef struct analog_run {
    double *cipher, *recovered, *mask; /* n, 2n and n */
    double sync_error[2];
} analog_run;

static int analog_simulate(const cm_analysis *a, const cm_raster *plain, analog_run *out,
                           cm_analog_trace *trace)
{
    size_t n = cm_raster_bytes(plain) / (a->bits / 8u);
    cm_sync_config cfg;
    cm_sync_default_config(&cfg);
    double scale = (double)((1u << a->bits) - 1) / 255.0;
    for (int k = 0; k < 3; k++)
        cfg.eta[k] *= scale;
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
    uint64_t pre = (uint64_t)llround(CM_ANALYSIS_SYNC_SECONDS / cfg.dt);
    uint64_t every = pre / CM_ANALYSIS_TRACE_MAX + 1;
    trace->n = 0;
    for (uint64_t i = 0; i < pre; i++) {
        if (i % every == 0 && trace->n < CM_ANALYSIS_TRACE_MAX) {
            size_t m = trace->n++;
            double z[3];
            cm_sync_master(&s, 0, z);
            trace->t[m] = s.t;
            for (int k = 0; k < 3; k++)
                trace->z[k][m] = z[k];
            for (unsigned sl = 0; sl < 2; sl++) {
                trace->err[sl][m] = cm_sync_error_norm(&s, sl);
                for (int k = 0; k < 3; k++)
                    trace->theta_hat[sl][k][m] = s.s[sl].theta_hat[k];
                trace->dhat[sl][m] = s.s[sl].dhat;
            }
        }
        cm_sync_step(&s);
    }
    for (unsigned sl = 0; sl < 2; sl++) {
        memcpy(trace->theta_true[sl], cfg.slave[sl].theta, sizeof trace->theta_true[sl]);
        out->sync_error[sl] = cm_sync_error_norm(&s, sl);
    }
    for (size_t j = 0; j < n; j++)
        msg[j] = (double)cm_raster_get(plain, matlab_index(a, j));
    int rc = cm_analog_run(&s, out->cipher, out->recovered, out->mask, msg, n);
    free(hist);
    free(msg);
    return rc;
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

static int run_analog(cm_analysis *a, char *err, size_t errlen)
{
    size_t n = a->width * a->height * a->channels;
    double peak = (double)((1u << a->bits) - 1);
    analog_run r0 = {0};
    a->trace = calloc(1, sizeof *a->trace);
    if (a->trace == NULL || analog_simulate(a, &a->plain, &r0, a->trace) != 0) {
        free(r0.cipher);
        free(r0.recovered);
        free(r0.mask);
        snprintf(err, errlen, "out of memory");
        return CM_EXIT_INTERNAL;
    }
    cm_sync_config cfg;
    cm_sync_default_config(&cfg);
    a->analog_eta = cfg.eta[0] * peak / 255.0;
    /* The channel carries real numbers; as an image the cipher is F scaled to [0, peak] over
     * its range (MATLAB's imshow(F, [])).  cipher_1px uses the same scale. */
    double lo = INFINITY, hi = -INFINITY;
    for (size_t j = 0; j < n; j++) {
        lo = fmin(lo, r0.cipher[j]);
        hi = fmax(hi, r0.cipher[j]);
    }
    double span = hi > lo ? hi - lo : 1.0;
    for (unsigned sl = 0; sl < 2; sl++) {
        a->analog_sync_error[sl] = r0.sync_error[sl];
        a->analog_max_abs_error[sl] = 0.0;
    }
    cm_raster rec2;
    if (cm_raster_alloc(&rec2, a->width, a->height, a->channels, a->bits) != 0) {
        snprintf(err, errlen, "out of memory");
        return CM_EXIT_INTERNAL;
    }
    for (size_t j = 0; j < n; j++) {
        size_t k = matlab_index(a, j);
        double m = (double)cm_raster_get(&a->plain, k);
        cm_raster_set(&a->cipher, k, quantise((r0.cipher[j] - lo) / span * peak, peak));
        cm_raster_set(&a->recovered, k, quantise(r0.recovered[j], peak));
        cm_raster_set(&rec2, k, quantise(r0.recovered[n + j], peak));
        for (unsigned sl = 0; sl < 2; sl++)
            a->analog_max_abs_error[sl] = fmax(a->analog_max_abs_error[sl],
                                               fabs(r0.recovered[sl * n + j] - m));
    }
    cm_image P = cm_raster_view(&a->plain), R1 = cm_raster_view(&a->recovered);
    cm_image R2 = cm_raster_view(&rec2);
    a->analog_psnr_slave[0] = cm_psnr(&P, &R1);
    a->analog_psnr_slave[1] = cm_psnr(&P, &R2);
    cm_raster_free(&rec2);
    if (compute_statistics(a) != 0) {
        free(r0.cipher);
        free(r0.recovered);
        free(r0.mask);
        snprintf(err, errlen, "out of memory");
        return CM_EXIT_INTERNAL;
    }
    /* The one-pixel ciphers: the mask does not depend on the message, so the transmitted
     * signal differs from the plain image's in the changed sample alone. */
    trial_positions(a);
    int rc = 0;
    for (int i = 0; i < 3 && rc == 0; i++) {
        size_t k = a->trials[i].index, j = matlab_position(a, k);
        double m1 = (double)(cm_raster_get(&a->plain, k) ^ 1u);
        cm_raster c1;
        if (cm_raster_alloc(&c1, a->width, a->height, a->channels, a->bits) != 0) {
            rc = -1;
            break;
        }
        memcpy(c1.data, a->cipher.data, cm_raster_bytes(&c1));
        cm_raster_set(&c1, k, quantise((m1 + r0.mask[j] - lo) / span * peak, peak));
        set_trial(a, i, &c1);
        if (i == 2) {
            cm_raster_free(&a->cipher_1px);
            a->cipher_1px = c1;
        } else {
            cm_raster_free(&c1);
        }
    }
    free(r0.cipher);
    free(r0.recovered);
    free(r0.mask);
    /* Key sensitivity is a property of the digital key schedule; not defined here. */
    a->key_npcr = a->key_uaci = NAN;
    if (rc != 0) {
        snprintf(err, errlen, "out of memory");
        return CM_EXIT_INTERNAL;
    }
    return 0;
}

/* ---- the runner ---- */

int cm_analysis_run(cm_analysis *a, const cm_raster *plain, const char *name, int mode,
                    char *err, size_t errlen)
{
    memset(a, 0, sizeof *a);
    double t0 = cm_cli_seconds();
    snprintf(a->name, sizeof a->name, "%s", name);
    a->mode = mode;
    const char *mn = mode == CM_ANALYSIS_MODE_ANALOG ? "analog" : cm_profile_name(mode);
    if (mn == NULL) {
        snprintf(err, errlen, "unknown profile %d", mode);
        return CM_EXIT_USAGE;
    }
    snprintf(a->mode_name, sizeof a->mode_name, "%s", mn);
    a->width = plain->width;
    a->height = plain->height;
    a->channels = plain->channels;
    a->bits = plain->bits;
    int ok = cm_raster_alloc(&a->plain, a->width, a->height, a->channels, a->bits) == 0;
    ok &= cm_raster_alloc(&a->cipher, a->width, a->height, a->channels, a->bits) == 0;
    ok &= cm_raster_alloc(&a->cipher_1px, a->width, a->height, a->channels, a->bits) == 0;
    ok &= cm_raster_alloc(&a->recovered, a->width, a->height, a->channels, a->bits) == 0;
    if (!ok) {
        cm_analysis_free(a);
        snprintf(err, errlen, "out of memory");
        return CM_EXIT_INTERNAL;
    }
    memcpy(a->plain.data, plain->data, cm_raster_bytes(plain));
    int rc = mode == CM_ANALYSIS_MODE_ANALOG ? run_analog(a, err, errlen)
                                             : run_digital(a, err, errlen);
    a->npcr = a->trials[2].npcr;
    a->uaci = a->trials[2].uaci;
    a->seconds = cm_cli_seconds() - t0;
    return rc;
}

void cm_analysis_free(cm_analysis *a)
{
    cm_raster_free(&a->plain);
    cm_raster_free(&a->cipher);
    cm_raster_free(&a->cipher_1px);
    cm_raster_free(&a->recovered);
    free(a->trace);
    a->trace = NULL;
}

int cm_analysis_diffusion_target(const cm_analysis *a)
{
    return a->mode != CM_ANALYSIS_MODE_ANALOG && a->mode != CM_PROFILE_AES_256_GCM;
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
#undef FAIL
    if (why != NULL)
        snprintf(why, whylen, "%s", len == 0 ? "all targets met" : buf);
    return len == 0;
}

/* ---- output ---- */

int cm_analysis_write_images(const cm_analysis *a, const char *dir, char *err, size_t errlen)
{
    const cm_raster *imgs[4] = {&a->plain, &a->cipher, &a->cipher_1px, &a->recovered};
    static const char *const names[4] = {"plain.png", "cipher.png", "cipher_1px.png", "recovered.png"};
    char path[4096];
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (cm_png_write(path, imgs[i], err, errlen) != 0)
            return CM_EXIT_IO;
    }
    return 0;
}

static int fig_images(const cm_analysis *a, const char *dir, char *err, size_t errlen)
{
    char path[4096], title[256];
    snprintf(title, sizeof title, "%s - %s: plain, cipher, recovered (Fig. 4)", a->name, a->mode_name);
    cm_figure *f = cm_figure_new(1200, 460, title);
    if (f == NULL)
        return -1;
    cm_figure_image(f, 10, 40, 390, 410, &a->plain, "plain");
    cm_figure_image(f, 405, 40, 390, 410, &a->cipher, "cipher");
    cm_figure_image(f, 800, 40, 390, 410, &a->recovered, "recovered");
    snprintf(path, sizeof path, "%s/fig_images.png", dir);
    int rc = cm_figure_save(f, path, err, errlen);
    cm_figure_free(f);
    return rc;
}

static int fig_histograms(const cm_analysis *a, const char *dir, char *err, size_t errlen)
{
    char path[4096], title[256];
    snprintf(title, sizeof title, "%s - %s: histograms (Fig. 5)", a->name, a->mode_name);
    cm_figure *f = cm_figure_new(1200, 400, title);
    if (f == NULL)
        return -1;
    static const char *const what[3] = {"plain", "cipher", "recovered"};
    const char *xl = a->bits == 16 ? "gray level / 256" : "gray level";
    for (int i = 0; i < 3; i++) {
        cm_series s = {NULL, a->hist_plot[i], 256, NULL, {0}, CM_SERIES_BARS};
        cm_figure_palette((size_t)i, s.rgb);
        cm_chart c = {what[i], xl, "count", 0, 1, 0, 0, 255, 0, 0, &s, 1};
        cm_figure_chart(f, 400.0 * i, 40, 400, 350, &c);
    }
    snprintf(path, sizeof path, "%s/fig_histograms.png", dir);
    int rc = cm_figure_save(f, path, err, errlen);
    cm_figure_free(f);
    return rc;
}

static int fig_adjacent(const cm_analysis *a, const char *dir, char *err, size_t errlen)
{
    enum { NPAIRS = 3000 };
    static double px[2][NPAIRS], py[2][NPAIRS];
    uint64_t seed = 99;
    const cm_raster *img[2] = {&a->plain, &a->cipher};
    double scale = a->bits == 16 ? 1.0 / 256.0 : 1.0;
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < NPAIRS; i++) {
            size_t x = (size_t)(splitmix(&seed) % (a->width - 1));
            size_t y = (size_t)(splitmix(&seed) % a->height);
            size_t idx = (y * a->width + x) * a->channels;
            px[k][i] = scale * cm_raster_get(img[k], idx);
            py[k][i] = scale * cm_raster_get(img[k], idx + a->channels);
        }
    char path[4096], title[256], t0[96], t1[96];
    snprintf(title, sizeof title, "%s - %s: horizontally adjacent pixels", a->name, a->mode_name);
    snprintf(t0, sizeof t0, "plain (r = %.4f)", a->adj_plain[0]);
    snprintf(t1, sizeof t1, "cipher (r = %.4f)", a->adj_cipher[0]);
    cm_figure *f = cm_figure_new(900, 440, title);
    if (f == NULL)
        return -1;
    const char *ttl[2] = {t0, t1};
    for (int k = 0; k < 2; k++) {
        cm_series s = {px[k], py[k], NPAIRS, NULL, {0}, CM_SERIES_POINTS};
        cm_figure_palette((size_t)k, s.rgb);
        cm_chart c = {ttl[k], "pixel (x, y)", "pixel (x + 1, y)", 0, 1, 1, 0, 255, 0, 255, &s, 1};
        cm_figure_chart(f, 450.0 * k, 40, 450, 390, &c);
    }
    snprintf(path, sizeof path, "%s/fig_adjacent.png", dir);
    int rc = cm_figure_save(f, path, err, errlen);
    cm_figure_free(f);
    return rc;
}

static int fig_sync(const cm_analysis *a, const char *dir, char *err, size_t errlen)
{
    const cm_analog_trace *tr = a->trace;
    char path[4096];
    int rc = 0;
    /* phase portraits (the paper's Fig. 3) */
    cm_figure *f = cm_figure_new(1200, 420, "Lorenz master: phase portraits (Fig. 3)");
    if (f == NULL)
        return -1;
    static const int pairs[3][2] = {{0, 1}, {0, 2}, {1, 2}};
    static const char *const names[3] = {"z1", "z2", "z3"};
    for (int p = 0; p < 3; p++) {
        char t[32];
        snprintf(t, sizeof t, "%s - %s", names[pairs[p][0]], names[pairs[p][1]]);
        cm_series s = {tr->z[pairs[p][0]], tr->z[pairs[p][1]], tr->n, NULL, {0}, CM_SERIES_LINE};
        cm_figure_palette((size_t)p, s.rgb);
        cm_chart c = {t, names[pairs[p][0]], names[pairs[p][1]], 0, 0, 0, 0, 0, 0, 0, &s, 1};
        cm_figure_chart(f, 400.0 * p, 30, 400, 380, &c);
    }
    snprintf(path, sizeof path, "%s/fig_phase.png", dir);
    rc |= cm_figure_save(f, path, err, errlen);
    cm_figure_free(f);

    /* synchronisation errors */
    f = cm_figure_new(900, 420, NULL);
    if (f == NULL)
        return -1;
    cm_series es[2] = {{tr->t, tr->err[0], tr->n, "slave 1 (tau = 0.05 s)", {0}, CM_SERIES_LINE},
                       {tr->t, tr->err[1], tr->n, "slave 2 (tau = 0.1 s)", {0}, CM_SERIES_LINE}};
    cm_figure_palette(0, es[0].rgb);
    cm_figure_palette(1, es[1].rgb);
    cm_chart ec = {"Synchronisation error ||y_i(t) - z(t - tau_i)||", "t (s)", "error norm", 1,
                   0, 0, 0, 0, 0, 0, es, 2};
    cm_figure_chart(f, 0, 0, 900, 420, &ec);
    snprintf(path, sizeof path, "%s/fig_sync_error.png", dir);
    rc |= cm_figure_save(f, path, err, errlen);
    cm_figure_free(f);

    /* parameter and disturbance-bound estimates */
    f = cm_figure_new(1200, 420, "Adaptive estimates (dashed: the slaves' true parameters)");
    if (f == NULL)
        return -1;
    static const char *const pn[3] = {"sigma", "rho", "beta"};
    for (int k = 0; k < 3; k++) {
        cm_series s[4];
        static double flat[2][3][2], tx[2];
        tx[0] = tr->t[0];
        tx[1] = tr->t[tr->n - 1];
        char lab[2][48];
        for (int sl = 0; sl < 2; sl++) {
            snprintf(lab[sl], sizeof lab[sl], "slave %d estimate", sl + 1);
            flat[sl][k][0] = flat[sl][k][1] = tr->theta_true[sl][k];
            s[2 * sl] = (cm_series){tr->t, tr->theta_hat[sl][k], tr->n, lab[sl], {0}, CM_SERIES_LINE};
            s[2 * sl + 1] = (cm_series){tx, flat[sl][k], 2, NULL, {0}, CM_SERIES_DASHED};
            cm_figure_palette((size_t)sl, s[2 * sl].rgb);
            cm_figure_palette((size_t)sl, s[2 * sl + 1].rgb);
        }
        char t[64];
        snprintf(t, sizeof t, "%s estimate", pn[k]);
        cm_chart c = {t, "t (s)", pn[k], 0, 0, 0, 0, 0, 0, 0, s, 4};
        cm_figure_chart(f, 400.0 * k, 30, 400, 380, &c);
    }
    snprintf(path, sizeof path, "%s/fig_estimates.png", dir);
    rc |= cm_figure_save(f, path, err, errlen);
    cm_figure_free(f);
    return rc;
}

int cm_analysis_write_figures(const cm_analysis *a, const char *dir, char *err, size_t errlen)
{
    if (fig_images(a, dir, err, errlen) != 0 || fig_histograms(a, dir, err, errlen) != 0 ||
        fig_adjacent(a, dir, err, errlen) != 0)
        return CM_EXIT_IO;
    if (a->trace != NULL && a->trace->n > 1 && fig_sync(a, dir, err, errlen) != 0)
        return CM_EXIT_IO;
    return 0;
}

static void json_num(FILE *f, double v)
{
    if (isnan(v))
        fputs("null", f);
    else if (isinf(v))
        fputs(v > 0 ? "\"inf\"" : "\"-inf\"", f);
    else
        fprintf(f, "%.10g", v);
}

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

#define JKEY(f, k) fprintf(f, ",\n  \"%s\": ", k)

void cm_analysis_json(FILE *f, const cm_analysis *a)
{
    fputs("{\n  \"image\": ", f);
    json_string(f, a->name);
    JKEY(f, "mode"), json_string(f, a->mode_name);
    fprintf(f, ",\n  \"width\": %zu, \"height\": %zu, \"channels\": %u, \"bits\": %u", a->width,
            a->height, a->channels, a->bits);
    static const struct { const char *k; size_t off; } nums[] = {
        {"entropy_plain", offsetof(cm_analysis, entropy_plain)},
        {"entropy_cipher", offsetof(cm_analysis, entropy_cipher)},
        {"entropy_recovered", offsetof(cm_analysis, entropy_recovered)},
        {"local_entropy_cipher", offsetof(cm_analysis, local_entropy_cipher)},
        {"npcr", offsetof(cm_analysis, npcr)},
        {"uaci", offsetof(cm_analysis, uaci)},
        {"npcr_critical", offsetof(cm_analysis, npcr_critical)},
        {"psnr_recovered", offsetof(cm_analysis, psnr_recovered)},
        {"mse_recovered", offsetof(cm_analysis, mse_recovered)},
        {"correlation_recovered", offsetof(cm_analysis, correlation_recovered)},
        {"hist_var_plain", offsetof(cm_analysis, hist_var_plain)},
        {"hist_var_cipher", offsetof(cm_analysis, hist_var_cipher)},
        {"hist_var_recovered", offsetof(cm_analysis, hist_var_recovered)},
        {"chi2_cipher", offsetof(cm_analysis, chi2_cipher)},
        {"chi2_critical", offsetof(cm_analysis, chi2_critical)},
        {"npcr_plain_cipher", offsetof(cm_analysis, npcr_plain_cipher)},
        {"uaci_plain_cipher", offsetof(cm_analysis, uaci_plain_cipher)},
        {"seconds", offsetof(cm_analysis, seconds)},
    };
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        JKEY(f, nums[i].k);
        json_num(f, *(const double *)(const void *)((const char *)a + nums[i].off));
    }
    JKEY(f, "uaci_interval"), fputc('[', f), json_num(f, a->uaci_low), fputs(", ", f);
    json_num(f, a->uaci_high), fputc(']', f);
    JKEY(f, "local_entropy_interval"), fputc('[', f), json_num(f, a->local_entropy_low);
    fputs(", ", f), json_num(f, a->local_entropy_high), fputc(']', f);
    JKEY(f, "alpha"), json_num(f, CM_METRICS_ALPHA);
    const double *adj[2] = {a->adj_plain, a->adj_cipher};
    static const char *const adjk[2] = {"adjacent_corr_plain", "adjacent_corr_cipher"};
    for (int k = 0; k < 2; k++) {
        JKEY(f, adjk[k]), fputs("{\"h\": ", f), json_num(f, adj[k][0]);
        fputs(", \"v\": ", f), json_num(f, adj[k][1]), fputs(", \"d\": ", f);
        json_num(f, adj[k][2]), fputc('}', f);
    }
    JKEY(f, "npcr_uaci_trials"), fputc('[', f);
    int all_n = 1, all_u = 1;
    for (int i = 0; i < 3; i++) {
        const cm_npcr_trial *t = &a->trials[i];
        fprintf(f, "%s\n    {\"position\": \"%s\", \"index\": %zu, \"npcr\": ", i ? "," : "",
                t->where, t->index);
        json_num(f, t->npcr), fputs(", \"uaci\": ", f), json_num(f, t->uaci);
        fprintf(f, ", \"npcr_pass\": %s, \"uaci_pass\": %s}", t->npcr_pass ? "true" : "false",
                t->uaci_pass ? "true" : "false");
        all_n &= t->npcr_pass;
        all_u &= t->uaci_pass;
    }
    fputs("]", f);
    JKEY(f, "npcr_pass"), fputs(all_n ? "true" : "false", f);
    JKEY(f, "uaci_pass"), fputs(all_u ? "true" : "false", f);
    JKEY(f, "key_sensitivity"), fputs("{\"npcr\": ", f), json_num(f, a->key_npcr);
    fputs(", \"uaci\": ", f), json_num(f, a->key_uaci), fputc('}', f);
    JKEY(f, "lossless"), fputs(a->lossless ? "true" : "false", f);
    if (a->mode == CM_ANALYSIS_MODE_ANALOG) {
        JKEY(f, "analog"), fputs("{\"eta\": ", f), json_num(f, a->analog_eta);
        fprintf(f, ", \"sync_seconds\": %g", CM_ANALYSIS_SYNC_SECONDS);
        for (int sl = 0; sl < 2; sl++) {
            fprintf(f, ", \"slave%d\": {\"sync_error\": ", sl + 1);
            json_num(f, a->analog_sync_error[sl]), fputs(", \"max_abs_error\": ", f);
            json_num(f, a->analog_max_abs_error[sl]), fputs(", \"psnr\": ", f);
            json_num(f, a->analog_psnr_slave[sl]), fputc('}', f);
        }
        fputc('}', f);
    } else {
        char why[512];
        JKEY(f, "targets_pass");
        fputs(cm_analysis_targets_pass(a, why, sizeof why) ? "true" : "false", f);
        JKEY(f, "targets_detail"), json_string(f, why);
    }
    fputs("\n}\n", f);
}

void cm_analysis_csv_header(FILE *f)
{
    fputs("image,mode,width,height,channels,bits,hist_var_plain,hist_var_cipher,hist_var_recovered,"
          "correlation_recovered,npcr,uaci,npcr_critical,uaci_low,uaci_high,npcr_first,uaci_first,"
          "npcr_last,uaci_last,npcr_random,uaci_random,psnr_recovered,entropy_plain,entropy_cipher,"
          "local_entropy_cipher,chi2_cipher,chi2_critical,adj_plain_h,adj_plain_v,adj_plain_d,"
          "adj_cipher_h,adj_cipher_v,adj_cipher_d,npcr_plain_cipher,uaci_plain_cipher,key_npcr,"
          "key_uaci,lossless,seconds\n", f);
}

void cm_analysis_csv_row(FILE *f, const cm_analysis *a)
{
    char b[64];
    fputc('"', f); /* RFC 4180: quotes inside a quoted field are doubled */
    for (const char *c = a->name; *c; c++) {
        if (*c == '"')
            fputc('"', f);
        fputc(*c, f);
    }
    fprintf(f, "\",%s,%zu,%zu,%u,%u", a->mode_name, a->width, a->height, a->channels, a->bits);
    double v[] = {a->hist_var_plain, a->hist_var_cipher, a->hist_var_recovered,
                  a->correlation_recovered, a->npcr, a->uaci, a->npcr_critical, a->uaci_low,
                  a->uaci_high, a->trials[0].npcr, a->trials[0].uaci, a->trials[1].npcr,
                  a->trials[1].uaci, a->trials[2].npcr, a->trials[2].uaci, a->psnr_recovered,
                  a->entropy_plain, a->entropy_cipher, a->local_entropy_cipher, a->chi2_cipher,
                  a->chi2_critical, a->adj_plain[0], a->adj_plain[1], a->adj_plain[2],
                  a->adj_cipher[0], a->adj_cipher[1], a->adj_cipher[2], a->npcr_plain_cipher,
                  a->uaci_plain_cipher, a->key_npcr, a->key_uaci};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        fprintf(f, ",%s", cm_fmt_num(b, sizeof b, v[i], 6));
    fprintf(f, ",%d,%.3f\n", a->lossless, a->seconds);
}

void cm_analysis_table_header(FILE *f)
{
    fprintf(f, "%-22s %-16s %14s %14s %10s %9s %9s %9s %9s %9s\n", "image", "mode",
            "hist(plain)", "hist(recov.)", "corr", "NPCR%", "UACI%", "PSNR", "H(cipher)", "pass");
}

void cm_analysis_table_row(FILE *f, const cm_analysis *a)
{
    char b[6][48];
    int pass = a->mode == CM_ANALYSIS_MODE_ANALOG ? -1 : cm_analysis_targets_pass(a, NULL, 0);
    fprintf(f, "%-22s %-16s %14.4f %14.4f %10s %9s %9s %9s %9s %9s\n", a->name, a->mode_name,
            a->hist_var_plain, a->hist_var_recovered,
            cm_fmt_num(b[0], 48, a->correlation_recovered, 6), cm_fmt_num(b[1], 48, a->npcr, 4),
            cm_fmt_num(b[2], 48, a->uaci, 4), cm_fmt_num(b[3], 48, a->psnr_recovered, 4),
            cm_fmt_num(b[4], 48, a->entropy_cipher, 4),
            pass < 0 ? "measured" : (pass ? "PASS" : "FAIL"));
}

/* ---- the command ---- */

static void analyze_usage(FILE *f)
{
    fputs("usage: chaosmask analyze IMAGE --out DIR [--profile P | --analog] [--json]\n"
          "  Masks IMAGE (PNG: 8/16-bit gray, RGB, RGBA; or the first frame of a DICOM image, 8/16-\n"
          "  bit gray or RGB, decoded by DCMTK if compressed, signed samples offset to unsigned)\n"
          "  with a fixed demo key and nonce, recovers\n"
          "  it, and measures histogram variance, chi-square, entropy (global and local), adjacent-\n"
          "  pixel correlation, NPCR/UACI (one sample changed at the first, last and a random\n"
          "  position; Wu et al. 2011 critical values at alpha 0.05), PSNR and correlation.\n"
          "  --profile P   lorenz | lorenz-chacha20 (default) | aes-256-gcm\n"
          "  --analog      the paper's analog channel (master + 2 delayed slaves, F = M + eta.z)\n"
          "  --json        print the metrics as one JSON object on stdout\n"
          "  Writes DIR/metrics.json, metrics.csv, plain/cipher/cipher_1px/recovered.png,\n"
          "  fig_*.png and report.html.\n", f);
}

/* A DICOM Part 10 file has "DICM" after its 128-byte preamble. */
static int is_dicom_file(const char *path)
{
    char magic[132];
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return 0;
    size_t n = fread(magic, 1, sizeof magic, f);
    fclose(f);
    return n == sizeof magic && memcmp(magic + 128, "DICM", 4) == 0;
}

/* PNG, or the first frame of a DICOM image. */
static int read_input(cm_raster *r, const char *path, char *err, size_t errlen)
{
    if (!is_dicom_file(path))
        return cm_png_read(r, path, err, errlen);
#ifdef CHAOSMASK_HAVE_DICOM
    cm_dicom_pixels px;
    cm_dicom_error derr = {0, ""};
    if (cm_dicom_read_frame(path, 0, &px, &derr) != 0) {
        snprintf(err, errlen, "%s", derr.message);
        return -1;
    }
    int rc = cm_raster_alloc(r, px.width, px.height, px.channels, px.bits);
    if (rc == 0)
        memcpy(r->data, px.data, cm_raster_bytes(r));
    else
        snprintf(err, errlen, "%s: %zux%zu image too large", path, px.width, px.height);
    cm_dicom_pixels_free(&px);
    return rc;
#else
    snprintf(err, errlen, "%s: DICOM input needs a build with the DICOM layer", path);
    return -1;
#endif
}

int cmd_analyze(cm_cli *cli, int argc, char **argv)
{
    const char *image = NULL, *out = NULL;
    int mode = CM_PROFILE_DEFAULT, json = 0, have_profile = 0, analog = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            out = argv[++i];
        } else if (strcmp(argv[i], "--profile") == 0 && i + 1 < argc) {
            mode = cm_profile_from_name(argv[++i]);
            have_profile = 1;
            if (mode < 0) {
                cm_cli_error(cli, "unknown profile '%s' (lorenz, lorenz-chacha20, aes-256-gcm)", argv[i]);
                return CM_EXIT_USAGE;
            }
        } else if (strcmp(argv[i], "--analog") == 0) {
            analog = 1;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            analyze_usage(stdout);
            return CM_EXIT_OK;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            cm_cli_error(cli, "unknown option '%s'", argv[i]);
            analyze_usage(stderr);
            return CM_EXIT_USAGE;
        } else if (image == NULL) {
            image = argv[i];
        } else {
            cm_cli_error(cli, "more than one image given ('%s', '%s')", image, argv[i]);
            return CM_EXIT_USAGE;
        }
    }
    if (image == NULL || out == NULL || (analog && have_profile)) {
        cm_cli_error(cli, image == NULL || out == NULL ? "IMAGE and --out DIR are required"
                                                       : "--profile and --analog exclude each other");
        analyze_usage(stderr);
        return CM_EXIT_USAGE;
    }
    if (analog)
        mode = CM_ANALYSIS_MODE_ANALOG;
    char err[8192];
    cm_raster plain;
    if (read_input(&plain, image, err, sizeof err) != 0) {
        cm_cli_error(cli, "%s", err);
        return CM_EXIT_INPUT;
    }
    if (cm_mkdir_p(out, err, sizeof err) != 0) {
        cm_raster_free(&plain);
        cm_cli_error(cli, "%s", err);
        return CM_EXIT_IO;
    }
    const char *base = strrchr(image, '/');
    cm_analysis a;
    int rc = cm_analysis_run(&a, &plain, base ? base + 1 : image, mode, err, sizeof err);
    cm_raster_free(&plain);
    if (rc != 0) {
        cm_analysis_free(&a);
        cm_cli_error(cli, "%s", err);
        return rc;
    }
    cm_cli_log(cli, CM_LOG_INFO, "analysis took %.3f s", a.seconds);
    rc = cm_analysis_write_images(&a, out, err, sizeof err);
    if (rc == 0)
        rc = cm_analysis_write_figures(&a, out, err, sizeof err);
    char path[4096];
    cm_outfile o;
    if (rc == 0) {
        snprintf(path, sizeof path, "%s/metrics.json", out);
        if (cm_outfile_open(&o, path, err, sizeof err) != 0) {
            rc = CM_EXIT_IO;
        } else {
            cm_analysis_json(o.f, &a);
            rc = cm_outfile_commit(&o, err, sizeof err) == 0 ? 0 : CM_EXIT_IO;
        }
    }
    if (rc == 0) {
        snprintf(path, sizeof path, "%s/metrics.csv", out);
        if (cm_outfile_open(&o, path, err, sizeof err) != 0) {
            rc = CM_EXIT_IO;
        } else {
            cm_analysis_csv_header(o.f);
            cm_analysis_csv_row(o.f, &a);
            rc = cm_outfile_commit(&o, err, sizeof err) == 0 ? 0 : CM_EXIT_IO;
        }
    }
    if (rc == 0) {
        const cm_analysis *rows[1] = {&a};
        const char *subs[1] = {""};
        if (cm_report_html(out, "ChaosMask analyze", rows, subs, 1, 0, err, sizeof err) != 0)
            rc = CM_EXIT_IO;
    }
    if (rc != 0) {
        cm_analysis_free(&a);
        cm_cli_error(cli, "%s", err);
        return rc;
    }
    if (json) {
        cm_analysis_json(stdout, &a);
    } else {
        cm_analysis_table_header(stdout);
        cm_analysis_table_row(stdout, &a);
        char nb[3][48];
        printf("Wu et al. (alpha %.2f, %zu samples, %u-bit): NPCR >= %s %%, UACI in [%s, %s] %%\n",
               CM_METRICS_ALPHA, a.width * a.height * a.channels, a.bits,
               cm_fmt_num(nb[0], 48, a.npcr_critical, 4), cm_fmt_num(nb[1], 48, a.uaci_low, 4),
               cm_fmt_num(nb[2], 48, a.uaci_high, 4));
        for (int i = 0; i < 3; i++)
            printf("  one sample changed at the %-6s (index %zu): NPCR %.4f %% %s, UACI %.4f %% %s\n",
                   a.trials[i].where, a.trials[i].index, a.trials[i].npcr,
                   a.trials[i].npcr_pass ? "pass" : "FAIL", a.trials[i].uaci,
                   a.trials[i].uaci_pass ? "pass" : "FAIL");
        if (a.mode != CM_ANALYSIS_MODE_ANALOG) {
            char why[512];
            int ok = cm_analysis_targets_pass(&a, why, sizeof why);
            printf("targets: %s (%s)\n", ok ? "PASS" : "FAIL", why);
        } else {
            printf("analog channel: max |recovered - plain| before rounding %.4g (slave 1), %.4g "
                   "(slave 2); PSNR %s / %s dB; lossless after rounding: %s\n",
                   a.analog_max_abs_error[0], a.analog_max_abs_error[1],
                   cm_fmt_num(nb[0], 48, a.analog_psnr_slave[0], 4),
                   cm_fmt_num(nb[1], 48, a.analog_psnr_slave[1], 4), a.lossless ? "yes" : "no");
        }
        printf("wrote %s/{metrics.json,metrics.csv,plain.png,cipher.png,cipher_1px.png,recovered.png,"
               "fig_*.png,report.html} in %.2f s of analysis\n", out, a.seconds);
    }
    cm_analysis_free(&a);
    return CM_EXIT_OK;
}
