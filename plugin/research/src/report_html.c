/* report_html.c - report.html (see report.h).  Pictures are read back from the files the
 * analysis wrote and embedded with OpenSSL's EVP_EncodeBlock. */
#define _POSIX_C_SOURCE 200809L
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "chaosmask/chaosmask.h"
#include "chaosmask/research/format.h"
#include "chaosmask/research/metrics.h"
#include "chaosmask/research/report.h"
#include "chaosmask/research/table1.h"
#include "chaosmask/research/outdir.h"

static void html_escape(FILE *f, const char *s)
{
    for (; *s; s++)
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
}

/* Where a section's pictures are, and the first failure to embed one (the report is then
 * not written: a report with a hole would look complete). */
typedef struct pictures {
    const char *dir, *sub;
    int status; /* 0, or the CM_RESEARCH_E... class of the first failure */
    char *err;
    size_t errlen;
} pictures;

static void picture_failed(pictures *p, int status, const char *path, const char *why)
{
    if (p->status != 0)
        return;
    p->status = status;
    snprintf(p->err, p->errlen, "%s: cannot embed in report.html: %s", path, why);
}

/* <img> with the file's bytes as a data URI; a visible note when the file is missing. */
static void embed_png(FILE *out, pictures *p, const char *file, const char *alt, const char *css)
{
    char path[4096];
    snprintf(path, sizeof path, "%s%s%s/%s", p->dir, p->sub[0] ? "/" : "", p->sub, file);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(out, "<p class=\"missing\">(%s not found)</p>\n", file);
        return;
    }
    long len = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    rewind(f);
    unsigned char *raw = len > 0 ? malloc((size_t)len) : NULL;
    unsigned char *b64 = len > 0 ? malloc(4 * ((size_t)len / 3 + 1) + 1) : NULL;
    if (len <= 0)
        picture_failed(p, CM_RESEARCH_EIO, path, "empty or unreadable");
    else if (raw == NULL || b64 == NULL)
        picture_failed(p, CM_RESEARCH_EINTERNAL, path, "out of memory");
    else if (fread(raw, 1, (size_t)len, f) != (size_t)len)
        picture_failed(p, CM_RESEARCH_EIO, path, "read failed");
    else {
        EVP_EncodeBlock(b64, raw, (int)len);
        fprintf(out, "<img class=\"%s\" alt=\"", css);
        html_escape(out, alt);
        fprintf(out, "\" src=\"data:image/png;base64,%s\">\n", b64);
    }
    free(raw);
    free(b64);
    fclose(f);
}

static const char *pass_cell(int ok)
{
    return ok ? "<td class=\"pass\">pass</td>" : "<td class=\"fail\">fail</td>";
}

static void num_cell(FILE *f, double v, int dec)
{
    char b[64];
    fprintf(f, "<td>%s</td>", cm_fmt_num(b, sizeof b, v, dec));
}

static void triple_cell(FILE *f, const double v[3])
{
    char b[3][64];
    fprintf(f, "<td>%s / %s / %s</td>", cm_fmt_num(b[0], 64, v[0], 4), cm_fmt_num(b[1], 64, v[1], 4),
            cm_fmt_num(b[2], 64, v[2], 4));
}

/* The verdict of the three one-sample trials: a check or a cross each, or a dash each for a
 * profile exempt from NPCR/UACI, as the terminal table shows it. */
static void trials_cell(FILE *f, const cm_analysis *a)
{
    int exempt = cm_analysis_diffusion_exempt(a);
    fprintf(f, "<td%s>", exempt ? " class=\"exempt\" title=\"exempt from NPCR/UACI\"" : "");
    for (int t = 0; t < 3; t++) {
        cm_verdict n = cm_analysis_trial_verdict(a, t, 0), u = cm_analysis_trial_verdict(a, t, 1);
        fprintf(f, "%s%s", t ? " " : "",
                exempt ? "&ndash;"
                       : (n == CM_VERDICT_PASS && u == CM_VERDICT_PASS ? "&#10003;" : "&#10007;"));
    }
    fputs("</td>", f);
}

