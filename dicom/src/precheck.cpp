/* precheck.cpp - the structure check of dicom_precheck.h: one iterative walk over the raw bytes
 * of a DICOM object that bounds nesting depth, element count and size before DCMTK's recursive
 * parser runs.  DCMTK is consulted only for its tables (transfer syntaxes, data dictionary) and
 * reading options, so that every decision here is the one DCMTK's reader will take; the parse
 * itself stays DCMTK's.  References below are to DCMTK 3.6.7's dcmdata/libsrc. */
#include "chaosmask/dicom_precheck.h"

#include "internal.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcobject.h>
#include <dcmtk/dcmdata/dctag.h>
#include <dcmtk/dcmdata/dcvr.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

namespace chaosmask {

VrInfo classify_vr(uint8_t c1, uint8_t c2)
{
    struct Named {
        char name[3];
        VrInfo info;
    };
    static const Named named[] = {
        {"AE", {VrKind::Plain, false}}, {"AS", {VrKind::Plain, false}}, {"AT", {VrKind::Plain, false}},
        {"CS", {VrKind::Plain, false}}, {"DA", {VrKind::Plain, false}}, {"DS", {VrKind::Plain, false}},
        {"DT", {VrKind::Plain, false}}, {"FL", {VrKind::Plain, false}}, {"FD", {VrKind::Plain, false}},
        {"IS", {VrKind::Plain, false}}, {"LO", {VrKind::Plain, false}}, {"LT", {VrKind::Plain, false}},
        {"PN", {VrKind::Plain, false}}, {"SH", {VrKind::Plain, false}}, {"SL", {VrKind::Plain, false}},
        {"SS", {VrKind::Plain, false}}, {"ST", {VrKind::Plain, false}}, {"TM", {VrKind::Plain, false}},
        {"UI", {VrKind::Plain, false}}, {"UL", {VrKind::Plain, false}}, {"US", {VrKind::Plain, false}},
        {"OD", {VrKind::Plain, true}},  {"OF", {VrKind::Plain, true}},  {"OL", {VrKind::Plain, true}},
        {"OV", {VrKind::Plain, true}},  {"SV", {VrKind::Plain, true}},  {"UC", {VrKind::Plain, true}},
        {"UR", {VrKind::Plain, true}},  {"UT", {VrKind::Plain, true}},  {"UV", {VrKind::Plain, true}},
        {"OB", {VrKind::OtherBinary, true}}, {"OW", {VrKind::OtherBinary, true}},
        {"SQ", {VrKind::Sequence, true}}, {"UN", {VrKind::Unknown, true}},
        /* DCMTK's non-standard VRs, which setVR accepts as well */
        {"ox", {VrKind::OtherBinary, true}}, {"px", {VrKind::PixelData, true}}, {"lt", {VrKind::Plain, true}},
        {"xs", {VrKind::Plain, false}}, {"up", {VrKind::Plain, false}},
        {"na", {VrKind::Illegal, false}}, {"pi", {VrKind::Illegal, false}},
    };
    /* every pair of bytes looked up once: this runs for each element of every object */
    struct Table {
        VrInfo info[65536];
        Table()
        {
            for (unsigned c1 = 0; c1 < 256; ++c1)
                for (unsigned c2 = 0; c2 < 256; ++c2)
                    info[c1 << 8 | c2] = c1 >= 'A' && c1 <= 'Z' && c2 >= 'A' && c2 <= 'Z'
                                             ? VrInfo{VrKind::Unknown, true}
                                             : VrInfo{VrKind::Plain, false};
            for (const Named &n : named)
                info[static_cast<uint8_t>(n.name[0]) << 8 | static_cast<uint8_t>(n.name[1])] = n.info;
        }
    };
    static const Table table;
    return table.info[c1 << 8 | c2];
}

} // namespace chaosmask

namespace {

using chaosmask::VrInfo;
using chaosmask::VrKind;
using chaosmask::classify_vr;

const uint32_t kUndefinedLength = 0xFFFFFFFFu;
const uint64_t kNoEnd = UINT64_MAX;
/* The longest run of bytes ever looked at in one piece: a transfer syntax UID with padding. */
const size_t kPeekMax = 128;
/* Inflated bytes kept at a time; anything larger is streamed through. */
const size_t kInflateWindow = 64 * 1024;

struct Encoding {
    bool explicit_vr;
    bool big_endian;
};
const Encoding kImplicitLittle = {false, false};

uint16_t get16(const uint8_t *p, bool be)
{
    return be ? static_cast<uint16_t>(p[0] << 8 | p[1]) : static_cast<uint16_t>(p[0] | p[1] << 8);
}

uint32_t get32(const uint8_t *p, bool be)
{
    return be ? (uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3])
              : (uint32_t(p[3]) << 24 | uint32_t(p[2]) << 16 | uint32_t(p[1]) << 8 | p[0]);
}

bool is_item_or_delimiter(uint16_t g, uint16_t e)
{
    return g == 0xFFFE && (e == 0xE000 || e == 0xE00D || e == 0xE0DD);
}

/* Pixel Data and Overlay Data (60xx,3000) are read by DCMTK as DcmPixelData, whose undefined
 * length means a pixel sequence (dcitem.cc newDicomElement; DcmTagKey::getBaseTag). */
bool is_pixel_data(uint16_t g, uint16_t e)
{
    return (g == 0x7FE0 && e == 0x0010) || ((g & 0xFF01) == 0x6000 && e == 0x3000);
}

/* A standard VR, as DcmItem::foundVR sees it when guessing the meta group's encoding. */
bool is_standard_vr(uint8_t c1, uint8_t c2)
{
    if (!(c1 >= 'A' && c1 <= 'Z' && c2 >= 'A' && c2 <= 'Z'))
        return false;
    VrInfo v = classify_vr(c1, c2);
    /* upper-case pairs that are not names fall through to Unknown with a long length, as UN */
    return v.kind != VrKind::Unknown || (c1 == 'U' && c2 == 'N');
}

