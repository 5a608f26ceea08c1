/* phantoms.c - deterministic synthetic medical images (see phantoms.h).  Randomness comes from
 * a fixed-seed SplitMix64 and a lattice value noise, so every run draws the same pixels. */
#include "chaosmask/research/phantoms.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "splitmix.h"

static const char *const phantom_names[CM_PHANTOM_COUNT] = {"shepp-logan", "endoscopy",
                                                            "blood-smear", "skin-lesion"};

const char *cm_phantom_name(int kind)
{
    return kind >= 0 && kind < CM_PHANTOM_COUNT ? phantom_names[kind] : NULL;
}

int cm_phantom_from_name(const char *name)
{
    for (int k = 0; k < CM_PHANTOM_COUNT; k++)
        if (strcmp(name, phantom_names[k]) == 0)
            return k;
    return -1;
}

/* ---- deterministic randomness ---- */

static double rnd01(uint64_t *state)
{
    *state = cm_mix64(*state);
    return (double)(*state >> 11) * (1.0 / 9007199254740992.0);
}

static double lattice(int64_t x, int64_t y, uint64_t seed)
{
    uint64_t h = cm_mix64(seed ^ cm_mix64((uint64_t)x * 0x632be59bd9b4e019ull + (uint64_t)y));
    return (double)(h >> 11) * (1.0 / 9007199254740992.0);
}

/* Smooth value noise in [0, 1] at frequency 1/cell, summed over a few octaves. */
static double fractal_noise(double x, double y, double cell, int octaves, uint64_t seed)
{
    double sum = 0.0, amp = 1.0, norm = 0.0;
    for (int o = 0; o < octaves; o++) {
        double fx = x / cell, fy = y / cell;
        int64_t ix = (int64_t)floor(fx), iy = (int64_t)floor(fy);
        double tx = fx - (double)ix, ty = fy - (double)iy;
        tx = tx * tx * (3.0 - 2.0 * tx);
        ty = ty * ty * (3.0 - 2.0 * ty);
        double a = lattice(ix, iy, seed + (uint64_t)o), b = lattice(ix + 1, iy, seed + (uint64_t)o);
        double c = lattice(ix, iy + 1, seed + (uint64_t)o), d = lattice(ix + 1, iy + 1, seed + (uint64_t)o);
        sum += amp * ((a * (1 - tx) + b * tx) * (1 - ty) + (c * (1 - tx) + d * tx) * ty);
        norm += amp;
        amp *= 0.5;
        cell *= 0.5;
    }
    return sum / norm;
}

static double clamp01(double v)
{
    return v < 0.0 ? 0.0 : (v > 1.0 ? 1.0 : v);
}

static void put_rgb(cm_raster *r, size_t x, size_t y, double R, double G, double B)
{
    uint8_t *p = r->data + (y * r->width + x) * 3;
    p[0] = (uint8_t)lrint(255.0 * clamp01(R));
    p[1] = (uint8_t)lrint(255.0 * clamp01(G));
    p[2] = (uint8_t)lrint(255.0 * clamp01(B));
}

/* ---- Shepp-Logan ---- */

