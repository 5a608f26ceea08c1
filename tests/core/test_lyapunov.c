/* The key schedule only picks Lorenz parameters where the system is chaotic: every sampled
 * object's (sigma, rho, beta) lies in the box [9, 11) x [26, 32) x [2.4, 3.0), the box's
 * corners and centre have a largest Lyapunov exponent > 0.5 (Benettin's method, two
 * trajectories renormalised every step), and the sampled parameters spread over the box. */
#include <math.h>
#include <string.h>

#include "chaosmask/chaosmask.h"
#include "check.h"

static void rk4(double s, double r, double b, double h, double v[3])
{
    double k[4][3], t[3];
    for (int st = 0; st < 4; st++) {
        const double c = st == 0 ? 0.0 : (st == 3 ? h : h / 2);
        for (int i = 0; i < 3; i++)
            t[i] = v[i] + (st == 0 ? 0.0 : c * k[st - 1][i]);
        k[st][0] = s * (t[1] - t[0]);
        k[st][1] = t[0] * (r - t[2]) - t[1];
        k[st][2] = t[0] * t[1] - b * t[2];
    }
    for (int i = 0; i < 3; i++)
        v[i] += h / 6 * (k[0][i] + 2 * k[1][i] + 2 * k[2][i] + k[3][i]);
}

static double largest_lyapunov(double s, double r, double b)
{
    const double h = 0.01, d0 = 1e-8;
    double a[3] = {1, 1, 20};
    for (int n = 0; n < 5000; n++) /* onto the attractor */
        rk4(s, r, b, h, a);
    double c[3] = {a[0] + d0, a[1], a[2]}, sum = 0;
    const int steps = 60000;
    for (int n = 0; n < steps; n++) {
        rk4(s, r, b, h, a);
        rk4(s, r, b, h, c);
        double d = sqrt((c[0] - a[0]) * (c[0] - a[0]) + (c[1] - a[1]) * (c[1] - a[1]) + (c[2] - a[2]) * (c[2] - a[2]));
        sum += log(d / d0);
        for (int i = 0; i < 3; i++)
            c[i] = a[i] + (c[i] - a[i]) * d0 / d;
    }
    return sum / (steps * h);
}

int main(void)
{
    const double s_lo = 9, s_hi = 11, r_lo = 26, r_hi = 32, b_lo = 2.4, b_hi = 3.0;
    double smin = 1e9, smax = -1e9, rmin = 1e9, rmax = -1e9, bmin = 1e9, bmax = -1e9;
    for (int i = 0; i < 2000; i++) {
        uint8_t key[CM_KEYBYTES] = {0}, nonce[CM_NONCEBYTES] = {0};
        memcpy(key, &i, sizeof i);
        cm_object obj;
        CHECK_EQ_INT(cm_object_init(&obj, CM_PROFILE_LORENZ, key, nonce, NULL, 0), CM_OK);
        CHECK(obj.sigma >= s_lo && obj.sigma < s_hi);
        CHECK(obj.rho >= r_lo && obj.rho < r_hi);
        CHECK(obj.beta >= b_lo && obj.beta < b_hi);
        CHECK(obj.preamble_steps >= 128 && obj.preamble_steps < 384);
        smin = fmin(smin, obj.sigma), smax = fmax(smax, obj.sigma);
        rmin = fmin(rmin, obj.rho), rmax = fmax(rmax, obj.rho);
        bmin = fmin(bmin, obj.beta), bmax = fmax(bmax, obj.beta);
    }
    /* 2000 uniform samples reach within 1 % of each edge */
    CHECK(smin < s_lo + 0.02 * (s_hi - s_lo) && smax > s_hi - 0.02 * (s_hi - s_lo));
    CHECK(rmin < r_lo + 0.02 * (r_hi - r_lo) && rmax > r_hi - 0.02 * (r_hi - r_lo));
    CHECK(bmin < b_lo + 0.02 * (b_hi - b_lo) && bmax > b_hi - 0.02 * (b_hi - b_lo));
    double lmin = 1e9;
    for (int corner = 0; corner < 9; corner++) {
        double s = corner == 8 ? 10 : (corner & 1 ? s_hi : s_lo);
        double r = corner == 8 ? 29 : (corner & 2 ? r_hi : r_lo);
        double b = corner == 8 ? 2.7 : (corner & 4 ? b_hi : b_lo);
        double l = largest_lyapunov(s, r, b);
        printf("sigma=%.2f rho=%.2f beta=%.2f: largest Lyapunov exponent %.3f\n", s, r, b, l);
        lmin = fmin(lmin, l);
    }
    double classic = largest_lyapunov(10, 28, 8.0 / 3.0);
    printf("classic (10, 28, 8/3): %.3f (literature: 0.906)\n", classic);
    CHECK(fabs(classic - 0.906) < 0.05);
    CHECK(lmin > 0.5);
    return 0;
}
