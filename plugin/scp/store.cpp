/* store.cpp - C-STORE: receive in memory, check, mask, write, index, then answer (store.h). */
#include "store.h"

#include "digest.h"
#include "received.h"

#include "chaosmask/app_file.h"
#include "chaosmask/dicom_dataset.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <cerrno>
#include <cstring>
#include <sys/stat.h>
#include <unistd.h>

namespace chaosmask::scp {
namespace {

/* A UID as the index and the file system may meet it: 1..64 digits and dots, no empty
 * component (so never "..", "/" or a name of any kind). */
bool uid_ok(const OFString &uid)
{
    if (uid.empty() || uid.length() > 64 || uid[0] == '.' || uid[uid.length() - 1] == '.')
        return false;
    for (size_t i = 0; i < uid.length(); i++) {
        char c = uid[i];
        if (!((c >= '0' && c <= '9') || (c == '.' && uid[i + 1] != '.')))
            return false;
    }
    return true;
}

std::string hex(const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    std::string s;
    for (size_t i = 0; i < n; i++) {
        s += digits[p[i] >> 4];
        s += digits[p[i] & 15];
    }
    return s;
}

class Store {
  public:
    Store(Session &s, T_DIMSE_C_StoreRQ &req, T_ASC_PresentationContextID pc, ReceivedDataset &data)
        : s_(s), req_(req), pc_(pc), data_(data)
    {
    }
    /* Receives the data set, stores it, answers. */
    OFCondition run();
    /* Everything after the data set is in: checks, mask, write, index, audit. */
    void process();
    Uint16 status() const { return cm_store_status_of(code_); }
    const std::string &file() const { return file_; }

  private:
    int authorize();
    int check_request();
    int check_duplicate(bool &keep);
    bool same_as_archived(const std::string &file, const std::string &mine);
    int mask();
    int write_file();
    int index_file();
    OFCondition respond();
    void audit();
    int fail(int code, const char *fmt, const char *arg);

