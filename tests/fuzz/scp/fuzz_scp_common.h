/* fuzz_scp_common.h - what the harnesses of the network service share: a service set up as
 * chaosmask-scp's main() sets it up (configuration file, key ring, audit log, archive
 * directory as the working directory while an input runs, limits), in the scratch directory of fuzz_common.h,
 * and the peers a Session can be opened for.
 *
 * The scratch directory holds:
 *   scp.ini     [keyring], [archive], [log] (audit, level fatal, audit_fsync no), [engine]
 *               threads = 1, and the peers below
 *   ring/       the fixed key of fuzz_common.h (id "fuzz", the active key): what the service
 *               masks with is what the harness decrypts with
 *   archive/    the archive, the process's working directory (index.dat and the xx/ folders)
 *   audit.log   the service's audit log (emptied when a harness resets the archive)
 * Peers: FUZZ (store, find, retrieve = decrypted), BACKUP (find, retrieve = encrypted),
 * NOBODY (nothing), and the C-MOVE destinations DEST (decrypted, port 11113), DESTENC
 * (encrypted), NOPORT (no port) - a move is decided, never connected. */
#ifndef CHAOSMASK_FUZZ_SCP_COMMON_H
#define CHAOSMASK_FUZZ_SCP_COMMON_H

#include "fuzz_dicom_common.h"

#include "chaosmask/app.h"
#include "chaosmask/app_ops.h"

#include "service.h"
#include "session.h"

#include <dcmtk/dcmdata/dcostrmb.h>
#include <dcmtk/dcmdata/dcuid.h>

#include <ftw.h>
#include <openssl/crypto.h>
#if defined(__SANITIZE_ADDRESS__)
#define FUZZ_SCP_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FUZZ_SCP_LSAN 1
#endif
#endif
#if FUZZ_SCP_LSAN
#include <sanitizer/lsan_interface.h>
#endif
#include <regex.h>

#include <set>
#include <string>
#include <vector>

namespace fuzz_scp {

using namespace chaosmask::scp;

struct Env {
    cm_app app;
    Service svc;
    std::string root, archive, audit;
    Peer peers[3];  /* FUZZ, BACKUP, NOBODY */
    int cwd = -1;   /* the harness's own working directory (libFuzzer's corpus and artifact paths) */
};

inline Env &env()
{
    static Env e;
    return e;
}

inline int remove_entry(const char *path, const struct stat *, int, struct FTW *)
{
    return remove(path);
}

/* The archive directory's content removed (index.dat, xx/ folders and their files). */
inline void clear_archive()
{
    Env &e = env();
    DIR *d = opendir(e.archive.c_str());
    if (d == nullptr)
        fuzz_fail("cannot open the archive %s: %s", e.archive.c_str(), strerror(errno));
    while (struct dirent *de = readdir(d)) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        std::string p = e.archive + "/" + de->d_name;
        if (nftw(p.c_str(), remove_entry, 8, FTW_DEPTH | FTW_PHYS) != 0)
            fuzz_fail("cannot remove %s: %s", p.c_str(), strerror(errno));
    }
    closedir(d);
    if (truncate(e.audit.c_str(), 0) != 0 && errno != ENOENT)
        fuzz_fail("cannot empty the audit log: %s", strerror(errno));
}

inline void remove_all()
{
    Env &e = env();
    if (!e.root.empty()) {
        nftw(e.archive.c_str(), remove_entry, 8, FTW_DEPTH | FTW_PHYS);
        nftw((e.root + "/ring").c_str(), remove_entry, 8, FTW_DEPTH | FTW_PHYS);
        unlink((e.root + "/scp.ini").c_str());
        unlink(e.audit.c_str());
    }
    cm_app_close(&e.app);
}

/* The end of a harness process: the service's files removed, then the scratch directory and
 * the leak check of a sanitizer build; the other exit handlers (OpenSSL's) run after it. */
inline void finish(int, void *)
{
    remove_all();
    fuzz_scratch_remove();
#if FUZZ_SCP_LSAN
    __lsan_do_leak_check();
#endif
}

inline void write_text(const std::string &path, const std::string &text)
{
    fuzz_write_file(path.c_str(), reinterpret_cast<const uint8_t *>(text.data()), text.size(), 0600);
}

