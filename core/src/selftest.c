/* selftest.c - the engine's power-on self-test: one fixed vector per profile (70000 bytes in
 * four frames, so chaining, partial blocks and the frame split all take part) must give its
 * recorded object tag, open back to the input, and refuse a one-bit change. */
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

static const struct {
    int profile;
    unsigned word_bytes;
    const char *tag_hex;
} VECTORS[] = {
    {CM_PROFILE_LORENZ, 1, "5f303696d663e8057b59570c29f5cee4ae08e1a24c1d51749884eda1ec278fb3"},
    {CM_PROFILE_LORENZ_CHACHA20, 2, "02d5b344e0e83d3411daa8d0978357742f1e143565b3484ed5436811ef519e15"},
    {CM_PROFILE_AES_256_GCM, 4, "b98d0c540c7fc6d8ff0b019866c835bde2c7c69df773b5c46eaf58ad82ca210f"},
};

enum { VECTOR_LEN = 70000, VECTOR_FRAME = 20000 };

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
    cm_params p = {VECTORS[index].profile, VECTORS[index].word_bytes, VECTOR_FRAME, 1};
    const uint8_t *ctx = (const uint8_t *)context;
    if ((rc = cm_seal(out, tag, in, VECTOR_LEN, &p, key, nonce, ctx, sizeof context - 1)) != CM_OK)
        goto done;
    if ((rc = cm_open(out, out, VECTOR_LEN, tag, &p, key, nonce, ctx, sizeof context - 1)) != CM_OK)
        goto done;
    rc = memcmp(out, in, VECTOR_LEN) == 0 ? CM_OK : CM_EAUTH;
    /* a changed cipher bit must be refused */
    uint8_t t2[CM_TAGBYTES];
    if (rc == CM_OK && (rc = cm_seal(out, t2, in, VECTOR_LEN, &p, key, nonce, ctx, sizeof context - 1)) == CM_OK) {
        out[VECTOR_LEN / 3] ^= 0x04;
        rc = cm_open(out, out, VECTOR_LEN, t2, &p, key, nonce, ctx, sizeof context - 1) == CM_EAUTH ? CM_OK : CM_EAUTH;
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
            int n = snprintf(report + used, report_len - used, "%s %u-bit words: %s\n",
                             cm_profile_name(VECTORS[v].profile), 8 * VECTORS[v].word_bytes,
                             rc == CM_OK ? "ok" : "FAILED");
            used += n > 0 ? (size_t)n : 0;
        }
        if (rc != CM_OK && result == CM_OK)
            result = CM_EAUTH;
    }
    return result;
}
