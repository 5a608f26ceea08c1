/* test_figures.c - the axis ranges of the charts: a bar chart (the histograms) always has 0 in
 * its y range, so a flat cipher histogram looks flat; line and scatter charts keep the range
 * of their data; fixed ranges are kept as given. */
#include <math.h>
#include <stdio.h>

#include "chaosmask/research/figures.h"
#include "../check.h"

static double counts[256];

static void ranges(cm_series_style style, int fixed_y, double *y0, double *y1)
{
    cm_series s = {NULL, counts, 256, NULL, {0}, style};
    cm_chart c = {"t", "x", "y", 0, 1, fixed_y, 0, 255, 500, 1200, &s, 1};
    double x0, x1;
    cm_chart_ranges(&c, &x0, &x1, y0, y1);
    CHECK(x0 == 0 && x1 == 255); /* fixed x: as given */
}

int main(void)
{
    /* a cipher histogram: every count between 950 and 1100 */
    for (int v = 0; v < 256; v++)
        counts[v] = 950 + (v * 37) % 151;
    double y0, y1;
    ranges(CM_SERIES_BARS, 0, &y0, &y1);
    printf("bars, counts 950..1100: y axis %g .. %g\n", y0, y1);
    CHECK(y0 == 0.0);
    CHECK(y1 >= 1100.0);

    ranges(CM_SERIES_LINE, 0, &y0, &y1);
    printf("line, same data: y axis %g .. %g\n", y0, y1);
    CHECK(y0 > 0.0 && y0 <= 950.0);
    CHECK(y1 >= 1100.0);

    ranges(CM_SERIES_BARS, 1, &y0, &y1);
    printf("bars, fixed y 500..1200: y axis %g .. %g\n", y0, y1);
    CHECK(y0 == 500.0 && y1 == 1200.0);

    /* bars below zero reach up to the zero line */
    for (int v = 0; v < 256; v++)
        counts[v] = -10.0 - v;
    ranges(CM_SERIES_BARS, 0, &y0, &y1);
    printf("bars, -265..-10: y axis %g .. %g\n", y0, y1);
    CHECK(y1 == 0.0 && y0 <= -265.0);
    printf("all figure checks passed\n");
    return 0;
}
