/* paper.h - `chaosmask paper`: the seed paper's experiment end to end on a fixed set of six
 * 300 x 300 images (three generated colour phantoms, a generated Shepp-Logan slice, and two
 * images from Debian's pydicom samples converted by testdata/paper/make_images.sh), through
 * the analog channel and every digital profile, beside the paper's Table 1 (table1.h). */
#ifndef CHAOSMASK_RESEARCH_PAPER_H
#define CHAOSMASK_RESEARCH_PAPER_H

#include <stddef.h>
#include <stdio.h>

#include "chaosmask/research/analysis.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CM_PAPER_SIDE 300u
#define CM_PAPER_IMAGES 6u
#define CM_PAPER_MODES 4u

typedef struct cm_paper_result {
    cm_analysis runs[CM_PAPER_IMAGES * CM_PAPER_MODES]; /* image-major, modes in paper order */
    char subdir[CM_PAPER_IMAGES * CM_PAPER_MODES][160]; /* run k's files: out/subdir[k] */
    size_t done;   /* analyses started (cm_paper_free releases them) */
    int all_exact; /* every digital profile gave every image back exactly */
    int misses;    /* digital image/profile runs that miss a target */
} cm_paper_result;

/* Called after each analysis, for progress messages. */
typedef void (*cm_paper_progress)(void *ctx, const cm_analysis *a);

/* Runs the experiment: creates out, writes the images and figures of each run into
 * out/IMAGE/MODE/, then out/metrics.json, out/metrics.csv and out/report.html, and prints each
 * image's table beside the paper's to `table` as soon as it is measured.  images is the directory of the two converted PNGs.
 * 0, or a CM_RESEARCH_E... class with a message; r is filled either way. */
int cm_paper_run(cm_paper_result *r, const char *out, const char *images, FILE *table,
                 cm_paper_progress progress, void *ctx, char *err, size_t errlen);
/* The legend of the tables and the verdict over every run. */
void cm_paper_print_summary(FILE *f, const cm_paper_result *r, const char *out);
void cm_paper_free(cm_paper_result *r);

#ifdef __cplusplus
}
#endif
#endif
