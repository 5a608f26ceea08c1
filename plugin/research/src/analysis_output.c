/* analysis_output.c - the text of one analysis: metrics.json, metrics.csv and the terminal
 * table with what backs it. */
#include <stddef.h>
#include <stdio.h>

#include "chaosmask/research/analysis.h"
#include "chaosmask/research/format.h"
#include "chaosmask/research/metrics.h"
#include "chaosmask/research/outdir.h"

#define JKEY(f, k) fprintf(f, ",\n  \"%s\": ", k)

static void json_numbers(FILE *f, const cm_analysis *a)
{
    static const struct { const char *k; size_t off; } nums[] = {
        {"entropy_plain", offsetof(cm_analysis, entropy_plain)},
        {"entropy_cipher", offsetof(cm_analysis, entropy_cipher)},
        {"entropy_recovered", offsetof(cm_analysis, entropy_recovered)},
        {"local_entropy_cipher", offsetof(cm_analysis, local_entropy_cipher)},
        {"npcr", offsetof(cm_analysis, npcr)},
        {"uaci", offsetof(cm_analysis, uaci)},
        {"npcr_critical", offsetof(cm_analysis, npcr_critical)},
        {"psnr_recovered", offsetof(cm_analysis, psnr_recovered)},
        {"mse_recovered", offsetof(cm_analysis, mse_recovered)},
        {"correlation_recovered", offsetof(cm_analysis, correlation_recovered)},
        {"hist_var_plain", offsetof(cm_analysis, hist_var_plain)},
        {"hist_var_cipher", offsetof(cm_analysis, hist_var_cipher)},
        {"hist_var_recovered", offsetof(cm_analysis, hist_var_recovered)},
        {"chi2_cipher", offsetof(cm_analysis, chi2_cipher)},
        {"chi2_critical", offsetof(cm_analysis, chi2_critical)},
        {"npcr_plain_cipher", offsetof(cm_analysis, npcr_plain_cipher)},
        {"uaci_plain_cipher", offsetof(cm_analysis, uaci_plain_cipher)},
        {"seconds", offsetof(cm_analysis, seconds)},
    };
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        JKEY(f, nums[i].k);
        cm_research_json_num(f, *(const double *)(const void *)((const char *)a + nums[i].off));
    }
    JKEY(f, "chi2_pass"), fputs(cm_analysis_chi2_pass(a) ? "true" : "false", f);
    JKEY(f, "uaci_interval"), fputc('[', f), cm_research_json_num(f, a->uaci_low), fputs(", ", f);
    cm_research_json_num(f, a->uaci_high), fputc(']', f);
    JKEY(f, "local_entropy_interval"), fputc('[', f), cm_research_json_num(f, a->local_entropy_low);
    fputs(", ", f), cm_research_json_num(f, a->local_entropy_high), fputc(']', f);
    JKEY(f, "alpha"), cm_research_json_num(f, CM_METRICS_ALPHA);
    const double *adj[2] = {a->adj_plain, a->adj_cipher};
    static const char *const adjk[2] = {"adjacent_corr_plain", "adjacent_corr_cipher"};
    for (int k = 0; k < 2; k++) {
        JKEY(f, adjk[k]), fputs("{\"h\": ", f), cm_research_json_num(f, adj[k][0]);
        fputs(", \"v\": ", f), cm_research_json_num(f, adj[k][1]), fputs(", \"d\": ", f);
        cm_research_json_num(f, adj[k][2]), fputc('}', f);
    }
}

static void json_trials(FILE *f, const cm_analysis *a)
{
    JKEY(f, "npcr_uaci_trials"), fputc('[', f);
    int all_n = 1, all_u = 1;
    for (int i = 0; i < 3; i++) {
        const cm_npcr_trial *t = &a->trials[i];
        fprintf(f, "%s\n    {\"position\": \"%s\", \"index\": %zu, \"npcr\": ", i ? "," : "",
                t->where, t->index);
        cm_research_json_num(f, t->npcr), fputs(", \"uaci\": ", f), cm_research_json_num(f, t->uaci);
        fprintf(f, ", \"npcr_pass\": %s, \"uaci_pass\": %s}", t->npcr_pass ? "true" : "false",
                t->uaci_pass ? "true" : "false");
        all_n &= t->npcr_pass;
        all_u &= t->uaci_pass;
    }
    fputs("]", f);
    JKEY(f, "npcr_pass"), fputs(all_n ? "true" : "false", f);
    JKEY(f, "uaci_pass"), fputs(all_u ? "true" : "false", f);
}

