/* test_precheck.cpp HOSTILE_DIR - the structure check of dicom_precheck.h.
 *
 *  1. Its reading of VR bytes equals DCMTK's (DcmVR) for all 65536 pairs.
 *  2. The files of tests/dicom/make_hostile.py: exact codes, messages naming depth, offset, tag.
 *  3. Objects built here: every container and delimiter rule, implicit VR decisions, encapsulated
 *     pixel data, CP-246, DCMTK's reading options, deflate, limits counted exactly.
 *  4. Every file of pydicom's test_files: no crash; each one DCMTK reads (loadFile +
 *     loadAllDataIntoMemory) passes; and every prefix of a few of them is handled.
 * Prints what it checks; exits 1 on the first failure. */
#include "chaosmask/dicom_dataset.h"
#include "chaosmask/dicom_precheck.h"
#include "internal.h"

#include "../check.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcobject.h>
#include <dcmtk/dcmdata/dcvr.h>

#include <zlib.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <string>
#include <sys/stat.h>
#include <vector>

namespace {

using Bytes = std::vector<uint8_t>;
const uint32_t kUndef = 0xFFFFFFFFu;
const char *kPydicom = "/usr/lib/python3/dist-packages/pydicom/data/test_files";

Bytes read_file(const std::string &path)
{
    Bytes b;
    FILE *f = fopen(path.c_str(), "rb");
    if (f == nullptr)
        return b;
    uint8_t buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        b.insert(b.end(), buf, buf + n);
    fclose(f);
    return b;
}

/* Writes elements in one encoding. */
struct Enc {
    bool explicit_vr = true;
    bool big = false;

    void u16(Bytes &b, uint16_t v) const
    {
        if (big)
            b.insert(b.end(), {uint8_t(v >> 8), uint8_t(v)});
        else
            b.insert(b.end(), {uint8_t(v), uint8_t(v >> 8)});
    }
    void u32(Bytes &b, uint32_t v) const
    {
        if (big)
            b.insert(b.end(), {uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)});
        else
            b.insert(b.end(), {uint8_t(v), uint8_t(v >> 8), uint8_t(v >> 16), uint8_t(v >> 24)});
    }
    static bool long_vr(const char *vr)
    {
        static const char *const longs[] = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV",
                                            "UC", "UN", "UR", "UT", "UV", "ZZ", "ox", "px"};
        for (const char *l : longs)
            if (strncmp(vr, l, 2) == 0)
                return true;
        return false;
    }
    Bytes header(uint16_t g, uint16_t e, const char *vr, uint32_t len) const
    {
        Bytes b;
        u16(b, g);
        u16(b, e);
        if (!explicit_vr) {
            u32(b, len);
        } else if (long_vr(vr)) {
            b.insert(b.end(), {uint8_t(vr[0]), uint8_t(vr[1]), 0, 0});
            u32(b, len);
        } else {
            b.insert(b.end(), {uint8_t(vr[0]), uint8_t(vr[1])});
            u16(b, static_cast<uint16_t>(len));
        }
        return b;
    }
    Bytes elem(uint16_t g, uint16_t e, const char *vr, const std::string &value) const
    {
        Bytes b = header(g, e, vr, static_cast<uint32_t>(value.size()));
        b.insert(b.end(), value.begin(), value.end());
        return b;
    }
    Bytes tagged(uint16_t e, uint32_t len) const
    {
        Bytes b;
        u16(b, 0xFFFE);
        u16(b, e);
        u32(b, len);
        return b;
    }
    Bytes item(uint32_t len) const { return tagged(0xE000, len); }
    Bytes item_end() const { return tagged(0xE00D, 0); }
    Bytes seq_end() const { return tagged(0xE0DD, 0); }
};

const Enc kExplicitLE{true, false};
const Enc kImplicitLE{false, false};
const Enc kExplicitBE{true, true};

Bytes cat(std::initializer_list<Bytes> parts)
{
    Bytes b;
    for (const Bytes &p : parts)
        b.insert(b.end(), p.begin(), p.end());
    return b;
}

Bytes repeat(const Bytes &b, size_t n)
{
    Bytes out;
    out.reserve(b.size() * n);
    for (size_t i = 0; i < n; ++i)
        out.insert(out.end(), b.begin(), b.end());
    return out;
}

/* depth nested (gggg,eeee) sequences of one undefined-length item each; vr as given (explicit). */
Bytes nest(const Enc &enc, size_t depth, uint16_t g = 0x0040, uint16_t e = 0xA730, const char *vr = "SQ")
{
    Bytes head = cat({enc.header(g, e, vr, kUndef), enc.item(kUndef)});
    Bytes tail = cat({enc.item_end(), enc.seq_end()});
    return cat({repeat(head, depth), enc.elem(0x0008, 0x0100, "SH", "LEAF"), repeat(tail, depth)});
}

/* The same with defined lengths. */
Bytes nest_defined(const Enc &enc, size_t depth, uint16_t g = 0x0040, uint16_t e = 0xA730)
{
    Bytes content = enc.elem(0x0008, 0x0100, "SH", "LEAF");
    for (size_t i = 0; i < depth; ++i) {
        Bytes item = cat({enc.item(static_cast<uint32_t>(content.size())), content});
        content = cat({enc.header(g, e, "SQ", static_cast<uint32_t>(item.size())), item});
    }
    return content;
}

