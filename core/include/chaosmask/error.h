/*
 * error.h - the one error report every ChaosMask layer fills: a negative code from one of the
 * code spaces below and a one-line message for an administrator.  The engine (chaosmask.h)
 * returns bare codes; config/, dicom/ and the application layer fill a cm_error as well.
 *
 * Code spaces (disjoint, all negative; 0 is success):
 *   -1 .. -19     engine          CM_E...         chaosmask.h
 *   -20 .. -59    configuration   CM_CFG_E...     config.h
 *   -100 .. -199  DICOM object    CM_DICOM_E...   dicom.h
 *   -200 .. -299  application     CM_APP_E...     the application layer
 * cm_failed(code) is the one "is this an error" check.
 */
#ifndef CHAOSMASK_ERROR_H
#define CHAOSMASK_ERROR_H

#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CM_ERRMAX 512

typedef struct cm_error {
    int code;            /* 0, or the negative code the failing call returned */
    char msg[CM_ERRMAX]; /* "what happened (what to do)"; empty when code is 0 */
} cm_error;

static inline int cm_failed(int code) { return code < 0; }

/* Fills err (when not NULL) with code and a printf-style message; returns code.  The one
 * formatter of every layer's errors. */
int cm_fail(cm_error *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int cm_vfail(cm_error *err, int code, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));

#ifdef __cplusplus
}
#endif
#endif
