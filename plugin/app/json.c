/* json.c - the JSON writer (app_json.h). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chaosmask/app_json.h"

void cm_json_init(cm_json *j)
{
    memset(j, 0, sizeof *j);
}

void cm_json_free(cm_json *j)
{
    free(j->buf);
    memset(j, 0, sizeof *j);
}

const char *cm_json_text(const cm_json *j)
{
    return j->failed || j->buf == NULL ? "" : j->buf;
}

static void put(cm_json *j, const char *s, size_t n)
{
    if (j->failed)
        return;
    if (j->len + n + 1 > j->cap) {
        size_t cap = j->cap ? j->cap : 256;
        while (cap < j->len + n + 1)
            cap *= 2;
        char *b = realloc(j->buf, cap);
        if (b == NULL) {
            j->failed = 1;
            return;
        }
        j->buf = b;
        j->cap = cap;
    }
    memcpy(j->buf + j->len, s, n);
    j->len += n;
    j->buf[j->len] = '\0';
}

static void puts_(cm_json *j, const char *s)
{
    put(j, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when the bytes are not one. */
static size_t utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (n == 0 || (n == 2 && c < 0xC2) || (n == 4 && c > 0xF4))
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    if (n == 3 && ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] >= 0xA0)))
        return 0; /* overlong, or a UTF-16 surrogate */
    if (n == 4 && ((c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] >= 0x90)))
        return 0;
    return n;
}

void cm_json_quote(cm_json *j, const char *s)
{
    put(j, "\"", 1);
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    while (*p) {
        char esc[8];
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\', esc[1] = (char)*p;
            put(j, esc, 2);
            p++;
        } else if (*p < 0x20 || *p == 0x7F) {
            snprintf(esc, sizeof esc, "\\u%04x", *p);
            puts_(j, esc);
            p++;
        } else {
            size_t n = utf8_len(p);
            if (n == 0) {
                puts_(j, "\\ufffd");
                p++;
            } else {
                put(j, (const char *)p, n);
                p += n;
            }
        }
    }
    put(j, "\"", 1);
}

/* The comma and "key": before a member. */
static void member(cm_json *j, const char *key)
{
    if (j->depth > 0 && j->count[j->depth - 1]++ > 0)
        put(j, ", ", 2);
    if (key != NULL) {
        cm_json_quote(j, key);
        put(j, ": ", 2);
    }
}

static void open_level(cm_json *j, const char *key, const char *bracket)
{
    member(j, key);
    puts_(j, bracket);
    if (j->depth >= CM_JSON_DEPTH) {
        j->failed = 1;
        return;
    }
    j->count[j->depth++] = 0;
}

static void close_level(cm_json *j, const char *bracket)
{
    if (j->depth > 0)
        j->depth--;
    puts_(j, bracket);
}

void cm_json_object_begin(cm_json *j, const char *key) { open_level(j, key, "{"); }
void cm_json_object_end(cm_json *j) { close_level(j, "}"); }
void cm_json_array_begin(cm_json *j, const char *key) { open_level(j, key, "["); }
void cm_json_array_end(cm_json *j) { close_level(j, "]"); }

void cm_json_str(cm_json *j, const char *key, const char *value)
{
    member(j, key);
    if (value == NULL)
        puts_(j, "null");
    else
        cm_json_quote(j, value);
}

static void printed(cm_json *j, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void printed(cm_json *j, const char *key, const char *fmt, ...)
{
    char buf[64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    member(j, key);
    puts_(j, buf);
}

void cm_json_int(cm_json *j, const char *key, long long value) { printed(j, key, "%lld", value); }
void cm_json_uint(cm_json *j, const char *key, unsigned long long value) { printed(j, key, "%llu", value); }
void cm_json_bool(cm_json *j, const char *key, int value) { printed(j, key, "%s", value ? "true" : "false"); }
void cm_json_null(cm_json *j, const char *key) { printed(j, key, "null"); }

void cm_json_num(cm_json *j, const char *key, double value, int decimals)
{
    if (isnan(value))
        cm_json_str(j, key, "nan");
    else if (isinf(value))
        cm_json_str(j, key, value > 0 ? "inf" : "-inf");
    else
        printed(j, key, "%.*f", decimals, value);
}
