/* Authentication failures: a wrong key, or one flipped bit anywhere in the cipher, a segment
 * tag, the object tag, the nonce, the context or the layout parameters, gives CM_EAUTH - and
 * the output buffer holds no plaintext afterwards: zeros out of place; in place the untouched
 * cipher when the object tag fails (nothing was unmasked), zeros when a frame fails after it.
 * cm_segment_verify: the right tag passes, any flipped bit of the data or of the tag fails. */
#include <stdlib.h>
#include <string.h>

#include "chaosmask/chaosmask.h"
#include "check.h"

enum { LEN = 3 * 4096 + 200, FRAME = 4096, FRAMES = 4 };

static uint8_t key[CM_KEYBYTES], nonce[CM_NONCEBYTES], plain[LEN], cipher[LEN], tag[CM_TAGBYTES];
static uint8_t seg_tags[FRAMES * CM_SEGTAGBYTES];
static const uint8_t context[] = "1.2.840.10008.1.2.3";

static int is_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return 0;
    return 1;
}

/* Runs the frames last to first, so a failing frame comes after others were opened. */
static int reverse_run(void *self, size_t count, cm_job_fn job, void *ctx)
{
    (void)self;
    for (size_t i = count; i-- > 0;) {
        int rc = job(ctx, i);
        if (rc != 0)
            return rc;
    }
    return 0;
}

typedef enum { FAILS_OBJECT_TAG, FAILS_IN_A_FRAME } failure_kind;

/* Opens out of place and in place; both must fail with CM_EAUTH and leak nothing. */
static void expect_auth_failure(const uint8_t *c, const uint8_t *st, const uint8_t *t, const cm_params *p,
                                const uint8_t *k, const uint8_t *n, const uint8_t *ctx, size_t ctx_len,
                                failure_kind kind)
{
    static uint8_t out[LEN], inplace[LEN];
    memset(out, 0xee, sizeof out);
    CHECK_EQ_INT(cm_open(out, c, LEN, st, t, p, k, n, ctx, ctx_len), CM_EAUTH);
    CHECK(is_zero(out, LEN));
    memcpy(inplace, c, LEN);
    CHECK_EQ_INT(cm_open(inplace, inplace, LEN, st, t, p, k, n, ctx, ctx_len), CM_EAUTH);
    if (kind == FAILS_OBJECT_TAG)
        CHECK(memcmp(inplace, c, LEN) == 0);
    else
        CHECK(is_zero(inplace, LEN));
}

