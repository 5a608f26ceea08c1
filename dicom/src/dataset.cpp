/* dataset.cpp - encrypt, decrypt, verify and inspect a DcmDataset in memory.
 *
 * Encrypt: find the protected elements, seal every segment in place, add the private block
 * with the object tag over the block and the segment tags.  Decrypt and verify: read the
 * block, recompute the layout and check it matches, check the object tag over the block and
 * the segment tags stored in it (constant time), then check each segment against its stored
 * tag inside the engine: cm_segment_verify (verify) or cm_segment_open (decrypt: check, then
 * unmask); any failure wipes what was unmasked.  No computed tag ever leaves the engine. */
#include "internal.h"

#include "chaosmask/dicom_dataset.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <thread>

namespace chaosmask {
namespace {

struct SegmentRef {
    const ProtectedElement *pe;
    const Segment *seg;
};

std::vector<SegmentRef> flatten(const std::vector<ProtectedElement> &layout)
{
    std::vector<SegmentRef> refs;
    for (const ProtectedElement &pe : layout)
        for (const Segment &s : pe.segments)
            refs.push_back({&pe, &s});
    return refs;
}

/* Runs job(i) for every segment index, on up to `threads` threads (0 = one per CPU).
 * Returns the first non-zero result. */
template <typename Job>
int for_each_segment(size_t count, unsigned threads, Job job)
{
    if (threads == 0)
        threads = std::max(1u, std::thread::hardware_concurrency());
    threads = static_cast<unsigned>(std::min<size_t>(threads, count));
    if (threads <= 1) {
        for (size_t i = 0; i < count; ++i) {
            int rc = job(i);
            if (rc)
                return rc;
        }
        return 0;
    }
    std::atomic<size_t> next{0};
    std::atomic<int> result{0};
    auto worker = [&] {
        for (size_t i; result.load() == 0 && (i = next.fetch_add(1)) < count;) {
            int rc = job(i);
            if (rc) {
                int expected = 0;
                result.compare_exchange_strong(expected, rc);
            }
        }
    };
    std::vector<std::thread> pool;
    try {
        for (unsigned t = 1; t < threads; ++t)
            pool.emplace_back(worker);
    } catch (...) {
        /* fewer threads than hoped: the caller's thread still does all the work */
    }
    worker();
    for (std::thread &t : pool)
        t.join();
    return result.load();
}

E_TransferSyntax resolve_xfer(DcmDataset &ds, E_TransferSyntax xfer)
{
    return xfer == EXS_Unknown ? ds.getOriginalXfer() : xfer;
}

std::string sop_instance_uid(DcmDataset &ds)
{
    OFString uid;
    ds.findAndGetOFString(DCM_SOPInstanceUID, uid);
    return std::string(uid.c_str(), uid.length());
}

/* The key-derivation context: the SOP Instance UID, which every stored object must have (a
 * missing one would let a block and its pixels move between objects). */
int object_context(DcmDataset &ds, std::string &context, cm_dicom_error *err)
{
    context = sop_instance_uid(ds);
    if (context.empty())
        return dicom_fail(err, CM_DICOM_EINPUT, "the object has no SOP Instance UID (0008,0018)");
    if (context.size() > 64)
        return dicom_fail(err, CM_DICOM_EINPUT, "the SOP Instance UID is longer than the 64 characters a UID may have");
    return 0;
}

int engine_fail(cm_dicom_error *err, int engine_rc, const char *what)
{
    if (engine_rc == CM_ENOMEM)
        return dicom_fail(err, CM_DICOM_ENOMEM, "%s: %s", what, cm_strerror(engine_rc));
    return dicom_fail(err, CM_DICOM_EINTERNAL, "%s: engine error: %s", what, cm_strerror(engine_rc));
}

void wipe_layout(const std::vector<ProtectedElement> &layout)
{
    for (const ProtectedElement &pe : layout)
        for (const Segment &s : pe.segments)
            if (s.len)
                cm_memzero(s.data, s.len);
}

/* Everything decrypt and verify share: block, layout, key, object, object tag checked. */
struct OpenState {
    PrivateBlock block;
    std::vector<ProtectedElement> layout;
    cm_object obj;
    bool obj_ready = false;
    ~OpenState()
    {
        if (obj_ready)
            cm_object_wipe(&obj);
    }
};

int authenticate(DcmDataset &ds, E_TransferSyntax xfer, cm_dicom_key_fn key_fn, void *key_user, unsigned threads,
                 bool for_decrypt, OpenState &st, cm_dicom_error *err)
{
    dicom_register_dictionary();
    if (key_fn == nullptr)
        return dicom_fail(err, CM_DICOM_EINTERNAL, "no key lookup given");
    uint16_t slot = 0;
    int rc = block_find(ds, &slot);
    if (rc == CM_DICOM_ENOTENCRYPTED)
        return dicom_fail(err, rc, "the object carries no ChaosMask private block: not encrypted");
    if (rc)
        return dicom_fail(err, rc, "the object carries more than one ChaosMask private block: changed data");
    if ((rc = block_read(ds, slot, st.block, err)))
        return rc;
    std::string context;
    if ((rc = object_context(ds, context, err)))
        return rc;
    xfer = resolve_xfer(ds, xfer);
    if ((rc = layout_collect(ds, xfer, st.layout, err)))
        return rc;
    const PrivateBlock &b = st.block;
    /* Native data may be re-encoded (implicit/explicit, little/big endian) without changing a
     * word; encapsulated data must keep the syntax its fragments were written in. */
    const DcmXfer recorded(b.transfer_syntax.c_str()), current(xfer);
    if ((recorded.isEncapsulated() || current.isEncapsulated()) &&
        b.transfer_syntax != current.getXferID())
        return dicom_fail(err, CM_DICOM_EAUTH, "the transfer syntax is not the one the object was encrypted in "
                          "(%s): changed data", b.transfer_syntax.c_str());
    bool same = st.layout.size() == b.paths.size();
    for (size_t i = 0; same && i < st.layout.size(); ++i)
        same = st.layout[i].path == b.paths[i] && st.layout[i].length == b.lengths[i] &&
               st.layout[i].word_bytes == b.word_bytes[i] && st.layout[i].segments.size() == b.segment_counts[i];
    if (!same)
        return dicom_fail(err, CM_DICOM_EAUTH,
                          "the protected elements no longer match the private block (elements added, removed or "
                          "resized): changed data");
    int profile = cm_profile_from_name(b.profile.c_str());
    if (profile < 0)
        return dicom_fail(err, CM_DICOM_EUNSUPPORTED, "profile \"%s\" is not known to this build", b.profile.c_str());
    uint8_t key[CM_KEYBYTES];
    rc = key_fn(key_user, b.key_id.c_str(), key);
    if (rc) {
        cm_memzero(key, sizeof key);
        if (rc == CM_DICOM_EKEYID)
            return dicom_fail(err, rc, "key id \"%s\" is not in the key ring", b.key_id.c_str());
        return dicom_fail(err, rc < 0 ? rc : CM_DICOM_EINTERNAL, "key \"%s\" could not be loaded", b.key_id.c_str());
    }
    rc = cm_object_init_version(&st.obj, b.engine_version, profile, key, b.nonce.data(),
                                reinterpret_cast<const uint8_t *>(context.data()), context.size());
    cm_memzero(key, sizeof key);
    if (rc)
        return engine_fail(err, rc, "key derivation");
    st.obj_ready = true;

    /* 1. the object tag over the block and the stored segment tags */
    std::vector<SegmentRef> refs = flatten(st.layout);
    std::vector<uint8_t> aad = block_aad(b, context, st.layout);
    uint8_t tag[CM_TAGBYTES];
    rc = cm_object_tag(&st.obj, aad.data(), aad.size(), b.segment_tags.data(), refs.size(), tag);
    if (rc)
        return engine_fail(err, rc, "object tag");
    if (cm_tag_verify(b.object_tag.data(), tag, CM_TAGBYTES) != 0)
        return dicom_fail(err, CM_DICOM_EAUTH,
                          "authentication failed: wrong key for key id \"%s\", or the pixels, the private block, the "
                          "pixel description (rows, bits, signedness, offset table...) or the SOP Instance UID were "
                          "changed",
                          b.key_id.c_str());
    /* 2. each segment against its stored tag; decryption does this in cm_segment_open */
    if (for_decrypt)
        return 0;
    rc = for_each_segment(refs.size(), threads, [&](size_t i) {
        return cm_segment_verify(&st.obj, static_cast<uint32_t>(i), refs[i].pe->word_bytes, refs[i].seg->data,
                                 refs[i].seg->len, &b.segment_tags[i * CM_SEGTAGBYTES]);
    });
    if (rc == CM_EAUTH)
        return dicom_fail(err, CM_DICOM_EAUTH,
                          "authentication failed: a segment does not match its tag: the pixel data was changed");
    if (rc)
        return engine_fail(err, rc, "segment check");
    return 0;
}

void copy_text(char *dst, size_t cap, const std::string &src)
{
    snprintf(dst, cap, "%s", src.c_str());
}

void fill_elements(cm_dicom_info *info, const std::vector<ProtectedElement> &layout)
{
    info->element_count = layout.size();
    info->segments = 0;
    for (size_t i = 0; i < layout.size(); ++i) {
        info->segments += static_cast<uint32_t>(layout[i].segments.size());
        if (i >= CM_DICOM_INFO_MAX_ELEMENTS)
            continue;
        cm_dicom_element_info &el = info->elements[i];
        copy_text(el.path, sizeof el.path, layout[i].path);
        copy_text(el.vr, sizeof el.vr, layout[i].vr);
        el.length = layout[i].length;
        el.word_bytes = layout[i].word_bytes;
        el.segments = static_cast<uint32_t>(layout[i].segments.size());
        el.encapsulated = layout[i].encapsulated;
    }
}

} // namespace

int dicom_encrypt_dataset(DcmDataset &ds, E_TransferSyntax xfer, const cm_dicom_encrypt_params &p,
                          cm_dicom_error *err)
{
    dicom_register_dictionary();
    if (p.key == nullptr || p.key_id == nullptr)
        return dicom_fail(err, CM_DICOM_EINTERNAL, "no key given");
    const char *profile_name = cm_profile_name(p.profile);
    if (profile_name == nullptr)
        return dicom_fail(err, CM_DICOM_EINTERNAL, "unknown profile %d", p.profile);
    if (!key_id_syntax_ok(p.key_id))
        return dicom_fail(err, CM_DICOM_EINTERNAL,
                          "the key id cannot be stored (letters, digits, '.', '_', '-', at most 63, not starting "
                          "with '.')");
    uint16_t slot = 0;
    int rc = block_find(ds, &slot);
    if (rc != CM_DICOM_ENOTENCRYPTED) {
        /* "Already encrypted" only when the block authenticates: a creator string alone, or a
         * block copied from another object, must not pass plaintext off as encrypted. */
        OpenState st;
        cm_dicom_error verr = {0, ""};
        if (rc == 0 && p.key_fn != nullptr &&
            authenticate(ds, xfer, p.key_fn, p.key_user, p.threads, false, st, &verr) == 0)
            return dicom_fail(err, CM_DICOM_EENCRYPTED, "the object is already encrypted (private block %04X,%02X); "
                              "not encrypting it twice", CM_DICOM_PRIVATE_GROUP, slot);
        return dicom_fail(err, CM_DICOM_EBLOCK, "the object carries a ChaosMask private block that does not "
                          "authenticate (%s); refusing to encrypt or to call it encrypted",
                          verr.message[0] ? verr.message : "no key lookup to check it with");
    }
    xfer = resolve_xfer(ds, xfer);
    if (xfer == EXS_Unknown)
        return dicom_fail(err, CM_DICOM_EINPUT, "the transfer syntax of the object is unknown");
    std::vector<ProtectedElement> layout;
    if ((rc = layout_collect(ds, xfer, layout, err)))
        return rc;
    if (layout.empty())
        return dicom_fail(err, CM_DICOM_ENOTHING, "the object has no pixel-bearing element to protect");
    PrivateBlock b;
    if ((rc = block_free_slot(ds, &b.slot, err)))
        return rc;
    std::vector<SegmentRef> refs = flatten(layout);
    if (refs.size() > CM_MAX_SEGMENTS)
        return dicom_fail(err, CM_DICOM_EUNSUPPORTED, "too many segments (%zu)", refs.size());
    b.block_version = CM_DICOM_BLOCK_VERSION;
    b.engine_version = CM_FORMAT_VERSION;
    b.profile = profile_name;
    b.key_id = p.key_id;
    b.nonce.assign(CM_NONCEBYTES, 0);
    if ((rc = cm_random(b.nonce.data(), b.nonce.size())))
        return engine_fail(err, rc, "nonce");
    b.transfer_syntax = DcmXfer(xfer).getXferID();
    for (const ProtectedElement &pe : layout) {
        if (pe.length > 0xFFFFFFFEull)
            return dicom_fail(err, CM_DICOM_EUNSUPPORTED, "%s holds more than 4 GiB", pe.path.c_str());
        b.paths.push_back(pe.path);
        b.lengths.push_back(static_cast<uint32_t>(pe.length));
        b.word_bytes.push_back(static_cast<uint16_t>(pe.word_bytes));
        b.segment_counts.push_back(static_cast<uint32_t>(pe.segments.size()));
    }
    std::string context;
    if ((rc = object_context(ds, context, err)))
        return rc;
    cm_object obj;
    rc = cm_object_init(&obj, p.profile, p.key, b.nonce.data(), reinterpret_cast<const uint8_t *>(context.data()),
                        context.size());
    if (rc)
        return engine_fail(err, rc, "key derivation");
    b.segment_tags.assign(refs.size() * CM_SEGTAGBYTES, 0);
    rc = for_each_segment(refs.size(), p.threads, [&](size_t i) {
        const SegmentRef &r = refs[i];
        return cm_segment_seal(&obj, static_cast<uint32_t>(i), r.pe->word_bytes, r.seg->data, r.seg->data,
                               r.seg->len, &b.segment_tags[i * CM_SEGTAGBYTES]);
    });
    if (rc == 0) {
        std::vector<uint8_t> aad = block_aad(b, context, layout);
        b.object_tag.assign(CM_TAGBYTES, 0);
        rc = cm_object_tag(&obj, aad.data(), aad.size(), b.segment_tags.data(), refs.size(), b.object_tag.data());
    }
    cm_object_wipe(&obj);
    if (rc)
        return engine_fail(err, rc, "masking");
    return block_write(ds, b, err);
}

int dicom_decrypt_dataset(DcmDataset &ds, E_TransferSyntax xfer, cm_dicom_key_fn key_fn, void *key_user,
                          unsigned threads, cm_dicom_error *err)
{
    OpenState st;
    int rc = authenticate(ds, xfer, key_fn, key_user, threads, true, st, err);
    if (rc)
        return rc;
    std::vector<SegmentRef> refs = flatten(st.layout);
    rc = for_each_segment(refs.size(), threads, [&](size_t i) {
        const SegmentRef &r = refs[i];
        return cm_segment_open(&st.obj, static_cast<uint32_t>(i), r.pe->word_bytes, r.seg->data, r.seg->data,
                               r.seg->len, &st.block.segment_tags[i * CM_SEGTAGBYTES]);
    });
    if (rc) {
        wipe_layout(st.layout);
        if (rc == CM_EAUTH)
            return dicom_fail(err, CM_DICOM_EAUTH,
                          "authentication failed: a segment does not match its tag: the pixel data was changed");
        return engine_fail(err, rc, "unmasking");
    }
    block_remove(ds, st.block.slot);
    return 0;
}

int dicom_verify_dataset(DcmDataset &ds, E_TransferSyntax xfer, cm_dicom_key_fn key_fn, void *key_user,
                         cm_dicom_error *err)
{
    OpenState st;
    return authenticate(ds, xfer, key_fn, key_user, 0, false, st, err);
}

int dicom_inspect_dataset(DcmDataset &ds, E_TransferSyntax xfer, cm_dicom_info *info, cm_dicom_error *err)
{
    dicom_register_dictionary();
    memset(info, 0, sizeof *info);
    xfer = resolve_xfer(ds, xfer);
    copy_text(info->transfer_syntax, sizeof info->transfer_syntax,
              xfer == EXS_Unknown ? std::string("unknown") : std::string(DcmXfer(xfer).getXferID()));
    copy_text(info->sop_instance_uid, sizeof info->sop_instance_uid, sop_instance_uid(ds));
    std::vector<ProtectedElement> layout;
    cm_dicom_error layout_err = {0, ""};
    int layout_rc = layout_collect(ds, xfer, layout, &layout_err);
    uint16_t slot = 0;
    int found = block_find(ds, &slot);
    if (found == CM_DICOM_EBLOCK)
        return dicom_fail(err, found, "the object carries more than one ChaosMask private block: changed data");
    if (found == 0) {
        PrivateBlock b;
        info->encrypted = 1;
        info->block_group = CM_DICOM_PRIVATE_GROUP;
        info->block_slot = slot;
        int rc = block_read(ds, slot, b, err);
        if (rc)
            return rc;
        info->block_version = b.block_version;
        info->engine_version = b.engine_version;
        copy_text(info->profile, sizeof info->profile, b.profile);
        copy_text(info->key_id, sizeof info->key_id, b.key_id);
    }
    if (layout_rc) {
        info->layout_error = layout_rc;
        copy_text(info->layout_message, sizeof info->layout_message, layout_err.message);
        return 0;
    }
    fill_elements(info, layout);
    if (layout.empty() && !info->encrypted) {
        info->layout_error = CM_DICOM_ENOTHING;
        copy_text(info->layout_message, sizeof info->layout_message, "no pixel-bearing element to protect");
    }
    return 0;
}

} // namespace chaosmask
