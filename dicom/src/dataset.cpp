/* dataset.cpp - encrypt, decrypt, verify, rebind and inspect an object in memory (dicom.h).
 *
 * Encrypt: find the protected elements, refuse what is a mask already, record and set the
 * marks, digest the bound attributes and the patient identity, seal every segment in place,
 * add the private block with the object tag over all of it.  Decrypt: read the block, undo a
 * lossless compression, recompute the layout and check it matches, check the object tag over
 * the block and the stored segment tags in constant time, then the bound attributes (named
 * when changed) and the identity (against the policy), and only then open each segment (its
 * tag checked, then unmasked); any failure wipes what was unmasked. */
#include "internal.h"

#include "chaosmask/dicom_dataset.h"

#include "detect.h"
#include "recode.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcstack.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <cstdio>
#include <cstring>
#include <new>

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

/* Runs job(i) for i in [0, count) on the executor (NULL: this thread); the first failure. */
template <typename Job>
int run_segments(const cm_executor *ex, size_t count, Job &job)
{
    auto call = [](void *ctx, size_t i) -> int {
        try {
            return (*static_cast<Job *>(ctx))(i);
        } catch (const std::bad_alloc &) {
            return CM_ENOMEM;
        }
    };
    if (ex == nullptr || count <= 1) {
        for (size_t i = 0; i < count; ++i)
            if (int rc = call(&job, i))
                return rc;
        return 0;
    }
    return ex->run(ex->self, count, call, &job);
}

/* op(bytes, len) on a segment: in place when contiguous, else on a gathered copy that is
 * scattered back (when write_back) and wiped. */
template <typename Op>
int with_segment(const Segment &s, bool write_back, Op op)
{
    if (s.pieces.empty())
        return op(s.data, s.len);
    std::vector<uint8_t> buf(s.len);
    size_t off = 0;
    for (const Piece &p : s.pieces) {
        memcpy(buf.data() + off, p.data, p.len);
        off += p.len;
    }
    int rc = op(buf.data(), s.len);
    if (rc == 0 && write_back) {
        off = 0;
        for (const Piece &p : s.pieces) {
            memcpy(p.data, buf.data() + off, p.len);
            off += p.len;
        }
    }
    cm_memzero(buf.data(), buf.size());
    return rc;
}

void wipe_layout(const std::vector<ProtectedElement> &layout)
{
    for (const ProtectedElement &pe : layout)
        for (const Segment &s : pe.segments) {
            if (s.pieces.empty() && s.len)
                cm_memzero(s.data, s.len);
            for (const Piece &p : s.pieces)
                cm_memzero(p.data, p.len);
        }
}

/* The engine material of one object, wiped whatever happens (exceptions included). */
struct ObjectKey {
    cm_object obj;
    bool ready = false;
    ~ObjectKey()
    {
        if (ready)
            cm_object_wipe(&obj);
    }
};

std::string uid_of(DcmItem &ds, const DcmTagKey &tag)
{
    OFString v;
    ds.findAndGetOFString(tag, v);
    return std::string(v.c_str(), v.length());
}

void copy_text(char *dst, size_t cap, const std::string &src)
{
    snprintf(dst, cap, "%s", src.c_str());
}

void report_basics(cm_dicom_object &o, cm_dicom_report &rep)
{
    DcmDataset &ds = *o.ff.getDataset();
    memset(&rep, 0, sizeof rep);
    copy_text(rep.sop_class_uid, sizeof rep.sop_class_uid, uid_of(ds, DCM_SOPClassUID));
    copy_text(rep.sop_instance_uid, sizeof rep.sop_instance_uid, uid_of(ds, DCM_SOPInstanceUID));
    copy_text(rep.study_instance_uid, sizeof rep.study_instance_uid, uid_of(ds, DCM_StudyInstanceUID));
    E_TransferSyntax x = ds.getOriginalXfer();
    copy_text(rep.transfer_syntax, sizeof rep.transfer_syntax, x == EXS_Unknown ? "" : DcmXfer(x).getXferID());
}

