/*
 * attachment_seal.h - the sealed file of the Orthanc storage area: a whole attachment that is
 * not a maskable DICOM object (Orthanc's JSON summaries, DICOM objects without pixel data,
 * the header prefix kept beside a DICOM object) under AES-256-GCM, never stored plain.
 *
 * Layout (all integers little-endian; docs/orthanc.md, "Sealed files"):
 *   0   8  magic  89 'C' 'M' 'S' 'E' 'A' 'L' 0A
 *   8   1  version        1
 *   9   1  algorithm      1 = AES-256-GCM
 *   10  1  kind           CMO_SEAL_ATTACHMENT or CMO_SEAL_HEADER
 *   11  1  key id length  n, 1..63
 *   12  n  key id         the key-ring key the file key was derived from
 *   ..  16 salt           random, per file
 *   ..  12 nonce          random, per file
 *   ..  8  length         of the plaintext
 *   ..     ciphertext     length bytes
 *   ..  16 tag            GCM tag
 * File key = HKDF-SHA256(ring key, salt, "ChaosMask Orthanc seal v1", 32 bytes): a fresh key
 * per file, so nonces never meet twice under one key.  Associated data = every header byte
 * || "orthanc:" || the attachment's UUID || its content type (u32): a sealed file moved
 * under another attachment's name, or a header prefix passed off as a whole attachment,
 * fails authentication.
 *
 * Results: 0 or a negative code with err filled: CM_DICOM_EAUTH (wrong key, changed byte),
 * CM_DICOM_EBLOCK (not a sealed file, unknown version, inconsistent length), a key-ring code
 * (CM_CFG_E...) passed through, CM_APP_ENOMEM, CM_APP_EINTERNAL.  Thread-safe.
 */
#ifndef CHAOSMASK_ATTACHMENT_SEAL_H
#define CHAOSMASK_ATTACHMENT_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "chaosmask/app_keys.h"
#include "chaosmask/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CMO_SEAL_MAGIC "\x89" "CMSEAL\n"
#define CMO_SEAL_MAGICBYTES 8u
#define CMO_SEAL_VERSION 1u
#define CMO_SEAL_AES_256_GCM 1u
#define CMO_SEAL_SALTBYTES 16u
#define CMO_SEAL_NONCEBYTES 12u
#define CMO_SEAL_TAGBYTES 16u
#define CMO_SEAL_HEADER_MAX (12u + 63u + CMO_SEAL_SALTBYTES + CMO_SEAL_NONCEBYTES + 8u)

typedef enum cmo_seal_kind {
    CMO_SEAL_ATTACHMENT = 1, /* the whole attachment */
    CMO_SEAL_HEADER = 2      /* the first bytes of a DICOM attachment, for range reads */
} cmo_seal_kind;

/* What binds a sealed file to its place. */
typedef struct cmo_seal_binding {
    const char *uuid;        /* the attachment's UUID */
    uint32_t content_type;   /* Orthanc's content type number */
    cmo_seal_kind kind;
} cmo_seal_binding;

/* 1 when buf (len bytes) starts with the magic. */
int cmo_seal_is_sealed(const uint8_t *buf, size_t len);

/* Bytes of the sealed form of len plaintext bytes under key id key_id. */
size_t cmo_seal_size(size_t len, const char *key_id);

/* Seals in[0..len) into out (cmo_seal_size bytes) under the key-ring key id/key. */
int cmo_seal(uint8_t *out, const uint8_t *in, size_t len, const cmo_seal_binding *b, const char *key_id,
             const uint8_t key[CM_KEYBYTES], cm_error *err);

/* The plaintext length a sealed file claims, after checking its header and total size. */
int cmo_seal_plain_length(const uint8_t *sealed, size_t sealed_len, uint64_t *plain_len, cm_error *err);

/* Authenticates and opens sealed (sealed_len bytes) into out (cmo_seal_plain_length bytes),
 * taking the key it names from keys.  On any failure out holds no plaintext (zeros). */
int cmo_unseal(uint8_t *out, const uint8_t *sealed, size_t sealed_len, const cmo_seal_binding *b, cm_keys *keys,
               char key_id_out[CM_KEYID_MAX], cm_error *err);

#ifdef __cplusplus
}
#endif
#endif
