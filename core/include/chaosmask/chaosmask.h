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
 * Engine formats: objects record the CM_FORMAT_VERSION that sealed them, and every format
 * stays decryptable (cm_object_init_version).  Format 2 moved the Lorenz parameter box away
 * from the stable fixed points of format 1's box and renamed the HKDF labels; see
 * docs/engine.md.
 *
 * Conventions (libsodium style): caller-owned buffers and contexts, output first, explicit
 * lengths, results are 0 or a negative CM_E... code (cm_strerror() explains it).  Word
 * buffers hold little-endian words.  No globals and no threads of its own: the caller may
 * hand the one-shot API an executor to run frames in parallel; every function is
 * thread-safe as long as threads do not share an output buffer.  Secrets are wiped by
 * cm_object_wipe().
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

#define CM_VERSION_STRING "0.2.0"
#define CM_FORMAT_VERSION 2u /* bumped whenever the keystream, key schedule or tag layout changes */
#define CM_FORMAT_VERSION_MIN 1u /* the oldest format this build still opens */

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
#define CM_ETHREAD -8     /* could not start a worker thread (the engine has none; for callers) */
#define CM_EVERSION -9    /* engine format version not known to this build */

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
    unsigned engine_version;   /* the format this material belongs to (1 or 2) */
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

/* Derives an object's material for the current format (CM_FORMAT_VERSION).  context may be
 * NULL only with context_len 0.  Returns 0, CM_EINVAL or CM_EPROFILE or CM_ECRYPTO. */
CM_WARN_UNUSED int cm_object_init(cm_object *obj, int profile, const uint8_t key[CM_KEYBYTES],
                                  const uint8_t nonce[CM_NONCEBYTES], const uint8_t *context,
                                  size_t context_len);

/* The same for a given engine format: the version an object recorded when it was sealed
 * (CM_FORMAT_VERSION_MIN .. CM_FORMAT_VERSION).  Returns what cm_object_init does, or
 * CM_EVERSION for any other version. */
CM_WARN_UNUSED int cm_object_init_version(cm_object *obj, unsigned engine_version, int profile,
                                          const uint8_t key[CM_KEYBYTES],
                                          const uint8_t nonce[CM_NONCEBYTES],
                                          const uint8_t *context, size_t context_len);
void cm_object_wipe(cm_object *obj);

#define CM_MAX_SUBKEYBYTES 64u
#define CM_MAX_SUBKEY_LABEL 255u
/* A key for the caller's own use (for DICOM: the per-attribute HMAC digests), HKDF-Expand
 * from the object's material with info "ChaosMask vN subkey" 00 label, which no segment's
 * material can equal.  label: 1..CM_MAX_SUBKEY_LABEL characters; out_len 1..64.  Distinct
 * labels give independent keys.  Returns 0, CM_EINVAL or CM_ECRYPTO. */
CM_WARN_UNUSED int cm_object_subkey(const cm_object *obj, const char *label, uint8_t *out,
                                    size_t out_len);

/* Masks one segment: out and in may be the same buffer (in place) or must not overlap.
 * word_bytes is 1, 2, 4 or 8; len a multiple of it (0 allowed).  segment_index numbers the
 * segments of one object (0, 1, 2...); each index must be used once per object.
 * Writes the segment tag. */
CM_WARN_UNUSED int cm_segment_seal(const cm_object *obj, uint32_t segment_index,
                                   unsigned word_bytes, uint8_t *out, const uint8_t *in,
                                   size_t len, uint8_t tag[CM_SEGTAGBYTES]);

/* Checks a sealed segment against its tag without unmasking it: CM_OK or CM_EAUTH (or an
 * argument or crypto-library error).  The tag is recomputed and compared inside the engine in constant time and
 * never leaves it (two one-time-key MAC values for different inputs would give the key away).
 * aes-256-gcm: one GCM decryption pass through a 4 KiB scratch buffer that is wiped, the tag
 * checked by OpenSSL. */
CM_WARN_UNUSED int cm_segment_verify(const cm_object *obj, uint32_t segment_index,
                                     unsigned word_bytes, const uint8_t *in, size_t len,
                                     const uint8_t tag[CM_SEGTAGBYTES]);

