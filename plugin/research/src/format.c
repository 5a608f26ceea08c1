/* format.c - numbers and strings in the research outputs (see format.h). */
#include "chaosmask/research/format.h"

#include <math.h>

#include "chaosmask/app_json.h"

const char *cm_fmt_num(char *buf, size_t n, double v, int decimals)
{
    if (isnan(v))
        snprintf(buf, n, "nan");
    else if (isinf(v))
        snprintf(buf, n, v > 0 ? "inf" : "-inf");
    else
        snprintf(buf, n, "%.*f", decimals, v);
    return buf;
}

void cm_research_json_num(FILE *f, double v)
{
    if (isnan(v))
        fputs("null", f);
    else if (isinf(v))
        fputs(v > 0 ? "\"inf\"" : "\"-inf\"", f);
    else
        fprintf(f, "%.10g", v);
}

void cm_research_json_string(FILE *f, const char *s)
{
    cm_json j;
    cm_json_init(&j);
    cm_json_quote(&j, s);
    fputs(j.failed ? "null" : cm_json_text(&j), f);
    cm_json_free(&j);
}

void cm_csv_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}
