/* image_png.c - rasters and their PNG files through libpng (never a hand-written encoder).
 * libpng reports errors by longjmp; every libpng call sits behind one setjmp per function,
 * and the message of the failing call is kept for the caller. */
#define _POSIX_C_SOURCE 200809L
#include "chaosmask/research/image.h"
#include "chaosmask/research/outdir.h"

#include <png.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cm_raster_alloc(cm_raster *r, size_t width, size_t height, unsigned channels, unsigned bits)
{
    memset(r, 0, sizeof *r);
    if (width == 0 || height == 0 || width > CM_RASTER_MAX_SIDE || height > CM_RASTER_MAX_SIDE ||
        width * height * channels > CM_RASTER_MAX_SAMPLES)
        return -1;
    if ((channels != 1 && channels != 3 && channels != 4) || (bits != 8 && bits != 16))
        return -1;
    size_t bytes = width * height * channels * (bits / 8u);
    r->data = calloc(bytes, 1);
    if (r->data == NULL)
        return -1;
    r->width = width;
    r->height = height;
    r->channels = channels;
    r->bits = bits;
    return 0;
}

void cm_raster_free(cm_raster *r)
{
    free(r->data);
    memset(r, 0, sizeof *r);
}

size_t cm_raster_bytes(const cm_raster *r)
{
    return r->width * r->height * r->channels * (r->bits / 8u);
}

cm_image cm_raster_view(const cm_raster *r)
{
    cm_image v = {r->data, r->width, r->height, r->channels, r->bits};
    return v;
}

unsigned cm_raster_get(const cm_raster *r, size_t i)
{
    cm_image v = cm_raster_view(r);
    return cm_image_sample(&v, i);
}

void cm_raster_set(cm_raster *r, size_t i, unsigned v)
{
    if (r->bits == 8) {
        r->data[i] = (uint8_t)v;
        return;
    }
    r->data[2 * i] = (uint8_t)(v & 0xffu);
    r->data[2 * i + 1] = (uint8_t)(v >> 8);
}

/* ---- libpng error plumbing ---- */

typedef struct png_errctx {
    char msg[256];
} png_errctx;

