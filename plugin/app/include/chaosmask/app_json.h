/*
 * app_json.h - the one JSON writer of the programs (audit records, --json outputs): a growing
 * buffer, keys and values escaped once.  Strings are written as UTF-8; bytes that are not
 * valid UTF-8 (DICOM text in another character set) become U+FFFD, control characters are
 * escaped, so a value read from a file can never break a line or forge a field.
 */
#ifndef CHAOSMASK_APP_JSON_H
#define CHAOSMASK_APP_JSON_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CM_JSON_DEPTH 16

typedef struct cm_json {
    char *buf;
    size_t len, cap;
    int failed;                    /* out of memory or nested too deep: the text is unusable */
    int depth;
    int count[CM_JSON_DEPTH];      /* members written at each open level */
} cm_json;

void cm_json_init(cm_json *j);
void cm_json_free(cm_json *j);
/* The text so far, NUL-terminated ("" after a failure). */
const char *cm_json_text(const cm_json *j);

/* key is NULL inside arrays and at the top level. */
void cm_json_object_begin(cm_json *j, const char *key);
void cm_json_object_end(cm_json *j);
void cm_json_array_begin(cm_json *j, const char *key);
void cm_json_array_end(cm_json *j);
void cm_json_str(cm_json *j, const char *key, const char *value); /* NULL -> null */
void cm_json_int(cm_json *j, const char *key, long long value);
void cm_json_uint(cm_json *j, const char *key, unsigned long long value);
void cm_json_bool(cm_json *j, const char *key, int value);
void cm_json_null(cm_json *j, const char *key);
/* %.*f; NaN and infinities as the strings "nan", "inf", "-inf" (JSON has no such numbers). */
void cm_json_num(cm_json *j, const char *key, double value, int decimals);

/* Appends s to j as a JSON string literal (with quotes). */
void cm_json_quote(cm_json *j, const char *s);

#ifdef __cplusplus
}
#endif
#endif
