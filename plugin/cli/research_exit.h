/* research_exit.h - the exit code of a chaosmask_research status, for the two commands that
 * call the research library (cmd_analyze.c, cmd_paper.c). */
#ifndef CHAOSMASK_PLUGIN_RESEARCH_EXIT_H
#define CHAOSMASK_PLUGIN_RESEARCH_EXIT_H

#include "chaosmask/research/status.h"
#include "cli.h"

static inline int cm_research_exit_code(int status)
{
    switch (status) {
    case CM_RESEARCH_OK: return CM_OUT_OK;
    case CM_RESEARCH_EUSAGE: return CM_OUT_USAGE;
    case CM_RESEARCH_EINPUT: return CM_OUT_INPUT;
    case CM_RESEARCH_EAUTH: return CM_OUT_AUTH;
    case CM_RESEARCH_EIO: return CM_OUT_IO;
    default: return CM_OUT_INTERNAL;
    }
}

#endif