/* DCMTK's reading options that change what is a sequence, taken once per check so that the
 * walk reads the way DCMTK will (dcobject.h, dcvr.h).  Options that change how DCMTK recovers
 * from input it finds broken matter only where this check accepts such input: an undefined-length
 * OB/OW other than pixel data, which dcmIgnoreParsingErrors turns into a sequence. */
struct ReadOptions {
    bool cp246;                    /* dcmEnableCP246Support */
    bool un_conversion;            /* dcmEnableUnknownVRConversion */
    bool voi_lut_to_sq;            /* dcmConvertVOILUTSequenceOWtoSQ */
    bool undefined_obow_to_sq;     /* dcmConvertUndefinedLengthOBOWtoSQ or dcmIgnoreParsingErrors */
    bool private_undefined_sq;     /* dcmReadImplPrivAttribMaxLengthAsSQ */
    bool ignore_meta_group_length; /* dcmIgnoreFileMetaInformationGroupLength */

    static ReadOptions current()
    {
        ReadOptions o;
        o.cp246 = dcmEnableCP246Support.get();
        o.un_conversion = dcmEnableUnknownVRConversion.get();
        o.voi_lut_to_sq = dcmConvertVOILUTSequenceOWtoSQ.get();
        o.undefined_obow_to_sq = dcmConvertUndefinedLengthOBOWtoSQ.get() || dcmIgnoreParsingErrors.get();
        o.private_undefined_sq = dcmReadImplPrivAttribMaxLengthAsSQ.get();
        o.ignore_meta_group_length = dcmIgnoreFileMetaInformationGroupLength.get();
        return o;
    }
};

/* Fills the error report and keeps in mind whether offsets are into inflated bytes. */
class Reporter {
  public:
    explicit Reporter(cm_error *err) : err_(err) {}
    void set_inflated(bool inflated) { inflated_ = inflated; }
    const char *offset_note() const { return inflated_ ? " of the inflated data set" : ""; }

    int fail(int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)))
    {
        va_list ap;
        va_start(ap, fmt);
        cm_vfail(err_, code, fmt, ap);
        va_end(ap);
        return code;
    }

  private:
    cm_error *err_;
    bool inflated_ = false;
};

/* "(gggg,eeee)" for messages, formatted only when one is written */
class TagText {
  public:
    TagText(uint16_t g, uint16_t e) : g_(g), e_(e) {}
    const char *str() const
    {
        snprintf(s_, sizeof s_, "(%04X,%04X)", g_, e_);
        return s_;
    }

  private:
    uint16_t g_, e_;
    mutable char s_[12];
};

/* The bytes being walked: a buffer, or the raw-deflate stream in one, inflated through a
 * fixed window.  Positions only move forward; a pointer returned by peek() is valid until the
 * next call. */
class Source {
  public:
    Source(const uint8_t *buf, size_t len) : mem_(buf), mem_len_(len) {}
    ~Source()
    {
        if (inflating_)
            inflateEnd(&z_);
    }
    Source(const Source &) = delete;
    Source &operator=(const Source &) = delete;

    /* Switches to inflating buf[0, len) as raw deflate, as DCMTK's DcmZLibInputFilter does;
     * more than max_bytes inflated bytes is a failure. */
    int start_inflate(uint64_t max_bytes, Reporter &rep)
    {
        window_.reset(new (std::nothrow) uint8_t[kInflateWindow]);
        if (!window_)
            return rep.fail(CM_DICOM_ENOMEM, "out of memory");
        memset(&z_, 0, sizeof z_);
        if (inflateInit2(&z_, -MAX_WBITS) != Z_OK)
            return rep.fail(CM_DICOM_ENOMEM, "deflate: cannot start the decompressor");
        inflating_ = true;
        /* zlib takes at most UINT_MAX input bytes per call; more() feeds the rest. */
        in_next_ = mem_;
        in_left_ = mem_len_;
        max_bytes_ = max_bytes;
        rep_ = &rep;
        return 0;
    }

    bool inflating() const { return inflating_; }
    /* 0, or the code of a failure of the inflation (its message is in the report). */
    int failure() const { return failure_; }
    /* Where the data ends, once a peek or reach has come short of it. */
    uint64_t end() const { return inflating_ ? win_start_ + win_len_ : mem_len_; }
    /* The data's end when known in advance (a buffer), kNoEnd while inflating. */
    uint64_t known_end() const { return inflating_ ? kNoEnd : mem_len_; }

    /* Up to n (<= kPeekMax) bytes at pos; fewer only at the end of the data or on a failure. */
    size_t peek(uint64_t pos, size_t n, const uint8_t **p)
    {
        if (!inflating_) {
            if (pos >= mem_len_)
                return 0;
            *p = mem_ + pos;
            return static_cast<size_t>(std::min<uint64_t>(n, mem_len_ - pos));
        }
        if (!reach(pos))
            return 0;
        while (pos + n > win_start_ + win_len_) {
            if (win_len_ == kInflateWindow)
                keep_from(pos);
            if (!more())
                break;
        }
        *p = window_.get() + (pos - win_start_);
        return static_cast<size_t>(std::min<uint64_t>(n, win_start_ + win_len_ - pos));
    }

    /* Whether the data extends to pos (inflating and discarding what lies before). */
    bool reach(uint64_t pos)
    {
        if (!inflating_)
            return pos <= mem_len_;
        if (pos <= win_start_ + win_len_)
            return true;
        win_start_ += win_len_;
        win_len_ = 0;
        while (win_start_ + win_len_ < pos) {
            if (win_len_ == kInflateWindow) {
                win_start_ += win_len_;
                win_len_ = 0;
            }
            if (!more())
                return false;
        }
        return true;
    }

  private:
    void keep_from(uint64_t pos)
    {
        size_t skip = static_cast<size_t>(pos - win_start_);
        memmove(window_.get(), window_.get() + skip, win_len_ - skip);
        win_len_ -= skip;
        win_start_ = pos;
    }

