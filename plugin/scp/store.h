/*
 * store.h - C-STORE: the storage hook.
 *
 * The data set arrives in a memory file and is parsed only after its structure check
 * (received.h); it is checked against its request (SOP class, SOP instance, study), masked
 * in memory (cm_dicom_encrypt), written under a random name through the one atomic writer
 * (temporary file, fsync, rename, directory fsync), indexed (archive_index.h), and only then
 * answered with Success.  Every failure is a failure status and leaves no file and no index
 * entry: 0xA700 out of resources (disk, index limits, object too large), 0xC000 input
 * refused (structure, parse, geometry, a ChaosMask block that does not authenticate),
 * 0xA900 data set does not match its request, 0x0124 peer not allowed to store.
 *
 * An object already encrypted under a key of the ring is stored as received.  The same SOP
 * Instance UID sent again leaves one copy: identical content (same data set once decrypted)
 * keeps the archived copy and writes nothing; different content replaces it (the new object
 * is indexed first, then the old file removed).  Both are audited.
 */
#ifndef CHAOSMASK_SCP_STORE_H
#define CHAOSMASK_SCP_STORE_H

#include "session.h"

#include <dcmtk/dcmnet/dimse.h>

namespace chaosmask::scp {

/* Receives the data set of req, stores it and sends the C-STORE response.  A bad condition
 * means the association cannot go on. */
OFCondition handle_store(Session &s, T_DIMSE_C_StoreRQ &req, T_ASC_PresentationContextID pc);

/* The storage hook once the data set is in, without the network: what handle_store does
 * after receiving it (and after the peer's permission and presentation context were
 * checked) - the data set checked against req's SOP class and instance, masked, written,
 * indexed, audited.  Returns the status handle_store would send; *file (when not NULL) is
 * the archive file holding the object, relative to the archive directory, on Success, else
 * "".  The fuzz harness tests/fuzz/scp/fuzz_scp_store.cpp runs the service through this. */
Uint16 store_received(Session &s, T_DIMSE_C_StoreRQ &req, ReceivedDataset &data, std::string *file);

} // namespace chaosmask::scp

#endif
