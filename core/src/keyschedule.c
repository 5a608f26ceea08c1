/* keyschedule.c - site key + nonce + context -> one object's material (HKDF-SHA256), and the
 * object's segment PRK + segment index -> one segment's Lorenz lanes and one-time MAC key. */
#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "internal.h"

/* Chaotic parameter box, checked by tests/core/test_lyapunov.c (largest Lyapunov exponent
 * > 0.5 at every corner and on a grid inside): sigma in [9, 11), rho in [26, 32),
 * beta in [2.4, 3.0).  The classic (10, 28, 8/3) lies inside. */
#define SIGMA_LO 9.0
#define SIGMA_SPAN 2.0
#define RHO_LO 26.0
#define RHO_SPAN 6.0
#define BETA_LO 2.4
#define BETA_SPAN 0.6
#define ETA_LO 0.5
#define ETA_SPAN 1.0
#define PREAMBLE_MIN 128u

static const char OBJECT_LABEL[] = "ChaosMask v1 object";
static const char SEGMENT_LABEL[] = "ChaosMask v1 segment";

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
    if (obj == NULL || key == NULL || nonce == NULL || (context == NULL && context_len > 0) ||
        context_len > CM_MAX_CONTEXTBYTES)
        return CM_EINVAL;
    const char *pname = cm_profile_name(profile);
    if (pname == NULL)
        return CM_EPROFILE;

    /* info = label 0x00 profile 0x00 context: unambiguous since names hold no NUL. */
    uint8_t info[sizeof OBJECT_LABEL + 32 + CM_MAX_CONTEXTBYTES];
    size_t n = 0;
    memcpy(info + n, OBJECT_LABEL, sizeof OBJECT_LABEL);
    n += sizeof OBJECT_LABEL;
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
    memcpy(obj->nonce, nonce, CM_NONCEBYTES);
    memcpy(obj->segment_prk, om + OM_SEGMENT_PRK, 32);
    memcpy(obj->tag_key, om + OM_TAG_KEY, 32);
    memcpy(obj->cipher_key, om + OM_CIPHER_KEY, 32);
    memcpy(obj->cipher_iv, om + OM_CIPHER_IV, 12);
    memcpy(obj->chain_key_fwd, om + OM_CHAIN_FWD, sizeof obj->chain_key_fwd);
    memcpy(obj->chain_key_bwd, om + OM_CHAIN_BWD, sizeof obj->chain_key_bwd);
    obj->sigma = cm_unit_range(om + OM_PARAMS, SIGMA_LO, SIGMA_SPAN);
    obj->rho = cm_unit_range(om + OM_PARAMS + 8, RHO_LO, RHO_SPAN);
    obj->beta = cm_unit_range(om + OM_PARAMS + 16, BETA_LO, BETA_SPAN);
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
    uint8_t info[sizeof SEGMENT_LABEL + 8];
    memcpy(info, SEGMENT_LABEL, sizeof SEGMENT_LABEL);
    cm_store_le32(info + sizeof SEGMENT_LABEL, segment_index);
    cm_store_le32(info + sizeof SEGMENT_LABEL + 4, word_bytes);
    uint8_t m[SM_TOTAL];
    int rc = hkdf(EVP_KDF_HKDF_MODE_EXPAND_ONLY, obj->segment_prk, 32, NULL, 0, info, sizeof info,
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
