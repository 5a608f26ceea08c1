/* fileutil.c - error formatting, path joining and the ownership rule of the config module.
 * config/ only reads; every file ChaosMask writes (key files included) goes through the
 * application layer's one atomic writer. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_internal.h"

int cfg_fail(cm_error *err, int code, const char *fmt, ...)
{
    if (err != NULL) {
        err->code = code;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

int cfg_path_join(char *out, size_t outsz, const char *dir, const char *name)
{
    size_t dlen = strlen(dir);
    while (dlen > 1 && dir[dlen - 1] == '/')
        dlen--;
    const char *sep = (dlen > 0 && dir[dlen - 1] == '/') ? "" : "/";
    int n = snprintf(out, outsz, "%.*s%s%s", (int)dlen, dir, sep, name);
    return (n < 0 || (size_t)n >= outsz) ? -1 : 0;
}

int cfg_owner_trusted(uid_t uid)
{
    return uid == geteuid() || uid == 0;
}