    /* Inflates into the free end of the window; false when nothing more comes. */
    bool more()
    {
        if (ended_ || failure_)
            return false;
        z_.next_out = window_.get() + win_len_;
        z_.avail_out = static_cast<uInt>(kInflateWindow - win_len_);
        while (z_.avail_out > 0) {
            if (z_.avail_in == 0 && in_left_ > 0) {
                size_t chunk = std::min<size_t>(in_left_, 1u << 30);
                z_.next_in = const_cast<Bytef *>(in_next_);
                z_.avail_in = static_cast<uInt>(chunk);
                in_next_ += chunk;
                in_left_ -= chunk;
            }
            int rc = inflate(&z_, Z_NO_FLUSH);
            if (rc == Z_STREAM_END) {
                ended_ = true;
                break;
            }
            if (rc == Z_BUF_ERROR && z_.avail_in == 0 && in_left_ == 0) {
                /* DCMTK needs Z_STREAM_END to see the end of a deflated data set. */
                failure_ = rep_->fail(CM_DICOM_EINPUT, "truncated: the deflate stream of the data set ends after "
                                      "%" PRIu64 " inflated bytes without its final block",
                                      win_start_ + kInflateWindow - z_.avail_out);
                break;
            }
            if (rc == Z_MEM_ERROR) {
                failure_ = rep_->fail(CM_DICOM_ENOMEM, "deflate: out of memory");
                break;
            }
            if (rc != Z_OK && rc != Z_BUF_ERROR) {
                failure_ = rep_->fail(CM_DICOM_EINPUT, "the deflated data set cannot be inflated: %s",
                                      z_.msg ? z_.msg : "invalid deflate data");
                break;
            }
        }
        size_t got = kInflateWindow - win_len_ - z_.avail_out;
        win_len_ += got;
        if (win_start_ + win_len_ > max_bytes_ && !failure_)
            failure_ = rep_->fail(CM_DICOM_ESTRUCTURE, "the data set inflates to more than %" PRIu64
                                  " bytes; raise [dicom] max_object_size if such objects are legitimate", max_bytes_);
        if (failure_)
            return false;
        return got > 0;
    }

    const uint8_t *mem_;
    size_t mem_len_;
    bool inflating_ = false;
    z_stream z_;
    std::unique_ptr<uint8_t[]> window_;
    uint64_t win_start_ = 0; /* stream offset of window_[0] */
    size_t win_len_ = 0;
    const uint8_t *in_next_ = nullptr;
    size_t in_left_ = 0;
    uint64_t max_bytes_ = 0;
    bool ended_ = false;
    int failure_ = 0;
    Reporter *rep_ = nullptr;
};

/* One element header. */
struct Header {
    uint16_t g = 0, e = 0;
    uint8_t vr[2] = {0, 0};
    VrInfo vri = {VrKind::Plain, false};
    uint32_t len = 0;
    unsigned size = 0;
};

/* Parses the element header at p (have bytes there); 0 when complete, else how many bytes it
 * needs.  Items and delimiters have no VR in either encoding (DcmItem::readTagAndLength). */
unsigned parse_header(const uint8_t *p, size_t have, Encoding enc, Header *h)
{
    if (have < 4)
        return 8; /* the shortest header */
    h->g = get16(p, enc.big_endian);
    h->e = get16(p + 2, enc.big_endian);
    if (is_item_or_delimiter(h->g, h->e) || !enc.explicit_vr) {
        h->size = 8;
        if (have < 8)
            return 8;
        h->len = get32(p + 4, enc.big_endian);
        return 0;
    }
    if (have < 6)
        return 8;
    h->vr[0] = p[4];
    h->vr[1] = p[5];
    h->vri = classify_vr(p[4], p[5]);
    /* DCMTK's workaround for the "OX" some writers put on Pixel Data: read as OW. */
    if (h->g == 0x7FE0 && h->e == 0x0010 && p[4] == 'O' && p[5] == 'X')
        h->vri = {VrKind::OtherBinary, true};
    if (h->vri.kind == VrKind::Illegal)
        return 0; /* the caller refuses it; its length field is of no interest */
    h->size = h->vri.long_length ? 12 : 8;
    if (have < h->size)
        return h->size;
    h->len = h->vri.long_length ? get32(p + 8, enc.big_endian) : get16(p + 6, enc.big_endian);
    return 0;
}

enum class FrameKind : uint8_t { Meta, DataSet, Item, Sequence, PixelSequence };

/* One open container. */
/* One open container.
 *
 * Where DCMTK certainly reads a container (an SQ, a sequence by the dictionary, CP-246), the
 * walk reads it as DCMTK does: a defined length ends the container at the first child that
 * starts at or beyond it, children may run past it (DCMTK does not check; real files have
 * sequence lengths too short by a few bytes), and only an element whose value is longer than
 * the rest of its item is refused, as DCMTK refuses it.  Where DCMTK may read a value either as
 * a sequence or as plain bytes (a private implicit VR element, whose VR depends on the private
 * dictionary), the value is checked as a sequence that must end exactly where the value ends
 * ("strict", inherited by everything inside): then both readings continue at the same byte,
 * and no nesting can hide behind the other reading. */
struct Frame {
    FrameKind kind;
    Encoding enc;
    bool undefined;         /* closed by a delimiter (or, for the meta group, by its group) */
    bool strict;            /* nothing inside may cross the frame's end */
    bool limit_is_data_end; /* limit is the end of the data, not a container's end */
    uint16_t g, e;          /* the sequence or pixel data this frame belongs to */
    uint64_t start;         /* offset of its header (the element's, or the item's) */
    uint64_t first;         /* offset of the frame's first byte */
    uint64_t end;           /* defined length: where the frame ends */
    uint64_t limit;         /* nothing inside may reach past this */
    size_t bound;           /* stack index of the frame whose end is limit (messages) */
};

/* How DCMTK will read an element's value. */
struct ValueRule {
    enum Kind { Value, Sequence, PixelSequence, Refused, Ambiguous } kind;
    Encoding enc;   /* of the sequence's items */
    bool uncertain; /* DCMTK may read it as plain bytes instead: check it strictly */
};

class Walker {
  public:
    Walker(Source &src, const cm_dicom_limits &lim, const ReadOptions &opt, Reporter &rep, uint64_t &elements)
        : src_(src), lim_(lim), opt_(opt), rep_(rep), elements_(elements)
    {
        stack_.reserve(std::min<size_t>(2 * static_cast<size_t>(lim.max_depth) + 2, 72));
    }

