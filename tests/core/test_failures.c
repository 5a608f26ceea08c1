/* Authentication failures: a wrong key, or one flipped bit anywhere in the cipher, the tag,
 * the nonce, the context or the layout parameters, gives CM_EAUTH - and the output buffer
 * holds no plaintext afterwards (zeros out of place, the untouched cipher in place). */
#include <stdlib.h>
#include <string.h>

#include "chaosmask/chaosmask.h"
#include "check.h"

enum { LEN = 3 * 4096 + 200, FRAME = 4096 };

static uint8_t key[CM_KEYBYTES], nonce[CM_NONCEBYTES], plain[LEN], cipher[LEN], tag[CM_TAGBYTES];
static const uint8_t context[] = "1.2.840.10008.1.2.3";

static int is_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return 0;
    return 1;
}

/* Opens out of place and in place; both must fail with CM_EAUTH and leak nothing. */
static void expect_auth_failure(const uint8_t *c, const uint8_t *t, const cm_params *p,
                                const uint8_t *k, const uint8_t *n, const uint8_t *ctx, size_t ctx_len)
{
    static uint8_t out[LEN], inplace[LEN];
    memset(out, 0xee, sizeof out);
    CHECK_EQ_INT(cm_open(out, c, LEN, t, p, k, n, ctx, ctx_len), CM_EAUTH);
    CHECK(is_zero(out, LEN));
    memcpy(inplace, c, LEN);
    CHECK_EQ_INT(cm_open(inplace, inplace, LEN, t, p, k, n, ctx, ctx_len), CM_EAUTH);
    CHECK(memcmp(inplace, c, LEN) == 0);
}

int main(void)
{
    for (size_t i = 0; i < LEN; i++)
        plain[i] = (uint8_t)(i * 7 + (i >> 8));
    int cases = 0;
    for (int profile = CM_PROFILE_LORENZ; profile <= CM_PROFILE_AES_256_GCM; profile++) {
        for (size_t i = 0; i < CM_KEYBYTES; i++)
            key[i] = (uint8_t)(i * 3 + profile);
        for (size_t i = 0; i < CM_NONCEBYTES; i++)
            nonce[i] = (uint8_t)(i + 100);
        cm_params p = {profile, 2, FRAME, 2};
        CHECK_EQ_INT(cm_seal(cipher, tag, plain, LEN, &p, key, nonce, context, sizeof context - 1), CM_OK);
        static uint8_t ok[LEN];
        CHECK_EQ_INT(cm_open(ok, cipher, LEN, tag, &p, key, nonce, context, sizeof context - 1), CM_OK);
        CHECK(memcmp(ok, plain, LEN) == 0);

        uint8_t k2[CM_KEYBYTES], n2[CM_NONCEBYTES], t2[CM_TAGBYTES], ctx2[sizeof context];
        static uint8_t c2[LEN];
        /* wrong key: every bit position of the first and last byte, and a fresh key */
        for (int bit = 0; bit < 8; bit++, cases++) {
            memcpy(k2, key, sizeof k2);
            k2[bit % 2 ? CM_KEYBYTES - 1 : 0] ^= (uint8_t)(1u << bit);
            expect_auth_failure(cipher, tag, &p, k2, nonce, context, sizeof context - 1);
        }
        /* one bit of the cipher: first, inside each frame, frame borders, last */
        const size_t positions[] = {0, 1, FRAME - 1, FRAME, FRAME + 511, 2 * FRAME + 512, LEN - 2, LEN - 1};
        for (size_t i = 0; i < sizeof positions / sizeof positions[0]; i++, cases++) {
            memcpy(c2, cipher, LEN);
            c2[positions[i]] ^= (uint8_t)(1u << (i % 8));
            expect_auth_failure(c2, tag, &p, key, nonce, context, sizeof context - 1);
        }
        for (size_t i = 0; i < CM_TAGBYTES; i += 5, cases++) {
            memcpy(t2, tag, sizeof t2);
            t2[i] ^= 0x80;
            expect_auth_failure(cipher, t2, &p, key, nonce, context, sizeof context - 1);
        }
        for (size_t i = 0; i < CM_NONCEBYTES; i += 3, cases++) {
            memcpy(n2, nonce, sizeof n2);
            n2[i] ^= 0x01;
            expect_auth_failure(cipher, tag, &p, key, n2, context, sizeof context - 1);
        }
        for (size_t i = 0; i < sizeof context - 1; i += 4, cases++) {
            memcpy(ctx2, context, sizeof ctx2);
            ctx2[i] ^= 0x02;
            expect_auth_failure(cipher, tag, &p, key, nonce, ctx2, sizeof context - 1);
        }
        /* layout parameters: word width, frame size, profile */
        cm_params q = p;
        q.word_bytes = 1;
        expect_auth_failure(cipher, tag, &q, key, nonce, context, sizeof context - 1);
        q = p;
        q.frame_bytes = FRAME * 2;
        expect_auth_failure(cipher, tag, &q, key, nonce, context, sizeof context - 1);
        q = p;
        q.profile = profile == CM_PROFILE_LORENZ ? CM_PROFILE_LORENZ_CHACHA20 : CM_PROFILE_LORENZ;
        expect_auth_failure(cipher, tag, &q, key, nonce, context, sizeof context - 1);
        cases += 3;

        /* the segment API refuses a changed segment before unmasking */
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
        CHECK_EQ_INT(cm_segment_open(&obj, 5, 4, back, seg, sizeof seg, st), CM_OK);
        CHECK(memcmp(back, plain, sizeof back) == 0);
        cm_object_wipe(&obj);
        cases += 3;
    }
    printf("authentication failures: %d cases refused, no plaintext released\n", cases);
    return 0;
}
