/* fuzz_common.h - what the fuzz harnesses share: the fixed site key of their in-memory key
 * provider, an invariant that fails (reported as a crash, so libFuzzer keeps the input and
 * ctest fails), a private scratch directory for the readers that take a path, and small file
 * and memory-file functions.  Header-only; C and C++.
 *
 * The fixed key is bytes 0xA0, 0xA1, ... 0xBF under the key id "fuzz"; tests/fuzz/make_seeds.py
 * writes the same key into the key ring it encrypts the seed objects with, so the harnesses
 * can verify and decrypt the encrypted seeds and whatever the mutator makes of them.  The
 * provider also knows the published test key of testdata/format1 (id "format1-test", bytes
 * 0x00 ... 0x1F), so the format-1 seeds decrypt too. */
#ifndef CHAOSMASK_FUZZ_COMMON_H
#define CHAOSMASK_FUZZ_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chaosmask/chaosmask.h"
#include "chaosmask/error.h"

#define FUZZ_KEY_ID "fuzz"
#define FUZZ_FORMAT1_KEY_ID "format1-test"
#define FUZZ_UNKNOWN_KEY_CODE (-26) /* CM_CFG_EUNKNOWNKEY: what a key ring answers for another id */

#ifdef __cplusplus
extern "C" {
#endif

/* A failed invariant: the message, then abort() (libFuzzer saves the input as a crash). */
static inline void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static inline void fuzz_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("invariant failed: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

/* A note on what an input did, printed when CHAOSMASK_FUZZ_VERBOSE is set (triage). */
static inline void fuzz_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void fuzz_note(const char *fmt, ...)
{
    static int verbose = -1;
    if (verbose < 0)
        verbose = getenv("CHAOSMASK_FUZZ_VERBOSE") != NULL;
    if (!verbose)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

#define FUZZ_CHECK(cond, ...)         \
    do {                              \
        if (!(cond))                  \
            fuzz_fail(__VA_ARGS__);   \
    } while (0)

static inline void fuzz_key(uint8_t key[CM_KEYBYTES])
{
    for (unsigned i = 0; i < CM_KEYBYTES; i++)
        key[i] = (uint8_t)(0xA0 + i);
}

/* The key provider of dicom.h: the fixed key for "fuzz", the format-1 test key for
 * "format1-test", "not in the key ring" for any other id. */
static inline int fuzz_key_get(void *self, const char *key_id, uint8_t key[CM_KEYBYTES], cm_error *err)
{
    (void)self;
    if (strcmp(key_id, FUZZ_KEY_ID) == 0) {
        fuzz_key(key);
        return 0;
    }
    if (strcmp(key_id, FUZZ_FORMAT1_KEY_ID) == 0) {
        for (unsigned i = 0; i < CM_KEYBYTES; i++)
            key[i] = (uint8_t)i;
        return 0;
    }
    return cm_fail(err, FUZZ_UNKNOWN_KEY_CODE, "key '%s' is not in the key ring", key_id);
}

static char fuzz_scratch[256];

/* Removes the scratch directory and its files (it holds no subdirectories). */
static inline void fuzz_scratch_remove(void)
{
    DIR *d = opendir(fuzz_scratch);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            unlinkat(dirfd(d), e->d_name, 0);
    closedir(d);
    rmdir(fuzz_scratch);
}

/* A scratch directory of this process (mode 0700), created on first use, removed at exit. */
static inline const char *fuzz_scratch_dir(void)
{
    if (fuzz_scratch[0] == '\0') {
        const char *tmp = getenv("TMPDIR");
        snprintf(fuzz_scratch, sizeof fuzz_scratch, "%s/chaosmask-fuzz-XXXXXX",
                 tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
        if (mkdtemp(fuzz_scratch) == NULL)
            fuzz_fail("cannot create a scratch directory: %s", strerror(errno));
        atexit(fuzz_scratch_remove);
    }
    return fuzz_scratch;
}

/* dir/name in the scratch directory. */
static inline const char *fuzz_scratch_path(const char *name, char *buf, size_t bufsz)
{
    snprintf(buf, bufsz, "%s/%s", fuzz_scratch_dir(), name);
    return buf;
}

/* Replaces path with exactly these bytes and this mode. */
static inline void fuzz_write_file(const char *path, const uint8_t *data, size_t size, mode_t mode)
{
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0)
        fuzz_fail("cannot create %s: %s", path, strerror(errno));
    if (fchmod(fd, mode) != 0)
        fuzz_fail("cannot chmod %s: %s", path, strerror(errno));
    size_t done = 0;
    while (done < size) {
        ssize_t n = write(fd, data + done, size - done);
        if (n <= 0)
            fuzz_fail("cannot write %s: %s", path, strerror(errno));
        done += (size_t)n;
    }
    close(fd);
}

/* An anonymous memory file (what the service writes objects to). */
static inline int fuzz_memfd(void)
{
    int fd = memfd_create("chaosmask-fuzz", MFD_CLOEXEC);
    if (fd < 0)
        fuzz_fail("memfd_create: %s", strerror(errno));
    return fd;
}

/* The whole content of fd, malloc'ed (*len bytes); fd is left open. */
static inline uint8_t *fuzz_read_fd(int fd, size_t *len)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        fuzz_fail("fstat: %s", strerror(errno));
    uint8_t *buf = (uint8_t *)malloc(st.st_size > 0 ? (size_t)st.st_size : 1);
    if (buf == NULL)
        fuzz_fail("out of memory");
    size_t done = 0;
    while (done < (size_t)st.st_size) {
        ssize_t n = pread(fd, buf + done, (size_t)st.st_size - done, (off_t)done);
        if (n <= 0)
            fuzz_fail("pread: %s", n < 0 ? strerror(errno) : "short file");
        done += (size_t)n;
    }
    *len = done;
    return buf;
}

#ifdef __cplusplus
}
#endif
#endif
