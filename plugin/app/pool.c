/* pool.c - the worker pool behind cm_pool_executor(): workers started once, batches of jobs
 * shared between the workers and the thread that asked for them.
 *
 * One mutex guards the pool.  Each run() puts a batch (on the caller's stack) on the pool's
 * list; workers take the next unstarted job of the oldest batch that has one, the caller takes
 * jobs of its own batch only, and returns when its batch has no unstarted job and none
 * running.  Jobs are frames (tens of microseconds and up), so one lock round trip per job
 * costs nothing measurable. */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "chaosmask/app_pool.h"

/* More workers than this is a configuration error, not a wish: the config allows 1024. */
#define POOL_MAX_THREADS 1024u

typedef struct batch {
    struct batch *next;     /* the pool's list of batches in progress, oldest first */
    cm_job_fn job;
    void *ctx;
    size_t count;
    size_t next_index;      /* first job not yet started; count when all started or skipped */
    size_t running;         /* jobs started by workers and not yet finished */
    int result;             /* first failure, 0 until then */
    pthread_t caller;
} batch;

struct cm_pool {
    cm_executor executor;
    pthread_mutex_t lock;
    pthread_cond_t work; /* workers: a batch has unstarted jobs, or the pool stops */
    pthread_cond_t done; /* callers: a worker finished the last running job of a batch */
    batch *batches;      /* in progress, oldest first */
    int stop;
    unsigned nworkers;
    pthread_t *workers;
};

static batch *first_pending(const cm_pool *p)
{
    for (batch *b = p->batches; b != NULL; b = b->next)
        if (b->next_index < b->count)
            return b;
    return NULL;
}

static void batch_failed(batch *b, int rc)
{
    if (b->result == 0)
        b->result = rc;
    b->next_index = b->count; /* skip what has not started: the batch has failed anyway */
}

static void *worker_main(void *arg)
{
    cm_pool *p = arg;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        batch *b;
        while (!p->stop && (b = first_pending(p)) == NULL)
            pthread_cond_wait(&p->work, &p->lock);
        if (p->stop)
            break;
        const size_t i = b->next_index++;
        b->running++;
        pthread_mutex_unlock(&p->lock);
        const int rc = b->job(b->ctx, i);
        pthread_mutex_lock(&p->lock);
        if (rc != 0)
            batch_failed(b, rc);
        if (--b->running == 0)
            pthread_cond_broadcast(&p->done);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

static int run_inline(size_t count, cm_job_fn job, void *ctx)
{
    for (size_t i = 0; i < count; i++) {
        const int rc = job(ctx, i);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int is_worker(const cm_pool *p, pthread_t self)
{
    for (unsigned i = 0; i < p->nworkers; i++)
        if (pthread_equal(p->workers[i], self))
            return 1;
    return 0;
}

/* Called with the lock held: is this thread running a batch of this pool already? */
static int is_caller(const cm_pool *p, pthread_t self)
{
    for (const batch *b = p->batches; b != NULL; b = b->next)
        if (pthread_equal(b->caller, self))
            return 1;
    return 0;
}

static void unlink_batch(cm_pool *p, batch *b)
{
    for (batch **link = &p->batches; *link != NULL; link = &(*link)->next)
        if (*link == b) {
            *link = b->next;
            return;
        }
}

static int pool_run(void *self, size_t count, cm_job_fn job, void *ctx)
{
    cm_pool *p = self;
    const pthread_t me = pthread_self();
    if (count == 0)
        return 0;
    /* A job of this pool that asks it for more work runs that work itself: waiting for the
     * workers could wait for this very thread. */
    if (p->nworkers == 0 || count == 1 || is_worker(p, me))
        return run_inline(count, job, ctx);
    batch b = {.job = job, .ctx = ctx, .count = count, .caller = me};
    pthread_mutex_lock(&p->lock);
    if (is_caller(p, me)) {
        pthread_mutex_unlock(&p->lock);
        return run_inline(count, job, ctx);
    }
    batch **tail = &p->batches;
    while (*tail != NULL)
        tail = &(*tail)->next;
    *tail = &b;
    pthread_cond_broadcast(&p->work);
    while (b.next_index < b.count) {
        const size_t i = b.next_index++;
        pthread_mutex_unlock(&p->lock);
        const int rc = job(ctx, i);
        pthread_mutex_lock(&p->lock);
        if (rc != 0)
            batch_failed(&b, rc);
    }
    /* every started job must have finished before b (on this stack) goes away */
    while (b.running > 0)
        pthread_cond_wait(&p->done, &p->lock);
    unlink_batch(p, &b);
    pthread_mutex_unlock(&p->lock);
    return b.result;
}

unsigned cm_pool_cpu_count(void)
{
    const long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1u : (unsigned)n;
}

/* Workers never take a process signal: the programs handle signals on their main thread. */
static int start_worker(cm_pool *p, pthread_t *tid)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    const int rc = pthread_create(tid, NULL, worker_main, p);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

int cm_pool_create(cm_pool **out, unsigned threads)
{
    if (out == NULL)
        return CM_EINVAL;
    *out = NULL;
    if (threads == 0)
        threads = cm_pool_cpu_count();
    if (threads > POOL_MAX_THREADS)
        threads = POOL_MAX_THREADS;
    cm_pool *p = calloc(1, sizeof *p);
    if (p == NULL)
        return CM_ENOMEM;
    p->workers = calloc(threads, sizeof *p->workers);
    if (p->workers == NULL)
        goto fail_alloc;
    if (pthread_mutex_init(&p->lock, NULL) != 0)
        goto fail_alloc;
    if (pthread_cond_init(&p->work, NULL) != 0)
        goto fail_mutex;
    if (pthread_cond_init(&p->done, NULL) != 0)
        goto fail_work;
    p->executor.run = pool_run;
    p->executor.self = p;
    /* A thread that cannot start is the system saying it has no more: the caller's thread
     * and the workers already running carry the load. */
    while (p->nworkers + 1 < threads && start_worker(p, &p->workers[p->nworkers]) == 0)
        p->nworkers++;
    *out = p;
    return 0;
fail_work:
    pthread_cond_destroy(&p->work);
fail_mutex:
    pthread_mutex_destroy(&p->lock);
fail_alloc:
    free(p->workers);
    free(p);
    return CM_ENOMEM;
}

void cm_pool_destroy(cm_pool *pool)
{
    if (pool == NULL)
        return;
    pthread_mutex_lock(&pool->lock);
    pool->stop = 1;
    pthread_cond_broadcast(&pool->work);
    pthread_mutex_unlock(&pool->lock);
    for (unsigned i = 0; i < pool->nworkers; i++)
        pthread_join(pool->workers[i], NULL);
    pthread_cond_destroy(&pool->done);
    pthread_cond_destroy(&pool->work);
    pthread_mutex_destroy(&pool->lock);
    free(pool->workers);
    free(pool);
}

unsigned cm_pool_threads(const cm_pool *pool)
{
    return pool == NULL ? 1u : pool->nworkers + 1;
}

const cm_executor *cm_pool_executor(cm_pool *pool)
{
    return pool == NULL ? NULL : &pool->executor;
}