Bytes raw_deflate(const Bytes &in)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    CHECK(deflateInit2(&z, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    Bytes out(deflateBound(&z, in.size()) + 16);
    z.next_in = const_cast<Bytef *>(in.data());
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = out.data();
    z.avail_out = static_cast<uInt>(out.size());
    CHECK(deflate(&z, Z_FINISH) == Z_STREAM_END);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

/* Preamble, DICM and an explicit VR little endian meta group naming ts. */
Bytes part10(const std::string &ts, const Bytes &dataset)
{
    std::string uid = ts;
    if (uid.size() % 2)
        uid += '\0';
    Bytes meta = cat({kExplicitLE.elem(0x0002, 0x0001, "OB", std::string("\0\1", 2)),
                      kExplicitLE.elem(0x0002, 0x0010, "UI", uid)});
    Bytes gl;
    kExplicitLE.u32(gl, static_cast<uint32_t>(meta.size()));
    Bytes b(128, 0);
    b.insert(b.end(), {'D', 'I', 'C', 'M'});
    return cat({b, kExplicitLE.elem(0x0002, 0x0000, "UL", std::string(gl.begin(), gl.end())), meta, dataset});
}

const std::string kExplicitLEUid = "1.2.840.10008.1.2.1";
const std::string kImplicitLEUid = "1.2.840.10008.1.2";
const std::string kExplicitBEUid = "1.2.840.10008.1.2.2";
const std::string kDeflateUid = "1.2.840.10008.1.2.1.99";
const std::string kJpegLosslessUid = "1.2.840.10008.1.2.4.70";

cm_dicom_limits defaults()
{
    cm_dicom_limits lim;
    cm_dicom_limits_default(&lim);
    return lim;
}

int check_file(const Bytes &b, cm_error *err, const cm_dicom_limits *lim = nullptr)
{
    return cm_dicom_precheck_file(b.data(), b.size(), lim, err);
}

int check_dataset(const Bytes &b, const std::string &ts, cm_error *err, const cm_dicom_limits *lim = nullptr)
{
    return cm_dicom_precheck_dataset(b.data(), b.size(), ts.c_str(), lim, err);
}

/* The code is want and the message contains every fragment. */
void expect(const char *what, int rc, const cm_error &err, int want, std::initializer_list<const char *> fragments = {})
{
    if (rc != want || err.code != want) {
        fprintf(stderr, "%s: expected %d, got %d (err.code %d): %s\n", what, want, rc, err.code, err.msg);
        exit(1);
    }
    for (const char *f : fragments)
        if (strstr(err.msg, f) == nullptr) {
            fprintf(stderr, "%s: message lacks '%s': %s\n", what, f, err.msg);
            exit(1);
        }
    printf("ok %s -> %d%s%s\n", what, rc, rc ? ": " : "", err.msg);
}

/* 1. classify_vr against DcmVR for every pair of bytes. */
void test_vr_table()
{
    unsigned checked = 0;
    for (unsigned c1 = 0; c1 < 256; ++c1)
        for (unsigned c2 = 0; c2 < 256; ++c2) {
            const char s[3] = {char(c1), char(c2), 0};
            DcmVR vr(s);
            chaosmask::VrInfo mine = chaosmask::classify_vr(uint8_t(c1), uint8_t(c2));
            chaosmask::VrKind want;
            switch (vr.getEVR()) {
            case EVR_SQ: want = chaosmask::VrKind::Sequence; break;
            case EVR_UN:
            case EVR_UNKNOWN: want = chaosmask::VrKind::Unknown; break;
            case EVR_OB:
            case EVR_OW:
            case EVR_ox: want = chaosmask::VrKind::OtherBinary; break;
            case EVR_px: want = chaosmask::VrKind::PixelData; break;
            case EVR_na:
            case EVR_pixelItem: want = chaosmask::VrKind::Illegal; break;
            default: want = chaosmask::VrKind::Plain; break;
            }
            if (mine.kind != want) {
                fprintf(stderr, "VR %02X %02X: kind %d, DCMTK says %s\n", c1, c2, int(mine.kind), vr.getVRName());
                exit(1);
            }
            /* DCMTK reads the length of "na" without the reserved bytes: refused either way */
            if (want != chaosmask::VrKind::Illegal && mine.long_length != bool(vr.usesExtendedLengthEncoding())) {
                fprintf(stderr, "VR %02X %02X: length field %d, DCMTK says %d\n", c1, c2, mine.long_length,
                        int(vr.usesExtendedLengthEncoding()));
                exit(1);
            }
            ++checked;
        }
    printf("ok VR bytes read as DCMTK reads them (%u pairs)\n", checked);
}

/* Where the data set of a make_hostile.py file starts: after the meta group it describes. */
size_t dataset_start(const Bytes &f)
{
    return 132 + 12 + (f[140] | f[141] << 8 | f[142] << 16 | uint32_t(f[143]) << 24);
}

/* 2. The files of make_hostile.py. */
void test_hostile(const std::string &dir)
{
    const size_t base = 92;  /* the three elements before the nesting */
    cm_error err;
    cm_dicom_limits lim = defaults();
    struct Deep {
        const char *name;
        size_t level_bytes;   /* header bytes of a sequence and its item */
        size_t extra;         /* bytes before the first such level */
        const char *note;
        unsigned levels;      /* nesting in the whole file */
    } deep[] = {
        {"deep_explicit_undefined.dcm", 20, 0, "", 20000},
        {"deep_explicit_defined.dcm", 20, 0, "", 20000},
        {"deep_implicit.dcm", 16, 0, "", 20000},
        {"deep_bigendian.dcm", 20, 0, "", 20000},
        {"deep_deflate.dcm", 20, 0, " of the inflated data set", 20000},
        {"deep_un_cp246.dcm", 16, 20 - 16, "", 20001}, /* the UN sequence itself, then 20,000 */
        {"deep_wrong_lengths.dcm", 20, 0, "", 20000},  /* read on past ends as DCMTK does */
    };
    for (const Deep &d : deep) {
        Bytes f = read_file(dir + "/" + d.name);
        CHECK(!f.empty());
        size_t at = base + 32 * d.level_bytes + d.extra;
        if (strcmp(d.name, "deep_deflate.dcm") != 0)
            at += dataset_start(f);
        char want[160];
        snprintf(want, sizeof want, "sequence nesting deeper than 32 levels at byte offset %zu%s (tag (0040,A730)); "
                 "raise [dicom] max_depth", at, d.note);
        auto t0 = std::chrono::steady_clock::now();
        int rc = check_file(f, &err);
        double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        expect(d.name, rc, err, CM_DICOM_ESTRUCTURE, {want});
        CHECK(ms < 1000);
        /* with room for every level the structure itself is sound: depth is counted exactly */
        cm_dicom_limits deep_lim = lim;
        deep_lim.max_depth = d.levels;
        expect(d.name, check_file(f, &err, &deep_lim), err, 0);
        deep_lim.max_depth = d.levels - 1;
        char want_less[64];
        snprintf(want_less, sizeof want_less, "deeper than %u levels", d.levels - 1);
        expect(d.name, check_file(f, &err, &deep_lim), err, CM_DICOM_ESTRUCTURE, {want_less});
    }

    Bytes d33 = read_file(dir + "/depth_33.dcm"), d32 = read_file(dir + "/depth_32.dcm");
    char want33[96];
    snprintf(want33, sizeof want33, "deeper than 32 levels at byte offset %zu ", dataset_start(d33) + base + 32 * 20);
    expect("depth_33.dcm", check_file(d33, &err), err, CM_DICOM_ESTRUCTURE, {want33});
    expect("depth_32.dcm", check_file(d32, &err), err, 0);
    lim.max_depth = 31;
    expect("depth_32.dcm, max_depth 31", check_file(d32, &err, &lim), err, CM_DICOM_ESTRUCTURE, {"deeper than 31"});
    lim = defaults();
    DcmFileFormat ff;
    CHECK(ff.loadFile((dir + "/depth_32.dcm").c_str()).good());
    printf("ok depth_32.dcm is read by DCMTK too\n");

    Bytes many = read_file(dir + "/many_elements.dcm");
    expect("many_elements.dcm", check_file(many, &err), err, CM_DICOM_ESTRUCTURE,
           {"more than 1000000 data elements and items at byte offset", "of the inflated data set (tag (FFFE,E000))",
            "raise [dicom] max_elements"});
    /* 6 meta elements, 3 + 1 in the data set, 2,000,000 items: counted exactly */
    lim.max_elements = 2000010;
    expect("many_elements.dcm, max_elements 2000010", check_file(many, &err, &lim), err, 0);
    lim.max_elements = 2000009;
    expect("many_elements.dcm, max_elements 2000009", check_file(many, &err, &lim), err, CM_DICOM_ESTRUCTURE,
           {"more than 2000009"});
    lim = defaults();

    Bytes past = read_file(dir + "/value_past_end.dcm");
    char want_past[128];
    snprintf(want_past, sizeof want_past, "truncated: element (7FE0,0010) at byte offset %zu claims 524288 bytes but "
             "30000 remain", dataset_start(past) + base);
    expect("value_past_end.dcm", check_file(past, &err), err, CM_DICOM_EINPUT, {want_past});

    Bytes item_past = read_file(dir + "/item_past_sequence.dcm");
    char want_item[160];
    snprintf(want_item, sizeof want_item, "malformed: item at byte offset %zu claims 100 bytes but 12 remain in its "
             "sequence (0009,1010) at byte offset %zu", dataset_start(item_past) + base + 8,
             dataset_start(item_past) + base);
    expect("item_past_sequence.dcm", check_file(item_past, &err), err, CM_DICOM_EINPUT, {want_item});
    expect("item_past_sequence_sq.dcm (DCMTK reads on)", check_file(read_file(dir + "/item_past_sequence_sq.dcm"), &err),
           err, 0);
    CHECK(ff.loadFile((dir + "/item_past_sequence_sq.dcm").c_str()).good());

    Bytes bomb = read_file(dir + "/deflate_bomb.dcm");
    CHECK(bomb.size() < 100000);
    expect("deflate_bomb.dcm", check_file(bomb, &err), err, CM_DICOM_EINPUT,
           {"truncated: element (0009,1010)", "claims 4294967280 bytes but 67108864 remain"});
    lim.max_bytes = 1 << 20;
    expect("deflate_bomb.dcm, max_bytes 1 MiB", check_file(bomb, &err, &lim), err, CM_DICOM_ESTRUCTURE,
           {"the data set inflates to more than 1048576 bytes; raise [dicom] max_object_size"});
    lim = defaults();

    expect("garbage_after.dcm", check_file(read_file(dir + "/garbage_after.dcm"), &err), err, CM_DICOM_EINPUT,
           {"(FFFF,FFFF)"});
    expect("short_garbage_after.dcm", check_file(read_file(dir + "/short_garbage_after.dcm"), &err), err,
           CM_DICOM_EINPUT, {"truncated: an element header", "needs 8 bytes but 5 remain"});
    expect("valid_small.dcm", check_file(read_file(dir + "/valid_small.dcm"), &err), err, 0);
}

/* 3. Objects built here. */
void test_constructions()
{
    cm_error err;
    cm_dicom_limits lim = defaults();
    const Enc &le = kExplicitLE;
    const Bytes sop = le.elem(0x0008, 0x0018, "UI", "1.2.3.4");

    /* containers and delimiters */
    expect("empty data set", check_dataset({}, kExplicitLEUid, &err), err, 0);
    expect("odd value length", check_dataset(le.elem(0x0010, 0x0010, "PN", "ABC"), kExplicitLEUid, &err), err, 0);
    /* DCMTK ends the data set at an item delimitation and never reads what follows */
    expect("item delimitation at the top", check_dataset(cat({sop, le.item_end(), Bytes(7, 0xFF)}), kExplicitLEUid,
                                                         &err),
           err, 0);
    expect("item where an element belongs", check_dataset(cat({sop, le.item(0)}), kExplicitLEUid, &err), err,
           CM_DICOM_EINPUT, {"item (FFFE,E000) at byte offset 15 where a data element was expected"});
    expect("sequence delimitation at the top", check_dataset(cat({sop, le.seq_end()}), kExplicitLEUid, &err), err,
           CM_DICOM_EINPUT, {"sequence delimitation (FFFE,E0DD)"});
    /* DCMTK ends a defined-length sequence at a sequence delimitation too, and an item at an
     * item delimitation; a value that may be a sequence or not must be exact */
    expect("sequence delimitation in a defined-length sequence",
           check_dataset(cat({le.header(0x0040, 0xA730, "SQ", 16), le.seq_end(), sop}), kExplicitLEUid, &err), err, 0);
    expect("sequence delimitation in a private implicit value",
           check_dataset(cat({kImplicitLE.header(0x0009, 0x1010, "", 8), kImplicitLE.seq_end()}), kImplicitLEUid,
                         &err),
           err, CM_DICOM_EINPUT, {"inside the sequence (0009,1010) at byte offset 0, which has a defined length"});
    expect("item delimitation in a defined-length item",
           check_dataset(cat({le.header(0x0040, 0xA730, "SQ", 16), le.item(8), le.item_end(), sop}), kExplicitLEUid,
                         &err),
           err, 0);
    expect("item delimitation in a defined-length item of a private implicit value",
           check_dataset(cat({kImplicitLE.header(0x0009, 0x1010, "", 24), kImplicitLE.item(16),
                              kImplicitLE.item_end(), kImplicitLE.elem(0x0008, 0x0100, "", "")}),
                         kImplicitLEUid, &err),
           err, CM_DICOM_EINPUT, {"item delimitation (FFFE,E00D) at byte offset 16 inside the item at byte offset 8 of sequence (0009,1010), "
            "which has a defined length"});
    expect("element in a sequence",
           check_dataset(cat({le.header(0x0040, 0xA730, "SQ", kUndef), sop, le.seq_end()}), kExplicitLEUid, &err),
           err, CM_DICOM_EINPUT, {"(0008,0018) at byte offset 12 where an item was expected"});
    expect("unterminated sequence",
           check_dataset(cat({le.header(0x0040, 0xA730, "SQ", kUndef), le.item(0)}), kExplicitLEUid, &err), err,
           CM_DICOM_EINPUT, {"the data ends at byte offset 20 inside the sequence (0040,A730)"});
    expect("unterminated item",
           check_dataset(cat({le.header(0x0040, 0xA730, "SQ", kUndef), le.item(kUndef), sop}), kExplicitLEUid, &err),
           err, CM_DICOM_EINPUT, {"the data ends at byte offset 35 inside the sequence (0040,A730)"});
    expect("sequence whose value starts at the end of the data (DCMTK reads it as empty)",
           check_dataset(cat({sop, le.header(0x0040, 0xA730, "SQ", kUndef)}), kExplicitLEUid, &err), err, 0);
    expect("defined-length item cut by the end of its sequence and of the data (DCMTK reads it)",
           check_dataset(cat({le.header(0x0040, 0xA730, "SQ", 8 + 15), le.item(100), sop}), kExplicitLEUid, &err), err,
           0);
    Bytes in_item = cat({le.item(10), sop});
    expect("element past its item (DCMTK refuses it)",
           check_dataset(cat({le.header(0x0040, 0xA730, "SQ", static_cast<uint32_t>(in_item.size())), in_item}),
                         kExplicitLEUid, &err),
           err, CM_DICOM_EINPUT,
           {"element (0008,0018) at byte offset 20 claims 7 bytes but 2 remain in its item at byte offset 12 of sequence "
            "(0040,A730)"});
    Bytes dir_record = cat({le.header(0x0004, 0x1220, "SQ", static_cast<uint32_t>(in_item.size())), in_item});
    expect("element past its DICOMDIR record (DCMTK reads on)", check_dataset(dir_record, kExplicitLEUid, &err), err, 0);
    Bytes undefined_in_defined = cat({le.item(20), le.header(0x0040, 0xA730, "SQ", kUndef), le.item(kUndef),
                                      le.item_end(), le.seq_end()});
    expect("undefined-length sequence past its item (DCMTK reads on)",
           check_dataset(cat({le.header(0x0040, 0xA730, "SQ", static_cast<uint32_t>(undefined_in_defined.size())),
                              undefined_in_defined}),
                         kExplicitLEUid, &err),
           err, 0);
    /* ... and reading on past wrong lengths still counts every level */
    Bytes wrong;
    for (int i = 0; i < 40; ++i)
        wrong = cat({wrong, le.header(0x0040, 0xA730, "SQ", 8), le.item(kUndef)});
    wrong = cat({wrong, sop, repeat(le.item_end(), 40)});
    expect("sequences shorter than their items, 40 deep", check_dataset(wrong, kExplicitLEUid, &err), err,
           CM_DICOM_ESTRUCTURE, {"deeper than 32 levels at byte offset 640 "});
    Bytes im_undefined_in_defined = cat({kImplicitLE.item(16), kImplicitLE.header(0x0040, 0xA730, "", kUndef),
                                         kImplicitLE.item(kUndef), kImplicitLE.item_end(), kImplicitLE.seq_end()});
    expect("undefined-length sequence past its item in a private implicit value",
           check_dataset(cat({kImplicitLE.header(0x0009, 0x1010, "", static_cast<uint32_t>(
                                                                          im_undefined_in_defined.size())),
                              im_undefined_in_defined}),
                         kImplicitLEUid, &err),
           err, CM_DICOM_EINPUT, {"malformed", "remain in its item at byte offset 8 of sequence (0009,1010)"});
    expect("undefined length on a VR that has none",
           check_dataset(le.header(0x0010, 0x4000, "UT", kUndef), kExplicitLEUid, &err), err, CM_DICOM_EINPUT,
           {"(0010,4000) at byte offset 0 has an undefined length, which VR 'UT' does not allow"});
    expect("VR na", check_dataset(le.header(0x0010, 0x0010, "na", 0), kExplicitLEUid, &err), err, CM_DICOM_EINPUT,
           {"VR 'na'"});
    expect("unknown upper-case VR, undefined: CP-246 sequence",
           check_dataset(cat({le.header(0x0009, 0x1010, "ZZ", kUndef), kImplicitLE.item(kUndef), nest(kImplicitLE, 40),
                              kImplicitLE.item_end(), kImplicitLE.seq_end()}),
                         kExplicitLEUid, &err),
           err, CM_DICOM_ESTRUCTURE, {"deeper than 32"});
    expect("illegal VR with a 2-byte length",
           check_dataset(cat({le.header(0x0009, 0x1010, "z?", 2), Bytes{1, 2}, sop}), kExplicitLEUid, &err), err, 0);

    /* encapsulated pixel data: one level, fragments are values */
    Bytes frag = cat({le.item(4), Bytes{0xFE, 0xFF, 0x00, 0xE0}});
    Bytes pixels = cat({le.header(0x7FE0, 0x0010, "OB", kUndef), le.item(0), frag, frag, le.seq_end()});
    expect("encapsulated pixel data", check_dataset(pixels, kJpegLosslessUid, &err), err, 0);
    Bytes icon = cat({le.header(0x0088, 0x0200, "SQ", kUndef), le.item(kUndef), pixels, le.item_end(), le.seq_end()});
    lim.max_depth = 2;
    expect("pixel data in a sequence at depth 2", check_dataset(icon, kJpegLosslessUid, &err, &lim), err, 0);
    lim.max_depth = 1;
    expect("pixel data in a sequence at depth 1", check_dataset(icon, kJpegLosslessUid, &err, &lim), err,
           CM_DICOM_ESTRUCTURE, {"tag (7FE0,0010)"});
    lim = defaults();
    expect("pixel fragment of undefined length",
           check_dataset(cat({le.header(0x7FE0, 0x0010, "OB", kUndef), le.item(kUndef), le.seq_end()}),
                         kJpegLosslessUid, &err),
           err, CM_DICOM_EINPUT, {"pixel data fragment at byte offset 12 has an undefined length"});
    expect("pixel fragment past the data",
           check_dataset(cat({le.header(0x7FE0, 0x0010, "OB", kUndef), le.item(100), Bytes(10, 0)}), kJpegLosslessUid,
                         &err),
           err, CM_DICOM_EINPUT, {"truncated: pixel data fragment at byte offset 12 claims 100 bytes but 10 remain"});
    Bytes ox = cat({le.header(0x7FE0, 0x0010, "OB", kUndef), le.item(0), le.seq_end()});
    ox[4] = 'O', ox[5] = 'X'; /* read as OW by DCMTK: still encapsulated pixel data */
    expect("Pixel Data with the VR 'OX'", check_dataset(ox, kJpegLosslessUid, &err), err, 0);
    expect("overlay data encapsulated",
           check_dataset(cat({le.header(0x6002, 0x3000, "OW", kUndef), le.item(0), le.seq_end()}), kJpegLosslessUid,
                         &err),
           err, 0);
    expect("undefined-length OB elsewhere", check_dataset(le.header(0x0028, 0x1201, "OW", kUndef), kExplicitLEUid, &err),
           err, CM_DICOM_EINPUT, {"VR 'OW' does not allow"});
    expect("private undefined-length OB: a pixel sequence",
           check_dataset(cat({le.header(0x7FE1, 0x1060, "OB", kUndef), le.item(4), Bytes{1, 2, 3, 4}, le.seq_end()}),
                         kExplicitLEUid, &err),
           err, 0);

    /* CP-246: UN of undefined length is read in implicit VR little endian, also inside big endian */
    Bytes un = cat({kExplicitBE.header(0x0009, 0x1010, "UN", kUndef), kImplicitLE.item(kUndef), nest(kImplicitLE, 40),
                    kImplicitLE.item_end(), kImplicitLE.seq_end()});
    expect("CP-246 sequence in big endian", check_dataset(un, kExplicitBEUid, &err), err, CM_DICOM_ESTRUCTURE,
           {"deeper than 32 levels at byte offset 516 (tag (0040,A730))"});
    lim.max_depth = 41;
    expect("CP-246 sequence in big endian, max_depth 41", check_dataset(un, kExplicitBEUid, &err, &lim), err, 0);
    lim = defaults();

    /* implicit VR: the dictionary decides for public tags; a private value that begins with an
     * item must be one */
    const Enc &im = kImplicitLE;
    Bytes item_bytes = cat({im.item(0)});
    expect("implicit: PN value that begins like an item",
           check_dataset(cat({im.header(0x0010, 0x0010, "", 8), item_bytes}), kImplicitLEUid, &err), err, 0);
    expect("implicit: private value that begins like an item but is none",
           check_dataset(cat({im.header(0x0009, 0x1010, "", 8), im.item(100)}), kImplicitLEUid, &err), err,
           CM_DICOM_EINPUT, {"malformed: item at byte offset 8 claims 100 bytes but 0 remain"});
    expect("implicit: private sequence of defined length, deep",
           check_dataset(nest_defined(im, 40, 0x0009, 0x1010), kImplicitLEUid, &err), err, CM_DICOM_ESTRUCTURE,
           {"tag (0009,1010)"});
    expect("implicit: Content Sequence of defined length, deep",
           check_dataset(nest_defined(im, 40), kImplicitLEUid, &err), err, CM_DICOM_ESTRUCTURE, {"tag (0040,A730)"});
    /* a 4-byte sequence whose item header DCMTK reads across its end, and on into the nesting */
    expect("implicit: short sequence",
           check_dataset(cat({im.header(0x0040, 0xA730, "", 4), im.item(kUndef), nest(im, 40)}), kImplicitLEUid, &err),
           err, CM_DICOM_ESTRUCTURE, {"deeper than 32 levels at byte offset 512 "});
    expect("implicit: short private value that may be a sequence",
           check_dataset(cat({im.header(0x0009, 0x1010, "", 4), im.item(kUndef), nest(im, 40)}), kImplicitLEUid, &err),
           err, CM_DICOM_EINPUT, {"an item header at byte offset 8 needs 8 bytes but 4 remain in its sequence"});
    expect("implicit: 2-byte private value then an E000 group",
           check_dataset(cat({im.header(0x0009, 0x1010, "", 2), Bytes{0xFE, 0xFF}, im.header(0xE000, 0xFFFF, "", 0)}),
                         kImplicitLEUid, &err),
           err, CM_DICOM_EINPUT);
    expect("implicit: undefined-length public non-sequence",
           check_dataset(im.header(0x0010, 0x0010, "", kUndef), kImplicitLEUid, &err), err, CM_DICOM_EINPUT,
           {"undefined length, which its VR does not allow"});
    expect("implicit: undefined-length unknown public tag (CP-246 rules)",
           check_dataset(cat({im.header(0x0018, 0xAAAA, "", kUndef), im.item(0), im.seq_end()}), kImplicitLEUid, &err),
           err, 0);
    expect("implicit: encapsulated pixel data",
           check_dataset(cat({im.header(0x7FE0, 0x0010, "", kUndef), im.item(0), im.seq_end()}), kImplicitLEUid, &err),
           err, 0);

    /* DCMTK's reading options change what is a sequence: followed as DCMTK follows them */
    Bytes un_defined_content = cat({im.item(kUndef), nest(im, 40), im.item_end(), im.seq_end()});
    Bytes un_defined = cat({le.header(0x0040, 0xA730, "UN", static_cast<uint32_t>(un_defined_content.size())),
                            un_defined_content});
    expect("defined-length UN (a value by default)", check_dataset(un_defined, kExplicitLEUid, &err), err, 0);
    dcmEnableUnknownVRConversion.set(OFTrue);
    expect("defined-length UN with dcmEnableUnknownVRConversion", check_dataset(un_defined, kExplicitLEUid, &err), err,
           CM_DICOM_ESTRUCTURE, {"deeper than 32"});
    dcmEnableUnknownVRConversion.set(OFFalse);
    Bytes obow = cat({le.header(0x0028, 0x1201, "OW", kUndef), le.item(kUndef), nest(le, 40), le.item_end(),
                      le.seq_end()});
    dcmConvertUndefinedLengthOBOWtoSQ.set(OFTrue);
    expect("undefined-length OW with dcmConvertUndefinedLengthOBOWtoSQ", check_dataset(obow, kExplicitLEUid, &err),
           err, CM_DICOM_ESTRUCTURE, {"deeper than 32"});
    dcmConvertUndefinedLengthOBOWtoSQ.set(OFFalse);
    /* a private OB of undefined length is a pixel sequence (or refused) by default ... */
    Bytes deep_item = nest_defined(le, 40);
    Bytes private_ob = cat({le.header(0x0009, 0x1010, "OB", kUndef), le.item(static_cast<uint32_t>(deep_item.size())),
                            deep_item, le.seq_end()});
    expect("private undefined-length OB: fragments are values", check_dataset(private_ob, kExplicitLEUid, &err), err,
           0);
    /* ... and a sequence when DCMTK ignores parsing errors */
    dcmIgnoreParsingErrors.set(OFTrue);
    expect("private undefined-length OB with dcmIgnoreParsingErrors", check_dataset(private_ob, kExplicitLEUid, &err),
           err, CM_DICOM_ESTRUCTURE, {"deeper than 32"});
    dcmIgnoreParsingErrors.set(OFFalse);
    Bytes voi = nest_defined(le, 40);
    voi[4] = 'O', voi[5] = 'W', voi[0] = 0x28, voi[1] = 0x00, voi[2] = 0x10, voi[3] = 0x30; /* (0028,3010) OW */
    expect("VOI LUT Sequence as OW (refused later by DCMTK)", check_dataset(voi, kExplicitLEUid, &err), err, 0);
    dcmConvertVOILUTSequenceOWtoSQ.set(OFTrue);
    expect("VOI LUT Sequence as OW with dcmConvertVOILUTSequenceOWtoSQ", check_dataset(voi, kExplicitLEUid, &err), err,
           CM_DICOM_ESTRUCTURE, {"deeper than 32"});
    dcmConvertVOILUTSequenceOWtoSQ.set(OFFalse);
    dcmEnableCP246Support.set(OFFalse);
    Bytes un_explicit = cat({le.header(0x0009, 0x1010, "UN", kUndef), le.item(kUndef), le.elem(0x0008, 0x0100, "SH", "AB"),
                             le.item_end(), le.seq_end()});
    expect("UN sequence in explicit VR without CP-246", check_dataset(un_explicit, kExplicitLEUid, &err), err, 0);
    dcmEnableCP246Support.set(OFTrue);
    expect("UN sequence in explicit VR with CP-246", check_dataset(un_explicit, kExplicitLEUid, &err), err,
           CM_DICOM_EINPUT);

    /* transfer syntaxes */
    expect("unknown transfer syntax", check_dataset(sop, "1.2.3.4.5", &err), err, CM_DICOM_EINPUT,
           {"unknown transfer syntax '1.2.3.4.5'"});
    /* a bare data set's transfer syntax is taken as DcmXfer takes it: no padding */
    expect("padded transfer syntax for a data set", check_dataset(sop, std::string("1.2.840.10008.1.2.1 "), &err), err,
           CM_DICOM_EINPUT, {"unknown transfer syntax"});
    /* in a meta group, DCMTK drops white space anywhere in a UID and stops at a NUL */
    for (const char *uid : {" 1.2.840.10008.1.2.1", "1.2.840.10008.1.2.1 ", "1.2.840.\t10008.1.2.1"}) {
        Bytes spaced = part10(uid, sop);
        expect("white space in the meta group's transfer syntax", check_file(spaced, &err), err, 0);
        DcmFileFormat ff2;
        DcmInputBufferStream in;
        in.setBuffer(spaced.data(), static_cast<offile_off_t>(spaced.size()));
        in.setEos();
        ff2.setReadMode(ERM_fileOnly);
        ff2.transferInit();
        CHECK(ff2.read(in, EXS_Unknown, EGL_noChange).good());
        ff2.transferEnd();
        CHECK(ff2.getDataset()->getOriginalXfer() == EXS_LittleEndianExplicit);
    }
    printf("ok DCMTK reads those transfer syntaxes the same way\n");
    expect("NUL inside the meta group's transfer syntax", check_file(part10(std::string("1.2.840.10008.1.2\0.1", 20),
                                                                            sop), &err),
           err, CM_DICOM_EINPUT, {"(0008,0018)", "claims 477525 bytes"}); /* read as implicit VR, as DCMTK does */
    expect("big endian", check_dataset(cat({kExplicitBE.elem(0x0008, 0x0018, "UI", "1.2"), nest(kExplicitBE, 3)}),
                                       kExplicitBEUid, &err),
           err, 0);
    expect("big endian read as little", check_dataset(nest(kExplicitBE, 3), kExplicitLEUid, &err), err,
           CM_DICOM_EINPUT);
    Bytes deep = cat({sop, nest(le, 40)});
    Bytes deflated = raw_deflate(deep);
    expect("deflated, deep", check_dataset(deflated, kDeflateUid, &err), err, CM_DICOM_ESTRUCTURE,
           {"deeper than 32 levels at byte offset 655 of the inflated data set"});
    lim.max_depth = 40;
    expect("deflated, max_depth 40", check_dataset(deflated, kDeflateUid, &err, &lim), err, 0);
    lim.max_bytes = deep.size() - 1;
    expect("deflated, max_bytes one short", check_dataset(deflated, kDeflateUid, &err, &lim), err,
           CM_DICOM_ESTRUCTURE, {"inflates to more than"});
    lim.max_bytes = deep.size();
    expect("deflated, max_bytes exact", check_dataset(deflated, kDeflateUid, &err, &lim), err, 0);
    lim.max_bytes = deep.size() - 1;
    char want_size[64];
    snprintf(want_size, sizeof want_size, "the data set has %zu bytes, more than %zu", deep.size(), deep.size() - 1);
    expect("plain, max_bytes one short", check_dataset(deep, kExplicitLEUid, &err, &lim), err, CM_DICOM_ESTRUCTURE,
           {want_size});
    lim = defaults();
    Bytes cut(deflated.begin(), deflated.begin() + deflated.size() / 2);
    lim.max_depth = 40;
    expect("deflate stream cut in half", check_dataset(cut, kDeflateUid, &err, &lim), err, CM_DICOM_EINPUT,
           {"truncated"});
    expect("not deflate at all", check_dataset(Bytes(64, 0xFF), kDeflateUid, &err, &lim), err, CM_DICOM_EINPUT,
           {"cannot be inflated"});
    Bytes trailing = deflated;
    trailing.insert(trailing.end(), {0, 1, 2, 3});
    expect("bytes after the deflate stream (DCMTK ignores them)", check_dataset(trailing, kDeflateUid, &err, &lim), err,
           0);
    lim = defaults();

    /* Part 10 framing */
    expect("empty file", check_file({}, &err), err, CM_DICOM_EINPUT,
           {"no DICM prefix at byte offset 128 and no File Meta Information at the start (0 bytes)"});
    expect("text file", check_file(Bytes(300, 'x'), &err), err, CM_DICOM_EINPUT, {"no DICM prefix"});
    Bytes dicm_only(128, 0);
    dicm_only.insert(dicm_only.end(), {'D', 'I', 'C', 'M', 'x', 'x'});
    expect("DICM without meta group", check_file(dicm_only, &err), err, CM_DICOM_EINPUT,
           {"no File Meta Information after the DICM prefix"});
    Bytes file = part10(kExplicitLEUid, cat({sop, nest(le, 2)}));
    expect("Part 10 file", check_file(file, &err), err, 0);
    expect("Part 10 file without preamble", check_file(Bytes(file.begin() + 132, file.end()), &err), err, 0);
    Bytes no_ts = file;
    no_ts[132 + 12 + 14 + 3] = 0x01; /* (0002,0010) -> (0002,0110) */
    expect("meta group without transfer syntax", check_file(no_ts, &err), err, CM_DICOM_EINPUT,
           {"no Transfer Syntax UID (0002,0010)"});
    Bytes bad_gl = file;
    bad_gl[132 + 6] = 2; /* group length UL of 2 bytes */
    expect("meta group length of 2 bytes", check_file(bad_gl, &err), err, CM_DICOM_EINPUT,
           {"Group Length (0002,0000) at byte offset 132 is not a 4-byte UL value"});
    Bytes unknown_ts = part10("1.2.3", sop);
    expect("unknown transfer syntax in the meta group", check_file(unknown_ts, &err), err, CM_DICOM_EINPUT,
           {"unknown transfer syntax '1.2.3'"});
    Bytes deep_meta = part10(kExplicitLEUid, sop);
    Bytes nested_meta = nest(le, 40, 0x0002, 0x0100);
    deep_meta.insert(deep_meta.begin() + 132 + 12, nested_meta.begin(), nested_meta.end());
    uint32_t gl = deep_meta[140] | deep_meta[141] << 8;
    gl += static_cast<uint32_t>(nested_meta.size());
    deep_meta[140] = uint8_t(gl), deep_meta[141] = uint8_t(gl >> 8), deep_meta[142] = uint8_t(gl >> 16);
    expect("deep nesting in the meta group", check_file(deep_meta, &err), err, CM_DICOM_ESTRUCTURE,
           {"byte offset 784 (tag (0002,0100))"});
    /* the meta group ends where group 0002 ends when it has no group length */
    Bytes no_gl(file.begin(), file.begin() + 132);
    no_gl.insert(no_gl.end(), file.begin() + 144, file.end());
    expect("meta group without group length", check_file(no_gl, &err), err, 0);
    /* DcmMetaInfo adds the group length to 12 in 32 bits: all ones means "no group length"... */
    Bytes gl_wrap = file;
    gl_wrap[140] = 0xF3, gl_wrap[141] = 0xFF, gl_wrap[142] = 0xFF, gl_wrap[143] = 0xFF;
    expect("meta group length that wraps to none", check_file(gl_wrap, &err), err, 0);
    gl_wrap[140] = 0xF8; /* ... and anything else wraps to a short group: here 4 bytes */
    expect("meta group length that wraps to 4 bytes", check_file(gl_wrap, &err), err, CM_DICOM_EINPUT,
           {"no Transfer Syntax UID"});
    Bytes implicit_meta(file.begin(), file.begin() + 132);
    Bytes im_meta = cat({im.elem(0x0002, 0x0000, "", std::string("\x1a\0\0\0", 4)),
                         im.elem(0x0002, 0x0010, "", kImplicitLEUid + '\0')});
    implicit_meta = cat({implicit_meta, im_meta, im.elem(0x0008, 0x0018, "", "1.2.3.4")});
    expect("implicit VR meta group (DCMTK guesses its encoding)", check_file(implicit_meta, &err), err, 0);

    /* every prefix of a valid file: no crash, only 0 or EINPUT */
    Bytes whole = part10(kExplicitLEUid, cat({sop, nest(le, 3), pixels}));
    for (size_t n = 0; n <= whole.size(); ++n) {
        int rc = check_file(Bytes(whole.begin(), whole.begin() + n), &err);
        CHECK(rc == 0 || rc == CM_DICOM_EINPUT);
        CHECK(n != whole.size() || rc == 0);
    }
    printf("ok every prefix of a %zu-byte file\n", whole.size());
    CHECK(cm_dicom_precheck_file(nullptr, 0, nullptr, nullptr) == CM_DICOM_EINPUT);
    CHECK(cm_dicom_precheck_dataset(nullptr, 5, kExplicitLEUid.c_str(), nullptr, &err) == CM_DICOM_EINPUT);
    CHECK(cm_dicom_precheck_dataset(sop.data(), sop.size(), nullptr, nullptr, &err) == CM_DICOM_EINPUT);
    printf("ok NULL arguments\n");
}

void list_files(const std::string &dir, std::vector<std::string> &out)
{
    DIR *d = opendir(dir.c_str());
    if (d == nullptr)
        return;
    while (struct dirent *e = readdir(d)) {
        if (e->d_name[0] == '.')
            continue;
        std::string p = dir + "/" + e->d_name;
        struct stat st;
        if (stat(p.c_str(), &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode))
            list_files(p, out);
        else if (S_ISREG(st.st_mode))
            out.push_back(p);
    }
    closedir(d);
}

/* 4. pydicom's samples. */
void test_pydicom()
{
    std::vector<std::string> files;
    list_files(kPydicom, files);
    CHECK(files.size() > 50);
    unsigned readable = 0, refused = 0;
    for (const std::string &path : files) {
        Bytes b = read_file(path);
        cm_error err;
        int rc = check_file(b, &err);
        CHECK(rc == 0 || rc == CM_DICOM_EINPUT || rc == CM_DICOM_ESTRUCTURE);
        DcmFileFormat ff;
        bool dcmtk = ff.loadFile(path.c_str(), EXS_Unknown, EGL_noChange, DCM_MaxReadLength, ERM_fileOnly).good() &&
                     ff.loadAllDataIntoMemory().good();
        if (dcmtk && rc != 0) {
            fprintf(stderr, "%s: DCMTK reads it but the structure check refuses it: %s\n", path.c_str(), err.msg);
            exit(1);
        }
        readable += dcmtk;
        if (rc) {
            ++refused;
            printf("   refused %s: %s\n", path.c_str() + strlen(kPydicom) + 1, err.msg);
        }
    }
    printf("ok pydicom: %zu files, %u read by DCMTK and passed, %u refused (DCMTK refuses them too)\n", files.size(),
           readable, refused);

    /* every prefix of a few samples, and every one-byte change in their first bytes */
    for (const char *name : {"CT_small.dcm", "MR_small_implicit.dcm", "image_dfl.dcm", "JPEG2000.dcm",
                             "nested_priv_SQ.dcm", "UN_sequence.dcm"}) {
        Bytes b = read_file(std::string(kPydicom) + "/" + name);
        CHECK(!b.empty());
        cm_error err;
        for (size_t n = 0; n < b.size(); n += (n < 4096 ? 1 : 97)) {
            Bytes cut(b.begin(), b.begin() + n);
            int rc = check_file(cut, &err);
            CHECK(rc == 0 || rc == CM_DICOM_EINPUT);
        }
        for (size_t i = 0; i < std::min<size_t>(b.size(), 2048); ++i) {
            Bytes m = b;
            m[i] ^= 0xA5;
            int rc = check_file(m, &err);
            CHECK(rc == 0 || rc == CM_DICOM_EINPUT || rc == CM_DICOM_ESTRUCTURE);
        }
        printf("ok %s: every prefix and byte change handled\n", name);
    }
}

} // namespace

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_precheck HOSTILE_DIR (the output of make_hostile.py)\n");
        return 2;
    }
    chaosmask::dicom_register_dictionary();
    test_vr_table();
    test_hostile(argv[1]);
    test_constructions();
    test_pydicom();
    printf("structure check: all passed\n");
    return 0;
}
