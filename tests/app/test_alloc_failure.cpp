/* test_alloc_failure.cpp - one encrypt and one decrypt (the file operations of app_ops.h, with
 * the configuration, the key ring and the audit log of a real run) while memory runs out: the
 * n-th allocation fails, for n = 1, 2, ... up to the number one operation makes.  Every run
 * must end in success (a failed allocation that was recovered from) with a correct output, or
 * in an error with a message, and then no output file, no temporary file, the input as it
 * was, and no allocation of the run left behind.  A crash, an abort (an exception that escapes
 * through C code) or a leak fails the test.
 *
 * How allocations are counted and failed, in the release and in the sanitizer build alike:
 *   - malloc, calloc, realloc and free of the program and of its static libraries (core,
 *     config, dicom, app) through the linker's --wrap (an LD_PRELOAD allocator would fight
 *     AddressSanitizer's, which must come first);
 *   - operator new and delete, every form, replaced in this program: the replacement serves
 *     DCMTK's shared libraries and libstdc++ too, and fails by throwing std::bad_alloc (or
 *     returning NULL for the nothrow forms), as a real allocator does;
 *   - OpenSSL's allocations through CRYPTO_set_mem_functions.
 * DCMTK 3.6.7 is not exception-safe: when its own throwing operator new fails, it loses what it
 * had allocated for the task (leaks) and, in DcmTag, frees a name twice (heap corruption, an
 * abort in glibc) - nothing a caller can guard against.  Those allocations (small objects:
 * tags, list nodes, elements) are counted but not failed; DCMTK's value buffers, the large
 * allocations, use the nothrow form and are failed like every other.
 * Every hook ends in the real malloc and free, so AddressSanitizer still checks each block and
 * LeakSanitizer still sees every leak at exit.  Allocations made by other shared libraries
 * (libc itself, inih, sqlite) are neither counted nor failed.  Leaks are found by a table of
 * the blocks allocated while a run is armed: a block still there after the run is a leak,
 * unless it is a cache the libraries keep for the process (DCMTK's dictionary, OpenSSL's
 * per-thread error state): those appear once, so a run that leaves blocks is repeated, and
 * only blocks left again by the identical repeat count as a leak. */
#include <openssl/crypto.h>
#include <openssl/err.h>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/oflog/oflog.h>

#include <dirent.h>
#include <dlfcn.h>
#include <link.h>
#include <execinfo.h>
#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <new>
#include <string>
#include <vector>

extern "C" {
#include "chaosmask/app.h"
#include "chaosmask/app_file.h"
#include "chaosmask/app_ops.h"
#include "config/fixture.h"
}

extern "C" {
void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
}

/* ---- the allocation hooks ---- */

