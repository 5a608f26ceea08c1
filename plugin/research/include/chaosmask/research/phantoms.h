/* phantoms.h - deterministic test images for `chaosmask paper` and the tests: a Shepp-Logan
 * CT slice and colour textures in the manner of the paper's endoscopy, blood smear and skin
 * lesion images.  The same call gives the same pixels on every run. */
#ifndef CHAOSMASK_RESEARCH_PHANTOMS_H
#define CHAOSMASK_RESEARCH_PHANTOMS_H

#include <stddef.h>

#include "chaosmask/research/image.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    CM_PHANTOM_SHEPP_LOGAN = 0, /* gray, 8 or 16 bits (modified Shepp-Logan, Toft 1996) */
    CM_PHANTOM_ENDOSCOPY = 1,   /* RGB 8 bits: mucosa folds, vessels, specular highlights */
    CM_PHANTOM_BLOOD_SMEAR = 2, /* RGB 8 bits: red cells with pale centres, stained leukocytes */
    CM_PHANTOM_SKIN_LESION = 3, /* RGB 8 bits: pigmented lesion with irregular border on skin */
    CM_PHANTOM_COUNT = 4
} cm_phantom;

/* "shepp-logan", "endoscopy", "blood-smear", "skin-lesion"; NULL for an unknown value. */
const char *cm_phantom_name(int kind);
/* The phantom's value, or -1 for an unknown name. */
int cm_phantom_from_name(const char *name);
/* Allocates and draws a side x side phantom (bits: 8 or 16 for Shepp-Logan, 8 otherwise).
 * 0 on success, -1 on a bad argument or out of memory. */
int cm_phantom_make(cm_raster *r, int kind, size_t side, unsigned bits);

#ifdef __cplusplus
}
#endif
#endif
