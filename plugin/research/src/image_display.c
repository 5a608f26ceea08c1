/* image_display.c - rasters as they are shown: windowed to 8 bits (see image.h). */
#include "chaosmask/research/image.h"

cm_window cm_raster_window(const cm_raster *r)
{
    cm_window w = {0, 255};
    if (r->bits == 8 || r->data == NULL)
        return w;
    size_t n = r->width * r->height * r->channels;
    w.lo = 0xffffu;
    w.hi = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned v = cm_raster_get(r, i);
        w.lo = v < w.lo ? v : w.lo;
        w.hi = v > w.hi ? v : w.hi;
    }
    return w;
}

unsigned cm_window_level(cm_window w, unsigned v)
{
    if (v <= w.lo)
        return 0;
    if (v >= w.hi)
        return 255;
    uint64_t span = w.hi - w.lo;
    return (unsigned)(((uint64_t)(v - w.lo) * 255u + span / 2) / span);
}

int cm_raster_display(cm_raster *out, const cm_raster *r)
{
    if (cm_raster_alloc(out, r->width, r->height, r->channels, 8) != 0)
        return -1;
    cm_window w = cm_raster_window(r);
    size_t n = r->width * r->height * r->channels;
    for (size_t i = 0; i < n; i++)
        out->data[i] = (uint8_t)cm_window_level(w, cm_raster_get(r, i));
    return 0;
}
