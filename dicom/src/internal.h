/* internal.h - what the files of dicom/src share: the error helper, the protected-element
 * layout (one walker for every pixel-bearing element) and the private block. */
#ifndef CHAOSMASK_DICOM_INTERNAL_H
#define CHAOSMASK_DICOM_INTERNAL_H

#include "chaosmask/dicom.h"

#include "bind.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcsequen.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

/* One object in memory (dicom.h): the bytes as read and DCMTK's parse of them. */
struct cm_dicom_object {
    std::unique_ptr<uint8_t[]> bytes; /* as read; released once not needed */
    size_t len = 0;
    DcmFileFormat ff;
    E_EncodingType enc = EET_ExplicitLength;   /* how sequences were encoded, to write them alike */
    E_TransferSyntax out_xfer = EXS_Unknown;   /* what it is written in */
    bool bare = false;                         /* parsed from a bare data set: no meta header */
    bool xfer_changed = false;                 /* decoded after a compression: meta updated on write */
    uint64_t max_bytes = CM_DICOM_DEFAULT_MAX_BYTES; /* the limits' max_bytes it was parsed with */
};

namespace chaosmask {

/* The elements of an item and the items of a sequence, in order, in linear time: DCMTK's
 * getElement(i) and getItem(i) walk the list from its start on every call, so a loop over
 * them is quadratic (an object of 100,000 empty elements kept a single walk busy for most of
 * a minute).  nextInContainer continues from the list's cursor; a loop body must not search
 * the same container (that moves the cursor and makes the next step search again). */
inline DcmElement *next_element(DcmItem &item, const DcmElement *prev)
{
    return static_cast<DcmElement *>(item.nextInContainer(prev));
}
inline DcmItem *next_item(DcmSequenceOfItems &sq, const DcmItem *prev)
{
    return static_cast<DcmItem *>(sq.nextInContainer(prev));
}

/* What DCMTK 3.6.7 makes of the two VR bytes of an explicit VR element (DcmVR::setVR: exact
 * names, internal ones excluded; other upper-case pairs are "future" VRs with a 4-byte length,
 * anything else an illegal VR with a 2-byte length).  The structure check (precheck.cpp) reads
 * headers with it; tests/dicom/test_precheck.cpp compares it with DcmVR for all 65536 pairs. */
enum class VrKind : uint8_t {
    Sequence,    /* SQ */
    Unknown,     /* UN and unknown upper-case VRs: undefined length = sequence (CP-246) */
    OtherBinary, /* OB, OW, ox: Pixel and Overlay Data may be encapsulated */
    PixelData,   /* px: always DcmPixelData */
    Illegal,     /* na, pi: DCMTK refuses the element */
    Plain,       /* everything else: a value and nothing more */
};
struct VrInfo {
    VrKind kind;
    bool long_length; /* 2 reserved bytes and a 4-byte length field */
};
VrInfo classify_vr(uint8_t c1, uint8_t c2);

/* A contiguous range of value bytes. */
struct Piece {
    uint8_t *data;
    size_t len;
};

/* One engine segment: a frame, a fragment, an overlay plane, a waveform multiplex group; in
 * format 2 consecutive ones grouped to at least 64 KiB.  Contiguous bytes [data, data+len),
 * or, when gathered from several fragments, pieces (data is then NULL). */
struct Segment {
    uint8_t *data;
    size_t len;
    std::vector<Piece> pieces{};
};

/* One protected element: where it is, how it is cut into segments. */
struct ProtectedElement {
    std::string path;      /* "7FE00010", "00880200/0/7FE00010" */
    std::string vr;
    bool encapsulated = false;
    unsigned word_bytes = 1;
    uint64_t length = 0;   /* bytes masked (sum of segment lengths) */
    std::string bound;     /* attributes and offset tables the object tag also covers */
    std::vector<Segment> segments;
    /* native Pixel Data only: what the already-a-mask test needs */
    bool native_pixels = false;
    unsigned bits_stored = 0, high_bit = 0;
    bool is_signed = false;
};

/* DICOM value lengths are 32-bit; an even length below 0xFFFFFFFF is the most a value holds. */
const uint64_t kMaxValueBytes = 0xFFFFFFFEull;

/* The attributes that describe an image's pixels, as the Pixel Data's own item gives them. */
struct ImageGeometry {
    Uint16 rows = 0, cols = 0, spp = 1, bits_alloc = 0, bits_stored = 0, high_bit = 0;
    uint64_t frames = 1;
    OFString photometric;
};

/* Rows, Columns, Number of Frames (and, with need_bits, Samples per Pixel and the bits) of item,
 * checked (sizes above zero, supported bits and samples); messages name where. */
int read_image_geometry(DcmItem &item, const std::string &where, bool need_bits, ImageGeometry &g,
                        cm_error *err);

/* Finds and validates every protected element of ds (in tag order); an empty list is not an
 * error.  Values are loaded into memory and handed out as little-endian words. */
int layout_collect(DcmItem &ds, E_TransferSyntax xfer, unsigned block_version, std::vector<ProtectedElement> &out,
                   cm_error *err);

/* The fields of the private block (docs/private-block.md). */
struct PrivateBlock {
    uint16_t slot = 0;                 /* bb of (0099,bbxx) */
    uint32_t block_version = 0;
    uint32_t engine_version = 0;
    std::string profile;
    std::string key_id;
    std::vector<uint8_t> nonce;
    std::string transfer_syntax;
    std::vector<std::string> paths;
    std::vector<uint32_t> lengths;
    std::vector<uint16_t> word_bytes;
    std::vector<uint32_t> segment_counts;
    std::vector<uint8_t> segment_tags;
    std::vector<uint8_t> object_tag;
    /* format 2 */
    std::vector<DcmTagKey> bound_tags;
    std::vector<uint8_t> bound_digests;
    std::vector<uint8_t> identity_digests;
    std::vector<uint8_t> marked_originals;
};

/* 0 and the slot when ds carries one ChaosMask block, CM_DICOM_ENOTENCRYPTED when none,
 * CM_DICOM_EBLOCK when several. */
int block_find(DcmItem &ds, uint16_t *slot);
/* The key-ring id syntax: [A-Za-z0-9._-], 1..63 characters, not starting with '.'. */
bool key_id_syntax_ok(const std::string &id);
/* Reads and checks the shape of every field; CM_DICOM_EBLOCK or CM_DICOM_EUNSUPPORTED. */
int block_read(DcmItem &ds, uint16_t slot, PrivateBlock &block, cm_error *err);
/* A free slot (no creator and no element in it); CM_DICOM_EUNSUPPORTED when all are used. */
int block_free_slot(DcmItem &ds, uint16_t *slot, cm_error *err);
/* Inserts the creator and every field at block.slot. */
int block_write(DcmItem &ds, const PrivateBlock &block, cm_error *err);
/* Removes the creator and every element of the block. */
void block_remove(DcmItem &ds, uint16_t slot);
/* The associated data of the object tag: every field but the object tag, the SOP Instance
 * UID (the key-derivation context) and the length of every segment, in a fixed encoding. */
std::vector<uint8_t> block_aad(const PrivateBlock &block, const std::string &context,
                               const std::vector<ProtectedElement> &layout);

} // namespace chaosmask

#endif
