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

#include <algorithm>
#include <mutex>
#include <vector>

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

/* a * b, saturating: an overflow counts as too large */
uint64_t mul_sat(uint64_t a, uint64_t b)
{
    uint64_t r;
    return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

uint64_t add_sat(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* A DICOM value holds at most this (and DCMTK's decoders compute sizes in 32 bits). */
const uint64_t kMaxValueBytes = 0xFFFFFFFEull;

bool is_jpeg_lossless(E_TransferSyntax x)
{
    return x == EXS_JPEGProcess14 || x == EXS_JPEGProcess14SV1;
}

bool is_jpeg_ls(E_TransferSyntax x)
{
    return x == EXS_JPEGLSLossless || x == EXS_JPEGLSLossy;
}

/* the JPEG processes (DCMTK's dcmjpeg decodes 1, 2/4, 10/12 and 14) */
bool is_jpeg_family(E_TransferSyntax x)
{
    return x >= EXS_JPEGProcess1 && x <= EXS_JPEGProcess14SV1;
}

struct FrameHeader {
    unsigned marker = 0, precision = 0, height = 0, width = 0, components = 0;
};

/* The frame header (SOFn, or SOF55 of JPEG-LS) of a JPEG or JPEG-LS stream that starts at p
 * (with SOI), walking the marker segments before it; false when the bytes end, or a scan or
 * the image ends, before one. */
bool frame_header(const Uint8 *p, size_t n, FrameHeader &h)
{
    size_t i = 2;
    while (i < n) {
        if (p[i] != 0xFF)
            return false;
        while (i < n && p[i] == 0xFF) /* fill bytes */
            ++i;
        if (i >= n)
            return false;
        const unsigned m = p[i++];
        if (m == 0x01 || (m >= 0xD0 && m <= 0xD7)) /* TEM, RSTn: no length */
            continue;
        if (m == 0x00 || m == 0xD8 || m == 0xD9 || m == 0xDA || i + 2 > n)
            return false;
        const size_t len = static_cast<size_t>(p[i]) << 8 | p[i + 1];
        if (len < 2 || len > n - i)
            return false;
        if ((m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) || m == 0xF7) {
            if (len < 8)
                return false;
            h.marker = m;
            h.precision = p[i + 2];
            h.height = static_cast<unsigned>(p[i + 3]) << 8 | p[i + 4];
            h.width = static_cast<unsigned>(p[i + 5]) << 8 | p[i + 6];
            h.components = p[i + 7];
            return true;
        }
        i += len;
    }
    return false;
}

/* What one encapsulated Pixel Data would decode to. */
struct Encapsulated {
    uint64_t samples = 0, decoded = 0, packed = 0; /* decoded and compressed bytes */
    unsigned stored = 0;
    bool masked = false; /* where the layout protects Pixel Data: the data set, or an icon */
};

/* Every encapsulated Pixel Data of ds, checked as DCMTK's decoders will read it: the
 * attributes they size their buffer from (the Pixel Data's own item), the frame header of every
 * JPEG or JPEG-LS stream (the size the codec library allocates from) equal to them, and at
 * most the 4 GiB a value holds; a failure of the latter two is code (for an encrypted object,
 * changed data). */
int collect_encapsulated(DcmDataset &ds, E_TransferSyntax from, int code, std::vector<Encapsulated> &out,
                         cm_error *err)
{
    const char *name = DcmXfer(from).getXferName();
    const char *verdict = code == CM_DICOM_EAUTH ? "changed data (not decoded)" : "not decoded";
    DcmStack stack;
    while (ds.search(DCM_PixelData, stack, ESM_afterStackTop, OFTrue).good()) {
        DcmObject *top = stack.top();
        DcmObject *parent = stack.card() > 1 ? stack.elem(1) : &ds; /* the search root is not on the stack */
        if (top->ident() != EVR_PixelData || (parent->ident() != EVR_dataset && parent->ident() != EVR_item))
            continue;
        DcmPixelData &px = *static_cast<DcmPixelData *>(top);
        E_TransferSyntax rep = EXS_Unknown;
        const DcmRepresentationParameter *param = nullptr;
        px.getOriginalRepresentationKey(rep, param);
        DcmPixelSequence *seq = nullptr;
        if (!DcmXfer(rep).isEncapsulated() || px.getEncapsulatedRepresentation(rep, param, seq).bad() || seq == nullptr)
            continue;
        Encapsulated e;
        e.masked = stack.card() == 1 ||
                   (stack.card() == 3 && stack.elem(2)->getTag() == DCM_IconImageSequence);
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
        e.stored = stored;
        e.samples = mul_sat(mul_sat(mul_sat(rows, cols), spp), static_cast<uint64_t>(frames));
        e.decoded = mul_sat(e.samples, allocated / 8u);
        if (e.decoded > kMaxValueBytes)
            return cm_fail(err, code,
                           "the %s pixel data declares %u x %u x %u samples x %d frames x %u bits: more than the "
                           "4 GiB a DICOM value can hold: %s",
                           name, rows, cols, spp, static_cast<int>(frames), allocated, verdict);
        const bool jpeg = is_jpeg_family(from), jpeg_ls = is_jpeg_ls(from);
        DcmObject *frag = seq->nextInContainer(nullptr); /* the offset table */
        while (frag != nullptr && (frag = seq->nextInContainer(frag)) != nullptr) {
            DcmPixelItem *pi = static_cast<DcmPixelItem *>(frag);
            e.packed += pi->getLength();
            Uint8 *bytes = nullptr;
            if (!(jpeg || jpeg_ls) || pi->getLength() < 2 || pi->getUint8Array(bytes).bad() || bytes == nullptr ||
                bytes[0] != 0xFF || bytes[1] != 0xD8)
                continue; /* not where a frame's stream starts: a decoder refuses it as one */
            FrameHeader h;
            const bool found = frame_header(bytes, pi->getLength(), h);
            const bool kind = jpeg_ls ? h.marker == 0xF7 : is_jpeg_lossless(from) ? h.marker == 0xC3 : h.marker != 0xF7;
            if (!found || !kind || h.height != rows || h.width != cols || h.components != spp || h.precision == 0 ||
                h.precision > allocated)
                return cm_fail(err, code,
                               "the %s pixel data holds a stream whose frame header (%s%02X, %u x %u, %u components "
                               "of %u bits) is not the image the attributes describe (%u x %u, %u samples of %u "
                               "bits): %s",
                               name, found ? "marker FF" : "none found, ", h.marker, h.width, h.height, h.components,
                               h.precision, cols, rows, spp, allocated, verdict);
        }
        out.push_back(e);
    }
    return 0;
}

} // namespace

namespace {

int within_limit(uint64_t total, uint64_t max_bytes, E_TransferSyntax from, cm_error *err)
{
    if (total <= max_bytes)
        return 0;
    return cm_fail(err, CM_DICOM_ESTRUCTURE,
                   "the %s pixel data would decode to %llu bytes, above the %llu bytes an object may hold; raise "
                   "[dicom] max_object_size if such objects are legitimate",
                   DcmXfer(from).getXferName(), static_cast<unsigned long long>(total),
                   static_cast<unsigned long long>(max_bytes));
}

} // namespace

int decode_bound(DcmDataset &ds, E_TransferSyntax from, uint64_t max_bytes, cm_error *err)
{
    std::vector<Encapsulated> all;
    int rc = collect_encapsulated(ds, from, CM_DICOM_EGEOMETRY, all, err);
    if (rc)
        return rc;
    uint64_t total = 0;
    for (const Encapsulated &e : all)
        total = add_sat(total, e.decoded);
    return within_limit(total, max_bytes, from, err);
}

int recode_bound(DcmDataset &ds, const RecodePlan &plan, uint64_t recorded_bytes, uint64_t max_bytes,
                 cm_error *err)
{
    const char *name = DcmXfer(plan.from).getXferName();
    std::vector<Encapsulated> all;
    int rc = collect_encapsulated(ds, plan.from, CM_DICOM_EAUTH, all, err);
    if (rc)
        return rc;
    /* Masked pixels are incompressible: each protected Pixel Data's stored bits at most twice
     * its compressed bits, plus one allowance of 8 KiB for the streams' headers. */
    uint64_t masked = 0, clear = 0, bits = 0, packed = 0;
    for (const Encapsulated &e : all) {
        if (!e.masked) {
            clear = add_sat(clear, e.decoded);
            continue;
        }
        masked = add_sat(masked, e.decoded);
        bits = add_sat(bits, mul_sat(e.samples, e.stored));
        packed = add_sat(packed, e.packed);
        if (mul_sat(e.samples, e.stored) > add_sat(mul_sat(e.packed, 16), UINT64_C(1) << 16) ||
            bits > add_sat(mul_sat(packed, 16), UINT64_C(1) << 16))
            return cm_fail(err, CM_DICOM_EAUTH,
                           "the %s pixel data holds %llu bytes but its attributes describe %llu samples of %u "
                           "stored bits: masked pixels do not compress that far: changed data (not decoded)",
                           name, static_cast<unsigned long long>(e.packed),
                           static_cast<unsigned long long>(e.samples), e.stored);
    }
    if (masked > recorded_bytes)
        return cm_fail(err, CM_DICOM_EAUTH,
                       "the %s pixel data would decode to %llu bytes, more than the private block records (%llu): "
                       "changed data (not decoded)",
                       name, static_cast<unsigned long long>(masked), static_cast<unsigned long long>(recorded_bytes));
    /* Pixel Data nested where the layout does not reach stays in the clear, compressed along
     * (an icon of a referenced image): no larger than the image, or 1 MiB. */
    if (clear > std::max<uint64_t>(masked, UINT64_C(1) << 20))
        return cm_fail(err, CM_DICOM_EAUTH,
                       "the %s pixel data nested in the clear would decode to %llu bytes, more than the protected "
                       "pixel data (%llu): changed data (not decoded)",
                       name, static_cast<unsigned long long>(clear), static_cast<unsigned long long>(masked));
    return within_limit(add_sat(masked, clear), max_bytes, plan.from, err);
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
