/* analysis_digital.c - an analysis through a digital profile of the engine: seal, open, the
 * one-sample trials and key sensitivity, all with cm_seal/cm_open as a PACS would call them. */
#include <string.h>

#include "analysis_internal.h"
#include "chaosmask/chaosmask.h"

/* The demo key and nonce: fixed so that cipher.png and cipher_1px.png share key and nonce (as
 * NPCR/UACI require) and a rerun reproduces every file.  Never a production key. */
static const uint8_t demo_key[CM_KEYBYTES] = "ChaosMask analyze demo key 2024";
static const uint8_t demo_nonce[CM_NONCEBYTES] = "analyze nonce 1";
static const char demo_context[] = "chaosmask analyze";

/* The image is one frame of words of its sample size. */
static cm_params image_params(const cm_raster *r, int profile)
{
    cm_params p = {.profile = profile, .word_bytes = r->bits / 8u, .frame_bytes = 0};
    return p;
}

/* One frame, so one segment tag next to the object tag. */
typedef struct image_tags {
    uint8_t segment[CM_SEGTAGBYTES];
    uint8_t object[CM_TAGBYTES];
} image_tags;

static int seal_image(cm_raster *out, const cm_raster *in, int profile, const uint8_t *key, image_tags *tags)
{
    cm_params p = image_params(in, profile);
    return cm_seal(out->data, tags->segment, tags->object, in->data, cm_raster_bytes(in), &p, key, demo_nonce,
                   (const uint8_t *)demo_context, sizeof demo_context - 1);
}

static int open_image(cm_raster *out, const cm_raster *in, int profile, const uint8_t *key, const image_tags *tags)
{
    cm_params p = image_params(in, profile);
    return cm_open(out->data, in->data, cm_raster_bytes(in), tags->segment, tags->object, &p, key, demo_nonce,
                   (const uint8_t *)demo_context, sizeof demo_context - 1);
}

static int engine_error(int rc, char *err, size_t errlen)
{
    snprintf(err, errlen, "engine: %s", cm_strerror(rc));
    return rc == CM_EAUTH ? CM_RESEARCH_EAUTH : CM_RESEARCH_EINTERNAL;
}

/* The three one-sample trials (the "random" cipher is kept as cipher_1px), then the same
 * plaintext under a key one bit away.  alt and plain1 are scratch rasters of a's shape. */
static int trials_and_key(cm_analysis *a, cm_raster *alt, cm_raster *plain1)
{
    image_tags tag1;
    int rc = 0;
    analysis_trial_positions(a);
    for (int i = 0; i < 3 && rc == 0; i++) {
        memcpy(plain1->data, a->plain.data, cm_raster_bytes(plain1));
        size_t k = a->trials[i].index;
        cm_raster_set(plain1, k, cm_raster_get(plain1, k) ^ 1u);
        cm_raster *c1 = i == 2 ? &a->cipher_1px : alt;
        rc = seal_image(c1, plain1, a->mode, demo_key, &tag1);
        if (rc == 0)
            analysis_set_trial(a, i, c1);
    }
    uint8_t key2[CM_KEYBYTES];
    memcpy(key2, demo_key, sizeof key2);
    key2[CM_KEYBYTES - 1] ^= 1u;
    if (rc == 0 && (rc = seal_image(alt, &a->plain, a->mode, key2, &tag1)) == 0) {
        cm_image C = cm_raster_view(&a->cipher), K = cm_raster_view(alt);
        (void)cm_npcr_uaci(&a->key_npcr, &a->key_uaci, &C, &K);
    }
    return rc;
}

int analysis_run_digital(cm_analysis *a, char *err, size_t errlen)
{
    image_tags tag;
    int rc = seal_image(&a->cipher, &a->plain, a->mode, demo_key, &tag);
    if (rc == 0)
        rc = open_image(&a->recovered, &a->cipher, a->mode, demo_key, &tag);
    if (rc != 0)
        return engine_error(rc, err, errlen);
    /* Zeroed rasters free as nothing, whichever allocation failed. */
    cm_raster alt = {0}, plain1 = {0};
    int oom = analysis_statistics(a) != 0 ||
              cm_raster_alloc(&alt, a->width, a->height, a->channels, a->bits) != 0 ||
              cm_raster_alloc(&plain1, a->width, a->height, a->channels, a->bits) != 0;
    rc = oom ? 0 : trials_and_key(a, &alt, &plain1);
    cm_raster_free(&alt);
    cm_raster_free(&plain1);
    if (oom) {
        snprintf(err, errlen, "out of memory");
        return CM_RESEARCH_EINTERNAL;
    }
    return rc == 0 ? 0 : engine_error(rc, err, errlen);
}
