/* file.cpp - the file side of dicom/: read a DICOM Part 10 file completely into memory, check
 * its structure (dicom_precheck.h) and let DCMTK parse those same bytes, run the dataset
 * operation, and write the result atomically (temporary file in the output's
 * directory, write(2) with every error checked, fsync, rename, fsync of the directory).
 * The C API of dicom.h lives here. */
#include "internal.h"

#include "chaosmask/dicom_dataset.h"
#include "chaosmask/dicom_precheck.h"

#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcostrma.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <libgen.h>
#include <new>
#include <sys/stat.h>
#include <memory>
#include <unistd.h>

namespace chaosmask {
namespace {

/* A DCMTK consumer writing to a file descriptor with write(2), keeping the first error:
 * DCMTK's own file stream loses errors of the final flush (a full disk). */
class FdConsumer : public DcmConsumer {
  public:
    explicit FdConsumer(int fd) : fd_(fd) {}
    OFBool good() const override { return status_.good(); }
    OFCondition status() const override { return status_; }
    OFBool isFlushed() const override { return OFTrue; }
    offile_off_t avail() const override { return status_.good() ? OFstatic_cast(offile_off_t, 1 << 30) : 0; }
    offile_off_t write(const void *buf, offile_off_t buflen) override
    {
        const char *p = static_cast<const char *>(buf);
        offile_off_t done = 0;
        while (status_.good() && done < buflen) {
            ssize_t n = ::write(fd_, p + done, static_cast<size_t>(buflen - done));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                errno_ = n < 0 ? errno : ENOSPC;
                status_ = makeOFCondition(OFM_dcmdata, 901, OF_error, strerror(errno_));
                break;
            }
            done += n;
        }
        return done;
    }
    void flush() override {}
    int error_number() const { return errno_; }

  private:
    int fd_;
    int errno_ = 0;
    OFCondition status_ = EC_Normal;
};

class FdOutputStream : public DcmOutputStream {
  public:
    explicit FdOutputStream(int fd) : DcmOutputStream(&consumer_), consumer_(fd) {}
    const FdConsumer &consumer() const { return consumer_; }