namespace {

bool armed;           /* count, fail and record only while a run is armed */
long calls, fail_at;  /* allocations of this run; the one that fails (1-based, 0: none) */
long spared;          /* DCMTK's throwing allocations of this run, never failed */

/* The address ranges of DCMTK's libraries (dcmdata, ofstd, oflog...) and of OpenSSL's
 * libcrypto, found once. */
enum Library { OTHER, DCMTK, OPENSSL };
struct Range {
    uintptr_t lo, hi;
    Library lib;
};
Range ranges[64];
int nranges;

int add_ranges(struct dl_phdr_info *info, size_t, void *)
{
    const char *name = info->dlpi_name;
    Library lib = OTHER;
    if (name != nullptr && (strstr(name, "/libdcm") || strstr(name, "/libofstd") || strstr(name, "/liboflog")))
        lib = DCMTK;
    else if (name != nullptr && strstr(name, "/libcrypto.so"))
        lib = OPENSSL;
    for (int i = 0; lib != OTHER && i < info->dlpi_phnum && nranges < 64; ++i)
        if (info->dlpi_phdr[i].p_type == PT_LOAD) {
            uintptr_t lo = info->dlpi_addr + info->dlpi_phdr[i].p_vaddr;
            ranges[nranges++] = {lo, lo + info->dlpi_phdr[i].p_memsz, lib};
        }
    return 0;
}

Library library_of(const void *addr)
{
    uintptr_t a = reinterpret_cast<uintptr_t>(addr);
    for (int i = 0; i < nranges; ++i)
        if (a >= ranges[i].lo && a < ranges[i].hi)
            return ranges[i].lib;
    return OTHER;
}

bool dcmtk_code(const void *addr)
{
    return library_of(addr) == DCMTK;
}

/* Blocks allocated while armed and not freed yet, with the caller's address (for messages):
 * an open-addressing table in its own mapping, so recording never allocates. */
struct Slot {
    void *p;
    void *caller;
    size_t size;
};
const size_t kSlots = size_t(1) << 20;
Slot *table;
void *const kTomb = reinterpret_cast<void *>(1);

size_t slot_of(const void *p)
{
    return (reinterpret_cast<uintptr_t>(p) >> 4) * 0x9E3779B97F4A7C15ull % kSlots;
}

void record(void *p, size_t size, void *caller)
{
    if (p == nullptr || !armed || table == nullptr)
        return;
    for (size_t i = slot_of(p);; i = (i + 1) % kSlots)
        if (table[i].p == nullptr || table[i].p == kTomb) {
            table[i] = {p, caller, size};
            return;
        }
}

void forget(void *p)
{
    if (p == nullptr || table == nullptr) /* libraries' constructors run before main */
        return;
    for (size_t i = slot_of(p); table[i].p != nullptr; i = (i + 1) % kSlots)
        if (table[i].p == p) {
            table[i].p = kTomb;
            return;
        }
}

long trace_at = -1; /* CHAOSMASK_ALLOC_TRACE=N: print where allocation N fails (triage) */
void *failed_frames[64]; /* the call stack of the allocation that failed */
int failed_depth;
void *failed_caller;     /* the code that asked for it */

/* true when this allocation (made by caller) is the one to fail; a throwing allocation of
 * DCMTK's is only counted (see the top of the file) */
bool fail_now(void *caller, bool throwing = false)
{
    if (!armed)
        return false;
    if (throwing && dcmtk_code(caller)) {
        ++spared;
        return false;
    }
    if (++calls != fail_at)
        return false;
    failed_caller = caller;
    failed_depth = backtrace(failed_frames, 64);
    if (calls == trace_at) {
        fprintf(stderr, "allocation %ld fails here:\n", calls);
        backtrace_symbols_fd(failed_frames, failed_depth, 2);
    }
    return true;
}

void *counted_malloc(size_t n, void *caller, bool throwing = false)
{
    if (fail_now(caller, throwing))
        return nullptr;
    void *p = __real_malloc(n);
    record(p, n, caller);
    return p;
}

void counted_free(void *p)
{
    forget(p);
    __real_free(p);
}

void *counted_realloc(void *p, size_t n, void *caller)
{
    if (fail_now(caller))
        return nullptr;
    void *q = __real_realloc(p, n);
    if (q != nullptr || n == 0) {
        forget(p);
        record(q, n, caller);
    }
    return q;
}

void *crypto_malloc(size_t n, const char *, int)
{
    return counted_malloc(n, __builtin_return_address(0));
}
void *crypto_realloc(void *p, size_t n, const char *, int)
{
    return counted_realloc(p, n, __builtin_return_address(0));
}
void crypto_free(void *p, const char *, int)
{
    counted_free(p);
}

} // namespace

extern "C" {
void *__wrap_malloc(size_t n)
{
    return counted_malloc(n, __builtin_return_address(0));
}
void *__wrap_calloc(size_t n, size_t size)
{
    if (fail_now(__builtin_return_address(0)))
        return nullptr;
    void *p = __real_calloc(n, size);
    record(p, n * size, __builtin_return_address(0));
    return p;
}
void *__wrap_realloc(void *p, size_t n)
{
    return counted_realloc(p, n, __builtin_return_address(0));
}
void __wrap_free(void *p)
{
    counted_free(p);
}
}

void *operator new(size_t n)
{
    void *p = counted_malloc(n ? n : 1, __builtin_return_address(0), true);
    if (p == nullptr)
        throw std::bad_alloc();
    return p;
}
void *operator new[](size_t n)
{
    void *p = counted_malloc(n ? n : 1, __builtin_return_address(0), true);
    if (p == nullptr)
        throw std::bad_alloc();
    return p;
}
void *operator new(size_t n, const std::nothrow_t &) noexcept
{
    return counted_malloc(n ? n : 1, __builtin_return_address(0));
}
void *operator new[](size_t n, const std::nothrow_t &) noexcept
{
    return counted_malloc(n ? n : 1, __builtin_return_address(0));
}
void operator delete(void *p) noexcept
{
    counted_free(p);
}
void operator delete[](void *p) noexcept
{
    counted_free(p);
}
void operator delete(void *p, size_t) noexcept
{
    counted_free(p);
}
void operator delete[](void *p, size_t) noexcept
{
    counted_free(p);
}
void operator delete(void *p, const std::nothrow_t &) noexcept
{
    counted_free(p);
}
void operator delete[](void *p, const std::nothrow_t &) noexcept
{
    counted_free(p);
}

