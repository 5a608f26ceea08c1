/* private_block.cpp - the ChaosMask private block: dictionary entries, finding the block or a
 * free slot, writing, reading and removing its fields, and the associated data the object tag
 * covers.  The layout is documented field by field in docs/private-block.md. */
#include "internal.h"

#include "chaosmask/dicom_dataset.h"

#include <dcmtk/dcmdata/dcdict.h>
#include <dcmtk/dcmdata/dcdicent.h>
#include <dcmtk/dcmdata/dcelem.h>
#include <dcmtk/dcmdata/dctag.h>
#include <dcmtk/dcmdata/dcvrul.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>
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
};

struct FieldDef {
    Uint16 offset;
    DcmEVR vr;
    const char *name;
    int vm_min, vm_max;
};

const FieldDef kFields[] = {
    {F_BLOCK_VERSION, EVR_UL, "ChaosMaskBlockVersion", 1, 1},
    {F_ENGINE_VERSION, EVR_UL, "ChaosMaskEngineFormatVersion", 1, 1},
    {F_PROFILE, EVR_LO, "ChaosMaskProfile", 1, 1},
    {F_KEY_ID, EVR_LO, "ChaosMaskKeyID", 1, 1},
    {F_NONCE, EVR_OB, "ChaosMaskNonce", 1, 1},
    {F_TRANSFER_SYNTAX, EVR_UI, "ChaosMaskOriginalTransferSyntaxUID", 1, 1},
    {F_PATHS, EVR_LO, "ChaosMaskProtectedElements", 1, DcmVariableVM},
    {F_LENGTHS, EVR_UL, "ChaosMaskProtectedLengths", 1, DcmVariableVM},
    {F_WORD_BYTES, EVR_US, "ChaosMaskWordBytes", 1, DcmVariableVM},
    {F_SEGMENT_COUNTS, EVR_UL, "ChaosMaskSegmentCounts", 1, DcmVariableVM},
    {F_SEGMENT_TAGS, EVR_OB, "ChaosMaskSegmentTags", 1, 1},
    {F_OBJECT_TAG, EVR_OB, "ChaosMaskObjectTag", 1, 1},
};

DcmTagKey field_key(uint16_t slot, Uint16 offset)
{
    return DcmTagKey(kGroup, static_cast<Uint16>((slot << 8) | offset));
}

DcmTag field_tag(uint16_t slot, const FieldDef &f)
{
    DcmTag tag(field_key(slot, f.offset), DcmVR(f.vr));
    tag.setPrivateCreator(kCreator);
    return tag;
}

const FieldDef &field_def(Uint16 offset)
{
    for (const FieldDef &f : kFields)
        if (f.offset == offset)
            return f;
    return kFields[0]; /* not reached: offsets come from the enum */
}

/* Finds a field and checks its VR; a missing or mistyped field means a damaged block. */
int field_element(DcmItem &ds, uint16_t slot, Uint16 offset, DcmElement *&e, cm_dicom_error *err)
{
    const FieldDef &f = field_def(offset);
    e = nullptr;
    DcmTagKey key = field_key(slot, offset);
    if (ds.findAndGetElement(key, e, OFFalse).bad() || e == nullptr)
        return dicom_fail(err, CM_DICOM_EBLOCK, "private block field %s (%04X,%04X) is missing", f.name,
                          key.getGroup(), key.getElement());
    if (e->getVR() != f.vr)
        return dicom_fail(err, CM_DICOM_EBLOCK, "private block field %s (%04X,%04X) has VR %s, expected %s", f.name,
                          key.getGroup(), key.getElement(), DcmVR(e->getVR()).getVRName(),
                          DcmVR(f.vr).getVRName());
    return 0;
}

int read_string(DcmItem &ds, uint16_t slot, Uint16 offset, std::string &out, cm_dicom_error *err)
{
    DcmElement *e;
    int rc = field_element(ds, slot, offset, e, err);
    if (rc)
        return rc;
    OFString v;
    if (e->getOFStringArray(v).bad())
        return dicom_fail(err, CM_DICOM_EBLOCK, "private block field %s cannot be read", field_def(offset).name);
    out.assign(v.c_str(), v.length());
    return 0;
}

int read_bytes(DcmItem &ds, uint16_t slot, Uint16 offset, std::vector<uint8_t> &out, cm_dicom_error *err)
{
    DcmElement *e;
    int rc = field_element(ds, slot, offset, e, err);
    if (rc)
        return rc;
    Uint8 *p = nullptr;
    out.clear();
    if (e->getLength() == 0)
        return 0;
    if (e->getUint8Array(p).bad() || p == nullptr)
        return dicom_fail(err, CM_DICOM_EBLOCK, "private block field %s cannot be read", field_def(offset).name);
    out.assign(p, p + e->getLength());
    return 0;
}

