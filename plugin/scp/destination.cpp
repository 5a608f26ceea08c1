/* destination.cpp - the C-MOVE sub-association (destination.h). */
#include "destination.h"

#include "tls.h"

#include "chaosmask/app_outcome.h"

#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcmetinf.h>

#include <algorithm>
#include <string>
#include <utility>

namespace chaosmask::scp {
namespace {

/* The transfer syntax an archive file is stored in, from its meta header only (a flat group
 * of short elements: nothing there for DCMTK's recursion). */
std::string stored_syntax(const std::string &file)
{
    DcmFileFormat ff;
    OFString ts;
    if (ff.loadFile(file.c_str(), EXS_Unknown, EGL_noChange, 0, ERM_metaOnly).good())
        ff.getMetaInfo()->findAndGetOFString(DCM_TransferSyntaxUID, ts);
    return ts.c_str();
}

} // namespace

MoveDestination::~MoveDestination()
{
    if (assoc_ != nullptr) {
        if (broken_)
            ASC_abortAssociation(assoc_);
        else
            ASC_releaseAssociation(assoc_);
        ASC_dropAssociation(assoc_);
        ASC_destroyAssociation(&assoc_);
    }
    if (net_ != nullptr)
        ASC_dropNetwork(&net_);
}

int MoveDestination::propose(T_ASC_Parameters *params, const std::vector<Match> &matches)
{
    std::vector<std::pair<std::string, std::string>> exact;
    std::vector<std::string> classes;
    for (const Match &m : matches) {
        std::pair<std::string, std::string> p(m.sop_class, stored_syntax(m.file));
        if (!p.second.empty() && std::find(exact.begin(), exact.end(), p) == exact.end())
            exact.push_back(p);
        if (std::find(classes.begin(), classes.end(), m.sop_class) == classes.end())
            classes.push_back(m.sop_class);
    }
    int id = 1; /* odd ids 1..255: 128 contexts */
    for (const auto &p : exact) {
        const char *ts[] = {p.second.c_str()};
        if (id <= 255 && ASC_addPresentationContext(params, static_cast<T_ASC_PresentationContextID>(id),
                                                    p.first.c_str(), ts, 1).good())
            id += 2;
    }
    for (const std::string &cls : classes) {
        const char *ts[] = {UID_LittleEndianExplicitTransferSyntax, UID_LittleEndianImplicitTransferSyntax};
        if (id <= 255 && ASC_addPresentationContext(params, static_cast<T_ASC_PresentationContextID>(id),
                                                    cls.c_str(), ts, 2).good())
            id += 2;
    }
    return (id - 1) / 2;
}

int MoveDestination::open(const Service &svc, const cm_peer &dest, const std::vector<Match> &matches, cm_error *err)
{
    const cm_config &cfg = *svc.cfg;
    if (ASC_initializeNetwork(NET_REQUESTOR, 0, static_cast<int>(cfg.scp_acse_timeout), &net_).bad())
        return cm_fail(err, CM_APP_EIO, "cannot set up the network for the C-MOVE destination");
    if (dest.tls) {
        tls_ = tls_connecting_layer(cfg, cm_peer_certificate_name(&dest), err);
        if (!tls_ || ASC_setTransportLayer(net_, tls_.get(), 0).bad())
            return cm_fail(err, CM_APP_EIO, "TLS for the C-MOVE destination: %s", err ? err->msg : "");
    }
    T_ASC_Parameters *params = nullptr;
    if (ASC_createAssociationParameters(&params, static_cast<long>(cfg.scp_max_pdu)).bad())
        return cm_fail(err, CM_APP_EIO, "cannot create association parameters");
    ASC_setAPTitles(params, cfg.scp_aetitle, dest.aetitle, nullptr);
    std::string address = std::string(dest.host) + ":" + std::to_string(dest.port);
    ASC_setPresentationAddresses(params, OFStandard::getHostName().c_str(), address.c_str());
    ASC_setTransportLayerType(params, dest.tls ? OFTrue : OFFalse);
    propose(params, matches);
    /* DCMTK's connect blocks without limit by default (a destination that drops SYNs would hold
     * the requester's C-MOVE for minutes); this process makes no other connection. */
    dcmConnectionTimeout.set(static_cast<Sint32>(cfg.scp_acse_timeout));
    OFCondition c = ASC_requestAssociation(net_, params, &assoc_);
    if (c.bad() || ASC_countAcceptedPresentationContexts(assoc_->params) == 0) {
        OFString text;
        std::string why = c.bad() ? DimseCondition::dump(text, c).c_str() : "no presentation context accepted";
        if (assoc_ != nullptr) {
            if (c.good())
                ASC_abortAssociation(assoc_); /* accepted, but nothing it could receive */
            ASC_dropAssociation(assoc_);
            ASC_destroyAssociation(&assoc_);
        } else {
            ASC_destroyAssociationParameters(&params);
        }
        return cm_fail(err, CM_APP_EIO, "C-MOVE destination %s at %s: %s", dest.aetitle, address.c_str(), why.c_str());
    }
    return 0;
}

} // namespace chaosmask::scp
