/* report.h - report.html: one self-contained file with the metrics table, the paper's Table 1
 * for comparison, the images and the figures (embedded as base64 data URIs), so the one file
 * can be mailed or archived as is. */
#ifndef CHAOSMASK_RESEARCH_REPORT_H
#define CHAOSMASK_RESEARCH_REPORT_H

#include <stddef.h>

#include "chaosmask/research/analysis.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Writes dir/report.html.  subdirs[i] is where analysis i wrote its images and figures,
 * relative to dir ("" for dir itself); a missing picture is noted in the page, one that
 * cannot be read or embedded fails the report (nothing is written).  with_table1 != 0 adds
 * the paper's Table 1.  0, or CM_RESEARCH_EIO / CM_RESEARCH_EINTERNAL with a message. */
int cm_report_html(const char *dir, const char *title, const cm_analysis *const *rows,
                   const char *const *subdirs, size_t nrows, int with_table1, char *err,
                   size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
