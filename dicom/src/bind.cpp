/* bind.cpp - bound attributes, patient identity digests and the encryption marks (bind.h). */
#include "internal.h"

#include "chaosmask/dicom.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcdict.h>
#include <dcmtk/dcmdata/dcelem.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcvr.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>

#include <cstdio>
#include <cstring>
#include <memory>

namespace chaosmask {

const std::vector<NamedTag> &bound_attributes()
{
    /* Each changes what the pixels mean or where they are; docs/private-block.md says why. */
    static const std::vector<NamedTag> tags = {
        {DCM_SOPClassUID, "SOP Class UID"},
        {DCM_StudyInstanceUID, "Study Instance UID"},
        {DCM_SeriesInstanceUID, "Series Instance UID"},
        {DCM_FrameOfReferenceUID, "Frame of Reference UID"},
        {DCM_Modality, "Modality"},
        {DCM_NumberOfFrames, "Number of Frames"},
        {DCM_RescaleIntercept, "Rescale Intercept"},
        {DCM_RescaleSlope, "Rescale Slope"},
        {DCM_RescaleType, "Rescale Type"},
        {DCM_RealWorldValueMappingSequence, "Real World Value Mapping Sequence"},
        {DCM_ModalityLUTSequence, "Modality LUT Sequence"},
        {DCM_PixelIntensityRelationshipSign, "Pixel Intensity Relationship Sign"},
        {DCM_PresentationLUTShape, "Presentation LUT Shape"},
        {DCM_PixelPaddingValue, "Pixel Padding Value"},
        {DCM_PixelPaddingRangeLimit, "Pixel Padding Range Limit"},
        {DCM_RedPaletteColorLookupTableDescriptor, "Red Palette Color LUT Descriptor"},
        {DCM_GreenPaletteColorLookupTableDescriptor, "Green Palette Color LUT Descriptor"},
        {DCM_BluePaletteColorLookupTableDescriptor, "Blue Palette Color LUT Descriptor"},
        {DCM_AlphaPaletteColorLookupTableDescriptor, "Alpha Palette Color LUT Descriptor"},
        {DCM_RedPaletteColorLookupTableData, "Red Palette Color LUT Data"},
        {DCM_GreenPaletteColorLookupTableData, "Green Palette Color LUT Data"},
        {DCM_BluePaletteColorLookupTableData, "Blue Palette Color LUT Data"},
        {DCM_AlphaPaletteColorLookupTableData, "Alpha Palette Color LUT Data"},
        {DCM_SegmentedRedPaletteColorLookupTableData, "Segmented Red Palette Color LUT Data"},
        {DCM_SegmentedGreenPaletteColorLookupTableData, "Segmented Green Palette Color LUT Data"},
        {DCM_SegmentedBluePaletteColorLookupTableData, "Segmented Blue Palette Color LUT Data"},
        {DCM_PaletteColorLookupTableUID, "Palette Color LUT UID"},
        {DCM_PixelSpacing, "Pixel Spacing"},
        {DCM_ImagerPixelSpacing, "Imager Pixel Spacing"},
        {DCM_NominalScannedPixelSpacing, "Nominal Scanned Pixel Spacing"},
        {DCM_PixelAspectRatio, "Pixel Aspect Ratio"},
        {DCM_SequenceOfUltrasoundRegions, "Sequence of Ultrasound Regions"},
        {DCM_SliceThickness, "Slice Thickness"},
        {DCM_SpacingBetweenSlices, "Spacing Between Slices"},
        {DCM_ImagePositionPatient, "Image Position (Patient)"},
        {DCM_ImageOrientationPatient, "Image Orientation (Patient)"},
        {DCM_PatientOrientation, "Patient Orientation"},
        {DCM_Laterality, "Laterality"},
        {DCM_ImageLaterality, "Image Laterality"},
        {DCM_SharedFunctionalGroupsSequence, "Shared Functional Groups Sequence"},
        {DCM_PerFrameFunctionalGroupsSequence, "Per-frame Functional Groups Sequence"},
    };
    return tags;
}

const std::vector<NamedTag> &identity_attributes()
{
    static const std::vector<NamedTag> tags = {
        {DCM_PatientName, "Patient Name"},       {DCM_PatientID, "Patient ID"},
        {DCM_IssuerOfPatientID, "Issuer of Patient ID"}, {DCM_PatientBirthDate, "Patient Birth Date"},
        {DCM_PatientSex, "Patient Sex"},         {DCM_AccessionNumber, "Accession Number"},
    };
    return tags;
}

const std::vector<NamedTag> &marked_attributes()
{
    static const std::vector<NamedTag> tags = {
        {DCM_ImageComments, "Image Comments"},
        {DCM_DerivationDescription, "Derivation Description"},
        {DCM_ImageType, "Image Type"},
    };
    return tags;
}

std::string tag_name(const DcmTagKey &tag)
{
    char where[16];
    snprintf(where, sizeof where, "(%04X,%04X)", tag.getGroup(), tag.getElement());
    for (const auto *list : {&bound_attributes(), &identity_attributes(), &marked_attributes()})
        for (const NamedTag &t : *list)
            if (t.tag == tag)
                return std::string(t.name) + " " + where;
    return std::string("attribute ") + where;
}

namespace {

/* The value bytes of a binary element as DCMTK holds them (host order, little-endian here). */
bool raw_binary(DcmElement *e, const uint8_t *&p)
{
    OFCondition c = EC_IllegalCall;
    void *v = nullptr;
    switch (e->ident()) {
    case EVR_OB:
    case EVR_UN:
    case EVR_UNKNOWN:   /* a VR DCMTK did not recognise: raw bytes, written as UN (so read back as UN) */
    case EVR_UNKNOWN2B: { Uint8 *q = nullptr; c = e->getUint8Array(q); v = q; break; }
    case EVR_OW:
    case EVR_US:
    case EVR_AT:
    case EVR_lt:
    case EVR_xs: { Uint16 *q = nullptr; c = e->getUint16Array(q); v = q; break; }
    case EVR_SS: { Sint16 *q = nullptr; c = e->getSint16Array(q); v = q; break; }
    case EVR_UL:
    case EVR_OL: { Uint32 *q = nullptr; c = e->getUint32Array(q); v = q; break; }
    case EVR_SL: { Sint32 *q = nullptr; c = e->getSint32Array(q); v = q; break; }
    case EVR_FL:
    case EVR_OF: { Float32 *q = nullptr; c = e->getFloat32Array(q); v = q; break; }
    case EVR_FD:
    case EVR_OD: { Float64 *q = nullptr; c = e->getFloat64Array(q); v = q; break; }
    case EVR_SV: { Sint64 *q = nullptr; c = e->getSint64Array(q); v = q; break; }
    case EVR_UV:
    case EVR_OV: { Uint64 *q = nullptr; c = e->getUint64Array(q); v = q; break; }
    default: return false;
    }
    p = static_cast<const uint8_t *>(v);
    return c.good() || e->getLength() == 0;
}

void append_u32(std::string &out, uint32_t v)
{
    for (int i = 0; i < 4; ++i)
        out += static_cast<char>(v >> (8 * i));
}

void append_element(std::string &out, DcmElement *e);

void append_sequence(std::string &out, DcmSequenceOfItems *sq)
{
    out += 'S';
    append_u32(out, static_cast<uint32_t>(sq->card()));
    for (DcmItem *item = next_item(*sq, nullptr); item != nullptr; item = next_item(*sq, item)) {
        out += 'I';
        append_u32(out, static_cast<uint32_t>(item->card()));
        for (DcmElement *e = next_element(*item, nullptr); e != nullptr; e = next_element(*item, e))
            append_element(out, e);
    }
}

/* tag, then 'B' + length + bytes, 'T' + length + trimmed text, or a sequence. */
void append_element(std::string &out, DcmElement *e)
{
    append_u32(out, (static_cast<uint32_t>(e->getGTag()) << 16) | e->getETag());
    if (e->ident() == EVR_SQ) {
        append_sequence(out, static_cast<DcmSequenceOfItems *>(e));
        return;
    }
    const uint8_t *p = nullptr;
    if (e->loadAllDataIntoMemory().good() && raw_binary(e, p)) {
        out += 'B';
        append_u32(out, e->getLength());
        if (p != nullptr && e->getLength() > 0)
            out.append(reinterpret_cast<const char *>(p), e->getLength());
        return;
    }
    OFString text;
    e->getOFStringArray(text, OFTrue);
    size_t n = text.length();
    while (n > 0 && (text[n - 1] == ' ' || text[n - 1] == '\0'))
        --n;
    out += 'T';
    append_u32(out, static_cast<uint32_t>(n));
    out.append(text.c_str(), n);
}

} // namespace

std::string canonical_value(DcmItem &item, const DcmTagKey &tag)
{
    DcmElement *e = nullptr;
    if (item.findAndGetElement(tag, e, OFFalse).bad() || e == nullptr)
        return std::string("-", 1);
    std::string out("+", 1);
    append_element(out, e);
    return out;
}

int attribute_digests(const cm_object *obj, const char *purpose, DcmItem &item, const std::vector<DcmTagKey> &tags,
                      std::vector<uint8_t> &out)
{
    static const char label[] = "ChaosMask attribute v2"; /* with its NUL */
    uint8_t key[32];
    int rc = cm_object_subkey(obj, purpose, key, sizeof key);
    if (rc != CM_OK)
        return rc;
    out.assign(tags.size() * CM_BIND_DIGESTBYTES, 0);
    /* One HMAC-SHA256 context keyed once and re-initialised per attribute: the one-shot HMAC()
     * fetches the algorithm and allocates a context for every attribute. */
    EVP_MAC *mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    const std::unique_ptr<EVP_MAC_CTX, void (*)(EVP_MAC_CTX *)> owner(mac != nullptr ? EVP_MAC_CTX_new(mac) : nullptr,
                                                                      EVP_MAC_CTX_free);
    EVP_MAC_free(mac);
    EVP_MAC_CTX *ctx = owner.get();
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char *>("SHA256"), 0),
                           OSSL_PARAM_construct_end()};
    if (ctx == nullptr || EVP_MAC_init(ctx, key, sizeof key, params) != 1)
        rc = CM_ECRYPTO;
    OPENSSL_cleanse(key, sizeof key);
    for (size_t i = 0; i < tags.size() && rc == CM_OK; ++i) {
        const std::string value = canonical_value(item, tags[i]);
        const uint8_t t[4] = {static_cast<uint8_t>(tags[i].getGroup()), static_cast<uint8_t>(tags[i].getGroup() >> 8),
                              static_cast<uint8_t>(tags[i].getElement()),
                              static_cast<uint8_t>(tags[i].getElement() >> 8)};
        uint8_t digest[EVP_MAX_MD_SIZE];
        size_t len = 0;
        if ((i > 0 && EVP_MAC_init(ctx, nullptr, 0, nullptr) != 1) || EVP_MAC_update(ctx, t, sizeof t) != 1 ||
            EVP_MAC_update(ctx, reinterpret_cast<const uint8_t *>(label), sizeof label) != 1 ||
            EVP_MAC_update(ctx, reinterpret_cast<const uint8_t *>(value.data()), value.size()) != 1 ||
            EVP_MAC_final(ctx, digest, &len, sizeof digest) != 1 || len < CM_BIND_DIGESTBYTES)
            rc = CM_ECRYPTO;
        else
            memcpy(&out[i * CM_BIND_DIGESTBYTES], digest, CM_BIND_DIGESTBYTES);
    }
    return rc;
}

