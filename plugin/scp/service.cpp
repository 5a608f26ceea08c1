/* service.cpp - audit records of an association, and the stop request of a child process. */
#include "service.h"

#include <csignal>
#include <cstdio>
#include <cstring>

namespace chaosmask::scp {

cm_audit_event peer_event(const Peer &peer, const char *event)
{
    cm_audit_event ev = cm_audit_event_init(event);
    ev.peer_ae = peer.calling_ae.c_str();
    ev.called_ae = peer.called_ae.c_str();
    ev.peer_address = peer.address.c_str();
    ev.tls = peer.tls ? 1 : 0;
    ev.tls_subject = peer.tls_subject.c_str();
    return ev;
}

int audit_write(const Service &svc, const cm_audit_event &ev)
{
    cm_error err = {0, ""};
    int rc = cm_audit_write(svc.audit, &ev, &err);
    if (rc != 0)
        cm_app_log(svc.app, CM_LOG_ERROR, "audit record '%s' not written: %s", ev.event, err.msg);
    return rc;
}

std::string status_hex(unsigned status)
{
    char buf[8];
    snprintf(buf, sizeof buf, "0x%04X", status & 0xFFFFu);
    return buf;
}

namespace {
volatile sig_atomic_t stop_flag = 0;
void on_stop(int) { stop_flag = 1; }
} // namespace

bool stop_requested()
{
    return stop_flag != 0;
}

void install_child_signals()
{
    /* SIGTERM (from the parent once its grace period is over) ends the association at the
     * next safe point: between PDUs while idle, between operations otherwise. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, nullptr);
    signal(SIGINT, SIG_IGN); /* Ctrl-C of a foreground run stops the parent, which then stops us */
    signal(SIGHUP, SIG_IGN);
    signal(SIGQUIT, SIG_DFL);
}

} // namespace chaosmask::scp
