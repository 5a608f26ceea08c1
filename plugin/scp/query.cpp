/* query.cpp - C-FIND from the clear index (query.h). */
#include "query.h"

#include "chaosmask/dicom_dataset.h"

#include <dcmtk/dcmdata/dcdeftag.h>

#include <cstring>

namespace chaosmask::scp {
namespace {

/* Sends every response (pending, with the Retrieve AE Title) unless the peer cancels. */
OFCondition send_matches(Session &s, T_DIMSE_C_FindRQ &req, T_ASC_PresentationContextID pc,
                         std::vector<std::unique_ptr<DcmDataset>> &matches, Uint16 &final, size_t &sent)
{
    for (std::unique_ptr<DcmDataset> &ids : matches) {
        OFCondition c = DIMSE_checkForCancelRQ(s.assoc, pc, req.MessageID);
        if (c.good()) {
            final = STATUS_FIND_Cancel_MatchingTerminatedDueToCancelRequest;
            return EC_Normal;
        }
        if (c != DIMSE_NODATAAVAILABLE)
            return c;
        ids->putAndInsertString(DCM_RetrieveAETitle, s.svc.cfg->scp_aetitle);
        T_DIMSE_C_FindRSP rsp;
        memset(&rsp, 0, sizeof rsp);
        rsp.DimseStatus = STATUS_FIND_Pending_MatchesAreContinuing;
        c = DIMSE_sendFindResponse(s.assoc, pc, &req, &rsp, ids.get(), nullptr);
        if (c.bad())
            return c;
        sent++;
    }
    return EC_Normal;
}

} // namespace

Uint16 find_received(Session &s, const char *model, ReceivedDataset &ids,
                     std::vector<std::unique_ptr<DcmDataset>> &matches, int &code, cm_error &err)
{
    code = ids.code();
    if (code != 0)
        cm_fail(&err, code, "identifier refused: %s", ids.message());
    else if (!s.peer.config->find)
        code = cm_fail(&err, CM_APP_EDENIED, "%s may not query ([peer] find = no)", s.peer.calling_ae.c_str());
    ArchiveIndex *index = code == 0 ? s.index(&err) : nullptr;
    if (code == 0 && index == nullptr)
        code = err.code;
    Uint16 final = code == 0 ? STATUS_Success : cm_store_status_of(code);
    if (code == 0)
        index->find(model, dicom_object_fileformat(ids.object()).getDataset(), matches, &final);
    return final;
}

OFCondition handle_find(Session &s, T_DIMSE_C_FindRQ &req, T_ASC_PresentationContextID pc)
{
    ReceivedDataset ids;
    OFCondition c = s.receive_identifier(pc, ids);
    if (c.bad())
        return c;
    int code = 0;
    cm_error err = {0, ""};
    std::vector<std::unique_ptr<DcmDataset>> matches;
    Uint16 final = STATUS_FIND_Failed_IdentifierDoesNotMatchSOPClass;
    if ((code = model_of_context(s.assoc, pc, req.AffectedSOPClassUID, &err)) == 0)
        final = find_received(s, req.AffectedSOPClassUID, ids, matches, code, err);
    size_t sent = 0;
    c = send_matches(s, req, pc, matches, final, sent);
    if (c.good()) {
        T_DIMSE_C_FindRSP rsp;
        memset(&rsp, 0, sizeof rsp);
        rsp.DimseStatus = final;
        c = DIMSE_sendFindResponse(s.assoc, pc, &req, &rsp, nullptr, nullptr);
    }
    std::string level = Session::level_of(ids.object());
    cm_audit_event ev = peer_event(s.peer, "find");
    ev.operation = "C-FIND";
    ev.code = code;
    ev.message = code ? err.msg : nullptr;
    ev.sop_class_uid = req.AffectedSOPClassUID;
    ev.level = level.c_str();
    ev.count = static_cast<long long>(sent);
    ev.status = final;
    if (code == 0 && final != STATUS_Success && final != STATUS_FIND_Cancel_MatchingTerminatedDueToCancelRequest) {
        ev.outcome = "refused";
        ev.message = "the index could not process the query (a unique key missing or wrong for the level?)";
    }
    audit_write(s.svc, ev);
    return c;
}

} // namespace chaosmask::scp
