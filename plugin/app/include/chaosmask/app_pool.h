/*
 * app_pool.h - the application layer's worker pool: threads created once and reused, handed
 * to the engine as a cm_executor so that the frames of an object are processed in parallel.
 *
 * Semantics of the executor (cm_pool_executor):
 *   - run(count, job, ctx) runs job(ctx, i) for every i in [0, count) on the pool's workers and
 *     on the calling thread, and returns once every started job has finished: 0 when all
 *     returned 0, else the first failure seen (jobs not yet started are then skipped).
 *   - run() may be called from any thread.  Callers on different threads are served
 *     concurrently: each caller works on its own batch, the workers take jobs from every
 *     batch in the order the batches arrived; a caller waits only for jobs of its own batch.
 *   - a call from inside a job of the same pool (a nested batch) runs inline on the calling
 *     thread, so a job can never wait for workers that are all waiting for it.
 */
#ifndef CHAOSMASK_APP_POOL_H
#define CHAOSMASK_APP_POOL_H

#include "chaosmask/chaosmask.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cm_pool cm_pool;

/* threads: 0 = one per online CPU, 1 = the caller's thread only, n = n threads in all (n-1
 * workers + the caller).  Workers are created once and reused.  A worker that cannot be
 * started is not an error: the pool works with fewer (the caller's thread always works), and
 * cm_pool_threads() says how many there are.  Returns 0 or CM_ENOMEM (CM_EINVAL when out is
 * NULL); *out is NULL on failure. */
CM_WARN_UNUSED int cm_pool_create(cm_pool **out, unsigned threads);

/* Stops and joins the workers; no run() may be in progress.  NULL is ignored. */
void cm_pool_destroy(cm_pool *pool);

/* Threads that work on a batch: the workers that started, plus the caller's (1 for NULL). */
unsigned cm_pool_threads(const cm_pool *pool);

/* Online CPUs, at least 1: what threads = 0 means. */
unsigned cm_pool_cpu_count(void);

/* The pool as the engine's executor (cm_params.executor); valid while the pool lives.  NULL
 * for a NULL pool, which the engine reads as "the caller's thread". */
const cm_executor *cm_pool_executor(cm_pool *pool);

#ifdef __cplusplus
}
#endif
#endif
