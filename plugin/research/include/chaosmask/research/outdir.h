/* outdir.h - the output directories and files of `chaosmask analyze` and `chaosmask paper`.
 * Files are written with the application layer's one atomic writer (app_file.h); cm_outfile
 * only gives it the stdio stream and the message buffer the research code works with. */
#ifndef CHAOSMASK_RESEARCH_OUTDIR_H
#define CHAOSMASK_RESEARCH_OUTDIR_H

#include <stddef.h>
#include <stdio.h>

#include "chaosmask/app_file.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Creates dir and its parents (mode 0755 minus the umask) where missing.  0, or
 * CM_RESEARCH_EIO with a message naming the directory. */
int cm_mkdir_p(const char *dir, char *err, size_t errlen);

typedef struct cm_outfile {
    cm_atomic file;
    FILE *f; /* write here between open and commit */
} cm_outfile;

/* Opens path through the atomic writer (mode 0666 minus the umask).  0, or -1 with a message. */
int cm_outfile_open(cm_outfile *o, const char *path, char *err, size_t errlen);
/* fflush, fsync, rename, fsync of the directory; on failure nothing is left.  0 or -1. */
int cm_outfile_commit(cm_outfile *o, char *err, size_t errlen);
void cm_outfile_abort(cm_outfile *o);

#ifdef __cplusplus
}
#endif
#endif
