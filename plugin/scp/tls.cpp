/* tls.cpp - the service's TLS layers (tls.h). */
#include "tls.h"

#include "chaosmask/app_outcome.h"

#include <dcmtk/dcmtls/tlstrans.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <vector>

namespace chaosmask::scp {
namespace {

/* DCMTK 3.6.7 checks only the chain of a server's certificate; this layer also requires the
 * destination's certificate to name the host it was configured with (or its certificate_name). */
class PinnedTLSLayer : public DcmTLSTransportLayer {
  public:
    explicit PinnedTLSLayer(std::string host) : DcmTLSTransportLayer(NET_REQUESTOR, nullptr, OFTrue), host_(host) {}
    DcmTransportConnection *createConnection(DcmNativeSocketType s, OFBool secure) override
    {
        if (!secure)
            return DcmTLSTransportLayer::createConnection(s, secure);
        SSL *ssl = SSL_new(getNativeHandle());
        if (ssl == nullptr)
            return nullptr;
        SSL_set_fd(ssl, static_cast<int>(s));
        X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
        /* a server's name as TLS clients check it, but "ws*.example" matches no "ws-7.example" */
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        if (X509_VERIFY_PARAM_set1_ip_asc(param, host_.c_str()) != 1 && SSL_set1_host(ssl, host_.c_str()) != 1) {
            SSL_free(ssl);
            return nullptr;
        }
        return new DcmTLSConnection(s, ssl);
    }

  private:
    std::string host_;
};

/* Profile, identity and trust of a layer; 0 or a CM_CFG_ code naming what failed. */
int configure(DcmTLSTransportLayer &t, const cm_config &cfg, bool require_peer, cm_error *err)
{
    if (t.setTLSProfile(TSP_Profile_BCP195_ND).bad() || t.activateCipherSuites().bad())
        return cm_fail(err, CM_APP_EINTERNAL, "TLS: the BCP 195 profile cannot be set up with this OpenSSL");
    if (t.setPrivateKeyFile(cfg.tls_private_key, DCF_Filetype_PEM).bad())
        return cm_fail(err, CM_CFG_EFORMAT, "[tls] private_key %s: not a readable, unencrypted PEM private key",
                       cfg.tls_private_key);
    if (t.setCertificateFile(cfg.tls_certificate, DCF_Filetype_PEM).bad())
        return cm_fail(err, CM_CFG_EFORMAT, "[tls] certificate %s: not a readable PEM certificate",
                       cfg.tls_certificate);
    if (!t.checkPrivateKeyMatchesCertificate())
        return cm_fail(err, CM_CFG_EFORMAT, "[tls] private_key %s does not belong to certificate %s",
                       cfg.tls_private_key, cfg.tls_certificate);
    if (cfg.tls_ca[0] != '\0' && t.addTrustedCertificateFile(cfg.tls_ca, DCF_Filetype_PEM).bad())
        return cm_fail(err, CM_CFG_EFORMAT, "[tls] ca %s: not a readable PEM certificate", cfg.tls_ca);
    t.setCertificateVerification(require_peer ? DCV_requireCertificate : DCV_ignoreCertificate);
    return 0;
}

} // namespace

std::unique_ptr<DcmTLSTransportLayer> tls_accepting_layer(const cm_config &cfg, cm_error *err)
{
    std::unique_ptr<DcmTLSTransportLayer> t(new DcmTLSTransportLayer(NET_ACCEPTOR, nullptr, OFTrue));
    if (configure(*t, cfg, cfg.tls_require_client_certificate != 0, err) != 0)
        return nullptr;
    return t;
}

std::unique_ptr<DcmTLSTransportLayer> tls_connecting_layer(const cm_config &cfg, const std::string &host,
                                                           cm_error *err)
{
    std::unique_ptr<DcmTLSTransportLayer> t(new PinnedTLSLayer(host));
    if (configure(*t, cfg, true, err) != 0)
        return nullptr;
    return t;
}

namespace {

using X509Ptr = std::unique_ptr<X509, void (*)(X509 *)>;

/* The peer's certificate, decoded; null without one or when it cannot be decoded. */
X509Ptr peer_certificate(T_ASC_Association *assoc)
{
    X509Ptr none(nullptr, X509_free);
    unsigned long n = ASC_getPeerCertificateLength(assoc);
    if (n == 0)
        return none;
    std::vector<unsigned char> der(n);
    ASC_getPeerCertificate(assoc, der.data(), n);
    const unsigned char *p = der.data();
    return X509Ptr(d2i_X509(nullptr, &p, static_cast<long>(n)), X509_free);
}

} // namespace

bool tls_peer_names_host(T_ASC_Association *assoc, const char *host)
{
    X509Ptr x = peer_certificate(assoc);
    if (!x)
        return false;
    /* A caller's certificate identifies a peer only by an exact entry: an IP address in an IP
     * entry, a DNS name in a DNS entry - no wildcard (a "*.hospital.example" certificate would
     * open every peer of the domain), never the subject's common name (which a CA may copy
     * from the request). */
    const int ip = X509_check_ip_asc(x.get(), host, 0); /* -2: host is no IP address */
    return ip == 1 ||
           (ip == -2 && X509_check_host(x.get(), host, 0,
                                        X509_CHECK_FLAG_NO_WILDCARDS | X509_CHECK_FLAG_NEVER_CHECK_SUBJECT,
                                        nullptr) == 1);
}

std::string tls_peer_subject(T_ASC_Association *assoc)
{
    if (ASC_getPeerCertificateLength(assoc) == 0)
        return "";
    X509Ptr x = peer_certificate(assoc);
    if (!x)
        return "(unreadable certificate)";
    char buf[512];
    X509_NAME_oneline(X509_get_subject_name(x.get()), buf, sizeof buf);
    return buf;
}

} // namespace chaosmask::scp