static int one_shot_failures(int profile)
{
    int cases = 0;
    for (size_t i = 0; i < CM_KEYBYTES; i++)
        key[i] = (uint8_t)(i * 3 + profile);
    for (size_t i = 0; i < CM_NONCEBYTES; i++)
        nonce[i] = (uint8_t)(i + 100);
    const cm_executor reverse = {reverse_run, NULL};
    cm_params p = {profile, 2, FRAME, NULL};
    CHECK_EQ_INT(cm_frame_count(LEN, &p), FRAMES);
    CHECK_EQ_INT(cm_seal(cipher, seg_tags, tag, plain, LEN, &p, key, nonce, context, sizeof context - 1), CM_OK);
    static uint8_t ok[LEN];
    CHECK_EQ_INT(cm_open(ok, cipher, LEN, seg_tags, tag, &p, key, nonce, context, sizeof context - 1), CM_OK);
    CHECK(memcmp(ok, plain, LEN) == 0);

    uint8_t k2[CM_KEYBYTES], n2[CM_NONCEBYTES], t2[CM_TAGBYTES], ctx2[sizeof context], st2[sizeof seg_tags];
    static uint8_t c2[LEN];
    /* wrong key: every bit position of the first and last byte */
    for (int bit = 0; bit < 8; bit++, cases++) {
        memcpy(k2, key, sizeof k2);
        k2[bit % 2 ? CM_KEYBYTES - 1 : 0] ^= (uint8_t)(1u << bit);
        expect_auth_failure(cipher, seg_tags, tag, &p, k2, nonce, context, sizeof context - 1, FAILS_OBJECT_TAG);
    }
    /* one bit of the cipher: first, inside each frame, frame borders, last; the segment tags
     * still match the object tag, so the frame's own check must refuse it - also when frames
     * after it were opened first */
    const size_t positions[] = {0, 1, FRAME - 1, FRAME, FRAME + 511, 2 * FRAME + 512, LEN - 2, LEN - 1};
    for (size_t i = 0; i < sizeof positions / sizeof positions[0]; i++, cases++) {
        memcpy(c2, cipher, LEN);
        c2[positions[i]] ^= (uint8_t)(1u << (i % 8));
        cm_params q = p;
        q.executor = i % 2 ? &reverse : NULL;
        expect_auth_failure(c2, seg_tags, tag, &q, key, nonce, context, sizeof context - 1, FAILS_IN_A_FRAME);
    }
    /* one bit of a segment tag: each frame's tag, first and last byte */
    for (size_t i = 0; i < sizeof seg_tags; i += CM_SEGTAGBYTES - 1, cases++) {
        memcpy(st2, seg_tags, sizeof st2);
        st2[i] ^= (uint8_t)(1u << (i % 8));
        expect_auth_failure(cipher, st2, tag, &p, key, nonce, context, sizeof context - 1, FAILS_OBJECT_TAG);
    }
    /* frames swapped with their tags: the object tag binds the order */
    memcpy(c2, cipher, LEN);
    memcpy(c2, cipher + FRAME, FRAME);
    memcpy(c2 + FRAME, cipher, FRAME);
    memcpy(st2, seg_tags, sizeof st2);
    memcpy(st2, seg_tags + CM_SEGTAGBYTES, CM_SEGTAGBYTES);
    memcpy(st2 + CM_SEGTAGBYTES, seg_tags, CM_SEGTAGBYTES);
    expect_auth_failure(c2, st2, tag, &p, key, nonce, context, sizeof context - 1, FAILS_OBJECT_TAG);
    /* frames swapped, tags left in place: the segment keys bind the index */
    expect_auth_failure(c2, seg_tags, tag, &p, key, nonce, context, sizeof context - 1, FAILS_IN_A_FRAME);
    cases += 2;
    for (size_t i = 0; i < CM_TAGBYTES; i += 5, cases++) {
        memcpy(t2, tag, sizeof t2);
        t2[i] ^= 0x80;
        expect_auth_failure(cipher, seg_tags, t2, &p, key, nonce, context, sizeof context - 1, FAILS_OBJECT_TAG);
    }
    for (size_t i = 0; i < CM_NONCEBYTES; i += 3, cases++) {
        memcpy(n2, nonce, sizeof n2);
        n2[i] ^= 0x01;
        expect_auth_failure(cipher, seg_tags, tag, &p, key, n2, context, sizeof context - 1, FAILS_OBJECT_TAG);
    }
    for (size_t i = 0; i < sizeof context - 1; i += 4, cases++) {
        memcpy(ctx2, context, sizeof ctx2);
        ctx2[i] ^= 0x02;
        expect_auth_failure(cipher, seg_tags, tag, &p, key, nonce, ctx2, sizeof context - 1, FAILS_OBJECT_TAG);
    }
    /* layout parameters: word width, frame size (fewer segment tags), profile */
    cm_params q = p;
    q.word_bytes = 1;
    expect_auth_failure(cipher, seg_tags, tag, &q, key, nonce, context, sizeof context - 1, FAILS_OBJECT_TAG);
    q = p;
    q.frame_bytes = FRAME * 2;
    expect_auth_failure(cipher, seg_tags, tag, &q, key, nonce, context, sizeof context - 1, FAILS_OBJECT_TAG);
    q = p;
    q.profile = profile == CM_PROFILE_LORENZ ? CM_PROFILE_LORENZ_CHACHA20 : CM_PROFILE_LORENZ;
    expect_auth_failure(cipher, seg_tags, tag, &q, key, nonce, context, sizeof context - 1, FAILS_OBJECT_TAG);
    cases += 3;
    return cases;
}

