/* object.cpp - one DICOM object in memory (dicom.h): read a file completely (one read) or take
 * bytes from the caller, check their structure (dicom_precheck.h), let DCMTK parse those same
 * bytes, and write the object to a descriptor the caller owns (the application layer's atomic
 * writer, or a memory file in the service).  dicom/ never creates a file itself. */
#include "internal.h"

#include "chaosmask/dicom_dataset.h"
#include "chaosmask/dicom_precheck.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcostrma.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/oflog/oflog.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <new>
#include <sys/stat.h>
#include <unistd.h>

using namespace chaosmask;

namespace chaosmask {
namespace {

/* A DCMTK consumer writing to a file descriptor with write(2) through a 64 KiB buffer (DCMTK
 * hands over every element header and value separately), keeping the first error: DCMTK's own
 * file stream loses errors of the final flush (a full disk). */
class FdConsumer : public DcmConsumer {
  public:
    explicit FdConsumer(int fd) : fd_(fd), buf_(new char[BUFSIZE]) {}
    OFBool good() const override { return status_.good(); }
    OFCondition status() const override { return status_; }
    OFBool isFlushed() const override { return used_ == 0; }
    offile_off_t avail() const override { return status_.good() ? OFstatic_cast(offile_off_t, 1 << 30) : 0; }
    offile_off_t write(const void *buf, offile_off_t buflen) override
    {
        const char *p = static_cast<const char *>(buf);
        size_t len = static_cast<size_t>(buflen);
        if (used_ + len <= BUFSIZE) {
            memcpy(buf_.get() + used_, p, len);
            used_ += len;
            return buflen;
        }
        flush();
        if (len < BUFSIZE) {
            memcpy(buf_.get(), p, len);
            used_ = len;
            return status_.good() ? buflen : 0;
        }
        return status_.good() ? static_cast<offile_off_t>(write_all(p, len)) : 0;
    }
    void flush() override
    {
        if (used_ > 0)
            write_all(buf_.get(), used_);
        used_ = 0;
    }
    int error_number() const { return errno_; }

  private:
    static const size_t BUFSIZE = 64 * 1024;
    size_t write_all(const char *p, size_t len)
    {
        size_t done = 0;
        while (status_.good() && done < len) {
            ssize_t n = ::write(fd_, p + done, len - done);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                errno_ = n < 0 ? errno : ENOSPC;
                status_ = makeOFCondition(OFM_dcmdata, 901, OF_error, strerror(errno_));
                break;
            }
            done += static_cast<size_t>(n);
        }
        return done;
    }
    int fd_;
    std::unique_ptr<char[]> buf_;
    size_t used_ = 0;
    int errno_ = 0;
    OFCondition status_ = EC_Normal;
};

class FdOutputStream : public DcmOutputStream {
  public:
    explicit FdOutputStream(int fd) : DcmOutputStream(&consumer_), consumer_(fd) {}
    FdConsumer &consumer() { return consumer_; }

