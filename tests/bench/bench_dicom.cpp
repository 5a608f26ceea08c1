/* bench_dicom.cpp - the DICOM layer's speed targets, measured (not a ctest; never a timed
 * assertion):
 *   1. encrypt of a 512x512 16-bit CT file (load + structure check + mask + atomic save) vs
 *      DCMTK load + save of the same file through the same reader and writer, in the same run
 *      (target <= 1.3x);
 *   2. the same for a 200-frame 512x512 16-bit object (target <= 1.15x), and for 100,000
 *      frames of 1x2 pixels (format 2 groups them into 64 KiB segments; target <= 3x);
 *   3. peak memory (getrusage maxrss) of one encrypt of the 200-frame object vs its size, in a
 *      child process so the figure is that operation's alone.
 * usage: bench_dicom [DIR] [PROFILE]   (DIR: where the generated files go, default /tmp) */
#include "chaosmask/app_file.h"
#include "chaosmask/dicom.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/oflog/oflog.h>

#include <algorithm>
#include <functional>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

static void make_object(const std::string &path, unsigned frames, Uint16 rows = 512, Uint16 cols = 512)
{
    DcmFileFormat ff;
    DcmDataset *ds = ff.getDataset();
    char uid[100];
    ds->putAndInsertString(DCM_SOPClassUID, UID_CTImageStorage);
    ds->putAndInsertString(DCM_SOPInstanceUID, dcmGenerateUniqueIdentifier(uid, SITE_INSTANCE_UID_ROOT));
    ds->putAndInsertString(DCM_StudyInstanceUID, dcmGenerateUniqueIdentifier(uid, SITE_STUDY_UID_ROOT));
    ds->putAndInsertString(DCM_SeriesInstanceUID, dcmGenerateUniqueIdentifier(uid, SITE_SERIES_UID_ROOT));
    ds->putAndInsertString(DCM_PatientName, "Bench^ChaosMask");
    ds->putAndInsertString(DCM_Modality, "CT");
    ds->putAndInsertUint16(DCM_Rows, rows);
    ds->putAndInsertUint16(DCM_Columns, cols);
    ds->putAndInsertUint16(DCM_SamplesPerPixel, 1);
    ds->putAndInsertString(DCM_PhotometricInterpretation, "MONOCHROME2");
    ds->putAndInsertUint16(DCM_BitsAllocated, 16);
    ds->putAndInsertUint16(DCM_BitsStored, 16);
    ds->putAndInsertUint16(DCM_HighBit, 15);
    ds->putAndInsertUint16(DCM_PixelRepresentation, 1);
    if (frames > 1)
        ds->putAndInsertString(DCM_NumberOfFrames, std::to_string(frames).c_str());
    size_t n = static_cast<size_t>(rows) * cols * frames;
    std::vector<Uint16> px(n);
    for (size_t i = 0; i < n; ++i)
        px[i] = static_cast<Uint16>(1000 + (i % cols) + ((i / cols) % rows) / 2);
    ds->putAndInsertUint16Array(DCM_PixelData, px.data(), static_cast<unsigned long>(n));
    ff.saveFile(path.c_str(), EXS_LittleEndianExplicit);
}

static int key_get(void *, const char *, uint8_t key[CM_KEYBYTES], cm_error *)
{
    memset(key, 7, CM_KEYBYTES);
    return 0;
}

enum Op { COPY, ENCRYPT, DECRYPT };

/* What a file command does: read, operate, write through the one atomic writer. */
static int file_op(Op op, const std::string &in, const std::string &out, int profile)
{
    uint8_t key[CM_KEYBYTES];
    memset(key, 7, sizeof key);
    cm_key_provider keys = {key_get, nullptr};
    cm_dicom_object *obj = nullptr;
    cm_error err = {0, ""};
    int rc = cm_dicom_load(&obj, in.c_str(), nullptr, &err);
    if (rc == 0)
        cm_dicom_release_bytes(obj); /* as the file operations do once DCMTK has parsed them */
    if (rc == 0 && op == ENCRYPT) {
        cm_dicom_encrypt_params p = {profile, "bench", key, keys, nullptr, 0};
        rc = cm_dicom_encrypt(obj, &p, nullptr, &err);
    } else if (rc == 0 && op == DECRYPT) {
        cm_dicom_open_params p = {keys, nullptr, CM_DICOM_IDENTITY_REFUSE};
        rc = cm_dicom_decrypt(obj, &p, nullptr, &err);
    }
    cm_atomic f;
    if (rc == 0 && (rc = cm_atomic_open(&f, out.c_str(), nullptr, &err)) == 0) {
        if ((rc = cm_dicom_write_fd(obj, f.fd, 0, &err)) == 0)
            rc = cm_atomic_commit(&f, &err);
        else
            cm_atomic_abort(&f);
    }
    cm_dicom_free(obj);
    if (rc != 0)
        fprintf(stderr, "%s: %s\n", in.c_str(), err.msg);
    return rc;
}

