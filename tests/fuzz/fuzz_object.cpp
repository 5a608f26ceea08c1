/* fuzz_object.cpp - libFuzzer harness for a DICOM object in memory through every operation a
 * file meets (dicom.h): cm_dicom_parse (the structure check, then DCMTK), inspect, verify,
 * decrypt, rebind and encrypt, with the fixed key of fuzz_common.h.  The input is a Part 10
 * file; the seeds (tests/fuzz/make_seeds.py) are plain objects of every transfer syntax and
 * layout and the same objects encrypted with the fixed key.
 *
 * Invariants, besides no crash, leak or undefined behaviour:
 *  - every call returns 0 or a code dicom.h documents, err holds the same code and a message;
 *  - inspect never fails (a damaged block or pixel layout is reported in the info), and what it
 *    reports is self-consistent;
 *  - an encrypted object: verify and decrypt reach the same verdict; a decrypted object has no
 *    ChaosMask block left; after a successful rebind the object verifies; encrypt never
 *    succeeds (an authentic block is "already encrypted", any other is refused);
 *  - round trip: whatever encrypts is written, read back, decrypts, and the decrypted object is
 *    written byte for byte as the object before encryption (the plain input, or the decrypted
 *    one) - every element, the pixels, the meta header.
 * The profile (lorenz, lorenz-chacha20, aes-256-gcm) is chosen by the input size. */
#include "fuzz_dicom_common.h"

#include <cstring>