/* Checks the segment tag in constant time, then unmasks (aes-256-gcm: one pass, decrypting
 * and checking the tag at the end).  On CM_EAUTH nothing of the plaintext is left in out:
 * zeros when out != in; in place, the untouched cipher for the lorenz profiles and zeros for
 * aes-256-gcm (GCM checks its tag only after decrypting).  in is read twice by the lorenz
 * profiles (tag, then unmasking): it must not change during the call. */
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

/* Runs frames in parallel for the one-shot API; the engine has no threads of its own. */
typedef int (*cm_job_fn)(void *ctx, size_t index);
typedef struct cm_executor {
    /* Runs job(ctx, i) for every i in [0, count), possibly in parallel, and returns 0 when
     * every job returned 0, else one of the non-zero results (it may skip jobs not yet started
     * after a failure).  It must never return before every started job has finished. */
    int (*run)(void *self, size_t count, cm_job_fn job, void *ctx);
    void *self;
} cm_executor;

typedef struct cm_params {
    int profile;          /* CM_PROFILE_... */
    unsigned word_bytes;  /* 1, 2, 4 or 8 */
    size_t frame_bytes;   /* bytes per frame, a multiple of word_bytes; 0 = one frame */
    const struct cm_executor *executor; /* NULL = run every frame on the caller's thread */
} cm_params;

/* Segment tags cm_seal writes: ceil(len / frame_bytes) (one frame when frame_bytes is 0 or
 * larger than len), 0 for len 0 or params NULL.  The segment_tags buffers below hold
 * cm_frame_count() * CM_SEGTAGBYTES bytes. */
size_t cm_frame_count(size_t len, const cm_params *params);

/* Encrypts len bytes of in into out (same buffer or disjoint), writes one segment tag per
 * frame into segment_tags and the object tag into tag.  The caller stores the segment tags
 * with the object (they are what lets cm_open check the object tag before anything is
 * unmasked).  The frame layout (word width, frame size, total length) is bound into the tag.
 * segment_tags may be NULL only when len is 0.  If sealing fails after the arguments were
 * accepted, the tags are zeros and out is unspecified (in place, some frames may still be
 * plaintext). */
CM_WARN_UNUSED int cm_seal(uint8_t *out, uint8_t *segment_tags, uint8_t tag[CM_TAGBYTES],
                           const uint8_t *in, size_t len, const cm_params *params,
                           const uint8_t key[CM_KEYBYTES], const uint8_t nonce[CM_NONCEBYTES],
                           const uint8_t *context, size_t context_len);

/* Checks the object tag over the given segment tags (constant time) first, then opens every
 * frame with cm_segment_open (its segment tag checked, then unmasked; aes-256-gcm in one
 * pass).  On any failure out holds no plaintext.  Out of place, all len bytes of out are
 * zeros (argument errors leave it untouched).  In place, a wrong object tag leaves the
 * cipher as it was (nothing was unmasked); a frame that fails after it makes all len bytes
 * zeros, for every profile: frames opened before it are wiped, and the cipher is gone too
 * (keep a copy if such a failure must be examined).  in is read twice by the lorenz profiles:
 * it must not change during the call (do not pass memory another process can write, such as
 * a shared mapping of a file). */
CM_WARN_UNUSED int cm_open(uint8_t *out, const uint8_t *in, size_t len, const uint8_t *segment_tags,
                           const uint8_t tag[CM_TAGBYTES], const cm_params *params,
                           const uint8_t key[CM_KEYBYTES], const uint8_t nonce[CM_NONCEBYTES],
                           const uint8_t *context, size_t context_len);

/* Raw Lorenz keystream of one segment (the words that step 1 adds), for randomness
 * batteries and known-answer tests.  len any value. */
CM_WARN_UNUSED int cm_lorenz_keystream(const cm_object *obj, uint32_t segment_index,
                                       uint8_t *out, size_t len);

/* Power-on self-test: one recorded vector per profile of the current format and one of
 * format 1 (seal, tags, open, tamper check).
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
