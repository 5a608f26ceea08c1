/* keyschedule.c - site key + nonce + context -> one object's material (HKDF-SHA256), and the
 * object's segment PRK + segment index -> one segment's Lorenz lanes and one-time MAC key. */
#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "internal.h"

#define ETA_LO 0.5
#define ETA_SPAN 1.0
#define PREAMBLE_MIN 128u

/* What differs between engine formats: the HKDF labels and the Lorenz parameter box.
 *
 * The fixed points C+- of the Lorenz system are stable below the Hopf value
 *   rho_H(sigma, beta) = sigma (sigma + beta + 3) / (sigma - beta - 1),
 * and a lane that falls into one stops producing chaos.  Format 1's box (sigma [9, 11),
 * rho [26, 32), beta [2.4, 3.0)) reaches rho_H = 27 at sigma 9, beta -> 3: about 1.2 % of its
 * objects have rho < rho_H.  It stays only so that old objects decrypt.
 *
 * Format 2: sigma [9, 11), rho [30, 34), beta [2.4, 2.8).  rho_H grows with beta and is
 * convex in sigma (rho_H = sigma + 2 beta + 4 + (beta + 1)(2 beta + 4) / (sigma - beta - 1)),
 * so its supremum over the box is at a sigma edge with beta -> 2.8: 25.67 (sigma 11).  Every
 * object has rho >= 30 > rho_H + 4.33 (rho >= 1.168 rho_H).  rho stays low on purpose: above
 * about 35 narrow periodic windows appear (one at sigma 9.58, rho 42.78, beta 2.71 traps
 * lanes on a stable cycle), long before the well-known ones from rho 99.5.  docs/engine.md
 * has the argument and the measurements; tests/core/test_chaotic_lanes.c checks the lanes. */
static const engine_format FORMATS[] = {
    {1, 9.0, 2.0, 26.0, 6.0, 2.4, 0.6, "ChaosMask v1 object", "ChaosMask v1 segment", "ChaosMask v1 subkey"},
    {2, 9.0, 2.0, 30.0, 4.0, 2.4, 0.4, "ChaosMask v2 object", "ChaosMask v2 segment", "ChaosMask v2 subkey"},
};

const engine_format *engine_format_get(unsigned engine_version)
{
    for (size_t i = 0; i < sizeof FORMATS / sizeof FORMATS[0]; i++)
        if (FORMATS[i].version == engine_version)
            return &FORMATS[i];
    return NULL;
}

static int hkdf(int mode, const uint8_t *key, size_t key_len, const uint8_t *salt, size_t salt_len,
                const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len)
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    if (kdf == NULL)
        return CM_ECRYPTO;
    EVP_KDF_CTX *kctx = EVP_KDF_CTX_new(kdf);
    EVP_KDF_free(kdf);
    if (kctx == NULL)
        return CM_ECRYPTO;
    OSSL_PARAM params[6], *p = params;
    *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
    *p++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)key, key_len);
    if (salt_len > 0)
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_len);
    *p = OSSL_PARAM_construct_end();
    int rc = EVP_KDF_derive(kctx, out, out_len, params) == 1 ? CM_OK : CM_ECRYPTO;
    EVP_KDF_CTX_free(kctx);
    return rc;
}

/* Layout of the object's HKDF output. */
enum {
    OM_SEGMENT_PRK = 0,
    OM_TAG_KEY = OM_SEGMENT_PRK + 32,
    OM_CIPHER_KEY = OM_TAG_KEY + 32,
    OM_CIPHER_IV = OM_CIPHER_KEY + 32,
    OM_CHAIN_FWD = OM_CIPHER_IV + 12,
    OM_CHAIN_BWD = OM_CHAIN_FWD + 512,
    OM_PARAMS = OM_CHAIN_BWD + 512, /* sigma, rho, beta, eta0..2: 6 x 8 bytes */
    OM_PREAMBLE = OM_PARAMS + 48,   /* 1 byte */
    OM_TOTAL = OM_PREAMBLE + 1
};

int cm_object_init(cm_object *obj, int profile, const uint8_t key[CM_KEYBYTES],
                   const uint8_t nonce[CM_NONCEBYTES], const uint8_t *context, size_t context_len)
{
    return cm_object_init_version(obj, CM_FORMAT_VERSION, profile, key, nonce, context, context_len);
}