/* cm_segment_open refuses a changed segment before unmasking; cm_segment_verify accepts the
 * right tag and refuses every single-bit change of the data and of the tag. */
static int segment_failures(int profile)
{
    int cases = 0;
    cm_object obj;
    uint8_t seg[1024], st[CM_SEGTAGBYTES], back[1024];
    CHECK_EQ_INT(cm_object_init(&obj, profile, key, nonce, context, sizeof context - 1), CM_OK);
    CHECK_EQ_INT(cm_segment_seal(&obj, 5, 4, seg, plain, sizeof seg, st), CM_OK);
    seg[100] ^= 0x10;
    memset(back, 0xee, sizeof back);
    CHECK_EQ_INT(cm_segment_open(&obj, 5, 4, back, seg, sizeof seg, st), CM_EAUTH);
    CHECK(is_zero(back, sizeof back));
    seg[100] ^= 0x10;
    CHECK_EQ_INT(cm_segment_open(&obj, 6, 4, back, seg, sizeof seg, st), CM_EAUTH); /* wrong index */
    CHECK_EQ_INT(cm_segment_verify(&obj, 6, 4, seg, sizeof seg, st), CM_EAUTH);
    CHECK_EQ_INT(cm_segment_verify(&obj, 5, 4, seg, sizeof seg, st), CM_OK);
    CHECK_EQ_INT(cm_segment_open(&obj, 5, 4, back, seg, sizeof seg, st), CM_OK);
    CHECK(memcmp(back, plain, sizeof back) == 0);
    cases += 5;

    /* every bit of a 100-byte segment (a partial block) and of its tag */
    uint8_t small[100], small_tag[CM_SEGTAGBYTES];
    CHECK_EQ_INT(cm_segment_seal(&obj, 9, 2, small, plain, sizeof small, small_tag), CM_OK);
    CHECK_EQ_INT(cm_segment_verify(&obj, 9, 2, small, sizeof small, small_tag), CM_OK);
    for (size_t bit = 0; bit < 8 * sizeof small; bit++, cases++) {
        small[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        CHECK_EQ_INT(cm_segment_verify(&obj, 9, 2, small, sizeof small, small_tag), CM_EAUTH);
        small[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    for (size_t bit = 0; bit < 8 * CM_SEGTAGBYTES; bit++, cases++) {
        small_tag[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        CHECK_EQ_INT(cm_segment_verify(&obj, 9, 2, small, sizeof small, small_tag), CM_EAUTH);
        small_tag[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    /* a shorter segment is a different segment */
    CHECK_EQ_INT(cm_segment_verify(&obj, 9, 2, small, sizeof small - 2, small_tag), CM_EAUTH);
    CHECK_EQ_INT(cm_segment_verify(&obj, 9, 2, small, sizeof small, small_tag), CM_OK);
    /* a large segment (aes-256-gcm: many 4 KiB scratch chunks), one bit near the end */
    static uint8_t big[3 * 4096 + 10], big_plain[sizeof big];
    uint8_t big_tag[CM_SEGTAGBYTES];
    memcpy(big_plain, plain, sizeof big < LEN ? sizeof big : LEN);
    CHECK_EQ_INT(cm_segment_seal(&obj, 0, 1, big, big_plain, sizeof big, big_tag), CM_OK);
    CHECK_EQ_INT(cm_segment_verify(&obj, 0, 1, big, sizeof big, big_tag), CM_OK);
    big[sizeof big - 3] ^= 0x40;
    CHECK_EQ_INT(cm_segment_verify(&obj, 0, 1, big, sizeof big, big_tag), CM_EAUTH);
    cases += 4;
    cm_object_wipe(&obj);
    return cases;
}

int main(void)
{
    for (size_t i = 0; i < LEN; i++)
        plain[i] = (uint8_t)(i * 7 + (i >> 8));
    int cases = 0;
    for (int profile = CM_PROFILE_LORENZ; profile <= CM_PROFILE_AES_256_GCM; profile++) {
        cases += one_shot_failures(profile);
        cases += segment_failures(profile);
    }
    printf("authentication failures: %d cases refused, no plaintext released\n", cases);
    return 0;
}
