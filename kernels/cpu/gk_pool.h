/* gk_pool.h - a persistent worker pool for the CPU kernels.
 *
 * Threads are created once (gk_pool_create) and reused for every parallel
 * operation: a decode step issues a few hundred short parallel loops, and a
 * thread per call would cost more than the work. gk_pool_run hands out task
 * indices 0..n_tasks-1 dynamically (an atomic counter), the calling thread
 * works too, and it returns when every task has finished.
 *
 * Promises: each task runs exactly once; `thread` (0..size-1) is stable for
 * the duration of a task so it can index per-thread scratch; a pool of size 1
 * runs everything on the caller, in order. Not re-entrant: one run at a time.
 */
#ifndef GK_POOL_H
#define GK_POOL_H

typedef struct gk_pool gk_pool;
typedef void (*gk_task_fn)(void *ctx, int task, int thread);

/* n_threads counts the caller; <= 0 means one per online CPU. NULL on failure. */
gk_pool *gk_pool_create(int n_threads);
void gk_pool_destroy(gk_pool *p);
int gk_pool_size(const gk_pool *p);
void gk_pool_run(gk_pool *p, gk_task_fn fn, void *ctx, int n_tasks);

#endif
