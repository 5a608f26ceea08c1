/* lorenz.c - the Lorenz master integrated with fixed-step RK4 over CM_LANES lanes, and the
 * keystream words drawn from it.  Only +, -, * on IEEE-754 binary64 (no libm, no FMA: the
 * build uses -ffp-contract=off), so every compiler and optimisation level produces the same
 * bits; the known-answer vectors in testdata/ pin them. */
#include "internal.h"

#define LORENZ_RK4_BODY                                                                   \
    const double s = lanes->sigma, r = lanes->rho, b = lanes->beta;                       \
    const double h = CM_STEP_H, hh = CM_STEP_H * 0.5, h6 = CM_STEP_H / 6.0;               \
    for (unsigned i = 0; i < CM_LANES; i++) {                                              \
        const double x = lanes->x[i], y = lanes->y[i], z = lanes->z[i];                   \
        const double k1x = s * (y - x), k1y = x * (r - z) - y, k1z = x * y - b * z;        \
        const double x2 = x + hh * k1x, y2 = y + hh * k1y, z2 = z + hh * k1z;              \
        const double k2x = s * (y2 - x2), k2y = x2 * (r - z2) - y2, k2z = x2 * y2 - b * z2; \
        const double x3 = x + hh * k2x, y3 = y + hh * k2y, z3 = z + hh * k2z;              \
        const double k3x = s * (y3 - x3), k3y = x3 * (r - z3) - y3, k3z = x3 * y3 - b * z3; \
        const double x4 = x + h * k3x, y4 = y + h * k3y, z4 = z + h * k3z;                 \
        const double k4x = s * (y4 - x4), k4y = x4 * (r - z4) - y4, k4z = x4 * y4 - b * z4; \
        lanes->x[i] = x + h6 * ((k1x + k4x) + 2.0 * (k2x + k3x));                          \
        lanes->y[i] = y + h6 * ((k1y + k4y) + 2.0 * (k2y + k3y));                          \
        lanes->z[i] = z + h6 * ((k1z + k4z) + 2.0 * (k2z + k3z));                          \
    }

/* One step with keystream: eight words per lane.  Their sources are the low 32 mantissa
 * bits - the bits chaotic rounding makes unpredictable - of the new state x, y, z, of the
 * masking signal s = eta . (x, y, z), and of four RK4 stage slopes; each word crosses two
 * sources and goes through fmix32. */
#define ROTL32(v, r) (((v) << (r)) | ((v) >> (32 - (r))))
#define LO32(d) lo32_bits(d)
/* word j of lane i goes to out[4 * (j * CM_LANES + i)] */
#define STORE_WORD(j, i, expr)                                                             \
    do {                                                                                   \
        const uint32_t word_ = cm_fmix32(expr);                                            \
        memcpy(out + 4 * ((j) * CM_LANES + (i)), &word_, 4);                               \
    } while (0)

static inline __attribute__((always_inline)) uint32_t lo32_bits(double d)
{
    uint64_t b;
    memcpy(&b, &d, 8);
    return (uint32_t)b;
}

#define LORENZ_KEYSTREAM_STEP                                                              \
    const double s = lanes->sigma, r = lanes->rho, b = lanes->beta;                       \
    const double h = CM_STEP_H, hh = CM_STEP_H * 0.5, h6 = CM_STEP_H / 6.0;               \
    for (unsigned i = 0; i < CM_LANES; i++) {                                              \
        const double x = lanes->x[i], y = lanes->y[i], z = lanes->z[i];                   \
        const double k1x = s * (y - x), k1y = x * (r - z) - y, k1z = x * y - b * z;        \
        const double x2 = x + hh * k1x, y2 = y + hh * k1y, z2 = z + hh * k1z;              \
        const double k2x = s * (y2 - x2), k2y = x2 * (r - z2) - y2, k2z = x2 * y2 - b * z2; \
        const double x3 = x + hh * k2x, y3 = y + hh * k2y, z3 = z + hh * k2z;              \
        const double k3x = s * (y3 - x3), k3y = x3 * (r - z3) - y3, k3z = x3 * y3 - b * z3; \
        const double x4 = x + h * k3x, y4 = y + h * k3y, z4 = z + h * k3z;                 \
        const double k4x = s * (y4 - x4), k4y = x4 * (r - z4) - y4, k4z = x4 * y4 - b * z4; \
        const double nx = x + h6 * ((k1x + k4x) + 2.0 * (k2x + k3x));                      \
        const double ny = y + h6 * ((k1y + k4y) + 2.0 * (k2y + k3y));                      \
        const double nz = z + h6 * ((k1z + k4z) + 2.0 * (k2z + k3z));                      \
        const double sg = lanes->eta[0] * nx + lanes->eta[1] * ny + lanes->eta[2] * nz;    \
        lanes->x[i] = nx;                                                                  \
        lanes->y[i] = ny;                                                                  \
        lanes->z[i] = nz;                                                                  \
        const uint32_t X = LO32(nx), Y = LO32(ny), Z = LO32(nz), S = LO32(sg);             \
        const uint32_t A = LO32(k2x), B = LO32(k2y), C = LO32(k3z), D = LO32(k4y);         \
        STORE_WORD(0, i, X + ROTL32(S, 7));                                             \
        STORE_WORD(1, i, Y + ROTL32(X, 13));                                            \
        STORE_WORD(2, i, Z + ROTL32(Y, 19));                                            \
        STORE_WORD(3, i, S + ROTL32(Z, 25));                                            \
        STORE_WORD(4, i, A + ROTL32(D, 7));                                             \
        STORE_WORD(5, i, B + ROTL32(A, 13));                                            \
        STORE_WORD(6, i, C + ROTL32(B, 19));                                            \
        STORE_WORD(7, i, D + ROTL32(C, 25));                                            \
    }


CM_HOT static void advance_lanes(lorenz_lanes *lanes, size_t steps)
{
    for (size_t n = 0; n < steps; n++) {
        LORENZ_RK4_BODY
    }
}

CM_HOT static void keystream_lanes(lorenz_lanes *lanes, uint8_t *out, size_t nblocks)
{
    for (size_t n = 0; n < nblocks; n++, out += CM_BLOCKBYTES) {
        LORENZ_KEYSTREAM_STEP
    }
}

/* Plain wrappers: clang exports a cloned function only under its internal ifunc name. */
void lorenz_advance(lorenz_lanes *lanes, size_t steps) { advance_lanes(lanes, steps); }

void lorenz_keystream_blocks(lorenz_lanes *lanes, uint8_t *out, size_t nblocks)
{
    keystream_lanes(lanes, out, nblocks);
}
