/* fuzz_block.cpp - libFuzzer harness for the private-block parser (private_block.cpp: block_find,
 * block_read and the field checks) and what reads the block after it: inspect, verify,
 * decrypt, and encrypt's refusal of an object that carries a block.
 *
 * Three objects are built and encrypted with the fixed key at start-up (native 16-bit
 * MONOCHROME2 with an icon, explicit VR little endian; 8-bit RGB of 3 frames, implicit VR little
 * endian; encapsulated pixel data of two fragments with an offset table, JPEG baseline), so
 * every input starts from an authentic block and changes its fields as a DICOM tool or an
 * attacker could (a fuzzed byte stream would rarely reach a well-formed block).
 *
 * Input: byte 0 chooses the object (% 3) and, with bit 7, whether the changed object is written
 * and read back before it is checked (implicit VR: the VRs then come from the dictionary);
 * then records of  op, field, length (16-bit little endian), bytes:
 *   op & 0x0F: the VR of an element put there: 0 the field's own, 1 UN, 2 OB, 3 LO, 4 UL,
 *              5 US, 6 AT, 7 UI, 8 OW, 9 SH, 10 CS, 11 FD, others the field's own;
 *   op >> 4:   0 put the bytes as the value of (0099,bbff) with that VR (ff = field); 1 keep
 *              the value's bytes and change the VR; 2 delete the field; 3 append the bytes to
 *              the value; 4 put a second creator "CHAOSMASK 1" at (0099,00ff); 5 put the bytes
 *              as the creator value of the block; others like 0.
 * The empty input leaves the block as it was: it decrypts.
 *
 * Invariants: block_read accepts only a block whose lists agree and whose sizes are right,
 * and otherwise says why (EBLOCK or EUNSUPPORTED); inspect never fails; verify and decrypt
 * reach the same verdict; a decryption that succeeds gives exactly the original pixels;
 * encrypt never succeeds on an object that carries a block. */
#include "fuzz_dicom_common.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcvrat.h>
#include <dcmtk/dcmdata/dcvrobow.h>

#include <cstring>

