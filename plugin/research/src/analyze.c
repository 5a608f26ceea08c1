/* analyze.c - the files of `chaosmask analyze` (see analyze.h). */
#include "chaosmask/research/analyze.h"

#include "chaosmask/research/report.h"

int cm_analyze_write(const cm_analysis *a, const char *dir, char *err, size_t errlen)
{
    const cm_analysis *rows[1] = {a};
    const char *subs[1] = {""};
    int rc = cm_analysis_write_images(a, dir, err, errlen);
    if (rc == 0)
        rc = cm_analysis_write_figures(a, dir, err, errlen);
    if (rc == 0)
        rc = cm_analysis_write_tables(dir, rows, 1, 0, err, errlen);
    if (rc == 0)
        rc = cm_report_html(dir, "ChaosMask analyze", rows, subs, 1, 0, err, errlen);
    return rc;
}
