/*
 * server.h - the parent process: listens, accepts, and forks one process per connection
 * (association.h); it never reads from a peer, so a slow or hostile one cannot stall it.
 *
 *   - [scp] max_associations children serve associations at once; a connection beyond them
 *     goes to a short-lived child that only rejects its association (transient, local limit
 *     exceeded), at most REJECTORS_MAX of those at a time, beyond which the connection is
 *     closed at once; either way the service keeps answering the others.
 *   - the last max_associations / 8 free slots (at least 1; none when max_associations is 1)
 *     are not given to an address that already holds a connection not yet accepted as an
 *     association (a silent one, a slow handshake): that connection is rejected like one over
 *     the limit, so one host cannot keep every slot busy with connections that never say who
 *     they are.  Best effort per address: several hosts together still can.  (Not a smaller
 *     share per address: a host that opens many associations at the same instant looks the
 *     same until they are accepted, a few milliseconds later.)
 *   - a child that dies of a signal or fails is reaped and audited; it never takes the
 *     parent down.  Core dumps are off (a dump would put plaintext on disk).
 *   - SIGTERM or SIGINT: the listening socket is closed at once, running associations get
 *     [scp] shutdown_grace seconds to finish, then SIGTERM (they stop at the next safe
 *     point), then SIGKILL after 5 more seconds; exit status 0.
 */
#ifndef CHAOSMASK_SCP_SERVER_H
#define CHAOSMASK_SCP_SERVER_H

#include "service.h"

#include <map>
#include <set>
#include <string>
#include <sys/types.h>

namespace chaosmask::scp {

class Server {
  public:
    explicit Server(const Service &svc) : svc_(svc) {}
    ~Server();
    /* Binds [scp] bind : port.  0, or CM_CFG_EINVAL with err (address in use...). */
    int listen(cm_error *err);
    /* Serves until SIGTERM or SIGINT; the exit status. */
    int run();

    static const unsigned REJECTORS_MAX = 4;

  private:
    void accept_one();
    void reap();
    void read_accepted();
    size_t unidentified_from(const std::string &address) const;
    void stop();
    void audit_service(const char *what, long long count);

    const Service &svc_;
    int listen_fd_ = -1;
    std::set<pid_t> workers_, rejectors_;
    std::map<pid_t, std::string> unidentified_; /* workers not yet accepted, by address */
    int accepted_[2] = {-1, -1};                /* pipe: children write their pid once accepted */
    unsigned long long served_ = 0;     /* associations served */
    long peak_child_kib_ = 0;           /* the largest resident size of a finished child */
};

} // namespace chaosmask::scp

#endif
