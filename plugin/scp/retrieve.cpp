/* retrieve.cpp - C-GET and C-MOVE: policy, matches, sub-operations, responses (retrieve.h). */
#include "retrieve.h"

#include "destination.h"
#include "suboperation.h"

#include "chaosmask/dicom_dataset.h"

#include <dcmtk/dcmdata/dcdeftag.h>

#include <algorithm>
#include <cstring>

namespace chaosmask::scp {
namespace {

DIC_US clamp16(size_t n)
{
    return static_cast<DIC_US>(std::min<size_t>(n, 0xFFFF));
}

class Retrieval {
  public:
    Retrieval(Session &s, T_ASC_PresentationContextID pc, T_DIMSE_C_GetRQ *get, T_DIMSE_C_MoveRQ *move,
              ReceivedDataset &ids)
        : s_(s), pc_(pc), get_(get), move_(move), ids_(ids)
    {
    }
    /* Receives the identifier, decides, runs the sub-operations, answers. */
    OFCondition run();
    /* With the identifier in: its refusal, the policy, the look-up; 0 or the final status. */
    Uint16 decide();
    void plan(RetrievalPlan &p) const
    {
        p.mode = mode_;
        p.code = code_;
        p.err = err_;
        p.matches = matches_;
    }

  private:
    const char *op() const { return move_ ? "C-MOVE" : "C-GET"; }
    const char *model() const { return move_ ? move_->AffectedSOPClassUID : get_->AffectedSOPClassUID; }
    DIC_US msg_id() const { return move_ ? move_->MessageID : get_->MessageID; }
    T_DIMSE_Priority priority() const { return move_ ? move_->Priority : get_->Priority; }
    Uint16 authorize();
    Uint16 look_up();
    OFCondition respond(Uint16 status);
    /* the counters of a C-GET or C-MOVE response (the two DCMTK types have the same fields) */
    template <class Rsp> void fill_response(Rsp &rsp, Uint16 status, DIC_US remaining) const
    {
        memset(&rsp, 0, sizeof rsp);
        rsp.DimseStatus = status;
        rsp.NumberOfRemainingSubOperations = remaining;
        rsp.NumberOfCompletedSubOperations = clamp16(completed_);
        rsp.NumberOfFailedSubOperations = clamp16(failed_);
        rsp.NumberOfWarningSubOperations = clamp16(warning_);
    }
    OFCondition sub_operations();
    void account(const Match &m, const SubResult &r);
    void audit_request(Uint16 status);

