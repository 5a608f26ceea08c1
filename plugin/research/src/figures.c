/* figures.c - cairo charts (see figures.h).  Ticks follow Heckbert's "nice numbers"; text is
 * cairo's toy text API in a sans-serif face, so no glyph is rasterised by hand. */
#define _POSIX_C_SOURCE 200809L
#include "chaosmask/research/figures.h"
#include "chaosmask/research/outdir.h"

#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cm_figure {
    cairo_surface_t *surface;
    cairo_t *cr;
    int width, height;
};

void cm_figure_palette(size_t i, double rgb[3])
{
    static const double pal[8][3] = {{0.12, 0.47, 0.71}, {0.84, 0.15, 0.16}, {0.17, 0.63, 0.17},
                                     {1.00, 0.50, 0.05}, {0.58, 0.40, 0.74}, {0.55, 0.34, 0.29},
                                     {0.89, 0.47, 0.76}, {0.50, 0.50, 0.50}};
    memcpy(rgb, pal[i % 8], 3 * sizeof(double));
}

cm_figure *cm_figure_new(int width, int height, const char *title)
{
    cm_figure *fig = calloc(1, sizeof *fig);
    if (fig == NULL)
        return NULL;
    fig->surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
    fig->cr = cairo_create(fig->surface);
    if (cairo_status(fig->cr) != CAIRO_STATUS_SUCCESS) {
        cm_figure_free(fig);
        return NULL;
    }
    fig->width = width;
    fig->height = height;
    cairo_set_source_rgb(fig->cr, 1, 1, 1);
    cairo_paint(fig->cr);
    cairo_select_font_face(fig->cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    if (title != NULL) {
        cairo_text_extents_t te;
        cairo_set_font_size(fig->cr, 18);
        cairo_select_font_face(fig->cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
        cairo_text_extents(fig->cr, title, &te);
        cairo_set_source_rgb(fig->cr, 0, 0, 0);
        cairo_move_to(fig->cr, (width - te.width) / 2 - te.x_bearing, 24);
        cairo_show_text(fig->cr, title);
        cairo_select_font_face(fig->cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    }
    return fig;
}

void cm_figure_free(cm_figure *fig)
{
    if (fig == NULL)
        return;
    if (fig->cr)
        cairo_destroy(fig->cr);
    if (fig->surface)
        cairo_surface_destroy(fig->surface);
    free(fig);
}

/* ---- text helpers ---- */

static void text_at(cairo_t *cr, double x, double y, const char *s, double ax, double ay)
{
    cairo_text_extents_t te;
    cairo_text_extents(cr, s, &te);
    cairo_move_to(cr, x - te.width * ax - te.x_bearing, y - te.height * ay - te.y_bearing);
    cairo_show_text(cr, s);
}

static void format_tick(char *buf, size_t n, double v, double step)
{
    if (v == 0.0) {
        snprintf(buf, n, "0");
        return;
    }
    double av = fabs(v);
    if (av >= 1e5 || av < 1e-3) {
        snprintf(buf, n, "%.3g", v);
        return;
    }
    int dec = step >= 1.0 ? 0 : (int)ceil(-log10(step) - 1e-9);
    if (dec > 6)
        dec = 6;
    snprintf(buf, n, "%.*f", dec, v);
}

/* ---- nice ticks ---- */

static double nice_num(double range, int round_it)
{
    double e = floor(log10(range)), f = range / pow(10.0, e), nf;
    if (round_it)
        nf = f < 1.5 ? 1 : (f < 3 ? 2 : (f < 7 ? 5 : 10));
    else
        nf = f <= 1 ? 1 : (f <= 2 ? 2 : (f <= 5 ? 5 : 10));
    return nf * pow(10.0, e);
}

static void nice_range(double *lo, double *hi, double *step)
{
    if (!(*hi > *lo)) {
        double c = *lo;
        *lo = c - (c == 0 ? 1 : fabs(c) * 0.1);
        *hi = c + (c == 0 ? 1 : fabs(c) * 0.1);
    }
    double range = nice_num(*hi - *lo, 0);
    *step = nice_num(range / 5.0, 1);
    *lo = floor(*lo / *step) * *step;
    *hi = ceil(*hi / *step) * *step;
}

/* ---- charts ---- */

typedef struct axes {
    double px, py, pw, ph; /* plot area in canvas coordinates */
    double x0, x1, y0, y1; /* data ranges (y in log10 when log_y) */
    int log_y;
} axes;

static double map_x(const axes *a, double x)
{
    return a->px + (x - a->x0) / (a->x1 - a->x0) * a->pw;
}

static double map_y(const axes *a, double y)
{
    double v = a->log_y ? log10(y) : y;
    return a->py + a->ph - (v - a->y0) / (a->y1 - a->y0) * a->ph;
}

static void data_ranges(const cm_chart *c, double *xmin, double *xmax, double *ymin, double *ymax)
{
    *xmin = *ymin = INFINITY;
    *xmax = *ymax = -INFINITY;
    for (size_t s = 0; s < c->nseries; s++)
        for (size_t i = 0; i < c->series[s].n; i++) {
            double x = c->series[s].x ? c->series[s].x[i] : (double)i, y = c->series[s].y[i];
            if (!isfinite(x) || !isfinite(y) || (c->log_y && y <= 0))
                continue;
            *xmin = fmin(*xmin, x);
            *xmax = fmax(*xmax, x);
            *ymin = fmin(*ymin, y);
            *ymax = fmax(*ymax, y);
        }
    if (!isfinite(*xmin)) {
        *xmin = 0;
        *xmax = 1;
        *ymin = c->log_y ? 1e-3 : 0;
        *ymax = 1;
    }
    if (c->fixed_x) {
        *xmin = c->x_min;
        *xmax = c->x_max;
    }
    if (c->fixed_y) {
        *ymin = c->y_min;
        *ymax = c->y_max;
    }
}

static void stroke_line(cairo_t *cr, double x0, double y0, double x1, double y1, double gray)
{
    cairo_set_source_rgb(cr, gray, gray, gray);
    cairo_move_to(cr, x0, y0);
    cairo_line_to(cr, x1, y1);
    cairo_stroke(cr);
}

/* A light grid line across the plot, a tick mark outside it and the tick's label. */
static void x_tick(cairo_t *cr, const axes *a, double X, const char *label)
{
    stroke_line(cr, X, a->py, X, a->py + a->ph, 0.88);
    stroke_line(cr, X, a->py + a->ph, X, a->py + a->ph + 5, 0.0);
    text_at(cr, X, a->py + a->ph + 8, label, 0.5, 0.0);
}

static void y_tick(cairo_t *cr, const axes *a, double Y, const char *label)
{
    stroke_line(cr, a->px, Y, a->px + a->pw, Y, 0.88);
    stroke_line(cr, a->px - 5, Y, a->px, Y, 0.0);
    text_at(cr, a->px - 8, Y, label, 1.0, 0.5);
}

static void draw_ticks(cairo_t *cr, const axes *a)
{
    char buf[64];
    double xs = 0, lo = a->x0, hi = a->x1;
    nice_range(&lo, &hi, &xs);
    for (double t = ceil(a->x0 / xs) * xs; t <= a->x1 + xs * 1e-9; t += xs) {
        format_tick(buf, sizeof buf, fabs(t) < xs * 1e-9 ? 0.0 : t, xs);
        x_tick(cr, a, map_x(a, t), buf);
    }
    if (a->log_y) {
        for (double e = ceil(a->y0); e <= a->y1 + 1e-9; e += 1.0) {
            snprintf(buf, sizeof buf, "1e%d", (int)e);
            y_tick(cr, a, a->py + a->ph - (e - a->y0) / (a->y1 - a->y0) * a->ph, buf);
        }
        return;
    }
    double ys = 0;
    lo = a->y0;
    hi = a->y1;
    nice_range(&lo, &hi, &ys);
    for (double t = ceil(a->y0 / ys) * ys; t <= a->y1 + ys * 1e-9; t += ys) {
        format_tick(buf, sizeof buf, fabs(t) < ys * 1e-9 ? 0.0 : t, ys);
        y_tick(cr, a, map_y(a, t), buf);
    }
}

static void draw_axes(cairo_t *cr, const axes *a, const cm_chart *c)
{
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 1.0);
    cairo_rectangle(cr, a->px, a->py, a->pw, a->ph);
    cairo_stroke(cr);
    cairo_set_font_size(cr, 11);
    draw_ticks(cr, a);
    /* labels and title */
    cairo_set_font_size(cr, 12);
    if (c->xlabel)
        text_at(cr, a->px + a->pw / 2, a->py + a->ph + 26, c->xlabel, 0.5, 0.0);
    if (c->ylabel) {
        cairo_save(cr);
        cairo_translate(cr, a->px - 58, a->py + a->ph / 2);
        cairo_rotate(cr, -1.57079632679489661923);
        text_at(cr, 0, 0, c->ylabel, 0.5, 0.5);
        cairo_restore(cr);
    }
    if (c->title) {
        cairo_set_font_size(cr, 14);
        cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
        text_at(cr, a->px + a->pw / 2, a->py - 10, c->title, 0.5, 1.0);
        cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    }
}

static void draw_series(cairo_t *cr, const axes *a, const cm_series *s)
{
    cairo_save(cr);
    cairo_rectangle(cr, a->px, a->py, a->pw, a->ph);
    cairo_clip(cr);
    cairo_set_source_rgb(cr, s->rgb[0], s->rgb[1], s->rgb[2]);
    cairo_set_line_width(cr, 1.3);
    if (s->style == CM_SERIES_DASHED) {
        double dash[2] = {6, 4};
        cairo_set_dash(cr, dash, 2, 0);
    }
    int pen = 0;
    double base = a->log_y ? a->py + a->ph : map_y(a, fmax(a->y0, 0.0));
    double barw = s->n > 1 ? a->pw / (double)s->n : 2.0;
    for (size_t i = 0; i < s->n; i++) {
        double x = s->x ? s->x[i] : (double)i, y = s->y[i];
        if (!isfinite(x) || !isfinite(y) || (a->log_y && y <= 0)) {
            pen = 0;
            continue;
        }
        double X = map_x(a, x), Y = map_y(a, y);
        switch (s->style) {
        case CM_SERIES_POINTS:
            cairo_rectangle(cr, X - 0.6, Y - 0.6, 1.2, 1.2);
            break;
        case CM_SERIES_BARS:
            cairo_rectangle(cr, X - barw / 2, Y, fmax(barw, 1.0), base - Y);
            break;
        default:
            if (pen)
                cairo_line_to(cr, X, Y);
            else
                cairo_move_to(cr, X, Y);
            pen = 1;
        }
    }
    if (s->style == CM_SERIES_POINTS || s->style == CM_SERIES_BARS)
        cairo_fill(cr);
    else
        cairo_stroke(cr);
    cairo_restore(cr);
}

static void draw_legend(cairo_t *cr, const axes *a, const cm_chart *c)
{
    size_t n = 0;
    double wmax = 0;
    cairo_set_font_size(cr, 11);
    for (size_t s = 0; s < c->nseries; s++)
        if (c->series[s].label) {
            cairo_text_extents_t te;
            cairo_text_extents(cr, c->series[s].label, &te);
            wmax = fmax(wmax, te.x_advance);
            n++;
        }
    if (n == 0)
        return;
    double bw = wmax + 40, bh = 16.0 * (double)n + 8, bx = a->px + a->pw - bw - 6, by = a->py + 6;
    cairo_set_source_rgba(cr, 1, 1, 1, 0.85);
    cairo_rectangle(cr, bx, by, bw, bh);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 0.6, 0.6, 0.6);
    cairo_set_line_width(cr, 0.8);
    cairo_stroke(cr);
    double yy = by + 12;
    for (size_t s = 0; s < c->nseries; s++) {
        const cm_series *sr = &c->series[s];
        if (!sr->label)
            continue;
        cairo_set_source_rgb(cr, sr->rgb[0], sr->rgb[1], sr->rgb[2]);
        cairo_set_line_width(cr, 2.0);
        if (sr->style == CM_SERIES_DASHED) {
            double dash[2] = {5, 3};
            cairo_set_dash(cr, dash, 2, 0);
        }
        cairo_move_to(cr, bx + 6, yy);
        cairo_line_to(cr, bx + 28, yy);
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
        cairo_set_source_rgb(cr, 0, 0, 0);
        text_at(cr, bx + 34, yy, sr->label, 0.0, 0.5);
        yy += 16;
    }
}

static int has_bars(const cm_chart *c)
{
    for (size_t s = 0; s < c->nseries; s++)
        if (c->series[s].style == CM_SERIES_BARS)
            return 1;
    return 0;
}

void cm_chart_ranges(const cm_chart *c, double *x0, double *x1, double *y0, double *y1)
{
    double ymin, ymax;
    data_ranges(c, x0, x1, &ymin, &ymax);
    if (!(*x1 > *x0)) {
        *x0 -= 0.5;
        *x1 += 0.5;
    }
    if (c->log_y) {
        *y0 = floor(log10(ymin));
        *y1 = ceil(log10(ymax));
        if (*y1 <= *y0)
            *y1 = *y0 + 1;
        return;
    }
    *y0 = ymin;
    *y1 = ymax;
    if (c->fixed_y) {
        if (!(*y1 > *y0))
            *y1 = *y0 + 1;
        return;
    }
    if (has_bars(c)) { /* a bar's length is its value: the axis starts at 0 */
        *y0 = fmin(*y0, 0.0);
        *y1 = fmax(*y1, 0.0);
    }
    double step;
    nice_range(y0, y1, &step);
}

void cm_figure_chart(cm_figure *fig, double x, double y, double w, double h, const cm_chart *c)
{
    axes a = {x + 72, y + 30, w - 90, h - 72, 0, 0, 0, 0, c->log_y};
    cm_chart_ranges(c, &a.x0, &a.x1, &a.y0, &a.y1);
    draw_axes(fig->cr, &a, c);
    for (size_t s = 0; s < c->nseries; s++)
        draw_series(fig->cr, &a, &c->series[s]);
    draw_legend(fig->cr, &a, c);
}

int cm_figure_image(cm_figure *fig, double x, double y, double w, double h, const cm_raster *img,
                    const char *caption)
{
    cairo_t *cr = fig->cr;
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)img->width, (int)img->height);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(s);
        return -1;
    }
    cairo_surface_flush(s);
    unsigned char *px = cairo_image_surface_get_data(s);
    int stride = cairo_image_surface_get_stride(s);
    cm_window win = cm_raster_window(img);
    for (size_t yy = 0; yy < img->height; yy++) {
        uint32_t *row = (uint32_t *)(void *)(px + (size_t)stride * yy);
        for (size_t xx = 0; xx < img->width; xx++) {
            size_t i = (yy * img->width + xx) * img->channels;
            uint32_t r = cm_window_level(win, cm_raster_get(img, i)), g = r, b = r;
            if (img->channels >= 3) {
                g = cm_window_level(win, cm_raster_get(img, i + 1));
                b = cm_window_level(win, cm_raster_get(img, i + 2));
            }
            row[xx] = (r << 16) | (g << 8) | b;
        }
    }
    cairo_surface_mark_dirty(s);
    double avail_h = h - 24, scale = fmin(w / (double)img->width, avail_h / (double)img->height);
    double ox = x + (w - scale * (double)img->width) / 2, oy = y;
    cairo_save(cr);
    cairo_translate(cr, ox, oy);
    cairo_scale(cr, scale, scale);
    cairo_set_source_surface(cr, s, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
    cairo_paint(cr);
    cairo_restore(cr);
    cairo_surface_destroy(s);
    if (caption) {
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_set_font_size(cr, 13);
        text_at(cr, x + w / 2, oy + scale * (double)img->height + 6, caption, 0.5, 0.0);
    }
    return 0;
}

static cairo_status_t write_to_file(void *closure, const unsigned char *data, unsigned int length)
{
    return fwrite(data, 1, length, closure) == length ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
}

int cm_figure_save(cm_figure *fig, const char *path, char *err, size_t errlen)
{
    cairo_surface_flush(fig->surface);
    cm_outfile o;
    if (cm_outfile_open(&o, path, err, errlen) != 0)
        return -1;
    cairo_status_t st = cairo_surface_write_to_png_stream(fig->surface, write_to_file, o.f);
    if (st != CAIRO_STATUS_SUCCESS) {
        cm_outfile_abort(&o);
        snprintf(err, errlen, "%s: cannot write figure: %s", path, cairo_status_to_string(st));
        return -1;
    }
    return cm_outfile_commit(&o, err, errlen);
}
