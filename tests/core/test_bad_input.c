/* Bad arguments give the documented error code and never crash: NULL pointers, unknown word
 * widths and profiles, lengths that are not a multiple of the word width, overlapping
 * buffers, oversized contexts; every code has its own message. */
#include <string.h>

#include "chaosmask/chaosmask.h"
#include "check.h"

int main(void)
{
    uint8_t key[CM_KEYBYTES] = {1}, nonce[CM_NONCEBYTES] = {2}, tag[CM_TAGBYTES] = {0};
    uint8_t buf[64] = {0}, out[64];
    cm_params p = {CM_PROFILE_LORENZ, 2, 0, 1};

    CHECK_EQ_INT(cm_seal(NULL, tag, buf, sizeof buf, &p, key, nonce, NULL, 0), CM_EINVAL);
    CHECK_EQ_INT(cm_seal(out, NULL, buf, sizeof buf, &p, key, nonce, NULL, 0), CM_EINVAL);
    CHECK_EQ_INT(cm_seal(out, tag, NULL, sizeof buf, &p, key, nonce, NULL, 0), CM_EINVAL);
    CHECK_EQ_INT(cm_seal(out, tag, buf, sizeof buf, NULL, key, nonce, NULL, 0), CM_EINVAL);
    CHECK_EQ_INT(cm_seal(out, tag, buf, sizeof buf, &p, NULL, nonce, NULL, 0), CM_EINVAL);
    CHECK_EQ_INT(cm_seal(out, tag, buf, sizeof buf, &p, key, NULL, NULL, 0), CM_EINVAL);
    CHECK_EQ_INT(cm_seal(out, tag, buf, sizeof buf, &p, key, nonce, NULL, 5), CM_EINVAL);
    CHECK_EQ_INT(cm_open(out, buf, sizeof buf, NULL, &p, key, nonce, NULL, 0), CM_EINVAL);
    /* zero length is a valid, authenticated empty object */
    CHECK_EQ_INT(cm_seal(NULL, tag, NULL, 0, &p, key, nonce, NULL, 0), CM_OK);
    CHECK_EQ_INT(cm_open(NULL, NULL, 0, tag, &p, key, nonce, NULL, 0), CM_OK);
    tag[0] ^= 1;
    CHECK_EQ_INT(cm_open(NULL, NULL, 0, tag, &p, key, nonce, NULL, 0), CM_EAUTH);

    static const unsigned bad_widths[] = {0, 3, 5, 16, 1024};
    for (size_t i = 0; i < sizeof bad_widths / sizeof bad_widths[0]; i++) {
        cm_params q = p;
        q.word_bytes = bad_widths[i];
        CHECK_EQ_INT(cm_seal(out, tag, buf, 48, &q, key, nonce, NULL, 0), CM_EWIDTH);
    }
    cm_params q = p;
    q.word_bytes = 4;
    CHECK_EQ_INT(cm_seal(out, tag, buf, 30, &q, key, nonce, NULL, 0), CM_ELENGTH);
    q.frame_bytes = 6;
    CHECK_EQ_INT(cm_seal(out, tag, buf, 32, &q, key, nonce, NULL, 0), CM_ELENGTH);
    static const int bad_profiles[] = {0, 4, -1, 99};
    for (size_t i = 0; i < sizeof bad_profiles / sizeof bad_profiles[0]; i++) {
        cm_params r = p;
        r.profile = bad_profiles[i];
        CHECK_EQ_INT(cm_seal(out, tag, buf, 32, &r, key, nonce, NULL, 0), CM_EPROFILE);
        cm_object obj;
        CHECK_EQ_INT(cm_object_init(&obj, bad_profiles[i], key, nonce, NULL, 0), CM_EPROFILE);
    }
    CHECK_EQ_INT(cm_profile_from_name("lorenz"), CM_PROFILE_LORENZ);
    CHECK_EQ_INT(cm_profile_from_name("lorenz-chacha20"), CM_PROFILE_LORENZ_CHACHA20);
    CHECK_EQ_INT(cm_profile_from_name("aes-256-gcm"), CM_PROFILE_AES_256_GCM);
    CHECK_EQ_INT(cm_profile_from_name("LORENZ"), CM_EPROFILE);
    CHECK_EQ_INT(cm_profile_from_name(""), CM_EPROFILE);
    CHECK_EQ_INT(cm_profile_from_name(NULL), CM_EPROFILE);

    /* overlapping (not identical) buffers are refused, whole buffers and segments alike */
    static uint8_t big2[3 * 4096];
    cm_params framed = {CM_PROFILE_LORENZ, 1, 4096, 1};
    CHECK_EQ_INT(cm_seal(big2 + 4096, tag, big2, 2 * 4096, &framed, key, nonce, NULL, 0), CM_EINVAL);
    CHECK_EQ_INT(cm_open(big2, big2 + 8, 2 * 4096, tag, &framed, key, nonce, NULL, 0), CM_EINVAL);
    cm_object obj;
    uint8_t st[CM_SEGTAGBYTES];
    CHECK_EQ_INT(cm_object_init(&obj, CM_PROFILE_LORENZ, key, nonce, NULL, 0), CM_OK);
    CHECK_EQ_INT(cm_segment_seal(&obj, 0, 1, buf + 1, buf, 32, st), CM_EINVAL);
    CHECK_EQ_INT(cm_segment_seal(&obj, 0, 1, buf, buf + 8, 32, st), CM_EINVAL);
    CHECK_EQ_INT(cm_segment_seal(&obj, 0, 1, buf, buf, 32, NULL), CM_EINVAL);
    CHECK_EQ_INT(cm_segment_seal(NULL, 0, 1, buf, buf, 32, st), CM_EINVAL);
    CHECK_EQ_INT(cm_segment_open(&obj, 0, 2, buf, buf, 31, st), CM_ELENGTH);
    CHECK_EQ_INT(cm_object_tag(&obj, NULL, 3, st, 1, tag), CM_EINVAL);
    CHECK_EQ_INT(cm_lorenz_keystream(&obj, 0, NULL, 10), CM_EINVAL);
    CHECK_EQ_INT(cm_tag_verify(tag, tag, 0), CM_EINVAL);
    cm_object_wipe(&obj);
    static uint8_t big[CM_MAX_CONTEXTBYTES + 1];
    CHECK_EQ_INT(cm_object_init(&obj, CM_PROFILE_LORENZ, key, nonce, big, sizeof big), CM_EINVAL);
    CHECK_EQ_INT(cm_object_init(&obj, CM_PROFILE_LORENZ, key, nonce, big, CM_MAX_CONTEXTBYTES), CM_OK);
    cm_object_wipe(&obj);
    uint8_t zero[sizeof obj];
    memset(zero, 0, sizeof zero);
    CHECK(memcmp(&obj, zero, sizeof obj) == 0); /* wiped */

    static const int codes[] = {CM_OK, CM_EINVAL, CM_EWIDTH, CM_ELENGTH, CM_EPROFILE,
                                CM_EAUTH, CM_ECRYPTO, CM_ENOMEM, CM_ETHREAD};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        CHECK(cm_strerror(codes[i]) != NULL && strlen(cm_strerror(codes[i])) > 5);
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(cm_strerror(codes[i]), cm_strerror(codes[j])) != 0);
    }
    CHECK(strcmp(cm_strerror(-12345), "unknown error") == 0);
    printf("bad input: every case refused with its documented code\n");
    return 0;
}