  private:
    FdConsumer consumer_;
};

/* Sequences written with undefined length when the object came that way (the DCMTK default
 * otherwise), so an unchanged object is rewritten byte for byte. */
bool has_undefined_length_sequence(DcmItem &item)
{
    for (unsigned long i = 0; i < item.card(); ++i) {
        DcmElement *e = item.getElement(i);
        if (e == nullptr || e->ident() != EVR_SQ)
            continue;
        DcmSequenceOfItems *sq = static_cast<DcmSequenceOfItems *>(e);
        if (sq->getLengthField() == DCM_UndefinedLength)
            return true;
        for (unsigned long k = 0; k < sq->card(); ++k) {
            DcmItem *it = sq->getItem(k);
            if (it != nullptr && (it->getLengthField() == DCM_UndefinedLength || has_undefined_length_sequence(*it)))
                return true;
        }
    }
    return false;
}


/* Reads a regular file completely.  A file larger than any data set the structure check
 * accepts is refused before its bytes are read. */
int read_whole_file(const char *path, std::unique_ptr<uint8_t[]> &out, size_t &len, cm_dicom_error *err)
{
    /* O_NONBLOCK: opening a FIFO must not wait for a writer before it is refused below. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return dicom_fail(err, CM_DICOM_EINPUT, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return dicom_fail(err, CM_DICOM_EINPUT, "%s: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return dicom_fail(err, CM_DICOM_EINPUT, "%s: not a regular file", path);
    }
    /* Room for a preamble and a meta group of any sane size on top of the data set limit. */
    const uint64_t size = static_cast<uint64_t>(st.st_size);
    if (size > CM_DICOM_DEFAULT_MAX_BYTES + (UINT64_C(16) << 20) || size > SIZE_MAX) {
        close(fd);
        return dicom_fail(err, CM_DICOM_ESTRUCTURE,
                          "%s: the file has %llu bytes, more than a data set of at most %llu bytes can take; "
                          "raise [dicom] max_bytes if such objects are legitimate",
                          path, static_cast<unsigned long long>(size),
                          static_cast<unsigned long long>(CM_DICOM_DEFAULT_MAX_BYTES));
    }
    out.reset(new (std::nothrow) uint8_t[size ? static_cast<size_t>(size) : 1]);
    if (!out) {
        close(fd);
        return dicom_fail(err, CM_DICOM_ENOMEM, "%s: out of memory for %llu bytes", path,
                          static_cast<unsigned long long>(size));
    }
    size_t done = 0;
    while (done < size) {
        ssize_t n = read(fd, out.get() + done, static_cast<size_t>(size) - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            return dicom_fail(err, CM_DICOM_EINPUT, "%s: %s", path, strerror(e));
        }
        if (n == 0)
            break; /* shrank since fstat: check and parse what is there */
        done += static_cast<size_t>(n);
    }
    close(fd);
    len = done;
    return 0;
}

int fsync_dir(const std::string &dir)
{
    int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* Creates tmp (its last six characters replaced by random ones) with O_EXCL and mode 0666, so
 * the kernel applies the umask: no process-wide umask() call, which would race with other
 * threads creating files. */
int create_temp(std::string &tmp)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    for (int attempt = 0; attempt < 100; ++attempt) {
        uint8_t r[6];
        if (cm_random(r, sizeof r) != 0)
            return -1;
        for (size_t i = 0; i < 6; ++i)
            tmp[tmp.size() - 6 + i] = alphabet[r[i] % (sizeof alphabet - 1)];
        int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    return -1;
}

/* Writes ff to out_path through a temporary file in the same directory.  mode_from: a file
 * whose permissions the output takes (in-place), or NULL for 0666 & ~umask. */
int save_atomic(DcmFileFormat &ff, E_EncodingType enc, const char *out_path, const char *mode_from,
                cm_dicom_error *err)
{
    std::string out(out_path);
    std::string dir_buf(out), base_buf(out);
    std::string dir = dirname(&dir_buf[0]);
    std::string base = basename(&base_buf[0]);
    std::string tmp = dir + "/." + base + ".chaosmask-XXXXXX";
    int fd = create_temp(tmp);
    if (fd < 0)
        return dicom_fail(err, CM_DICOM_EIO, "%s: cannot create a temporary file in %s: %s", out_path, dir.c_str(),
                          strerror(errno));
    struct stat st;
    const bool keep_mode = mode_from != nullptr && stat(mode_from, &st) == 0;
    const char *failed = nullptr;
    std::string write_error;
    int saved_errno = 0;
    {
        E_TransferSyntax xfer = ff.getDataset()->getOriginalXfer();
        FdOutputStream stream(fd);
        ff.transferInit();
        /* Group lengths are kept as received (no value changes length) unless our group has one. */
        E_GrpLenEncoding gl =
            ff.getDataset()->tagExists(DcmTagKey(CM_DICOM_PRIVATE_GROUP, 0x0000)) ? EGL_recalcGL : EGL_noChange;
        /* The meta header is written exactly as read, so an unchanged object is rewritten
         * byte for byte (DCMTK would otherwise stamp its own implementation UID). */
        OFCondition c = ff.write(stream, xfer, enc, nullptr, gl, EPD_noChange, 0, 0, 0, EWM_dontUpdateMeta);
        ff.transferEnd();
        if (c.good()) {
            stream.flush();
            c = stream.status();
        }
        if (c.good() && !stream.isFlushed())
            c = makeOFCondition(OFM_dcmdata, 902, OF_error, "output not flushed");
        if (c.bad()) {
            saved_errno = stream.consumer().error_number();
            write_error = saved_errno ? "write" : std::string("encoding: ") + c.text();
            failed = write_error.c_str();
        }
    }
    if (failed == nullptr && keep_mode && fchmod(fd, st.st_mode & 07777) != 0)
        failed = "chmod", saved_errno = errno;
    if (failed == nullptr && fsync(fd) != 0)
        failed = "fsync", saved_errno = errno;
    if (close(fd) != 0 && failed == nullptr)
        failed = "close", saved_errno = errno;
    if (failed == nullptr && rename(tmp.c_str(), out_path) != 0)
        failed = "rename", saved_errno = errno;
    if (failed != nullptr) {
        unlink(tmp.c_str());
        return dicom_fail(err, CM_DICOM_EIO, "%s: could not be written (%s%s%s); nothing was changed", out_path,
                          failed, saved_errno ? ": " : "", saved_errno ? strerror(saved_errno) : "");
    }
    if (fsync_dir(dir) != 0)
        return dicom_fail(err, CM_DICOM_EIO, "%s: written, but the directory %s could not be synced: %s", out_path,
                          dir.c_str(), strerror(errno));
    return 0;
}

/* In place (the same path twice) writes to the file itself, behind any symlink: replacing the
 * link would leave the real file as it was.  Another name for IN (a hard link, a second
 * symlink) is refused: writing it would leave IN's content under its other name. */
int output_target(const char *in_path, const char *out_path, std::string &target, bool &in_place,
                  cm_dicom_error *err)
{
    in_place = strcmp(in_path, out_path) == 0;
    if (in_place) {
        char *real = realpath(in_path, nullptr);
        if (real == nullptr)
            return dicom_fail(err, CM_DICOM_EINPUT, "%s: %s", in_path, strerror(errno));
        target = real;
        free(real);
        return 0;
    }
    struct stat a, b;
    if (stat(in_path, &a) == 0 && stat(out_path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
        return dicom_fail(err, CM_DICOM_EINTERNAL, "%s and %s are the same file: use the same path to work in place",
                          in_path, out_path);
    target = out_path;
    return 0;
}

template <typename Op>
int run_on_file(const char *in_path, const char *out_path, cm_dicom_error *err, Op op)
{
    if (err != nullptr) {
        err->code = 0;
        err->message[0] = '\0';
    }
    if (in_path == nullptr || out_path == nullptr)
        return dicom_fail(err, CM_DICOM_EINTERNAL, "no input or output path");
    try {
        bool in_place = false;
        std::string target;
        int rc = output_target(in_path, out_path, target, in_place, err);
        if (rc)
            return rc;
        DcmFileFormat ff;
        E_EncodingType enc = EET_ExplicitLength;
        if ((rc = file_load(in_path, ff, enc, err)))
            return rc;
        if ((rc = op(*ff.getDataset())))
            return rc;
        return save_atomic(ff, enc, target.c_str(), in_place ? target.c_str() : nullptr, err);
    } catch (const std::bad_alloc &) {
        return dicom_fail(err, CM_DICOM_ENOMEM, "out of memory");
    }
}

} // namespace

int file_load(const char *path, DcmFileFormat &ff, E_EncodingType &enc, cm_dicom_error *err)
{
    dicom_register_dictionary();
    std::unique_ptr<uint8_t[]> bytes;
    size_t len = 0;
    if (int rc = read_whole_file(path, bytes, len, err))
        return rc;
    /* The structure check runs on the very bytes DCMTK then parses: no second read of a file
     * that could have changed in between. */
    cm_error pre;
    int rc = cm_dicom_precheck_file(bytes.get(), len, nullptr, &pre);
    if (rc == CM_DICOM_EINPUT)
        return dicom_fail(err, rc, "%s: not a readable DICOM Part 10 file: %s", path, pre.msg);
    if (rc)
        return dicom_fail(err, rc, "%s: %s", path, pre.msg);
    /* A buffer stream has no delayed loading: every value is copied into the dataset while it
     * is read, so the buffer can go right after. */
    OFCondition c;
    {
        DcmInputBufferStream stream;
        stream.setBuffer(bytes.get(), static_cast<offile_off_t>(len));
        stream.setEos();
        const E_FileReadMode mode = ff.getReadMode();
        ff.setReadMode(ERM_fileOnly);
        ff.transferInit();
        c = ff.read(stream, EXS_Unknown, EGL_noChange, DCM_MaxReadLength);
        ff.transferEnd();
        ff.setReadMode(mode);
    }
    bytes.reset();
    if (c.bad())
        return dicom_fail(err, CM_DICOM_EINPUT, "%s: not a readable DICOM Part 10 file: %s", path, c.text());
    c = ff.loadAllDataIntoMemory();
    if (c.bad())
        return dicom_fail(err, CM_DICOM_EINPUT, "%s: the file is truncated or damaged: %s", path, c.text());
    DcmDataset *ds = ff.getDataset();
    if (ds == nullptr || ds->getOriginalXfer() == EXS_Unknown)
        return dicom_fail(err, CM_DICOM_EINPUT, "%s: the transfer syntax cannot be determined", path);
    if (ds->card() == 0)
        return dicom_fail(err, CM_DICOM_EINPUT, "%s: the dataset is empty", path);
    enc = has_undefined_length_sequence(*ds) ? EET_UndefinedLength : EET_ExplicitLength;
    return 0;
}

} // namespace chaosmask

using namespace chaosmask;

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
    case CM_DICOM_EBLOCK: return "private block damaged";
    case CM_DICOM_EKEYID: return "unknown key id";
    case CM_DICOM_EAUTH: return "authentication failed";
    case CM_DICOM_EIO: return "output could not be written";
    case CM_DICOM_ENOMEM: return "out of memory";
    case CM_DICOM_EINTERNAL: return "internal error";
    case CM_DICOM_ESTRUCTURE: return "structure limits exceeded (refused before parsing)";
    default: return "unknown error";
    }
}