    /* The File Meta Information at start, ending at group_end (kNoEnd: where group 0002 ends,
     * DcmMetaInfo's rule without a group length).  *next: where the data set starts. */
    int meta(uint64_t start, Encoding enc, uint64_t group_end, uint64_t *next)
    {
        Frame f = {FrameKind::Meta, enc, group_end == kNoEnd, false, true, 0x0002, 0x0000, start, start, group_end,
                   src_.known_end(), 0};
        pos_ = start;
        stack_.push_back(f);
        int rc = run();
        *next = pos_;
        return rc;
    }

    int dataset(uint64_t start, Encoding enc)
    {
        Frame f = {FrameKind::DataSet, enc, true, false, true, 0, 0, start, start, kNoEnd, src_.known_end(), 0};
        pos_ = start;
        stack_.push_back(f);
        return run();
    }

    bool have_transfer_syntax() const { return have_ts_; }
    const std::string &transfer_syntax() const { return ts_; }

  private:
    int run()
    {
        while (!stack_.empty()) {
            FrameKind k = stack_.back().kind;
            int rc = (k == FrameKind::Sequence || k == FrameKind::PixelSequence) ? step_items() : step_elements();
            if (rc)
                return rc;
        }
        return 0;
    }

    void pop()
    {
        FrameKind k = stack_.back().kind;
        if (k == FrameKind::Sequence || k == FrameKind::PixelSequence)
            --depth_;
        stack_.pop_back();
    }

    /* A failed inflation explains a short read better than anything derived from it. */
    bool source_failed(int *rc) const
    {
        *rc = src_.failure();
        return *rc != 0;
    }

    /* Where a frame is, for messages: "item at byte offset 1246 of sequence (0008,1115)". */
    std::string frame_text(const Frame &f) const
    {
        char buf[160];
        TagText t(f.g, f.e);
        switch (f.kind) {
        case FrameKind::Meta:
            return "File Meta Information";
        case FrameKind::DataSet:
            return "data set";
        case FrameKind::Item:
            snprintf(buf, sizeof buf, "item at byte offset %" PRIu64 "%s of sequence %s", f.start, rep_.offset_note(),
                     t.str());
            break;
        case FrameKind::Sequence:
        case FrameKind::PixelSequence:
            snprintf(buf, sizeof buf, "%s %s at byte offset %" PRIu64 "%s",
                     f.kind == FrameKind::Sequence ? "sequence" : "encapsulated pixel data", t.str(), f.start,
                     rep_.offset_note());
            break;
        }
        return buf;
    }

    /* A header or value of n bytes at pos (value bytes from value_at) does not fit: the data
     * ended (truncated), or it crosses the end of frame f's container (malformed). */
    int past_end(const Frame &f, const char *noun, const TagText *tag, uint64_t pos, uint64_t n, uint64_t value_at,
                 bool data_ended)
    {
        const std::string what = tag ? std::string(noun) + " " + tag->str() : std::string(noun);
        /* a header needs its bytes; a value's length field claims them */
        const char *verb = value_at == pos ? "needs" : "claims";
        if (!data_ended && !f.limit_is_data_end) {
            uint64_t remain = f.limit > value_at ? f.limit - value_at : 0;
            return rep_.fail(CM_DICOM_EINPUT,
                             "malformed: %s at byte offset %" PRIu64 "%s %s %" PRIu64 " bytes but %" PRIu64
                             " remain in its %s",
                             what.c_str(), pos, rep_.offset_note(), verb, n, remain,
                             frame_text(stack_[f.bound]).c_str());
        }
        uint64_t end = data_ended ? src_.end() : f.limit;
        uint64_t remain = end > value_at ? end - value_at : 0;
        return rep_.fail(CM_DICOM_EINPUT,
                         "truncated: %s at byte offset %" PRIu64 "%s %s %" PRIu64 " bytes but %" PRIu64 " remain",
                         what.c_str(), pos, rep_.offset_note(), verb, n, remain);
    }

    /* Checks that a value of n bytes at value_at lies inside frame f and the data. */
    int check_fits(const Frame &f, const char *noun, const TagText *tag, uint64_t pos, uint64_t value_at, uint64_t n)
    {
        if (f.limit != kNoEnd && n > f.limit - value_at)
            return past_end(f, noun, tag, pos, n, value_at, false);
        int rc = 0;
        if (!src_.reach(value_at + n))
            rc = source_failed(&rc) ? rc : past_end(f, noun, tag, pos, n, value_at, true);
        return rc;
    }

    int count(uint64_t pos, uint16_t g, uint16_t e)
    {
        if (++elements_ <= lim_.max_elements)
            return 0;
        TagText t(g, e);
        return rep_.fail(CM_DICOM_ESTRUCTURE,
                         "more than %" PRIu64 " data elements and items at byte offset %" PRIu64
                         "%s (tag %s); raise [dicom] max_elements if such objects are legitimate",
                         lim_.max_elements, pos, rep_.offset_note(), t.str());
    }

    /* Opens a sequence or pixel sequence whose header is at pos and value at value_at. */
    int open(const Frame &parent, FrameKind kind, const ValueRule &rule, const Header &h, uint64_t pos,
             uint64_t value_at)
    {
        if (depth_ + 1 > lim_.max_depth) {
            TagText t(h.g, h.e);
            return rep_.fail(CM_DICOM_ESTRUCTURE,
                             "sequence nesting deeper than %u levels at byte offset %" PRIu64
                             "%s (tag %s); raise [dicom] max_depth if such objects are legitimate",
                             lim_.max_depth, pos, rep_.offset_note(), t.str());
        }
        Frame f = {kind,  rule.enc, h.len == kUndefinedLength, parent.strict || rule.uncertain,
                   parent.limit_is_data_end, h.g, h.e, pos, value_at, kNoEnd, parent.limit, parent.bound};
        if (!f.undefined) {
            f.end = value_at + h.len;
            if (f.strict) {
                const TagText t(h.g, h.e);
                if (parent.limit != kNoEnd && h.len > parent.limit - value_at)
                    return past_end(parent, "sequence", &t, pos, h.len, value_at, false);
                f.limit = f.end;
                f.limit_is_data_end = false;
                f.bound = stack_.size();
            }
        }
        ++depth_;
        pos_ = value_at;
        stack_.push_back(f);
        return 0;
    }