static void metrics_row(FILE *f, const cm_analysis *a)
{
    fputs("<tr><td>", f);
    html_escape(f, a->name);
    fprintf(f, "</td><td>%s</td><td>%zux%zu %s %u-bit</td>", a->mode_name, a->width, a->height,
            a->channels == 1 ? "gray" : (a->channels == 3 ? "RGB" : "RGBA"), a->bits);
    num_cell(f, a->hist_var_plain, 2);
    num_cell(f, a->hist_var_cipher, 2);
    num_cell(f, a->hist_var_recovered, 2);
    num_cell(f, a->correlation_recovered, 6);
    num_cell(f, a->npcr, 4);
    num_cell(f, a->uaci, 4);
    trials_cell(f, a);
    num_cell(f, a->psnr_recovered, 4);
    num_cell(f, a->entropy_plain, 4);
    num_cell(f, a->entropy_cipher, 4);
    num_cell(f, a->local_entropy_cipher, 4);
    int chi2_ok = cm_analysis_chi2_pass(a);
    fprintf(f, "<td class=\"%s\">%.1f (crit. %.1f) %s</td>", chi2_ok ? "pass" : "fail", a->chi2_cipher,
            a->chi2_critical, chi2_ok ? "&#10003;" : "&#10007;");
    triple_cell(f, a->adj_cipher);
    triple_cell(f, a->adj_plain);
    if (a->mode == CM_ANALYSIS_MODE_ANALOG)
        fputs("<td class=\"measured\">measured</td>", f);
    else
        fputs(pass_cell(cm_analysis_targets_pass(a, NULL, 0)), f);
    fputs("</tr>\n", f);
}

static void metrics_table(FILE *f, const cm_analysis *const *rows, size_t n)
{
    fputs("<table><tr><th>image</th><th>mode</th><th>size</th><th>hist. var. plain</th>"
          "<th>hist. var. cipher</th><th>hist. var. recovered</th><th>correlation</th>"
          "<th>NPCR % (random px)</th><th>UACI % (random px)</th><th>NPCR/UACI first, last, "
          "random</th><th>PSNR dB</th><th>entropy plain</th><th>entropy cipher</th>"
          "<th>local entropy cipher</th><th>&chi;&sup2; cipher</th><th>adj. corr. cipher H/V/D</th>"
          "<th>adj. corr. plain H/V/D</th><th>targets</th></tr>\n", f);
    for (size_t i = 0; i < n; i++)
        metrics_row(f, rows[i]);
    fputs("</table>\n", f);
}

/* The lowest and highest value of one column of Table 1. */
static void table1_range(size_t column, double *lo, double *hi)
{
    *lo = *hi = *(const double *)(const void *)((const char *)&cm_table1[0] + column);
    for (size_t i = 1; i < CM_TABLE1_ROWS; i++) {
        double v = *(const double *)(const void *)((const char *)&cm_table1[i] + column);
        *lo = v < *lo ? v : *lo;
        *hi = v > *hi ? v : *hi;
    }
}

static void table1_section(FILE *f)
{
    fputs("<h2>The paper's Table 1 (as printed)</h2>\n<table><tr><th>image</th><th>histogram "
          "standard</th><th>histogram encrypted</th><th>correlation</th><th>NPCR %</th>"
          "<th>UACI %</th><th>PSNR dB</th><th>entropy</th></tr>\n", f);
    for (size_t i = 0; i < CM_TABLE1_ROWS; i++) {
        const cm_table1_row *r = &cm_table1[i];
        fprintf(f, "<tr><td>%s</td><td>%.4f</td><td>%.4f</td><td>%.4f</td><td>%.2f</td><td>%.2f"
                   "</td><td>%.4f</td><td>%.4f</td></tr>\n", r->name, r->hist_std, r->hist_enc,
                r->corr, r->npcr, r->uaci, r->psnr, r->entropy);
    }
    double n[2], u[2], h[2], p[2], c[2];
    table1_range(offsetof(cm_table1_row, npcr), &n[0], &n[1]);
    table1_range(offsetof(cm_table1_row, uaci), &u[0], &u[1]);
    table1_range(offsetof(cm_table1_row, entropy), &h[0], &h[1]);
    table1_range(offsetof(cm_table1_row, psnr), &p[0], &p[1]);
    table1_range(offsetof(cm_table1_row, corr), &c[0], &c[1]);
    fprintf(f, "</table>\n<p class=\"note\">Targets read from it: NPCR %.2f&ndash;%.2f %%, UACI "
               "%.2f&ndash;%.2f %%, entropy %.2f&ndash;%.2f, PSNR %.2f&ndash;%.2f dB, correlation "
               "%.4f&ndash;%.4f. The paper's NPCR/UACI are most likely plain-vs-cipher figures "
               "(our columns <code>npcr_plain_cipher</code>/<code>uaci_plain_cipher</code> in "
               "metrics.csv); ours are the differential test of Wu et al.: two plaintexts one sample "
               "apart, same key and nonce.</p>\n", n[0], n[1], u[0], u[1], h[0], h[1], p[0], p[1],
            c[0], c[1]);
}

