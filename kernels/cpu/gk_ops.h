/* gk_ops.h - CPU building blocks of the forward pass, on fp32 activations.
 *
 * gk_matmul is the hot one: out[t][r] = W[r] . x[t] (+ bias[r]) for a weight
 * of any block format, parallel over rows on the pool. With one token it
 * streams each row once through gk_dot (memory bound: decode); with several
 * it decodes a few rows to fp32 scratch and reuses them for every token
 * (prefill). The rest are small single-thread helpers the runtime composes.
 * Only quant/ types are used: nothing here knows about models.
 */
#ifndef GK_OPS_H
#define GK_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "gk_pool.h"
#include "quant.h"

/* One weight matrix of `rows` rows x `cols` values in `type`'s layout. */
typedef struct {
    gq_type type;
    const void *data;
    int64_t rows, cols;
    size_t row_bytes;
} gk_mat;

/* out[t * out_stride + r] = dot(W row r, x[t * cols ..]) (+ bias[r]) for
 * t < n, r < rows. pool may be NULL (single thread). Returns 0, or -1 if
 * out of memory or the type has no kernel. */
int gk_matmul(gk_pool *pool, const gk_mat *w, const float *bias, const float *x, int n, float *out,
              int64_t out_stride);
/* The same without AMX: the fp32 FMA tiles (n > 1) or dots (n = 1) whatever
 * the CPU. GB_GGML uses it: llama.cpp multiplies these types on FMA lanes,
 * and AMX's accumulation order moves the sums further from its own (the
 * gguf_llama_proof bound of 1e-5 on the first position failed with AMX). */
int gk_matmul_fma(gk_pool *pool, const gk_mat *w, const float *bias, const float *x, int n, float *out,
                  int64_t out_stride);

/* Several independent matrix-vector products in one parallel run (the
 * experts chosen for one token): out_i = W_i x_i (+ bias_i). */
typedef struct {
    gk_mat w;
    const float *bias;     /* may be NULL */
    const float *x;
    float *out;
} gk_matvec_job;
void gk_matvec_many(gk_pool *pool, const gk_matvec_job *jobs, int n_jobs);
/* The same tasks reading each job's weight rows and computing nothing:
 * out_i = bias_i (or 0). GB_READ's products (backend_cpu.h): a decode's
 * memory traffic without its arithmetic. Returns a sum of the bytes read,
 * only so that the reads cannot be optimized away. */
uint64_t gk_matvec_many_read(gk_pool *pool, const gk_matvec_job *jobs, int n_jobs);

/* The rows of up to GK_JOBS_MAX matvec jobs cut into pool tasks of `per`
 * rows, so one pool run covers all of them (the experts of a token): the
 * exact and the fast gk_matvec_many share it. */
#define GK_JOBS_MAX 64
typedef struct {
    int64_t per;
    int64_t starts[GK_JOBS_MAX + 1]; /* first task of each job; starts[n_jobs]: the task count */
    int n_jobs;
} gk_jobsplit;
/* n_jobs in 1..GK_JOBS_MAX */
void gk_jobsplit_init(gk_jobsplit *s, const gk_matvec_job *jobs, int n_jobs, int threads);
/* the job of `task` (its index) and its rows [*r0, *r1) */
int gk_jobsplit_task(const gk_jobsplit *s, const gk_matvec_job *jobs, int task, int64_t *r0, int64_t *r1);

/* Rows per pool task for `rows` rows on `threads` threads: several tasks per
 * thread (load balance), a multiple of 4 (so prefill tiles start at the same
 * rows whatever the thread count). */
int64_t gk_rows_per_task(int64_t rows, int threads);
/* Rows per pool task of a matrix-vector product (one token): the above, but
 * no task over GK_MATVEC_TASK_BYTES of weights. Decode streams the weights
 * from memory and the last task of a run decides when it ends: with 16 tasks
 * to a run, one lm_head task was 38 MB (4 ms), and one thread sat idle at
 * the end of most runs. Each row's dot does not depend on the split, so
 * results stay the same whatever the thread count. */
#define GK_MATVEC_TASK_BYTES ((size_t)256 << 10)
int64_t gk_matvec_rows_per_task(int64_t rows, size_t row_bytes, int threads);
/* 64-byte aligned memory for tiles and packed operands (free() it), NULL if
 * out of memory; 0 bytes gives a valid 64-byte block. */
void *gk_alloc64(size_t bytes);

void gk_rmsnorm(const float *x, const float *w, int dim, float eps, float *out);
/* NeoX rotation of one token's n_heads heads (see backend.h rope). */
void gk_rope(float *x, int n_heads, int head_dim, int pos, const float *inv_freq, float mscale);
/* In-place softmax of n values; returns nothing, max-subtracted, fp32. */
void gk_softmax(float *x, int n);
/* a[i] = clamp-SwiGLU of interleaved h[2i] (gate), h[2i+1] (up):
 * g = min(gate, limit), u = clamp(up, -limit, limit), a = g*sigmoid(alpha*g)*(u+1). */
void gk_swiglu_interleaved(const float *h, int inter, float limit, float alpha, float *a);

/* y = x as ggml's CPU matrix products see it before they multiply by a
 * weight of type w_type (llama.cpp's "vec_dot_type", quant's
 * gq_traits.ggml_act_type): Q8_0 blocks of 32
 * (d = amax / 127 stored as f16, q = nearest of x * 127 / amax, ties to
 * even) for Q8_32 / Q4_32 / MXFP4 weights, BF16 or F16 rounding for BF16 or
 * F16 weights, unchanged for F32. A trailing partial block is left as is.
 * y may equal x. Used only to compare with llama.cpp (backend.h GB_GGML). */
void gk_round_like_ggml(gq_type w_type, const float *x, float *y, size_t n);

#endif
