/*
 * sync.h - the paper's analog scheme (DESIGN §3.1): one Lorenz master, N slaves that track it
 * with fixed delays tau_i under bounded disturbances and unknown parameters, an adaptive
 * controller from a Lyapunov function, and chaotic masking F = M + sum eta_k z_k recovered
 * through each slave.  This is the research mode that reproduces the paper's experiment; the
 * product engine (chaosmask.h) is the lossless digital form.
 *
 * Model (theta = (sigma, rho, beta), f(z) = (0, -z1 z3 - z2, z1 z2),
 * F(z) theta = (theta1 (z2 - z1), theta2 z1, -theta3 z3)):
 *   master   z' = f(z) + F(z) theta
 *   slave i  y_i' = f(y_i) + F(y_i) theta_i + d_i(t) + u_i,    e_i = y_i(t) - z(t - tau_i)
 *   u_i = -f(y_i) + f(z_tau) - F(y_i) thetahat_i + F(z_tau) theta - K e_i - Dhat_i sat(e_i/eps)
 *   thetahat_i' = Gamma F(y_i)^T e_i,      Dhat_i' = gamma ||e_i||_1  (projected onto [0, dhat_max])
 * With V = 1/2 sum e'e + 1/2 sum thetatilde' Gamma^-1 thetatilde + 1/2 sum gamma^-1 Dtilde^2,
 * V' <= -sum e' K e outside the boundary layer, so e_i -> 0 (to O(eps * |d| / Dhat) with a
 * disturbance) and, the chaotic regressor being persistently exciting, thetahat_i -> theta_i.
 * d_i(t) = amp (.) sin(freq t + phase) per component (bounded by ||amp||_inf).
 *
 * Numerics: fixed-step RK4.  The master is integrated with step dt/2 and every half-step state
 * is kept in a caller-owned ring buffer, so each RK4 stage of a slave reads z(t - tau_i) at an
 * exact grid point (tau_i is rounded to a whole number of steps dt).  The master starts at
 * z0 at time -max(tau) so that the delayed signal is a true trajectory from t = 0 on.
 *
 * Caller-owned memory, no I/O, no globals; libm is used (this is not the keystream path).
 */
#ifndef CHAOSMASK_RESEARCH_SYNC_H
#define CHAOSMASK_RESEARCH_SYNC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CM_SYNC_MAX_SLAVES 8u
#define CM_SYNC_MAX_DELAY_STEPS 1000000u

typedef struct cm_sync_slave_config {
    double theta[3];      /* the slave's own parameters (unknown to its controller) */
    double y0[3];         /* initial state at t = 0 */
    double tau;           /* fixed delay in seconds, >= 0 (rounded to whole steps dt) */
    double dist_amp[3];   /* disturbance d_k(t) = amp_k sin(freq_k t + phase_k) */
    double dist_freq[3];
    double dist_phase[3];
    double theta_hat0[3]; /* initial parameter estimates */
    double dhat0;         /* initial disturbance-bound estimate */
} cm_sync_slave_config;

typedef struct cm_sync_config {
    double dt;             /* RK4 step of the slaves (the master uses dt/2) */
    double theta[3];       /* master parameters sigma, rho, beta */
    double z0[3];          /* master state at t = -max(tau) */
    double k[3];           /* feedback gains, K = diag(k) */
    double gamma_theta[3]; /* parameter adaptation gains, Gamma = diag(gamma_theta) */
    double gamma_d;        /* disturbance-bound adaptation gain */
    double dhat_max;       /* projection bound of Dhat (keeps Dhat/eps inside RK4's stability) */
    double eps;            /* boundary layer of sat(e/eps) */
    double eta[3];         /* masking weights of F = M + sum eta_k z_k */
    unsigned nslaves;      /* 1 .. CM_SYNC_MAX_SLAVES */
    cm_sync_slave_config slave[CM_SYNC_MAX_SLAVES];
} cm_sync_config;

/* The documented defaults (docs/paper.md explains each): two slaves, delays 0.05 s and 0.1 s,
 * parameters 10-20 % off the master's, disturbances of amplitude 0.1, dt = 1e-3. */
void cm_sync_default_config(cm_sync_config *cfg);
/* Same without disturbances (amplitudes 0). */
void cm_sync_default_config_undisturbed(cm_sync_config *cfg);

typedef struct cm_sync_slave {
    double y[3], theta_hat[3], dhat;
    size_t lag; /* delay in steps dt */
} cm_sync_slave;

typedef struct cm_sync {
    cm_sync_config cfg;
    double t;                /* time of the slaves' state */
    uint64_t steps;          /* steps dt taken since t = 0 */
    double (*hist)[3];       /* ring of master states, one per half step */
    size_t hist_len;
    uint64_t hist_head;      /* half-step index of the newest master state */
    uint64_t hist_origin;    /* half-step index of t = 0 */
    cm_sync_slave s[CM_SYNC_MAX_SLAVES];
} cm_sync;

/* Ring entries (of double[3]) that cm_sync_init needs for this configuration; 0 when the
 * configuration is invalid. */
size_t cm_sync_history_len(const cm_sync_config *cfg);
/* Validates cfg, fills the master history and sets every slave to its initial state.
 * history has history_len >= cm_sync_history_len(cfg) entries.  0 or -1. */
int cm_sync_init(cm_sync *s, const cm_sync_config *cfg, double (*history)[3], size_t history_len);
/* Advances master and slaves by one step dt. */
void cm_sync_step(cm_sync *s);
/* Master state z(t + offset_steps * dt) for offset_steps in [-maxlag, 0] (t = current time). */
void cm_sync_master(const cm_sync *s, long offset_steps, double z[3]);
/* e_i(t) = y_i(t) - z(t - tau_i). */
void cm_sync_error(const cm_sync *s, unsigned i, double e[3]);
double cm_sync_error_norm(const cm_sync *s, unsigned i); /* Euclidean norm of e_i */

/* The analog channel, from the current state: message sample j rides on step j,
 *   cipher[j] = M[j] + sum_k eta_k z_k(t_j),   t_j = t + (j + 1) dt,
 * and slave i recovers it tau_i later as recovered[i * n + j] = cipher[j] - sum eta_k y_ik(t_j + tau_i).
 * mask[j] = sum_k eta_k z_k(t_j), the signal added to M[j]: it does not depend on the message,
 * so the cipher of any other message is M'[j] + mask[j] without running the system again.
 * Advances the system by n + max lag steps.  recovered and mask may be NULL.  0 or -1. */
int cm_analog_run(cm_sync *s, double *cipher, double *recovered, double *mask, const double *message,
                  size_t n);

#ifdef __cplusplus
}
#endif
#endif