/* ---- the operations ---- */

namespace {

std::string ring, config, audit_log, plain, sealed, outdir;

/* Blocks a run leaves behind are a leak of ours unless they belong to a library:
 *   - DCMTK's, when the allocation that failed was DCMTK's and DCMTK allocated every block
 *     left (it loses what it had allocated for a task that fails; see the top of the file);
 *   - OpenSSL's, when the run succeeded and libcrypto allocated every block left: a fetch of
 *     an algorithm that met a failed allocation and recovered keeps a block in OpenSSL's
 *     method store (our objects are freed on the success path, as the run without a failure,
 *     which must leave nothing, shows).
 * LeakSanitizer is told the same in lsan_libraries.supp.  Any other block left is ours. */
long leaks, dcmtk_leaks, openssl_leaks; /* over both sweeps */

/* "library(symbol) address" of a code address, for messages. */
std::string where(void *addr)
{
    Dl_info d;
    char buf[512];
    if (dladdr(addr, &d) == 0)
        snprintf(buf, sizeof buf, "%p", addr);
    else
        snprintf(buf, sizeof buf, "%s(%s) %p", d.dli_fname, d.dli_sname ? d.dli_sname : "?", addr);
    return buf;
}

std::vector<uint8_t> slurp(const std::string &path)
{
    std::vector<uint8_t> out;
    FILE *f = fopen(path.c_str(), "rb");
    if (f == nullptr)
        return out;
    uint8_t buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        out.insert(out.end(), buf, buf + n);
    fclose(f);
    return out;
}

bool exists(const std::string &path)
{
    struct stat st;
    return lstat(path.c_str(), &st) == 0;
}

int temporary_files(const std::string &dir)
{
    DIR *d = opendir(dir.c_str());
    CHECK(d != nullptr);
    int n = 0;
    while (struct dirent *e = readdir(d))
        n += e->d_name[0] == '.' && strstr(e->d_name, CM_ATOMIC_TMP_TAG) != nullptr;
    closedir(d);
    return n;
}

/* A small CT-like object written by DCMTK (before any counting). */
void write_object(const std::string &path)
{
    DcmFileFormat ff;
    DcmDataset *ds = ff.getDataset();
    ds->putAndInsertString(DCM_SOPClassUID, "1.2.840.10008.5.1.4.1.1.2");
    ds->putAndInsertString(DCM_SOPInstanceUID, "1.2.826.0.1.3680043.10.1049.300.1");
    ds->putAndInsertString(DCM_StudyInstanceUID, "1.2.826.0.1.3680043.10.1049.300.2");
    ds->putAndInsertString(DCM_SeriesInstanceUID, "1.2.826.0.1.3680043.10.1049.300.3");
    ds->putAndInsertString(DCM_PatientName, "Alloc^Failure");
    ds->putAndInsertString(DCM_PatientID, "CM-OOM");
    ds->putAndInsertString(DCM_Modality, "CT");
    ds->putAndInsertString(DCM_ImageType, "ORIGINAL\\PRIMARY\\AXIAL");
    ds->putAndInsertString(DCM_RescaleIntercept, "-1024");
    ds->putAndInsertString(DCM_RescaleSlope, "1");
    ds->putAndInsertUint16(DCM_SamplesPerPixel, 1);
    ds->putAndInsertString(DCM_PhotometricInterpretation, "MONOCHROME2");
    ds->putAndInsertUint16(DCM_Rows, 16);
    ds->putAndInsertUint16(DCM_Columns, 16);
    ds->putAndInsertUint16(DCM_BitsAllocated, 16);
    ds->putAndInsertUint16(DCM_BitsStored, 12);
    ds->putAndInsertUint16(DCM_HighBit, 11);
    ds->putAndInsertUint16(DCM_PixelRepresentation, 0);
    Uint16 px[256];
    for (unsigned i = 0; i < 256; ++i)
        px[i] = static_cast<Uint16>((i * 37) % 4096);
    ds->putAndInsertUint16Array(DCM_PixelData, px, 256);
    CHECK(ff.saveFile(path.c_str(), EXS_LittleEndianExplicit).good());
}

enum Op { ENCRYPT, DECRYPT };

/* One operation from a fresh application (configuration read, key ring and audit log opened
 * on first use, as the command does) to its close. */
int run(Op op, const std::string &out, cm_op_result &r)
{
    cm_app app;
    cm_app_init(&app, "chaosmask");
    app.config_path = config.c_str();
    cm_error err = {0, ""};
    int rc = cm_app_load_config(&app, &err);
    if (rc == 0) {
        if (op == ENCRYPT) {
            cm_op_encrypt_opts o = {CM_PROFILE_LORENZ_CHACHA20, nullptr, 0};
            rc = cm_op_encrypt_file(&app, plain.c_str(), out.c_str(), &o, &r);
        } else {
            rc = cm_op_decrypt_file(&app, sealed.c_str(), out.c_str(), &r);
        }
    } else {
        r.code = rc;
        r.err = err;
    }
    cm_app_close(&app);
    return rc;
}

size_t live_blocks(std::map<void *, size_t> *callers)
{
    size_t n = 0;
    for (size_t i = 0; i < kSlots; ++i)
        if (table[i].p != nullptr && table[i].p != kTomb) {
            ++n;
            if (callers != nullptr)
                (*callers)[table[i].caller] += table[i].size;
        }
    return n;
}

void clear_table()
{
    memset(table, 0, kSlots * sizeof(Slot));
}

/* One armed run failing allocation n (0: none); returns the allocations it made. */
long armed_run(Op op, long n, const std::string &out, cm_op_result &r, size_t &left)
{
    clear_table();
    calls = spared = 0;
    fail_at = n;
    armed = true;
    run(op, out, r);
    armed = false;
    /* OpenSSL keeps the last errors (with their text) per thread, a bounded queue: emptied
     * here so that its entries are not taken for leaks */
    ERR_clear_error();
    left = live_blocks(nullptr);
    return calls;
}

/* Sweeps op over every allocation; returns how many there were. */
long sweep(Op op, const char *name)
{
    const std::string input = op == ENCRYPT ? plain : sealed;
    const std::vector<uint8_t> input_bytes = slurp(input), expected = slurp(plain);
    const std::string out = outdir + "/" + name + ".dcm";
    cm_op_result r;
    size_t left = 0;
    /* warm-up: the libraries' caches exist before counting starts */
    armed_run(op, 0, out, r, left);
    CHECK_EQ_INT(r.code, 0);
    unlink(out.c_str());
    const long total = armed_run(op, 0, out, r, left);
    const long dcmtk_throwing = spared;
    CHECK_EQ_INT(r.code, 0);
    CHECK_EQ_INT(left, 0);
    unlink(out.c_str());
    std::map<int, long> codes;
    std::map<int, std::string> examples;
    long recovered = 0;
    for (long n = 1; n <= total; ++n) {
        armed_run(op, n, out, r, left);
        if (left > 0) { /* a cache filled now, or a leak: the identical run tells */
            unlink(out.c_str());
            armed_run(op, n, out, r, left);
        }
        std::map<void *, size_t> callers;
        live_blocks(&callers);
        bool dcmtk_only = left > 0 && library_of(failed_caller) == DCMTK;
        bool openssl_only = left > 0 && r.code == 0;
        for (const auto &c : callers) {
            dcmtk_only = dcmtk_only && library_of(c.first) == DCMTK;
            openssl_only = openssl_only && library_of(c.first) == OPENSSL;
        }
        if (dcmtk_only) {
            ++dcmtk_leaks;
        } else if (openssl_only) {
            ++openssl_leaks;
        } else if (left > 0) {
            fprintf(stderr, "%s, allocation %ld of %ld failed (%d: %s): %zu block(s) left behind, allocated at:\n",
                    name, n, total, r.code, r.err.msg, left);
            for (const auto &c : callers)
                fprintf(stderr, "  %s (%zu bytes)\n", where(c.first).c_str(), c.second);
            fprintf(stderr, "  the failed allocation, asked for by %s:\n", where(failed_caller).c_str());
            for (int i = 0; i < failed_depth; ++i)
                fprintf(stderr, "    %s\n", where(failed_frames[i]).c_str());
            ++leaks;
        }
        CHECK(slurp(input) == input_bytes);
        CHECK_EQ_INT(temporary_files(outdir), 0);
        /* encrypt writes its output, then records it: when only the record fails, the command
         * fails with the output complete (encrypted, so nothing is exposed); decrypt records
         * first, so a decrypted file never exists without its record */
        const bool recorded_after = op == ENCRYPT && r.code != 0 && r.wrote && strstr(r.err.msg, "audit log");
        if (r.code == 0 || recorded_after) {
            recovered += r.code == 0;
            if (op == DECRYPT) {
                CHECK(slurp(out) == expected);
            } else {
                const std::vector<uint8_t> sealed_bytes = slurp(out);
                static const char mark[] = "CHAOSMASK ENCRYPTED";
                if (std::search(sealed_bytes.begin(), sealed_bytes.end(), mark, mark + sizeof mark - 1) ==
                    sealed_bytes.end()) {
                    fprintf(stderr, "encrypt, allocation %ld of %ld failed: the output lacks the mark that says "
                            "it is encrypted\n", n, total);
                    exit(1);
                }
                cm_op_result d;
                const std::string back = outdir + "/back.dcm";
                std::string saved = sealed;
                sealed = out;
                int rc = run(DECRYPT, back, d);
                sealed = saved;
                if (rc != 0 || slurp(back) != expected) {
                    fprintf(stderr, "encrypt, allocation %ld of %ld failed, yet encrypt wrote: its output %s (%s)\n", n,
                            total, rc ? "does not decrypt" : "decrypts to other bytes", d.err.msg);
                    exit(1);
                }
                unlink(back.c_str());
            }
            unlink(out.c_str());
        }
        if (r.code != 0) {
            if (r.err.msg[0] == '\0' || (exists(out) && !recorded_after)) {
                fprintf(stderr, "%s, allocation %ld of %ld failed: code %d, message \"%s\", output %s\n", name, n,
                        total, r.code, r.err.msg, exists(out) ? "written" : "absent");
                exit(1);
            }
            /* running out of memory is never reported as tampering, policy or a bad command */
            const cm_outcome o = cm_outcome_of(r.code);
            if (o != CM_OUT_INTERNAL && o != CM_OUT_IO && o != CM_OUT_CONFIG && o != CM_OUT_INPUT) {
                fprintf(stderr, "%s, allocation %ld of %ld failed: reported as %s (%d: %s)\n", name, n, total,
                        cm_exit_table()[o].name, r.code, r.err.msg);
                exit(1);
            }
            if (codes[r.code]++ == 0)
                examples[r.code] = r.err.msg;
        }
    }
    printf("%s: each of %ld allocations failed in turn (and %ld of DCMTK's throwing ones counted, not failed): "
           "%ld runs recovered, the others failed with", name, total, dcmtk_throwing, recovered);
    for (const auto &c : codes)
        printf(" %d (%s) x%ld", c.first, cm_exit_table()[cm_outcome_of(c.first)].name, c.second);
    printf("; no output, no temporary file\n");
    for (const auto &e : examples)
        printf("  %d, e.g.: %s\n", e.first, e.second.c_str());
    return total;
}

} // namespace

