/* mask.c - one segment: lossless masking with forward and backward nonlinear chaining,
 * the ChaCha20 layer, the AES-256-GCM profile, segment tags and the object tag.
 *
 * Segment layout: 512-byte blocks; the last block (1..512 bytes) may be partial.
 *   forward, block j < last:  c_j = p_j + k_j + g(c_{j-1}, Kf)          (word-wise mod 2^B)
 *   forward, last block:      c[i] = p[i] + k[i] + G[i] + s_i,  s_{i+1} = F(s_i + c[i])
 *   backward, last block:     d[i] = c[i] + t_i (descending),   t_{i-1} = F(t_i + d[i])
 *   backward, block j < last: d_j = c_j + g(d_{j+1}, Kb)                 (descending)
 * g mixes a whole block (every output word depends on every input word); F is fmix32/64, a
 * bijection, and s_0, t_last are per-segment keys.
 * A change anywhere therefore reaches every word: forward carries it to the end of the
 * segment, the last block's chains spread it over that block, backward carries it to the
 * start.  Decryption undoes both passes in one ascending sweep. */
#include <openssl/evp.h>

#include "internal.h"

#define KS_CHUNK_BLOCKS 8u /* keystream generated 4 KiB at a time */

/* g: a keyed block mix, G[i] = fmix32(prev[i] ^ key[i] ^ t) over 32-bit lanes, where t, the
 * sum of all (prev ^ key), carries every input word into every output word. */
static inline __attribute__((always_inline)) uint32_t chain_sum(const uint8_t *prev, const uint8_t *key)
{
    uint32_t t = 0;
    for (unsigned i = 0; i < CM_BLOCKBYTES; i += 4) {
        uint32_t v, k;
        memcpy(&v, prev + i, 4);
        memcpy(&k, key + i, 4);
        t += v ^ k;
    }
    return t;
}

static inline __attribute__((always_inline)) uint32_t chain_lane(const uint8_t *prev, const uint8_t *key,
                                                                  uint32_t t, unsigned i)
{
    uint32_t v, k;
    memcpy(&v, prev + i, 4);
    memcpy(&k, key + i, 4);
    return cm_fmix32(v ^ k ^ t);
}

/* 32-byte vectors (GCC/clang vector extensions): word adds of every width become one
 * instruction (vpaddb/w/d/q with AVX2, two SSE2 instructions on the baseline clone). */
typedef uint8_t v32u8 __attribute__((vector_size(32)));
typedef uint16_t v16u16 __attribute__((vector_size(32)));
typedef uint32_t v8u32 __attribute__((vector_size(32)));
typedef uint64_t v4u64 __attribute__((vector_size(32)));

/* fmix32 on every lane (a macro: vectors passed by value would change the ABI per clone) */
#define FMIX32_V(h)                                                                           \
    do {                                                                                      \
        (h) ^= (h) >> 16;                                                                     \
        (h) *= 0x85ebca6bu;                                                                   \
        (h) ^= (h) >> 13;                                                                     \
        (h) *= 0xc2b2ae35u;                                                                   \
        (h) ^= (h) >> 16;                                                                     \
    } while (0)

/* dst = a + b + g(prev, key)  (sub: a - b - g), word-wise modulo 2^(8w), one full block;
 * b may be NULL for zero; t = chain_sum(prev, key).  dst may be a; prev must not overlap dst.
 * Returns the sum of (dst ^ sum_key) over 32-bit lanes - the t of the block that will take dst
 * as its prev - so no block is read twice (sum_key NULL: 0). */
#define BLOCK_CHAIN_LOOP(VT)                                                                  \
    for (unsigned i = 0; i < CM_BLOCKBYTES; i += 32) {                                        \
        v8u32 v, k, x, y = {0};                                                               \
        memcpy(&v, prev + i, 32);                                                             \
        memcpy(&k, key + i, 32);                                                              \
        memcpy(&x, a + i, 32);                                                                \
        if (b != NULL)                                                                        \
            memcpy(&y, b + i, 32);                                                            \
        v8u32 g = v ^ k ^ t;                                                                  \
        FMIX32_V(g);                                                                          \
        const v8u32 r = (v8u32)(sub ? (VT)x - (VT)y - (VT)g : (VT)x + (VT)y + (VT)g);         \
        memcpy(dst + i, &r, 32);                                                              \
        if (sum_key != NULL) {                                                                \
            v8u32 sk;                                                                         \
            memcpy(&sk, sum_key + i, 32);                                                     \
            acc += r ^ sk;                                                                    \
        }                                                                                     \
    }

