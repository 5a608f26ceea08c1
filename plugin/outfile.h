/* outfile.h - the one way the chaosmask command writes a file: a temporary file in the same
 * directory, then fflush, fsync, rename and fsync of the directory, so that a failure never
 * leaves a half-written file under the final name (an older file of that name stays as it was). */
#ifndef CHAOSMASK_PLUGIN_OUTFILE_H
#define CHAOSMASK_PLUGIN_OUTFILE_H

#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cm_outfile {
    FILE *f;           /* write here between open and commit */
    char path[4096];   /* the final name */
    char tmp[4200];    /* DIR/.NAME.XXXXXX */
} cm_outfile;

/* Creates the temporary file (mode 0666 minus the umask, as fopen would give the final file).
 * 0, or -1 with a message naming the path. */
int cm_outfile_open(cm_outfile *o, const char *path, char *err, size_t errlen);
/* Flushes, fsyncs and renames onto the final name; on any failure removes the temporary file.
 * 0, or -1 with a message. */
int cm_outfile_commit(cm_outfile *o, char *err, size_t errlen);
/* Gives up: closes and removes the temporary file. */
void cm_outfile_abort(cm_outfile *o);

#ifdef __cplusplus
}
#endif
#endif
