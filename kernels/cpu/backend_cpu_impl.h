/* backend_cpu_impl.h - what the files of the CPU backend share (private to
 * backend_cpu.c and backend_cpu_eval.c; callers use backend_cpu.h). */
#ifndef GQ_BACKEND_CPU_IMPL_H
#define GQ_BACKEND_CPU_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "backend_cpu.h"
#include "gk_ops.h"
#include "gk_pool.h"

/* what a gb_buffer's data is (backend_cpu.c) */
enum { BUF_VIEW = 0, BUF_HEAP = 1, BUF_HUGE = 2 };

struct gb_buffer {
    uint8_t *data;
    uint64_t bytes;
    int owned;                   /* BUF_VIEW: host bytes of a prepared weight; BUF_HEAP: ours (alloc);
                                    BUF_HUGE: a prepared weight's copy on huge pages (gk_hugepages.h) */
    int streamed;                /* a prepared weight read whole by every token (not gathered) */
    struct gb_buffer *prev, *next;
};

typedef struct {
    gk_pool *pool;
    gb_numerics numerics;
    struct gb_buffer *live;      /* every buffer not yet released */
    double *lp;                  /* score scratch: 2 * lp_cap doubles */
    size_t lp_cap;
    uint64_t read_seq;           /* GB_READ's expert sequence (xorshift state) */
    uint64_t read_sum;           /* GB_READ's reads, summed so that they happen */
} cpu_ctx;

#define LIVE_OR_RETURN(b)                                                                                            \
    do {                                                                                                             \
        if ((b)->status != GB_OK)                                                                                    \
            return (b)->status;                                                                                      \
    } while (0)

/* The host address of `bytes` bytes at r, or GB_ERR_INVALID (via gb_fail)
 * when they do not lie inside r's buffer. */
gb_status cpu_at(gb_backend *b, gb_ref r, uint64_t bytes, const char *what, void **p);
/* GB_ERR_NOMEM: "out of memory: WHAT needs BYTES bytes". */
gb_status cpu_nomem(gb_backend *b, const char *what, uint64_t bytes);

/* ptr = the host address of r (bytes long), or return the failure */
#define AT(ref, bytes, what, ptr)                                                                                    \
    do {                                                                                                             \
        void *p_ = NULL;                                                                                             \
        gb_status s_ = cpu_at(b, (ref), (bytes), (what), &p_);                                                       \
        if (s_ != GB_OK)                                                                                             \
            return s_;                                                                                               \
        (ptr) = p_;                                                                                                  \
    } while (0)

/* backend_cpu_eval.c: the perplexity reductions, the bandwidth probe, the huge-page share */
gb_status cpu_score(gb_backend *b, gb_ref logits, int n, int vocab, const gb_score_in *in, gb_score_out *out);
gb_status cpu_read_bandwidth(gb_backend *b, uint64_t bytes, double *bytes_per_s);
double cpu_weights_huge_fraction(gb_backend *b);
/* and GB_READ's instrument (backend_cpu.h): a product's or the experts'
 * weight bytes read by the tasks that would multiply them, outputs the bias;
 * k distinct experts of n from the backend's fixed pseudo-random sequence */
void cpu_product_read(gb_backend *b, const gk_mat *m, const float *bias, int n, float *out, int64_t out_stride);
void cpu_matvec_many_read(gb_backend *b, const gk_matvec_job *jobs, int n);
void cpu_route_read(gb_backend *b, int n, int k, int *idx, float *w);

#endif
