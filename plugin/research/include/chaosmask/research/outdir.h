/* outdir.h - the output directories of `chaosmask analyze` and `chaosmask paper`. */
#ifndef CHAOSMASK_RESEARCH_OUTDIR_H
#define CHAOSMASK_RESEARCH_OUTDIR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Creates dir and its parents (mode 0755 minus the umask) where missing.  0, or
 * CM_RESEARCH_EIO with a message naming the directory. */
int cm_mkdir_p(const char *dir, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