static inline __attribute__((always_inline)) uint32_t block_chain(uint8_t *dst, const uint8_t *a, const uint8_t *b,
                                                                  const uint8_t *prev, const uint8_t *key, uint32_t t,
                                                                  const uint8_t *sum_key, unsigned w, int sub)
{
    v8u32 acc = {0};
    switch (w) {
    case 1: BLOCK_CHAIN_LOOP(v32u8); break;
    case 2: BLOCK_CHAIN_LOOP(v16u16); break;
    case 4: BLOCK_CHAIN_LOOP(v8u32); break;
    default: BLOCK_CHAIN_LOOP(v4u64); break;
    }
    uint32_t sum = 0;
    for (unsigned l = 0; l < 8; l++)
        sum += acc[l];
    return sum;
}

/* The whole G block, for the last (word-chained) block. */
static inline __attribute__((always_inline)) void chain_mix(uint8_t G[CM_BLOCKBYTES],
                                                            const uint8_t prev[CM_BLOCKBYTES],
                                                            const uint8_t key[CM_BLOCKBYTES])
{
    const uint32_t t = chain_sum(prev, key);
    for (unsigned i = 0; i < CM_BLOCKBYTES; i += 4) {
        uint32_t g = chain_lane(prev, key, t, i);
        memcpy(G + i, &g, 4);
    }
}

/* The last block's word chains carry a running state that absorbs each word through a
 * bijection (fmix of state + word), so two different words never give the same state and a
 * difference, once in, reaches every later word of the chain. */
static inline __attribute__((always_inline)) uint64_t chain_absorb(uint64_t state, uint64_t word,
                                                                   unsigned word_bytes)
{
    if (word_bytes == 8)
        return cm_fmix64(state + word);
    return cm_fmix32((uint32_t)state + (uint32_t)word);
}

static uint64_t load_word(const uint8_t *p, unsigned w)
{
    uint64_t v = 0;
    memcpy(&v, p, w);
    return v;
}

static void store_word(uint8_t *p, uint64_t v, unsigned w) { memcpy(p, &v, w); }

static uint64_t word_mask(unsigned w) { return w == 8 ? ~(uint64_t)0 : ((uint64_t)1 << (8 * w)) - 1; }

static const uint8_t ZERO_BLOCK[CM_BLOCKBYTES];

/* Keystream blocks handed out one at a time from a 4 KiB buffer. */
typedef struct keystream_cursor {
    lorenz_lanes lanes;
    uint8_t buf[KS_CHUNK_BLOCKS * CM_BLOCKBYTES];
    size_t remaining_blocks; /* blocks of the segment not yet generated */
    unsigned next, filled;
} keystream_cursor;

static inline __attribute__((always_inline)) const uint8_t *keystream_next(keystream_cursor *ks)
{
    if (ks->next == ks->filled) {
        size_t n = ks->remaining_blocks < KS_CHUNK_BLOCKS ? ks->remaining_blocks : KS_CHUNK_BLOCKS;
        lorenz_keystream_blocks(&ks->lanes, ks->buf, n);
        ks->remaining_blocks -= n;
        ks->filled = (unsigned)n;
        ks->next = 0;
    }
    return ks->buf + CM_BLOCKBYTES * ks->next++;
}

