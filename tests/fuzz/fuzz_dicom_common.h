/* fuzz_dicom_common.h - what the DICOM harnesses share: parsing bytes with the default limits,
 * writing an object into memory, checking a result code against what dicom.h documents, the
 * parameters with the fixed key, and the protected element values of an object (the bytes
 * every pixel-bearing element holds, in the order of the one layout walker). */
#ifndef CHAOSMASK_FUZZ_DICOM_COMMON_H
#define CHAOSMASK_FUZZ_DICOM_COMMON_H

#include "fuzz_common.h"

#include "chaosmask/dicom.h"
#include "chaosmask/dicom_dataset.h"
#include "internal.h"

#include <dcmtk/oflog/oflog.h>

#include <string>
#include <vector>

namespace fuzz {

/* A code a dicom.h function may return: its own codes, or the key provider's. */
inline bool dicom_code(int rc)
{
    return rc == 0 || (rc <= CM_DICOM_EINPUT && rc >= CM_DICOM_EMASKED) || rc == FUZZ_UNKNOWN_KEY_CODE;
}

/* rc is documented, err says the same, and a failure has a message. */
inline void check_result(const char *what, int rc, const cm_error &err)
{
    fuzz_note("%s: %d %s", what, rc, rc ? err.msg : "");
    FUZZ_CHECK(dicom_code(rc), "%s returned %d, not a dicom.h code", what, rc);
    FUZZ_CHECK(rc == 0 || (err.code == rc && err.msg[0] != '\0'), "%s returned %d but err holds %d \"%s\"", what,
               rc, err.code, err.msg);
}

struct Object {
    cm_dicom_object *obj = nullptr;
    Object() = default;
    Object(const Object &) = delete;
    Object &operator=(const Object &) = delete;
    ~Object() { cm_dicom_free(obj); }
    DcmDataset &dataset() { return *chaosmask::dicom_object_fileformat(obj).getDataset(); }
};

/* cm_dicom_parse of a Part 10 file with the default limits; 0 or its code (checked). */
inline int parse(Object &o, const uint8_t *data, size_t size)
{
    cm_error err = {0, ""};
    int rc = cm_dicom_parse(&o.obj, data, size, nullptr, nullptr, &err);
    check_result("cm_dicom_parse", rc, err);
    FUZZ_CHECK(rc == 0 || rc == CM_DICOM_EINPUT || rc == CM_DICOM_ESTRUCTURE || rc == CM_DICOM_ENOMEM,
               "cm_dicom_parse returned %d (%s)", rc, err.msg);
    FUZZ_CHECK((rc == 0) == (o.obj != nullptr), "cm_dicom_parse: result %d but object %p", rc, (void *)o.obj);
    return rc;
}

/* The object as cm_dicom_write_fd writes it (as it is now); false when it cannot be encoded. */
inline bool write(Object &o, std::vector<uint8_t> &out)
{
    int fd = fuzz_memfd();
    cm_error err = {0, ""};
    int rc = cm_dicom_write_fd(o.obj, fd, 0, &err);
    check_result("cm_dicom_write_fd", rc, err);
    FUZZ_CHECK(rc == 0 || rc == CM_DICOM_EINTERNAL, "cm_dicom_write_fd to memory returned %d (%s)", rc, err.msg);
    out.clear();
    if (rc == 0) {
        size_t len = 0;
        uint8_t *bytes = fuzz_read_fd(fd, &len);
        out.assign(bytes, bytes + len);
        free(bytes);
    }
    close(fd);
    return rc == 0;
}

inline cm_key_provider keys()
{
    cm_key_provider k = {fuzz_key_get, nullptr};
    return k;
}

inline cm_dicom_open_params open_params()
{
    cm_dicom_open_params p = {keys(), nullptr, CM_DICOM_IDENTITY_REFUSE};
    return p;
}

/* Encryption with the fixed key; key is the caller's buffer (lives as long as the params). */
inline cm_dicom_encrypt_params encrypt_params(int profile, const uint8_t *key, int force)
{
    cm_dicom_encrypt_params p = {profile, FUZZ_KEY_ID, key, keys(), nullptr, force};
    return p;
}

/* The protected elements of ds as the layout walker finds them (format 2): each path and VR
 * with its value bytes.  False when the layout cannot be read. */
struct Pixels {
    std::vector<std::string> paths;
    std::vector<uint8_t> bytes;
    bool operator==(const Pixels &o) const { return paths == o.paths && bytes == o.bytes; }
};

inline bool pixels_of(DcmDataset &ds, Pixels &px)
{
    std::vector<chaosmask::ProtectedElement> layout;
    cm_error err = {0, ""};
    if (chaosmask::layout_collect(ds, ds.getOriginalXfer(), CM_DICOM_BLOCK_VERSION, layout, &err) != 0)
        return false;
    px.paths.clear();
    px.bytes.clear();
    for (const chaosmask::ProtectedElement &pe : layout) {
        px.paths.push_back(pe.path + " " + pe.vr);
        for (const chaosmask::Segment &s : pe.segments) {
            if (s.pieces.empty())
                px.bytes.insert(px.bytes.end(), s.data, s.data + s.len);
            for (const chaosmask::Piece &p : s.pieces)
                px.bytes.insert(px.bytes.end(), p.data, p.data + p.len);
        }
    }
    return true;
}

/* First differing offset of two byte strings, for messages. */
inline size_t first_difference(const std::vector<uint8_t> &a, const std::vector<uint8_t> &b)
{
    size_t i = 0;
    while (i < a.size() && i < b.size() && a[i] == b[i])
        ++i;
    return i;
}

/* DCMTK quiet (its error lines would flood the fuzzer's output); the dictionary loaded. */
inline void init_dicom()
{
    OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
    cm_dicom_register_dictionary();
}

} // namespace fuzz

#endif