  private:
    FdConsumer consumer_;
};

/* Sequences written with undefined length when the object came that way (the DCMTK default
 * otherwise), so an unchanged object is rewritten byte for byte. */
bool has_undefined_length_sequence(DcmItem &item)
{
    for (DcmElement *e = next_element(item, nullptr); e != nullptr; e = next_element(item, e)) {
        if (e->ident() != EVR_SQ)
            continue;
        DcmSequenceOfItems *sq = static_cast<DcmSequenceOfItems *>(e);
        if (sq->getLengthField() == DCM_UndefinedLength)
            return true;
        for (DcmItem *it = next_item(*sq, nullptr); it != nullptr; it = next_item(*sq, it))
            if (it->getLengthField() == DCM_UndefinedLength || has_undefined_length_sequence(*it))
                return true;
    }
    return false;
}

/* Reads a regular file completely.  A file larger than any data set the limits accept (plus
 * room for a preamble and meta group) is refused before its bytes are read. */
int read_whole_file(const char *path, uint64_t max_bytes, std::unique_ptr<uint8_t[]> &out, size_t &len,
                    cm_error *err)
{
    /* O_NONBLOCK: opening a FIFO must not wait for a writer before it is refused below. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return cm_fail(err, CM_DICOM_EINPUT, "%s", strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return cm_fail(err, CM_DICOM_EINPUT, "%s", strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return cm_fail(err, CM_DICOM_EINPUT, "not a regular file");
    }
    const uint64_t size = static_cast<uint64_t>(st.st_size);
    if (size > max_bytes + (UINT64_C(16) << 20) || size > SIZE_MAX) {
        close(fd);
        return cm_fail(err, CM_DICOM_ESTRUCTURE,
                          "the file has %llu bytes, more than an object of at most %llu bytes can take; raise "
                          "[dicom] max_object_size if such objects are legitimate",
                          static_cast<unsigned long long>(size), static_cast<unsigned long long>(max_bytes));
    }
    out.reset(new (std::nothrow) uint8_t[size ? static_cast<size_t>(size) : 1]);
    if (!out) {
        close(fd);
        return cm_fail(err, CM_DICOM_ENOMEM, "out of memory for %llu bytes", static_cast<unsigned long long>(size));
    }
    size_t done = 0;
    while (done < size) {
        ssize_t n = read(fd, out.get() + done, static_cast<size_t>(size) - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            return cm_fail(err, CM_DICOM_EINPUT, "%s", strerror(e));
        }
        if (n == 0)
            break; /* shrank since fstat: check and parse what is there */
        done += static_cast<size_t>(n);
    }
    close(fd);
    len = done;
    return 0;
}

/* The data set holds an element of this (private) group already. */
bool group_present(DcmDataset &ds, Uint16 group)
{
    for (DcmObject *e = ds.nextInContainer(nullptr); e != nullptr; e = ds.nextInContainer(e))
        if (e->getGTag() == group)
            return true;
    return false;
}

/* An element above group 0002 that DCMTK read as part of the meta header (a damaged file)
 * belongs to the data set: it goes there at once, unless the data set has its own, so that
 * what is encrypted, bound and written is what the file holds, and nothing is lost.  A private
 * element goes only into a group the data set does not use (else it would land under another
 * private creator).  In a data set without VRs (implicit VR) it goes only if its VR is the
 * one the dictionary gives its tag: a reader takes the VR, and with it the structure and the
 * value's reading, from the dictionary (an OB value of a sequence tag would be read as items
 * and fail; an SH value of a UI tag loses its spaces and its padding changes).
 * One below group 0002 (command or reserved groups) has no place in a data set and is
 * dropped when the object is written (drop_foreign_meta_elements), as are those not moved. */
void move_foreign_meta_elements(DcmMetaInfo &meta, DcmDataset &ds)
{
    const bool implicit = DcmXfer(ds.getOriginalXfer()).isImplicitVR();
    for (DcmObject *e = meta.nextInContainer(nullptr); e != nullptr;) {
        DcmObject *next = meta.nextInContainer(e);
        const DcmTagKey key = e->getTag();
        const bool structure_kept = !implicit || DcmTag(key).getEVR() == e->getVR();
        if (key.getGroup() > 0x0002 && !ds.tagExists(key) && structure_kept &&
            !(key.isPrivate() && group_present(ds, key.getGroup()))) {
            std::unique_ptr<DcmElement> moved(meta.remove(e));
            if (moved && ds.insert(moved.get(), OFFalse).good())
                moved.release(); /* the data set owns it */
        }
        e = next;
    }
}

/* An element of group 0002 that DCMTK read into the data set of a Part 10 file (a meta header
 * without group length that an element of another group interrupts) belongs to the meta
 * header: written after it, it is read back as part of it, and what decrypts would not be
 * what was encrypted.  It goes there at once, unless the meta header has its own; a second
 * copy is dropped (the data set may hold no group 0002, and a reader keeps one of the two). */
