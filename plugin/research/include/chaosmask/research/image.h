/* image.h - the pixel rasters of `chaosmask analyze` and `chaosmask paper`, and their PNG files
 * (libpng).  A raster owns its samples in the layout of metrics.h's cm_image view: row-major,
 * channels interleaved, 16-bit samples little-endian. */
#ifndef CHAOSMASK_RESEARCH_IMAGE_H
#define CHAOSMASK_RESEARCH_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "chaosmask/research/metrics.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cm_raster {
    uint8_t *data;
    size_t width, height;
    unsigned channels; /* 1 gray, 3 RGB, 4 RGBA */
    unsigned bits;     /* 8 or 16 */
} cm_raster;

#define CM_RASTER_MAX_SIDE 16384u
/* At most 64 Mi samples (a 4096 x 4096 RGBA image): analysis keeps several copies, so a small
 * compressed file that claims a huge size is refused before anything is allocated. */
#define CM_RASTER_MAX_SAMPLES ((size_t)64 << 20)

/* Allocates a zeroed raster; 0 on success, -1 on a bad shape or out of memory. */
int cm_raster_alloc(cm_raster *r, size_t width, size_t height, unsigned channels, unsigned bits);
void cm_raster_free(cm_raster *r);
size_t cm_raster_bytes(const cm_raster *r);
cm_image cm_raster_view(const cm_raster *r);
/* Sample access (index in storage order). */
unsigned cm_raster_get(const cm_raster *r, size_t i);
void cm_raster_set(cm_raster *r, size_t i, unsigned v);

/* ---- display ---- */

/* The stored values shown black (lo) and white (hi).  An 8-bit image is shown as stored
 * (0..255).  A deeper one is windowed to the min..max of its stored samples, all channels
 * pooled: a 12-bit MR or CT in a 16-bit container uses 0..4095 of 0..65535 and would look
 * black, a signed one offset to unsigned a flat grey.  The min..max window needs nothing but
 * the samples (PNG input carries no DICOM Window Center/Width).  Display only: every statistic
 * is computed on the stored values. */
typedef struct cm_window {
    unsigned lo, hi;
} cm_window;

cm_window cm_raster_window(const cm_raster *r);
/* v through the window: 0 at or below lo, 255 at or above hi, linear and rounded between
 * (a window of one value shows it black). */
unsigned cm_window_level(cm_window w, unsigned v);
/* out = r as shown: an 8-bit raster of r's size and channels, each sample through r's
 * window.  0, or -1 when out of memory (out is then empty). */
int cm_raster_display(cm_raster *out, const cm_raster *r);

/* Reads a PNG: gray and RGB(A) of 8 or 16 bits; palette images become RGB(A), gray below 8
 * bits becomes 8-bit.  Gray+alpha is refused.  On failure returns -1 with a message naming
 * the file in err (errlen bytes) and leaves r empty. */
int cm_png_read(cm_raster *r, const char *path, char *err, size_t errlen);
/* Writes r as a PNG of its own format; -1 with a message on failure (no partial file left). */
int cm_png_write(const char *path, const cm_raster *r, char *err, size_t errlen);
/* Encodes r as PNG into a malloc'd buffer (*out, *outlen), for data URIs; -1 on failure. */
int cm_png_encode(uint8_t **out, size_t *outlen, const cm_raster *r, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