int main()
{
    dl_iterate_phdr(add_ranges, nullptr);
    CHECK(nranges > 0);
    if (const char *t = getenv("CHAOSMASK_ALLOC_TRACE"))
        trace_at = atol(t);
    CHECK(CRYPTO_set_mem_functions(crypto_malloc, crypto_realloc, crypto_free) == 1);
    void *mem = mmap(nullptr, kSlots * sizeof(Slot), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(mem != MAP_FAILED);
    table = static_cast<Slot *>(mem);
    OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
    fixture_init();
    ring = fx_path("ring");
    config = fx_path("chaosmask.ini");
    audit_log = fx_path("audit.log");
    plain = fx_path("plain.dcm");
    sealed = fx_path("sealed.dcm");
    outdir = fx_path("out");
    CHECK(mkdir(ring.c_str(), 0700) == 0 && mkdir(outdir.c_str(), 0755) == 0);
    fx_write(fx_path("ring/site.key"), "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n", 0600);
    fx_write(fx_path("ring/active"), "site\n", 0644);
    std::string ini = "[keyring]\ndir = " + ring + "\n[log]\nlevel = fatal\naudit = " + audit_log +
                      "\n[engine]\nthreads = 1\n";
    fx_write(config.c_str(), ini.c_str(), 0600);
    write_object(plain);
    cm_op_result r;
    CHECK_EQ_INT(run(ENCRYPT, sealed, r), 0);

    sweep(ENCRYPT, "encrypt");
    sweep(DECRYPT, "decrypt");
    printf("runs that left blocks inside DCMTK: %ld, inside OpenSSL (successful runs): %ld; of ours: %ld\n",
           dcmtk_leaks, openssl_leaks, leaks);
    if (leaks > 0) {
        fprintf(stderr, "%ld run(s) left blocks of ours behind\n", leaks);
        return 1;
    }
    puts("ok");
    return 0;
}
