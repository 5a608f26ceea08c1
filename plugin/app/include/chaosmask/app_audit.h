/*
 * app_audit.h - the audit log: one JSON line per security event (store, decryption,
 * verification, refusal, key change, association, query, retrieval), appended atomically.
 *
 * A line is built in memory and written with one write(2) on a descriptor opened with
 * O_APPEND, so lines of concurrent writers (threads, forked service children) never
 * interleave on a local file system.  With fsync_each (the default, [log] audit_fsync = yes)
 * every line is on disk (fdatasync) before the call returns; otherwise the kernel writes it
 * back at its pace.  The file is created 0600; it may not be a symbolic link, writable by
 * others, or owned by someone other than the user or root.  When it is renamed away (log
 * rotation), the next line goes to a new file of the configured name.
 *
 * Records never hold pixel data or key material: only the fields below.  Field reference:
 * README.md ("The application layer and the audit log") and INSTALL.md section 8.
 */
#ifndef CHAOSMASK_APP_AUDIT_H
#define CHAOSMASK_APP_AUDIT_H

#include "chaosmask/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cm_audit cm_audit;

/* Opens (creates) the log at path; an empty path gives a log that records nothing.
 * CM_APP_EAUDIT with a message on failure. */
int cm_audit_open(cm_audit **out, const char *path, int fsync_each, const char *program, cm_error *err);
void cm_audit_close(cm_audit *a); /* NULL ok */
int cm_audit_enabled(const cm_audit *a);

typedef struct cm_audit_event {
    const char *event;         /* "encrypt", "decrypt", "verify", "rebind", "keygen", "key-activate",
                                  "migrate"; the service: "service", "association", "association-end",
                                  "store", "find", "retrieve-request", "retrieve", "child", "reindex" */
    int code;                  /* 0, or the failure code: gives outcome and reason */
    const char *message;       /* what failed (the error message); NULL when ok */
    const char *outcome;       /* NULL: "ok", "refused" or "failed" from code */
    const char *file;          /* input file, absolute when known */
    const char *output;        /* file written */
    const char *sop_class_uid;
    const char *sop_instance_uid;
    const char *study_instance_uid;
    const char *key_id;
    const char *profile;
    const char *peer_ae;       /* service: the calling AE */
    const char *peer_address;
    const char *called_ae;     /* service: the AE title the peer called */
    const char *tls_subject;   /* service: the subject of the peer's TLS certificate */
    const char *operation;     /* service: "C-STORE", "C-FIND", "C-GET", "C-MOVE"... */
    const char *transfer_syntax;
    const char *level;         /* C-FIND, C-GET, C-MOVE: PATIENT, STUDY, SERIES, IMAGE */
    const char *mode;          /* retrieval: "decrypted", "encrypted", "no" */
    const char *destination;   /* C-MOVE: the destination AE title */
    const char *detail;        /* one more fact, e.g. "patient identity changed: PatientID (allowed)" */
    int status;                /* service: the DICOM status sent (-1 not applicable), as "0xA700" */
    int tls;                   /* -1 not applicable, 0 no, 1 yes */
    long long bytes;           /* -1 not applicable */
    long long count;           /* -1 not applicable (query matches, sub-operations) */
} cm_audit_event;

/* An event with every optional field empty (status, tls, bytes, count -1). */
cm_audit_event cm_audit_event_init(const char *event);

/* Appends one line.  0, or CM_APP_EIO with a message (the caller decides what a failed audit
 * record means for the operation: the file commands refuse to leave a decrypted output
 * without its record). */
int cm_audit_write(cm_audit *a, const cm_audit_event *ev, cm_error *err);

#ifdef __cplusplus
}
#endif
#endif
