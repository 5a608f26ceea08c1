/* oneshot.c - cm_seal / cm_open over a buffer of equal frames.  Each frame is one segment;
 * the caller's executor runs them (in parallel if it likes), or the caller's thread does.
 * The segment tags live in the caller's buffer: nothing is allocated here. */
#include "internal.h"

/* What cm_seal and cm_open share: validated parameters, the object's material, the buffers
 * and the layout bound into the object tag.  Frame jobs get a pointer to it. */
typedef struct oneshot {
    cm_params params; /* frame_bytes normalised: 0 or larger than len becomes len */
    size_t nframes;
    cm_object obj;
    uint8_t aad[32]; /* the 16 bytes "cm_seal layout v", word width, 0, frame size */
    uint8_t *out;
    const uint8_t *in;
    size_t len;
    uint8_t *seal_tags;       /* cm_seal: written */
    const uint8_t *open_tags; /* cm_open: given */
} oneshot;

size_t cm_frame_count(size_t len, const cm_params *params)
{
    if (params == NULL || len == 0)
        return 0;
    const size_t fb = params->frame_bytes;
    if (fb == 0 || fb >= len)
        return 1;
    return len / fb + (len % fb != 0);
}

static void frame_span(const oneshot *os, size_t f, size_t *off, size_t *n)
{
    const size_t fb = os->params.frame_bytes;
    *off = f * fb;
    *n = os->len - *off < fb ? os->len - *off : fb;
}

static int seal_frame(void *ctx, size_t f)
{
    oneshot *os = ctx;
    size_t off, n;
    frame_span(os, f, &off, &n);
    return cm_segment_seal(&os->obj, (uint32_t)f, os->params.word_bytes, os->out + off, os->in + off, n,
                           os->seal_tags + f * CM_SEGTAGBYTES);
}

static int open_frame(void *ctx, size_t f)
{
    oneshot *os = ctx;
    size_t off, n;
    frame_span(os, f, &off, &n);
    return cm_segment_open(&os->obj, (uint32_t)f, os->params.word_bytes, os->out + off, os->in + off, n,
                           os->open_tags + f * CM_SEGTAGBYTES);
}

static int run_frames(oneshot *os, cm_job_fn job)
{
    const cm_executor *ex = os->params.executor;
    if (ex != NULL)
        return ex->run(ex->self, os->nframes, job, os);
    for (size_t f = 0; f < os->nframes; f++) {
        int rc = job(os, f);
        if (rc != CM_OK)
            return rc;
    }
    return CM_OK;
}

static int oneshot_begin(oneshot *os, unsigned engine_version, const cm_params *params, uint8_t *out,
                         const uint8_t *in, size_t len, const uint8_t *segment_tags, const uint8_t *tag,
                         const uint8_t *key, const uint8_t *nonce, const uint8_t *context, size_t context_len)
{
    if (params == NULL || tag == NULL || ((out == NULL || in == NULL) && len > 0))
        return CM_EINVAL;
    if (params->executor != NULL && params->executor->run == NULL)
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
    os->nframes = cm_frame_count(len, p);
    if (p->frame_bytes == 0 || p->frame_bytes > len)
        p->frame_bytes = len > 0 ? len : w;
    if (p->frame_bytes > CM_MAX_SEGMENTBYTES || os->nframes > CM_MAX_SEGMENTS)
        return CM_EINVAL;
    if (segment_tags == NULL && os->nframes > 0)
        return CM_EINVAL;
    /* the total length is bound through each frame's tag, the frame count by the object tag */
    memcpy(os->aad, "cm_seal layout v1", 16);
    cm_store_le32(os->aad + 16, p->word_bytes);
    cm_store_le32(os->aad + 20, 0);
    cm_store_le64(os->aad + 24, (uint64_t)p->frame_bytes);
    os->out = out;
    os->in = in;
    os->len = len;
    return cm_object_init_version(&os->obj, engine_version, p->profile, key, nonce, context, context_len);
}

int oneshot_seal(unsigned engine_version, uint8_t *out, uint8_t *segment_tags, uint8_t tag[CM_TAGBYTES],
                 const uint8_t *in, size_t len, const cm_params *params, const uint8_t key[CM_KEYBYTES],
                 const uint8_t nonce[CM_NONCEBYTES], const uint8_t *context, size_t context_len)
{
    oneshot os;
    int rc = oneshot_begin(&os, engine_version, params, out, in, len, segment_tags, tag, key, nonce, context,
                           context_len);
    if (rc != CM_OK)
        return rc;
    os.seal_tags = segment_tags;
    if ((rc = run_frames(&os, seal_frame)) == CM_OK)
        rc = cm_object_tag(&os.obj, os.aad, sizeof os.aad, segment_tags, os.nframes, tag);
    if (rc != CM_OK) {
        /* no tag of a half-sealed buffer may look usable */
        cm_memzero(tag, CM_TAGBYTES);
        cm_memzero(segment_tags, os.nframes * CM_SEGTAGBYTES);
    }
    cm_object_wipe(&os.obj);
    return rc;
}

int oneshot_open(unsigned engine_version, uint8_t *out, const uint8_t *in, size_t len,
                 const uint8_t *segment_tags, const uint8_t tag[CM_TAGBYTES], const cm_params *params,
                 const uint8_t key[CM_KEYBYTES], const uint8_t nonce[CM_NONCEBYTES], const uint8_t *context,
                 size_t context_len)
{
    oneshot os;
    int rc = oneshot_begin(&os, engine_version, params, out, in, len, segment_tags, tag, key, nonce, context,
                           context_len);
    if (rc != CM_OK)
        return rc;
    os.open_tags = segment_tags;
    /* 1. the object tag over the given segment tags, in constant time, before any frame is
     *    touched; 2. each frame checks its own tag and unmasks (aes-256-gcm in one pass). */
    uint8_t expected[CM_TAGBYTES];
    int unmasking = 0;
    if ((rc = cm_object_tag(&os.obj, os.aad, sizeof os.aad, segment_tags, os.nframes, expected)) == CM_OK &&
        (rc = cm_tag_verify(expected, tag, CM_TAGBYTES)) == CM_OK) {
        unmasking = 1;
        rc = run_frames(&os, open_frame);
    }
    /* No plaintext survives a failure: frames opened before a failing one are wiped with it.
     * In place, a failed object tag leaves the cipher as it was (nothing was unmasked). */
    if (rc != CM_OK && len > 0 && (out != in || unmasking))
        cm_memzero(out, len);
    cm_memzero(expected, sizeof expected);
    cm_object_wipe(&os.obj);
    return rc;
}

int cm_seal(uint8_t *out, uint8_t *segment_tags, uint8_t tag[CM_TAGBYTES], const uint8_t *in, size_t len,
            const cm_params *params, const uint8_t key[CM_KEYBYTES], const uint8_t nonce[CM_NONCEBYTES],
            const uint8_t *context, size_t context_len)
{
    return oneshot_seal(CM_FORMAT_VERSION, out, segment_tags, tag, in, len, params, key, nonce, context,
                        context_len);
}

int cm_open(uint8_t *out, const uint8_t *in, size_t len, const uint8_t *segment_tags,
            const uint8_t tag[CM_TAGBYTES], const cm_params *params, const uint8_t key[CM_KEYBYTES],
            const uint8_t nonce[CM_NONCEBYTES], const uint8_t *context, size_t context_len)
{
    return oneshot_open(CM_FORMAT_VERSION, out, in, len, segment_tags, tag, params, key, nonce, context,
                        context_len);
}
