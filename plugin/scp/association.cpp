/* association.cpp - one association in its own process (association.h). */
#include "association.h"

#include "negotiation.h"
#include "query.h"
#include "retrieve.h"
#include "session.h"
#include "store.h"
#include "tls.h"

#include <dcmtk/dcmnet/dcmtrans.h>
#include <dcmtk/dcmnet/dul.h>

#include <arpa/inet.h>
#include <cstring>
#include <memory>
#include <netdb.h>
#include <sys/socket.h>

namespace chaosmask::scp {
namespace {

struct Refusal {
    const char *why;
    T_ASC_RejectParameters rj;
};

/* The peer's address is one of its configured host's addresses. */
bool from_configured_host(const cm_peer &p, const std::string &address)
{
    if (p.host[0] == '\0' || address == p.host)
        return true;
    struct addrinfo hints, *res = nullptr;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET;
    if (getaddrinfo(p.host, nullptr, &hints, &res) != 0)
        return false;
    bool match = false;
    for (struct addrinfo *a = res; a != nullptr && !match; a = a->ai_next) {
        char ip[INET_ADDRSTRLEN];
        const struct sockaddr_in *sin = reinterpret_cast<const struct sockaddr_in *>(a->ai_addr);
        match = inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof ip) != nullptr && address == ip;
    }
    freeaddrinfo(res);
    return match;
}

class Association {
  public:
    Association(const Service &svc, int sock, const std::string &address, bool over_limit, int accepted_fd)
        : svc_(svc), sock_(sock), over_limit_(over_limit), accepted_fd_(accepted_fd)
    {
        peer_.address = address;
    }
    ~Association();
    int serve();

  private:
    bool receive();
    bool refused(Refusal &r);
    void audit_association(const char *outcome, const std::string &why);
    void run_loop();
    bool wait_for_command(std::string &how);
    OFCondition dispatch(T_DIMSE_Message &msg, T_ASC_PresentationContextID pc);

