/* The application's worker pool (plugin/app/pool.c).
 *   - pthread_create failing after the first worker (GNU ld's --wrap): the pool starts with
 *     what it got, and in-place cm_seal / cm_open over 8 frames through a 4-thread pool still
 *     process every frame;
 *   - 0 / 1 / n threads: 0 means one per CPU, 1 runs every job on the caller's thread, n gives
 *     n threads that really run at the same time;
 *   - a job that runs a batch on its own pool gets it inline, on its own thread (no deadlock);
 *   - many small batches, and batches from several threads at once, each job exactly once;
 *   - a failing job's result comes back, and run() never returns while a started job runs. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chaosmask/app_pool.h"
#include "chaosmask/chaosmask.h"
#include "check.h"

int __real_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg);
int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg);

static int fail_after = -1; /* < 0: never fail */
static int created;

int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg)
{
    if (fail_after >= 0 && created >= fail_after)
        return EAGAIN;
    created++;
    return __real_pthread_create(t, a, fn, arg);
}

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void thread_start_failure(void)
{
    enum { FRAME = 4096, FRAMES = 8, LEN = FRAME * FRAMES };
    static uint8_t plain[LEN], buf[LEN];
    uint8_t key[CM_KEYBYTES] = {5}, nonce[CM_NONCEBYTES] = {6}, tag[CM_TAGBYTES], st[FRAMES * CM_SEGTAGBYTES];
    for (size_t i = 0; i < LEN; i++)
        plain[i] = (uint8_t)(i * 13 + (i >> 7));
    fail_after = 1;
    created = 0;
    cm_pool *pool;
    CHECK_EQ_INT(cm_pool_create(&pool, 4), 0);
    CHECK_EQ_INT(created, 1);
    CHECK_EQ_INT(cm_pool_threads(pool), 2); /* the worker that started, and the caller */
    for (int profile = CM_PROFILE_LORENZ; profile <= CM_PROFILE_AES_256_GCM; profile++) {
        cm_params p = {profile, 2, FRAME, cm_pool_executor(pool)};
        memcpy(buf, plain, LEN);
        CHECK_EQ_INT(cm_seal(buf, st, tag, buf, LEN, &p, key, nonce, NULL, 0), CM_OK);
        for (int f = 0; f < FRAMES; f++) /* every frame was masked, none left as plaintext */
            CHECK(memcmp(buf + f * FRAME, plain + f * FRAME, FRAME) != 0);
        CHECK_EQ_INT(cm_open(buf, buf, LEN, st, tag, &p, key, nonce, NULL, 0), CM_OK);
        CHECK(memcmp(buf, plain, LEN) == 0);
    }
    cm_pool_destroy(pool);
    CHECK_EQ_INT(created, 1); /* workers are reused, never started per batch */
    fail_after = -1;
    /* no worker at all: the caller's thread does everything */
    fail_after = 0;
    CHECK_EQ_INT(cm_pool_create(&pool, 3), 0);
    CHECK_EQ_INT(cm_pool_threads(pool), 1);
    cm_params p = {CM_PROFILE_LORENZ_CHACHA20, 2, FRAME, cm_pool_executor(pool)};
    memcpy(buf, plain, LEN);
    CHECK_EQ_INT(cm_seal(buf, st, tag, buf, LEN, &p, key, nonce, NULL, 0), CM_OK);
    CHECK_EQ_INT(cm_open(buf, buf, LEN, st, tag, &p, key, nonce, NULL, 0), CM_OK);
    CHECK(memcmp(buf, plain, LEN) == 0);
    cm_pool_destroy(pool);
    fail_after = -1;
    printf("thread start failures: a 4-thread pool started with 2, and with 1; every frame processed\n");
}

/* ---- 0 / 1 / n ---- */

typedef struct rendezvous {
    atomic_int arrived;
    int needed;
    pthread_t threads[16];
    atomic_int all_met;
} rendezvous;

/* Waits (up to 10 s) until `needed` jobs are inside at the same time: only true parallelism
 * gets there. */
static int meet(void *ctx, size_t i)
{
    rendezvous *r = ctx;
    r->threads[i] = pthread_self();
    atomic_fetch_add(&r->arrived, 1);
    const double deadline = now() + 10;
    while (atomic_load(&r->arrived) < r->needed && now() < deadline)
        sleep_us(100);
    if (atomic_load(&r->arrived) >= r->needed)
        atomic_store(&r->all_met, 1);
    return 0;
}

