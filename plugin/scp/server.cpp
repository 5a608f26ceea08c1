/* server.cpp - listen, accept, fork, reap, stop (server.h). */
#include "server.h"

#include "association.h"

#include "chaosmask/app_keys.h"
#include "chaosmask/app_outcome.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace chaosmask::scp {
namespace {

volatile sig_atomic_t term_flag = 0;
void on_term(int) { term_flag = 1; }
void on_child(int) {} /* only interrupts poll(), so a finished child frees its slot at once */

void handle(int sig, void (*fn)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = sig == SIGCHLD ? SA_NOCLDSTOP : 0; /* no SA_RESTART: poll() returns */
    sigaction(sig, &sa, nullptr);
}

/* Sleeps up to ms milliseconds (less when a signal arrives). */
void nap(int ms)
{
    poll(nullptr, 0, ms);
}

} // namespace

Server::~Server()
{
    if (listen_fd_ >= 0)
        close(listen_fd_);
    for (int fd : accepted_)
        if (fd >= 0)
            close(fd);
}

int Server::listen(cm_error *err)
{
    const cm_config &cfg = *svc_.cfg;
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(svc_.port));
    inet_pton(AF_INET, cfg.scp_bind, &addr.sin_addr);
    if (listen_fd_ < 0 || setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(listen_fd_, reinterpret_cast<struct sockaddr *>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd_, 128) != 0)
        return cm_fail(err, CM_CFG_EINVAL, "cannot listen on %s:%u: %s ([scp] bind and port, or --port)",
                       cfg.scp_bind, svc_.port, strerror(errno));
    if (pipe2(accepted_, O_CLOEXEC | O_NONBLOCK) != 0)
        return cm_fail(err, CM_APP_EIO, "cannot create a pipe: %s", strerror(errno));
    return 0;
}

void Server::audit_service(const char *what, long long count)
{
    cm_audit_event ev = cm_audit_event_init("service");
    std::string detail = std::string(what) + " on " + svc_.cfg->scp_bind + ":" + std::to_string(svc_.port) +
                         (svc_.tls_in ? " (TLS)" : "") + ", AE title " + svc_.cfg->scp_aetitle;
    ev.detail = detail.c_str();
    ev.count = count;
    audit_write(svc_, ev);
}

void Server::reap()
{
    int st = 0;
    pid_t p;
    struct rusage ru;
    while ((p = wait4(-1, &st, WNOHANG, &ru)) > 0) {
        peak_child_kib_ = std::max(peak_child_kib_, ru.ru_maxrss);
        bool worker = workers_.erase(p) > 0;
        unidentified_.erase(p);
        served_ += worker ? 1 : 0;
        rejectors_.erase(p);
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
            continue;
        std::string why = "the process of an association (pid " + std::to_string(p) + ") " +
                          (WIFSIGNALED(st) ? std::string("died of signal ") + strsignal(WTERMSIG(st))
                                           : "exited with status " + std::to_string(WEXITSTATUS(st))) +
                          (worker ? "" : " while rejecting");
        cm_app_log(svc_.app, CM_LOG_ERROR, "%s; the service goes on", why.c_str());
        cm_audit_event ev = cm_audit_event_init("child");
        ev.outcome = "failed";
        ev.message = why.c_str();
        audit_write(svc_, ev);
    }
}

/* The pids of children that have been accepted as associations since the last call. */
void Server::read_accepted()
{
    pid_t pids[64];
    ssize_t n;
    while ((n = read(accepted_[0], pids, sizeof pids)) > 0)
        for (ssize_t i = 0; i < n / static_cast<ssize_t>(sizeof(pid_t)); i++)
            unidentified_.erase(pids[i]);
}

size_t Server::unidentified_from(const std::string &address) const
{
    size_t n = 0;
    for (const auto &u : unidentified_)
        n += u.second == address ? 1 : 0;
    return n;
}