static void png_error_cb(png_structp png, png_const_charp msg)
{
    png_errctx *ctx = png_get_error_ptr(png);
    snprintf(ctx->msg, sizeof ctx->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void png_warning_cb(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg; /* warnings (e.g. a known-incorrect sRGB profile) do not stop a read */
}

static int color_type_of(unsigned channels)
{
    switch (channels) {
    case 1: return PNG_COLOR_TYPE_GRAY;
    case 3: return PNG_COLOR_TYPE_RGB;
    case 4: return PNG_COLOR_TYPE_RGBA;
    default: return -1;
    }
}

/* The info struct of a new read or write struct, with the size limits every PNG we touch
 * obeys (a larger header is refused before anything is allocated).  NULL when png is NULL or
 * out of memory. */
static png_infop prepare(png_structp png)
{
    if (png == NULL)
        return NULL;
    png_set_user_limits(png, CM_RASTER_MAX_SIDE, CM_RASTER_MAX_SIDE);
    return png_create_info_struct(png);
}

/* libpng's row pointers into r's samples; png_error (longjmp to the caller's setjmp) when out
 * of memory. */
static png_bytep *row_pointers(png_structp png, const cm_raster *r)
{
    size_t stride = r->width * r->channels * (r->bits / 8u);
    png_bytep *rows = malloc(r->height * sizeof *rows);
    if (rows == NULL)
        png_error(png, "out of memory");
    for (size_t y = 0; y < r->height; y++)
        rows[y] = r->data + y * stride;
    return rows;
}

/* ---- reading ---- */

static int read_png_stream(cm_raster *r, FILE *fp, png_errctx *ectx, char *err, size_t errlen,
                           const char *path)
{
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, ectx, png_error_cb,
                                             png_warning_cb);
    png_infop info = prepare(png);
    png_bytep *volatile rows = NULL;
    if (png == NULL || info == NULL) {
        png_destroy_read_struct(&png, &info, NULL);
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        free(rows);
        cm_raster_free(r);
        snprintf(err, errlen, "%s: not a valid PNG: %s", path,
                 strcmp(ectx->msg, "Read Error") == 0 ? "file truncated (read past its end)"
                                                      : ectx->msg);
        return -1;
    }
    png_init_io(png, fp);
    png_read_info(png, info);
    int ctype = png_get_color_type(png, info), depth = png_get_bit_depth(png, info);
    if (ctype == PNG_COLOR_TYPE_GRAY_ALPHA) {
        png_destroy_read_struct(&png, &info, NULL);
        snprintf(err, errlen, "%s: gray+alpha PNG is not supported (use gray, RGB or RGBA)", path);
        return -1;
    }
    if (ctype == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(png);
    if (ctype == PNG_COLOR_TYPE_GRAY && depth < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS))
        png_set_tRNS_to_alpha(png);
    if (depth == 16)
        png_set_swap(png); /* our 16-bit samples are little-endian */
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    unsigned channels = png_get_channels(png, info), bits = png_get_bit_depth(png, info);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    if ((channels != 1 && channels != 3 && channels != 4) || (bits != 8 && bits != 16)) {
        png_destroy_read_struct(&png, &info, NULL);
        snprintf(err, errlen, "%s: unsupported PNG layout (%u channels, %u bits)", path, channels,
                 bits);
        return -1;
    }
    if (cm_raster_alloc(r, w, h, channels, bits) != 0) {
        png_destroy_read_struct(&png, &info, NULL);
        snprintf(err, errlen, "%s: image too large (%lu x %lu) or out of memory", path,
                 (unsigned long)w, (unsigned long)h);
        return -1;
    }
    size_t stride = r->width * channels * (bits / 8u);
    if (png_get_rowbytes(png, info) != stride)
        png_error(png, "unexpected row size");
    rows = row_pointers(png, r);
    png_read_image(png, rows);
    png_read_end(png, NULL);
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    return 0;
}

int cm_png_read(cm_raster *r, const char *path, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    uint8_t sig[8];
    if (fread(sig, 1, sizeof sig, fp) != sizeof sig || png_sig_cmp(sig, 0, sizeof sig) != 0) {
        fclose(fp);
        snprintf(err, errlen, "%s: not a PNG file (bad signature)", path);
        return -1;
    }
    rewind(fp);
    png_errctx ectx = {{0}};
    int rc = read_png_stream(r, fp, &ectx, err, errlen, path);
    fclose(fp);
    return rc;
}

/* ---- writing ---- */

typedef struct membuf {
    uint8_t *data;
    size_t len, cap;
    int failed;
} membuf;

static void membuf_write(png_structp png, png_bytep data, png_size_t len)
{
    membuf *mb = png_get_io_ptr(png);
    if (mb->failed)
        return;
    if (mb->len + len > mb->cap) {
        size_t cap = mb->cap ? mb->cap : 65536;
        while (cap < mb->len + len)
            cap *= 2;
        uint8_t *p = realloc(mb->data, cap);
        if (p == NULL) {
            mb->failed = 1;
            png_error(png, "out of memory");
        }
        mb->data = p;
        mb->cap = cap;
    }
    memcpy(mb->data + mb->len, data, len);
    mb->len += len;
}

static void membuf_flush(png_structp png)
{
    (void)png;
}

int cm_png_encode(uint8_t **out, size_t *outlen, const cm_raster *r, char *err, size_t errlen)
{
    *out = NULL;
    *outlen = 0;
    int ctype = color_type_of(r->channels);
    if (r->data == NULL || ctype < 0 || (r->bits != 8 && r->bits != 16)) {
        snprintf(err, errlen, "cannot encode a raster of %u channels, %u bits", r->channels, r->bits);
        return -1;
    }
    png_errctx ectx = {{0}};
    membuf mb = {NULL, 0, 0, 0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &ectx, png_error_cb,
                                              png_warning_cb);
    png_infop info = prepare(png);
    png_bytep *volatile rows = NULL;
    if (png == NULL || info == NULL) {
        png_destroy_write_struct(&png, &info);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        free(rows);
        free(mb.data);
        snprintf(err, errlen, "PNG encoding failed: %s", ectx.msg);
        return -1;
    }
    png_set_write_fn(png, &mb, membuf_write, membuf_flush);
    png_set_IHDR(png, info, (png_uint_32)r->width, (png_uint_32)r->height, (int)r->bits, ctype,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_compression_level(png, 6);
    png_write_info(png, info);
    if (r->bits == 16)
        png_set_swap(png);
    rows = row_pointers(png, r);
    png_write_image(png, rows);
    png_write_end(png, NULL);
    free(rows);
    png_destroy_write_struct(&png, &info);
    *out = mb.data;
    *outlen = mb.len;
    return 0;
}

int cm_png_write(const char *path, const cm_raster *r, char *err, size_t errlen)
{
    uint8_t *buf;
    size_t len;
    if (cm_png_encode(&buf, &len, r, err, errlen) != 0)
        return -1;
    cm_outfile o;
    if (cm_outfile_open(&o, path, err, errlen) != 0) {
        free(buf);
        return -1;
    }
    int ok = fwrite(buf, 1, len, o.f) == len;
    free(buf);
    if (!ok) {
        cm_outfile_abort(&o);
        snprintf(err, errlen, "%s: write failed: %s", path, strerror(errno));
        return -1;
    }
    if (cm_outfile_commit(&o, err, errlen) != 0)
        return -1;
    return 0;
}
