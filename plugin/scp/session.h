/*
 * session.h - one accepted association as the operations see it (the child process serving
 * it owns exactly one): the service, the peer and its policy, DCMTK's association, and what
 * is opened on first use (the archive index, the worker pool).  The operations: store.h
 * (C-STORE), query.h (C-FIND), retrieve.h (C-GET, C-MOVE).
 */
#ifndef CHAOSMASK_SCP_SESSION_H
#define CHAOSMASK_SCP_SESSION_H

#include "archive_index.h"
#include "received.h"
#include "service.h"

#include <memory>

namespace chaosmask::scp {

#define CM_SCP_IDENTIFIER_MAX (1u << 20)

class Session {
  public:
    Session(const Service &svc, const Peer &peer, T_ASC_Association *assoc) : svc(svc), peer(peer), assoc(assoc) {}

    const Service &svc;
    const Peer &peer;
    T_ASC_Association *assoc;

    /* The archive index, opened on first use (nullptr and err when it cannot be). */
    ArchiveIndex *index(cm_error *err);
    /* The worker pool's executor for the engine (nullptr: the calling thread). */
    const cm_executor *executor();
    /* What decrypt and verify need: the key provider, the executor, the identity policy. */
    cm_dicom_open_params open_params();

    int dimse_timeout() const { return static_cast<int>(svc.cfg->scp_dimse_timeout); }

    /* The identifier of a C-FIND, C-GET or C-MOVE, received like a stored object (memory,
     * structure check, then parse) but capped at CM_SCP_IDENTIFIER_MAX bytes: DCMTK's own
     * providers would parse it while it arrives. */
    OFCondition receive_identifier(T_ASC_PresentationContextID pc, ReceivedDataset &ids);
    /* The limits an identifier is received under: [dicom] limits, at most CM_SCP_IDENTIFIER_MAX bytes. */
    cm_dicom_limits identifier_limits() const;
    /* The Query/Retrieve Level of an identifier ("" when absent). */
    static std::string level_of(cm_dicom_object *ids);

  private:
    std::unique_ptr<ArchiveIndex> index_;
};

/* The command's presentation context: its abstract syntax and the role the peer took
 * (from the peer's point of view: SCU, SCP, both, or default = SCU). */
bool presentation_context(T_ASC_Association *assoc, T_ASC_PresentationContextID id, T_ASC_PresentationContext &pc);

/* 0 when the command's Affected SOP Class (its query/retrieve model) is the abstract syntax of
 * the presentation context it came on, else CM_APP_EMISMATCH with the reason in err. */
int model_of_context(T_ASC_Association *assoc, T_ASC_PresentationContextID id, const char *model, cm_error *err);

} // namespace chaosmask::scp

#endif