void Server::accept_one()
{
    struct sockaddr_in from;
    socklen_t len = sizeof from;
    int s = accept4(listen_fd_, reinterpret_cast<struct sockaddr *>(&from), &len, SOCK_CLOEXEC);
    if (s < 0)
        return;
    reap();
    /* responses are small PDUs that must not wait for the peer's delayed ACK (Nagle) */
    int one = 1;
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char ip[INET_ADDRSTRLEN] = "";
    inet_ntop(AF_INET, &from.sin_addr, ip, sizeof ip);
    read_accepted();
    const size_t most = svc_.cfg->scp_max_associations, busy = workers_.size();
    const size_t reserve = most > 1 ? std::max<size_t>(1, most / 8) : 0; /* server.h */
    bool over = busy >= most || (most - busy <= reserve && unidentified_from(ip) > 0);
    if (over && rejectors_.size() >= REJECTORS_MAX) {
        close(s); /* not even a rejection: the rejecting processes are busy already */
        cm_audit_event ev = cm_audit_event_init("association");
        ev.outcome = "refused";
        ev.peer_address = ip;
        ev.message = "connection closed: too many associations and rejections at once";
        audit_write(svc_, ev);
        return;
    }
    pid_t pid = fork();
    if (pid == 0) {
        close(listen_fd_);
        cm_keys_relock(svc_.keys);
        close(accepted_[0]);
        _exit(serve_connection(svc_, s, ip, over, accepted_[1]));
    }
    close(s);
    if (pid < 0) {
        cm_app_log(svc_.app, CM_LOG_ERROR, "cannot fork for a connection from %s: %s", ip, strerror(errno));
        return;
    }
    (over ? rejectors_ : workers_).insert(pid);
    if (!over)
        unidentified_[pid] = ip;
}

void Server::stop()
{
    close(listen_fd_); /* new connections are refused from now on */
    listen_fd_ = -1;
    audit_service("stopping", static_cast<long long>(workers_.size()));
    for (unsigned waited = 0; !(workers_.empty() && rejectors_.empty()) && waited < svc_.cfg->scp_shutdown_grace * 10;
         waited++) {
        nap(100);
        reap();
    }
    for (pid_t p : workers_)
        kill(p, SIGTERM);
    for (pid_t p : rejectors_)
        kill(p, SIGTERM);
    for (int waited = 0; !(workers_.empty() && rejectors_.empty()) && waited < 50; waited++) {
        nap(100);
        reap();
    }
    for (pid_t p : workers_)
        kill(p, SIGKILL);
    for (pid_t p : rejectors_)
        kill(p, SIGKILL);
    for (int waited = 0; !(workers_.empty() && rejectors_.empty()) && waited < 50; waited++) {
        nap(100);
        reap();
    }
    /* the memory figures an administrator sizes max_associations with */
    struct rusage self;
    getrusage(RUSAGE_SELF, &self);
    std::string figures = "stopped after " + std::to_string(served_) + " associations; largest resident size: " +
                          std::to_string(self.ru_maxrss / 1024) + " MiB (this process), " +
                          std::to_string(peak_child_kib_ / 1024) + " MiB (an association's process);";
    audit_service(figures.c_str(), static_cast<long long>(served_));
}

int Server::run()
{
    handle(SIGTERM, on_term);
    handle(SIGINT, on_term);
    handle(SIGCHLD, on_child);
    signal(SIGPIPE, SIG_IGN); /* a peer that disappears is an error of that write, not our death */
    signal(SIGHUP, SIG_IGN);
    audit_service("started", -1);
    cm_app_log(svc_.app, CM_LOG_INFO, "listening on %s:%u as %s", svc_.cfg->scp_bind, svc_.port,
               svc_.cfg->scp_aetitle);
    while (!term_flag) {
        struct pollfd pfd = {listen_fd_, POLLIN, 0};
        int r = poll(&pfd, 1, 1000);
        reap();
        if (r > 0 && (pfd.revents & POLLIN))
            accept_one();
    }
    stop();
    return 0;
}

} // namespace chaosmask::scp
