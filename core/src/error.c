/* error.c - the one way every layer fills an error report (error.h). */
#include <stdio.h>

#include "chaosmask/error.h"

int cm_vfail(cm_error *err, int code, const char *fmt, va_list ap)
{
    if (err != NULL) {
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    }
    return code;
}

int cm_fail(cm_error *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cm_vfail(err, code, fmt, ap);
    va_end(ap);
    return code;
}