    Session &s_;
    T_DIMSE_C_StoreRQ &req_;
    T_ASC_PresentationContextID pc_;
    ReceivedDataset &data_;
    OFString study_;
    int code_ = 0;
    cm_error err_ = {0, ""};
    cm_dicom_report rep_{};
    std::string file_, detail_;
};

int Store::fail(int code, const char *fmt, const char *arg)
{
    return code_ = cm_fail(&err_, code, fmt, arg);
}

/* The peer may store, on a context where it is the storage SCU, for the command's class. */
int Store::authorize()
{
    T_ASC_PresentationContext pc;
    if (!s_.peer.config->store)
        return fail(CM_APP_EDENIED, "%s may not store ([peer] store = no)", s_.peer.calling_ae.c_str());
    if (!presentation_context(s_.assoc, pc_, pc) || pc.acceptedRole == ASC_SC_ROLE_SCP)
        return fail(CM_APP_EDENIED, "%s", "C-STORE on a presentation context where the peer is the storage SCP");
    if (strcmp(pc.abstractSyntax, req_.AffectedSOPClassUID) != 0)
        return fail(CM_APP_EMISMATCH, "the SOP class of the request is not the presentation context's (%s)",
                    pc.abstractSyntax);
    return 0;
}

/* The data set is the instance the request names, with usable UIDs. */
int Store::check_request()
{
    DcmDataset *ds = dicom_object_fileformat(data_.object()).getDataset();
    OFString cls, inst, series;
    ds->findAndGetOFStringArray(DCM_SOPClassUID, cls);
    ds->findAndGetOFStringArray(DCM_SOPInstanceUID, inst);
    ds->findAndGetOFStringArray(DCM_StudyInstanceUID, study_);
    ds->findAndGetOFStringArray(DCM_SeriesInstanceUID, series);
    if (cls != req_.AffectedSOPClassUID)
        return fail(CM_APP_EMISMATCH, "the data set's SOP Class UID is not the request's (%s)", req_.AffectedSOPClassUID);
    if (inst != req_.AffectedSOPInstanceUID)
        return fail(CM_APP_EMISMATCH, "the data set's SOP Instance UID is not the request's (%s)",
                    req_.AffectedSOPInstanceUID);
    if (!uid_ok(cls) || !uid_ok(inst))
        return fail(CM_DICOM_EINPUT, "%s", "the SOP Class or SOP Instance UID is not a UID (digits and dots, 64 at most)");
    if (!uid_ok(study_))
        return fail(CM_DICOM_EINPUT, "%s", "the Study Instance UID is missing or not a UID");
    if (!series.empty() && !uid_ok(series))
        return fail(CM_DICOM_EINPUT, "%s", "the Series Instance UID is not a UID");
    return 0;
}

/* The archived file holds this data set: as stored (an object sent encrypted again) or
 * once decrypted (the same original sent again). */
bool Store::same_as_archived(const std::string &file, const std::string &mine)
{
    cm_dicom_object *old = nullptr;
    cm_error e = {0, ""};
    std::string theirs;
    bool same = false;
    if (cm_dicom_load(&old, file.c_str(), &s_.svc.archive_limits, &e) == 0) {
        cm_dicom_release_bytes(old);
        same = dataset_digest(old, theirs) && theirs == mine;
        cm_dicom_open_params p = s_.open_params();
        cm_dicom_report rep;
        if (!same && cm_dicom_decrypt(old, &p, &rep, &e) == 0)
            same = dataset_digest(old, theirs) && theirs == mine;
    }
    cm_dicom_free(old);
    return same;
}

int Store::check_duplicate(bool &keep)
{
    keep = false;
    ArchiveIndex *index = s_.index(&err_);
    std::vector<std::string> files;
    if (index == nullptr || index->files_of(req_.AffectedSOPInstanceUID, files, &err_) != 0)
        return code_ = err_.code;
    if (files.empty())
        return 0;
    std::string mine;
    if (!dataset_digest(data_.object(), mine))
        return fail(CM_DICOM_EINPUT, "%s", "the data set cannot be encoded in its transfer syntax");
    for (const std::string &f : files)
        if (same_as_archived(f, mine)) {
            keep = true;
            file_ = f;
            detail_ = "duplicate: the archive holds this SOP Instance UID with identical content; kept, nothing written";
            return 0;
        }
    detail_ = "duplicate: the archive holds this SOP Instance UID with other content; replaced by this object";
    return 0;
}

int Store::mask()
{
    uint8_t key[CM_KEYBYTES];
    char id[CM_KEYID_MAX];
    if (cm_keys_get(s_.svc.keys, nullptr, key, id, &err_) != 0)
        return code_ = err_.code;
    cm_dicom_encrypt_params p = {s_.svc.cfg->profile, id, key, cm_keys_provider(s_.svc.keys), s_.executor(), 0};
    int rc = cm_dicom_encrypt(data_.object(), &p, &rep_, &err_);
    cm_memzero(key, sizeof key);
    if (rc == CM_DICOM_EENCRYPTED && dicom_object_xfer(data_.object()) != DcmXfer(data_.transfer_syntax().c_str()).getXfer()) {
        /* authenticating an encrypted object that was compressed losslessly after its
         * encryption decoded its pixel data in memory: what is stored is the data set as
         * received, parsed again - not the decoded copy (which the duplicate check would
         * never find identical to the same object sent again) */
        if (data_.reparse() != 0)
            return code_ = cm_fail(&err_, data_.code(), "%s", data_.message());
    }
    if (rc == CM_DICOM_EENCRYPTED && rep_.identity_changed[0] != '\0') {
        /* authentic, but relabelled to another patient since its encryption: the same policy
         * as for decryption ([dicom] patient_identity) */
        if (s_.svc.cfg->identity_policy != CM_IDENTITY_ALLOW)
            return code_ = cm_fail(&err_, CM_DICOM_EIDENTITY,
                                   "the object is already encrypted, but its patient identity changed since "
                                   "(%s); refused ([dicom] patient_identity = refuse; chaosmask rebind records a "
                                   "correction)",
                                   rep_.identity_changed);
        const std::string note = std::string("patient identity changed since encryption (") + rep_.identity_changed +
                                 "), allowed by [dicom] patient_identity";
        detail_ = detail_.empty() ? note : detail_ + "; " + note;
    }
    if (rc == CM_DICOM_EENCRYPTED || rc == CM_DICOM_ENOTHING) {
        const char *why = rc == CM_DICOM_EENCRYPTED ? "already encrypted under a key of the ring: stored as received"
                                                     : "no pixel-bearing element, nothing to protect: stored as received";
        detail_ = detail_.empty() ? why : detail_ + "; " + why;
        return 0;
    }
    if (rc == CM_CFG_EUNKNOWNKEY) {
        /* encrypted elsewhere, under a key this archive does not hold: it cannot be checked, so
         * it is refused as input (0xC000), not stored on trust */
        const std::string why = err_.msg;
        return code_ = cm_fail(&err_, CM_DICOM_EBLOCK, "the object's ChaosMask block does not authenticate here: %s",
                               why.c_str());
    }
    return code_ = rc;
}

int Store::write_file()
{
    uint8_t rnd[16];
    if (cm_random(rnd, sizeof rnd) != 0)
        return fail(CM_APP_EINTERNAL, "%s", "the random generator failed");
    const std::string name = hex(rnd, sizeof rnd), dir = name.substr(0, 2);
    file_ = dir + "/" + name.substr(2) + ".dcm"; /* never from a received value */
    if (mkdir(dir.c_str(), 0700) == 0) {
        if (cm_fsync_dir(".", &err_) != 0)
            return code_ = err_.code;
    } else if (errno != EEXIST) {
        return fail(CM_APP_EIO, "cannot create an archive directory: %s", strerror(errno));
    }
    cm_atomic_opts o = {0600, nullptr, 1, CM_ATOMIC_SYNC_FULL};
    cm_atomic f;
    if (cm_atomic_open(&f, file_.c_str(), &o, &err_) != 0)
        return code_ = err_.code;
    cm_error w = {0, ""};
    if (cm_dicom_write_fd(data_.object(), f.fd, 0, &w) != 0) {
        cm_atomic_abort(&f);
        return fail(w.code == CM_DICOM_EIO ? CM_APP_EIO : w.code, "%s", w.msg);
    }
    if (cm_atomic_commit(&f, &err_) != 0) {
        unlink(file_.c_str()); /* renamed before a failed directory sync: not durable, not kept */
        return code_ = err_.code;
    }
    return 0;
}

int Store::index_file()
{
    struct stat st;
    std::vector<std::string> replaced;
    ArchiveIndex *index = s_.index(&err_);
    if (index == nullptr || stat(file_.c_str(), &st) != 0 ||
        index->add(file_.c_str(), req_.AffectedSOPClassUID, req_.AffectedSOPInstanceUID, study_.c_str(),
                   static_cast<uint64_t>(st.st_size), replaced, &err_) != 0) {
        code_ = err_.code ? err_.code : cm_fail(&err_, CM_APP_EIO, "%s", strerror(errno));
        if (unlink(file_.c_str()) == 0) { /* the unindexed file must not come back after a crash */
            const std::string dir = file_.substr(0, file_.find('/'));
            cm_fsync_dir(dir.c_str(), nullptr);
        }
        return code_;
    }
    for (const std::string &old : replaced)
        if (old != file_)
            unlink(old.c_str());
    return 0;
}

OFCondition Store::respond()
{
    T_DIMSE_C_StoreRSP rsp;
    memset(&rsp, 0, sizeof rsp);
    rsp.MessageIDBeingRespondedTo = req_.MessageID;
    rsp.DataSetType = DIMSE_DATASET_NULL;
    rsp.DimseStatus = cm_store_status_of(code_);
    OFStandard::strlcpy(rsp.AffectedSOPClassUID, req_.AffectedSOPClassUID, sizeof rsp.AffectedSOPClassUID);
    OFStandard::strlcpy(rsp.AffectedSOPInstanceUID, req_.AffectedSOPInstanceUID, sizeof rsp.AffectedSOPInstanceUID);
    rsp.opts = O_STORE_AFFECTEDSOPCLASSUID | O_STORE_AFFECTEDSOPINSTANCEUID;
    DcmDataset detail;
    if (code_ != 0) /* Error Comment: LO, 64 characters at most */
        detail.putAndInsertString(DCM_ErrorComment, std::string(err_.msg).substr(0, 64).c_str());
    return DIMSE_sendStoreResponse(s_.assoc, pc_, &req_, &rsp, code_ != 0 ? &detail : nullptr);
}

void Store::audit()
{
    cm_audit_event ev = peer_event(s_.peer, "store");
    std::string out = file_.empty() || code_ != 0 ? "" : s_.svc.archive + "/" + file_;
    ev.operation = "C-STORE";
    ev.code = code_;
    ev.message = code_ ? err_.msg : nullptr;
    ev.sop_class_uid = req_.AffectedSOPClassUID;
    ev.sop_instance_uid = req_.AffectedSOPInstanceUID;
    ev.study_instance_uid = study_.c_str();
    ev.transfer_syntax = data_.transfer_syntax().c_str();
    ev.bytes = static_cast<long long>(data_.bytes());
    ev.profile = rep_.profile;
    ev.key_id = rep_.key_id;
    ev.output = out.c_str();
    ev.detail = detail_.c_str();
    ev.status = cm_store_status_of(code_);
    audit_write(s_.svc, ev);
}

OFCondition Store::run()
{
    if (authorize() != 0) {
        DIC_UL bytes = 0, pdvs = 0; /* not ours to keep: read and dropped, never parsed */
        OFCondition c = DIMSE_ignoreDataSet(s_.assoc, DIMSE_NONBLOCKING, s_.dimse_timeout(), &bytes, &pdvs);
        if (c.bad())
            return c;
    } else {
        OFCondition c = data_.receive(s_.assoc, pc_, s_.dimse_timeout(), s_.svc.received_limits);
        if (c.bad())
            return c;
    }
    process();
    return respond();
}

void Store::process()
{
    if (code_ == 0 && data_.code() != 0)
        code_ = cm_fail(&err_, data_.code(), "%s", data_.message());
    /* where the time goes, at debug level: the phases an administrator can act on */
    double t[6] = {cm_app_seconds(), 0, 0, 0, 0, 0};
    bool keep = false;
    if (code_ == 0 && check_request() == 0 && check_duplicate(keep) == 0 && !keep) {
        t[1] = cm_app_seconds();
        if (mask() == 0) {
            t[2] = cm_app_seconds();
            if (write_file() == 0) {
                t[3] = cm_app_seconds();
                index_file();
                t[4] = cm_app_seconds();
            }
        }
    }
    audit();
    t[5] = cm_app_seconds();
    if (t[4] > 0)
        cm_app_log(s_.svc.app, CM_LOG_DEBUG, "C-STORE %s: %llu bytes; ms: checks %.1f, mask %.1f, write %.1f, index %.1f, audit %.1f",
                   req_.AffectedSOPInstanceUID, static_cast<unsigned long long>(data_.bytes()), 1e3 * (t[1] - t[0]),
                   1e3 * (t[2] - t[1]), 1e3 * (t[3] - t[2]), 1e3 * (t[4] - t[3]), 1e3 * (t[5] - t[4]));
}

} // namespace

OFCondition handle_store(Session &s, T_DIMSE_C_StoreRQ &req, T_ASC_PresentationContextID pc)
{
    ReceivedDataset data;
    Store store(s, req, pc, data);
    return store.run();
}

Uint16 store_received(Session &s, T_DIMSE_C_StoreRQ &req, ReceivedDataset &data, std::string *file)
{
    Store store(s, req, 0, data);
    store.process();
    Uint16 status = store.status();
    if (file != nullptr)
        *file = status == STATUS_Success ? store.file() : "";
    return status;
}

} // namespace chaosmask::scp