namespace {

using fuzz::Object;

void check_info(const cm_dicom_info &info)
{
    FUZZ_CHECK(info.encrypted == 0 || info.encrypted == 1, "inspect: encrypted = %d", info.encrypted);
    FUZZ_CHECK(memchr(info.profile, '\0', sizeof info.profile) && memchr(info.key_id, '\0', sizeof info.key_id) &&
                   memchr(info.block_message, '\0', sizeof info.block_message) &&
                   memchr(info.layout_message, '\0', sizeof info.layout_message),
               "inspect: an unterminated string");
    if (!info.encrypted)
        FUZZ_CHECK(info.block_error == 0 && info.key_id[0] == '\0' && info.profile[0] == '\0',
                   "inspect: block fields set on an object without a block");
    if (info.encrypted && info.block_error == 0) {
        FUZZ_CHECK(cm_profile_from_name(info.profile) > 0, "inspect: an intact block with profile \"%s\"", info.profile);
        FUZZ_CHECK(info.key_id[0] != '\0', "inspect: an intact block without a key id");
        FUZZ_CHECK(info.block_version == 1 || info.block_version == 2, "inspect: block version %u", info.block_version);
    }
    FUZZ_CHECK(info.block_error == 0 || (info.block_error < 0 && info.block_message[0] != '\0'),
               "inspect: block error %d without a message", info.block_error);
    FUZZ_CHECK(info.layout_error == 0 || (info.layout_error < 0 && info.layout_message[0] != '\0'),
               "inspect: layout error %d without a message", info.layout_error);
    if (info.layout_error == 0 && info.element_count <= CM_DICOM_INFO_MAX_ELEMENTS) {
        uint64_t segments = 0;
        for (size_t i = 0; i < info.element_count; ++i) {
            const cm_dicom_element_info &el = info.elements[i];
            FUZZ_CHECK(memchr(el.path, '\0', sizeof el.path) && el.path[0] != '\0', "inspect: element %zu has no path",
                       i);
            FUZZ_CHECK(el.word_bytes == 1 || el.word_bytes == 2 || el.word_bytes == 4 || el.word_bytes == 8,
                       "inspect: %s has word size %u", el.path, el.word_bytes);
            FUZZ_CHECK(el.segments >= 1 || el.length == 0, "inspect: %s has %llu bytes in no segment", el.path,
                       (unsigned long long)el.length);
            segments += el.segments;
        }
        FUZZ_CHECK(segments == info.segments, "inspect: %u segments in total, elements say %llu", info.segments,
                   (unsigned long long)segments);
    }
}

int inspect(Object &o, cm_dicom_info &info)
{
    cm_error err = {0, ""};
    int rc = cm_dicom_inspect(o.obj, &info, &err);
    FUZZ_CHECK(rc == 0, "inspect failed: %d %s", rc, err.msg);
    check_info(info);
    return rc;
}

/* plain (a Part 10 object without a ChaosMask block, parsed unchanged as ref, inspected as
 * plain_info) encrypted, written, read back, decrypted, written: the same bytes as ref written. */
void round_trip(const uint8_t *plain, size_t len, int profile, Object &ref, const cm_dicom_info &plain_info)
{
    std::vector<uint8_t> before;
    if (!fuzz::write(ref, before))
        return; /* DCMTK cannot write this object even unchanged: nothing to compare with */

    uint8_t key[CM_KEYBYTES];
    fuzz_key(key);
    Object obj;
    FUZZ_CHECK(fuzz::parse(obj, plain, len) == 0, "round trip: second parse failed");
    cm_dicom_encrypt_params ep = fuzz::encrypt_params(profile, key, 0);
    cm_dicom_report rep;
    cm_error err = {0, ""};
    int rc = cm_dicom_encrypt(obj.obj, &ep, &rep, &err);
    fuzz::check_result("encrypt", rc, err);
    if (rc == CM_DICOM_EMASKED) { /* pixels that look like noise: what --force is for */
        Object again;
        FUZZ_CHECK(fuzz::parse(again, plain, len) == 0, "round trip: third parse failed");
        std::swap(obj.obj, again.obj);
        ep.force = 1;
        rc = cm_dicom_encrypt(obj.obj, &ep, &rep, &err);
        fuzz::check_result("encrypt --force", rc, err);
    }
    FUZZ_CHECK(rc != CM_DICOM_EENCRYPTED && rc != CM_DICOM_EIDENTITY && rc != CM_DICOM_EAUTH,
               "encrypt of an object without a block returned %d (%s)", rc, err.msg);
    if (rc != 0) {
        FUZZ_CHECK(plain_info.layout_error != 0 || rc != CM_DICOM_ENOTHING || plain_info.element_count == 0,
                   "encrypt: nothing to protect, but inspect found %zu elements", plain_info.element_count);
        return;
    }
    FUZZ_CHECK(plain_info.layout_error == 0, "encrypt succeeded where inspect reported a layout error: %s",
               plain_info.layout_message);

    std::vector<uint8_t> sealed;
    FUZZ_CHECK(fuzz::write(obj, sealed), "the encrypted object cannot be written");
    Object back;
    FUZZ_CHECK(fuzz::parse(back, sealed.data(), sealed.size()) == 0, "the encrypted object does not parse");
    cm_dicom_info info;
    inspect(back, info);
    FUZZ_CHECK(info.encrypted && info.block_error == 0 && info.layout_error == 0,
               "the encrypted object inspects as encrypted=%d block_error=%d (%s) layout_error=%d (%s)",
               info.encrypted, info.block_error, info.block_message, info.layout_error, info.layout_message);
    FUZZ_CHECK(info.element_count == plain_info.element_count, "encrypted: %zu protected elements, plain %zu",
               info.element_count, plain_info.element_count);
    cm_dicom_open_params op = fuzz::open_params();
    rc = cm_dicom_decrypt(back.obj, &op, &rep, &err);
    FUZZ_CHECK(rc == 0, "what was encrypted does not decrypt: %d %s", rc, err.msg);
    std::vector<uint8_t> after;
    FUZZ_CHECK(fuzz::write(back, after), "the decrypted object cannot be written");
    FUZZ_CHECK(after == before, "decrypt(encrypt(x)) != x: %zu bytes written, %zu before, first difference at %zu",
               after.size(), before.size(), fuzz::first_difference(after, before));
}

/* An object with a ChaosMask block: verify, decrypt and rebind, each on its own parse. */
void encrypted(const uint8_t *data, size_t size, int profile)
{
    cm_dicom_open_params op = fuzz::open_params();
    cm_dicom_report rep;
    cm_error verr = {0, ""}, derr = {0, ""};
    Object v, d;
    FUZZ_CHECK(fuzz::parse(v, data, size) == 0 && fuzz::parse(d, data, size) == 0, "a second parse failed");
    int rv = cm_dicom_verify(v.obj, &op, &rep, &verr);
    fuzz::check_result("verify", rv, verr);
    int rd = cm_dicom_decrypt(d.obj, &op, &rep, &derr);
    fuzz::check_result("decrypt", rd, derr);
    FUZZ_CHECK(rv == rd, "verify says %d (%s), decrypt says %d (%s)", rv, verr.msg, rd, derr.msg);

    Object r;
    FUZZ_CHECK(fuzz::parse(r, data, size) == 0, "a third parse failed");
    cm_error rerr = {0, ""};
    int rr = cm_dicom_rebind(r.obj, &op, &rep, &rerr);
    fuzz::check_result("rebind", rr, rerr);
    if (rr == 0) {
        rr = cm_dicom_verify(r.obj, &op, &rep, &rerr);
        FUZZ_CHECK(rr == 0, "a rebound object does not verify: %d %s", rr, rerr.msg);
    }

    /* never encrypted twice, never a forged block taken for an encryption */
    Object e;
    FUZZ_CHECK(fuzz::parse(e, data, size) == 0, "a fourth parse failed");
    uint8_t key[CM_KEYBYTES];
    fuzz_key(key);
    cm_dicom_encrypt_params ep = fuzz::encrypt_params(profile, key, 1);
    cm_error eerr = {0, ""};
    int re = cm_dicom_encrypt(e.obj, &ep, &rep, &eerr);
    fuzz::check_result("encrypt of an encrypted object", re, eerr);
    FUZZ_CHECK(re != 0, "an object with a ChaosMask block was encrypted again");
    FUZZ_CHECK(rv != 0 || re == CM_DICOM_EENCRYPTED, "an authentic encrypted object: encrypt says %d (%s)", re,
               eerr.msg);
    if (rd != 0)
        return;
    std::vector<uint8_t> plain;
    if (!fuzz::write(d, plain))
        return;
    Object p;
    FUZZ_CHECK(fuzz::parse(p, plain.data(), plain.size()) == 0, "the decrypted object does not parse");
    cm_dicom_info info;
    inspect(p, info);
    FUZZ_CHECK(!info.encrypted, "the decrypted object still carries a ChaosMask block");
    round_trip(plain.data(), plain.size(), profile, p, info);
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    fuzz::init_dicom();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int profiles[] = {CM_PROFILE_LORENZ_CHACHA20, CM_PROFILE_LORENZ, CM_PROFILE_AES_256_GCM};
    const int profile = profiles[size % 3];
    Object o;
    if (fuzz::parse(o, data, size) != 0)
        return 0;
    cm_dicom_info info;
    inspect(o, info);
    if (info.encrypted)
        encrypted(data, size, profile);
    else
        round_trip(data, size, profile, o, info);
    return 0;
}