void report_block(const PrivateBlock &b, const std::vector<ProtectedElement> &layout, cm_dicom_report &rep)
{
    copy_text(rep.profile, sizeof rep.profile, b.profile);
    copy_text(rep.key_id, sizeof rep.key_id, b.key_id);
    rep.block_version = b.block_version;
    rep.protected_bytes = 0;
    for (const ProtectedElement &pe : layout)
        rep.protected_bytes += pe.length;
}

/* The key-derivation context: the SOP Instance UID, which every stored object must have (a
 * missing one would let a block and its pixels move between objects). */
int object_context(DcmDataset &ds, std::string &context, cm_error *err)
{
    context = uid_of(ds, DCM_SOPInstanceUID);
    if (context.empty())
        return cm_fail(err, CM_DICOM_EINPUT, "the object has no SOP Instance UID (0008,0018)");
    if (context.size() > 64)
        return cm_fail(err, CM_DICOM_EINPUT, "the SOP Instance UID is longer than the 64 characters a UID may have");
    return 0;
}

int engine_fail(cm_error *err, int engine_rc, const char *what)
{
    if (engine_rc == CM_ENOMEM)
        return cm_fail(err, CM_DICOM_ENOMEM, "%s: %s", what, cm_strerror(engine_rc));
    return cm_fail(err, CM_DICOM_EINTERNAL, "%s: engine error: %s", what, cm_strerror(engine_rc));
}

std::vector<DcmTagKey> tags_of(const std::vector<NamedTag> &list)
{
    std::vector<DcmTagKey> out;
    for (const NamedTag &t : list)
        out.push_back(t.tag);
    return out;
}

std::string join(const std::vector<std::string> &names)
{
    std::string out;
    for (size_t i = 0; i < names.size(); ++i)
        out += (i ? ", " : "") + names[i];
    return out;
}

/* ---- authentication (decrypt, verify, rebind share it) ---- */

enum Purpose { VERIFY, DECRYPT, REBIND };

struct OpenState {
    PrivateBlock block;
    std::vector<ProtectedElement> layout;
    std::string context;
    ObjectKey key;
    std::vector<std::string> identity_changed;
};

/* The block, or why there is none to use. */
int find_block(DcmDataset &ds, PrivateBlock &b, cm_error *err)
{
    uint16_t slot = 0;
    int rc = block_find(ds, &slot);
    if (rc == CM_DICOM_ENOTENCRYPTED) {
        std::string marks = marks_present(ds);
        if (!marks.empty())
            return cm_fail(err, CM_DICOM_EBLOCK,
                              "the object says it is encrypted (%s) but its ChaosMask private block is gone, stripped "
                              "by a router or de-identifier: this copy cannot be decrypted (restore the archive copy)",
                              marks.c_str());
        return cm_fail(err, rc, "the object carries no ChaosMask private block: not encrypted");
    }
    if (rc)
        return cm_fail(err, rc, "the object carries more than one ChaosMask private block: changed data");
    return block_read(ds, slot, b, err);
}

/* A lossless compression after encryption undone, or the reason it cannot be. */
int undo_recoding(cm_dicom_object &o, const PrivateBlock &b, cm_dicom_report &rep, cm_error *err)
{
    DcmDataset &ds = *o.ff.getDataset();
    RecodePlan plan;
    int rc = recode_check(ds, b.transfer_syntax, ds.getOriginalXfer(), plan, err);
    if (rc || !plan.decode)
        return rc;
    uint64_t recorded = 0;
    for (uint32_t n : b.lengths)
        recorded += n;
    if ((rc = recode_bound(ds, plan, recorded, o.max_bytes, err)) || (rc = recode_decode(ds, plan, err)))
        return rc;
    o.out_xfer = plan.to;
    o.xfer_changed = true;
    snprintf(rep.note, sizeof rep.note, "decoded from %s; written as %s", DcmXfer(plan.from).getXferName(),
             DcmXfer(plan.to).getXferName());
    return 0;
}

