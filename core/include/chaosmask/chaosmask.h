/*
 * chaosmask.h - the ChaosMask engine: lossless, authenticated chaos masking of pixel words.
 *
 * A site key (CM_KEYBYTES) and a fresh per-object nonce (CM_NONCEBYTES) go through
 * HKDF-SHA256 with the profile name and a caller context (for DICOM: the SOP Instance UID)
 * to give one object's Lorenz parameters, lane initial states, eta weights, preamble length,
 * chaining keys and MAC keys.  An object is a sequence of *segments* (frames, fragments,
 * overlays...), each masked as an independent sub-stream with its own derived material, so
 * segments can be processed in parallel and one can be recovered alone.
 *
 * Per segment (profiles "lorenz" and "lorenz-chacha20"):
 *   1. c = (p + k + G) mod 2^B word by word, k from the Lorenz keystream, G from the
 *      forward nonlinear chaining of the previous 512-byte block;
 *   2. a backward nonlinear chaining pass, so one changed word changes the whole segment;
 *   3. ("lorenz-chacha20" only) XOR with a ChaCha20 keystream;
 *   4. a Poly1305 segment tag over the result.
 * Profile "aes-256-gcm" uses AES-256-GCM per segment (its tag is the segment tag).
 * The object tag is HMAC-SHA256 over the caller's associated data (for DICOM: every
 * field of the private block) and all segment tags in order.
 *
 * Conventions (libsodium style): caller-owned buffers and contexts, output first, explicit
 * lengths, results are 0 or a negative CM_E... code (cm_strerror() explains it).  Word
 * buffers hold little-endian words.  No globals; every function is thread-safe as long as
 * threads do not share an output buffer.  Secrets are wiped by cm_object_wipe().
 */
#ifndef CHAOSMASK_CHAOSMASK_H
#define CHAOSMASK_CHAOSMASK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define CM_WARN_UNUSED __attribute__((warn_unused_result))
#else
#define CM_WARN_UNUSED
#endif

#define CM_VERSION_STRING "0.1.0"
#define CM_FORMAT_VERSION 1u /* bumped whenever the keystream or tag layout changes */

#define CM_KEYBYTES 32u       /* site key */
#define CM_NONCEBYTES 16u     /* per-object nonce, random */
#define CM_SEGTAGBYTES 16u    /* Poly1305 / GCM tag of one segment */
#define CM_TAGBYTES 32u       /* HMAC-SHA256 object tag */
#define CM_MAX_CONTEXTBYTES 1024u
#define CM_MAX_SEGMENTS 0x7fffffffu
/* 2^36 - 32 bytes: AES-GCM's limit, and below the 2^32 64-byte blocks of ChaCha20's counter */
#define CM_MAX_SEGMENTBYTES ((size_t)0xFFFFFFFE0ull)

/* Profiles; the numeric value is stored in encrypted objects and never changes. */
typedef enum {
    CM_PROFILE_LORENZ = 1,
    CM_PROFILE_LORENZ_CHACHA20 = 2,
    CM_PROFILE_AES_256_GCM = 3
} cm_profile;
#define CM_PROFILE_DEFAULT CM_PROFILE_LORENZ_CHACHA20

/* Error codes (all negative). */
#define CM_OK 0
#define CM_EINVAL -1      /* NULL pointer, zero or absurd length, bad argument */
#define CM_EWIDTH -2      /* word width not 1, 2, 4 or 8 bytes */
#define CM_ELENGTH -3     /* length not a multiple of the word width */
#define CM_EPROFILE -4    /* unknown profile */
#define CM_EAUTH -5       /* authentication failed: wrong key or changed data */
#define CM_ECRYPTO -6     /* the crypto library failed (out of memory, missing algorithm) */
#define CM_ENOMEM -7      /* out of memory */
#define CM_ETHREAD -8     /* could not start a worker thread */

/* Human-readable explanation of a CM_E... code; never NULL. */
const char *cm_strerror(int err);

/* "lorenz" / "lorenz-chacha20" / "aes-256-gcm"; NULL for an unknown value. */
const char *cm_profile_name(int profile);
/* Parses a profile name; returns the profile value or CM_EPROFILE. */
int cm_profile_from_name(const char *name);

/* Derived material of one object.  Plain struct, caller-allocated (stack is fine);
 * fields are private to the engine.  Wipe with cm_object_wipe(). */
typedef struct cm_object {
    int profile;
    uint8_t nonce[CM_NONCEBYTES];
    uint8_t segment_prk[32];   /* HKDF PRK for per-segment material */
    uint8_t tag_key[32];       /* HMAC-SHA256 key of the object tag */
    uint8_t cipher_key[32];    /* ChaCha20 or AES-256 key */
    uint8_t cipher_iv[12];     /* per-object IV base for ChaCha20 / GCM */
    uint8_t chain_key_fwd[512];
    uint8_t chain_key_bwd[512];
    double sigma, rho, beta;   /* Lorenz parameters (chaotic range) */
    double eta[3];             /* masking weights of the signal sum eta_k z_k */
    uint32_t preamble_steps;   /* synchronisation preamble before the first keystream word */
} cm_object;

