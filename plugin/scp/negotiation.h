/*
 * negotiation.h - the presentation contexts the service accepts, decided in code over what
 * the peer proposed (no association profile, whose lists DCMTK caps at 128 entries while it
 * knows 186 storage SOP classes):
 *   - Verification;
 *   - Patient Root and Study Root FIND, GET and MOVE: explicit VR little endian, else
 *     implicit;
 *   - every storage SOP class DCMTK knows, in the first transfer syntax of the peer's list
 *     that the service can store as received: the uncompressed ones, deflate and every
 *     encapsulated syntax (JPEG family, JPEG-LS, JPEG 2000, RLE, MPEG-2/4, HEVC); not JPIP
 *     (no pixel data to protect) nor the private GE syntax.  The role is the one proposed:
 *     the peer sends C-STOREs (SCU), receives them for its C-GET (SCP), or both.
 * Everything else is refused.  Which operations a peer may actually use is decided per
 * operation from its [peer] section, with a status and an audit record, not here.
 */
#ifndef CHAOSMASK_SCP_NEGOTIATION_H
#define CHAOSMASK_SCP_NEGOTIATION_H

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/assoc.h>

namespace chaosmask::scp {

/* Accepts or refuses every proposed context; the number accepted. */
int negotiate(T_ASC_Parameters *params);

/* 1 when objects in transfer syntax uid can be stored as received. */
bool storable_transfer_syntax(const char *uid);

} // namespace chaosmask::scp

#endif
