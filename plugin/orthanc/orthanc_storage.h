/*
 * orthanc_storage.h - the storage area behind Orthanc (what the plugin's callbacks call), kept
 * free of Orthanc's header so that it can be tested on its own.
 *
 * Files live where Orthanc's own file storage would put them: DIR/aa/bb/UUID (aa, bb: the
 * UUID's first four characters).  Every file is written with the one atomic writer (durable
 * before the call returns) and never holds plaintext:
 *   - a DICOM attachment is a ChaosMask object (format 2: pixel-bearing elements masked in
 *     place, header clear), or the object as it arrived when it was encrypted already;
 *     beside it, UUID.header holds its SOP Instance UID and the first bytes of the object as
 *     Orthanc gave it, sealed, so that Orthanc's range reads of the header are answered
 *     without unmasking pixels and a whole read can tell an object moved under this name;
 *   - a DICOM attachment with no pixel-bearing element (nothing to mask), and every other
 *     attachment (JSON summaries...), is a sealed file (attachment_seal.h).
 * Reads authenticate before anything is returned; a changed byte, a wrong key or a file that
 * is not what the storage area writes (plaintext put there by hand) is refused, never
 * returned as noise.  Decryptions of DICOM objects and every refusal are audited (program
 * chaosmask-orthanc); the record of a decryption is written before the data is handed out.
 *
 * Results: 0 or a negative code from any layer, with err filled (cm_outcome_of() classifies
 * it).  Thread-safe: Orthanc calls these from many threads at once.
 */
#ifndef CHAOSMASK_ORTHANC_STORAGE_H
#define CHAOSMASK_ORTHANC_STORAGE_H

#include <stddef.h>
#include <stdint.h>

#include "chaosmask/app_audit.h"
#include "chaosmask/app_keys.h"
#include "chaosmask/config.h"
#include "chaosmask/dicom.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CMO_TYPE_DICOM 1u          /* Orthanc's content type of a DICOM instance */
#define CMO_HEADER_SUFFIX ".header"
#define CMO_UUID_MAX 64u

typedef struct cmo_storage {
    char dir[CM_PATH_MAX];         /* Orthanc's StorageDirectory, absolute */
    int profile;                   /* CM_PROFILE_... for new objects */
    cm_keys *keys;
    cm_audit *audit;
    cm_dicom_limits limits;
    int identity_policy;           /* CM_DICOM_IDENTITY_... */
} cmo_storage;

/* Where a whole read goes: alloc returns a buffer of size bytes owned by the caller (Orthanc's
 * memory buffer), or NULL. */
typedef struct cmo_sink {
    uint8_t *(*alloc)(void *self, uint64_t size);
    void *self;
} cmo_sink;

/* Creates dir (and its parents, 0700) when missing and checks that it is a writable
 * directory; fills s (keys and audit stay the caller's).  CM_APP_EIO with the path. */
int cmo_storage_init(cmo_storage *s, const char *dir, int profile, cm_keys *keys, cm_audit *audit,
                     const cm_dicom_limits *limits, int identity_policy, cm_error *err);

/* Stores content (size bytes) of content type `type` under uuid, durably. */
int cmo_storage_create(cmo_storage *s, const char *uuid, uint32_t type, const uint8_t *content, size_t size,
                       cm_error *err);
/* The attachment as Orthanc stored it (a DICOM object decrypted). */
int cmo_storage_read(cmo_storage *s, const char *uuid, uint32_t type, const cmo_sink *sink, cm_error *err);
/* Bytes [start, start + len) of the attachment into out. */
int cmo_storage_read_range(cmo_storage *s, const char *uuid, uint32_t type, uint64_t start, uint8_t *out,
                           size_t len, cm_error *err);
/* Removes the attachment's files; one already gone is not an error. */
int cmo_storage_remove(cmo_storage *s, const char *uuid, uint32_t type, cm_error *err);

/* DIR/aa/bb/UUID (suffix appended when not NULL); CM_APP_EUSAGE for a UUID that is not one. */
int cmo_storage_path(const cmo_storage *s, const char *uuid, const char *suffix, char out[CM_PATH_MAX],
                     cm_error *err);

#ifdef __cplusplus
}
#endif
#endif
