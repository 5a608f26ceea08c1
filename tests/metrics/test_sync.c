/* test_sync.c - master + two delayed slaves under the adaptive controller (sync.h).
 * Documented bounds (docs/paper.md, "Synchronisation"):
 *   no disturbance:        ||e_i|| <= 1e-6 for every t in [15 s, 300 s]; thetahat_i within
 *                          1e-6 (relative) of theta_i for t >= 30 s;
 *   disturbance amp 0.1:   ||e_i|| <= 2e-3 for t in [10 s, 300 s] (boundary layer:
 *                          |e_k| ~ eps |d_k| / Dhat = 0.01 * 0.1 / 2 = 5e-4 per component);
 *                          thetahat_i within 5e-3 (relative) for t >= 30 s (the disturbance
 *                          biases the estimates a little; measured 2.7e-3).
 * Also: the slave tracks the *delayed* master, the analog channel recovers the message through
 * both slaves, and invalid configurations are refused. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chaosmask/research/sync.h"
#include "../check.h"

static double (*alloc_history(const cm_sync_config *cfg, size_t *len))[3]
{
    *len = cm_sync_history_len(cfg);
    CHECK(*len > 0);
    double (*h)[3] = malloc(*len * sizeof *h);
    CHECK(h != NULL);
    return h;
}

static void run_bounds(int disturbed, double t_err, double err_bound, double t_theta,
                       double theta_tol)
{
    cm_sync_config cfg;
    if (disturbed)
        cm_sync_default_config(&cfg);
    else
        cm_sync_default_config_undisturbed(&cfg);
    size_t hl;
    double (*hist)[3] = alloc_history(&cfg, &hl);
    cm_sync s;
    CHECK_EQ_INT(cm_sync_init(&s, &cfg, hist, hl), 0);
    double e0 = cm_sync_error_norm(&s, 0);
    CHECK(e0 > 1.0); /* the slaves really start far away */
    double worst = 0.0, worst_theta = 0.0, last_above = 0.0;
    while (s.t < 300.0) {
        cm_sync_step(&s);
        for (unsigned i = 0; i < cfg.nslaves; i++) {
            double e = cm_sync_error_norm(&s, i);
            CHECK(isfinite(e));
            if (e > err_bound)
                last_above = s.t;
            if (s.t >= t_err && e > worst)
                worst = e;
            if (s.t >= t_theta)
                for (int k = 0; k < 3; k++) {
                    double th = cfg.slave[i].theta[k];
                    double rel = fabs(s.s[i].theta_hat[k] - th) / th;
                    if (rel > worst_theta)
                        worst_theta = rel;
                }
        }
    }
    printf("%s: max ||e|| over [%.0f s, 300 s] = %.3e (bound %.0e, last above it at t = %.3f s); "
           "max relative parameter error over [%.0f s, 300 s] = %.3e (tolerance %.0e); Dhat = %.3f\n",
           disturbed ? "disturbed (amp 0.1)" : "undisturbed", t_err, worst, err_bound, last_above,
           t_theta, worst_theta, theta_tol, s.s[0].dhat);
    CHECK(worst <= err_bound);
    CHECK(worst_theta <= theta_tol);
    free(hist);
}

static void delayed_tracking(void)
{
    cm_sync_config cfg;
    cm_sync_default_config_undisturbed(&cfg);
    size_t hl;
    double (*hist)[3] = alloc_history(&cfg, &hl);
    cm_sync s;
    CHECK_EQ_INT(cm_sync_init(&s, &cfg, hist, hl), 0);
    CHECK_EQ_INT(s.s[0].lag, 100); /* 0.05 s / 5e-4 */
    CHECK_EQ_INT(s.s[1].lag, 200);
    while (s.t < 20.0)
        cm_sync_step(&s);
    for (unsigned i = 0; i < 2; i++) {
        double z_now[3], d = 0.0;
        cm_sync_master(&s, 0, z_now);
        for (int k = 0; k < 3; k++)
            d += (s.s[i].y[k] - z_now[k]) * (s.s[i].y[k] - z_now[k]);
        printf("slave %u: ||y - z(t)|| = %.3f, ||y - z(t - tau)|| = %.3e\n", i, sqrt(d),
               cm_sync_error_norm(&s, i));
        CHECK(sqrt(d) > 1e-2);
        CHECK(cm_sync_error_norm(&s, i) < 1e-6);
    }
    free(hist);
}

static void analog_channel(int disturbed, double max_err_bound)
{
    cm_sync_config cfg;
    if (disturbed)
        cm_sync_default_config(&cfg);
    else
        cm_sync_default_config_undisturbed(&cfg);
    size_t hl;
    double (*hist)[3] = alloc_history(&cfg, &hl);
    cm_sync s;
    CHECK_EQ_INT(cm_sync_init(&s, &cfg, hist, hl), 0);
    while (s.t < 20.0)
        cm_sync_step(&s);
    enum { N = 20000 };
    static double msg[N], cipher[N], rec[2 * N];
    for (size_t j = 0; j < N; j++)
        msg[j] = (double)((j * 37u + (j >> 7)) % 256u);
    CHECK_EQ_INT(cm_analog_run(&s, cipher, rec, NULL, msg, N), 0);
    double worst = 0.0, mask_min = INFINITY, mask_max = -INFINITY;
    for (size_t j = 0; j < N; j++) {
        double m = cipher[j] - msg[j];
        mask_min = fmin(mask_min, m);
        mask_max = fmax(mask_max, m);
        for (unsigned i = 0; i < 2; i++)
            worst = fmax(worst, fabs(rec[i * N + j] - msg[j]));
    }
    printf("analog channel (%s): mask spans [%.1f, %.1f], max |recovered - message| = %.3e\n",
           disturbed ? "disturbed" : "undisturbed", mask_min, mask_max, worst);
    CHECK(mask_max - mask_min > 10.0 * 255.0); /* the mask dwarfs the message */
    CHECK(worst <= max_err_bound);
    free(hist);
}

static void invalid_configs(void)
{
    cm_sync_config cfg;
    cm_sync s;
    double h[8][3];
    cm_sync_default_config(&cfg);
    CHECK(cm_sync_init(&s, &cfg, h, 8) != 0); /* history too short for tau = 0.1 s */
    cfg.nslaves = 0;
    CHECK_EQ_INT(cm_sync_history_len(&cfg), 0);
    cm_sync_default_config(&cfg);
    cfg.slave[1].tau = -1.0;
    CHECK_EQ_INT(cm_sync_history_len(&cfg), 0);
    cm_sync_default_config(&cfg);
    cfg.dt = 0.0;
    CHECK_EQ_INT(cm_sync_history_len(&cfg), 0);
    cm_sync_default_config(&cfg);
    cfg.k[2] = -1.0;
    CHECK_EQ_INT(cm_sync_history_len(&cfg), 0);
    printf("invalid configurations refused\n");
}

int main(void)
{
    run_bounds(0, 15.0, 1e-6, 30.0, 1e-6);
    run_bounds(1, 10.0, 2e-3, 30.0, 5e-3);
    delayed_tracking();
    analog_channel(0, 1e-4);
    analog_channel(1, 0.5); /* below half a gray level: exact after rounding */
    invalid_configs();
    printf("all synchronisation checks passed\n");
    return 0;
}
