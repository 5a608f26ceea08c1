/* A worker thread that cannot be started must not leave a job half done: with
 * pthread_create failing after the first worker (linked with --wrap=pthread_create), in-place
 * cm_seal and cm_open over 8 frames with 4 threads still give back the whole plaintext. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "chaosmask/chaosmask.h"
#include "check.h"

int __real_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg);
int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg);

static int created;

int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg)
{
    if (created >= 1)
        return EAGAIN;
    created++;
    return __real_pthread_create(t, a, fn, arg);
}

int main(void)
{
    enum { FRAME = 4096, FRAMES = 8, LEN = FRAME * FRAMES };
    static uint8_t plain[LEN], buf[LEN];
    uint8_t key[CM_KEYBYTES] = {5}, nonce[CM_NONCEBYTES] = {6}, tag[CM_TAGBYTES];
    for (size_t i = 0; i < LEN; i++)
        plain[i] = (uint8_t)(i * 13 + (i >> 7));
    for (int profile = CM_PROFILE_LORENZ; profile <= CM_PROFILE_AES_256_GCM; profile++) {
        cm_params p = {profile, 2, FRAME, 4};
        memcpy(buf, plain, LEN);
        created = 0;
        CHECK_EQ_INT(cm_seal(buf, tag, buf, LEN, &p, key, nonce, NULL, 0), CM_OK);
        /* every frame was masked, none left as plaintext */
        for (int f = 0; f < FRAMES; f++)
            CHECK(memcmp(buf + f * FRAME, plain + f * FRAME, FRAME) != 0);
        created = 0;
        CHECK_EQ_INT(cm_open(buf, buf, LEN, tag, &p, key, nonce, NULL, 0), CM_OK);
        CHECK(memcmp(buf, plain, LEN) == 0);
        CHECK_EQ_INT(created, 1);
    }
    printf("thread start failures: every frame processed by the caller's thread\n");
    return 0;
}