CM_HOT static void mask_segment(const cm_object *obj, const segment_material *sm, unsigned w,
                         uint8_t *out, const uint8_t *in, size_t len)
{
    const size_t nblk = (len + CM_BLOCKBYTES - 1) / CM_BLOCKBYTES;
    if (nblk == 0)
        return;
    keystream_cursor ks = {.lanes = sm->lanes, .remaining_blocks = nblk};
    uint8_t G[CM_BLOCKBYTES];
    const uint8_t *prev = ZERO_BLOCK, *kf = obj->chain_key_fwd, *kb = obj->chain_key_bwd;
    uint32_t t = chain_sum(prev, kf);
    for (size_t j = 0; j + 1 < nblk; j++) {
        t = block_chain(out + CM_BLOCKBYTES * j, in + CM_BLOCKBYTES * j, keystream_next(&ks), prev, kf, t,
                        kf, w, 0);
        prev = out + CM_BLOCKBYTES * j;
    }
    /* Last block: word chain forward, then backward. */
    const size_t base = CM_BLOCKBYTES * (nblk - 1), r = len - base, m = r / w;
    const uint64_t mask = word_mask(w);
    chain_mix(G, prev, obj->chain_key_fwd);
    const uint8_t *k = keystream_next(&ks);
    uint64_t state = sm->word_chain_key;
    for (size_t i = 0; i < m; i++) {
        uint64_t c = (load_word(in + base + i * w, w) + load_word(k + i * w, w) +
                      load_word(G + i * w, w) + state) & mask;
        store_word(out + base + i * w, c, w);
        state = chain_absorb(state, c, w);
    }
    state = sm->word_chain_key_bwd;
    for (size_t i = m; i-- > 0;) {
        uint64_t d = (load_word(out + base + i * w, w) + state) & mask;
        store_word(out + base + i * w, d, w);
        state = chain_absorb(state, d, w);
    }
    /* Backward over the full blocks. */
    uint8_t padded[CM_BLOCKBYTES];
    const uint8_t *next = out + base;
    if (r < CM_BLOCKBYTES) {
        memset(padded, 0, sizeof padded);
        memcpy(padded, out + base, r);
        next = padded;
    }
    t = chain_sum(next, kb);
    for (size_t j = nblk - 1; j-- > 0;) {
        t = block_chain(out + CM_BLOCKBYTES * j, out + CM_BLOCKBYTES * j, NULL, next, kb, t, kb, w, 0);
        next = out + CM_BLOCKBYTES * j;
    }
    cm_memzero(&ks, sizeof ks);
    cm_memzero(G, sizeof G);
}

/* Inverse of mask_segment in one ascending sweep; in and out may be the same buffer. */
CM_HOT static void unmask_segment(const cm_object *obj, const segment_material *sm, unsigned w,
                           uint8_t *out, const uint8_t *in, size_t len)
{
    const size_t nblk = (len + CM_BLOCKBYTES - 1) / CM_BLOCKBYTES;
    if (nblk == 0)
        return;
    keystream_cursor ks = {.lanes = sm->lanes, .remaining_blocks = nblk};
    const size_t base = CM_BLOCKBYTES * (nblk - 1), r = len - base, m = r / w;
    uint8_t G[CM_BLOCKBYTES], cprev[CM_BLOCKBYTES], ccur[CM_BLOCKBYTES], padded[CM_BLOCKBYTES];
    memset(cprev, 0, sizeof cprev);
    const uint8_t *kf = obj->chain_key_fwd, *kb = obj->chain_key_bwd;
    uint32_t tf = chain_sum(cprev, kf);
    for (size_t j = 0; j + 1 < nblk; j++) {
        const uint8_t *next = in + CM_BLOCKBYTES * (j + 1);
        if (j + 2 == nblk && r < CM_BLOCKBYTES) {
            memset(padded, 0, sizeof padded);
            memcpy(padded, next, r);
            next = padded;
        }
        const uint32_t tf_next = block_chain(ccur, in + CM_BLOCKBYTES * j, NULL, next, kb, chain_sum(next, kb),
                                             kf, w, 1);
        block_chain(out + CM_BLOCKBYTES * j, ccur, keystream_next(&ks), cprev, kf, tf, NULL, w, 1);
        memcpy(cprev, ccur, sizeof cprev);
        tf = tf_next;
    }
    const uint64_t mask = word_mask(w);
    chain_mix(G, cprev, obj->chain_key_fwd);
    const uint8_t *k = keystream_next(&ks);
    /* the backward chain runs descending: undo it into clast first */
    uint8_t clast[CM_BLOCKBYTES];
    uint64_t state = sm->word_chain_key_bwd;
    for (size_t i = m; i-- > 0;) {
        uint64_t d = load_word(in + base + i * w, w);
        store_word(clast + i * w, (d - state) & mask, w);
        state = chain_absorb(state, d, w);
    }
    state = sm->word_chain_key;
    for (size_t i = 0; i < m; i++) {
        uint64_t c = load_word(clast + i * w, w);
        uint64_t p = (c - load_word(k + i * w, w) - load_word(G + i * w, w) - state) & mask;
        store_word(out + base + i * w, p, w);
        state = chain_absorb(state, c, w);
    }
    cm_memzero(clast, sizeof clast);
    cm_memzero(&ks, sizeof ks);
    cm_memzero(ccur, sizeof ccur);
    cm_memzero(cprev, sizeof cprev);
    cm_memzero(G, sizeof G);
}

