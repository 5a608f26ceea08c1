/* paper.c - the paper's experiment (see paper.h). */
#include "chaosmask/research/paper.h"

#include <math.h>
#include <string.h>

#include "chaosmask/chaosmask.h"
#include "chaosmask/research/format.h"
#include "chaosmask/research/metrics.h"
#include "chaosmask/research/outdir.h"
#include "chaosmask/research/phantoms.h"
#include "chaosmask/research/report.h"
#include "chaosmask/research/table1.h"

/* Image i stands for the paper's image i + 1 (cm_table1[i]). */
typedef struct paper_image {
    const char *slug;   /* sub-directory name */
    const char *name;   /* shown in tables */
    int phantom;        /* cm_phantom, or -1 for a PNG from the images directory */
    const char *file;   /* PNG in the images directory */
} paper_image;

static const paper_image paper_set[CM_PAPER_IMAGES] = {
    {"1-endoscopy", "1 endoscopy (phantom)", CM_PHANTOM_ENDOSCOPY, NULL},
    {"2-blood-smear", "2 blood smear (phantom)", CM_PHANTOM_BLOOD_SMEAR, NULL},
    {"3-skin-lesion", "3 skin lesion (phantom)", CM_PHANTOM_SKIN_LESION, NULL},
    {"4-nm-bonescan", "4 NM bone scan (pydicom)", -1, "nm_bonescan_300.png"},
    {"5-ct-shepp-logan", "5 CT Shepp-Logan (phantom)", CM_PHANTOM_SHEPP_LOGAN, NULL},
    {"6-ct-small", "6 CT (pydicom CT_small)", -1, "ct_small_300.png"},
};

static const int paper_modes[CM_PAPER_MODES] = {CM_ANALYSIS_MODE_ANALOG, CM_PROFILE_LORENZ,
                                                CM_PROFILE_LORENZ_CHACHA20, CM_PROFILE_AES_256_GCM};