int check_layout(const OpenState &st, cm_error *err)
{
    const PrivateBlock &b = st.block;
    bool same = st.layout.size() == b.paths.size();
    for (size_t i = 0; same && i < st.layout.size(); ++i)
        same = st.layout[i].path == b.paths[i] && st.layout[i].length == b.lengths[i] &&
               st.layout[i].word_bytes == b.word_bytes[i] && st.layout[i].segments.size() == b.segment_counts[i];
    if (!same)
        return cm_fail(err, CM_DICOM_EAUTH,
                          "authentication failed: the protected elements no longer match the private block (elements "
                          "added, removed or resized): changed data");
    return 0;
}

int derive_key(const cm_dicom_open_params &p, OpenState &st, cm_error *err)
{
    const PrivateBlock &b = st.block;
    int profile = cm_profile_from_name(b.profile.c_str());
    uint8_t key[CM_KEYBYTES];
    if (p.keys.get == nullptr)
        return cm_fail(err, CM_DICOM_EINTERNAL, "no key provider");
    int rc = p.keys.get(p.keys.self, b.key_id.c_str(), key, err);
    if (rc) {
        cm_memzero(key, sizeof key);
        return rc < 0 ? rc : cm_fail(err, CM_DICOM_EINTERNAL, "key \"%s\" could not be loaded", b.key_id.c_str());
    }
    rc = cm_object_init_version(&st.key.obj, b.engine_version, profile, key, b.nonce.data(),
                                reinterpret_cast<const uint8_t *>(st.context.data()), st.context.size());
    cm_memzero(key, sizeof key);
    if (rc)
        return engine_fail(err, rc, "key derivation");
    st.key.ready = true;
    return 0;
}

/* Format 2, after a failed object tag: the bound attributes whose digests no longer match
 * (the likely cause, worth naming; the digests themselves were not authenticated). */
std::string suspects(DcmDataset &ds, OpenState &st)
{
    std::vector<uint8_t> actual;
    std::vector<std::string> changed;
    if (st.block.block_version < 2 || attribute_digests(&st.key.obj, "bound", ds, st.block.bound_tags, actual) != 0)
        return std::string();
    digests_compare(st.block.bound_digests, actual, st.block.bound_tags, changed);
    return join(changed);
}

int check_object_tag(DcmDataset &ds, OpenState &st, cm_error *err)
{
    const PrivateBlock &b = st.block;
    std::vector<uint8_t> aad = block_aad(b, st.context, st.layout);
    uint8_t tag[CM_TAGBYTES];
    int rc = cm_object_tag(&st.key.obj, aad.data(), aad.size(), b.segment_tags.data(),
                           b.segment_tags.size() / CM_SEGTAGBYTES, tag);
    if (rc)
        return engine_fail(err, rc, "object tag");
    if (cm_tag_verify(b.object_tag.data(), tag, CM_TAGBYTES) == 0)
        return 0;
    std::string named = suspects(ds, st);
    if (!named.empty())
        return cm_fail(err, CM_DICOM_EAUTH,
                          "authentication failed: %s changed since encryption (it also describes the pixel data)",
                          named.c_str());
    return cm_fail(err, CM_DICOM_EAUTH,
                      "authentication failed: wrong key for key id \"%s\", or the pixels, the private block, the "
                      "pixel description (rows, bits, signedness, offset table...) or the SOP Instance UID were "
                      "changed",
                      b.key_id.c_str());
}

/* DCMTK's decoders give 8-bit native Pixel Data back with VR OW, while most writers store 8-bit
 * pixels as OB - and the object tag covers the VR the object was encrypted with.  After a
 * decode, an object that does not authenticate as decoded is tried again with its 8-bit Pixel
 * Data (and icons') as OB, and kept that way when that authenticates; else rc stands. */