static void json_verdict(FILE *f, const cm_analysis *a)
{
    if (a->mode == CM_ANALYSIS_MODE_ANALOG) {
        JKEY(f, "analog"), fputs("{\"eta\": ", f), cm_research_json_num(f, a->analog_eta);
        fprintf(f, ", \"sync_seconds\": %g", CM_ANALYSIS_SYNC_SECONDS);
        for (int sl = 0; sl < 2; sl++) {
            fprintf(f, ", \"slave%d\": {\"sync_error\": ", sl + 1);
            cm_research_json_num(f, a->analog_sync_error[sl]), fputs(", \"max_abs_error\": ", f);
            cm_research_json_num(f, a->analog_max_abs_error[sl]), fputs(", \"psnr\": ", f);
            cm_research_json_num(f, a->analog_psnr_slave[sl]), fputc('}', f);
        }
        fputc('}', f);
    } else {
        char why[512];
        JKEY(f, "targets_pass");
        fputs(cm_analysis_targets_pass(a, why, sizeof why) ? "true" : "false", f);
        JKEY(f, "targets_detail"), cm_research_json_string(f, why);
    }
}

void cm_analysis_json(FILE *f, const cm_analysis *a)
{
    fputs("{\n  \"image\": ", f);
    cm_research_json_string(f, a->name);
    JKEY(f, "mode"), cm_research_json_string(f, a->mode_name);
    fprintf(f, ",\n  \"width\": %zu, \"height\": %zu, \"channels\": %u, \"bits\": %u", a->width,
            a->height, a->channels, a->bits);
    json_numbers(f, a);
    json_trials(f, a);
    JKEY(f, "key_sensitivity"), fputs("{\"npcr\": ", f), cm_research_json_num(f, a->key_npcr);
    fputs(", \"uaci\": ", f), cm_research_json_num(f, a->key_uaci), fputc('}', f);
    JKEY(f, "lossless"), fputs(a->lossless ? "true" : "false", f);
    json_verdict(f, a);
    fputs("\n}\n", f);
}

void cm_analysis_csv_header(FILE *f)
{
    fputs("image,mode,width,height,channels,bits,hist_var_plain,hist_var_cipher,hist_var_recovered,"
          "correlation_recovered,npcr,uaci,npcr_critical,uaci_low,uaci_high,npcr_first,uaci_first,"
          "npcr_last,uaci_last,npcr_random,uaci_random,psnr_recovered,entropy_plain,entropy_cipher,"
          "local_entropy_cipher,chi2_cipher,chi2_critical,adj_plain_h,adj_plain_v,adj_plain_d,"
          "adj_cipher_h,adj_cipher_v,adj_cipher_d,npcr_plain_cipher,uaci_plain_cipher,key_npcr,"
          "key_uaci,lossless,seconds,chi2_pass\n", f);
}

void cm_analysis_csv_row(FILE *f, const cm_analysis *a)
{
    char b[64];
    cm_csv_string(f, a->name);
    fprintf(f, ",%s,%zu,%zu,%u,%u", a->mode_name, a->width, a->height, a->channels, a->bits);
    double v[] = {a->hist_var_plain, a->hist_var_cipher, a->hist_var_recovered,
                  a->correlation_recovered, a->npcr, a->uaci, a->npcr_critical, a->uaci_low,
                  a->uaci_high, a->trials[0].npcr, a->trials[0].uaci, a->trials[1].npcr,
                  a->trials[1].uaci, a->trials[2].npcr, a->trials[2].uaci, a->psnr_recovered,
                  a->entropy_plain, a->entropy_cipher, a->local_entropy_cipher, a->chi2_cipher,
                  a->chi2_critical, a->adj_plain[0], a->adj_plain[1], a->adj_plain[2],
                  a->adj_cipher[0], a->adj_cipher[1], a->adj_cipher[2], a->npcr_plain_cipher,
                  a->uaci_plain_cipher, a->key_npcr, a->key_uaci};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        fprintf(f, ",%s", cm_fmt_num(b, sizeof b, v[i], 6));
    fprintf(f, ",%d,%.3f,%d\n", a->lossless, a->seconds, cm_analysis_chi2_pass(a));
}

void cm_analysis_table_header(FILE *f)
{
    fprintf(f, "%-22s %-16s %14s %14s %10s %9s %9s %9s %9s %9s\n", "image", "mode",
            "hist(plain)", "hist(recov.)", "corr", "NPCR%", "UACI%", "PSNR", "H(cipher)", "pass");
}

