/* attachment_seal.c - the sealed file of the Orthanc storage area (attachment_seal.h):
 * HKDF-SHA256 per-file key, AES-256-GCM, header and binding as associated data. */
#include <limits.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attachment_seal.h"
#include "chaosmask/app_outcome.h"
#include "chaosmask/chaosmask.h"
#include "chaosmask/dicom.h"

#define SEAL_INFO "ChaosMask Orthanc seal v1"
#define BINDING_MAX 128u

/* The parsed fixed fields of a sealed file. */
typedef struct seal_header {
    size_t header_len;        /* bytes before the ciphertext */
    char key_id[CM_KEYID_MAX];
    const uint8_t *salt, *nonce;
    uint64_t plain_len;
} seal_header;

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

int cmo_seal_is_sealed(const uint8_t *buf, size_t len)
{
    return len >= CMO_SEAL_MAGICBYTES && memcmp(buf, CMO_SEAL_MAGIC, CMO_SEAL_MAGICBYTES) == 0;
}

static size_t header_size(size_t key_id_len)
{
    return 12u + key_id_len + CMO_SEAL_SALTBYTES + CMO_SEAL_NONCEBYTES + 8u;
}

size_t cmo_seal_size(size_t len, const char *key_id)
{
    return header_size(strlen(key_id)) + len + CMO_SEAL_TAGBYTES;
}

static int derive_file_key(uint8_t out[32], const uint8_t key[CM_KEYBYTES], const uint8_t *salt)
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *ctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
    EVP_KDF_free(kdf);
    if (ctx == NULL)
        return -1;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)key, CM_KEYBYTES),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, CMO_SEAL_SALTBYTES),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)SEAL_INFO, sizeof SEAL_INFO - 1),
        OSSL_PARAM_construct_end()};
    int ok = EVP_KDF_derive(ctx, out, 32, params) == 1;
    EVP_KDF_CTX_free(ctx);
    return ok ? 0 : -1;
}

/* "orthanc:" UUID, then the content type and kind: what ties a file to its place. */
static size_t binding_bytes(uint8_t out[BINDING_MAX], const cmo_seal_binding *b)
{
    int n = snprintf((char *)out, BINDING_MAX - 8, "orthanc:%s", b->uuid);
    size_t len = n < 0 ? 0 : (size_t)n >= BINDING_MAX - 8 ? BINDING_MAX - 9 : (size_t)n;
    put_u64(out + len, ((uint64_t)b->kind << 32) | b->content_type);
    return len + 8;
}

/* One AES-256-GCM pass; encrypt = 1 writes tag, encrypt = 0 checks it.  0 or -1. */
static int gcm(int encrypt, uint8_t *out, const uint8_t *in, size_t len, const uint8_t file_key[32],
               const uint8_t *nonce, const uint8_t *aad, size_t aad_len, const uint8_t *bind, size_t bind_len,
               uint8_t *tag)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int ok = ctx != NULL && EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, file_key, nonce, encrypt) == 1;
    int n = 0;
    ok = ok && EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aad_len) == 1;
    ok = ok && EVP_CipherUpdate(ctx, NULL, &n, bind, (int)bind_len) == 1;
    /* GCM takes at most INT_MAX bytes per update call */
    for (size_t done = 0; ok && done < len;) {
        size_t chunk = len - done > (size_t)INT_MAX / 2 ? (size_t)INT_MAX / 2 : len - done;
        ok = EVP_CipherUpdate(ctx, out + done, &n, in + done, (int)chunk) == 1;
        done += chunk;
    }
    if (ok && !encrypt)
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, CMO_SEAL_TAGBYTES, tag) == 1;
    ok = ok && EVP_CipherFinal_ex(ctx, out + len, &n) == 1;
    if (ok && encrypt)
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, CMO_SEAL_TAGBYTES, tag) == 1;
    EVP_CIPHER_CTX_free(ctx);
    return ok ? 0 : -1;
}