    /* Whether the 4 bytes at value_at are an item or delimiter tag: then DCMTK, should it read
     * the value as a sequence, would find items there.  A value shorter than 4 bytes counts:
     * DCMTK reads an item header across the end of a short sequence. */
    bool value_starts_with_item(uint64_t value_at, bool big_endian)
    {
        const uint8_t *w;
        if (src_.peek(value_at, 4, &w) < 4)
            return false;
        return is_item_or_delimiter(get16(w, big_endian), get16(w + 2, big_endian));
    }

    ValueRule explicit_rule(const Header &h, Encoding enc, uint64_t value_at)
    {
        const bool undefined = h.len == kUndefinedLength;
        const Encoding un_enc = opt_.cp246 ? kImplicitLittle : enc;
        if (undefined && opt_.private_undefined_sq && (h.g & 1))
            return {ValueRule::Sequence, enc, false};
        switch (h.vri.kind) {
        case VrKind::Sequence:
            return {ValueRule::Sequence, enc, false};
        case VrKind::Unknown:
            if (undefined)
                return {ValueRule::Sequence, un_enc, false};
            /* With dcmEnableUnknownVRConversion DCMTK reads a UN value by its dictionary VR,
             * in implicit VR little endian: a sequence if the dictionary says SQ. */
            if (opt_.un_conversion && h.vr[0] == 'U' && h.vr[1] == 'N' && h.len > 0 &&
                value_starts_with_item(value_at, false))
                return {ValueRule::Sequence, kImplicitLittle, true};
            return {ValueRule::Value, enc, false};
        case VrKind::OtherBinary:
            if (!undefined) {
                if (opt_.voi_lut_to_sq && h.g == 0x0028 && h.e == 0x3010 && h.len > 0 &&
                    value_starts_with_item(value_at, enc.big_endian))
                    return {ValueRule::Sequence, enc, false};
                return {ValueRule::Value, enc, false};
            }
            if (is_pixel_data(h.g, h.e))
                return {ValueRule::PixelSequence, enc, false};
            if (opt_.undefined_obow_to_sq) /* unless the private dictionary says px */
                return {ValueRule::Sequence, enc, (h.g & 1) != 0};
            /* A private element is a pixel sequence when the private dictionary says "px";
             * otherwise DCMTK refuses it.  Neither recurses. */
            if (h.g & 1)
                return {ValueRule::PixelSequence, enc, false};
            return {ValueRule::Refused, enc, false};
        case VrKind::PixelData:
            return {undefined ? ValueRule::PixelSequence : ValueRule::Value, enc, false};
        case VrKind::Illegal:
            return {ValueRule::Refused, enc, false};
        case VrKind::Plain:
            break;
        }
        return {undefined ? ValueRule::Refused : ValueRule::Value, enc, false};
    }

    /* Implicit VR: DCMTK takes the VR from its data dictionary, for private elements after
     * looking up their creator.  Public tags are looked up the same way here; a private
     * element DCMTK might read as a sequence is checked as one. */
    ValueRule implicit_rule(const Header &h, Encoding enc, uint64_t value_at)
    {
        const bool undefined = h.len == kUndefinedLength;
        const Encoding un_enc = opt_.cp246 ? kImplicitLittle : enc;
        if (!undefined && (h.len == 0 || !value_starts_with_item(value_at, enc.big_endian)))
            return {ValueRule::Value, enc, false}; /* whatever DCMTK thinks it is, it recurses nowhere */
        if (undefined && opt_.private_undefined_sq && (h.g & 1))
            return {ValueRule::Sequence, enc, false};
        if ((h.g & 1) && h.e >= 0x1000) {
            /* The dictionary may say SQ (read in enc), nothing (UN: read in un_enc) or px (a
             * pixel sequence, refused here when its fragments do not parse as items). */
            if (undefined && (un_enc.big_endian != enc.big_endian || un_enc.explicit_vr != enc.explicit_vr))
                return {ValueRule::Ambiguous, enc, false};
            return {ValueRule::Sequence, enc, true};
        }
        DcmTag tag(h.g, h.e);
        DcmEVR vr = tag.getEVR();
        if (!undefined)
            return {vr == EVR_SQ || (opt_.voi_lut_to_sq && h.g == 0x0028 && h.e == 0x3010 &&
                                     (vr == EVR_OB || vr == EVR_OW))
                        ? ValueRule::Sequence
                        : ValueRule::Value,
                    enc, false};
        switch (vr) {
        case EVR_SQ:
            return {ValueRule::Sequence, enc, false};
        case EVR_UN:
        case EVR_UNKNOWN:
        case EVR_UNKNOWN2B:
            return {ValueRule::Sequence, un_enc, false};
        case EVR_px:
            return {ValueRule::PixelSequence, enc, false};
        case EVR_OB:
        case EVR_OW:
        case EVR_ox:
            if (is_pixel_data(h.g, h.e))
                return {ValueRule::PixelSequence, enc, false};
            return {opt_.undefined_obow_to_sq ? ValueRule::Sequence : ValueRule::Refused, enc, false};
        default:
            return {ValueRule::Refused, enc, false};
        }
    }

    /* DcmMetaInfo::read: without a group length, the meta group goes on while the next tag is
     * in group 0002 (either byte order); always until the end of the data. */
    bool meta_ends(const Frame &f)
    {
        const uint8_t *p;
        size_t n = src_.peek(pos_, 2, &p);
        if (n == 0)
            return true;
        if (!f.undefined)
            return pos_ >= f.end;
        return !(n == 2 && ((p[0] == 0x02 && p[1] == 0x00) || (p[0] == 0x00 && p[1] == 0x02)));
    }

