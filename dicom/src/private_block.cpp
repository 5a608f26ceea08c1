/* private_block.cpp - the ChaosMask private block: dictionary entries, finding the block or a
 * free slot, writing, reading (also after a re-encoding turned its fields into UN) and
 * removing its fields, and the associated data the object tag covers.  The layout is
 * documented field by field in docs/private-block.md. */
#include "internal.h"

#include "chaosmask/dicom_dataset.h"

#include <dcmtk/dcmdata/dcdict.h>
#include <dcmtk/dcmdata/dcdicent.h>
#include <dcmtk/dcmdata/dcelem.h>
#include <dcmtk/dcmdata/dctag.h>
#include <dcmtk/dcmdata/dcvrat.h>
#include <dcmtk/dcmdata/dcvrul.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>

namespace chaosmask {
namespace {

const Uint16 kGroup = CM_DICOM_PRIVATE_GROUP;
const char kCreator[] = CM_DICOM_PRIVATE_CREATOR;

/* Element offsets xx of (0099,bbxx). */
enum : Uint16 {
    F_BLOCK_VERSION = 0x01,
    F_ENGINE_VERSION = 0x02,
    F_PROFILE = 0x03,
    F_KEY_ID = 0x04,
    F_NONCE = 0x05,
    F_TRANSFER_SYNTAX = 0x06,
    F_PATHS = 0x07,
    F_LENGTHS = 0x08,
    F_WORD_BYTES = 0x09,
    F_SEGMENT_COUNTS = 0x0A,
    F_SEGMENT_TAGS = 0x0B,
    F_OBJECT_TAG = 0x0C,
    /* format 2 */
    F_BOUND_TAGS = 0x0D,
    F_BOUND_DIGESTS = 0x0E,
    F_IDENTITY_DIGESTS = 0x0F,
    F_MARKED_ORIGINALS = 0x10,
};

struct FieldDef {
    Uint16 offset;
    DcmEVR vr;
    const char *name;
    int vm_min, vm_max;
    unsigned since; /* first block version with the field */
};

const FieldDef kFields[] = {
    {F_BLOCK_VERSION, EVR_UL, "ChaosMaskBlockVersion", 1, 1, 1},
    {F_ENGINE_VERSION, EVR_UL, "ChaosMaskEngineFormatVersion", 1, 1, 1},
    {F_PROFILE, EVR_LO, "ChaosMaskProfile", 1, 1, 1},
    {F_KEY_ID, EVR_LO, "ChaosMaskKeyID", 1, 1, 1},
    {F_NONCE, EVR_OB, "ChaosMaskNonce", 1, 1, 1},
    {F_TRANSFER_SYNTAX, EVR_UI, "ChaosMaskOriginalTransferSyntaxUID", 1, 1, 1},
    {F_PATHS, EVR_LO, "ChaosMaskProtectedElements", 1, DcmVariableVM, 1},
    {F_LENGTHS, EVR_UL, "ChaosMaskProtectedLengths", 1, DcmVariableVM, 1},
    {F_WORD_BYTES, EVR_US, "ChaosMaskWordBytes", 1, DcmVariableVM, 1},
    {F_SEGMENT_COUNTS, EVR_UL, "ChaosMaskSegmentCounts", 1, DcmVariableVM, 1},
    {F_SEGMENT_TAGS, EVR_OB, "ChaosMaskSegmentTags", 1, 1, 1},
    {F_OBJECT_TAG, EVR_OB, "ChaosMaskObjectTag", 1, 1, 1},
    {F_BOUND_TAGS, EVR_AT, "ChaosMaskBoundAttributes", 1, DcmVariableVM, 2},
    {F_BOUND_DIGESTS, EVR_OB, "ChaosMaskBoundDigests", 1, 1, 2},
    {F_IDENTITY_DIGESTS, EVR_OB, "ChaosMaskIdentityDigests", 1, 1, 2},
    {F_MARKED_ORIGINALS, EVR_OB, "ChaosMaskMarkedOriginals", 1, 1, 2},
};

DcmTagKey field_key(uint16_t slot, Uint16 offset)
{
    return DcmTagKey(kGroup, static_cast<Uint16>((slot << 8) | offset));
}

const FieldDef &field_def(Uint16 offset)
{
    for (const FieldDef &f : kFields)
        if (f.offset == offset)
            return f;
    return kFields[0]; /* not reached: offsets come from the enum */
}

DcmTag field_tag(uint16_t slot, Uint16 offset)
{
    const FieldDef &f = field_def(offset);
    DcmTag tag(field_key(slot, offset), DcmVR(f.vr));
    tag.setPrivateCreator(kCreator);
    return tag;
}

/* One field as stored: its bytes (binary fields, little-endian) or its text.  A field whose VR
 * came back as UN (an implicit-VR object re-encoded by a tool that does not know our
 * dictionary) is read by its bytes: UN keeps the little-endian value bytes. */
struct RawField {
    std::vector<uint8_t> bytes;
    std::string text;
};

bool is_text(DcmEVR vr)
{
    return vr == EVR_LO || vr == EVR_UI;
}

int read_raw(DcmItem &ds, uint16_t slot, Uint16 offset, RawField &out, cm_error *err)
{
    const FieldDef &f = field_def(offset);
    DcmTagKey key = field_key(slot, offset);
    DcmElement *e = nullptr;
    if (ds.findAndGetElement(key, e, OFFalse).bad() || e == nullptr)
        return cm_fail(err, CM_DICOM_EBLOCK, "private block field %s (%04X,%04X) is missing", f.name,
                          key.getGroup(), key.getElement());
    DcmEVR vr = e->ident();
    if (vr != f.vr && vr != EVR_UN && vr != EVR_OB)
        return cm_fail(err, CM_DICOM_EBLOCK, "private block field %s (%04X,%04X) has VR %s, expected %s", f.name,
                          key.getGroup(), key.getElement(), DcmVR(vr).getVRName(), DcmVR(f.vr).getVRName());
    const uint8_t *p = nullptr;
    size_t n = e->getLength();
    OFCondition c = e->loadAllDataIntoMemory();
    if (c.good() && n > 0) {
        if (vr == f.vr && is_text(vr)) {
            char *s = nullptr;
            Uint32 len = 0;
            c = e->getString(s, len);
            p = reinterpret_cast<const uint8_t *>(s);
            n = len;
        } else if (vr == EVR_UN || vr == EVR_OB) {
            Uint8 *q = nullptr;
            c = e->getUint8Array(q);
            p = q;
        } else if (vr == EVR_UL) {
            Uint32 *q = nullptr;
            c = e->getUint32Array(q);
            p = reinterpret_cast<const uint8_t *>(q);
        } else { /* US, AT */
            Uint16 *q = nullptr;
            c = e->getUint16Array(q);
            p = reinterpret_cast<const uint8_t *>(q);
        }
    }
    if (c.bad() || (n > 0 && p == nullptr))
        return cm_fail(err, CM_DICOM_EBLOCK, "private block field %s cannot be read", f.name);
    if (is_text(f.vr)) {
        out.text.assign(reinterpret_cast<const char *>(p), n);
        while (!out.text.empty() && (out.text.back() == ' ' || out.text.back() == '\0'))
            out.text.pop_back();
    } else {
        out.bytes.assign(p, p + n);
    }
    return 0;
}

int read_text(DcmItem &ds, uint16_t slot, Uint16 offset, std::string &out, cm_error *err)
{
    RawField r;
    int rc = read_raw(ds, slot, offset, r, err);
    out = r.text;
    return rc;
}

int read_bytes(DcmItem &ds, uint16_t slot, Uint16 offset, std::vector<uint8_t> &out, cm_error *err)
{
    RawField r;
    int rc = read_raw(ds, slot, offset, r, err);
    out.swap(r.bytes);
    return rc;
}

/* Little-endian words of `width` bytes (2 or 4). */
template <typename T>
int read_words(DcmItem &ds, uint16_t slot, Uint16 offset, std::vector<T> &out, cm_error *err)
{
    RawField r;
    int rc = read_raw(ds, slot, offset, r, err);
    if (rc)
        return rc;
    if (r.bytes.size() % sizeof(T) != 0)
        return cm_fail(err, CM_DICOM_EBLOCK, "private block field %s holds %zu bytes, not a whole number of %zu-byte values",
                          field_def(offset).name, r.bytes.size(), sizeof(T));
    out.clear();
    for (size_t i = 0; i < r.bytes.size(); i += sizeof(T)) {
        T v = 0;
        for (size_t b = 0; b < sizeof(T); ++b)
            v = static_cast<T>(v | static_cast<T>(r.bytes[i + b]) << (8 * b));
        out.push_back(v);
    }
    return 0;
}

int read_one(DcmItem &ds, uint16_t slot, Uint16 offset, uint32_t &out, cm_error *err)
{
    std::vector<uint32_t> v;
    int rc = read_words(ds, slot, offset, v, err);
    if (rc == 0 && v.size() != 1)
        return cm_fail(err, CM_DICOM_EBLOCK, "private block field %s must hold one value", field_def(offset).name);
    if (rc == 0)
        out = v[0];
    return rc;
}

std::vector<std::string> split_paths(const std::string &paths)
{
    std::vector<std::string> out;
    for (size_t start = 0;;) {
        size_t end = paths.find('\\', start);
        out.push_back(paths.substr(start, end == std::string::npos ? std::string::npos : end - start));
        if (end == std::string::npos)
            return out;
        start = end + 1;
    }
}

/* The fields of format 2 only. */
int read_v2_fields(DcmItem &ds, uint16_t slot, PrivateBlock &b, cm_error *err)
{
    std::vector<uint16_t> at;
    int rc;
    if ((rc = read_words(ds, slot, F_BOUND_TAGS, at, err)) ||
        (rc = read_bytes(ds, slot, F_BOUND_DIGESTS, b.bound_digests, err)) ||
        (rc = read_bytes(ds, slot, F_IDENTITY_DIGESTS, b.identity_digests, err)) ||
        (rc = read_bytes(ds, slot, F_MARKED_ORIGINALS, b.marked_originals, err)))
        return rc;
    if (at.size() % 2 != 0)
        return cm_fail(err, CM_DICOM_EBLOCK, "private block field ChaosMaskBoundAttributes holds half a tag");
    for (size_t i = 0; i < at.size(); i += 2)
        b.bound_tags.push_back(DcmTagKey(at[i], at[i + 1]));
    if (b.bound_digests.size() != b.bound_tags.size() * CM_BIND_DIGESTBYTES ||
        b.identity_digests.size() != identity_attributes().size() * CM_BIND_DIGESTBYTES)
        return cm_fail(err, CM_DICOM_EBLOCK,
                          "private block digests have the wrong size: %zu bytes for %zu bound attributes, %zu for "
                          "the identity",
                          b.bound_digests.size(), b.bound_tags.size(), b.identity_digests.size());
    return 0;
}

/* Values from the file, checked before they reach a message, a key lookup or a path. */
int check_fields(PrivateBlock &b, const std::string &paths, cm_error *err)
{
    if (!key_id_syntax_ok(b.key_id))
        return cm_fail(err, CM_DICOM_EBLOCK, "the private block's key id field is malformed");
    if (cm_profile_from_name(b.profile.c_str()) < 0)
        return cm_fail(err, CM_DICOM_EBLOCK, "the private block's profile field is not a known profile");
    b.paths = split_paths(paths);
    size_t n = b.paths.size();
    if (b.lengths.size() != n || b.word_bytes.size() != n || b.segment_counts.size() != n)
        return cm_fail(err, CM_DICOM_EBLOCK,
                          "private block lists disagree: %zu elements, %zu lengths, %zu word sizes, %zu segment counts",
                          n, b.lengths.size(), b.word_bytes.size(), b.segment_counts.size());
    uint64_t segments = 0;
    for (uint32_t c : b.segment_counts)
        segments += c;
    if (b.nonce.size() != CM_NONCEBYTES || b.object_tag.size() != CM_TAGBYTES ||
        b.segment_tags.size() != segments * CM_SEGTAGBYTES)
        return cm_fail(err, CM_DICOM_EBLOCK,
                          "private block sizes are wrong: nonce %zu bytes, object tag %zu, segment tags %zu for %llu "
                          "segments",
                          b.nonce.size(), b.object_tag.size(), b.segment_tags.size(), (unsigned long long)segments);
    return 0;
}

/* Every field of two blocks alike (the slot aside). */
bool same_fields(const PrivateBlock &a, const PrivateBlock &b)
{
    return a.block_version == b.block_version && a.engine_version == b.engine_version && a.profile == b.profile &&
           a.key_id == b.key_id && a.nonce == b.nonce && a.transfer_syntax == b.transfer_syntax && a.paths == b.paths &&
           a.lengths == b.lengths && a.word_bytes == b.word_bytes && a.segment_counts == b.segment_counts &&
           a.segment_tags == b.segment_tags && a.object_tag == b.object_tag && a.bound_tags == b.bound_tags &&
           a.bound_digests == b.bound_digests && a.identity_digests == b.identity_digests &&
           a.marked_originals == b.marked_originals;
}

/* Associated-data encoding: little-endian fixed-width integers, strings and byte strings
 * prefixed by a 32-bit length. */
struct AadWriter {
    std::vector<uint8_t> out;
    void u32(uint32_t v)
    {
        for (int i = 0; i < 4; ++i)
            out.push_back(static_cast<uint8_t>(v >> (8 * i)));
    }
    void u64(uint64_t v)
    {
        for (int i = 0; i < 8; ++i)
            out.push_back(static_cast<uint8_t>(v >> (8 * i)));
    }
    void bytes(const uint8_t *p, size_t n)
    {
        u32(static_cast<uint32_t>(n));
        out.insert(out.end(), p, p + n);
    }
    void bytes(const std::vector<uint8_t> &v) { bytes(v.data(), v.size()); }
    void str(const std::string &s) { bytes(reinterpret_cast<const uint8_t *>(s.data()), s.size()); }
};

} // namespace

void dicom_register_dictionary()
{
    static std::once_flag once;
    std::call_once(once, [] {
        DcmDataDictionary &dict = dcmDataDict.wrlock();
        for (const FieldDef &f : kFields)
            dict.addEntry(new DcmDictEntry(kGroup, f.offset, DcmVR(f.vr), f.name, f.vm_min, f.vm_max, "private",
                                           OFTrue, kCreator));
        dcmDataDict.wrunlock();
    });
}

} // namespace chaosmask

