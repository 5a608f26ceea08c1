/* The key schedule only picks Lorenz parameters where the system is chaotic.
 *   - every sampled object's (sigma, rho, beta) lies in its format's box and the samples
 *     spread over it;
 *   - the format-2 box's corners and centre have a largest Lyapunov exponent > 0.5
 *     (Benettin's method, two trajectories renormalised every step) from every one of several
 *     start points, among them points next to the fixed points C+- and next to the origin: a
 *     coexisting stable attractor would show as a start point that never becomes chaotic;
 *   - that check has teeth: at format 1's worst corner (sigma 9, rho 26, beta -> 3, below the
 *     Hopf value rho_H = 27) a start next to C+- stays there (exponent <= 0) while a generic
 *     start is chaotic - exactly what a single start point cannot see;
 *   - the classic (10, 28, 8/3) gives the literature's 0.906. */
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

static double largest_lyapunov(double s, double r, double b, const double start[3])
{
    const double h = 0.01, d0 = 1e-8;
    double a[3] = {start[0], start[1], start[2]};
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

enum { STARTS = 6 };

/* Generic points, one next to the origin, and points next to C+ and C-. */
static void start_points(double r, double b, double out[STARTS][3])
{
    const double c = sqrt(b * (r - 1));
    const double pts[STARTS][3] = {{1, 1, 20}, {-8, 7, 30}, {0.1, -0.1, 5},
                                   {c + 0.1, c, r - 1}, {-c, -c - 0.1, r - 1}, {c + 1e-3, c, r - 1}};
    memcpy(out, pts, sizeof pts);
}

/* The smallest exponent over the start points (and the largest, for the defect check). */
static void exponents(double s, double r, double b, double *lo, double *hi)
{
    double pts[STARTS][3];
    start_points(r, b, pts);
    *lo = 1e9, *hi = -1e9;
    for (int k = 0; k < STARTS; k++) {
        double l = largest_lyapunov(s, r, b, pts[k]);
        *lo = fmin(*lo, l);
        *hi = fmax(*hi, l);
    }
}

typedef struct box {
    double s_lo, s_hi, r_lo, r_hi, b_lo, b_hi;
} box;

static void check_key_schedule(unsigned version, const box *bx)
{
    double smin = 1e9, smax = -1e9, rmin = 1e9, rmax = -1e9, bmin = 1e9, bmax = -1e9;
    for (int i = 0; i < 2000; i++) {
        uint8_t key[CM_KEYBYTES] = {0}, nonce[CM_NONCEBYTES] = {0};
        memcpy(key, &i, sizeof i);
        cm_object obj;
        CHECK_EQ_INT(cm_object_init_version(&obj, version, CM_PROFILE_LORENZ, key, nonce, NULL, 0), CM_OK);
        CHECK(obj.sigma >= bx->s_lo && obj.sigma < bx->s_hi);
        CHECK(obj.rho >= bx->r_lo && obj.rho < bx->r_hi);
        CHECK(obj.beta >= bx->b_lo && obj.beta < bx->b_hi);
        CHECK(obj.preamble_steps >= 128 && obj.preamble_steps < 384);
        smin = fmin(smin, obj.sigma), smax = fmax(smax, obj.sigma);
        rmin = fmin(rmin, obj.rho), rmax = fmax(rmax, obj.rho);
        bmin = fmin(bmin, obj.beta), bmax = fmax(bmax, obj.beta);
    }
    /* 2000 uniform samples reach within 2 % of each edge */
    CHECK(smin < bx->s_lo + 0.02 * (bx->s_hi - bx->s_lo) && smax > bx->s_hi - 0.02 * (bx->s_hi - bx->s_lo));
    CHECK(rmin < bx->r_lo + 0.02 * (bx->r_hi - bx->r_lo) && rmax > bx->r_hi - 0.02 * (bx->r_hi - bx->r_lo));
    CHECK(bmin < bx->b_lo + 0.02 * (bx->b_hi - bx->b_lo) && bmax > bx->b_hi - 0.02 * (bx->b_hi - bx->b_lo));
    printf("format %u: 2000 objects inside sigma [%g, %g) rho [%g, %g) beta [%g, %g)\n", version, bx->s_lo,
           bx->s_hi, bx->r_lo, bx->r_hi, bx->b_lo, bx->b_hi);
}

int main(void)
{
    const box v1 = {9, 11, 26, 32, 2.4, 3.0}, v2 = {9, 11, 30, 34, 2.4, 2.8};
    check_key_schedule(1, &v1);
    check_key_schedule(2, &v2);

    double lmin = 1e9;
    for (int corner = 0; corner < 9; corner++) {
        double s = corner == 8 ? (v2.s_lo + v2.s_hi) / 2 : (corner & 1 ? v2.s_hi : v2.s_lo);
        double r = corner == 8 ? (v2.r_lo + v2.r_hi) / 2 : (corner & 2 ? v2.r_hi : v2.r_lo);
        double b = corner == 8 ? (v2.b_lo + v2.b_hi) / 2 : (corner & 4 ? v2.b_hi : v2.b_lo);
        double lo, hi;
        exponents(s, r, b, &lo, &hi);
        printf("format 2 sigma=%.2f rho=%.2f beta=%.2f: largest Lyapunov exponent %.3f..%.3f over %d starts\n", s, r,
               b, lo, hi, STARTS);
        lmin = fmin(lmin, lo);
    }
    CHECK(lmin > 0.5);

    /* format 1's worst corner: the fixed points are stable there */
    double lo, hi;
    exponents(9.0, 26.0, 2.999, &lo, &hi);
    printf("format 1 sigma=9.00 rho=26.00 beta=2.999 (rho_H 27.00): %.3f..%.3f over %d starts\n", lo, hi, STARTS);
    CHECK(lo <= 0.0);
    CHECK(hi > 0.5);

    const double generic[3] = {1, 1, 20};
    double classic = largest_lyapunov(10, 28, 8.0 / 3.0, generic);
    printf("classic (10, 28, 8/3): %.3f (literature: 0.906)\n", classic);
    CHECK(fabs(classic - 0.906) < 0.05);
    return 0;
}
