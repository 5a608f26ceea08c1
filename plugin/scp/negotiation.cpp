/* negotiation.cpp - presentation contexts decided in code (negotiation.h). */
#include "negotiation.h"

#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <cstring>

namespace chaosmask::scp {
namespace {

bool query_retrieve_model(const char *as)
{
    static const char *const models[] = {
        UID_FINDPatientRootQueryRetrieveInformationModel, UID_FINDStudyRootQueryRetrieveInformationModel,
        UID_GETPatientRootQueryRetrieveInformationModel,  UID_GETStudyRootQueryRetrieveInformationModel,
        UID_MOVEPatientRootQueryRetrieveInformationModel, UID_MOVEStudyRootQueryRetrieveInformationModel,
    };
    for (const char *m : models)
        if (strcmp(as, m) == 0)
            return true;
    return false;
}

/* The first proposed syntax that passes `ok`, or nullptr. */
template <typename Ok>
const char *first_proposed(const T_ASC_PresentationContext &pc, Ok ok)
{
    for (int j = 0; j < static_cast<int>(pc.transferSyntaxCount); j++)
        if (ok(pc.proposedTransferSyntaxes[j]))
            return pc.proposedTransferSyntaxes[j];
    return nullptr;
}

/* Explicit VR little endian when proposed, else implicit. */
const char *plain_syntax(const T_ASC_PresentationContext &pc)
{
    for (const char *want : {UID_LittleEndianExplicitTransferSyntax, UID_LittleEndianImplicitTransferSyntax}) {
        const char *ts = first_proposed(pc, [&](const char *t) { return strcmp(t, want) == 0; });
        if (ts != nullptr)
            return ts;
    }
    return nullptr;
}

} // namespace

bool storable_transfer_syntax(const char *uid)
{
    DcmXfer x(uid);
    E_TransferSyntax t = x.getXfer();
    return t != EXS_Unknown && t != EXS_BigEndianImplicit && !x.isReferenced() &&
           t != EXS_PrivateGE_LEI_WithBigEndianPixelData;
}

int negotiate(T_ASC_Parameters *params)
{
    int accepted = 0;
    for (int i = 0; i < ASC_countPresentationContexts(params); i++) {
        T_ASC_PresentationContext pc;
        ASC_getPresentationContext(params, i, &pc);
        const char *as = pc.abstractSyntax;
        const char *ts = nullptr;
        T_ASC_SC_ROLE role = ASC_SC_ROLE_DEFAULT;
        if (strcmp(as, UID_VerificationSOPClass) == 0 || query_retrieve_model(as)) {
            ts = plain_syntax(pc);
        } else if (dcmIsaStorageSOPClassUID(as)) {
            ts = first_proposed(pc, storable_transfer_syntax);
            role = pc.proposedRole; /* SCU: it stores; SCP: it receives its C-GET; both */
        } else {
            ASC_refusePresentationContext(params, pc.presentationContextID, ASC_P_ABSTRACTSYNTAXNOTSUPPORTED);
            continue;
        }
        if (ts == nullptr) {
            ASC_refusePresentationContext(params, pc.presentationContextID, ASC_P_TRANSFERSYNTAXESNOTSUPPORTED);
            continue;
        }
        if (ASC_acceptPresentationContext(params, pc.presentationContextID, ts, role).good())
            accepted++;
    }
    return accepted;
}

} // namespace chaosmask::scp
