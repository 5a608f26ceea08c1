/* suboperation.cpp - one C-GET/C-MOVE sub-operation, from the archive file to a C-STORE sent
 * from memory (suboperation.h). */
#include "suboperation.h"

#include "chaosmask/dicom_dataset.h"

#include <dcmtk/dcmdata/dcxfer.h>

#include <cstring>
#include <memory>

namespace chaosmask::scp {
namespace {

/* How well an accepted transfer syntax fits an object stored in `stored`: 0 exact, then
 * the uncompressed ones DCMTK can always write; other syntaxes are never chosen. */
int rank(const char *accepted, E_TransferSyntax stored)
{
    E_TransferSyntax a = DcmXfer(accepted).getXfer();
    if (a == stored)
        return 0;
    if (a == EXS_LittleEndianExplicit)
        return 1;
    if (a == EXS_LittleEndianImplicit)
        return 2;
    if (a == EXS_BigEndianExplicit)
        return 3;
    return -1;
}

} // namespace

/* The archive file as it may be sent under the policy; 0 or why not (then never sent). */
int SubOperation::load(const Match &m, cm_dicom_object **obj, SubResult &r)
{
    if (cm_dicom_load(obj, m.file.c_str(), &s_.svc.archive_limits, &r.err) != 0)
        return r.code = r.err.code;
    cm_dicom_release_bytes(*obj);
    cm_dicom_open_params p = s_.open_params();
    cm_dicom_report rep;
    const E_TransferSyntax stored = dicom_object_xfer(*obj);
    int rc = mode_ == CM_RETRIEVE_DECRYPTED ? cm_dicom_decrypt(*obj, &p, &rep, &r.err)
                                            : cm_dicom_verify(*obj, &p, &rep, &r.err);
    r.sent_as = mode_ == CM_RETRIEVE_DECRYPTED ? "decrypted" : "encrypted";
    if (rc == 0 && mode_ != CM_RETRIEVE_DECRYPTED && dicom_object_xfer(*obj) != stored) {
        /* verifying an encrypted object compressed after its encryption decoded it in
         * memory: the object is sent as stored, read again */
        cm_dicom_free(*obj);
        *obj = nullptr;
        if (cm_dicom_load(obj, m.file.c_str(), &s_.svc.archive_limits, &r.err) != 0)
            return r.code = r.err.code;
        cm_dicom_release_bytes(*obj);
    }
    if (rc != CM_DICOM_ENOTENCRYPTED)
        return r.code = rc;
    /* Stored in clear is right only for an object with nothing to protect. */
    std::unique_ptr<cm_dicom_info> info(new cm_dicom_info);
    cm_error e = {0, ""};
    if (cm_dicom_inspect(*obj, info.get(), &e) != 0 || info->element_count > 0)
        return r.code = cm_fail(&r.err, CM_DICOM_EBLOCK,
                                "the archive object has pixel data but no ChaosMask block (replaced or damaged)");
    r.sent_as = "as stored (nothing to protect)";
    return r.code = 0;
}

/* The accepted context for the SOP class that fits the stored syntax best (C-GET: only
 * contexts where the requester took the storage SCP role). */
T_ASC_PresentationContextID SubOperation::choose(const std::string &sop_class, E_TransferSyntax stored,
                                                 std::string &ts_uid)
{
    T_ASC_PresentationContextID best = 0;
    int best_rank = 99;
    for (int k = 0; k < ASC_countPresentationContexts(target_->params); k++) {
        T_ASC_PresentationContext pc;
        ASC_getPresentationContext(target_->params, k, &pc);
        if (pc.resultReason != ASC_P_ACCEPTANCE || sop_class != pc.abstractSyntax)
            continue;
        if (for_get_ && pc.acceptedRole != ASC_SC_ROLE_SCP && pc.acceptedRole != ASC_SC_ROLE_SCUSCP)
            continue;
        int r = rank(pc.acceptedTransferSyntax, stored);
        if (r >= 0 && r < best_rank) {
            best_rank = r;
            best = pc.presentationContextID;
            ts_uid = pc.acceptedTransferSyntax;
        }
    }
    return best;
}

/* Re-encodes the data set for ts_uid in memory where that loses nothing: any uncompressed
 * syntax to another, compressed to uncompressed by decoding (JPEG, JPEG-LS, RLE). */
int SubOperation::convert(cm_dicom_object *obj, E_TransferSyntax stored, const std::string &ts_uid, SubResult &r)
{
    DcmXfer from(stored), to(ts_uid.c_str());
    r.transfer_syntax = ts_uid;
    if (from.getXfer() == to.getXfer())
        return 0;
    if (mode_ != CM_RETRIEVE_DECRYPTED && from.isEncapsulated())
        return r.code = cm_fail(&r.err, CM_DICOM_EREENCODED,
                                "the peer did not accept %s, and a masked compressed object cannot be decoded",
                                from.getXferName());
    DcmDataset *ds = dicom_object_fileformat(obj).getDataset();
    if (ds->chooseRepresentation(to.getXfer(), nullptr).bad() || !ds->canWriteXfer(to.getXfer(), stored))
        return r.code = cm_fail(&r.err, CM_DICOM_EUNSUPPORTED,
                                "the peer did not accept %s, and it cannot be decoded to %s here", from.getXferName(),
                                to.getXferName());
    return 0;
}

void SubOperation::send(const Match &m, cm_dicom_object *obj, T_ASC_PresentationContextID pc, T_DIMSE_Priority prio,
                        T_ASC_PresentationContextID cancel_pc, DIC_US cancel_msg, SubResult &r)
{
    T_DIMSE_C_StoreRQ req;
    memset(&req, 0, sizeof req);
    req.MessageID = target_->nextMsgID++;
    OFStandard::strlcpy(req.AffectedSOPClassUID, m.sop_class.c_str(), sizeof req.AffectedSOPClassUID);
    OFStandard::strlcpy(req.AffectedSOPInstanceUID, m.sop_instance.c_str(), sizeof req.AffectedSOPInstanceUID);
    req.DataSetType = DIMSE_DATASET_PRESENT;
    req.Priority = prio;
    if (originator_ != nullptr) {
        req.opts = O_STORE_MOVEORIGINATORAETITLE | O_STORE_MOVEORIGINATORID;
        OFStandard::strlcpy(req.MoveOriginatorApplicationEntityTitle, originator_,
                            sizeof req.MoveOriginatorApplicationEntityTitle);
        req.MoveOriginatorID = originator_id_;
    }
    T_DIMSE_C_StoreRSP rsp;
    memset(&rsp, 0, sizeof rsp);
    DcmDataset *detail = nullptr;
    T_DIMSE_DetectedCancelParameters cancel;
    memset(&cancel, 0, sizeof cancel);
    DcmDataset *ds = dicom_object_fileformat(obj).getDataset();
    OFCondition c = DIMSE_storeUser(target_, pc, &req, nullptr, ds, nullptr, nullptr, DIMSE_NONBLOCKING,
                                    s_.dimse_timeout(), &rsp, &detail, for_get_ ? &cancel : nullptr);
    delete detail;
    r.cancelled = for_get_ && cancel.cancelEncountered && cancel.presId == cancel_pc &&
                  cancel.req.MessageIDBeingRespondedTo == cancel_msg;
    if (c.bad()) {
        OFString text;
        r.network_failed = true;
        r.code = cm_fail(&r.err, CM_APP_EIO, "C-STORE to the peer failed: %s", DimseCondition::dump(text, c).c_str());
        return;
    }
    r.peer_status = rsp.DimseStatus;
    if (rsp.DimseStatus != STATUS_Success && !DICOM_WARNING_STATUS(rsp.DimseStatus))
        r.code = cm_fail(&r.err, CM_APP_EIO, "the peer refused the object: status %s",
                         status_hex(rsp.DimseStatus).c_str());
}

SubResult SubOperation::run(const Match &m, T_DIMSE_Priority prio, T_ASC_PresentationContextID cancel_pc,
                            DIC_US cancel_msg)
{
    SubResult r;
    cm_dicom_object *obj = nullptr;
    if (load(m, &obj, r) == 0) {
        E_TransferSyntax stored = dicom_object_xfer(obj);
        std::string ts;
        T_ASC_PresentationContextID pc = choose(m.sop_class, stored, ts);
        if (pc == 0)
            r.code = cm_fail(&r.err, CM_DICOM_EUNSUPPORTED,
                             "the peer accepted no presentation context for this SOP class in %s or an uncompressed "
                             "transfer syntax",
                             DcmXfer(stored).getXferName());
        else if (convert(obj, stored, ts, r) == 0)
            send(m, obj, pc, prio, cancel_pc, cancel_msg, r);
    }
    cm_dicom_free(obj); /* the decrypted data set leaves memory with it */
    return r;
}

} // namespace chaosmask::scp