static int record_thread(void *ctx, size_t i)
{
    ((pthread_t *)ctx)[i] = pthread_self();
    return 0;
}

static void thread_counts(void)
{
    cm_pool *pool;
    CHECK_EQ_INT(cm_pool_create(&pool, 0), 0);
    CHECK(cm_pool_cpu_count() >= 1);
    CHECK_EQ_INT(cm_pool_threads(pool), cm_pool_cpu_count());
    cm_pool_destroy(pool);

    CHECK_EQ_INT(cm_pool_create(&pool, 1), 0);
    CHECK_EQ_INT(cm_pool_threads(pool), 1);
    pthread_t seen[64];
    const cm_executor *ex = cm_pool_executor(pool);
    CHECK_EQ_INT(ex->run(ex->self, 64, record_thread, seen), 0);
    for (int i = 0; i < 64; i++)
        CHECK(pthread_equal(seen[i], pthread_self()));
    cm_pool_destroy(pool);

    const int n = 3;
    CHECK_EQ_INT(cm_pool_create(&pool, (unsigned)n), 0);
    CHECK_EQ_INT(cm_pool_threads(pool), n);
    ex = cm_pool_executor(pool);
    rendezvous r = {.needed = n};
    CHECK_EQ_INT(ex->run(ex->self, (size_t)n, meet, &r), 0);
    CHECK(atomic_load(&r.all_met));
    for (int i = 0; i < n; i++) /* n different threads, the caller among them */
        for (int j = 0; j < i; j++)
            CHECK(!pthread_equal(r.threads[i], r.threads[j]));
    int caller_worked = 0;
    for (int i = 0; i < n; i++)
        caller_worked |= pthread_equal(r.threads[i], pthread_self());
    CHECK(caller_worked);
    cm_pool_destroy(pool);

    cm_pool_destroy(NULL);
    CHECK(cm_pool_executor(NULL) == NULL);
    CHECK_EQ_INT(cm_pool_threads(NULL), 1);
    CHECK_EQ_INT(cm_pool_create(NULL, 2), CM_EINVAL);
    printf("threads: 0 = %u CPUs, 1 = the caller only, %d = %d threads at once\n", cm_pool_cpu_count(), n, n);
}

/* ---- nesting ---- */

typedef struct nest {
    const cm_executor *ex;
    pthread_t outer[8];
    pthread_t inner[8][16];
    atomic_int inner_jobs;
} nest;

typedef struct inner_ctx {
    nest *n;
    size_t outer_index;
} inner_ctx;

static int inner_job(void *ctx, size_t i)
{
    inner_ctx *c = ctx;
    c->n->inner[c->outer_index][i] = pthread_self();
    atomic_fetch_add(&c->n->inner_jobs, 1);
    return 0;
}

static int outer_job(void *ctx, size_t i)
{
    nest *n = ctx;
    n->outer[i] = pthread_self();
    inner_ctx c = {n, i};
    return n->ex->run(n->ex->self, 16, inner_job, &c);
}

static void nesting(void)
{
    cm_pool *pool;
    CHECK_EQ_INT(cm_pool_create(&pool, 3), 0);
    nest n = {.ex = cm_pool_executor(pool)};
    CHECK_EQ_INT(n.ex->run(n.ex->self, 8, outer_job, &n), 0);
    CHECK_EQ_INT(atomic_load(&n.inner_jobs), 8 * 16);
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 16; j++)
            CHECK(pthread_equal(n.inner[i][j], n.outer[i])); /* inline on the job's own thread */
    cm_pool_destroy(pool);
    printf("nesting: 8 jobs each ran a batch of 16 inline, no deadlock\n");
}

/* ---- many batches, several callers ---- */

typedef struct counting {
    atomic_int hits[64];
} counting;

static int count_job(void *ctx, size_t i)
{
    atomic_fetch_add(&((counting *)ctx)->hits[i], 1);
    return 0;
}

typedef struct caller_arg {
    const cm_executor *ex;
    int batches;
    int ok;
} caller_arg;