static void draw_shepp_logan(cm_raster *r)
{
    /* Modified Shepp-Logan (Toft): intensity, a, b, x0, y0, phi (degrees). */
    static const double E[10][6] = {
        {1.0, .69, .92, 0, 0, 0},         {-.8, .6624, .8740, 0, -.0184, 0},
        {-.2, .1100, .3100, .22, 0, -18}, {-.2, .1600, .4100, -.22, 0, 18},
        {.1, .2100, .2500, 0, .35, 0},    {.1, .0460, .0460, 0, .1, 0},
        {.1, .0460, .0460, 0, -.1, 0},    {.1, .0460, .0230, -.08, -.605, 0},
        {.1, .0230, .0230, 0, -.606, 0},  {.1, .0230, .0460, .06, -.605, 0}};
    double peak = (double)((1u << r->bits) - 1);
    size_t n = r->width;
    for (size_t py = 0; py < n; py++)
        for (size_t px = 0; px < n; px++) {
            /* 2 x 2 supersampling softens the edges the way a reconstructed slice does */
            double acc = 0.0;
            for (int s = 0; s < 4; s++) {
                double x = (2.0 * ((double)px + 0.25 + 0.5 * (s & 1)) / (double)n) - 1.0;
                double y = 1.0 - (2.0 * ((double)py + 0.25 + 0.5 * (s >> 1)) / (double)n);
                double v = 0.0;
                for (int e = 0; e < 10; e++) {
                    double phi = E[e][5] * 3.14159265358979323846 / 180.0;
                    double dx = x - E[e][3], dy = y - E[e][4];
                    double u = dx * cos(phi) + dy * sin(phi), w = -dx * sin(phi) + dy * cos(phi);
                    if (u * u / (E[e][1] * E[e][1]) + w * w / (E[e][2] * E[e][2]) <= 1.0)
                        v += E[e][0];
                }
                acc += v;
            }
            cm_raster_set(r, py * n + px, (unsigned)lrint(peak * clamp01(acc / 4.0)));
        }
}

/* ---- endoscopy ---- */

static void draw_endoscopy(cm_raster *r)
{
    size_t n = r->width;
    double c = (double)n / 2.0;
    for (size_t y = 0; y < n; y++)
        for (size_t x = 0; x < n; x++) {
            double dx = ((double)x - c * 1.1) / c, dy = ((double)y - c * 0.9) / c;
            double rad = sqrt(dx * dx + dy * dy), ang = atan2(dy, dx);
            double folds = 0.5 + 0.5 * sin(9.0 * rad + 2.0 * sin(3.0 * ang) +
                                           4.0 * fractal_noise((double)x, (double)y, 90, 3, 11));
            double tex = fractal_noise((double)x, (double)y, 40, 4, 12);
            double vessel = fabs(fractal_noise((double)x, (double)y, 60, 3, 13) - 0.5);
            double lumen = exp(-rad * rad / 0.04);           /* the dark opening ahead */
            double light = clamp01(1.15 - 0.55 * rad * rad); /* vignetting of the scope light */
            double R = (0.55 + 0.3 * folds + 0.15 * tex) * light;
            double G = (0.22 + 0.18 * folds + 0.1 * tex) * light;
            double B = (0.18 + 0.12 * folds + 0.08 * tex) * light;
            if (vessel < 0.012) { /* thin submucosal vessels */
                R *= 0.75;
                G *= 0.55;
                B *= 0.65;
            }
            R *= 1.0 - 0.85 * lumen;
            G *= 1.0 - 0.85 * lumen;
            B *= 1.0 - 0.85 * lumen;
            double spec = fractal_noise((double)x, (double)y, 25, 2, 14);
            if (spec > 0.8 && folds > 0.7) { /* wet specular highlights */
                double s = (spec - 0.8) * 5.0;
                R += s;
                G += s;
                B += s;
            }
            put_rgb(r, x, y, R, G, B);
        }
}

/* ---- blood smear ---- */

typedef struct cell {
    double x, y, rad, kind; /* kind < 0.08: leukocyte */
} cell;

