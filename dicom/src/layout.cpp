/* layout.cpp - the one walker over pixel-bearing elements: finds every protected element,
 * checks its geometry against the pixel attributes and cuts it into engine segments
 * (one per frame for native data, one per fragment for encapsulated data). */
#include "internal.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcvr.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <cstdio>

namespace chaosmask {
namespace {

/* Format 2's smallest segment (the whole element when it is smaller). */
const size_t kMinSegmentBytes = 64 * 1024;
/* More pixel-bearing elements than any real object has (one per icon, waveform item, overlay
 * plane): each costs a key derivation, so thousands of tiny ones would be a denial of service. */
const size_t kMaxProtectedElements = 256;

std::string tag_hex(const DcmTagKey &t)
{
    char buf[16];
    snprintf(buf, sizeof buf, "%04X%04X", t.getGroup(), t.getElement());
    return buf;
}

std::string tag_text(const DcmTagKey &t)
{
    char buf[16];
    snprintf(buf, sizeof buf, "(%04X,%04X)", t.getGroup(), t.getElement());
    return buf;
}

/* The value bytes of e, loaded, in local (little-endian) word order. */
/* Appends to pe.bound the values of the attributes that say how the element's bytes become
 * a picture or a signal.  The object tag covers pe.bound, so changing one of them (signed or
 * not, bits stored, photometric interpretation, geometry) fails authentication instead of
 * giving back a wrong picture.  Absent and empty are told apart. */
void bind_attributes(ProtectedElement &pe, DcmItem &item, std::initializer_list<DcmTagKey> tags)
{
    for (const DcmTagKey &t : tags) {
        DcmElement *e = nullptr;
        OFString v;
        pe.bound += tag_hex(t);
        if (item.findAndGetElement(t, e, OFFalse).good() && e != nullptr && e->getOFStringArray(v).good()) {
            pe.bound += '=';
            pe.bound.append(v.c_str(), v.length());
        } else {
            pe.bound += '-';
        }
        pe.bound += '\0';
    }
}

void bind_image_pixel_module(ProtectedElement &pe, DcmItem &item)
{
    bind_attributes(pe, item,
                    {DCM_SamplesPerPixel, DCM_PhotometricInterpretation, DCM_PlanarConfiguration, DCM_NumberOfFrames,
                     DCM_Rows, DCM_Columns, DCM_BitsAllocated, DCM_BitsStored, DCM_HighBit,
                     DCM_PixelRepresentation});
}

/* Raw bytes of an element (offset tables) appended to pe.bound with their length. */
void bind_bytes(ProtectedElement &pe, const char *label, const Uint8 *p, size_t n)
{
    pe.bound += label;
    pe.bound += std::to_string(n);
    pe.bound += ':';
    if (n > 0)
        pe.bound.append(reinterpret_cast<const char *>(p), n);
    pe.bound += '\0';
}

int element_bytes(DcmElement *e, const std::string &where, uint8_t *&data, size_t &len, cm_error *err)
{
    data = nullptr;
    len = e->getLength();
    if (len == 0)
        return 0;
    if (e->loadAllDataIntoMemory().bad())
        return cm_fail(err, CM_DICOM_EINPUT, "%s: value could not be read (file truncated?)", where.c_str());
    OFCondition c = EC_IllegalCall;
    switch (e->getVR()) {
    case EVR_OB: {
        Uint8 *p = nullptr;
        c = e->getUint8Array(p);
        data = p;
        break;
    }
    case EVR_OW: {
        Uint16 *p = nullptr;
        c = e->getUint16Array(p);
        data = reinterpret_cast<uint8_t *>(p);
        break;
    }
    case EVR_OL: {
        Uint32 *p = nullptr;
        c = e->getUint32Array(p);
        data = reinterpret_cast<uint8_t *>(p);
        break;
    }
    case EVR_OF: {
        Float32 *p = nullptr;
        c = e->getFloat32Array(p);
        data = reinterpret_cast<uint8_t *>(p);
        break;
    }
    case EVR_OD: {
        Float64 *p = nullptr;
        c = e->getFloat64Array(p);
        data = reinterpret_cast<uint8_t *>(p);
        break;
    }
    default:
        return cm_fail(err, CM_DICOM_EUNSUPPORTED, "%s has VR %s; only OB, OW, OL, OF and OD values are handled",
                          where.c_str(), DcmVR(e->getVR()).getVRName());
    }
    if (c.bad() || data == nullptr)
        return cm_fail(err, CM_DICOM_EINPUT, "%s: value could not be accessed: %s", where.c_str(), c.text());
    return 0;
}

/* Reads an unsigned attribute; missing -> def (when optional) or an error. */
int get_u16(DcmItem &item, const DcmTagKey &tag, const char *name, bool required, Uint16 def, Uint16 &out,
            const std::string &where, cm_error *err)
{
    out = def;
    if (!item.tagExistsWithValue(tag)) {
        if (required)
            return cm_fail(err, CM_DICOM_EGEOMETRY, "%s present but %s %s is missing", where.c_str(), name,
                              tag_text(tag).c_str());
        return 0;
    }
    if (item.findAndGetUint16(tag, out).bad())
        return cm_fail(err, CM_DICOM_EGEOMETRY, "%s %s cannot be read as an unsigned 16-bit value", name,
                          tag_text(tag).c_str());
    return 0;
}

/* Number of Frames (IS) or the like: a positive integer, 1 when absent. */
int get_count(DcmItem &item, const DcmTagKey &tag, const char *name, uint64_t &out, cm_error *err)
{
    out = 1;
    if (!item.tagExistsWithValue(tag))
        return 0;
    Sint32 v = 0;
    if (item.findAndGetSint32(tag, v).bad() || v <= 0)
        return cm_fail(err, CM_DICOM_EGEOMETRY, "%s %s is not a positive integer", name, tag_text(tag).c_str());
    out = static_cast<uint64_t>(v);
    return 0;
}

bool mul_checked(uint64_t &acc, uint64_t factor)
{
    return !__builtin_mul_overflow(acc, factor, &acc);
}

/* Value length must be the computed size, or one more when that is odd (padding). */
int check_length(const std::string &where, uint64_t expected, uint64_t actual, const char *formula,
                 cm_error *err)
{
    if (actual == expected || (expected % 2 == 1 && actual == expected + 1))
        return 0;
    return cm_fail(err, CM_DICOM_EGEOMETRY, "%s = %llu bytes but %s holds %llu bytes", formula,
                      (unsigned long long)expected, where.c_str(), (unsigned long long)actual);
}

/* Cuts [data, data+len) into frames of frame_bytes; the last one takes the padding byte. */
void cut_frames(ProtectedElement &pe, uint8_t *data, size_t len, uint64_t frames, uint64_t frame_bytes)
{
    if (frames <= 1 || frame_bytes == 0) {
        pe.segments.push_back({data, len});
        return;
    }
    pe.segments.reserve(pe.segments.size() + static_cast<size_t>(frames)); /* frames x frame_bytes <= len: checked */
    for (uint64_t f = 0; f < frames; ++f) {
        size_t off = static_cast<size_t>(f * frame_bytes);
        size_t n = (f + 1 == frames) ? len - off : static_cast<size_t>(frame_bytes);
        pe.segments.push_back({data + off, n});
    }
}

} // namespace

int read_image_geometry(DcmItem &item, const std::string &where, bool need_bits, ImageGeometry &g,
                        cm_error *err)
{
    int rc;
    if ((rc = get_u16(item, DCM_Rows, "Rows", true, 0, g.rows, where, err)) ||
        (rc = get_u16(item, DCM_Columns, "Columns", true, 0, g.cols, where, err)) ||
        (rc = get_u16(item, DCM_SamplesPerPixel, "Samples per Pixel", need_bits, 1, g.spp, where, err)) ||
        (rc = get_u16(item, DCM_BitsAllocated, "Bits Allocated", need_bits, 0, g.bits_alloc, where, err)) ||
        (rc = get_u16(item, DCM_BitsStored, "Bits Stored", false, g.bits_alloc, g.bits_stored, where, err)) ||
        (rc = get_u16(item, DCM_HighBit, "High Bit", false, 0, g.high_bit, where, err)) ||
        (rc = get_count(item, DCM_NumberOfFrames, "Number of Frames", g.frames, err)))
        return rc;
    if (g.rows == 0 || g.cols == 0)
        return cm_fail(err, CM_DICOM_EGEOMETRY, "Rows %u x Columns %u: an image needs both above zero", g.rows,
                          g.cols);
    item.findAndGetOFString(DCM_PhotometricInterpretation, g.photometric);
    if (!need_bits)
        return 0;
    if (g.bits_alloc == 0 || g.spp == 0)
        return cm_fail(err, CM_DICOM_EGEOMETRY, "Bits Allocated %u, Samples per Pixel %u: both must be above zero",
                          g.bits_alloc, g.spp);
    if (g.bits_alloc != 1 && g.bits_alloc != 8 && g.bits_alloc != 16 && g.bits_alloc != 32)
        return cm_fail(err, CM_DICOM_EUNSUPPORTED,
                          "Bits Allocated %u is not supported (1, 8, 16 or 32 for Pixel Data)", g.bits_alloc);
    if (g.spp != 1 && g.spp != 3 && g.spp != 4)
        return cm_fail(err, CM_DICOM_EUNSUPPORTED, "Samples per Pixel %u is not supported (1, 3 or 4)", g.spp);
    if (g.bits_stored == 0 || g.bits_stored > g.bits_alloc)
        return cm_fail(err, CM_DICOM_EGEOMETRY, "Bits Stored %u must be between 1 and Bits Allocated %u",
                          g.bits_stored, g.bits_alloc);
    if (item.tagExistsWithValue(DCM_HighBit) && g.high_bit >= g.bits_alloc)
        return cm_fail(err, CM_DICOM_EGEOMETRY, "High Bit %u must be below Bits Allocated %u", g.high_bit,
                          g.bits_alloc);
    return 0;
}

namespace {

/* Native Pixel Data: one segment per frame (when frames are byte-aligned). */
int layout_native_pixels(DcmItem &item, DcmElement *e, const std::string &path, const std::string &where,
                         ProtectedElement &pe, cm_error *err)
{
    ImageGeometry g;
    int rc = read_image_geometry(item, where, true, g, err);
    if (rc)
        return rc;
    /* 4:2:2 subsampled YBR keeps two samples' worth of bytes per pixel. */
    bool ybr422 = (g.photometric == "YBR_FULL_422" || g.photometric == "YBR_PARTIAL_422") && g.spp == 3;
    uint64_t frame_bits = g.rows;
    bool ok = mul_checked(frame_bits, g.cols) && mul_checked(frame_bits, ybr422 ? 2 : g.spp) &&
              mul_checked(frame_bits, g.bits_alloc);
    uint64_t total_bits = frame_bits;
    ok = ok && mul_checked(total_bits, g.frames);
    uint64_t expected = ok ? total_bits / 8 + (total_bits % 8 != 0) : 0;
    if (!ok || expected > kMaxValueBytes)
        return cm_fail(err, CM_DICOM_EGEOMETRY,
                          "Rows %u x Columns %u x Samples %u x Frames %llu x Bits Allocated %u exceeds the 4 GiB "
                          "a DICOM value can hold",
                          g.rows, g.cols, g.spp, (unsigned long long)g.frames, g.bits_alloc);
    uint8_t *data;
    size_t len;
    if ((rc = element_bytes(e, where, data, len, err)))
        return rc;
    char formula[160];
    snprintf(formula, sizeof formula, "Rows %u x Columns %u x Samples %u%s x Frames %llu x Bits Allocated %u / 8",
             g.rows, g.cols, g.spp, ybr422 ? " (4:2:2)" : "", (unsigned long long)g.frames, g.bits_alloc);
    if ((rc = check_length(where, expected, len, formula, err)))
        return rc;
    pe.path = path;
    pe.word_bytes = g.bits_alloc >= 8 ? g.bits_alloc / 8u : 1u;
    pe.length = len;
    pe.native_pixels = true;
    pe.bits_stored = g.bits_stored;
    pe.high_bit = item.tagExistsWithValue(DCM_HighBit) ? g.high_bit : static_cast<Uint16>(g.bits_stored - 1);
    Uint16 representation = 0;
    pe.is_signed = item.findAndGetUint16(DCM_PixelRepresentation, representation).good() && representation == 1;
    if (frame_bits % 8 != 0) /* bit-packed frames that do not start on a byte: one segment */
        cut_frames(pe, data, len, 1, 0);
    else
        cut_frames(pe, data, len, g.frames, frame_bits / 8);
    return 0;
}

/* Encapsulated Pixel Data: one segment per fragment; item 0 (offset table) untouched. */
int layout_encapsulated_pixels(DcmItem &item, DcmPixelData *px, E_TransferSyntax rep, const std::string &path,
                               const std::string &where, ProtectedElement &pe, cm_error *err)
{
    ImageGeometry g;
    int rc = read_image_geometry(item, where, true, g, err);
    if (rc)
        return rc;
    DcmPixelSequence *seq = nullptr;
    const DcmRepresentationParameter *param = nullptr;
    px->getOriginalRepresentationKey(rep, param);
    if (px->getEncapsulatedRepresentation(rep, param, seq).bad() || seq == nullptr)
        return cm_fail(err, CM_DICOM_EINPUT, "%s: the encapsulated pixel sequence cannot be read", where.c_str());
    unsigned long n = seq->card();
    if (n < 2)
        return cm_fail(err, CM_DICOM_EGEOMETRY, "%s is encapsulated but holds no fragment after the offset table",
                          where.c_str());
    pe.path = path;
    pe.encapsulated = true;
    pe.word_bytes = 1;
    /* The offset tables stay in the clear (readers need them) but are authenticated: a changed
     * table would reorder frames. */
    DcmPixelItem *bot = static_cast<DcmPixelItem *>(seq->nextInContainer(nullptr));
    Uint8 *bot_bytes = nullptr;
    if (bot == nullptr ||
        (bot->getLength() > 0 && (bot->getUint8Array(bot_bytes).bad() || bot_bytes == nullptr)))
        return cm_fail(err, CM_DICOM_EINPUT, "%s: the offset table cannot be read", where.c_str());
    bind_bytes(pe, "BOT", bot_bytes, bot->getLength());
    for (const DcmTagKey &t : {DCM_ExtendedOffsetTable, DCM_ExtendedOffsetTableLengths}) {
        DcmElement *eot = nullptr;
        Uint8 *eot_bytes = nullptr;
        if (item.findAndGetElement(t, eot, OFFalse).good() && eot != nullptr && eot->getLength() > 0 &&
            eot->getUint8Array(eot_bytes).good())
            bind_bytes(pe, tag_hex(t).c_str(), eot_bytes, eot->getLength());
    }
    /* one step per fragment from the previous one (getItem(i) walks from the start each time) */
    DcmPixelItem *frag = bot;
    for (unsigned long i = 1; i < n; ++i) {
        frag = static_cast<DcmPixelItem *>(seq->nextInContainer(frag));
        if (frag == nullptr)
            return cm_fail(err, CM_DICOM_EINPUT, "%s: fragment %lu cannot be read", where.c_str(), i);
        uint8_t *data = nullptr;
        size_t len = frag->getLength();
        if (len > 0) {
            Uint8 *p = nullptr;
            if (frag->loadAllDataIntoMemory().bad() || frag->getUint8Array(p).bad() || p == nullptr)
                return cm_fail(err, CM_DICOM_EINPUT, "%s: fragment %lu could not be read (file truncated?)",
                                  where.c_str(), i);
            data = p;
        }
        pe.segments.push_back({data, len});
        pe.length += len;
    }
    return 0;
}

int layout_pixel_data(DcmItem &item, E_TransferSyntax xfer, const std::string &prefix,
                      std::vector<ProtectedElement> &out, cm_error *err)
{
    DcmElement *e = nullptr;
    if (item.findAndGetElement(DCM_PixelData, e, OFFalse).bad() || e == nullptr)
        return 0;
    std::string path = prefix + tag_hex(DCM_PixelData);
    std::string where = "Pixel Data " + path;
    ProtectedElement pe;
    pe.vr = DcmVR(e->getVR()).getVRName();
    DcmPixelData *px = dynamic_cast<DcmPixelData *>(e);
    int rc;
    E_TransferSyntax rep = EXS_LittleEndianExplicit;
    const DcmRepresentationParameter *param = nullptr;
    if (px != nullptr)
        px->getOriginalRepresentationKey(rep, param);
    bool encapsulated = px != nullptr && DcmXfer(rep).isEncapsulated();
    (void)xfer;
    if (encapsulated)
        rc = layout_encapsulated_pixels(item, px, rep, path, where, pe, err);
    else
        rc = layout_native_pixels(item, e, path, where, pe, err);
    if (rc)
        return rc;
    bind_image_pixel_module(pe, item);
    out.push_back(std::move(pe));
    return 0;
}

/* Float (OF) or Double Float (OD) Pixel Data: one segment per frame. */
int layout_float_pixels(DcmItem &item, const DcmTagKey &tag, unsigned word, std::vector<ProtectedElement> &out,
                        cm_error *err)
{
    DcmElement *e = nullptr;
    if (item.findAndGetElement(tag, e, OFFalse).bad() || e == nullptr)
        return 0;
    std::string path = tag_hex(tag);
    std::string where = (word == 4 ? "Float Pixel Data " : "Double Float Pixel Data ") + path;
    ImageGeometry g;
    int rc = read_image_geometry(item, where, false, g, err);
    if (rc)
        return rc;
    uint64_t frame_bytes = g.rows;
    bool ok = mul_checked(frame_bytes, g.cols) && mul_checked(frame_bytes, word);
    uint64_t expected = frame_bytes;
    ok = ok && mul_checked(expected, g.frames);
    if (!ok || expected > kMaxValueBytes)
        return cm_fail(err, CM_DICOM_EGEOMETRY, "%s: Rows x Columns x Frames x %u exceeds 4 GiB", where.c_str(),
                          word);
    uint8_t *data;
    size_t len;
    if ((rc = element_bytes(e, where, data, len, err)))
        return rc;
    char formula[128];
    snprintf(formula, sizeof formula, "Rows %u x Columns %u x Frames %llu x %u", g.rows, g.cols,
             (unsigned long long)g.frames, word);
    if ((rc = check_length(where, expected, len, formula, err)))
        return rc;
    ProtectedElement pe;
    pe.path = path;
    pe.vr = DcmVR(e->getVR()).getVRName();
    pe.word_bytes = word;
    pe.length = len;
    cut_frames(pe, data, len, g.frames, frame_bytes);
    bind_image_pixel_module(pe, item);
    out.push_back(std::move(pe));
    return 0;
}

/* Overlay Data (60xx,3000): bit-packed planes, one segment. */
int layout_overlays(DcmItem &item, std::vector<ProtectedElement> &out, cm_error *err)
{
    for (Uint16 group = 0x6000; group <= 0x601E; group += 2) {
        DcmTagKey tag(group, 0x3000);
        DcmElement *e = nullptr;
        if (item.findAndGetElement(tag, e, OFFalse).bad() || e == nullptr)
            continue;
        std::string path = tag_hex(tag);
        std::string where = "Overlay Data " + path;
        Uint16 rows = 0, cols = 0;
        uint64_t frames = 1;
        int rc;
        if ((rc = get_u16(item, DcmTagKey(group, 0x0010), "Overlay Rows", true, 0, rows, where, err)) ||
            (rc = get_u16(item, DcmTagKey(group, 0x0011), "Overlay Columns", true, 0, cols, where, err)) ||
            (rc = get_count(item, DcmTagKey(group, 0x0015), "Number of Frames in Overlay", frames, err)))
            return rc;
        uint64_t bits = rows;
        if (!mul_checked(bits, cols) || !mul_checked(bits, frames) || (bits + 7) / 8 > kMaxValueBytes)
            return cm_fail(err, CM_DICOM_EGEOMETRY, "%s: Overlay Rows x Columns x Frames exceeds 4 GiB",
                              where.c_str());
        uint8_t *data;
        size_t len;
        if ((rc = element_bytes(e, where, data, len, err)))
            return rc;
        char formula[128];
        snprintf(formula, sizeof formula, "Overlay Rows %u x Columns %u x Frames %llu / 8", rows, cols,
                 (unsigned long long)frames);
        if ((rc = check_length(where, (bits + 7) / 8, len, formula, err)))
            return rc;
        ProtectedElement pe;
        pe.path = path;
        pe.vr = DcmVR(e->getVR()).getVRName();
        pe.word_bytes = 1;
        pe.length = len;
        pe.segments.push_back({data, len});
        bind_attributes(pe, item,
                        {DcmTagKey(group, 0x0010), DcmTagKey(group, 0x0011), DcmTagKey(group, 0x0015),
                         DcmTagKey(group, 0x0040), DcmTagKey(group, 0x0050), DcmTagKey(group, 0x0100),
                         DcmTagKey(group, 0x0102)});
        out.push_back(std::move(pe));
    }
    return 0;
}

/* Waveform Data (5400,1010) inside each Waveform Sequence item: one segment per item. */
int layout_waveforms(DcmItem &ds, std::vector<ProtectedElement> &out, cm_error *err)
{
    DcmSequenceOfItems *seq = nullptr;
    if (ds.findAndGetSequence(DCM_WaveformSequence, seq).bad() || seq == nullptr)
        return 0;
    unsigned long i = 0;
    for (DcmItem *item = next_item(*seq, nullptr); item != nullptr; item = next_item(*seq, item), ++i) {
        DcmElement *e = nullptr;
        if (item->findAndGetElement(DCM_WaveformData, e, OFFalse).bad() || e == nullptr)
            continue;
        char pbuf[CM_DICOM_PATH_MAX];
        snprintf(pbuf, sizeof pbuf, "%s/%lu/%s", tag_hex(DCM_WaveformSequence).c_str(), i,
                 tag_hex(DCM_WaveformData).c_str());
        std::string where = std::string("Waveform Data ") + pbuf;
        Uint16 bits = 0, channels = 0;
        Uint32 samples = 0;
        int rc;
        if ((rc = get_u16(*item, DCM_WaveformBitsAllocated, "Waveform Bits Allocated", true, 0, bits, where, err)) ||
            (rc = get_u16(*item, DCM_NumberOfWaveformChannels, "Number of Waveform Channels", true, 0, channels,
                          where, err)))
            return rc;
        if (item->findAndGetUint32(DCM_NumberOfWaveformSamples, samples).bad())
            return cm_fail(err, CM_DICOM_EGEOMETRY, "%s present but Number of Waveform Samples is missing",
                              where.c_str());
        if (bits != 8 && bits != 16 && bits != 32 && bits != 64)
            return cm_fail(err, CM_DICOM_EUNSUPPORTED, "%s: Waveform Bits Allocated %u is not supported",
                              where.c_str(), bits);
        uint64_t expected = channels;
        if (!mul_checked(expected, samples) || !mul_checked(expected, bits / 8u) || expected > kMaxValueBytes)
            return cm_fail(err, CM_DICOM_EGEOMETRY, "%s: Channels x Samples x Bits exceeds 4 GiB", where.c_str());
        uint8_t *data;
        size_t len;
        if ((rc = element_bytes(e, where, data, len, err)))
            return rc;
        char formula[128];
        snprintf(formula, sizeof formula, "Channels %u x Samples %u x Waveform Bits Allocated %u / 8", channels,
                 samples, bits);
        if ((rc = check_length(where, expected, len, formula, err)))
            return rc;
        ProtectedElement pe;
        pe.path = pbuf;
        pe.vr = DcmVR(e->getVR()).getVRName();
        pe.word_bytes = len % (bits / 8u) == 0 ? bits / 8u : 1u;
        pe.length = len;
        pe.segments.push_back({data, len});
        bind_attributes(pe, *item,
                        {DCM_NumberOfWaveformChannels, DCM_NumberOfWaveformSamples, DCM_SamplingFrequency,
                         DCM_WaveformBitsAllocated, DCM_WaveformSampleInterpretation});
        out.push_back(std::move(pe));
    }
    return 0;
}

/* Icon Image Sequence (0088,0200): the pixels of each icon, native or encapsulated. */
int layout_icons(DcmItem &ds, E_TransferSyntax xfer, std::vector<ProtectedElement> &out, cm_error *err)
{
    DcmSequenceOfItems *seq = nullptr;
    if (ds.findAndGetSequence(DCM_IconImageSequence, seq).bad() || seq == nullptr)
        return 0;
    unsigned long i = 0;
    for (DcmItem *item = next_item(*seq, nullptr); item != nullptr; item = next_item(*seq, item), ++i) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "%s/%lu/", tag_hex(DCM_IconImageSequence).c_str(), i);
        int rc = layout_pixel_data(*item, xfer, prefix, out, err);
        if (rc)
            return rc;
    }
    return 0;
}

