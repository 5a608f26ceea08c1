/*
 * service.h - what every part of chaosmask-scp shares: the service as the parent process set
 * it up before the first fork (configuration, key provider, audit log, TLS identity, limits),
 * and the facts of one association that every audit record repeats.
 *
 * The parent never reads from a peer: it accepts connections and forks one process per
 * association (server.h); everything below server.h runs in such a child.
 */
#ifndef CHAOSMASK_SCP_SERVICE_H
#define CHAOSMASK_SCP_SERVICE_H

#include "chaosmask/app.h"
#include "chaosmask/dicom.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/assoc.h>

#include <string>

class DcmTLSTransportLayer;

namespace chaosmask::scp {

struct Service {
    cm_app *app = nullptr;
    const cm_config *cfg = nullptr;    /* &app->cfg */
    cm_keys *keys = nullptr;
    cm_audit *audit = nullptr;
    unsigned port = 0;                 /* [scp] port or --port */
    std::string archive;               /* absolute; the service's working directory */
    cm_dicom_limits received_limits{}; /* objects from the network: [dicom] limits, max_bytes also [scp] max_object_size */
    cm_dicom_limits archive_limits{};  /* archive files: [dicom] limits */
    DcmTLSTransportLayer *tls_in = nullptr; /* the accepting TLS layer, NULL when [tls] enabled = no */
};

/* The facts of the association an operation runs on, for audit records and policy. */
struct Peer {
    std::string calling_ae, called_ae, address, tls_subject;
    bool tls = false;
    const cm_peer *config = nullptr;   /* the [peer NAME] of calling_ae; NULL while unknown */
};

/* An audit event carrying the association's fields (peer AE and address, called AE, TLS). */
cm_audit_event peer_event(const Peer &peer, const char *event);

/* Appends the record; a failure is logged (the operation it describes has happened). */
int audit_write(const Service &svc, const cm_audit_event &ev);

/* "0xA700". */
std::string status_hex(unsigned status);

/* The process-wide stop request: set by SIGTERM in a child, checked between operations. */
bool stop_requested();
void install_child_signals();

} // namespace chaosmask::scp

#endif
