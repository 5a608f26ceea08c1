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
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
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

struct Span {
    const Uint8 *data;
    size_t len;
};

/* One frame's bytes: the fragment that starts it and those that continue it. */
class Cursor {
public:
    explicit Cursor(const std::vector<Span> &parts) : parts_(parts) {}
    int get()
    {
        while (part_ < parts_.size() && pos_ >= parts_[part_].len) {
            ++part_;
            pos_ = 0;
        }
        return part_ < parts_.size() ? parts_[part_].data[pos_++] : -1;
    }
    bool skip(size_t n)
    {
        while (n > 0 && part_ < parts_.size()) {
            size_t step = std::min(n, parts_[part_].len - pos_);
            pos_ += step;
            n -= step;
            if (pos_ >= parts_[part_].len) {
                ++part_;
                pos_ = 0;
            }
        }
        return n == 0;
    }
    /* Past entropy-coded data to the next marker; its code, or -1 at the end.  In JPEG,
     * FF 00 is a data byte; in JPEG-LS, FF then a byte below 0x80 (bit stuffing); RSTn are
     * part of the scan in both. */
    int next_marker(bool jpeg_ls)
    {
        for (;;) {
            if (part_ >= parts_.size())
                return -1;
            const Span &sp = parts_[part_];
            const void *ff = pos_ < sp.len ? memchr(sp.data + pos_, 0xFF, sp.len - pos_) : nullptr;
            if (ff == nullptr) {
                ++part_;
                pos_ = 0;
                continue;
            }
            pos_ = static_cast<size_t>(static_cast<const Uint8 *>(ff) - sp.data) + 1;
            int m;
            while ((m = get()) == 0xFF) /* fill bytes */
                ;
            if (m < 0)
                return -1;
            if ((jpeg_ls ? m < 0x80 : m == 0x00) || (m >= 0xD0 && m <= 0xD7))
                continue;
            return m;
        }
    }

private:
    const std::vector<Span> &parts_;
    size_t part_ = 0, pos_ = 0;
};

/* Whether JPEG-LS preset parameters (MAXVAL, T1, T2, T3, RESET; 0 = default) are the defaults
 * of ISO 14495-1 C.2.4.1.1 for this precision and NEAR, which encoders often write out. */
bool default_presets(const unsigned p[5], unsigned precision, unsigned near)
{
    if (precision < 2 || precision > 16)
        return false;
    const unsigned maxval = (1u << precision) - 1;
    auto clamp = [maxval](unsigned i, unsigned j) { return i > maxval || i < j ? j : i; };
    const unsigned factor = (std::min(maxval, 4095u) + 128) / 256;
    const unsigned t1 = clamp(factor * (3 - 2) + 2 + 3 * near, near + 1);
    const unsigned t2 = clamp(factor * (7 - 3) + 3 + 5 * near, t1);
    const unsigned t3 = clamp(factor * (21 - 4) + 4 + 7 * near, t2);
    return (p[0] == 0 || p[0] == maxval) && (p[1] == 0 || p[1] == t1) && (p[2] == 0 || p[2] == t2) &&
           (p[3] == 0 || p[3] == t3) && (p[4] == 0 || p[4] == 64);
}

/* Walks one frame's JPEG or JPEG-LS stream (after its SOI) to its EOI, as strictly as DCMTK's
 * bit-depth scan and libijg/CharLS would read it, and allows only what a decoder that sizes
 * its work from the attributes can meet: marker segments of the tables (DQT, DHT, DAC, DRI,
 * APPn, COM, JPGn), one frame header of the syntax's kind (SOF3 for the lossless syntaxes,
 * SOF55 for JPEG-LS, SOF0-2 for the others), and at most one scan per component (128 for a
 * progressive one: each scan is a pass over the whole image).  JPEG-LS, as CharLS reads it:
 * exactly one scan per component (interleave mode 0) or one scan of all of them, each
 * followed by the next or by EOI, NEAR 0 in the lossless syntax, and preset parameters (LSE)
 * only with their default values (written out or 0).  "" when it does, else what is wrong.
 * DCMTK 3.6.7's bit-depth scan loops forever on a TEM marker; libijg sizes its buffers from
 * the frame header; CharLS reads the next scan's header from wherever a scan ends, and reads
 * outside its tables with a MAXVAL above the precision. */