int cm_object_init_version(cm_object *obj, unsigned engine_version, int profile,
                           const uint8_t key[CM_KEYBYTES], const uint8_t nonce[CM_NONCEBYTES],
                           const uint8_t *context, size_t context_len)
{
    if (obj == NULL || key == NULL || nonce == NULL || (context == NULL && context_len > 0) ||
        context_len > CM_MAX_CONTEXTBYTES)
        return CM_EINVAL;
    const engine_format *fmt = engine_format_get(engine_version);
    if (fmt == NULL)
        return CM_EVERSION;
    const char *pname = cm_profile_name(profile);
    if (pname == NULL)
        return CM_EPROFILE;

    /* info = label 0x00 profile 0x00 context: unambiguous since names hold no NUL. */
    uint8_t info[LABEL_MAX + 32 + CM_MAX_CONTEXTBYTES];
    size_t n = 0;
    const size_t llen = strlen(fmt->object_label) + 1;
    memcpy(info + n, fmt->object_label, llen);
    n += llen;
    size_t plen = strlen(pname) + 1;
    memcpy(info + n, pname, plen);
    n += plen;
    if (context_len > 0)
        memcpy(info + n, context, context_len);
    n += context_len;

    uint8_t om[OM_TOTAL];
    int rc = hkdf(EVP_KDF_HKDF_MODE_EXTRACT_AND_EXPAND, key, CM_KEYBYTES, nonce, CM_NONCEBYTES,
                  info, n, om, sizeof om);
    if (rc != CM_OK) {
        cm_memzero(om, sizeof om);
        return rc;
    }
    memset(obj, 0, sizeof *obj);
    obj->profile = profile;
    obj->engine_version = engine_version;
    memcpy(obj->nonce, nonce, CM_NONCEBYTES);
    memcpy(obj->segment_prk, om + OM_SEGMENT_PRK, 32);
    memcpy(obj->tag_key, om + OM_TAG_KEY, 32);
    memcpy(obj->cipher_key, om + OM_CIPHER_KEY, 32);
    memcpy(obj->cipher_iv, om + OM_CIPHER_IV, 12);
    memcpy(obj->chain_key_fwd, om + OM_CHAIN_FWD, sizeof obj->chain_key_fwd);
    memcpy(obj->chain_key_bwd, om + OM_CHAIN_BWD, sizeof obj->chain_key_bwd);
    obj->sigma = cm_unit_range(om + OM_PARAMS, fmt->sigma_lo, fmt->sigma_span);
    obj->rho = cm_unit_range(om + OM_PARAMS + 8, fmt->rho_lo, fmt->rho_span);
    obj->beta = cm_unit_range(om + OM_PARAMS + 16, fmt->beta_lo, fmt->beta_span);
    for (int k = 0; k < 3; k++)
        obj->eta[k] = cm_unit_range(om + OM_PARAMS + 24 + 8 * k, ETA_LO, ETA_SPAN);
    obj->preamble_steps = PREAMBLE_MIN + om[OM_PREAMBLE];
    cm_memzero(om, sizeof om);
    return CM_OK;
}

void cm_object_wipe(cm_object *obj)
{
    if (obj != NULL)
        cm_memzero(obj, sizeof *obj);
}

/* Segment HKDF output: lane states (3 x 8 bytes per lane), MAC key, word-chain keys. */
enum {
    SM_LANES = 0,
    SM_MAC_KEY = SM_LANES + 24 * CM_LANES,
    SM_CHAIN = SM_MAC_KEY + 32,
    SM_TOTAL = SM_CHAIN + 8
};

int segment_material_derive(const cm_object *obj, uint32_t segment_index, unsigned word_bytes,
                            segment_material *sm)
{
    const engine_format *fmt = engine_format_get(obj->engine_version);
    if (fmt == NULL)
        return CM_EVERSION;
    /* info = label 0x00 index(le32) word-bytes(le32) */
    uint8_t info[LABEL_MAX + 8];
    const size_t llen = strlen(fmt->segment_label) + 1;
    memcpy(info, fmt->segment_label, llen);
    cm_store_le32(info + llen, segment_index);
    cm_store_le32(info + llen + 4, word_bytes);
    uint8_t m[SM_TOTAL];
    int rc = hkdf(EVP_KDF_HKDF_MODE_EXPAND_ONLY, obj->segment_prk, 32, NULL, 0, info, llen + 8,
                  m, sizeof m);
    if (rc != CM_OK) {
        cm_memzero(m, sizeof m);
        return rc;
    }
    lorenz_lanes *L = &sm->lanes;
    /* Initial states inside the attractor's bounding box; the preamble takes them onto it. */
    for (unsigned i = 0; i < CM_LANES; i++) {
        L->x[i] = cm_unit_range(m + SM_LANES + 24 * i, -15.0, 30.0);
        L->y[i] = cm_unit_range(m + SM_LANES + 24 * i + 8, -20.0, 40.0);
        L->z[i] = cm_unit_range(m + SM_LANES + 24 * i + 16, 5.0, 40.0);
    }
    L->sigma = obj->sigma;
    L->rho = obj->rho;
    L->beta = obj->beta;
    memcpy(L->eta, obj->eta, sizeof L->eta);
    memcpy(sm->mac_key, m + SM_MAC_KEY, 32);
    memcpy(&sm->word_chain_key, m + SM_CHAIN, 4);
    memcpy(&sm->word_chain_key_bwd, m + SM_CHAIN + 4, 4);
    cm_memzero(m, sizeof m);
    sm->preamble_steps = obj->preamble_steps;
    return CM_OK;
}

void segment_lanes_start(segment_material *sm)
{
    lorenz_advance(&sm->lanes, sm->preamble_steps);
}

int cm_object_subkey(const cm_object *obj, const char *label, uint8_t *out, size_t out_len)
{
    if (obj == NULL || label == NULL || out == NULL || out_len == 0 || out_len > CM_MAX_SUBKEYBYTES)
        return CM_EINVAL;
    size_t label_len = 0;
    while (label_len <= CM_MAX_SUBKEY_LABEL && label[label_len] != '\0')
        label_len++;
    if (label_len == 0 || label_len > CM_MAX_SUBKEY_LABEL)
        return CM_EINVAL;
    const engine_format *fmt = engine_format_get(obj->engine_version);
    if (fmt == NULL)
        return CM_EVERSION;
    /* info = "ChaosMask vN subkey" 00 label.  A segment's info starts "ChaosMask vN segment"
     * 00: the two prefixes differ before their NUL, so no label can reproduce a segment's
     * material, nor one label another's. */
    uint8_t info[LABEL_MAX + CM_MAX_SUBKEY_LABEL];
    const size_t llen = strlen(fmt->subkey_label) + 1;
    memcpy(info, fmt->subkey_label, llen);
    memcpy(info + llen, label, label_len);
    return hkdf(EVP_KDF_HKDF_MODE_EXPAND_ONLY, obj->segment_prk, 32, NULL, 0, info, llen + label_len,
                out, out_len);
}
