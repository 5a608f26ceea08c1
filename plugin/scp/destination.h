/*
 * destination.h - the association a C-MOVE sends its sub-operations on: to the destination's
 * configured host and port (never an address from the request), over TLS when the peer has
 * tls = yes (tls.h), proposing one presentation context per (SOP class, stored transfer
 * syntax) among the matches and one uncompressed context per SOP class, 128 at most (the
 * protocol's limit; objects of classes beyond it fail as sub-operations).
 */
#ifndef CHAOSMASK_SCP_DESTINATION_H
#define CHAOSMASK_SCP_DESTINATION_H

#include "archive_index.h"
#include "service.h"

#include <dcmtk/dcmtls/tlslayer.h>

#include <memory>
#include <vector>

namespace chaosmask::scp {

class MoveDestination {
  public:
    MoveDestination() = default;
    ~MoveDestination(); /* releases the association (or aborts it when it failed) */
    MoveDestination(const MoveDestination &) = delete;
    MoveDestination &operator=(const MoveDestination &) = delete;

    /* 0, or CM_APP_EIO with err saying why the destination could not be reached. */
    int open(const Service &svc, const cm_peer &dest, const std::vector<Match> &matches, cm_error *err);
    T_ASC_Association *association() const { return assoc_; }
    /* The sub-operations broke the association: abort rather than release it. */
    void mark_broken() { broken_ = true; }

  private:
    int propose(T_ASC_Parameters *params, const std::vector<Match> &matches);

    T_ASC_Network *net_ = nullptr;
    std::unique_ptr<DcmTLSTransportLayer> tls_;
    T_ASC_Association *assoc_ = nullptr;
    bool broken_ = false;
};

} // namespace chaosmask::scp

#endif
