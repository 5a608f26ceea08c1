/* outdir.c - output directories (see outdir.h). */
#define _POSIX_C_SOURCE 200809L
#include "chaosmask/research/outdir.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "chaosmask/research/status.h"

int cm_mkdir_p(const char *dir, char *err, size_t errlen)
{
    char buf[4096];
    if (dir[0] == '\0') {
        snprintf(err, errlen, "the output directory is empty");
        return CM_RESEARCH_EIO;
    }
    if (snprintf(buf, sizeof buf, "%s", dir) >= (int)sizeof buf) {
        snprintf(err, errlen, "%s: path too long", dir);
        return CM_RESEARCH_EIO;
    }
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "%s: cannot create directory: %s", buf, strerror(errno));
            return CM_RESEARCH_EIO;
        }
        *p = c;
        if (c == '\0')
            break;
    }
    return 0;
}

int cm_outfile_open(cm_outfile *o, const char *path, char *err, size_t errlen)
{
    cm_error e = {0, ""};
    o->f = NULL;
    if (cm_atomic_open(&o->file, path, NULL, &e) != 0) {
        snprintf(err, errlen, "%s", e.msg);
        return -1;
    }
    if ((o->f = cm_atomic_stream(&o->file)) == NULL) {
        cm_atomic_abort(&o->file);
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int cm_outfile_commit(cm_outfile *o, char *err, size_t errlen)
{
    cm_error e = {0, ""};
    o->f = NULL;
    if (cm_atomic_commit(&o->file, &e) != 0) {
        snprintf(err, errlen, "%s", e.msg);
        return -1;
    }
    return 0;
}

void cm_outfile_abort(cm_outfile *o)
{
    o->f = NULL;
    cm_atomic_abort(&o->file);
}
