/* oneshot.c - cm_seal / cm_open over a buffer of equal frames, frames in parallel on worker
 * threads.  The only allocation is the array of segment tags (16 bytes per frame). */
#include <pthread.h>
#include <stdlib.h>

#include "internal.h"

typedef enum { JOB_SEAL, JOB_TAG, JOB_UNMASK } job_kind;

typedef struct frames_job {
    job_kind kind;
    const cm_object *obj;
    const cm_params *params;
    uint8_t *out;
    const uint8_t *in;
    size_t len, nframes;
    uint8_t *tags;
    unsigned nthreads;
} frames_job;

typedef struct worker {
    const frames_job *job;
    unsigned first;
    int rc;
} worker;

static void *run_frames(void *arg)
{
    worker *wk = arg;
    const frames_job *j = wk->job;
    const size_t fb = j->params->frame_bytes;
    wk->rc = CM_OK;
    for (size_t f = wk->first; f < j->nframes && wk->rc == CM_OK; f += j->nthreads) {
        size_t off = f * fb, n = j->len - off < fb ? j->len - off : fb;
        uint8_t *tag = j->tags + f * CM_SEGTAGBYTES;
        unsigned w = j->params->word_bytes;
        switch (j->kind) {
        case JOB_SEAL: wk->rc = cm_segment_seal(j->obj, (uint32_t)f, w, j->out + off, j->in + off, n, tag); break;
        case JOB_TAG: wk->rc = cm_segment_tag(j->obj, (uint32_t)f, w, j->in + off, n, tag); break;
        case JOB_UNMASK: wk->rc = segment_unmask_verified(j->obj, (uint32_t)f, w, j->out + off, j->in + off, n, tag); break;
        }
    }
    return NULL;
}

static int run_job(frames_job *job)
{
    enum { MAX_THREADS = 256 };
    unsigned t = job->params->threads;
    if (t < 1)
        t = 1;
    if (t > MAX_THREADS)
        t = MAX_THREADS;
    if (t > job->nframes)
        t = job->nframes > 0 ? (unsigned)job->nframes : 1;
    job->nthreads = t;
    worker wk[MAX_THREADS];
    pthread_t tid[MAX_THREADS];
    unsigned started = 1;
    for (unsigned i = 0; i < t; i++)
        wk[i] = (worker){.job = job, .first = i, .rc = CM_OK};
    while (started < t && pthread_create(&tid[started], NULL, run_frames, &wk[started]) == 0)
        started++;
    /* Workers that could not be started leave their frames to this thread: a job is never
     * left half done (an in-place buffer half cipher, half plaintext). */
    for (unsigned i = started; i < t; i++)
        run_frames(&wk[i]);
    run_frames(&wk[0]);
    for (unsigned i = 1; i < started; i++)
        pthread_join(tid[i], NULL);
    int rc = CM_OK;
    for (unsigned i = 0; i < t && rc == CM_OK; i++)
        rc = wk[i].rc;
    return rc;
}

/* What cm_seal and cm_open share: validated parameters, the object's material, the segment
 * tags and the layout bound into the object tag. */
typedef struct oneshot {
    cm_params params;
    size_t nframes;
    cm_object obj;
    uint8_t *tags;
    uint8_t aad[32]; /* the 16 bytes "cm_seal layout v", word width, 0, frame size */
} oneshot;

static int oneshot_begin(oneshot *os, const cm_params *params, const uint8_t *out, const uint8_t *in,
                         size_t len, const uint8_t *tag, const uint8_t *key, const uint8_t *nonce,
                         const uint8_t *context, size_t context_len)
{
    if (params == NULL || tag == NULL || ((out == NULL || in == NULL) && len > 0))
        return CM_EINVAL;
    if (out != in && len > 0 && out < in + len && in < out + len)
        return CM_EINVAL; /* partial overlap: a frame would overwrite the next one's input */
    cm_params *p = &os->params;
    *p = *params;
    if (cm_profile_name(p->profile) == NULL)
        return CM_EPROFILE;
    const unsigned w = p->word_bytes;
    if (w != 1 && w != 2 && w != 4 && w != 8)
        return CM_EWIDTH;
    if (len % w != 0 || p->frame_bytes % w != 0)
        return CM_ELENGTH;
    if (p->frame_bytes == 0 || p->frame_bytes > len)
        p->frame_bytes = len > 0 ? len : w;
    if (p->frame_bytes > CM_MAX_SEGMENTBYTES)
        return CM_EINVAL;
    os->nframes = len == 0 ? 0 : (len + p->frame_bytes - 1) / p->frame_bytes;
    if (os->nframes > CM_MAX_SEGMENTS)
        return CM_EINVAL;
    /* the total length is bound through each frame's tag, the frame count by the object tag */
    memcpy(os->aad, "cm_seal layout v1", 16);
    cm_store_le32(os->aad + 16, p->word_bytes);
    cm_store_le32(os->aad + 20, 0);
    cm_store_le64(os->aad + 24, (uint64_t)p->frame_bytes);
    int rc = cm_object_init(&os->obj, p->profile, key, nonce, context, context_len);
    if (rc != CM_OK)
        return rc;
    os->tags = calloc(os->nframes ? os->nframes : 1, CM_SEGTAGBYTES);
    if (os->tags == NULL) {
        cm_object_wipe(&os->obj);
        return CM_ENOMEM;
    }
    return CM_OK;
}

static void oneshot_end(oneshot *os)
{
    free(os->tags);
    cm_object_wipe(&os->obj);
}

int cm_seal(uint8_t *out, uint8_t tag[CM_TAGBYTES], const uint8_t *in, size_t len,
            const cm_params *params, const uint8_t key[CM_KEYBYTES],
            const uint8_t nonce[CM_NONCEBYTES], const uint8_t *context, size_t context_len)
{
    oneshot os;
    int rc = oneshot_begin(&os, params, out, in, len, tag, key, nonce, context, context_len);
    if (rc != CM_OK)
        return rc;
    frames_job job = {JOB_SEAL, &os.obj, &os.params, out, in, len, os.nframes, os.tags, 1};
    if ((rc = run_job(&job)) == CM_OK)
        rc = cm_object_tag(&os.obj, os.aad, sizeof os.aad, os.tags, os.nframes, tag);
    oneshot_end(&os);
    return rc;
}

int cm_open(uint8_t *out, const uint8_t *in, size_t len, const uint8_t tag[CM_TAGBYTES],
            const cm_params *params, const uint8_t key[CM_KEYBYTES],
            const uint8_t nonce[CM_NONCEBYTES], const uint8_t *context, size_t context_len)
{
    oneshot os;
    int rc = oneshot_begin(&os, params, out, in, len, tag, key, nonce, context, context_len);
    if (rc != CM_OK)
        return rc;
    /* 1. tags of the cipher frames; 2. the object tag, checked in constant time; 3. unmask. */
    uint8_t actual[CM_TAGBYTES];
    frames_job job = {JOB_TAG, &os.obj, &os.params, out, in, len, os.nframes, os.tags, 1};
    if ((rc = run_job(&job)) == CM_OK &&
        (rc = cm_object_tag(&os.obj, os.aad, sizeof os.aad, os.tags, os.nframes, actual)) == CM_OK &&
        (rc = cm_tag_verify(tag, actual, CM_TAGBYTES)) == CM_OK) {
        job.kind = JOB_UNMASK;
        rc = run_job(&job);
    }
    if (rc != CM_OK && out != in && len > 0)
        cm_memzero(out, len);
    oneshot_end(&os);
    return rc;
}
