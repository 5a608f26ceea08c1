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

} // namespace chaosmask::scp

#endif
