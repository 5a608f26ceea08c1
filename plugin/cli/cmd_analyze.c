/* cmd_analyze.c - `chaosmask analyze IMAGE --out DIR [--profile P | --analog] [--json]`: one
 * image through one masking mode, every statistic of the paper's Table 1 and more, the images
 * that let anyone recompute them, figures and a report.  The work is the research library's
 * (chaosmask/research/analyze.h); this file reads the image and the command line. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "chaosmask/chaosmask.h"
#include "chaosmask/research/analyze.h"
#include "chaosmask/research/outdir.h"
#include "cli.h"
#include "research_exit.h"
#include "chaosmask/dicom.h"

/* A DICOM Part 10 file has "DICM" after its 128-byte preamble. */
static int is_dicom_file(const char *path)
{
    char magic[132];
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return 0;
    size_t n = fread(magic, 1, sizeof magic, f);
    fclose(f);
    return n == sizeof magic && memcmp(magic + 128, "DICM", 4) == 0;
}

/* PNG, or the first frame of a DICOM image. */
static int read_input(cm_raster *r, const char *path, char *err, size_t errlen)
{
    if (!is_dicom_file(path))
        return cm_png_read(r, path, err, errlen);
    cm_dicom_pixels px;
    cm_error derr = {0, ""};
    if (cm_dicom_read_frame(path, 0, &px, &derr) != 0) {
        snprintf(err, errlen, "%s: %s", path, derr.msg);
        return -1;
    }
    int rc = cm_raster_alloc(r, px.width, px.height, px.channels, px.bits);
    if (rc == 0)
        memcpy(r->data, px.data, cm_raster_bytes(r));
    else
        snprintf(err, errlen, "%s: %zux%zu image too large", path, px.width, px.height);
    cm_dicom_pixels_free(&px);
    return rc;
}

/* Reads the image, runs the analysis, writes its files and prints its numbers. */
static int analyze_image(const cm_app *app, const char *image, const char *out, int mode, int json)
{
    char err[8192];
    cm_raster plain;
    if (read_input(&plain, image, err, sizeof err) != 0) {
        cm_app_say(app, "%s", err);
        return CM_OUT_INPUT;
    }
    int rc = cm_mkdir_p(out, err, sizeof err);
    if (rc != 0) {
        cm_raster_free(&plain);
        cm_app_say(app, "%s", err);
        return cm_research_exit_code(rc);
    }
    const char *base = strrchr(image, '/');
    cm_analysis a;
    rc = cm_analysis_run(&a, &plain, base ? base + 1 : image, mode, err, sizeof err);
    cm_raster_free(&plain);
    if (rc == 0) {
        cm_app_log(app, CM_LOG_INFO, "analysis took %.3f s", a.seconds);
        rc = cm_analyze_write(&a, out, err, sizeof err);
    }
    if (rc != 0) {
        cm_analysis_free(&a);
        cm_app_say(app, "%s", err);
        return cm_research_exit_code(rc);
    }
    if (json) {
        cm_analysis_json(stdout, &a);
    } else {
        cm_analysis_print(stdout, &a);
        printf("wrote %s/{metrics.json,metrics.csv,plain.png,cipher.png,cipher_1px.png,recovered.png,"
               "%sfig_*.png,report.html} in %.2f s of analysis\n", out,
               a.bits > 8 ? "*_display.png," : "", a.seconds);
    }
    cm_analysis_free(&a);
    return CM_OUT_OK;
}

enum { OPT_OUT = 'o', OPT_PROFILE = 'p', OPT_ANALOG = 'a', OPT_JSON = 'j' };

static int run_analyze(cm_app *app, cm_cmdline *cl)
{
    const char *out = cm_cl_value(cl, OPT_OUT), *profile = cm_cl_value(cl, OPT_PROFILE);
    int analog = cm_cl_flag(cl, OPT_ANALOG), mode = CM_PROFILE_DEFAULT;
    if (cl->argc != 1 || out == NULL || (analog && profile != NULL)) {
        cm_app_say(app, cl->argc != 1 || out == NULL ? "IMAGE and --out DIR are required (see chaosmask help analyze)"
                                                     : "--profile and --analog exclude each other");
        return CM_OUT_USAGE;
    }
    if (profile != NULL) {
        cm_error err = {0, ""};
        if (cm_app_parse_profile(profile, &mode, &err) != 0) {
            cm_app_say(app, "--profile: %s", err.msg);
            return CM_OUT_USAGE;
        }
    }
    return analyze_image(app, cl->argv[0], out, analog ? CM_ANALYSIS_MODE_ANALOG : mode, cm_cl_flag(cl, OPT_JSON));
}

static const cm_optdef ANALYZE_OPTIONS[] = {
    {"out", OPT_OUT, "DIR", "where the metrics, images, figures and report go (required)"},
    {"profile", OPT_PROFILE, "P", "lorenz-chacha20 (default), lorenz or aes-256-gcm"},
    {"analog", OPT_ANALOG, NULL, "the paper's analog channel (master + 2 delayed slaves, F = M + eta.z)"},
    {"json", OPT_JSON, NULL, "print the metrics as one JSON object on stdout"},
    CM_OPT_END,
};

const cm_command cm_cmd_analyze = {
    "analyze",
    "mask an image with a profile or the analog channel and measure the paper's metrics",
    "IMAGE --out DIR [--profile P | --analog] [--json]",
    "Masks IMAGE (PNG: 8/16-bit gray, RGB, RGBA; or the first frame of a DICOM image, 8/16-bit\n"
    "gray or RGB, decoded by DCMTK if compressed, signed samples offset to unsigned) with a\n"
    "fixed demo key and nonce, recovers it, and measures histogram variance, chi-square, entropy\n"
    "(global and local), adjacent-pixel correlation, NPCR/UACI (one sample changed at the first,\n"
    "last and a random position; Wu et al. 2011 critical values at alpha 0.05), PSNR and\n"
    "correlation. Writes DIR/metrics.json, metrics.csv, plain/cipher/cipher_1px/recovered.png,\n"
    "fig_*.png and report.html; for images deeper than 8 bits also *_display.png, the images\n"
    "windowed to their lowest..highest stored value for viewing (the numbers are computed on\n"
    "the stored values). Research: the demo key is fixed and public.",
    ANALYZE_OPTIONS,
    CM_X(CM_OUT_INPUT) | CM_X(CM_OUT_AUTH) | CM_X(CM_OUT_IO) | CM_X(CM_OUT_INTERNAL),
    run_analyze,
};