int authenticate_decoded_as_ob(DcmDataset &ds, OpenState &st, int rc)
{
    std::vector<DcmPixelData *> changed;
    DcmStack stack;
    while (ds.search(DCM_PixelData, stack, ESM_afterStackTop, OFTrue).good()) {
        DcmObject *top = stack.top();
        DcmObject *parent = stack.card() > 1 ? stack.elem(1) : &ds; /* the search root is not on the stack */
        Uint16 bits = 0;
        if (top->ident() != EVR_PixelData || top->getVR() != EVR_OW ||
            (parent->ident() != EVR_dataset && parent->ident() != EVR_item) ||
            static_cast<DcmItem *>(parent)->findAndGetUint16(DCM_BitsAllocated, bits).bad() || bits > 8)
            continue;
        changed.push_back(static_cast<DcmPixelData *>(top));
    }
    if (changed.empty())
        return rc;
    for (DcmPixelData *px : changed)
        px->setVR(EVR_OB);
    std::vector<ProtectedElement> layout;
    cm_error scratch = {0, ""};
    if (layout_collect(ds, ds.getOriginalXfer(), st.block.block_version, layout, &scratch) == 0) {
        std::swap(st.layout, layout);
        if (check_layout(st, &scratch) == 0 && check_object_tag(ds, st, &scratch) == 0)
            return 0;
        std::swap(st.layout, layout);
    }
    for (DcmPixelData *px : changed)
        px->setVR(EVR_OW);
    return rc;
}

/* Format 2: the bound attributes (named when changed), then the identity against the policy. */
int check_bindings(DcmDataset &ds, const cm_dicom_open_params &p, Purpose why, OpenState &st, cm_error *err)
{
    const PrivateBlock &b = st.block;
    std::vector<uint8_t> actual;
    std::vector<std::string> changed;
    int rc = attribute_digests(&st.key.obj, "bound", ds, b.bound_tags, actual);
    if (rc)
        return engine_fail(err, rc, "bound attributes");
    digests_compare(b.bound_digests, actual, b.bound_tags, changed);
    if (!changed.empty())
        return cm_fail(err, CM_DICOM_EAUTH,
                          "authentication failed: %s changed since encryption; it changes what the pixels mean or "
                          "where they are, so the object is refused",
                          join(changed).c_str());
    std::vector<DcmTagKey> identity = tags_of(identity_attributes());
    if ((rc = attribute_digests(&st.key.obj, "identity", ds, identity, actual)))
        return engine_fail(err, rc, "patient identity");
    digests_compare(b.identity_digests, actual, identity, st.identity_changed);
    if (!st.identity_changed.empty() && why != REBIND && p.identity_policy != CM_DICOM_IDENTITY_ALLOW)
        return cm_fail(err, CM_DICOM_EIDENTITY,
                          "patient identity changed since encryption: %s (after an authorized correction, chaosmask "
                          "rebind records it; [dicom] patient_identity = allow decrypts with an audit record)",
                          join(st.identity_changed).c_str());
    return 0;
}

int verify_segments(const cm_dicom_open_params &p, OpenState &st, cm_error *err)
{
    std::vector<SegmentRef> refs = flatten(st.layout);
    const PrivateBlock &b = st.block;
    auto job = [&](size_t i) {
        return with_segment(*refs[i].seg, false, [&](uint8_t *data, size_t len) {
            return cm_segment_verify(&st.key.obj, static_cast<uint32_t>(i), refs[i].pe->word_bytes, data, len,
                                     &b.segment_tags[i * CM_SEGTAGBYTES]);
        });
    };
    int rc = run_segments(p.executor, refs.size(), job);
    if (rc == CM_EAUTH)
        return cm_fail(err, CM_DICOM_EAUTH,
                          "authentication failed: a segment does not match its tag: the pixel data was changed");
    return rc ? engine_fail(err, rc, "segment check") : 0;
}

int authenticate(cm_dicom_object &o, const cm_dicom_open_params &p, Purpose why, OpenState &st,
                 cm_dicom_report &rep, cm_error *err)
{
    dicom_register_dictionary();
    DcmDataset &ds = *o.ff.getDataset();
    report_basics(o, rep);
    int rc = find_block(ds, st.block, err);
    if (rc)
        return rc;
    copy_text(rep.profile, sizeof rep.profile, st.block.profile);
    copy_text(rep.key_id, sizeof rep.key_id, st.block.key_id);
    rep.block_version = st.block.block_version;
    if ((rc = object_context(ds, st.context, err)) || (rc = undo_recoding(o, st.block, rep, err)) ||
        (rc = layout_collect(ds, ds.getOriginalXfer(), st.block.block_version, st.layout, err)) ||
        (rc = check_layout(st, err)) || (rc = derive_key(p, st, err)))
        return rc;
    if ((rc = check_object_tag(ds, st, err)) == CM_DICOM_EAUTH && o.xfer_changed)
        rc = authenticate_decoded_as_ob(ds, st, rc);
    if (rc)
        return rc;
    if (st.block.block_version >= 2 && (rc = check_bindings(ds, p, why, st, err)))
        return rc;
    report_block(st.block, st.layout, rep);
    if (!st.identity_changed.empty())
        snprintf(rep.identity_changed, sizeof rep.identity_changed, "patient identity changed since encryption: %s",
                 join(st.identity_changed).c_str());
    return why == DECRYPT ? 0 : verify_segments(p, st, err);
}

