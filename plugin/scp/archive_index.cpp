/* archive_index.cpp - the archive's index.dat, guarded (archive_index.h). */
#include "archive_index.h"

#include "chaosmask/app_outcome.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcelem.h>
#include <dcmtk/dcmnet/diutil.h>
#include <dcmtk/dcmqrdb/dcmqrcnf.h>
#include <dcmtk/dcmqrdb/dcmqrdbs.h>
#include <dcmtk/dcmqrdb/dcmqridx.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace chaosmask::scp {

ArchiveIndex::ArchiveIndex(const char *dir, unsigned max_studies, uint64_t max_study_bytes, OFCondition &result)
    : DcmQueryRetrieveIndexDatabaseHandle(dir, static_cast<long>(max_studies), static_cast<long>(max_study_bytes),
                                          result),
      max_studies_(max_studies > DB_UpperMaxStudies ? DB_UpperMaxStudies : max_studies),
      max_study_bytes_(max_study_bytes > static_cast<uint64_t>(DB_UpperMaxBytesPerStudy)
                           ? static_cast<uint64_t>(DB_UpperMaxBytesPerStudy)
                           : max_study_bytes)
{
    /* DCMTK never deletes an archive file: replaced files are removed by us once their
     * successor is indexed, and the guard keeps the quota code from ever evicting. */
    enableQuotaSystem(OFFalse);
}

std::unique_ptr<ArchiveIndex> ArchiveIndex::open(unsigned max_studies, uint64_t max_study_bytes, cm_error *err,
                                                const char *dir)
{
    OFCondition result = EC_Normal;
    std::unique_ptr<ArchiveIndex> index(new ArchiveIndex(dir, max_studies, max_study_bytes, result));
    if (result.bad()) {
        cm_fail(err, CM_APP_EIO, "cannot open the archive index %s/index.dat: %s", dir, result.text());
        return nullptr;
    }
    return index;
}

