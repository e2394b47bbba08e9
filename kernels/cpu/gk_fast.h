/* gk_fast.h - the fast numerics of the CPU backend (backend_cpu.h GB_FAST):
 * quantized weights times activations rounded to 8-bit blocks, with integer
 * dot products (AVX512-VNNI (+ VBMI), AVX-VNNI, AVX2, AMX-INT8, NEON dotprod; chosen
 * at run time).
 *
 * The rounding (the scalar model every path reproduces bit for bit): each
 * run of 32 consecutive values of a token's row (a block) becomes
 *     amax = max |x[j]|,  d = amax / 127 (fp32),
 *     q[j] = x[j] * (127 / amax) rounded to nearest, ties to even (0 when
 *            amax is 0), so |q| <= 127 and x[j] ~ q[j] * d.
 * (ggml's Q8_0 rule, with d kept in fp32 instead of f16.)
 *
 * The product: per block b of a weight row (integer codes w[j] and scale
 * dw: MXFP4 the doubled E2M1 values and 2^(e-128), Q8_32 / Q4_32 their codes
 * and f16 scale),
 *     out = sum_b (float)(sum_j w[j] * q[j]) * (dw_b * d_b)  (+ bias)
 * The integer sums are exact; the fp32 accumulation order is the kernel's
 * (tests compare with a double evaluation of this formula).
 *
 * Weights of other types (F32, F16, BF16: the router, a bf16 model) and
 * column counts that are not a multiple of 32 have no fast product: the
 * caller uses the exact one (gk_matmul) for them. */
#ifndef GK_FAST_H
#define GK_FAST_H

#include <stddef.h>
#include <stdint.h>

#include "gk_ops.h"

/* 1 if weights of type t (with cols columns) have the fast product. */
int gk_fast_ok(gq_type t, int64_t cols);

/* The rounding above, natural order: q[cols], d[cols / 32]; cols % 32 == 0. */
void gk_fast_round(const float *x, int64_t cols, int8_t *q, float *d);

/* out[t * out_stride + r] = the fast product of W[r] and x[t] (+ bias[r]),
 * t < n, r < rows, on the pool: n = 1 is decode (one pass over the
 * weights), n > 1 prefill (AMX-INT8 where granted, else integer rows).
 * Returns 0, or -1 if out of memory or !gk_fast_ok (nothing written). */
int gk_matmul_fast(gk_pool *pool, const gk_mat *w, const float *bias, const float *x, int n, float *out,
                   int64_t out_stride);

/* gk_matvec_many with the fast product (the experts of one decoded token);
 * every job's weights must be gk_fast_ok. Returns 0 or -1 (out of memory). */
int gk_matvec_many_fast(gk_pool *pool, const gk_matvec_job *jobs, int n_jobs);

/* The integer path in use ("avx512-vbmi", "avx512-vnni", "avx-vnni", "avx2", "neon-dotprod",
 * "neon-i8mm", "scalar"), from the active dot-product path and this CPU. */
const char *gk_fast_path(void);

/* Tests and benchmarks: use the integer path NAME (a gk_fast_path() name,
 * or "scalar-tile": the scalar loops through the 2 x 2 prefill tile that
 * neon-i8mm uses) from now on: 0, or -1 if this build or CPU lacks it
 * (nothing changes).
 * NULL: back to the automatic choice. Forcing a path also keeps prefill off
 * AMX-INT8 unless NAME is "amx" (its vector loops are AVX512-VBMI's, or
 * AVX512-VNNI's on a CPU without VBMI). */
int gk_fast_use(const char *name);

#endif