int cmo_seal(uint8_t *out, const uint8_t *in, size_t len, const cmo_seal_binding *b, const char *key_id,
             const uint8_t key[CM_KEYBYTES], cm_error *err)
{
    size_t id_len = strlen(key_id);
    if (id_len == 0 || id_len >= CM_KEYID_MAX)
        return cm_fail(err, CM_APP_EINTERNAL, "key id '%s' cannot be recorded in a sealed file", key_id);
    uint8_t *p = out;
    memcpy(p, CMO_SEAL_MAGIC, CMO_SEAL_MAGICBYTES);
    p[8] = CMO_SEAL_VERSION;
    p[9] = CMO_SEAL_AES_256_GCM;
    p[10] = (uint8_t)b->kind;
    p[11] = (uint8_t)id_len;
    memcpy(p + 12, key_id, id_len);
    uint8_t *salt = p + 12 + id_len, *nonce = salt + CMO_SEAL_SALTBYTES;
    put_u64(nonce + CMO_SEAL_NONCEBYTES, (uint64_t)len);
    size_t hlen = header_size(id_len);
    if (cm_random(salt, CMO_SEAL_SALTBYTES + CMO_SEAL_NONCEBYTES) != 0)
        return cm_fail(err, CM_APP_EINTERNAL, "the random generator failed");
    uint8_t file_key[32], bind[BINDING_MAX];
    size_t bind_len = binding_bytes(bind, b);
    int rc = derive_file_key(file_key, key, salt) != 0 ||
             gcm(1, out + hlen, in, len, file_key, nonce, out, hlen, bind, bind_len, out + hlen + len) != 0;
    cm_memzero(file_key, sizeof file_key);
    if (rc != 0)
        return cm_fail(err, CM_APP_EINTERNAL, "AES-256-GCM (OpenSSL) failed while sealing");
    return 0;
}

static int parse_header(seal_header *h, const uint8_t *s, size_t len, cm_error *err)
{
    if (!cmo_seal_is_sealed(s, len) || len < 12)
        return cm_fail(err, CM_DICOM_EBLOCK, "not a ChaosMask sealed file (no magic)");
    if (s[8] != CMO_SEAL_VERSION || s[9] != CMO_SEAL_AES_256_GCM)
        return cm_fail(err, CM_DICOM_EBLOCK, "sealed file version %u, algorithm %u: this build reads version %u, "
                       "algorithm %u", s[8], s[9], CMO_SEAL_VERSION, CMO_SEAL_AES_256_GCM);
    size_t id_len = s[11];
    if (id_len == 0 || id_len >= CM_KEYID_MAX || len < header_size(id_len) + CMO_SEAL_TAGBYTES)
        return cm_fail(err, CM_DICOM_EBLOCK, "sealed file header damaged (key id length %zu, %zu bytes)", id_len, len);
    memcpy(h->key_id, s + 12, id_len);
    h->key_id[id_len] = '\0';
    if (!cm_keyid_valid(h->key_id))
        return cm_fail(err, CM_DICOM_EBLOCK, "sealed file header damaged (key id is not a key-ring id)");
    h->header_len = header_size(id_len);
    h->salt = s + 12 + id_len;
    h->nonce = h->salt + CMO_SEAL_SALTBYTES;
    h->plain_len = get_u64(h->nonce + CMO_SEAL_NONCEBYTES);
    if (h->plain_len != len - h->header_len - CMO_SEAL_TAGBYTES)
        return cm_fail(err, CM_DICOM_EBLOCK, "sealed file of %zu bytes claims %llu bytes of content (truncated or "
                       "extended)", len, (unsigned long long)h->plain_len);
    return 0;
}

int cmo_seal_plain_length(const uint8_t *sealed, size_t sealed_len, uint64_t *plain_len, cm_error *err)
{
    seal_header h;
    int rc = parse_header(&h, sealed, sealed_len, err);
    if (rc == 0)
        *plain_len = h.plain_len;
    return rc;
}

int cmo_unseal(uint8_t *out, const uint8_t *sealed, size_t sealed_len, const cmo_seal_binding *b, cm_keys *keys,
               char key_id_out[CM_KEYID_MAX], cm_error *err)
{
    seal_header h;
    int rc = parse_header(&h, sealed, sealed_len, err);
    if (rc != 0)
        return rc;
    if (key_id_out != NULL)
        snprintf(key_id_out, CM_KEYID_MAX, "%s", h.key_id);
    uint8_t key[CM_KEYBYTES], file_key[32], bind[BINDING_MAX], tag[CMO_SEAL_TAGBYTES];
    rc = cm_keys_get(keys, h.key_id, key, NULL, err);
    if (rc != 0)
        return rc;
    size_t bind_len = binding_bytes(bind, b);
    memcpy(tag, sealed + h.header_len + h.plain_len, sizeof tag);
    rc = derive_file_key(file_key, key, h.salt);
    cm_memzero(key, sizeof key);
    if (rc != 0)
        return cm_fail(err, CM_APP_EINTERNAL, "HKDF (OpenSSL) failed while opening a sealed file");
    rc = gcm(0, out, sealed + h.header_len, (size_t)h.plain_len, file_key, h.nonce, sealed, h.header_len, bind,
             bind_len, tag);
    cm_memzero(file_key, sizeof file_key);
    if (rc != 0) {
        memset(out, 0, (size_t)h.plain_len);
        return cm_fail(err, CM_DICOM_EAUTH, "sealed file does not authenticate with key '%s': changed, moved from "
                       "another attachment, or a wrong key", h.key_id);
    }
    return 0;
}
