/* iofail.c - I/O failures on demand for chaosmask-iofail, the `chaosmask` command linked with
 * the linker's --wrap for the calls that write and make durable: write, fsync, fdatasync,
 * syncfs, rename, renameat2, link, close, and stdio's fwrite, fflush and fclose (the research
 * outputs write through a stream).  --wrap works the same in the release and the sanitizer
 * build (an LD_PRELOAD library would have to come after AddressSanitizer's runtime, which
 * intercepts these calls itself); it reaches the calls of the command and of its static
 * libraries, which is where every file ChaosMask writes is written.
 *
 * Environment:
 *   CHAOSMASK_IOFAIL_DIR=DIR       only calls on files (or directories) under DIR are counted
 *                                  and failed: the program's stdout and stderr never are;
 *   CHAOSMASK_IOFAIL=CALL:N:HOW    the N-th counted call of CALL fails: HOW is eio, enospc,
 *                                  or short (write and fwrite only: half the bytes are written;
 *                                  a short fwrite is a failed one, as in stdio);
 *   CHAOSMASK_IOFAIL_COUNT=FILE    at exit, "CALL COUNT" lines of the calls counted.
 * CALL is one of the names above; renameat2 and link count as rename. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

ssize_t __real_write(int fd, const void *buf, size_t n);
int __real_fsync(int fd);
int __real_fdatasync(int fd);
int __real_syncfs(int fd);
int __real_rename(const char *from, const char *to);
int __real_renameat2(int olddirfd, const char *from, int newdirfd, const char *to, unsigned int flags);
int __real_link(const char *from, const char *to);
int __real_close(int fd);
size_t __real_fwrite(const void *p, size_t size, size_t n, FILE *f);
int __real_fflush(FILE *f);
int __real_fclose(FILE *f);

enum { WRITE, FSYNC, FDATASYNC, SYNCFS, RENAME, CLOSE, FWRITE, FFLUSH, FCLOSE, NCALLS };
static const char *const names[NCALLS] = {"write", "fsync", "fdatasync", "syncfs", "rename",
                                          "close", "fwrite", "fflush", "fclose"};
static long counts[NCALLS];
static int fail_call = -1;
static long fail_n;
static int fail_errno = EIO, fail_short;
static char dir[PATH_MAX];
static size_t dirlen;

static void report_counts(void)
{
    const char *path = getenv("CHAOSMASK_IOFAIL_COUNT");
    if (path == NULL)
        return;
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return;
    for (int i = 0; i < NCALLS; i++)
        fprintf(f, "%s %ld\n", names[i], counts[i]);
    __real_fclose(f);
}

__attribute__((constructor)) static void configure(void)
{
    const char *d = getenv("CHAOSMASK_IOFAIL_DIR"), *spec = getenv("CHAOSMASK_IOFAIL");
    if (d == NULL || realpath(d, dir) == NULL) {
        dir[0] = '\0';
        return;
    }
    dirlen = strlen(dir);
    atexit(report_counts);
    if (spec == NULL)
        return;
    char call[32] = "", how[32] = "eio";
    if (sscanf(spec, "%31[a-z0-9]:%ld:%31[a-z]", call, &fail_n, how) < 2) {
        fprintf(stderr, "CHAOSMASK_IOFAIL=%s: expected CALL:N[:HOW]\n", spec);
        exit(99);
    }
    for (int i = 0; i < NCALLS; i++)
        if (strcmp(call, names[i]) == 0)
            fail_call = i;
    fail_short = strcmp(how, "short") == 0;
    fail_errno = strcmp(how, "enospc") == 0 ? ENOSPC : EIO;
    if (fail_call < 0 || (!fail_short && strcmp(how, "eio") != 0 && strcmp(how, "enospc") != 0)) {
        fprintf(stderr, "CHAOSMASK_IOFAIL=%s: unknown call or failure\n", spec);
        exit(99);
    }
}

static int under_dir(const char *path)
{
    return dirlen > 0 && strncmp(path, dir, dirlen) == 0 && (path[dirlen] == '/' || path[dirlen] == '\0');
}

/* fd refers to a file or directory under DIR */
static int fd_counted(int fd)
{
    if (dirlen == 0 || fd < 0)
        return 0;
    char link[64], target[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n <= 0)
        return 0;
    target[n] = '\0';
    return under_dir(target);
}

