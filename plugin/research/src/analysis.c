/* analysis.c - the runner: one image, one mode, every statistic (see analysis.h). */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analysis_internal.h"
#include "chaosmask/chaosmask.h"

/* Seconds on the monotonic clock: how long an analysis took, for the tables. */
static double monotonic_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int alloc_rasters(cm_analysis *a)
{
    int ok = cm_raster_alloc(&a->plain, a->width, a->height, a->channels, a->bits) == 0;
    ok &= cm_raster_alloc(&a->cipher, a->width, a->height, a->channels, a->bits) == 0;
    ok &= cm_raster_alloc(&a->cipher_1px, a->width, a->height, a->channels, a->bits) == 0;
    ok &= cm_raster_alloc(&a->recovered, a->width, a->height, a->channels, a->bits) == 0;
    return ok ? 0 : CM_RESEARCH_EINTERNAL;
}

int cm_analysis_run(cm_analysis *a, const cm_raster *plain, const char *name, int mode,
                    char *err, size_t errlen)
{
    memset(a, 0, sizeof *a);
    double t0 = monotonic_seconds();
    snprintf(a->name, sizeof a->name, "%s", name);
    a->mode = mode;
    const char *mn = mode == CM_ANALYSIS_MODE_ANALOG ? "analog" : cm_profile_name(mode);
    if (mn == NULL) {
        snprintf(err, errlen, "unknown profile %d", mode);
        return CM_RESEARCH_EUSAGE;
    }
    snprintf(a->mode_name, sizeof a->mode_name, "%s", mn);
    a->width = plain->width;
    a->height = plain->height;
    a->channels = plain->channels;
    a->bits = plain->bits;
    if (alloc_rasters(a) != 0) {
        cm_analysis_free(a);
        snprintf(err, errlen, "out of memory");
        return CM_RESEARCH_EINTERNAL;
    }
    memcpy(a->plain.data, plain->data, cm_raster_bytes(plain));
    int rc = mode == CM_ANALYSIS_MODE_ANALOG ? analysis_run_analog(a, err, errlen)
                                             : analysis_run_digital(a, err, errlen);
    a->npcr = a->trials[2].npcr;
    a->uaci = a->trials[2].uaci;
    a->seconds = monotonic_seconds() - t0;
    return rc;
}

void cm_analysis_free(cm_analysis *a)
{
    cm_raster_free(&a->plain);
    cm_raster_free(&a->cipher);
    cm_raster_free(&a->cipher_1px);
    cm_raster_free(&a->recovered);
    free(a->trace);
    a->trace = NULL;
}