/* Format 2: consecutive units (frames, fragments) of one element grouped into segments of
 * at least kMinSegmentBytes, so the cost of an object grows with its bytes, not with its frame
 * count.  Adjacent units stay one contiguous range; fragments are gathered. */
void group_segments(ProtectedElement &pe)
{
    if (pe.segments.size() <= 1)
        return;
    std::vector<Segment> out;
    Segment cur{nullptr, 0, {}};
    bool open = false;
    for (const Segment &s : pe.segments) {
        if (!open) {
            cur = s;
            open = true;
        } else if (s.len > 0) {
            if (cur.pieces.empty() && cur.len > 0 && cur.data + cur.len == s.data) {
                cur.len += s.len;
            } else {
                if (cur.pieces.empty() && cur.len > 0)
                    cur.pieces.push_back({cur.data, cur.len});
                cur.pieces.push_back({s.data, s.len});
                cur.data = nullptr;
                cur.len += s.len;
            }
        }
        if (cur.len >= kMinSegmentBytes) {
            out.push_back(cur);
            open = false;
        }
    }
    if (open)
        out.push_back(cur);
    pe.segments.swap(out);
}

} // namespace

int layout_collect(DcmItem &ds, E_TransferSyntax xfer, unsigned block_version, std::vector<ProtectedElement> &out,
                   cm_error *err)
{
    out.clear();
    int rc;
    if ((rc = layout_icons(ds, xfer, out, err)) || (rc = layout_waveforms(ds, out, err)) ||
        (rc = layout_overlays(ds, out, err)) || (rc = layout_float_pixels(ds, DCM_FloatPixelData, 4, out, err)) ||
        (rc = layout_float_pixels(ds, DCM_DoubleFloatPixelData, 8, out, err)) ||
        (rc = layout_pixel_data(ds, xfer, "", out, err)))
        return rc;
    if (out.size() > kMaxProtectedElements)
        return cm_fail(err, CM_DICOM_EUNSUPPORTED,
                          "%zu pixel-bearing elements (icons, waveforms, overlays); at most %zu are handled", out.size(),
                          kMaxProtectedElements);
    for (ProtectedElement &pe : out) {
        if (block_version >= 2)
            group_segments(pe);
        for (const Segment &s : pe.segments)
            if (s.len % pe.word_bytes != 0)
                return cm_fail(err, CM_DICOM_EINTERNAL, "%s: segment of %zu bytes is not whole %u-byte words",
                                  pe.path.c_str(), s.len, pe.word_bytes);
    }
    return 0;
}

} // namespace chaosmask
