/* chaosmask selftest - checks the installed engine against its recorded vectors. */
#include <stdio.h>

#include "chaosmask/chaosmask.h"
#include "cli.h"

static int run_selftest(cm_app *app, cm_cmdline *cl)
{
    int rc = cm_cl_no_args(app, cl);
    if (rc != 0)
        return rc;
    char report[512];
    rc = cm_selftest(report, sizeof report);
    fputs(report, stdout);
    if (rc != CM_OK) {
        cm_app_say(app, "the engine does not reproduce its recorded vectors: do not use this build");
        return CM_OUT_CHECK;
    }
    printf("selftest: all profiles ok (object format %u)\n", CM_FORMAT_VERSION);
    return CM_OUT_OK;
}

const cm_command cm_cmd_selftest = {
    "selftest",
    "check the engine against its built-in known-answer vectors",
    "",
    "Seals, opens and tampers with recorded vectors (every profile of the current engine format\n"
    "and one of format 1) and compares the tags with the values this build must give. Run it\n"
    "after an install or an upgrade: a build that fails it (a miscompiled engine, e.g. built\n"
    "with -ffast-math) must not be used.",
    NULL,
    CM_X(CM_OUT_CHECK),
    run_selftest,
};
