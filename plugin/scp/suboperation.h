/*
 * suboperation.h - one C-GET or C-MOVE sub-operation: read the archive file (structure check
 * first), apply the retrieval filter (authenticate; unmask in memory for `decrypted`), choose
 * the presentation context by SOP class and stored transfer syntax, decode in memory when the
 * peer accepted only an uncompressed syntax and DCMTK can decode the stored one, and send the
 * data set from memory with a C-STORE on the target association (the requester's for C-GET,
 * the destination's for C-MOVE).
 */
#ifndef CHAOSMASK_SCP_SUBOPERATION_H
#define CHAOSMASK_SCP_SUBOPERATION_H

#include "session.h"

#include <dcmtk/dcmnet/dimse.h>

#include <string>

namespace chaosmask::scp {

/* What a sub-operation did. */
struct SubResult {
    int code = 0;              /* 0: sent and answered; else why it failed (never sent, or the send failed) */
    cm_error err = {0, ""};
    std::string sent_as;       /* "decrypted", "encrypted", "as stored (nothing to protect)" */
    std::string transfer_syntax; /* UID it was sent in */
    int peer_status = -1;      /* the C-STORE status the peer answered */
    bool network_failed = false; /* the target association is gone: the remaining sub-operations fail too */
    bool cancelled = false;    /* C-GET: a C-CANCEL arrived during the send */
};

class SubOperation {
  public:
    /* target: where the C-STOREs go; for_get: the requester's association, whose storage
     * contexts must be ones where the requester is the SCP; mode: CM_RETRIEVE_DECRYPTED or
     * _ENCRYPTED; move_originator: the requester's AE title for C-MOVE, else NULL. */
    SubOperation(Session &s, T_ASC_Association *target, bool for_get, int mode, const char *move_originator,
                 DIC_US originator_id)
        : s_(s), target_(target), for_get_(for_get), mode_(mode), originator_(move_originator),
          originator_id_(originator_id)
    {
    }

    /* cancel_pc/cancel_msg: the C-GET request, whose C-CANCEL the send watches for. */
    SubResult run(const Match &m, T_DIMSE_Priority prio, T_ASC_PresentationContextID cancel_pc, DIC_US cancel_msg);

    /* The first step of run(): the archive file of m read (structure check first) and put
     * under the policy - decrypted in memory, or verified; *obj is the caller's to free (also
     * on failure).  0, or why it is never sent (r.code, r.err).  Needs no association. */
    int load(const Match &m, cm_dicom_object **obj, SubResult &r);

  private:
    T_ASC_PresentationContextID choose(const std::string &sop_class, E_TransferSyntax stored, std::string &ts_uid);
    int convert(cm_dicom_object *obj, E_TransferSyntax stored, const std::string &ts_uid, SubResult &r);
    void send(const Match &m, cm_dicom_object *obj, T_ASC_PresentationContextID pc, T_DIMSE_Priority prio,
              T_ASC_PresentationContextID cancel_pc, DIC_US cancel_msg, SubResult &r);

    Session &s_;
    T_ASC_Association *target_;
    bool for_get_;
    int mode_;
    const char *originator_;
    DIC_US originator_id_;
};

} // namespace chaosmask::scp

#endif
