/* sync.c - master/slave Lorenz synchronisation with fixed delays, adaptive Lyapunov controller,
 * and the analog chaotic-masking channel (see sync.h and docs/paper.md). */
#include "chaosmask/research/sync.h"

#include <math.h>
#include <string.h>

/* ---- model ---- */

/* f(z) + F(z) theta: the Lorenz vector field split as in the paper. */
static void lorenz_f(const double z[3], double out[3])
{
    out[0] = 0.0;
    out[1] = -z[0] * z[2] - z[1];
    out[2] = z[0] * z[1];
}

static void lorenz_F_theta(const double z[3], const double th[3], double out[3])
{
    out[0] = th[0] * (z[1] - z[0]);
    out[1] = th[1] * z[0];
    out[2] = -th[2] * z[2];
}

static void master_rhs(const double z[3], const double th[3], double dz[3])
{
    double f[3], g[3];
    lorenz_f(z, f);
    lorenz_F_theta(z, th, g);
    for (int k = 0; k < 3; k++)
        dz[k] = f[k] + g[k];
}

static void master_rk4(double z[3], const double th[3], double h)
{
    double k1[3], k2[3], k3[3], k4[3], w[3];
    master_rhs(z, th, k1);
    for (int k = 0; k < 3; k++)
        w[k] = z[k] + 0.5 * h * k1[k];
    master_rhs(w, th, k2);
    for (int k = 0; k < 3; k++)
        w[k] = z[k] + 0.5 * h * k2[k];
    master_rhs(w, th, k3);
    for (int k = 0; k < 3; k++)
        w[k] = z[k] + h * k3[k];
    master_rhs(w, th, k4);
    for (int k = 0; k < 3; k++)
        z[k] += h / 6.0 * (k1[k] + 2.0 * k2[k] + 2.0 * k3[k] + k4[k]);
}

/* Slave augmented state: y (3), thetahat (3), Dhat (1). */
enum { SLAVE_DIM = 7 };

static double sat(double x)
{
    return x > 1.0 ? 1.0 : (x < -1.0 ? -1.0 : x);
}

static void slave_rhs(const cm_sync_config *cfg, const cm_sync_slave_config *sc, double t,
                      const double x[SLAVE_DIM], const double zt[3], double dx[SLAVE_DIM])
{
    const double *y = x, *th_hat = x + 3;
    double dhat = x[6];
    double fy[3], fz[3], Fy_th[3], Fy_hat[3], Fz_th[3], e[3];
    lorenz_f(y, fy);
    lorenz_f(zt, fz);
    lorenz_F_theta(y, sc->theta, Fy_th);
    lorenz_F_theta(y, th_hat, Fy_hat);
    lorenz_F_theta(zt, cfg->theta, Fz_th);
    double e1 = 0.0;
    for (int k = 0; k < 3; k++) {
        e[k] = y[k] - zt[k];
        e1 += fabs(e[k]);
    }
    for (int k = 0; k < 3; k++) {
        double d = sc->dist_amp[k] * sin(sc->dist_freq[k] * t + sc->dist_phase[k]);
        double u = -fy[k] + fz[k] - Fy_hat[k] + Fz_th[k] - cfg->k[k] * e[k] -
                   dhat * sat(e[k] / cfg->eps);
        dx[k] = fy[k] + Fy_th[k] + d + u;
    }
    /* F(y)^T e: F(y) is diagonal in this parametrisation. */
    dx[3] = cfg->gamma_theta[0] * (y[1] - y[0]) * e[0];
    dx[4] = cfg->gamma_theta[1] * y[0] * e[1];
    dx[5] = cfg->gamma_theta[2] * -y[2] * e[2];
    /* Projection: Dhat stays in [0, dhat_max]. */
    dx[6] = dhat >= cfg->dhat_max ? 0.0 : cfg->gamma_d * e1;
}

/* ---- configuration ---- */

