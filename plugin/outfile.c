/* outfile.c - atomic file writes for the chaosmask command (see outfile.h). */
#ifndef _GNU_SOURCE
#define _POSIX_C_SOURCE 200809L /* mkstemp, fchmod, fdopen, fsync */
#endif
#include "outfile.h"

#include "chaosmask/chaosmask.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Creates tmp (its trailing XXXXXX made random) with O_EXCL and mode 0666: the kernel applies
 * the umask, with no process-wide umask() call. */
static int create_temp(char *tmp)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    size_t n = strlen(tmp);
    for (int attempt = 0; attempt < 100; attempt++) {
        uint8_t r[6];
        if (cm_random(r, sizeof r) != 0)
            return -1;
        for (size_t i = 0; i < 6; i++)
            tmp[n - 6 + i] = alphabet[r[i] % (sizeof alphabet - 1)];
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    return -1;
}

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
    if (snprintf(o->tmp, sizeof o->tmp, "%s/.%s.XXXXXX", dirname(dir), basename(base)) >= (int)sizeof o->tmp) {
        snprintf(err, errlen, "%s: path too long", path);
        return -1;
    }
    int fd = create_temp(o->tmp);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot create a file there: %s", path, strerror(errno));
        return -1;
    }
    if ((o->f = fdopen(fd, "wb")) == NULL) {
        snprintf(err, errlen, "%s: %s", o->tmp, strerror(errno));
        close(fd);
        unlink(o->tmp);
        return -1;
    }
    return 0;
}

int cm_outfile_commit(cm_outfile *o, char *err, size_t errlen)
{
    errno = EIO;
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
    /* the rename itself made durable */
    char dir[sizeof o->path];
    snprintf(dir, sizeof dir, "%s", o->path);
    int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
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
