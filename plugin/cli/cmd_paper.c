/* cmd_paper.c - `chaosmask paper --out DIR [--images DIR]`: the seed paper's experiment end to
 * end (chaosmask/research/paper.h): six images through the analog channel and every digital
 * profile, printed beside the paper's Table 1 with a pass/fail per metric, and the report.
 * This file finds the images and reads the command line. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "chaosmask/chaosmask.h"
#include "chaosmask/research/paper.h"
#include "cli.h"
#include "research_exit.h"

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* --images, $CHAOSMASK_PAPER_IMAGES, the installed data directory, then the source tree this
 * binary was built from. */
static const char *find_images_dir(const char *given)
{
    if (given != NULL)
        return given;
    const char *env = getenv("CHAOSMASK_PAPER_IMAGES");
    if (env != NULL && *env)
        return env;
    static const char *const dirs[] = {CHAOSMASK_PAPER_INSTALLED_DIR, CHAOSMASK_PAPER_SOURCE_DIR};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
        if (is_dir(dirs[i]))
            return dirs[i];
    return CHAOSMASK_PAPER_SOURCE_DIR;
}

static void log_run(void *ctx, const cm_analysis *a)
{
    cm_app_log(ctx, CM_LOG_INFO, "%s / %s: %.2f s", a->name, a->mode_name, a->seconds);
}

/* Exit status: FAIL only when a digital profile did not give the image back exactly (a
 * defect).  Statistical misses are printed: each Wu test rejects even an ideal cipher with
 * probability alpha, and aes-256-gcm (CTR keystream) has no diffusion by construction. */
static int paper(cm_app *app, const char *out, const char *images)
{
    static cm_paper_result result; /* 24 analyses: too large for the stack */
    char err[8192];
    printf("ChaosMask %s - the paper's experiment (images from %s)\n", CM_VERSION_STRING, images);
    int rc = cm_paper_run(&result, out, images, stdout, log_run, app, err, sizeof err);
    if (rc == 0)
        cm_paper_print_summary(stdout, &result, out);
    cm_paper_free(&result);
    if (rc != 0) {
        cm_app_say(app, "%s", err);
        return cm_research_exit_code(rc);
    }
    return result.all_exact ? CM_OUT_OK : CM_OUT_CHECK;
}

enum { OPT_OUT = 'o', OPT_IMAGES = 'i' };

static int run_paper(cm_app *app, cm_cmdline *cl)
{
    const char *out = cm_cl_value(cl, OPT_OUT);
    int rc = cm_cl_no_args(app, cl);
    if (rc != 0)
        return rc;
    if (out == NULL) {
        cm_app_say(app, "--out DIR is required (see chaosmask help paper)");
        return CM_OUT_USAGE;
    }
    return paper(app, out, find_images_dir(cm_cl_value(cl, OPT_IMAGES)));
}

static const cm_optdef PAPER_OPTIONS[] = {
    {"out", OPT_OUT, "DIR", "where metrics.json, metrics.csv, report.html and the images go (required)"},
    {"images", OPT_IMAGES, "DIR",
     "the converted PNGs (default: $CHAOSMASK_PAPER_IMAGES, else " CHAOSMASK_PAPER_INSTALLED_DIR
     ", else the source tree's testdata/paper)"},
    CM_OPT_END,
};

const cm_command cm_cmd_paper = {
    "paper",
    "reproduce the paper's experiment on six images and compare with its Table 1",
    "--out DIR [--images DIR]",
    "Runs the seed paper's experiment on six 300x300 images (three colour phantoms, a\n"
    "Shepp-Logan CT slice, and two pydicom sample images converted by\n"
    "testdata/paper/make_images.sh) through the analog channel and every digital profile.\n"
    "Prints our metrics beside the paper's Table 1 with pass (P) / fail (F) per metric, and\n"
    "writes DIR/metrics.json, DIR/metrics.csv, DIR/report.html and DIR/IMAGE/MODE/*.png. Exit 1\n"
    "only when a digital profile did not give an image back exactly; statistical misses are\n"
    "printed (every Wu test rejects an ideal cipher with probability alpha).",
    PAPER_OPTIONS,
    CM_X(CM_OUT_CHECK) | CM_X(CM_OUT_INPUT) | CM_X(CM_OUT_IO) | CM_X(CM_OUT_INTERNAL),
    run_paper,
};
