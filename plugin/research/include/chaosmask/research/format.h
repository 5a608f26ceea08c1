/* format.h - how the research outputs spell numbers and strings: one place for the text of
 * metrics.json, metrics.csv, the terminal tables and report.html. */
#ifndef CHAOSMASK_RESEARCH_FORMAT_H
#define CHAOSMASK_RESEARCH_FORMAT_H

#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* "inf", "-inf", "nan", or v with `decimals` decimals; returns buf. */
const char *cm_fmt_num(char *buf, size_t n, double v, int decimals);

/* A JSON number: NaN as null, infinities as the strings "inf" / "-inf" (JSON has no
 * infinity), else %.10g. */
void cm_research_json_num(FILE *f, double v);
/* A JSON string, escaped by the programs' one JSON writer (app_json.h): control characters
 * escaped, bytes that are not UTF-8 (a file name need not be) as U+FFFD. */
void cm_research_json_string(FILE *f, const char *s);
/* A CSV field per RFC 4180: always quoted, quotes inside doubled. */
void cm_csv_string(FILE *f, const char *s);

#ifdef __cplusplus
}
#endif
#endif
