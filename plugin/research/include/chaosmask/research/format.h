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
void cm_json_num(FILE *f, double v);
/* A JSON string: '"' and '\' are backslash-escaped and bytes below 0x20 written as \u00XX;
 * every other byte is copied as is, so the output is valid JSON only when s is valid UTF-8
 * (image names come from file names, which need not be). */
void cm_json_string(FILE *f, const char *s);
/* A CSV field per RFC 4180: always quoted, quotes inside doubled. */
void cm_csv_string(FILE *f, const char *s);

#ifdef __cplusplus
}
#endif
#endif
