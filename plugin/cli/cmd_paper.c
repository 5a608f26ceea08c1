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

static void paper_usage(FILE *f)
{
    fputs("usage: chaosmask paper --out DIR [--images DIR]\n"
          "  Runs the seed paper's experiment on six 300x300 images (three colour phantoms, a\n"
          "  Shepp-Logan CT slice, and two pydicom sample images converted by\n"
          "  testdata/paper/make_images.sh) through the analog channel and every digital profile.\n"
          "  Prints our metrics beside the paper's Table 1 with pass (P) / fail (F) per metric, and\n"
          "  writes DIR/metrics.json, DIR/metrics.csv, DIR/report.html and DIR/IMAGE/MODE/*.png.\n"
          "  --images DIR  where the converted PNGs are (default: $CHAOSMASK_PAPER_IMAGES, else\n"
          "                " CHAOSMASK_PAPER_INSTALLED_DIR ", else the source tree's\n"
          "                testdata/paper)\n", f);
}

static void log_run(void *ctx, const cm_analysis *a)
{
    cm_cli_log(ctx, CM_LOG_INFO, "%s / %s: %.2f s", a->name, a->mode_name, a->seconds);
}

/* Exit status: FAIL only when a digital profile did not give the image back exactly (a
 * defect).  Statistical misses are printed: each Wu test rejects even an ideal cipher with
 * probability alpha, and aes-256-gcm (CTR keystream) has no diffusion by construction. */
static int run_paper(cm_cli *cli, const char *out, const char *images)
{
    static cm_paper_result result; /* 24 analyses: too large for the stack */
    char err[8192];
    printf("ChaosMask %s - the paper's experiment (images from %s)\n", CM_VERSION_STRING, images);
    int rc = cm_paper_run(&result, out, images, stdout, log_run, cli, err, sizeof err);
    if (rc == 0)
        cm_paper_print_summary(stdout, &result, out);
    cm_paper_free(&result);
    if (rc != 0) {
        cm_cli_error(cli, "%s", err);
        return cm_research_exit_code(rc);
    }
    return result.all_exact ? CM_EXIT_OK : CM_EXIT_FAIL;
}

int cmd_paper(cm_cli *cli, int argc, char **argv)
{
    const char *out = NULL, *images_arg = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            out = argv[++i];
        else if (strcmp(argv[i], "--images") == 0 && i + 1 < argc)
            images_arg = argv[++i];
        else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            paper_usage(stdout);
            return CM_EXIT_OK;
        } else {
            cm_cli_error(cli, "unexpected argument '%s'", argv[i]);
            paper_usage(stderr);
            return CM_EXIT_USAGE;
        }
    }
    if (out == NULL) {
        cm_cli_error(cli, "--out DIR is required");
        paper_usage(stderr);
        return CM_EXIT_USAGE;
    }
    return run_paper(cli, out, find_images_dir(images_arg));
}
