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
