/*
 * query.h - C-FIND (Patient Root and Study Root; patient, study, series and image levels)
 * answered from the clear attributes of the archive index; no archive file is opened.
 *
 * The identifier is received into memory and checked before DCMTK parses it (received.h);
 * the matches are read under the index lock and the lock released before the first
 * response goes out (archive_index.h).  A peer with [peer] find = no gets 0x0124.
 */
#ifndef CHAOSMASK_SCP_QUERY_H
#define CHAOSMASK_SCP_QUERY_H

#include "session.h"

#include <dcmtk/dcmnet/dimse.h>

namespace chaosmask::scp {

OFCondition handle_find(Session &s, T_DIMSE_C_FindRQ &req, T_ASC_PresentationContextID pc);

/* C-FIND once the identifier is in, without the network: the identifier refused (code, err
 * and the failure status), the peer not allowed, or every match of the index for the model
 * (the FIND SOP class).  Returns the final status handle_find sends after the matches.
 * The fuzz harness tests/fuzz/scp/fuzz_scp_query.cpp runs the service through this. */
Uint16 find_received(Session &s, const char *model, ReceivedDataset &ids,
                     std::vector<std::unique_ptr<DcmDataset>> &matches, int &code, cm_error &err);

} // namespace chaosmask::scp

#endif
