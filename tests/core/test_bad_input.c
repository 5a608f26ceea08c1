/* Bad arguments give the documented error code and never crash: NULL pointers, unknown word
 * widths, profiles and engine formats, lengths that are not a multiple of the word width,
 * overlapping buffers, oversized contexts, missing segment-tag buffers, executors without a
 * run function, bad sub-key requests; every code has its own message. */
#include <string.h>

#include "chaosmask/chaosmask.h"
#include "check.h"

int main(void)
{
    uint8_t key[CM_KEYBYTES] = {1}, nonce[CM_NONCEBYTES] = {2}, tag[CM_TAGBYTES] = {0};
    uint8_t buf[64] = {0}, out[64], st[4 * CM_SEGTAGBYTES];
    cm_params p = {CM_PROFILE_LORENZ, 2, 0, NULL};

    CHECK_EQ_INT(cm_seal(NULL, st, tag, buf, sizeof buf, &p, key, nonce, NULL, 0), CM_EINVAL);
    CHECK_EQ_INT(cm_seal(out, NULL, tag, buf, sizeof buf, &p, key, nonce, NULL, 0), CM_EINVAL);
    CHECK_EQ_INT(cm_seal(out, st, NULL, buf, sizeof buf, &p, key, nonce, NULL, 0), CM_EINVAL);
    CHECK_EQ_INT(cm_seal(out, st, tag, NULL, sizeof buf, &p, key, nonce, NULL, 0), CM_EINVAL);
    CHECK_EQ_INT(cm_seal(out, st, tag, buf, sizeof buf, NULL, key, nonce, NULL, 0), CM_EINVAL);
    CHECK_EQ_INT(cm_seal(out, st, tag, buf, sizeof buf, &p, NULL, nonce, NULL, 0), CM_EINVAL);
    CHECK_EQ_INT(cm_seal(out, st, tag, buf, sizeof buf, &p, key, NULL, NULL, 0), CM_EINVAL);
    CHECK_EQ_INT(cm_seal(out, st, tag, buf, sizeof buf, &p, key, nonce, NULL, 5), CM_EINVAL);
    CHECK_EQ_INT(cm_open(out, buf, sizeof buf, st, NULL, &p, key, nonce, NULL, 0), CM_EINVAL);
    CHECK_EQ_INT(cm_open(out, buf, sizeof buf, NULL, tag, &p, key, nonce, NULL, 0), CM_EINVAL);
    /* an executor must have a run function */
    const cm_executor no_run = {NULL, NULL};
    cm_params with_bad_executor = p;
    with_bad_executor.executor = &no_run;
    CHECK_EQ_INT(cm_seal(out, st, tag, buf, sizeof buf, &with_bad_executor, key, nonce, NULL, 0), CM_EINVAL);
    /* zero length is a valid, authenticated empty object: no frames, no segment tags */
    CHECK_EQ_INT(cm_frame_count(0, &p), 0);
    CHECK_EQ_INT(cm_frame_count(sizeof buf, NULL), 0);
    CHECK_EQ_INT(cm_seal(NULL, NULL, tag, NULL, 0, &p, key, nonce, NULL, 0), CM_OK);
    CHECK_EQ_INT(cm_open(NULL, NULL, 0, NULL, tag, &p, key, nonce, NULL, 0), CM_OK);
    tag[0] ^= 1;
    CHECK_EQ_INT(cm_open(NULL, NULL, 0, NULL, tag, &p, key, nonce, NULL, 0), CM_EAUTH);
    /* argument errors leave the output alone */
    memset(out, 0x5a, sizeof out);
    CHECK_EQ_INT(cm_open(out, buf, sizeof buf, NULL, tag, &p, key, nonce, NULL, 0), CM_EINVAL);
    CHECK(out[0] == 0x5a && out[sizeof out - 1] == 0x5a);

    static const unsigned bad_widths[] = {0, 3, 5, 16, 1024};
    for (size_t i = 0; i < sizeof bad_widths / sizeof bad_widths[0]; i++) {
        cm_params q = p;
        q.word_bytes = bad_widths[i];
        CHECK_EQ_INT(cm_seal(out, st, tag, buf, 48, &q, key, nonce, NULL, 0), CM_EWIDTH);
    }
    cm_params q = p;
    q.word_bytes = 4;
    CHECK_EQ_INT(cm_seal(out, st, tag, buf, 30, &q, key, nonce, NULL, 0), CM_ELENGTH);
    q.frame_bytes = 6;
    CHECK_EQ_INT(cm_seal(out, st, tag, buf, 32, &q, key, nonce, NULL, 0), CM_ELENGTH);
    static const int bad_profiles[] = {0, 4, -1, 99};
    for (size_t i = 0; i < sizeof bad_profiles / sizeof bad_profiles[0]; i++) {
        cm_params r = p;
        r.profile = bad_profiles[i];
        CHECK_EQ_INT(cm_seal(out, st, tag, buf, 32, &r, key, nonce, NULL, 0), CM_EPROFILE);
        cm_object obj;
        CHECK_EQ_INT(cm_object_init(&obj, bad_profiles[i], key, nonce, NULL, 0), CM_EPROFILE);
    }
    static const unsigned bad_versions[] = {0, CM_FORMAT_VERSION + 1, 99, 0xffffffffu};
    for (size_t i = 0; i < sizeof bad_versions / sizeof bad_versions[0]; i++) {
        cm_object obj;
        CHECK_EQ_INT(cm_object_init_version(&obj, bad_versions[i], CM_PROFILE_LORENZ, key, nonce, NULL, 0),
                     CM_EVERSION);
    }
    CHECK_EQ_INT(cm_profile_from_name("lorenz"), CM_PROFILE_LORENZ);
    CHECK_EQ_INT(cm_profile_from_name("lorenz-chacha20"), CM_PROFILE_LORENZ_CHACHA20);
    CHECK_EQ_INT(cm_profile_from_name("aes-256-gcm"), CM_PROFILE_AES_256_GCM);
    CHECK_EQ_INT(cm_profile_from_name("LORENZ"), CM_EPROFILE);
    CHECK_EQ_INT(cm_profile_from_name(""), CM_EPROFILE);
    CHECK_EQ_INT(cm_profile_from_name(NULL), CM_EPROFILE);

    /* overlapping (not identical) buffers are refused, whole buffers and segments alike */
    static uint8_t big2[3 * 4096];
    cm_params framed = {CM_PROFILE_LORENZ, 1, 4096, NULL};
    CHECK_EQ_INT(cm_seal(big2 + 4096, st, tag, big2, 2 * 4096, &framed, key, nonce, NULL, 0), CM_EINVAL);
    CHECK_EQ_INT(cm_open(big2, big2 + 8, 2 * 4096, st, tag, &framed, key, nonce, NULL, 0), CM_EINVAL);
    cm_object obj;
    CHECK_EQ_INT(cm_object_init(&obj, CM_PROFILE_LORENZ, key, nonce, NULL, 0), CM_OK);
    CHECK_EQ_INT(cm_segment_seal(&obj, 0, 1, buf + 1, buf, 32, st), CM_EINVAL);
    CHECK_EQ_INT(cm_segment_seal(&obj, 0, 1, buf, buf + 8, 32, st), CM_EINVAL);
    CHECK_EQ_INT(cm_segment_seal(&obj, 0, 1, buf, buf, 32, NULL), CM_EINVAL);
    CHECK_EQ_INT(cm_segment_seal(NULL, 0, 1, buf, buf, 32, st), CM_EINVAL);
    CHECK_EQ_INT(cm_segment_open(&obj, 0, 2, buf, buf, 31, st), CM_ELENGTH);
    CHECK_EQ_INT(cm_segment_verify(NULL, 0, 2, buf, 32, st), CM_EINVAL);
    CHECK_EQ_INT(cm_segment_verify(&obj, 0, 2, NULL, 32, st), CM_EINVAL);
    CHECK_EQ_INT(cm_segment_verify(&obj, 0, 2, buf, 32, NULL), CM_EINVAL);
    CHECK_EQ_INT(cm_segment_verify(&obj, 0, 3, buf, 33, st), CM_EWIDTH);
    CHECK_EQ_INT(cm_segment_verify(&obj, 0, 4, buf, 30, st), CM_ELENGTH);
    /* sub-keys: 1..64 bytes, a label of 1..255 characters */
    uint8_t sub[CM_MAX_SUBKEYBYTES + 1];
    char long_label[CM_MAX_SUBKEY_LABEL + 2];
    memset(long_label, 'a', sizeof long_label - 1);
    long_label[sizeof long_label - 1] = '\0';
    CHECK_EQ_INT(cm_object_subkey(NULL, "x", sub, 32), CM_EINVAL);
    CHECK_EQ_INT(cm_object_subkey(&obj, NULL, sub, 32), CM_EINVAL);
    CHECK_EQ_INT(cm_object_subkey(&obj, "", sub, 32), CM_EINVAL);
    CHECK_EQ_INT(cm_object_subkey(&obj, long_label, sub, 32), CM_EINVAL);
    CHECK_EQ_INT(cm_object_subkey(&obj, long_label + 1, sub, 32), CM_OK);
    CHECK_EQ_INT(cm_object_subkey(&obj, "x", NULL, 32), CM_EINVAL);
    CHECK_EQ_INT(cm_object_subkey(&obj, "x", sub, 0), CM_EINVAL);
    CHECK_EQ_INT(cm_object_subkey(&obj, "x", sub, CM_MAX_SUBKEYBYTES + 1), CM_EINVAL);
    CHECK_EQ_INT(cm_object_subkey(&obj, "x", sub, CM_MAX_SUBKEYBYTES), CM_OK);
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
                                CM_EAUTH, CM_ECRYPTO, CM_ENOMEM, CM_ETHREAD, CM_EVERSION};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        CHECK(cm_strerror(codes[i]) != NULL && strlen(cm_strerror(codes[i])) > 5);
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(cm_strerror(codes[i]), cm_strerror(codes[j])) != 0);
    }
    CHECK(strcmp(cm_strerror(-12345), "unknown error") == 0);
    printf("bad input: every case refused with its documented code\n");
    return 0;
}
