/* analysis_figures.c - the files of one analysis that show it: the four images as PNG and the
 * charts (the paper's Figs. 3-5, adjacent-pixel scatter, synchronisation error, estimates). */
#include <math.h>
#include <stdio.h>

#include "chaosmask/research/analysis.h"
#include "chaosmask/research/figures.h"
#include "splitmix.h"

/* dir/NAME_display.png: img windowed to 8 bits, for viewers that would show it black. */
static int write_display(const cm_raster *img, const char *dir, const char *name, char *err,
                         size_t errlen)
{
    cm_raster shown;
    if (cm_raster_display(&shown, img) != 0) {
        snprintf(err, errlen, "%s_display.png: out of memory", name);
        return CM_RESEARCH_EINTERNAL;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/%s_display.png", dir, name);
    int rc = cm_png_write(path, &shown, err, errlen) == 0 ? 0 : CM_RESEARCH_EIO;
    cm_raster_free(&shown);
    return rc;
}

int cm_analysis_write_images(const cm_analysis *a, const char *dir, char *err, size_t errlen)
{
    const cm_raster *imgs[4] = {&a->plain, &a->cipher, &a->cipher_1px, &a->recovered};
    static const char *const names[4] = {"plain", "cipher", "cipher_1px", "recovered"};
    char path[4096];
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s.png", dir, names[i]);
        if (cm_png_write(path, imgs[i], err, errlen) != 0)
            return CM_RESEARCH_EIO;
        int rc = imgs[i]->bits > 8 ? write_display(imgs[i], dir, names[i], err, errlen) : 0;
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Saves f as dir/name and frees it; f may be NULL (the canvas could not be made). */
static int save_figure(cm_figure *f, const char *dir, const char *name, char *err, size_t errlen)
{
    if (f == NULL) {
        snprintf(err, errlen, "%s: out of memory", name);
        return -1;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int rc = cm_figure_save(f, path, err, errlen);
    cm_figure_free(f);
    return rc;
}

static int fig_images(const cm_analysis *a, const char *dir, char *err, size_t errlen)
{
    char title[256];
    snprintf(title, sizeof title, "%s - %s: plain, cipher, recovered (Fig. 4)", a->name, a->mode_name);
    cm_figure *f = cm_figure_new(1200, 460, title);
    if (f != NULL && (cm_figure_image(f, 10, 40, 390, 410, &a->plain, "plain") != 0 ||
                      cm_figure_image(f, 405, 40, 390, 410, &a->cipher, "cipher") != 0 ||
                      cm_figure_image(f, 800, 40, 390, 410, &a->recovered, "recovered") != 0)) {
        cm_figure_free(f);
        f = NULL; /* reported as out of memory */
    }
    return save_figure(f, dir, "fig_images.png", err, errlen);
}

static int fig_histograms(const cm_analysis *a, const char *dir, char *err, size_t errlen)
{
    char title[256];
    snprintf(title, sizeof title, "%s - %s: histograms (Fig. 5)", a->name, a->mode_name);
    cm_figure *f = cm_figure_new(1200, 400, title);
    static const char *const what[3] = {"plain", "cipher", "recovered"};
    const char *xl = a->bits == 8 ? "gray level" : "stored value";
    for (int i = 0; i < 3 && f != NULL && a->hist_bins[i] > 0; i++) {
        /* bin b starts at this stored value (the level itself for 8 bits) */
        double x[256], width = (double)a->hist_window[i].hi - a->hist_window[i].lo + 1;
        size_t nb = a->hist_bins[i];
        for (size_t b = 0; b < nb; b++)
            x[b] = a->hist_window[i].lo + (double)b * width / (double)nb;
        cm_series s = {x, a->hist_plot[i], nb, NULL, {0}, CM_SERIES_BARS};
        cm_figure_palette((size_t)i, s.rgb);
        cm_chart c = {what[i], xl, "count", 0, 1, 0, x[0], x[nb - 1], 0, 0, &s, 1};
        cm_figure_chart(f, 400.0 * i, 40, 400, 350, &c);
    }
    return save_figure(f, dir, "fig_histograms.png", err, errlen);
}

static int fig_adjacent(const cm_analysis *a, const char *dir, char *err, size_t errlen)
{
    enum { NPAIRS = 3000 };
    static double px[2][NPAIRS], py[2][NPAIRS];
    uint64_t seed = 99;
    const cm_raster *img[2] = {&a->plain, &a->cipher};
    cm_window win[2] = {cm_raster_window(&a->plain), cm_raster_window(&a->cipher)};
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < NPAIRS; i++) {
            size_t x = (size_t)(cm_splitmix64(&seed) % (a->width - 1));
            size_t y = (size_t)(cm_splitmix64(&seed) % a->height);
            size_t idx = (y * a->width + x) * a->channels;
            px[k][i] = cm_raster_get(img[k], idx);
            py[k][i] = cm_raster_get(img[k], idx + a->channels);
        }
    char title[256], t0[96], t1[96];
    snprintf(title, sizeof title, "%s - %s: horizontally adjacent pixels", a->name, a->mode_name);
    snprintf(t0, sizeof t0, "plain (r = %.4f)", a->adj_plain[0]);
    snprintf(t1, sizeof t1, "cipher (r = %.4f)", a->adj_cipher[0]);
    cm_figure *f = cm_figure_new(900, 440, title);
    const char *ttl[2] = {t0, t1};
    for (int k = 0; k < 2 && f != NULL; k++) {
        cm_series s = {px[k], py[k], NPAIRS, NULL, {0}, CM_SERIES_POINTS};
        cm_figure_palette((size_t)k, s.rgb);
        double lo = win[k].lo, hi = win[k].hi; /* stored values, over the display window */
        cm_chart c = {ttl[k], "pixel (x, y)", "pixel (x + 1, y)", 0, 1, 1, lo, hi, lo, hi, &s, 1};
        cm_figure_chart(f, 450.0 * k, 40, 450, 390, &c);
    }
    return save_figure(f, dir, "fig_adjacent.png", err, errlen);
}

/* Phase portraits of the master (the paper's Fig. 3). */
static int fig_phase(const cm_analog_trace *tr, const char *dir, char *err, size_t errlen)
{
    cm_figure *f = cm_figure_new(1200, 420, "Lorenz master: phase portraits (Fig. 3)");
    static const int pairs[3][2] = {{0, 1}, {0, 2}, {1, 2}};
    static const char *const names[3] = {"z1", "z2", "z3"};
    for (int p = 0; p < 3 && f != NULL; p++) {
        char t[32];
        snprintf(t, sizeof t, "%s - %s", names[pairs[p][0]], names[pairs[p][1]]);
        cm_series s = {tr->z[pairs[p][0]], tr->z[pairs[p][1]], tr->n, NULL, {0}, CM_SERIES_LINE};
        cm_figure_palette((size_t)p, s.rgb);
        cm_chart c = {t, names[pairs[p][0]], names[pairs[p][1]], 0, 0, 0, 0, 0, 0, 0, &s, 1};
        cm_figure_chart(f, 400.0 * p, 30, 400, 380, &c);
    }
    return save_figure(f, dir, "fig_phase.png", err, errlen);
}

static int fig_sync_error(const cm_analog_trace *tr, const char *dir, char *err, size_t errlen)
{
    cm_figure *f = cm_figure_new(900, 420, NULL);
    cm_series es[2] = {{tr->t, tr->err[0], tr->n, "slave 1 (tau = 0.05 s)", {0}, CM_SERIES_LINE},
                       {tr->t, tr->err[1], tr->n, "slave 2 (tau = 0.1 s)", {0}, CM_SERIES_LINE}};
    cm_figure_palette(0, es[0].rgb);
    cm_figure_palette(1, es[1].rgb);
    cm_chart ec = {"Synchronisation error ||y_i(t) - z(t - tau_i)||", "t (s)", "error norm", 1,
                   0, 0, 0, 0, 0, 0, es, 2};
    if (f != NULL)
        cm_figure_chart(f, 0, 0, 900, 420, &ec);
    return save_figure(f, dir, "fig_sync_error.png", err, errlen);
}

/* Parameter estimates of both slaves against their true values (dashed). */
static int fig_estimates(const cm_analog_trace *tr, const char *dir, char *err, size_t errlen)
{
    cm_figure *f = cm_figure_new(1200, 420, "Adaptive estimates (dashed: the slaves' true parameters)");
    static const char *const pn[3] = {"sigma", "rho", "beta"};
    double flat[2][3][2], tx[2] = {tr->t[0], tr->t[tr->n - 1]};
    for (int k = 0; k < 3 && f != NULL; k++) {
        cm_series s[4];
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
    return save_figure(f, dir, "fig_estimates.png", err, errlen);
}

int cm_analysis_write_figures(const cm_analysis *a, const char *dir, char *err, size_t errlen)
{
    if (fig_images(a, dir, err, errlen) != 0 || fig_histograms(a, dir, err, errlen) != 0 ||
        fig_adjacent(a, dir, err, errlen) != 0)
        return CM_RESEARCH_EIO;
    const cm_analog_trace *tr = a->trace;
    if (tr != NULL && tr->n > 1 &&
        (fig_phase(tr, dir, err, errlen) != 0 || fig_sync_error(tr, dir, err, errlen) != 0 ||
         fig_estimates(tr, dir, err, errlen) != 0))
        return CM_RESEARCH_EIO;
    return 0;
}