    Session &s_;
    T_ASC_PresentationContextID pc_;
    T_DIMSE_C_GetRQ *get_;
    T_DIMSE_C_MoveRQ *move_;
    ReceivedDataset &ids_;
    const cm_peer *dest_ = nullptr;
    int mode_ = CM_RETRIEVE_NO;
    int code_ = 0;
    cm_error err_ = {0, ""};
    std::vector<Match> matches_;
    MoveDestination destination_;
    size_t next_ = 0, completed_ = 0, failed_ = 0, warning_ = 0;
    bool cancelled_ = false;
    std::string failed_uids_;
};

/* The requester's and (C-MOVE) the destination's policy; a refusal status, or 0. */
Uint16 Retrieval::authorize()
{
    mode_ = s_.peer.config->retrieve;
    if (mode_ == CM_RETRIEVE_NO) {
        code_ = cm_fail(&err_, CM_APP_EDENIED, "%s may not retrieve ([peer] retrieve = no)", s_.peer.calling_ae.c_str());
        return STATUS_MOVE_Refused_NotAuthorized; /* 0x0124, the same for C-GET */
    }
    if (move_ == nullptr)
        return 0;
    dest_ = cm_config_peer(s_.svc.cfg, move_->MoveDestination);
    const char *why = nullptr;
    if (dest_ == nullptr)
        why = "is not a configured peer";
    else if (dest_->host[0] == '\0' || dest_->port == 0)
        why = "has no host and port in its [peer] section";
    else if (std::min(mode_, dest_->retrieve) == CM_RETRIEVE_NO)
        why = "may not receive objects ([peer] retrieve = no)";
    else if (s_.svc.cfg->tls_enabled && !dest_->tls)
        why = "is not reached over TLS ([peer] tls = no) while the service accepts only TLS ([tls] enabled = yes)";
    if (why != nullptr) {
        code_ = cm_fail(&err_, CM_APP_EDENIED, "move destination '%s' %s", move_->MoveDestination, why);
        return STATUS_MOVE_Refused_MoveDestinationUnknown;
    }
    mode_ = std::min(mode_, dest_->retrieve); /* the stricter of requester and destination */
    return 0;
}

/* The matches of the identifier; a failure status, or 0. */
Uint16 Retrieval::look_up()
{
    ArchiveIndex *index = s_.index(&err_);
    if (index == nullptr) {
        code_ = err_.code;
        return move_ ? STATUS_MOVE_Failed_UnableToProcess : STATUS_GET_Failed_UnableToProcess;
    }
    Uint16 status = STATUS_Success;
    index->matches(model(), dicom_object_fileformat(ids_.object()).getDataset(), matches_, &status);
    if (status != STATUS_Success)
        code_ = cm_fail(&err_, CM_DICOM_EINPUT, "the index refused the identifier (status %s)",
                        status_hex(status).c_str());
    return status;
}

OFCondition Retrieval::respond(Uint16 status)
{
    DcmDataset failed_list;
    DcmDataset *ids = nullptr;
    if (!DICOM_PENDING_STATUS(status) && status != STATUS_Success && !failed_uids_.empty()) {
        failed_list.putAndInsertString(DCM_FailedSOPInstanceUIDList, failed_uids_.c_str());
        ids = &failed_list;
    }
    DIC_US remaining = DICOM_PENDING_STATUS(status) ? clamp16(matches_.size() - next_) : 0;
    if (move_ != nullptr) {
        T_DIMSE_C_MoveRSP rsp;
        fill_response(rsp, status, remaining);
        return DIMSE_sendMoveResponse(s_.assoc, pc_, move_, &rsp, ids, nullptr);
    }
    T_DIMSE_C_GetRSP rsp;
    fill_response(rsp, status, remaining);
    return DIMSE_sendGetResponse(s_.assoc, pc_, get_, &rsp, ids, nullptr);
}

/* Counts and audits one sub-operation. */
void Retrieval::account(const Match &m, const SubResult &r)
{
    if (r.code != 0) {
        failed_++;
        failed_uids_ += (failed_uids_.empty() ? "" : "\\") + m.sop_instance;
    } else if (r.peer_status != STATUS_Success) {
        warning_++;
    } else {
        completed_++;
    }
    cm_audit_event ev = peer_event(s_.peer, "retrieve");
    ev.operation = op();
    ev.code = r.code;
    ev.message = r.code ? r.err.msg : nullptr;
    ev.sop_class_uid = m.sop_class.c_str();
    ev.sop_instance_uid = m.sop_instance.c_str();
    ev.mode = r.sent_as.c_str();
    ev.destination = dest_ ? dest_->aetitle : nullptr;
    ev.transfer_syntax = r.transfer_syntax.c_str();
    ev.status = r.peer_status;
    audit_write(s_.svc, ev);
}

OFCondition Retrieval::sub_operations()
{
    T_ASC_Association *target = s_.assoc;
    if (move_ != nullptr && !matches_.empty()) {
        cm_error e = {0, ""};
        if (destination_.open(s_.svc, *dest_, matches_, &e) != 0) {
            for (const Match &m : matches_) {
                SubResult r;
                r.code = cm_fail(&r.err, CM_APP_EIO, "%s", e.msg);
                account(m, r);
            }
            next_ = matches_.size();
            return EC_Normal;
        }
        target = destination_.association();
    }
    SubOperation sub(s_, target, move_ == nullptr, mode_, move_ ? s_.peer.calling_ae.c_str() : nullptr, msg_id());
    bool broken = false;
    while (next_ < matches_.size() && !cancelled_) {
        OFCondition c = DIMSE_checkForCancelRQ(s_.assoc, pc_, msg_id());
        if (c.good()) {
            cancelled_ = true;
            break;
        }
        if (c != DIMSE_NODATAAVAILABLE)
            return c;
        const Match &m = matches_[next_++];
        SubResult r;
        if (broken)
            r.code = cm_fail(&r.err, CM_APP_EIO, "%s", "the association to the receiver failed earlier");
        else
            r = sub.run(m, priority(), pc_, msg_id());
        broken = broken || r.network_failed;
        cancelled_ = r.cancelled;
        account(m, r);
        if (broken && move_ == nullptr)
            return makeOFCondition(OFM_dcmnet, 999, OF_error, r.err.msg); /* C-GET: the requester is gone */
        if (next_ < matches_.size() && (c = respond(STATUS_MOVE_Pending_SubOperationsAreContinuing)).bad())
            return c;
    }
    if (broken)
        destination_.mark_broken();
    return EC_Normal;
}

void Retrieval::audit_request(Uint16 status)
{
    std::string level = Session::level_of(ids_.object());
    cm_audit_event ev = peer_event(s_.peer, "retrieve-request");
    ev.operation = op();
    ev.code = code_;
    ev.message = code_ ? err_.msg : nullptr;
    ev.sop_class_uid = model();
    ev.level = level.c_str();
    ev.mode = cm_retrieve_name(mode_);
    ev.destination = move_ ? move_->MoveDestination : nullptr;
    ev.count = static_cast<long long>(matches_.size());
    ev.status = status;
    if (code_ == 0 && failed_ > 0)
        ev.outcome = completed_ + warning_ > 0 ? "partial" : "failed";
    std::string detail = std::to_string(completed_) + " completed, " + std::to_string(failed_) + " failed, " +
                         std::to_string(warning_) + " warning" + (cancelled_ ? ", cancelled" : "");
    ev.detail = detail.c_str();
    audit_write(s_.svc, ev);
}

Uint16 Retrieval::decide()
{
    Uint16 status = 0;
    if (ids_.code() != 0) {
        code_ = cm_fail(&err_, ids_.code(), "identifier refused: %s", ids_.message());
        status = ids_.code() == CM_APP_EMISMATCH ? STATUS_GET_Error_DataSetDoesNotMatchSOPClass
                                                 : STATUS_GET_Failed_UnableToProcess;
    }
    if (status == 0)
        status = authorize();
    if (status == 0)
        status = look_up();
    return status;
}

OFCondition Retrieval::run()
{
    OFCondition c = s_.receive_identifier(pc_, ids_);
    if (c.bad())
        return c;
    Uint16 status = 0;
    if ((code_ = model_of_context(s_.assoc, pc_, model(), &err_)) != 0)
        status = STATUS_GET_Error_DataSetDoesNotMatchSOPClass; /* 0xA900, the same for C-MOVE */
    else
        status = decide();
    if (status == 0 && (c = sub_operations()).bad())
        return c;
    if (status == 0) {
        if (cancelled_)
            status = STATUS_GET_Cancel_SubOperationsTerminatedDueToCancelIndication;
        else if (failed_ + warning_ == 0)
            status = STATUS_Success;
        else if (completed_ + warning_ == 0)
            status = STATUS_GET_Refused_OutOfResourcesSubOperations;
        else
            status = STATUS_GET_Warning_SubOperationsCompleteOneOrMoreFailures;
    }
    audit_request(status);
    return respond(status);
}

} // namespace

OFCondition handle_get(Session &s, T_DIMSE_C_GetRQ &req, T_ASC_PresentationContextID pc)
{
    ReceivedDataset ids;
    Retrieval r(s, pc, &req, nullptr, ids);
    return r.run();
}

OFCondition handle_move(Session &s, T_DIMSE_C_MoveRQ &req, T_ASC_PresentationContextID pc)
{
    ReceivedDataset ids;
    Retrieval r(s, pc, nullptr, &req, ids);
    return r.run();
}

void plan_retrieval(Session &s, T_DIMSE_C_GetRQ *get, T_DIMSE_C_MoveRQ *move, ReceivedDataset &ids,
                    RetrievalPlan &plan)
{
    Retrieval r(s, 0, get, move, ids);
    plan.status = r.decide();
    r.plan(plan);
}

} // namespace chaosmask::scp