/* index.dat to disk; 0, or -1 with errno */
int ArchiveIndex::sync_index()
{
    int fd = ::open(getIndexFilename(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

/* Every record of the instance; the lock must be held. */
std::vector<ArchiveIndex::Duplicate> ArchiveIndex::duplicates(const char *sop_instance)
{
    std::vector<Duplicate> out;
    IdxRecord rec;
    int idx = -1;
    DB_IdxInitLoop(&idx);
    while (DB_IdxGetNext(&idx, &rec).good())
        if (strcmp(rec.SOPInstanceUID, sop_instance) == 0)
            out.push_back({idx, rec.filename, rec.StudyInstanceUID, rec.ImageSize});
    return out;
}

int ArchiveIndex::files_of(const char *sop_instance, std::vector<std::string> &files, cm_error *err)
{
    if (DB_lock(OFFalse).bad())
        return cm_fail(err, CM_APP_EIO, "cannot lock the archive index");
    for (const Duplicate &d : duplicates(sop_instance))
        files.push_back(d.file);
    DB_unlock();
    return 0;
}

/* The study table as it will be once dups are removed, and why the new object cannot be
 * indexed without eviction (NULL: it can).  Mirrors checkupinStudyDesc of dcmqrdbi.cc. */
const char *ArchiveIndex::guard(std::vector<StudyDescRecord> &table, const std::vector<Duplicate> &dups,
                                const char *study, uint64_t bytes)
{
    auto slot_of = [&](const char *uid) {
        for (unsigned s = 0; s < max_studies_; s++)
            if (table[s].NumberofRegistratedImages > 0 && strcmp(table[s].StudyInstanceUID, uid) == 0)
                return static_cast<int>(s);
        return -1;
    };
    for (const Duplicate &d : dups) {
        int s = slot_of(d.study.c_str());
        if (s < 0)
            continue;
        table[s].NumberofRegistratedImages--;
        table[s].StudySize = table[s].StudySize > d.bytes ? table[s].StudySize - d.bytes : 0;
        if (table[s].NumberofRegistratedImages == 0)
            memset(&table[s], 0, sizeof table[s]);
    }
    if (bytes > max_study_bytes_)
        return "the object is larger than a study may be ([archive] max_study_size; index.dat's limit is 1 GiB)";
    int s = slot_of(study);
    if (s >= 0 && table[s].StudySize + bytes > max_study_bytes_)
        return "the study would exceed [archive] max_study_size (index.dat would evict older images)";
    if (s < 0) {
        unsigned free_slot = 0;
        while (free_slot < max_studies_ && table[free_slot].NumberofRegistratedImages != 0)
            free_slot++;
        if (free_slot == max_studies_)
            return "the archive holds [archive] max_studies studies (index.dat would evict the oldest study)";
    }
    return nullptr;
}

int ArchiveIndex::add(const char *file, const char *sop_class, const char *sop_instance, const char *study,
                      uint64_t bytes, std::vector<std::string> &replaced, cm_error *err)
{
    if (DB_lock(OFTrue).bad())
        return cm_fail(err, CM_APP_EIO, "cannot lock the archive index");
    std::vector<StudyDescRecord> table(MAX_MAX_STUDIES);
    memset(table.data(), 0, SIZEOF_STUDYDESC);
    DB_GetStudyDesc(table.data()); /* a new index has no table yet: it stays empty */
    std::vector<Duplicate> dups = duplicates(sop_instance);
    if (const char *why = guard(table, dups, study, bytes)) {
        DB_unlock();
        return cm_fail(err, CM_APP_ELIMIT, "refused, nothing evicted: %s", why);
    }
    /* The other records of the instance go first, with the study table they leave, so the
     * stock duplicate check (which fixes the counts of the wrong study) finds none. */
    struct Removed {
        std::string sop_class, sop_instance, file;
    };
    std::vector<Removed> removed; /* indexed again if the new record cannot be added */
    for (const Duplicate &d : dups) {
        IdxRecord rec;
        if (DB_IdxRead(d.idx, &rec).good())
            removed.push_back({rec.SOPClassUID, rec.SOPInstanceUID, rec.filename});
        DB_IdxRemove(d.idx);
        replaced.push_back(d.file);
    }
    if (!dups.empty())
        DB_StudyDescChange(table.data());
    DcmQueryRetrieveDatabaseStatus status(STATUS_Success);
    /* still under our lock; the stock storeRequest locks (a no-op) and releases it at its end */
    OFCondition c = DcmQueryRetrieveIndexDatabaseHandle::storeRequest(sop_class, sop_instance, file, &status, OFTrue);
    if (c.bad()) {
        /* the replaced instance keeps its records (and its files stay): the archive holds what
         * it held before this store */
        for (const Removed &r : removed) { /* indexed again from its file's clear header */
            DcmQueryRetrieveDatabaseStatus again(STATUS_Success);
            DcmQueryRetrieveIndexDatabaseHandle::storeRequest(r.sop_class.c_str(), r.sop_instance.c_str(),
                                                              r.file.c_str(), &again, OFTrue);
        }
        rebuild_study_table();
        sync_index();
        replaced.clear();
        return cm_fail(err, CM_APP_EIO, "the archive index could not record the object (status %s): %s",
                       DU_cstoreStatusString(status.status()), c.text());
    }
    if (sync_index() != 0)
        return cm_fail(err, CM_APP_EIO, "the archive index could not be written to disk: %s", strerror(errno));
    return 0;
}

/* The study table recomputed from the records (after a failed update left it counting an
 * image that is not there). */
void ArchiveIndex::rebuild_study_table()
{
    if (DB_lock(OFTrue).bad())
        return;
    std::vector<StudyDescRecord> table(MAX_MAX_STUDIES);
    memset(table.data(), 0, SIZEOF_STUDYDESC);
    IdxRecord rec;
    int idx = -1;
    DB_IdxInitLoop(&idx);
    while (DB_IdxGetNext(&idx, &rec).good()) {
        unsigned s = 0;
        while (s < max_studies_ && table[s].NumberofRegistratedImages > 0 &&
               strcmp(table[s].StudyInstanceUID, rec.StudyInstanceUID) != 0)
            s++;
        if (s == max_studies_)
            continue;
        OFStandard::strlcpy(table[s].StudyInstanceUID, rec.StudyInstanceUID, sizeof table[s].StudyInstanceUID);
        table[s].NumberofRegistratedImages++;
        table[s].StudySize += rec.ImageSize;
        if (rec.RecordedDate > table[s].LastRecordedDate)
            table[s].LastRecordedDate = rec.RecordedDate;
    }
    DB_StudyDescChange(table.data());
    DB_unlock();
}

namespace {

/* The Query/Retrieve Level made safe for DCMTK 3.6.7's startFindRequest and startMoveRequest;
 * false for one they must not see.
 *  - On a level they do not know they return without freeing the keys already collected
 *    (those sorted before (0008,0052), e.g. Study Date): they stay in the handle, and the next
 *    C-GET or C-MOVE of the association appends to that list through a null pointer - the
 *    child serving the association crashed (found by fuzz_scp_query).  Such a level is
 *    refused here, with the status DCMTK gives it; so is one longer than a CS (16).  A missing
 *    or empty level is DCMTK's to refuse (it cleans up).
 *  - They copy the level with strncpy(level, value, length) (char level[50], length = the
 *    element's length) and upper-case `level` up to its first NUL.  A value of even length
 *    without padding ("SERIES") leaves no NUL (an odd one is padded, and DCMTK gives the pad as
 *    a NUL): the loop read, and upper-cased, whatever the stack held after it until a zero
 *    byte (valgrind: a conditional jump on uninitialised values in the service's query
 *    harness).  A known level is put back as its text and one NUL inside the element's
 *    length: strncpy then pads with NULs, and the copy is terminated. */
bool level_for_dcmtk(DcmDataset *query)
{
    DcmElement *e = nullptr;
    if (query->findAndGetElement(DCM_QueryRetrieveLevel, e).bad() || e == nullptr || e->getLength() == 0)
        return true;
    char *value = nullptr;
    if (e->getLength() > 16 || e->getString(value).bad() || value == nullptr)
        return false;
    std::string text(value, strnlen(value, e->getLength()));
    while (!text.empty() && text.back() == ' ')
        text.pop_back();
    std::string level = text;
    for (char &c : level)
        c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
    bool known = false;
    for (const char *k : {"PATIENT", "STUDY", "SERIES", "IMAGE"}) /* DCMTK compares prefixes */
        known = known || level.compare(0, strlen(k), k) == 0;
    if (known)
        e->putString(text.c_str(), static_cast<Uint32>(text.size() + 1)); /* the NUL is part of the value */
    return known;
}

} // namespace

void ArchiveIndex::find(const char *model, DcmDataset *query, std::vector<std::unique_ptr<DcmDataset>> &responses,
                        Uint16 *status)
{
    if (!level_for_dcmtk(query)) {
        *status = STATUS_FIND_Failed_UnableToProcess;
        return;
    }
    DcmQueryRetrieveDatabaseStatus st(STATUS_Pending);
    DcmQueryRetrieveCharacterSetOptions charsets;
    startFindRequest(model, query, &st);
    while (DICOM_PENDING_STATUS(st.status())) {
        DcmDataset *ids = nullptr;
        if (nextFindResponse(&ids, &st, charsets).bad()) {
            /* its error paths return with index.dat still locked and the lists allocated */
            delete ids;
            DcmQueryRetrieveDatabaseStatus cancelled;
            cancelFindRequest(&cancelled);
            break;
        }
        if (ids == nullptr)
            break;
        if (DICOM_PENDING_STATUS(st.status()))
            responses.emplace_back(ids);
        else
            delete ids;
    }
    /* the stock handle releases index.dat when the last response has been produced */
    *status = DICOM_PENDING_STATUS(st.status()) ? STATUS_FIND_Failed_UnableToProcess : st.status();
}

void ArchiveIndex::matches(const char *model, DcmDataset *query, std::vector<Match> &out, Uint16 *status)
{
    if (!level_for_dcmtk(query)) {
        *status = STATUS_MOVE_Failed_UnableToProcess;
        return;
    }
    DcmQueryRetrieveDatabaseStatus st(STATUS_Pending);
    startMoveRequest(model, query, &st);
    while (DICOM_PENDING_STATUS(st.status())) {
        char cls[DIC_UI_LEN + 1], inst[DIC_UI_LEN + 1], file[DBC_MAXSTRING + 1];
        unsigned short remaining = 0;
        if (nextMoveResponse(cls, sizeof cls, inst, sizeof inst, file, sizeof file, &remaining, &st).bad()) {
            DcmQueryRetrieveDatabaseStatus cancelled; /* as for find: unlock, free the list */
            cancelMoveRequest(&cancelled);
            break;
        }
        if (DICOM_PENDING_STATUS(st.status()))
            out.push_back({cls, inst, file});
    }
    *status = DICOM_PENDING_STATUS(st.status()) ? STATUS_MOVE_Failed_UnableToProcess : st.status();
}

} // namespace chaosmask::scp
