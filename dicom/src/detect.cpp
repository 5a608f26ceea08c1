/* detect.cpp - statistical test for pixel data that is a mask already (detect.h). */
#include "detect.h"

#include <cmath>
#include <cstdio>
#include <cstring>

namespace chaosmask {
namespace {

const size_t kSampleBytes = 256 * 1024;
const size_t kMinBytes = 16 * 1024;

uint32_t word_at(const uint8_t *p, unsigned w)
{
    uint32_t v = 0;
    memcpy(&v, p, w);
    return v;
}

/* Fraction of words with bits above High Bit that are not the sign extension. */
double above_high_bit(const PixelWords &px, size_t n)
{
    const unsigned bits = 8 * px.word_bytes;
    if (px.high_bit + 1 >= bits || px.word_bytes < 2)
        return 0.0;
    const uint32_t upper = (px.word_bytes == 4 ? 0xFFFFFFFFu : (1u << bits) - 1) & ~((2u << px.high_bit) - 1);
    size_t bad = 0, words = n / px.word_bytes;
    for (size_t i = 0; i < words; ++i) {
        uint32_t v = word_at(px.data + i * px.word_bytes, px.word_bytes) & (upper | ((2u << px.high_bit) - 1));
        uint32_t top = v & upper;
        bool sign = (v >> px.high_bit) & 1u;
        bad += px.is_signed ? (top != 0 && top != upper) || (top == upper) != sign : top != 0;
    }
    return words ? static_cast<double>(bad) / static_cast<double>(words) : 0.0;
}

double byte_entropy(const uint8_t *p, size_t n)
{
    size_t hist[256] = {0};
    for (size_t i = 0; i < n; ++i)
        hist[p[i]]++;
    double h = 0;
    for (size_t v = 0; v < 256; ++v)
        if (hist[v]) {
            double q = static_cast<double>(hist[v]) / static_cast<double>(n);
            h -= q * std::log2(q);
        }
    return h;
}

/* Pearson correlation of word i and word i+1. */
double neighbour_correlation(const PixelWords &px, size_t n)
{
    size_t words = n / px.word_bytes;
    if (words < 2)
        return 1.0;
    double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
    for (size_t i = 0; i + 1 < words; ++i) {
        double x = word_at(px.data + i * px.word_bytes, px.word_bytes);
        double y = word_at(px.data + (i + 1) * px.word_bytes, px.word_bytes);
        sx += x, sy += y, sxx += x * x, syy += y * y, sxy += x * y;
    }
    double m = static_cast<double>(words - 1);
    double cov = sxy / m - (sx / m) * (sy / m);
    double vx = sxx / m - (sx / m) * (sx / m), vy = syy / m - (sy / m) * (sy / m);
    return vx > 0 && vy > 0 ? cov / std::sqrt(vx * vy) : 1.0;
}

} // namespace

bool looks_masked(const PixelWords &px, std::string &why)
{
    size_t n = px.len < kSampleBytes ? px.len : kSampleBytes;
    if (n < kMinBytes || (px.word_bytes != 1 && px.word_bytes != 2 && px.word_bytes != 4))
        return false;
    char buf[200];
    double above = above_high_bit(px, n);
    if (above > 0.25) {
        snprintf(buf, sizeof buf, "%.0f %% of the words have bits set above High Bit %u", 100.0 * above,
                 px.high_bit);
        why = buf;
        return true;
    }
    double h = byte_entropy(px.data, n), r = neighbour_correlation(px, n);
    if (h > 7.99 && std::fabs(r) < 0.02) {
        snprintf(buf, sizeof buf, "byte entropy %.4f bits of 8 and neighbouring-word correlation %.4f", h, r);
        why = buf;
        return true;
    }
    return false;
}

} // namespace chaosmask