    const Service &svc_;
    int sock_;
    bool over_limit_;
    int accepted_fd_;
    Peer peer_;
    T_ASC_Network *net_ = nullptr;
    T_ASC_Association *assoc_ = nullptr;
    std::unique_ptr<Session> session_; /* once accepted: the index stays open for the association */
    size_t operations_ = 0;
};

Association::~Association()
{
    session_.reset();
    if (assoc_ != nullptr) {
        ASC_dropAssociation(assoc_);
        ASC_destroyAssociation(&assoc_);
    }
    if (net_ != nullptr)
        ASC_dropNetwork(&net_);
}

void Association::audit_association(const char *outcome, const std::string &why)
{
    cm_audit_event ev = peer_event(peer_, "association");
    ev.outcome = outcome;
    ev.code = strcmp(outcome, "ok") == 0 ? 0 : CM_APP_EDENIED;
    ev.message = strcmp(outcome, "ok") == 0 ? nullptr : why.c_str();
    ev.detail = strcmp(outcome, "ok") == 0 ? why.c_str() : nullptr;
    audit_write(svc_, ev);
}

/* The association request, read on the inherited socket (TLS handshake included). */
bool Association::receive()
{
    const cm_config &cfg = *svc_.cfg;
    dcmExternalSocketHandle.set(sock_); /* DUL takes this connected socket instead of accepting one */
    dcmSocketReceiveTimeout.set(static_cast<Sint32>(cfg.scp_acse_timeout)); /* bounds the TLS handshake too */
    dcmSocketSendTimeout.set(static_cast<Sint32>(cfg.scp_dimse_timeout));
    int timeout = static_cast<int>(cfg.scp_acse_timeout);
    OFCondition c = ASC_initializeNetwork(NET_ACCEPTOR, static_cast<int>(svc_.port), timeout, &net_);
    if (c.good() && svc_.tls_in != nullptr)
        c = ASC_setTransportLayer(net_, svc_.tls_in, 0);
    if (c.good())
        c = ASC_receiveAssociation(net_, &assoc_, static_cast<long>(cfg.scp_max_pdu), nullptr, nullptr,
                                   svc_.tls_in != nullptr ? OFTrue : OFFalse, DUL_NOBLOCK, timeout);
    if (c.bad()) {
        OFString text;
        peer_.tls = svc_.tls_in != nullptr;
        audit_association("failed", std::string("no association: ") + DimseCondition::dump(text, c).c_str());
        return false;
    }
    peer_.calling_ae = assoc_->params->DULparams.callingAPTitle;
    peer_.called_ae = assoc_->params->DULparams.calledAPTitle;
    peer_.tls = svc_.tls_in != nullptr;
    /* a subject is audited only when the chain was verified (require_client_certificate) */
    peer_.tls_subject = svc_.cfg->tls_require_client_certificate ? tls_peer_subject(assoc_) : std::string();
    peer_.config = cm_config_peer(svc_.cfg, peer_.calling_ae.c_str());
    return true;
}

/* Why this association must be rejected (and how), or false when it may go on. */
bool Association::refused(Refusal &r)
{
    char context[BUFSIZ];
    r.rj = {ASC_RESULT_REJECTEDPERMANENT, ASC_SOURCE_SERVICEUSER, ASC_REASON_SU_NOREASON};
    if (over_limit_) {
        r.rj = {ASC_RESULT_REJECTEDTRANSIENT, ASC_SOURCE_SERVICEPROVIDER_PRESENTATION_RELATED,
                ASC_REASON_SP_PRES_LOCALLIMITEXCEEDED};
        r.why = "too many associations ([scp] max_associations; the last max_associations / 8 free slots are "
                "not given to an address whose earlier connections are not yet accepted)";
    } else if (ASC_getApplicationContextName(assoc_->params, context, sizeof context).bad() ||
               strcmp(context, UID_StandardApplicationContext) != 0) {
        r.rj.reason = ASC_REASON_SU_APPCONTEXTNAMENOTSUPPORTED;
        r.why = "application context not supported";
    } else if (peer_.called_ae != svc_.cfg->scp_aetitle) {
        r.rj.reason = ASC_REASON_SU_CALLEDAETITLENOTRECOGNIZED;
        r.why = "called AE title is not the service's ([scp] aetitle)";
    } else if (peer_.config == nullptr) {
        r.rj.reason = ASC_REASON_SU_CALLINGAETITLENOTRECOGNIZED;
        r.why = "calling AE title is not a configured peer";
    } else if (!from_configured_host(*peer_.config, peer_.address)) {
        r.rj.reason = ASC_REASON_SU_CALLINGAETITLENOTRECOGNIZED;
        r.why = "calling AE title from an address that is not its [peer] host";
    } else if (peer_.config->tls && svc_.tls_in == nullptr) {
        r.why = "the peer must use TLS ([peer] tls = yes) but the service has [tls] enabled = no";
    } else if (peer_.config->tls && svc_.cfg->tls_require_client_certificate &&
               cm_peer_certificate_name(peer_.config)[0] != '\0' &&
               !tls_peer_names_host(assoc_, cm_peer_certificate_name(peer_.config))) {
        /* a certificate of the site CA is bound to this peer only through the name it carries */
        r.rj.reason = ASC_REASON_SU_CALLINGAETITLENOTRECOGNIZED;
        r.why = peer_.config->certificate_name[0] != '\0'
                    ? "the peer's certificate does not carry its [peer] certificate_name (tls = yes)"
                    : "the peer's certificate does not name its [peer] host (tls = yes)";
    } else {
        return false;
    }
    return true;
}

/* Waits for the next command in 1-second slices; false (and how it ended) when the peer
 * was idle too long or the service is stopping. */
bool Association::wait_for_command(std::string &how)
{
    for (unsigned idle = 0; !ASC_dataWaiting(assoc_, 1);) {
        if (stop_requested()) {
            how = "aborted: the service is stopping";
            return false;
        }
        if (++idle >= svc_.cfg->scp_idle_timeout) {
            how = "aborted: no command for " + std::to_string(idle) + " s ([scp] idle_timeout)";
            return false;
        }
    }
    return true;
}

OFCondition Association::dispatch(T_DIMSE_Message &msg, T_ASC_PresentationContextID pc)
{
    Session &s = *session_;
    operations_++;
    switch (msg.CommandField) {
    case DIMSE_C_ECHO_RQ: return DIMSE_sendEchoResponse(assoc_, pc, &msg.msg.CEchoRQ, STATUS_Success, nullptr);
    case DIMSE_C_STORE_RQ: return handle_store(s, msg.msg.CStoreRQ, pc);
    case DIMSE_C_FIND_RQ: return handle_find(s, msg.msg.CFindRQ, pc);
    case DIMSE_C_GET_RQ: return handle_get(s, msg.msg.CGetRQ, pc);
    case DIMSE_C_MOVE_RQ: return handle_move(s, msg.msg.CMoveRQ, pc);
    case DIMSE_C_CANCEL_RQ: operations_--; return EC_Normal; /* for an operation already finished */
    default: return DIMSE_BADCOMMANDTYPE;
    }
}

void Association::run_loop()
{
    std::string how;
    bool abort = true;
    while (wait_for_command(how)) {
        T_DIMSE_Message msg;
        T_ASC_PresentationContextID pc = 0;
        OFCondition c = DIMSE_receiveCommand(assoc_, DIMSE_NONBLOCKING, static_cast<int>(svc_.cfg->scp_dimse_timeout),
                                             &pc, &msg, nullptr);
        if (c.good())
            c = dispatch(msg, pc);
        OFString text;
        if (c == DUL_PEERREQUESTEDRELEASE) {
            ASC_acknowledgeRelease(assoc_);
            how = "released";
            abort = false;
        } else if (c == DUL_PEERABORTEDASSOCIATION) {
            how = "aborted by the peer";
            abort = false;
        } else if (c.bad()) {
            how = std::string("aborted: ") + DimseCondition::dump(text, c).c_str();
        } else if (stop_requested()) {
            how = "aborted after the operation: the service is stopping";
        } else {
            continue;
        }
        break;
    }
    if (abort) {
        /* DCMTK waits up to 10 s after an A-ABORT for the peer to close the connection; an
         * idle or hostile peer never does.  Our side stops reading first: the A-ABORT still
         * goes out, the wait ends at once. */
        shutdown(sock_, SHUT_RD);
        ASC_abortAssociation(assoc_);
    }
    cm_audit_event ev = peer_event(peer_, "association-end");
    ev.outcome = how == "released" ? "ok" : "aborted";
    ev.detail = how.c_str();
    ev.count = static_cast<long long>(operations_);
    audit_write(svc_, ev);
}

int Association::serve()
{
    if (!receive())
        return 0;
    Refusal r;
    if (refused(r)) {
        ASC_rejectAssociation(assoc_, &r.rj);
        audit_association("refused", r.why);
        return 0;
    }
    int accepted = negotiate(assoc_->params);
    /* before the peer can see the acceptance: its next connection may follow at once */
    const pid_t self = getpid(); /* one write of a few bytes to a pipe is atomic */
    if (accepted_fd_ >= 0 && write(accepted_fd_, &self, sizeof self) != static_cast<ssize_t>(sizeof self))
        cm_app_log(svc_.app, CM_LOG_WARN, "cannot tell the parent the association was accepted: %s", strerror(errno));
    if (ASC_acknowledgeAssociation(assoc_).bad()) {
        audit_association("failed", "the association acknowledgement could not be sent");
        return 0;
    }
    audit_association("ok", "peer [" + std::string(peer_.config->name) + "], " + std::to_string(accepted) +
                                " presentation contexts accepted");
    session_.reset(new Session(svc_, peer_, assoc_));
    run_loop();
    return 0;
}

} // namespace

int serve_connection(const Service &svc, int socket, const std::string &address, bool over_limit, int accepted_fd)
{
    install_child_signals();
    Association a(svc, socket, address, over_limit, accepted_fd);
    return a.serve();
}

} // namespace chaosmask::scp
