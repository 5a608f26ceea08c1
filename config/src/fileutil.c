/* fileutil.c - error formatting and durable file replacement for the config module.
 * Every file the module writes (key files, the key ring's `active`) goes through
 * cfg_write_atomic(), so a crash leaves either the old file or the new one, never a torn one. */
#define _GNU_SOURCE /* renameat2, RENAME_NOREPLACE, mkostemp */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_internal.h"

int cfg_fail(cm_error *err, int code, const char *fmt, ...)
{
    if (err != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

int cfg_path_join(char *out, size_t outsz, const char *dir, const char *name)
{
    size_t dlen = strlen(dir);
    while (dlen > 1 && dir[dlen - 1] == '/')
        dlen--;
    const char *sep = (dlen > 0 && dir[dlen - 1] == '/') ? "" : "/";
    int n = snprintf(out, outsz, "%.*s%s%s", (int)dlen, dir, sep, name);
    return (n < 0 || (size_t)n >= outsz) ? -1 : 0;
}

int cfg_fsync_dir(const char *dir, cm_error *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return cfg_fail(err, errno == ENOENT ? CM_CFG_ENOENT : CM_CFG_EIO,
                        "cannot open directory %s to sync it: %s", dir, strerror(errno));
    /* Some file systems cannot sync a directory (EINVAL); their renames are as durable as
     * they get. */
    if (fsync(fd) != 0 && errno != EINVAL) {
        int e = errno;
        close(fd);
        return cfg_fail(err, CM_CFG_EIO, "cannot sync directory %s: %s", dir, strerror(e));
    }
    close(fd);
    return 0;
}

static int write_all(int fd, const unsigned char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Moves tmp to final without ever replacing an existing final. */
static int rename_noreplace(const char *tmp, const char *final)
{
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
        return -1;
    /* File system without RENAME_NOREPLACE: link() fails with EEXIST just the same. */
    if (link(tmp, final) != 0)
        return -1;
    unlink(tmp);
    return 0;
}

int cfg_write_atomic(const char *dir, const char *name, const void *data, size_t len, mode_t mode,
                     int no_replace, cm_error *err)
{
    char final[CM_PATH_MAX], tmp[CM_PATH_MAX];
    if (cfg_path_join(final, sizeof final, dir, name) != 0)
        return cfg_fail(err, CM_CFG_EINVAL, "path %s/%s is longer than %d bytes", dir, name,
                        CM_PATH_MAX - 1);
    int n = snprintf(tmp, sizeof tmp, "%.*s.%s.tmp-XXXXXX", (int)(strlen(final) - strlen(name)),
                     final, name);
    if (n < 0 || (size_t)n >= sizeof tmp)
        return cfg_fail(err, CM_CFG_EINVAL, "path %s is too long for a temporary file next to it",
                        final);

    int fd = mkostemp(tmp, O_CLOEXEC); /* created 0600: never readable by others meanwhile */
    if (fd < 0)
        return cfg_fail(err, errno == ENOENT ? CM_CFG_ENOENT : CM_CFG_EIO,
                        "cannot create a temporary file in %s to write %s: %s", dir, final,
                        strerror(errno));
    const char *step = NULL;
    if (fchmod(fd, mode) != 0)
        step = "set the mode of";
    else if (write_all(fd, data, len) != 0)
        step = "write";
    else if (fsync(fd) != 0)
        step = "sync";
    if (step != NULL) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return cfg_fail(err, CM_CFG_EIO, "cannot %s %s (temporary file for %s): %s", step, tmp,
                        final, strerror(e));
    }
    if (close(fd) != 0) {
        int e = errno;
        unlink(tmp);
        return cfg_fail(err, CM_CFG_EIO, "cannot close %s (temporary file for %s): %s", tmp, final,
                        strerror(e));
    }

    int rc = no_replace ? rename_noreplace(tmp, final) : rename(tmp, final);
    if (rc != 0) {
        int e = errno;
        unlink(tmp);
        if (e == EEXIST)
            return cfg_fail(err, CM_CFG_EEXIST, "%s already exists; it is never overwritten",
                            final);
        return cfg_fail(err, CM_CFG_EIO, "cannot rename %s to %s: %s", tmp, final, strerror(e));
    }
    return cfg_fsync_dir(dir, err);
}

int cfg_owner_trusted(uid_t uid)
{
    return uid == geteuid() || uid == 0;
}
