/* test_display.c - images deeper than 8 bits are windowed for display, never for the numbers.
 * A 12-bit image (a Shepp-Logan slice, stored values 0..4095 in 16-bit samples) looks black
 * when a viewer maps 16 bits to 8 (its brightest sample is 16 of 255).  Checked here: its
 * display raster, the plain_display.png that an analysis writes and the plain panel of
 * fig_images.png are bright (mean and percentiles of the pixels read back), 8-bit images are
 * shown exactly as stored, the histogram plot spans the stored range, and the statistics are
 * those of the stored values.
 * usage: test_display WORKDIR */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chaosmask/chaosmask.h"
#include "chaosmask/research/analysis.h"
#include "chaosmask/research/figures.h"
#include "chaosmask/research/metrics.h"
#include "chaosmask/research/phantoms.h"
#include "../check.h"

#define SIDE 64u

typedef struct brightness {
    double mean;
    unsigned p50, p99, max;
} brightness;

/* Mean and percentiles of 8-bit samples (every channel). */
static brightness measure(const uint8_t *px, size_t n)
{
    size_t count[256] = {0};
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        count[px[i]]++;
        sum += px[i];
    }
    brightness b = {sum / (double)n, 0, 0, 0};
    size_t seen = 0;
    for (unsigned v = 0; v < 256; v++) {
        if (count[v] == 0)
            continue;
        if (seen < n / 2 && seen + count[v] >= n / 2)
            b.p50 = v;
        if (seen < n * 99 / 100 && seen + count[v] >= n * 99 / 100)
            b.p99 = v;
        seen += count[v];
        b.max = v;
    }
    return b;
}

static void twelve_bit_slice(cm_raster *r)
{
    CHECK_EQ_INT(cm_phantom_make(r, CM_PHANTOM_SHEPP_LOGAN, SIDE, 16), 0);
    for (size_t i = 0; i < SIDE * SIDE; i++)
        cm_raster_set(r, i, cm_raster_get(r, i) >> 4);
}

static void check_window(const cm_raster *r12)
{
    cm_window w = cm_raster_window(r12);
    printf("12-bit slice: stored values %u..%u\n", w.lo, w.hi);
    CHECK(w.lo == 0 && w.hi == 4095);
    CHECK_EQ_INT(cm_window_level(w, 0), 0);
    CHECK_EQ_INT(cm_window_level(w, 4095), 255);
    CHECK_EQ_INT(cm_window_level(w, 2048), 128);

    cm_raster r8;
    CHECK_EQ_INT(cm_raster_alloc(&r8, 16, 16, 1, 8), 0);
    for (size_t i = 0; i < 256; i++)
        cm_raster_set(&r8, i, (unsigned)(i % 200) + 20);
    w = cm_raster_window(&r8);
    CHECK(w.lo == 0 && w.hi == 255); /* 8 bits: as stored, not stretched */
    cm_raster shown;
    CHECK_EQ_INT(cm_raster_display(&shown, &r8), 0);
    CHECK(memcmp(shown.data, r8.data, 256) == 0);
    cm_raster_free(&shown);
    cm_raster_free(&r8);

    CHECK_EQ_INT(cm_raster_display(&shown, r12), 0);
    brightness raw = {0, 0, 0, 0}, disp = measure(shown.data, SIDE * SIDE);
    for (size_t i = 0; i < SIDE * SIDE; i++) /* what a 16-to-8-bit viewer shows */
        raw.max = cm_raster_get(r12, i) >> 8 > raw.max ? cm_raster_get(r12, i) >> 8 : raw.max;
    printf("display raster: mean %.1f, median %u, 99th percentile %u, max %u (a 16-bit viewer: max %u)\n",
           disp.mean, disp.p50, disp.p99, disp.max, raw.max);
    CHECK(raw.max <= 16);
    CHECK(disp.mean > 25.0 && disp.p99 >= 250 && disp.max == 255);
    cm_raster_free(&shown);
}

static void read_png(cm_raster *r, const char *dir, const char *name)
{
    char path[4096], err[512] = "";
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int rc = cm_png_read(r, path, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "%s\n", err);
    CHECK_EQ_INT(rc, 0);
}

/* An analysis of the 12-bit slice writes a bright plain_display.png and fig_images.png, while
 * plain.png and every number keep the stored values. */
static void check_analysis(const cm_raster *r12, const char *dir)
{
    cm_analysis a;
    char err[512];
    CHECK_EQ_INT(cm_analysis_run(&a, r12, "12-bit", CM_PROFILE_LORENZ, err, sizeof err), 0);
    CHECK_EQ_INT(cm_analysis_write_images(&a, dir, err, sizeof err), 0);
    CHECK_EQ_INT(cm_analysis_write_figures(&a, dir, err, sizeof err), 0);
    uint64_t *hist = calloc(65536, sizeof *hist);
    CHECK(hist != NULL);
    cm_image P = cm_raster_view(r12);
    CHECK(fabs(cm_entropy(hist, &P) - a.entropy_plain) < 1e-12); /* stored values */
    free(hist);
    CHECK(a.hist_window[0].lo == 0 && a.hist_window[0].hi == 4095 && a.hist_bins[0] == 256);
    double total = 0;
    for (size_t b = 0; b < 256; b++)
        total += a.hist_plot[0][b];
    CHECK(total == SIDE * SIDE);
    CHECK(a.hist_plot[0][255] > 0); /* the skull: the plot spans the stored range */

    cm_raster raw, shown, fig;
    read_png(&raw, dir, "plain.png");
    CHECK(raw.bits == 16 && memcmp(raw.data, r12->data, cm_raster_bytes(r12)) == 0);
    read_png(&shown, dir, "plain_display.png");
    CHECK(shown.bits == 8 && shown.width == SIDE);
    brightness d = measure(shown.data, SIDE * SIDE);
    printf("plain_display.png: mean %.1f, median %u, 99th percentile %u\n", d.mean, d.p50, d.p99);
    CHECK(d.mean > 25.0 && d.p99 >= 250);
    /* fig_images.png: the plain panel covers x 12..398, y 40..426 (64 pixels scaled to 386) */
    read_png(&fig, dir, "fig_images.png");
    CHECK(fig.channels == 3 && fig.bits == 8);
    size_t n = 0;
    uint8_t *panel = malloc(300 * 300 * 3);
    CHECK(panel != NULL);
    for (size_t y = 80; y < 380; y++)
        for (size_t x = 40; x < 340; x++)
            memcpy(panel + 3 * n++, fig.data + 3 * (y * fig.width + x), 3);
    brightness p = measure(panel, 3 * n);
    printf("fig_images.png plain panel: mean %.1f, median %u, 99th percentile %u\n", p.mean, p.p50, p.p99);
    CHECK(p.mean > 25.0 && p.p99 >= 250);
    free(panel);
    cm_raster_free(&raw);
    cm_raster_free(&shown);
    cm_raster_free(&fig);
    cm_analysis_free(&a);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_display WORKDIR\n");
        return 2;
    }
    cm_raster r12;
    twelve_bit_slice(&r12);
    check_window(&r12);
    check_analysis(&r12, argv[1]);
    cm_raster_free(&r12);
    printf("all display checks passed\n");
    return 0;
}
