/* tls_client.cpp - C-GET and C-MOVE over TLS with a client certificate (DCMTK's DcmTLSSCU):
 * getscu and movescu 3.6.7 speak no TLS.
 *
 *   tls_client get  HOST PORT AET AEC KEY CERT CA STUDY_UID OUTDIR SOPCLASS...
 *   tls_client move HOST PORT AET AEC KEY CERT CA STUDY_UID DESTINATION
 *
 * Prints "status 0xXXXX completed N failed N" from the last response; exit 0 when the
 * association worked (whatever the status), 1 when it did not. */
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/diutil.h>
#include <dcmtk/dcmtls/tlsscu.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

int usage()
{
    fprintf(stderr, "usage: tls_client get|move HOST PORT AET AEC KEY CERT CA STUDY_UID OUTDIR|DEST [SOPCLASS...]\n");
    return 2;
}

int report(OFCondition c, OFList<RetrieveResponse *> &responses)
{
    if (c.bad() || responses.empty()) {
        printf("failed: %s\n", c.text());
        return 1;
    }
    RetrieveResponse *last = responses.back();
    printf("status 0x%04X completed %u failed %u\n", last->m_status, last->m_numberOfCompletedSubops,
           last->m_numberOfFailedSubops);
    for (RetrieveResponse *r : responses)
        delete r;
    return 0;
}

} // namespace

int main(int argc, char **argv)
{
    if (argc < 11)
        return usage();
    const bool get = strcmp(argv[1], "get") == 0;
    DcmTLSSCU scu(argv[2], argv[5], static_cast<Uint16>(atoi(argv[3])));
    scu.setAETitle(argv[4]);
    scu.enableAuthentication(argv[6], argv[7], "");
    scu.addTrustedCertFile(argv[8]);
    scu.setPeerCertVerification(DCV_requireCertificate);
    scu.setTLSProfile(TSP_Profile_BCP195_ND);
    OFList<OFString> plain;
    plain.push_back(UID_LittleEndianExplicitTransferSyntax);
    plain.push_back(UID_LittleEndianImplicitTransferSyntax);
    const char *model = get ? UID_GETStudyRootQueryRetrieveInformationModel : UID_MOVEStudyRootQueryRetrieveInformationModel;
    scu.addPresentationContext(model, plain);
    for (int i = 11; get && i < argc; i++)
        scu.addPresentationContext(argv[i], plain, ASC_SC_ROLE_SCP);
    if (get) {
        scu.setStorageDir(argv[10]);
        scu.setStorageMode(DCMSCU_STORAGE_DISK);
    }
    if (scu.initNetwork().bad() || scu.negotiateAssociation().bad()) {
        printf("failed: no association\n");
        return 1;
    }
    DcmDataset query;
    query.putAndInsertString(DCM_QueryRetrieveLevel, "STUDY");
    query.putAndInsertString(DCM_StudyInstanceUID, argv[9]);
    OFList<RetrieveResponse *> responses;
    T_ASC_PresentationContextID pc = scu.findPresentationContextID(model, "");
    OFCondition c = get ? scu.sendCGETRequest(pc, &query, &responses)
                        : scu.sendMOVERequest(pc, argv[10], &query, &responses);
    int rc = report(c, responses);
    scu.releaseAssociation();
    return rc;
}
