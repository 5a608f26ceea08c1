/* storage_internal.h - what the storage area's write side (orthanc_storage.c) and read side
 * (orthanc_read.c) share: file access and audit records. */
#ifndef CHAOSMASK_ORTHANC_STORAGE_INTERNAL_H
#define CHAOSMASK_ORTHANC_STORAGE_INTERNAL_H

#include "attachment_seal.h"
#include "orthanc_storage.h"

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