extern "C" int cm_dicom_encrypt_file(const char *in_path, const char *out_path, const cm_dicom_encrypt_params *params,
                                     cm_dicom_error *err)
{
    if (params == nullptr)
        return dicom_fail(err, CM_DICOM_EINTERNAL, "no parameters");
    return run_on_file(in_path, out_path, err, [&](DcmDataset &ds) {
        return dicom_encrypt_dataset(ds, EXS_Unknown, *params, err);
    });
}

extern "C" int cm_dicom_decrypt_file(const char *in_path, const char *out_path, cm_dicom_key_fn key_fn,
                                     void *key_user, unsigned threads, cm_dicom_error *err)
{
    return run_on_file(in_path, out_path, err, [&](DcmDataset &ds) {
        return dicom_decrypt_dataset(ds, EXS_Unknown, key_fn, key_user, threads, err);
    });
}

extern "C" int cm_dicom_copy_file(const char *in_path, const char *out_path, cm_dicom_error *err)
{
    return run_on_file(in_path, out_path, err, [](DcmDataset &) { return 0; });
}

extern "C" int cm_dicom_verify_file(const char *in_path, cm_dicom_key_fn key_fn, void *key_user,
                                    cm_dicom_error *err)
{
    try {
        DcmFileFormat ff;
        E_EncodingType enc;
        int rc = file_load(in_path, ff, enc, err);
        if (rc)
            return rc;
        return dicom_verify_dataset(*ff.getDataset(), EXS_Unknown, key_fn, key_user, err);
    } catch (const std::bad_alloc &) {
        return dicom_fail(err, CM_DICOM_ENOMEM, "out of memory");
    }
}

extern "C" int cm_dicom_inspect_file(const char *in_path, cm_dicom_info *info, cm_dicom_error *err)
{
    try {
        DcmFileFormat ff;
        E_EncodingType enc;
        int rc = file_load(in_path, ff, enc, err);
        if (rc)
            return rc;
        return dicom_inspect_dataset(*ff.getDataset(), EXS_Unknown, info, err);
    } catch (const std::bad_alloc &) {
        return dicom_fail(err, CM_DICOM_ENOMEM, "out of memory");
    }
}
