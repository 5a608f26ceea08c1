/* selftest.c - the engine's power-on self-test: one fixed vector per profile of the current
 * format, and one of format 1 (which old objects still use), each 70000 bytes in four frames
 * so chaining, partial blocks and the frame split all take part, must give its recorded object
 * tag, open back to the input, and refuse a one-bit change of the cipher or of a segment tag. */
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

static const struct {
    unsigned engine_version;
    int profile;
    unsigned word_bytes;
    const char *tag_hex;
} VECTORS[] = {
    {2, CM_PROFILE_LORENZ, 1, "f99b9197ecfa888ba1af89c83b40e9550cadbd2763de5e21bae6cc5d9362fae3"},
    {2, CM_PROFILE_LORENZ_CHACHA20, 2, "fabafc9680fe6e8e1a72f16bb78318932a39ae018c8d6a7ab804d93260776db3"},
    {2, CM_PROFILE_AES_256_GCM, 4, "4601a4b16bc724a5a70ad2dc24a39bc0ced28a8db666a7e24e80b27e74c9d00d"},
    {1, CM_PROFILE_LORENZ, 1, "5f303696d663e8057b59570c29f5cee4ae08e1a24c1d51749884eda1ec278fb3"},
};

enum { VECTOR_LEN = 70000, VECTOR_FRAME = 20000, VECTOR_FRAMES = 4 };

static int hexval(char c) { return c <= '9' ? c - '0' : c - 'a' + 10; }

static int selftest_vector(int index, uint8_t tag[CM_TAGBYTES])
{
    uint8_t key[CM_KEYBYTES], nonce[CM_NONCEBYTES];
    for (unsigned i = 0; i < CM_KEYBYTES; i++)
        key[i] = (uint8_t)i;
    for (unsigned i = 0; i < CM_NONCEBYTES; i++)
        nonce[i] = (uint8_t)(0xa0 + i);
    static const char context[] = "chaosmask selftest";
    uint8_t *in = malloc(VECTOR_LEN), *out = malloc(VECTOR_LEN);
    int rc = CM_ENOMEM;
    if (in == NULL || out == NULL)
        goto done;
    for (size_t i = 0; i < VECTOR_LEN; i++)
        in[i] = (uint8_t)(i * 7 + 3 + (i >> 9));
    const unsigned v = VECTORS[index].engine_version;
    const cm_params p = {VECTORS[index].profile, VECTORS[index].word_bytes, VECTOR_FRAME, NULL};
    const uint8_t *ctx = (const uint8_t *)context;
    const size_t ctx_len = sizeof context - 1;
    uint8_t st[VECTOR_FRAMES * CM_SEGTAGBYTES], t2[CM_TAGBYTES];
    if ((rc = oneshot_seal(v, out, st, tag, in, VECTOR_LEN, &p, key, nonce, ctx, ctx_len)) != CM_OK)
        goto done;
    if ((rc = oneshot_open(v, out, out, VECTOR_LEN, st, tag, &p, key, nonce, ctx, ctx_len)) != CM_OK)
        goto done;
    rc = memcmp(out, in, VECTOR_LEN) == 0 ? CM_OK : CM_EAUTH;
    /* a changed cipher bit, and a changed segment tag, must be refused */
    if (rc == CM_OK && (rc = oneshot_seal(v, out, st, t2, in, VECTOR_LEN, &p, key, nonce, ctx, ctx_len)) == CM_OK) {
        out[VECTOR_LEN / 3] ^= 0x04;
        rc = oneshot_open(v, out, out, VECTOR_LEN, st, t2, &p, key, nonce, ctx, ctx_len) == CM_EAUTH ? CM_OK : CM_EAUTH;
    }
    if (rc == CM_OK && (rc = oneshot_seal(v, out, st, t2, in, VECTOR_LEN, &p, key, nonce, ctx, ctx_len)) == CM_OK) {
        st[CM_SEGTAGBYTES + 5] ^= 0x20;
        rc = oneshot_open(v, out, out, VECTOR_LEN, st, t2, &p, key, nonce, ctx, ctx_len) == CM_EAUTH ? CM_OK : CM_EAUTH;
    }
done:
    free(in);
    free(out);
    return rc;
}

int cm_selftest(char *report, size_t report_len)
{
    int result = CM_OK;
    size_t used = 0;
    for (int v = 0; v < (int)(sizeof VECTORS / sizeof VECTORS[0]); v++) {
        uint8_t tag[CM_TAGBYTES], expected[CM_TAGBYTES];
        for (unsigned i = 0; i < CM_TAGBYTES; i++)
            expected[i] = (uint8_t)(hexval(VECTORS[v].tag_hex[2 * i]) << 4 | hexval(VECTORS[v].tag_hex[2 * i + 1]));
        int rc = selftest_vector(v, tag);
        if (rc == CM_OK && memcmp(tag, expected, CM_TAGBYTES) != 0)
            rc = CM_EAUTH;
        if (report != NULL && used < report_len) {
            int n = snprintf(report + used, report_len - used, "format %u %s %u-bit words: %s\n",
                             VECTORS[v].engine_version, cm_profile_name(VECTORS[v].profile),
                             8 * VECTORS[v].word_bytes,
                             rc == CM_OK ? "ok" : "FAILED");
            used += n > 0 ? (size_t)n : 0;
        }
        if (rc != CM_OK && result == CM_OK)
            result = CM_EAUTH;
    }
    return result;
}
