/* recode.cpp - what a transfer-syntax change after encryption means, and undoing the lossless
 * compression of a native encrypted object with DCMTK's decoders (recode.h). */
#include "recode.h"

#include "internal.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcpixel.h>
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

} // namespace

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