/* ---- encryption ---- */

/* Already encrypted (and authentic), or a block that does not authenticate. */
int existing_block(cm_dicom_object &o, const cm_dicom_encrypt_params &p, cm_dicom_report &rep, int found,
                   cm_error *err)
{
    cm_error verr = {0, ""};
    if (found == 0 && p.keys.get != nullptr) {
        OpenState st;
        cm_dicom_open_params op = {p.keys, p.executor, CM_DICOM_IDENTITY_ALLOW};
        int rc = authenticate(o, op, VERIFY, st, rep, &verr);
        if (rc == 0)
            return cm_fail(err, CM_DICOM_EENCRYPTED, "the object is already encrypted (key %s); not encrypting it twice",
                              st.block.key_id.c_str());
        /* the key provider's own errors (the key is not in the ring, its file is unsafe) are
         * what they are, not a verdict on the block */
        if (rc > -100 || rc <= -200)
            return cm_fail(err, rc, "the object is already encrypted, but its block cannot be checked: %s", verr.msg);
    }
    return cm_fail(err, CM_DICOM_EBLOCK,
                      "the object carries a ChaosMask private block that does not authenticate (%s); refusing to "
                      "encrypt it or to call it encrypted",
                      verr.msg[0] ? verr.msg : "more than one block, or no key provider to check it with");
}

/* Pixels that are a mask already: an encrypted object whose block was stripped. */
int refuse_masks(DcmDataset &ds, const std::vector<ProtectedElement> &layout, cm_error *err)
{
    std::string marks = marks_present(ds);
    if (!marks.empty())
        return cm_fail(err, CM_DICOM_EMASKED,
                          "the object says it was encrypted by ChaosMask (%s) but carries no ChaosMask private block: "
                          "the block was probably stripped; encrypting the noise again would lose the object for "
                          "good (use --force if this is wrong)",
                          marks.c_str());
    for (const ProtectedElement &pe : layout) {
        if (!pe.native_pixels || pe.segments.empty() || pe.segments[0].data == nullptr)
            continue;
        PixelWords px = {pe.segments[0].data, pe.segments[0].len, pe.word_bytes, pe.bits_stored, pe.high_bit,
                         pe.is_signed};
        std::string why;
        if (looks_masked(px, why))
            return cm_fail(err, CM_DICOM_EMASKED,
                              "the pixel data of %s looks like a mask already (%s): probably an encrypted object whose "
                              "private block was stripped; encrypting it again would lose it for good (use --force if "
                              "the pixels really are noise)",
                              pe.path.c_str(), why.c_str());
    }
    return 0;
}

int fill_block(DcmDataset &ds, const cm_dicom_encrypt_params &p, const std::vector<ProtectedElement> &layout,
               PrivateBlock &b, cm_error *err)
{
    int rc = block_free_slot(ds, &b.slot, err);
    if (rc)
        return rc;
    b.block_version = CM_DICOM_BLOCK_VERSION;
    b.engine_version = CM_FORMAT_VERSION;
    b.profile = cm_profile_name(p.profile);
    b.key_id = p.key_id;
    b.nonce.assign(CM_NONCEBYTES, 0);
    if ((rc = cm_random(b.nonce.data(), b.nonce.size())))
        return engine_fail(err, rc, "nonce");
    b.transfer_syntax = DcmXfer(ds.getOriginalXfer()).getXferID();
    size_t segments = 0;
    for (const ProtectedElement &pe : layout) {
        if (pe.length > 0xFFFFFFFEull)
            return cm_fail(err, CM_DICOM_EUNSUPPORTED, "%s holds more than 4 GiB", pe.path.c_str());
        b.paths.push_back(pe.path);
        b.lengths.push_back(static_cast<uint32_t>(pe.length));
        b.word_bytes.push_back(static_cast<uint16_t>(pe.word_bytes));
        b.segment_counts.push_back(static_cast<uint32_t>(pe.segments.size()));
        segments += pe.segments.size();
    }
    if (segments > CM_MAX_SEGMENTS)
        return cm_fail(err, CM_DICOM_EUNSUPPORTED, "too many segments (%zu)", segments);
    b.bound_tags = tags_of(bound_attributes());
    return 0;
}

