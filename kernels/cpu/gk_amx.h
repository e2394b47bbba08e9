/* gk_amx.h - Intel AMX (tile matrix unit) prefill kernels, private to
 * kernels/cpu (gk_ops.c's gk_matmul and gk_fast.c call them).
 *
 * Used only where all of these hold at run time, never because of build
 * flags: the CPU reports AMX-TILE, AMX-BF16, AMX-INT8 and AVX512-BF16
 * (cpuid), the OS enabled the tile state (xgetbv XCR0 bits 17 and 18), the
 * kernel granted this process the tile data (Linux arch_prctl
 * ARCH_REQ_XCOMP_PERM), the active dot-product path is AVX-512, and GQ_AMX
 * is not "0". Elsewhere gk_amx_ok() is 0 and callers use the AVX-512 / AVX2
 * / scalar paths.
 *
 * Exact mode (gk_amx_gemm_exact): the products are as exact as fp32 FMA.
 * AMX multiplies bf16 pairs exactly and accumulates in fp32. Every weight
 * value of MXFP4 (E2M1 x 2^k) and BF16 is a bf16 value, and so is every
 * Q8_32 / Q4_32 code (an integer below 2^8), whose f16 block scale is
 * applied in fp32 after each block. Each fp32 activation is split into three
 * bf16 pieces, x = hi + mid + lo exactly (8 + 8 + 8 significand bits), so
 * sum_c w*x = sum_c (w*hi + w*mid + w*lo): every product is exact and only
 * the fp32 accumulation rounds, as in the FMA loops (only its order
 * differs). Denormals are flushed (AMX's DAZ/FTZ): a term below 2^-126 in
 * magnitude is lost, far below an fp32 ulp of any sum it joins.
 *
 * Every output is summed by one thread in an order fixed by the column
 * index alone, so results do not depend on the thread count or on how the
 * tokens fall into tiles. */
#ifndef GK_AMX_H
#define GK_AMX_H

#include <stddef.h>
#include <stdint.h>

#include "gk_ops.h"

/* 1 when the AMX path may run in this process (see above; cached after the
 * first call, which asks the kernel for the tile permission). */
int gk_amx_ok(void);
/* Why not, in words, when gk_amx_ok() is 0 ("no AMX on this CPU", "the
 * kernel refused the tile state", "GQ_AMX=0", ...); "" when it is 1. */
const char *gk_amx_why_not(void);
/* Tests: forbid (0) or allow again (1) the AMX path in this process. */
void gk_amx_allow(int allow);

/* Weight types the exact AMX product handles (MXFP4, BF16, Q8_32, Q4_32). */
int gk_amx_exact_type(gq_type t);

/* out[t * out_stride + r] = W[r] . x[t] (+ bias[r]) for t < n, r < rows on
 * the pool, as gk_matmul promises. Returns 0, -1 if out of memory (nothing
 * written) or the type is not gk_amx_exact_type. */
int gk_amx_gemm_exact(gk_pool *pool, const gk_mat *w, const float *bias, const float *x, int n, float *out,
                      int64_t out_stride);

/* Load a tile configuration (palette 1) on the calling thread: tile i has
 * rows[i] rows of colsb[i] bytes for i < n (n <= 8), the rest none. For the
 * AMX kernels (gk_amx*.c), inside a task, after gk_amx_ok(). */
void gk_amx_load_config(int n, const uint8_t *rows, const uint16_t *colsb);

/* The three-piece split of one fp32 value as the exact path makes it (for
 * tests): bf16 bit patterns hi, mid, lo with hi + mid + lo == x exactly for
 * every normal x. */
void gk_amx_split3(float x, uint16_t piece[3]);

#endif
