/* detect.cpp - statistical test for pixel data that is a mask already (detect.h). */
#include "detect.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <type_traits>

namespace chaosmask {
namespace {

const size_t kSampleBytes = 256 * 1024;
const size_t kMinBytes = 16 * 1024;

/* Little-endian words of one width, loaded without a call (this runs on every encrypt). */
template <unsigned W> uint32_t word_at(const uint8_t *p)
{
    if (W == 1)
        return p[0];
    if (W == 2)
        return static_cast<uint32_t>(p[0] | p[1] << 8);
    return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 |
           static_cast<uint32_t>(p[3]) << 24;
}

/* Fraction of words with bits above High Bit that are not the sign extension. */
template <unsigned W> double above_high_bit(const PixelWords &px, size_t n)
{
    const unsigned bits = 8 * W;
    if (px.high_bit + 1 >= bits || W < 2)
        return 0.0;
    const uint32_t stored = (2u << px.high_bit) - 1;
    const uint32_t upper = (W == 4 ? 0xFFFFFFFFu : (1u << bits) - 1) & ~stored;
    size_t bad = 0, words = n / W;
    for (size_t i = 0; i < words; ++i) {
        uint32_t v = word_at<W>(px.data + i * W);
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

/* Pearson correlation of word i and word i+1 (sums in integers: exact, and no conversions in
 * the loop; 256 KiB of words cannot overflow them). */
template <unsigned W> double neighbour_correlation(const PixelWords &px, size_t n)
{
    size_t words = n / W;
    if (words < 2)
        return 1.0;
    /* 1- and 2-byte words: 64-bit sums hold 2^18 squares of 2^32 */
    typedef typename std::conditional<(W < 4), uint64_t, unsigned __int128>::type Sum;
    Sum sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
    uint64_t x = word_at<W>(px.data);
    for (size_t i = 0; i + 1 < words; ++i) {
        uint64_t y = word_at<W>(px.data + (i + 1) * W);
        sx += x, sy += y, sxx += x * x, syy += y * y, sxy += x * y;
        x = y;
    }
    double m = static_cast<double>(words - 1);
    double mx = static_cast<double>(sx) / m, my = static_cast<double>(sy) / m;
    double cov = static_cast<double>(sxy) / m - mx * my;
    double vx = static_cast<double>(sxx) / m - mx * mx, vy = static_cast<double>(syy) / m - my * my;
    return vx > 0 && vy > 0 ? cov / std::sqrt(vx * vy) : 1.0;
}

template <unsigned W> void measure(const PixelWords &px, size_t n, double &above, double &r)
{
    above = above_high_bit<W>(px, n);
    r = above > 0.25 ? 0.0 : neighbour_correlation<W>(px, n);
}

} // namespace

bool looks_masked(const PixelWords &px, std::string &why)
{
    size_t n = px.len < kSampleBytes ? px.len : kSampleBytes;
    if (n < kMinBytes || (px.word_bytes != 1 && px.word_bytes != 2 && px.word_bytes != 4))
        return false;
    char buf[200];
    double above = 0, r = 0;
    if (px.word_bytes == 1)
        measure<1>(px, n, above, r);
    else if (px.word_bytes == 2)
        measure<2>(px, n, above, r);
    else
        measure<4>(px, n, above, r);
    if (above > 0.25) {
        snprintf(buf, sizeof buf, "%.0f %% of the words have bits set above High Bit %u", 100.0 * above,
                 px.high_bit);
        why = buf;
        return true;
    }
    if (std::fabs(r) >= 0.02) /* an acquired image: its neighbours correlate */
        return false;
    double h = byte_entropy(px.data, n);
    if (h > 7.99) {
        snprintf(buf, sizeof buf, "byte entropy %.4f bits of 8 and neighbouring-word correlation %.4f", h, r);
        why = buf;
        return true;
    }
    return false;
}

} // namespace chaosmask
