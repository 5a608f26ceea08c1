/*
 * received.h - a data set that follows a DIMSE command (a C-STORE object, a C-FIND, C-GET or
 * C-MOVE identifier), received into memory without DCMTK parsing it on the way in.
 *
 * DIMSE_receiveDataSetInFile copies the raw PDV bytes into a memory file (memfd_create: no
 * name in any file system, gone when closed) whose size is capped; then the structure check
 * of dicom_precheck.h runs on those bytes and only then does DCMTK parse them
 * (cm_dicom_parse).  So the data set never exists on disk in clear, and DCMTK's recursive
 * parser never meets an unchecked network byte: a 20,000-deep data set is refused with a
 * status, not a crash.
 */
#ifndef CHAOSMASK_SCP_RECEIVED_H
#define CHAOSMASK_SCP_RECEIVED_H

#include "chaosmask/dicom.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/dimse.h>

#include <cstdint>
#include <string>

namespace chaosmask::scp {

class ReceivedDataset {
  public:
    ReceivedDataset() = default;
    ~ReceivedDataset();
    ReceivedDataset(const ReceivedDataset &) = delete;
    ReceivedDataset &operator=(const ReceivedDataset &) = delete;

    /* Receives the data set of the command that arrived on presentation context pc.
     * Returns the network condition: bad = the association cannot go on (abort it).  When
     * good, code() is 0 and object() the parsed data set, or code() says why the data set
     * was refused (CM_APP_ELIMIT: larger than max_bytes; CM_DICOM_EINPUT/ESTRUCTURE: the
     * structure check or the parse; CM_APP_EMISMATCH: sent on another presentation
     * context) and message() explains it; the rest of the data set was read and dropped. */
    OFCondition receive(T_ASC_Association *assoc, T_ASC_PresentationContextID pc, int timeout,
                        const cm_dicom_limits &limits);

    /* The same path for data set bytes already in memory, as they would arrive in the
     * transfer syntax xfer: copied into a memory file capped at limits.max_bytes, then the
     * structure check and the parse.  Returns code().  (The fuzz harnesses of tests/fuzz/scp
     * feed the service's receive path this way; there is no network to read from.) */
    int receive_bytes(const uint8_t *data, size_t len, const char *xfer, const cm_dicom_limits &limits);

    /* The data set parsed again from the bytes as received (the memory file is kept until
     * the ReceivedDataset goes): for an object an operation changed in memory that must be
     * stored as received.  Returns code(). */
    int reparse();

    int code() const { return code_; }
    const char *message() const { return err_.msg; }
    cm_dicom_object *object() const { return obj_; }
    /* Hands the object over to the caller (who frees it). */
    cm_dicom_object *release();
    uint64_t bytes() const { return bytes_; }            /* data set bytes received */
    const std::string &transfer_syntax() const { return xfer_; } /* UID of the presentation context */

  private:
    int sink_failure(int why, const cm_dicom_limits &limits);
    void keep(int &fd, const cm_dicom_limits &limits);
    int parse_memfd(int fd, const cm_dicom_limits &limits);

    cm_dicom_object *obj_ = nullptr;
    int fd_ = -1;                 /* the memory file of a parsed data set */
    cm_dicom_limits limits_{};    /* what it was parsed under */
    uint64_t bytes_ = 0;
    std::string xfer_;
    int code_ = 0;
    cm_error err_ = {0, ""};
};

/* The transfer syntax UID accepted on presentation context pc ("" when there is none). */
std::string accepted_transfer_syntax(T_ASC_Association *assoc, T_ASC_PresentationContextID pc);

} // namespace chaosmask::scp

#endif