int seal_segments(const cm_dicom_encrypt_params &p, const cm_object *obj, const std::vector<ProtectedElement> &layout,
                  PrivateBlock &b, cm_error *err)
{
    std::vector<SegmentRef> refs = flatten(layout);
    b.segment_tags.assign(refs.size() * CM_SEGTAGBYTES, 0);
    auto job = [&](size_t i) {
        return with_segment(*refs[i].seg, true, [&](uint8_t *data, size_t len) {
            return cm_segment_seal(obj, static_cast<uint32_t>(i), refs[i].pe->word_bytes, data, data, len,
                                   &b.segment_tags[i * CM_SEGTAGBYTES]);
        });
    };
    int rc = run_segments(p.executor, refs.size(), job);
    return rc ? engine_fail(err, rc, "masking") : 0;
}

int encrypt(cm_dicom_object &o, const cm_dicom_encrypt_params &p, cm_dicom_report &rep, cm_error *err)
{
    dicom_register_dictionary();
    DcmDataset &ds = *o.ff.getDataset();
    report_basics(o, rep);
    if (p.key == nullptr || p.key_id == nullptr || cm_profile_name(p.profile) == nullptr)
        return cm_fail(err, CM_DICOM_EINTERNAL, "no key, key id or profile given");
    if (!key_id_syntax_ok(p.key_id))
        return cm_fail(err, CM_DICOM_EINTERNAL,
                          "the key id cannot be stored (letters, digits, '.', '_', '-', at most 63, not starting "
                          "with '.')");
    uint16_t slot = 0;
    int found = block_find(ds, &slot);
    if (found != CM_DICOM_ENOTENCRYPTED)
        return existing_block(o, p, rep, found, err);
    std::vector<ProtectedElement> layout;
    int rc = layout_collect(ds, ds.getOriginalXfer(), CM_DICOM_BLOCK_VERSION, layout, err);
    if (rc)
        return rc;
    if (layout.empty())
        return cm_fail(err, CM_DICOM_ENOTHING, "the object has no pixel-bearing element to protect");
    if (!p.force && (rc = refuse_masks(ds, layout, err)))
        return rc;
    if ((rc = attributes_check(ds, err)))
        return rc;
    PrivateBlock b;
    std::string context;
    ObjectKey key;
    if ((rc = object_context(ds, context, err)) || (rc = fill_block(ds, p, layout, b, err)))
        return rc;
    if ((rc = cm_object_init(&key.obj, p.profile, p.key, b.nonce.data(),
                             reinterpret_cast<const uint8_t *>(context.data()), context.size())))
        return engine_fail(err, rc, "key derivation");
    key.ready = true;
    if (marks_apply(ds, b.marked_originals) != 0)
        return cm_fail(err, CM_DICOM_EINTERNAL, "cannot mark the object as encrypted");
    if ((rc = attribute_digests(&key.obj, "bound", ds, b.bound_tags, b.bound_digests)) ||
        (rc = attribute_digests(&key.obj, "identity", ds, tags_of(identity_attributes()), b.identity_digests)))
        return engine_fail(err, rc, "attribute digests");
    if ((rc = seal_segments(p, &key.obj, layout, b, err)))
        return rc;
    std::vector<uint8_t> aad = block_aad(b, context, layout);
    b.object_tag.assign(CM_TAGBYTES, 0);
    if ((rc = cm_object_tag(&key.obj, aad.data(), aad.size(), b.segment_tags.data(),
                            b.segment_tags.size() / CM_SEGTAGBYTES, b.object_tag.data())))
        return engine_fail(err, rc, "object tag");
    report_block(b, layout, rep);
    return block_write(ds, b, err);
}

