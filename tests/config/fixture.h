/* fixture.h - scratch directories and files for the config tests.  Everything is created
 * under a fresh mkdtemp() directory at run time and removed at exit; no key is ever
 * committed. */
#ifndef CHAOSMASK_TESTS_CONFIG_FIXTURE_H
#define CHAOSMASK_TESTS_CONFIG_FIXTURE_H

#ifndef _GNU_SOURCE /* nftw, mkdtemp (C++ compilers define it already) */
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chaosmask/config.h" /* CM_PATH_MAX */
#include "check.h"

static char fixture_root[CM_PATH_MAX];

static inline int fixture_rm_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    if (type == FTW_DP)
        return rmdir(path);
    return unlink(path);
}

static inline void fixture_cleanup(void)
{
    if (fixture_root[0] != '\0') {
        if (chdir("/") != 0)
            perror("chdir /");
        nftw(fixture_root, fixture_rm_one, 16, FTW_DEPTH | FTW_PHYS);
    }
}

/* Creates the scratch directory (physical path, no symlinks) and returns it. */
static inline const char *fixture_init(void)
{
    const char *tmp = getenv("TMPDIR");
    char pattern[CM_PATH_MAX];
    snprintf(pattern, sizeof pattern, "%s/cm-config-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    CHECK(mkdtemp(pattern) != NULL);
    CHECK(realpath(pattern, fixture_root) != NULL);
    atexit(fixture_cleanup);
    return fixture_root;
}

/* fixture_root + "/" + printf(fmt, ...) in one of 8 rotating static buffers: copy a result
 * that must outlive the next 7 calls. */
static inline const char *fx_path(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline const char *fx_path(const char *fmt, ...)
{
    static char bufs[8][CM_PATH_MAX];
    static int next;
    char *out = bufs[next++ % 8];
    int n = snprintf(out, CM_PATH_MAX, "%s/", fixture_root);
    CHECK(n > 0 && n < CM_PATH_MAX);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out + n, CM_PATH_MAX - (size_t)n, fmt, ap);
    va_end(ap);
    return out;
}

static inline void fx_write_bytes(const char *path, const void *data, size_t len, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    CHECK(write(fd, data, len) == (ssize_t)len);
    CHECK(fchmod(fd, mode) == 0);
    CHECK(close(fd) == 0);
}

static inline void fx_write(const char *path, const char *text, mode_t mode)
{
    fx_write_bytes(path, text, strlen(text), mode);
}

static inline void fx_mkdir(const char *path, mode_t mode)
{
    CHECK(mkdir(path, mode) == 0);
    CHECK(chmod(path, mode) == 0); /* not reduced by the umask */
}

/* Reads a small file whole; returns its length, -1 when it cannot be opened. */
static inline long fx_read(const char *path, char *buf, size_t bufsz)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -1;
    size_t n = fread(buf, 1, bufsz - 1, f);
    fclose(f);
    buf[n] = '\0';
    return (long)n;
}

static inline int fx_contains(const char *haystack, const char *needle)
{
    if (strstr(haystack, needle) == NULL) {
        fprintf(stderr, "message \"%s\"\n  does not contain \"%s\"\n", haystack, needle);
        return 0;
    }
    return 1;
}

#endif