/* Sets the service up once (LLVMFuzzerInitialize); the archive is empty afterwards. */
inline void setup()
{
    fuzz::init_dicom();
    umask(077);
    Env &e = env();
    e.root = fuzz_scratch_dir();
    e.archive = e.root + "/archive";
    e.audit = e.root + "/audit.log";
    const std::string ring = e.root + "/ring", ini = e.root + "/scp.ini";
    if (mkdir(ring.c_str(), 0700) != 0 || mkdir(e.archive.c_str(), 0700) != 0)
        fuzz_fail("cannot create the service's directories: %s", strerror(errno));
    uint8_t key[CM_KEYBYTES];
    fuzz_key(key);
    std::string hex;
    for (uint8_t b : key) {
        char h[3];
        snprintf(h, sizeof h, "%02x", b);
        hex += h;
    }
    write_text(ring + "/" FUZZ_KEY_ID ".key", hex + "\n");
    write_text(ring + "/active", FUZZ_KEY_ID "\n");
    write_text(ini, "[keyring]\ndir = " + ring + "\n[archive]\ndir = " + e.archive + "\n[log]\naudit = " + e.audit +
                        "\naudit_fsync = no\nlevel = fatal\n[engine]\nthreads = 1\n[scp]\naetitle = CHAOSMASK\n"
                        "[peer FUZZ]\naetitle = FUZZ\nhost = 127.0.0.1\nstore = yes\nfind = yes\nretrieve = decrypted\n"
                        "[peer BACKUP]\naetitle = BACKUP\nhost = 127.0.0.1\nfind = yes\nretrieve = encrypted\n"
                        "[peer NOBODY]\naetitle = NOBODY\nhost = 127.0.0.1\n"
                        "[peer DEST]\naetitle = DEST\nhost = 127.0.0.1\nport = 11113\nretrieve = decrypted\n"
                        "[peer DESTENC]\naetitle = DESTENC\nhost = 127.0.0.1\nport = 11114\nretrieve = encrypted\n"
                        "[peer NOPORT]\naetitle = NOPORT\nhost = 127.0.0.1\nretrieve = decrypted\n");
    static std::string config_path = ini; /* app.config_path must outlive the app */
    cm_app_init(&e.app, "fuzz_scp");
    e.app.config_path = config_path.c_str();
    cm_error err = {0, ""};
    char id[CM_KEYID_MAX];
    if (cm_app_load_config(&e.app, &err) != 0 || cm_app_keys(&e.app, &e.svc.keys, &err) != 0 ||
        cm_keys_active(e.svc.keys, id, &err) != 0 || cm_app_audit(&e.app, &e.svc.audit, &err) != 0)
        fuzz_fail("the service cannot be set up: %s", err.msg);
    OFLog::configure(OFLogger::FATAL_LOG_LEVEL); /* cm_app_load_config applied [log] level to DCMTK */
    e.svc.app = &e.app;
    e.svc.cfg = &e.app.cfg;
    e.svc.archive = e.archive;
    /* as main.cpp's set_limits */
    e.svc.archive_limits = cm_app_limits(&e.app);
    e.svc.received_limits = e.svc.archive_limits;
    if (e.svc.cfg->scp_max_object_bytes < e.svc.received_limits.max_bytes)
        e.svc.received_limits.max_bytes = e.svc.cfg->scp_max_object_bytes;
    e.cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (e.cwd < 0)
        fuzz_fail("cannot open the working directory: %s", strerror(errno));
    const char *names[3] = {"FUZZ", "BACKUP", "NOBODY"};
    for (int i = 0; i < 3; i++) {
        e.peers[i].calling_ae = names[i];
        e.peers[i].called_ae = "CHAOSMASK";
        e.peers[i].address = "127.0.0.1";
        e.peers[i].config = cm_config_peer(e.svc.cfg, names[i]);
        if (e.peers[i].config == nullptr)
            fuzz_fail("peer %s not configured", names[i]);
    }
    /* OpenSSL registers its clean-up at exit on its first initialisation without
     * OPENSSL_INIT_NO_ATEXIT, which may not have happened yet: now it has */
    OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CRYPTO_STRINGS | OPENSSL_INIT_ADD_ALL_CIPHERS | OPENSSL_INIT_ADD_ALL_DIGESTS, nullptr);
    on_exit(finish, nullptr); /* registered after OpenSSL's and the scratch directory's handlers: runs first */
}

/* The service runs in its archive directory (index.dat and the archive files are relative to
 * it, as in chaosmask-scp); libFuzzer's relative paths are the harness's: each input runs
 * inside one InArchive scope. */
