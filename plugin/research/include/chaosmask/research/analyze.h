/* analyze.h - `chaosmask analyze`: one image through one mode (analysis.h) and every file that
 * reports it, so that anyone can recompute the numbers from the images. */
#ifndef CHAOSMASK_RESEARCH_ANALYZE_H
#define CHAOSMASK_RESEARCH_ANALYZE_H

#include <stddef.h>

#include "chaosmask/research/analysis.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Writes into dir (which exists) plain/cipher/cipher_1px/recovered.png, fig_*.png,
 * metrics.json, metrics.csv and report.html.  0, or a CM_RESEARCH_E... class with a message. */
int cm_analyze_write(const cm_analysis *a, const char *dir, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
