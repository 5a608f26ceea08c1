/*
 * reindex.h - chaosmask-scp --reindex: index.dat rebuilt from the archive files, for an index
 * lost, damaged, restored from another backup than the files, or left counting an image that
 * is not there (index.dat has no journal; docs/service.md section 5).
 *
 * Run in the archive directory (the current directory) while no service uses it (the caller
 * holds the archive's exclusive lock, and runs as the archive's owner, never as root for an
 * archive of another user: main.cpp).  Every file named like a stored object (xx/ + 30 hex
 * digits + .dcm) is structure-checked and parsed as a retrieval would, and indexed from its
 * clear header through ArchiveIndex::add, newest first (by modification time): of two files
 * of one SOP Instance the newer is indexed and the older left where it is and named, and
 * beyond [archive] max_studies the newest studies are kept.  No archive file is changed,
 * moved or deleted, and no key is needed.  The new index is built in a new folder
 * (.reindex-build.XXXXXX) and replaces index.dat in one rename once complete; the index it replaces
 * stays as index.dat.before-reindex.  Interrupted, the old index is still in place.
 */
#ifndef CHAOSMASK_SCP_REINDEX_H
#define CHAOSMASK_SCP_REINDEX_H

#include "chaosmask/config.h"
#include "chaosmask/dicom.h"
#include "chaosmask/error.h"

#include <cstddef>
#include <cstdio>

namespace chaosmask::scp {

struct ReindexSummary {
    size_t files = 0;      /* archive files found */
    size_t indexed = 0;    /* in the new index */
    size_t studies = 0;    /* their studies */
    size_t duplicates = 0; /* older copies of an indexed instance, left out */
    size_t left_out = 0;   /* unreadable, refused by the structure check, beyond the index's limits */
    size_t ignored = 0;    /* files in the archive folders not named like an archive file */
};

/* Rebuilds index.dat; each file left out is a line on report (its path and why).  0 (even
 * when files were left out: see the summary), or CM_APP_EIO / CM_APP_ENOMEM with err and the
 * old index in place.  Values read from files are printed with anything but printable ASCII
 * as '?'. */
int reindex_archive(const cm_config &cfg, const cm_dicom_limits &limits, FILE *report, ReindexSummary &s,
                    cm_error *err);

} // namespace chaosmask::scp

#endif
