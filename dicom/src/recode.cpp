/* recode.cpp - what a transfer-syntax change after encryption means, and undoing the lossless
 * compression of a native encrypted object with DCMTK's decoders (recode.h). */
#include "recode.h"

#include "internal.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmdata/dcstack.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>

#include <mutex>

namespace chaosmask {

void register_decoders()
{
    static std::once_flag once;
    std::call_once(once, [] {
        DJDecoderRegistration::registerCodecs();
        DJLSDecoderRegistration::registerCodecs();
        DcmRLEDecoderRegistration::registerCodecs();
    });
}

namespace {

/* JPEG baseline and extended, JPEG-LS near-lossless, JPEG 2000 (lossless or lossy: the
 * stream decides, so it counts as lossy), video: DCMTK's own classification. */
bool is_lossy(E_TransferSyntax x)
{
    return DcmXfer(x).isEncapsulated() && DcmXfer(x).isLossy();
}

bool is_jpeg2000(E_TransferSyntax x)
{
    return x == EXS_JPEG2000LosslessOnly || x == EXS_JPEG2000 || x == EXS_JPEG2000MulticomponentLosslessOnly ||
           x == EXS_JPEG2000Multicomponent;
}

bool marked_lossy(DcmItem &ds)
{
    OFString v;
    return ds.findAndGetOFString(DCM_LossyImageCompression, v).good() && v == "01";
}

/* a *= b, saturating: an overflow counts as too large */
uint64_t mul_sat(uint64_t a, uint64_t b)
{
    uint64_t r;
    return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

/* The bytes of the fragments of px's encapsulated representation (offset table excluded);
 * false when px is not encapsulated. */
bool compressed_bytes(DcmPixelData &px, uint64_t &out)
{
    E_TransferSyntax rep = EXS_Unknown;
    const DcmRepresentationParameter *param = nullptr;
    px.getOriginalRepresentationKey(rep, param);
    DcmPixelSequence *seq = nullptr;
    if (!DcmXfer(rep).isEncapsulated() || px.getEncapsulatedRepresentation(rep, param, seq).bad() || seq == nullptr)
        return false;
    out = 0;
    DcmObject *item = seq->nextInContainer(nullptr); /* the offset table */
    while (item != nullptr && (item = seq->nextInContainer(item)) != nullptr)
        out += item->getLength();
    return true;
}

} // namespace

int recode_bound(DcmDataset &ds, const RecodePlan &plan, uint64_t recorded_bytes, uint64_t max_bytes,
                 cm_error *err)
{
    const char *name = DcmXfer(plan.from).getXferName();
    uint64_t total = 0;
    DcmStack stack;
    while (ds.search(DCM_PixelData, stack, ESM_afterStackTop, OFTrue).good()) {
        DcmObject *top = stack.top();
        DcmObject *parent = stack.card() > 1 ? stack.elem(1) : &ds; /* the search root is not on the stack */
        uint64_t packed = 0;
        if (top->ident() != EVR_PixelData || (parent->ident() != EVR_dataset && parent->ident() != EVR_item) ||
            !compressed_bytes(*static_cast<DcmPixelData *>(top), packed))
            continue;
        DcmItem &item = *static_cast<DcmItem *>(parent);
        Uint16 rows = 0, cols = 0, spp = 1, allocated = 0, stored = 0;
        Sint32 frames = 1;
        item.findAndGetUint16(DCM_Rows, rows);
        item.findAndGetUint16(DCM_Columns, cols);
        if (item.findAndGetUint16(DCM_SamplesPerPixel, spp).bad())
            spp = 1;
        item.findAndGetUint16(DCM_BitsAllocated, allocated);
        if (item.findAndGetUint16(DCM_BitsStored, stored).bad())
            stored = allocated;
        if (item.findAndGetSint32(DCM_NumberOfFrames, frames).bad() || frames < 1)
            frames = 1;
        /* what the lossless decoders and the layout after them accept */
        if (rows == 0 || cols == 0 || (spp != 1 && spp != 3 && spp != 4) ||
            (allocated != 8 && allocated != 16 && allocated != 32) || stored == 0 || stored > allocated)
            return cm_fail(err, CM_DICOM_EGEOMETRY,
                           "the %s pixel data cannot be decoded: Rows %u, Columns %u, Samples per Pixel %u, Bits "
                           "Allocated %u, Bits Stored %u",
                           name, rows, cols, spp, allocated, stored);
        const uint64_t samples = mul_sat(mul_sat(mul_sat(rows, cols), spp), static_cast<uint64_t>(frames));
        const uint64_t decoded = mul_sat(samples, allocated / 8u);
        if (mul_sat(samples, stored) > mul_sat(packed, 16) + (UINT64_C(1) << 16))
            return cm_fail(err, CM_DICOM_EAUTH,
                           "the %s pixel data holds %llu bytes but its attributes describe %llu samples of %u stored "
                           "bits: masked pixels do not compress that far: changed data (not decoded)",
                           name, static_cast<unsigned long long>(packed), static_cast<unsigned long long>(samples),
                           stored);
        total = decoded > UINT64_MAX - total ? UINT64_MAX : total + decoded;
    }
    if (total > recorded_bytes)
        return cm_fail(err, CM_DICOM_EAUTH,
                       "the %s pixel data would decode to %llu bytes, more than the private block records (%llu): "
                       "changed data (not decoded)",
                       name, static_cast<unsigned long long>(total), static_cast<unsigned long long>(recorded_bytes));
    if (total > max_bytes)
        return cm_fail(err, CM_DICOM_ESTRUCTURE,
                       "the %s pixel data would decode to %llu bytes, above the %llu bytes an object may hold; raise "
                       "[dicom] max_object_size if such objects are legitimate",
                       name, static_cast<unsigned long long>(total), static_cast<unsigned long long>(max_bytes));
    return 0;
}

int recode_check(DcmDataset &ds, const std::string &recorded_uid, E_TransferSyntax current, RecodePlan &plan,
                 cm_error *err)
{
    plan = RecodePlan();
    const DcmXfer recorded(recorded_uid.c_str()), now(current);
    if (recorded.getXfer() == EXS_Unknown)
        return cm_fail(err, CM_DICOM_EBLOCK, "the private block names an unknown transfer syntax");
    if (recorded.isEncapsulated()) {
        if (recorded.getXfer() == current)
            return 0;
        return cm_fail(err, CM_DICOM_EREENCODED,
                          "the object was encrypted in %s and has been transcoded to %s since: its masked fragments "
                          "are gone, so it cannot be decrypted (restore the archive copy)",
                          recorded.getXferName(), now.getXferName());
    }
    if (!now.isEncapsulated())
        return 0; /* native to native (implicit/explicit, little/big endian, deflate): words unchanged */
    if ((is_lossy(current) && !is_jpeg2000(current)) || marked_lossy(ds))
        return cm_fail(err, CM_DICOM_EREENCODED,
                          "the encrypted object was compressed lossily (%s) after encryption: its masked pixels are "
                          "gone, so it cannot be decrypted (restore the archive copy)",
                          now.getXferName());
    if (is_jpeg2000(current))
        return cm_fail(err, CM_DICOM_EUNSUPPORTED,
                          "the encrypted object was compressed with %s after encryption; DCMTK has no JPEG 2000 decoder: "
                          "convert it to a native transfer syntax first (e.g. gdcmconv --raw), then decrypt",
                          now.getXferName());
    plan.decode = true;
    plan.from = current;
    plan.to = recorded.getXfer();
    return 0;
}

int recode_decode(DcmDataset &ds, const RecodePlan &plan, cm_error *err)
{
    register_decoders();
    OFCondition c = ds.chooseRepresentation(EXS_LittleEndianExplicit, nullptr);
    if (c.bad() || !ds.canWriteXfer(EXS_LittleEndianExplicit))
        return cm_fail(err, CM_DICOM_EUNSUPPORTED, "the %s pixel data cannot be decoded: %s",
                          DcmXfer(plan.from).getXferName(), c.bad() ? c.text() : "no decoder");
    /* the encapsulated original representations are no longer wanted: of the Pixel Data and of
     * every nested one (DCMTK compresses an icon's pixels with the image's), or the layout
     * would still see an icon as encapsulated */
    DcmStack stack;
    while (ds.search(DCM_PixelData, stack, ESM_afterStackTop, OFTrue).good())
        if (stack.top()->ident() == EVR_PixelData)
            static_cast<DcmPixelData *>(stack.top())->removeAllButCurrentRepresentations();
    ds.updateOriginalXfer();
    (void)err;
    return 0;
}

} // namespace chaosmask