/* path, or the directory it is in when it does not exist yet, is under DIR */
static int path_counted(const char *path)
{
    char real[PATH_MAX];
    if (dirlen == 0)
        return 0;
    if (realpath(path, real) != NULL)
        return under_dir(real);
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", path);
    char *slash = strrchr(parent, '/');
    if (slash == NULL)
        snprintf(parent, sizeof parent, ".");
    else
        *slash = '\0';
    return realpath(parent, real) != NULL && under_dir(real);
}

/* Counts a call that concerns DIR; true when it is the one to fail. */
static int fails(int call, int counted)
{
    return counted && ++counts[call] == fail_n && call == fail_call;
}

ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
    if (fails(WRITE, fd_counted(fd))) {
        if (fail_short && n > 1)
            return __real_write(fd, buf, n / 2);
        if (!fail_short) {
            errno = fail_errno;
            return -1;
        }
    }
    return __real_write(fd, buf, n);
}

int __wrap_fsync(int fd)
{
    if (fails(FSYNC, fd_counted(fd))) {
        errno = fail_errno;
        return -1;
    }
    return __real_fsync(fd);
}

int __wrap_fdatasync(int fd)
{
    if (fails(FDATASYNC, fd_counted(fd))) {
        errno = fail_errno;
        return -1;
    }
    return __real_fdatasync(fd);
}

int __wrap_syncfs(int fd)
{
    if (fails(SYNCFS, fd_counted(fd))) {
        errno = fail_errno;
        return -1;
    }
    return __real_syncfs(fd);
}

int __wrap_rename(const char *from, const char *to)
{
    if (fails(RENAME, path_counted(to))) {
        errno = fail_errno;
        return -1;
    }
    return __real_rename(from, to);
}

int __wrap_renameat2(int olddirfd, const char *from, int newdirfd, const char *to, unsigned int flags)
{
    if (fails(RENAME, path_counted(to))) {
        errno = fail_errno;
        return -1;
    }
    return __real_renameat2(olddirfd, from, newdirfd, to, flags);
}

int __wrap_link(const char *from, const char *to)
{
    if (fails(RENAME, path_counted(to))) {
        errno = fail_errno;
        return -1;
    }
    return __real_link(from, to);
}

/* A close that fails still releases the descriptor (as Linux does after EIO). */
int __wrap_close(int fd)
{
    int writable = fcntl(fd, F_GETFL) >= 0 && (fcntl(fd, F_GETFL) & O_ACCMODE) != O_RDONLY;
    if (fails(CLOSE, writable && fd_counted(fd))) {
        __real_close(fd);
        errno = fail_errno;
        return -1;
    }
    return __real_close(fd);
}

/* A stream whose write failed has its error indicator set, as glibc sets it (ferror reads
 * _IO_ERR_SEEN): what a real failure of the underlying write leaves behind. */
static void stream_error(FILE *f)
{
    f->_flags |= 0x0020; /* _IO_ERR_SEEN */
}

size_t __wrap_fwrite(const void *p, size_t size, size_t n, FILE *f)
{
    if (fails(FWRITE, fd_counted(fileno(f)))) {
        size_t done = fail_short && n > 1 ? __real_fwrite(p, size, n / 2, f) : 0;
        stream_error(f);
        errno = fail_errno;
        return done;
    }
    return __real_fwrite(p, size, n, f);
}

int __wrap_fflush(FILE *f)
{
    if (f != NULL && fails(FFLUSH, fd_counted(fileno(f)))) {
        stream_error(f);
        errno = fail_errno;
        return EOF;
    }
    return __real_fflush(f);
}

/* An fclose that fails still closes the stream. */
int __wrap_fclose(FILE *f)
{
    if (fails(FCLOSE, fd_counted(fileno(f)))) {
        __real_fclose(f);
        errno = fail_errno;
        return EOF;
    }
    return __real_fclose(f);
}