/* ---- decryption, rebind ---- */

int open_segments(const cm_dicom_open_params &p, OpenState &st, cm_error *err)
{
    std::vector<SegmentRef> refs = flatten(st.layout);
    const PrivateBlock &b = st.block;
    auto job = [&](size_t i) {
        return with_segment(*refs[i].seg, true, [&](uint8_t *data, size_t len) {
            return cm_segment_open(&st.key.obj, static_cast<uint32_t>(i), refs[i].pe->word_bytes, data, data, len,
                                   &b.segment_tags[i * CM_SEGTAGBYTES]);
        });
    };
    int rc = run_segments(p.executor, refs.size(), job);
    if (rc == 0)
        return 0;
    wipe_layout(st.layout);
    if (rc == CM_EAUTH)
        return cm_fail(err, CM_DICOM_EAUTH, "authentication failed: a segment does not match its tag: changed data");
    return engine_fail(err, rc, "unmasking");
}

int decrypt(cm_dicom_object &o, const cm_dicom_open_params &p, cm_dicom_report &rep, cm_error *err)
{
    OpenState st;
    int rc = authenticate(o, p, DECRYPT, st, rep, err);
    if (rc == 0)
        rc = open_segments(p, st, err);
    if (rc)
        return rc;
    DcmDataset &ds = *o.ff.getDataset();
    if (st.block.block_version >= 2 && (rc = marks_restore(ds, st.block.marked_originals)) != 0) {
        wipe_layout(st.layout); /* what was unmasked is not left in a failed object */
        /* the record is authenticated: only DCMTK failing to store a value (out of memory) stops
         * it, and that must not read as a damaged block (an alarm of tampering) */
        return rc == CM_DICOM_EBLOCK
                   ? cm_fail(err, rc, "the recorded original attributes cannot be restored")
                   : cm_fail(err, CM_DICOM_ENOMEM, "the recorded original attributes could not be restored (out of memory)");
    }
    block_remove(ds, st.block.slot);
    return 0;
}

int rebind(cm_dicom_object &o, const cm_dicom_open_params &p, cm_dicom_report &rep, cm_error *err)
{
    OpenState st;
    int rc = authenticate(o, p, REBIND, st, rep, err);
    if (rc)
        return rc;
    PrivateBlock &b = st.block;
    if (b.block_version < 2)
        return cm_fail(err, CM_DICOM_EUNSUPPORTED,
                          "the object is in format %u, which records no patient identity: there is nothing to rebind",
                          b.block_version);
    DcmDataset &ds = *o.ff.getDataset();
    if ((rc = attribute_digests(&st.key.obj, "identity", ds, tags_of(identity_attributes()), b.identity_digests)))
        return engine_fail(err, rc, "patient identity");
    std::vector<uint8_t> aad = block_aad(b, st.context, st.layout);
    if ((rc = cm_object_tag(&st.key.obj, aad.data(), aad.size(), b.segment_tags.data(),
                            b.segment_tags.size() / CM_SEGTAGBYTES, b.object_tag.data())))
        return engine_fail(err, rc, "object tag");
    block_remove(ds, b.slot);
    return block_write(ds, b, err);
}

/* ---- inspection ---- */

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