/* ---- OpenSSL layers ---- */

static void segment_iv(const cm_object *obj, uint32_t segment_index, uint8_t iv[12])
{
    memcpy(iv, obj->cipher_iv, 12);
    uint8_t idx[4];
    cm_store_le32(idx, segment_index);
    for (int i = 0; i < 4; i++)
        iv[i] ^= idx[i];
}

/* EVP update over a buffer larger than INT_MAX, in place or not. */
static int evp_update_all(EVP_CIPHER_CTX *ctx, uint8_t *out, const uint8_t *in, size_t len)
{
    while (len > 0) {
        int chunk = len > (1u << 30) ? (1 << 30) : (int)len, outl = 0;
        if (EVP_CipherUpdate(ctx, out, &outl, in, chunk) != 1 || outl != chunk)
            return CM_ECRYPTO;
        out += chunk;
        in += chunk;
        len -= (size_t)chunk;
    }
    return CM_OK;
}

/* XOR with ChaCha20(cipher_key, counter 0, nonce = segment IV): its own inverse. */
static int chacha20_layer(const cm_object *obj, uint32_t segment_index, uint8_t *out,
                          const uint8_t *in, size_t len)
{
    uint8_t iv[16] = {0};
    segment_iv(obj, segment_index, iv + 4);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL)
        return CM_ENOMEM;
    int rc = EVP_EncryptInit_ex(ctx, EVP_chacha20(), NULL, obj->cipher_key, iv) == 1
                 ? evp_update_all(ctx, out, in, len)
                 : CM_ECRYPTO;
    EVP_CIPHER_CTX_free(ctx);
    return rc;
}

static int poly1305_tag(const uint8_t key[32], const uint8_t *data, size_t len, uint8_t tag[CM_SEGTAGBYTES])
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "POLY1305", NULL);
    if (mac == NULL)
        return CM_ECRYPTO;
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);
    if (ctx == NULL)
        return CM_ENOMEM;
    uint8_t lenbuf[8];
    cm_store_le64(lenbuf, (uint64_t)len);
    size_t outl = 0;
    int ok = EVP_MAC_init(ctx, key, 32, NULL) == 1 && (len == 0 || EVP_MAC_update(ctx, data, len) == 1) &&
             EVP_MAC_update(ctx, lenbuf, sizeof lenbuf) == 1 &&
             EVP_MAC_final(ctx, tag, &outl, CM_SEGTAGBYTES) == 1 && outl == CM_SEGTAGBYTES;
    EVP_MAC_CTX_free(ctx);
    return ok ? CM_OK : CM_ECRYPTO;
}

/* AES-256-GCM over one segment.  enc: 1 encrypt (writes tag), 0 decrypt (checks tag). */
static int gcm_segment(const cm_object *obj, uint32_t segment_index, int enc, uint8_t *out,
                       const uint8_t *in, size_t len, uint8_t tag[CM_SEGTAGBYTES])
{
    uint8_t iv[12];
    segment_iv(obj, segment_index, iv);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL)
        return CM_ENOMEM;
    int rc = CM_ECRYPTO, outl = 0;
    if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, obj->cipher_key, iv, enc) != 1)
        goto done;
    if (!enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, CM_SEGTAGBYTES, tag) != 1)
        goto done;
    if ((rc = evp_update_all(ctx, out, in, len)) != CM_OK)
        goto done;
    if (EVP_CipherFinal_ex(ctx, out + len, &outl) != 1) {
        rc = enc ? CM_ECRYPTO : CM_EAUTH;
        goto done;
    }
    rc = CM_OK;
    if (enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, CM_SEGTAGBYTES, tag) != 1)
        rc = CM_ECRYPTO;
done:
    EVP_CIPHER_CTX_free(ctx);
    return rc;
}

/* Checks a GCM segment without releasing plaintext: decrypt 4 KiB at a time into a scratch
 * buffer that is wiped, and let OpenSSL check the tag at the end. */
