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

} // namespace chaosmask::scp

#endif
