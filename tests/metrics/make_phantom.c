/* make_phantom.c - writes one of the plugin's deterministic phantoms as a PNG, so the tests can
 * run `chaosmask analyze` on an image nobody tuned the engine for.
 * usage: make_phantom NAME SIDE BITS OUT.png */
#include <stdio.h>
#include <stdlib.h>

#include "chaosmask/research/image.h"
#include "chaosmask/research/phantoms.h"

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: make_phantom NAME SIDE BITS OUT.png\n");
        return 2;
    }
    int kind = cm_phantom_from_name(argv[1]);
    cm_raster r;
    char err[512];
    if (kind < 0 || cm_phantom_make(&r, kind, (size_t)atol(argv[2]), (unsigned)atoi(argv[3])) != 0) {
        fprintf(stderr, "make_phantom: cannot make %s %s %s\n", argv[1], argv[2], argv[3]);
        return 1;
    }
    if (cm_png_write(argv[4], &r, err, sizeof err) != 0) {
        fprintf(stderr, "make_phantom: %s\n", err);
        return 1;
    }
    cm_raster_free(&r);
    return 0;
}