    int step_elements()
    {
        const Frame f = stack_.back();
        if (f.kind == FrameKind::Item && !f.undefined && pos_ >= f.end) {
            pop();
            return 0;
        }
        if (f.kind == FrameKind::Meta && meta_ends(f)) {
            pop();
            return src_.failure();
        }
        const uint8_t *p;
        size_t have = src_.peek(pos_, 12, &p);
        if (have == 0) {
            if (src_.failure())
                return src_.failure();
            /* DCMTK ends an item, like the data set, where the data ends (DcmItem::readUntilTag
             * takes EC_EndOfStream for a normal end); the sequence around it decides. */
            if (f.kind == FrameKind::DataSet || !f.strict) {
                pop();
                return 0;
            }
            return rep_.fail(CM_DICOM_EINPUT, "truncated: the data ends at byte offset %" PRIu64 "%s inside the %s",
                             pos_, rep_.offset_note(), frame_text(f).c_str());
        }
        const uint64_t room = f.limit == kNoEnd ? UINT64_MAX : f.limit - pos_;
        Header h;
        unsigned need = parse_header(p, static_cast<size_t>(std::min<uint64_t>(have, room)), f.enc, &h);
        int failed;
        if (need != 0)
            return source_failed(&failed) ? failed : past_end(f, "an element header", nullptr, pos_, need, pos_, have < room);
        const uint64_t at = pos_;
        TagText t(h.g, h.e);
        if (h.vri.kind == VrKind::Illegal)
            return rep_.fail(CM_DICOM_EINPUT, "malformed: element %s at byte offset %" PRIu64 "%s has the VR '%c%c', "
                             "which DCMTK cannot read",
                             t.str(), at, rep_.offset_note(), h.vr[0], h.vr[1]);
        const uint64_t value_at = at + h.size;
        /* DcmItem::readTagAndLength refuses a defined-length value longer than the rest of its
         * defined-length item (not in DICOMDIR records, which are DcmDirectoryRecord items) */
        if (f.kind == FrameKind::Item && !f.undefined && !f.strict && h.len != kUndefinedLength &&
            !(f.g == 0x0004 && f.e == 0x1220) && value_at <= f.end && h.len > f.end - value_at)
            return rep_.fail(CM_DICOM_EINPUT,
                             "malformed: element %s at byte offset %" PRIu64 "%s claims %" PRIu32 " bytes but %" PRIu64
                             " remain in its %s",
                             t.str(), at, rep_.offset_note(), h.len, f.end - value_at, frame_text(f).c_str());
        if (h.g == 0xFFFE && h.e == 0xE00D) {
            /* DCMTK ends whatever item it is reading there, the data set or meta group
             * included (what follows the data set is then never read) */
            if (!f.strict || f.undefined) {
                pos_ += 8;
                pop();
                return 0;
            }
            return rep_.fail(CM_DICOM_EINPUT,
                             "malformed: item delimitation (FFFE,E00D) at byte offset %" PRIu64
                             "%s inside the %s, which has a defined length",
                             at, rep_.offset_note(), frame_text(f).c_str());
        }
        if (h.g == 0xFFFE && (h.e == 0xE000 || h.e == 0xE0DD))
            return rep_.fail(CM_DICOM_EINPUT, "malformed: %s %s at byte offset %" PRIu64 "%s where a data element "
                             "was expected (in the %s)",
                             h.e == 0xE000 ? "item" : "sequence delimitation", t.str(), at, rep_.offset_note(),
                             frame_text(f).c_str());
        if (int rc = count(at, h.g, h.e))
            return rc;
        ValueRule rule = f.enc.explicit_vr ? explicit_rule(h, f.enc, value_at) : implicit_rule(h, f.enc, value_at);
        if (src_.failure())
            return src_.failure();
        switch (rule.kind) {
        case ValueRule::Sequence:
            return open(f, FrameKind::Sequence, rule, h, at, value_at);
        case ValueRule::PixelSequence:
            return open(f, FrameKind::PixelSequence, rule, h, at, value_at);
        case ValueRule::Ambiguous:
            return rep_.fail(CM_DICOM_EINPUT, "element %s at byte offset %" PRIu64 "%s has an undefined length in "
                             "implicit VR big endian: DCMTK may read it in either byte order, so it cannot be checked",
                             t.str(), at, rep_.offset_note());
        case ValueRule::Refused: { /* only ever an undefined length */
            char vr[16];
            if (f.enc.explicit_vr)
                snprintf(vr, sizeof vr, "VR '%c%c'", isprint(h.vr[0]) ? h.vr[0] : '?', isprint(h.vr[1]) ? h.vr[1] : '?');
            else
                snprintf(vr, sizeof vr, "its VR");
            return rep_.fail(CM_DICOM_EINPUT, "malformed: element %s at byte offset %" PRIu64 "%s has an undefined "
                             "length, which %s does not allow here",
                             t.str(), at, rep_.offset_note(), vr);
        }
        case ValueRule::Value:
            break;
        }
        if (int rc = check_fits(f, "element", &t, at, value_at, h.len))
            return rc;
        if (f.kind == FrameKind::Meta && h.g == 0x0002 && h.e == 0x0010 && !have_ts_)
            capture_transfer_syntax(value_at, h.len);
        pos_ = value_at + h.len;
        return 0;
    }

    /* The first (0002,0010) of the meta group, as DcmFileFormat::lookForXfer takes it. */
    void capture_transfer_syntax(uint64_t value_at, uint32_t len)
    {
        /* The meta group is never deflated: its bytes are in the buffer, already checked. */
        have_ts_ = true;
        size_t n = std::min<size_t>(len, kPeekMax);
        const uint8_t *p = nullptr;
        if (n > 0 && src_.peek(value_at, n, &p) == n)
            ts_.assign(reinterpret_cast<const char *>(p), n);
        if (len > kPeekMax)
            ts_ += "..."; /* longer than any UID: unknown to DCMTK as well */
    }

