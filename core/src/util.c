/* util.c - error strings, profile names, randomness, wiping and constant-time comparison. */
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "internal.h"

const char *cm_strerror(int err)
{
    switch (err) {
    case CM_OK: return "success";
    case CM_EINVAL: return "invalid argument (NULL pointer, bad length or parameter)";
    case CM_EWIDTH: return "word width must be 1, 2, 4 or 8 bytes";
    case CM_ELENGTH: return "length is not a multiple of the word width";
    case CM_EPROFILE: return "unknown profile (expected lorenz, lorenz-chacha20 or aes-256-gcm)";
    case CM_EAUTH: return "authentication failed: wrong key or the data was changed";
    case CM_ECRYPTO: return "the crypto library failed";
    case CM_ENOMEM: return "out of memory";
    case CM_ETHREAD: return "could not start a worker thread";
    case CM_EVERSION: return "engine format version not known to this build";
    default: return "unknown error";
    }
}

const char *cm_profile_name(int profile)
{
    switch (profile) {
    case CM_PROFILE_LORENZ: return "lorenz";
    case CM_PROFILE_LORENZ_CHACHA20: return "lorenz-chacha20";
    case CM_PROFILE_AES_256_GCM: return "aes-256-gcm";
    default: return NULL;
    }
}

int cm_profile_from_name(const char *name)
{
    if (name == NULL)
        return CM_EPROFILE;
    for (int p = CM_PROFILE_LORENZ; p <= CM_PROFILE_AES_256_GCM; p++)
        if (strcmp(name, cm_profile_name(p)) == 0)
            return p;
    return CM_EPROFILE;
}

int cm_random(uint8_t *buf, size_t len)
{
    if (buf == NULL && len > 0)
        return CM_EINVAL;
    while (len > 0) {
        int chunk = len > (1u << 30) ? (1 << 30) : (int)len;
        if (RAND_bytes(buf, chunk) != 1)
            return CM_ECRYPTO;
        buf += chunk;
        len -= (size_t)chunk;
    }
    return CM_OK;
}

void cm_memzero(void *buf, size_t len)
{
    if (buf != NULL && len > 0)
        OPENSSL_cleanse(buf, len);
}

int cm_tag_verify(const uint8_t *expected, const uint8_t *actual, size_t len)
{
    if (expected == NULL || actual == NULL || len == 0)
        return CM_EINVAL;
    return CRYPTO_memcmp(expected, actual, len) == 0 ? CM_OK : CM_EAUTH;
}
