/* analysis_internal.h - how the parts of one analysis meet inside the library: the runner
 * (analysis.c) calls a mode (analysis_digital.c, analysis_analog.c); a mode calls the
 * statistics (analysis_stats.c).  Not installed, not for the programs. */
#ifndef CHAOSMASK_RESEARCH_ANALYSIS_INTERNAL_H
#define CHAOSMASK_RESEARCH_ANALYSIS_INTERNAL_H

#include <stddef.h>

#include "chaosmask/research/analysis.h"

/* Fills every statistic from a->plain, a->cipher and a->recovered.  0, or
 * CM_RESEARCH_EINTERNAL (out of memory). */
int analysis_statistics(cm_analysis *a);
/* Chooses the first, last and seeded-random sample of the one-sample trials. */
void analysis_trial_positions(cm_analysis *a);
/* NPCR/UACI of trial i: a->cipher against c1, the cipher of the plaintext changed there. */
void analysis_set_trial(cm_analysis *a, int i, const cm_raster *c1);

/* The modes: a's rasters are allocated and a->plain is filled.  0, or a CM_RESEARCH_E...
 * class with a message. */
int analysis_run_digital(cm_analysis *a, char *err, size_t errlen);
int analysis_run_analog(cm_analysis *a, char *err, size_t errlen);

#endif
