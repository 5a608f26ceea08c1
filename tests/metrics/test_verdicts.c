/* test_verdicts.c - every output says the same about a cipher: a chi-square above its
 * critical value is a miss in metrics.json, metrics.csv, the terminal table and report.html,
 * and the NPCR/UACI trials of aes-256-gcm (exempt by decision, docs/paper.md) are shown as
 * exempt ("-", "exempt", "&ndash;"), never as failed.  The analyses are made by hand, so the
 * checks do not depend on what the engine happens to produce.
 * usage: test_verdicts WORKDIR */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chaosmask/chaosmask.h"
#include "chaosmask/research/analysis.h"
#include "chaosmask/research/report.h"
#include "../check.h"

static char text[1 << 16];

/* A digital analysis of a 300 x 300 RGB image that meets every target. */
static void passing(cm_analysis *a, int profile)
{
    memset(a, 0, sizeof *a);
    snprintf(a->name, sizeof a->name, "hand-made");
    a->mode = profile;
    snprintf(a->mode_name, sizeof a->mode_name, "%s", cm_profile_name(profile));
    a->width = a->height = 300;
    a->channels = 3;
    a->bits = 8;
    a->entropy_cipher = 7.9993;
    a->chi2_cipher = 250.0;
    a->chi2_critical = 293.2465;
    a->correlation_recovered = 1.0;
    a->psnr_recovered = INFINITY;
    a->lossless = 1;
    a->npcr_critical = 99.5896;
    a->uaci_low = 33.3743;
    a->uaci_high = 33.5528;
    static const char *const where[3] = {"first", "last", "random"};
    for (int i = 0; i < 3; i++) {
        a->trials[i] = (cm_npcr_trial){where[i], (size_t)i, 99.61, 33.46, 1, 1};
        a->adj_cipher[i] = 0.001;
    }
    a->npcr = 99.61;
    a->uaci = 33.46;
}

/* What a writer puts into a FILE, as a string. */
#define CAPTURE(call)                                                   \
    do {                                                                \
        FILE *f_ = tmpfile();                                           \
        CHECK(f_ != NULL);                                              \
        call;                                                           \
        rewind(f_);                                                     \
        size_t n_ = fread(text, 1, sizeof text - 1, f_);                \
        text[n_] = '\0';                                                \
        fclose(f_);                                                     \
    } while (0)

/* The last field of the CSV row (after the header line). */
static const char *csv_last_field(void)
{
    const char *row = strchr(text, '\n');
    CHECK(row != NULL);
    const char *last = strrchr(row, ',');
    CHECK(last != NULL);
    return last + 1;
}

static void check_chi2(void)
{
    cm_analysis a;
    passing(&a, CM_PROFILE_LORENZ);
    CHECK(cm_analysis_chi2_pass(&a) && cm_analysis_targets_pass(&a, NULL, 0));
    CAPTURE(cm_analysis_json(f_, &a));
    CHECK(strstr(text, "\"chi2_pass\": true") != NULL);
    CHECK(strstr(text, "\"targets_pass\": true") != NULL);
    CAPTURE((cm_analysis_csv_header(f_), cm_analysis_csv_row(f_, &a)));
    CHECK(strstr(text, ",chi2_pass\n") != NULL);
    CHECK(strcmp(csv_last_field(), "1\n") == 0);

    a.chi2_cipher = 296.8; /* above 293.2: the histogram is not consistent with uniform */
    char why[512];
    CHECK(!cm_analysis_chi2_pass(&a));
    CHECK(!cm_analysis_targets_pass(&a, why, sizeof why));
    printf("chi-square miss: %s\n", why);
    CHECK(strstr(why, "chi-square 296.8 > 293.2") != NULL);
    CAPTURE(cm_analysis_json(f_, &a));
    CHECK(strstr(text, "\"chi2_pass\": false") != NULL);
    CHECK(strstr(text, "\"targets_pass\": false") != NULL);
    CHECK(strstr(text, "chi-square 296.8 > 293.2") != NULL);
    CAPTURE((cm_analysis_csv_header(f_), cm_analysis_csv_row(f_, &a)));
    CHECK(strcmp(csv_last_field(), "0\n") == 0);
    CAPTURE(cm_analysis_print(f_, &a));
    printf("%s", text);
    CHECK(strstr(text, " PASS\n") == NULL);
    CHECK(strstr(text, "      FAIL\n") != NULL); /* the table row's verdict */
    CHECK(strstr(text, "chi-square of the cipher: 296.8, critical value 293.2 (256 bins, alpha 0.05): FAIL") != NULL);
    CHECK(strstr(text, "targets: FAIL (chi-square 296.8 > 293.2; )") != NULL);
}

