/* storage_internal.h - what the storage area's write side (orthanc_storage.c) and read side
 * (orthanc_read.c) share: file access and audit records. */
#ifndef CHAOSMASK_ORTHANC_STORAGE_INTERNAL_H
#define CHAOSMASK_ORTHANC_STORAGE_INTERNAL_H

#include "attachment_seal.h"
#include "orthanc_storage.h"

/* The content of UUID.header (sealed, kind CMO_SEAL_HEADER): one byte n, the object's SOP
 * Instance UID (n bytes), then the leading bytes of the object as Orthanc gave it.  The UID
 * lets a whole read check that the object under this UUID is the one Orthanc stored there. */
#define CMO_UID_MAX 64u

typedef struct cmo_header_copy {
    uint8_t *buf;              /* the opened content (wipe and free with cmo_header_copy_free) */
    size_t len;
    char sop_uid[CMO_UID_MAX + 1];
    const uint8_t *prefix;     /* into buf */
    size_t prefix_len;
} cmo_header_copy;

/* Opens UUID.header: 0, 1 when there is none, or the reason it does not open (damaged,
 * changed, emptied by a crash). */
int cmo_header_copy_open(cmo_storage *s, const char *uuid, cmo_header_copy *h, cm_error *err);
void cmo_header_copy_free(cmo_header_copy *h);

/* Reads the regular file path whole (at most max bytes) into a malloc'ed buffer; ENOENT and
 * every other failure are CM_APP_EIO naming the path. */
int cmo_read_file(const char *path, uint64_t max, uint8_t **buf, size_t *len, cm_error *err);

/* The most a stored file may hold: the configured object size plus a sealed file's overhead. */
uint64_t cmo_max_file(const cmo_storage *s);

/* One audit record about an attachment: event "encrypt" (a store) or "decrypt" (a read),
 * code 0 or the refusal; rep may be NULL.  0 or the audit log's error. */
int cmo_audit(cmo_storage *s, const char *event, const char *path, const char *uuid, uint32_t type,
              const cm_dicom_report *rep, const cm_error *failure, long long bytes);

#endif