/* Derives an object's material.  context may be NULL only with context_len 0.
 * Returns 0, CM_EINVAL or CM_EPROFILE or CM_ECRYPTO. */
CM_WARN_UNUSED int cm_object_init(cm_object *obj, int profile, const uint8_t key[CM_KEYBYTES],
                                  const uint8_t nonce[CM_NONCEBYTES], const uint8_t *context,
                                  size_t context_len);
void cm_object_wipe(cm_object *obj);

/* Masks one segment: out and in may be the same buffer (in place) or must not overlap.
 * word_bytes is 1, 2, 4 or 8; len a multiple of it (0 allowed).  segment_index numbers the
 * segments of one object (0, 1, 2...); each index must be used once per object.
 * Writes the segment tag. */
CM_WARN_UNUSED int cm_segment_seal(const cm_object *obj, uint32_t segment_index,
                                   unsigned word_bytes, uint8_t *out, const uint8_t *in,
                                   size_t len, uint8_t tag[CM_SEGTAGBYTES]);

/* Computes the tag of a sealed segment without unmasking it, so that the object tag can be
 * checked before any plaintext exists (for aes-256-gcm by decrypting 4 KiB at a time into a
 * scratch buffer and re-encrypting it).  The result is a one-time-key MAC value: never show
 * it to anyone (no "expected X, got Y" messages): two such values for different inputs under
 * one segment key give that key away.  Compare it with cm_tag_verify only. */
CM_WARN_UNUSED int cm_segment_tag(const cm_object *obj, uint32_t segment_index,
                                  unsigned word_bytes, const uint8_t *in, size_t len,
                                  uint8_t tag[CM_SEGTAGBYTES]);

/* Checks the segment tag in constant time, then unmasks.  On CM_EAUTH nothing of the
 * plaintext is left in out: zeros when out != in; in place, the untouched cipher for the lorenz
 * profiles and zeros for aes-256-gcm (GCM checks its tag only after decrypting). */
CM_WARN_UNUSED int cm_segment_open(const cm_object *obj, uint32_t segment_index,
                                   unsigned word_bytes, uint8_t *out, const uint8_t *in,
                                   size_t len, const uint8_t tag[CM_SEGTAGBYTES]);

/* The object tag: HMAC-SHA256(tag_key, "ChaosMask object tag v1" || profile || len(aad) || aad
 * || nsegments || segment tags).  aad may be NULL only with aad_len 0. */
CM_WARN_UNUSED int cm_object_tag(const cm_object *obj, const uint8_t *aad, size_t aad_len,
                                 const uint8_t *segment_tags, size_t nsegments,
                                 uint8_t tag[CM_TAGBYTES]);

/* Constant-time comparison; 0 when equal, CM_EAUTH otherwise. */
CM_WARN_UNUSED int cm_tag_verify(const uint8_t *expected, const uint8_t *actual, size_t len);

/* ---- One-shot API over a buffer of equal frames (the last may be shorter). ---- */

typedef struct cm_params {
    int profile;          /* CM_PROFILE_... */
    unsigned word_bytes;  /* 1, 2, 4 or 8 */
    size_t frame_bytes;   /* bytes per frame, a multiple of word_bytes; 0 = one frame */
    unsigned threads;     /* worker threads for frames in parallel; 0 or 1 = caller's thread */
} cm_params;

/* Encrypts len bytes of in into out (same buffer or disjoint) and writes the object tag.
 * The frame layout (word width, frame size, total length) is bound into the tag. */
CM_WARN_UNUSED int cm_seal(uint8_t *out, uint8_t tag[CM_TAGBYTES], const uint8_t *in, size_t len,
                           const cm_params *params, const uint8_t key[CM_KEYBYTES],
                           const uint8_t nonce[CM_NONCEBYTES], const uint8_t *context,
                           size_t context_len);

/* Verifies the object tag (constant time) and only then unmasks.  On any failure out holds
 * no plaintext.  in is read twice (tags, then unmasking): it must not change during the call
 * (do not pass memory another process can write, such as a shared mapping of a file). */
CM_WARN_UNUSED int cm_open(uint8_t *out, const uint8_t *in, size_t len, const uint8_t tag[CM_TAGBYTES],
                           const cm_params *params, const uint8_t key[CM_KEYBYTES],
                           const uint8_t nonce[CM_NONCEBYTES], const uint8_t *context,
                           size_t context_len);

/* Raw Lorenz keystream of one segment (the words that step 1 adds), for randomness
 * batteries and known-answer tests.  len any value. */
CM_WARN_UNUSED int cm_lorenz_keystream(const cm_object *obj, uint32_t segment_index,
                                       uint8_t *out, size_t len);

/* Power-on self-test: one recorded vector per profile (seal, tag, open, tamper check).
 * Writes one line per profile into report (may be NULL); 0 when all pass, CM_EAUTH if not. */
CM_WARN_UNUSED int cm_selftest(char *report, size_t report_len);

/* Fills buf with len bytes from the operating system's CSPRNG (OpenSSL RAND_bytes). */
CM_WARN_UNUSED int cm_random(uint8_t *buf, size_t len);

/* Wipes len bytes in a way the compiler cannot remove. */
void cm_memzero(void *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
