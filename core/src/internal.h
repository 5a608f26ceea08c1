/* internal.h - engine internals shared by the core/ sources; not installed, not public. */
#ifndef CHAOSMASK_CORE_INTERNAL_H
#define CHAOSMASK_CORE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "chaosmask/chaosmask.h"

#include <float.h>

/* The keystream must be bit-identical everywhere: refuse builds whose floating point could
 * differ (fast-math, extended-precision evaluation).  FMA contraction is switched off below
 * and by the core target's flags. */
#if defined(__FAST_MATH__)
#error "core/ must not be built with -ffast-math: the keystream would not be reproducible"
#endif
#if !defined(FLT_EVAL_METHOD) || FLT_EVAL_METHOD != 0
#error "core/ needs FLT_EVAL_METHOD 0 (SSE2 or better, no x87 excess precision)"
#endif
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF /* gcc ignores this pragma: the target's -ffp-contract=off does it */
#endif

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "ChaosMask's engine reads words as little-endian in place; port the loads/stores first"
#endif

#define CM_LANES 16u            /* independent Lorenz trajectories integrated side by side */
#define CM_BLOCKBYTES 512u      /* keystream bytes per integration step = chaining block */
#define CM_STEP_H 0.01          /* fixed RK4 step */

/* The hot loops are cloned for AVX2 (4 doubles per vector, no FMA) and for the baseline;
 * the loader picks one.  IEEE-754 add, subtract and multiply give the same bits on both
 * paths; -DCM_NO_TARGET_CLONES builds the baseline alone so the tests can pin it too. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(CM_NO_TARGET_CLONES)
#define CM_HOT __attribute__((target_clones("avx2", "default")))
#else
#define CM_HOT
#endif

/* What an engine format fixes beyond the code: its HKDF labels (NUL-terminated in the info
 * strings) and its Lorenz parameter box, each parameter lo + span * u with u in [0, 1). */
#define LABEL_MAX 32u /* longest label, with its NUL */
typedef struct engine_format {
    unsigned version;
    double sigma_lo, sigma_span, rho_lo, rho_span, beta_lo, beta_span;
    const char *object_label, *segment_label, *subkey_label;
} engine_format;

/* The format's constants; NULL for a version this build does not know. */
const engine_format *engine_format_get(unsigned engine_version);

/* Lorenz lanes of one segment: structure of arrays so the step vectorises. */
typedef struct lorenz_lanes {
    double x[CM_LANES], y[CM_LANES], z[CM_LANES];
    double sigma, rho, beta;
    double eta[3];
} lorenz_lanes;

/* Everything one segment needs, derived from the object and the segment index. */
typedef struct segment_material {
    lorenz_lanes lanes;          /* key-derived start; after segment_lanes_start, on the attractor */
    uint32_t preamble_steps;
    uint8_t mac_key[32];         /* one-time Poly1305 key */
    uint32_t word_chain_key;     /* keys of the word-level chains in the last block */
    uint32_t word_chain_key_bwd;
} segment_material;

/* RK4 steps without output (the synchronisation preamble). */
void lorenz_advance(lorenz_lanes *lanes, size_t steps);
/* nblocks steps, each writing CM_BLOCKBYTES keystream bytes. */
void lorenz_keystream_blocks(lorenz_lanes *lanes, uint8_t *out, size_t nblocks);

/* HKDF-Expand from the object's segment PRK; fills the segment material.  The lanes are at
 * their key-derived start: call segment_lanes_start before drawing keystream (a tag-only pass
 * needs just the MAC key and skips the preamble). */
int segment_material_derive(const cm_object *obj, uint32_t segment_index, unsigned word_bytes,
                            segment_material *sm);
/* Runs the synchronisation preamble (128..383 RK4 steps). */
void segment_lanes_start(segment_material *sm);

/* cm_seal / cm_open for a given engine format (they use CM_FORMAT_VERSION), so that the
 * known-answer tests and the self-test can keep format-1 vectors of the one-shot API. */
int oneshot_seal(unsigned engine_version, uint8_t *out, uint8_t *segment_tags, uint8_t tag[CM_TAGBYTES],
                 const uint8_t *in, size_t len, const cm_params *params, const uint8_t key[CM_KEYBYTES],
                 const uint8_t nonce[CM_NONCEBYTES], const uint8_t *context, size_t context_len);
int oneshot_open(unsigned engine_version, uint8_t *out, const uint8_t *in, size_t len,
                 const uint8_t *segment_tags, const uint8_t tag[CM_TAGBYTES], const cm_params *params,
                 const uint8_t key[CM_KEYBYTES], const uint8_t nonce[CM_NONCEBYTES], const uint8_t *context,
                 size_t context_len);

/* 32-bit finaliser (MurmurHash3 fmix32): a fast bijection with full avalanche. */
static inline uint32_t cm_fmix32(uint32_t h)
{
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}

static inline uint64_t cm_fmix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

static inline void cm_store_le32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void cm_store_le64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static inline uint64_t cm_load_le64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* Maps 8 bytes to a double in [lo, lo + span) exactly (53-bit fraction, no libm). */
static inline double cm_unit_range(const uint8_t *p, double lo, double span)
{
    return lo + span * ((double)(cm_load_le64(p) >> 11) * (1.0 / 9007199254740992.0));
}

#endif
