/*
 * app_outcome.h - what a result means, decided once for every program: the exit code a
 * script sees, the status a DICOM peer gets, the outcome an audit record names.
 *
 * Every layer returns a negative code from its own space (error.h lists them); cm_outcome_of()
 * folds any of them into one outcome class.  The class number is the `chaosmask` exit code,
 * and cm_exit_table is the one table that --help, README and the tests print or check.
 */
#ifndef CHAOSMASK_APP_OUTCOME_H
#define CHAOSMASK_APP_OUTCOME_H

#include <stddef.h>
#include <stdint.h>

#include "chaosmask/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Application-layer codes (error.h: -200 .. -299). */
#define CM_APP_EUSAGE -200    /* bad command line */
#define CM_APP_EIO -201       /* an output could not be written (nothing half-written is left) */
#define CM_APP_ENOMEM -202    /* out of memory */
#define CM_APP_EAUDIT -203    /* the audit log cannot be opened: a configuration error */
#define CM_APP_ECHECK -204    /* a check failed (self-test, round trip) */
#define CM_APP_EINTERNAL -205 /* a library failed in a way no input explains */
#define CM_APP_EMISMATCH -206 /* a received data set does not match its request (SOP class or instance) */
#define CM_APP_EDENIED -207   /* the peer is not allowed to do this ([peer NAME] store, find, retrieve) */
#define CM_APP_ELIMIT -208    /* a limit of the service: index full (study table, bytes per study), object too large */

/* Outcome classes; the value is the exit code of `chaosmask` (never renumber). */
typedef enum cm_outcome {
    CM_OUT_OK = 0,         /* success (also: already encrypted, nothing to do) */
    CM_OUT_CHECK = 1,      /* a check failed: self-test, round trip */
    CM_OUT_USAGE = 2,      /* bad command line */
    CM_OUT_CONFIG = 3,     /* configuration or key ring: missing file, mode, syntax, unknown key id */
    CM_OUT_INPUT = 4,      /* input refused: not DICOM, truncated, hostile structure, geometry, layout */
    CM_OUT_AUTH = 5,       /* authentication failed: wrong key, or changed pixels, block or bound attribute */
    CM_OUT_IO = 6,         /* an output could not be written (nothing half-written is left) */
    CM_OUT_INTERNAL = 7,   /* out of memory, a library failure */
    CM_OUT_NOTHING = 8,    /* nothing to protect: the object has no pixel-bearing element */
    CM_OUT_IDENTITY = 9,   /* patient identity changed since encryption (refused by policy) */
    CM_OUT_REENCODED = 10, /* re-encoded in a way that cannot be undone (lossy, or encapsulated data transcoded) */
    CM_OUT_COUNT
} cm_outcome;

typedef struct cm_exit_row {
    int code;            /* the exit code = the cm_outcome value */
    const char *name;    /* short name, also the audit record's "reason": "auth", "io"... */
    const char *meaning; /* one line for --help and README */
} cm_exit_row;

/* The rows in exit-code order (CM_OUT_COUNT of them). */
const cm_exit_row *cm_exit_table(void);

/* The outcome class of a code from any layer (0 -> CM_OUT_OK; unknown negatives -> INTERNAL). */
cm_outcome cm_outcome_of(int code);

/* For several files: the more severe of two exit codes (internal > io > auth > identity >
 * re-encoded > config > input > nothing > check > ok), so a script sees the worst. */
int cm_outcome_worst(int a, int b);

/* The C-STORE response status for an outcome (PS3.4 B.2.3): 0x0000, 0xA700 out of resources,
 * 0xC000 cannot understand, 0x0110 processing failure. */
uint16_t cm_outcome_store_status(cm_outcome outcome);

/* The C-STORE response status for a code of any layer: cm_outcome_store_status() of its
 * outcome, except 0xA900 for CM_APP_EMISMATCH (data set does not match SOP class) and 0x0124
 * for CM_APP_EDENIED (not authorized). */
uint16_t cm_store_status_of(int code);

#ifdef __cplusplus
}
#endif
#endif