static void draw_blood_smear(cm_raster *r)
{
    size_t n = r->width;
    enum { NCELLS = 90 };
    cell cells[NCELLS];
    uint64_t st = 0xb100d;
    double scale = (double)n / 300.0;
    for (int i = 0; i < NCELLS; i++) {
        cells[i].x = rnd01(&st) * (double)n;
        cells[i].y = rnd01(&st) * (double)n;
        cells[i].rad = (13.0 + 5.0 * rnd01(&st)) * scale;
        cells[i].kind = rnd01(&st);
        if (cells[i].kind < 0.06)
            cells[i].rad *= 1.5;
    }
    for (size_t y = 0; y < n; y++)
        for (size_t x = 0; x < n; x++) {
            double tex = fractal_noise((double)x, (double)y, 30, 3, 21);
            double R = 0.93 + 0.04 * tex, G = 0.86 + 0.04 * tex, B = 0.84 + 0.04 * tex;
            for (int i = 0; i < NCELLS; i++) {
                double dx = (double)x - cells[i].x, dy = (double)y - cells[i].y;
                double d = sqrt(dx * dx + dy * dy) / cells[i].rad;
                if (d > 1.0)
                    continue;
                double edge = clamp01((1.0 - d) * 6.0);
                if (cells[i].kind < 0.06) { /* leukocyte: lobed violet nucleus */
                    double lobes = 0.55 + 0.12 * sin(5.0 * atan2(dy, dx) + (double)i);
                    int nucleus = d < lobes;
                    double cr = nucleus ? 0.42 : 0.8, cg = nucleus ? 0.25 : 0.7, cb = nucleus ? 0.6 : 0.85;
                    R = R * (1 - edge) + cr * edge;
                    G = G * (1 - edge) + cg * edge;
                    B = B * (1 - edge) + cb * edge;
                } else { /* erythrocyte: biconcave disc, pale centre */
                    double pale = exp(-d * d / 0.18) * 0.35;
                    double cr = 0.86 + 0.1 * pale, cg = 0.42 + 0.35 * pale, cb = 0.45 + 0.3 * pale;
                    R = R * (1 - edge) + cr * edge * (0.95 + 0.05 * tex);
                    G = G * (1 - edge) + cg * edge;
                    B = B * (1 - edge) + cb * edge;
                }
            }
            put_rgb(r, x, y, R, G, B);
        }
}

/* ---- skin lesion ---- */

static void draw_skin_lesion(cm_raster *r)
{
    size_t n = r->width;
    double c = (double)n / 2.0;
    for (size_t y = 0; y < n; y++)
        for (size_t x = 0; x < n; x++) {
            double dx = ((double)x - c) / c, dy = ((double)y - c * 1.05) / c;
            double ang = atan2(dy, dx), rad = sqrt(dx * dx + dy * dy);
            double border = 0.52 + 0.06 * sin(3.0 * ang + 0.4) + 0.04 * sin(7.0 * ang + 1.3) +
                            0.08 * (fractal_noise(40.0 * cos(ang), 40.0 * sin(ang), 20, 3, 31) - 0.5);
            double skin = fractal_noise((double)x, (double)y, 50, 4, 32);
            double pores = fractal_noise((double)x, (double)y, 6, 2, 33);
            double R = 0.86 + 0.06 * skin - 0.04 * pores, G = 0.66 + 0.05 * skin - 0.04 * pores;
            double B = 0.56 + 0.05 * skin - 0.03 * pores;
            double inside = clamp01((border - rad) * 25.0);
            if (inside > 0.0) {
                double net = fractal_noise((double)x, (double)y, 12, 3, 34);
                double dark = 0.5 + 0.5 * clamp01(1.0 - rad / border) + 0.3 * (net - 0.5);
                double lr = 0.55 - 0.35 * dark, lg = 0.36 - 0.25 * dark, lb = 0.28 - 0.2 * dark;
                if (net > 0.68) { /* blue-grey veil */
                    lr += 0.08;
                    lg += 0.1;
                    lb += 0.16;
                }
                R = R * (1 - inside) + lr * inside;
                G = G * (1 - inside) + lg * inside;
                B = B * (1 - inside) + lb * inside;
            }
            put_rgb(r, x, y, R, G, B);
        }
}

int cm_phantom_make(cm_raster *r, int kind, size_t side, unsigned bits)
{
    if (kind < 0 || kind >= CM_PHANTOM_COUNT || side < 8)
        return -1;
    if (kind != CM_PHANTOM_SHEPP_LOGAN && bits != 8)
        return -1;
    unsigned channels = kind == CM_PHANTOM_SHEPP_LOGAN ? 1u : 3u;
    if (cm_raster_alloc(r, side, side, channels, bits) != 0)
        return -1;
    switch (kind) {
    case CM_PHANTOM_SHEPP_LOGAN: draw_shepp_logan(r); break;
    case CM_PHANTOM_ENDOSCOPY: draw_endoscopy(r); break;
    case CM_PHANTOM_BLOOD_SMEAR: draw_blood_smear(r); break;
    default: draw_skin_lesion(r); break;
    }
    return 0;
}
