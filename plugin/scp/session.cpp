/* session.cpp - what an association opens on first use (session.h). */
#include "session.h"

#include "chaosmask/dicom_dataset.h"

#include <dcmtk/dcmdata/dcdeftag.h>

namespace chaosmask::scp {

ArchiveIndex *Session::index(cm_error *err)
{
    if (!index_)
        index_ = ArchiveIndex::open(svc.cfg->archive_max_studies, svc.cfg->archive_max_study_bytes, err);
    return index_.get();
}

const cm_executor *Session::executor()
{
    /* The pool is created in the child (threads do not survive fork); a pool of one thread
     * is no pool. */
    cm_pool *pool = nullptr;
    cm_error err = {0, ""};
    if (cm_app_pool(svc.app, &pool, &err) != 0 || cm_pool_threads(pool) < 2)
        return nullptr;
    return cm_pool_executor(pool);
}

cm_dicom_open_params Session::open_params()
{
    cm_dicom_open_params p;
    p.keys = cm_keys_provider(svc.keys);
    p.executor = executor();
    p.identity_policy =
        svc.cfg->identity_policy == CM_IDENTITY_ALLOW ? CM_DICOM_IDENTITY_ALLOW : CM_DICOM_IDENTITY_REFUSE;
    return p;
}

cm_dicom_limits Session::identifier_limits() const
{
    cm_dicom_limits lim = svc.received_limits;
    if (lim.max_bytes > CM_SCP_IDENTIFIER_MAX)
        lim.max_bytes = CM_SCP_IDENTIFIER_MAX;
    return lim;
}

OFCondition Session::receive_identifier(T_ASC_PresentationContextID pc, ReceivedDataset &ids)
{
    return ids.receive(assoc, pc, dimse_timeout(), identifier_limits());
}

std::string Session::level_of(cm_dicom_object *ids)
{
    OFString level;
    if (ids != nullptr)
        dicom_object_fileformat(ids).getDataset()->findAndGetOFString(DCM_QueryRetrieveLevel, level);
    return level.c_str();
}

bool presentation_context(T_ASC_Association *assoc, T_ASC_PresentationContextID id, T_ASC_PresentationContext &pc)
{
    return ASC_findAcceptedPresentationContext(assoc->params, id, &pc).good();
}

int model_of_context(T_ASC_Association *assoc, T_ASC_PresentationContextID id, const char *model, cm_error *err)
{
    T_ASC_PresentationContext pc;
    if (!presentation_context(assoc, id, pc))
        return cm_fail(err, CM_APP_EMISMATCH, "the command came on no accepted presentation context");
    if (strcmp(pc.abstractSyntax, model) != 0)
        return cm_fail(err, CM_APP_EMISMATCH, "the command's SOP class %s is not the presentation context's (%s)",
                       model, pc.abstractSyntax);
    return 0;
}

} // namespace chaosmask::scp
