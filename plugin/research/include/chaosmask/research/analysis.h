/* analysis.h - one image through one masking mode (a digital profile of the engine or the
 * paper's analog channel) and every statistic of DESIGN §3.3, with the files and text that
 * report them: metrics.json, metrics.csv, the terminal table, the images and the figures.
 * `chaosmask analyze` is one analysis (analyze.h); `chaosmask paper` is 24 (paper.h). */
#ifndef CHAOSMASK_RESEARCH_ANALYSIS_H
#define CHAOSMASK_RESEARCH_ANALYSIS_H

#include <stddef.h>
#include <stdio.h>

#include "chaosmask/research/image.h"
#include "chaosmask/research/status.h"

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

    /* The plotted histograms of plain, cipher and recovered: hist_bins[i] bins of equal width
     * over the image's display window (cm_raster_window), so one per level for 8 bits. */
    double hist_plot[3][256];
    size_t hist_bins[3];
    cm_window hist_window[3];
} cm_analysis;

/* Runs the mode on plain (copied).  0, or a CM_RESEARCH_E... class with a message in err;
 * either way cm_analysis_free releases what a holds. */
int cm_analysis_run(cm_analysis *a, const cm_raster *plain, const char *name, int mode,
                    char *err, size_t errlen);
void cm_analysis_free(cm_analysis *a);

/* ---- verdicts ---- */

/* Digital-profile targets of issue 3 (exact recovery, cipher entropy, NPCR/UACI, adjacent
 * correlation, chi-square); 1 when all pass.  why (may be NULL) lists the misses. */
int cm_analysis_targets_pass(const cm_analysis *a, char *why, size_t whylen);
/* 1 when the NPCR/UACI targets apply: every digital profile but aes-256-gcm, which is standard
 * AES-256-GCM (CTR mode, no diffusion by design; docs/paper.md explains the decision). */
int cm_analysis_diffusion_target(const cm_analysis *a);
/* 1 for a digital profile exempt from the NPCR/UACI targets (aes-256-gcm): every output shows
 * its trials as exempt ("-", "exempt"), never as failed.  The analog channel is not exempt
 * but measured: its trials say pass or fail like any other number. */
int cm_analysis_diffusion_exempt(const cm_analysis *a);
typedef enum { CM_VERDICT_PASS = 0, CM_VERDICT_FAIL = 1, CM_VERDICT_EXEMPT = 2 } cm_verdict;
/* The verdict on trial i's NPCR (uaci = 0) or UACI (uaci = 1): what every output shows. */
cm_verdict cm_analysis_trial_verdict(const cm_analysis *a, int i, int uaci);
/* 1 when the cipher's chi-square is at most its critical value at CM_METRICS_ALPHA: its
 * histogram is consistent with a uniform one.  Like every test at alpha = 0.05, an ideal
 * cipher misses it one time in twenty. */
int cm_analysis_chi2_pass(const cm_analysis *a);

/* ---- files ---- */

/* Writes plain/cipher/cipher_1px/recovered.png into dir (which exists), with the stored
 * samples; for images deeper than 8 bits also *_display.png, windowed to 8 bits for viewing
 * (cm_raster_display).  0 or CM_RESEARCH_EIO / CM_RESEARCH_EINTERNAL with a message. */
int cm_analysis_write_images(const cm_analysis *a, const char *dir, char *err, size_t errlen);
/* Writes the fig_*.png charts into dir.  0 or CM_RESEARCH_EIO with a message. */
int cm_analysis_write_figures(const cm_analysis *a, const char *dir, char *err, size_t errlen);
/* Writes dir/metrics.csv (a row per analysis) and dir/metrics.json: one object when as_array
 * is 0 (then n must be 1), else an array of n.  0 or CM_RESEARCH_EIO with a message. */
int cm_analysis_write_tables(const char *dir, const cm_analysis *const *rows, size_t n,
                             int as_array, char *err, size_t errlen);

/* ---- text ---- */

void cm_analysis_json(FILE *f, const cm_analysis *a);
void cm_analysis_csv_header(FILE *f);
void cm_analysis_csv_row(FILE *f, const cm_analysis *a);
/* Table-1 style line (and its header). */
void cm_analysis_table_header(FILE *f);
void cm_analysis_table_row(FILE *f, const cm_analysis *a);
/* The table line and what backs it: Wu et al.'s critical values, the three one-sample
 * trials, and the targets (digital) or the analog channel's fidelity. */
void cm_analysis_print(FILE *f, const cm_analysis *a);

#ifdef __cplusplus
}
#endif
#endif
