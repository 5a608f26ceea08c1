/* bench_migrate.cpp - `chaosmask migrate`'s speed targets, measured (not a ctest; never a timed
 * assertion). On a generated tree of FILES DICOM objects (default 2,000; CT 256x256 and 512x512,
 * MR 256x256, nested folders) it times, in the same run:
 *   yardstick   one process, a plain DCMTK loop: loadFile + saveFile of every file into a mirror
 *   durable     the same loop, each file written as migrate writes it (temporary file, fsync,
 *               rename, fsync of the directory), to show what durability alone costs
 *   jobs 1      chaosmask migrate encrypt SRC --out DIR --jobs 1
 *   jobs 2      chaosmask migrate encrypt SRC --out DIR --jobs 2
 *   in place    chaosmask migrate encrypt COPY --jobs 1 and --jobs 2 on a fresh copy of the tree
 *               (each replaced original is fsynced before its rename: the durable cost shows)
 * and prints files/s, MB/s and the ratios (targets: jobs 1 >= 0.8x the yardstick, jobs 2 >=
 * 1.7x jobs 1). Every run starts from the same source tree and a fresh output directory; the
 * runs alternate over ROUNDS rounds and the medians are printed.
 * With --dir on a tmpfs (/dev/shm) every fsync is free: the figures are then the CPU's alone,
 * which separates what the disk costs from what the engine and the bookkeeping cost.
 * usage: bench_migrate [--files N] [--rounds R] [--dir DIR] [--chaosmask PATH] */
#include "chaosmask/app_file.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/oflog/oflog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <ftw.h>
#include <functional>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#ifndef CHAOSMASK_BINARY
#define CHAOSMASK_BINARY "chaosmask"
#endif

static void make_object(const std::string &path, const char *modality, Uint16 rows, Uint16 cols, unsigned seed)
{
    DcmFileFormat ff;
    DcmDataset *ds = ff.getDataset();
    char uid[100];
    ds->putAndInsertString(DCM_SOPClassUID, strcmp(modality, "MR") == 0 ? UID_MRImageStorage : UID_CTImageStorage);
    ds->putAndInsertString(DCM_SOPInstanceUID, dcmGenerateUniqueIdentifier(uid, SITE_INSTANCE_UID_ROOT));
    ds->putAndInsertString(DCM_StudyInstanceUID, dcmGenerateUniqueIdentifier(uid, SITE_STUDY_UID_ROOT));
    ds->putAndInsertString(DCM_SeriesInstanceUID, dcmGenerateUniqueIdentifier(uid, SITE_SERIES_UID_ROOT));
    ds->putAndInsertString(DCM_PatientName, "Bench^Migrate");
    ds->putAndInsertString(DCM_PatientID, std::to_string(seed % 97).c_str());
    ds->putAndInsertString(DCM_Modality, modality);
    ds->putAndInsertUint16(DCM_Rows, rows);
    ds->putAndInsertUint16(DCM_Columns, cols);
    ds->putAndInsertUint16(DCM_SamplesPerPixel, 1);
    ds->putAndInsertString(DCM_PhotometricInterpretation, "MONOCHROME2");
    ds->putAndInsertUint16(DCM_BitsAllocated, 16);
    ds->putAndInsertUint16(DCM_BitsStored, 12);
    ds->putAndInsertUint16(DCM_HighBit, 11);
    ds->putAndInsertUint16(DCM_PixelRepresentation, 0);
    size_t n = static_cast<size_t>(rows) * cols;
    std::vector<Uint16> px(n);
    for (size_t i = 0; i < n; ++i)
        px[i] = static_cast<Uint16>((seed * 7 + (i % cols) * 3 + (i / cols)) & 0xfff);
    ds->putAndInsertUint16Array(DCM_PixelData, px.data(), static_cast<unsigned long>(n));
    if (ff.saveFile(path.c_str(), EXS_LittleEndianExplicit).bad()) {
        fprintf(stderr, "%s: cannot write\n", path.c_str());
        exit(1);
    }
}