    int step_items()
    {
        const Frame f = stack_.back();
        if (!f.undefined && pos_ >= f.end) {
            pop();
            return 0;
        }
        const uint8_t *p;
        size_t have = src_.peek(pos_, 8, &p);
        const uint64_t room = f.limit == kNoEnd ? UINT64_MAX : f.limit - pos_;
        /* A sequence whose value starts where the data ends is read as empty; one that has
         * begun needs its end (DcmSequenceOfItems::read). */
        if (have == 0 && pos_ == f.first && !f.strict && !src_.failure()) {
            pop();
            return 0;
        }
        if (have == 0 && (room > 0 || f.limit_is_data_end) && !src_.failure())
            return rep_.fail(CM_DICOM_EINPUT, "truncated: the data ends at byte offset %" PRIu64 "%s inside the %s",
                             pos_, rep_.offset_note(), frame_text(f).c_str());
        int failed;
        if (have < 8 || room < 8)
            return source_failed(&failed) ? failed : past_end(f, "an item header", nullptr, pos_, 8, pos_, have < room);
        const uint64_t at = pos_;
        const uint16_t g = get16(p, f.enc.big_endian), e = get16(p + 2, f.enc.big_endian);
        const uint32_t len = get32(p + 4, f.enc.big_endian);
        TagText t(g, e);
        if (g == 0xFFFE && e == 0xE0DD) {
            /* DCMTK ends a sequence at this delimiter, whatever its length says */
            if (!f.undefined && f.strict)
                return rep_.fail(CM_DICOM_EINPUT, "malformed: sequence delimitation (FFFE,E0DD) at byte offset %" PRIu64
                                 "%s inside the %s, which has a defined length",
                                 at, rep_.offset_note(), frame_text(f).c_str());
            pos_ += 8;
            pop();
            return 0;
        }
        if (!(g == 0xFFFE && e == 0xE000))
            return rep_.fail(CM_DICOM_EINPUT, "malformed: %s at byte offset %" PRIu64 "%s where an item was expected "
                             "in the %s",
                             t.str(), at, rep_.offset_note(), frame_text(f).c_str());
        if (int rc = count(at, g, e))
            return rc;
        if (f.kind == FrameKind::PixelSequence) {
            if (len == kUndefinedLength)
                return rep_.fail(CM_DICOM_EINPUT, "malformed: pixel data fragment at byte offset %" PRIu64 "%s has an "
                                 "undefined length (in the %s)",
                                 at, rep_.offset_note(), frame_text(f).c_str());
            if (int rc = check_fits(f, "pixel data fragment", nullptr, at, at + 8, len))
                return rc;
            pos_ = at + 8 + uint64_t(len);
            return 0;
        }
        Frame item = {FrameKind::Item, f.enc, len == kUndefinedLength, f.strict, f.limit_is_data_end, f.g, f.e, at,
                      at + 8, kNoEnd, f.limit, f.bound};
        if (!item.undefined) {
            item.end = at + 8 + uint64_t(len);
            if (f.strict) {
                if (f.limit != kNoEnd && len > f.limit - (at + 8))
                    return past_end(f, "item", nullptr, at, len, at + 8, false);
                item.limit = item.end;
                item.limit_is_data_end = false;
                item.bound = stack_.size();
            }
        }
        pos_ = at + 8;
        stack_.push_back(item);
        return 0;
    }

    Source &src_;
    const cm_dicom_limits &lim_;
    const ReadOptions &opt_;
    Reporter &rep_;
    uint64_t &elements_;
    std::vector<Frame> stack_;
    unsigned depth_ = 0;
    uint64_t pos_ = 0;
    bool have_ts_ = false;
    std::string ts_;
};

/* DcmItem::checkTransferSyntax, which DcmMetaInfo uses to guess the meta group's encoding
 * from its first 6 bytes: a tag known to the dictionary in one byte order, and whether the
 * next two bytes are a standard VR. */
Encoding guess_meta_encoding(const uint8_t *p, size_t have)
{
    if (have < 6)
        return {true, false};
    const uint16_t t1 = static_cast<uint16_t>(p[0] | p[1] << 8), t2 = static_cast<uint16_t>(p[2] | p[3] << 8);
    DcmTag little(t1, t2);
    DcmTag big(static_cast<uint16_t>(t1 << 8 | t1 >> 8), static_cast<uint16_t>(t2 << 8 | t2 >> 8));
    const bool little_bad = little.error().bad(), big_bad = big.error().bad();
    const bool explicit_vr = is_standard_vr(p[4], p[5]);
    if (little_bad && big_bad)
        return {explicit_vr, false};
    if (little_bad)
        return {explicit_vr, true};
    if (big_bad)
        return {explicit_vr, false};
    return {explicit_vr, little.getGTag() > 0xff && big.getGTag() <= 0xff};
}

/* Printable form of a transfer syntax UID for messages. */
std::string printable(const std::string &s)
{
    std::string out;
    for (char c : s.substr(0, 70))
        out += (c >= 0x20 && c < 0x7F) ? c : '?';
    return out;
}

/* The Transfer Syntax UID of the meta group as DcmFileFormat::lookForXfer hands it to DcmXfer:
 * DcmUniqueIdentifier drops every white-space character (leading, embedded, trailing) when
 * dcmEnableAutomaticInputDataCorrection is on, and the NUL padding ends the C string. */
std::string uid_as_dcmtk_reads(const std::string &value)
{
    std::string out;
    const bool correct = dcmEnableAutomaticInputDataCorrection.get();
    for (char c : value)
        if (!(correct && isspace(static_cast<unsigned char>(c))))
            out += c;
    return out.substr(0, strnlen(out.c_str(), out.size()));
}