void move_meta_elements_of_dataset(DcmDataset &ds, DcmMetaInfo &meta)
{
    for (DcmObject *e = ds.nextInContainer(nullptr); e != nullptr;) {
        DcmObject *next = ds.nextInContainer(e);
        if (e->getGTag() == 0x0002) {
            std::unique_ptr<DcmElement> moved(ds.remove(e));
            if (moved && !meta.tagExists(moved->getTag()) && meta.insert(moved.get(), OFFalse).good())
                moved.release(); /* the meta header owns it */
        }
        e = next;
    }
}

/* DCMTK parses the bytes (a Part 10 file, or a bare data set in xfer) into obj's file format.
 * A buffer stream has no delayed loading: every value is copied into the data set. */
int parse_bytes(cm_dicom_object &obj, E_TransferSyntax xfer, cm_error *err)
{
    DcmFileFormat &ff = obj.ff;
    OFCondition c;
    {
        DcmInputBufferStream stream;
        stream.setBuffer(obj.bytes.get(), static_cast<offile_off_t>(obj.len));
        stream.setEos();
        if (xfer == EXS_Unknown) {
            const E_FileReadMode mode = ff.getReadMode();
            ff.setReadMode(ERM_fileOnly);
            ff.transferInit();
            c = ff.read(stream, EXS_Unknown, EGL_noChange, DCM_MaxReadLength);
            ff.transferEnd();
            ff.setReadMode(mode);
        } else {
            DcmDataset *ds = ff.getDataset();
            ds->transferInit();
            c = ds->read(stream, xfer, EGL_noChange, DCM_MaxReadLength);
            ds->transferEnd();
        }
    }
    if (c.bad())
        return cm_fail(err, CM_DICOM_EINPUT, "not a readable DICOM %s: %s",
                          xfer == EXS_Unknown ? "Part 10 file" : "data set", c.text());
    DcmDataset *ds = ff.getDataset();
    if (ds->loadAllDataIntoMemory().bad())
        return cm_fail(err, CM_DICOM_EINPUT, "the object is truncated or damaged");
    if (xfer == EXS_Unknown && ff.getMetaInfo() != nullptr) {
        move_foreign_meta_elements(*ff.getMetaInfo(), *ds);
        if (!ff.getMetaInfo()->tagExists(DCM_FileMetaInformationGroupLength)) /* else they stay where read */
            move_meta_elements_of_dataset(*ds, *ff.getMetaInfo());
    }
    if (ds->getOriginalXfer() == EXS_Unknown)
        return cm_fail(err, CM_DICOM_EINPUT, "the transfer syntax cannot be determined");
    if (ds->card() == 0)
        return cm_fail(err, CM_DICOM_EINPUT, "the data set is empty");
    obj.enc = has_undefined_length_sequence(*ds) ? EET_UndefinedLength : EET_ExplicitLength;
    obj.out_xfer = ds->getOriginalXfer();
    return 0;
}

/* Pre-check, then parse. */
int check_and_parse(cm_dicom_object &obj, const char *xfer_uid, const cm_dicom_limits *lim, cm_error *err)
{
    dicom_register_dictionary();
    if (lim != nullptr)
        obj.max_bytes = lim->max_bytes;
    cm_error pre = {0, ""};
    int rc = xfer_uid == nullptr ? cm_dicom_precheck_file(obj.bytes.get(), obj.len, lim, &pre)
                                 : cm_dicom_precheck_dataset(obj.bytes.get(), obj.len, xfer_uid, lim, &pre);
    if (rc == CM_DICOM_EINPUT)
        return cm_fail(err, rc, "not a readable DICOM %s: %s", xfer_uid ? "data set" : "Part 10 file", pre.msg);
    if (rc)
        return cm_fail(err, rc, "%s", pre.msg);
    E_TransferSyntax xfer = EXS_Unknown;
    if (xfer_uid != nullptr) {
        xfer = DcmXfer(xfer_uid).getXfer();
        obj.bare = true;
    }
    return parse_bytes(obj, xfer, err);
}

