/* outcome.c - the one mapping from any layer's code to an outcome class, and from a class to
 * an exit code, a DICOM status and an audit reason (app_outcome.h). */
#include <stdio.h>

#include "chaosmask/app_outcome.h"
#include "chaosmask/chaosmask.h"
#include "chaosmask/config.h"
#include "chaosmask/dicom.h"

static const cm_exit_row EXIT_TABLE[CM_OUT_COUNT] = {
    {CM_OUT_OK, "ok", "success (also: already encrypted, nothing to do)"},
    {CM_OUT_CHECK, "check", "a check failed (self-test, round trip); migrate: some files failed"},
    {CM_OUT_USAGE, "usage", "bad command line"},
    {CM_OUT_CONFIG, "config",
     "configuration or key ring error (missing or unsafe file, syntax, key id not in the ring)"},
    {CM_OUT_INPUT, "input",
     "input refused: not DICOM, truncated, hostile structure, inconsistent geometry, unsupported "
     "layout, not encrypted, already a mask"},
    {CM_OUT_AUTH, "auth",
     "authentication failed: wrong key, or the pixels, the private block or a bound attribute "
     "changed"},
    {CM_OUT_IO, "io", "an output could not be written (nothing half-written is left)"},
    {CM_OUT_INTERNAL, "internal", "internal error (out of memory, library failure)"},
    {CM_OUT_NOTHING, "nothing", "nothing to protect: the object has no pixel-bearing element"},
    {CM_OUT_IDENTITY, "identity", "patient identity changed since encryption (refused by policy)"},
    {CM_OUT_REENCODED, "reencoded",
     "re-encoded in a way that cannot be undone (lossy compression, encapsulated data "
     "transcoded)"},
};

const cm_exit_row *cm_exit_table(void)
{
    return EXIT_TABLE;
}

static cm_outcome dicom_outcome(int code)
{
    switch (code) {
    case CM_DICOM_EENCRYPTED: return CM_OUT_OK;
    case CM_DICOM_EINPUT:
    case CM_DICOM_EGEOMETRY:
    case CM_DICOM_EUNSUPPORTED:
    case CM_DICOM_ENOTENCRYPTED:
    case CM_DICOM_ESTRUCTURE:
    case CM_DICOM_EMASKED: return CM_OUT_INPUT;
    case CM_DICOM_ENOTHING: return CM_OUT_NOTHING;
    case CM_DICOM_EBLOCK:
    case CM_DICOM_EAUTH: return CM_OUT_AUTH;
    case CM_DICOM_EIDENTITY: return CM_OUT_IDENTITY;
    case CM_DICOM_EREENCODED: return CM_OUT_REENCODED;
    case CM_DICOM_EKEYID: return CM_OUT_CONFIG;
    case CM_DICOM_EIO: return CM_OUT_IO;
    default: return CM_OUT_INTERNAL;
    }
}

static cm_outcome app_outcome(int code)
{
    switch (code) {
    case CM_APP_EUSAGE: return CM_OUT_USAGE;
    case CM_APP_EIO: return CM_OUT_IO;
    case CM_APP_EAUDIT: return CM_OUT_CONFIG;
    case CM_APP_ECHECK: return CM_OUT_CHECK;
    case CM_APP_EMISMATCH:
    case CM_APP_EDENIED: return CM_OUT_INPUT;
    case CM_APP_ELIMIT: return CM_OUT_IO;
    default: return CM_OUT_INTERNAL;
    }
}

cm_outcome cm_outcome_of(int code)
{
    if (code >= 0)
        return CM_OUT_OK;
    if (code == CM_EAUTH)
        return CM_OUT_AUTH;
    if (code > -20)
        return CM_OUT_INTERNAL; /* the engine's other codes: bad arguments, crypto library, memory */
    if (code > -60)
        return CM_OUT_CONFIG; /* every configuration and key ring code */
    if (code <= -100 && code > -200)
        return dicom_outcome(code);
    if (code <= -200 && code > -300)
        return app_outcome(code);
    return CM_OUT_INTERNAL;
}

/* Higher = worse. */
static int severity(int exit_code)
{
    static const int rank[CM_OUT_COUNT] = {
        [CM_OUT_OK] = 0,       [CM_OUT_CHECK] = 1,    [CM_OUT_NOTHING] = 2,
        [CM_OUT_INPUT] = 3,    [CM_OUT_CONFIG] = 4,   [CM_OUT_REENCODED] = 5,
        [CM_OUT_IDENTITY] = 6, [CM_OUT_AUTH] = 7,     [CM_OUT_USAGE] = 8,
        [CM_OUT_IO] = 9,       [CM_OUT_INTERNAL] = 10,
    };
    return exit_code >= 0 && exit_code < CM_OUT_COUNT ? rank[exit_code] : 11;
}

int cm_outcome_worst(int a, int b)
{
    return severity(b) > severity(a) ? b : a;
}

uint16_t cm_outcome_store_status(cm_outcome outcome)
{
    switch (outcome) {
    case CM_OUT_OK:
    case CM_OUT_NOTHING: return 0x0000;
    case CM_OUT_IO:
    case CM_OUT_INTERNAL: return 0xA700;
    case CM_OUT_CONFIG:
    case CM_OUT_CHECK:
    case CM_OUT_USAGE: return 0x0110;
    default: return 0xC000;
    }
}

uint16_t cm_store_status_of(int code)
{
    if (code == CM_APP_EMISMATCH)
        return 0xA900;
    if (code == CM_APP_EDENIED)
        return 0x0124;
    return cm_outcome_store_status(cm_outcome_of(code));
}
