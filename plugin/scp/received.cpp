/* received.cpp - DIMSE data set -> bounded memory file -> structure check -> DCMTK parse. */
#include "received.h"

#include "chaosmask/app_outcome.h"

#include <dcmtk/dcmdata/dcostrma.h>

#include <cerrno>
#include <cstring>
#include <sys/mman.h>
#include <unistd.h>

namespace chaosmask::scp {
namespace {

/* A DCMTK consumer appending to a memory file, keeping at most cap bytes (the object size
 * limit).  What does not fit, or cannot be written, is read and dropped, never refused:
 * DIMSE_receiveDataSetInFile answers a refused write by waiting for one more PDV, which
 * never comes when the refused one was the last (DCMTK 3.6.7, dimse.cc) - the association
 * would hang until dimse_timeout.  The caller checks failure() once the data set is in. */
class MemfdConsumer : public DcmConsumer {
  public:
    MemfdConsumer(int fd, uint64_t cap) : fd_(fd), cap_(cap) {}
    OFBool good() const override { return OFTrue; }
    OFCondition status() const override { return EC_Normal; }
    OFBool isFlushed() const override { return OFTrue; }
    offile_off_t avail() const override { return OFstatic_cast(offile_off_t, 1 << 30); }
    void flush() override {}
    offile_off_t write(const void *buf, offile_off_t len) override
    {
        if (failed_ == 0 && written_ + static_cast<uint64_t>(len) > cap_)
            failed_ = EFBIG;
        const char *p = static_cast<const char *>(buf);
        for (offile_off_t done = 0; failed_ == 0 && done < len;) {
            ssize_t n = ::write(fd_, p + done, static_cast<size_t>(len - done));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                failed_ = n < 0 ? errno : ENOSPC;
            else
                done += n, written_ += static_cast<uint64_t>(n);
        }
        return len;
    }
    uint64_t written() const { return written_; }
    int failure() const { return failed_; }

  private:
    int fd_;
    uint64_t cap_;
    uint64_t written_ = 0;
    int failed_ = 0;
};

class MemfdStream : public DcmOutputStream {
  public:
    MemfdStream(int fd, uint64_t cap) : DcmOutputStream(&consumer_), consumer_(fd, cap) {}
    const MemfdConsumer &consumer() const { return consumer_; }

  private:
    MemfdConsumer consumer_;
};

/* Closes a descriptor at the end of a scope. */
struct FdCloser {
    int fd;
    ~FdCloser()
    {
        if (fd >= 0)
            close(fd);
    }
};

} // namespace

std::string accepted_transfer_syntax(T_ASC_Association *assoc, T_ASC_PresentationContextID pc)
{
    T_ASC_PresentationContext ctx;
    if (ASC_findAcceptedPresentationContext(assoc->params, pc, &ctx).bad())
        return "";
    return ctx.acceptedTransferSyntax;
}

ReceivedDataset::~ReceivedDataset()
{
    cm_dicom_free(obj_);
    if (fd_ >= 0)
        close(fd_);
}

int ReceivedDataset::reparse()
{
    if (fd_ < 0)
        return code_ = cm_fail(&err_, CM_APP_EINTERNAL, "no received data set to parse again");
    cm_dicom_free(obj_);
    obj_ = nullptr;
    return code_ = parse_memfd(fd_, limits_);
}

cm_dicom_object *ReceivedDataset::release()
{
    cm_dicom_object *o = obj_;
    obj_ = nullptr;
    return o;
}

OFCondition ReceivedDataset::receive(T_ASC_Association *assoc, T_ASC_PresentationContextID pc, int timeout,
                                     const cm_dicom_limits &limits)
{
    xfer_ = accepted_transfer_syntax(assoc, pc);
    FdCloser fd{memfd_create("chaosmask-received", MFD_CLOEXEC)};
    if (fd.fd < 0) {
        code_ = cm_fail(&err_, CM_APP_ENOMEM, "cannot create a memory file: %s", strerror(errno));
        DIC_UL bytes = 0, pdvs = 0;
        return DIMSE_ignoreDataSet(assoc, DIMSE_NONBLOCKING, timeout, &bytes, &pdvs);
    }
    MemfdStream sink(fd.fd, limits.max_bytes);
    T_ASC_PresentationContextID data_pc = 0;
    OFCondition c = DIMSE_receiveDataSetInFile(assoc, DIMSE_NONBLOCKING, timeout, &data_pc, &sink, nullptr, nullptr);
    bytes_ = sink.consumer().written();
    if (c.bad())
        return c;
    if (int why = sink.consumer().failure()) {
        code_ = sink_failure(why, limits);
        return EC_Normal;
    }
    if (data_pc != pc) {
        code_ = cm_fail(&err_, CM_APP_EMISMATCH, "the data set came on another presentation context than its command");
        return EC_Normal;
    }
    if ((code_ = parse_memfd(fd.fd, limits)) == 0)
        keep(fd.fd, limits);
    return EC_Normal;
}

int ReceivedDataset::receive_bytes(const uint8_t *data, size_t len, const char *xfer, const cm_dicom_limits &limits)
{
    xfer_ = xfer;
    FdCloser fd{memfd_create("chaosmask-received", MFD_CLOEXEC)};
    if (fd.fd < 0)
        return code_ = cm_fail(&err_, CM_APP_ENOMEM, "cannot create a memory file: %s", strerror(errno));
    MemfdConsumer consumer(fd.fd, limits.max_bytes); /* the consumer DIMSE writes to */
    consumer.write(data, static_cast<offile_off_t>(len));
    bytes_ = consumer.written();
    if (int why = consumer.failure())
        return code_ = sink_failure(why, limits);
    if ((code_ = parse_memfd(fd.fd, limits)) == 0)
        keep(fd.fd, limits);
    return code_;
}

/* A parsed data set keeps its memory file (for reparse). */
void ReceivedDataset::keep(int &fd, const cm_dicom_limits &limits)
{
    if (fd_ >= 0)
        close(fd_);
    fd_ = fd;
    fd = -1;
    limits_ = limits;
}

/* Why the memory file did not take the whole data set. */
int ReceivedDataset::sink_failure(int why, const cm_dicom_limits &limits)
{
    if (why == EFBIG)
        return cm_fail(&err_, CM_APP_ELIMIT,
                       "the data set is larger than the %llu bytes the service accepts ([scp] and [dicom] "
                       "max_object_size)",
                       static_cast<unsigned long long>(limits.max_bytes));
    return cm_fail(&err_, CM_APP_ENOMEM, "no memory for the data set: %s", strerror(why));
}

/* Maps the memory file (no copy) for the structure check and the parse, which copies it. */
int ReceivedDataset::parse_memfd(int fd, const cm_dicom_limits &limits)
{
    if (bytes_ == 0)
        return cm_fail(&err_, CM_DICOM_EINPUT, "the data set is empty");
    void *map = mmap(nullptr, static_cast<size_t>(bytes_), PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED)
        return cm_fail(&err_, CM_APP_ENOMEM, "cannot map the received data set: %s", strerror(errno));
    int rc = cm_dicom_parse(&obj_, static_cast<const uint8_t *>(map), static_cast<size_t>(bytes_), xfer_.c_str(),
                            &limits, &err_);
    munmap(map, static_cast<size_t>(bytes_));
    if (rc == 0)
        cm_dicom_release_bytes(obj_); /* parsed: the copy of the bytes is not needed */
    return rc;
}

} // namespace chaosmask::scp