void digests_compare(const std::vector<uint8_t> &stored, const std::vector<uint8_t> &actual,
                     const std::vector<DcmTagKey> &tags, std::vector<std::string> &changed)
{
    changed.clear();
    for (size_t i = 0; i < tags.size(); ++i) {
        size_t off = i * CM_BIND_DIGESTBYTES;
        if (off + CM_BIND_DIGESTBYTES > stored.size() || off + CM_BIND_DIGESTBYTES > actual.size() ||
            CRYPTO_memcmp(&stored[off], &actual[off], CM_BIND_DIGESTBYTES) != 0)
            changed.push_back(tag_name(tags[i]));
    }
}

/* ---- marks ---- */

namespace {

const char kMarkComment[] = "CHAOSMASK ENCRYPTED: the pixel data is masked noise, not for diagnosis; "
                            "restore the original with chaosmask decrypt";
const char kMarkDerivation[] = "Pixel data encrypted by ChaosMask (chaotic masking); chaosmask decrypt restores it";

void put_u32(std::vector<uint8_t> &out, uint32_t v)
{
    for (int i = 0; i < 4; ++i)
        out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

uint32_t get_u32(const std::vector<uint8_t> &in, size_t off)
{
    return static_cast<uint32_t>(in[off]) | static_cast<uint32_t>(in[off + 1]) << 8 |
           static_cast<uint32_t>(in[off + 2]) << 16 | static_cast<uint32_t>(in[off + 3]) << 24;
}

/* The value as stored (exact bytes of the string), or absent. */
bool raw_string(DcmItem &ds, const DcmTagKey &tag, std::string &value)
{
    DcmElement *e = nullptr;
    if (ds.findAndGetElement(tag, e, OFFalse).bad() || e == nullptr)
        return false;
    char *s = nullptr;
    Uint32 len = 0;
    if (e->getString(s, len).good() && s != nullptr)
        value.assign(s, len);
    else
        value.clear();
    return true;
}

/* Image Type with value 1 DERIVED and the rest as it was. */
std::string derived_image_type(const std::string &type)
{
    size_t sep = type.find('\\');
    return "DERIVED" + (sep == std::string::npos ? std::string() : type.substr(sep));
}

} // namespace

namespace {

/* An element, or one inside a sequence, whose VR DCMTK did not recognise: kept as raw bytes
 * ("??") in memory, written as UN, read back as UN - another canonical value. */
bool nonstandard_vr(DcmElement *e)
{
    if (e->ident() == EVR_UNKNOWN || e->ident() == EVR_UNKNOWN2B)
        return true;
    if (e->ident() != EVR_SQ)
        return false;
    DcmSequenceOfItems *sq = static_cast<DcmSequenceOfItems *>(e);
    for (DcmItem *item = next_item(*sq, nullptr); item != nullptr; item = next_item(*sq, item))
        for (DcmElement *el = next_element(*item, nullptr); el != nullptr; el = next_element(*item, el))
            if (nonstandard_vr(el))
                return true;
    return false;
}

} // namespace

int attributes_check(DcmItem &ds, cm_error *err)
{
    for (const auto *list : {&bound_attributes(), &identity_attributes(), &marked_attributes()})
        for (const NamedTag &t : *list) {
            DcmElement *e = nullptr;
            if (ds.findAndGetElement(t.tag, e, OFFalse).good() && e != nullptr && nonstandard_vr(e))
                return cm_fail(err, CM_DICOM_EUNSUPPORTED,
                               "%s is encoded with a VR that is not DICOM's: once written it reads back as UN, and "
                               "the encrypted object would no longer authenticate; re-encode the object with "
                               "standard VRs first",
                               tag_name(t.tag).c_str());
        }
    for (const NamedTag &t : marked_attributes()) {
        DcmElement *e = nullptr;
        if (ds.findAndGetElement(t.tag, e, OFFalse).bad() || e == nullptr)
            continue;
        const DcmEVR dictionary = DcmTag(t.tag).getEVR();
        if (!e->isaString() || e->ident() != dictionary)
            return cm_fail(err, CM_DICOM_EUNSUPPORTED,
                           "%s is encoded with VR %s, not %s: the mark that says 'encrypted' could not be undone "
                           "exactly; re-encode the object with its standard VRs first",
                           tag_name(t.tag).c_str(), DcmVR(e->ident()).getVRName(), DcmVR(dictionary).getVRName());
    }
    return 0;
}

int marks_apply(DcmItem &ds, std::vector<uint8_t> &originals)
{
    originals.clear();
    put_u32(originals, static_cast<uint32_t>(marked_attributes().size()));
    std::string image_type;
    bool has_type = false;
    for (const NamedTag &t : marked_attributes()) {
        std::string value;
        bool present = raw_string(ds, t.tag, value);
        if (t.tag == DCM_ImageType)
            has_type = present, image_type = value;
        put_u32(originals, (static_cast<uint32_t>(t.tag.getGroup()) << 16) | t.tag.getElement());
        originals.push_back(present ? 1 : 0);
        put_u32(originals, static_cast<uint32_t>(value.size()));
        originals.insert(originals.end(), value.begin(), value.end());
    }
    if (originals.size() % 2 != 0)
        originals.push_back(0); /* DICOM values have even lengths: the pad is part of the record */
    OFCondition c = ds.putAndInsertString(DCM_ImageComments, kMarkComment);
    if (c.good())
        c = ds.putAndInsertString(DCM_DerivationDescription, kMarkDerivation);
    if (c.good() && has_type)
        c = ds.putAndInsertOFStringArray(DCM_ImageType, derived_image_type(image_type).c_str());
    return c.good() ? 0 : CM_DICOM_EINTERNAL;
}

int marks_restore(DcmItem &ds, const std::vector<uint8_t> &originals)
{
    if (originals.size() < 4)
        return CM_DICOM_EBLOCK;
    uint32_t n = get_u32(originals, 0);
    size_t off = 4;
    for (uint32_t i = 0; i < n; ++i) {
        if (off + 9 > originals.size())
            return CM_DICOM_EBLOCK;
        uint32_t tag = get_u32(originals, off);
        bool present = originals[off + 4] != 0;
        uint32_t len = get_u32(originals, off + 5);
        off += 9;
        if (len > originals.size() - off)
            return CM_DICOM_EBLOCK;
        DcmTagKey key(static_cast<Uint16>(tag >> 16), static_cast<Uint16>(tag & 0xFFFF));
        if (!present) {
            delete ds.remove(key);
        } else {
            OFString value(reinterpret_cast<const char *>(&originals[off]), len);
            if (ds.putAndInsertOFStringArray(key, value).bad())
                return CM_DICOM_EINTERNAL;
        }
        off += len;
    }
    bool padded = off + 1 == originals.size() && originals[off] == 0;
    return off == originals.size() || padded ? 0 : CM_DICOM_EBLOCK;
}

std::string marks_present(DcmItem &ds)
{
    std::string found, value;
    if (raw_string(ds, DCM_ImageComments, value) && value.compare(0, 19, "CHAOSMASK ENCRYPTED") == 0)
        found = "Image Comments";
    if (raw_string(ds, DCM_DerivationDescription, value) && value.find("encrypted by ChaosMask") != std::string::npos)
        found += found.empty() ? "Derivation Description" : " and Derivation Description";
    return found;
}

} // namespace chaosmask
