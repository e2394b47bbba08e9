/* gk_pool.c - persistent worker pool (see gk_pool.h).
 *
 * Workers sleep on a condition variable between runs; a run bumps a
 * generation number and broadcasts. They spin a little before sleeping
 * because the next run usually follows within microseconds during decode,
 * but not for long: the machine may be shared. */
#include "gk_pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#define GK_MAX_THREADS 256
#define GK_SPIN 20000

struct gk_pool {
    int size;
    pthread_t threads[GK_MAX_THREADS];
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    atomic_uint generation;
    atomic_int next_task;
    atomic_int busy;          /* workers still inside the current run */
    int n_tasks;
    gk_task_fn fn;
    void *ctx;
    int quit;
};

typedef struct {
    gk_pool *p;
    int id;
} worker_arg;

static void drain(gk_pool *p, int thread)
{
    for (;;) {
        int t = atomic_fetch_add_explicit(&p->next_task, 1, memory_order_relaxed);
        if (t >= p->n_tasks)
            break;
        p->fn(p->ctx, t, thread);
    }
}

static void *worker(void *argp)
{
    worker_arg *a = argp;
    gk_pool *p = a->p;
    int id = a->id;
    free(a);
    unsigned seen = 0;
    for (;;) {
        unsigned g = 0;
        for (int i = 0; i < GK_SPIN; i++) {
            g = atomic_load_explicit(&p->generation, memory_order_acquire);
            if (g != seen)
                break;
        }
        if (g == seen) {
            pthread_mutex_lock(&p->mu);
            while ((g = atomic_load(&p->generation)) == seen && !p->quit)
                pthread_cond_wait(&p->wake, &p->mu);
            pthread_mutex_unlock(&p->mu);
        }
        if (p->quit)
            return NULL;
        seen = g;
        drain(p, id);
        if (atomic_fetch_sub_explicit(&p->busy, 1, memory_order_acq_rel) == 1) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->mu);
        }
    }
}

gk_pool *gk_pool_create(int n_threads)
{
    if (n_threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        n_threads = n > 0 ? (int)n : 1;
    }
    if (n_threads > GK_MAX_THREADS)
        n_threads = GK_MAX_THREADS;
    gk_pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->size = 1;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    atomic_init(&p->generation, 0);
    atomic_init(&p->next_task, 0);
    atomic_init(&p->busy, 0);
    for (int i = 1; i < n_threads; i++) {
        worker_arg *a = malloc(sizeof *a);
        if (!a)
            break;
        a->p = p;
        a->id = i;
        if (pthread_create(&p->threads[i], NULL, worker, a) != 0) {
            free(a);
            break;
        }
        p->size++;
    }
    return p;
}

void gk_pool_destroy(gk_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    atomic_fetch_add(&p->generation, 1);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->size; i++)
        pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    free(p);
}

int gk_pool_size(const gk_pool *p) { return p ? p->size : 1; }

void gk_pool_run(gk_pool *p, gk_task_fn fn, void *ctx, int n_tasks)
{
    if (n_tasks <= 0)
        return;
    if (!p || p->size == 1 || n_tasks == 1) {
        for (int t = 0; t < n_tasks; t++)
            fn(ctx, t, 0);
        return;
    }
    p->fn = fn;
    p->ctx = ctx;
    p->n_tasks = n_tasks;
    atomic_store(&p->next_task, 0);
    atomic_store(&p->busy, p->size - 1);
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add_explicit(&p->generation, 1, memory_order_release);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    drain(p, 0);
    for (int i = 0; i < GK_SPIN && atomic_load_explicit(&p->busy, memory_order_acquire) > 0; i++)
        ;
    if (atomic_load(&p->busy) > 0) {
        pthread_mutex_lock(&p->mu);
        while (atomic_load(&p->busy) > 0)
            pthread_cond_wait(&p->done, &p->mu);
        pthread_mutex_unlock(&p->mu);
    }
}