static void default_config(cm_sync_config *cfg, double dist_amp)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->dt = 5e-4;
    cfg->theta[0] = 10.0;
    cfg->theta[1] = 28.0;
    cfg->theta[2] = 8.0 / 3.0;
    cfg->z0[0] = 1.0;
    cfg->z0[1] = 1.0;
    cfg->z0[2] = 1.0;
    for (int k = 0; k < 3; k++) {
        cfg->k[k] = 5.0;
        cfg->eta[k] = 100.0;
    }
    /* Adaptation gains scaled inversely to the regressor power: (y2-y1)^2 ~ 1e2 is weakest,
     * y1^2 ~ 1e2 and y3^2 ~ 7e2 stronger; equal convergence rates need Gamma ~ (50, 5, 1). */
    cfg->gamma_theta[0] = 50.0;
    cfg->gamma_theta[1] = 5.0;
    cfg->gamma_theta[2] = 1.0;
    cfg->gamma_d = 1.0;
    cfg->dhat_max = 2.0;
    cfg->eps = 0.01;
    cfg->nslaves = 2;
    static const double th1[3] = {12.0, 25.0, 3.0}, th2[3] = {8.5, 31.0, 2.2};
    static const double y01[3] = {-5.0, 7.0, 20.0}, y02[3] = {8.0, -3.0, 35.0};
    static const double tau[2] = {0.05, 0.1};
    for (unsigned i = 0; i < 2; i++) {
        cm_sync_slave_config *sc = &cfg->slave[i];
        memcpy(sc->theta, i == 0 ? th1 : th2, sizeof sc->theta);
        memcpy(sc->y0, i == 0 ? y01 : y02, sizeof sc->y0);
        sc->tau = tau[i];
        for (int k = 0; k < 3; k++) {
            sc->dist_amp[k] = dist_amp;
            sc->dist_freq[k] = 1.0 + 0.7 * k + 0.3 * i;
            sc->dist_phase[k] = 0.5 * k + i;
            sc->theta_hat0[k] = 0.0;
        }
        sc->dhat0 = 0.0;
    }
}

void cm_sync_default_config(cm_sync_config *cfg)
{
    default_config(cfg, 0.1);
}

void cm_sync_default_config_undisturbed(cm_sync_config *cfg)
{
    default_config(cfg, 0.0);
}

static int lag_of(const cm_sync_config *cfg, double tau, size_t *lag)
{
    if (!(tau >= 0.0) || !(cfg->dt > 0.0))
        return -1;
    double steps = floor(tau / cfg->dt + 0.5);
    if (steps > (double)CM_SYNC_MAX_DELAY_STEPS)
        return -1;
    *lag = (size_t)steps;
    return 0;
}

static int config_check(const cm_sync_config *cfg, size_t *maxlag)
{
    if (cfg == NULL || cfg->nslaves < 1 || cfg->nslaves > CM_SYNC_MAX_SLAVES)
        return -1;
    if (!(cfg->dt > 0.0 && cfg->dt <= 0.1) || !(cfg->eps > 0.0) || !(cfg->dhat_max >= 0.0))
        return -1;
    if (!(cfg->gamma_d >= 0.0))
        return -1;
    for (int k = 0; k < 3; k++)
        if (!(cfg->k[k] > 0.0) || !(cfg->gamma_theta[k] >= 0.0) || !isfinite(cfg->eta[k]))
            return -1;
    *maxlag = 0;
    for (unsigned i = 0; i < cfg->nslaves; i++) {
        size_t lag;
        if (lag_of(cfg, cfg->slave[i].tau, &lag) != 0)
            return -1;
        if (lag > *maxlag)
            *maxlag = lag;
    }
    return 0;
}

size_t cm_sync_history_len(const cm_sync_config *cfg)
{
    size_t maxlag;
    if (config_check(cfg, &maxlag) != 0)
        return 0;
    return 2 * maxlag + 4;
}

/* ---- the master's history ring ---- */

static double *hist_at(const cm_sync *s, uint64_t half_index)
{
    return s->hist[half_index % s->hist_len];
}

static void master_half_step(cm_sync *s)
{
    double z[3];
    memcpy(z, hist_at(s, s->hist_head), sizeof z);
    master_rk4(z, s->cfg.theta, 0.5 * s->cfg.dt);
    s->hist_head++;
    memcpy(hist_at(s, s->hist_head), z, sizeof z);
}

int cm_sync_init(cm_sync *s, const cm_sync_config *cfg, double (*history)[3], size_t history_len)
{
    size_t maxlag;
    if (s == NULL || history == NULL || config_check(cfg, &maxlag) != 0 ||
        history_len < 2 * maxlag + 4)
        return -1;
    memset(s, 0, sizeof *s);
    s->cfg = *cfg;
    s->hist = history;
    s->hist_len = history_len;
    s->hist_head = 0;
    memcpy(s->hist[0], cfg->z0, sizeof cfg->z0);
    /* The master runs from -max(tau) to 0 first: every delayed lookup is a true trajectory. */
    for (size_t i = 0; i < 2 * maxlag; i++)
        master_half_step(s);
    s->hist_origin = s->hist_head;
    for (unsigned i = 0; i < cfg->nslaves; i++) {
        const cm_sync_slave_config *sc = &cfg->slave[i];
        memcpy(s->s[i].y, sc->y0, sizeof sc->y0);
        memcpy(s->s[i].theta_hat, sc->theta_hat0, sizeof sc->theta_hat0);
        s->s[i].dhat = sc->dhat0;
        (void)lag_of(cfg, sc->tau, &s->s[i].lag);
    }
    return 0;
}