struct InArchive {
    InArchive()
    {
        if (chdir(env().archive.c_str()) != 0)
            fuzz_fail("cannot enter the archive: %s", strerror(errno));
    }
    ~InArchive()
    {
        if (fchdir(env().cwd) != 0)
            fuzz_fail("cannot leave the archive: %s", strerror(errno));
    }
    InArchive(const InArchive &) = delete;
    InArchive &operator=(const InArchive &) = delete;
};

/* Every entry under the archive directory, relative to it ("xx", "xx/yyy.dcm", "index.dat"),
 * regular files and folders alike. */
inline void archive_entries(std::vector<std::string> &files, std::vector<std::string> &dirs,
                            std::vector<std::string> &other)
{
    Env &e = env();
    DIR *d = opendir(e.archive.c_str());
    if (d == nullptr)
        fuzz_fail("cannot open the archive: %s", strerror(errno));
    while (struct dirent *de = readdir(d)) {
        std::string n = de->d_name;
        if (n == "." || n == "..")
            continue;
        struct stat st;
        if (lstat((e.archive + "/" + n).c_str(), &st) != 0)
            fuzz_fail("lstat %s: %s", n.c_str(), strerror(errno));
        if (S_ISREG(st.st_mode)) {
            files.push_back(n);
        } else if (S_ISDIR(st.st_mode)) {
            dirs.push_back(n);
            DIR *sub = opendir((e.archive + "/" + n).c_str());
            if (sub == nullptr)
                fuzz_fail("cannot open %s: %s", n.c_str(), strerror(errno));
            while (struct dirent *se = readdir(sub)) {
                std::string m = se->d_name;
                if (m == "." || m == "..")
                    continue;
                struct stat sst;
                if (lstat((e.archive + "/" + n + "/" + m).c_str(), &sst) != 0)
                    fuzz_fail("lstat %s/%s: %s", n.c_str(), m.c_str(), strerror(errno));
                (S_ISREG(sst.st_mode) ? files : other).push_back(n + "/" + m);
            }
            closedir(sub);
        } else {
            other.push_back(n);
        }
    }
    closedir(d);
}

/* A name the service may give an archive file: xx/ + 30 hex digits + .dcm, from its random
 * generator (store.cpp); never anything taken from a data set. */
inline bool archive_name(const std::string &f)
{
    if (f.size() != 2 + 1 + 30 + 4 || f[2] != '/' || f.compare(33, 4, ".dcm") != 0)
        return false;
    for (size_t i = 0; i < 33; i++)
        if (i != 2 && !((f[i] >= '0' && f[i] <= '9') || (f[i] >= 'a' && f[i] <= 'f')))
            return false;
    return true;
}

/* The scratch directory holds only what setup() made: nothing written beside the archive. */
inline void check_scratch_root()
{
    Env &e = env();
    DIR *d = opendir(e.root.c_str());
    if (d == nullptr)
        fuzz_fail("cannot open the scratch directory: %s", strerror(errno));
    while (struct dirent *de = readdir(d)) {
        std::string n = de->d_name;
        FUZZ_CHECK(n == "." || n == ".." || n == "archive" || n == "ring" || n == "scp.ini" || n == "audit.log",
                   "a file appeared beside the archive: %s", n.c_str());
    }
    closedir(d);
}

/* A status a DIMSE response may carry as the final one of a refused or failed operation. */
inline bool failure_status(unsigned s)
{
    return s == 0x0110 || s == 0x0122 || s == 0x0124 || (s & 0xF000) == 0xA000 || (s & 0xF000) == 0xC000;
}

/* The data set bytes as received in xfer (what the network layer hands the service). */
inline bool encode_bare(DcmDataset &ds, E_TransferSyntax xfer, std::vector<uint8_t> &out)
{
    ds.transferInit();
    const Uint32 len = ds.calcElementLength(xfer, EET_ExplicitLength);
    out.assign(len + 16, 0);
    DcmOutputBufferStream os(out.data(), out.size());
    OFCondition c = ds.write(os, xfer, EET_ExplicitLength, nullptr);
    ds.transferEnd();
    void *buf = nullptr;
    offile_off_t n = 0;
    os.flushBuffer(buf, n);
    out.resize(static_cast<size_t>(n));
    return c.good();
}

} // namespace fuzz_scp

#endif
