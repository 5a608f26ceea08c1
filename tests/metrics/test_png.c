/* test_png.c - PNG round trip for every supported format (gray, RGB, RGBA at 8 and 16 bits),
 * palette input, and clear errors for a missing file, a non-PNG, a truncated PNG and the
 * unsupported gray+alpha format. */
#define _POSIX_C_SOURCE 200809L
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chaosmask/research/image.h"
#include "../check.h"

static const char *dir;
static char err[512];

static void path_of(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", dir, name);
}

static void roundtrip(unsigned channels, unsigned bits)
{
    cm_raster a, b;
    CHECK_EQ_INT(cm_raster_alloc(&a, 37, 23, channels, bits), 0);
    uint32_t s = 12345u + channels * 100u + bits;
    for (size_t i = 0; i < cm_raster_bytes(&a); i++) {
        s = s * 1103515245u + 12345u;
        a.data[i] = (uint8_t)(s >> 16);
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/rt_%u_%u.png", dir, channels, bits);
    CHECK_EQ_INT(cm_png_write(path, &a, err, sizeof err), 0);
    CHECK_EQ_INT(cm_png_read(&b, path, err, sizeof err), 0);
    CHECK_EQ_INT(b.width, 37);
    CHECK_EQ_INT(b.height, 23);
    CHECK_EQ_INT(b.channels, channels);
    CHECK_EQ_INT(b.bits, bits);
    CHECK(memcmp(a.data, b.data, cm_raster_bytes(&a)) == 0);
    if (bits == 16) /* sample accessor agrees with the little-endian layout */
        CHECK_EQ_INT(cm_raster_get(&b, 3), a.data[6] | (a.data[7] << 8));
    printf("round trip %u channel(s), %u bits: identical\n", channels, bits);
    cm_raster_free(&a);
    cm_raster_free(&b);
}

/* Writes a small PNG with libpng directly, in a format we may not write ourselves. */
static void write_raw_png(const char *path, int color_type, int depth, int channels)
{
    FILE *fp = fopen(path, "wb");
    CHECK(fp != NULL);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    CHECK(png && info);
    if (setjmp(png_jmpbuf(png)))
        CHECK(!"libpng failed while writing the fixture");
    png_init_io(png, fp);
    png_set_IHDR(png, info, 4, 2, depth, color_type, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (color_type == PNG_COLOR_TYPE_PALETTE) {
        png_color pal[2] = {{10, 20, 30}, {200, 100, 50}};
        png_set_PLTE(png, info, pal, 2);
    }
    png_write_info(png, info);
    uint8_t row[64];
    for (int y = 0; y < 2; y++) {
        memset(row, 0, sizeof row);
        if (color_type == PNG_COLOR_TYPE_PALETTE)
            row[0] = 1; /* 8-bit indices: 1, 0, 0, 0 */
        else
            for (int i = 0; i < 4 * channels; i++)
                row[i] = (uint8_t)(i * 9 + y);
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    fclose(fp);
}

static void expect_error(const char *path, const char *needle)
{
    cm_raster r;
    err[0] = 0;
    CHECK(cm_png_read(&r, path, err, sizeof err) != 0);
    CHECK(r.data == NULL);
    printf("refused as expected: %s\n", err);
    CHECK(strstr(err, needle) != NULL);
    CHECK(strstr(err, path) != NULL);
}

int main(int argc, char **argv)
{
    dir = argc > 1 ? argv[1] : ".";
    unsigned ch[] = {1, 3, 4};
    for (int i = 0; i < 3; i++) {
        roundtrip(ch[i], 8);
        roundtrip(ch[i], 16);
    }

    char path[1024];
    path_of(path, sizeof path, "palette.png");
    write_raw_png(path, PNG_COLOR_TYPE_PALETTE, 8, 1);
    cm_raster r;
    CHECK_EQ_INT(cm_png_read(&r, path, err, sizeof err), 0);
    CHECK_EQ_INT(r.channels, 3);
    CHECK_EQ_INT(r.data[0], 200);
    CHECK_EQ_INT(r.data[3], 10);
    cm_raster_free(&r);
    printf("palette PNG read as RGB\n");

    path_of(path, sizeof path, "missing.png");
    expect_error(path, "cannot open");

    path_of(path, sizeof path, "text.png");
    FILE *fp = fopen(path, "wb");
    CHECK(fp != NULL);
    fputs("this is not a PNG file at all\n", fp);
    fclose(fp);
    expect_error(path, "not a PNG");

    /* a valid PNG cut short */
    cm_raster big;
    CHECK_EQ_INT(cm_raster_alloc(&big, 64, 64, 3, 8), 0);
    for (size_t i = 0; i < cm_raster_bytes(&big); i++)
        big.data[i] = (uint8_t)(i * 7 + (i >> 5));
    uint8_t *enc;
    size_t enclen;
    CHECK_EQ_INT(cm_png_encode(&enc, &enclen, &big, err, sizeof err), 0);
    CHECK(enclen > 200);
    path_of(path, sizeof path, "truncated.png");
    fp = fopen(path, "wb");
    CHECK(fp != NULL);
    CHECK(fwrite(enc, 1, enclen / 2, fp) == enclen / 2);
    fclose(fp);
    free(enc);
    cm_raster_free(&big);
    expect_error(path, "not a valid PNG");

    path_of(path, sizeof path, "gray_alpha.png");
    write_raw_png(path, PNG_COLOR_TYPE_GRAY_ALPHA, 8, 2);
    expect_error(path, "gray+alpha");

    /* writing into a directory that does not exist fails with a message */
    cm_raster small;
    CHECK_EQ_INT(cm_raster_alloc(&small, 2, 2, 1, 8), 0);
    path_of(path, sizeof path, "no/such/dir/x.png");
    CHECK(cm_png_write(path, &small, err, sizeof err) != 0);
    CHECK(strstr(err, "cannot create") != NULL);
    cm_raster_free(&small);
    CHECK(cm_raster_alloc(&small, 0, 2, 1, 8) != 0);
    CHECK(cm_raster_alloc(&small, 2, 2, 2, 8) != 0);
    printf("all PNG checks passed\n");
    return 0;
}
