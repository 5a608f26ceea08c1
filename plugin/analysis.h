/* analysis.h - one image through one masking mode (a digital profile or the paper's analog
 * channel) and every statistic of DESIGN §3.3, shared by `chaosmask analyze` (cmd_analyze.c),
 * `chaosmask paper` (cmd_paper.c) and the HTML report (report_html.c). */
#ifndef CHAOSMASK_PLUGIN_ANALYSIS_H
#define CHAOSMASK_PLUGIN_ANALYSIS_H

#include <stddef.h>
#include <stdio.h>

#include "chaosmask/research/sync.h"
#include "chaosmask/research/image.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CM_ANALYSIS_MODE_ANALOG 0 /* mode value for the analog channel; else a CM_PROFILE_... */
#define CM_ANALYSIS_TRACE_MAX 4096u
#define CM_ANALYSIS_SYNC_SECONDS 20.0 /* synchronisation preamble before the analog message */

typedef struct cm_npcr_trial {
    const char *where; /* "first", "last", "random" */
    size_t index;      /* sample changed (value XOR 1) */
    double npcr, uaci;
    int npcr_pass, uaci_pass;
} cm_npcr_trial;

typedef struct cm_analog_trace {
    size_t n;                                  /* points recorded during the preamble */
    double t[CM_ANALYSIS_TRACE_MAX];
    double err[2][CM_ANALYSIS_TRACE_MAX];      /* ||e_i|| of slaves 1, 2 */
    double theta_hat[2][3][CM_ANALYSIS_TRACE_MAX];
    double dhat[2][CM_ANALYSIS_TRACE_MAX];
    double z[3][CM_ANALYSIS_TRACE_MAX];        /* master, for the phase portraits */
    double theta_true[2][3];
} cm_analog_trace;

typedef struct cm_analysis {
    char name[128];          /* image name for tables */
    int mode;                /* CM_ANALYSIS_MODE_ANALOG or a CM_PROFILE_... */
    char mode_name[32];
    size_t width, height;
    unsigned channels, bits;
    cm_raster plain, cipher, cipher_1px, recovered;

    double entropy_plain, entropy_cipher, entropy_recovered;
    double local_entropy_cipher, local_entropy_low, local_entropy_high; /* NaN if n/a */
    double hist_var_plain, hist_var_cipher, hist_var_recovered;
    double chi2_cipher, chi2_critical;
    double correlation_recovered, psnr_recovered, mse_recovered;
    double adj_plain[3], adj_cipher[3];
    cm_npcr_trial trials[3];
    double npcr, uaci;       /* the "random" trial, the headline numbers */
    double npcr_critical, uaci_low, uaci_high;
    double npcr_plain_cipher, uaci_plain_cipher; /* plain vs cipher: what many papers report */
    double key_npcr, key_uaci;                   /* one key bit flipped (digital only) */
    int lossless;
    double seconds;

    /* analog channel only */
    double analog_max_abs_error[2]; /* max |Mhat - M| before rounding, per slave */
    double analog_psnr_slave[2];    /* PSNR of each slave's rounded recovery */
    double analog_sync_error[2];    /* ||e_i|| when the message starts */
    double analog_eta;
    cm_analog_trace *trace;

    double hist_plot[3][256]; /* plain, cipher, recovered, 256 bins (16-bit: by high byte) */
} cm_analysis;

/* Runs the mode on plain (copied).  0, or a CM_EXIT_... code with a message in err. */
int cm_analysis_run(cm_analysis *a, const cm_raster *plain, const char *name, int mode,
                    char *err, size_t errlen);
void cm_analysis_free(cm_analysis *a);

/* Digital-profile targets of issue 3; 1 when all pass.  why (may be NULL) lists failures. */
int cm_analysis_targets_pass(const cm_analysis *a, char *why, size_t whylen);
/* 1 when the NPCR/UACI targets apply: every digital profile but aes-256-gcm, which is standard
 * AES-256-GCM (CTR mode, no diffusion by design; docs/paper.md explains the decision). */
int cm_analysis_diffusion_target(const cm_analysis *a);

/* Writes plain/cipher/cipher_1px/recovered.png and the figures into dir (which exists).
 * 0, or a CM_EXIT_... code with a message. */
int cm_analysis_write_images(const cm_analysis *a, const char *dir, char *err, size_t errlen);
int cm_analysis_write_figures(const cm_analysis *a, const char *dir, char *err, size_t errlen);

void cm_analysis_json(FILE *f, const cm_analysis *a);
void cm_analysis_csv_header(FILE *f);
void cm_analysis_csv_row(FILE *f, const cm_analysis *a);
/* Table-1 style line (and its header). */
void cm_analysis_table_header(FILE *f);
void cm_analysis_table_row(FILE *f, const cm_analysis *a);
/* "inf", "nan" or %.4f */
const char *cm_fmt_num(char *buf, size_t n, double v, int decimals);

/* report_html.c: a self-contained report.html in dir (images and figures embedded as base64
 * data URIs).  subdirs[i] is where analysis i wrote its images and figures, relative to dir
 * ("" for dir itself).  paper_table != 0 adds the paper's Table 1 for comparison. */
int cm_report_html(const char *dir, const char *title, const cm_analysis *const *rows,
                   const char *const *subdirs, size_t nrows, int paper_table, char *err,
                   size_t errlen);

/* Creates dir (and parents) if missing; 0 or -1 with a message. */
int cm_mkdir_p(const char *dir, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
