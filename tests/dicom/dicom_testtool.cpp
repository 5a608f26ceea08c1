/* dicom_testtool.cpp - checks the corpus test needs beyond the command line tools:
 *   changed ORIG ENC    every protected element of ENC >= 1 KiB differs from ORIG in >= 99 % of
 *                       its bytes (prints each element's fraction; exit 1 otherwise).  An ideal
 *                       cipher leaves n/256 bytes unchanged on average; below ~5 KiB, 1 % of n is
 *                       within 6 sigma of that and an ideal cipher would miss it by chance (about
 *                       once in a thousand 1 KiB elements, with a fresh nonce every run), so there
 *                       the bound is n/256 + 6 sigma instead (1.6 % at 1 KiB, 1.2 % at 2 KiB).
 *   pixelhash FILE      SHA-256 over the bytes of every protected element, in layout order
 *   copy IN OUT         DCMTK load + save the way dicom/ does (the reference of a round trip)
 * White-box: uses dicom/src/internal.h to walk the same layout as the library. */
#include "internal.h"

#include <algorithm>
#include <cmath>

#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/oflog/oflog.h>
#include <openssl/evp.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

using namespace chaosmask;

static bool load_layout(const char *path, DcmFileFormat &ff, std::vector<ProtectedElement> &layout)
{
    cm_dicom_register_dictionary();
    if (ff.loadFile(path, EXS_Unknown, EGL_noChange, DCM_MaxReadLength, ERM_fileOnly).bad() ||
        ff.loadAllDataIntoMemory().bad()) {
        fprintf(stderr, "%s: cannot read\n", path);
        return false;
    }
    cm_error err = {0, ""};
    DcmDataset &ds = *ff.getDataset();
    if (layout_collect(ds, ds.getOriginalXfer(), CM_DICOM_BLOCK_VERSION, layout, &err) != 0) {
        fprintf(stderr, "%s: %s\n", path, err.msg);
        return false;
    }
    return true;
}

/* A segment's bytes, gathered when it spans several fragments. */
static void segment_bytes(const Segment &s, std::vector<uint8_t> &out)
{
    out.clear();
    if (s.pieces.empty()) {
        if (s.len)
            out.assign(s.data, s.data + s.len);
        return;
    }
    for (const Piece &p : s.pieces)
        out.insert(out.end(), p.data, p.data + p.len);
}

/* DCMTK load + save the way dicom/ reads and writes (the reference of a round trip). */
static int cmd_copy(const char *in, const char *out)
{
    cm_dicom_object *obj = nullptr;
    cm_error err = {0, ""};
    int fd = -1, rc = cm_dicom_load(&obj, in, nullptr, &err);
    if (rc == 0 && (fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0)
        rc = -1, snprintf(err.msg, sizeof err.msg, "%s: %s", out, strerror(errno));
    if (rc == 0)
        rc = cm_dicom_write_fd(obj, fd, 0, &err);
    if (fd >= 0 && close(fd) != 0 && rc == 0)
        rc = -1;
    cm_dicom_free(obj);
    if (rc != 0)
        fprintf(stderr, "%s\n", err.msg);
    return rc ? 1 : 0;
}

static int cmd_changed(const char *orig, const char *enc)
{
    DcmFileFormat fa, fb;
    std::vector<ProtectedElement> a, b;
    if (!load_layout(orig, fa, a) || !load_layout(enc, fb, b))
        return 2;
    if (a.size() != b.size()) {
        fprintf(stderr, "protected elements differ: %zu vs %zu\n", a.size(), b.size());
        return 1;
    }
    int rc = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        uint64_t total = 0, changed = 0;
        if (a[i].path != b[i].path || a[i].length != b[i].length || a[i].segments.size() != b[i].segments.size()) {
            fprintf(stderr, "%s: layout changed\n", a[i].path.c_str());
            return 1;
        }
        std::vector<uint8_t> x, y;
        for (size_t s = 0; s < a[i].segments.size(); ++s) {
            segment_bytes(a[i].segments[s], x);
            segment_bytes(b[i].segments[s], y);
            for (size_t k = 0; k < x.size() && k < y.size(); ++k)
                changed += x[k] != y[k];
            total += x.size();
        }
        double pct = total ? 100.0 * (double)changed / (double)total : 100.0;
        const double n = (double)total, mean = n / 256.0;
        const double allowed = std::max(0.01 * n, mean + 6.0 * std::sqrt(mean * (1.0 - 1.0 / 256.0)));
        bool ok = total < 1024 || (double)(total - changed) <= allowed;
        printf("  %-22s %10llu bytes  %7.3f %% changed%s\n", a[i].path.c_str(), (unsigned long long)total, pct,
               ok ? "" : "  <-- too many bytes unchanged");
        if (!ok)
            rc = 1;
    }
    return rc;
}

static int cmd_pixelhash(const char *path)
{
    DcmFileFormat ff;
    std::vector<ProtectedElement> layout;
    if (!load_layout(path, ff, layout))
        return 2;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
    std::vector<uint8_t> bytes;
    for (const ProtectedElement &pe : layout)
        for (const Segment &s : pe.segments) {
            segment_bytes(s, bytes);
            if (!bytes.empty())
                EVP_DigestUpdate(ctx, bytes.data(), bytes.size());
        }
    unsigned char md[32];
    unsigned n = 0;
    EVP_DigestFinal_ex(ctx, md, &n);
    EVP_MD_CTX_free(ctx);
    for (unsigned i = 0; i < n; ++i)
        printf("%02x", md[i]);
    printf("\n");
    return 0;
}

int main(int argc, char **argv)
{
    OFLog::configure(OFLogger::ERROR_LOG_LEVEL);
    if (argc == 4 && strcmp(argv[1], "changed") == 0)
        return cmd_changed(argv[2], argv[3]);
    if (argc == 3 && strcmp(argv[1], "pixelhash") == 0)
        return cmd_pixelhash(argv[2]);
    if (argc == 4 && strcmp(argv[1], "copy") == 0)
        return cmd_copy(argv[2], argv[3]);
    fprintf(stderr, "usage: dicom_testtool changed ORIG ENC | pixelhash FILE | copy IN OUT\n");
    return 2;
}