template <typename T>
int read_numbers(DcmItem &ds, uint16_t slot, Uint16 offset, std::vector<T> &out, cm_dicom_error *err)
{
    DcmElement *e;
    int rc = field_element(ds, slot, offset, e, err);
    if (rc)
        return rc;
    out.clear();
    unsigned long n = e->getVM();
    for (unsigned long i = 0; i < n; ++i) {
        OFCondition c;
        static_assert(sizeof(T) == 2 || sizeof(T) == 4, "US or UL fields only");
        if (sizeof(T) == 2) {
            Uint16 v = 0;
            c = e->getUint16(v, i);
            out.push_back(static_cast<T>(v));
        } else {
            Uint32 v = 0;
            c = e->getUint32(v, i);
            out.push_back(static_cast<T>(v));
        }
        if (c.bad())
            return dicom_fail(err, CM_DICOM_EBLOCK, "private block field %s value %lu cannot be read",
                              field_def(offset).name, i + 1);
    }
    return 0;
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
    void str(const std::string &s) { bytes(reinterpret_cast<const uint8_t *>(s.data()), s.size()); }
};

} // namespace

int dicom_fail(cm_dicom_error *err, int code, const char *fmt, ...)
{
    if (err != nullptr) {
        err->code = code;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return code;
}

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
    int found = 0;
    for (Uint16 bb = 0x10; bb <= 0xFF; ++bb) {
        OFString creator;
        if (ds.findAndGetOFString(DcmTagKey(kGroup, bb), creator).good() && creator == kCreator) {
            if (found++ == 0)
                *slot = bb;
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

int block_free_slot(DcmItem &ds, uint16_t *slot, cm_dicom_error *err)
{
    bool used[256] = {false};
    for (unsigned long i = 0; i < ds.card(); ++i) {
        DcmElement *e = ds.getElement(i);
        if (e == nullptr || e->getGTag() != kGroup)
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
    return dicom_fail(err, CM_DICOM_EUNSUPPORTED, "every private block of group %04X is taken", kGroup);
}

int block_write(DcmItem &ds, const PrivateBlock &b, cm_dicom_error *err)
{
    OFCondition c = ds.putAndInsertString(DcmTag(DcmTagKey(kGroup, b.slot), EVR_LO), kCreator);
    auto put_string = [&](Uint16 off, const std::string &v) {
        if (c.good())
            c = ds.putAndInsertOFStringArray(field_tag(b.slot, field_def(off)), OFString(v.c_str(), v.size()));
    };
    auto put_bytes = [&](Uint16 off, const std::vector<uint8_t> &v) {
        if (c.good())
            c = ds.putAndInsertUint8Array(field_tag(b.slot, field_def(off)), v.data(),
                                          static_cast<unsigned long>(v.size()));
    };
    std::string paths;
    for (size_t i = 0; i < b.paths.size(); ++i)
        paths += (i ? "\\" : "") + b.paths[i];
    if (c.good())
        c = ds.putAndInsertUint32(field_tag(b.slot, field_def(F_BLOCK_VERSION)), b.block_version);
    if (c.good())
        c = ds.putAndInsertUint32(field_tag(b.slot, field_def(F_ENGINE_VERSION)), b.engine_version);
    put_string(F_PROFILE, b.profile);
    put_string(F_KEY_ID, b.key_id);
    put_bytes(F_NONCE, b.nonce);
    put_string(F_TRANSFER_SYNTAX, b.transfer_syntax);
    put_string(F_PATHS, paths);
    if (c.good()) {
        DcmElement *e = new (std::nothrow) DcmUnsignedLong(field_tag(b.slot, field_def(F_LENGTHS)));
        std::vector<Uint32> v(b.lengths.begin(), b.lengths.end());
        c = e ? e->putUint32Array(v.data(), static_cast<unsigned long>(v.size())) : EC_MemoryExhausted;
        if (c.good())
            c = ds.insert(e, OFTrue);
        else
            delete e;
    }
    if (c.good()) {
        std::vector<Uint16> v(b.word_bytes.begin(), b.word_bytes.end());
        c = ds.putAndInsertUint16Array(field_tag(b.slot, field_def(F_WORD_BYTES)), v.data(),
                                       static_cast<unsigned long>(v.size()));
    }
    if (c.good()) {
        DcmElement *e = new (std::nothrow) DcmUnsignedLong(field_tag(b.slot, field_def(F_SEGMENT_COUNTS)));
        std::vector<Uint32> v(b.segment_counts.begin(), b.segment_counts.end());
        c = e ? e->putUint32Array(v.data(), static_cast<unsigned long>(v.size())) : EC_MemoryExhausted;
        if (c.good())
            c = ds.insert(e, OFTrue);
        else
            delete e;
    }
    put_bytes(F_SEGMENT_TAGS, b.segment_tags);
    put_bytes(F_OBJECT_TAG, b.object_tag);
    if (c.bad())
        return dicom_fail(err, CM_DICOM_EINTERNAL, "cannot add the private block: %s", c.text());
    return 0;
}

int block_read(DcmItem &ds, uint16_t slot, PrivateBlock &b, cm_dicom_error *err)
{
    b = PrivateBlock();
    b.slot = slot;
    std::vector<uint32_t> versions;
    int rc = read_numbers(ds, slot, F_BLOCK_VERSION, versions, err);
    if (rc)
        return rc;
    if (versions.size() != 1)
        return dicom_fail(err, CM_DICOM_EBLOCK, "private block version must have one value");
    b.block_version = versions[0];
    if (b.block_version != CM_DICOM_BLOCK_VERSION)
        return dicom_fail(err, CM_DICOM_EUNSUPPORTED, "private block version %u is not known to this build (%u)",
                          b.block_version, CM_DICOM_BLOCK_VERSION);
    std::string paths;
    if ((rc = read_numbers(ds, slot, F_ENGINE_VERSION, versions, err)) ||
        (rc = read_string(ds, slot, F_PROFILE, b.profile, err)) ||
        (rc = read_string(ds, slot, F_KEY_ID, b.key_id, err)) || (rc = read_bytes(ds, slot, F_NONCE, b.nonce, err)) ||
        (rc = read_string(ds, slot, F_TRANSFER_SYNTAX, b.transfer_syntax, err)) ||
        (rc = read_string(ds, slot, F_PATHS, paths, err)) || (rc = read_numbers(ds, slot, F_LENGTHS, b.lengths, err)) ||
        (rc = read_numbers(ds, slot, F_WORD_BYTES, b.word_bytes, err)) ||
        (rc = read_numbers(ds, slot, F_SEGMENT_COUNTS, b.segment_counts, err)) ||
        (rc = read_bytes(ds, slot, F_SEGMENT_TAGS, b.segment_tags, err)) ||
        (rc = read_bytes(ds, slot, F_OBJECT_TAG, b.object_tag, err)))
        return rc;
    if (versions.size() != 1)
        return dicom_fail(err, CM_DICOM_EBLOCK, "engine format version must have one value");
    /* values from the file: checked before they reach a message, a key lookup or a path */
    if (!key_id_syntax_ok(b.key_id))
        return dicom_fail(err, CM_DICOM_EBLOCK, "the private block's key id field is malformed");
    if (cm_profile_from_name(b.profile.c_str()) < 0)
        return dicom_fail(err, CM_DICOM_EBLOCK, "the private block's profile field is not a known profile");
    b.engine_version = versions[0];
    /* every format this engine still opens: objects are never re-encrypted to read them */
    if (b.engine_version < CM_FORMAT_VERSION_MIN || b.engine_version > CM_FORMAT_VERSION)
        return dicom_fail(err, CM_DICOM_EUNSUPPORTED, "engine format version %u is not known to this build (%u to %u)",
                          b.engine_version, CM_FORMAT_VERSION_MIN, CM_FORMAT_VERSION);
    for (size_t start = 0;;) {
        size_t end = paths.find('\\', start);
        b.paths.push_back(paths.substr(start, end == std::string::npos ? std::string::npos : end - start));
        if (end == std::string::npos)
            break;
        start = end + 1;
    }
    size_t n = b.paths.size();
    if (b.lengths.size() != n || b.word_bytes.size() != n || b.segment_counts.size() != n)
        return dicom_fail(err, CM_DICOM_EBLOCK,
                          "private block lists disagree: %zu elements, %zu lengths, %zu word sizes, %zu segment counts",
                          n, b.lengths.size(), b.word_bytes.size(), b.segment_counts.size());
    uint64_t segments = 0;
    for (uint32_t c : b.segment_counts)
        segments += c;
    if (b.nonce.size() != CM_NONCEBYTES || b.object_tag.size() != CM_TAGBYTES ||
        b.segment_tags.size() != segments * CM_SEGTAGBYTES)
        return dicom_fail(err, CM_DICOM_EBLOCK,
                          "private block sizes are wrong: nonce %zu bytes, object tag %zu, segment tags %zu for %llu "
                          "segments",
                          b.nonce.size(), b.object_tag.size(), b.segment_tags.size(), (unsigned long long)segments);
    return 0;
}

void block_remove(DcmItem &ds, uint16_t slot)
{
    for (unsigned long i = ds.card(); i-- > 0;) {
        DcmElement *e = ds.getElement(i);
        if (e == nullptr || e->getGTag() != kGroup)
            continue;
        Uint16 el = e->getETag();
        if (el == slot || (el >> 8) == slot)
            delete ds.remove(e);
    }
}

std::vector<uint8_t> block_aad(const PrivateBlock &b, const std::string &context,
                               const std::vector<ProtectedElement> &layout)
{
    static const char label[] = "ChaosMask DICOM private block v1";
    AadWriter w;
    w.bytes(reinterpret_cast<const uint8_t *>(label), sizeof label - 1);
    w.u32(b.block_version);
    w.u32(b.engine_version);
    w.str(b.profile);
    w.str(b.key_id);
    w.bytes(b.nonce.data(), b.nonce.size());
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
    w.bytes(b.segment_tags.data(), b.segment_tags.size());
    return w.out;
}

} // namespace chaosmask
