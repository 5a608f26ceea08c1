/* status.h - what a chaosmask_research call returns: 0, or one of the negative classes below
 * with a message in the caller's err buffer.  The program maps each class to its exit code. */
#ifndef CHAOSMASK_RESEARCH_STATUS_H
#define CHAOSMASK_RESEARCH_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

enum {
    CM_RESEARCH_OK = 0,
    CM_RESEARCH_EUSAGE = -1,   /* a bad argument: unknown masking mode */
    CM_RESEARCH_EINPUT = -2,   /* an input image is missing, unreadable or of the wrong size */
    CM_RESEARCH_EAUTH = -3,    /* the engine refused to open its own cipher */
    CM_RESEARCH_EIO = -4,      /* an output file or directory could not be written */
    CM_RESEARCH_EINTERNAL = -5 /* out of memory, or the engine failed */
};

#ifdef __cplusplus
}
#endif
#endif
