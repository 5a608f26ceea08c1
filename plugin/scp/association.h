/*
 * association.h - one association, served by the process the parent forked for its TCP
 * connection: the association request is read (and the TLS handshake made) here, never in
 * the parent, so a silent or hostile peer holds one slot, not the service.
 *
 * Accepted only for a configured peer ([peer NAME] with the calling AE title; from its host
 * when one is set; over TLS when it has tls = yes, with a certificate naming its
 * certificate_name or host while client certificates are required) calling our AE title
 * with the standard application context; everything else is rejected with the matching A-ASSOCIATE-RJ reason.
 * Beyond [scp] max_associations the request is rejected as transient (local limit
 * exceeded).  One audit record per association request (accepted, or why not) and one at
 * its end.  Then the DIMSE loop: commands dispatched to store.h, query.h, retrieve.h; an
 * association idle for [scp] idle_timeout is aborted; a stop request (SIGTERM) ends it at
 * the next safe point.
 *
 * The DIMSE command set itself is parsed by DCMTK before any code of ours sees it (no hook
 * exists in DCMTK 3.6.7); a hostile one can crash this process, never the parent, which
 * audits it.
 */
#ifndef CHAOSMASK_SCP_ASSOCIATION_H
#define CHAOSMASK_SCP_ASSOCIATION_H

#include "service.h"

#include <string>

namespace chaosmask::scp {

/* Serves the connection on socket (from address); over_limit: reject as transient.  Once the
 * association is accepted, the process writes its pid (a pid_t) to accepted_fd, telling the
 * parent this connection is no longer an unidentified one.  The process's exit status. */
int serve_connection(const Service &svc, int socket, const std::string &address, bool over_limit, int accepted_fd);

} // namespace chaosmask::scp

#endif