extern "C" void cm_dicom_register_dictionary(void)
{
    chaosmask::dicom_register_dictionary();
}

namespace chaosmask {

int block_find(DcmItem &ds, uint16_t *slot)
{
    /* one pass over the data set (its elements are in tag order, so the lowest slot comes
     * first), not a search per slot: 240 searches made every call cost 240 walks of the list */
    int found = 0;
    for (DcmElement *e = next_element(ds, nullptr); e != nullptr; e = next_element(ds, e)) {
        if (e->getGTag() != kGroup || e->getETag() < 0x10 || e->getETag() > 0xFF)
            continue;
        OFString creator;
        if (e->getOFString(creator, 0).good() && creator == kCreator) {
            if (found++ == 0)
                *slot = e->getETag();
        }
    }
    /* two blocks: one would survive a decrypt and make plaintext look encrypted */
    return found == 0 ? CM_DICOM_ENOTENCRYPTED : found == 1 ? 0 : CM_DICOM_EBLOCK;
}

bool key_id_syntax_ok(const std::string &id)
{
    if (id.empty() || id.size() >= 64 || id[0] == '.')
        return false;
    for (char c : id)
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-'))
            return false;
    return true;
}

int block_free_slot(DcmItem &ds, uint16_t *slot, cm_error *err)
{
    bool used[256] = {false};
    for (DcmElement *e = next_element(ds, nullptr); e != nullptr; e = next_element(ds, e)) {
        if (e->getGTag() != kGroup)
            continue;
        Uint16 el = e->getETag();
        if (el >= 0x0010 && el <= 0x00FF)
            used[el] = true;          /* a creator reserves its block */
        else if (el >= 0x1000)
            used[el >> 8] = true;     /* an element without its creator still occupies the block */
    }
    for (Uint16 bb = 0x10; bb <= 0xFF; ++bb) {
        if (!used[bb]) {
            *slot = bb;
            return 0;
        }
    }
    return cm_fail(err, CM_DICOM_EUNSUPPORTED, "every private block of group %04X is taken", kGroup);
}

int block_write(DcmItem &ds, const PrivateBlock &b, cm_error *err)
{
    OFCondition c = ds.putAndInsertString(DcmTag(DcmTagKey(kGroup, b.slot), EVR_LO), kCreator);
    auto put_string = [&](Uint16 off, const std::string &v) {
        if (c.good())
            c = ds.putAndInsertOFStringArray(field_tag(b.slot, off), OFString(v.c_str(), v.size()));
    };
    auto put_bytes = [&](Uint16 off, const std::vector<uint8_t> &v) {
        if (c.good())
            c = ds.putAndInsertUint8Array(field_tag(b.slot, off), v.data(), static_cast<unsigned long>(v.size()));
    };
    auto put_ul = [&](Uint16 off, const std::vector<uint32_t> &v) {
        if (c.bad())
            return;
        std::vector<Uint32> w(v.begin(), v.end());
        /* owned here until the data set takes it (anything below may throw std::bad_alloc) */
        std::unique_ptr<DcmElement> e(new (std::nothrow) DcmUnsignedLong(field_tag(b.slot, off)));
        c = e ? e->putUint32Array(w.data(), static_cast<unsigned long>(w.size())) : EC_MemoryExhausted;
        if (c.good())
            c = ds.insert(e.get(), OFTrue);
        if (c.good())
            e.release();
    };
    std::string paths;
    for (size_t i = 0; i < b.paths.size(); ++i)
        paths += (i ? "\\" : "") + b.paths[i];
    put_ul(F_BLOCK_VERSION, {b.block_version});
    put_ul(F_ENGINE_VERSION, {b.engine_version});
    put_string(F_PROFILE, b.profile);
    put_string(F_KEY_ID, b.key_id);
    put_bytes(F_NONCE, b.nonce);
    put_string(F_TRANSFER_SYNTAX, b.transfer_syntax);
    put_string(F_PATHS, paths);
    put_ul(F_LENGTHS, b.lengths);
    if (c.good()) {
        std::vector<Uint16> v(b.word_bytes.begin(), b.word_bytes.end());
        c = ds.putAndInsertUint16Array(field_tag(b.slot, F_WORD_BYTES), v.data(), static_cast<unsigned long>(v.size()));
    }
    put_ul(F_SEGMENT_COUNTS, b.segment_counts);
    put_bytes(F_SEGMENT_TAGS, b.segment_tags);
    put_bytes(F_OBJECT_TAG, b.object_tag);
    if (b.block_version >= 2) {
        if (c.good()) {
            std::vector<Uint16> at;
            for (const DcmTagKey &t : b.bound_tags)
                at.push_back(t.getGroup()), at.push_back(t.getElement());
            /* for AT the count is of tags, each a group and an element */
            c = ds.putAndInsertUint16Array(field_tag(b.slot, F_BOUND_TAGS), at.data(),
                                           static_cast<unsigned long>(at.size() / 2));
        }
        put_bytes(F_BOUND_DIGESTS, b.bound_digests);
        put_bytes(F_IDENTITY_DIGESTS, b.identity_digests);
        put_bytes(F_MARKED_ORIGINALS, b.marked_originals);
    }
    if (c.bad())
        return cm_fail(err, CM_DICOM_EINTERNAL, "cannot add the private block: %s", c.text());
    /* DCMTK 3.6.7 can lose a value and say it kept it: DcmOtherByteOtherWord::putUint8Array
     * returns success when the copy could not be allocated (alignValue resets the error), and
     * the element is then written with length 0 - an encrypted object whose nonce or tags are
     * gone can never be decrypted.  So the block is read back and must be what was meant. */
    PrivateBlock back;
    cm_error ignored = {0, ""};
    if (block_read(ds, b.slot, back, &ignored) != 0 || !same_fields(back, b)) {
        block_remove(ds, b.slot);
        return cm_fail(err, CM_DICOM_ENOMEM, "the private block could not be stored (out of memory)");
    }
    return 0;
}

int block_read(DcmItem &ds, uint16_t slot, PrivateBlock &b, cm_error *err)
{
    b = PrivateBlock();
    b.slot = slot;
    int rc = read_one(ds, slot, F_BLOCK_VERSION, b.block_version, err);
    if (rc)
        return rc;
    if (b.block_version != 1 && b.block_version != 2)
        return cm_fail(err, CM_DICOM_EUNSUPPORTED, "private block version %u is not known to this build (1 and 2 are)",
                          b.block_version);
    std::string paths;
    if ((rc = read_one(ds, slot, F_ENGINE_VERSION, b.engine_version, err)) ||
        (rc = read_text(ds, slot, F_PROFILE, b.profile, err)) || (rc = read_text(ds, slot, F_KEY_ID, b.key_id, err)) ||
        (rc = read_bytes(ds, slot, F_NONCE, b.nonce, err)) ||
        (rc = read_text(ds, slot, F_TRANSFER_SYNTAX, b.transfer_syntax, err)) ||
        (rc = read_text(ds, slot, F_PATHS, paths, err)) || (rc = read_words(ds, slot, F_LENGTHS, b.lengths, err)) ||
        (rc = read_words(ds, slot, F_WORD_BYTES, b.word_bytes, err)) ||
        (rc = read_words(ds, slot, F_SEGMENT_COUNTS, b.segment_counts, err)) ||
        (rc = read_bytes(ds, slot, F_SEGMENT_TAGS, b.segment_tags, err)) ||
        (rc = read_bytes(ds, slot, F_OBJECT_TAG, b.object_tag, err)))
        return rc;
    if (b.block_version >= 2 && (rc = read_v2_fields(ds, slot, b, err)))
        return rc;
    /* every format this engine still opens: objects are never re-encrypted to read them */
    if (b.engine_version < CM_FORMAT_VERSION_MIN || b.engine_version > CM_FORMAT_VERSION)
        return cm_fail(err, CM_DICOM_EUNSUPPORTED, "engine format version %u is not known to this build (%u to %u)",
                          b.engine_version, CM_FORMAT_VERSION_MIN, CM_FORMAT_VERSION);
    return check_fields(b, paths, err);
}

void block_remove(DcmItem &ds, uint16_t slot)
{
    std::vector<DcmElement *> block;
    for (DcmElement *e = next_element(ds, nullptr); e != nullptr; e = next_element(ds, e))
        if (e->getGTag() == kGroup && (e->getETag() == slot || (e->getETag() >> 8) == slot))
            block.push_back(e);
    for (DcmElement *e : block)
        delete ds.remove(e);
}

std::vector<uint8_t> block_aad(const PrivateBlock &b, const std::string &context,
                               const std::vector<ProtectedElement> &layout)
{
    const char *label = b.block_version >= 2 ? "ChaosMask DICOM private block v2" : "ChaosMask DICOM private block v1";
    AadWriter w;
    w.bytes(reinterpret_cast<const uint8_t *>(label), strlen(label));
    w.u32(b.block_version);
    w.u32(b.engine_version);
    w.str(b.profile);
    w.str(b.key_id);
    w.bytes(b.nonce);
    w.str(b.transfer_syntax);
    w.str(context);
    w.u32(static_cast<uint32_t>(b.paths.size()));
    for (size_t i = 0; i < b.paths.size(); ++i) {
        w.str(b.paths[i]);
        w.u32(b.lengths[i]);
        w.u32(b.word_bytes[i]);
        w.u32(b.segment_counts[i]);
    }
    /* The cut into segments (frame and fragment sizes) as found in the dataset, each element's
     * VR, and the attributes and offset tables that say how its bytes are read. */
    w.u32(static_cast<uint32_t>(layout.size()));
    for (const ProtectedElement &pe : layout) {
        w.str(pe.vr);
        w.str(pe.bound);
        w.u32(static_cast<uint32_t>(pe.segments.size()));
        for (const Segment &s : pe.segments)
            w.u64(s.len);
    }
    if (b.block_version >= 2) {
        w.u32(static_cast<uint32_t>(b.bound_tags.size()));
        for (const DcmTagKey &t : b.bound_tags)
            w.u32((static_cast<uint32_t>(t.getGroup()) << 16) | t.getElement());
        w.bytes(b.bound_digests);
        w.bytes(b.identity_digests);
        w.bytes(b.marked_originals);
    }
    w.bytes(b.segment_tags);
    return w.out;
}

} // namespace chaosmask