static void row_numbers(FILE *f, const cm_analysis *a)
{
    char b[4][64];
    fprintf(f, "<p>NPCR/UACI critical values (Wu et al. 2011, &alpha; = %.2f, %zu samples, F = %u): "
               "NPCR &ge; %.4f %%, UACI in [%.4f, %.4f] %%. ", CM_METRICS_ALPHA,
            a->width * a->height * a->channels, (1u << a->bits) - 1, a->npcr_critical, a->uaci_low,
            a->uaci_high);
    static const char *const word[3] = {"pass", "fail", "exempt"}; /* by cm_verdict */
    for (int t = 0; t < 3; t++)
        fprintf(f, "%s pixel (index %zu): NPCR %.4f %% (%s), UACI %.4f %% (%s). ",
                a->trials[t].where, a->trials[t].index, a->trials[t].npcr,
                word[cm_analysis_trial_verdict(a, t, 0)], a->trials[t].uaci,
                word[cm_analysis_trial_verdict(a, t, 1)]);
    if (a->mode == CM_ANALYSIS_MODE_ANALOG)
        fprintf(f, "Analog channel (&eta; = %.4g per component): max |M&#770; &minus; M| before "
                   "rounding %s (slave 1), %s (slave 2); PSNR after rounding %s / %s dB; lossless: %s.",
                a->analog_eta, cm_fmt_num(b[0], 64, a->analog_max_abs_error[0], 6),
                cm_fmt_num(b[1], 64, a->analog_max_abs_error[1], 6),
                cm_fmt_num(b[2], 64, a->analog_psnr_slave[0], 4),
                cm_fmt_num(b[3], 64, a->analog_psnr_slave[1], 4), a->lossless ? "yes" : "no");
    else
        fprintf(f, "Key sensitivity (one key bit flipped): NPCR %.4f %%, UACI %.4f %%. Lossless: %s.",
                a->key_npcr, a->key_uaci, a->lossless ? "yes" : "no");
    fputs("</p>\n", f);
}

/* The four images; deeper than 8 bits, their windowed *_display.png copies, whose caption
 * names the window. */
static void thumbnails(FILE *f, pictures *p, const cm_analysis *a)
{
    static const char *const names[4] = {"plain", "cipher", "cipher_1px", "recovered"};
    const cm_raster *imgs[4] = {&a->plain, &a->cipher, &a->cipher_1px, &a->recovered};
    fputs("<div class=\"row\">", f);
    for (int i = 0; i < 4; i++) {
        char file[64], shown[64];
        snprintf(file, sizeof file, "%s.png", names[i]);
        snprintf(shown, sizeof shown, a->bits > 8 ? "%s_display.png" : "%s.png", names[i]);
        fputs("<figure>", f);
        embed_png(f, p, shown, file, "thumb");
        if (a->bits > 8) {
            cm_window w = cm_raster_window(imgs[i]);
            fprintf(f, "<figcaption>%s<br>shown: stored values %u&ndash;%u</figcaption></figure>",
                    file, w.lo, w.hi);
        } else {
            fprintf(f, "<figcaption>%s</figcaption></figure>", file);
        }
    }
    fputs("</div>\n", f);
}