template <typename Op>
int guarded(cm_error *err, Op op)
{
    try {
        return op();
    } catch (const std::bad_alloc &) {
        return cm_fail(err, CM_DICOM_ENOMEM, "out of memory");
    }
}

/* Elements of another group left in the meta header (those below group 0002: the parse moved
 * those above it into the data set) are not written: one below group 0002 would come before
 * (0002,0000) and make the file unreadable. */
void drop_foreign_meta_elements(DcmMetaInfo &meta)
{
    for (DcmObject *e = meta.nextInContainer(nullptr); e != nullptr;) {
        DcmObject *next = meta.nextInContainer(e);
        if (e->getGTag() != 0x0002)
            delete meta.remove(e);
        e = next;
    }
}

} // namespace
} // namespace chaosmask

extern "C" int cm_dicom_load(cm_dicom_object **out, const char *path, const cm_dicom_limits *lim, cm_error *err)
{
    *out = nullptr;
    cm_dicom_limits def;
    cm_dicom_limits_default(&def);
    const uint64_t max_bytes = (lim ? lim : &def)->max_bytes;
    return guarded(err, [&] {
        std::unique_ptr<cm_dicom_object> obj(new cm_dicom_object);
        int rc = read_whole_file(path, max_bytes, obj->bytes, obj->len, err);
        if (rc == 0)
            rc = check_and_parse(*obj, nullptr, lim, err);
        if (rc == 0)
            *out = obj.release();
        return rc;
    });
}

extern "C" int cm_dicom_parse(cm_dicom_object **out, const uint8_t *bytes, size_t len, const char *xfer_uid,
                              const cm_dicom_limits *lim, cm_error *err)
{
    *out = nullptr;
    if (bytes == nullptr && len > 0)
        return cm_fail(err, CM_DICOM_EINTERNAL, "no bytes");
    return guarded(err, [&] {
        std::unique_ptr<cm_dicom_object> obj(new cm_dicom_object);
        obj->bytes.reset(new uint8_t[len ? len : 1]);
        if (len > 0)
            memcpy(obj->bytes.get(), bytes, len);
        obj->len = len;
        int rc = check_and_parse(*obj, xfer_uid, lim, err);
        if (rc == 0)
            *out = obj.release();
        return rc;
    });
}

extern "C" void cm_dicom_free(cm_dicom_object *obj)
{
    delete obj;
}

extern "C" const uint8_t *cm_dicom_bytes(const cm_dicom_object *obj, size_t *len)
{
    if (len != nullptr)
        *len = obj->bytes ? obj->len : 0;
    return obj->bytes.get();
}

extern "C" void cm_dicom_release_bytes(cm_dicom_object *obj)
{
    obj->bytes.reset();
    obj->len = 0;
}

