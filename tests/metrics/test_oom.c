/* test_oom.c - the analysis when memory runs out: the n-th allocation made by the research
 * library (or the engine under it) fails, for n = 0, 1, 2, ... until a run needs no more.
 * Every run must end in success or in CM_RESEARCH_EINTERNAL / CM_RESEARCH_EIO with a message,
 * and once cm_analysis_free has run not one allocation may be left.  The program is linked
 * with --wrap for malloc, calloc, realloc and free, so it counts the allocations of its own
 * objects and static libraries (libpng, cairo and libc keep their allocator).
 * usage: test_oom WORKDIR */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chaosmask/chaosmask.h"
#include "chaosmask/research/analysis.h"
#include "chaosmask/research/analyze.h"
#include "chaosmask/research/phantoms.h"
#include "../check.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);

static long fail_at = -1, calls, live;

void *__wrap_malloc(size_t n)
{
    if (calls++ == fail_at)
        return NULL;
    void *p = __real_malloc(n);
    live += p != NULL;
    return p;
}

void *__wrap_calloc(size_t n, size_t size)
{
    if (calls++ == fail_at)
        return NULL;
    void *p = __real_calloc(n, size);
    live += p != NULL;
    return p;
}

void *__wrap_realloc(void *p, size_t n)
{
    if (calls++ == fail_at)
        return NULL;
    void *q = __real_realloc(p, n);
    live += q != NULL && p == NULL;
    return q;
}

void __wrap_free(void *p)
{
    live -= p != NULL;
    __real_free(p);
}

/* The analyze command's work: run, then every file.  0 or the failing step's status. */
static int pipeline(const cm_raster *plain, int mode, const char *dir, char *err, size_t errlen)
{
    cm_analysis a;
    int rc = cm_analysis_run(&a, plain, "oom", mode, err, errlen);
    if (rc == 0)
        rc = cm_analyze_write(&a, dir, err, errlen);
    cm_analysis_free(&a);
    return rc;
}

/* Fails each allocation of the pipeline in turn; returns how many there were. */
static long fail_each(const cm_raster *plain, int mode, const char *dir)
{
    for (long n = 0;; n++) {
        char err[1024] = "";
        long before = live;
        fail_at = n;
        calls = 0;
        int rc = pipeline(plain, mode, dir, err, sizeof err);
        int injected = calls > n;
        fail_at = -1;
        if (rc != 0 && !(rc == CM_RESEARCH_EINTERNAL || rc == CM_RESEARCH_EIO)) {
            fprintf(stderr, "allocation %ld failed: unexpected status %d (%s)\n", n, rc, err);
            exit(1);
        }
        if (rc != 0 && err[0] == '\0') {
            fprintf(stderr, "allocation %ld failed: status %d without a message\n", n, rc);
            exit(1);
        }
        if (live != before) {
            fprintf(stderr, "allocation %ld failed (%s): %ld allocation(s) left behind\n", n,
                    rc ? err : "run succeeded", live - before);
            exit(1);
        }
        if (!injected) {
            CHECK_EQ_INT(rc, 0);
            return n;
        }
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_oom WORKDIR\n");
        return 2;
    }
    cm_raster gray16, rgb8;
    CHECK_EQ_INT(cm_phantom_make(&gray16, CM_PHANTOM_SHEPP_LOGAN, 24, 16), 0);
    CHECK_EQ_INT(cm_phantom_make(&rgb8, CM_PHANTOM_BLOOD_SMEAR, 24, 8), 0);
    long n = fail_each(&gray16, CM_PROFILE_LORENZ_CHACHA20, argv[1]);
    printf("16-bit gray, lorenz-chacha20: each of %ld allocations failed in turn, nothing left behind\n", n);
    n = fail_each(&rgb8, CM_ANALYSIS_MODE_ANALOG, argv[1]);
    printf("8-bit RGB, analog channel: each of %ld allocations failed in turn, nothing left behind\n", n);
    cm_raster_free(&gray16);
    cm_raster_free(&rgb8);
    printf("all out-of-memory checks passed\n");
    return 0;
}