static int gcm_verify(const cm_object *obj, uint32_t segment_index, const uint8_t *in, size_t len,
                      const uint8_t tag[CM_SEGTAGBYTES])
{
    uint8_t iv[12], scratch[4096], t[CM_SEGTAGBYTES];
    segment_iv(obj, segment_index, iv);
    memcpy(t, tag, sizeof t); /* OpenSSL's ctrl takes a non-const pointer */
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL)
        return CM_ENOMEM;
    int rc = CM_ECRYPTO, outl = 0;
    if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, obj->cipher_key, iv) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, CM_SEGTAGBYTES, t) != 1)
        goto done;
    for (size_t off = 0; off < len; off += sizeof scratch) {
        size_t n = len - off < sizeof scratch ? len - off : sizeof scratch;
        if (evp_update_all(ctx, scratch, in + off, n) != CM_OK)
            goto done;
    }
    rc = EVP_DecryptFinal_ex(ctx, scratch, &outl) == 1 ? CM_OK : CM_EAUTH;
done:
    cm_memzero(scratch, sizeof scratch);
    EVP_CIPHER_CTX_free(ctx);
    return rc;
}

/* ---- segment API ---- */

static int check_segment_args(const cm_object *obj, unsigned w, const uint8_t *out,
                              const uint8_t *in, size_t len, const uint8_t *tag)
{
    if (obj == NULL || tag == NULL || ((in == NULL || out == NULL) && len > 0) ||
        len > CM_MAX_SEGMENTBYTES)
        return CM_EINVAL;
    if (cm_profile_name(obj->profile) == NULL)
        return CM_EPROFILE;
    if (w != 1 && w != 2 && w != 4 && w != 8)
        return CM_EWIDTH;
    if (len % w != 0)
        return CM_ELENGTH;
    if (out != NULL && in != NULL && out != in && out < in + len && in < out + len)
        return CM_EINVAL; /* partial overlap */
    return CM_OK;
}

int cm_segment_seal(const cm_object *obj, uint32_t segment_index, unsigned word_bytes,
                    uint8_t *out, const uint8_t *in, size_t len, uint8_t tag[CM_SEGTAGBYTES])
{
    int rc = check_segment_args(obj, word_bytes, out, in, len, tag);
    if (rc != CM_OK)
        return rc;
    if (obj->profile == CM_PROFILE_AES_256_GCM)
        return gcm_segment(obj, segment_index, 1, out, in, len, tag);
    segment_material sm;
    if ((rc = segment_material_derive(obj, segment_index, word_bytes, &sm)) == CM_OK) {
        segment_lanes_start(&sm);
        mask_segment(obj, &sm, word_bytes, out, in, len);
        if (obj->profile == CM_PROFILE_LORENZ_CHACHA20)
            rc = chacha20_layer(obj, segment_index, out, out, len);
        if (rc == CM_OK)
            rc = poly1305_tag(sm.mac_key, out, len, tag);
    }
    cm_memzero(&sm, sizeof sm);
    return rc;
}

int cm_segment_verify(const cm_object *obj, uint32_t segment_index, unsigned word_bytes,
                      const uint8_t *in, size_t len, const uint8_t tag[CM_SEGTAGBYTES])
{
    int rc = check_segment_args(obj, word_bytes, in, in, len, tag);
    if (rc != CM_OK)
        return rc;
    if (obj->profile == CM_PROFILE_AES_256_GCM)
        return gcm_verify(obj, segment_index, in, len, tag);
    segment_material sm;
    uint8_t actual[CM_SEGTAGBYTES];
    if ((rc = segment_material_derive(obj, segment_index, word_bytes, &sm)) == CM_OK &&
        (rc = poly1305_tag(sm.mac_key, in, len, actual)) == CM_OK)
        rc = cm_tag_verify(tag, actual, CM_SEGTAGBYTES);
    cm_memzero(actual, sizeof actual);
    cm_memzero(&sm, sizeof sm);
    return rc;
}

/* Unmasks a segment whose tag has already been checked (lorenz profiles). */
static int segment_unmask(const cm_object *obj, segment_material *sm, uint32_t segment_index,
                          unsigned w, uint8_t *out, const uint8_t *in, size_t len)
{
    segment_lanes_start(sm);
    if (obj->profile == CM_PROFILE_LORENZ_CHACHA20) {
        int rc = chacha20_layer(obj, segment_index, out, in, len);
        if (rc != CM_OK)
            return rc;
        in = out;
    }
    unmask_segment(obj, sm, w, out, in, len);
    return CM_OK;
}