std::string walk_stream(Cursor &c, bool jpeg_ls, bool lossless, FrameHeader &h)
{
    bool sof = false, eoi = false;
    unsigned scans = 0, expected = 0; /* JPEG-LS: the scans the first one announces */
    unsigned preset[5] = {0, 0, 0, 0, 0}; /* LSE: MAXVAL, T1, T2, T3, RESET */
    bool lse_seen = false;
    int m = -1, first_ilv = -1, first_near = 0;
    char what[96];
    for (;;) {
        if (m < 0) { /* not already read at the end of a scan */
            int b = c.get();
            if (b < 0)
                break; /* the frame's bytes end: the decoder stops there */
            if (b != 0xFF)
                return "bytes outside a marker segment";
            while ((m = c.get()) == 0xFF)
                ;
            if (m < 0)
                break;
        }
        if (m == 0xD9) {
            eoi = true;
            break;
        }
        const bool is_sof = jpeg_ls ? m == 0xF7
                                    : (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC);
        const bool table = m == 0xC4 || m == 0xC8 || m == 0xCC || m == 0xDB || m == 0xDD || (m >= 0xE0 && m <= 0xEF) ||
                           m == 0xFE || (m >= 0xF0 && m <= 0xFD && !(jpeg_ls && (m == 0xF7 || m == 0xF8)));
        const bool lse = jpeg_ls && m == 0xF8;
        if (!is_sof && !table && !lse && m != 0xDA) {
            snprintf(what, sizeof what, "marker FF%02X where a decoder does not expect one", static_cast<unsigned>(m));
            return what;
        }
        const int hi = c.get(), lo = c.get();
        if (hi < 0 || lo < 0 || ((hi << 8) | lo) < 2)
            return "a marker segment cut short";
        size_t len = static_cast<size_t>((hi << 8) | lo) - 2;
        if (is_sof) {
            if (sof)
                return "a second frame header";
            if (len < 6)
                return "a frame header cut short";
            int f[6];
            for (int &v : f)
                v = c.get();
            if (f[5] < 0)
                return "a frame header cut short";
            len -= 6;
            sof = true;
            h.marker = static_cast<unsigned>(m);
            h.precision = static_cast<unsigned>(f[0]);
            h.height = static_cast<unsigned>(f[1] << 8 | f[2]);
            h.width = static_cast<unsigned>(f[3] << 8 | f[4]);
            h.components = static_cast<unsigned>(f[5]);
            const bool kind = jpeg_ls || (lossless ? m == 0xC3 : m >= 0xC0 && m <= 0xC2);
            if (!kind) {
                snprintf(what, sizeof what, "a frame header of a kind this syntax does not use (FF%02X)",
                         static_cast<unsigned>(m));
                return what;
            }
        } else if (lse) { /* ID 1: MAXVAL, T1, T2, T3, RESET, 2 bytes each */
            int f[11];
            if (len != 11)
                return "JPEG-LS preset parameters other than the defaults";
            for (int &v : f)
                v = c.get();
            if (f[10] < 0)
                return "a marker segment cut short";
            if (f[0] != 1 || lse_seen)
                return "JPEG-LS preset parameters other than the defaults";
            for (int i = 0; i < 5; ++i)
                preset[i] = static_cast<unsigned>(f[1 + 2 * i] << 8 | f[2 + 2 * i]);
            lse_seen = true;
            len = 0;
        } else if (m == 0xDA && jpeg_ls) { /* Ns, Ns x (Cs, Tm), NEAR, ILV, Al/Ah */
            int ns = c.get();
            if (ns < 1 || len != 4 + 2 * static_cast<size_t>(ns) || !sof ||
                static_cast<unsigned>(ns) > h.components)
                return "a JPEG-LS scan header that is not one of its frame";
            if (!c.skip(2 * static_cast<size_t>(ns)))
                return "a marker segment cut short";
            const int near = c.get(), ilv = c.get(), pt = c.get();
            if (pt < 0)
                return "a marker segment cut short";
            if ((lossless && near != 0) || ilv > 2 || (ilv == 0 ? ns != 1 : static_cast<unsigned>(ns) != h.components))
                return "a JPEG-LS scan header that is not one of its frame";
            if (first_ilv >= 0 && ilv != first_ilv)
                return "a JPEG-LS scan header that is not one of its frame";
            if (scans == 0)
                expected = ilv == 0 ? h.components : 1;
            first_ilv = ilv;
            first_near = near;
            len = 0;
        }
        if (!c.skip(len))
            return "a marker segment cut short";
        m = -1;
        if (is_sof || table || lse)
            continue;
        /* SOS: the scan's entropy-coded data runs to the next marker */
        if (!sof)
            return "a scan before the frame header";
        if (++scans > (jpeg_ls ? expected : h.marker == 0xC2 ? 128u : h.components))
            return "more scans than the frame has components";
        m = c.next_marker(jpeg_ls);
        if (m < 0)
            break;
        if (jpeg_ls && m != 0xDA && m != 0xD9)
            return "a JPEG-LS scan followed by neither a scan nor the end of the image";
    }
    if (!sof)
        return "no frame header";
    if (jpeg_ls && (!eoi || scans != expected))
        return "a JPEG-LS stream that ends before all its scans";
    if (lse_seen && !default_presets(preset, h.precision, static_cast<unsigned>(first_near)))
        return "JPEG-LS preset parameters other than the defaults";
    return "";
}

