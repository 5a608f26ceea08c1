/* lorenz.c - the Lorenz master integrated with fixed-step RK4 over CM_LANES lanes, and the
 * keystream words drawn from it.  Only +, -, * on IEEE-754 binary64 (no libm, no FMA: the
 * build uses -ffp-contract=off), so every compiler and optimisation level produces the same
 * bits; the known-answer vectors in testdata/ pin them. */
#include "internal.h"

/* One RK4 step of lane i: the new state, and the stage slopes the keystream also draws on. */
typedef struct rk4_step {
    double x, y, z;
    double k2x, k2y, k3z, k4y;
} rk4_step;

static inline __attribute__((always_inline)) void rk4_lane(const lorenz_lanes *lanes, unsigned i,
                                                           rk4_step *o)
{
    const double s = lanes->sigma, r = lanes->rho, b = lanes->beta;
    const double h = CM_STEP_H, hh = CM_STEP_H * 0.5, h6 = CM_STEP_H / 6.0;
    const double x = lanes->x[i], y = lanes->y[i], z = lanes->z[i];
    const double k1x = s * (y - x), k1y = x * (r - z) - y, k1z = x * y - b * z;
    const double x2 = x + hh * k1x, y2 = y + hh * k1y, z2 = z + hh * k1z;
    const double k2x = s * (y2 - x2), k2y = x2 * (r - z2) - y2, k2z = x2 * y2 - b * z2;
    const double x3 = x + hh * k2x, y3 = y + hh * k2y, z3 = z + hh * k2z;
    const double k3x = s * (y3 - x3), k3y = x3 * (r - z3) - y3, k3z = x3 * y3 - b * z3;
    const double x4 = x + h * k3x, y4 = y + h * k3y, z4 = z + h * k3z;
    const double k4x = s * (y4 - x4), k4y = x4 * (r - z4) - y4, k4z = x4 * y4 - b * z4;
    o->x = x + h6 * ((k1x + k4x) + 2.0 * (k2x + k3x));
    o->y = y + h6 * ((k1y + k4y) + 2.0 * (k2y + k3y));
    o->z = z + h6 * ((k1z + k4z) + 2.0 * (k2z + k3z));
    o->k2x = k2x;
    o->k2y = k2y;
    o->k3z = k3z;
    o->k4y = k4y;
}

static inline __attribute__((always_inline)) uint32_t lo32(double d)
{
    uint64_t b;
    memcpy(&b, &d, 8);
    return (uint32_t)b;
}

static inline __attribute__((always_inline)) uint32_t rotl32(uint32_t v, unsigned r)
{
    return (v << r) | (v >> (32 - r));
}

/* Word j of lane i goes to out[4 * (j * CM_LANES + i)]. */
static inline __attribute__((always_inline)) void store_word(uint8_t *out, unsigned j, unsigned i, uint32_t v)
{
    const uint32_t w = cm_fmix32(v);
    memcpy(out + 4 * (j * CM_LANES + i), &w, 4);
}

CM_HOT static void advance_lanes(lorenz_lanes *lanes, size_t steps)
{
    for (size_t n = 0; n < steps; n++) {
        for (unsigned i = 0; i < CM_LANES; i++) {
            rk4_step o;
            rk4_lane(lanes, i, &o);
            lanes->x[i] = o.x;
            lanes->y[i] = o.y;
            lanes->z[i] = o.z;
        }
    }
}

/* One step with keystream: eight words per lane.  Their sources are the low 32 mantissa bits
 * - the bits chaotic rounding makes unpredictable - of the new state x, y, z, of the masking
 * signal s = eta . (x, y, z), and of four RK4 stage slopes; each word crosses two sources and
 * goes through fmix32. */
CM_HOT static void keystream_lanes(lorenz_lanes *lanes, uint8_t *out, size_t nblocks)
{
    for (size_t n = 0; n < nblocks; n++, out += CM_BLOCKBYTES) {
        for (unsigned i = 0; i < CM_LANES; i++) {
            rk4_step o;
            rk4_lane(lanes, i, &o);
            const double sg = lanes->eta[0] * o.x + lanes->eta[1] * o.y + lanes->eta[2] * o.z;
            lanes->x[i] = o.x;
            lanes->y[i] = o.y;
            lanes->z[i] = o.z;
            const uint32_t X = lo32(o.x), Y = lo32(o.y), Z = lo32(o.z), S = lo32(sg);
            const uint32_t A = lo32(o.k2x), B = lo32(o.k2y), C = lo32(o.k3z), D = lo32(o.k4y);
            store_word(out, 0, i, X + rotl32(S, 7));
            store_word(out, 1, i, Y + rotl32(X, 13));
            store_word(out, 2, i, Z + rotl32(Y, 19));
            store_word(out, 3, i, S + rotl32(Z, 25));
            store_word(out, 4, i, A + rotl32(D, 7));
            store_word(out, 5, i, B + rotl32(A, 13));
            store_word(out, 6, i, C + rotl32(B, 19));
            store_word(out, 7, i, D + rotl32(C, 25));
        }
    }
}

/* Plain wrappers: clang exports a cloned function only under its internal ifunc name. */
void lorenz_advance(lorenz_lanes *lanes, size_t steps) { advance_lanes(lanes, steps); }

void lorenz_keystream_blocks(lorenz_lanes *lanes, uint8_t *out, size_t nblocks)
{
    keystream_lanes(lanes, out, nblocks);
}