int cm_segment_open(const cm_object *obj, uint32_t segment_index, unsigned word_bytes,
                    uint8_t *out, const uint8_t *in, size_t len, const uint8_t tag[CM_SEGTAGBYTES])
{
    int rc = check_segment_args(obj, word_bytes, out, in, len, tag);
    if (rc != CM_OK)
        return rc;
    if (obj->profile == CM_PROFILE_AES_256_GCM) {
        uint8_t t[CM_SEGTAGBYTES];
        memcpy(t, tag, sizeof t);
        rc = gcm_segment(obj, segment_index, 0, out, in, len, t);
        if (rc != CM_OK && len > 0)
            cm_memzero(out, len); /* GCM releases plaintext before its check: take it back */
        return rc;
    }
    segment_material sm;
    uint8_t actual[CM_SEGTAGBYTES];
    if ((rc = segment_material_derive(obj, segment_index, word_bytes, &sm)) == CM_OK &&
        (rc = poly1305_tag(sm.mac_key, in, len, actual)) == CM_OK &&
        (rc = cm_tag_verify(tag, actual, CM_SEGTAGBYTES)) == CM_OK)
        rc = segment_unmask(obj, &sm, segment_index, word_bytes, out, in, len);
    if (rc != CM_OK && out != in && len > 0)
        cm_memzero(out, len);
    cm_memzero(actual, sizeof actual);
    cm_memzero(&sm, sizeof sm);
    return rc;
}

int cm_object_tag(const cm_object *obj, const uint8_t *aad, size_t aad_len,
                  const uint8_t *segment_tags, size_t nsegments, uint8_t tag[CM_TAGBYTES])
{
    static const char label[] = "ChaosMask object tag v1";
    if (obj == NULL || tag == NULL || (aad == NULL && aad_len > 0) ||
        (segment_tags == NULL && nsegments > 0))
        return CM_EINVAL;
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (mac == NULL)
        return CM_ECRYPTO;
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);
    if (ctx == NULL)
        return CM_ENOMEM;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
                           OSSL_PARAM_construct_end()};
    uint8_t head[4 + 8], count[8];
    cm_store_le32(head, (uint32_t)obj->profile);
    cm_store_le64(head + 4, (uint64_t)aad_len);
    cm_store_le64(count, (uint64_t)nsegments);
    size_t outl = 0;
    int ok = EVP_MAC_init(ctx, obj->tag_key, 32, params) == 1 &&
             EVP_MAC_update(ctx, (const uint8_t *)label, sizeof label) == 1 &&
             EVP_MAC_update(ctx, head, sizeof head) == 1 &&
             (aad_len == 0 || EVP_MAC_update(ctx, aad, aad_len) == 1) &&
             EVP_MAC_update(ctx, count, sizeof count) == 1 &&
             (nsegments == 0 || EVP_MAC_update(ctx, segment_tags, nsegments * CM_SEGTAGBYTES) == 1) &&
             EVP_MAC_final(ctx, tag, &outl, CM_TAGBYTES) == 1 && outl == CM_TAGBYTES;
    EVP_MAC_CTX_free(ctx);
    return ok ? CM_OK : CM_ECRYPTO;
}

int cm_lorenz_keystream(const cm_object *obj, uint32_t segment_index, uint8_t *out, size_t len)
{
    if (obj == NULL || (out == NULL && len > 0))
        return CM_EINVAL;
    segment_material sm;
    int rc = segment_material_derive(obj, segment_index, 1, &sm);
    if (rc != CM_OK)
        return rc;
    segment_lanes_start(&sm);
    size_t full = len / CM_BLOCKBYTES;
    lorenz_keystream_blocks(&sm.lanes, out, full);
    if (len % CM_BLOCKBYTES) {
        uint8_t block[CM_BLOCKBYTES];
        lorenz_keystream_blocks(&sm.lanes, block, 1);
        memcpy(out + full * CM_BLOCKBYTES, block, len % CM_BLOCKBYTES);
        cm_memzero(block, sizeof block);
    }
    cm_memzero(&sm, sizeof sm);
    return CM_OK;
}
