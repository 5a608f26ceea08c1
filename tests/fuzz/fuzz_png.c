/* fuzz_png.c - libFuzzer harness for the PNG reader of `chaosmask analyze` (image.h,
 * cm_png_read over libpng) and the display mapping every analysis applies to what it read.
 * The input is written as a file in a scratch directory and read as `analyze IMAGE` reads it.
 *
 * Invariants: a refused file leaves an empty raster and a message naming the file; an
 * accepted one is 1 to CM_RASTER_MAX_SIDE pixels on each side, gray, RGB or RGBA of 8 or 16
 * bits, at most CM_RASTER_MAX_SAMPLES samples, and encoding it (cm_png_encode) and reading that
 * back gives the same raster, sample for sample; its display image has its size and channels,
 * 8 bits, with every sample inside the display window's mapping. */
#include "fuzz_common.h"

#include "chaosmask/research/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[512], again[512], msg[1024] = "";
    fuzz_scratch_path("input.png", path, sizeof path);
    fuzz_write_file(path, data, size, 0600);
    cm_raster r;
    memset(&r, 0x5A, sizeof r);
    if (cm_png_read(&r, path, msg, sizeof msg) != 0) {
        FUZZ_CHECK(r.data == NULL && r.width == 0 && r.height == 0, "a refused PNG left a raster");
        FUZZ_CHECK(strncmp(msg, path, strlen(path)) == 0, "a refusal that does not name the file: %s", msg);
        return 0;
    }
    FUZZ_CHECK(r.data != NULL, "an accepted PNG without samples");
    FUZZ_CHECK(r.width >= 1 && r.height >= 1 && r.width <= CM_RASTER_MAX_SIDE && r.height <= CM_RASTER_MAX_SIDE,
               "an accepted PNG of %zu x %zu", r.width, r.height);
    FUZZ_CHECK((r.channels == 1 || r.channels == 3 || r.channels == 4) && (r.bits == 8 || r.bits == 16),
               "an accepted PNG of %u channels, %u bits", r.channels, r.bits);
    FUZZ_CHECK(r.width * r.height * r.channels <= CM_RASTER_MAX_SAMPLES, "an accepted PNG of %zu samples",
               r.width * r.height * r.channels);

    uint8_t *png = NULL;
    size_t len = 0;
    FUZZ_CHECK(cm_png_encode(&png, &len, &r, msg, sizeof msg) == 0, "an accepted raster does not encode: %s", msg);
    fuzz_scratch_path("again.png", again, sizeof again);
    fuzz_write_file(again, png, len, 0600);
    free(png);
    cm_raster back;
    FUZZ_CHECK(cm_png_read(&back, again, msg, sizeof msg) == 0, "an encoded raster does not read back: %s", msg);
    FUZZ_CHECK(back.width == r.width && back.height == r.height && back.channels == r.channels && back.bits == r.bits &&
                   memcmp(back.data, r.data, cm_raster_bytes(&r)) == 0,
               "a raster read, encoded and read again changed");
    cm_raster_free(&back);

    cm_window w = cm_raster_window(&r);
    FUZZ_CHECK(w.lo <= w.hi && w.hi < (1u << r.bits), "display window %u..%u of %u-bit samples", w.lo, w.hi, r.bits);
    cm_raster shown;
    FUZZ_CHECK(cm_raster_display(&shown, &r) == 0, "no display image");
    FUZZ_CHECK(shown.width == r.width && shown.height == r.height && shown.channels == r.channels && shown.bits == 8,
               "the display image has another shape");
    size_t samples = r.width * r.height * r.channels;
    for (size_t i = 0; i < samples; i += 1 + samples / 64)
        FUZZ_CHECK(cm_raster_get(&shown, i) == cm_window_level(w, cm_raster_get(&r, i)), "display sample %zu", i);
    cm_raster_free(&shown);
    cm_raster_free(&r);
    return 0;
}
