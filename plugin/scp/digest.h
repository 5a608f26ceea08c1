/*
 * digest.h - a SHA-256 of a data set's encoding, to decide whether an object sent again under
 * a SOP Instance UID the archive holds is the same object (same elements, same values, in
 * its transfer syntax) without writing either encoding anywhere.
 */
#ifndef CHAOSMASK_SCP_DIGEST_H
#define CHAOSMASK_SCP_DIGEST_H

#include "chaosmask/dicom.h"

#include <string>

namespace chaosmask::scp {

/* The digest of obj's data set (not its meta header) in the transfer syntax it is stored in,
 * with explicit lengths and without group lengths; false when it cannot be encoded. */
bool dataset_digest(cm_dicom_object *obj, std::string &digest);

} // namespace chaosmask::scp

#endif
