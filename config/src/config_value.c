/* config_value.c - the value checks every section's parser uses (config_internal.h): whole
 * numbers, sizes with K/M/G, yes/no, paths, AE titles.  0 (or 1 for cfg_aetitle_ok) when the
 * value is good; otherwise the reason in `why`, with what is expected. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"

int cfg_parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    if (*s == '\0' || strspn(s, "0123456789") != strlen(s) || strlen(s) > 9)
        return -1;
    unsigned long v = strtoul(s, NULL, 10);
    if (v > max)
        return -1;
    *out = v;
    return 0;
}

int cfg_parse_path(char *field, const char *key, int empty_ok, const char *value, char *why, size_t whysz)
{
    if (value[0] == '\0' && !empty_ok) {
        snprintf(why, whysz, "%s is empty; expected a directory path", key);
        return -1;
    }
    if (strlen(value) >= CM_PATH_MAX) {
        snprintf(why, whysz, "%s is longer than %d bytes", key, CM_PATH_MAX - 1);
        return -1;
    }
    snprintf(field, CM_PATH_MAX, "%s", value);
    return 0;
}

int cfg_aetitle_ok(const char *value, char *why, size_t whysz)
{
    size_t len = strlen(value);
    int ok = len >= 1 && len < CM_AETITLE_MAX;
    for (size_t i = 0; ok && i < len; i++)
        ok = value[i] >= 0x20 && value[i] < 0x7f && value[i] != '\\';
    if (!ok)
        snprintf(why, whysz,
                 "aetitle '%s' is not a valid AE title; expected 1 to 16 printable ASCII characters without backslash",
                 value);
    return ok;
}

int cfg_parse_yes_no(const char *key, const char *value, int *out, char *why, size_t whysz)
{
    if (strcmp(value, "yes") == 0 || strcmp(value, "no") == 0) {
        *out = value[0] == 'y';
        return 0;
    }
    snprintf(why, whysz, "%s '%s' is not yes or no", key, value);
    return -1;
}

int cfg_parse_size(const char *value, uint64_t min, uint64_t max, uint64_t *out)
{
    char digits[16];
    size_t n = strlen(value);
    unsigned shift = 0;
    if (n > 0 && strchr("KkMmGg", value[n - 1]) != NULL) {
        char c = (char)(value[n - 1] | 0x20);
        shift = c == 'k' ? 10 : c == 'm' ? 20 : 30;
        n--;
    }
    unsigned long v = 0;
    if (n == 0 || n >= sizeof digits)
        return -1;
    memcpy(digits, value, n);
    digits[n] = '\0';
    if (cfg_parse_uint(digits, 999999999ul, &v) != 0)
        return -1;
    uint64_t bytes = (uint64_t)v << shift;
    if (bytes < min || bytes > max)
        return -1;
    *out = bytes;
    return 0;
}