/* The block's fields, or what is damaged in it. */
unsigned inspect_block(DcmDataset &ds, cm_dicom_info *info)
{
    uint16_t slot = 0;
    int found = block_find(ds, &slot);
    if (found == CM_DICOM_ENOTENCRYPTED)
        return CM_DICOM_BLOCK_VERSION;
    info->encrypted = 1;
    info->block_group = CM_DICOM_PRIVATE_GROUP;
    info->block_slot = slot;
    PrivateBlock b;
    cm_error berr = {0, ""};
    int rc = found ? cm_fail(&berr, found, "the object carries more than one ChaosMask private block")
                   : block_read(ds, slot, b, &berr);
    if (rc) {
        info->block_error = rc;
        copy_text(info->block_message, sizeof info->block_message, berr.msg);
        /* what could be read, for the administrator */
        info->block_version = b.block_version;
        copy_text(info->profile, sizeof info->profile, b.profile);
        copy_text(info->key_id, sizeof info->key_id, key_id_syntax_ok(b.key_id) ? b.key_id : "");
        return b.block_version >= 1 && b.block_version <= CM_DICOM_BLOCK_VERSION ? b.block_version
                                                                                  : CM_DICOM_BLOCK_VERSION;
    }
    info->block_version = b.block_version;
    info->engine_version = b.engine_version;
    copy_text(info->profile, sizeof info->profile, b.profile);
    copy_text(info->key_id, sizeof info->key_id, b.key_id);
    return b.block_version;
}

int inspect(cm_dicom_object &o, cm_dicom_info *info, cm_error *err)
{
    (void)err;
    dicom_register_dictionary();
    DcmDataset &ds = *o.ff.getDataset();
    memset(info, 0, sizeof *info);
    E_TransferSyntax xfer = ds.getOriginalXfer();
    copy_text(info->transfer_syntax, sizeof info->transfer_syntax,
              xfer == EXS_Unknown ? std::string("unknown") : std::string(DcmXfer(xfer).getXferID()));
    copy_text(info->sop_instance_uid, sizeof info->sop_instance_uid, uid_of(ds, DCM_SOPInstanceUID));
    unsigned version = inspect_block(ds, info);
    std::vector<ProtectedElement> layout;
    cm_error layout_err = {0, ""};
    if (int rc = layout_collect(ds, xfer, version, layout, &layout_err)) {
        info->layout_error = rc;
        copy_text(info->layout_message, sizeof info->layout_message, layout_err.msg);
        return 0;
    }
    fill_elements(info, layout);
    if (layout.empty() && !info->encrypted) {
        info->layout_error = CM_DICOM_ENOTHING;
        copy_text(info->layout_message, sizeof info->layout_message, "no pixel-bearing element to protect");
    }
    return 0;
}

/* Runs op with err cleared and out-of-memory reported as such. */
template <typename Op>
int guarded(cm_error *err, Op op)
{
    if (err != nullptr) {
        err->code = 0;
        err->msg[0] = '\0';
    }
    try {
        return op();
    } catch (const std::bad_alloc &) {
        return cm_fail(err, CM_DICOM_ENOMEM, "out of memory");
    }
}

} // namespace

E_TransferSyntax dicom_object_xfer(const cm_dicom_object *obj)
{
    return obj->out_xfer;
}

} // namespace chaosmask

using namespace chaosmask;

extern "C" int cm_dicom_encrypt(cm_dicom_object *obj, const cm_dicom_encrypt_params *p, cm_dicom_report *rep,
                                cm_error *err)
{
    cm_dicom_report scratch;
    return guarded(err, [&] { return encrypt(*obj, *p, rep ? *rep : scratch, err); });
}

extern "C" int cm_dicom_decrypt(cm_dicom_object *obj, const cm_dicom_open_params *p, cm_dicom_report *rep,
                                cm_error *err)
{
    cm_dicom_report scratch;
    return guarded(err, [&] { return decrypt(*obj, *p, rep ? *rep : scratch, err); });
}

extern "C" int cm_dicom_verify(cm_dicom_object *obj, const cm_dicom_open_params *p, cm_dicom_report *rep,
                               cm_error *err)
{
    cm_dicom_report scratch;
    return guarded(err, [&] {
        OpenState st;
        return authenticate(*obj, *p, VERIFY, st, rep ? *rep : scratch, err);
    });
}

extern "C" int cm_dicom_rebind(cm_dicom_object *obj, const cm_dicom_open_params *p, cm_dicom_report *rep,
                               cm_error *err)
{
    cm_dicom_report scratch;
    return guarded(err, [&] { return rebind(*obj, *p, rep ? *rep : scratch, err); });
}

extern "C" int cm_dicom_inspect(cm_dicom_object *obj, cm_dicom_info *info, cm_error *err)
{
    return guarded(err, [&] { return inspect(*obj, info, err); });
}