namespace {

using fuzz::Object;

struct Base {
    std::vector<uint8_t> sealed; /* the encrypted object as written */
    fuzz::Pixels pixels;         /* the protected elements before encryption */
};
Base bases[3];

/* The VR each field is written with (docs/private-block.md). */
DcmEVR field_vr(unsigned offset)
{
    switch (offset) {
    case 0x01: case 0x02: case 0x08: case 0x0A: return EVR_UL;
    case 0x03: case 0x04: case 0x07: return EVR_LO;
    case 0x06: return EVR_UI;
    case 0x09: return EVR_US;
    case 0x0D: return EVR_AT;
    default: return EVR_OB;
    }
}

DcmEVR chosen_vr(unsigned choice, unsigned offset)
{
    static const DcmEVR vrs[] = {EVR_UN, EVR_OB, EVR_LO, EVR_UL, EVR_US, EVR_AT, EVR_UI, EVR_OW, EVR_SH, EVR_CS, EVR_FD};
    return choice >= 1 && choice <= 11 ? vrs[choice - 1] : field_vr(offset);
}

/* An element of this VR holding these bytes (as the value bytes of a little-endian file). */
DcmElement *make_element(const DcmTagKey &key, DcmEVR vr, const uint8_t *p, size_t n)
{
    DcmTag tag(key, DcmVR(vr));
    tag.setPrivateCreator(CM_DICOM_PRIVATE_CREATOR);
    DcmElement *e = nullptr;
    if (DcmItem::newDicomElementWithVR(e, tag).bad() || e == nullptr)
        return nullptr;
    OFCondition c = EC_Normal;
    switch (vr) {
    case EVR_UL: {
        std::vector<Uint32> w(n / 4);
        if (!w.empty())
            memcpy(w.data(), p, w.size() * 4);
        c = e->putUint32Array(w.data(), static_cast<unsigned long>(w.size()));
        break;
    }
    case EVR_US: case EVR_AT: case EVR_OW: {
        std::vector<Uint16> w(n / 2);
        if (!w.empty())
            memcpy(w.data(), p, w.size() * 2);
        unsigned long count = vr == EVR_AT ? static_cast<unsigned long>(w.size() / 2) : static_cast<unsigned long>(w.size());
        c = e->putUint16Array(w.data(), count);
        break;
    }
    case EVR_FD: {
        std::vector<Float64> w(n / 8);
        if (!w.empty())
            memcpy(w.data(), p, w.size() * 8);
        c = e->putFloat64Array(w.data(), static_cast<unsigned long>(w.size()));
        break;
    }
    case EVR_LO: case EVR_UI: case EVR_SH: case EVR_CS: {
        /* terminated: DCMTK 3.6.7's UI putString(value, length) looks the value up as a UID name
         * with strcmp, past the length (dcmFindUIDFromName) */
        const std::string text(reinterpret_cast<const char *>(p), n);
        c = e->putString(text.c_str(), static_cast<Uint32>(n));
        break;
    }
    default:
        c = e->putUint8Array(p, static_cast<unsigned long>(n));
        break;
    }
    if (c.bad()) {
        delete e;
        return nullptr;
    }
    return e;
}

/* The value bytes of an element as stored in memory (little-endian words). */
std::vector<uint8_t> value_bytes(DcmElement *e)
{
    std::vector<uint8_t> out;
    if (e == nullptr || e->loadAllDataIntoMemory().bad())
        return out;
    const DcmEVR vr = e->ident();
    if (vr == EVR_LO || vr == EVR_UI || vr == EVR_SH || vr == EVR_CS) {
        char *s = nullptr;
        Uint32 len = 0;
        if (e->getString(s, len).good() && s != nullptr)
            out.assign(s, s + len);
        return out;
    }
    Uint8 *p = nullptr;
    if (vr == EVR_UL || vr == EVR_SL) {
        Uint32 *q = nullptr;
        e->getUint32Array(q);
        p = reinterpret_cast<Uint8 *>(q);
    } else if (vr == EVR_US || vr == EVR_AT || vr == EVR_OW || vr == EVR_SS) {
        Uint16 *q = nullptr;
        e->getUint16Array(q);
        p = reinterpret_cast<Uint8 *>(q);
    } else if (vr == EVR_FD) {
        Float64 *q = nullptr;
        e->getFloat64Array(q);
        p = reinterpret_cast<Uint8 *>(q);
    } else {
        e->getUint8Array(p);
    }
    if (p != nullptr)
        out.assign(p, p + e->getLength());
    return out;
}

void apply(DcmDataset &ds, uint16_t slot, const uint8_t *data, size_t size)
{
    while (size >= 4) {
        const unsigned op = data[0] >> 4, choice = data[0] & 0x0F, field = data[1];
        size_t n = static_cast<size_t>(data[2]) | static_cast<size_t>(data[3]) << 8;
        data += 4, size -= 4;
        if (n > size)
            n = size;
        const uint8_t *bytes = data;
        data += n, size -= n;
        const DcmTagKey key(CM_DICOM_PRIVATE_GROUP, static_cast<Uint16>(slot << 8 | field));
        DcmElement *old = nullptr;
        ds.findAndGetElement(key, old, OFFalse);
        std::vector<uint8_t> value(bytes, bytes + n);
        if (op == 1 || op == 3) {
            std::vector<uint8_t> current = value_bytes(old);
            if (op == 3)
                current.insert(current.end(), value.begin(), value.end());
            value.swap(current);
        }
        DcmElement *e = nullptr;
        if (op == 2) {
            delete ds.remove(key);
            continue;
        } else if (op == 4) {
            ds.putAndInsertString(DcmTag(DcmTagKey(CM_DICOM_PRIVATE_GROUP, field), EVR_LO), CM_DICOM_PRIVATE_CREATOR);
            continue;
        } else if (op == 5) {
            ds.putAndInsertString(DcmTag(DcmTagKey(CM_DICOM_PRIVATE_GROUP, slot), EVR_LO),
                                  std::string(reinterpret_cast<const char *>(bytes), n).c_str());
            continue;
        }
        e = make_element(key, chosen_vr(choice, field), value.data(), value.size());
        if (e != nullptr && ds.insert(e, OFTrue).bad())
            delete e;
    }
}

/* A parse of base b with the input's changes applied (and, when asked, written and read back);
 * false when the changed object cannot be written or read back. */
bool changed_object(Object &o, const Base &b, bool reread, const uint8_t *data, size_t size)
{
    FUZZ_CHECK(fuzz::parse(o, b.sealed.data(), b.sealed.size()) == 0, "a base object does not parse");
    uint16_t slot = 0;
    FUZZ_CHECK(chaosmask::block_find(o.dataset(), &slot) == 0, "a base object has no block");
    apply(o.dataset(), slot, data, size);
    if (!reread)
        return true;
    std::vector<uint8_t> bytes;
    if (!fuzz::write(o, bytes))
        return false;
    Object again;
    if (fuzz::parse(again, bytes.data(), bytes.size()) != 0)
        return false;
    std::swap(o.obj, again.obj);
    return true;
}

void check_block_read(DcmDataset &ds)
{
    uint16_t slot = 0;
    int rc = chaosmask::block_find(ds, &slot);
    FUZZ_CHECK(rc == 0 || rc == CM_DICOM_ENOTENCRYPTED || rc == CM_DICOM_EBLOCK, "block_find returned %d", rc);
    if (rc != 0)
        return;
    chaosmask::PrivateBlock b;
    cm_error err = {0, ""};
    rc = chaosmask::block_read(ds, slot, b, &err);
    FUZZ_CHECK(rc == 0 || ((rc == CM_DICOM_EBLOCK || rc == CM_DICOM_EUNSUPPORTED) && err.code == rc && err.msg[0]),
               "block_read returned %d (%s)", rc, err.msg);
    if (rc != 0)
        return;
    uint64_t segments = 0;
    for (uint32_t c : b.segment_counts)
        segments += c;
    FUZZ_CHECK(b.block_version == 1 || b.block_version == 2, "block_read accepted version %u", b.block_version);
    FUZZ_CHECK(chaosmask::key_id_syntax_ok(b.key_id), "block_read accepted a malformed key id");
    FUZZ_CHECK(cm_profile_from_name(b.profile.c_str()) > 0, "block_read accepted profile \"%s\"", b.profile.c_str());
    FUZZ_CHECK(b.paths.size() == b.lengths.size() && b.paths.size() == b.word_bytes.size() &&
                   b.paths.size() == b.segment_counts.size(),
               "block_read accepted lists of different lengths");
    FUZZ_CHECK(b.nonce.size() == CM_NONCEBYTES && b.object_tag.size() == CM_TAGBYTES &&
                   b.segment_tags.size() == segments * CM_SEGTAGBYTES,
               "block_read accepted wrong sizes");
    if (b.block_version >= 2)
        FUZZ_CHECK(b.bound_digests.size() == b.bound_tags.size() * CM_BIND_DIGESTBYTES,
                   "block_read accepted %zu bound digest bytes for %zu attributes", b.bound_digests.size(),
                   b.bound_tags.size());
}

/* A small object built with DCMTK, encrypted with the fixed key. */
void make_base(Base &b, DcmFileFormat &ff, E_TransferSyntax xfer, int profile)
{
    DcmDataset *ds = ff.getDataset();
    ds->putAndInsertString(DCM_SOPClassUID, "1.2.840.10008.5.1.4.1.1.7");
    ds->putAndInsertString(DCM_SOPInstanceUID, "1.2.826.0.1.3680043.10.1049.100.1");
    ds->putAndInsertString(DCM_StudyInstanceUID, "1.2.826.0.1.3680043.10.1049.100.2");
    ds->putAndInsertString(DCM_SeriesInstanceUID, "1.2.826.0.1.3680043.10.1049.100.3");
    ds->putAndInsertString(DCM_PatientName, "Fuzz^Block");
    ds->putAndInsertString(DCM_PatientID, "CM-FUZZ");
    ds->putAndInsertString(DCM_Modality, "OT");
    ds->putAndInsertString(DCM_ImageType, "ORIGINAL\\PRIMARY");
    char path[512];
    fuzz_scratch_path("base.dcm", path, sizeof path);
    FUZZ_CHECK(ff.saveFile(path, xfer).good(), "cannot write a base object");
    FILE *f = fopen(path, "rb");
    FUZZ_CHECK(f != nullptr, "cannot read a base object back");
    std::vector<uint8_t> plain;
    uint8_t buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        plain.insert(plain.end(), buf, buf + n);
    fclose(f);
    unlink(path);

    Object o;
    FUZZ_CHECK(fuzz::parse(o, plain.data(), plain.size()) == 0, "a base object does not parse");
    FUZZ_CHECK(fuzz::pixels_of(o.dataset(), b.pixels) && !b.pixels.paths.empty(), "a base object has no pixels");
    uint8_t key[CM_KEYBYTES];
    fuzz_key(key);
    cm_dicom_encrypt_params ep = fuzz::encrypt_params(profile, key, 1);
    cm_error err = {0, ""};
    cm_dicom_report rep;
    int rc = cm_dicom_encrypt(o.obj, &ep, &rep, &err);
    FUZZ_CHECK(rc == 0, "a base object does not encrypt: %s", err.msg);
    FUZZ_CHECK(fuzz::write(o, b.sealed), "an encrypted base object cannot be written");
}

void image_module(DcmItem &it, Uint16 rows, Uint16 cols, Uint16 spp, Uint16 bits, const char *photometric)
{
    it.putAndInsertUint16(DCM_Rows, rows);
    it.putAndInsertUint16(DCM_Columns, cols);
    it.putAndInsertUint16(DCM_SamplesPerPixel, spp);
    it.putAndInsertString(DCM_PhotometricInterpretation, photometric);
    it.putAndInsertUint16(DCM_BitsAllocated, bits);
    it.putAndInsertUint16(DCM_BitsStored, bits);
    it.putAndInsertUint16(DCM_HighBit, static_cast<Uint16>(bits - 1));
    it.putAndInsertUint16(DCM_PixelRepresentation, 0);
    if (spp > 1)
        it.putAndInsertUint16(DCM_PlanarConfiguration, 0);
}

void make_bases()
{
    { /* native 16-bit with an icon */
        DcmFileFormat ff;
        DcmDataset *ds = ff.getDataset();
        image_module(*ds, 16, 16, 1, 16, "MONOCHROME2");
        std::vector<Uint16> px(16 * 16);
        for (size_t i = 0; i < px.size(); ++i)
            px[i] = static_cast<Uint16>(i * 97 % 4096);
        ds->putAndInsertUint16Array(DCM_PixelData, px.data(), static_cast<unsigned long>(px.size()));
        DcmItem *icon = nullptr;
        ds->findOrCreateSequenceItem(DCM_IconImageSequence, icon, 0);
        image_module(*icon, 4, 4, 1, 8, "MONOCHROME2");
        Uint8 ipx[16];
        for (unsigned i = 0; i < 16; ++i)
            ipx[i] = static_cast<Uint8>(i * 16);
        icon->putAndInsertUint8Array(DCM_PixelData, ipx, 16);
        make_base(bases[0], ff, EXS_LittleEndianExplicit, CM_PROFILE_LORENZ_CHACHA20);
    }
    { /* 8-bit RGB, 3 frames, implicit VR */
        DcmFileFormat ff;
        DcmDataset *ds = ff.getDataset();
        image_module(*ds, 8, 8, 3, 8, "RGB");
        ds->putAndInsertString(DCM_NumberOfFrames, "3");
        std::vector<Uint8> px(8 * 8 * 3 * 3);
        for (size_t i = 0; i < px.size(); ++i)
            px[i] = static_cast<Uint8>(i * 7);
        ds->putAndInsertUint8Array(DCM_PixelData, px.data(), static_cast<unsigned long>(px.size()));
        make_base(bases[1], ff, EXS_LittleEndianImplicit, CM_PROFILE_AES_256_GCM);
    }
    { /* encapsulated: an offset table and two fragments */
        DcmFileFormat ff;
        DcmDataset *ds = ff.getDataset();
        image_module(*ds, 8, 8, 1, 8, "MONOCHROME2");
        ds->putAndInsertString(DCM_NumberOfFrames, "2");
        DcmPixelData *pd = new DcmPixelData(DCM_PixelData);
        DcmPixelSequence *seq = new DcmPixelSequence(DcmTag(DCM_PixelSequenceTag, EVR_OB));
        DcmPixelItem *table = new DcmPixelItem(DcmTag(DCM_Item, EVR_OB));
        Uint32 offsets[2] = {0, 0};
        Uint8 frag[2][24];
        for (unsigned f = 0; f < 2; ++f)
            for (unsigned i = 0; i < 24; ++i)
                frag[f][i] = static_cast<Uint8>(f * 50 + i * 3);
        offsets[1] = 8 + sizeof frag[0];
        table->putUint8Array(reinterpret_cast<Uint8 *>(offsets), sizeof offsets);
        seq->insert(table);
        for (unsigned f = 0; f < 2; ++f) {
            DcmPixelItem *it = new DcmPixelItem(DcmTag(DCM_Item, EVR_OB));
            it->putUint8Array(frag[f], sizeof frag[f]);
            seq->insert(it);
        }
        pd->putOriginalRepresentation(EXS_JPEGProcess1, nullptr, seq);
        ds->insert(pd, OFTrue);
        make_base(bases[2], ff, EXS_JPEGProcess1, CM_PROFILE_LORENZ);
    }
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    fuzz::init_dicom();
    make_bases();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const Base &b = bases[size > 0 ? data[0] % 3 : 0];
    const bool reread = size > 0 && (data[0] & 0x80) != 0;
    const uint8_t *records = size > 0 ? data + 1 : data;
    const size_t nrec = size > 0 ? size - 1 : 0;

    /* v: block_read, inspect, verify (which may decode the pixels in memory but keeps the
     * block), then encrypt, which must refuse it while it carries a block; d: decrypt */
    Object v, d;
    if (!changed_object(v, b, reread, records, nrec) || !changed_object(d, b, reread, records, nrec))
        return 0;
    check_block_read(v.dataset());

    cm_dicom_info *info = new cm_dicom_info;
    cm_error err = {0, ""};
    int rc = cm_dicom_inspect(v.obj, info, &err);
    FUZZ_CHECK(rc == 0, "inspect failed: %d %s", rc, err.msg);
    FUZZ_CHECK(info->block_error == 0 || info->block_message[0] != '\0', "inspect: a block error without a message");
    delete info;

    cm_dicom_open_params op = fuzz::open_params();
    cm_dicom_report rep;
    cm_error verr = {0, ""}, derr = {0, ""}, eerr = {0, ""};
    int rv = cm_dicom_verify(v.obj, &op, &rep, &verr);
    fuzz::check_result("verify", rv, verr);
    int rd = cm_dicom_decrypt(d.obj, &op, &rep, &derr);
    fuzz::check_result("decrypt", rd, derr);
    FUZZ_CHECK(rv == rd, "verify says %d (%s), decrypt says %d (%s)", rv, verr.msg, rd, derr.msg);
    if (rd == 0) {
        fuzz::Pixels px;
        FUZZ_CHECK(fuzz::pixels_of(d.dataset(), px), "a decrypted object whose pixel layout cannot be read");
        FUZZ_CHECK(px == b.pixels, "a changed block decrypted to other pixels");
    }

    uint8_t key[CM_KEYBYTES];
    fuzz_key(key);
    cm_dicom_encrypt_params ep = fuzz::encrypt_params(CM_PROFILE_LORENZ_CHACHA20, key, 1);
    uint16_t slot = 0;
    const bool has_block = chaosmask::block_find(v.dataset(), &slot) != CM_DICOM_ENOTENCRYPTED;
    int re = cm_dicom_encrypt(v.obj, &ep, &rep, &eerr);
    fuzz::check_result("encrypt", re, eerr);
    FUZZ_CHECK(!has_block || re != 0, "an object carrying a ChaosMask block was encrypted");
    return 0;
}
