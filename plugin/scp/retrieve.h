/*
 * retrieve.h - C-GET and C-MOVE: the retrieval filter, and the sub-operation engine that
 * sends each object from memory.
 *
 * Policy per peer ([peer NAME] retrieve): decrypted = authenticate, unmask in memory and send
 * the original (no decrypted byte is written anywhere); encrypted = authenticate and send as
 * stored; no = 0x0124.  For C-MOVE the stricter of the requester's and the destination's
 * policy applies; a destination that is not a configured peer with host and port, or whose
 * effective policy is no, gets 0xA801 before anything is looked up.  An object that fails
 * authentication (or its structure check, or has pixels but no ChaosMask block) is a failed
 * sub-operation: audited, listed in Failed SOP Instance UID List, never sent.
 *
 * Why not dcmqrdb's Get/Move contexts: they pick a presentation context by SOP class only
 * and never decompress, so an object stored in one syntax fails on a context accepted in
 * another; they send from a file name, and the Move context never asks for TLS.  Here the
 * context is chosen by SOP class and stored syntax (exact syntax first, then the
 * uncompressed ones, decoding in memory where DCMTK can: JPEG, JPEG-LS, RLE; a masked
 * compressed object is never transcoded), and a C-MOVE proposes one context per (SOP class,
 * stored syntax) found plus an uncompressed one per class.
 */
#ifndef CHAOSMASK_SCP_RETRIEVE_H
#define CHAOSMASK_SCP_RETRIEVE_H

#include "session.h"

#include <dcmtk/dcmnet/dimse.h>

namespace chaosmask::scp {

OFCondition handle_get(Session &s, T_DIMSE_C_GetRQ &req, T_ASC_PresentationContextID pc);
OFCondition handle_move(Session &s, T_DIMSE_C_MoveRQ &req, T_ASC_PresentationContextID pc);

/* What a C-GET or C-MOVE decides from its identifier before the first sub-operation. */
struct RetrievalPlan {
    Uint16 status = 0;            /* 0: the sub-operations run; else the final (refusal or failure) status */
    int mode = CM_RETRIEVE_NO;    /* the effective policy: CM_RETRIEVE_DECRYPTED or _ENCRYPTED when they run */
    int code = 0;                 /* why refused (0: not refused) */
    cm_error err = {0, ""};
    std::vector<Match> matches;   /* the objects the sub-operations would send, one each */
};

/* The same decision without the network, for an identifier already in (get or move is the
 * request, the other NULL): identifier refusal, the requester's (and destination's) policy,
 * the index look-up.  The fuzz harness tests/fuzz/scp/fuzz_scp_query.cpp runs the service
 * through this, and SubOperation::load (suboperation.h) for each match. */
void plan_retrieval(Session &s, T_DIMSE_C_GetRQ *get, T_DIMSE_C_MoveRQ *move, ReceivedDataset &ids,
                    RetrievalPlan &plan);

} // namespace chaosmask::scp

#endif
