/* figures.h - the charts of `chaosmask analyze` / `chaosmask paper`, drawn with cairo: line and
 * scatter charts with axes, tick labels, titles and legends (cairo's text API), bar
 * histograms, and image panels.  A figure is a canvas holding several panels; it is saved as
 * PNG through cairo (libpng underneath). */
#ifndef CHAOSMASK_RESEARCH_FIGURES_H
#define CHAOSMASK_RESEARCH_FIGURES_H

#include <stddef.h>

#include "chaosmask/research/image.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { CM_SERIES_LINE = 0, CM_SERIES_DASHED = 1, CM_SERIES_POINTS = 2, CM_SERIES_BARS = 3 } cm_series_style;

typedef struct cm_series {
    const double *x, *y; /* n points; x may be NULL (then x = 0, 1, 2, ...) */
    size_t n;
    const char *label;   /* legend text, NULL for none */
    double rgb[3];       /* colour, components in [0, 1] */
    cm_series_style style;
} cm_series;

typedef struct cm_chart {
    const char *title, *xlabel, *ylabel;
    int log_y;                   /* logarithmic y axis (values <= 0 are skipped) */
    int fixed_x, fixed_y;        /* use the ranges below instead of the data's */
    double x_min, x_max, y_min, y_max;
    const cm_series *series;
    size_t nseries;
} cm_chart;

typedef struct cm_figure cm_figure;

/* A white canvas of width x height pixels with an optional title on top; NULL on failure. */
cm_figure *cm_figure_new(int width, int height, const char *title);
void cm_figure_free(cm_figure *fig);
/* The axis ranges a chart is drawn with: the data's (or the fixed) ranges, widened to nice
 * tick values unless fixed.  A chart with bars has 0 inside its y range, because a bar's
 * length is its value: an axis starting near the smallest bar would make a 1 % ripple of a
 * flat cipher histogram look like a forest.  With log_y, y0 and y1 are decimal exponents. */
void cm_chart_ranges(const cm_chart *c, double *x0, double *x1, double *y0, double *y1);
/* Draws a chart into the panel (x, y, w, h) of the canvas. */
void cm_figure_chart(cm_figure *fig, double x, double y, double w, double h, const cm_chart *chart);
/* Draws an image (gray or RGB(A), through its display window: cm_raster_window) scaled into
 * the panel with a caption underneath.  0, or -1 when out of memory (nothing drawn). */
int cm_figure_image(cm_figure *fig, double x, double y, double w, double h, const cm_raster *img,
                    const char *caption);
/* Saves the canvas as PNG; 0, or -1 with a message in err. */
int cm_figure_save(cm_figure *fig, const char *path, char *err, size_t errlen);

/* A palette for up to 8 series. */
void cm_figure_palette(size_t i, double rgb[3]);

#ifdef __cplusplus
}
#endif
#endif
