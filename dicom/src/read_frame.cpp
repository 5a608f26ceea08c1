/* read_frame.cpp - one frame of a DICOM image as plain samples for `chaosmask analyze`:
 * compressed syntaxes decoded in memory by DCMTK's codecs, planes interleaved, signed samples
 * made unsigned.  Analysis only: the storage path never decodes or transcodes anything. */
#include <cstdlib>
#include <cstring>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcpixel.h>

#include "internal.h"
#include "recode.h"

namespace {

Uint16 get_us(DcmItem &ds, const DcmTagKey &tag, Uint16 dflt, bool *present = nullptr)
{
    Uint16 v = dflt;
    bool ok = ds.findAndGetUint16(tag, v).good();
    if (present != nullptr)
        *present = ok;
    return ok ? v : dflt;
}

} // namespace

extern "C" void cm_dicom_pixels_free(cm_dicom_pixels *px)
{
    if (px != nullptr) {
        free(px->data);
        px->data = nullptr;
    }
}

/* The frame's samples out of a loaded object. */
static int frame_samples(const char *in_path, DcmDataset &ds, uint64_t max_bytes, uint32_t frame, cm_dicom_pixels *px,
                         cm_error *err)
{
    uint16_t slot;
    if (chaosmask::block_find(ds, &slot) != CM_DICOM_ENOTENCRYPTED)
        return cm_fail(err, CM_DICOM_EENCRYPTED, "%s: encrypted; decrypt it first (chaosmask decrypt)", in_path);
    bool have_rows, have_cols;
    const Uint16 rows = get_us(ds, DCM_Rows, 0, &have_rows), cols = get_us(ds, DCM_Columns, 0, &have_cols);
    const Uint16 spp = get_us(ds, DCM_SamplesPerPixel, 1), bits = get_us(ds, DCM_BitsAllocated, 0);
    const Uint16 planar = get_us(ds, DCM_PlanarConfiguration, 0), signed_px = get_us(ds, DCM_PixelRepresentation, 0);
    Sint32 nframes = 1;
    if (ds.findAndGetSint32(DCM_NumberOfFrames, nframes).bad() || nframes < 1)
        nframes = 1;
    if (!have_rows || !have_cols || rows == 0 || cols == 0)
        return cm_fail(err, CM_DICOM_EGEOMETRY, "%s: no image (Rows/Columns missing)", in_path);
    if ((bits != 8 && bits != 16) || (spp != 1 && spp != 3))
        return cm_fail(err, CM_DICOM_EUNSUPPORTED,
                          "%s: analysis reads 8- or 16-bit gray or RGB images; this one has BitsAllocated %u, "
                          "SamplesPerPixel %u", in_path, bits, spp);
    if (frame >= static_cast<uint32_t>(nframes))
        return cm_fail(err, CM_DICOM_EINTERNAL, "%s: frame %u requested, the object has %d", in_path,
                          frame, static_cast<int>(nframes));
    chaosmask::register_decoders();
    E_TransferSyntax xfer = ds.getOriginalXfer();
    int rc;
    if (DcmXfer(xfer).isEncapsulated() && (rc = chaosmask::decode_bound(ds, xfer, max_bytes, err)))
        return rc;
    if (DcmXfer(xfer).isEncapsulated() &&
        ds.chooseRepresentation(EXS_LittleEndianExplicit, nullptr).bad())
        return cm_fail(err, CM_DICOM_EUNSUPPORTED, "%s: DCMTK cannot decode the transfer syntax %s",
                          in_path, DcmXfer(xfer).getXferName());
    DcmElement *el = nullptr;
    const Uint8 *raw = nullptr;
    if (ds.findAndGetElement(DCM_PixelData, el).bad() || el == nullptr ||
        static_cast<DcmPixelData *>(el)->getUint8Array(const_cast<Uint8 *&>(raw)).bad() || raw == nullptr)
        return cm_fail(err, CM_DICOM_EGEOMETRY, "%s: no native Pixel Data after decoding", in_path);
    const size_t bps = bits / 8u, frame_bytes = static_cast<size_t>(rows) * cols * spp * bps;
    if (el->getLength() / frame_bytes <= frame)
        return cm_fail(err, CM_DICOM_EGEOMETRY, "%s: Pixel Data holds %lu bytes, frame %u needs %zu", in_path,
                          static_cast<unsigned long>(el->getLength()), frame, frame_bytes * (frame + 1));
    px->data = static_cast<uint8_t *>(malloc(frame_bytes));
    if (px->data == nullptr)
        return cm_fail(err, CM_DICOM_ENOMEM, "out of memory");
    const Uint8 *src = raw + frame_bytes * frame;
    const size_t npix = static_cast<size_t>(rows) * cols;
    for (size_t p = 0; p < npix; p++)
        for (unsigned c = 0; c < spp; c++) {
            /* planar configuration 1 keeps one plane per sample */
            const size_t from = planar == 1 && spp == 3 ? (c * npix + p) * bps : (p * spp + c) * bps;
            memcpy(px->data + (p * spp + c) * bps, src + from, bps);
            if (signed_px == 1)
                px->data[(p * spp + c) * bps + bps - 1] ^= 0x80; /* offset binary: order kept */
        }
    px->width = cols;
    px->height = rows;
    px->channels = spp;
    px->bits = bits;
    px->frames = static_cast<uint32_t>(nframes);
    OFString pi;
    ds.findAndGetOFString(DCM_PhotometricInterpretation, pi);
    snprintf(px->photometric, sizeof px->photometric, "%s", pi.c_str());
    return 0;
}

extern "C" int cm_dicom_read_frame(const char *in_path, uint32_t frame, cm_dicom_pixels *px, cm_error *err)
{
    if (in_path == nullptr || px == nullptr)
        return cm_fail(err, CM_DICOM_EINTERNAL, "bad argument");
    memset(px, 0, sizeof *px);
    cm_dicom_object *obj = nullptr;
    int rc = cm_dicom_load(&obj, in_path, nullptr, err);
    if (rc == 0) {
        rc = frame_samples(in_path, *obj->ff.getDataset(), obj->max_bytes, frame, px, err);
        cm_dicom_free(obj);
    }
    return rc;
}
