/* fuzz_tamper.cpp - libFuzzer harness for authentication: an attacker with write access to
 * the archive changes bytes of an encrypted object; decryption must refuse the object or give
 * back exactly the original pixels, never other ones.
 *
 * Input: 21 control bytes, then a Part 10 object (the seeds of fuzz_object with the control
 * bytes in front, tests/fuzz/make_seeds.py).  The object is encrypted in memory with the fixed
 * key, written, changed as the control bytes say, read back and decrypted:
 *   byte 0:  bits 0-1 the profile (0 lorenz-chacha20, 1 lorenz, 2 aes-256-gcm, 3 lorenz-chacha20),
 *            bits 2-3 how many changes (1 to 4), bits 4-5 where they fall: 0 anywhere, 1 before
 *            the pixel values (the header, the private block, the meta group), 2 the 2 KiB from
 *            the private creator "CHAOSMASK 1" on (the block's fields), 3 anywhere;
 *   bytes 1-20: four changes of 5 bytes each: a 32-bit little-endian position (modulo the
 *            region) and a byte: XOR it there, or 0 to cut the object at that position.
 * Invariants: decrypting the changed object either fails with a dicom.h code and a message, or
 * succeeds with every protected element (path, VR and value bytes) equal to the original's. */
#include "fuzz_dicom_common.h"

#include <algorithm>
#include <cstring>

namespace {

using fuzz::Object;

const size_t kControl = 21;

/* Where the changes fall in the written object. */
void region(const std::vector<uint8_t> &sealed, unsigned mode, size_t pixel_bytes, size_t &start, size_t &len)
{
    start = 0;
    len = sealed.size();
    if (mode == 1 && pixel_bytes < sealed.size()) {
        len = sealed.size() - pixel_bytes;
    } else if (mode == 2) {
        static const char creator[] = CM_DICOM_PRIVATE_CREATOR;
        auto it = std::search(sealed.begin(), sealed.end(), creator, creator + sizeof creator - 1);
        if (it != sealed.end()) {
            start = static_cast<size_t>(it - sealed.begin());
            len = std::min<size_t>(2048, sealed.size() - start);
        }
    }
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    fuzz::init_dicom();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int profiles[] = {CM_PROFILE_LORENZ_CHACHA20, CM_PROFILE_LORENZ, CM_PROFILE_AES_256_GCM,
                                   CM_PROFILE_LORENZ_CHACHA20};
    if (size < kControl)
        return 0;
    const uint8_t *ctl = data;
    data += kControl;
    size -= kControl;

    Object plain;
    if (fuzz::parse(plain, data, size) != 0)
        return 0;
    fuzz::Pixels original;
    if (!fuzz::pixels_of(plain.dataset(), original))
        return 0;
    uint8_t key[CM_KEYBYTES];
    fuzz_key(key);
    cm_dicom_encrypt_params ep = fuzz::encrypt_params(profiles[ctl[0] & 3], key, 1);
    cm_dicom_report rep;
    cm_error err = {0, ""};
    int rc = cm_dicom_encrypt(plain.obj, &ep, &rep, &err);
    fuzz::check_result("encrypt", rc, err);
    std::vector<uint8_t> sealed;
    if (rc != 0 || !fuzz::write(plain, sealed))
        return 0;

    size_t start, len;
    region(sealed, (ctl[0] >> 4) & 3, original.bytes.size(), start, len);
    const unsigned changes = ((ctl[0] >> 2) & 3) + 1;
    for (unsigned i = 0; i < changes && len > 0; ++i) {
        const uint8_t *c = ctl + 1 + 5 * i;
        uint32_t pos = static_cast<uint32_t>(c[0]) | static_cast<uint32_t>(c[1]) << 8 |
                       static_cast<uint32_t>(c[2]) << 16 | static_cast<uint32_t>(c[3]) << 24;
        size_t at = start + pos % len;
        if (at >= sealed.size())
            continue;
        if (c[4] == 0) {
            sealed.resize(at);
            len = std::min(len, at > start ? at - start : 0);
        } else {
            sealed[at] ^= c[4];
        }
    }

    Object changed;
    if (fuzz::parse(changed, sealed.data(), sealed.size()) != 0)
        return 0;
    cm_dicom_open_params op = fuzz::open_params();
    rc = cm_dicom_decrypt(changed.obj, &op, &rep, &err);
    fuzz::check_result("decrypt of a changed object", rc, err);
    if (rc != 0)
        return 0;
    fuzz::Pixels restored;
    FUZZ_CHECK(fuzz::pixels_of(changed.dataset(), restored), "a decrypted object whose pixel layout cannot be read");
    FUZZ_CHECK(restored.paths == original.paths, "a changed object decrypted with other protected elements (%zu, "
               "originally %zu)", restored.paths.size(), original.paths.size());
    FUZZ_CHECK(restored.bytes == original.bytes,
               "a changed object decrypted to other pixels: %zu bytes, originally %zu, first difference at %zu",
               restored.bytes.size(), original.bytes.size(),
               fuzz::first_difference(restored.bytes, original.bytes));
    return 0;
}
