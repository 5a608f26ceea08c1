/*
 * archive_index.h - the archive's index: DCMTK's dcmqrdb index file (index.dat), through a
 * DcmQueryRetrieveIndexDatabaseHandle subclass that fixes what the stock handle would do
 * wrong for an archive that must never lose an acknowledged object:
 *
 *   - quota guard: index.dat holds at most 500 studies and 1 GiB per study, and on reaching
 *     either it silently evicts old studies or images (even with its quota system off, the
 *     records go).  add() checks first and refuses with CM_APP_ELIMIT (0xA700) instead;
 *     DCMTK never deletes a file (quota system off).
 *   - one record per SOP Instance UID: the stock duplicate check only looks when the new
 *     object's study already has images; add() removes every other record of the instance
 *     (whatever its study) and names their files for the caller to delete once the new
 *     record is in.
 *   - drained match lists: the stock handle keeps index.dat locked from the first C-FIND
 *     or C-MOVE/C-GET response to the last, i.e. for a whole network transfer, and stores
 *     wait; find() and matches() read every match under the lock and release it.
 *   - index.dat is fsynced after every change (DCMTK never syncs it).
 *
 * File names in the index are relative to the archive directory, the service's working
 * directory, so an archive can move as a whole.
 */
#ifndef CHAOSMASK_SCP_ARCHIVE_INDEX_H
#define CHAOSMASK_SCP_ARCHIVE_INDEX_H

#include "chaosmask/error.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmqrdb/dcmqrdbi.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace chaosmask::scp {

/* One object a C-GET or C-MOVE names. */
struct Match {
    std::string sop_class, sop_instance, file;
};

class ArchiveIndex : public DcmQueryRetrieveIndexDatabaseHandle {
  public:
    /* Opens (creates) index.dat in dir (the current directory, the archive; reindex.h builds
     * a new one in a folder of it).  nullptr and err on failure. */
    static std::unique_ptr<ArchiveIndex> open(unsigned max_studies, uint64_t max_study_bytes, cm_error *err,
                                              const char *dir = ".");

    /* The files the index holds for a SOP Instance UID (normally at most one). */
    int files_of(const char *sop_instance, std::vector<std::string> &files, cm_error *err);

    /* Indexes the archive file `file` (already written and synced) after the quota guard;
     * every other record of the instance is removed and its file appended to `replaced`
     * (the caller deletes them).  0, CM_APP_ELIMIT (guard: nothing changed), or CM_APP_EIO. */
    int add(const char *file, const char *sop_class, const char *sop_instance, const char *study, uint64_t bytes,
            std::vector<std::string> &replaced, cm_error *err);

    /* C-FIND: every response identifier of the query (model = the FIND SOP class), read
     * under the index lock; *status = the final status (0x0000, or a failure: nothing
     * sent but that status). */
    void find(const char *model, DcmDataset *query, std::vector<std::unique_ptr<DcmDataset>> &responses,
              Uint16 *status);

    /* C-GET/C-MOVE: every object the identifier names (model = the GET or MOVE SOP class). */
    void matches(const char *model, DcmDataset *query, std::vector<Match> &out, Uint16 *status);

  private:
    ArchiveIndex(const char *dir, unsigned max_studies, uint64_t max_study_bytes, OFCondition &result);
    struct Duplicate {
        int idx;
        std::string file, study;
        uint32_t bytes;
    };
    std::vector<Duplicate> duplicates(const char *sop_instance);
    const char *guard(std::vector<StudyDescRecord> &table, const std::vector<Duplicate> &dups, const char *study,
                      uint64_t bytes);
    void rebuild_study_table();
    int sync_index();

    unsigned max_studies_;
    uint64_t max_study_bytes_;
};

} // namespace chaosmask::scp

#endif
