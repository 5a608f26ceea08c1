/* Round trips, bit-exact: every profile and word width, lengths 0, one word, odd word
 * counts, partial and exact blocks, large buffers, multi-frame with and without threads,
 * in place and out of place; and the segment API used by the DICOM layer. */
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

static void roundtrip(int profile, unsigned w, size_t len, size_t frame, unsigned threads, int in_place)
{
    uint8_t key[CM_KEYBYTES], nonce[CM_NONCEBYTES], tag[CM_TAGBYTES];
    fill(key, sizeof key, (uint32_t)(len * 7 + w));
    fill(nonce, sizeof nonce, (uint32_t)(len + profile));
    uint8_t *plain = malloc(len + 1), *buf = malloc(len + 1), *out = malloc(len + 1);
    CHECK(plain && buf && out);
    fill(plain, len, (uint32_t)(len ^ 0x5a5a));
    memcpy(buf, plain, len);
    cm_params p = {profile, w, frame, threads};
    const uint8_t ctx[] = "1.2.3.4";
    uint8_t *dst = in_place ? buf : out;
    CHECK_EQ_INT(cm_seal(dst, tag, buf, len, &p, key, nonce, ctx, sizeof ctx - 1), CM_OK);
    if (len >= 4096) /* the cipher must not resemble the plaintext */
        CHECK(count_equal(dst, plain, len) < len / 64);
    uint8_t *back = in_place ? buf : malloc(len + 1);
    CHECK(back != NULL);
    CHECK_EQ_INT(cm_open(back, dst, len, tag, &p, key, nonce, ctx, sizeof ctx - 1), CM_OK);
    CHECK(len == 0 || memcmp(back, plain, len) == 0);
    if (!in_place)
        free(back);
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
                    roundtrip(profile, widths[wi], words[k] * widths[wi], 0, 1, in_place);
    /* multi-frame, frames in parallel, last frame shorter */
    for (int profile = CM_PROFILE_LORENZ; profile <= CM_PROFILE_AES_256_GCM; profile++)
        for (size_t wi = 0; wi < 4; wi++)
            for (unsigned threads = 1; threads <= 3; threads++, cases++)
                roundtrip(profile, widths[wi], 13 * 4096 + 8 * 37, 4096, threads, threads == 2);
    /* large: 8 MiB of 16-bit words in 512x512 frames */
    for (int profile = CM_PROFILE_LORENZ; profile <= CM_PROFILE_AES_256_GCM; profile++, cases++)
        roundtrip(profile, 2, 8u << 20, 512 * 512 * 2, 2, 0);

    /* The segment API: seal segments one by one, tag them, open one alone. */
    uint8_t key[CM_KEYBYTES] = {9}, nonce[CM_NONCEBYTES] = {8}, st[3][CM_SEGTAGBYTES], st2[CM_SEGTAGBYTES];
    for (int profile = CM_PROFILE_LORENZ; profile <= CM_PROFILE_AES_256_GCM; profile++, cases++) {
        cm_object obj;
        CHECK_EQ_INT(cm_object_init(&obj, profile, key, nonce, (const uint8_t *)"uid", 3), CM_OK);
        uint8_t seg[3][1000], plain[3][1000];
        for (int s = 0; s < 3; s++) {
            fill(plain[s], sizeof plain[s], (uint32_t)s);
            CHECK_EQ_INT(cm_segment_seal(&obj, (uint32_t)s, 2, seg[s], plain[s], sizeof seg[s], st[s]), CM_OK);
            CHECK_EQ_INT(cm_segment_tag(&obj, (uint32_t)s, 2, seg[s], sizeof seg[s], st2), CM_OK);
            CHECK(memcmp(st[s], st2, CM_SEGTAGBYTES) == 0);
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
    printf("round trips: %d cases bit-exact\n", cases);
    return 0;
}
