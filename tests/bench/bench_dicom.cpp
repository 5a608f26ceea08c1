/* bench_dicom.cpp - the issue-4 targets, measured (not a ctest; never a timed assertion):
 *   1. encrypt of a 512x512 16-bit CT file (load + mask + save) vs plain DCMTK load + save of
 *      the same file (cm_dicom_copy_file: the same reader and writer), in the same run;
 *   2. the same for a 200-frame 512x512 16-bit object;
 *   3. peak memory (getrusage maxrss) of one encrypt of the 200-frame object vs its size, in a
 *      child process so the figure is that operation's alone.
 * usage: bench_dicom [DIR] [PROFILE]   (DIR: where the generated files go, default /tmp) */
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

static void make_object(const std::string &path, unsigned frames)
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
    ds->putAndInsertUint16(DCM_Rows, 512);
    ds->putAndInsertUint16(DCM_Columns, 512);
    ds->putAndInsertUint16(DCM_SamplesPerPixel, 1);
    ds->putAndInsertString(DCM_PhotometricInterpretation, "MONOCHROME2");
    ds->putAndInsertUint16(DCM_BitsAllocated, 16);
    ds->putAndInsertUint16(DCM_BitsStored, 16);
    ds->putAndInsertUint16(DCM_HighBit, 15);
    ds->putAndInsertUint16(DCM_PixelRepresentation, 1);
    if (frames > 1)
        ds->putAndInsertString(DCM_NumberOfFrames, std::to_string(frames).c_str());
    size_t n = 512u * 512u * frames;
    std::vector<Uint16> px(n);
    for (size_t i = 0; i < n; ++i)
        px[i] = static_cast<Uint16>(1000 + (i % 512) + ((i / 512) % 512) / 2);
    ds->putAndInsertUint16Array(DCM_PixelData, px.data(), static_cast<unsigned long>(n));
    ff.saveFile(path.c_str(), EXS_LittleEndianExplicit);
}

static int key_fn(void *, const char *, uint8_t key[CM_KEYBYTES])
{
    memset(key, 7, CM_KEYBYTES);
    return 0;
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
    uint8_t key[CM_KEYBYTES];
    memset(key, 7, sizeof key);
    cm_dicom_encrypt_params p = {profile, "bench", key, 0, nullptr, nullptr};
    std::string out_copy = dir + "/bench_copy.dcm", out_enc = dir + "/bench_enc.dcm", out_dec = dir + "/bench_dec.dcm";
    std::vector<double> copy_t, enc_t, dec_t;
    cm_dicom_error err;
    for (int r = 0; r < runs; ++r) {
        copy_t.push_back(seconds_of([&] { return cm_dicom_copy_file(in.c_str(), out_copy.c_str(), &err); }));
        enc_t.push_back(seconds_of([&] { return cm_dicom_encrypt_file(in.c_str(), out_enc.c_str(), &p, &err); }));
        dec_t.push_back(seconds_of([&] { return cm_dicom_decrypt_file(out_enc.c_str(), out_dec.c_str(), key_fn, nullptr, 0, &err); }));
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
    if (pid == 0) {
        uint8_t key[CM_KEYBYTES];
        memset(key, 7, sizeof key);
        cm_dicom_encrypt_params p = {profile, "bench", key, 0, nullptr, nullptr};
        cm_dicom_error err;
        _exit(cm_dicom_encrypt_file(in.c_str(), (dir + "/bench_mem.dcm").c_str(), &p, &err) ? 1 : 0);
    }
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
    std::string ct = dir + "/bench_ct_512.dcm", mf = dir + "/bench_mf_200x512.dcm";
    make_object(ct, 1);
    make_object(mf, 200);
    peak_memory(mf, dir, profile);
    compare("CT 512x512x16", ct, dir, profile, 31);
    compare("200 frames 512x512x16", mf, dir, profile, 5);
    for (const char *f : {"bench_copy.dcm", "bench_enc.dcm", "bench_dec.dcm", "bench_mem.dcm"})
        unlink((dir + "/" + f).c_str());
    unlink(ct.c_str());
    unlink(mf.c_str());
    return 0;
}