void cm_analysis_table_row(FILE *f, const cm_analysis *a)
{
    char b[6][48];
    int pass = a->mode == CM_ANALYSIS_MODE_ANALOG ? -1 : cm_analysis_targets_pass(a, NULL, 0);
    fprintf(f, "%-22s %-16s %14.4f %14.4f %10s %9s %9s %9s %9s %9s\n", a->name, a->mode_name,
            a->hist_var_plain, a->hist_var_recovered,
            cm_fmt_num(b[0], 48, a->correlation_recovered, 6), cm_fmt_num(b[1], 48, a->npcr, 4),
            cm_fmt_num(b[2], 48, a->uaci, 4), cm_fmt_num(b[3], 48, a->psnr_recovered, 4),
            cm_fmt_num(b[4], 48, a->entropy_cipher, 4),
            pass < 0 ? "measured" : (pass ? "PASS" : "FAIL"));
}

void cm_analysis_print(FILE *f, const cm_analysis *a)
{
    char nb[3][48];
    cm_analysis_table_header(f);
    cm_analysis_table_row(f, a);
    fprintf(f, "Wu et al. (alpha %.2f, %zu samples, %u-bit): NPCR >= %s %%, UACI in [%s, %s] %%\n",
            CM_METRICS_ALPHA, a->width * a->height * a->channels, a->bits,
            cm_fmt_num(nb[0], 48, a->npcr_critical, 4), cm_fmt_num(nb[1], 48, a->uaci_low, 4),
            cm_fmt_num(nb[2], 48, a->uaci_high, 4));
    static const char *const word[3] = {"pass", "FAIL", "exempt"}; /* by cm_verdict */
    for (int i = 0; i < 3; i++)
        fprintf(f, "  one sample changed at the %-6s (index %zu): NPCR %.4f %% %s, UACI %.4f %% %s\n",
                a->trials[i].where, a->trials[i].index, a->trials[i].npcr,
                word[cm_analysis_trial_verdict(a, i, 0)], a->trials[i].uaci,
                word[cm_analysis_trial_verdict(a, i, 1)]);
    fprintf(f, "chi-square of the cipher: %s, critical value %s (%zu bins, alpha %.2f): %s\n",
            cm_fmt_num(nb[0], 48, a->chi2_cipher, 1), cm_fmt_num(nb[1], 48, a->chi2_critical, 1),
            CM_HIST_BINS(a->bits), CM_METRICS_ALPHA, cm_analysis_chi2_pass(a) ? "pass" : "FAIL");
    if (a->mode != CM_ANALYSIS_MODE_ANALOG) {
        char why[512];
        int ok = cm_analysis_targets_pass(a, why, sizeof why);
        fprintf(f, "targets: %s (%s)\n", ok ? "PASS" : "FAIL", why);
    } else {
        fprintf(f, "analog channel: max |recovered - plain| before rounding %.4g (slave 1), %.4g "
                   "(slave 2); PSNR %s / %s dB; lossless after rounding: %s\n",
                a->analog_max_abs_error[0], a->analog_max_abs_error[1],
                cm_fmt_num(nb[0], 48, a->analog_psnr_slave[0], 4),
                cm_fmt_num(nb[1], 48, a->analog_psnr_slave[1], 4), a->lossless ? "yes" : "no");
    }
}

static int write_json(const char *dir, const cm_analysis *const *rows, size_t n, int as_array,
                      char *err, size_t errlen)
{
    char path[4096];
    cm_outfile o;
    snprintf(path, sizeof path, "%s/metrics.json", dir);
    if (cm_outfile_open(&o, path, err, errlen) != 0)
        return CM_RESEARCH_EIO;
    if (as_array)
        fputs("[\n", o.f);
    for (size_t k = 0; k < n; k++) {
        if (k)
            fputs(",\n", o.f);
        cm_analysis_json(o.f, rows[k]);
    }
    if (as_array)
        fputs("]\n", o.f);
    return cm_outfile_commit(&o, err, errlen) == 0 ? 0 : CM_RESEARCH_EIO;
}

static int write_csv(const char *dir, const cm_analysis *const *rows, size_t n, char *err,
                     size_t errlen)
{
    char path[4096];
    cm_outfile o;
    snprintf(path, sizeof path, "%s/metrics.csv", dir);
    if (cm_outfile_open(&o, path, err, errlen) != 0)
        return CM_RESEARCH_EIO;
    cm_analysis_csv_header(o.f);
    for (size_t k = 0; k < n; k++)
        cm_analysis_csv_row(o.f, rows[k]);
    return cm_outfile_commit(&o, err, errlen) == 0 ? 0 : CM_RESEARCH_EIO;
}

int cm_analysis_write_tables(const char *dir, const cm_analysis *const *rows, size_t n,
                             int as_array, char *err, size_t errlen)
{
    int rc = write_json(dir, rows, n, as_array, err, errlen);
    return rc != 0 ? rc : write_csv(dir, rows, n, err, errlen);
}