/* What one encapsulated Pixel Data would decode to. */
struct Encapsulated {
    uint64_t samples = 0, decoded = 0, packed = 0; /* decoded and compressed bytes */
    unsigned bits = 0; /* Bits Allocated: a mask covers whole words */
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
        /* as the decoders read them (the layout after them checks the same), and at most the 4 GiB
         * a value holds (DCMTK's decoders compute sizes in 32 bits) */
        ImageGeometry g;
        int rc = read_image_geometry(*static_cast<DcmItem *>(parent), std::string(name) + " Pixel Data", true, g, err);
        if (rc)
            return rc;
        if (g.bits_alloc == 1)
            return cm_fail(err, CM_DICOM_EGEOMETRY, "the %s pixel data cannot be decoded: Bits Allocated 1", name);
        const unsigned rows = g.rows, cols = g.cols, spp = g.spp, allocated = g.bits_alloc;
        e.bits = allocated;
        e.samples = mul_sat(mul_sat(mul_sat(rows, cols), spp), g.frames);
        e.decoded = mul_sat(e.samples, allocated / 8u);
        if (e.decoded > kMaxValueBytes)
            return cm_fail(err, code,
                           "the %s pixel data declares %u x %u x %u samples x %llu frames x %u bits: more than the "
                           "4 GiB a DICOM value can hold: %s",
                           name, rows, cols, spp, static_cast<unsigned long long>(g.frames), allocated, verdict);
        const bool jpeg = is_jpeg_family(from), jpeg_ls = is_jpeg_ls(from);
        std::vector<Span> parts;
        DcmObject *frag = seq->nextInContainer(nullptr); /* the offset table */
        while (frag != nullptr && (frag = seq->nextInContainer(frag)) != nullptr) {
            DcmPixelItem *pi = static_cast<DcmPixelItem *>(frag);
            Uint8 *bytes = nullptr;
            if (pi->getLength() > 0 && pi->getUint8Array(bytes).good() && bytes != nullptr)
                parts.push_back({bytes, pi->getLength()});
            else
                parts.push_back({nullptr, 0});
        }
        for (const Span &sp : parts)
            e.packed += sp.len;
        auto soi = [](const Span &sp) { return sp.len >= 2 && sp.data[0] == 0xFF && sp.data[1] == 0xD8; };
        if ((jpeg || jpeg_ls) && (parts.empty() || !soi(parts[0])))
            return cm_fail(err, code, "the %s pixel data does not start with a JPEG stream (SOI): %s", name, verdict);
        for (size_t i = 0; (jpeg || jpeg_ls) && i < parts.size(); ++i) {
            const Span &sp = parts[i];
            if (!soi(sp))
                continue; /* continues a frame, or not where a frame's stream starts: a decoder refuses it as one */
            std::vector<Span> frame(1, {sp.data + 2, sp.len - 2});
            for (size_t j = i + 1; j < parts.size() && !soi(parts[j]); ++j)
                frame.push_back(parts[j]);
            Cursor c(frame);
            FrameHeader h;
            const bool lossless = jpeg_ls ? from == EXS_JPEGLSLossless : is_jpeg_lossless(from);
            std::string wrong = walk_stream(c, jpeg_ls, lossless, h);
            if (!wrong.empty())
                return cm_fail(err, code, "the %s pixel data holds a stream with %s: %s", name, wrong.c_str(),
                               verdict);
            if (h.height != rows || h.width != cols || h.components != spp || h.precision == 0 ||
                h.precision > allocated)
                return cm_fail(err, code,
                               "the %s pixel data holds a stream whose frame header (FF%02X, %u x %u, %u components "
                               "of %u bits) is not the image the attributes describe (%u x %u, %u samples of %u "
                               "bits): %s",
                               name, h.marker, h.width, h.height, h.components, h.precision, cols, rows, spp,
                               allocated, verdict);
        }
        out.push_back(e);
    }
    return 0;
}

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
    /* Masked words are incompressible (the mask covers every bit of them): each protected
     * Pixel Data's bits at most twice its compressed bits, plus one allowance of 8 KiB per
     * object for the streams' headers. */
    uint64_t masked = 0, clear = 0, bits = 0, packed = 0;
    for (const Encapsulated &e : all) {
        if (!e.masked) {
            clear = add_sat(clear, e.decoded);
            continue;
        }
        masked = add_sat(masked, e.decoded);
        bits = add_sat(bits, mul_sat(e.samples, e.bits));
        packed = add_sat(packed, e.packed);
        if (mul_sat(e.samples, e.bits) > add_sat(mul_sat(e.packed, 16), UINT64_C(1) << 16) ||
            bits > add_sat(mul_sat(packed, 16), UINT64_C(1) << 16))
            return cm_fail(err, CM_DICOM_EAUTH,
                           "the %s pixel data holds %llu bytes but its attributes describe %llu samples of %u "
                           "bits: masked pixels do not compress that far: changed data (not decoded)",
                           name, static_cast<unsigned long long>(e.packed),
                           static_cast<unsigned long long>(e.samples), e.bits);
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