static int load_image(cm_raster *r, const paper_image *pi, const char *images, char *err, size_t errlen)
{
    if (pi->phantom >= 0) {
        if (cm_phantom_make(r, pi->phantom, CM_PAPER_SIDE, 8) != 0) {
            snprintf(err, errlen, "cannot generate phantom %s", cm_phantom_name(pi->phantom));
            return CM_RESEARCH_EINTERNAL;
        }
        return 0;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", images, pi->file);
    if (cm_png_read(r, path, err, errlen) != 0) {
        size_t l = strlen(err);
        snprintf(err + l, errlen - l, " (run testdata/paper/make_images.sh, or pass --images DIR)");
        return CM_RESEARCH_EINPUT;
    }
    if (r->width != CM_PAPER_SIDE || r->height != CM_PAPER_SIDE) {
        snprintf(err, errlen, "%s: %zux%zu, expected %ux%u", path, r->width, r->height,
                 CM_PAPER_SIDE, CM_PAPER_SIDE);
        cm_raster_free(r);
        return CM_RESEARCH_EINPUT;
    }
    return 0;
}

static const char *mark(int ok)
{
    return ok ? "P" : "F";
}

/* One mode's line under the paper's: the values, and P/F/- per target. */
static void print_mode_row(FILE *f, const cm_analysis *a)
{
    char c[32], n[32], u[32], p[32], h[32], j[32], x[32];
    double adj = fmax(fabs(a->adj_cipher[0]), fmax(fabs(a->adj_cipher[1]), fabs(a->adj_cipher[2])));
    int npass = 1, upass = 1;
    for (int t = 0; t < 3; t++) {
        npass &= a->trials[t].npcr_pass;
        upass &= a->trials[t].uaci_pass;
    }
    cm_fmt_num(c, sizeof c, a->correlation_recovered, 6);
    cm_fmt_num(n, sizeof n, a->npcr, 4);
    cm_fmt_num(u, sizeof u, a->uaci, 4);
    cm_fmt_num(p, sizeof p, a->psnr_recovered, 4);
    cm_fmt_num(h, sizeof h, a->entropy_cipher, 4);
    cm_fmt_num(j, sizeof j, adj, 4);
    cm_fmt_num(x, sizeof x, a->chi2_cipher, 1);
    if (a->mode == CM_ANALYSIS_MODE_ANALOG) {
        fprintf(f, "  %-16s %-11s %-11s %-11s %-12s %-10s %-11s %-11s measured (NPCR/UACI plain vs "
                   "cipher: %.2f / %.2f; lossless: %s)\n",
                a->mode_name, c, n, u, p, h, j, x, a->npcr_plain_cipher, a->uaci_plain_cipher,
                a->lossless ? "yes" : "no");
        return;
    }
    int corr_ok = a->lossless, psnr_ok = isinf(a->psnr_recovered);
    int ent_ok = a->entropy_cipher >= 7.997, adj_ok = adj < 0.01;
    const int exempt = cm_analysis_diffusion_exempt(a); /* aes-256-gcm */
    fprintf(f, "  %-16s %-9s%s %-9s%s %-9s%s %-10s%s %-8s%s %-9s%s %-9s%s %s\n", a->mode_name, c,
            mark(corr_ok), n, exempt ? "-" : mark(npass), u, exempt ? "-" : mark(upass), p,
            mark(psnr_ok), h, mark(ent_ok), j, mark(adj_ok), x, mark(cm_analysis_chi2_pass(a)),
            cm_analysis_targets_pass(a, NULL, 0) ? "PASS" : "FAIL");
}

static void print_side_by_side(FILE *f, const paper_image *pi, const cm_table1_row *t1,
                               const cm_analysis *rows)
{
    fprintf(f, "\n%s\n", pi->name);
    fprintf(f, "  %-16s %-11s %-11s %-11s %-12s %-10s %-11s %-11s %s\n", "", "correlation",
            "NPCR %", "UACI %", "PSNR dB", "entropy", "max|adj r|", "chi-square", "verdict");
    fprintf(f, "  %-16s %-11.4f %-11.2f %-11.2f %-12.4f %-10.4f %-11s %-11s %s\n", "paper Table 1",
            t1->corr, t1->npcr, t1->uaci, t1->psnr, t1->entropy, "-", "-", "(as printed)");
    for (unsigned m = 0; m < CM_PAPER_MODES; m++)
        print_mode_row(f, &rows[m]);
}

/* Every mode on image i: analysis, its folder, images and figures. */
static int run_image(cm_paper_result *r, unsigned i, const char *out, const cm_raster *plain,
                     cm_paper_progress progress, void *ctx, char *err, size_t errlen)
{
    for (unsigned m = 0; m < CM_PAPER_MODES; m++) {
        cm_analysis *a = &r->runs[r->done];
        int rc = cm_analysis_run(a, plain, paper_set[i].name, paper_modes[m], err, errlen);
        r->done++;
        if (rc != 0)
            return rc;
        char sub[sizeof r->subdir[0]], dir[4096];
        snprintf(sub, sizeof sub, "%s/%s", paper_set[i].slug, a->mode_name);
        memcpy(r->subdir[r->done - 1], sub, sizeof sub);
        snprintf(dir, sizeof dir, "%s/%s", out, sub);
        rc = cm_mkdir_p(dir, err, errlen);
        if (rc == 0)
            rc = cm_analysis_write_images(a, dir, err, errlen);
        if (rc == 0)
            rc = cm_analysis_write_figures(a, dir, err, errlen);
        if (progress != NULL)
            progress(ctx, a);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static void tally(cm_paper_result *r)
{
    for (size_t k = 0; k < r->done; k++) {
        const cm_analysis *a = &r->runs[k];
        if (a->mode == CM_ANALYSIS_MODE_ANALOG)
            continue;
        r->misses += !cm_analysis_targets_pass(a, NULL, 0);
        r->all_exact &= a->lossless;
    }
}

int cm_paper_run(cm_paper_result *r, const char *out, const char *images, FILE *table,
                 cm_paper_progress progress, void *ctx, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->all_exact = 1;
    int rc = cm_mkdir_p(out, err, errlen);
    for (unsigned i = 0; i < CM_PAPER_IMAGES && rc == 0; i++) {
        cm_raster plain;
        if ((rc = load_image(&plain, &paper_set[i], images, err, errlen)) != 0)
            break;
        rc = run_image(r, i, out, &plain, progress, ctx, err, errlen);
        cm_raster_free(&plain);
        if (rc == 0)
            print_side_by_side(table, &paper_set[i], &cm_table1[i],
                               &r->runs[r->done - CM_PAPER_MODES]);
    }
    const cm_analysis *rows[CM_PAPER_IMAGES * CM_PAPER_MODES];
    const char *subp[CM_PAPER_IMAGES * CM_PAPER_MODES];
    for (size_t k = 0; k < r->done; k++) {
        rows[k] = &r->runs[k];
        subp[k] = r->subdir[k];
    }
    if (rc == 0)
        rc = cm_analysis_write_tables(out, rows, r->done, 1, err, errlen);
    if (rc == 0)
        rc = cm_report_html(out, "ChaosMask - reproducing the paper's Table 1", rows, subp,
                            r->done, 1, err, errlen);
    if (rc == 0)
        tally(r);
    return rc;
}

void cm_paper_print_summary(FILE *f, const cm_paper_result *r, const char *out)
{
    fprintf(f, "\nP = meets the target, F = misses it, - = exempt. Digital targets: correlation 1 and PSNR inf "
               "(exact recovery), NPCR/UACI within Wu et al.'s alpha = 0.05 bounds with one sample "
               "changed at the first, last and a random position, cipher entropy >= 7.997, |adjacent "
               "correlation| < 0.01, chi-square of the cipher's histogram at most its critical value "
               "(alpha = 0.05). NPCR/UACI values shown are for the random position; their P/F "
               "covers all three positions (metrics.json has each). aes-256-gcm is standard AES-GCM, CTR "
               "mode without diffusion, and is exempt from NPCR/UACI (docs/paper.md). The analog channel "
               "is reported as measured.\n");
    if (r->misses == 0)
        fprintf(f, "digital profiles: every target met on every image\n");
    else
        fprintf(f, "digital profiles: %d of %zu image/profile runs miss a target (see F above; a Wu or "
                   "chi-square test rejects an ideal cipher with probability %.2f)\n",
                r->misses, r->done - r->done / CM_PAPER_MODES, CM_METRICS_ALPHA);
    fprintf(f, "recovery: %s\nwrote %s/report.html, metrics.json, metrics.csv and one folder per image "
               "and mode\n", r->all_exact ? "exact for every digital profile" : "NOT EXACT - defect", out);
}

void cm_paper_free(cm_paper_result *r)
{
    for (size_t k = 0; k < r->done; k++)
        cm_analysis_free(&r->runs[k]);
    r->done = 0;
}
