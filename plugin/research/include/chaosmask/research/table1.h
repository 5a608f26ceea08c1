/* table1.h - the seed paper's Table 1 (images without noise), as printed: what `chaosmask
 * paper` puts its own measurements beside, in the terminal and in report.html. */
#ifndef CHAOSMASK_RESEARCH_TABLE1_H
#define CHAOSMASK_RESEARCH_TABLE1_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cm_table1_row {
    const char *name; /* the image as the paper names it */
    double hist_std, hist_enc, corr, npcr, uaci, psnr, entropy;
} cm_table1_row;

#define CM_TABLE1_ROWS 6u
/* Row i is the paper's image i + 1. */
extern const cm_table1_row cm_table1[CM_TABLE1_ROWS];

#ifdef __cplusplus
}
#endif
#endif
