/* Round trips, bit-exact: every profile and word width, lengths 0, one word, odd word
 * counts, partial and exact blocks, large buffers, multi-frame on the caller's thread and
 * through an executor, in place and out of place; the segment API used by the DICOM layer,
 * for the current format and for format 1 (old objects must keep opening). */
#include <stdlib.h>
#include <string.h>

#include "chaosmask/chaosmask.h"
#include "check.h"

static void fill(uint8_t *p, size_t n, uint32_t s)
{
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        p[i] = (uint8_t)(s >> 24);
    }
}

static size_t count_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
    size_t e = 0;
    for (size_t i = 0; i < n; i++)
        e += a[i] == b[i];
    return e;
}

/* An executor that runs the jobs last to first: frames must not depend on their order. */
typedef struct reverse_executor {
    cm_executor ex;
    size_t batches, jobs;
} reverse_executor;

static int reverse_run(void *self, size_t count, cm_job_fn job, void *ctx)
{
    reverse_executor *r = self;
    r->batches++;
    for (size_t i = count; i-- > 0;) {
        r->jobs++;
        int rc = job(ctx, i);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static void roundtrip(int profile, unsigned w, size_t len, size_t frame, int use_executor, int in_place)
{
    uint8_t key[CM_KEYBYTES], nonce[CM_NONCEBYTES], tag[CM_TAGBYTES];
    fill(key, sizeof key, (uint32_t)(len * 7 + w));
    fill(nonce, sizeof nonce, (uint32_t)(len + profile));
    uint8_t *plain = malloc(len + 1), *buf = malloc(len + 1), *out = malloc(len + 1);
    CHECK(plain && buf && out);
    fill(plain, len, (uint32_t)(len ^ 0x5a5a));
    memcpy(buf, plain, len);
    reverse_executor rev = {{reverse_run, &rev}, 0, 0};
    cm_params p = {profile, w, frame, use_executor ? &rev.ex : NULL};
    const size_t nframes = cm_frame_count(len, &p);
    CHECK_EQ_INT(nframes, len == 0 ? 0 : frame == 0 || frame >= len ? 1 : (len + frame - 1) / frame);
    uint8_t *st = malloc(nframes * CM_SEGTAGBYTES + 1);
    CHECK(st != NULL);
    const uint8_t ctx[] = "1.2.3.4";
    uint8_t *dst = in_place ? buf : out;
    CHECK_EQ_INT(cm_seal(dst, st, tag, buf, len, &p, key, nonce, ctx, sizeof ctx - 1), CM_OK);
    if (use_executor) /* one batch of every frame */
        CHECK(rev.batches == 1 && rev.jobs == nframes);
    if (len >= 4096) /* the cipher must not resemble the plaintext */
        CHECK(count_equal(dst, plain, len) < len / 64);
    uint8_t *back = in_place ? buf : malloc(len + 1);
    CHECK(back != NULL);
    CHECK_EQ_INT(cm_open(back, dst, len, st, tag, &p, key, nonce, ctx, sizeof ctx - 1), CM_OK);
    CHECK(len == 0 || memcmp(back, plain, len) == 0);
    if (use_executor)
        CHECK(rev.batches == 2 && rev.jobs == 2 * nframes);
    if (!in_place)
        free(back);
    free(st);
    free(plain);
    free(buf);
    free(out);
}

int main(void)
{
    static const unsigned widths[] = {1, 2, 4, 8};
    static const size_t words[] = {0, 1, 2, 3, 31, 32, 33, 127, 128, 129, 255, 256, 257, 1001, 4096, 65537};
    int cases = 0;
    for (int profile = CM_PROFILE_LORENZ; profile <= CM_PROFILE_AES_256_GCM; profile++)
        for (size_t wi = 0; wi < 4; wi++)
            for (size_t k = 0; k < sizeof words / sizeof words[0]; k++)
                for (int in_place = 0; in_place < 2; in_place++, cases++)
                    roundtrip(profile, widths[wi], words[k] * widths[wi], 0, 0, in_place);
    /* multi-frame, last frame shorter, frame larger than the buffer; through an executor that
     * runs the frames last to first, and on the caller's thread */
    for (int profile = CM_PROFILE_LORENZ; profile <= CM_PROFILE_AES_256_GCM; profile++)
        for (size_t wi = 0; wi < 4; wi++)
            for (int variant = 0; variant < 4; variant++, cases++)
                roundtrip(profile, widths[wi], 13 * 4096 + 8 * 37, variant == 3 ? 1u << 20 : 4096, variant & 1,
                          variant == 2);
    /* large: 8 MiB of 16-bit words in 512x512 frames */
    for (int profile = CM_PROFILE_LORENZ; profile <= CM_PROFILE_AES_256_GCM; profile++, cases++)
        roundtrip(profile, 2, 8u << 20, 512 * 512 * 2, 1, 0);

    /* The segment API, current format and format 1: seal segments one by one, check them
     * with cm_segment_verify, open one alone. */
    uint8_t key[CM_KEYBYTES] = {9}, nonce[CM_NONCEBYTES] = {8}, st[3][CM_SEGTAGBYTES];
    for (unsigned version = CM_FORMAT_VERSION_MIN; version <= CM_FORMAT_VERSION; version++) {
        for (int profile = CM_PROFILE_LORENZ; profile <= CM_PROFILE_AES_256_GCM; profile++, cases++) {
            cm_object obj;
            CHECK_EQ_INT(cm_object_init_version(&obj, version, profile, key, nonce, (const uint8_t *)"uid", 3), CM_OK);
            CHECK_EQ_INT(obj.engine_version, version);
            uint8_t seg[3][1000], plain[3][1000];
            for (int s = 0; s < 3; s++) {
                fill(plain[s], sizeof plain[s], (uint32_t)s);
                CHECK_EQ_INT(cm_segment_seal(&obj, (uint32_t)s, 2, seg[s], plain[s], sizeof seg[s], st[s]), CM_OK);
                CHECK_EQ_INT(cm_segment_verify(&obj, (uint32_t)s, 2, seg[s], sizeof seg[s], st[s]), CM_OK);
            }
            CHECK_EQ_INT(cm_segment_open(&obj, 1, 2, seg[1], seg[1], sizeof seg[1], st[1]), CM_OK);
            CHECK(memcmp(seg[1], plain[1], sizeof seg[1]) == 0);
            /* the same plaintext in two segments gives unrelated ciphers */
            uint8_t a[1000], b[1000], ta[CM_SEGTAGBYTES], tb[CM_SEGTAGBYTES];
            CHECK_EQ_INT(cm_segment_seal(&obj, 10, 2, a, plain[0], 1000, ta), CM_OK);
            CHECK_EQ_INT(cm_segment_seal(&obj, 11, 2, b, plain[0], 1000, tb), CM_OK);
            CHECK(count_equal(a, b, 1000) < 30);
            cm_object_wipe(&obj);
        }
    }
    /* formats are separate key spaces: one key, nonce and context, two unrelated ciphers */
    for (int profile = CM_PROFILE_LORENZ; profile <= CM_PROFILE_AES_256_GCM; profile++, cases++) {
        cm_object v1, v2;
        uint8_t plain[1000], a[1000], b[1000], ta[CM_SEGTAGBYTES], tb[CM_SEGTAGBYTES];
        fill(plain, sizeof plain, 77);
        CHECK_EQ_INT(cm_object_init_version(&v1, 1, profile, key, nonce, NULL, 0), CM_OK);
        CHECK_EQ_INT(cm_object_init_version(&v2, 2, profile, key, nonce, NULL, 0), CM_OK);
        CHECK_EQ_INT(cm_segment_seal(&v1, 0, 2, a, plain, sizeof a, ta), CM_OK);
        CHECK_EQ_INT(cm_segment_seal(&v2, 0, 2, b, plain, sizeof b, tb), CM_OK);
        CHECK(count_equal(a, b, sizeof a) < 30);
        CHECK_EQ_INT(cm_segment_verify(&v2, 0, 2, a, sizeof a, ta), CM_EAUTH);
        CHECK_EQ_INT(cm_segment_open(&v1, 0, 2, a, a, sizeof a, ta), CM_OK);
        CHECK(memcmp(a, plain, sizeof a) == 0);
        cm_object_wipe(&v1);
        cm_object_wipe(&v2);
    }
    /* sub-keys: deterministic, one per label, per object and per format, HKDF prefixes */
    for (unsigned version = CM_FORMAT_VERSION_MIN; version <= CM_FORMAT_VERSION; version++, cases++) {
        cm_object obj, other, old;
        uint8_t a[64], b[64], c[16], d[64], e[64];
        uint8_t nonce2[CM_NONCEBYTES] = {8, 1};
        CHECK_EQ_INT(cm_object_init_version(&obj, version, CM_PROFILE_LORENZ_CHACHA20, key, nonce, NULL, 0), CM_OK);
        CHECK_EQ_INT(cm_object_init_version(&other, version, CM_PROFILE_LORENZ_CHACHA20, key, nonce2, NULL, 0), CM_OK);
        CHECK_EQ_INT(cm_object_init_version(&old, version == 1 ? 2 : 1, CM_PROFILE_LORENZ_CHACHA20, key, nonce, NULL, 0),
                     CM_OK);
        CHECK_EQ_INT(cm_object_subkey(&obj, "patient digest", a, sizeof a), CM_OK);
        CHECK_EQ_INT(cm_object_subkey(&obj, "patient digest", b, sizeof b), CM_OK);
        CHECK(memcmp(a, b, sizeof a) == 0);
        CHECK_EQ_INT(cm_object_subkey(&obj, "patient digest", c, sizeof c), CM_OK);
        CHECK(memcmp(a, c, sizeof c) == 0);
        CHECK_EQ_INT(cm_object_subkey(&obj, "patient digesT", b, sizeof b), CM_OK);
        CHECK(count_equal(a, b, sizeof a) < 8);
        CHECK_EQ_INT(cm_object_subkey(&obj, "patient diges", b, sizeof b), CM_OK);
        CHECK(count_equal(a, b, sizeof a) < 8);
        CHECK_EQ_INT(cm_object_subkey(&other, "patient digest", d, sizeof d), CM_OK);
        CHECK(count_equal(a, d, sizeof a) < 8);
        CHECK_EQ_INT(cm_object_subkey(&old, "patient digest", e, sizeof e), CM_OK);
        CHECK(count_equal(a, e, sizeof a) < 8);
        cm_object_wipe(&obj);
        cm_object_wipe(&other);
        cm_object_wipe(&old);
    }
    printf("round trips: %d cases bit-exact\n", cases);
    return 0;
}