static void check_exempt_terminal(void)
{
    cm_analysis a;
    passing(&a, CM_PROFILE_AES_256_GCM);
    for (int i = 0; i < 3; i++)
        a.trials[i] = (cm_npcr_trial){a.trials[i].where, (size_t)i, 0.0004, 0.0, 0, 0};
    CHECK(cm_analysis_diffusion_exempt(&a));
    CHECK(cm_analysis_targets_pass(&a, NULL, 0));
    CAPTURE(cm_analysis_print(f_, &a));
    printf("%s", text);
    CHECK(strstr(text, "FAIL") == NULL);
    CHECK(strstr(text, "NPCR 0.0004 % exempt, UACI 0.0000 % exempt") != NULL);

    passing(&a, CM_PROFILE_LORENZ); /* a lorenz profile is never exempt */
    a.trials[0].npcr_pass = 0;
    CHECK(!cm_analysis_diffusion_exempt(&a));
    CAPTURE(cm_analysis_print(f_, &a));
    CHECK(strstr(text, "exempt") == NULL && strstr(text, "% FAIL, UACI") != NULL);
}

/* report.html of an aes-256-gcm row (exempt trials) and a lorenz row with a chi-square miss. */
static void check_html(const char *dir)
{
    cm_analysis aes, lor;
    passing(&aes, CM_PROFILE_AES_256_GCM);
    for (int i = 0; i < 3; i++)
        aes.trials[i].npcr_pass = aes.trials[i].uaci_pass = 0;
    passing(&lor, CM_PROFILE_LORENZ);
    lor.chi2_cipher = 296.8;
    const cm_analysis *rows[2] = {&aes, &lor};
    const char *subs[2] = {"aes", "lorenz"};
    char err[512];
    CHECK_EQ_INT(cm_report_html(dir, "verdicts", rows, subs, 2, 0, err, sizeof err), 0);
    char path[4096];
    snprintf(path, sizeof path, "%s/report.html", dir);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    const char *r_aes = strstr(text, "<tr><td>hand-made</td><td>aes-256-gcm</td>");
    const char *r_lor = strstr(text, "<tr><td>hand-made</td><td>lorenz</td>");
    CHECK(r_aes != NULL && r_lor != NULL && r_aes < r_lor);
    /* the aes row: dashes for the trials, no cross anywhere, targets pass */
    const char *dashes = strstr(r_aes, "<td class=\"exempt\" title=\"exempt from NPCR/UACI\">"
                                       "&ndash; &ndash; &ndash;</td>");
    CHECK(dashes != NULL && dashes < r_lor);
    char aes_row[4096];
    snprintf(aes_row, sizeof aes_row, "%.*s", (int)(r_lor - r_aes), r_aes);
    CHECK(strstr(aes_row, "&#10007;") == NULL);
    CHECK(strstr(aes_row, "<td class=\"pass\">pass</td></tr>") != NULL);
    /* the lorenz row: the chi-square cell and the targets say miss */
    CHECK(strstr(r_lor, "<td class=\"fail\">296.8 (crit. 293.2) &#10007;</td>") != NULL);
    CHECK(strstr(r_lor, "<td class=\"fail\">fail</td></tr>") != NULL);
    /* the prose of the aes section */
    CHECK(strstr(text, "first pixel (index 0): NPCR 99.6100 % (exempt), UACI 33.4600 % (exempt).") != NULL);
    printf("report.html: exempt trials shown as dashes, chi-square miss as a cross\n");
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_verdicts WORKDIR\n");
        return 2;
    }
    check_chi2();
    check_exempt_terminal();
    check_html(argv[1]);
    printf("all verdict checks passed\n");
    return 0;
}
