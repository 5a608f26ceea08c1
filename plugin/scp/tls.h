/*
 * tls.h - TLS for the service, BCP 195 non-downgrading profile, from the [tls] section:
 *   - the accepting layer: the service's certificate and key; a calling peer must present a
 *     certificate that chains to [tls] ca (require_client_certificate = yes).  The handshake
 *     runs in the child that serves the association (ASC_receiveAssociation with the secure
 *     layer requested), never in the parent, so DCMTK-NOTES' work-around for dcmqrscp (a
 *     layer forced secure, quiet shutdown) is not needed;
 *   - the connecting layer of a C-MOVE to a peer with tls = yes: the service's certificate
 *     as client certificate, the peer's chained to [tls] ca and, beyond what DCMTK 3.6.7
 *     checks, naming the peer's configured host or certificate_name (its IP address or DNS
 *     name; a wildcard covers one whole label).
 * A caller's certificate is tied to its peer (tls = yes, client certificates required) only by
 * an exact entry naming the peer's certificate_name or host (tls_peer_names_host).
 */
#ifndef CHAOSMASK_SCP_TLS_H
#define CHAOSMASK_SCP_TLS_H

#include "chaosmask/config.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/assoc.h>
#include <dcmtk/dcmtls/tlslayer.h>

#include <memory>
#include <string>

namespace chaosmask::scp {

/* The accepting layer; nullptr and err naming the [tls] key and file that failed. */
std::unique_ptr<DcmTLSTransportLayer> tls_accepting_layer(const cm_config &cfg, cm_error *err);
/* The connecting layer for a C-MOVE destination whose certificate must name host (the
 * peer's cm_peer_certificate_name). */
std::unique_ptr<DcmTLSTransportLayer> tls_connecting_layer(const cm_config &cfg, const std::string &host,
                                                           cm_error *err);
/* The subject of the peer's certificate ("" without TLS). */
std::string tls_peer_subject(T_ASC_Association *assoc);
/* The peer's certificate names host (an IPv4 address in an IP entry, or a DNS name; the
 * peer's cm_peer_certificate_name): as a C-MOVE destination's must.  false without one. */
bool tls_peer_names_host(T_ASC_Association *assoc, const char *host);

} // namespace chaosmask::scp

#endif