extern "C" int cm_dicom_write_fd(cm_dicom_object *obj, int fd, int as_read, cm_error *err)
{
    if (as_read) {
        if (!obj->bytes)
            return cm_fail(err, CM_DICOM_EINTERNAL, "the bytes as read were released");
        FdConsumer out(fd);
        out.write(obj->bytes.get(), static_cast<offile_off_t>(obj->len));
        out.flush();
        if (!out.good())
            return cm_fail(err, CM_DICOM_EIO, "write: %s", strerror(out.error_number()));
        return 0;
    }
    return guarded(err, [&] {
        DcmFileFormat &ff = obj->ff;
        DcmDataset *ds = ff.getDataset();
        FdOutputStream stream(fd);
        /* The meta header is written exactly as read, so an unchanged object is rewritten byte for
         * byte (DCMTK would otherwise stamp its own implementation UID); it is updated only where
         * the transfer syntax changed or when there was none (a bare data set). */
        const bool keep_meta = !obj->bare && obj->out_xfer == ds->getOriginalXfer() && !obj->xfer_changed;
        /* ...but its group length must count what is written: DCMTK drops an element it read
         * twice, and a stale (0002,0000) would make readers take data set bytes for meta
         * elements (an object that decrypted fine was written unreadable).  An intact meta
         * header keeps its value. */
        if (ff.getMetaInfo() != nullptr)
            drop_foreign_meta_elements(*ff.getMetaInfo());
        if (keep_meta && ff.getMetaInfo() != nullptr &&
            ff.getMetaInfo()->tagExists(DCM_FileMetaInformationGroupLength))
            ff.getMetaInfo()->computeGroupLengthAndPadding(EGL_recalcGL, EPD_noChange, EXS_LittleEndianExplicit);
        /* Group lengths are kept as received (no value changes length) unless our group has one. */
        E_GrpLenEncoding gl =
            ds->tagExists(DcmTagKey(CM_DICOM_PRIVATE_GROUP, 0x0000)) ? EGL_recalcGL : EGL_noChange;
        ff.transferInit();
        OFCondition c = ff.write(stream, obj->out_xfer, obj->enc, nullptr, gl, EPD_noChange, 0, 0, 0,
                                 keep_meta ? EWM_dontUpdateMeta : EWM_updateMeta);
        ff.transferEnd();
        if (c.good()) {
            stream.flush(); /* a deflated transfer syntax keeps its last bytes in the zlib filter */
            stream.consumer().flush();
            c = stream.status();
            if (c.good())
                c = stream.consumer().status();
        }
        if (c.good() && !stream.isFlushed())
            c = makeOFCondition(OFM_dcmdata, 902, OF_error, "output not flushed");
        if (c.bad()) {
            int e = stream.consumer().error_number();
            return e ? cm_fail(err, CM_DICOM_EIO, "write: %s", strerror(e))
                     : cm_fail(err, CM_DICOM_EINTERNAL, "the object cannot be encoded: %s", c.text());
        }
        return 0;
    });
}

extern "C" const char *cm_dicom_strerror(int code)
{
    switch (code) {
    case CM_DICOM_OK: return "success";
    case CM_DICOM_EINPUT: return "not a readable DICOM file";
    case CM_DICOM_EGEOMETRY: return "pixel attributes inconsistent with the data";
    case CM_DICOM_EUNSUPPORTED: return "unsupported layout";
    case CM_DICOM_ENOTHING: return "nothing to protect";
    case CM_DICOM_EENCRYPTED: return "already encrypted";
    case CM_DICOM_ENOTENCRYPTED: return "not encrypted";
    case CM_DICOM_EBLOCK: return "private block damaged or missing";
    case CM_DICOM_EKEYID: return "unknown key id";
    case CM_DICOM_EAUTH: return "authentication failed";
    case CM_DICOM_EIO: return "output could not be written";
    case CM_DICOM_ENOMEM: return "out of memory";
    case CM_DICOM_EINTERNAL: return "internal error";
    case CM_DICOM_ESTRUCTURE: return "structure limits exceeded (refused before parsing)";
    case CM_DICOM_EIDENTITY: return "patient identity changed since encryption";
    case CM_DICOM_EREENCODED: return "re-encoded in a way that cannot be undone";
    case CM_DICOM_EMASKED: return "already a mask (stripped private block?)";
    default: return "unknown error";
    }
}

extern "C" void cm_dicom_set_log_level(int level)
{
    /* one step quieter than ours: DCMTK's warnings ("meta header not updated") are noise at
     * the default level and appear from -v on */
    OFLogger::LogLevel l = OFLogger::ERROR_LOG_LEVEL;
    if (level >= 5)
        l = OFLogger::TRACE_LOG_LEVEL;
    else if (level >= 4)
        l = OFLogger::DEBUG_LOG_LEVEL;
    else if (level >= 3)
        l = OFLogger::WARN_LOG_LEVEL;
    else if (level <= 0)
        l = OFLogger::FATAL_LOG_LEVEL;
    OFLog::configure(l);
}

namespace chaosmask {

DcmFileFormat &dicom_object_fileformat(cm_dicom_object *obj)
{
    return obj->ff;
}

} // namespace chaosmask
