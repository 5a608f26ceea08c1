/* detect.h - does native pixel data look like a ChaosMask mask already?  Encrypting a mask
 * again (an encrypted object whose private block a router or de-identifier stripped) would
 * lose the object for good, so encrypt refuses what this finds unless forced. */
#ifndef CHAOSMASK_DICOM_DETECT_H
#define CHAOSMASK_DICOM_DETECT_H

#include <cstddef>
#include <cstdint>
#include <string>

namespace chaosmask {

struct PixelWords {
    const uint8_t *data;     /* native pixel words, little-endian */
    size_t len;
    unsigned word_bytes;     /* 1, 2 or 4 */
    unsigned bits_stored, high_bit;
    bool is_signed;
};

/* true when the words look masked; why says what was measured.  Looks at the first 256 KiB;
 * below 16 KiB there is too little to tell and the answer is false.  Two signs, either one
 * enough: (1) bits above High Bit set in more than a quarter of the words (Bits Stored <
 * Bits Allocated; for signed data, anything but the sign extension), (2) byte entropy within
 * 0.01 bit of 8 and no correlation between neighbouring words (|r| < 0.02), which no
 * acquired image shows. */
bool looks_masked(const PixelWords &px, std::string &why);

} // namespace chaosmask

#endif
