/*
 * dicom_precheck.h - the structure check every DICOM object passes before DCMTK parses it.
 *
 * DCMTK's parser is recursive and has no depth limit: a data set with sequences nested some
 * 20,000 deep exhausts the stack of any DCMTK reader (SIGSEGV), and an object can claim far
 * more elements or bytes than it is worth.  These functions walk the raw bytes iteratively (an
 * explicit stack of at most 2 * max_depth + 1 small frames) and refuse such objects before
 * DCMTK sees them.  They do not build a data set and keep no values: DCMTK stays the only
 * parser; this only bounds what its recursion and allocation would meet.
 *
 * The walk reads the bytes the way DCMTK 3.6.7 will, so that the nesting it counts is the
 * recursion DCMTK would perform (docs/private-block.md, "Structure checks before parsing"):
 * explicit and implicit VR, little and big endian, deflate (raw deflate inflated in a fixed
 * window, every inflated byte counted against max_bytes), encapsulated pixel data, UN of
 * undefined length as an implicit VR little endian sequence (CP-246), DCMTK's rules for where
 * a defined-length sequence or item ends (it reads on past lengths that are too short, and so
 * does the walk) and the DCMTK reading options that change what is a sequence.  Where DCMTK's
 * choice depends on a private dictionary (implicit VR), a value it might read as a sequence is
 * checked as one that must end exactly where the value ends.
 *
 * Results (codes of dicom.h): 0, CM_DICOM_EINPUT (not DICOM, truncated, malformed item or delimiter structure,
 * unknown transfer syntax), CM_DICOM_ESTRUCTURE (a limit exceeded) or CM_DICOM_ENOMEM.  err,
 * when not NULL, receives the code and one line naming what and where, e.g. "sequence nesting
 * deeper than 32 levels at byte offset 1234 (tag (0008,1115)); raise [dicom] max_depth if such
 * objects are legitimate".  Thread-safe; reads nothing outside [buf, buf + len).
 */
#ifndef CHAOSMASK_DICOM_PRECHECK_H
#define CHAOSMASK_DICOM_PRECHECK_H

#include <stddef.h>
#include <stdint.h>

#include "chaosmask/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cm_dicom_limits {
    unsigned max_depth;    /* sequence/item nesting (a sequence and its items are one level,
                            * encapsulated pixel data is one level); default 32 */
    uint64_t max_elements; /* data elements and items in the whole object, File Meta
                            * Information included; default 1,000,000 */
    uint64_t max_bytes;    /* the data set's bytes (after inflating deflate); default 4 GiB */
} cm_dicom_limits;

#define CM_DICOM_DEFAULT_MAX_DEPTH 32u
#define CM_DICOM_DEFAULT_MAX_ELEMENTS 1000000u
#define CM_DICOM_DEFAULT_MAX_BYTES (UINT64_C(4) << 30)

void cm_dicom_limits_default(cm_dicom_limits *lim);

/* A DICOM Part 10 file in memory: 128-byte preamble, "DICM", File Meta Information, then the
 * data set in the transfer syntax of (0002,0010).  Like DCMTK, a file without the preamble
 * whose first bytes are the meta group is accepted, and the meta group's encoding is guessed
 * from its first element; a file without meta group or with an unknown transfer syntax is
 * CM_DICOM_EINPUT.  lim NULL: the defaults.  Offsets in messages are file offsets, or offsets
 * into the inflated data set for the deflated transfer syntax. */
int cm_dicom_precheck_file(const uint8_t *buf, size_t len, const cm_dicom_limits *lim, cm_error *err);

/* A bare data set (no preamble, no meta), e.g. received over the network, in transfer syntax
 * xfer_uid, taken exactly as DcmXfer takes it: pass DCMTK the same string (no padding, which
 * DcmXfer would not know and DcmDataset::read would answer by guessing the encoding). */
int cm_dicom_precheck_dataset(const uint8_t *buf, size_t len, const char *xfer_uid, const cm_dicom_limits *lim,
                              cm_error *err);

#ifdef __cplusplus
}
#endif
#endif