/* ---- stepping ---- */

static void slave_step(cm_sync *s, unsigned i)
{
    const cm_sync_config *cfg = &s->cfg;
    const cm_sync_slave_config *sc = &cfg->slave[i];
    cm_sync_slave *sl = &s->s[i];
    double h = cfg->dt, t = s->t;
    /* z(t - tau), z(t - tau + h/2), z(t - tau + h): the master is already at t + h. */
    uint64_t base = s->hist_head - 2 - 2 * (uint64_t)sl->lag;
    const double *z0 = hist_at(s, base), *zh = hist_at(s, base + 1), *z1 = hist_at(s, base + 2);
    double x[SLAVE_DIM], w[SLAVE_DIM], k1[SLAVE_DIM], k2[SLAVE_DIM], k3[SLAVE_DIM], k4[SLAVE_DIM];
    memcpy(x, sl->y, 3 * sizeof(double));
    memcpy(x + 3, sl->theta_hat, 3 * sizeof(double));
    x[6] = sl->dhat;
    slave_rhs(cfg, sc, t, x, z0, k1);
    for (int k = 0; k < SLAVE_DIM; k++)
        w[k] = x[k] + 0.5 * h * k1[k];
    slave_rhs(cfg, sc, t + 0.5 * h, w, zh, k2);
    for (int k = 0; k < SLAVE_DIM; k++)
        w[k] = x[k] + 0.5 * h * k2[k];
    slave_rhs(cfg, sc, t + 0.5 * h, w, zh, k3);
    for (int k = 0; k < SLAVE_DIM; k++)
        w[k] = x[k] + h * k3[k];
    slave_rhs(cfg, sc, t + h, w, z1, k4);
    for (int k = 0; k < SLAVE_DIM; k++)
        x[k] += h / 6.0 * (k1[k] + 2.0 * k2[k] + 2.0 * k3[k] + k4[k]);
    memcpy(sl->y, x, 3 * sizeof(double));
    memcpy(sl->theta_hat, x + 3, 3 * sizeof(double));
    sl->dhat = x[6] < 0.0 ? 0.0 : (x[6] > cfg->dhat_max ? cfg->dhat_max : x[6]);
}

void cm_sync_step(cm_sync *s)
{
    master_half_step(s);
    master_half_step(s);
    for (unsigned i = 0; i < s->cfg.nslaves; i++)
        slave_step(s, i);
    s->steps++;
    s->t = (double)s->steps * s->cfg.dt; /* no accumulated rounding in t */
}

void cm_sync_master(const cm_sync *s, long offset_steps, double z[3])
{
    memcpy(z, hist_at(s, s->hist_head - 2 * (uint64_t)(-offset_steps)), 3 * sizeof(double));
}

void cm_sync_error(const cm_sync *s, unsigned i, double e[3])
{
    double z[3];
    cm_sync_master(s, -(long)s->s[i].lag, z);
    for (int k = 0; k < 3; k++)
        e[k] = s->s[i].y[k] - z[k];
}

double cm_sync_error_norm(const cm_sync *s, unsigned i)
{
    double e[3];
    cm_sync_error(s, i, e);
    return sqrt(e[0] * e[0] + e[1] * e[1] + e[2] * e[2]);
}

/* ---- the analog channel ---- */

static double mask_of(const double eta[3], const double v[3])
{
    return eta[0] * v[0] + eta[1] * v[1] + eta[2] * v[2];
}

int cm_analog_run(cm_sync *s, double *cipher, double *recovered, double *mask, const double *message,
                  size_t n)
{
    if (s == NULL || cipher == NULL || message == NULL)
        return -1;
    size_t maxlag = 0;
    for (unsigned i = 0; i < s->cfg.nslaves; i++)
        if (s->s[i].lag > maxlag)
            maxlag = s->s[i].lag;
    for (size_t j = 0; j < n + maxlag; j++) {
        cm_sync_step(s);
        if (j < n) {
            double z[3];
            cm_sync_master(s, 0, z);
            double m = mask_of(s->cfg.eta, z);
            cipher[j] = message[j] + m;
            if (mask != NULL)
                mask[j] = m;
        }
        if (recovered == NULL)
            continue;
        for (unsigned i = 0; i < s->cfg.nslaves; i++) {
            size_t lag = s->s[i].lag;
            if (j >= lag && j - lag < n)
                recovered[i * n + (j - lag)] = cipher[j - lag] - mask_of(s->cfg.eta, s->s[i].y);
        }
    }
    return 0;
}