/* The data set at [start, len) of buf in the transfer syntax DcmXfer(name) names. */
int check_dataset(const uint8_t *buf, size_t len, size_t start, const std::string &name, const cm_dicom_limits &lim,
                  const ReadOptions &opt, Reporter &rep, uint64_t &elements)
{
    DcmXfer xfer(name.c_str());
    if (xfer.getXfer() == EXS_Unknown)
        return rep.fail(CM_DICOM_EINPUT, "unknown transfer syntax '%s': DCMTK cannot read this data set",
                        printable(name).c_str());
    const Encoding enc = {xfer.isExplicitVR() != OFFalse, xfer.getByteOrder() == EBO_BigEndian};
    const E_StreamCompression sc = xfer.getStreamCompression();
    if (sc == ESC_unsupported)
        return rep.fail(CM_DICOM_EINPUT, "transfer syntax %s uses a stream compression DCMTK cannot read",
                        printable(name).c_str());
    if (sc == ESC_none) {
        if (len - start > lim.max_bytes)
            return rep.fail(CM_DICOM_ESTRUCTURE, "the data set has %zu bytes, more than %" PRIu64
                            "; raise [dicom] max_object_size if such objects are legitimate",
                            len - start, lim.max_bytes);
        Source src(buf, len);
        Walker w(src, lim, opt, rep, elements);
        return w.dataset(start, enc);
    }
    Source src(buf + start, len - start);
    if (int rc = src.start_inflate(lim.max_bytes, rep))
        return rc;
    rep.set_inflated(true);
    Walker w(src, lim, opt, rep, elements);
    return w.dataset(0, enc);
}

int check_file(const uint8_t *buf, size_t len, const cm_dicom_limits &lim, Reporter &rep)
{
    const ReadOptions opt = ReadOptions::current();
    uint64_t elements = 0;
    /* DcmMetaInfo::checkAndReadPreamble: "DICM" after 128 bytes, else the meta group (if any)
     * starts at byte 0. */
    const size_t meta_at = (len >= 132 && memcmp(buf + 128, "DICM", 4) == 0) ? 132 : 0;
    if (len - meta_at < 2 || !((buf[meta_at] == 0x02 && buf[meta_at + 1] == 0x00) ||
                               (buf[meta_at] == 0x00 && buf[meta_at + 1] == 0x02))) {
        if (meta_at)
            return rep.fail(CM_DICOM_EINPUT, "no File Meta Information after the DICM prefix");
        return rep.fail(CM_DICOM_EINPUT, "no DICM prefix at byte offset 128 and no File Meta Information at the start "
                        "(%zu bytes)", len);
    }
    Source src(buf, len);
    const Encoding meta_enc = guess_meta_encoding(buf + meta_at, len - meta_at);

    /* DcmMetaInfo::readGroupLength: a first element (0002,0000) with a value bounds the group
     * (elements are read while they start inside it); otherwise group 0002 goes on while the
     * next tag is in it. */
    uint64_t group_end = kNoEnd;
    Header h;
    if (!opt.ignore_meta_group_length &&
        parse_header(buf + meta_at, std::min<size_t>(len - meta_at, 12), meta_enc, &h) == 0 && h.g == 0x0002 &&
        h.e == 0x0000 && h.len > 0) {
        const bool ul = !meta_enc.explicit_vr || (h.vr[0] == 'U' && h.vr[1] == 'L');
        if (!ul || h.len == kUndefinedLength || h.len < 4)
            return rep.fail(CM_DICOM_EINPUT, "malformed: the File Meta Information Group Length (0002,0000) at byte "
                            "offset %zu is not a 4-byte UL value", meta_at);
        if (len - meta_at - h.size < 4)
            return rep.fail(CM_DICOM_EINPUT, "truncated: the File Meta Information Group Length (0002,0000) at byte "
                            "offset %zu claims %" PRIu32 " bytes but %zu remain",
                            meta_at, h.len, len - meta_at - h.size);
        /* DcmMetaInfo adds the value to the element's size in 32 bits; all ones means "none" */
        const uint32_t group_length = get32(buf + meta_at + h.size, meta_enc.big_endian) + h.size + h.len;
        if (group_length != kUndefinedLength)
            group_end = meta_at + uint64_t(group_length);
    }
    Walker meta(src, lim, opt, rep, elements);
    uint64_t next = 0;
    if (int rc = meta.meta(meta_at, meta_enc, group_end, &next))
        return rc;
    if (!meta.have_transfer_syntax())
        return rep.fail(CM_DICOM_EINPUT, "the File Meta Information has no Transfer Syntax UID (0002,0010)");
    return check_dataset(buf, len, static_cast<size_t>(next), uid_as_dcmtk_reads(meta.transfer_syntax()), lim, opt,
                         rep, elements);
}

void start_report(cm_error *err)
{
    if (err != nullptr) {
        err->code = 0;
        err->msg[0] = '\0';
    }
}

} // namespace

extern "C" void cm_dicom_limits_default(cm_dicom_limits *lim)
{
    if (lim == nullptr)
        return;
    lim->max_depth = CM_DICOM_DEFAULT_MAX_DEPTH;
    lim->max_elements = CM_DICOM_DEFAULT_MAX_ELEMENTS;
    lim->max_bytes = CM_DICOM_DEFAULT_MAX_BYTES;
}

extern "C" int cm_dicom_precheck_file(const uint8_t *buf, size_t len, const cm_dicom_limits *lim, cm_error *err)
{
    start_report(err);
    Reporter rep(err);
    cm_dicom_limits defaults;
    cm_dicom_limits_default(&defaults);
    if (buf == nullptr && len > 0)
        return rep.fail(CM_DICOM_EINPUT, "no data");
    static const uint8_t empty[1] = {0};
    try {
        return check_file(buf ? buf : empty, len, lim ? *lim : defaults, rep);
    } catch (const std::bad_alloc &) {
        return rep.fail(CM_DICOM_ENOMEM, "out of memory");
    }
}

extern "C" int cm_dicom_precheck_dataset(const uint8_t *buf, size_t len, const char *xfer_uid,
                                         const cm_dicom_limits *lim, cm_error *err)
{
    start_report(err);
    Reporter rep(err);
    cm_dicom_limits defaults;
    cm_dicom_limits_default(&defaults);
    if ((buf == nullptr && len > 0) || xfer_uid == nullptr)
        return rep.fail(CM_DICOM_EINPUT, buf == nullptr ? "no data" : "no transfer syntax");
    static const uint8_t empty[1] = {0};
    try {
        uint64_t elements = 0;
        return check_dataset(buf ? buf : empty, len, 0, xfer_uid, lim ? *lim : defaults, ReadOptions::current(), rep,
                             elements);
    } catch (const std::bad_alloc &) {
        return rep.fail(CM_DICOM_ENOMEM, "out of memory");
    }
}
