/* reindex.cpp - index.dat rebuilt from the archive files (reindex.h). */
#include "reindex.h"

#include "archive_index.h"

#include "chaosmask/app_file.h"
#include "chaosmask/app_outcome.h"
#include "chaosmask/dicom_dataset.h"

#include <dcmtk/dcmdata/dcdeftag.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <set>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace chaosmask::scp {
namespace {

const char *const kBuildPrefix = ".reindex-build."; /* + 6 characters: mkdtemp */
const char *const kBefore = "index.dat.before-reindex";

/* A value read from a file, fit for a terminal: anything but printable ASCII shown as '?'. */
std::string printable(const std::string &s)
{
    std::string out = s;
    for (char &c : out)
        if (c < 0x20 || c > 0x7E)
            c = '?';
    return out;
}

bool lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

struct Found {
    std::string path; /* xx/<30 hex>.dcm, relative to the archive */
    struct timespec mtime;
    uint64_t bytes;
};

/* Every archive file (store.cpp names them: 2 + 30 hex digits, .dcm), newest first: of two
 * copies of an instance the newer is indexed, and beyond [archive] max_studies the newest
 * studies are kept (those a reading room needs first). */
std::vector<Found> archive_files(FILE *report, ReindexSummary &s)
{
    std::vector<Found> out;
    for (int i = 0; i < 256; i++) {
        char dir[3];
        snprintf(dir, sizeof dir, "%02x", i);
        DIR *d = opendir(dir);
        if (d == nullptr)
            continue;
        while (struct dirent *e = readdir(d)) {
            const char *n = e->d_name;
            if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
                continue;
            const std::string path = std::string(dir) + "/" + n;
            struct stat st;
            const bool named = strlen(n) == 34 && lower_hex(n, 30) && strcmp(n + 30, ".dcm") == 0;
            if (!named || lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
                s.ignored++;
                fprintf(report, "%s: not an archive file, left alone\n", printable(path).c_str());
                continue;
            }
            out.push_back({path, st.st_mtim, static_cast<uint64_t>(st.st_size)});
        }
        closedir(d);
    }
    std::sort(out.begin(), out.end(), [](const Found &a, const Found &b) {
        if (a.mtime.tv_sec != b.mtime.tv_sec)
            return a.mtime.tv_sec > b.mtime.tv_sec;
        if (a.mtime.tv_nsec != b.mtime.tv_nsec)
            return a.mtime.tv_nsec > b.mtime.tv_nsec;
        return a.path < b.path;
    });
    s.files = out.size();
    return out;
}

/* The UIDs the index is keyed by, from the file's clear header; false and why when missing. */
bool uids_of(cm_dicom_object *obj, std::string &cls, std::string &inst, std::string &study, std::string &why)
{
    DcmDataset *ds = dicom_object_fileformat(obj).getDataset();
    OFString c, i, st;
    if (ds->findAndGetOFString(DCM_SOPClassUID, c).bad() || c.empty() ||
        ds->findAndGetOFString(DCM_SOPInstanceUID, i).bad() || i.empty() ||
        ds->findAndGetOFString(DCM_StudyInstanceUID, st).bad() || st.empty()) {
        why = "no SOP Class, SOP Instance or Study Instance UID";
        return false;
    }
    cls = c.c_str();
    inst = i.c_str();
    study = st.c_str();
    return true;
}

/* Indexes every archive file into a new index in build_dir. */
int build(const cm_config &cfg, const cm_dicom_limits &limits, const char *build_dir, FILE *report, ReindexSummary &s,
          cm_error *err)
{
    std::unique_ptr<ArchiveIndex> index =
        ArchiveIndex::open(cfg.archive_max_studies, cfg.archive_max_study_bytes, err, build_dir);
    if (!index)
        return err->code;
    std::set<std::string> studies;
    for (const Found &f : archive_files(report, s)) {
        cm_dicom_object *obj = nullptr;
        cm_error e = {0, ""};
        std::string cls, inst, study, why;
        if (cm_dicom_load(&obj, f.path.c_str(), &limits, &e) != 0)
            why = e.msg;
        else if (uids_of(obj, cls, inst, study, why)) {
            std::vector<std::string> newer, replaced;
            int rc = index->files_of(inst.c_str(), newer, &e);
            if (rc == 0 && !newer.empty()) { /* indexed from a newer file already */
                s.duplicates++;
                fprintf(report, "%s: an older copy of SOP Instance %s (indexed: %s), left out\n", f.path.c_str(),
                        printable(inst).c_str(), newer.front().c_str());
                cm_dicom_free(obj);
                continue;
            }
            if (rc == 0)
                rc = index->add(f.path.c_str(), cls.c_str(), inst.c_str(), study.c_str(), f.bytes, replaced, &e);
            if (rc == CM_APP_EIO) {
                cm_dicom_free(obj);
                return cm_fail(err, CM_APP_EIO, "%s", e.msg);
            }
            if (rc != 0)
                why = e.msg;
            else {
                s.indexed++;
                studies.insert(study);
            }
        }
        cm_dicom_free(obj);
        if (!why.empty()) {
            s.left_out++;
            fprintf(report, "%s: left out: %s\n", f.path.c_str(), why.c_str());
        }
    }
    s.studies = studies.size();
    return 0;
}

/* The new index in place of index.dat, the old one kept as kBefore; one rename. */
int swap_in(const char *build_dir, cm_error *err)
{
    const std::string built = std::string(build_dir) + "/index.dat";
    if (unlink(kBefore) != 0 && errno != ENOENT)
        return cm_fail(err, CM_APP_EIO, "%s cannot be replaced: %s", kBefore, strerror(errno));
    if (link("index.dat", kBefore) != 0 && errno != ENOENT)
        return cm_fail(err, CM_APP_EIO, "index.dat cannot be kept as %s: %s", kBefore, strerror(errno));
    if (rename(built.c_str(), "index.dat") != 0)
        return cm_fail(err, CM_APP_EIO, "the new index cannot replace index.dat: %s", strerror(errno));
    rmdir(build_dir);
    return cm_fsync_dir(".", err);
}

/* What interrupted runs left: reindex.XXXXXX folders of ours, with at most an index.dat. */
void remove_leftovers()
{
    DIR *d = opendir(".");
    if (d == nullptr)
        return;
    while (struct dirent *e = readdir(d)) {
        struct stat st;
        if (strncmp(e->d_name, kBuildPrefix, strlen(kBuildPrefix)) != 0 ||
            strlen(e->d_name) != strlen(kBuildPrefix) + 6 || lstat(e->d_name, &st) != 0 || !S_ISDIR(st.st_mode) ||
            st.st_uid != geteuid())
            continue;
        unlink((std::string(e->d_name) + "/index.dat").c_str());
        rmdir(e->d_name);
    }
    closedir(d);
}

} // namespace

int reindex_archive(const cm_config &cfg, const cm_dicom_limits &limits, FILE *report, ReindexSummary &s,
                    cm_error *err)
{
    s = ReindexSummary();
    remove_leftovers();
    char build_dir[] = ".reindex-build.XXXXXX"; /* new, ours, 0700: nothing in it that we did not make */
    if (mkdtemp(build_dir) == nullptr)
        return cm_fail(err, CM_APP_EIO, "a folder for the new index cannot be created in the archive: %s",
                       strerror(errno));
    int rc = build(cfg, limits, build_dir, report, s, err);
    if (rc == 0)
        rc = swap_in(build_dir, err);
    if (rc != 0) {
        unlink((std::string(build_dir) + "/index.dat").c_str());
        rmdir(build_dir);
    }
    return rc;
}

} // namespace chaosmask::scp
