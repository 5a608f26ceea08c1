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
#ifdef CHAOSMASK_HAVE_DICOM
#include "chaosmask/dicom.h"
#endif

static void analyze_usage(FILE *f)
{
    fputs("usage: chaosmask analyze IMAGE --out DIR [--profile P | --analog] [--json]\n"
          "  Masks IMAGE (PNG: 8/16-bit gray, RGB, RGBA; or the first frame of a DICOM image, 8/16-\n"
          "  bit gray or RGB, decoded by DCMTK if compressed, signed samples offset to unsigned)\n"
          "  with a fixed demo key and nonce, recovers\n"
          "  it, and measures histogram variance, chi-square, entropy (global and local), adjacent-\n"
          "  pixel correlation, NPCR/UACI (one sample changed at the first, last and a random\n"
          "  position; Wu et al. 2011 critical values at alpha 0.05), PSNR and correlation.\n"
          "  --profile P   lorenz | lorenz-chacha20 (default) | aes-256-gcm\n"
          "  --analog      the paper's analog channel (master + 2 delayed slaves, F = M + eta.z)\n"
          "  --json        print the metrics as one JSON object on stdout\n"
          "  Writes DIR/metrics.json, metrics.csv, plain/cipher/cipher_1px/recovered.png,\n"
          "  fig_*.png and report.html; for images deeper than 8 bits also *_display.png, the\n"
          "  images windowed to their lowest..highest stored value for viewing (the numbers\n"
          "  are computed on the stored values).\n", f);
}

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
#ifdef CHAOSMASK_HAVE_DICOM
    cm_dicom_pixels px;
    cm_dicom_error derr = {0, ""};
    if (cm_dicom_read_frame(path, 0, &px, &derr) != 0) {
        snprintf(err, errlen, "%s", derr.message);
        return -1;
    }
    int rc = cm_raster_alloc(r, px.width, px.height, px.channels, px.bits);
    if (rc == 0)
        memcpy(r->data, px.data, cm_raster_bytes(r));
    else
        snprintf(err, errlen, "%s: %zux%zu image too large", path, px.width, px.height);
    cm_dicom_pixels_free(&px);
    return rc;
#else
    snprintf(err, errlen, "%s: DICOM input needs a build with the DICOM layer", path);
    return -1;
#endif
}

/* Reads the image, runs the analysis, writes its files and prints its numbers. */
static int analyze_image(const cm_cli *cli, const char *image, const char *out, int mode, int json)
{
    char err[8192];
    cm_raster plain;
    if (read_input(&plain, image, err, sizeof err) != 0) {
        cm_cli_error(cli, "%s", err);
        return CM_EXIT_INPUT;
    }
    int rc = cm_mkdir_p(out, err, sizeof err);
    if (rc != 0) {
        cm_raster_free(&plain);
        cm_cli_error(cli, "%s", err);
        return cm_research_exit_code(rc);
    }
    const char *base = strrchr(image, '/');
    cm_analysis a;
    rc = cm_analysis_run(&a, &plain, base ? base + 1 : image, mode, err, sizeof err);
    cm_raster_free(&plain);
    if (rc == 0) {
        cm_cli_log(cli, CM_LOG_INFO, "analysis took %.3f s", a.seconds);
        rc = cm_analyze_write(&a, out, err, sizeof err);
    }
    if (rc != 0) {
        cm_analysis_free(&a);
        cm_cli_error(cli, "%s", err);
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
    return CM_EXIT_OK;
}

int cmd_analyze(cm_cli *cli, int argc, char **argv)
{
    const char *image = NULL, *out = NULL;
    int mode = CM_PROFILE_DEFAULT, json = 0, have_profile = 0, analog = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            out = argv[++i];
        } else if (strcmp(argv[i], "--profile") == 0 && i + 1 < argc) {
            mode = cm_profile_from_name(argv[++i]);
            have_profile = 1;
            if (mode < 0) {
                cm_cli_error(cli, "unknown profile '%s' (lorenz, lorenz-chacha20, aes-256-gcm)", argv[i]);
                return CM_EXIT_USAGE;
            }
        } else if (strcmp(argv[i], "--analog") == 0) {
            analog = 1;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            analyze_usage(stdout);
            return CM_EXIT_OK;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            cm_cli_error(cli, "unknown option '%s'", argv[i]);
            analyze_usage(stderr);
            return CM_EXIT_USAGE;
        } else if (image == NULL) {
            image = argv[i];
        } else {
            cm_cli_error(cli, "more than one image given ('%s', '%s')", image, argv[i]);
            return CM_EXIT_USAGE;
        }
    }
    if (image == NULL || out == NULL || (analog && have_profile)) {
        cm_cli_error(cli, image == NULL || out == NULL ? "IMAGE and --out DIR are required"
                                                       : "--profile and --analog exclude each other");
        analyze_usage(stderr);
        return CM_EXIT_USAGE;
    }
    if (analog)
        mode = CM_ANALYSIS_MODE_ANALOG;
    return analyze_image(cli, image, out, mode, json);
}