static int remove_entry(const char *path, const struct stat *, int, struct FTW *)
{
    return remove(path);
}

static void remove_tree(const std::string &dir)
{
    nftw(dir.c_str(), remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void mkdirs(const std::string &path)
{
    for (size_t i = 1; i <= path.size(); ++i)
        if (i == path.size() || path[i] == '/')
            mkdir(path.substr(0, i).c_str(), 0755);
}

/* The tree: 20 studies x 5 series, files spread over them; returns the relative paths. */
static std::vector<std::string> make_tree(const std::string &src, unsigned files, uint64_t *bytes)
{
    std::vector<std::string> rel;
    *bytes = 0;
    for (unsigned i = 0; i < files; ++i) {
        std::string dir = "study" + std::to_string(i % 20) + "/series" + std::to_string(i / 20 % 5);
        mkdirs(src + "/" + dir);
        std::string r = dir + "/im" + std::to_string(i) + ".dcm";
        if (i % 4 == 0)
            make_object(src + "/" + r, "CT", 512, 512, i);
        else
            make_object(src + "/" + r, i % 4 == 1 ? "MR" : "CT", 256, 256, i);
        struct stat st;
        stat((src + "/" + r).c_str(), &st);
        *bytes += static_cast<uint64_t>(st.st_size);
        rel.push_back(r);
    }
    return rel;
}

static int dcmtk_loop(const std::string &src, const std::string &out, const std::vector<std::string> &rel, bool durable)
{
    for (const std::string &r : rel) {
        std::string in = src + "/" + r, dst = out + "/" + r;
        mkdirs(dst.substr(0, dst.rfind('/')));
        DcmFileFormat ff;
        if (ff.loadFile(in.c_str()).bad())
            return 1;
        if (!durable) {
            if (ff.saveFile(dst.c_str(), EXS_Unknown).bad())
                return 1;
            continue;
        }
        /* as migrate writes: temporary file beside the target, fsync, rename, fsync the folder */
        std::string tmp = dst + ".tmp";
        if (ff.saveFile(tmp.c_str(), EXS_Unknown).bad())
            return 1;
        cm_error err = {0, ""};
        int fd = open(tmp.c_str(), O_RDONLY);
        if (fd < 0 || fsync(fd) != 0 || close(fd) != 0 || rename(tmp.c_str(), dst.c_str()) != 0 ||
            cm_fsync_dir(dst.substr(0, dst.rfind('/')).c_str(), &err) != 0)
            return 1;
    }
    return 0;
}

static int run_command(const std::vector<std::string> &args)
{
    pid_t pid = fork();
    if (pid == 0) {
        std::vector<char *> argv;
        for (const std::string &a : args)
            argv.push_back(const_cast<char *>(a.c_str()));
        argv.push_back(nullptr);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, STDOUT_FILENO);
        execv(argv[0], argv.data());
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static double seconds_of(const char *what, const std::function<int()> &op)
{
    auto t0 = std::chrono::steady_clock::now();
    int rc = op();
    if (rc != 0) {
        fprintf(stderr, "bench_migrate: %s failed (exit %d)\n", what, rc);
        exit(1);
    }
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int main(int argc, char **argv)
{
    OFLog::configure(OFLogger::ERROR_LOG_LEVEL);
    unsigned files = 2000, rounds = 3;
    std::string base = "/tmp", cm = CHAOSMASK_BINARY;
    for (int i = 1; i < argc; i += 2) {
        std::string o = argv[i];
        if (i + 1 >= argc)
            o = "--help";
        if (o == "--files")
            files = static_cast<unsigned>(atoi(argv[i + 1]));
        else if (o == "--rounds")
            rounds = static_cast<unsigned>(atoi(argv[i + 1]));
        else if (o == "--dir")
            base = argv[i + 1];
        else if (o == "--chaosmask")
            cm = argv[i + 1];
        else {
            fprintf(stderr, "usage: bench_migrate [--files N] [--rounds R] [--dir DIR] [--chaosmask PATH]\n");
            return 2;
        }
    }
    if (files == 0 || rounds == 0) {
        fprintf(stderr, "bench_migrate: --files and --rounds must be positive\n");
        return 2;
    }
    std::string dir = base + "/bench_migrate." + std::to_string(getpid());
    mkdirs(dir);
    std::string src = dir + "/src", cfg = dir + "/cm.ini";
    FILE *c = fopen(cfg.c_str(), "w");
    fprintf(c, "[keyring]\ndir = %s/ring\n[log]\naudit = %s/audit.log\naudit_fsync = no\n", dir.c_str(), dir.c_str());
    fclose(c);
    chmod(cfg.c_str(), 0600);
    if (run_command({cm, "--config", cfg, "keygen", "--id", "bench", "-q"}) != 0) {
        fprintf(stderr, "bench_migrate: %s keygen failed\n", cm.c_str());
        return 1;
    }
    uint64_t bytes = 0;
    std::vector<std::string> rel = make_tree(src, files, &bytes);
    double mb = bytes / 1e6;
    printf("tree: %u files, %.1f MB (CT 512x512 and CT/MR 256x256, 16-bit), %ld cores, %u rounds\n", files, mb,
           sysconf(_SC_NPROCESSORS_ONLN), rounds);

    const char *names[] = {"DCMTK load+save loop (yardstick)", "DCMTK loop, durable writes",
                           "migrate encrypt --out, --jobs 1", "migrate encrypt --out, --jobs 2",
                           "migrate encrypt in place, --jobs 1", "migrate encrypt in place, --jobs 2"};
    const int K = 6;
    std::vector<double> t[K];
    for (unsigned round = 0; round < rounds; ++round)
        for (int k = 0; k < K; ++k) {
            std::string out = dir + "/out" + std::to_string(k);
            remove_tree(out);
            remove((dir + "/journal.db").c_str());
            if (k >= 4 && run_command({"/bin/cp", "-a", src, out}) != 0) {
                fprintf(stderr, "bench_migrate: cannot copy the tree\n");
                return 1;
            }
            sync();
            const char *jobs = k % 2 == 0 ? "1" : "2";
            if (k < 2)
                t[k].push_back(seconds_of(names[k], [&] { return dcmtk_loop(src, out, rel, k == 1); }));
            else if (k < 4)
                t[k].push_back(seconds_of(names[k], [&] {
                    return run_command({cm, "--config", cfg, "migrate", "encrypt", src, "--out", out, "--jobs", jobs,
                                        "--journal", dir + "/journal.db"});
                }));
            else
                t[k].push_back(seconds_of(names[k], [&] {
                    return run_command(
                        {cm, "--config", cfg, "migrate", "encrypt", out, "--jobs", jobs, "--journal", dir + "/journal.db"});
                }));
            remove_tree(out);
        }
    double med[K];
    for (int k = 0; k < K; ++k) {
        std::sort(t[k].begin(), t[k].end());
        med[k] = t[k][t[k].size() / 2];
        printf("%-34s %7.2f s  %7.1f files/s  %7.1f MB/s\n", names[k], med[k], files / med[k], mb / med[k]);
    }
    printf("--out:    jobs 1 / yardstick x%.2f (target >= 0.8), jobs 2 / jobs 1 x%.2f (target >= 1.7)\n",
           med[0] / med[2], med[2] / med[3]);
    printf("in place: jobs 1 / yardstick x%.2f, jobs 1 / durable DCMTK loop x%.2f, jobs 2 / jobs 1 x%.2f\n",
           med[0] / med[4], med[1] / med[4], med[4] / med[5]);
    remove_tree(dir);
    return 0;
}