static double seconds_of(const std::function<int()> &op)
{
    auto t0 = std::chrono::steady_clock::now();
    if (op() != 0) {
        fprintf(stderr, "operation failed\n");
        exit(1);
    }
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/* Median of `runs` alternating measurements of plain copy and encrypt. */
static void compare(const char *label, const std::string &in, const std::string &dir, int profile, int runs)
{
    std::string out_copy = dir + "/bench_copy.dcm", out_enc = dir + "/bench_enc.dcm", out_dec = dir + "/bench_dec.dcm";
    std::vector<double> copy_t, enc_t, dec_t;
    for (int r = 0; r < runs; ++r) {
        copy_t.push_back(seconds_of([&] { return file_op(COPY, in, out_copy, profile); }));
        enc_t.push_back(seconds_of([&] { return file_op(ENCRYPT, in, out_enc, profile); }));
        dec_t.push_back(seconds_of([&] { return file_op(DECRYPT, out_enc, out_dec, profile); }));
    }
    std::sort(copy_t.begin(), copy_t.end());
    std::sort(enc_t.begin(), enc_t.end());
    std::sort(dec_t.begin(), dec_t.end());
    double c = copy_t[runs / 2], e = enc_t[runs / 2], d = dec_t[runs / 2];
    struct stat st;
    stat(in.c_str(), &st);
    double mib = st.st_size / 1048576.0;
    printf("%-28s %8.1f MiB  DCMTK load+save %8.2f ms  encrypt %8.2f ms (x%.2f)  decrypt %8.2f ms (x%.2f)  "
           "[median of %d, %s]\n",
           label, mib, c * 1e3, e * 1e3, e / c, d * 1e3, d / c, runs, cm_profile_name(profile));
}

static void peak_memory(const std::string &in, const std::string &dir, int profile)
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(file_op(ENCRYPT, in, dir + "/bench_mem.dcm", profile) ? 1 : 0);
    int status = 0;
    struct rusage ru;
    wait4(pid, &status, 0, &ru);
    struct stat st;
    stat(in.c_str(), &st);
    double size_mib = st.st_size / 1048576.0, rss_mib = ru.ru_maxrss / 1024.0;
    printf("peak memory of one encrypt: %.1f MiB for a %.1f MiB object = %.2f x size + %.1f MiB "
           "(target <= 1.2 x size + 32 MiB = %.1f MiB)\n",
           rss_mib, size_mib, rss_mib / size_mib, rss_mib - size_mib, 1.2 * size_mib + 32);
}

int main(int argc, char **argv)
{
    OFLog::configure(OFLogger::ERROR_LOG_LEVEL);
    std::string dir = argc > 1 ? argv[1] : "/tmp";
    int profile = argc > 2 ? cm_profile_from_name(argv[2]) : CM_PROFILE_DEFAULT;
    if (profile < 0) {
        fprintf(stderr, "unknown profile\n");
        return 2;
    }
    std::string ct = dir + "/bench_ct_512.dcm", mf = dir + "/bench_mf_200x512.dcm", tiny = dir + "/bench_tiny.dcm";
    make_object(ct, 1);
    make_object(mf, 200);
    make_object(tiny, 100000, 1, 2);
    peak_memory(mf, dir, profile);
    compare("CT 512x512x16", ct, dir, profile, 31);
    compare("200 frames 512x512x16", mf, dir, profile, 5);
    compare("100000 frames 1x2x16", tiny, dir, profile, 11);
    for (const char *f : {"bench_copy.dcm", "bench_enc.dcm", "bench_dec.dcm", "bench_mem.dcm"})
        unlink((dir + "/" + f).c_str());
    unlink(ct.c_str());
    unlink(mf.c_str());
    unlink(tiny.c_str());
    return 0;
}
