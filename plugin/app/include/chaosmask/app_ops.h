/*
 * app_ops.h - the file operations every program shares (the `chaosmask` file commands, the
 * archive migration): read an object, run one dicom/ operation with the program's keys,
 * pool and limits, write the result with the one atomic writer, and record the audit line.
 * They decide a result and describe it in cm_op_result; printing it is the caller's job.
 *
 * Writing rules: an output is written through a temporary file in its directory (fsync,
 * rename, fsync of the directory); in place (out == in, or a symbolic link to it: the file
 * behind the link is replaced) the replaced file keeps its owner, group, mode and mtime; a
 * decrypted object written to a new file is created 0600 whatever the umask (it is PHI).
 * Audit: every encrypt, decrypt, verify and rebind, and every refusal, is one line; the line
 * of a decryption is written before its output appears, so no decrypted file exists without
 * its record (a failed record aborts the decryption).
 */
#ifndef CHAOSMASK_APP_OPS_H
#define CHAOSMASK_APP_OPS_H

#include "chaosmask/app.h"
#include "chaosmask/dicom.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cm_op_result {
    int code;                   /* 0, or the failure code (any layer); cm_outcome_of() classifies it */
    cm_error err;               /* the message when code != 0 */
    int already_encrypted;      /* encrypt: the input was already encrypted (left, or copied as verified) */
    const char *skipped;        /* rekey: why nothing was done ("current-key", "other-key", "not-encrypted") */
    int wrote;                  /* an output file was written */
    char output[CM_PATH_MAX];   /* what was written (the real file for in place) */
    cm_dicom_report report;
    double seconds;
} cm_op_result;

typedef struct cm_op_encrypt_opts {
    int profile;                /* CM_PROFILE_... */
    const char *key_id;         /* NULL: the active key */
    int force;                  /* encrypt what looks like a mask already */
} cm_op_encrypt_opts;

/* out == in (same string): in place.  out NULL: nothing written (dry run / check). */
int cm_op_encrypt_file(cm_app *app, const char *in, const char *out, const cm_op_encrypt_opts *o, cm_op_result *r);
int cm_op_decrypt_file(cm_app *app, const char *in, const char *out, cm_op_result *r);
int cm_op_verify_file(cm_app *app, const char *in, cm_op_result *r);
/* Re-encrypts an encrypted object under the active key (and `profile`), in memory: no
 * plaintext is ever written.  Objects already under the active key, or (from_id given) under
 * another key than from_id, are left alone with r->skipped set. */
int cm_op_rekey_file(cm_app *app, const char *in, const char *out, const char *from_id, int profile,
                     cm_op_result *r);
/* In place: records the current patient identity in the block (format 2). */
int cm_op_rebind_file(cm_app *app, const char *in, cm_op_result *r);
/* No key needed, nothing audited. */
int cm_op_inspect_file(cm_app *app, const char *in, cm_dicom_info *info, cm_op_result *r);

/* The structure limits of the configuration ([dicom] max_depth, max_elements, max_object_size). */
cm_dicom_limits cm_app_limits(const cm_app *app);

#ifdef __cplusplus
}
#endif
#endif