static void *caller_main(void *arg)
{
    caller_arg *a = arg;
    a->ok = 1;
    for (int b = 0; b < a->batches && a->ok; b++) {
        counting c;
        const size_t count = 1 + (size_t)b % 40;
        for (size_t i = 0; i < 64; i++)
            atomic_init(&c.hits[i], 0);
        if (a->ex->run(a->ex->self, count, count_job, &c) != 0)
            a->ok = 0;
        for (size_t i = 0; i < 64; i++)
            if (atomic_load(&c.hits[i]) != (i < count ? 1 : 0))
                a->ok = 0;
    }
    return NULL;
}

static void many_batches(void)
{
    cm_pool *pool;
    CHECK_EQ_INT(cm_pool_create(&pool, 4), 0);
    caller_arg one = {cm_pool_executor(pool), 5000, 0};
    caller_main(&one);
    CHECK(one.ok);
    enum { CALLERS = 4 };
    pthread_t t[CALLERS];
    caller_arg args[CALLERS];
    for (int i = 0; i < CALLERS; i++) {
        args[i] = (caller_arg){cm_pool_executor(pool), 1000, 0};
        CHECK_EQ_INT(pthread_create(&t[i], NULL, caller_main, &args[i]), 0);
    }
    for (int i = 0; i < CALLERS; i++) {
        CHECK_EQ_INT(pthread_join(t[i], NULL), 0);
        CHECK(args[i].ok);
    }
    cm_pool_destroy(pool);
    printf("batches: 5000 from one thread, 4 x 1000 from four at once, every job exactly once\n");
}

/* ---- failures ---- */

typedef struct failing {
    atomic_int started[64];
    atomic_int finished[64];
    size_t fail_at[2];
} failing;

static int failing_job(void *ctx, size_t i)
{
    failing *f = ctx;
    atomic_store(&f->started[i], 1);
    sleep_us(200 * (long)(i % 4)); /* jobs still running when another one fails */
    int rc = 0;
    if (i == f->fail_at[0])
        rc = -42;
    else if (i == f->fail_at[1])
        rc = -43;
    atomic_store(&f->finished[i], 1);
    return rc;
}

static void job_failures(void)
{
    cm_pool *pool;
    CHECK_EQ_INT(cm_pool_create(&pool, 4), 0);
    const cm_executor *ex = cm_pool_executor(pool);
    for (int round = 0; round < 50; round++) {
        failing f;
        for (int i = 0; i < 64; i++) {
            atomic_init(&f.started[i], 0);
            atomic_init(&f.finished[i], 0);
        }
        f.fail_at[0] = (size_t)round % 64;
        f.fail_at[1] = round % 2 ? (size_t)(round * 7 + 3) % 64 : 999;
        const int rc = ex->run(ex->self, 64, failing_job, &f);
        for (int i = 0; i < 64; i++) /* nothing still running once run() is back */
            CHECK_EQ_INT(atomic_load(&f.started[i]), atomic_load(&f.finished[i]));
        if (f.fail_at[1] >= 64) { /* one failure: nothing is skipped before it runs */
            CHECK_EQ_INT(rc, -42);
        } else { /* two: the first seen wins, the other may have been skipped */
            CHECK(rc == -42 || rc == -43);
            CHECK(atomic_load(&f.started[f.fail_at[rc == -42 ? 0 : 1]]));
        }
    }
    /* through the engine: a frame that fails on a worker is cm_open's result, and the whole
     * buffer is wiped, frames opened by other threads included */
    uint8_t key[CM_KEYBYTES] = {1}, nonce[CM_NONCEBYTES] = {2}, buf[4096] = {0}, st[4 * CM_SEGTAGBYTES], tag[CM_TAGBYTES];
    cm_params p = {CM_PROFILE_LORENZ, 1, 1024, ex};
    CHECK_EQ_INT(cm_seal(buf, st, tag, buf, sizeof buf, &p, key, nonce, NULL, 0), CM_OK);
    buf[3000] ^= 1; /* frame 2 fails its check: cm_open reports it and wipes everything */
    CHECK_EQ_INT(cm_open(buf, buf, sizeof buf, st, tag, &p, key, nonce, NULL, 0), CM_EAUTH);
    for (size_t i = 0; i < sizeof buf; i++)
        CHECK_EQ_INT(buf[i], 0);
    cm_pool_destroy(pool);
    printf("failures: the failing job's result is run()'s, no job outlives run()\n");
}

int main(void)
{
    thread_start_failure();
    thread_counts();
    nesting();
    many_batches();
    job_failures();
    return 0;
}
