/* outfile.c - atomic file writes for the chaosmask command (see outfile.h). */
#ifndef _GNU_SOURCE
#define _POSIX_C_SOURCE 200809L /* mkstemp, fchmod, fdopen, fsync */
#endif
#include "outfile.h"

#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cm_outfile_open(cm_outfile *o, const char *path, char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    if (snprintf(o->path, sizeof o->path, "%s", path) >= (int)sizeof o->path) {
        snprintf(err, errlen, "%s: path too long", path);
        return -1;
    }
    char dir[sizeof o->path], base[sizeof o->path];
    snprintf(dir, sizeof dir, "%s", path);
    snprintf(base, sizeof base, "%s", path);
    snprintf(o->tmp, sizeof o->tmp, "%s/.%s.XXXXXX", dirname(dir), basename(base));
    int fd = mkstemp(o->tmp);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot create a file there: %s", path, strerror(errno));
        return -1;
    }
    mode_t mask = umask(0);
    umask(mask);
    if (fchmod(fd, 0666 & ~mask) != 0 || (o->f = fdopen(fd, "wb")) == NULL) {
        snprintf(err, errlen, "%s: %s", o->tmp, strerror(errno));
        close(fd);
        unlink(o->tmp);
        return -1;
    }
    return 0;
}

int cm_outfile_commit(cm_outfile *o, char *err, size_t errlen)
{
    int ok = o->f != NULL && !ferror(o->f) && fflush(o->f) == 0 && fsync(fileno(o->f)) == 0;
    int saved = errno;
    if (o->f != NULL && fclose(o->f) != 0 && ok) {
        ok = 0;
        saved = errno;
    }
    o->f = NULL;
    if (ok && rename(o->tmp, o->path) != 0) {
        ok = 0;
        saved = errno;
    }
    if (!ok) {
        unlink(o->tmp);
        snprintf(err, errlen, "%s: write failed: %s", o->path, strerror(saved));
        return -1;
    }
    return 0;
}

void cm_outfile_abort(cm_outfile *o)
{
    if (o->f != NULL)
        fclose(o->f);
    o->f = NULL;
    unlink(o->tmp);
}