static void row_section(FILE *f, pictures *p, const cm_analysis *a, int sync_figs)
{
    fputs("<section><h3>", f);
    html_escape(f, a->name);
    fprintf(f, " &mdash; %s</h3>\n", a->mode_name);
    row_numbers(f, a);
    thumbnails(f, p, a);
    embed_png(f, p, "fig_histograms.png", "histograms", "fig");
    embed_png(f, p, "fig_adjacent.png", "adjacent pixels", "fig");
    if (sync_figs && a->mode == CM_ANALYSIS_MODE_ANALOG) {
        embed_png(f, p, "fig_phase.png", "phase portraits", "fig");
        embed_png(f, p, "fig_sync_error.png", "synchronisation error", "fig");
        embed_png(f, p, "fig_estimates.png", "parameter estimates", "fig");
    }
    fputs("</section>\n", f);
}

static void page_head(FILE *f, const char *title, int windowed)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>", f);
    html_escape(f, title);
    fputs("</title>\n<style>body{font-family:sans-serif;margin:24px;max-width:1400px}"
          "table{border-collapse:collapse;font-size:13px;margin:8px 0}td,th{border:1px solid #bbb;"
          "padding:3px 6px;text-align:right;white-space:nowrap}th{background:#eef}td:first-child{text-align:left}"
          ".pass{background:#d8f5d0}.fail{background:#f8d0d0}.measured,.exempt{background:#eee}"
          ".thumb{width:220px;image-rendering:pixelated;border:1px solid #999}.fig{max-width:100%;"
          "display:block;margin:8px 0}.row{display:flex;gap:12px;flex-wrap:wrap}figure{margin:0}"
          "figcaption{text-align:center;font-size:12px}.note{font-size:13px;color:#333}"
          "section{border-top:2px solid #ccd;margin-top:18px}</style></head><body>\n<h1>", f);
    html_escape(f, title);
    time_t now = time(NULL);
    char when[64];
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", gmtime(&now));
    fprintf(f, "</h1>\n<p class=\"note\">ChaosMask %s, generated %s. Digital profiles use a fixed "
               "demo key and nonce (cipher and cipher_1px share them); the analog channel is the "
               "paper's scheme, reported as measured. Every number below was computed from the "
               "PNG files written next to this report.%s</p>\n", CM_VERSION_STRING, when,
            windowed ? " Images deeper than 8 bits are shown from their *_display.png copies, "
                       "windowed to the lowest..highest stored value of each image; every number "
                       "is computed on the stored values." : "");
}

int cm_report_html(const char *dir, const char *title, const cm_analysis *const *rows,
                   const char *const *subdirs, size_t nrows, int with_table1, char *err,
                   size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/report.html", dir);
    cm_outfile o;
    if (cm_outfile_open(&o, path, err, errlen) != 0)
        return CM_RESEARCH_EIO;
    FILE *f = o.f;
    int windowed = 0;
    for (size_t i = 0; i < nrows; i++)
        windowed |= rows[i]->bits > 8;
    page_head(f, title, windowed);
    fputs("<h2>Measured</h2>\n<div style=\"overflow-x:auto\">", f);
    metrics_table(f, rows, nrows);
    fputs("</div>\n", f);
    if (with_table1)
        table1_section(f);
    int sync_done = 0;
    pictures p = {dir, "", 0, err, errlen};
    for (size_t i = 0; i < nrows && p.status == 0; i++) {
        int want_sync = !sync_done && rows[i]->mode == CM_ANALYSIS_MODE_ANALOG;
        p.sub = subdirs[i];
        row_section(f, &p, rows[i], want_sync);
        sync_done |= want_sync;
    }
    if (p.status != 0) {
        cm_outfile_abort(&o);
        return p.status;
    }
    fputs("</body></html>\n", f);
    return cm_outfile_commit(&o, err, errlen) == 0 ? 0 : CM_RESEARCH_EIO;
}
